"""Binary cross-entropy (with logits and from probabilities) and the KL divergence,
elementwise, torch.nn.functional semantics; see cyloss._classification for the conventions.
"""
import numpy as np

from . import _core
from . import _docs
from ._validate import (_elementwise, _finish, _flags, _optional_weight, _same_shape, asarray, broadcast_shape,
                        broadcast_to, check_flag, check_reduction, check_scalar, contiguous, direct_out,
                        finish_grad_rows, finish_loss, float_dtypes, position)

__all__ = ["binary_cross_entropy_with_logits", "binary_cross_entropy", "kl_div", "sigmoid_focal_loss",
           "multilabel_soft_margin_loss"]

@_docs.fill
def binary_cross_entropy_with_logits(logits, target, *, weight=None, pos_weight=None, reduction="mean",
                                     return_grad=False, grad_out=None, return_hessian=False, hess_out=None,
                                     return_loss=True):
    r"""-w [pos_weight * y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], stable for any x,
    as torch.nn.functional.binary_cross_entropy_with_logits ("mean" = mean over elements).

    Parameters
    ----------
    logits : array_like
        Real logits x (bool, integer or float).
    target : array_like
        Real targets y (usually in [0, 1]), of the logits' shape.
    weight : array_like, optional
        Keyword only. Real weights w, broadcastable to the logits' shape; default None
        (all 1).
    pos_weight : array_like, optional
        Keyword only. Real weights of the positive term, broadcastable to the logits' shape
        (usually one per class, (C,)); default None (all 1).
    %(reduction_binary)s
    return_grad : bool, optional
        Keyword only. Also return the gradient in logits; default False.
    grad_out : numpy.ndarray, optional
        Keyword only. With return_grad=True (or return_hessian=True), an array of
        the logits' shape and the result dtype that receives the gradient and is returned
        as grad (written straight into when the kernel can, else through a temporary);
        default None.
    return_hessian : bool, optional
        Keyword only. Also return the diagonal of the Hessian in logits (implies the
        gradient); default False.
    hess_out : numpy.ndarray, optional
        Keyword only. With return_hessian=True, an array of the logits' shape and the
        result dtype (separate from grad_out) that receives the Hessian; default None.
    %(return_loss_kw)s

    Returns
    -------
    loss : numpy scalar or numpy.ndarray
        The loss in the result dtype (the logits' dtype for float32 / float64, float16 for
        float16, float64 for other input): a NumPy scalar for reduction "mean" / "sum"
        (accumulated in float64), an array of the logits' shape for "none" (a NumPy scalar when
        that shape is ()).
    grad : numpy.ndarray
        With return_grad=True, as ``(loss, grad)``: d(loss)/d(logits) (for
        reduction="none" the gradient of loss.sum()), of the logits' shape and the result
        dtype; `grad_out` itself when given.
    hess : numpy.ndarray
        With return_hessian=True, as ``(loss, grad, hess)`` (return_grad is then implied):
        the second derivative of the loss in each element of logits, of
        the logits' shape and the result dtype; `hess_out` itself when given.

    %(returns_no_loss)s

    Raises
    ------
    TypeError
        If logits, target, weight or pos_weight is not a real numeric array (complex, string,
        object dtype, a masked array), reduction is not a string, a return_* flag is not a bool
        (True, False, 0 or 1), or grad_out / hess_out is not a numpy.ndarray or has the wrong
        dtype.
    ValueError
        If target's shape differs from the logits', weight or pos_weight cannot be
        broadcast to the logits' shape, reduction is not one of the allowed strings,
        grad_out is given without return_grad=True (or return_hessian=True), hess_out
        without return_hessian=True, hess_out overlaps grad_out, an out array has the wrong
        shape or is read-only, or return_loss=False leaves nothing to return.

    Notes
    -----
    With :math:`\sigma` the logistic sigmoid, :math:`p_w` the pos_weight and the logs
    computed as softplus (:math:`-\log \sigma(x) = \mathrm{softplus}(-x)`, finite for any x),

    .. math::

        \ell = -w \big[p_w y \log \sigma(x) + (1 - y) \log(1 - \sigma(x))\big], \qquad
        \frac{\partial \ell}{\partial x} = w \big[(p_w y + 1 - y) \sigma(x) - p_w y\big],

        \frac{\partial^2 \ell}{\partial x^2} = w (p_w y + 1 - y) \sigma(x) (1 - \sigma(x)).

    "mean" divides the sum (and the gradient and Hessian) by the number of elements.

    Examples
    --------
    >>> x, y = np.array([-1.0, 0.0, 2.0]), np.array([0.0, 1.0, 1.0])
    >>> s = 1 / (1 + np.exp(-x))
    >>> loss, grad = cyloss.binary_cross_entropy_with_logits(x, y, return_grad=True)
    >>> bool(np.isclose(loss, -(y * np.log(s) + (1 - y) * np.log(1 - s)).mean()))
    True
    >>> np.allclose(grad, (s - y) / 3)
    True
    """
    x = asarray(logits, "logits")
    y = asarray(target, "target")
    _same_shape(x, "logits", y, "target")
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(x)
    w = _optional_weight(weight, "weight", x.shape, cdt, "logits")
    pw = _optional_weight(pos_weight, "pos_weight", x.shape, cdt, "logits")
    return _elementwise(_core.bce_with_logits, (), (x, cdt, rdt), y, x.shape, red, return_grad, grad_out,
                        extra=(w, pw), return_hessian=return_hessian, hess_out=hess_out, return_loss=return_loss)


@_docs.fill
def binary_cross_entropy(probs, target, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                         return_hessian=False, hess_out=None, return_loss=True):
    r"""-w [y log p + (1 - y) log(1 - p)] with the logs clamped at -100, as
    torch.nn.functional.binary_cross_entropy; probs must lie in [0, 1] (NaN propagates).

    Parameters
    ----------
    probs : array_like
        Real probabilities p in [0, 1] (bool, integer or float).
    target : array_like
        Real targets y (usually in [0, 1]), of probs' shape.
    weight : array_like, optional
        Keyword only. Real weights w, broadcastable to probs' shape; default None (all 1).
    %(reduction_binary)s
    return_grad : bool, optional
        Keyword only. Also return the gradient in probs; default False.
    grad_out : numpy.ndarray, optional
        Keyword only. With return_grad=True (or return_hessian=True), an array of
        probs' shape and the result dtype that receives the gradient and is returned
        as grad (written straight into when the kernel can, else through a temporary);
        default None.
    return_hessian : bool, optional
        Keyword only. Also return the diagonal of the Hessian in probs (implies the
        gradient); default False.
    hess_out : numpy.ndarray, optional
        Keyword only. With return_hessian=True, an array of probs' shape and the
        result dtype (separate from grad_out) that receives the Hessian; default None.
    %(return_loss_kw)s

    Returns
    -------
    loss : numpy scalar or numpy.ndarray
        The loss in the result dtype (probs' dtype for float32 / float64, float16 for
        float16, float64 for other input): a NumPy scalar for reduction "mean" / "sum"
        (accumulated in float64), an array of probs' shape for "none" (a NumPy scalar when
        that shape is ()).
    grad : numpy.ndarray
        With return_grad=True, as ``(loss, grad)``: d(loss)/d(probs) (for
        reduction="none" the gradient of loss.sum()), of probs' shape and the result
        dtype; `grad_out` itself when given.
    hess : numpy.ndarray
        With return_hessian=True, as ``(loss, grad, hess)`` (return_grad is then implied):
        the second derivative of the loss in each element of probs, of
        probs' shape and the result dtype; `hess_out` itself when given.

    %(returns_no_loss)s

    Raises
    ------
    TypeError
        If probs, target or weight is not a real numeric array (complex, string, object dtype, a masked
        array), reduction is not a string, a return_* flag is not a bool (True,
        False, 0 or 1), or grad_out / hess_out is not a numpy.ndarray or has the wrong
        dtype.
    ValueError
        If target's shape differs from probs', weight cannot be broadcast to probs' shape,
        reduction is not one of the allowed strings, grad_out is given without return_grad=True
        (or return_hessian=True), hess_out without return_hessian=True, hess_out overlaps
        grad_out, an out array has the wrong shape or is read-only, or return_loss=False leaves
        nothing to return; or if an element of probs lies outside [0, 1].

    Notes
    -----
    .. math::

        \ell = -w \big[y \max(\log p, -100) + (1 - y) \max(\log(1 - p), -100)\big], \qquad
        \frac{\partial \ell}{\partial p} = w \frac{p - y}{d},

        \frac{\partial^2 \ell}{\partial p^2} = w \frac{p^2 - 2 p y + y}{d^2}, \qquad
        d = \max(p (1 - p), 10^{-12}),

    the clamps as torch's (the logs at -100, the denominator at its float epsilon 1e-12).
    A NaN probability gives a NaN loss. "mean" divides the sum (and the gradient and
    Hessian) by the number of elements.

    Examples
    --------
    >>> p, y = np.array([0.5, 0.9, 0.2]), np.array([1.0, 1.0, 0.0])
    >>> loss = cyloss.binary_cross_entropy(p, y, reduction="none")
    >>> np.allclose(loss, -(y * np.log(p) + (1 - y) * np.log(1 - p)))
    True
    >>> print(cyloss.binary_cross_entropy(np.array([0.5, 0.0]), np.array([1.0, 1.0]), reduction="none"))
    [  0.69314718 100.        ]
    """
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


@_docs.fill
def kl_div(log_q, target, *, reduction="mean", log_target=False, return_grad=False, grad_out=None,
           return_hessian=False, hess_out=None, return_loss=True):
    r"""Pointwise target * (log(target) - log_q) (0 log 0 = 0), or exp(target) * (target - log_q)
    with log_target=True, as torch.nn.functional.kl_div; reduction also "batchmean"
    (sum / log_q.shape[0]).

    Parameters
    ----------
    log_q : array_like
        Real log-probabilities of the model distribution (bool, integer or float).
    target : array_like
        Real target probabilities (log-probabilities with log_target=True), broadcastable
        against log_q.
    reduction : {"mean", "sum", "none", "batchmean"}, optional
        Keyword only. "mean" averages over the elements of the broadcast shape, "sum" adds
        them, "batchmean" divides the sum by log_q.shape[0] (1 for a 0-d log_q), "none"
        returns the pointwise terms; default "mean".
    log_target : bool, optional
        Keyword only. target holds log-probabilities; default False.
    return_grad : bool, optional
        Keyword only. Also return the gradient in log_q; default False.
    grad_out : numpy.ndarray, optional
        Keyword only. With return_grad=True (or return_hessian=True), an array of
        log_q's shape and the result dtype that receives the gradient and is returned
        as grad (written straight into when the kernel can, else through a temporary);
        default None.
    return_hessian : bool, optional
        Keyword only. Also return the diagonal of the Hessian in log_q (implies the
        gradient); default False.
    hess_out : numpy.ndarray, optional
        Keyword only. With return_hessian=True, an array of log_q's shape and the
        result dtype (separate from grad_out) that receives the Hessian; default None.
    %(return_loss_kw)s

    Returns
    -------
    loss : numpy scalar or numpy.ndarray
        The loss in the result dtype (log_q's dtype for float32 / float64, float16 for float16,
        float64 for other input): a NumPy scalar for reduction "mean" / "sum" / "batchmean"
        (accumulated in float64), an array of the broadcast shape of log_q and target for "none"
        (a NumPy scalar when that shape is ()).
    grad : numpy.ndarray
        With return_grad=True, as ``(loss, grad)``: d(loss)/d(log_q) (for
        reduction="none" the gradient of loss.sum(); summed over the dimensions
        target broadcasts log_q to), of log_q's shape and the result
        dtype; `grad_out` itself when given.
    hess : numpy.ndarray
        With return_hessian=True, as ``(loss, grad, hess)`` (return_grad is then implied): the
        second derivative of the loss in each element of log_q (all zeros: the loss is linear in
        log_q), of log_q's shape and the result dtype; `hess_out` itself when given.

    %(returns_no_loss)s

    Raises
    ------
    TypeError
        If log_q or target is not a real numeric array (complex, string, object dtype, a masked
        array), log_target is not a bool, reduction is not a string, a return_* flag is not a bool (True,
        False, 0 or 1), or grad_out / hess_out is not a numpy.ndarray or has the wrong
        dtype.
    ValueError
        If target cannot be broadcast against log_q, reduction is not one of the allowed strings,
        grad_out is given without return_grad=True (or return_hessian=True), hess_out
        without return_hessian=True, hess_out overlaps grad_out, an out array has the wrong
        shape or is read-only, or return_loss=False leaves nothing to return.

    Notes
    -----
    With t the target and :math:`\log q` = log_q,

    .. math::

        \ell = t (\log t - \log q) \quad (0 \log 0 = 0), \qquad
        \frac{\partial \ell}{\partial \log q} = -t,

    or with log_target=True :math:`\ell = e^t (t - \log q)` and
    :math:`\partial \ell / \partial \log q = -e^t`. The Hessian is zero.

    Examples
    --------
    >>> log_q = np.log(np.array([[0.5, 0.5], [0.25, 0.75]]))
    >>> t = np.array([[0.5, 0.5], [0.5, 0.5]])
    >>> loss = cyloss.kl_div(log_q, t, reduction="batchmean")
    >>> bool(np.isclose(loss, (t * (np.log(t) - log_q)).sum() / 2))
    True
    >>> bool(abs(cyloss.kl_div(np.log([0.5, 0.5]), np.array([0.5, 0.5]), reduction="sum")) < 1e-12)  # q == t
    True
    """
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


@_docs.fill
def sigmoid_focal_loss(inputs, targets, *, alpha=0.25, gamma=2.0, reduction="none", return_grad=False, grad_out=None,
                       return_hessian=False, hess_out=None, return_loss=True):
    r"""Focal loss a_t (1 - p_t)^gamma BCE(x, t), p = sigmoid(x), p_t = p t + (1 - p)(1 - t),
    a_t = alpha t + (1 - alpha)(1 - t), as torchvision.ops.sigmoid_focal_loss (default
    reduction "none"; soft targets use the same general p_t).  alpha in [0, 1], or -1 for no
    alpha weighting; gamma >= 0.  Stable for any x (1 - p from sigmoid(-x), the BCE from
    softplus); where 1 - p_t is exactly 0 the gamma term of the gradient is taken as its
    limit 0.  The Hessian (return_hessian) is the second derivative in x,
    a_t pq [m^g + 2 (p - t) s D + ce s (E s pq + D (1 - 2p))] with m = 1 - p_t, pq = p (1 - p),
    s = 1 - 2t, D = g m^(g-1), E = g (g-1) m^(g-2) (D, E taken as 0 where m = 0).

    Parameters
    ----------
    inputs : array_like
        Real logits x (bool, integer or float).
    targets : array_like
        Real targets t in [0, 1] (binary or soft), broadcastable against inputs.
    alpha : float, optional
        Keyword only. The weight of the positive class, in [0, 1], or -1 for no alpha
        weighting (a_t = 1); default 0.25.
    gamma : float, optional
        Keyword only. The focusing exponent, a finite number >= 0; default 2.0.
    reduction : {"none", "mean", "sum"}, optional
        Keyword only. "none" returns the elementwise losses, "mean" averages over the
        elements of the broadcast shape, "sum" adds them; default "none".
    return_grad : bool, optional
        Keyword only. Also return the gradient in inputs; default False.
    grad_out : numpy.ndarray, optional
        Keyword only. With return_grad=True (or return_hessian=True), an array of
        inputs' shape and the result dtype that receives the gradient and is returned
        as grad (written straight into when the kernel can, else through a temporary);
        default None.
    return_hessian : bool, optional
        Keyword only. Also return the diagonal of the Hessian in inputs (implies the
        gradient); default False.
    hess_out : numpy.ndarray, optional
        Keyword only. With return_hessian=True, an array of inputs' shape and the
        result dtype (separate from grad_out) that receives the Hessian; default None.
    %(return_loss_kw)s

    Returns
    -------
    loss : numpy scalar or numpy.ndarray
        The loss in the result dtype (inputs' dtype for float32 / float64, float16 for float16,
        float64 for other input): a NumPy scalar for reduction "mean" / "sum" (accumulated in
        float64), an array of the broadcast shape of inputs and targets for "none" (a NumPy scalar
        when that shape is ()).
    grad : numpy.ndarray
        With return_grad=True, as ``(loss, grad)``: d(loss)/d(inputs) (for
        reduction="none" the gradient of loss.sum(); summed over the dimensions
        targets broadcasts inputs to), of inputs' shape and the result
        dtype; `grad_out` itself when given.
    hess : numpy.ndarray
        With return_hessian=True, as ``(loss, grad, hess)`` (return_grad is then implied):
        the second derivative of the loss in each element of inputs, of
        inputs' shape and the result dtype; `hess_out` itself when given.

    %(returns_no_loss)s

    Raises
    ------
    TypeError
        If inputs or targets is not a real numeric array (complex, string, object dtype, a masked
        array), alpha or gamma is not a real number, reduction is not a string, a return_* flag is
        not a bool (True, False, 0 or 1), or grad_out / hess_out is not a numpy.ndarray or has the
        wrong dtype.
    ValueError
        If targets cannot be broadcast against inputs, alpha is not in [0, 1] and not -1,
        gamma is not finite or < 0, reduction is not one of the allowed strings,
        grad_out is given without return_grad=True (or return_hessian=True), hess_out
        without return_hessian=True, hess_out overlaps grad_out, an out array has the wrong
        shape or is read-only, or return_loss=False leaves nothing to return.

    Notes
    -----
    With :math:`p = \sigma(x)`, :math:`m = 1 - p_t`, :math:`s = 1 - 2t`,
    :math:`\mathrm{ce} = -[t \log p + (1 - t) \log(1 - p)]` and :math:`D = \gamma m^{\gamma - 1}`,

    .. math::

        \ell = a_t m^\gamma \, \mathrm{ce}, \qquad
        \frac{\partial \ell}{\partial x} = a_t \big[m^\gamma (p - t) + \mathrm{ce} \, s D p (1 - p)\big],

    and the Hessian as above. "mean" divides the sum (and the gradient and Hessian) by the
    number of elements.

    Examples
    --------
    >>> x, t = np.array([-2.0, 0.5, 3.0]), np.array([0.0, 1.0, 1.0])
    >>> p = 1 / (1 + np.exp(-x)); p_t = p * t + (1 - p) * (1 - t); a_t = 0.25 * t + 0.75 * (1 - t)
    >>> ce = -(t * np.log(p) + (1 - t) * np.log(1 - p))
    >>> np.allclose(cyloss.sigmoid_focal_loss(x, t), a_t * (1 - p_t) ** 2 * ce)
    True
    >>> np.allclose(cyloss.sigmoid_focal_loss(x, t, alpha=-1, gamma=0.0), ce)  # plain BCE
    True
    """
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


@_docs.fill
def multilabel_soft_margin_loss(input, target, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                                return_hessian=False, hess_out=None, return_loss=True):
    r"""The mean over the classes (last axis) of the weighted BCE with logits of each sample, as
    torch.nn.functional.multilabel_soft_margin_loss: input (..., C), target of the same shape
    (multi-hot or soft labels), `weight` broadcastable to input's shape (torch multiplies by
    it; usually (C,)).  reduction "none" gives input.shape[:-1]; "mean" divides by the
    number of samples.  Computed with softplus (finite for any logit); gradient
    w (sigmoid(x) - y) / C, Hessian (diagonal) w sigmoid(x) (1 - sigmoid(x)) / C.

    Parameters
    ----------
    input : array_like
        Real logits x of shape (..., C), C classes on the last axis (bool, integer or float).
    target : array_like
        Real labels y (multi-hot or soft), of input's shape.
    weight : array_like, optional
        Keyword only. Real weights w, broadcastable to input's shape (usually (C,)); default
        None (all 1).
    reduction : {"mean", "sum", "none"}, optional
        Keyword only. "mean" averages the per-sample losses over the samples, "sum" adds
        them, "none" returns them; default "mean".
    return_grad : bool, optional
        Keyword only. Also return the gradient in input; default False.
    grad_out : numpy.ndarray, optional
        Keyword only. With return_grad=True (or return_hessian=True), an array of
        input's shape and the result dtype that receives the gradient and is returned
        as grad (written straight into when the kernel can, else through a temporary);
        default None.
    return_hessian : bool, optional
        Keyword only. Also return the diagonal of the Hessian in input (implies the
        gradient); default False.
    hess_out : numpy.ndarray, optional
        Keyword only. With return_hessian=True, an array of input's shape and the
        result dtype (separate from grad_out) that receives the Hessian; default None.
    %(return_loss_kw)s

    Returns
    -------
    loss : numpy scalar or numpy.ndarray
        The loss in the result dtype (input's dtype for float32 / float64, float16 for
        float16, float64 for other input): a NumPy scalar for reduction "mean" / "sum"
        (accumulated in float64), an array of input.shape[:-1] for "none" (a NumPy scalar when
        that shape is ()).
    grad : numpy.ndarray
        With return_grad=True, as ``(loss, grad)``: d(loss)/d(input) (for
        reduction="none" the gradient of loss.sum()), of input's shape and the result
        dtype; `grad_out` itself when given.
    hess : numpy.ndarray
        With return_hessian=True, as ``(loss, grad, hess)`` (return_grad is then implied):
        the second derivative of the loss in each element of input, of
        input's shape and the result dtype; `hess_out` itself when given.

    %(returns_no_loss)s

    Raises
    ------
    TypeError
        If input, target or weight is not a real numeric array (complex, string, object dtype, a masked
        array), reduction is not a string, a return_* flag is not a bool (True,
        False, 0 or 1), or grad_out / hess_out is not a numpy.ndarray or has the wrong
        dtype.
    ValueError
        If input is 0-d (it needs a class axis), target's shape differs from input's, weight
        cannot be broadcast to input's shape, reduction is not one of the allowed strings,
        grad_out is given without return_grad=True (or return_hessian=True), hess_out
        without return_hessian=True, hess_out overlaps grad_out, an out array has the wrong
        shape or is read-only, or return_loss=False leaves nothing to return.

    Notes
    -----
    Per sample, with :math:`\sigma` the logistic sigmoid and C the number of classes,

    .. math::

        \ell = -\frac{1}{C} \sum_c w_c \big[y_c \log \sigma(x_c) + (1 - y_c) \log(1 - \sigma(x_c))\big],

        \frac{\partial \ell}{\partial x_c} = \frac{w_c (\sigma(x_c) - y_c)}{C}, \qquad
        \frac{\partial^2 \ell}{\partial x_c^2} = \frac{w_c \sigma(x_c) (1 - \sigma(x_c))}{C}.

    Examples
    --------
    >>> x, y = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]), np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    >>> s = 1 / (1 + np.exp(-x))
    >>> loss, grad = cyloss.multilabel_soft_margin_loss(x, y, reduction="none", return_grad=True)
    >>> np.allclose(loss, -(y * np.log(s) + (1 - y) * np.log(1 - s)).mean(axis=-1))
    True
    >>> np.allclose(grad, (s - y) / 3)
    True
    """
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
