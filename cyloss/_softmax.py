"""softmax, log_softmax, softmin, logsumexp and the two backward products."""
import math

import numpy as np

from . import _core
from ._validate import (asarray, cast_result, check_broadcast_dims, check_flag, check_out, check_scalar,
                        contiguous, float_dtypes, norm_axes, norm_axis, rows, unrows)

__all__ = ["softmax", "log_softmax", "softmin", "logsumexp", "softmax_backward", "log_softmax_backward"]


def _rowwise(kernel, arrays, names, axis, out, compute=None, originals=None):
    """Apply a row kernel kernel(*matrices, result_matrix) along `axis` of arrays of one
    shape; the result has that shape and the first array's float dtype.  `compute`
    overrides the compute dtype; `originals` are the caller's arguments when `arrays`
    were derived from them (for the in-place / overlap decision)."""
    first = asarray(arrays[0], names[0])
    arrs = [first]
    for a, name in zip(arrays[1:], names[1:]):
        a = asarray(a, name)
        if a.shape != first.shape:
            raise ValueError(f"{name} has shape {a.shape}, expected the shape of {names[0]} {first.shape}")
        arrs.append(a)
    cdt, rdt = float_dtypes(first)
    if compute is not None:
        cdt = compute
    shape = first.shape
    if out is not None:
        check_out(out, shape, rdt)
    if first.ndim == 0:
        norm_axis(axis, 1)
        arrs = [a.reshape(1) for a in arrs]
        ax, nd = 0, 1
    else:
        ax, nd = norm_axis(axis, first.ndim), first.ndim
    mats = []
    for a in arrs:
        m, moved_shape = rows(a, ax, cdt)
        mats.append(m)
    # The kernel writes straight into out when it can.  out may be one of the inputs
    # itself (in place: the kernels allow y == x, element by element); any other
    # overlap with an input (a shifted view of the same buffer, ...) would overwrite
    # input rows before they are read, so that result goes through a temporary.
    direct = out is not None and ax == nd - 1 and rdt == cdt
    if direct:
        flags = out.flags
        direct = flags.c_contiguous and flags.aligned
        for a in originals or arrays:
            if a is not out and isinstance(a, np.ndarray) and np.may_share_memory(a, out):
                direct = False
    if direct:
        res = out.reshape(mats[0].shape)
    else:
        res = np.empty(mats[0].shape, dtype=cdt)
    kernel(*mats, res)
    if direct:
        return out
    full = unrows(res, moved_shape, ax, nd).reshape(shape)
    full = cast_result(full, rdt)
    if out is not None:
        np.copyto(out, full)
        return out
    return full[()] if full.ndim == 0 else full


_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)
_F32_MAX = float(np.finfo(np.float32).max)
_F32_SCALE_MIN = 2.0 ** -100   # 1/T below this is not kept in float32 (see _softmax_any)
_F64_SCALE_MIN = 1e-300


def _softmax_any(x, axis, temperature, out, log):
    """softmax / log_softmax of x / temperature.  The kernels compute (x - max) * (1/T)
    in the compute dtype: exact enough while 1/T is a normal number of that dtype and
    x - max cannot overflow where (x - max) / T still matters.  Otherwise float32 input
    computes in float64 (any finite 1/T works there: float32 data cannot overflow
    x - max in float64), float64 input with T > 1e300 is divided by T first, and a T
    whose reciprocal overflows float64 is refused."""
    t = check_scalar(temperature, "temperature")
    if not t > 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    s = 1.0 / t
    if s == math.inf:
        raise ValueError(f"temperature must be > 2**-1024 (1/temperature overflows float64), got {temperature!r}")
    a, compute = x, None
    if not _F32_SCALE_MIN <= s <= _F32_MAX:  # only for extreme temperatures
        a = asarray(x, "x")
        if float_dtypes(a)[0] is _F32:
            compute = _F64
        elif s < _F64_SCALE_MIN:
            with np.errstate(over="ignore"):  # (long double input beyond the float64 range -> inf)
                a = np.divide(a, t, dtype=np.float64)
            s = 1.0
    return _rowwise(lambda m, r: _core.softmax(m, r, s, log), (a,), ("x",), axis, out, compute,
                    originals=(x,))


def _fast_axis(axis, x):
    """axis is the last axis (an int: floats, bools and arrays take the checked path)."""
    return type(axis) is int and (axis == -1 or axis == getattr(x, "ndim", 0) - 1)


def softmax(x, axis=-1, *, temperature=1.0, out=None):
    """softmax(x / temperature) along `axis`: exp(x - max) / sum(exp(x - max)).

    float32/float64 keep their dtype (float16 computes in float32 and returns float16);
    integers and bools compute in float64. A row containing NaN gives a NaN row; -inf
    entries give probability 0. `out` (same shape and result dtype) receives the
    result and is returned.
    """
    if out is None and type(temperature) is float and temperature == 1.0 and _fast_axis(axis, x):
        r = _core.softmax_fast(x, False)
        if r is not None:
            return r
    return _softmax_any(x, axis, temperature, out, False)


def log_softmax(x, axis=-1, *, temperature=1.0, out=None):
    """log(softmax(x / temperature)) along `axis`, computed as (x - max) - log(sum(exp(x - max)))."""
    if out is None and type(temperature) is float and temperature == 1.0 and _fast_axis(axis, x):
        r = _core.softmax_fast(x, True)
        if r is not None:
            return r
    return _softmax_any(x, axis, temperature, out, True)


def softmin(x, axis=-1, *, temperature=1.0, out=None):
    """softmax(-x / temperature) along `axis`, as torch.nn.functional.softmin (which also
    negates first): the smallest entries get the largest probabilities.  Same dtype rules,
    NaN and `out` behaviour as softmax; a row holding -inf gives NaN (it is +inf for softmax)."""
    a = asarray(x, "x")
    neg = a.astype(float_dtypes(a)[1])  # a copy in the result dtype (negation is exact there)
    np.negative(neg, out=neg)
    return _softmax_any(neg, axis, temperature, out, False)


def softmax_backward(y, grad, axis=-1, *, out=None):
    """Vector-Jacobian product of softmax: y * (grad - sum(grad * y, axis)), y = softmax(x)."""
    return _rowwise(lambda m, g, r: _core.softmax_backward(m, g, r, False), (y, grad), ("y", "grad"),
                    axis, out)


def log_softmax_backward(log_y, grad, axis=-1, *, out=None):
    """Vector-Jacobian product of log_softmax: grad - exp(log_y) * sum(grad, axis)."""
    return _rowwise(lambda m, g, r: _core.softmax_backward(m, g, r, True), (log_y, grad),
                    ("log_y", "grad"), axis, out)


def logsumexp(x, axis=None, *, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(x))) over `axis` (None: all axes; int or tuple), as
    scipy.special.logsumexp for real input.

    `b` broadcasts against x; terms with b == 0 are dropped (even where x is inf or
    NaN) and negative b is allowed. With return_sign=True returns (log|s|, sign(s));
    otherwise a negative sum gives NaN. An empty reduction gives -inf. The result
    has x's float dtype; a 0-d result is a NumPy scalar.
    """
    # Fast path for the common call: over the last axis (or all of a 1-D x), no b, no keepdims,
    # no sign; identity tests keep 0, np.False_ and other spellings on the checked path.
    if b is None and keepdims is False and return_sign is False:
        r = _core.logsumexp_fast(x, axis)
        if r is not None:
            return r
    keepdims = check_flag(keepdims, "keepdims")
    return_sign = check_flag(return_sign, "return_sign")
    a = asarray(x, "x")
    cdt, rdt = float_dtypes(a)
    bb = None
    if b is not None:
        bb = asarray(b, "b")
        if bb.shape != a.shape:
            check_broadcast_dims(("x", a.shape), ("b", bb.shape))
            try:
                a, bb = np.broadcast_arrays(a, bb)
            except ValueError:
                raise ValueError(f"b of shape {bb.shape} cannot be broadcast against x of shape "
                                 f"{a.shape}") from None
    if a.ndim == 0:
        a = a.reshape(1)
        bb = None if bb is None else bb.reshape(1)
    nd = a.ndim
    axes = norm_axes(axis, nd)
    k = len(axes)
    dest = tuple(range(nd - k, nd))
    keep_shape = tuple(s for i, s in enumerate(a.shape) if i not in axes)
    n = math.prod(keep_shape)
    c = math.prod(a.shape[i] for i in axes)

    def as_rows(arr):
        moved = arr if axes == dest else np.moveaxis(arr, axes, dest)
        return contiguous(moved, cdt).reshape(n, c)

    xm = as_rows(a)
    bm = None if bb is None else as_rows(bb)
    res = np.empty(n, dtype=cdt)
    sgn = np.empty(n, dtype=cdt) if return_sign else None
    _core.logsumexp(xm, bm, res, sgn)

    def shape_result(r):
        r = r.reshape(keep_shape)
        if keepdims:
            r = r.reshape(tuple(1 if i in axes else s for i, s in enumerate(a.shape)))
        r = cast_result(r, rdt)
        return r[()] if r.ndim == 0 else r

    if return_sign:
        return shape_result(res), shape_result(sgn)
    return shape_result(res)
