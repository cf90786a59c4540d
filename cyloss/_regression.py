"""Regression losses: MSE, L1, Huber, smooth L1 (torch.nn.functional semantics), log-cosh
(optax) and pseudo-Huber (scipy.special), each with an optional weight broadcast to the
loss's shape; see cyloss._classification for the
conventions.
"""
from . import _core
from . import _docs
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


@_docs.fill
def mse_loss(pred, target, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
             return_hessian=False, hess_out=None, return_loss=True):
    r"""(pred - target)^2, as torch.nn.functional.mse_loss; `weight` broadcasts to the loss's
    shape and the weighted "mean" is sum(w * l) / sum(w) (torch's rule for mse_loss).

    Parameters
    ----------
    %(pred)s
    %(target_pred)s
    %(weight_pred)s
    %(reduction_pred)s
    %(return_grad_pred)s
    %(grad_out)s
    %(return_hessian_pred)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_pred)s
    %(returns_grad_pred)s
    %(returns_hess_pred)s

    Raises
    ------
    %(raises_type)s
    %(raises_value_pred)s

    Notes
    -----
    With :math:`d = \mathrm{pred} - \mathrm{target}`, elementwise

    .. math::

        l = d^2, \qquad \frac{\partial l}{\partial \mathrm{pred}} = 2 d, \qquad
        \frac{\partial^2 l}{\partial \mathrm{pred}^2} = 2.

    %(notes_weights_pred)s

    Examples
    --------
    >>> pred, target = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])
    >>> d = pred - target
    >>> loss, grad = cyloss.mse_loss(pred, target, return_grad=True)
    >>> bool(np.isclose(loss, np.mean(d ** 2))), bool(np.allclose(grad, 2 * d / d.size))
    (True, True)
    """
    return _regression(_core.MSE, 0.0, pred, target, weight, reduction, return_grad, True, grad_out, return_hessian,
                       hess_out, return_loss)


@_docs.fill
def l1_loss(pred, target, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
             return_hessian=False, hess_out=None, return_loss=True):
    r"""``|pred - target|`` (gradient sign(d), 0 at d = 0), as torch.nn.functional.l1_loss; `weight`
    broadcasts to the loss's shape and the weighted "mean" is sum(w * l) / sum(w) (torch's
    rule for l1_loss).

    Parameters
    ----------
    %(pred)s
    %(target_pred)s
    %(weight_pred)s
    %(reduction_pred)s
    %(return_grad_pred)s
    %(grad_out)s
    %(return_hessian_pred)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_pred)s
    %(returns_grad_pred)s
    %(returns_hess_pred)s

    Raises
    ------
    %(raises_type)s
    %(raises_value_pred)s

    Notes
    -----
    With :math:`d = \mathrm{pred} - \mathrm{target}`, elementwise

    .. math::

        l = |d|, \qquad \frac{\partial l}{\partial \mathrm{pred}} = \operatorname{sign}(d)
        \quad (0 \text{ at } d = 0), \qquad \frac{\partial^2 l}{\partial \mathrm{pred}^2} = 0.

    %(notes_weights_pred)s

    Examples
    --------
    >>> pred, target = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 3.0])
    >>> loss, grad = cyloss.l1_loss(pred, target, reduction="sum", return_grad=True)
    >>> float(loss), grad.tolist()
    (1.5, [-1.0, 0.0, 1.0])
    """
    return _regression(_core.L1, 0.0, pred, target, weight, reduction, return_grad, True, grad_out, return_hessian,
                       hess_out, return_loss)


@_docs.fill
def huber_loss(pred, target, *, delta=1.0, weight=None, reduction="mean", return_grad=False, grad_out=None,
               return_hessian=False, hess_out=None, return_loss=True):
    r"""``0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta)``, delta > 0, as
    torch.nn.functional.huber_loss; `weight` broadcasts to the loss's shape and the weighted
    "mean" is mean(w * l) = sum(w * l) / size (torch's rule for huber_loss, unlike mse/l1).

    Parameters
    ----------
    %(pred)s
    %(target_pred)s
    delta : float, optional
        The threshold between the quadratic and the linear part, delta > 0 (default 1.0).
    %(weight_pred)s
    %(reduction_pred_size)s
    %(return_grad_pred)s
    %(grad_out)s
    %(return_hessian_pred)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_pred)s
    %(returns_grad_pred)s
    %(returns_hess_pred)s

    Raises
    ------
    %(raises_type_delta)s
    %(raises_value_delta)s

    Notes
    -----
    With :math:`d = \mathrm{pred} - \mathrm{target}` and :math:`\delta` = delta, elementwise

    .. math::

        l = \begin{cases} \frac{1}{2} d^2 & |d| < \delta \\
        \delta (|d| - \frac{1}{2} \delta) & \text{otherwise} \end{cases}, \qquad
        \frac{\partial l}{\partial \mathrm{pred}} = \begin{cases} d & |d| < \delta \\
        \delta \operatorname{sign}(d) & \text{otherwise} \end{cases}, \qquad
        \frac{\partial^2 l}{\partial \mathrm{pred}^2} = [|d| \le \delta].

    At the kink :math:`|d| = \delta` the Hessian is 1 (sklearn's convention), so that huber_loss(delta)
    equals delta * smooth_l1_loss(beta=delta) for the Hessian too.  For float32 input a delta that is
    not a normal float32 number (beyond float32's range or below its smallest normal) makes the
    computation run in float64; the result is still float32.

    %(notes_weights_size)s

    Examples
    --------
    >>> d = np.array([-3.0, 0.5, 2.0])
    >>> cyloss.huber_loss(d, np.zeros(3), delta=1.0, reduction="none").tolist()
    [2.5, 0.125, 1.5]
    """
    dl = check_scalar(delta, "delta")
    if not dl > 0:
        raise ValueError(f"delta must be > 0, got {delta!r}")
    return _regression(_core.HUBER, dl, pred, target, weight, reduction, return_grad, False, grad_out, return_hessian,
                       hess_out, return_loss)


@_docs.fill
def smooth_l1_loss(pred, target, *, beta=1.0, weight=None, reduction="mean", return_grad=False, grad_out=None,
                   return_hessian=False, hess_out=None, return_loss=True):
    r"""``0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta``; beta = 0 is L1, as
    torch.nn.functional.smooth_l1_loss.  torch's function takes no weight; here `weight`
    broadcasts to the loss's shape and the weighted "mean" is mean(w * l) = sum(w * l) / size,
    as huber_loss (so huber_loss(delta) == delta * smooth_l1_loss(beta=delta) with weights too).

    Parameters
    ----------
    %(pred)s
    %(target_pred)s
    beta : float, optional
        The threshold between the quadratic and the linear part, beta >= 0 (default 1.0); beta = 0
        is L1.
    %(weight_pred)s
    %(reduction_pred_size)s
    %(return_grad_pred)s
    %(grad_out)s
    %(return_hessian_pred)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_pred)s
    %(returns_grad_pred)s
    %(returns_hess_pred)s

    Raises
    ------
    TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_hessian, return_loss) is not a bool (``numpy.bool_``, 0 and 1 are
        accepted); if beta is not a real number (a bool, a string, None, a complex number or an
        array with elements); if grad_out or hess_out is not a numpy.ndarray or its dtype is not the
        result dtype.
    ValueError
        If an argument cannot be converted to an array; if pred, target and weight do not broadcast
        (weight to the loss's shape); if beta is negative; if reduction is not one of 'mean', 'sum'
        and 'none'; if beta is NaN or infinite; if return_loss=False is passed without
        return_grad=True or return_hessian=True; if grad_out is given without return_grad=True (or
        return_hessian=True), hess_out without return_hessian=True, or an output array has the wrong
        shape or is read-only; if hess_out overlaps grad_out.

    Notes
    -----
    With :math:`d = \mathrm{pred} - \mathrm{target}` and :math:`\beta` = beta, elementwise

    .. math::

        l = \begin{cases} \frac{1}{2} d^2 / \beta & |d| < \beta \\ |d| - \frac{1}{2} \beta & \text{otherwise}
        \end{cases}, \qquad
        \frac{\partial l}{\partial \mathrm{pred}} = \begin{cases} d / \beta & |d| < \beta \\
        \operatorname{sign}(d) & \text{otherwise} \end{cases}, \qquad
        \frac{\partial^2 l}{\partial \mathrm{pred}^2} = [|d| \le \beta] / \beta.

    At the kink :math:`|d| = \beta` the Hessian is :math:`1 / \beta` (sklearn's convention for Huber).
    With beta = 0 the loss is :math:`|d|` (the quadratic part is empty), its gradient sign(d) (0 at
    d = 0) and its Hessian 0.  For float32 input a nonzero beta that is not a normal float32 number
    (beyond float32's range or below its smallest normal) makes the computation run in float64; the
    result is still float32.

    %(notes_weights_size)s

    Examples
    --------
    >>> d = np.array([0.2, -1.5, 3.0])
    >>> s = cyloss.smooth_l1_loss(d, np.zeros(3), beta=2.0, reduction="none")
    >>> bool(np.allclose(s, np.where(np.abs(d) < 2, 0.25 * d ** 2, np.abs(d) - 1.0)))
    True
    >>> bool(np.allclose(cyloss.huber_loss(d, np.zeros(3), delta=2.0, reduction="none"), 2.0 * s))
    True
    """
    bt = check_scalar(beta, "beta")
    if not bt >= 0:
        raise ValueError(f"beta must be >= 0, got {beta!r}")
    return _regression(_core.SMOOTH_L1, bt, pred, target, weight, reduction, return_grad, False, grad_out,
                       return_hessian, hess_out, return_loss)


@_docs.fill
def log_cosh_loss(pred, target, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                  return_hessian=False, hess_out=None, return_loss=True):
    r"""log(cosh(d)), d = pred - target, as optax.log_cosh (= ``|d| + log1p(exp(-2|d|)) - log 2``,
    accurate for small d and finite for any finite d); gradient tanh(d), Hessian
    1 - tanh(d)^2.  `weight` broadcasts to the loss's shape and the weighted "mean" is
    sum(w * l) / sum(w), as mse_loss.

    Parameters
    ----------
    %(pred)s
    %(target_pred)s
    %(weight_pred)s
    %(reduction_pred)s
    %(return_grad_pred)s
    %(grad_out)s
    %(return_hessian_pred)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_pred)s
    %(returns_grad_pred)s
    %(returns_hess_pred)s

    Raises
    ------
    %(raises_type)s
    %(raises_value_pred)s

    Notes
    -----
    With :math:`d = \mathrm{pred} - \mathrm{target}`, elementwise

    .. math::

        l = \log\cosh d = |d| + \operatorname{log1p}(e^{-2|d|}) - \log 2, \qquad
        \frac{\partial l}{\partial \mathrm{pred}} = \tanh d, \qquad
        \frac{\partial^2 l}{\partial \mathrm{pred}^2} = 1 - \tanh^2 d.

    The second form is the one computed: accurate for small d and finite for any finite d.

    %(notes_weights_pred)s

    Examples
    --------
    >>> pred, target = np.array([0.5, -2.0, 30.0]), np.zeros(3)
    >>> loss, grad, hess = cyloss.log_cosh_loss(pred, target, reduction="none", return_hessian=True)
    >>> bool(np.allclose(loss, np.log(np.cosh(pred)))), bool(np.allclose(grad, np.tanh(pred)))
    (True, True)
    >>> bool(np.allclose(hess, 1 - np.tanh(pred) ** 2))
    True
    """
    return _regression(_core.LOG_COSH, 0.0, pred, target, weight, reduction, return_grad, True, grad_out,
                       return_hessian, hess_out, return_loss)


@_docs.fill
def pseudo_huber_loss(pred, target, *, delta=1.0, weight=None, reduction="mean", return_grad=False, grad_out=None,
                      return_hessian=False, hess_out=None, return_loss=True):
    r"""delta^2 (sqrt(1 + (d / delta)^2) - 1), d = pred - target, delta > 0, as
    scipy.special.pseudo_huber(delta, d) (computed without its cancellation for small d and
    without overflow for large d); gradient d / sqrt(1 + (d / delta)^2), Hessian
    (1 + (d / delta)^2)^(-3/2).  `weight` broadcasts to the loss's shape and the weighted
    "mean" is sum(w * l) / sum(w), as mse_loss.

    Parameters
    ----------
    %(pred)s
    %(target_pred)s
    delta : float, optional
        The scale of the transition from quadratic to linear, delta > 0 (default 1.0).
    %(weight_pred)s
    %(reduction_pred)s
    %(return_grad_pred)s
    %(grad_out)s
    %(return_hessian_pred)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_pred)s
    %(returns_grad_pred)s
    %(returns_hess_pred)s

    Raises
    ------
    %(raises_type_delta)s
    %(raises_value_delta)s

    Notes
    -----
    With :math:`d = \mathrm{pred} - \mathrm{target}` and :math:`\delta` = delta, elementwise

    .. math::

        l = \delta^2 \left(\sqrt{1 + (d / \delta)^2} - 1\right), \qquad
        \frac{\partial l}{\partial \mathrm{pred}} = \frac{d}{\sqrt{1 + (d / \delta)^2}}, \qquad
        \frac{\partial^2 l}{\partial \mathrm{pred}^2} = \left(1 + (d / \delta)^2\right)^{-3/2}.

    The loss is computed without the cancellation of this form for small d and without overflow for
    large d.  For float32 input a delta that is not a normal float32 number (beyond float32's range or
    below its smallest normal) makes the computation run in float64; the result is still float32.

    %(notes_weights_pred)s

    Examples
    --------
    >>> d, delta = np.array([0.5, -2.0, 4.0]), 2.0
    >>> loss, grad = cyloss.pseudo_huber_loss(d, 0 * d, delta=delta, reduction="none", return_grad=True)
    >>> bool(np.allclose(loss, delta ** 2 * (np.sqrt(1 + (d / delta) ** 2) - 1)))
    True
    >>> bool(np.allclose(grad, d / np.sqrt(1 + (d / delta) ** 2)))
    True
    """
    dl = check_scalar(delta, "delta")
    if not dl > 0:
        raise ValueError(f"delta must be > 0, got {delta!r}")
    return _regression(_core.PSEUDO_HUBER, dl, pred, target, weight, reduction, return_grad, True, grad_out,
                       return_hessian, hess_out, return_loss)
