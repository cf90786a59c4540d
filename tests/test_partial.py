"""logsumexp_partial / logsumexp_merge / cross_entropy_partial: the statistics of class
shards and their merge, against float64 references written here (and mpmath for a row whose
terms cancel badly)."""
import math

import mpmath
import numpy as np
import pytest

import cyloss


def ref_lse(x):
    """log sum exp over the last axis in float64, by the max shift (plain NumPy)."""
    x = np.asarray(x, dtype=np.float64)
    m = np.max(x, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.squeeze(m, -1) + np.log(np.sum(np.exp(x - m), axis=-1))
    r = np.where(np.isnan(x).any(axis=-1), np.nan, r)
    r = np.where(~np.isnan(x).any(axis=-1) & (x == np.inf).any(axis=-1), np.inf, r)
    r = np.where((x == -np.inf).all(axis=-1), -np.inf, r)
    return r


def split(x, k, rng):
    c = x.shape[-1]
    cuts = np.sort(rng.choice(np.arange(1, c), size=k - 1, replace=False)) if k > 1 else np.array([], int)
    bounds = np.concatenate([[0], cuts, [c]])
    return [x[..., a:b] for a, b in zip(bounds[:-1], bounds[1:])], bounds


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_partial_pair_matches_definition(dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((7, 333)) * 5).astype(dtype)
    m, s = cyloss.logsumexp_partial(x)
    assert m.dtype == np.float64 and s.dtype == np.float64 and m.shape == (7,)
    x64 = x.astype(np.float64)
    np.testing.assert_array_equal(m, x64.max(axis=1))
    # float32 rows: float32 exponentials (each within about 1 float32 ulp) summed in double
    rtol = 1e-14 if dtype == np.float64 else 2.5e-7
    np.testing.assert_allclose(s, np.exp(x64 - x64.max(axis=1, keepdims=True)).sum(axis=1), rtol=rtol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", range(1, 65))
def test_merge_of_k_shards_equals_unsharded(dtype, k):
    rng = np.random.default_rng(k)
    x = (rng.standard_normal((5, 200)) * 8).astype(dtype)
    shards, _ = split(x, k, rng)
    parts = [cyloss.logsumexp_partial(sh) for sh in shards]
    got = cyloss.logsumexp_merge(parts)
    want = ref_lse(x)
    tol = 1e-13 if dtype == np.float64 else 2.5e-7  # float32: the terms' float32 rounding
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    # the merge is associative: a tree of merged pairs gives the same result
    left = cyloss.logsumexp_merge(parts[: (k + 1) // 2], return_pair=True)
    right = cyloss.logsumexp_merge(parts[(k + 1) // 2:], return_pair=True) if k > 1 else None
    tree = cyloss.logsumexp_merge([left] + ([right] if right is not None else []))
    np.testing.assert_allclose(tree, got, rtol=1e-15, atol=1e-15)
    # against the unsharded float64 logsumexp of cyloss's NumPy API (another kernel path)
    np.testing.assert_allclose(got, cyloss.logsumexp(x.astype(np.float64), axis=-1), rtol=tol, atol=tol)


def test_merge_near_zero_keeps_relative_accuracy():
    # two shards whose total is exp(0) = 1 up to 1e-9: log of it is ~1e-9, cancellation-prone
    x = np.array([[math.log(0.5), math.log(0.5 + 1e-9)]])
    got = cyloss.logsumexp_merge([cyloss.logsumexp_partial(x[:, :1]), cyloss.logsumexp_partial(x[:, 1:])])
    mpmath.mp.dps = 40
    want = float(mpmath.log(mpmath.exp(mpmath.mpf(x[0, 0])) + mpmath.exp(mpmath.mpf(x[0, 1]))))
    assert abs(got[0] - want) <= 1e-15 * 4 + 1e-6 * abs(want)


@pytest.mark.parametrize("k", [1, 2, 4, 16, 64])
def test_special_values_in_different_shards(k):
    rng = np.random.default_rng(100 + k)
    c = 128
    base = rng.standard_normal((6, c))
    base[0, :] = -np.inf                       # all -inf -> -inf
    base[1, 3] = -np.inf                       # one -inf in some shard: dropped
    base[1, c - 5:] = -np.inf                  # a whole last shard of -inf (k large)
    base[2, c - 1] = np.nan                    # NaN in the last shard
    base[3, 0] = np.inf                        # +inf in the first shard
    base[4, 1] = np.inf
    base[4, c - 2] = np.nan                    # +inf and NaN in different shards -> NaN
    base[5, 10] = 800.0                        # large finite values in one shard
    shards, _ = split(base, k, rng)
    got = cyloss.logsumexp_merge([cyloss.logsumexp_partial(sh) for sh in shards])
    want = ref_lse(base)
    assert got[0] == -np.inf
    assert np.isnan(got[2]) and np.isnan(got[4])
    assert got[3] == np.inf
    np.testing.assert_allclose(got[[1, 5]], want[[1, 5]], rtol=1e-13)


def test_partial_special_rows():
    x = np.array([[-np.inf, -np.inf], [1.0, np.nan], [np.inf, 0.0], [3e38, 2e38]], dtype=np.float32)
    m, s = cyloss.logsumexp_partial(x)
    assert m[0] == -np.inf and s[0] == 0
    assert np.isnan(m[1]) and np.isnan(s[1])
    assert m[2] == np.inf and s[2] == 1
    assert m[3] == np.float64(np.float32(3e38)) and s[3] == pytest.approx(1.0)
    e = np.empty((3, 0))
    m, s = cyloss.logsumexp_partial(e)
    assert (m == -np.inf).all() and (s == 0).all()
    assert cyloss.logsumexp_merge([(m, s)]).tolist() == [-np.inf] * 3


def test_partial_axis_and_shapes():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 9, 5))
    m, s = cyloss.logsumexp_partial(x, axis=1)
    assert m.shape == (4, 5)
    np.testing.assert_allclose(m + np.log(s), ref_lse(np.moveaxis(x, 1, -1)), rtol=1e-14)


def test_errors():
    with pytest.raises(ValueError, match="parts"):
        cyloss.logsumexp_merge([])
    with pytest.raises(ValueError, match="pairs"):
        cyloss.logsumexp_merge([(1.0, 2.0, 3.0)])
    with pytest.raises(TypeError, match="parts"):
        cyloss.logsumexp_merge(5)
    with pytest.raises(ValueError, match="parts"):
        cyloss.logsumexp_merge([(np.zeros(3), np.ones(3)), (np.zeros(4), np.ones(4))])
    with pytest.raises(ValueError, match="x"):
        cyloss.logsumexp_partial(np.float64(1.0))
    with pytest.raises(ValueError, match="axis"):
        cyloss.logsumexp_partial(np.zeros((2, 3)), axis=2)
    with pytest.raises(TypeError, match="x"):
        cyloss.logsumexp_partial(np.array(["a"]))
    x = np.zeros((3, 4))
    with pytest.raises(TypeError, match="class_offset"):
        cyloss.cross_entropy_partial(x, np.zeros(3, int), 1.5)
    with pytest.raises(ValueError, match="class_offset"):
        cyloss.cross_entropy_partial(x, np.zeros(3, int), -1)
    with pytest.raises(ValueError, match="target"):
        cyloss.cross_entropy_partial(x, np.zeros(4, int), 0)
    with pytest.raises(TypeError, match="target"):
        cyloss.cross_entropy_partial(x, np.zeros(3), 0)
    with pytest.raises(ValueError, match="weight"):
        cyloss.cross_entropy_partial(x, np.zeros(3, int), 0, weight=np.ones(5))


@pytest.mark.parametrize("k", [1, 2, 3, 7, 25])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_from_shards(k, weighted):
    """torch's cross-entropy with weights and label smoothing, rebuilt from the shards'
    statistics, equals cyloss.cross_entropy on the whole rows (float64)."""
    rng = np.random.default_rng(k)
    n, c, eps = 40, 50, 0.1
    x = rng.standard_normal((n, c)) * 3
    t = rng.integers(0, c, n)
    t[::7] = -100
    w = rng.uniform(0.5, 2.0, c) if weighted else None
    shards, bounds = split(x, k, rng)
    parts = [cyloss.cross_entropy_partial(sh, t, int(b0), weight=None if w is None else w[b0:b1])
             for sh, b0, b1 in zip(shards, bounds[:-1], bounds[1:])]
    lse = cyloss.logsumexp_merge([(p.m, p.s) for p in parts])
    found = np.sum([p.found for p in parts], axis=0)
    assert (found == (t != -100)).all()
    xt = np.sum([p.x_target for p in parts], axis=0)
    xsum = np.sum([p.x_sum for p in parts], axis=0)
    ww = np.ones(c) if w is None else w
    wt = ww[np.where(t != -100, t, 0)]
    per = (1 - eps) * wt * (lse - xt) + eps / c * (ww.sum() * lse - xsum)
    kept = t != -100
    got = per[kept].sum() / wt[kept].sum()
    want = cyloss.cross_entropy(x, t, weight=w, label_smoothing=eps)
    assert got == pytest.approx(float(want), rel=1e-13)
    # the plain definition, written here: -sum_j q_j w_j log softmax_j
    ls = x - ref_lse(x)[:, None]
    q = np.full((n, c), eps / c)
    q[np.arange(n), np.where(kept, t, 0)] += 1 - eps
    ref_rows = -(q * ww * ls).sum(axis=1)
    assert got == pytest.approx(ref_rows[kept].sum() / wt[kept].sum(), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_partial_pieces(dtype):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((9, 7)).astype(dtype)
    off = 10
    t = np.array([10, 16, 9, 17, -100, 13, np.iinfo(np.int64).max, np.iinfo(np.int64).min, 12])
    w = rng.uniform(0.5, 2, 7)
    p = cyloss.cross_entropy_partial(x, t, off, weight=w)
    inside = (t >= off) & (t < off + 7)
    np.testing.assert_array_equal(p.found, inside)
    want_xt = np.where(inside, x.astype(np.float64)[np.arange(9), np.clip(t - off, 0, 6)], 0.0)
    np.testing.assert_array_equal(p.x_target, want_xt)
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(p.x_sum, x64 @ w.astype(dtype).astype(np.float64), rtol=1e-13)
    m, s = cyloss.logsumexp_partial(x)
    np.testing.assert_array_equal(p.m, m)
    np.testing.assert_array_equal(p.s, s)
    q = cyloss.cross_entropy_partial(x, t, off, sums=False)
    assert q.x_sum is None
    np.testing.assert_array_equal(q.x_target, p.x_target)
    # the class axis first, a 3-D shard
    x3 = rng.standard_normal((5, 2, 3))
    t3 = rng.integers(0, 8, (2, 3))
    r = cyloss.cross_entropy_partial(x3, t3, 3, axis=0)
    assert r.m.shape == (2, 3)
    ok = (t3 >= 3) & (t3 < 8)
    np.testing.assert_array_equal(r.found, ok)
    np.testing.assert_allclose(r.x_sum, x3.sum(axis=0), rtol=1e-14)
