"""Losses on pairs of embeddings, torch.nn.functional semantics: cosine_embedding_loss.
See cyloss._classification for the conventions of return_grad / grad_out."""
import numpy as np

from . import _core
from ._validate import (_flags, asarray, broadcast_shape, check_grads_out, check_reduction, check_scalar,
                        contiguous, finish_grads, finish_loss, float_dtypes)

__all__ = ["cosine_embedding_loss"]


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
