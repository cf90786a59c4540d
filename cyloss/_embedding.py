"""Losses on embeddings, torch.nn.functional semantics: cosine_embedding_loss,
triplet_margin_loss.
See cyloss._classification for the conventions of return_grad / grad_out."""
import math

import numpy as np

from . import _core
from . import _docs
from ._validate import (_flags, asarray, broadcast_shape, check_flag, check_grads_out, check_reduction, check_scalar,
                        contiguous, finish_grads, finish_loss, float_dtypes)

__all__ = ["cosine_embedding_loss", "triplet_margin_loss"]


@_docs.fill
def cosine_embedding_loss(input1, input2, target, *, margin=0.0, eps=1e-12, reduction="mean", return_grad=False,
                          grad_out=None, return_loss=True):
    r"""1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1 (0 for any other
    y, torch's where()), ``cos = <x1, x2> / sqrt((|x1|^2 + eps)(|x2|^2 + eps))`` with eps inside the
    squared norms as torch's implementation (EPSILON = 1e-12), as
    torch.nn.functional.cosine_embedding_loss: rows of (N, D) inputs with a (N,) target, or one
    (D,) pair with a 0-d target; input1 and input2 broadcast against each other.
    return_grad=True returns (loss, (d/dinput1, d/dinput2)); grad_out is None or a tuple of two
    arrays (or None entries).  The row sums accumulate in float64.

    Parameters
    ----------
    input1 : array_like
        First embeddings x1, of shape (N, D), or (D,) for one pair: a real numeric (bool, integer or
        float) array.  Its dtype sets the compute and result dtypes (float32 and float64 kept,
        float16 computed in float32, others in float64).
    input2 : array_like
        Second embeddings x2, with as many dimensions as `input1`, broadcast against it.
    target : array_like
        Labels y of shape (N,) (0-d for one pair): 1 for similar, -1 for dissimilar pairs.
    margin : float, optional
        The margin of the y = -1 term (default 0.0); any finite real number.
    eps : float, optional
        Added to each squared norm, eps >= 0 (default 1e-12, torch's EPSILON).
    reduction : {'mean', 'sum', 'none'}, optional
        How the losses are reduced (default 'mean'): 'mean' averages the pair losses over N; 'sum'
        their sum; 'none' no reduction, the (N,) pair losses (a scalar for one pair).
    %(return_grad_pair)s
    grad_out : tuple of numpy.ndarray or None, optional
        With return_grad=True: a tuple of two arrays (or None entries), one per input (`input1`,
        `input2`) in that input's shape and the result dtype, that receive the gradients and are
        returned as them.  The entries must not overlap.  Default None.
    %(return_loss_nohess)s

    Returns
    -------
    loss : numpy.floating or numpy.ndarray
        The loss: a NumPy scalar for 'mean' and 'sum'; for 'none' an array of shape (N,) (a NumPy
        scalar when that shape is ()).  In the result dtype: input1's dtype for float32 and float64,
        float16 for float16 (computed in float32), float64 for integer, bool and other inputs.
        Returned alone by default.
    %(returns_grads)s

    Raises
    ------
    TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_loss) is not a bool (``numpy.bool_``, 0 and 1 are accepted); if margin
        or eps is not a real number (a bool, a string, None, a complex number or an array with
        elements); if grad_out is not None or a tuple with one entry per input; if an entry of
        grad_out is not a numpy.ndarray or its dtype is not the result dtype.
    ValueError
        If an argument cannot be converted to an array; if target is not 0-d or 1-d, the inputs do
        not have target.ndim + 1 dimensions, do not broadcast against each other, or target's shape
        is not their broadcast shape without the last axis; if eps is negative; if reduction is not
        one of 'mean', 'sum' and 'none'; if margin or eps is NaN or infinite; if return_loss=False
        is passed without return_grad=True; if grad_out is given without return_grad=True, or a
        grad_out array has the wrong shape or is read-only; if grad_out entries overlap each other.

    Notes
    -----
    Per pair, with :math:`P = \langle x_1, x_2 \rangle`, :math:`A = |x_1|^2 + \epsilon`,
    :math:`B = |x_2|^2 + \epsilon` and :math:`\cos = P / \sqrt{A B}`,

    .. math::

        l = \begin{cases} 1 - \cos & y = 1 \\ \max(0, \cos - \mathrm{margin}) & y = -1 \\
        0 & \text{otherwise} \end{cases}, \qquad
        \frac{\partial l}{\partial x_1} = s \left(\frac{x_2}{\sqrt{A B}} - \cos \frac{x_1}{A}\right),
        \qquad \frac{\partial l}{\partial x_2} = s \left(\frac{x_1}{\sqrt{A B}} - \cos \frac{x_2}{B}\right),

    with :math:`s = \partial l / \partial \cos`: -1 for y = 1, [cos - margin >= 0] for y = -1 (torch's
    clamp_min passes the gradient at equality), 0 otherwise.  'mean' divides the sum of the pair losses
    and the gradients by N; a 'mean' over no pairs is NaN.

    Examples
    --------
    >>> a, b, y = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([1, -1])
    >>> cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    >>> loss = cyloss.cosine_embedding_loss(a, b, y, margin=0.5, reduction="none")
    >>> bool(np.allclose(loss, np.where(y == 1, 1 - cos, np.maximum(0, cos - 0.5))))
    True
    """
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


@_docs.fill
def triplet_margin_loss(anchor, positive, negative, *, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean",
                        return_grad=False, grad_out=None, return_loss=True):
    r"""max(0, margin + d(anchor, positive) - d(anchor, negative)) per row, with torch's
    pairwise_distance d(x, y) = ||x - y + eps||_p over the last axis (eps added to every
    difference), as torch.nn.functional.triplet_margin_loss; swap=True uses
    min(d(anchor, negative), d(positive, negative)) as the negative distance.  The three inputs
    have the same number of dimensions (>= 1) and broadcast against each other; the loss has
    their broadcast shape without the last axis.  p > 0 (inf allowed: the max norm);
    margin > 0 (torch's check).  return_grad=True returns (loss, (d/danchor, d/dpositive,
    d/dnegative)); grad_out is None or a tuple of three arrays (or None entries).  The gradient
    of max(0, z) is 0 at z = 0 and the norm's gradient is 0 where a difference or the distance
    is 0, as torch's autograd; a tie of swap's min splits the gradient in halves.  Distances
    accumulate in float64.

    Parameters
    ----------
    anchor : array_like
        Anchor embeddings, rows along the last axis, at least 1-D: a real numeric (bool, integer or
        float) array.  Its dtype sets the compute and result dtypes (float32 and float64 kept,
        float16 computed in float32, others in float64).
    positive : array_like
        Positive embeddings, with as many dimensions as `anchor`, broadcast against it.
    negative : array_like
        Negative embeddings, with as many dimensions as `anchor`, broadcast against both.
    margin : float, optional
        The margin, > 0 (default 1.0).
    p : float, optional
        The order of the norm, > 0; inf for the max norm (default 2.0).
    eps : float, optional
        Added to every difference before the norm (default 1e-6); any finite number.
    swap : bool, optional
        Use min(d(anchor, negative), d(positive, negative)) as the negative distance (default
        False).
    reduction : {'mean', 'sum', 'none'}, optional
        How the losses are reduced (default 'mean'): 'mean' averages the row losses; 'sum' their
        sum; 'none' no reduction, the row losses in the broadcast shape without the last axis.
    %(return_grad_pair)s
    grad_out : tuple of numpy.ndarray or None, optional
        With return_grad=True: a tuple of three arrays (or None entries), one per input (`anchor`,
        `positive`, `negative`) in that input's shape and the result dtype, that receive the
        gradients and are returned as them.  The entries must not overlap.  Default None.
    %(return_loss_nohess)s

    Returns
    -------
    loss : numpy.floating or numpy.ndarray
        The loss: a NumPy scalar for 'mean' and 'sum'; for 'none' an array of the broadcast shape of
        the inputs without the last axis (a NumPy scalar when that shape is ()).  In the result
        dtype: anchor's dtype for float32 and float64, float16 for float16 (computed in float32),
        float64 for integer, bool and other inputs.  Returned alone by default.
    grads : tuple of numpy.ndarray
        With return_grad=True: the gradients with respect to anchor, positive and negative, each of
        its input's shape (summed over the dimensions that input is broadcast along) and the result
        dtype; for 'none' the gradients of loss.sum().  The grad_out entries when given.  The result
        is (loss, grads), or grads alone with return_loss=False.

    Raises
    ------
    TypeError
        If an array argument is not a real numeric (bool, integer or float) array (e.g. complex,
        string or object dtype) or is a masked array; if reduction is not a string; if a flag
        (return_grad, return_loss, swap) is not a bool (``numpy.bool_``, 0 and 1 are accepted); if
        margin or p or eps is not a real number (a bool, a string, None, a complex number or an
        array with elements); if grad_out is not None or a tuple with one entry per input; if an
        entry of grad_out is not a numpy.ndarray or its dtype is not the result dtype.
    ValueError
        If an argument cannot be converted to an array; if the inputs are 0-d, differ in their
        number of dimensions or do not broadcast against each other; if margin is not > 0, or p is
        not > 0; if reduction is not one of 'mean', 'sum' and 'none'; if margin or p or eps is NaN
        or infinite; if return_loss=False is passed without return_grad=True; if grad_out is given
        without return_grad=True, or a grad_out array has the wrong shape or is read-only; if
        grad_out entries overlap each other.

    Notes
    -----
    Per row, with :math:`d(x, y) = \lVert x - y + \epsilon \rVert_p`, :math:`d_p = d(a, p)` and
    :math:`d_n = d(a, n)` (with swap, :math:`\min(d(a, n), d(p, n))`),

    .. math::

        l = \max(0, \mathrm{margin} + d_p - d_n), \qquad
        \frac{\partial D}{\partial v_j} = \operatorname{sign}(v_j) \left(\frac{|v_j|}{D}\right)^{p-1}

    for a distance :math:`D = \lVert v \rVert_p`, :math:`v = x - y + \epsilon`; for p = inf,
    :math:`\operatorname{sign}(v_j) / k` on the k entries with :math:`|v_j| = D`.  The gradient of
    max(0, z) is [z > 0] (none at z = 0; a NaN z gives NaN).  'mean' divides the sum of the row losses
    and the gradients by the number of rows; a 'mean' over no rows is NaN.

    Examples
    --------
    >>> a, p, n = np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), np.array([[1.0, 0.0]])
    >>> dist = lambda u, v: np.linalg.norm(u - v + 1e-6, axis=-1)
    >>> loss = cyloss.triplet_margin_loss(a, p, n, margin=1.0, reduction="none")
    >>> bool(np.allclose(loss, np.maximum(0, 1.0 + dist(a, p) - dist(a, n)))), loss.shape
    (True, (1,))
    """
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
