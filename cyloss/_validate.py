"""Argument normalisation and validation shared by the public functions, and the plumbing
every loss module shares (return flags, gradient / Hessian buffers, reductions, the
elementwise runner).

Everything here works on array metadata (dtype, shape, strides) and hands the
C kernels contiguous arrays of one float type; no loop over data lives here.
"""
import math
import numbers
import operator
import sys

import numpy as np

try:  # NumPy >= 1.25
    from numpy.exceptions import AxisError
except ImportError:  # pragma: no cover - old NumPy
    AxisError = np.AxisError

_REDUCTIONS = ("none", "mean", "sum")


def _check_not_masked(a, name):
    ma = sys.modules.get("numpy.ma")  # no masked array exists before numpy.ma is imported
    if ma is not None and isinstance(a, ma.MaskedArray):
        raise TypeError(f"{name}: masked arrays are not supported (the masked values would be used); "
                        f"pass {name}.filled(value) or the unmasked entries")


def plain(a, name):
    """a as a plain np.ndarray of any dtype: subclasses (np.matrix, np.memmap, ...) become
    base-class views (a matrix would stay 2-D through reshape(-1)); masked arrays are
    refused (silently using the masked values would be a wrong result)."""
    if type(a) is np.ndarray:
        return a
    _check_not_masked(a, name)
    try:
        return np.asarray(a)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{name}: cannot be converted to an array ({e})") from None


def asarray(a, name):
    """np.asarray(a) for a real numeric (bool/int/float) array; clear errors otherwise."""
    arr = a if type(a) is np.ndarray else plain(a, name)
    kind = arr.dtype.kind
    if kind not in "fiub":
        if kind == "c":
            raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
        raise TypeError(f"{name} must be a numeric (bool, integer or float) array, got dtype {arr.dtype}")
    return arr


def float_dtypes(arr):
    """(compute dtype, result dtype) for an array: float32/float64 keep their type,
    float16 computes in float32 and returns float16, everything else (integers,
    bool, long double) computes and returns float64."""
    dt = arr.dtype
    if dt.kind == "f":
        if dt.itemsize == 4:
            return _F32, _F32
        if dt.itemsize == 2:
            return _F32, _F16
    return _F64, _F64


_F16 = np.dtype(np.float16)
_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)


def contiguous(arr, dtype):
    """C-contiguous, aligned, native byte order, given dtype (copies only when needed).
    Every array handed to the kernels comes through here: a misaligned one (e.g. a
    float64 view at an odd byte offset) is copied.  A narrowing cast (float64 weights
    of 1e300 for float32 logits, long double beyond the float64 range) gives inf, the
    documented value, without NumPy's overflow warning."""
    if arr.dtype is dtype:
        flags = arr.flags
        if flags.c_contiguous and flags.aligned:
            return arr
    if arr.dtype.kind == "f" and arr.dtype.itemsize > dtype.itemsize:
        with np.errstate(over="ignore"):
            m = np.ascontiguousarray(arr, dtype=dtype)
    else:
        m = np.ascontiguousarray(arr, dtype=dtype)
    return m if m.flags.aligned else m.copy()


def cast_result(arr, dtype):
    """arr in the result dtype (a float64 computation for float32 input, float32 for
    float16): values beyond the result's range become inf without NumPy's overflow
    warning (inf is the documented value; the warning would be an internal detail)."""
    if arr.dtype is dtype:
        return arr
    with np.errstate(over="ignore"):
        return arr.astype(dtype)


def norm_axis(axis, ndim, name="axis"):
    if type(axis) is int:
        ax = axis
    else:
        try:
            if isinstance(axis, bool):  # operator.index(True) is 1; NumPy refuses it too
                raise TypeError
            ax = operator.index(axis)
        except TypeError:
            raise TypeError(f"{name} must be an integer, got {type(axis).__name__} {axis!r}") from None
    if not -ndim <= ax < ndim:
        raise AxisError(ax, ndim)
    return ax % ndim


def norm_axes(axis, ndim):
    """axis None / int / tuple of ints -> sorted tuple of distinct non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(norm_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis contains repeated entries: {axis!r}")
        return tuple(sorted(axes))
    return (norm_axis(axis, ndim),)


def check_reduction(reduction, allowed=_REDUCTIONS):
    if not isinstance(reduction, str):
        raise TypeError(f"reduction must be a string, one of {', '.join(map(repr, allowed))}; "
                        f"got {type(reduction).__name__} {reduction!r}")
    if reduction not in allowed:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, allowed))}; got {reduction!r}")
    return reduction


def check_scalar(value, name):
    """A real number (Python int/float, NumPy integer/floating scalar, other numbers.Real,
    or a 0-d integer/float array) as a finite Python float.  Strings, bools, complex
    numbers, None and arrays with elements are a TypeError; NaN, inf (and integers beyond
    the float range) a ValueError."""
    t = type(value)
    if t is not float and t is not int:
        if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
            value = value[()]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    try:
        v = float(value)
    except OverflowError:
        v = math.inf
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return v


def check_flag(value, name):
    """True/False (also numpy.bool_ and the integers 0 and 1) as a Python bool; anything
    else is a TypeError (e.g. the string "no", which bool() would take as true)."""
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)) and (value == 0 or value == 1):
        return bool(value)
    raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")


def rows(arr, axis, dtype):
    """View/copy arr as a C-contiguous (n, c) matrix whose rows run along `axis`.
    Returns (matrix, moved_shape)."""
    moved = arr if axis == arr.ndim - 1 else np.moveaxis(arr, axis, -1)
    m = contiguous(moved, dtype)
    c = m.shape[-1]
    n = m.size // c if c else math.prod(m.shape[:-1])
    return m.reshape(n, c), moved.shape


def unrows(mat, moved_shape, axis, ndim):
    """Inverse of rows(): (n, c) result -> array of the original layout (C order)."""
    res = mat.reshape(moved_shape)
    if axis != ndim - 1:
        res = np.ascontiguousarray(np.moveaxis(res, -1, axis))
    return res


def check_out(out, shape, dtype, name="out"):
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{name} must be a numpy.ndarray, got {type(out).__name__}")
    _check_not_masked(out, name)
    if out.shape != tuple(shape):
        raise ValueError(f"{name} has shape {out.shape}, expected {tuple(shape)}")
    if out.dtype != dtype:
        raise TypeError(f"{name} has dtype {out.dtype}, expected {dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only")
    return out


def check_grad_out(grad_out, return_grad, shape, dtype):
    """grad_out= of a loss (return_grad already a bool): an out= array of the gradient's
    shape and dtype; without return_grad=True it would never be written: an error."""
    if not return_grad:
        raise ValueError("grad_out is given but return_grad is False: pass return_grad=True to have the "
                         "gradient written into grad_out")
    return check_out(grad_out, shape, dtype, "grad_out")


def check_hess_out(hess_out, return_hessian, shape, dtype):
    """hess_out= of a loss: as grad_out, with return_hessian=True."""
    if not return_hessian:
        raise ValueError("hess_out is given but return_hessian is False: pass return_hessian=True to have the "
                         "Hessian written into hess_out")
    return check_out(hess_out, shape, dtype, "hess_out")


def _same_memory(a, b):
    """a and b (C-contiguous, one dtype) start at the same byte and have the same size."""
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0] and a.nbytes == b.nbytes
            and a.dtype == b.dtype)


def direct_out(out, dtype, inputs, elementwise=False):
    """A plain-ndarray view of a validated out= array that a kernel computing in `dtype` may
    write straight into (no temporary, no copy), or None: out must be C-contiguous, aligned,
    of that dtype, and share no memory with the arrays the kernel reads (`inputs`: the
    kernel's own C-contiguous arrays, None skipped).  With `elementwise` (kernels that read
    element i of every input before writing element i of the result, and nothing else),
    an input occupying exactly out's memory is allowed too: that is in place."""
    if out.dtype != dtype:
        return None
    flags = out.flags
    if not (flags.c_contiguous and flags.aligned):
        return None
    for a in inputs:
        if a is not None and np.may_share_memory(a, out) and not (elementwise and _same_memory(a, out)):
            return None
    return out if type(out) is np.ndarray else out.view(np.ndarray)


def copy_into(out, result):
    """Copy a result (of out's shape and dtype) into a validated out= array (any layout or
    ndarray subclass); returns out."""
    np.copyto(out if type(out) is np.ndarray else out.view(np.ndarray), result)
    return out


# np.broadcast_shapes / np.broadcast_arrays handle at most 32 dimensions (RuntimeError
# beyond); arrays of one shape are never broadcast, so they may have up to NumPy's 64.
_MAX_BROADCAST_DIMS = 32


def check_broadcast_dims(*named):
    """For arrays of different shapes that have to be broadcast: ValueError naming the
    argument with more dimensions than NumPy's broadcasting supports."""
    for name, shape in named:
        if len(shape) > _MAX_BROADCAST_DIMS:
            others = " and ".join(n for n, _ in named if n != name)
            raise ValueError(f"{name} has {len(shape)} dimensions: broadcasting it against {others} "
                             f"supports at most {_MAX_BROADCAST_DIMS}")


def broadcast_shape(a_name, a_shape, b_name, b_shape):
    """The shape two arrays broadcast to, or ValueError naming them."""
    if a_shape == b_shape:
        return a_shape
    check_broadcast_dims((a_name, a_shape), (b_name, b_shape))
    try:
        return np.broadcast_shapes(a_shape, b_shape)
    except ValueError:
        raise ValueError(f"{b_name} of shape {b_shape} cannot be broadcast against {a_name} of shape "
                         f"{a_shape}") from None


def broadcast_to(arr, shape, name, what):
    """arr broadcast to shape without changing it, or ValueError naming the argument."""
    if arr.shape == tuple(shape):
        return arr
    check_broadcast_dims((name, arr.shape), (what, tuple(shape)))
    try:
        if np.broadcast_shapes(arr.shape, shape) != tuple(shape):
            raise ValueError
        return np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(f"{name} of shape {arr.shape} cannot be broadcast to {what} shape {tuple(shape)}") from None


def sum_to_shape(g, shape):
    """Sum a gradient over the dimensions that were broadcast to reach g.shape."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1)
    return cast_result(g.sum(axis=axes, dtype=np.float64).reshape(shape), g.dtype)


def position(index, shape):
    """Multi-index text of a flat C-order index, e.g. '[2, 3]'."""
    if len(shape) == 0:
        return ""
    idx = np.unravel_index(int(index), shape)
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


# ------------------------------------------------- shared by the loss modules

_F32_TINY, _F32_MAX = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max)
_FMAX = {2: float(np.finfo(np.float16).max), 4: _F32_MAX}


def _scalar(value, dtype):
    """A Python float as a NumPy scalar of the result dtype (beyond its range: inf, without
    NumPy's overflow warning)."""
    if dtype.itemsize < 8 and abs(value) > _FMAX[dtype.itemsize]:
        with np.errstate(over="ignore"):
            return dtype.type(value)
    return dtype.type(value)


def _finish(loss, grad, return_grad, hess=None, return_hessian=False, return_loss=True):
    if not return_loss:
        return (grad, hess) if return_hessian else grad
    if return_hessian:
        return loss, grad, hess
    return (loss, grad) if return_grad else loss


def _flags(return_grad, return_hessian, grad_out, hess_out, gshape, rdt, return_loss=True):
    """(want_grad, return_grad, return_hessian, return_loss) after checking the flags and the
    out arrays: return_hessian=True returns (loss, grad, hess), so it computes the gradient
    too; grad_out needs a returned gradient, hess_out return_hessian; return_loss=False
    leaves the loss out of the result (and, where the kernel can, out of the work), so it
    needs a gradient or Hessian to return."""
    return_grad = check_flag(return_grad, "return_grad")
    return_hessian = check_flag(return_hessian, "return_hessian")
    return_loss = check_flag(return_loss, "return_loss")
    want_grad = return_grad or return_hessian
    if not return_loss and not want_grad:
        raise ValueError("return_loss=False leaves nothing to return: pass return_grad=True or "
                         "return_hessian=True")
    if grad_out is not None:
        check_grad_out(grad_out, want_grad, gshape, rdt)
    if hess_out is not None:
        check_hess_out(hess_out, return_hessian, gshape, rdt)
        if grad_out is not None and np.may_share_memory(grad_out, hess_out):
            raise ValueError("hess_out overlaps grad_out: pass two separate arrays")
    return want_grad, return_grad, return_hessian, return_loss


def _mean_scale(denominator):
    """(loss factor, gradient factor) of a mean over `denominator` (0 -> nan loss)."""
    if denominator == 0:
        return math.nan, 0.0
    return 1.0 / denominator, 1.0 / denominator


def _grad_buffer(direct, shape, cdt):
    """The kernel's gradient array of `shape`: grad_out's view when written directly."""
    return direct.reshape(shape) if direct is not None else np.empty(shape, dtype=cdt)


def _finish_grad(grad, grad_out, direct, moved_shape, ax, ndim, rdt):
    """The (n, c) gradient in the first argument's layout and result dtype; in grad_out when given."""
    if direct is not None:
        return grad_out
    grad = cast_result(unrows(grad, moved_shape, ax, ndim), rdt)
    return grad if grad_out is None else copy_into(grad_out, grad)


def _elementwise(kernel, params, first, second, shape, red, return_grad, grad_out, extra=(), mean_denominator=None,
                 pred_shape=None, return_hessian=False, hess_out=None, return_loss=True):
    """Run an elementwise loss kernel over `shape` (the broadcast shape of the inputs).

    first = (array, compute dtype, result dtype); kernel(a, b, *extra, *params, grad_scale,
    loss, grad, hess, want_loss) -> sum of the losses (want_loss False: no loss computed);
    extra are flat arrays of the broadcast size (or None).
    The gradient and the Hessian have pred_shape (the first argument's; summed over
    broadcast dimensions).
    """
    cdt, rdt = first[1], first[2]
    gshape = pred_shape if pred_shape is not None else shape
    want_grad, return_grad, return_hessian, return_loss = _flags(return_grad, return_hessian, grad_out, hess_out,
                                                                 gshape, rdt, return_loss)
    a, b = first[0], second
    if a.shape != shape:
        a = np.broadcast_to(a, shape)
    if b.shape != shape:
        b = np.broadcast_to(b, shape)
    a = contiguous(a, cdt).reshape(-1)
    b = contiguous(b, cdt).reshape(-1)
    size = a.shape[0]
    loss_scale = grad_scale = 1.0
    if red in ("mean", "batchmean"):
        denom = size if mean_denominator is None else mean_denominator
        loss_scale, grad_scale = _mean_scale(denom)
    direct = hdirect = None
    if gshape == shape:  # (else a broadcast gradient is summed: a temporary)
        if grad_out is not None:
            direct = direct_out(grad_out, cdt, (a, b) + tuple(extra), elementwise=True)
        if hess_out is not None:
            hdirect = direct_out(hess_out, cdt, (a, b) + tuple(extra) + ((direct,) if direct is not None else ()),
                                 elementwise=True)
    loss_rows = np.empty(size, dtype=cdt) if red == "none" and return_loss else None
    grad = _grad_buffer(direct, size, cdt) if want_grad else None
    hess = _grad_buffer(hdirect, size, cdt) if return_hessian else None
    total = kernel(a, b, *extra, *params, grad_scale, loss_rows, grad, hess, return_loss)
    if not return_loss:
        loss = None
    elif red == "none":
        loss = cast_result(loss_rows.reshape(shape), rdt)
        loss = loss[()] if loss.ndim == 0 else loss
    else:
        loss = _scalar(total * loss_scale, rdt)
    if want_grad:
        grad = _finish_elementwise(grad, grad_out, direct, shape, gshape, rdt)
    if return_hessian:
        hess = _finish_elementwise(hess, hess_out, hdirect, shape, gshape, rdt)
    return _finish(loss, grad, return_grad, hess, return_hessian, return_loss)


def _finish_elementwise(g, g_out, direct, shape, gshape, rdt):
    """A flat gradient or Hessian of the broadcast shape as the first argument's (summed over
    the broadcast dimensions), result dtype; in g_out when given."""
    if direct is not None:
        return g_out
    g = cast_result(sum_to_shape(g.reshape(shape), gshape), rdt)
    return g if g_out is None else copy_into(g_out, g)


def _same_shape(a, a_name, b, b_name):
    if a.shape != b.shape:
        raise ValueError(f"{b_name} has shape {b.shape}, expected the shape of {a_name} {a.shape}")


def _optional_weight(weight, name, shape, cdt, what):
    if weight is None:
        return None
    w = asarray(weight, name)
    return contiguous(broadcast_to(w, shape, name, what), cdt).reshape(-1)


def check_grads_out(grad_out, want_grad, shapes, dtype, names):
    """grad_out= of a loss with several float inputs: None, or a tuple with one entry per input
    (named `names`, gradient shapes `shapes`): an out= array for that gradient, or None."""
    if grad_out is None:
        return (None,) * len(shapes)
    if not isinstance(grad_out, tuple) or len(grad_out) != len(shapes):
        raise TypeError(f"grad_out must be a tuple of {len(shapes)} arrays or None (one per input: "
                        f"{', '.join(names)}), got {type(grad_out).__name__}"
                        + (f" of length {len(grad_out)}" if isinstance(grad_out, tuple) else ""))
    outs = []
    for g, shape, name in zip(grad_out, shapes, names):
        if g is not None:
            check_grad_out(g, want_grad, shape, dtype)
            for other in outs:
                if other is not None and np.may_share_memory(g, other):
                    raise ValueError(f"grad_out entries overlap (the one for {name}): pass separate arrays")
        outs.append(g)
    return tuple(outs)


def check_first_hess_out(hess_out, return_hessian, shape, dtype, grad_outs):
    """hess_out= of a loss of several float inputs, whose Hessian is the diagonal one in its
    first input (of that input's gradient `shape`): as check_hess_out, and separate from every
    grad_out entry."""
    if hess_out is None:
        return None
    check_hess_out(hess_out, return_hessian, shape, dtype)
    if any(g is not None and np.may_share_memory(g, hess_out) for g in grad_outs):
        raise ValueError("hess_out overlaps a grad_out entry: pass separate arrays")
    return hess_out


def finish_grads(flat_grads, shape, shapes, outs, rdt):
    """The gradients (flat, of the broadcast `shape`) summed to each input's shape, in the
    result dtype; written into the matching grad_out entry when there is one."""
    res = []
    for g, s, o in zip(flat_grads, shapes, outs):
        g = cast_result(sum_to_shape(g.reshape(shape), s), rdt)
        res.append(g if o is None else copy_into(o, g))
    return tuple(res)


def mean_or_sum(total, red, size, rdt):
    """The reduced loss from the kernel's sum: "mean" divides by `size` (NaN for 0), "sum" not."""
    if red == "mean":
        return _scalar(total / size if size else math.nan, rdt)
    return _scalar(total, rdt)


def finish_loss(total, loss_rows, red, size, shape, rdt):
    """The loss of a kernel call: per-element / per-row losses reshaped to `shape` for "none"
    (a NumPy scalar for shape ()), else the kernel's sum reduced ("mean" divides by size)."""
    if red == "none":
        loss = cast_result(loss_rows.reshape(shape), rdt)
        return loss[()] if loss.ndim == 0 else loss
    return mean_or_sum(total, red, size, rdt)


def finish_grad_rows(grad, direct, grad_out, shape, rdt):
    """A kernel's gradient as the first argument's (shape, result dtype); grad_out itself when
    the kernel wrote there directly, else copied into grad_out when given."""
    if direct is not None:
        return grad_out
    grad = cast_result(grad.reshape(shape), rdt)
    return grad if grad_out is None else copy_into(grad_out, grad)
