"""cyloss on Dask arrays: the same functions, evaluated lazily chunk by chunk.

    import cyloss.dask as cld
    loss, grad = cld.cross_entropy(logits, target, return_grad=True)   # dask arrays
    loss.compute()

Needs Dask (``pip install "cyloss[dask]"``: dask[array] and distributed); Dask is the
engine (its threaded scheduler, or a ``distributed`` cluster through a Client).  Each
function takes dask arrays (NumPy arrays are wrapped; small arguments such as class
weights stay NumPy) with the parameter names, kinds and defaults of the NumPy function of
the same name; ``out=`` / ``grad_out=`` / ``hess_out=`` are accepted and must be None.
Nothing is computed until asked; arguments are checked when the call is made.

- Elementwise losses run blockwise; "sum" and "mean" are tree reductions of the per-chunk
  float64 pairs (sum of w * l, the chunk's part of the mean's denominator), so "mean" is
  exact and the graph has O(chunks) tasks.  Gradients are chunked like the first input.
- Row-wise functions (softmax, log_softmax, logsumexp, cross_entropy, ...) run blockwise
  over rows when the class axis is one chunk.  When it is split in several chunks, a first
  pass computes each chunk's log-sum-exp pair (max, sum exp(x - max)) in float64
  (cyloss.logsumexp_partial), the pairs are merged over the class chunks
  (cyloss.logsumexp_merge: associative and exact in double) and a second blockwise pass
  writes the outputs that need the normaliser (gradients and Hessians included).
  cross_entropy adds per-chunk target logits (class targets) or sums of w t and w t x
  (probability targets); logsumexp with b= or return_sign merges signed pairs.
- Losses of whole samples (multi_margin_loss, ctc_loss, ...) run per block of samples along
  the batch axis, with dask.delayed; "mean" weights the blocks' means by their counts.
"""
import math
import numbers

import numpy as np

try:
    import dask.array as da
except ImportError as e:  # pragma: no cover - exercised without dask
    raise ImportError('cyloss.dask needs Dask: pip install "cyloss[dask]" (dask[array] and distributed)') from e

import cyloss

from ._partial import _merge

__all__ = [
    "softmax", "log_softmax", "softmin", "logsumexp", "softmax_backward", "log_softmax_backward", "entropy",
    "cross_entropy", "nll_loss", "logsumexp_partial",
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "log_cosh_loss", "pseudo_huber_loss",
    "binary_cross_entropy_with_logits", "binary_cross_entropy", "kl_div", "soft_margin_loss",
    "hinge_embedding_loss", "poisson_nll_loss", "sigmoid_focal_loss",
    "half_poisson_loss", "half_gamma_loss", "half_tweedie_loss", "half_tweedie_loss_identity", "pinball_loss",
    "exponential_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
    "cosine_embedding_loss", "triplet_margin_loss", "margin_ranking_loss", "gaussian_nll_loss", "ctc_loss",
]


# ----------------------------------------------------------------------------- helpers

def _is_dask(a):
    return isinstance(a, da.Array)


def _arr(a, name):
    """A dask array of a (NumPy input is wrapped in one chunk per ~128 MB); unknown chunk
    sizes are an error."""
    if _is_dask(a):
        if any(math.isnan(c) for cs in a.chunks for c in cs):
            raise ValueError(f"{name} has unknown chunk sizes (NaN); call {name}.compute_chunk_sizes() first")
        return a
    if isinstance(a, np.ma.MaskedArray):
        raise TypeError(f"{name}: masked arrays are not supported")
    arr = np.asarray(a)
    if arr.dtype == object:
        raise TypeError(f"{name} must be a numeric array, got dtype object")
    return da.from_array(arr, chunks="auto" if arr.ndim else ())


def _no_out(**outs):
    for k, v in outs.items():
        if v is not None:
            raise ValueError(f"{k}= is not supported on dask arrays: it must be None (results are new dask arrays)")


def _probe(a, shape=None):
    """A tiny NumPy stand-in for dask array a (its dtype, one element per axis, or `shape`)."""
    return np.ones(shape if shape is not None else (1,) * a.ndim, dtype=a.dtype)


def _axis(axis, ndim, name="axis"):
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (numbers.Integral,)):
        raise TypeError(f"{name} must be an integer, got {type(axis).__name__}")
    ax = int(axis)
    if not -ndim <= ax < ndim:
        raise ValueError(f"{name} {axis} is out of bounds for an array of dimension {ndim}")
    return ax % ndim


def _one_chunk_along(x, ax):
    return x.numblocks[ax] == 1


# ------------------------------------------------------------- log-sum-exp pairs

def _pairs_of(xb, axes, scale=1.0):
    """(m, s) of block xb over `axes` packed as complex m + i s, axes kept (size 1)."""
    nd = xb.ndim
    rest = [i for i in range(nd) if i not in axes]
    moved = np.transpose(xb, rest + list(axes))
    keep_shape = moved.shape[:len(rest)]
    flat = moved.reshape(keep_shape + (-1,))
    if scale != 1.0:
        flat = flat.astype(np.float64) * scale
    m, s = cyloss.logsumexp_partial(flat, axis=-1)
    out = np.empty(keep_shape, dtype=np.complex128)
    out.real = m
    out.imag = s
    shape = tuple(1 if i in axes else xb.shape[i] for i in range(nd))
    return out.reshape(shape)


def _pairs_chunk(xb, axis, keepdims, scale=1.0):
    return _pairs_of(xb, tuple(axis), scale)


def _pairs_combine(pb, axis, keepdims, signed=False):
    """Merge the (m, s) pairs of pb (packed m + i s) over `axis` (kept, size 1).  signed: the
    pairs of signed sums (_signed_chunk): where the maximum is +inf the pieces at +inf add
    their signs, and +inf of both signs is NaN (inf - inf), as in the unsplit call."""
    axes = tuple(axis)
    if not axes:
        return pb
    nd = pb.ndim
    rest = [i for i in range(nd) if i not in axes]
    moved = np.transpose(pb, list(axes) + rest)
    k = math.prod(moved.shape[:len(axes)])
    moved = moved.reshape((k,) + moved.shape[len(axes):])
    ms, ss = moved.real, moved.imag
    M, S = _merge(ms, ss)
    if signed:
        at_inf = ms == np.inf
        both = (at_inf & (ss > 0)).any(axis=0) & (at_inf & (ss < 0)).any(axis=0)
        M = np.where(both, np.nan, M)
        S = np.where(both, np.nan, S)
    out = np.empty(M.shape, dtype=np.complex128)
    out.real = M
    out.imag = S
    return out.reshape(tuple(1 if i in axes else pb.shape[i] for i in range(nd)))


def _pairs_lse(pb, axis, keepdims, dtype=np.float64):
    pb = _pairs_combine(pb, axis, True)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = pb.real + np.log(pb.imag)
    if not keepdims:
        r = r.reshape(tuple(s for i, s in enumerate(pb.shape) if i not in tuple(axis)))
    return r.astype(dtype, copy=False)


def _lse_reduction(x, axes, keepdims, dtype, scale=1.0, split_every=None):
    """logsumexp of dask x over `axes` by a tree reduction of the chunks' (m, s) pairs."""
    return da.reduction(x, chunk=lambda b, axis, keepdims: _pairs_chunk(b, axis, keepdims, scale),
                        combine=_pairs_combine,
                        aggregate=lambda b, axis, keepdims: _pairs_lse(b, axis, keepdims, dtype),
                        axis=axes, keepdims=keepdims, dtype=dtype, split_every=split_every,
                        concatenate=True, meta=np.empty((0,) * (x.ndim if keepdims else x.ndim - len(axes)),
                                                         dtype=dtype))


def logsumexp_partial(x, axis=-1):
    """The (m, s) pairs of cyloss.logsumexp_partial over `axis`, merged over the chunks of
    that axis: two float64 dask arrays of x's shape without `axis`."""
    x = _arr(x, "x")
    ax = _axis(axis, x.ndim)
    cyloss.logsumexp_partial(_probe(x), axis=ax)
    def aggregate(pb, axis, keepdims):
        r = _pairs_combine(pb, axis, True)
        return r if keepdims else r.reshape(tuple(n for i, n in enumerate(r.shape) if i not in tuple(axis)))

    p = da.reduction(x, chunk=_pairs_chunk, combine=_pairs_combine, aggregate=aggregate, axis=ax,
                     keepdims=False, dtype=np.complex128, concatenate=True)
    return p.real, p.imag


# ------------------------------------------------------------- softmax family

def _log_probs(xb, lse, scale=1.0):
    """float64 x * scale - lse, NaN where the row's lse is NaN or +inf (as the unsplit call)."""
    with np.errstate(invalid="ignore", over="ignore"):
        z = xb.astype(np.float64) * scale - lse
        return np.where(np.isnan(lse) | (lse == np.inf), np.nan, z)


def _softmax_apply(xb, lse, scale, log, out_dtype):
    z = _log_probs(xb, lse, scale)
    r = z if log else np.exp(z)
    return r.astype(out_dtype, copy=False)


def _softmax_any(x, axis, temperature, out, log, negate=False):
    _no_out(out=out)
    x = _arr(x, "x")
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension")
    ax = _axis(axis, x.ndim)
    fn = cyloss.log_softmax if log else cyloss.softmax
    probe = fn(_probe(x), axis=ax, temperature=temperature)  # checks dtype and temperature
    dtype = probe.dtype
    src = -x if negate else x
    if _one_chunk_along(x, ax):
        return src.map_blocks(fn, axis=ax, temperature=temperature, dtype=dtype, meta=np.empty((0,) * x.ndim, dtype))
    scale = 1.0 / float(temperature)
    lse = _lse_reduction(src, (ax,), True, np.float64, scale)
    return da.map_blocks(_softmax_apply, src, lse, scale=scale, log=log, out_dtype=dtype, dtype=dtype,
                         meta=np.empty((0,) * x.ndim, dtype))


def softmax(x, axis=-1, *, temperature=1.0, out=None):
    """cyloss.softmax of a dask array (see the module docstring for the split class axis)."""
    return _softmax_any(x, axis, temperature, out, False)


def log_softmax(x, axis=-1, *, temperature=1.0, out=None):
    """cyloss.log_softmax of a dask array."""
    return _softmax_any(x, axis, temperature, out, True)


def softmin(x, axis=-1, *, temperature=1.0, out=None):
    """cyloss.softmin (softmax of -x) of a dask array."""
    return _softmax_any(x, axis, temperature, out, False, negate=True)


def _norm_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, tuple):
        axes = tuple(_axis(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis {axis} has repeated entries")
        return tuple(sorted(axes))
    return (_axis(axis, ndim),)


def _signed_chunk(zb, axis, keepdims):
    """A block's (lse, sign) of sum b exp(x) over `axis` (x and b packed as x + i b, float64)
    from cyloss.logsumexp itself: the pair (m, s) = (lse, sign) stands for s e^m."""
    axes = tuple(axis)
    lse, sign = cyloss.logsumexp(np.ascontiguousarray(zb.real), axis=axes, b=np.ascontiguousarray(zb.imag),
                                 keepdims=True, return_sign=True)
    out = np.empty(lse.shape, dtype=np.complex128)
    out.real = lse
    out.imag = sign
    return out


def _signed_combine(pb, axis, keepdims):
    return _pairs_combine(pb, axis, keepdims, signed=True)


def _signed_aggregate(pb, axis, keepdims):
    pb = _signed_combine(pb, axis, True)
    M, S = pb.real, pb.imag
    with np.errstate(divide="ignore", invalid="ignore"):
        lse = M + np.log(np.abs(S))
        sign = np.where(np.isnan(M), np.nan, np.sign(S))
    lse = np.where(np.isnan(M) | np.isnan(S), np.nan, lse)
    out = np.empty(M.shape, dtype=np.complex128)
    out.real = lse
    out.imag = sign
    if not keepdims:
        out = out.reshape(tuple(s for i, s in enumerate(pb.shape) if i not in tuple(axis)))
    return out


def logsumexp(x, axis=None, *, b=None, keepdims=False, return_sign=False):
    """cyloss.logsumexp of a dask array: a tree reduction of the chunks' (max, sum exp(x -
    max)) pairs over any axes.  With `b` (a dask or NumPy array broadcastable against x, as
    in scipy) or return_sign, each chunk's (log|sum b e^x|, sign) comes from
    cyloss.logsumexp and the signed pairs are merged the same way."""
    x = _arr(x, "x")
    bb = None if b is None else _arr(b, "b")
    if bb is not None:
        try:
            shape = np.broadcast_shapes(x.shape, bb.shape)
        except ValueError:
            raise ValueError(f"b must broadcast against x: shapes {bb.shape} and {x.shape}") from None
    pb = None if bb is None else _probe(bb)
    probe = cyloss.logsumexp(_probe(x), b=pb, axis=axis, keepdims=keepdims, return_sign=return_sign)  # checks
    dtype = (probe[0] if return_sign else probe).dtype
    if bb is not None and shape != x.shape:
        x = da.broadcast_to(x, shape)
    if bb is not None and bb.shape != x.shape:
        bb = da.broadcast_to(bb, x.shape)
    if bb is not None and bb.chunks != x.chunks:
        bb = bb.rechunk(x.chunks)
    if x.ndim == 0:
        x = x.reshape((1,))
        bb = None if bb is None else bb.reshape((1,))
        axes, keepdims = (0,), False
    else:
        axes = _norm_axes(axis, x.ndim)
    keepdims = bool(keepdims)
    split = any(x.numblocks[a] > 1 for a in axes)
    if bb is None and not return_sign and split:
        return _lse_reduction(x, axes, keepdims, dtype)
    if split:
        z = x.astype(np.float64) + 1j * (1.0 if bb is None else bb.astype(np.float64))
        r = da.reduction(z, chunk=_signed_chunk, combine=_signed_combine, aggregate=_signed_aggregate, axis=axes,
                         keepdims=keepdims, dtype=np.complex128, concatenate=True,
                         meta=np.empty((0,) * (x.ndim if keepdims else x.ndim - len(axes)), np.complex128))
        if return_sign:
            return r.real.astype(dtype), r.imag.astype(dtype)
        return da.where(r.imag < 0, np.nan, r.real).astype(dtype)  # log of a negative sum, as in scipy
    drop = () if keepdims else axes
    kw = dict(axis=axes if len(axes) > 1 else axes[0], keepdims=True)

    def block(xb, bb_=None):
        r = cyloss.logsumexp(xb, b=bb_, return_sign=return_sign, **kw)
        if return_sign:
            return np.stack(r)
        return np.asarray(r)

    args = (x,) if bb is None else (x, bb)
    if return_sign:
        r = da.map_blocks(lambda *a: block(*a), *args, dtype=dtype, new_axis=0,
                          chunks=((2,),) + tuple((1,) * x.numblocks[i] if i in axes else x.chunks[i]
                                                 for i in range(x.ndim)))
        res = (r[0], r[1])
        if drop:
            res = tuple(v.squeeze(axis=drop) for v in res)
        return res
    r = da.map_blocks(lambda *a: block(*a), *args, dtype=dtype,
                      chunks=tuple((1,) * x.numblocks[i] if i in axes else x.chunks[i] for i in range(x.ndim)))
    return r.squeeze(axis=drop) if drop else r


def _backward(y, grad, axis, out, log):
    _no_out(out=out)
    y = _arr(y, "log_y" if log else "y")
    g = _arr(grad, "grad")
    if y.shape != g.shape:
        raise ValueError(f"grad must have the shape of {'log_y' if log else 'y'} {y.shape}, got {g.shape}")
    ax = _axis(axis, y.ndim)
    fn = cyloss.log_softmax_backward if log else cyloss.softmax_backward
    dtype = fn(_probe(y), _probe(g), axis=ax).dtype
    if _one_chunk_along(y, ax) and _one_chunk_along(g, ax):
        return da.map_blocks(fn, y, g.rechunk(y.chunks), axis=ax, dtype=dtype)
    g = g.rechunk(y.chunks)
    y64, g64 = y.astype(np.float64), g.astype(np.float64)
    if log:
        s = g64.sum(axis=ax, keepdims=True)
        return (g64 - da.exp(y64) * s).astype(dtype)
    s = (g64 * y64).sum(axis=ax, keepdims=True)
    return (y64 * (g64 - s)).astype(dtype)


def softmax_backward(y, grad, axis=-1, *, out=None):
    """cyloss.softmax_backward of dask arrays (row dot products over a split axis in float64)."""
    return _backward(y, grad, axis, out, False)


def log_softmax_backward(log_y, grad, axis=-1, *, out=None):
    """cyloss.log_softmax_backward of dask arrays."""
    return _backward(log_y, grad, axis, out, True)


def entropy(p, axis=-1):
    """cyloss.entropy of a dask array (row sums over a split axis in float64)."""
    p = _arr(p, "p")
    ax = _axis(axis, p.ndim)
    dtype = cyloss.entropy(_probe(p), axis=ax).dtype
    if _one_chunk_along(p, ax):
        return p.map_blocks(cyloss.entropy, axis=ax, drop_axis=ax, dtype=dtype)
    # -sum p log p per chunk (0 log 0 = 0), chunk entropies added in float64
    parts = p.map_blocks(lambda b: cyloss.entropy(b.astype(np.float64), axis=ax)[(slice(None),) * ax + (None,)],
                         dtype=np.float64, chunks=tuple((1,) * p.numblocks[ax] if i == ax else p.chunks[i]
                                                        for i in range(p.ndim)))
    return parts.sum(axis=ax).astype(dtype)


# ------------------------------------------------------------- elementwise losses

def _elementwise(fn, inputs, names, kw, weight, reduction, return_grad, return_hessian, return_loss, mean_rule,
                 grad_out=None, hess_out=None):
    """An elementwise loss of dask arrays.  inputs: the array arguments (the first is the one
    differentiated); kw: the scalar parameters; weight: None or an array broadcast to the
    loss's shape; mean_rule: "count" (mean = sum / size), "weight" (sum / sum(w) when
    weighted) or an int (sum / that number, e.g. kl_div's batchmean)."""
    _no_out(grad_out=grad_out, hess_out=hess_out)
    arrs = [_arr(a, n) for a, n in zip(inputs, names)]
    w = None if weight is None else _arr(weight, "weight")
    allin = arrs + ([w] if w is not None else [])
    # argument checks and result dtype, on one element of each array
    probe_kw = dict(kw)
    def pr(a):  # with pos_weight (per class, last axis) the stand-ins keep the last axis
        if "pos_weight" in kw and a.ndim:
            return _probe(a, (1,) * (a.ndim - 1) + (a.shape[-1],))
        return _probe(a)

    if w is not None:
        probe_kw["weight"] = pr(w)
    probe = fn(*[pr(a) for a in arrs], reduction=reduction, return_grad=return_grad,
               return_hessian=return_hessian, return_loss=return_loss, **probe_kw)
    red = reduction
    want_grad = bool(return_grad) or bool(return_hessian)
    try:
        shape = np.broadcast_shapes(*[a.shape for a in allin])
    except ValueError:
        raise ValueError("the arrays " + ", ".join(f"{n} {a.shape}" for n, a in zip(names, arrs)) +
                         (f", weight {w.shape}" if w is not None else "") + " do not broadcast") from None
    if want_grad and arrs[0].shape != shape:
        raise ValueError(f"{names[0]} must have the loss's broadcast shape {shape} for gradients on dask arrays, "
                         f"got {arrs[0].shape}")
    if isinstance(probe, tuple):
        ldt = probe[0].dtype if return_loss else None
        gdt = (probe[1] if return_loss else probe[0]).dtype
    else:
        ldt, gdt = probe.dtype, None
    first = arrs[0]
    if first.shape == shape:
        allin = [first] + [_align(a, first.chunks) for a in allin[1:]]
    nd = len(shape)
    nhg = (1 if want_grad else 0) + (1 if return_hessian else 0)

    def call(blocks, reduction_):
        kw_ = dict(kw)
        if w is not None:
            kw_["weight"] = blocks[-1]
            blocks = blocks[:-1]
        return fn(*blocks, reduction=reduction_, return_grad=bool(return_grad) or bool(return_hessian),
                  return_hessian=bool(return_hessian), **kw_)

    def as_tuple(r):
        return r if isinstance(r, tuple) else (r,)

    meta = np.empty((0,) * nd, dtype=ldt or gdt)
    if red == "none":
        if not want_grad:
            return da.map_blocks(lambda *b: call(b, "none"), *allin, dtype=ldt, meta=meta)
        st = da.map_blocks(lambda *b: np.stack(as_tuple(call(b, "none"))), *allin, dtype=gdt, new_axis=0,
                           chunks=((1 + nhg,),) + first.chunks, meta=np.empty((0,) * (nd + 1), dtype=gdt))
        outs = [st[k] for k in range(1 + nhg)]
        return _finish(outs, return_loss, return_grad, return_hessian)
    # "sum" / "mean": the denominator
    if red == "mean":
        if isinstance(mean_rule, int):
            denom = float(mean_rule)
        elif mean_rule == "weight" and w is not None:
            denom = da.broadcast_to(w, shape).astype(np.float64).sum()
        else:
            denom = float(math.prod(shape))
    else:
        denom = 1.0
    # the per-block sums, tree-reduced in float64
    one = tuple((1,) * nb for nb in first.numblocks) if first.shape == shape else None

    def block_sum(*b):
        r = as_tuple(call(b, "sum"))
        return np.full((1,) * nd, float(r[0]), dtype=np.float64)

    if one is None:
        # the first input is broadcast (loss only): sums over a broadcast of every input
        allin = [da.broadcast_to(a, shape) for a in allin]
        one = tuple((1,) * nb for nb in allin[0].numblocks)
    if not want_grad:
        sums = da.map_blocks(block_sum, *allin, dtype=np.float64, chunks=one,
                             meta=np.empty((0,) * nd, np.float64))
        return (sums.sum() / denom).astype(ldt)

    def run(*b):
        *b, scale = b
        r = as_tuple(call(tuple(b), "sum"))
        sc = 1.0 / np.float64(scale)
        return (np.float64(r[0]),) + tuple((g * sc).astype(gdt, copy=False) for g in r[1:])

    full = [a if a.ndim == nd else a[(None,) * (nd - a.ndim)] for a in allin]
    return _fused(run, full, denom, nhg, gdt, ldt, return_loss, return_grad, return_hessian)



def _fused(run, arrays, denom, nhg, gdt, ldt, return_loss, return_grad, return_hessian, none_axis=False):
    """Loss and gradients from one call per block (a single read of the inputs): run(*blocks,
    scale) -> (the block's loss, grad[, hess] already scaled by `scale` = 1 / the mean's
    denominator).  The loss is a float64 sum ("sum" / "mean": tree-summed and divided by
    `denom`), or, with none_axis (reduction "none"), the block's losses: of the block's
    shape (none_axis True) or with axis none_axis dropped (an int: run returns it kept, of
    length 1).  arrays[0] sets the block grid and the gradients' chunks; the other arrays
    have the same number of dimensions and either its blocks or one block along each axis.
    denom: a float or a 0-d dask array."""
    import dask
    grid = arrays[0].numblocks
    dl = [a.to_delayed() for a in arrays]
    d = denom.to_delayed().item() if _is_dask(denom) else float(denom)
    tasks = np.empty(grid, dtype=object)
    for idx in np.ndindex(*grid):
        blocks = [b[tuple(i if n > 1 else 0 for i, n in zip(idx, a.numblocks))] for a, b in zip(arrays, dl)]
        tasks[idx] = dask.delayed(run, nout=1 + nhg, pure=True)(*blocks, d)

    def nest(idx, k, dtype, drop=None):
        if len(idx) == len(grid):
            shape = tuple(1 if dim == drop else arrays[0].chunks[dim][i] for dim, i in enumerate(idx))
            return da.from_delayed(tasks[idx][k], shape=shape, dtype=dtype)
        return [nest(idx + (i,), k, dtype, drop) for i in range(grid[len(idx)])]

    def whole(k, dtype, drop=None):
        return da.block(nest((), k, dtype, drop)) if grid else da.from_delayed(tasks[()][k], shape=(), dtype=dtype)

    if none_axis is False:
        total = da.stack([da.from_delayed(t[0], shape=(), dtype=np.float64) for t in tasks.flat]).sum()
        loss = (total / denom).astype(ldt) if ldt is not None else None
    elif ldt is None:  # return_loss=False: the blocks' losses are not wanted
        loss = None
    elif none_axis is True:
        loss = whole(0, ldt)
    else:
        loss = whole(0, ldt, none_axis).squeeze(axis=none_axis)
    grads = [whole(1 + k, gdt) for k in range(nhg)]
    return _finish([loss] + grads, return_loss, return_grad, return_hessian)


def _align(a, chunks):
    """a rechunked to `chunks` (those of the loss's shape) along its broadcast-aligned axes
    of full length (axes of length 1 stay one chunk)."""
    off = len(chunks) - a.ndim
    want = tuple(a.chunks[i] if a.shape[i] == 1 and sum(chunks[off + i]) != 1 else chunks[off + i]
                 for i in range(a.ndim))
    return a if want == a.chunks else a.rechunk(want)


def _finish(outs, return_loss, return_grad, return_hessian):
    loss, rest = outs[0], outs[1:]
    res = ([loss] if return_loss else []) + rest
    return res[0] if len(res) == 1 else tuple(res)


def _ew_factory(name, nin, mean_rule, weighted=True):
    def f(*args, weight=None, reduction="mean", return_grad=False, grad_out=None, return_hessian=False,
          hess_out=None, return_loss=True, **kw):
        np_fn = getattr(cyloss, name)
        if len(args) != nin:
            raise TypeError(f"{name}() takes {nin} positional arguments, got {len(args)}")
        names = _ARG_NAMES[name]
        rule = mean_rule
        if name == "kl_div" and reduction == "batchmean":
            a0 = _arr(args[0], names[0])
            rule = int(a0.shape[0]) if a0.ndim else 1
            reduction_ = "mean"
        else:
            reduction_ = reduction
        if reduction_ not in ("none", "sum", "mean"):
            np_fn(*[np.ones(1)] * nin, reduction=reduction, **kw)  # the NumPy function's message
        return _elementwise(np_fn, args, names, kw, weight, reduction_, return_grad, return_hessian, return_loss,
                            rule, grad_out, hess_out)

    f.__name__ = name
    f.__qualname__ = name
    f.__doc__ = f"cyloss.{name} of dask arrays (blockwise; reductions as float64 tree sums)."
    return f


_ARG_NAMES = {
    "mse_loss": ("pred", "target"), "l1_loss": ("pred", "target"), "huber_loss": ("pred", "target"),
    "smooth_l1_loss": ("pred", "target"), "log_cosh_loss": ("pred", "target"),
    "pseudo_huber_loss": ("pred", "target"),
    "binary_cross_entropy_with_logits": ("logits", "target"), "binary_cross_entropy": ("probs", "target"),
    "kl_div": ("log_q", "target"), "soft_margin_loss": ("input", "target"),
    "hinge_embedding_loss": ("input", "target"), "poisson_nll_loss": ("input", "target"),
    "sigmoid_focal_loss": ("inputs", "targets"),
    "half_poisson_loss": ("raw_prediction", "y"), "half_gamma_loss": ("raw_prediction", "y"),
    "half_tweedie_loss": ("raw_prediction", "y"), "half_tweedie_loss_identity": ("raw_prediction", "y"),
    "pinball_loss": ("raw_prediction", "y"), "exponential_loss": ("raw_prediction", "y"),
}


def _unweighted(f, name):
    def g(a, b, *, reduction="mean", return_grad=False, grad_out=None, return_hessian=False, hess_out=None,
          return_loss=True, **kw):
        return f(a, b, reduction=reduction, return_grad=return_grad, grad_out=grad_out,
                 return_hessian=return_hessian, hess_out=hess_out, return_loss=return_loss, **kw)

    g.__name__ = g.__qualname__ = name
    g.__doc__ = f.__doc__
    return g


mse_loss = _ew_factory("mse_loss", 2, "weight")
l1_loss = _ew_factory("l1_loss", 2, "weight")
huber_loss = _ew_factory("huber_loss", 2, "count")
smooth_l1_loss = _ew_factory("smooth_l1_loss", 2, "count")
log_cosh_loss = _ew_factory("log_cosh_loss", 2, "weight")
pseudo_huber_loss = _ew_factory("pseudo_huber_loss", 2, "weight")
half_poisson_loss = _ew_factory("half_poisson_loss", 2, "weight")
half_gamma_loss = _ew_factory("half_gamma_loss", 2, "weight")
half_tweedie_loss = _ew_factory("half_tweedie_loss", 2, "weight")
half_tweedie_loss_identity = _ew_factory("half_tweedie_loss_identity", 2, "weight")
pinball_loss = _ew_factory("pinball_loss", 2, "weight")
exponential_loss = _ew_factory("exponential_loss", 2, "weight")
binary_cross_entropy = _ew_factory("binary_cross_entropy", 2, "count")
kl_div = _unweighted(_ew_factory("kl_div", 2, "count"), "kl_div")
soft_margin_loss = _unweighted(_ew_factory("soft_margin_loss", 2, "count"), "soft_margin_loss")
hinge_embedding_loss = _unweighted(_ew_factory("hinge_embedding_loss", 2, "count"), "hinge_embedding_loss")
poisson_nll_loss = _unweighted(_ew_factory("poisson_nll_loss", 2, "count"), "poisson_nll_loss")
_focal = _unweighted(_ew_factory("sigmoid_focal_loss", 2, "count"), "sigmoid_focal_loss")
_bcel = _ew_factory("binary_cross_entropy_with_logits", 2, "count")


def sigmoid_focal_loss(inputs, targets, *, alpha=0.25, gamma=2.0, reduction="none", return_grad=False,
                       grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    """cyloss.sigmoid_focal_loss of dask arrays (blockwise; reductions as float64 tree sums)."""
    return _focal(inputs, targets, alpha=alpha, gamma=gamma, reduction=reduction, return_grad=return_grad,
                  grad_out=grad_out, return_hessian=return_hessian, hess_out=hess_out, return_loss=return_loss)


def binary_cross_entropy_with_logits(logits, target, *, weight=None, pos_weight=None, reduction="mean",
                                     return_grad=False, grad_out=None, return_hessian=False, hess_out=None,
                                     return_loss=True):
    """cyloss.binary_cross_entropy_with_logits of dask arrays; `pos_weight` stays NumPy
    (it broadcasts along the last axis, which must then be one chunk)."""
    kw = {}
    if pos_weight is not None:
        pw = np.asarray(pos_weight)
        lg = _arr(logits, "logits")
        if pw.ndim and lg.ndim and lg.numblocks[-1] > 1:
            logits = lg.rechunk({lg.ndim - 1: -1})
        kw["pos_weight"] = pw
    return _bcel(logits, target, weight=weight, reduction=reduction, return_grad=return_grad, grad_out=grad_out,
                 return_hessian=return_hessian, hess_out=hess_out, return_loss=return_loss, **kw)


# ------------------------------------------------------------- cross-entropy

def _class_chunks(x, ax, target, name="target"):
    """target as a dask array chunked like x without the class axis."""
    t = _arr(target, name)
    want = x.shape[:ax] + x.shape[ax + 1:]
    if t.shape != want:
        raise ValueError(f"{name} must have the logits' shape without the class axis, {want}, got {t.shape}")
    chunks = x.chunks[:ax] + x.chunks[ax + 1:]
    return t if t.chunks == chunks else t.rechunk(chunks)


def _kept_weight(tb, w, ignore):
    kept = tb != ignore
    if w is None:
        return float(np.count_nonzero(kept))
    idx = tb[kept]
    if idx.size and (idx.min() < 0 or idx.max() >= w.shape[0]):
        return 0.0  # the loss pass raises the IndexError naming target
    return float(w[idx].astype(np.float64).sum())


def cross_entropy(logits, target, *, axis=-1, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0, return_grad=False, grad_out=None, return_hessian=False, hess_out=None,
                  return_loss=True):
    """cyloss.cross_entropy of dask arrays: integer targets chunked like the logits without
    the class axis (rechunked to match), or probability targets chunked like the logits;
    class `weight` stays NumPy.  Class axis in one chunk: one blockwise pass over the logits
    ("mean" with gradients first sums the kept targets' weights from the targets alone).
    Class axis split: per-chunk partials (log-sum-exp pair, target logit, weighted logit sum;
    for probability targets the sums of w t' and w t' x) merged over the class chunks; the
    gradient and Hessian come from a second blockwise pass."""
    _no_out(grad_out=grad_out, hess_out=hess_out)
    x = _arr(logits, "logits")
    if x.ndim == 0:
        raise ValueError("logits must have at least one dimension (the class axis)")
    ax = _axis(axis, x.ndim)
    w = None if weight is None else np.asarray(weight)
    t0 = target if _is_dask(target) else np.asarray(target)
    prob = np.dtype(t0.dtype).kind == "f"
    kw = dict(axis=ax, weight=w, ignore_index=ignore_index, label_smoothing=label_smoothing)
    # argument checks and dtypes on a one-row stand-in
    c = x.shape[ax]
    pshape = tuple(1 if i != ax else max(c, 1) for i in range(x.ndim))
    pt = np.ones(pshape, dtype=t0.dtype) / max(c, 1) if prob else np.zeros(pshape[:ax] + pshape[ax + 1:], t0.dtype)
    probe = cyloss.cross_entropy(np.zeros(pshape, x.dtype), pt, reduction=reduction, return_grad=return_grad,
                                 return_hessian=return_hessian, return_loss=return_loss, **kw)
    pr = probe if isinstance(probe, tuple) else (probe,)
    ldt = pr[0].dtype if return_loss else None
    gdt = pr[-1].dtype if (return_grad or return_hessian) else None
    want_grad = bool(return_grad) or bool(return_hessian)
    nhg = (1 if want_grad else 0) + (1 if return_hessian else 0)
    if prob:
        t = _arr(t0, "target")
        if t.shape != x.shape:
            raise ValueError(f"target: float targets are class probabilities and must have the shape of logits "
                             f"{x.shape}, got {t.shape}")
        t = t.rechunk(x.chunks)
    else:
        t = _class_chunks(x, ax, t0)
    rows_shape = x.shape[:ax] + x.shape[ax + 1:]
    n_rows = math.prod(rows_shape)
    nd = x.ndim
    if not _one_chunk_along(x, ax):
        split = _ce_split_prob if prob else _ce_split
        return split(x, t, ax, w, ignore_index, float(label_smoothing), reduction, return_grad, return_hessian,
                     return_loss, ldt, gdt)

    def call(xb, tb, red):
        r = cyloss.cross_entropy(xb, tb, reduction=red, return_grad=want_grad, return_hessian=bool(return_hessian),
                                 **kw)
        return r if isinstance(r, tuple) else (r,)

    tt = t if prob else t[tuple(slice(None) if i != ax else None for i in range(nd))]

    def tgt(tb):
        return tb if prob else np.squeeze(tb, axis=ax)

    if reduction == "none":
        if not want_grad:
            loss = da.map_blocks(lambda xb, tb: call(xb, tgt(tb), "none")[0][(slice(None),) * ax + (None,)], x, tt,
                                 dtype=ldt, chunks=tuple((1,) if i == ax else x.chunks[i] for i in range(nd)))
            return loss.squeeze(axis=ax)

        def run_none(xb, tb, _):
            r = call(xb, tgt(tb), "none")
            return (np.expand_dims(r[0], ax),) + tuple(r[1:])

        return _fused(run_none, [x, tt], 1.0, nhg, gdt, ldt, return_loss, return_grad, return_hessian, none_axis=ax)
    # reductions: the denominator
    if reduction == "mean":
        if prob:
            denom = float(n_rows)
        else:
            parts = t.map_blocks(lambda tb: np.full((1,) * tb.ndim, _kept_weight(tb, w, ignore_index)),
                                 dtype=np.float64, chunks=tuple((1,) * nb for nb in t.numblocks))
            denom = parts.sum()
    else:
        denom = 1.0
    one = tuple((1,) * nb for nb in x.numblocks)

    def block_sum(xb, tb):
        return np.full((1,) * nd, float(call(xb, tgt(tb), "sum")[0]), dtype=np.float64)

    if not want_grad:
        return (da.map_blocks(block_sum, x, tt, dtype=np.float64, chunks=one).sum() / denom).astype(ldt)

    def run(xb, tb, d):
        r = call(xb, tgt(tb), "sum")
        sc = 1.0 / np.float64(d)
        return (np.float64(r[0]),) + tuple((g * sc).astype(gdt, copy=False) for g in r[1:])

    return _fused(run, [x, tt], denom, nhg, gdt, ldt, return_loss, return_grad, return_hessian)


def _split_layout(x, ax):
    """Index strings for blockwise over x with a split class axis `ax`: x's, the rows' (x's
    without ax) and ax's letter; and each class chunk's offset as a dask array of one element
    per chunk (index: ax's letter)."""
    letters = "abcdefghijklmnopqrstuvwxyz"[:x.ndim]
    xi = letters
    ri = letters[:ax] + letters[ax + 1:]
    ci = letters[ax]
    offsets = np.concatenate([[0], np.cumsum(x.chunks[ax])[:-1]]).astype(np.int64)
    offs = da.from_array(offsets, chunks=1)
    return xi, ri, ci, offs


def _split_reduce(merged, reduction, ldt):
    """merged: complex per row (loss + i * its part of the denominator) -> the reduction."""
    if reduction == "none":
        return merged.real.astype(ldt)
    tot = merged.sum()
    if reduction == "mean":
        return (tot.real / tot.imag).astype(ldt)
    return tot.real.astype(ldt)


def _ce_split(x, t, ax, w, ignore, eps, reduction, return_grad, return_hessian, return_loss, ldt, gdt):
    """Class targets, class axis in several chunks: one blockwise pass of per-chunk statistics
    (cyloss.cross_entropy_partial), merged per row chunk by a blockwise call that receives all
    the class chunks' statistics at once; the gradient (and Hessian) a second pass."""
    nd = x.ndim
    c = x.shape[ax]
    xi, ri, ci, offs = _split_layout(x, ax)
    wsum = float(c) if w is None else float(np.asarray(w, dtype=np.float64).sum())
    w64 = None if w is None else np.asarray(w, np.float64)

    def stats(xb, tb, ob):
        off = int(ob[0])
        wb = None if w is None else w[off:off + xb.shape[ax]]
        p = cyloss.cross_entropy_partial(xb, tb.astype(np.int64, copy=False), off, axis=ax, weight=wb,
                                         sums=eps > 0.0)
        if p.x_sum is None:  # no label smoothing: the logit sums are not needed
            p = p._replace(x_sum=np.zeros_like(p.m))
        return np.stack([p.m, p.s, p.x_target, p.found.astype(np.float64), p.x_sum], axis=ax)

    st = da.blockwise(stats, xi, x, xi, t, ri, offs, ci, dtype=np.float64, align_arrays=False, adjust_chunks={ci: lambda n: 5},
                      meta=np.empty((0,) * nd, np.float64))
    want_grad = bool(return_grad) or bool(return_hessian)

    def merge(sb, tb):
        k = sb.shape[ax] // 5
        sb = np.moveaxis(sb, ax, 0).reshape((k, 5) + tb.shape)
        M, S = _merge(sb[:, 0], sb[:, 1])
        with np.errstate(divide="ignore", invalid="ignore"):
            lse = M + np.log(S)
        found = sb[:, 3].sum(axis=0) > 0
        xt = sb[:, 2].sum(axis=0)
        xsum = sb[:, 4].sum(axis=0)
        tb_ = tb.astype(np.int64, copy=False)
        kept = tb_ != ignore
        bad = kept & ~found
        if bad.any():
            i = np.flatnonzero(bad)[0]
            raise IndexError(f"target: class index {tb_.reshape(-1)[i]} is out of range for {c} classes "
                             f"(ignore_index={ignore})")
        wt = np.ones_like(lse) if w is None else w64[np.where(kept, tb_, 0)]
        with np.errstate(invalid="ignore"):
            loss = (1.0 - eps) * wt * (lse - xt) + (eps / c) * (wsum * lse - xsum)
        out = np.empty(tb.shape, np.complex128)
        out.real = np.where(kept, loss, 0.0)
        out.imag = np.where(kept, wt, 0.0)
        if want_grad:  # lse for the second pass, behind the packed loss
            return np.stack([out, lse.astype(np.complex128)])
        return out

    if want_grad:
        m2 = da.blockwise(merge, "Z" + ri, st, xi, t, ri, dtype=np.complex128, concatenate=True,
                          new_axes={"Z": 2}, meta=np.empty((0,) * nd, np.complex128))
        packed, lse = m2[0], m2[1].real
    else:
        packed = da.blockwise(merge, ri, st, xi, t, ri, dtype=np.complex128, concatenate=True,
                              meta=np.empty((0,) * (nd - 1), np.complex128))
    loss = _split_reduce(packed, reduction, ldt)
    if not want_grad:
        return loss
    denom = packed.imag.sum() if reduction == "mean" else 1.0

    def grad(xb, lb, tb, ob, d):
        off = int(ob[0])
        cb = xb.shape[ax]
        shp = tuple(cb if i == ax else 1 for i in range(nd))
        lb = np.expand_dims(lb, ax)
        tb_ = np.expand_dims(tb.astype(np.int64, copy=False), ax)
        kept = tb_ != ignore
        wt = np.ones(tb_.shape) if w is None else w64[np.where(kept, tb_, 0)]
        wb = np.ones(shp) if w is None else w64[off:off + cb].reshape(shp)
        p = np.exp(_log_probs(xb, lb))
        A = (1.0 - eps) * wt + (eps / c) * wsum
        cls = np.arange(off, off + cb).reshape(shp)
        g = A * p - (1.0 - eps) * wt * (cls == tb_) - (eps / c) * wb
        sc = np.where(kept, 1.0 / np.float64(d), 0.0)
        if not return_hessian:
            return (g * sc).astype(gdt)
        return np.stack([g * sc, A * p * (1.0 - p) * sc]).astype(gdt)  # diagonal of A (diag(p) - p p^T)

    return _finish([loss] + _second_pass(grad, x, xi, [lse, ri, t, ri, offs, ci], denom, gdt, return_hessian),
                   return_loss, return_grad, return_hessian)


def _second_pass(fn, x, xi, args, denom, gdt, return_hessian):
    """[grad] or [grad, hess] chunked like x from one blockwise call per block of x;
    args: (array, index) pairs flattened, then the denominator (a float or a 0-d dask array)."""
    nd = x.ndim
    d = (denom, "") if _is_dask(denom) else (float(denom), None)
    if not return_hessian:
        return [da.blockwise(fn, xi, x, xi, *args, *d, dtype=gdt, align_arrays=False, meta=np.empty((0,) * nd, gdt))]
    gh = da.blockwise(fn, "Z" + xi, x, xi, *args, *d, dtype=gdt, align_arrays=False, new_axes={"Z": 2},
                      meta=np.empty((0,) * (nd + 1), gdt))
    return [gh[0], gh[1]]


def _ce_split_prob(x, t, ax, w, ignore, eps, reduction, return_grad, return_hessian, return_loss, ldt, gdt):
    """Probability targets (chunked like the logits), class axis in several chunks: per chunk
    the (m, s) pair, A = sum w t' and B = sum w t' x with t' the smoothed target; per row
    loss = A lse - B, gradient A p - w t', Hessian diagonal A p (1 - p)."""
    nd = x.ndim
    c = x.shape[ax]
    xi, ri, ci, offs = _split_layout(x, ax)
    w64 = None if w is None else np.asarray(w, np.float64)
    n_rows = float(math.prod(x.shape[:ax] + x.shape[ax + 1:]))
    want_grad = bool(return_grad) or bool(return_hessian)

    def smoothed(xb, tb, ob):
        off = int(ob[0])
        cb = xb.shape[ax]
        tw = tb.astype(np.float64)
        if eps > 0.0:
            tw = (1.0 - eps) * tw + eps / c
        if w64 is not None:
            tw = tw * w64[off:off + cb].reshape(tuple(cb if i == ax else 1 for i in range(nd)))
        return tw

    def stats(xb, tb, ob):
        tw = smoothed(xb, tb, ob)
        m, s = cyloss.logsumexp_partial(xb, axis=ax)
        with np.errstate(invalid="ignore"):
            B = (tw * xb.astype(np.float64)).sum(axis=ax)
        return np.stack([m, s, tw.sum(axis=ax), B], axis=ax)

    st = da.blockwise(stats, xi, x, xi, t, xi, offs, ci, dtype=np.float64, align_arrays=False, adjust_chunks={ci: lambda n: 4},
                      meta=np.empty((0,) * nd, np.float64))

    def merge(sb):
        k = sb.shape[ax] // 4
        sb = np.moveaxis(sb, ax, 0).reshape((k, 4) + sb.shape[:ax] + sb.shape[ax + 1:])
        M, S = _merge(sb[:, 0], sb[:, 1])
        A = sb[:, 2].sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            lse = M + np.log(S)
            loss = A * lse - sb[:, 3].sum(axis=0)
        out = np.empty(lse.shape, np.complex128)
        out.real = loss
        out.imag = 1.0
        if want_grad:
            return np.stack([out, lse + 1j * A])
        return out

    if want_grad:
        m2 = da.blockwise(merge, "Z" + ri, st, xi, dtype=np.complex128, concatenate=True, new_axes={"Z": 2},
                          meta=np.empty((0,) * nd, np.complex128))
        packed, lse, A = m2[0], m2[1].real, m2[1].imag
    else:
        packed = da.blockwise(merge, ri, st, xi, dtype=np.complex128, concatenate=True,
                              meta=np.empty((0,) * (nd - 1), np.complex128))
    loss = _split_reduce(packed, reduction, ldt)
    if not want_grad:
        return loss
    sc = 1.0 / n_rows if reduction == "mean" else 1.0

    def grad(xb, tb, lb, Ab, ob, _):
        tw = smoothed(xb, tb, ob)
        lb, Ab = np.expand_dims(lb, ax), np.expand_dims(Ab, ax)
        p = np.exp(_log_probs(xb, lb))
        with np.errstate(invalid="ignore", over="ignore"):
            g = (Ab * p - tw) * sc
            if not return_hessian:
                return g.astype(gdt)
            return np.stack([g, Ab * p * (1.0 - p) * sc]).astype(gdt)

    return _finish([loss] + _second_pass(grad, x, xi, [t, xi, lse, ri, A, ri, offs, ci], 1.0, gdt,
                                         return_hessian), return_loss, return_grad, return_hessian)


def nll_loss(log_probs, target, *, axis=-1, weight=None, ignore_index=-100, reduction="mean", return_grad=False,
             grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    """cyloss.nll_loss of dask arrays (the class axis is rechunked to one chunk)."""
    _no_out(grad_out=grad_out, hess_out=hess_out)
    x = _arr(log_probs, "log_probs")
    if x.ndim == 0:
        raise ValueError("log_probs must have at least one dimension (the class axis)")
    ax = _axis(axis, x.ndim)
    if not _one_chunk_along(x, ax):
        x = x.rechunk({ax: -1})
    w = None if weight is None else np.asarray(weight)
    t = _class_chunks(x, ax, target)
    kw = dict(axis=ax, weight=w, ignore_index=ignore_index)
    c = x.shape[ax]
    pshape = tuple(1 if i != ax else max(c, 1) for i in range(x.ndim))
    probe = cyloss.nll_loss(np.zeros(pshape, x.dtype), np.zeros(pshape[:ax] + pshape[ax + 1:], t.dtype),
                            reduction=reduction, return_grad=return_grad, return_hessian=return_hessian,
                            return_loss=return_loss, **kw)
    pr = probe if isinstance(probe, tuple) else (probe,)
    ldt = pr[0].dtype if return_loss else None
    gdt = pr[-1].dtype if (return_grad or return_hessian) else None
    want_grad = bool(return_grad) or bool(return_hessian)
    nhg = (1 if want_grad else 0) + (1 if return_hessian else 0)
    nd = x.ndim
    tt = t[tuple(slice(None) if i != ax else None for i in range(nd))]

    def call(xb, tb, red):
        r = cyloss.nll_loss(xb, np.squeeze(tb, axis=ax), reduction=red, return_grad=want_grad,
                            return_hessian=bool(return_hessian), **kw)
        return r if isinstance(r, tuple) else (r,)

    if reduction == "none":
        if not want_grad:
            loss = da.map_blocks(lambda xb, tb: call(xb, tb, "none")[0][(slice(None),) * ax + (None,)], x, tt,
                                 dtype=ldt, chunks=tuple((1,) if i == ax else x.chunks[i] for i in range(nd)))
            return loss.squeeze(axis=ax)

        def run_none(xb, tb, _):
            r = call(xb, tb, "none")
            return (np.expand_dims(r[0], ax),) + tuple(r[1:])

        return _fused(run_none, [x, tt], 1.0, nhg, gdt, ldt, return_loss, return_grad, return_hessian, none_axis=ax)
    if reduction == "mean":
        denom = t.map_blocks(lambda tb: np.full((1,) * tb.ndim, _kept_weight(tb, w, ignore_index)),
                             dtype=np.float64, chunks=tuple((1,) * nb for nb in t.numblocks)).sum()
    else:
        denom = 1.0
    one = tuple((1,) * nb for nb in x.numblocks)
    if not want_grad:
        total = da.map_blocks(lambda xb, tb: np.full((1,) * nd, float(call(xb, tb, "sum")[0])), x, tt,
                              dtype=np.float64, chunks=one).sum()
        return (total / denom).astype(ldt)

    def run(xb, tb, d):
        r = call(xb, tb, "sum")
        sc = 1.0 / np.float64(d)
        return (np.float64(r[0]),) + tuple((g * sc).astype(gdt, copy=False) for g in r[1:])

    return _fused(run, [x, tt], denom, nhg, gdt, ldt, return_loss, return_grad, return_hessian)


# ------------------------------------------------------------- losses over samples

def _batched(name, args, names, axes, kw, reduction, return_grad, return_hessian, return_loss, ngrad, count,
             grad_out=None, hess_out=None):
    """A loss of samples along a batch axis (each array's entry of `axes`: its batch axis,
    or None for an argument passed whole to every block, e.g. class weights), evaluated per
    block of samples with dask.delayed: each block's call returns its loss ("none": the
    block's losses; otherwise its "mean" and the number of loss terms, count(block shapes)),
    gradients and Hessian; "mean" is the count-weighted mean of the block means, the
    gradients are scaled from the block's mean to the whole one.  ngrad: the number of
    gradients returned (1: an array; k > 1: a tuple of k)."""
    import dask
    _no_out(grad_out=grad_out, hess_out=hess_out)
    fn = getattr(cyloss, name)
    if reduction not in ("none", "sum", "mean"):
        fn(*[np.zeros(1)] * len(args), reduction=reduction, **kw)  # the NumPy function's message
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    arrs = []
    for a, n, ax in zip(args, names, axes):
        arrs.append(_arr(a, n) if (ax is not None and (_is_dask(a) or np.ndim(a) > ax)) else
                    (a if _is_dask(a) else np.asarray(a)))
    batched = [i for i, (a, ax) in enumerate(zip(arrs, axes)) if ax is not None and _is_dask(a) and a.ndim > ax]
    want_grad = bool(return_grad) or bool(return_hessian)
    flags = dict(return_grad=want_grad, return_hessian=bool(return_hessian)) if return_hessian is not None else \
        dict(return_grad=want_grad)
    # argument checks: the NumPy function on the first sample of every batched argument
    sample = [a[tuple(slice(0, 1) if d == axes[i] else slice(None) for d in range(a.ndim))] if i in batched
              else a for i, a in enumerate(arrs)]
    sample = [s.compute() if _is_dask(s) else s for s in sample]
    probe = fn(*sample, reduction=reduction, return_loss=True, **flags, **kw)
    pr = probe if isinstance(probe, tuple) else (probe,)
    ldt = np.asarray(pr[0]).dtype
    if not batched:
        nb = 1
    else:
        first = arrs[batched[0]]
        rows = first.chunks[axes[batched[0]]]
        for i in batched:
            a = arrs[i]
            if a.shape[axes[i]] != sum(rows):
                raise ValueError(f"{names[i]} has {a.shape[axes[i]]} samples along axis {axes[i]}, "
                                 f"{names[batched[0]]} {sum(rows)}")
            want = tuple(rows if d == axes[i] else (a.shape[d],) for d in range(a.ndim))
            if a.chunks != want:
                arrs[i] = a.rechunk(want)
        nb = len(rows)
    red_b = reduction  # "mean": the blocks' means, weighted by their counts of loss terms

    def run(*blk):
        r = fn(*blk, reduction=red_b, return_loss=True, **flags, **kw)
        r = r if isinstance(r, tuple) else (r,)
        loss = np.asarray(r[0])
        flat = [loss if red_b == "none" else np.float64(loss), count([np.shape(b) for b in blk])]
        for part in r[1:]:
            flat.extend(part if isinstance(part, tuple) else (part,))
        return tuple(flat)

    outs = []
    for k in range(nb):
        blk = []
        for i, a in enumerate(arrs):
            if i in batched:
                blk.append(a.blocks[tuple(k if d == axes[i] else 0 for d in range(a.ndim))])
            else:
                blk.append(a)
        outs.append(dask.delayed(run, nout=2 + ngrad + (1 if return_hessian else 0), pure=True)(*blk))
    # block shapes (static): of each batched argument's block, and of the whole ones
    shapes = [[(arrs[i].blocks[tuple(k if d == axes[i] else 0 for d in range(arrs[i].ndim))].shape
                if i in batched else np.shape(arrs[i])) for i in range(len(arrs))] for k in range(nb)]
    counts = [count(s) for s in shapes]
    total = float(sum(counts))
    # the loss
    if reduction == "none":
        if not batched:
            loss = da.from_delayed(outs[0][0], shape=np.shape(pr[0]), dtype=ldt)
        else:
            b0 = batched[0]
            parts = []
            for k in range(nb):
                n_k = shapes[k][b0][axes[b0]]
                rest = tuple(np.shape(np.asarray(pr[0])))[1:]
                parts.append(da.from_delayed(outs[k][0], shape=(n_k,) + rest, dtype=ldt))
            loss = da.concatenate(parts, axis=0) if np.ndim(pr[0]) else parts[0].reshape(())
    else:
        means = da.stack([da.from_delayed(o[0], shape=(), dtype=np.float64) for o in outs])
        if reduction == "mean":
            loss = ((means * np.array(counts, dtype=np.float64)).sum() / total).astype(ldt)
        else:
            loss = means.sum().astype(ldt)
    if not want_grad:
        return loss
    # gradients (and the Hessian of the first input): chunked like their input's batch axis
    results = []
    gpos = [i for i in range(len(arrs)) if names[i] in _GRAD_OF[name]][:ngrad]
    nh = 1 if return_hessian else 0

    def bscale(k):  # "mean": a block's gradient is that of its own mean
        return counts[k] / total if reduction == "mean" else 1.0

    for j in range(ngrad + nh):
        i = gpos[j] if j < ngrad else gpos[0]
        gdt = ldt
        if i in batched:
            parts = [da.from_delayed(outs[k][2 + j], shape=shapes[k][i], dtype=gdt) for k in range(nb)]
            scale = [bscale(k) for k in range(nb)]
            parts = [p if sc == 1.0 else (p * sc).astype(gdt) for p, sc in zip(parts, scale)]
            g = da.concatenate(parts, axis=axes[i]) if nb > 1 else parts[0]
        else:  # an argument given whole to every block: its gradient is the sum over blocks
            shp = np.shape(arrs[i])
            parts = [da.from_delayed(outs[k][2 + j], shape=shp, dtype=gdt) * bscale(k) for k in range(nb)]
            g = da.stack(parts).sum(axis=0).astype(gdt)
        results.append(g)
    grads = results[:ngrad]
    gpart = grads[0] if ngrad == 1 else tuple(grads)
    res = ([loss] if return_loss else []) + [gpart] + (results[ngrad:] if return_hessian else [])
    return res[0] if len(res) == 1 else tuple(res)


# the arguments each loss differentiates, in the order of its returned gradients
_GRAD_OF = {
    "multilabel_soft_margin_loss": ("input",), "multi_margin_loss": ("input",),
    "multilabel_margin_loss": ("input",), "cosine_embedding_loss": ("input1", "input2"),
    "triplet_margin_loss": ("anchor", "positive", "negative"), "margin_ranking_loss": ("input1", "input2"),
    "gaussian_nll_loss": ("input", "var"), "ctc_loss": ("log_probs",),
}


def _rows_count(shapes):
    """loss terms of a block of samples: the first argument's leading axis (1 if unbatched)."""
    s = shapes[0]
    return s[0] if len(s) >= 2 else 1


def _ew_count(shapes):
    """loss terms of an elementwise block: the broadcast size of its arguments."""
    return int(np.prod(np.broadcast_shapes(*[tuple(s) for s in shapes]), dtype=np.int64))


def multilabel_soft_margin_loss(input, target, *, weight=None, reduction="mean", return_grad=False, grad_out=None,
                                return_hessian=False, hess_out=None, return_loss=True):
    """cyloss.multilabel_soft_margin_loss of dask arrays, blocks of samples (axis 0; the other
    axes are one chunk); `weight` stays NumPy."""
    kw = {} if weight is None else {"weight": np.asarray(weight)}
    x = _arr(input, "input")

    def count(shapes):
        return int(np.prod(shapes[0][:-1], dtype=np.int64))

    return _batched("multilabel_soft_margin_loss", (x, target), ("input", "target"),
                    (0 if x.ndim >= 2 else None, 0 if x.ndim >= 2 else None), kw, reduction, return_grad,
                    return_hessian, return_loss, 1, count, grad_out, hess_out)


def multi_margin_loss(input, target, *, p=1, margin=1.0, weight=None, reduction="mean", return_grad=False,
                      grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    """cyloss.multi_margin_loss of dask arrays, blocks of samples; `weight` stays NumPy."""
    kw = dict(p=p, margin=margin, **({} if weight is None else {"weight": np.asarray(weight)}))
    x = _arr(input, "input")
    ax = 0 if x.ndim == 2 else None
    return _batched("multi_margin_loss", (x, target), ("input", "target"), (ax, ax), kw, reduction, return_grad,
                    return_hessian, return_loss, 1, _rows_count, grad_out, hess_out)


def multilabel_margin_loss(input, target, *, reduction="mean", return_grad=False, grad_out=None,
                           return_hessian=False, hess_out=None, return_loss=True):
    """cyloss.multilabel_margin_loss of dask arrays, blocks of samples."""
    x = _arr(input, "input")
    ax = 0 if x.ndim == 2 else None
    return _batched("multilabel_margin_loss", (x, target), ("input", "target"), (ax, ax), {}, reduction,
                    return_grad, return_hessian, return_loss, 1, _rows_count, grad_out, hess_out)


def cosine_embedding_loss(input1, input2, target, *, margin=0.0, eps=1e-12, reduction="mean", return_grad=False,
                          grad_out=None, return_loss=True):
    """cyloss.cosine_embedding_loss of dask arrays, blocks of samples."""
    x = _arr(input1, "input1")
    ax = 0 if x.ndim == 2 else None
    return _batched("cosine_embedding_loss", (x, input2, target), ("input1", "input2", "target"), (ax, ax, ax),
                    dict(margin=margin, eps=eps), reduction, return_grad, None, return_loss, 2, _rows_count,
                    grad_out)


def triplet_margin_loss(anchor, positive, negative, *, margin=1.0, p=2.0, eps=1e-06, swap=False, reduction="mean",
                        return_grad=False, grad_out=None, return_loss=True):
    """cyloss.triplet_margin_loss of dask arrays, blocks of samples."""
    x = _arr(anchor, "anchor")
    ax = 0 if x.ndim == 2 else None
    return _batched("triplet_margin_loss", (x, positive, negative), ("anchor", "positive", "negative"),
                    (ax, ax, ax), dict(margin=margin, p=p, eps=eps, swap=swap), reduction, return_grad, None,
                    return_loss, 3, _rows_count, grad_out)


def margin_ranking_loss(input1, input2, target, *, margin=0.0, reduction="mean", return_grad=False, grad_out=None,
                        return_hessian=False, hess_out=None, return_loss=True):
    """cyloss.margin_ranking_loss of dask arrays (1-D or batched along axis 0)."""
    x = _arr(input1, "input1")
    ax = 0 if x.ndim >= 1 else None
    return _batched("margin_ranking_loss", (x, input2, target), ("input1", "input2", "target"), (ax, ax, ax),
                    dict(margin=margin), reduction, return_grad, return_hessian, return_loss, 2, _ew_count,
                    grad_out, hess_out)


def gaussian_nll_loss(input, target, var, *, full=False, eps=1e-06, reduction="mean", return_grad=False,
                      grad_out=None, return_hessian=False, hess_out=None, return_loss=True):
    """cyloss.gaussian_nll_loss of dask arrays, blocks along axis 0 (a `var` without that axis
    is given whole to every block and its gradient summed)."""
    x = _arr(input, "input")
    ax = 0 if x.ndim >= 1 else None
    v = var if _is_dask(var) else np.asarray(var)
    vax = ax if (np.ndim(v) == x.ndim and np.shape(v)[0] == x.shape[0] and x.ndim) else None

    def count(shapes):
        return int(np.prod(np.broadcast_shapes(shapes[0], shapes[1]), dtype=np.int64))

    return _batched("gaussian_nll_loss", (x, target, v), ("input", "target", "var"), (ax, ax, vax),
                    dict(full=full, eps=eps), reduction, return_grad, return_hessian, return_loss, 2, count,
                    grad_out, hess_out)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, *, blank=0, reduction="mean", zero_infinity=False,
             return_grad=False, grad_out=None, return_loss=True):
    """cyloss.ctc_loss of dask arrays: log_probs (T, N, C) in blocks along the batch axis N (T
    and C one chunk), padded targets (N, S) and the lengths (N,) sliced alike (concatenated
    1-D targets are split by target_lengths, which must then be NumPy)."""
    lp = _arr(log_probs, "log_probs")
    if lp.ndim != 3:
        return _batched("ctc_loss", (lp, targets, input_lengths, target_lengths),
                        ("log_probs", "targets", "input_lengths", "target_lengths"), (None,) * 4,
                        dict(blank=blank, zero_infinity=zero_infinity), reduction, return_grad, None, return_loss, 1,
                        lambda s: 1, grad_out)
    t = targets if _is_dask(targets) else np.asarray(targets)
    if np.ndim(t) == 1:
        if _is_dask(target_lengths) or _is_dask(t):
            raise NotImplementedError("ctc_loss on dask arrays with concatenated 1-D targets needs targets and "
                                      "target_lengths as NumPy arrays (or pass padded (N, S) targets)")
        tl = np.asarray(target_lengths)
        if tl.shape != (lp.shape[1],) or tl.sum() != t.shape[0]:
            raise ValueError(f"target_lengths must hold {lp.shape[1]} lengths summing to the {t.shape[0]} "
                             f"concatenated targets")
        s = max(int(tl.max()) if tl.size else 0, 1)
        pad = np.zeros((lp.shape[1], s), dtype=t.dtype)
        off = np.concatenate([[0], np.cumsum(tl)])
        for i in range(lp.shape[1]):
            pad[i, :tl[i]] = t[off[i]:off[i + 1]]
        t = pad

    def count(shapes):
        return shapes[0][1]

    return _batched("ctc_loss", (lp, t, input_lengths, target_lengths),
                    ("log_probs", "targets", "input_lengths", "target_lengths"), (1, 0, 0, 0),
                    dict(blank=blank, zero_infinity=zero_infinity), reduction, return_grad, None, return_loss, 1,
                    count, grad_out)
