"""softmax, log_softmax, logsumexp and the two backward products."""
import math

import numpy as np

from . import _core
from ._validate import (asarray, check_broadcast_dims, check_out, check_scalar, contiguous, float_dtypes,
                        norm_axes, norm_axis, rows, unrows)

__all__ = ["softmax", "log_softmax", "logsumexp", "softmax_backward", "log_softmax_backward"]


def _inv_temperature(temperature):
    t = check_scalar(temperature, "temperature")
    if not (t > 0 and math.isfinite(t)):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    return 1.0 / t


def _rowwise(kernel, arrays, names, axis, out):
    """Apply a row kernel kernel(*matrices, result_matrix) along `axis` of arrays of one
    shape; the result has that shape and the first array's float dtype."""
    first = asarray(arrays[0], names[0])
    arrs = [first]
    for a, name in zip(arrays[1:], names[1:]):
        a = asarray(a, name)
        if a.shape != first.shape:
            raise ValueError(f"{name} has shape {a.shape}, expected the shape of {names[0]} {first.shape}")
        arrs.append(a)
    cdt, rdt = float_dtypes(first)
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
    direct = (out is not None and ax == nd - 1 and rdt == cdt and out.flags.c_contiguous
              and out.flags.aligned and not any(a is not out and np.may_share_memory(a, out) for a in arrays))
    if direct:
        res = out.reshape(mats[0].shape)
    else:
        res = np.empty(mats[0].shape, dtype=cdt)
    kernel(*mats, res)
    if direct:
        return out
    full = unrows(res, moved_shape, ax, nd).reshape(shape)
    if out is not None:
        np.copyto(out, full, casting="unsafe")
        return out
    if rdt != cdt:
        full = full.astype(rdt)
    return full[()] if full.ndim == 0 else full


def softmax(x, axis=-1, *, temperature=1.0, out=None):
    """softmax(x / temperature) along `axis`: exp(x - max) / sum(exp(x - max)).

    float32/float64 keep their dtype (float16 computes in float32 and returns float16);
    integers and bools compute in float64. A row containing NaN gives a NaN row; -inf
    entries give probability 0. `out` (same shape and result dtype) receives the
    result and is returned.
    """
    if out is None and temperature == 1.0 and (axis == -1 or axis == getattr(x, "ndim", 0) - 1):
        r = _core.softmax_fast(x, False)
        if r is not None:
            return r
    s = _inv_temperature(temperature)
    return _rowwise(lambda m, r: _core.softmax(m, r, s, False), (x,), ("x",), axis, out)


def log_softmax(x, axis=-1, *, temperature=1.0, out=None):
    """log(softmax(x / temperature)) along `axis`, computed as (x - max) - log(sum(exp(x - max)))."""
    if out is None and temperature == 1.0 and (axis == -1 or axis == getattr(x, "ndim", 0) - 1):
        r = _core.softmax_fast(x, True)
        if r is not None:
            return r
    s = _inv_temperature(temperature)
    return _rowwise(lambda m, r: _core.softmax(m, r, s, True), (x,), ("x",), axis, out)


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
                raise ValueError(f"b of shape {bb.shape} cannot be broadcast against x of shape {a.shape}") from None
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
        if rdt != cdt:
            r = r.astype(rdt)
        return r[()] if r.ndim == 0 else r

    if return_sign:
        return shape_result(res), shape_result(sgn)
    return shape_result(res)
