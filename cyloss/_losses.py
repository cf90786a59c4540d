"""Loss functions with optional gradients (torch.nn.functional semantics).

Every loss returns the loss, or (loss, grad) with return_grad=True, where grad is
d(loss)/d(first argument) with that argument's shape and float dtype (for
reduction="none": the gradient of loss.sum()).  grad_out= (with return_grad=True) is an
array of that shape and dtype that receives the gradient and is returned as grad: the
kernel writes straight into it when it can (C-contiguous, aligned, the compute dtype, no
overlap with what the kernel reads), else through a temporary.  Loss and gradient come
from one kernel call.  Reductions accumulate in float64.
"""
import math
import operator

import numpy as np

from . import _core
from ._validate import (_F32, _F64, asarray, broadcast_shape, broadcast_to, cast_result, check_flag,
                        check_grad_out, check_hess_out, check_reduction, check_scalar, contiguous, copy_into,
                        direct_out, float_dtypes, norm_axis, plain, position, rows, sum_to_shape, unrows)

__all__ = ["cross_entropy", "nll_loss", "binary_cross_entropy_with_logits", "binary_cross_entropy",
           "kl_div", "entropy", "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"]

_INT64_MAX = int(np.iinfo(np.int64).max)
_INT64_MIN = int(np.iinfo(np.int64).min)
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


# ----------------------------------------------------------------- classification

def _class_setup(logits, axis, weight, name):
    x = asarray(logits, name)
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (the class axis)")
    cdt, rdt = float_dtypes(x)
    ax = norm_axis(axis, x.ndim)
    c = x.shape[ax]
    w = None
    if weight is not None:
        w = asarray(weight, "weight")
        if w.shape != (c,):
            raise ValueError(f"weight must be a 1-D array of length {c} (one per class), got shape {w.shape}")
        w = contiguous(w, cdt)
    return x, cdt, rdt, ax, c, w


def _class_targets(target, x, ax, c, name, x_name="logits", axis=None):
    """Integer targets as a flat int64 array, checked against the shape of `x` (named `x_name`,
    class axis `ax`, normalised from the caller's `axis`)."""
    t = np.asarray(target) if not isinstance(target, np.ndarray) else target
    expected = x.shape[:ax] + x.shape[ax + 1:]
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class indices, got dtype {t.dtype}")
    if t.shape != expected:
        msg = (f"{name} has shape {t.shape}, expected {expected} (the {x_name}' shape without the class "
               f"axis {ax if axis is None else operator.index(axis)})")
        if ax != 1 and x.ndim >= 2 and t.shape == x.shape[:1] + x.shape[2:]:
            msg += "; for torch's (N, C, ...) layout pass axis=1"
        raise ValueError(msg)
    if t.dtype == np.uint64 and t.size and t.max() > _INT64_MAX:
        i = int(np.argmax(t > _INT64_MAX))
        raise IndexError(f"{name}{position(i, t.shape)} = {t.ravel()[i]} is out of range for {c} classes")
    return contiguous(t, np.dtype(np.int64)).reshape(-1), t.shape


def _target_error(e, t_flat, t_shape, c, ignore_index):
    i = e.args[1]
    valid = f"0..{c - 1}, or ignore_index={ignore_index}" if c else f"only ignore_index={ignore_index}"
    return IndexError(f"target{position(i, t_shape)} = {int(t_flat[i])} is out of range for {c} classes "
                      f"(valid: {valid})")


def _check_ignore_index(ignore_index):
    try:
        if isinstance(ignore_index, bool):  # operator.index(True) is 1
            raise TypeError
        ignore = operator.index(ignore_index)
    except TypeError:
        raise TypeError(f"ignore_index must be an integer, got {ignore_index!r}") from None
    if not _INT64_MIN <= ignore <= _INT64_MAX:
        raise ValueError(f"ignore_index must fit in int64, got {ignore_index!r}")
    return ignore


def cross_entropy(logits, target, *, axis=-1, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0, return_grad=False, grad_out=None, return_hessian=False, hess_out=None,
                  return_loss=True):
    """Cross-entropy between logits and class targets or class probabilities.

    As torch.nn.functional.cross_entropy with the class axis `axis` (torch's (N, C, d1, ...)
    layout is axis=1): integer `target` of the logits' shape without the class axis, or
    float probabilities of the logits' shape; per-class `weight`, `ignore_index`,
    `label_smoothing` in [0, 1]; reduction "mean" divides by the summed weights of the kept
    samples (class targets) or the number of samples (probability targets).  With
    return_grad=True, `grad_out` (the logits' shape and result dtype) receives the gradient.
    return_hessian=True returns (loss, grad, hess), hess the diagonal of each sample's Hessian
    over its logits, A p (1 - p) with A the sample's total target weight (as the gradient:
    weights, ignore_index, label smoothing, the reduction's scale); `hess_out` receives it.
    """
    # Fast path for the common call; the type tests keep True == 1, False == 0.0, arrays and
    # truthy strings ("no") out of it: they take the checked path below.
    if (weight is None and type(label_smoothing) is float and label_smoothing == 0.0 and type(axis) is int
            and axis == -1 and type(ignore_index) is int and (return_grad is False or return_grad is True)
            and return_hessian is False and hess_out is None and return_loss is True
            and type(reduction) is str and (reduction == "mean" or reduction == "sum")):
        r = _core.cross_entropy_fast(logits, target, _check_ignore_index(ignore_index), reduction == "mean",
                                     return_grad, grad_out)
        if r is not None:
            return r
    x, cdt, rdt, ax, c, w = _class_setup(logits, axis, weight, "logits")
    red = check_reduction(reduction)
    eps = check_scalar(label_smoothing, "label_smoothing")
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
    ignore = _check_ignore_index(ignore_index)
    t = plain(target, "target")
    if t.dtype.kind == "f" or (t.dtype.kind not in "iu" and t.shape == x.shape):
        p = asarray(t, "target")
        if p.shape != x.shape:
            raise ValueError(f"target: float targets are class probabilities and must have the shape of "
                             f"logits {x.shape}, got {p.shape}; class indices must be integers")
        return _cross_entropy_prob(x, p, cdt, rdt, ax, c, w, red, eps, return_grad, grad_out, return_hessian,
                                   hess_out, return_loss)
    if t.dtype.kind not in "iu":
        asarray(t, "target")  # complex / object / string -> TypeError naming target
        raise TypeError(f"target must hold integer class indices or float probabilities, got dtype {t.dtype}")
    tf, t_shape = _class_targets(t, x, ax, c, "target", "logits", axis)
    xm, moved_shape = rows(x, ax, cdt)
    return _class_loss(_core.cross_entropy, (ignore, eps), x, xm, moved_shape, tf, t_shape, w, cdt, rdt,
                       ax, c, red, ignore, return_grad, grad_out, return_hessian, hess_out, return_loss=return_loss)


def nll_loss(log_probs, target, *, axis=-1, weight=None, ignore_index=-100, reduction="mean",
             return_grad=False, grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    """Negative log-likelihood -weight[t] * log_probs[t], as torch.nn.functional.nll_loss
    (linear in log_probs: return_hessian=True gives a Hessian of zeros)."""
    # Fast path for the common call (as cross_entropy's).
    if (weight is None and type(axis) is int and axis == -1 and type(ignore_index) is int
            and (return_grad is False or return_grad is True) and return_hessian is False and hess_out is None
            and return_loss is True and type(reduction) is str and (reduction == "mean" or reduction == "sum")):
        r = _core.nll_loss_fast(log_probs, target, _check_ignore_index(ignore_index), reduction == "mean",
                                return_grad, grad_out)
        if r is not None:
            return r
    x, cdt, rdt, ax, c, w = _class_setup(log_probs, axis, weight, "log_probs")
    red = check_reduction(reduction)
    ignore = _check_ignore_index(ignore_index)
    tf, t_shape = _class_targets(plain(target, "target"), x, ax, c, "target", "log_probs", axis)
    xm, moved_shape = rows(x, ax, cdt)
    return _class_loss(_core.nll_loss, (ignore,), x, xm, moved_shape, tf, t_shape, w, cdt, rdt,
                       ax, c, red, ignore, return_grad, grad_out, return_hessian, hess_out, zero_hessian=True,
                       return_loss=return_loss)


def _grad_buffer(direct, shape, cdt):
    """The kernel's gradient array of `shape`: grad_out's view when written directly."""
    return direct.reshape(shape) if direct is not None else np.empty(shape, dtype=cdt)


def _class_loss(kernel, params, x, xm, moved_shape, tf, t_shape, w, cdt, rdt, ax, c, red, ignore, return_grad,
                grad_out, return_hessian=False, hess_out=None, zero_hessian=False, return_loss=True):
    want_grad, return_grad, return_hessian, return_loss = _flags(return_grad, return_hessian, grad_out, hess_out,
                                                                 x.shape, rdt, return_loss)
    direct = hdirect = None
    if ax == x.ndim - 1:  # (else the class axis moves: through a temporary)
        if grad_out is not None:
            direct = direct_out(grad_out, cdt, (xm, tf, w))
        if hess_out is not None and not zero_hessian:
            hdirect = direct_out(hess_out, cdt, (xm, tf, w) + ((direct,) if direct is not None else ()))
    n = xm.shape[0]
    loss_scale = grad_scale = 1.0
    if red == "mean":
        try:
            wsum = _core.class_weight_sum(tf, w, c, ignore, cdt.type(0))
        except _core.KernelError as e:
            raise _target_error(e, tf, t_shape, c, ignore) from None
        if wsum != 0:
            loss_scale = grad_scale = 1.0 / wsum
        else:
            # torch: 0/0 loss; gradient zero if every sample is ignored, NaN on kept rows otherwise
            loss_scale = math.nan
            grad_scale = math.nan if np.any(tf != ignore) else 0.0
    loss_rows = np.empty(n, dtype=cdt) if red == "none" else None
    grad = _grad_buffer(direct, (n, c), cdt) if want_grad else None
    hess = None
    if return_hessian and not zero_hessian:
        hess = _grad_buffer(hdirect, (n, c), cdt)
    try:
        if hess is not None:
            total = kernel(xm, tf, w, *params, grad_scale, loss_rows, grad, hess)
        else:
            total = kernel(xm, tf, w, *params, grad_scale, loss_rows, grad)
    except _core.KernelError as e:
        raise _target_error(e, tf, t_shape, c, ignore) from None
    if red == "none":
        loss = cast_result(loss_rows.reshape(t_shape), rdt)
        loss = loss[()] if loss.ndim == 0 else loss
    else:
        loss = _scalar(total * loss_scale if red == "mean" else total, rdt)
    if want_grad:
        grad = _finish_grad(grad, grad_out, direct, moved_shape, ax, x.ndim, rdt)
    if return_hessian:
        if zero_hessian:  # linear loss
            hess = np.zeros(x.shape, dtype=rdt) if hess_out is None else copy_into(hess_out, 0)
        else:
            hess = _finish_grad(hess, hess_out, hdirect, moved_shape, ax, x.ndim, rdt)
    return _finish(loss, grad, return_grad, hess, return_hessian, return_loss)


def _finish_grad(grad, grad_out, direct, moved_shape, ax, ndim, rdt):
    """The (n, c) gradient in the first argument's layout and result dtype; in grad_out when given."""
    if direct is not None:
        return grad_out
    grad = cast_result(unrows(grad, moved_shape, ax, ndim), rdt)
    return grad if grad_out is None else copy_into(grad_out, grad)


def _cross_entropy_prob(x, p, cdt, rdt, ax, c, w, red, eps, return_grad, grad_out, return_hessian, hess_out,
                       return_loss=True):
    want_grad, return_grad, return_hessian, return_loss = _flags(return_grad, return_hessian, grad_out, hess_out,
                                                                 x.shape, rdt, return_loss)
    xm, moved_shape = rows(x, ax, cdt)
    pm, _ = rows(p, ax, cdt)
    n = xm.shape[0]
    direct = hdirect = None
    if ax == x.ndim - 1:
        if grad_out is not None:
            direct = direct_out(grad_out, cdt, (xm, pm, w))
        if hess_out is not None:
            hdirect = direct_out(hess_out, cdt, (xm, pm, w) + ((direct,) if direct is not None else ()))
    loss_scale, grad_scale = _mean_scale(n) if red == "mean" else (1.0, 1.0)
    loss_rows = np.empty(n, dtype=cdt) if red == "none" else None
    grad = _grad_buffer(direct, (n, c), cdt) if want_grad else None
    hess = _grad_buffer(hdirect, (n, c), cdt) if return_hessian else None
    total = _core.cross_entropy_prob(xm, pm, w, eps, grad_scale, loss_rows, grad, hess)
    if red == "none":
        loss = cast_result(loss_rows.reshape(moved_shape[:-1]), rdt)
        loss = loss[()] if loss.ndim == 0 else loss
    else:
        loss = _scalar(total * loss_scale if red == "mean" else total, rdt)
    if want_grad:
        grad = _finish_grad(grad, grad_out, direct, moved_shape, ax, x.ndim, rdt)
    if return_hessian:
        hess = _finish_grad(hess, hess_out, hdirect, moved_shape, ax, x.ndim, rdt)
    return _finish(loss, grad, return_grad, hess, return_hessian, return_loss)


def entropy(p, axis=-1):
    """-sum(p * log(p)) along `axis`, with 0 log 0 = 0 (p is not normalised)."""
    a = asarray(p, "p")
    cdt, rdt = float_dtypes(a)
    if a.ndim == 0:
        norm_axis(axis, 1)
        a = a.reshape(1)
    ax = norm_axis(axis, a.ndim)
    pm, moved_shape = rows(a, ax, cdt)
    res = np.empty(pm.shape[0], dtype=cdt)
    _core.entropy(pm, res)
    res = cast_result(res.reshape(moved_shape[:-1]), rdt)
    return res[()] if res.ndim == 0 else res


# ------------------------------------------------------------------ elementwise

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


def binary_cross_entropy_with_logits(logits, target, *, weight=None, pos_weight=None, reduction="mean",
                                     return_grad=False, grad_out=None, return_hessian=False, hess_out=None,
                                     return_loss=True):
    """-w [pos_weight * y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], stable for any x,
    as torch.nn.functional.binary_cross_entropy_with_logits ("mean" = mean over elements)."""
    x = asarray(logits, "logits")
    y = asarray(target, "target")
    _same_shape(x, "logits", y, "target")
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(x)
    w = _optional_weight(weight, "weight", x.shape, cdt, "logits")
    pw = _optional_weight(pos_weight, "pos_weight", x.shape, cdt, "logits")
    return _elementwise(_core.bce_with_logits, (), (x, cdt, rdt), y, x.shape, red, return_grad, grad_out,
                        extra=(w, pw), return_hessian=return_hessian, hess_out=hess_out, return_loss=return_loss)


def binary_cross_entropy(probs, target, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                         return_hessian=False, hess_out=None, return_loss=True):
    """-w [y log p + (1 - y) log(1 - p)] with the logs clamped at -100, as
    torch.nn.functional.binary_cross_entropy; probs must lie in [0, 1] (NaN propagates)."""
    p = asarray(probs, "probs")
    y = asarray(target, "target")
    _same_shape(p, "probs", y, "target")
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(p)
    w = _optional_weight(weight, "weight", p.shape, cdt, "probs")
    try:
        return _elementwise(_core.bce, (), (p, cdt, rdt), y, p.shape, red, return_grad, grad_out,
                            extra=(w,), return_hessian=return_hessian, hess_out=hess_out,
                            return_loss=return_loss)
    except _core.KernelError as e:
        i = e.args[1]
        raise ValueError(f"probs{position(i, p.shape)} = {np.asarray(p).ravel()[i]} is outside [0, 1]") from None


def kl_div(log_q, target, *, reduction="mean", log_target=False, return_grad=False, grad_out=None,
           return_hessian=False, hess_out=None, return_loss=True):
    """Pointwise target * (log(target) - log_q) (0 log 0 = 0), or exp(target) * (target - log_q)
    with log_target=True, as torch.nn.functional.kl_div; reduction also "batchmean"
    (sum / log_q.shape[0])."""
    lq = asarray(log_q, "log_q")
    t = asarray(target, "target")
    red = check_reduction(reduction, ("none", "mean", "sum", "batchmean"))
    cdt, rdt = float_dtypes(lq)
    shape = broadcast_shape("log_q", lq.shape, "target", t.shape)
    denom = None
    if red == "batchmean":
        denom = lq.shape[0] if lq.ndim else 1
    log_target = check_flag(log_target, "log_target")
    return _elementwise(_core.kl_div, (log_target,), (lq, cdt, rdt), t, shape, red, return_grad, grad_out,
                        mean_denominator=denom, pred_shape=lq.shape, return_hessian=return_hessian,
                        hess_out=hess_out, return_loss=return_loss)


def _regression(kind, param, pred, target, weight, reduction, return_grad, mean_by_weight, grad_out,
                return_hessian=False, hess_out=None, return_loss=True):
    """A regression loss.  `weight` broadcasts to the broadcast shape of pred and target;
    with a weight, reduction "mean" is sum(w * l) / sum(w) when `mean_by_weight` (torch's
    mse_loss / l1_loss) and sum(w * l) / size otherwise (torch's huber_loss)."""
    p = asarray(pred, "pred")
    t = asarray(target, "target")
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(p)
    if cdt is _F32 and param != 0 and not _F32_TINY <= param <= _F32_MAX:
        cdt = _F64  # delta / beta is not a normal float32 number: compute in float64
    shape = broadcast_shape("pred", p.shape, "target", t.shape)
    w = _optional_weight(weight, "weight", shape, cdt, "the loss")
    denom = _core.vsum(w) if (w is not None and red == "mean" and mean_by_weight) else None

    def kernel(a, b, w_, gs, loss_rows, grad, hess, want_loss):
        return _core.regression(kind, a, b, w_, param, gs, loss_rows, grad, hess, want_loss)

    return _elementwise(kernel, (), (p, cdt, rdt), t, shape, red, return_grad, grad_out, extra=(w,),
                        mean_denominator=denom, pred_shape=p.shape, return_hessian=return_hessian,
                        hess_out=hess_out, return_loss=return_loss)


def mse_loss(pred, target, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
             return_hessian=False, hess_out=None, return_loss=True):
    """(pred - target)^2, as torch.nn.functional.mse_loss; `weight` broadcasts to the loss's
    shape and the weighted "mean" is sum(w * l) / sum(w) (torch's rule for mse_loss)."""
    return _regression(_core.MSE, 0.0, pred, target, weight, reduction, return_grad, True, grad_out, return_hessian,
                       hess_out, return_loss)


def l1_loss(pred, target, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
             return_hessian=False, hess_out=None, return_loss=True):
    """|pred - target| (gradient sign(d), 0 at d = 0), as torch.nn.functional.l1_loss; `weight`
    broadcasts to the loss's shape and the weighted "mean" is sum(w * l) / sum(w) (torch's
    rule for l1_loss)."""
    return _regression(_core.L1, 0.0, pred, target, weight, reduction, return_grad, True, grad_out, return_hessian,
                       hess_out, return_loss)


def huber_loss(pred, target, *, delta=1.0, weight=None, reduction="mean", return_grad=False, grad_out=None,
               return_hessian=False, hess_out=None, return_loss=True):
    """0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta), delta > 0, as
    torch.nn.functional.huber_loss; `weight` broadcasts to the loss's shape and the weighted
    "mean" is mean(w * l) = sum(w * l) / size (torch's rule for huber_loss, unlike mse/l1)."""
    dl = check_scalar(delta, "delta")
    if not dl > 0:
        raise ValueError(f"delta must be > 0, got {delta!r}")
    return _regression(_core.HUBER, dl, pred, target, weight, reduction, return_grad, False, grad_out, return_hessian,
                       hess_out, return_loss)


def smooth_l1_loss(pred, target, *, beta=1.0, weight=None, reduction="mean", return_grad=False, grad_out=None,
                   return_hessian=False, hess_out=None, return_loss=True):
    """0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta; beta = 0 is L1, as
    torch.nn.functional.smooth_l1_loss.  torch's function takes no weight; here `weight`
    broadcasts to the loss's shape and the weighted "mean" is mean(w * l) = sum(w * l) / size,
    as huber_loss (so huber_loss(delta) == delta * smooth_l1_loss(beta=delta) with weights too)."""
    bt = check_scalar(beta, "beta")
    if not bt >= 0:
        raise ValueError(f"beta must be >= 0, got {beta!r}")
    return _regression(_core.SMOOTH_L1, bt, pred, target, weight, reduction, return_grad, False, grad_out,
                       return_hessian, hess_out, return_loss)
