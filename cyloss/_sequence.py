"""Sequence losses, torch.nn.functional semantics: ctc_loss.
See cyloss._classification for the conventions of return_grad / grad_out."""
import numpy as np

from . import _core
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


def ctc_loss(log_probs, targets, input_lengths, target_lengths, *, blank=0, reduction="mean", zero_infinity=False,
             return_grad=False, grad_out=None, return_loss=True):
    """Connectionist temporal classification loss, as torch.nn.functional.ctc_loss:
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
    blank a ValueError (torch's documentation forbids both; its CPU kernel does not check)."""
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
