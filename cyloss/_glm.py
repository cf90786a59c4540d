"""scikit-learn's loss family: losses of raw predictions with their gradient and Hessian.

The definitions of sklearn._loss.loss (HalfPoissonLoss, HalfGammaLoss, HalfTweedieLoss,
HalfTweedieLossIdentity, PinballLoss, ExponentialLoss): the first argument is the raw
prediction (before the inverse link), the "half" deviances drop their constant terms as
sklearn's `.loss()` does, `weight=` holds sample weights, and reduction "mean" is
sum(w * l) / sum(w) with gradient and Hessian w * g / sum(w), w * h / sum(w) (sklearn's
`.__call__` with sample_weight).  y outside a loss's domain is a ValueError naming the
first offending position; NaN is data and propagates.
"""
import math

import numpy as np

from . import _core
from ._validate import (_elementwise, _optional_weight, asarray, broadcast_shape, check_reduction, check_scalar,
                        float_dtypes, position)

__all__ = ["half_poisson_loss", "half_gamma_loss", "half_tweedie_loss", "half_tweedie_loss_identity",
           "pinball_loss", "exponential_loss"]


def _tweedie_domain(power):
    if power <= 0:
        return None
    return "y >= 0" if power < 2 else "y > 0"


def _glm(kind, param, name, domain, raw_prediction, y, weight, reduction, return_grad, grad_out, return_hessian,
         hess_out, return_loss=True):
    r = asarray(raw_prediction, "raw_prediction")
    t = asarray(y, "y")
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(r)
    shape = broadcast_shape("raw_prediction", r.shape, "y", t.shape)
    w = _optional_weight(weight, "weight", shape, cdt, "the loss")
    denom = _core.vsum(w) if (w is not None and red == "mean") else None

    def kernel(a, b, w_, gs, loss_rows, grad, hess, want_loss):
        return _core.glm(kind, a, b, w_, param, gs, loss_rows, grad, hess, want_loss)

    try:
        return _elementwise(kernel, (), (r, cdt, rdt), t, shape, red, return_grad, grad_out, extra=(w,),
                            mean_denominator=denom, pred_shape=r.shape, return_hessian=return_hessian,
                            hess_out=hess_out, return_loss=return_loss)
    except _core.KernelError as e:
        i = e.args[1]
        value = np.broadcast_to(t, shape).ravel()[i]
        raise ValueError(f"y{position(i, shape)} = {value} is outside the domain of {name} ({domain})") from None


def half_poisson_loss(raw_prediction, y, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                      return_hessian=False, hess_out=None, return_loss=True):
    """exp(r) - y r (sklearn's HalfPoissonLoss, log link, constant terms dropped), y >= 0;
    gradient exp(r) - y, Hessian exp(r)."""
    return _glm(_core.HALF_POISSON, 0.0, "half_poisson_loss", "y >= 0", raw_prediction, y, weight, reduction,
                return_grad, grad_out, return_hessian, hess_out, return_loss)


def half_gamma_loss(raw_prediction, y, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                    return_hessian=False, hess_out=None, return_loss=True):
    """r + y exp(-r) (sklearn's HalfGammaLoss, log link, constant terms dropped), y > 0;
    gradient 1 - y exp(-r), Hessian y exp(-r)."""
    return _glm(_core.HALF_GAMMA, 0.0, "half_gamma_loss", "y > 0", raw_prediction, y, weight, reduction,
                return_grad, grad_out, return_hessian, hess_out, return_loss)


def _power(power):
    p = check_scalar(power, "power")
    if not math.isfinite(p):
        raise ValueError(f"power must be a finite number, got {power!r}")
    return p


def half_tweedie_loss(raw_prediction, y, *, power=1.5, weight=None, reduction="mean", return_grad=False,
                      grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    """exp((2-p) r)/(2-p) - y exp((1-p) r)/(1-p) (sklearn's HalfTweedieLoss, log link, the
    y-only term dropped), with sklearn's forms at p = 0 (0.5 (exp(r) - y)^2), 1 (Poisson)
    and 2 (Gamma); y >= 0 for 0 < p < 2, y > 0 for p >= 2, any y for p <= 0."""
    p = _power(power)
    return _glm(_core.HALF_TWEEDIE, p, "half_tweedie_loss", _tweedie_domain(p), raw_prediction, y, weight,
                reduction, return_grad, grad_out, return_hessian, hess_out, return_loss)


def half_tweedie_loss_identity(raw_prediction, y, *, power=1.5, weight=None, reduction="mean", return_grad=False,
                               grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    """r^(2-p)/(2-p) - y r^(1-p)/(1-p) + max(y, 0)^(2-p)/((1-p)(2-p)) (sklearn's
    HalfTweedieLossIdentity: identity link, constant terms kept, minimum 0), with sklearn's
    forms at p = 0, 1, 2; the same y domain as half_tweedie_loss; raw predictions must be
    > 0 for p != 0 (others give NaN, as sklearn's formulas)."""
    p = _power(power)
    return _glm(_core.HALF_TWEEDIE_IDENTITY, p, "half_tweedie_loss_identity", _tweedie_domain(p), raw_prediction,
                y, weight, reduction, return_grad, grad_out, return_hessian, hess_out, return_loss)


def pinball_loss(raw_prediction, y, *, quantile=0.5, weight=None, reduction="mean", return_grad=False,
                 grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    """quantile (y - r) if y >= r else (1 - quantile) (r - y) (sklearn's PinballLoss),
    0 < quantile < 1; gradient -quantile if y >= r (a tie included) else 1 - quantile; the
    Hessian is sklearn's stand-in 1 (times the weight): the exact one is 0 almost
    everywhere."""
    q = check_scalar(quantile, "quantile")
    if not 0 < q < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile!r}")
    return _glm(_core.PINBALL, q, "pinball_loss", None, raw_prediction, y, weight, reduction, return_grad,
                grad_out, return_hessian, hess_out, return_loss)


def exponential_loss(raw_prediction, y, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                     return_hessian=False, hess_out=None, return_loss=True):
    """y exp(-r) + (1 - y) exp(r) (sklearn's ExponentialLoss, the AdaBoost loss with y in
    {0, 1}; sklearn accepts y in [0, 1]); gradient -y exp(-r) + (1 - y) exp(r), Hessian
    equal to the loss."""
    return _glm(_core.EXPONENTIAL, 0.0, "exponential_loss", "0 <= y <= 1", raw_prediction, y, weight, reduction,
                return_grad, grad_out, return_hessian, hess_out, return_loss)
