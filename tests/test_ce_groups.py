"""Cross-entropy with few classes (2 <= C <= 64) over many rows: the grouped fast path
(rows in groups of the vector width, a fallback for groups holding NaN / inf) against a
plain float64 NumPy reference, for every C, weights, ignore_index, NaN and infinities
placed in some rows, both dtypes and every reduction."""
import numpy as np
import pytest

import cyloss


def ref(x, t, weight, ignore_index, reduction):
    x = x.astype(np.float64)
    n, c = x.shape
    w = np.ones(c) if weight is None else weight.astype(np.float64)
    keep = t != ignore_index
    tt = np.where(keep, t, 0)
    with np.errstate(all="ignore"):
        m = np.max(x, axis=1, keepdims=True)
        e = np.exp(x - m)
        s = e.sum(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(s[:, 0])
        p = e / s
    a = np.where(keep, w[tt], 0.0)
    li = np.where(keep, a * (lse - x[np.arange(n), tt]), 0.0)
    if reduction == "none":
        scale = np.ones(n)
        loss = li
    elif reduction == "sum":
        scale = np.ones(n)
        loss = li.sum()
    else:
        scale = np.full(n, 1.0 / a.sum())
        loss = li.sum() / a.sum()
    A = (a * scale)[:, None]
    onehot = np.zeros_like(x)
    onehot[np.arange(n), tt] = 1.0
    with np.errstate(all="ignore"):
        g = np.where(keep[:, None], A * (p - onehot), 0.0)
        h = np.where(keep[:, None], A * p * (1 - p), 0.0)
    return loss, g, h


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("c", list(range(2, 66)))
def test_grouped_path_matches_reference(dtype, c):
    rng = np.random.default_rng(c)
    n = 3 * (1024 // c) + 13  # several blocks and a partial last group
    x = (rng.standard_normal((n, c)) * 4).astype(dtype)
    t = rng.integers(0, c, n)
    t[rng.random(n) < 0.1] = -100
    weight = rng.uniform(0.5, 2.0, c).astype(dtype)
    clean = x.copy()
    # non-finite values in a few rows (their whole rows are NaN in the outputs)
    bad_rows = rng.choice(n, 5, replace=False)
    x[bad_rows[0], 0] = np.nan
    x[bad_rows[1], c - 1] = np.inf
    x[bad_rows[2], :] = -np.inf
    x[bad_rows[3], c // 2] = -np.inf  # a finite row otherwise: exp(-inf) = 0
    x[bad_rows[4], 1] = -np.nan
    tol = dict(rtol=2e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    for x, w in ((clean, None), (clean, weight), (x, None), (x, weight)):
        for red in ("none", "sum", "mean"):
            loss, g, h = cyloss.cross_entropy(x, t, weight=w, reduction=red, return_hessian=True)
            rl, rg, rh = ref(x, t, w, -100, red)
            assert g.dtype == dtype and h.dtype == dtype
            np.testing.assert_allclose(np.asarray(loss, np.float64), rl, equal_nan=True, **tol)
            np.testing.assert_allclose(g, rg, equal_nan=True, **tol)
            np.testing.assert_allclose(h, rh, equal_nan=True, **tol)
            # the loss alone and the gradient alone take the same path
            l2 = cyloss.cross_entropy(x, t, weight=w, reduction=red)
            np.testing.assert_array_equal(np.asarray(l2), np.asarray(loss))
            l3, g3 = cyloss.cross_entropy(x, t, weight=w, reduction=red, return_grad=True)
            np.testing.assert_array_equal(g3, g)
