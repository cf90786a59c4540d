"""Partial log-sum-exp statistics of pieces of a row, and their merge: softmax and
cross-entropy over a class axis split in shards (cyloss.dask, or any transport: the C
kernel cyl_logsumexp_partial_* is what a vocabulary-parallel implementation calls).

A piece of a row is summarised by the pair (m, s) = (max x, sum exp(x - m)), in float64;
logsumexp = m + log s.  Pairs merge associatively and exactly in double:
(m, s) + (m', s') = (M, s e^(m - M) + s' e^(m' - M)), M = max(m, m').
"""
from collections import namedtuple

import numpy as np

from . import _core
from ._validate import asarray, float_dtypes, norm_axis, plain, rows

__all__ = ["logsumexp_partial", "logsumexp_merge", "cross_entropy_partial"]

CrossEntropyPartial = namedtuple("CrossEntropyPartial", ["m", "s", "x_target", "found", "x_sum"])
CrossEntropyPartial.__doc__ = """Statistics of one class shard of cross_entropy_partial's rows:
m, s: the shard's log-sum-exp pair; x_target: the target's logit where the target falls in
the shard (found), else 0; x_sum: sum over the shard of weight_j * x_j (weight 1 without a
weight), for label smoothing."""


def _as_rows(x, axis, name="x"):
    a = asarray(x, name)
    cdt, _ = float_dtypes(a)
    if a.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension (the class axis), got a 0-d array")
    ax = norm_axis(axis, a.ndim)
    xm, moved_shape = rows(a, ax, cdt)
    return a, ax, xm, moved_shape[:-1]


def logsumexp_partial(x, axis=-1):
    r"""Log-sum-exp statistics of x over `axis`: (m, s), float64 arrays of x's shape without
    `axis`, m = max(x), s = sum(exp(x - m)), so logsumexp(x) = m + log(s).

    A row holding a NaN gives (NaN, NaN); one holding +inf (+inf, 1); one of only -inf, or
    an empty axis, (-inf, 0).  The terms are exponentials in x's precision (float32 rows:
    each term within about one float32 ulp) summed in double, the max's terms counted
    exactly; float64 rows give s to a few double roundings.  Merge the pairs of pieces of the same
    rows with logsumexp_merge.

    Parameters
    ----------
    x : array_like
        Real input (bool, integer or float) with at least one dimension.
    axis : int, optional
        The axis to reduce over; default -1 (the last axis).

    Returns
    -------
    m : numpy.ndarray
        max(x) over `axis`, float64, of x's shape without `axis` (0-d for 1-D x).
    s : numpy.ndarray
        sum(exp(x - m)) over `axis`, float64, of m's shape.

    Raises
    ------
    TypeError
        If x is not a real numeric array (complex, string, object dtype, a masked array) or
        axis is not an integer.
    ValueError
        If x is 0-d (it needs an axis to reduce).
    numpy.exceptions.AxisError
        If axis is out of range for x (a subclass of ValueError and IndexError).

    Notes
    -----
    .. math:: m = \max_i x_i, \qquad s = \sum_i e^{x_i - m}, \qquad
              \mathrm{logsumexp}(x) = m + \log s.

    Examples
    --------
    >>> m, s = cyloss.logsumexp_partial(np.array([[0.0, 1.0], [2.0, -np.inf]]))
    >>> print(m, np.round(s, 6))  # s = exp(-1) + exp(0) = 1.367879...; exp(-inf) = 0
    [1. 2.] [1.367879 1.      ]
    >>> np.allclose(m + np.log(s), np.log(np.exp([[0.0, 1.0], [2.0, -np.inf]]).sum(axis=-1)))
    True
    """
    _, _, xm, shape = _as_rows(x, axis)
    n = xm.shape[0]
    m = np.empty(n, dtype=np.float64)
    s = np.empty(n, dtype=np.float64)
    _core.logsumexp_partial(xm, m, s)
    return m.reshape(shape), s.reshape(shape)


def _merge(ms, ss):
    """(M, S) of pairs stacked along axis 0."""
    M = np.max(ms, axis=0)  # NaN propagates
    with np.errstate(invalid="ignore", over="ignore"):
        # pieces whose m equals the max contribute s itself (also +inf and -inf maxima)
        terms = np.where(ms == M, ss, ss * np.exp(ms - M))
    return M, terms.sum(axis=0)


def logsumexp_merge(parts, *, return_pair=False):
    r"""Merge the (m, s) pairs of logsumexp_partial computed on pieces of the same rows:
    returns logsumexp over the whole rows, float64 (or the merged pair (M, S) with
    return_pair=True, which merges again).  The merge is associative; a NaN in any piece
    gives NaN, a +inf (and no NaN) +inf, pieces of only -inf drop out.

    Parameters
    ----------
    parts : sequence of (m, s) pairs
        One or more pairs of real arrays (or scalars) as returned by logsumexp_partial, or by
        this function with return_pair=True; all the m and s broadcast to one shape.
    return_pair : bool, optional
        Keyword only. Return the merged pair (M, S) instead of the log-sum-exp; default
        False.

    Returns
    -------
    numpy.ndarray or numpy.float64
        M + log(S), the log-sum-exp over the whole rows, float64, of the pairs' broadcast
        shape (a NumPy scalar when that shape is ()).
    (M, S) : tuple of numpy.ndarray
        With return_pair=True: the merged pair, float64 arrays of that shape.

    Raises
    ------
    TypeError
        If parts is not iterable, or one of its entries is not.
    ValueError
        If parts is empty, an entry is not a pair, or the m and s are not real arrays that
        broadcast to one shape.

    Notes
    -----
    With :math:`M = \max_k m_k` over the pieces k (a piece whose m equals M contributes its s
    as is, also for infinite M),

    .. math:: S = \sum_k s_k e^{m_k - M}, \qquad \mathrm{logsumexp} = M + \log S.

    Examples
    --------
    >>> x = np.array([[0.0, 1.0, 2.0, 3.0]])
    >>> parts = [cyloss.logsumexp_partial(x[:, :1]), cyloss.logsumexp_partial(x[:, 1:])]
    >>> bool(np.isclose(cyloss.logsumexp_merge(parts)[0], np.log(np.exp(x).sum())))
    True
    >>> round(float(cyloss.logsumexp_merge([(0.0, 1.0), (0.0, 1.0)])), 4)  # log(e^0 + e^0) = log(2)
    0.6931
    """
    try:
        pairs = [tuple(p) for p in parts]
    except TypeError:
        raise TypeError("parts must be a sequence of (m, s) pairs") from None
    if not pairs:
        raise ValueError("parts must hold at least one (m, s) pair")
    if any(len(p) != 2 for p in pairs):
        raise ValueError("parts must be a sequence of (m, s) pairs")
    try:
        ms = np.broadcast_arrays(*[np.asarray(p[0], dtype=np.float64) for p in pairs])
        ss = np.broadcast_arrays(*[np.asarray(p[1], dtype=np.float64) for p in pairs])
        ms, ss = np.broadcast_arrays(np.stack(ms), np.stack(ss))
    except (ValueError, TypeError) as e:
        raise ValueError(f"parts: the (m, s) pairs must be real arrays of one shape: {e}") from None
    M, S = _merge(ms, ss)
    if return_pair:
        return M, S
    with np.errstate(divide="ignore", invalid="ignore"):
        r = M + np.log(S)
    return r[()] if r.ndim == 0 else r


def cross_entropy_partial(x_shard, target, class_offset, *, axis=-1, weight=None, sums=True):
    r"""The pieces cross-entropy needs from a class shard of the logits: x_shard holds
    classes [class_offset, class_offset + C_shard) of every row along `axis`; target the
    rows' class indices (x_shard's shape without `axis`; any value, e.g. ignore_index, that
    is not in the shard is "not found"); weight (optional) the shard's slice of the class
    weights.  Returns CrossEntropyPartial(m, s, x_target, found, x_sum), float64 arrays
    (found bool) of target's shape; merge m, s over shards with logsumexp_merge, take
    x_target from the shard where found, and add x_sum over shards for label smoothing
    (sums=False skips it: x_sum is then None).  One pass of the C kernel
    cyl_cross_entropy_partial over the shard.

    Parameters
    ----------
    x_shard : array_like
        Real logits (bool, integer or float) of C_shard classes along `axis`, with at least
        one dimension.
    target : array_like
        Integer class indices of the rows (global indices, of x_shard's shape without
        `axis`).
    class_offset : int
        The global index (>= 0) of the shard's first class.
    axis : int, optional
        Keyword only. The class axis of x_shard; default -1 (the last axis).
    weight : array_like, optional
        Keyword only. The shard's C_shard class weights, shape (C_shard,); default None
        (weight 1).
    sums : bool, optional
        Keyword only. Compute x_sum; default True.

    Returns
    -------
    CrossEntropyPartial
        A named tuple (m, s, x_target, found, x_sum) of arrays of target's shape: m, s the
        shard's log-sum-exp pair (float64), x_target the target's logit where found else 0
        (float64), found (bool) whether the target's class lies in the shard, x_sum the sum
        over the shard of weight_j * x_j (float64; None with sums=False).

    Raises
    ------
    TypeError
        If x_shard is not a real numeric array (complex, string, object dtype, a masked
        array), target does not hold integers, class_offset is not an integer (bools
        included), or axis is not an integer.
    ValueError
        If x_shard is 0-d, target's shape is not x_shard's shape without `axis`,
        class_offset is < 0 or beyond int64, target holds indices beyond the int64 range,
        or weight is not of shape (C_shard,).
    numpy.exceptions.AxisError
        If axis is out of range for x_shard (a subclass of ValueError and IndexError).

    Notes
    -----
    Over all shards, with lse the merged log-sum-exp, :math:`x_t` the x_target of the shard
    where found and C the total number of classes, the unweighted cross-entropy of a row
    with label smoothing :math:`\varepsilon` is

    .. math:: \ell = (1 - \varepsilon)(\mathrm{lse} - x_t)
              + \varepsilon \Big(\mathrm{lse} - \frac{1}{C} \sum_{\text{shards}} \mathrm{x\_sum}\Big).

    Examples
    --------
    >>> x = np.array([[1.0, 2.0, 3.0, 4.0]])
    >>> a = cyloss.cross_entropy_partial(x[:, :2], np.array([3]), 0)
    >>> b = cyloss.cross_entropy_partial(x[:, 2:], np.array([3]), 2)
    >>> lse = cyloss.logsumexp_merge([(a.m, a.s), (b.m, b.s)])
    >>> bool(np.isclose((lse - (a.x_target + b.x_target))[0], -np.log(np.exp(4) / np.exp(x).sum())))
    True
    """
    a, ax, xm, shape = _as_rows(x_shard, axis, "x_shard")
    n, c = xm.shape
    t = plain(target, "target")
    if t.dtype.kind not in "iu":
        raise TypeError(f"target must hold integer class indices, got dtype {t.dtype}")
    if t.shape != shape:
        raise ValueError(f"target must have x_shard's shape without axis {ax}, {shape}, got {t.shape}")
    off = class_offset
    if isinstance(off, (bool, np.bool_)) or not isinstance(off, (int, np.integer)):
        raise TypeError(f"class_offset must be an integer, got {type(class_offset).__name__}")
    off = int(off)
    if not 0 <= off <= np.iinfo(np.int64).max:
        raise ValueError(f"class_offset must be >= 0, got {off}")
    if t.dtype == np.uint64 and t.size and int(t.max()) > np.iinfo(np.int64).max:
        raise ValueError("target holds class indices beyond the int64 range")
    tf = np.ascontiguousarray(t.reshape(-1), dtype=np.int64)
    w = None
    if weight is not None:
        w = asarray(weight, "weight")
        if w.shape != (c,):
            raise ValueError(f"weight must hold the shard's {c} class weights, got shape {w.shape}")
        w = np.ascontiguousarray(w, dtype=xm.dtype)
    m, s, xt = (np.empty(n, dtype=np.float64) for _ in range(3))
    found = np.empty(n, dtype=np.bool_)
    xs = np.empty(n, dtype=np.float64) if sums else None
    _core.cross_entropy_partial(xm, tf, off, w, m, s, xt, found.view(np.uint8), xs)
    return CrossEntropyPartial(m.reshape(shape), s.reshape(shape), xt.reshape(shape), found.reshape(shape),
                               None if xs is None else xs.reshape(shape))
