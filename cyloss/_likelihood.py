"""Negative log-likelihood losses of torch.nn.functional: poisson_nll_loss and
gaussian_nll_loss (elementwise, input and target broadcast against each other as torch's
arithmetic does).  See cyloss._classification for the conventions of return_grad / grad_out."""
import numpy as np

from . import _core
from . import _docs
from ._validate import (_elementwise, _flags, asarray, broadcast_shape, broadcast_to, check_first_hess_out, check_flag,
                        check_grads_out,
                        check_reduction, check_scalar, contiguous, copy_into, finish_grads, finish_loss, float_dtypes,
                        position)

__all__ = ["poisson_nll_loss", "gaussian_nll_loss"]


@_docs.fill
def poisson_nll_loss(input, target, *, log_input=True, full=False, eps=1e-8, reduction="mean", return_grad=False,
                     grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    r"""Poisson negative log-likelihood, as torch.nn.functional.poisson_nll_loss:
    exp(x) - t x with log_input=True (x = log rate), else x - t log(x + eps); full=True adds
    Stirling's t log t - t + log(2 pi t) / 2 where t > 1.  Gradient exp(x) - t or
    1 - t / (x + eps), Hessian exp(x) or t / (x + eps)^2 (of the loss in x).

    Parameters
    ----------
    input : array_like
        x: the log rate (log_input=True) or the rate: a real numeric (bool, integer or float) array.
        Its dtype sets the compute and result dtypes (float32 and float64 kept, float16 computed in
        float32, others in float64).
    target : array_like
        Counts t, broadcast against `input` (torch's arithmetic broadcasting).
    log_input : bool, optional
        Whether `input` is the log of the rate (default True) or the rate itself.
    full : bool, optional
        Add Stirling's approximation of log(t!) (default False).
    eps : float, optional
        Added to the rate inside the log when log_input=False (default 1e-8); any finite number.
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
        (return_grad, return_hessian, return_loss, log_input, full) is not a bool (``numpy.bool_``,
        0 and 1 are accepted); if eps is not a real number (a bool, a string, None, a complex number
        or an array with elements); if grad_out or hess_out is not a numpy.ndarray or its dtype is
        not the result dtype.
    ValueError
        If an argument cannot be converted to an array; if input and target do not broadcast against
        each other; if reduction is not one of 'mean', 'sum' and 'none'; if eps is NaN or infinite;
        if return_loss=False is passed without return_grad=True or return_hessian=True; if grad_out
        is given without return_grad=True (or return_hessian=True), hess_out without
        return_hessian=True, or an output array has the wrong shape or is read-only; if hess_out
        overlaps grad_out.

    Notes
    -----
    Elementwise, with x = input and t = target,

    .. math::

        l = e^x - t x, \qquad \frac{\partial l}{\partial x} = e^x - t, \qquad
        \frac{\partial^2 l}{\partial x^2} = e^x \qquad \text{(log_input=True)},

        l = x - t \log(x + \epsilon), \qquad \frac{\partial l}{\partial x} = 1 - \frac{t}{x + \epsilon},
        \qquad \frac{\partial^2 l}{\partial x^2} = \frac{t}{(x + \epsilon)^2}
        \qquad \text{(log_input=False)}.

    full=True adds :math:`t \log t - t + \frac{1}{2} \log(2 \pi t)` where t > 1 (torch's
    masked_fill(t <= 1, 0): a NaN t keeps its NaN term); it does not change the gradient.  'mean'
    divides the sum of the losses, the gradient and the Hessian by the number of elements; a 'mean' over
    no elements is NaN.

    Examples
    --------
    >>> x, t = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.0, 4.0])
    >>> loss, grad = cyloss.poisson_nll_loss(x, t, return_grad=True)
    >>> bool(np.isclose(loss, np.mean(np.exp(x) - t * x))), bool(np.allclose(grad, (np.exp(x) - t) / 3))
    (True, True)
    >>> r = np.exp(x)
    >>> bool(np.isclose(cyloss.poisson_nll_loss(r, t, log_input=False), np.mean(r - t * np.log(r + 1e-8))))
    True
    """
    x = asarray(input, "input")
    t = asarray(target, "target")
    red = check_reduction(reduction)
    flags = (_core.NLL_LOG_INPUT if check_flag(log_input, "log_input") else 0)
    flags |= _core.NLL_FULL if check_flag(full, "full") else 0
    e = check_scalar(eps, "eps")
    cdt, rdt = float_dtypes(x)
    shape = broadcast_shape("input", x.shape, "target", t.shape)

    def kernel(a, b, gs, loss_rows, grad, hess, want_loss):
        return _core.poisson_nll(a, b, flags, e, gs, loss_rows, grad, hess, want_loss)

    return _elementwise(kernel, (), (x, cdt, rdt), t, shape, red, return_grad, grad_out, pred_shape=x.shape,
                        return_hessian=return_hessian, hess_out=hess_out, return_loss=return_loss)


def _var_shape(x_shape, v_shape):
    """var's shape for broadcasting against input, by torch's rules: input's shape; input's
    without its last dimension (var gets a trailing 1); or as many dimensions as input with the
    sizes of var's dimensions that differ from input's summing to 1 (one dimension of size 1)."""
    if v_shape == x_shape:
        return v_shape
    if x_shape[:-1] == v_shape and len(x_shape) >= 1:
        return v_shape + (1,)
    if len(v_shape) == len(x_shape) and sum(v for i, v in zip(x_shape, v_shape) if i != v) == 1:
        return v_shape
    raise ValueError(f"var of shape {v_shape} has an incorrect size for input of shape {x_shape}: it must have "
                     f"input's shape, input's shape without the last dimension, or input's with one "
                     f"dimension of size 1 (torch's rules)")


@_docs.fill
def gaussian_nll_loss(input, target, var, *, full=False, eps=1e-6, reduction="mean", return_grad=False,
                      grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    r"""Gaussian negative log-likelihood (log v + (x - t)^2 / v) / 2, v = max(var, eps), as
    torch.nn.functional.gaussian_nll_loss (full=True adds log(2 pi) / 2; var's shape by torch's
    rules; the clamp at eps passes no gradient, as torch's no_grad clamp).  A negative var is a
    ValueError.  return_grad=True returns (loss, (d/dinput, d/dvar)), d/dvar summed over the
    dimensions var is broadcast along; grad_out is None or a tuple of two arrays (or None entries).
    return_hessian=True returns (loss, (d/dinput, d/dvar), hess), hess the diagonal Hessian in
    input, 1 / v (scaled like the gradient, of input's shape); hess_out receives it.

    Parameters
    ----------
    input : array_like
        Means x: a real numeric (bool, integer or float) array.  Its dtype sets the compute and
        result dtypes (float32 and float64 kept, float16 computed in float32, others in float64).
    target : array_like
        Observations t, broadcast against `input`.
    var : array_like
        Variances, >= 0, of input's shape, of input's shape without the last dimension (then
        broadcast along it), or with as many dimensions as input and one dimension of size 1 where
        input's differ (torch's rules); broadcast against `input` and `target`.
    full : bool, optional
        Add the constant log(2 pi) / 2 to each loss (default False).
    eps : float, optional
        The lower clamp of var, eps >= 0 (default 1e-6).
    reduction : {'mean', 'sum', 'none'}, optional
        How the losses are reduced (default 'mean'): 'mean' averages the elementwise losses over the
        broadcast shape; 'sum' their sum; 'none' no reduction, the losses in the broadcast shape of
        input, target and var.
    %(return_grad_pair)s
    grad_out : tuple of numpy.ndarray or None, optional
        With return_grad=True (or return_hessian=True): a tuple of two arrays (or None entries), one
        per input (`input`, `var`) in that input's shape and the result dtype, that receive the
        gradients and are returned as them.  The entries must not overlap.  Default None.
    %(return_hessian_input)s
    %(hess_out)s
    %(return_loss)s

    Returns
    -------
    loss : numpy.floating or numpy.ndarray
        The loss: a NumPy scalar for 'mean' and 'sum'; for 'none' an array of the broadcast shape of
        input, target and var (a NumPy scalar when that shape is ()).  In the result dtype: input's
        dtype for float32 and float64, float16 for float16 (computed in float32), float64 for
        integer, bool and other inputs.  Returned alone by default.
    grads : tuple of numpy.ndarray
        With return_grad=True: (d(loss)/d(input), d(loss)/d(var)), of input's and var's shapes (each
        summed over the dimensions it is broadcast along) and the result dtype; for 'none' the
        gradients of loss.sum().  The grad_out entries when given.  The result is (loss, grads), or
        grads alone with return_loss=False.
    hess : numpy.ndarray
        With return_hessian=True: the diagonal of the Hessian in `input`, 1 / v, scaled like the
        gradient, of input's shape and the result dtype; hess_out when given.  The result is then
        (loss, grads, hess) whatever return_grad is, or (grads, hess) with return_loss=False.

    Raises
    ------
    TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_hessian, return_loss, full) is not a bool (``numpy.bool_``, 0 and 1 are
        accepted); if eps is not a real number (a bool, a string, None, a complex number or an array
        with elements); if grad_out is not None or a tuple with one entry per input; if an entry of
        grad_out or hess_out is not a numpy.ndarray or its dtype is not the result dtype.
    ValueError
        If an argument cannot be converted to an array; if var's shape does not follow torch's
        rules, or input, target and var do not broadcast against each other; if var has a negative
        entry; if eps is negative; if reduction is not one of 'mean', 'sum' and 'none'; if eps is
        NaN or infinite; if return_loss=False is passed without return_grad=True or
        return_hessian=True; if grad_out is given without return_grad=True (or return_hessian=True),
        hess_out without return_hessian=True, or an output array has the wrong shape or is
        read-only; if hess_out overlaps grad_out; if grad_out entries overlap each other.

    Notes
    -----
    Elementwise, with x = input, t = target, :math:`v = \max(\mathrm{var}, \epsilon)` and d = x - t,

    .. math::

        l = \frac{1}{2} \left(\log v + \frac{d^2}{v}\right), \qquad
        \frac{\partial l}{\partial x} = \frac{d}{v}, \qquad
        \frac{\partial l}{\partial \mathrm{var}} = \frac{1}{2} \left(\frac{1}{v} - \frac{d^2}{v^2}\right),
        \qquad \frac{\partial^2 l}{\partial x^2} = \frac{1}{v}.

    The clamp at eps passes no gradient (torch's no_grad clamp); a NaN var stays NaN.  'mean' divides
    the sum of the losses, the gradients and the Hessian by the number of elements; a 'mean' over no
    elements is NaN.

    Examples
    --------
    >>> x, t, var = np.array([1.0, 2.0]), np.array([1.5, 0.0]), np.array([0.5, 2.0])
    >>> loss, (gx, gv) = cyloss.gaussian_nll_loss(x, t, var, reduction="sum", return_grad=True)
    >>> bool(np.isclose(loss, np.sum(0.5 * (np.log(var) + (x - t) ** 2 / var))))
    True
    >>> d = x - t
    >>> bool(np.allclose(gx, d / var)), bool(np.allclose(gv, 0.5 * (1 / var - d ** 2 / var ** 2)))
    (True, True)
    """
    x = asarray(input, "input")
    t = asarray(target, "target")
    v = asarray(var, "var")
    red = check_reduction(reduction)
    full_ = check_flag(full, "full")
    e = check_scalar(eps, "eps")
    if not e >= 0:
        raise ValueError(f"eps must be >= 0, got {eps!r}")
    cdt, rdt = float_dtypes(x)
    v_shape = _var_shape(x.shape, v.shape)
    shape = broadcast_shape("input", x.shape, "target", t.shape)
    shape = broadcast_shape("input and target", shape, "var", v_shape)
    if v.size and np.any(v < 0):
        i = int(np.argmax((v < 0).ravel()))
        raise ValueError(f"var{position(i, v.shape)} = {v.ravel()[i]} is negative")
    want_grad, return_grad, return_hessian, return_loss = _flags(return_grad, return_hessian, None, None, shape, rdt,
                                                                 return_loss)
    outs = check_grads_out(grad_out, want_grad, (x.shape, v.shape), rdt, ("input", "var"))
    hout = check_first_hess_out(hess_out, return_hessian, x.shape, rdt, outs)
    a = contiguous(np.broadcast_to(x, shape), cdt).reshape(-1)
    b = contiguous(np.broadcast_to(t, shape), cdt).reshape(-1)
    c = contiguous(broadcast_to(v.reshape(v_shape), shape, "var", "the loss's"), cdt).reshape(-1)
    size = a.shape[0]
    gs = 1.0 / size if red == "mean" and size else 1.0
    loss_rows = np.empty(size, dtype=cdt) if red == "none" and return_loss else None
    g = np.empty(size, dtype=cdt) if want_grad else None
    gv = np.empty(size, dtype=cdt) if want_grad else None
    h = np.empty(size, dtype=cdt) if return_hessian else None
    total = _core.gaussian_nll(a, b, c, _core.NLL_FULL if full_ else 0, e, gs, loss_rows, g, gv, h, return_loss)
    loss = finish_loss(total, loss_rows, red, size, shape, rdt) if return_loss else None
    if not want_grad:
        return loss
    gx, gvar = finish_grads((g, gv), shape, (x.shape, v_shape), (outs[0], None), rdt)
    gvar = gvar.reshape(v.shape)
    if outs[1] is not None:
        gvar = copy_into(outs[1], gvar)
    if return_hessian:
        hess, = finish_grads((h,), shape, (x.shape,), (hout,), rdt)
        return (loss, (gx, gvar), hess) if return_loss else ((gx, gvar), hess)
    return (loss, (gx, gvar)) if return_loss else (gx, gvar)
