"""softmax, log_softmax, softmin, logsumexp and the two backward products."""
import math

import numpy as np

from . import _core
from . import _docs
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


@_docs.fill
def softmax(x, axis=-1, *, temperature=1.0, out=None):
    r"""softmax(x / temperature) along `axis`: exp(x - max) / sum(exp(x - max)).

    float32/float64 keep their dtype (float16 computes in float32 and returns float16);
    integers and bools compute in float64. A row containing NaN gives a NaN row; -inf
    entries give probability 0. `out` (same shape and result dtype) receives the
    result and is returned.

    Parameters
    ----------
    %(x_softmax)s
    %(axis_softmax)s
    %(temperature_softmax)s
    %(out_softmax)s

    Returns
    -------
    numpy.ndarray or numpy scalar
        The probabilities, of x's shape, in x's dtype for float32 / float64 input, float16 for
        float16 input, float64 otherwise; `out` itself when given; a NumPy scalar for a 0-d x.

    Raises
    ------
    %(raises_type_softmax)s
    %(raises_value_softmax)s
    %(raises_axis)s

    Notes
    -----
    With :math:`z = x / T` (T the temperature) and :math:`m = \max_j z_j` over the row,

    .. math:: \mathrm{softmax}(x)_i = \frac{e^{z_i - m}}{\sum_j e^{z_j - m}},

    so no exponential overflows. Its Jacobian is
    :math:`\partial y_i / \partial x_j = y_i (\delta_{ij} - y_j) / T`; softmax_backward
    computes the vector-Jacobian product (for T = 1).

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    >>> np.allclose(cyloss.softmax(x), np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True))
    True
    >>> print(cyloss.softmax(np.array([0.0, 0.0])), cyloss.softmax(np.array([0.0, -np.inf])))
    [0.5 0.5] [1. 0.]
    >>> np.allclose(cyloss.softmax(x, temperature=2.0), np.exp(x / 2) / np.exp(x / 2).sum(-1, keepdims=True))
    True
    """
    if out is None and type(temperature) is float and temperature == 1.0 and _fast_axis(axis, x):
        r = _core.softmax_fast(x, False)
        if r is not None:
            return r
    return _softmax_any(x, axis, temperature, out, False)


@_docs.fill
def log_softmax(x, axis=-1, *, temperature=1.0, out=None):
    r"""log(softmax(x / temperature)) along `axis`, computed as (x - max) - log(sum(exp(x - max))).

    Same dtype rules, NaN and `out` behaviour as softmax (a row containing NaN gives a NaN
    row; -inf entries give -inf).

    Parameters
    ----------
    %(x_softmax)s
    axis : int, optional
        The axis along which the softmax is taken; default -1 (the last axis).
    %(temperature_softmax)s
    %(out_softmax)s

    Returns
    -------
    numpy.ndarray or numpy scalar
        The log-probabilities, of x's shape, in x's dtype for float32 / float64 input,
        float16 for float16 input, float64 otherwise; `out` itself when given; a NumPy
        scalar for a 0-d x.

    Raises
    ------
    %(raises_type_softmax)s
    %(raises_value_softmax)s
    %(raises_axis)s

    Notes
    -----
    With :math:`z = x / T` (T the temperature) and :math:`m = \max_j z_j` over the row,

    .. math:: \log \mathrm{softmax}(x)_i = (z_i - m) - \log \sum_j e^{z_j - m}.

    Its Jacobian is :math:`\partial y_i / \partial x_j = (\delta_{ij} - e^{y_j}) / T`;
    log_softmax_backward computes the vector-Jacobian product (for T = 1).

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]])
    >>> np.allclose(cyloss.log_softmax(x), x - np.log(np.exp(x).sum(axis=-1, keepdims=True)))
    True
    >>> print(np.round(cyloss.log_softmax(np.array([0.0, 0.0])), 4))  # log(1/2) = -0.6931...
    [-0.6931 -0.6931]
    """
    if out is None and type(temperature) is float and temperature == 1.0 and _fast_axis(axis, x):
        r = _core.softmax_fast(x, True)
        if r is not None:
            return r
    return _softmax_any(x, axis, temperature, out, True)


@_docs.fill
def softmin(x, axis=-1, *, temperature=1.0, out=None):
    r"""softmax(-x / temperature) along `axis`, as torch.nn.functional.softmin (which also
    negates first): the smallest entries get the largest probabilities.  Same dtype rules,
    NaN and `out` behaviour as softmax; a row holding -inf gives NaN (it is +inf for softmax).

    Parameters
    ----------
    %(x_softmax)s
    %(axis_softmax)s
    temperature : float, optional
        Keyword only. A finite number > 0 that divides -x; default 1.0.
    out : numpy.ndarray, optional
        Keyword only. An array of x's shape and the result dtype that receives the
        result; default None (a new array).

    Returns
    -------
    numpy.ndarray or numpy scalar
        The probabilities, of x's shape, in x's dtype for float32 / float64 input, float16
        for float16 input, float64 otherwise; `out` itself when given; a NumPy scalar for a
        0-d x.

    Raises
    ------
    %(raises_type_softmax)s
    %(raises_value_softmax)s
    %(raises_axis)s

    Notes
    -----
    With T the temperature and :math:`m = \max_j (-x_j / T)` over the row,

    .. math:: \mathrm{softmin}(x)_i = \frac{e^{-x_i / T - m}}{\sum_j e^{-x_j / T - m}}.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    >>> np.allclose(cyloss.softmin(x), np.exp(-x) / np.exp(-x).sum(axis=-1, keepdims=True))
    True
    >>> print(cyloss.softmin(np.array([0.0, np.inf])))
    [1. 0.]
    """
    a = asarray(x, "x")
    neg = a.astype(float_dtypes(a)[1])  # a copy in the result dtype (negation is exact there)
    np.negative(neg, out=neg)
    return _softmax_any(neg, axis, temperature, out, False)


def softmax_backward(y, grad, axis=-1, *, out=None):
    r"""Vector-Jacobian product of softmax: y * (grad - sum(grad * y, axis)), y = softmax(x).

    Parameters
    ----------
    y : array_like
        The softmax output y = softmax(x, axis) (real numeric).
    grad : array_like
        The gradient of a scalar function with respect to y, of y's shape.
    axis : int, optional
        The softmax axis; default -1 (the last axis).
    out : numpy.ndarray, optional
        Keyword only. An array of y's shape and the result dtype that receives the
        result; default None (a new array).

    Returns
    -------
    numpy.ndarray or numpy scalar
        The gradient with respect to x, of y's shape, in y's float dtype (float32 / float64
        kept, float16 for float16, float64 for other input); `out` itself when given; a
        NumPy scalar for 0-d input.

    Raises
    ------
    TypeError
        If y or grad is not a real numeric array, axis is not an integer, or `out` is not a
        numpy.ndarray or has the wrong dtype.
    ValueError
        If grad's shape differs from y's, or `out` has the wrong shape or is read-only.
    numpy.exceptions.AxisError
        If axis is out of range for y (a subclass of ValueError and IndexError).

    Notes
    -----
    With g = grad and sums along `axis`,

    .. math:: \frac{\partial L}{\partial x_i} = \sum_j g_j \frac{\partial y_j}{\partial x_i}
              = y_i \Big(g_i - \sum_j g_j y_j\Big).

    Examples
    --------
    >>> y = cyloss.softmax(np.array([[0.5, -1.0, 2.0]]))
    >>> g = np.array([[1.0, 0.0, -1.0]])
    >>> np.allclose(cyloss.softmax_backward(y, g), g @ (np.diag(y[0]) - np.outer(y[0], y[0])))
    True
    """
    return _rowwise(lambda m, g, r: _core.softmax_backward(m, g, r, False), (y, grad), ("y", "grad"),
                    axis, out)


def log_softmax_backward(log_y, grad, axis=-1, *, out=None):
    r"""Vector-Jacobian product of log_softmax: grad - exp(log_y) * sum(grad, axis).

    Parameters
    ----------
    log_y : array_like
        The log_softmax output log_y = log_softmax(x, axis) (real numeric).
    grad : array_like
        The gradient of a scalar function with respect to log_y, of log_y's shape.
    axis : int, optional
        The log_softmax axis; default -1 (the last axis).
    out : numpy.ndarray, optional
        Keyword only. An array of log_y's shape and the result dtype that receives the
        result; default None (a new array).

    Returns
    -------
    numpy.ndarray or numpy scalar
        The gradient with respect to x, of log_y's shape, in log_y's float dtype (float32 /
        float64 kept, float16 for float16, float64 for other input); `out` itself when
        given; a NumPy scalar for 0-d input.

    Raises
    ------
    TypeError
        If log_y or grad is not a real numeric array, axis is not an integer, or `out` is not
        a numpy.ndarray or has the wrong dtype.
    ValueError
        If grad's shape differs from log_y's, or `out` has the wrong shape or is read-only.
    numpy.exceptions.AxisError
        If axis is out of range for log_y (a subclass of ValueError and IndexError).

    Notes
    -----
    With g = grad and sums along `axis`,

    .. math:: \frac{\partial L}{\partial x_i} = g_i - e^{\log y_i} \sum_j g_j.

    Examples
    --------
    >>> log_y = cyloss.log_softmax(np.array([[0.5, -1.0, 2.0]]))
    >>> g = np.array([[1.0, 0.0, -1.0]])
    >>> J = np.eye(3) - np.exp(log_y)  # the Jacobian, J[i, j] = d log_y[i] / d x[j]
    >>> np.allclose(cyloss.log_softmax_backward(log_y, g), g @ J)
    True
    """
    return _rowwise(lambda m, g, r: _core.softmax_backward(m, g, r, True), (log_y, grad),
                    ("log_y", "grad"), axis, out)


def logsumexp(x, axis=None, *, b=None, keepdims=False, return_sign=False):
    r"""log(sum(b * exp(x))) over `axis` (None: all axes; int or tuple), as
    scipy.special.logsumexp for real input.

    `b` broadcasts against x; terms with b == 0 are dropped (even where x is inf or
    NaN) and negative b is allowed. With return_sign=True returns (log|s|, sign(s));
    otherwise a negative sum gives NaN. An empty reduction gives -inf. The result
    has x's float dtype; a 0-d result is a NumPy scalar.

    Parameters
    ----------
    x : array_like
        Real input (bool, integer or float).
    axis : None or int or tuple of ints, optional
        The axes to reduce over; default None (all axes).
    b : array_like, optional
        Keyword only. Real scale factors, broadcastable against x; default None (all 1).
    keepdims : bool, optional
        Keyword only. Keep the reduced axes as axes of length 1; default False.
    return_sign : bool, optional
        Keyword only. Also return the sign of the sum; default False.

    Returns
    -------
    res : numpy.ndarray or numpy scalar
        log|sum(b * exp(x))| (without return_sign: log(sum(b * exp(x))), NaN where the sum
        is negative), of the shape of x (broadcast against b) without the reduced axes (with
        them as length-1 axes for keepdims=True), in x's float dtype (float32 / float64
        kept, float16 for float16, float64 for other input); a NumPy scalar when 0-d.
    sign : numpy.ndarray or numpy scalar
        Only with return_sign=True, as ``(res, sign)``: the sign of the sum (1, -1 or 0), of
        res's shape and dtype.

    Raises
    ------
    TypeError
        If x or b is not a real numeric array (complex, string, object dtype, a masked
        array), an axis is not an integer, or keepdims / return_sign is not a bool.
    ValueError
        If axis repeats an axis, or b cannot be broadcast against x.
    numpy.exceptions.AxisError
        If an axis is out of range for x (a subclass of ValueError and IndexError).

    Notes
    -----
    With :math:`m` the maximum of x over the reduced terms (with b != 0),

    .. math:: \mathrm{logsumexp}(x) = m + \log \sum_i b_i e^{x_i - m},

    so no exponential overflows. Its gradient in x is the (b-weighted) softmax,
    :math:`\partial / \partial x_i = b_i e^{x_i} / \sum_j b_j e^{x_j}`.

    Examples
    --------
    >>> x = np.array([[0.0, 0.0], [1.0, 2.0]])
    >>> np.allclose(cyloss.logsumexp(x, axis=1), np.log(np.exp(x).sum(axis=1)))
    True
    >>> round(float(cyloss.logsumexp(np.array([0.0, 0.0]))), 4)  # log(2)
    0.6931
    >>> [float(v) for v in cyloss.logsumexp([0.0, 0.0], b=[1.0, -2.0], return_sign=True)]  # log|1 - 2|
    [0.0, -1.0]
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
