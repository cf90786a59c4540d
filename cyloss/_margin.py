"""Margin losses of torch.nn.functional: soft_margin_loss, hinge_embedding_loss,
margin_ranking_loss (elementwise, inputs broadcast against each other as torch's
arithmetic does; gradients summed back to each input's shape) and multi_margin_loss (rows
of class scores with class targets).  See
cyloss._classification for the conventions of return_grad / grad_out."""
import numpy as np

from . import _core
from . import _docs
from ._classification import _class_setup, _class_targets
from ._validate import (_elementwise, _finish, _flags, asarray, broadcast_shape, check_first_hess_out, check_grads_out,
                        check_reduction,
                        check_scalar, contiguous, copy_into, direct_out, finish_grad_rows, finish_grads, finish_loss,
                        float_dtypes, plain, position)

__all__ = ["soft_margin_loss", "hinge_embedding_loss", "margin_ranking_loss", "multi_margin_loss",
           "multilabel_margin_loss"]


def _margin(kind, margin, x, y, reduction, return_grad, grad_out, return_hessian, hess_out, return_loss):
    xa = asarray(x, "input")
    ya = asarray(y, "target")
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(xa)
    shape = broadcast_shape("input", xa.shape, "target", ya.shape)

    def kernel(a, b, gs, loss_rows, grad, hess, want_loss):
        return _core.margin(kind, a, None, b, margin, gs, loss_rows, grad, hess, want_loss)

    return _elementwise(kernel, (), (xa, cdt, rdt), ya, shape, red, return_grad, grad_out, pred_shape=xa.shape,
                        return_hessian=return_hessian, hess_out=hess_out, return_loss=return_loss)


@_docs.fill
def soft_margin_loss(input, target, *, reduction="mean", return_grad=False, grad_out=None, return_hessian=False,
                     hess_out=None, return_loss=True):
    r"""log(1 + exp(-y x)), y = target (torch expects +-1; any value is used as given), as
    torch.nn.functional.soft_margin_loss; computed as softplus(-y x), finite where torch's
    log1p(exp(-y x)) overflows to inf (-y x > 88 in float32).  Gradient -y sigmoid(-y x),
    Hessian y^2 sigmoid(-y x) sigmoid(y x).

    Parameters
    ----------
    %(input)s
    %(target_input)s
    %(reduction_input)s
    %(return_grad_input)s
    %(grad_out)s
    %(return_hessian_input)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_input)s
    %(returns_grad_input)s
    %(returns_hess_input)s

    Raises
    ------
    %(raises_type)s
    ValueError
        If an argument cannot be converted to an array; if input and target do not broadcast against
        each other; if reduction is not one of 'mean', 'sum' and 'none'; if return_loss=False is
        passed without return_grad=True or return_hessian=True; if grad_out is given without
        return_grad=True (or return_hessian=True), hess_out without return_hessian=True, or an
        output array has the wrong shape or is read-only; if hess_out overlaps grad_out.

    Notes
    -----
    Elementwise, with x = input and y = target,

    .. math::

        l = \log(1 + e^{-y x}) = \operatorname{softplus}(-y x)
          = \max(-y x, 0) + \operatorname{log1p}(e^{-|y x|}), \qquad
        \frac{\partial l}{\partial x} = -y \, \sigma(-y x), \qquad
        \frac{\partial^2 l}{\partial x^2} = y^2 \, \sigma(-y x) \, \sigma(y x),

    with :math:`\sigma` the logistic sigmoid.  'mean' divides the sum of the losses, the gradient and
    the Hessian by the number of elements; a 'mean' over no elements is NaN.

    Examples
    --------
    >>> x, y = np.array([2.0, -1.0, 0.0]), np.array([1.0, 1.0, -1.0])
    >>> loss, grad = cyloss.soft_margin_loss(x, y, return_grad=True)
    >>> bool(np.isclose(loss, np.mean(np.log1p(np.exp(-y * x)))))
    True
    >>> bool(np.allclose(grad, -y / (1 + np.exp(y * x)) / x.size))
    True
    """
    return _margin(_core.SOFT_MARGIN, 0.0, input, target, reduction, return_grad, grad_out, return_hessian,
                   hess_out, return_loss)


@_docs.fill
def hinge_embedding_loss(input, target, *, margin=1.0, reduction="mean", return_grad=False, grad_out=None,
                         return_hessian=False, hess_out=None, return_loss=True):
    r"""x where y == 1, max(0, margin - x) where y == -1, as torch.nn.functional.hinge_embedding_loss
    (torch's where() form: a target other than +-1 gets both terms, x + max(0, margin - x); torch
    does not check y and neither does cyloss).  Gradient 1 / -[margin - x >= 0] (torch passes
    the gradient at margin - x = 0); the loss is piecewise linear: Hessian 0.

    Parameters
    ----------
    %(input)s
    %(target_input)s
    margin : float, optional
        The margin of the y = -1 term (default 1.0); any finite real number.
    %(reduction_input)s
    %(return_grad_input)s
    %(grad_out)s
    %(return_hessian_input)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_input)s
    %(returns_grad_input)s
    %(returns_hess_input)s

    Raises
    ------
    TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_hessian, return_loss) is not a bool (``numpy.bool_``, 0 and 1 are
        accepted); if margin is not a real number (a bool, a string, None, a complex number or an
        array with elements); if grad_out or hess_out is not a numpy.ndarray or its dtype is not the
        result dtype.
    ValueError
        If an argument cannot be converted to an array; if input and target do not broadcast against
        each other; if reduction is not one of 'mean', 'sum' and 'none'; if margin is NaN or
        infinite; if return_loss=False is passed without return_grad=True or return_hessian=True; if
        grad_out is given without return_grad=True (or return_hessian=True), hess_out without
        return_hessian=True, or an output array has the wrong shape or is read-only; if hess_out
        overlaps grad_out.

    Notes
    -----
    Elementwise, with x = input, y = target and m = margin (torch's where() form),

    .. math::

        l = [y \ne -1] \, x + [y \ne 1] \max(0, m - x), \qquad
        \frac{\partial l}{\partial x} = [y \ne -1] - [y \ne 1] \, [m - x \ge 0], \qquad
        \frac{\partial^2 l}{\partial x^2} = 0,

    that is x where y = 1 (gradient 1) and max(0, m - x) where y = -1 (gradient -1 where m - x >= 0,
    else 0).  The max keeps NaN.  'mean' divides the sum of the losses and the gradient by the number of
    elements; a 'mean' over no elements is NaN.

    Examples
    --------
    >>> x, y = np.array([0.3, 0.4, 1.5]), np.array([1, -1, -1])
    >>> loss, grad = cyloss.hinge_embedding_loss(x, y, reduction="sum", return_grad=True)
    >>> bool(np.isclose(loss, np.sum(np.where(y == 1, x, np.maximum(0, 1.0 - x)))))
    True
    >>> grad.tolist()
    [1.0, -1.0, 0.0]
    """
    m = check_scalar(margin, "margin")
    return _margin(_core.HINGE_EMBEDDING, m, input, target, reduction, return_grad, grad_out, return_hessian,
                   hess_out, return_loss)


@_docs.fill
def margin_ranking_loss(input1, input2, target, *, margin=0.0, reduction="mean", return_grad=False, grad_out=None,
                        return_hessian=False, hess_out=None, return_loss=True):
    r"""max(0, -y (x1 - x2) + margin), as torch.nn.functional.margin_ranking_loss (y expected in
    {1, -1}; torch does not check it and neither does cyloss: any y is used as given).  The
    three arrays must have the same number of dimensions (torch's rule) and broadcast against
    each other.  return_grad=True returns (loss, (d/dinput1, d/dinput2)); grad_out is None or
    a tuple of two arrays (or None entries) receiving them.  The loss is piecewise linear:
    return_hessian=True returns (loss, (d/dinput1, d/dinput2), hess) with hess the diagonal
    Hessian in input1 (of input1's shape), 0; hess_out receives it.

    Parameters
    ----------
    input1 : array_like
        First scores x1: a real numeric (bool, integer or float) array.  Its dtype sets the compute
        and result dtypes (float32 and float64 kept, float16 computed in float32, others in
        float64).
    input2 : array_like
        Second scores x2, with as many dimensions as `input1`, broadcast against it.
    target : array_like
        Labels y (1: x1 should rank higher, -1: x2 should), with as many dimensions as `input1`,
        broadcast against both inputs; any value is used as given.
    margin : float, optional
        The margin (default 0.0); any finite real number.
    reduction : {'mean', 'sum', 'none'}, optional
        How the losses are reduced (default 'mean'): 'mean' averages the elementwise losses over the
        broadcast shape; 'sum' their sum; 'none' no reduction, the losses in the broadcast shape of
        the three arrays.
    %(return_grad_pair)s
    grad_out : tuple of numpy.ndarray or None, optional
        With return_grad=True (or return_hessian=True): a tuple of two arrays (or None entries), one
        per input (`input1`, `input2`) in that input's shape and the result dtype, that receive the
        gradients and are returned as them.  The entries must not overlap.  Default None.
    return_hessian : bool, optional
        Also return the diagonal of the Hessian with respect to `input1` (default False); this
        computes the gradient too.
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    loss : numpy.floating or numpy.ndarray
        The loss: a NumPy scalar for 'mean' and 'sum'; for 'none' an array of the broadcast shape of
        the three arrays (a NumPy scalar when that shape is ()).  In the result dtype: input1's
        dtype for float32 and float64, float16 for float16 (computed in float32), float64 for
        integer, bool and other inputs.  Returned alone by default.
    %(returns_grads)s
    hess : numpy.ndarray
        With return_hessian=True: the diagonal of the Hessian in `input1`, 0, of input1's shape and
        the result dtype; hess_out when given.  The result is then (loss, grads, hess) whatever
        return_grad is, or (grads, hess) with return_loss=False.

    Raises
    ------
    TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_hessian, return_loss) is not a bool (``numpy.bool_``, 0 and 1 are
        accepted); if margin is not a real number (a bool, a string, None, a complex number or an
        array with elements); if grad_out is not None or a tuple with one entry per input; if an
        entry of grad_out or hess_out is not a numpy.ndarray or its dtype is not the result dtype.
    ValueError
        If an argument cannot be converted to an array; if input1, input2 and target differ in their
        number of dimensions or do not broadcast against each other; if reduction is not one of
        'mean', 'sum' and 'none'; if margin is NaN or infinite; if return_loss=False is passed
        without return_grad=True or return_hessian=True; if grad_out is given without
        return_grad=True (or return_hessian=True), hess_out without return_hessian=True, or an
        output array has the wrong shape or is read-only; if hess_out overlaps grad_out; if grad_out
        entries overlap each other.

    Notes
    -----
    Elementwise, with :math:`z = -y (x_1 - x_2) + \mathrm{margin}`,

    .. math::

        l = \max(0, z), \qquad \frac{\partial l}{\partial x_1} = -y \, [z \ge 0]
        = -\frac{\partial l}{\partial x_2}, \qquad \frac{\partial^2 l}{\partial x_1^2} = 0.

    At z = 0 the gradient is passed through, as torch's clamp_min does; the max keeps NaN and the
    gradient of a NaN z is NaN.  'mean' divides the sum of the losses and the gradients by the number of
    elements; a 'mean' over no elements is NaN.

    Examples
    --------
    >>> x1, x2, y = np.array([1.0, 0.2, 3.0]), np.array([0.5, 0.4, 1.0]), np.array([1.0, 1.0, -1.0])
    >>> loss, (g1, g2) = cyloss.margin_ranking_loss(x1, x2, y, margin=0.1, reduction="sum", return_grad=True)
    >>> z = -y * (x1 - x2) + 0.1
    >>> bool(np.isclose(loss, np.sum(np.maximum(0, z)))), bool(np.allclose(g1, np.where(z >= 0, -y, 0)))
    (True, True)
    """
    x1 = asarray(input1, "input1")
    x2 = asarray(input2, "input2")
    y = asarray(target, "target")
    if not x1.ndim == x2.ndim == y.ndim:
        raise ValueError(f"input1, input2 and target must have the same number of dimensions (torch's rule), "
                         f"got shapes {x1.shape}, {x2.shape}, {y.shape}")
    m = check_scalar(margin, "margin")
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(x1)
    shape = broadcast_shape("input1", x1.shape, "input2", x2.shape)
    shape = broadcast_shape("input1 and input2", shape, "target", y.shape)
    want_grad, return_grad, return_hessian, return_loss = _flags(return_grad, return_hessian, None, None, shape, rdt,
                                                                 return_loss)
    outs = check_grads_out(grad_out, want_grad, (x1.shape, x2.shape), rdt, ("input1", "input2"))
    hout = check_first_hess_out(hess_out, return_hessian, x1.shape, rdt, outs)
    a, b, c = (contiguous(np.broadcast_to(v, shape), cdt).reshape(-1) for v in (x1, x2, y))
    size = a.shape[0]
    gs = 1.0 / size if red == "mean" and size else 1.0
    loss_rows = np.empty(size, dtype=cdt) if red == "none" and return_loss else None
    g1 = np.empty(size, dtype=cdt) if want_grad else None
    h1 = np.empty(size, dtype=cdt) if return_hessian else None
    total = _core.margin(_core.MARGIN_RANKING, a, b, c, m, gs, loss_rows, g1, h1, return_loss)
    loss = finish_loss(total, loss_rows, red, size, shape, rdt) if return_loss else None
    if not want_grad:
        return loss
    grads = finish_grads((g1, np.negative(g1)), shape, (x1.shape, x2.shape), outs, rdt)
    if return_hessian:
        hess, = finish_grads((h1,), shape, (x1.shape,), (hout,), rdt)
        return (loss, grads, hess) if return_loss else (grads, hess)
    return (loss, grads) if return_loss else grads


@_docs.fill
def multi_margin_loss(input, target, *, p=1, margin=1.0, weight=None, reduction="mean", return_grad=False,
                      grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    r"""Multi-class hinge loss, as torch.nn.functional.multi_margin_loss: for scores x (N, C) or
    (C,) and class targets t, sum over d != t of w[t] max(0, margin - x[t] + x[d])^p / C, p in
    {1, 2}, `weight` (C,) applied as torch's implementation applies it (w[t], outside the
    power); "mean" divides by N.  Targets outside [0, C) are an IndexError.  At
    margin - x[t] + x[d] = 0 the term and its gradient are 0 (torch); a NaN score gives NaN
    (torch skips such terms).  return_hessian=True adds the diagonal of the Hessian: 0 for p=1
    (piecewise linear); for p=2, 2 w[t] / C at each active d (margin - x[t] + x[d] > 0) and
    their sum at t (like cross_entropy's, the diagonal of a Hessian that is not diagonal).

    Parameters
    ----------
    %(input_nc)s
    target : array_like of int
        Class indices t in [0, C), of shape (N,) (0-d for (C,) input).
    p : {1, 2}, optional
        The power of the hinge terms (default 1).
    margin : float, optional
        The margin (default 1.0); any finite real number.
    weight : array_like, optional
        Class weights w of shape (C,) (default None: all 1).
    %(reduction_nc)s
    %(return_grad_input)s
    %(grad_out)s
    %(return_hessian_input)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_nc)s
    %(returns_grad_nc)s
    %(returns_hess_nc)s

    Raises
    ------
    TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_hessian, return_loss) is not a bool (``numpy.bool_``, 0 and 1 are
        accepted); if margin is not a real number (a bool, a string, None, a complex number or an
        array with elements); if grad_out or hess_out is not a numpy.ndarray or its dtype is not the
        result dtype; if target does not hold integers.
    ValueError
        If an argument cannot be converted to an array; if input is not 1-D or 2-D, or weight is not
        of shape (C,); if target's shape is not input's without the class axis; if p is not 1 or 2
        (a bool included); if reduction is not one of 'mean', 'sum' and 'none'; if margin is NaN or
        infinite; if return_loss=False is passed without return_grad=True or return_hessian=True; if
        grad_out is given without return_grad=True (or return_hessian=True), hess_out without
        return_hessian=True, or an output array has the wrong shape or is read-only; if hess_out
        overlaps grad_out.
    IndexError
        If a target is outside [0, C).

    Notes
    -----
    For a sample with scores x, target t, margin m and weight w,

    .. math::

        l = \frac{1}{C} \sum_{d \ne t} w_t \max(0, m - x_t + x_d)^p.

    The gradient is :math:`p \, w_t \max(0, m - x_t + x_d)^{p-1} / C` at each active d
    (m - x_t + x_d > 0) and minus their sum at t; at m - x_t + x_d = 0 the term and its gradient are 0
    (torch).  A NaN score gives NaN (torch skips such terms).  The Hessian diagonal is 0 for p = 1 and,
    for p = 2, 2 w_t / C at each active d and their sum at t.  'mean' scales the gradient and Hessian by
    1 / N as the loss.

    Examples
    --------
    >>> x, t = np.array([[0.1, 0.8, 0.3], [2.0, 0.0, 0.5]]), np.array([1, 0])
    >>> terms = np.maximum(0, 1.0 - x[np.arange(2), t][:, None] + x)
    >>> terms[np.arange(2), t] = 0
    >>> bool(np.isclose(cyloss.multi_margin_loss(x, t), np.mean(terms.sum(axis=1) / 3)))
    True
    """
    x, cdt, rdt, ax, c, w = _class_setup(input, -1, weight, "input")
    if x.ndim > 2:
        raise ValueError(f"input must be 1-D (C,) or 2-D (N, C), got shape {x.shape}")
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"p must be 1 or 2 (torch supports only these), got {p!r}")
    m = check_scalar(margin, "margin")
    red = check_reduction(reduction)
    tf, t_shape = _class_targets(plain(target, "target"), x, ax, c, "target", "input")
    want_grad, return_grad, return_hessian, return_loss = _flags(return_grad, return_hessian, grad_out, hess_out,
                                                                 x.shape, rdt, return_loss)
    xm = contiguous(x, cdt).reshape(-1, c) if x.ndim == 2 else contiguous(x, cdt).reshape(1, c)
    n = xm.shape[0]
    gs = 1.0 / n if red == "mean" and n else 1.0
    loss_rows = np.empty(n, dtype=cdt) if red == "none" else None
    direct = direct_out(grad_out, cdt, (xm, tf, w)) if grad_out is not None else None
    grad = (direct.reshape(n, c) if direct is not None else np.empty((n, c), dtype=cdt)) if want_grad else None
    hdirect = direct_out(hess_out, cdt, (xm, tf, w, grad)) if hess_out is not None else None
    hess = ((hdirect.reshape(n, c) if hdirect is not None else np.empty((n, c), dtype=cdt)) if return_hessian
            else None)
    try:
        total = _core.multi_margin(xm, tf, w, int(p), m, gs, loss_rows, grad, hess)
    except _core.KernelError as e:
        i = e.args[1]
        raise IndexError(f"target{position(i, t_shape)} = {int(tf[i])} is out of range for {c} classes "
                         f"(valid: 0..{c - 1})" if c else f"target{position(i, t_shape)}: input has no classes"
                         ) from None
    loss = finish_loss(total, loss_rows, red, n, t_shape, rdt)
    if want_grad:
        grad = finish_grad_rows(grad, direct, grad_out, x.shape, rdt)
    if return_hessian:
        hess = finish_grad_rows(hess, hdirect, hess_out, x.shape, rdt)
    return _finish(loss, grad, return_grad, hess, return_hessian, return_loss=return_loss)


_INT64_MAX = int(np.iinfo(np.int64).max)


@_docs.fill
def multilabel_margin_loss(input, target, *, reduction="mean", return_grad=False, grad_out=None, return_hessian=False,
                           hess_out=None, return_loss=True):
    r"""Multi-label hinge loss, as torch.nn.functional.multilabel_margin_loss: scores x (N, C) or
    (C,), target of the same shape holding each sample's class indices followed by -1 padding
    (entries after the first negative one are ignored, torch's layout); the loss is
    sum over listed targets j and non-target classes i of max(0, 1 - x[t_j] + x[i]) / C.
    Listed indices >= C are an IndexError; "mean" divides by N.  At 1 - x[t_j] + x[i] = 0 the
    term and its gradient are 0 (torch); a NaN score gives NaN (torch skips such terms).  The
    loss is piecewise linear: return_hessian=True adds its Hessian, 0 (also at a NaN score, as
    l1_loss's).

    Parameters
    ----------
    %(input_nc)s
    target : array_like of int
        Of input's shape: each sample's target class indices, then -1 padding (entries after the
        first negative one are ignored).
    %(reduction_nc)s
    %(return_grad_input)s
    %(grad_out)s
    %(return_hessian_input)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    %(returns_loss_nc)s
    %(returns_grad_nc)s
    %(returns_hess_nc)s

    Raises
    ------
    TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_hessian, return_loss) is not a bool (``numpy.bool_``, 0 and 1 are
        accepted); if grad_out or hess_out is not a numpy.ndarray or its dtype is not the result
        dtype; if target does not hold integers.
    ValueError
        If an argument cannot be converted to an array; if input is not 1-D or 2-D; if target's
        shape is not input's; if reduction is not one of 'mean', 'sum' and 'none'; if
        return_loss=False is passed without return_grad=True or return_hessian=True; if grad_out is
        given without return_grad=True (or return_hessian=True), hess_out without
        return_hessian=True, or an output array has the wrong shape or is read-only; if hess_out
        overlaps grad_out.
    IndexError
        If a listed target index is >= C.

    Notes
    -----
    For a sample with scores x and listed targets :math:`t_1, \ldots, t_k` (the set J), the sum runs
    over the listed targets j and the classes i not in J:

    .. math::

        l = \frac{1}{C} \sum_{j} \sum_{i \notin J} \max(0, 1 - x_{t_j} + x_i),

    with gradient 1 / C at i and -1 / C at t_j for each active term (1 - x_{t_j} + x_i > 0).  The
    Hessian is 0 everywhere (also at a NaN score, as l1_loss's).

    Examples
    --------
    >>> x = np.array([0.1, 0.2, 0.4, 0.8])
    >>> t = np.array([3, 0, -1, 1])  # targets 3 and 0; entries after the -1 are ignored
    >>> s = sum(max(0.0, 1 - x[j] + x[i]) for j in (3, 0) for i in (1, 2))
    >>> bool(np.isclose(cyloss.multilabel_margin_loss(x, t), s / 4))
    True
    """
    x = asarray(input, "input")
    if x.ndim not in (1, 2):
        raise ValueError(f"input must be 1-D (C,) or 2-D (N, C), got shape {x.shape}")
    t = plain(target, "target")
    if t.dtype.kind not in "iu":
        raise TypeError(f"target must hold integer class indices (-1 padded), got dtype {t.dtype}")
    if t.shape != x.shape:
        raise ValueError(f"target has shape {t.shape}, expected input's shape {x.shape}")
    if t.dtype == np.uint64 and t.size and t.max() > _INT64_MAX:
        t = np.minimum(t, _INT64_MAX)  # (beyond any class count: reported below as out of range)
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(x)
    want_grad, return_grad, return_hessian, return_loss = _flags(return_grad, return_hessian, grad_out, hess_out,
                                                                 x.shape, rdt, return_loss)
    c = x.shape[-1]
    xm = contiguous(x, cdt).reshape(-1, c)
    tm = contiguous(t, np.dtype(np.int64)).reshape(-1, c)
    n = xm.shape[0]
    gs = 1.0 / n if red == "mean" and n else 1.0
    loss_rows = np.empty(n, dtype=cdt) if red == "none" else None
    direct = direct_out(grad_out, cdt, (xm, tm)) if grad_out is not None else None
    grad = (direct.reshape(n, c) if direct is not None else np.empty((n, c), dtype=cdt)) if want_grad else None
    try:
        total = _core.multilabel_margin(xm, tm, gs, loss_rows, grad)
    except _core.KernelError as e:
        i = e.args[1]
        raise IndexError(f"target{position(i, t.shape)} = {int(tm.ravel()[i])} is out of range for {c} classes "
                         f"(valid: 0..{c - 1}, then -1 padding)") from None
    loss = finish_loss(total, loss_rows, red, n, x.shape[:-1], rdt)
    if want_grad:
        grad = finish_grad_rows(grad, direct, grad_out, x.shape, rdt)
    hess = None
    if return_hessian:  # piecewise linear: 0 (as l1_loss's, also at NaN)
        hess = np.zeros(x.shape, dtype=rdt) if hess_out is None else copy_into(hess_out, rdt.type(0))
    return _finish(loss, grad, return_grad, hess, return_hessian, return_loss=return_loss)
