"""Margin losses of torch.nn.functional: soft_margin_loss, hinge_embedding_loss,
margin_ranking_loss (elementwise, inputs broadcast against each other as torch's
arithmetic does; gradients summed back to each input's shape) and multi_margin_loss (rows
of class scores with class targets).  See
cyloss._classification for the conventions of return_grad / grad_out."""
import numpy as np

from . import _core
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


def soft_margin_loss(input, target, *, reduction="mean", return_grad=False, grad_out=None, return_hessian=False,
                     hess_out=None, return_loss=True):
    """log(1 + exp(-y x)), y = target (torch expects +-1; any value is used as given), as
    torch.nn.functional.soft_margin_loss; computed as softplus(-y x), finite where torch's
    log1p(exp(-y x)) overflows to inf (-y x > 88 in float32).  Gradient -y sigmoid(-y x),
    Hessian y^2 sigmoid(-y x) sigmoid(y x)."""
    return _margin(_core.SOFT_MARGIN, 0.0, input, target, reduction, return_grad, grad_out, return_hessian,
                   hess_out, return_loss)


def hinge_embedding_loss(input, target, *, margin=1.0, reduction="mean", return_grad=False, grad_out=None,
                         return_hessian=False, hess_out=None, return_loss=True):
    """x where y == 1, max(0, margin - x) where y == -1, as torch.nn.functional.hinge_embedding_loss
    (torch's where() form: a target other than +-1 gets both terms, x + max(0, margin - x); torch
    does not check y and neither does cyloss).  Gradient 1 / -[margin - x >= 0] (torch passes
    the gradient at margin - x = 0); the loss is piecewise linear: Hessian 0."""
    m = check_scalar(margin, "margin")
    return _margin(_core.HINGE_EMBEDDING, m, input, target, reduction, return_grad, grad_out, return_hessian,
                   hess_out, return_loss)


def margin_ranking_loss(input1, input2, target, *, margin=0.0, reduction="mean", return_grad=False, grad_out=None,
                        return_hessian=False, hess_out=None, return_loss=True):
    """max(0, -y (x1 - x2) + margin), as torch.nn.functional.margin_ranking_loss (y expected in
    {1, -1}; torch does not check it and neither does cyloss: any y is used as given).  The
    three arrays must have the same number of dimensions (torch's rule) and broadcast against
    each other.  return_grad=True returns (loss, (d/dinput1, d/dinput2)); grad_out is None or
    a tuple of two arrays (or None entries) receiving them.  The loss is piecewise linear:
    return_hessian=True returns (loss, (d/dinput1, d/dinput2), hess) with hess the diagonal
    Hessian in input1 (of input1's shape), 0; hess_out receives it."""
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


def multi_margin_loss(input, target, *, p=1, margin=1.0, weight=None, reduction="mean", return_grad=False,
                      grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    """Multi-class hinge loss, as torch.nn.functional.multi_margin_loss: for scores x (N, C) or
    (C,) and class targets t, sum over d != t of w[t] max(0, margin - x[t] + x[d])^p / C, p in
    {1, 2}, `weight` (C,) applied as torch's implementation applies it (w[t], outside the
    power); "mean" divides by N.  Targets outside [0, C) are an IndexError.  At
    margin - x[t] + x[d] = 0 the term and its gradient are 0 (torch); a NaN score gives NaN
    (torch skips such terms).  return_hessian=True adds the diagonal of the Hessian: 0 for p=1
    (piecewise linear); for p=2, 2 w[t] / C at each active d (margin - x[t] + x[d] > 0) and
    their sum at t (like cross_entropy's, the diagonal of a Hessian that is not diagonal)."""
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


def multilabel_margin_loss(input, target, *, reduction="mean", return_grad=False, grad_out=None, return_hessian=False,
                           hess_out=None, return_loss=True):
    """Multi-label hinge loss, as torch.nn.functional.multilabel_margin_loss: scores x (N, C) or
    (C,), target of the same shape holding each sample's class indices followed by -1 padding
    (entries after the first negative one are ignored, torch's layout); the loss is
    sum over listed targets j and non-target classes i of max(0, 1 - x[t_j] + x[i]) / C.
    Listed indices >= C are an IndexError; "mean" divides by N.  At 1 - x[t_j] + x[i] = 0 the
    term and its gradient are 0 (torch); a NaN score gives NaN (torch skips such terms).  The
    loss is piecewise linear: return_hessian=True adds its Hessian, 0 (also at a NaN score, as
    l1_loss's)."""
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
