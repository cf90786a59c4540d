"""Elementwise losses whose gradient and Hessian outputs are far larger than the caches
(>= 32 MB together) and that compute no loss write them with non-temporal stores
(csrc/elementwise.h, CYL_NT_LOOP): the same values as the cached path (the same arrays cut
in small pieces), for every alignment of grad_out / hess_out, with weights, on both dtypes,
and against a float64 reference written here."""
import numpy as np
import pytest

import cyloss
from _helpers import assert_close

N32 = 4_500_000  # float32: grad + hess = 36 MB, beyond the 32 MB threshold
PIECE = 500_000  # 4 MB of outputs per piece: the cached path


def _pieces(fn, x, y, kw):
    g = np.empty_like(x)
    h = np.empty_like(x)
    for s in range(0, x.size, PIECE):
        sl = slice(s, s + PIECE)
        kws = dict(kw)
        if "weight" in kws:
            kws["weight"] = kws["weight"][sl]
        g[sl], h[sl] = fn(x[sl], y[sl], reduction="sum", return_hessian=True, return_loss=False, **kws)
    return g, h


def _same(a, b):
    eps = np.finfo(b.dtype).eps
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=4 * eps,
                               atol=4 * eps * float(np.max(np.abs(b))))


CASES = {
    "mse_loss": ({}, lambda r, y: (2 * (r - y), np.full_like(r, 2.0))),
    "huber_loss": ({"delta": 0.5}, lambda r, y: (np.clip(r - y, -0.5, 0.5), (np.abs(r - y) <= 0.5) * 1.0)),
    "binary_cross_entropy_with_logits": ({}, None),
    "half_poisson_loss": ({}, lambda r, y: (np.exp(r) - y, np.exp(r))),
    "sigmoid_focal_loss": ({"gamma": 0.0, "alpha": -1.0}, None),
}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    x = rng.normal(size=N32).astype(np.float32)
    y = rng.uniform(size=N32).astype(np.float32)
    w = rng.uniform(0.5, 2.0, size=N32).astype(np.float32)
    return x, y, w


@pytest.mark.parametrize("name", sorted(CASES))
def test_streamed_outputs_equal_the_cached_path(name, data):
    x, y, w = data
    kw, ref = CASES[name]
    fn = getattr(cyloss, name)
    g, h = fn(x, y, reduction="sum", return_hessian=True, return_loss=False, **kw)
    gp, hp = _pieces(fn, x, y, kw)
    _same(g, gp)
    _same(h, hp)
    if ref is not None:
        eg, eh = ref(x.astype(np.float64), y.astype(np.float64))
        assert_close(g, eg, np.float32, scale=10)
        assert_close(h, eh, np.float32, scale=10)


@pytest.mark.parametrize("offsets", [(0, 0), (1, 1), (5, 5), (3, 0), (0, 7)])
def test_every_alignment_of_the_outputs(offsets, data):
    """Equal offsets: the scalar prologue up to the 64-byte boundary, then streamed lines;
    different offsets modulo 64 bytes: the cached path."""
    x, y, w = data
    bg = np.full(N32 + 16, np.nan, dtype=np.float32)
    bh = np.full(N32 + 16, np.nan, dtype=np.float32)
    go, ho = bg[offsets[0]:offsets[0] + N32], bh[offsets[1]:offsets[1] + N32]
    r = cyloss.huber_loss(x, y, delta=0.7, weight=w, reduction="mean", return_hessian=True, return_loss=False,
                          grad_out=go, hess_out=ho)
    assert r[0] is go and r[1] is ho
    gp, hp = _pieces(cyloss.huber_loss, x, y, {"delta": 0.7, "weight": w})
    _same(go, gp / N32)
    _same(ho, hp / N32)
    # nothing written outside the outputs
    assert np.isnan(bg[:offsets[0]]).all() and np.isnan(bg[offsets[0] + N32:]).all()
    assert np.isnan(bh[:offsets[1]]).all() and np.isnan(bh[offsets[1] + N32:]).all()


def test_float64_and_odd_lengths(data):
    x, y, _ = data
    for n in (N32 - 1, N32 - 13):  # tails of every length modulo the 16-element groups
        x64, y64 = x[:n].astype(np.float64), y[:n].astype(np.float64)
        g, h = cyloss.mse_loss(x64, y64, reduction="sum", return_hessian=True, return_loss=False)
        np.testing.assert_array_equal(g, 2 * (x64 - y64))
        np.testing.assert_array_equal(h, 2.0)
        g1 = cyloss.binary_cross_entropy_with_logits(x64, y64, reduction="sum", return_grad=True, return_loss=False)
        p = 1 / (1 + np.exp(-x64))
        assert_close(g1, p - y64, np.float64)


# ------------------ log_softmax outputs of >= 4 MB in rows of >= 2 KB written with streaming
# stores (csrc/softmax.h); softmax stays cached (measured no faster streamed): same checks

def _ref_softmax(x, log):
    x = x.astype(np.float64)
    m = x.max(axis=1, keepdims=True)
    e = np.exp(x - m)
    ssum = e.sum(axis=1, keepdims=True)
    return (x - m) - np.log(ssum) if log else e / ssum


# log_softmax: streamed, streamed with unaligned rows, streamed, the shortest streamed row
# (2 KB) and the next shorter (cached)
@pytest.mark.parametrize("c", [20000, 2051, 1000, 512, 511])
@pytest.mark.parametrize("log", [False, True])
def test_streamed_softmax_rows(c, log, rng):
    """log_softmax rows of a >= 4 MB output are streamed; the values equal those of the same
    rows in small calls (cached path) and the float64 reference."""
    n = (2 << 20) // c  # float32 output of 8 MB
    x = (rng.normal(size=(n, c)) * 3).astype(np.float32)
    x[1, 5] = -np.inf  # a masked row
    x[2, :] = np.linspace(-200, 5, c, dtype=np.float32)  # a row whose terms underflow
    fn = cyloss.log_softmax if log else cyloss.softmax
    y = fn(x, axis=1)
    rows = [0, 1, 2, n // 2, n - 1]
    for i in rows:
        yi = fn(x[i:i + 1], axis=1)  # a 1-row call: far below the threshold
        np.testing.assert_array_equal(y[i:i + 1], yi)
    assert_close(y[rows], _ref_softmax(x[rows], log), np.float32, scale=10)
    # in place, into out= and into a strided, misaligned out=: the same
    big = np.empty(x.size + 3, np.float32)[1:x.size + 1].reshape(x.shape)  # 4-byte aligned only
    assert fn(x, axis=1, out=big) is big
    np.testing.assert_array_equal(big, y)
    out = np.empty_like(x)
    assert fn(x, axis=1, out=out) is out
    np.testing.assert_array_equal(out, y)
    xc = x.copy()
    fn(xc, axis=1, out=xc)
    np.testing.assert_array_equal(xc, y)


def test_streamed_log_softmax_float64_and_temperature(rng):
    n, c = 400, 12000  # float64: 38 MB
    x = rng.normal(size=(n, c)) * 4
    y = cyloss.log_softmax(x, axis=1, temperature=2.0)
    np.testing.assert_array_equal(y[7:8], cyloss.log_softmax(x[7:8], axis=1, temperature=2.0))
    assert_close(y[:3], _ref_softmax(x[:3] / 2.0, True), np.float64, scale=10)
    np.testing.assert_allclose(np.exp(y).sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("log", [False, True])
def test_streamed_float64_edge_rows(log, rng):
    """float64, 8 MB (log_softmax streamed, with unaligned rows): NaN, all -inf and +inf
    rows equal those of 1-row calls, the rest the float64 reference."""
    n, c = 1000, 1001
    x = rng.normal(size=(n, c)) * 4
    x[3, 7] = np.nan
    x[4, :] = -np.inf
    x[5, 9] = np.inf
    fn = cyloss.log_softmax if log else cyloss.softmax
    y = fn(x, axis=1, temperature=2.0)
    for i in (0, 3, 4, 5, 6, n - 1):
        np.testing.assert_array_equal(y[i:i + 1], fn(x[i:i + 1], axis=1, temperature=2.0))
    assert np.isnan(y[3]).all() and np.isnan(y[4]).all()
    assert_close(y[6:9], _ref_softmax(x[6:9] / 2.0, log), np.float64, scale=10)
    p = np.exp(y[6:]) if log else y[6:]
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
