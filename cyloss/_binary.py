"""Binary cross-entropy (with logits and from probabilities) and the KL divergence,
elementwise, torch.nn.functional semantics; see cyloss._classification for the conventions.
"""
import numpy as np

from . import _core
from ._validate import (_elementwise, _finish, _flags, _optional_weight, _same_shape, asarray, broadcast_shape,
                        broadcast_to, check_flag, check_reduction, check_scalar, contiguous, direct_out,
                        finish_grad_rows, finish_loss, float_dtypes, position)

__all__ = ["binary_cross_entropy_with_logits", "binary_cross_entropy", "kl_div", "sigmoid_focal_loss",
           "multilabel_soft_margin_loss"]

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


def sigmoid_focal_loss(inputs, targets, *, alpha=0.25, gamma=2.0, reduction="none", return_grad=False, grad_out=None,
                       return_hessian=False, hess_out=None, return_loss=True):
    """Focal loss a_t (1 - p_t)^gamma BCE(x, t), p = sigmoid(x), p_t = p t + (1 - p)(1 - t),
    a_t = alpha t + (1 - alpha)(1 - t), as torchvision.ops.sigmoid_focal_loss (default
    reduction "none"; soft targets use the same general p_t).  alpha in [0, 1], or -1 for no
    alpha weighting; gamma >= 0.  Stable for any x (1 - p from sigmoid(-x), the BCE from
    softplus); where 1 - p_t is exactly 0 the gamma term of the gradient is taken as its
    limit 0.  The Hessian (return_hessian) is the second derivative in x,
    a_t pq [m^g + 2 (p - t) s D + ce s (E s pq + D (1 - 2p))] with m = 1 - p_t, pq = p (1 - p),
    s = 1 - 2t, D = g m^(g-1), E = g (g-1) m^(g-2) (D, E taken as 0 where m = 0)."""
    x = asarray(inputs, "inputs")
    t = asarray(targets, "targets")
    a = check_scalar(alpha, "alpha")
    if not (0.0 <= a <= 1.0 or a == -1.0):
        raise ValueError(f"alpha must be in [0, 1], or -1 to disable the alpha weighting, got {alpha!r}")
    g = check_scalar(gamma, "gamma")
    if not g >= 0:
        raise ValueError(f"gamma must be >= 0, got {gamma!r}")
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(x)
    shape = broadcast_shape("inputs", x.shape, "targets", t.shape)

    def kernel(a_, b_, gs, loss_rows, grad, hess, want_loss):
        return _core.sigmoid_focal(a_, b_, a, g, gs, loss_rows, grad, hess, want_loss)

    return _elementwise(kernel, (), (x, cdt, rdt), t, shape, red, return_grad, grad_out, pred_shape=x.shape,
                        return_hessian=return_hessian, hess_out=hess_out, return_loss=return_loss)


def multilabel_soft_margin_loss(input, target, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                                return_hessian=False, hess_out=None, return_loss=True):
    """The mean over the classes (last axis) of the weighted BCE with logits of each sample, as
    torch.nn.functional.multilabel_soft_margin_loss: input (..., C), target of the same shape
    (multi-hot or soft labels), `weight` broadcastable to input's shape (torch multiplies by
    it; usually (C,)).  reduction "none" gives input.shape[:-1]; "mean" divides by the
    number of samples.  Computed with softplus (finite for any logit); gradient
    w (sigmoid(x) - y) / C, Hessian (diagonal) w sigmoid(x) (1 - sigmoid(x)) / C."""
    x = asarray(input, "input")
    y = asarray(target, "target")
    if x.ndim == 0:
        raise ValueError("input must have at least one dimension (the class axis)")
    _same_shape(x, "input", y, "target")
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(x)
    c = x.shape[-1]
    want_grad, return_grad, return_hessian, return_loss = _flags(return_grad, return_hessian, grad_out, hess_out,
                                                                 x.shape, rdt, return_loss)
    xm = contiguous(x, cdt).reshape(-1, c)
    ym = contiguous(y, cdt).reshape(-1, c)
    n = xm.shape[0]
    wm = None
    if weight is not None:
        w = asarray(weight, "weight")
        wb = broadcast_to(w, x.shape, "weight", "input's")
        if w.ndim <= 1 or all(d == 1 for d in w.shape[:-1]):  # one vector for every sample
            wm = contiguous(np.broadcast_to(w.reshape(-1) if w.ndim else w, (c,)), cdt).reshape(1, c)
        else:
            wm = contiguous(wb, cdt).reshape(-1, c)
    gs = 1.0 / n if red == "mean" and n else 1.0
    loss_rows = np.empty(n, dtype=cdt) if red == "none" else None
    direct = direct_out(grad_out, cdt, (xm, ym, wm)) if grad_out is not None else None
    grad = (direct.reshape(n, c) if direct is not None else np.empty((n, c), dtype=cdt)) if want_grad else None
    hdirect = direct_out(hess_out, cdt, (xm, ym, wm, grad)) if hess_out is not None else None
    hess = ((hdirect.reshape(n, c) if hdirect is not None else np.empty((n, c), dtype=cdt)) if return_hessian
            else None)
    total = _core.multilabel_soft_margin(xm, ym, wm, gs, loss_rows, grad, hess)
    loss = finish_loss(total, loss_rows, red, n, x.shape[:-1], rdt)
    if want_grad:
        grad = finish_grad_rows(grad, direct, grad_out, x.shape, rdt)
    if return_hessian:
        hess = finish_grad_rows(hess, hdirect, hess_out, x.shape, rdt)
    return _finish(loss, grad, return_grad, hess, return_hessian, return_loss=return_loss)
