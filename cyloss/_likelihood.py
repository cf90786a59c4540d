"""Negative log-likelihood losses of torch.nn.functional: poisson_nll_loss and
gaussian_nll_loss (elementwise, input and target broadcast against each other as torch's
arithmetic does).  See cyloss._classification for the conventions of return_grad / grad_out."""
import numpy as np

from . import _core
from ._validate import (_elementwise, _flags, asarray, broadcast_shape, broadcast_to, check_first_hess_out, check_flag,
                        check_grads_out,
                        check_reduction, check_scalar, contiguous, copy_into, finish_grads, finish_loss, float_dtypes,
                        position)

__all__ = ["poisson_nll_loss", "gaussian_nll_loss"]


def poisson_nll_loss(input, target, *, log_input=True, full=False, eps=1e-8, reduction="mean", return_grad=False,
                     grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    """Poisson negative log-likelihood, as torch.nn.functional.poisson_nll_loss:
    exp(x) - t x with log_input=True (x = log rate), else x - t log(x + eps); full=True adds
    Stirling's t log t - t + log(2 pi t) / 2 where t > 1.  Gradient exp(x) - t or
    1 - t / (x + eps), Hessian exp(x) or t / (x + eps)^2 (of the loss in x)."""
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


def gaussian_nll_loss(input, target, var, *, full=False, eps=1e-6, reduction="mean", return_grad=False,
                      grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    """Gaussian negative log-likelihood (log v + (x - t)^2 / v) / 2, v = max(var, eps), as
    torch.nn.functional.gaussian_nll_loss (full=True adds log(2 pi) / 2; var's shape by torch's
    rules; the clamp at eps passes no gradient, as torch's no_grad clamp).  A negative var is a
    ValueError.  return_grad=True returns (loss, (d/dinput, d/dvar)), d/dvar summed over the
    dimensions var is broadcast along; grad_out is None or a tuple of two arrays (or None entries).
    return_hessian=True returns (loss, (d/dinput, d/dvar), hess), hess the diagonal Hessian in
    input, 1 / v (scaled like the gradient, of input's shape); hess_out receives it."""
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
