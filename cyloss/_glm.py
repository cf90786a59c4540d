"""scikit-learn's loss family: losses of raw predictions with their gradient and Hessian.

The definitions of sklearn._loss.loss (HalfPoissonLoss, HalfGammaLoss, HalfTweedieLoss,
HalfTweedieLossIdentity, PinballLoss, ExponentialLoss): the first argument is the raw
prediction (before the inverse link), the "half" deviances drop their constant terms as
sklearn's `.loss()` does, `weight=` holds sample weights, and reduction "mean" is
sum(w * l) / sum(w) with gradient and Hessian w * g / sum(w), w * h / sum(w) (sklearn's
`.__call__` with sample_weight).  y outside a loss's domain is a ValueError naming the
first offending position (the domain is checked during the kernel's pass: arrays passed as
`grad_out=` / `hess_out=` are then partly written); NaN is data and propagates.
"""
import math

import numpy as np

from . import _core
from . import _docs
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


@_docs.fill
def half_poisson_loss(raw_prediction, y, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                      return_hessian=False, hess_out=None, return_loss=True):
    r"""exp(r) - y r (sklearn's HalfPoissonLoss, log link, constant terms dropped), y >= 0;
    gradient exp(r) - y, Hessian exp(r).

    Parameters
    ----------
    %(raw_prediction)s
    y : array_like
        Targets, broadcast against `raw_prediction`; y >= 0.
    %(weight_raw)s
    %(reduction_raw)s
    %(return_grad_raw)s
    %(grad_out)s
    %(return_hessian_raw)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_raw)s
    %(returns_grad_raw)s
    %(returns_hess_raw)s

    Raises
    ------
    %(raises_type)s
    ValueError
        If an argument cannot be converted to an array; if raw_prediction, y and weight do not
        broadcast (weight to the loss's shape); if y is outside the loss's domain, y >= 0 (the
        message names the first offending position); if reduction is not one of 'mean', 'sum' and
        'none'; if return_loss=False is passed without return_grad=True or return_hessian=True; if
        grad_out is given without return_grad=True (or return_hessian=True), hess_out without
        return_hessian=True, or an output array has the wrong shape or is read-only; if hess_out
        overlaps grad_out.

    Notes
    -----
    Elementwise (log link),

    .. math::

        l = e^r - y r, \qquad \frac{\partial l}{\partial r} = e^r - y, \qquad
        \frac{\partial^2 l}{\partial r^2} = e^r.

    %(notes_weights_raw)s

    Examples
    --------
    >>> r, y = np.array([0.0, 1.0, -0.5]), np.array([1.0, 2.0, 0.0])
    >>> loss, grad, hess = cyloss.half_poisson_loss(r, y, reduction="none", return_hessian=True)
    >>> bool(np.allclose(loss, np.exp(r) - y * r)), bool(np.allclose(grad, np.exp(r) - y))
    (True, True)
    >>> bool(np.allclose(hess, np.exp(r)))
    True
    """
    return _glm(_core.HALF_POISSON, 0.0, "half_poisson_loss", "y >= 0", raw_prediction, y, weight, reduction,
                return_grad, grad_out, return_hessian, hess_out, return_loss)


@_docs.fill
def half_gamma_loss(raw_prediction, y, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                    return_hessian=False, hess_out=None, return_loss=True):
    r"""r + y exp(-r) (sklearn's HalfGammaLoss, log link, constant terms dropped), y > 0;
    gradient 1 - y exp(-r), Hessian y exp(-r).

    Parameters
    ----------
    %(raw_prediction)s
    y : array_like
        Targets, broadcast against `raw_prediction`; y > 0.
    %(weight_raw)s
    %(reduction_raw)s
    %(return_grad_raw)s
    %(grad_out)s
    %(return_hessian_raw)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_raw)s
    %(returns_grad_raw)s
    %(returns_hess_raw)s

    Raises
    ------
    %(raises_type)s
    ValueError
        If an argument cannot be converted to an array; if raw_prediction, y and weight do not
        broadcast (weight to the loss's shape); if y is outside the loss's domain, y > 0 (the
        message names the first offending position); if reduction is not one of 'mean', 'sum' and
        'none'; if return_loss=False is passed without return_grad=True or return_hessian=True; if
        grad_out is given without return_grad=True (or return_hessian=True), hess_out without
        return_hessian=True, or an output array has the wrong shape or is read-only; if hess_out
        overlaps grad_out.

    Notes
    -----
    Elementwise (log link),

    .. math::

        l = r + y e^{-r}, \qquad \frac{\partial l}{\partial r} = 1 - y e^{-r}, \qquad
        \frac{\partial^2 l}{\partial r^2} = y e^{-r}.

    %(notes_weights_raw)s

    Examples
    --------
    >>> r, y, w = np.array([0.0, 1.0]), np.array([2.0, 0.5]), np.array([1.0, 3.0])
    >>> loss = cyloss.half_gamma_loss(r, y, weight=w)
    >>> bool(np.isclose(loss, np.sum(w * (r + y * np.exp(-r))) / np.sum(w)))
    True
    """
    return _glm(_core.HALF_GAMMA, 0.0, "half_gamma_loss", "y > 0", raw_prediction, y, weight, reduction,
                return_grad, grad_out, return_hessian, hess_out, return_loss)


def _power(power):
    p = check_scalar(power, "power")
    if not math.isfinite(p):
        raise ValueError(f"power must be a finite number, got {power!r}")
    return p


@_docs.fill
def half_tweedie_loss(raw_prediction, y, *, power=1.5, weight=None, reduction="mean", return_grad=False,
                      grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    r"""exp((2-p) r)/(2-p) - y exp((1-p) r)/(1-p) (sklearn's HalfTweedieLoss, log link, the
    y-only term dropped), with sklearn's forms at p = 0 (0.5 (exp(r) - y)^2), 1 (Poisson)
    and 2 (Gamma); y >= 0 for 0 < p < 2, y > 0 for p >= 2, any y for p <= 0.

    Parameters
    ----------
    %(raw_prediction)s
    %(y_tweedie)s
    %(power_tweedie)s
    %(weight_raw)s
    %(reduction_raw)s
    %(return_grad_raw)s
    %(grad_out)s
    %(return_hessian_raw)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_raw)s
    %(returns_grad_raw)s
    %(returns_hess_raw)s

    Raises
    ------
    %(raises_type_power)s
    %(raises_value_power)s

    Notes
    -----
    Elementwise (log link), for p not 0, 1 or 2,

    .. math::

        l = \frac{e^{(2-p) r}}{2-p} - y \frac{e^{(1-p) r}}{1-p}, \qquad
        \frac{\partial l}{\partial r} = e^{(2-p) r} - y e^{(1-p) r}, \qquad
        \frac{\partial^2 l}{\partial r^2} = (2-p) e^{(2-p) r} - (1-p) y e^{(1-p) r}.

    At p = 0 the loss is :math:`\frac{1}{2} (e^r - y)^2` (gradient :math:`e^r (e^r - y)`, Hessian
    :math:`e^r (2 e^r - y)`), at p = 1 half_poisson_loss's and at p = 2 half_gamma_loss's.

    %(notes_weights_raw)s

    Examples
    --------
    >>> r, y, p = np.array([0.0, 0.5]), np.array([1.0, 3.0]), 1.5
    >>> loss = cyloss.half_tweedie_loss(r, y, power=p, reduction="none")
    >>> bool(np.allclose(loss, np.exp((2 - p) * r) / (2 - p) - y * np.exp((1 - p) * r) / (1 - p)))
    True
    """
    p = _power(power)
    return _glm(_core.HALF_TWEEDIE, p, "half_tweedie_loss", _tweedie_domain(p), raw_prediction, y, weight,
                reduction, return_grad, grad_out, return_hessian, hess_out, return_loss)


@_docs.fill
def half_tweedie_loss_identity(raw_prediction, y, *, power=1.5, weight=None, reduction="mean", return_grad=False,
                               grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    r"""r^(2-p)/(2-p) - y r^(1-p)/(1-p) + max(y, 0)^(2-p)/((1-p)(2-p)) (sklearn's
    HalfTweedieLossIdentity: identity link, constant terms kept, minimum 0), with sklearn's
    forms at p = 0, 1, 2; the same y domain as half_tweedie_loss; raw predictions must be
    > 0 for p != 0 (others give NaN, as sklearn's formulas).

    Parameters
    ----------
    %(raw_prediction)s
    %(y_tweedie)s
    %(power_tweedie)s
    %(weight_raw)s
    %(reduction_raw)s
    %(return_grad_raw)s
    %(grad_out)s
    %(return_hessian_raw)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_raw)s
    %(returns_grad_raw)s
    %(returns_hess_raw)s

    Raises
    ------
    %(raises_type_power)s
    %(raises_value_power)s

    Notes
    -----
    Elementwise (identity link), for p not 0, 1 or 2,

    .. math::

        l = \frac{r^{2-p}}{2-p} - y \frac{r^{1-p}}{1-p} + \frac{\max(y, 0)^{2-p}}{(1-p)(2-p)}, \qquad
        \frac{\partial l}{\partial r} = r^{-p} (r - y), \qquad
        \frac{\partial^2 l}{\partial r^2} = r^{-p} \left((1-p) + p \frac{y}{r}\right).

    At p = 0 the loss is :math:`\frac{1}{2} (r - y)^2`, at p = 1 :math:`y \log(y / r) + r - y` (r where
    y = 0), at p = 2 :math:`\log(r / y) + y / r - 1`.  Its minimum, at r = y, is 0.

    %(notes_weights_raw)s

    Examples
    --------
    >>> r, y, p = np.array([1.0, 2.0]), np.array([1.0, 3.0]), 1.5
    >>> loss = cyloss.half_tweedie_loss_identity(r, y, power=p, reduction="none")
    >>> expected = r ** (2 - p) / (2 - p) - y * r ** (1 - p) / (1 - p) + y ** (2 - p) / ((1 - p) * (2 - p))
    >>> bool(np.allclose(loss, expected)), bool(abs(loss[0]) < 1e-12)  # 0 where r == y
    (True, True)
    """
    p = _power(power)
    return _glm(_core.HALF_TWEEDIE_IDENTITY, p, "half_tweedie_loss_identity", _tweedie_domain(p), raw_prediction,
                y, weight, reduction, return_grad, grad_out, return_hessian, hess_out, return_loss)


@_docs.fill
def pinball_loss(raw_prediction, y, *, quantile=0.5, weight=None, reduction="mean", return_grad=False,
                 grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    r"""quantile (y - r) if y >= r else (1 - quantile) (r - y) (sklearn's PinballLoss),
    0 < quantile < 1; gradient -quantile if y >= r (a tie included) else 1 - quantile; the
    Hessian is sklearn's stand-in 1 (times the weight): the exact one is 0 almost
    everywhere.

    Parameters
    ----------
    %(raw_prediction)s
    y : array_like
        Targets, broadcast against `raw_prediction`.
    quantile : float, optional
        The quantile q, 0 < q < 1 (default 0.5).
    %(weight_raw)s
    %(reduction_raw)s
    %(return_grad_raw)s
    %(grad_out)s
    %(return_hessian_raw)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_raw)s
    %(returns_grad_raw)s
    %(returns_hess_raw)s

    Raises
    ------
    TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_hessian, return_loss) is not a bool (``numpy.bool_``, 0 and 1 are
        accepted); if quantile is not a real number (a bool, a string, None, a complex number or an
        array with elements); if grad_out or hess_out is not a numpy.ndarray or its dtype is not the
        result dtype.
    ValueError
        If an argument cannot be converted to an array; if raw_prediction, y and weight do not
        broadcast (weight to the loss's shape); if quantile is not in (0, 1); if reduction is not
        one of 'mean', 'sum' and 'none'; if quantile is NaN or infinite; if return_loss=False is
        passed without return_grad=True or return_hessian=True; if grad_out is given without
        return_grad=True (or return_hessian=True), hess_out without return_hessian=True, or an
        output array has the wrong shape or is read-only; if hess_out overlaps grad_out.

    Notes
    -----
    Elementwise, with q = quantile,

    .. math::

        l = \begin{cases} q (y - r) & y \ge r \\ (1 - q) (r - y) & y < r \end{cases}, \qquad
        \frac{\partial l}{\partial r} = \begin{cases} -q & y \ge r \\ 1 - q & y < r \end{cases}, \qquad
        \frac{\partial^2 l}{\partial r^2} := 1.

    %(notes_weights_raw)s

    Examples
    --------
    >>> r, y = np.array([1.0, 3.0, 2.0]), np.array([2.0, 1.0, 2.0])
    >>> loss, grad = cyloss.pinball_loss(r, y, quantile=0.25, reduction="none", return_grad=True)
    >>> bool(np.allclose(loss, np.where(y >= r, 0.25 * (y - r), 0.75 * (r - y)))), grad.tolist()
    (True, [-0.25, 0.75, -0.25])
    """
    q = check_scalar(quantile, "quantile")
    if not 0 < q < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile!r}")
    return _glm(_core.PINBALL, q, "pinball_loss", None, raw_prediction, y, weight, reduction, return_grad,
                grad_out, return_hessian, hess_out, return_loss)


@_docs.fill
def exponential_loss(raw_prediction, y, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                     return_hessian=False, hess_out=None, return_loss=True):
    r"""y exp(-r) + (1 - y) exp(r) (sklearn's ExponentialLoss, the AdaBoost loss with y in
    {0, 1}; sklearn accepts y in [0, 1]); gradient -y exp(-r) + (1 - y) exp(r), Hessian
    equal to the loss.

    Parameters
    ----------
    %(raw_prediction)s
    y : array_like
        Targets, broadcast against `raw_prediction`; 0 <= y <= 1.
    %(weight_raw)s
    %(reduction_raw)s
    %(return_grad_raw)s
    %(grad_out)s
    %(return_hessian_raw)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_raw)s
    %(returns_grad_raw)s
    %(returns_hess_raw)s

    Raises
    ------
    %(raises_type)s
    ValueError
        If an argument cannot be converted to an array; if raw_prediction, y and weight do not
        broadcast (weight to the loss's shape); if y is outside the loss's domain, 0 <= y <= 1 (the
        message names the first offending position); if reduction is not one of 'mean', 'sum' and
        'none'; if return_loss=False is passed without return_grad=True or return_hessian=True; if
        grad_out is given without return_grad=True (or return_hessian=True), hess_out without
        return_hessian=True, or an output array has the wrong shape or is read-only; if hess_out
        overlaps grad_out.

    Notes
    -----
    Elementwise,

    .. math::

        l = y e^{-r} + (1 - y) e^r, \qquad \frac{\partial l}{\partial r} = -y e^{-r} + (1 - y) e^r, \qquad
        \frac{\partial^2 l}{\partial r^2} = l.

    %(notes_weights_raw)s

    Examples
    --------
    >>> r, y = np.array([0.5, -1.0]), np.array([1.0, 0.0])
    >>> loss, grad, hess = cyloss.exponential_loss(r, y, reduction="none", return_hessian=True)
    >>> bool(np.allclose(loss, y * np.exp(-r) + (1 - y) * np.exp(r))), bool(np.allclose(hess, loss))
    (True, True)
    >>> bool(np.allclose(grad, -y * np.exp(-r) + (1 - y) * np.exp(r)))
    True
    """
    return _glm(_core.EXPONENTIAL, 0.0, "exponential_loss", "0 <= y <= 1", raw_prediction, y, weight, reduction,
                return_grad, grad_out, return_hessian, hess_out, return_loss)
