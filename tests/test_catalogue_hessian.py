"""return_hessian of the catalogue's losses whose Hessian in their first input is diagonal
(sigmoid_focal_loss, gaussian_nll_loss, margin_ranking_loss, multilabel_margin_loss) or whose
diagonal is returned (multi_margin_loss, like cross_entropy's).  References: the central
difference of the float64 reference gradient written in the test (the references of
test_catalogue.py, themselves checked against torch autograd), closed forms written here from
the definitions, and torch's double backward when torch is installed."""
import numpy as np
import pytest

import cyloss
from _helpers import FLOAT_DTYPES, FLOAT_IDS, assert_close
from test_catalogue import REDUCTIONS, _expit, ref_focal, ref_multi_margin, torch_focal

STEP = 1e-6


def _scale(red, n):
    return 1.0 / n if red == "mean" else 1.0


def _same(a, b):
    """The loss or gradient with the Hessian is that of return_grad=True, to the rounding an FMA
    contraction that differs between the kernel's specializations can make (as
    tests/test_hessian.py)."""
    eps = np.finfo(np.asarray(b).dtype).eps
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    np.testing.assert_allclose(a64, b64, rtol=4 * eps, atol=4 * eps * float(np.nanmax(np.abs(b64), initial=0.0)))


# ------------------------------------------------------------------ sigmoid_focal_loss

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 3.5])
@pytest.mark.parametrize("alpha", [-1.0, 0.25])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_focal_hessian_is_the_derivative_of_the_reference_gradient(dtype, alpha, gamma, reduction, rng):
    x = (rng.normal(size=(30, 4)) * 3).astype(dtype)
    t = rng.uniform(size=(30, 4)).astype(dtype)
    t[:10] = np.round(t[:10])
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    h = (ref_focal(x64 + STEP, t64, alpha, gamma)[1] - ref_focal(x64 - STEP, t64, alpha, gamma)[1]) / (2 * STEP)
    h *= _scale(reduction, x.size)
    L, G, H = cyloss.sigmoid_focal_loss(x, t, alpha=alpha, gamma=gamma, reduction=reduction, return_hessian=True)
    hmax = float(np.max(np.abs(h)))
    # float64: the difference quotient's own error (~1e-9 of the scale); float32: the terms of the
    # Hessian cancel where it changes sign, so the tolerance is relative to its largest entry
    assert_close(H, h, dtype, rtol=1e-6 if dtype == np.float64 else 2e-5,
                 atol=(1e-8 if dtype == np.float64 else 2e-5) * hmax, what="hess")
    l, g = ref_focal(x64, t64, alpha, gamma)
    assert_close(G, g * _scale(reduction, x.size), dtype, scale=10, what="grad")
    # the loss and the gradient are those of return_grad=True
    L2, G2 = cyloss.sigmoid_focal_loss(x, t, alpha=alpha, gamma=gamma, reduction=reduction, return_grad=True)
    _same(G, G2)
    _same(L, L2)


def test_focal_hessian_closed_forms():
    """gamma = 0: the weighted BCE's a_t p (1 - p); hard targets far from the decision: tiny and
    positive, no cancellation to NaN; NaN touches its own element only."""
    x = np.array([-3.0, -0.5, 0.0, 0.7, 4.0])
    t = np.array([0.0, 1.0, 0.3, 1.0, 0.0])
    p = _expit(x)
    at = 0.25 * t + 0.75 * (1 - t)
    _, _, H = cyloss.sigmoid_focal_loss(x, t, alpha=0.25, gamma=0.0, return_hessian=True)
    assert_close(H, at * p * (1 - p), np.float64)
    # gamma = 2, t = 1: l = -(1-p)^2 log p; the second derivative written out by hand here:
    # with q = 1 - p, l = -q^2 log p, dl/dx = 2 q^2 p log p - q^3, and
    # d2l/dx2 = p q (q (2 - 2p) log p - 4 p q log p ... ) -- evaluated instead by sympy-free
    # nested differences of the exact loss in mpmath at high precision
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50

    def loss(xv, tv):
        xv = mpmath.mpf(xv)
        pp = 1 / (1 + mpmath.e ** (-xv))
        ce = -(tv * mpmath.log(pp) + (1 - tv) * mpmath.log(1 - pp))
        m = pp * (1 - tv) + (1 - pp) * tv
        return (0.25 * tv + 0.75 * (1 - tv)) * ce * m ** 2

    xs = np.array([-8.0, -2.0, -0.3, 0.0, 0.4, 1.5, 6.0, 20.0])
    for tv in (0.0, 1.0, 0.6):
        ts = np.full_like(xs, tv)
        _, _, H = cyloss.sigmoid_focal_loss(xs, ts, alpha=0.25, gamma=2.0, return_hessian=True)
        ref = [float(mpmath.diff(lambda z: loss(z, mpmath.mpf(tv)), mpmath.mpf(xv), 2)) for xv in xs]
        np.testing.assert_allclose(H, ref, rtol=1e-12, atol=1e-300)
    _, G, H = cyloss.sigmoid_focal_loss(np.array([1.0, np.nan, -2.0]), np.array([1.0, 0.0, 0.0]),
                                        return_hessian=True)
    assert np.isnan(H[1]) and np.isfinite(H[[0, 2]]).all()


def test_focal_hessian_against_torch_double_backward(rng):
    torch = pytest.importorskip("torch")
    x = rng.normal(size=(40, 3)) * 3
    t = rng.uniform(size=(40, 3))
    t[:10] = np.round(t[:10])
    for alpha, gamma in ((0.25, 2.0), (-1.0, 1.5), (0.6, 0.0), (0.5, 3.0)):
        xt = torch.tensor(x, requires_grad=True)
        loss = torch_focal(torch, xt, torch.tensor(t), alpha, gamma)
        g, = torch.autograd.grad(loss.mean(), xt, create_graph=True)
        h, = torch.autograd.grad(g.sum(), xt)  # elementwise loss: the Hessian is diagonal
        _, _, H = cyloss.sigmoid_focal_loss(x, t, alpha=alpha, gamma=gamma, reduction="mean", return_hessian=True)
        assert_close(H, h.numpy(), np.float64, rtol=1e-8, atol=1e-13, what=f"alpha={alpha} gamma={gamma}")


# ------------------------------------------------------------------- gaussian_nll_loss

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_gaussian_nll_hessian(dtype, reduction, rng):
    x = rng.normal(size=(5, 3, 4)).astype(dtype)
    t = rng.normal(size=(5, 3, 4)).astype(dtype)
    var = rng.uniform(0.0, 2.0, size=(5, 3)).astype(dtype)  # one per row of 4: var gets a trailing 1
    var.flat[0] = 0.0  # clamped at eps: 1 / eps
    v = np.maximum(var.astype(np.float64), 1e-6)[..., None]
    h = np.broadcast_to(1.0 / v, x.shape) * _scale(reduction, x.size)
    L, (G, GV), H = cyloss.gaussian_nll_loss(x, t, var, reduction=reduction, return_hessian=True)
    assert_close(H, h, dtype, scale=1e6, what="hess")
    L2, (G2, GV2) = cyloss.gaussian_nll_loss(x, t, var, reduction=reduction, return_grad=True)
    _same(G, G2)
    _same(GV, GV2)
    _same(L, L2)
    if dtype == np.float64:
        gp = cyloss.gaussian_nll_loss(x + STEP, t, var, reduction=reduction, return_grad=True)[1][0]
        gm = cyloss.gaussian_nll_loss(x - STEP, t, var, reduction=reduction, return_grad=True)[1][0]
        np.testing.assert_allclose(H, (gp - gm) / (2 * STEP), rtol=1e-6)


def test_gaussian_nll_hessian_broadcast_input_and_outs(rng):
    """input broadcast along an axis: its Hessian is summed like its gradient; hess_out; errors."""
    x = rng.normal(size=(1, 4))
    t = rng.normal(size=(6, 4))
    var = rng.uniform(0.5, 2.0, size=(1, 4))  # var matches input (torch's rule), target is broadcast
    L, (G, GV), H = cyloss.gaussian_nll_loss(x, t, var, reduction="sum", return_hessian=True)
    assert H.shape == (1, 4)
    assert_close(H, 6.0 / var, np.float64)
    out = np.empty((1, 4))
    r = cyloss.gaussian_nll_loss(x, t, var, reduction="sum", return_hessian=True, hess_out=out)
    assert r[2] is out
    np.testing.assert_array_equal(out, H)
    (G3, GV3), H3 = cyloss.gaussian_nll_loss(x, t, var, reduction="sum", return_hessian=True, return_loss=False)
    np.testing.assert_array_equal(H3, H)
    with pytest.raises(ValueError, match="hess_out"):
        cyloss.gaussian_nll_loss(x, t, var, hess_out=np.empty((1, 4)))
    with pytest.raises(ValueError, match="hess_out"):
        cyloss.gaussian_nll_loss(x, t, var, return_hessian=True, hess_out=np.empty((6, 4)))
    with pytest.raises(ValueError, match="hess_out"):
        cyloss.gaussian_nll_loss(x, t, var, return_hessian=True, grad_out=(out, None), hess_out=out)


# ----------------------------------------------------------------- margin_ranking_loss

def test_margin_ranking_hessian_is_zero(rng):
    x1 = rng.normal(size=(6, 4))
    x2 = rng.normal(size=(1, 4))
    y = np.sign(rng.normal(size=(6, 1)))
    x1[0, 0] = np.nan
    L, (G1, G2), H = cyloss.margin_ranking_loss(x1, x2, y, margin=0.2, return_hessian=True)
    assert H.shape == x1.shape and H.dtype == np.float64
    np.testing.assert_array_equal(H, 0.0)  # also at the NaN (the indicator Hessians' convention: l1_loss, huber_loss)
    L2, (G1b, G2b) = cyloss.margin_ranking_loss(x1, x2, y, margin=0.2, return_grad=True)
    _same(G1, G1b)
    out = np.full((6, 4), 7.0, dtype=np.float32)
    r = cyloss.margin_ranking_loss(x1.astype(np.float32), x2.astype(np.float32), y.astype(np.float32),
                                   return_hessian=True, hess_out=out)
    assert r[2] is out and not out.any()
    with pytest.raises(ValueError, match="hess_out"):
        cyloss.margin_ranking_loss(x1, x2, y, return_hessian=True, hess_out=np.empty((1, 4)))


# ------------------------------------------------------------------- multi_margin_loss

def ref_multi_margin_hess(x, t, p, margin, w):
    """The diagonal of the Hessian, from the definition: sum over active d != t of
    w_t h''(z_d) / C at d and at t (dz_d/dx_t = -1), h'' = 0 (p = 1) or 2 (p = 2)."""
    n, c = x.shape
    h = np.zeros((n, c))
    for i in range(n):
        wt = 1.0 if w is None else w[t[i]]
        for d in range(c):
            if d == t[i]:
                continue
            if margin - x[i, t[i]] + x[i, d] > 0 and p == 2:
                h[i, d] += 2.0 * wt / c
                h[i, t[i]] += 2.0 * wt / c
    return h


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_multi_margin_hessian(dtype, weighted, p, reduction, rng):
    x = rng.normal(size=(25, 9)).astype(dtype)
    t = rng.integers(0, 9, size=25)
    x[0, t[0]], x[0, (t[0] + 1) % 9] = 0.25, -0.75  # z = 0 exactly: inactive, as in the gradient
    w = rng.uniform(0.1, 2.0, size=9).astype(dtype) if weighted else None
    w64 = None if w is None else w.astype(np.float64)
    h = ref_multi_margin_hess(x.astype(np.float64), t, p, 1.0, w64) * _scale(reduction, 25)
    L, G, H = cyloss.multi_margin_loss(x, t, p=p, weight=w, reduction=reduction, return_hessian=True)
    assert_close(H, h, dtype, what="hess")
    _, g = ref_multi_margin(x.astype(np.float64), t, p, 1.0, w64)
    assert_close(G, g * _scale(reduction, 25), dtype, what="grad")
    L2, G2 = cyloss.multi_margin_loss(x, t, p=p, weight=w, reduction=reduction, return_grad=True)
    _same(G, G2)
    _same(L, L2)
    if dtype == np.float64 and p == 2:
        # away from the kinks the diagonal is the derivative of the gradient along each coordinate
        for i in range(25):
            for d in range(9):
                e = np.zeros_like(x)
                e[i, d] = STEP
                gp = cyloss.multi_margin_loss(x + e, t, p=p, weight=w, reduction=reduction, return_grad=True)[1]
                gm = cyloss.multi_margin_loss(x - e, t, p=p, weight=w, reduction=reduction, return_grad=True)[1]
                if i == 0:
                    continue  # the row with a kink at z = 0
                np.testing.assert_allclose(H[i, d], (gp[i, d] - gm[i, d]) / (2 * STEP), rtol=1e-6, atol=1e-9)


def test_multi_margin_hessian_torch_and_edges(rng):
    x = rng.normal(size=(8, 5))
    t = rng.integers(0, 5, size=8)
    torch = None
    try:
        import torch
    except ImportError:
        pass
    if torch is not None:
        # torch has no double backward for multi_margin_loss: its definition written in torch,
        # checked against torch's own loss, then differentiated twice
        xt = torch.tensor(x, requires_grad=True)
        tt = torch.tensor(t)
        xtt = xt.gather(1, tt[:, None])
        z = torch.clamp_min(1.0 - xtt + xt, 0.0) ** 2
        out = (z.sum(dim=1) - z.gather(1, tt[:, None])[:, 0]).sum() / (5 * 8)
        ref = torch.nn.functional.multi_margin_loss(xt, tt, p=2, margin=1.0)
        assert abs(out.item() - ref.item()) < 1e-12
        g, = torch.autograd.grad(out, xt, create_graph=True)
        diag = np.zeros_like(x)
        for i in range(8):  # one row of the Hessian per coordinate, its diagonal entry kept
            for d in range(5):
                hrow, = torch.autograd.grad(g[i, d], xt, retain_graph=True)
                diag[i, d] = hrow[i, d].item()
        _, _, H = cyloss.multi_margin_loss(x, t, p=2, return_hessian=True)
        assert_close(H, diag, np.float64)
    # NaN touches its row; (C,) input; hess_out; errors
    xn = x.copy()
    xn[2, 1] = np.nan
    _, G, H = cyloss.multi_margin_loss(xn, t, p=2, reduction="none", return_hessian=True)
    assert np.isnan(G[2]).any() and np.isfinite(H).all()  # a NaN term is inactive (huber_loss's convention)
    _, _, Hc = cyloss.multi_margin_loss(x, t, p=2, reduction="none", return_hessian=True)
    np.testing.assert_array_equal(np.delete(H, 2, axis=0), np.delete(Hc, 2, axis=0))
    _, _, H1 = cyloss.multi_margin_loss(x[3], t[3], p=2, reduction="none", return_hessian=True)
    _, _, Hall = cyloss.multi_margin_loss(x, t, p=2, reduction="none", return_hessian=True)
    np.testing.assert_array_equal(H1, Hall[3])
    out = np.empty((8, 5), dtype=np.float32)
    r = cyloss.multi_margin_loss(x.astype(np.float32), t, p=2, return_hessian=True, hess_out=out)
    assert r[2] is out
    assert_close(out, ref_multi_margin_hess(x.astype(np.float32).astype(np.float64), t, 2, 1.0, None) / 8,
                 np.float32)
    g_out = np.empty((8, 5))
    with pytest.raises(ValueError, match="hess_out"):
        cyloss.multi_margin_loss(x, t, return_hessian=True, grad_out=g_out, hess_out=g_out)
    with pytest.raises(ValueError, match="hess_out"):
        cyloss.multi_margin_loss(x, t, hess_out=np.empty((8, 5)))


# --------------------------------------------------------------- multilabel_margin_loss

def test_multilabel_margin_hessian_is_zero(rng):
    x = rng.normal(size=(6, 5))
    tg = np.full((6, 5), -1, dtype=np.int64)
    tg[:, 0] = rng.integers(0, 5, size=6)
    x[4, 2] = np.nan
    L, G, H = cyloss.multilabel_margin_loss(x, tg, reduction="sum", return_hessian=True)
    assert H.shape == x.shape and H.dtype == np.float64 and np.isnan(G).any()
    np.testing.assert_array_equal(H, 0.0)  # also at the NaN (l1_loss's convention)
    out = np.full((6, 5), 3.0, dtype=np.float32)
    r = cyloss.multilabel_margin_loss(x.astype(np.float32), tg, return_hessian=True, hess_out=out)
    assert r[2] is out and not out.any()
    G2, H2 = cyloss.multilabel_margin_loss(x, tg, return_hessian=True, return_loss=False)
    assert H2.shape == x.shape
    with pytest.raises(ValueError, match="hess_out"):
        cyloss.multilabel_margin_loss(x, tg, return_hessian=True, hess_out=np.empty((6, 4)))
