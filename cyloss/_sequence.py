"""Sequence losses, torch.nn.functional semantics: ctc_loss.
See cyloss._classification for the conventions of return_grad / grad_out."""
import numpy as np

from . import _core
from . import _docs
from ._validate import (_finish, _flags, _scalar, asarray, cast_result, check_flag, check_reduction, contiguous,
                        copy_into, float_dtypes, plain, position)

__all__ = ["ctc_loss"]

_I64 = np.dtype(np.int64)
_INT64_MAX = int(np.iinfo(np.int64).max)


def _int_array(a, name):
    """An integer array (any integer dtype; lists and tuples of ints) as int64, or TypeError."""
    arr = plain(a, name)
    if arr.dtype.kind not in "iu":
        if arr.size == 0 and arr.dtype.kind == "f" and not isinstance(a, np.ndarray):
            arr = arr.astype(_I64)  # [] is float64 to NumPy
        else:
            raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    if arr.dtype == np.uint64 and arr.size and arr.max() > _INT64_MAX:
        i = int(np.argmax(arr.ravel() > _INT64_MAX))
        raise ValueError(f"{name}{position(i, arr.shape)} = {arr.ravel()[i]} does not fit in int64")
    return contiguous(arr, _I64)


def _lengths(a, name, n, unbatched):
    arr = _int_array(a, name)
    want = "() or (1,)" if unbatched else f"({n},)"
    if (arr.shape not in ((), (1,))) if unbatched else arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}, expected {want} (one length per sample)")
    return arr.reshape(-1)


@_docs.fill
def ctc_loss(log_probs, targets, input_lengths, target_lengths, *, blank=0, reduction="mean", zero_infinity=False,
             return_grad=False, grad_out=None, return_loss=True):
    r"""Connectionist temporal classification loss, as torch.nn.functional.ctc_loss:
    log_probs (T, N, C) (or (T, C) for one unbatched sequence) holds log-probabilities over C
    classes (class `blank` the blank), targets are padded (N, S) (or (S,) unbatched; entries
    after each target length are ignored) or concatenated 1-D of length sum(target_lengths),
    input_lengths / target_lengths (N,) (0-d or (1,) unbatched) of any integer type.  The loss
    of a sample is -log of the total probability of the alignments of its labels (inf when
    none exists: the input is too short; 0 instead with zero_infinity=True).  "mean" divides
    each loss by its target length (at least 1) and averages over the batch; "sum" adds; "none"
    gives (N,) (or ()).  return_grad=True also returns the gradient with respect to log_probs
    as torch's autograd gives it: exp(log_probs) - occupancy, i.e. the gradient assuming
    log_probs = log_softmax(logits) (torch's kernel), 0 beyond each input length, NaN rows for
    an infinite loss without zero_infinity (torch).  Computed in float64 by a forward-backward
    pass per sample (scaled probabilities, exact log space where they could underflow),
    parallel over the batch.  Labels outside [0, C) are an IndexError and labels equal to
    blank a ValueError (torch's documentation forbids both; its CPU kernel does not check).

    Parameters
    ----------
    log_probs : array_like
        Log-probabilities of shape (T, N, C), or (T, C) for one unbatched sequence: a real numeric
        (bool, integer or float) array.  Its dtype sets the result dtype (float32 and float64 kept,
        float16 returned as float16, others as float64); the computation runs in float64.
    targets : array_like of int
        Padded (N, S) labels (entries after each target length ignored), or concatenated 1-D of
        length sum(target_lengths); (S,) (or (1, S)) for unbatched input.  Labels lie in [0, C) and
        differ from `blank`.
    input_lengths : array_like of int
        The number of time steps of each sample, (N,), each in [0, T] (0-d or (1,) unbatched).
    target_lengths : array_like of int
        The number of labels of each sample, (N,), each >= 0 (0-d or (1,) unbatched).
    blank : int, optional
        The blank class, in [0, C) (default 0).
    reduction : {'mean', 'sum', 'none'}, optional
        How the losses are reduced (default 'mean'): 'mean' divides each loss by its target length
        (at least 1) and averages over the batch; 'sum' their sum; 'none' no reduction, the (N,)
        sample losses (a 0-d scalar unbatched).
    zero_infinity : bool, optional
        Give an infinite loss (no alignment exists) and its gradient as 0 (default False).
    return_grad : bool, optional
        Also return the gradient with respect to `log_probs` (default False).
    grad_out : numpy.ndarray, optional
        With return_grad=True: an array of the gradient's shape and dtype that receives the gradient
        and is returned as it (written by the kernel directly when it is C-contiguous, aligned, of
        the compute dtype and shares no memory with the inputs, else through a temporary).  Default
        None.
    %(return_loss_nohess)s

    Returns
    -------
    loss : numpy.floating or numpy.ndarray
        The loss: a NumPy scalar for 'mean' and 'sum'; for 'none' an array of shape (N,) (a NumPy
        scalar when that shape is ()).  In the result dtype: log_probs' dtype for float32 and
        float64, float16 for float16, float64 for integer, bool and other inputs (computed in
        float64).  Returned alone by default.
    grad : numpy.ndarray
        With return_grad=True: the gradient with respect to `log_probs` as torch's autograd gives
        it, of log_probs' shape and the result dtype, scaled as the reduction is (by 1 / (N
        max(target_length, 1)) per sample for 'mean'; for 'none' the gradient of loss.sum());
        grad_out when given.  The result is (loss, grad), or grad alone with return_loss=False.

    Raises
    ------
    TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_loss, zero_infinity) is not a bool (``numpy.bool_``, 0 and 1 are
        accepted); if grad_out is not a numpy.ndarray or its dtype is not the result dtype; if blank
        is not an integer (a bool included); if targets, input_lengths or target_lengths do not hold
        integers.
    ValueError
        If an argument cannot be converted to an array; if log_probs is not 2-D or 3-D or has no
        classes; if blank is outside [0, C); if a lengths array has the wrong shape or a negative
        entry, an input length exceeds T, or an integer array has an entry beyond int64; if targets
        has the wrong shape or size for the lengths (padded: N rows and target lengths at most S;
        concatenated: sum(target_lengths) entries; unbatched: at least the target length); if a used
        label equals blank; if reduction is not one of 'mean', 'sum' and 'none'; if
        return_loss=False is passed without return_grad=True; if grad_out is given without
        return_grad=True, or a grad_out array has the wrong shape or is read-only.
    IndexError
        If a used label is outside [0, C).

    Notes
    -----
    The loss of a sample is

    .. math::

        l = -\log \sum_{\pi \in \mathcal{B}^{-1}(y)} \prod_{t=1}^{T'} p_t(\pi_t),

    the sum over the alignments :math:`\pi` of its T' = input length steps that collapse (merge repeats,
    then drop blanks) to its labels y, with :math:`p_t = \exp(\mathrm{log\_probs}_t)`.  The gradient is
    :math:`\exp(\mathrm{log\_probs}) - \mathrm{occupancy}` (torch's kernel: the gradient assuming
    log_probs = log_softmax(logits)), 0 beyond each input length, NaN rows for an infinite loss without
    zero_infinity (torch); with zero_infinity=True an infinite loss and its gradient are 0.  A 'mean'
    over an empty batch is NaN.

    Examples
    --------
    >>> p = np.array([[[0.4, 0.6]], [[0.2, 0.8]]])  # (T=2, N=1, C=2), class 0 the blank
    >>> loss = cyloss.ctc_loss(np.log(p), np.array([[1]]), [2], [1], reduction="sum")
    >>> # the alignments of the label [1] in 2 steps: (1, 1), (blank, 1), (1, blank)
    >>> bool(np.isclose(loss, -np.log(0.6 * 0.8 + 0.4 * 0.8 + 0.6 * 0.2)))
    True
    """
    lp = asarray(log_probs, "log_probs")
    if lp.ndim not in (2, 3):
        raise ValueError(f"log_probs must be (T, N, C) or (T, C) for one unbatched sequence, got shape {lp.shape}")
    unbatched = lp.ndim == 2
    t_max, c = lp.shape[0], lp.shape[-1]
    n = 1 if unbatched else lp.shape[1]
    if c == 0:
        raise ValueError("log_probs has no classes (its last axis is empty)")
    if isinstance(blank, (bool, np.bool_)) or not isinstance(blank, (int, np.integer)):
        raise TypeError(f"blank must be an integer, got {blank!r}")
    blank = int(blank)
    if not 0 <= blank < c:
        raise ValueError(f"blank = {blank} is out of range for {c} classes (valid: 0..{c - 1})")
    zero_inf = check_flag(zero_infinity, "zero_infinity")
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(lp)
    want_grad, return_grad, _, return_loss = _flags(return_grad, False, grad_out, None, lp.shape, rdt, return_loss)

    il = _lengths(input_lengths, "input_lengths", n, unbatched)
    tl = _lengths(target_lengths, "target_lengths", n, unbatched)
    for name, arr in (("input_lengths", il), ("target_lengths", tl)):
        if arr.size and arr.min() < 0:
            i = int(np.argmax(arr < 0))
            raise ValueError(f"{name}[{i}] = {int(arr[i])} is negative")
    if il.size and il.max() > t_max:
        i = int(np.argmax(il > t_max))
        raise ValueError(f"input_lengths[{i}] = {int(il[i])} exceeds the {t_max} time steps of log_probs")

    tg = _int_array(targets, "targets")
    if unbatched and tg.ndim == 2 and tg.shape[0] == 1:
        tg = tg.reshape(-1)
    if tg.ndim == 2 and not unbatched:
        if tg.shape[0] != n:
            raise ValueError(f"targets has shape {tg.shape}: padded targets need {n} rows (one per sample)")
        s = tg.shape[1]
        if tl.size and tl.max() > s:
            i = int(np.argmax(tl > s))
            raise ValueError(f"target_lengths[{i}] = {int(tl[i])} exceeds the {s} columns of the padded targets")
        start = np.arange(n, dtype=_I64) * s
        used = np.arange(s)[None, :] < tl[:, None]
        t_shape = tg.shape
    elif tg.ndim == 1:
        total = int(tl.sum()) if tl.size else 0
        if unbatched:
            if tl[0] > tg.shape[0]:
                raise ValueError(f"target_lengths = {int(tl[0])} exceeds the {tg.shape[0]} entries of targets")
            start = np.zeros(1, dtype=_I64)
        else:
            if tg.shape[0] != total:
                raise ValueError(f"concatenated targets have {tg.shape[0]} entries, expected "
                                 f"sum(target_lengths) = {total}")
            start = np.concatenate(([0], np.cumsum(tl)[:-1])).astype(_I64) if n else np.zeros(0, dtype=_I64)
        used = np.arange(tg.shape[0]) < (tl[0] if unbatched else total)
        t_shape = tg.shape
    else:
        raise ValueError(f"targets must be padded (N, S) or concatenated 1-D (or (S,) for unbatched input), got "
                         f"shape {tg.shape}")
    flat = tg.reshape(-1)
    usedf = used.reshape(-1)
    bad = usedf & ((flat < 0) | (flat >= c))
    if bad.any():
        i = int(np.argmax(bad))
        raise IndexError(f"targets{position(i, t_shape)} = {int(flat[i])} is out of range for {c} classes "
                         f"(valid: 0..{c - 1} except blank={blank})")
    bad = usedf & (flat == blank)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"targets{position(i, t_shape)} = {blank} is the blank class; labels must not be blank")

    x = contiguous(lp, cdt).reshape(t_max, n, c)
    loss = np.empty(n, dtype=np.float64)
    div = np.maximum(tl, 1).astype(np.float64)
    gs = grad = None
    if want_grad:
        gs = (1.0 / (div * n) if red == "mean" else np.ones(n)) if n else np.zeros(0)
        grad = np.empty((t_max, n, c), dtype=cdt)
    _core.ctc(x, flat, start, il, tl, blank, zero_inf, gs, loss, grad)
    if red == "none":
        out = cast_result(loss.reshape(()) if unbatched else loss, rdt)
        out = out[()] if unbatched else out
    elif red == "sum":
        out = _scalar(float(loss.sum()), rdt)
    else:
        out = _scalar(float((loss / div).mean()) if n else np.nan, rdt)
    if want_grad:
        grad = cast_result(grad.reshape(lp.shape), rdt)
        if grad_out is not None:
            grad = copy_into(grad_out, grad)
    return _finish(out if return_loss else None, grad, return_grad, return_loss=return_loss)
