"""Classification losses over a class axis: cross-entropy (class and probability targets),
NLL, and the entropy of a distribution.

Loss functions with optional gradients (torch.nn.functional semantics).

Every loss returns the loss, or (loss, grad) with return_grad=True, where grad is
d(loss)/d(first argument) with that argument's shape and float dtype (for
reduction="none": the gradient of loss.sum()).  grad_out= (with return_grad=True) is an
array of that shape and dtype that receives the gradient and is returned as grad: the
kernel writes straight into it when it can (C-contiguous, aligned, the compute dtype, no
overlap with what the kernel reads), else through a temporary.  Loss and gradient come
from one kernel call.  Reductions accumulate in float64.
"""
import math
import operator

import numpy as np

from . import _core
from . import _docs
from ._validate import (_finish, _finish_grad, _flags, _grad_buffer, _mean_scale, _scalar, asarray, cast_result,
                        check_reduction, check_scalar, contiguous, copy_into, direct_out, float_dtypes, norm_axis,
                        plain, position, rows)

__all__ = ["cross_entropy", "nll_loss", "entropy"]

_INT64_MAX = int(np.iinfo(np.int64).max)
_INT64_MIN = int(np.iinfo(np.int64).min)


def _class_setup(logits, axis, weight, name):
    x = asarray(logits, name)
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (the class axis)")
    cdt, rdt = float_dtypes(x)
    ax = norm_axis(axis, x.ndim)
    c = x.shape[ax]
    w = None
    if weight is not None:
        w = asarray(weight, "weight")
        if w.shape != (c,):
            raise ValueError(f"weight must be a 1-D array of length {c} (one per class), got shape {w.shape}")
        w = contiguous(w, cdt)
    return x, cdt, rdt, ax, c, w


def _class_targets(target, x, ax, c, name, x_name="logits", axis=None):
    """Integer targets as a flat int64 array, checked against the shape of `x` (named `x_name`,
    class axis `ax`, normalised from the caller's `axis`)."""
    t = np.asarray(target) if not isinstance(target, np.ndarray) else target
    expected = x.shape[:ax] + x.shape[ax + 1:]
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class indices, got dtype {t.dtype}")
    if t.shape != expected:
        msg = (f"{name} has shape {t.shape}, expected {expected} (the {x_name}' shape without the class "
               f"axis {ax if axis is None else operator.index(axis)})")
        if ax != 1 and x.ndim >= 2 and t.shape == x.shape[:1] + x.shape[2:]:
            msg += "; for torch's (N, C, ...) layout pass axis=1"
        raise ValueError(msg)
    if t.dtype == np.uint64 and t.size and t.max() > _INT64_MAX:
        i = int(np.argmax(t > _INT64_MAX))
        raise IndexError(f"{name}{position(i, t.shape)} = {t.ravel()[i]} is out of range for {c} classes")
    return contiguous(t, np.dtype(np.int64)).reshape(-1), t.shape


def _target_error(e, t_flat, t_shape, c, ignore_index):
    i = e.args[1]
    valid = f"0..{c - 1}, or ignore_index={ignore_index}" if c else f"only ignore_index={ignore_index}"
    return IndexError(f"target{position(i, t_shape)} = {int(t_flat[i])} is out of range for {c} classes "
                      f"(valid: {valid})")


def _check_ignore_index(ignore_index):
    try:
        if isinstance(ignore_index, bool):  # operator.index(True) is 1
            raise TypeError
        ignore = operator.index(ignore_index)
    except TypeError:
        raise TypeError(f"ignore_index must be an integer, got {ignore_index!r}") from None
    if not _INT64_MIN <= ignore <= _INT64_MAX:
        raise ValueError(f"ignore_index must fit in int64, got {ignore_index!r}")
    return ignore


@_docs.fill
def cross_entropy(logits, target, *, axis=-1, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0, return_grad=False, grad_out=None, return_hessian=False, hess_out=None,
                  return_loss=True):
    r"""Cross-entropy between logits and class targets or class probabilities.

    As torch.nn.functional.cross_entropy with the class axis `axis` (torch's (N, C, d1, ...)
    layout is axis=1): integer `target` of the logits' shape without the class axis, or
    float probabilities of the logits' shape; per-class `weight`, `ignore_index`,
    `label_smoothing` in [0, 1]; reduction "mean" divides by the summed weights of the kept
    samples (class targets) or the number of samples (probability targets).  With
    return_grad=True, `grad_out` (the logits' shape and result dtype) receives the gradient.
    return_hessian=True returns (loss, grad, hess), hess the diagonal of each sample's Hessian
    over its logits, A p (1 - p) with A the sample's total target weight (as the gradient:
    weights, ignore_index, label smoothing, the reduction's scale); `hess_out` receives it.

    Parameters
    ----------
    logits : array_like
        Real unnormalised scores with a class axis of length C (bool, integer or float).
    target : array_like
        Integer class indices in [0, C) (or ignore_index), of the logits' shape without the
        class axis; or float class probabilities of the logits' shape.
    axis : int, optional
        Keyword only. The class axis of logits; default -1 (torch's (N, C, d1, ...) layout
        is axis=1).
    %(weight_kw)s
    %(ignore_index)s
    %(reduction_kw)s
    label_smoothing : float, optional
        Keyword only. A number in [0, 1]: the target distribution is mixed with the uniform
        one, q = (1 - label_smoothing) q + label_smoothing / C; default 0.0.
    %(return_grad_kw)s
    grad_out : numpy.ndarray, optional
        Keyword only. With return_grad=True (or return_hessian=True), an array of the logits'
        shape and the result dtype that receives the gradient and is returned as grad; the
        kernel writes straight into it when it can (C-contiguous, aligned, the compute
        dtype, no overlap with what the kernel reads), else through a temporary; default
        None.
    %(return_hessian_kw)s
    hess_out : numpy.ndarray, optional
        Keyword only. With return_hessian=True, an array of the logits' shape and the result
        dtype (separate from grad_out) that receives the Hessian's diagonal; default None.
    %(return_loss_kw)s

    Returns
    -------
    loss : numpy scalar or numpy.ndarray
        The loss in the result dtype (the logits' dtype for float32 / float64, float16 for
        float16, float64 for other input): a NumPy scalar for reduction "mean" / "sum"
        (computed in float64), an array of the target's shape (the logits' shape without the
        class axis) for "none" (a NumPy scalar when that shape is ()).
    grad : numpy.ndarray
        With return_grad=True, as ``(loss, grad)``: d(loss)/d(logits) (for reduction="none"
        the gradient of loss.sum()), of the logits' shape and the result dtype; `grad_out`
        itself when given.
    hess : numpy.ndarray
        With return_hessian=True, as ``(loss, grad, hess)`` (return_grad is then implied):
        the Hessian's diagonal, of the logits' shape and the result dtype; `hess_out` itself
        when given.

    %(returns_no_loss)s

    Raises
    ------
    TypeError
        If logits (or weight) is not a real numeric array (complex, string, object dtype, a
        masked array), target does not hold integer class indices or float probabilities,
        axis or ignore_index is not an integer, label_smoothing is not a real number,
        reduction is not a string, a return_* flag is not a bool (True, False, 0 or 1), or
        grad_out / hess_out is not a numpy.ndarray or has the wrong dtype.
    ValueError
        If logits is 0-d (it needs a class axis), target's shape is not the logits' shape
        without the class axis (integer targets) or the logits' shape (float targets),
        label_smoothing is not finite or not in [0, 1], weight is not of shape (C,),
        reduction is not "mean", "sum" or "none", ignore_index does not fit in int64,
        grad_out is given without return_grad=True (or return_hessian=True), hess_out
        without return_hessian=True, hess_out overlaps grad_out, an out array has the wrong
        shape or is read-only, or return_loss=False leaves nothing to return.
    numpy.exceptions.AxisError
        If axis is out of range for logits (a subclass of ValueError and IndexError).
    %(raises_index)s

    Notes
    -----
    With :math:`p = \mathrm{softmax}(x)` over the class axis of a sample, :math:`q` its
    target distribution (the one-hot vector of an integer target, or the given
    probabilities), after label smoothing :math:`q' = (1 - \varepsilon) q + \varepsilon / C`,
    and :math:`w` the class weights, the sample's loss, gradient and Hessian diagonal are

    .. math::

        \ell = -\sum_c w_c q'_c \log p_c, \qquad
        \frac{\partial \ell}{\partial x_c} = A p_c - w_c q'_c, \qquad
        \frac{\partial^2 \ell}{\partial x_c^2} = A p_c (1 - p_c), \qquad
        A = \sum_c w_c q'_c.

    Samples whose integer target is ignore_index contribute 0. "mean" divides the sum by
    :math:`\sum_i w_{t_i}` over the kept samples (integer targets; torch's 0/0 gives a NaN
    loss when that is 0, with a zero gradient if every sample is ignored) or by the number
    of samples (probability targets); the gradient and Hessian carry the same scale.
    Reductions accumulate in float64; log-softmax is computed stably (max-shifted).

    Examples
    --------
    >>> x = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3]])
    >>> t = np.array([0, 1])
    >>> p = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    >>> loss, grad = cyloss.cross_entropy(x, t, return_grad=True)
    >>> bool(np.isclose(loss, -np.log(p[[0, 1], t]).mean())), np.allclose(grad, (p - np.eye(3)[t]) / 2)
    (True, True)
    >>> round(float(cyloss.cross_entropy(np.zeros((1, 2)), np.array([0]))), 4)  # log(2)
    0.6931
    """
    # Fast path for the common call; the type tests keep True == 1, False == 0.0, arrays and
    # truthy strings ("no") out of it: they take the checked path below.
    if (weight is None and type(label_smoothing) is float and label_smoothing == 0.0 and type(axis) is int
            and axis == -1 and type(ignore_index) is int and (return_grad is False or return_grad is True)
            and return_hessian is False and hess_out is None and return_loss is True
            and type(reduction) is str and (reduction == "mean" or reduction == "sum")):
        r = _core.cross_entropy_fast(logits, target, _check_ignore_index(ignore_index), reduction == "mean",
                                     return_grad, grad_out)
        if r is not None:
            return r
    x, cdt, rdt, ax, c, w = _class_setup(logits, axis, weight, "logits")
    red = check_reduction(reduction)
    eps = check_scalar(label_smoothing, "label_smoothing")
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
    ignore = _check_ignore_index(ignore_index)
    t = plain(target, "target")
    if t.dtype.kind == "f" or (t.dtype.kind not in "iu" and t.shape == x.shape):
        p = asarray(t, "target")
        if p.shape != x.shape:
            raise ValueError(f"target: float targets are class probabilities and must have the shape of "
                             f"logits {x.shape}, got {p.shape}; class indices must be integers")
        return _cross_entropy_prob(x, p, cdt, rdt, ax, c, w, red, eps, return_grad, grad_out, return_hessian,
                                   hess_out, return_loss)
    if t.dtype.kind not in "iu":
        asarray(t, "target")  # complex / object / string -> TypeError naming target
        raise TypeError(f"target must hold integer class indices or float probabilities, got dtype {t.dtype}")
    tf, t_shape = _class_targets(t, x, ax, c, "target", "logits", axis)
    xm, moved_shape = rows(x, ax, cdt)
    return _class_loss(_core.cross_entropy, (ignore, eps), x, xm, moved_shape, tf, t_shape, w, cdt, rdt,
                       ax, c, red, ignore, return_grad, grad_out, return_hessian, hess_out, return_loss=return_loss)


@_docs.fill
def nll_loss(log_probs, target, *, axis=-1, weight=None, ignore_index=-100, reduction="mean",
             return_grad=False, grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    r"""Negative log-likelihood -weight[t] * log_probs[t], as torch.nn.functional.nll_loss
    (linear in log_probs: return_hessian=True gives a Hessian of zeros).

    Parameters
    ----------
    log_probs : array_like
        Real log-probabilities (e.g. log_softmax output) with a class axis of length C.
    target : array_like
        Integer class indices in [0, C) (or ignore_index), of log_probs' shape without the
        class axis.
    axis : int, optional
        Keyword only. The class axis of log_probs; default -1 (torch's (N, C, d1, ...) layout
        is axis=1).
    %(weight_kw)s
    %(ignore_index)s
    %(reduction_kw)s
    %(return_grad_kw)s
    grad_out : numpy.ndarray, optional
        Keyword only. With return_grad=True (or return_hessian=True), an array of log_probs'
        shape and the result dtype that receives the gradient and is returned as grad; the
        kernel writes straight into it when it can (C-contiguous, aligned, the compute
        dtype, no overlap with what the kernel reads), else through a temporary; default
        None.
    %(return_hessian_kw)s
    hess_out : numpy.ndarray, optional
        Keyword only. With return_hessian=True, an array of log_probs' shape and the result
        dtype (separate from grad_out) that receives the Hessian's diagonal; default None.
    %(return_loss_kw)s

    Returns
    -------
    loss : numpy scalar or numpy.ndarray
        The loss in the result dtype (log_probs' dtype for float32 / float64, float16 for
        float16, float64 for other input): a NumPy scalar for reduction "mean" / "sum"
        (computed in float64), an array of the target's shape (log_probs' shape without the
        class axis) for "none" (a NumPy scalar when that shape is ()).
    grad : numpy.ndarray
        With return_grad=True, as ``(loss, grad)``: d(loss)/d(log_probs) (for reduction="none"
        the gradient of loss.sum()), of log_probs' shape and the result dtype; `grad_out`
        itself when given.
    hess : numpy.ndarray
        With return_hessian=True, as ``(loss, grad, hess)`` (return_grad is then implied):
        the Hessian's diagonal (all zeros), of log_probs' shape and the result dtype; `hess_out` itself
        when given.

    %(returns_no_loss)s

    Raises
    ------
    TypeError
        If log_probs (or weight) is not a real numeric array (complex, string, object dtype, a
        masked array), target does not hold integer class indices, axis or
        ignore_index is not an integer, reduction is not a string, a return_* flag is not a
        bool (True, False, 0 or 1), or grad_out / hess_out is not a numpy.ndarray or has the
        wrong dtype.
    ValueError
        If log_probs is 0-d (it needs a class axis), target's shape is not log_probs' shape
        without the class axis, weight is not of shape (C,), reduction is not
        "mean", "sum" or "none", ignore_index does not fit in int64, grad_out is given
        without return_grad=True (or return_hessian=True), hess_out without
        return_hessian=True, hess_out overlaps grad_out, an out array has the wrong shape or
        is read-only, or return_loss=False leaves nothing to return.
    numpy.exceptions.AxisError
        If axis is out of range for log_probs (a subclass of ValueError and IndexError).
    %(raises_index)s

    Notes
    -----
    For a sample with integer target t (not ignore_index) and class weights w,

    .. math:: \ell = -w_t \, \mathrm{log\_probs}_t, \qquad
              \frac{\partial \ell}{\partial \mathrm{log\_probs}_c} = -w_t \, [c = t],

    and the Hessian is zero. Ignored samples contribute 0; "mean" divides by
    :math:`\sum_i w_{t_i}` over the kept samples (torch's 0/0 gives a NaN loss when that is
    0), the gradient carries the same scale. Reductions accumulate in float64.

    Examples
    --------
    >>> log_probs = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]]))
    >>> loss, grad = cyloss.nll_loss(log_probs, np.array([0, 2]), reduction="sum", return_grad=True)
    >>> bool(np.isclose(loss, -np.log(0.5) - np.log(0.8))), np.array_equal(grad, [[-1, 0, 0], [0, 0, -1]])
    (True, True)
    """
    # Fast path for the common call (as cross_entropy's).
    if (weight is None and type(axis) is int and axis == -1 and type(ignore_index) is int
            and (return_grad is False or return_grad is True) and return_hessian is False and hess_out is None
            and return_loss is True and type(reduction) is str and (reduction == "mean" or reduction == "sum")):
        r = _core.nll_loss_fast(log_probs, target, _check_ignore_index(ignore_index), reduction == "mean",
                                return_grad, grad_out)
        if r is not None:
            return r
    x, cdt, rdt, ax, c, w = _class_setup(log_probs, axis, weight, "log_probs")
    red = check_reduction(reduction)
    ignore = _check_ignore_index(ignore_index)
    tf, t_shape = _class_targets(plain(target, "target"), x, ax, c, "target", "log_probs", axis)
    xm, moved_shape = rows(x, ax, cdt)
    return _class_loss(_core.nll_loss, (ignore,), x, xm, moved_shape, tf, t_shape, w, cdt, rdt,
                       ax, c, red, ignore, return_grad, grad_out, return_hessian, hess_out, zero_hessian=True,
                       return_loss=return_loss)


def _class_loss(kernel, params, x, xm, moved_shape, tf, t_shape, w, cdt, rdt, ax, c, red, ignore, return_grad,
                grad_out, return_hessian=False, hess_out=None, zero_hessian=False, return_loss=True):
    want_grad, return_grad, return_hessian, return_loss = _flags(return_grad, return_hessian, grad_out, hess_out,
                                                                 x.shape, rdt, return_loss)
    direct = hdirect = None
    if ax == x.ndim - 1:  # (else the class axis moves: through a temporary)
        if grad_out is not None:
            direct = direct_out(grad_out, cdt, (xm, tf, w))
        if hess_out is not None and not zero_hessian:
            hdirect = direct_out(hess_out, cdt, (xm, tf, w) + ((direct,) if direct is not None else ()))
    n = xm.shape[0]
    loss_scale = grad_scale = 1.0
    if red == "mean":
        try:
            wsum = _core.class_weight_sum(tf, w, c, ignore, cdt.type(0))
        except _core.KernelError as e:
            raise _target_error(e, tf, t_shape, c, ignore) from None
        if wsum != 0:
            loss_scale = grad_scale = 1.0 / wsum
        else:
            # torch: 0/0 loss; gradient zero if every sample is ignored, NaN on kept rows otherwise
            loss_scale = math.nan
            grad_scale = math.nan if np.any(tf != ignore) else 0.0
    loss_rows = np.empty(n, dtype=cdt) if red == "none" else None
    grad = _grad_buffer(direct, (n, c), cdt) if want_grad else None
    hess = None
    if return_hessian and not zero_hessian:
        hess = _grad_buffer(hdirect, (n, c), cdt)
    try:
        if hess is not None:
            total = kernel(xm, tf, w, *params, grad_scale, loss_rows, grad, hess)
        else:
            total = kernel(xm, tf, w, *params, grad_scale, loss_rows, grad)
    except _core.KernelError as e:
        raise _target_error(e, tf, t_shape, c, ignore) from None
    if red == "none":
        loss = cast_result(loss_rows.reshape(t_shape), rdt)
        loss = loss[()] if loss.ndim == 0 else loss
    else:
        loss = _scalar(total * loss_scale if red == "mean" else total, rdt)
    if want_grad:
        grad = _finish_grad(grad, grad_out, direct, moved_shape, ax, x.ndim, rdt)
    if return_hessian:
        if zero_hessian:  # linear loss
            hess = np.zeros(x.shape, dtype=rdt) if hess_out is None else copy_into(hess_out, 0)
        else:
            hess = _finish_grad(hess, hess_out, hdirect, moved_shape, ax, x.ndim, rdt)
    return _finish(loss, grad, return_grad, hess, return_hessian, return_loss)


def _cross_entropy_prob(x, p, cdt, rdt, ax, c, w, red, eps, return_grad, grad_out, return_hessian, hess_out,
                       return_loss=True):
    want_grad, return_grad, return_hessian, return_loss = _flags(return_grad, return_hessian, grad_out, hess_out,
                                                                 x.shape, rdt, return_loss)
    xm, moved_shape = rows(x, ax, cdt)
    pm, _ = rows(p, ax, cdt)
    n = xm.shape[0]
    direct = hdirect = None
    if ax == x.ndim - 1:
        if grad_out is not None:
            direct = direct_out(grad_out, cdt, (xm, pm, w))
        if hess_out is not None:
            hdirect = direct_out(hess_out, cdt, (xm, pm, w) + ((direct,) if direct is not None else ()))
    loss_scale, grad_scale = _mean_scale(n) if red == "mean" else (1.0, 1.0)
    loss_rows = np.empty(n, dtype=cdt) if red == "none" else None
    grad = _grad_buffer(direct, (n, c), cdt) if want_grad else None
    hess = _grad_buffer(hdirect, (n, c), cdt) if return_hessian else None
    total = _core.cross_entropy_prob(xm, pm, w, eps, grad_scale, loss_rows, grad, hess)
    if red == "none":
        loss = cast_result(loss_rows.reshape(moved_shape[:-1]), rdt)
        loss = loss[()] if loss.ndim == 0 else loss
    else:
        loss = _scalar(total * loss_scale if red == "mean" else total, rdt)
    if want_grad:
        grad = _finish_grad(grad, grad_out, direct, moved_shape, ax, x.ndim, rdt)
    if return_hessian:
        hess = _finish_grad(hess, hess_out, hdirect, moved_shape, ax, x.ndim, rdt)
    return _finish(loss, grad, return_grad, hess, return_hessian, return_loss)


def entropy(p, axis=-1):
    r"""-sum(p * log(p)) along `axis`, with 0 log 0 = 0 (p is not normalised).

    Parameters
    ----------
    p : array_like
        Real probabilities (bool, integer or float; a 0-d input is one row of length 1).
    axis : int, optional
        The axis to sum over; default -1 (the last axis).

    Returns
    -------
    numpy.ndarray or numpy scalar
        The entropy of each row, of p's shape without `axis`, in p's dtype for float32 /
        float64, float16 for float16, float64 for other input; a NumPy scalar when that
        shape is ().

    Raises
    ------
    TypeError
        If p is not a real numeric array (complex, string, object dtype, a masked array) or
        axis is not an integer.
    numpy.exceptions.AxisError
        If axis is out of range for p (a subclass of ValueError and IndexError).

    Notes
    -----
    .. math:: H(p) = -\sum_i p_i \log p_i, \qquad 0 \log 0 = 0.

    Examples
    --------
    >>> round(float(cyloss.entropy(np.array([0.5, 0.5]))), 4)  # log(2)
    0.6931
    >>> p = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
    >>> np.allclose(cyloss.entropy(p), [-(p[0] * np.log(p[0])).sum(), 0.0])
    True
    """
    a = asarray(p, "p")
    cdt, rdt = float_dtypes(a)
    if a.ndim == 0:
        norm_axis(axis, 1)
        a = a.reshape(1)
    ax = norm_axis(axis, a.ndim)
    pm, moved_shape = rows(a, ax, cdt)
    res = np.empty(pm.shape[0], dtype=cdt)
    _core.entropy(pm, res)
    res = cast_result(res.reshape(moved_shape[:-1]), rdt)
    return res[()] if res.ndim == 0 else res
