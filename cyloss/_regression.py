"""Regression losses: MSE, L1, Huber, smooth L1 (torch.nn.functional semantics), log-cosh
(optax) and pseudo-Huber (scipy.special), each with an optional weight broadcast to the
loss's shape; see cyloss._classification for the
conventions.
"""
from . import _core
from ._validate import (_F32, _F32_MAX, _F32_TINY, _F64, _elementwise, _optional_weight, asarray, broadcast_shape,
                        check_reduction, check_scalar, float_dtypes)

__all__ = ["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "log_cosh_loss", "pseudo_huber_loss"]

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


def log_cosh_loss(pred, target, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                  return_hessian=False, hess_out=None, return_loss=True):
    """log(cosh(d)), d = pred - target, as optax.log_cosh (= |d| + log1p(exp(-2|d|)) - log 2,
    accurate for small d and finite for any finite d); gradient tanh(d), Hessian
    1 - tanh(d)^2.  `weight` broadcasts to the loss's shape and the weighted "mean" is
    sum(w * l) / sum(w), as mse_loss."""
    return _regression(_core.LOG_COSH, 0.0, pred, target, weight, reduction, return_grad, True, grad_out,
                       return_hessian, hess_out, return_loss)


def pseudo_huber_loss(pred, target, *, delta=1.0, weight=None, reduction="mean", return_grad=False, grad_out=None,
                      return_hessian=False, hess_out=None, return_loss=True):
    """delta^2 (sqrt(1 + (d / delta)^2) - 1), d = pred - target, delta > 0, as
    scipy.special.pseudo_huber(delta, d) (computed without its cancellation for small d and
    without overflow for large d); gradient d / sqrt(1 + (d / delta)^2), Hessian
    (1 + (d / delta)^2)^(-3/2).  `weight` broadcasts to the loss's shape and the weighted
    "mean" is sum(w * l) / sum(w), as mse_loss."""
    dl = check_scalar(delta, "delta")
    if not dl > 0:
        raise ValueError(f"delta must be > 0, got {delta!r}")
    return _regression(_core.PSEUDO_HUBER, dl, pred, target, weight, reduction, return_grad, True, grad_out,
                       return_hessian, hess_out, return_loss)
