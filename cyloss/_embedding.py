"""Losses on embeddings, torch.nn.functional semantics: cosine_embedding_loss,
triplet_margin_loss.
See cyloss._classification for the conventions of return_grad / grad_out."""
import math

import numpy as np

from . import _core
from ._validate import (_flags, asarray, broadcast_shape, check_flag, check_grads_out, check_reduction, check_scalar,
                        contiguous, finish_grads, finish_loss, float_dtypes)

__all__ = ["cosine_embedding_loss", "triplet_margin_loss"]


def cosine_embedding_loss(input1, input2, target, *, margin=0.0, eps=1e-12, reduction="mean", return_grad=False,
                          grad_out=None, return_loss=True):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (0 for any other
    y, torch's where()), cos = <x1, x2> / sqrt((|x1|^2 + eps)(|x2|^2 + eps)) with eps inside the
    squared norms as torch's implementation (EPSILON = 1e-12), as
    torch.nn.functional.cosine_embedding_loss: rows of (N, D) inputs with a (N,) target, or one
    (D,) pair with a 0-d target; input1 and input2 broadcast against each other.
    return_grad=True returns (loss, (d/dinput1, d/dinput2)); grad_out is None or a tuple of two
    arrays (or None entries).  The row sums accumulate in float64."""
    a = asarray(input1, "input1")
    b = asarray(input2, "input2")
    y = asarray(target, "target")
    if y.ndim not in (0, 1):
        raise ValueError(f"target must be 0-d or 1-d (one label per pair), got shape {y.shape}")
    want_nd = y.ndim + 1
    if a.ndim != want_nd or b.ndim != want_nd:
        raise ValueError(f"a {y.ndim}-d target needs {want_nd}-d inputs, got input1 {a.shape} and input2 {b.shape}")
    m = check_scalar(margin, "margin")
    e = check_scalar(eps, "eps")
    if not e >= 0:
        raise ValueError(f"eps must be >= 0, got {eps!r}")
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(a)
    shape = broadcast_shape("input1", a.shape, "input2", b.shape)
    if y.shape != shape[:-1]:
        raise ValueError(f"target has shape {y.shape}, expected {shape[:-1]} (one label per pair)")
    want_grad, return_grad, _, return_loss = _flags(return_grad, False, None, None, shape, rdt, return_loss)
    outs = check_grads_out(grad_out, want_grad, (a.shape, b.shape), rdt, ("input1", "input2"))
    d = shape[-1]
    am = contiguous(np.broadcast_to(a, shape), cdt).reshape(-1, d)
    bm = contiguous(np.broadcast_to(b, shape), cdt).reshape(-1, d)
    ym = contiguous(y, cdt).reshape(-1)
    n = am.shape[0]
    gs = 1.0 / n if red == "mean" and n else 1.0
    loss_rows = np.empty(n, dtype=cdt) if red == "none" else None
    ga = np.empty((n, d), dtype=cdt) if want_grad else None
    gb = np.empty((n, d), dtype=cdt) if want_grad else None
    total = _core.cosine_embedding(am, bm, ym, m, e, gs, loss_rows, ga, gb)
    loss = finish_loss(total, loss_rows, red, n, y.shape, rdt) if return_loss else None
    if not want_grad:
        return loss
    grads = finish_grads((ga, gb), shape, (a.shape, b.shape), outs, rdt)
    return (loss, grads) if return_loss else grads


def triplet_margin_loss(anchor, positive, negative, *, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean",
                        return_grad=False, grad_out=None, return_loss=True):
    """max(0, margin + d(anchor, positive) - d(anchor, negative)) per row, with torch's
    pairwise_distance d(x, y) = ||x - y + eps||_p over the last axis (eps added to every
    difference), as torch.nn.functional.triplet_margin_loss; swap=True uses
    min(d(anchor, negative), d(positive, negative)) as the negative distance.  The three inputs
    have the same number of dimensions (>= 1) and broadcast against each other; the loss has
    their broadcast shape without the last axis.  p > 0 (inf allowed: the max norm);
    margin > 0 (torch's check).  return_grad=True returns (loss, (d/danchor, d/dpositive,
    d/dnegative)); grad_out is None or a tuple of three arrays (or None entries).  The gradient
    of max(0, z) is 0 at z = 0 and the norm's gradient is 0 where a difference or the distance
    is 0, as torch's autograd; a tie of swap's min splits the gradient in halves.  Distances
    accumulate in float64."""
    arrs = [asarray(v, name) for v, name in ((anchor, "anchor"), (positive, "positive"), (negative, "negative"))]
    a, pos, neg = arrs
    if a.ndim == 0 or not a.ndim == pos.ndim == neg.ndim:
        raise ValueError("anchor, positive and negative must have the same number of dimensions (at least 1), got "
                         f"anchor {a.shape}, positive {pos.shape} and negative {neg.shape}")
    m = check_scalar(margin, "margin")
    if not m > 0:
        raise ValueError(f"margin must be > 0, got {margin!r}")
    if isinstance(p, (float, np.floating)) and math.isinf(p) and p > 0:
        q = math.inf
    else:
        q = check_scalar(p, "p")
        if not q > 0:
            raise ValueError(f"p must be > 0 (the order of the norm; inf for the max norm), got {p!r}")
    e = check_scalar(eps, "eps")
    sw = check_flag(swap, "swap")
    red = check_reduction(reduction)
    cdt, rdt = float_dtypes(a)
    shape = broadcast_shape("anchor", a.shape, "positive", pos.shape)
    shape = broadcast_shape("anchor and positive", shape, "negative", neg.shape)
    want_grad, return_grad, _, return_loss = _flags(return_grad, False, None, None, shape, rdt, return_loss)
    names = ("anchor", "positive", "negative")
    outs = check_grads_out(grad_out, want_grad, tuple(x.shape for x in arrs), rdt, names)
    d = shape[-1]
    mats = [contiguous(np.broadcast_to(x, shape), cdt).reshape(-1, d) for x in arrs]
    n = math.prod(shape[:-1])
    gs = 1.0 / n if red == "mean" and n else 1.0
    loss_rows = np.empty(n, dtype=cdt) if red == "none" else None
    gr = [np.empty((n, d), dtype=cdt) for _ in arrs] if want_grad else [None] * 3
    total = _core.triplet_margin(mats[0], mats[1], mats[2], m, q, e, sw, gs, loss_rows, gr[0], gr[1], gr[2])
    loss = finish_loss(total, loss_rows, red, n, shape[:-1], rdt) if return_loss else None
    if not want_grad:
        return loss
    grads = finish_grads(gr, shape, tuple(x.shape for x in arrs), outs, rdt)
    return (loss, grads) if return_loss else grads
