"""The losses added from torch.nn.functional's catalogue (and torchvision's focal loss, optax's
log-cosh, scipy's pseudo-Huber) against references written here from their definitions in
float64 NumPy (scipy.special.expit / NumPy's sinh, hypot, logaddexp: nothing from cyloss),
against torch autograd when torch is installed, and against mpmath at the hard points.
"""
import math

import numpy as np
import pytest

import cyloss
from _helpers import FLOAT_DTYPES, FLOAT_IDS, assert_close

REDUCTIONS = ("none", "mean", "sum")
LN2 = math.log(2.0)


def _expit(z):
    """sigmoid in float64 without overflow warnings (independent of cyloss)."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def _reduce(l, g, reduction, extra=()):
    """(loss, grads...) of the reduction: "mean" divides loss and gradients by the size."""
    if reduction == "none":
        return (l, g) + tuple(extra)
    if reduction == "sum":
        return (l.sum(), g) + tuple(extra)
    n = l.size
    return (l.sum() / n, g / n) + tuple(e / n for e in extra)


# ----------------------------------------------------------- float64 references

def ref_log_cosh(d):
    d = np.asarray(d, dtype=np.float64)
    with np.errstate(over="ignore"):
        small = np.abs(d) < 0.5
        l = np.where(small, np.log1p(2.0 * np.sinh(d / 2.0) ** 2), np.logaddexp(d, -d) - LN2)
        return l, np.tanh(d), 1.0 / np.cosh(d) ** 2


def ref_pseudo_huber(d, delta):
    d = np.asarray(d, dtype=np.float64)
    s = np.hypot(1.0, d / delta)
    return d * d / (s + 1.0), d / s, s ** -3.0


def ref_soft_margin(x, y):
    z = -y * x
    sig = _expit(z)
    return np.logaddexp(0.0, z), -y * sig, y * y * sig * (1.0 - sig)


def ref_hinge(x, y, margin):
    l = np.where(y != 1, np.maximum(0.0, margin - x), 0.0) + np.where(y != -1, x, 0.0)
    g = np.where(y != 1, np.where(margin - x >= 0, -1.0, 0.0), 0.0) + np.where(y != -1, 1.0, 0.0)
    return l, g, np.zeros_like(l)


def ref_margin_ranking(x1, x2, y, margin):
    z = -y * (x1 - x2) + margin
    g1 = np.where(z >= 0, -y, 0.0)
    return np.maximum(0.0, z), g1, -g1


def ref_poisson(x, t, log_input, full, eps):
    if log_input:
        l, g, h = np.exp(x) - t * x, np.exp(x) - t, np.exp(x)
    else:
        l, g, h = x - t * np.log(x + eps), 1.0 - t / (x + eps), t / (x + eps) ** 2
    if full:
        with np.errstate(divide="ignore", invalid="ignore"):
            st = t * np.log(t) - t + 0.5 * np.log(2.0 * np.pi * t)
        l = l + np.where(t > 1, st, 0.0)
    return l, g, h


def ref_gaussian(x, t, var, full, eps):
    v = np.maximum(var, eps)
    d = x - t
    l = 0.5 * (np.log(v) + d * d / v) + (0.5 * math.log(2 * math.pi) if full else 0.0)
    return l, d / v, 0.5 * (1.0 / v - d * d / (v * v))


def ref_focal(x, t, alpha, gamma):
    p, q = _expit(x), _expit(-x)
    ce = t * np.logaddexp(0.0, -x) + (1.0 - t) * np.logaddexp(0.0, x)
    m = p * (1.0 - t) + q * t
    at = alpha * t + (1.0 - alpha) * (1.0 - t) if alpha >= 0 else 1.0
    mg = m ** gamma
    with np.errstate(divide="ignore", invalid="ignore"):
        dmg = np.where(m > 0, gamma * m ** (gamma - 1.0), 0.0) if gamma != 0 else np.zeros_like(m)
    l = at * ce * mg
    g = at * ((p - t) * mg + ce * dmg * p * q * (1.0 - 2.0 * t))
    return l, g


# ----------------------------------------------------------------- test cases
# name -> (make(rng, dtype) -> (args, kwargs), reference(args64, kwargs) -> (l, grads..., hess or None))

def _mk_pair(scale_x=2.0, y_kind="normal"):
    def make(rng, dtype, shape=(37, 5)):
        x = (rng.normal(size=shape) * scale_x).astype(dtype)
        if y_kind == "sign":
            y = np.sign(rng.normal(size=shape)).astype(dtype)
            y[0, 0] = 0.0  # neither +1 nor -1: hinge gets both terms
        elif y_kind == "counts":
            y = rng.poisson(2.5, size=shape).astype(dtype)
        elif y_kind == "unit":
            y = rng.uniform(size=shape).astype(dtype)
            y[:3] = np.round(y[:3])
        else:
            y = rng.normal(size=shape).astype(dtype)
        return x, y
    return make


CASES = {
    "log_cosh_loss": (_mk_pair(2.0), {}, lambda x, y, kw: ref_log_cosh(x - y), True),
    "pseudo_huber_loss": (_mk_pair(2.0), {"delta": 0.7}, lambda x, y, kw: ref_pseudo_huber(x - y, 0.7), True),
    "soft_margin_loss": (_mk_pair(3.0, "sign"), {}, lambda x, y, kw: ref_soft_margin(x, y), True),
    "hinge_embedding_loss": (_mk_pair(1.0, "sign"), {"margin": 0.5}, lambda x, y, kw: ref_hinge(x, y, 0.5), True),
    "poisson_nll_loss": (_mk_pair(1.0, "counts"), {"full": True},
                         lambda x, y, kw: ref_poisson(x, y, True, True, 1e-8), True),
    "sigmoid_focal_loss": (_mk_pair(3.0, "unit"), {"alpha": 0.3, "gamma": 2.0},
                           lambda x, y, kw: ref_focal(x, y, 0.3, 2.0) + (None,), False),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference(name, dtype, reduction, rng):
    make, kw, ref, has_hess = CASES[name]
    x, y = make(rng, dtype)
    x0, y0 = x.copy(), y.copy()
    fn = getattr(cyloss, name)
    l, g, h = ref(x.astype(np.float64), y.astype(np.float64), kw)
    el, eg, *eh = _reduce(l, g, reduction, () if h is None else (h,))
    scale = max(1.0, float(np.max(np.abs(l))))
    if has_hess:
        L, G, H = fn(x, y, reduction=reduction, return_hessian=True, **kw)
        assert_close(H, eh[0], dtype, scale=scale, what=f"{name} hess")
    else:
        L, G = fn(x, y, reduction=reduction, return_grad=True, **kw)
    assert_close(L, el, dtype, scale=scale * x.size, what=f"{name} loss")
    assert_close(G, eg, dtype, scale=scale, what=f"{name} grad")
    # the loss alone, the gradient alone: the same values
    L2 = fn(x, y, reduction=reduction, **kw)
    np.testing.assert_array_equal(L2, L)
    G2 = fn(x, y, reduction=reduction, return_grad=True, return_loss=False, **kw)
    np.testing.assert_array_equal(G2, G)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_margin_ranking_matches_reference(dtype, reduction, rng):
    x1 = rng.normal(size=(40, 3)).astype(dtype)
    x2 = rng.normal(size=(40, 3)).astype(dtype)
    y = np.sign(rng.normal(size=(40, 3))).astype(dtype)
    x2[0] = x1[0]  # z = margin exactly: torch's clamp passes the gradient there
    l, g1, g2 = ref_margin_ranking(x1.astype(np.float64), x2.astype(np.float64), y.astype(np.float64), 0.0)
    el, eg1, eg2 = _reduce(l, g1, reduction, (g2,))
    L, (G1, G2) = cyloss.margin_ranking_loss(x1, x2, y, reduction=reduction, return_grad=True)
    assert_close(L, el, dtype, scale=x1.size, what="loss")
    assert_close(G1, eg1, dtype, what="d/dinput1")
    assert_close(G2, eg2, dtype, what="d/dinput2")
    assert cyloss.margin_ranking_loss(x1, x2, y, reduction=reduction) == pytest.approx(L) if reduction != "none" \
        else np.array_equal(cyloss.margin_ranking_loss(x1, x2, y, reduction=reduction), L)


def test_margin_ranking_broadcasts_and_sums_gradients(rng):
    x1 = rng.normal(size=(6, 4))
    x2 = rng.normal(size=(1, 4))  # broadcast along rows
    y = np.sign(rng.normal(size=(6, 1)))
    L, (G1, G2) = cyloss.margin_ranking_loss(x1, x2, y, margin=0.2, reduction="sum", return_grad=True)
    xb1, xb2, yb = np.broadcast_arrays(x1, x2, y)
    l, g1, g2 = ref_margin_ranking(xb1, xb2, yb, 0.2)
    assert_close(L, l.sum(), np.float64, scale=10)
    assert_close(G1, g1, np.float64)
    assert_close(G2, g2.sum(axis=0, keepdims=True), np.float64)
    out1, out2 = np.empty((6, 4)), np.empty((1, 4))
    r = cyloss.margin_ranking_loss(x1, x2, y, margin=0.2, reduction="sum", return_grad=True, grad_out=(out1, out2))
    assert r[1][0] is out1 and r[1][1] is out2
    np.testing.assert_array_equal(out2, G2)
    r = cyloss.margin_ranking_loss(x1, x2, y, margin=0.2, return_grad=True, grad_out=(None, out2))
    assert r[1][1] is out2 and r[1][0] is not out1


@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("var_shape", ["same", "one fewer", "last 1", "middle 1", "scalar-like"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_gaussian_nll_matches_reference(dtype, var_shape, full, rng):
    x = rng.normal(size=(5, 3, 4)).astype(dtype)
    t = rng.normal(size=(5, 3, 4)).astype(dtype)
    vs = {"same": (5, 3, 4), "one fewer": (5, 3), "last 1": (5, 3, 1), "middle 1": (5, 1, 4),
          "scalar-like": (5, 3, 1)}[var_shape]
    var = rng.uniform(0.0, 2.0, size=vs).astype(dtype)
    var.flat[0] = 0.0  # clamped at eps
    var.flat[1] = 1e-9  # clamped too
    v64 = var.astype(np.float64)
    vb = np.broadcast_to(v64[..., None] if var_shape == "one fewer" else v64, x.shape)
    l, g, gv = ref_gaussian(x.astype(np.float64), t.astype(np.float64), vb, full, 1e-6)
    for red in REDUCTIONS:
        el, eg, egv = _reduce(l, g, red, (gv,))
        egv = np.broadcast_to(egv, x.shape)
        axes = tuple(i for i, (a, b) in enumerate(zip(x.shape, (vs + (1,)) if var_shape == "one fewer" else vs))
                     if a != b)
        egv = egv.sum(axis=axes).reshape(vs)
        L, (G, GV) = cyloss.gaussian_nll_loss(x, t, var, full=full, reduction=red, return_grad=True)
        scale = float(np.max(np.abs(l)))
        assert_close(L, el, dtype, scale=scale * x.size, what="loss")
        assert_close(G, eg, dtype, scale=1e6, what="d/dinput")  # 1/v up to 1/eps
        assert_close(GV, egv, dtype, scale=1e12, what="d/dvar")
        assert GV.shape == var.shape


@pytest.mark.parametrize("log_input", [False, True])
@pytest.mark.parametrize("full", [False, True])
def test_poisson_nll_flags(log_input, full, rng):
    x = rng.uniform(0.0, 3.0, size=200)
    x[:3] = 0.0  # log(0 + eps)
    t = rng.poisson(2.0, size=200).astype(np.float64)
    t[:5] = [0, 1, 2, 1.5, 0.5]
    l, g, h = ref_poisson(x, t, log_input, full, 1e-8)
    L, G, H = cyloss.poisson_nll_loss(x, t, log_input=log_input, full=full, reduction="none", return_hessian=True)
    assert_close(L, l, np.float64, scale=1e8)
    assert_close(G, g, np.float64, scale=1e8)
    assert_close(H, h, np.float64, scale=1e16)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 3.5])
@pytest.mark.parametrize("alpha", [-1.0, 0.0, 0.25, 1.0])
def test_focal_gamma_alpha(gamma, alpha, rng):
    x = rng.normal(size=300) * 4
    t = rng.uniform(size=300)
    t[:100] = np.round(t[:100])
    l, g = ref_focal(x, t, alpha, gamma)
    L, G = cyloss.sigmoid_focal_loss(x, t, alpha=alpha, gamma=gamma, return_grad=True)
    assert_close(L, l, np.float64, scale=10)
    assert_close(G, g, np.float64, scale=10)
    assert_close(cyloss.sigmoid_focal_loss(x, t, alpha=alpha, gamma=gamma, reduction="mean"), l.mean(), np.float64,
                 scale=10)


# --------------------------------------------------------------- torch autograd

def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_against_torch_autograd(reduction, rng):
    torch = _torch()
    F = torch.nn.functional
    T = lambda a, g=False: torch.tensor(a, dtype=torch.float64, requires_grad=g)  # noqa: E731

    def run(tfn, cfn, arrays, ngrad, **kw):
        ts = [T(a, i < ngrad) for i, a in enumerate(arrays)]
        out = tfn(*ts, reduction=reduction, **kw)
        out.sum().backward()
        L, G = cfn(*arrays, reduction=reduction, return_grad=True, **kw)
        G = G if isinstance(G, tuple) else (G,)
        assert_close(L, out.detach().numpy(), np.float64, scale=100, what=cfn.__name__)
        for k in range(ngrad):
            assert_close(G[k], ts[k].grad.numpy(), np.float64, scale=10, what=f"{cfn.__name__} grad {k}")

    x = rng.normal(size=(30, 6)) * 2
    x2 = rng.normal(size=(30, 6)) * 2
    y = np.sign(rng.normal(size=(30, 6)))
    y[0, :2] = [0.0, 3.0]  # neither +1 nor -1
    xh = x.copy()
    xh[1, :3] = [0.5, 1.0, 0.25]  # margin - x = 0 (margin 0.5, 1.0) ties
    run(F.soft_margin_loss, cyloss.soft_margin_loss, [x, y], 1)
    run(F.hinge_embedding_loss, cyloss.hinge_embedding_loss, [xh, y], 1, margin=0.5)
    run(F.hinge_embedding_loss, cyloss.hinge_embedding_loss, [xh, y], 1)
    x2t = x2.copy()
    x2t[2] = x[2]  # ties of the ranking clamp at margin 0
    run(F.margin_ranking_loss, cyloss.margin_ranking_loss, [x, x2t, y], 2)
    run(F.margin_ranking_loss, cyloss.margin_ranking_loss, [x, x2, y], 2, margin=0.3)
    counts = rng.poisson(3.0, size=x.shape).astype(np.float64)
    for log_input in (True, False):
        for full in (False, True):
            inp = x if log_input else np.abs(x)
            run(F.poisson_nll_loss, cyloss.poisson_nll_loss, [inp, counts], 1, log_input=log_input, full=full)
    var = rng.uniform(0.0, 2.0, size=(30, 6))
    var[0, 0] = 0.0
    for v in (var, var[:, 0], var[:, :1]):
        for full in (False, True):
            run(F.gaussian_nll_loss, cyloss.gaussian_nll_loss, [x, x2, v], 1, full=full)
            # d/dvar: torch's var gradient (the clamp passes none, as torch.no_grad's clamp_)
            vt = T(v, True)
            F.gaussian_nll_loss(T(x), T(x2), vt, full=full, reduction=reduction).sum().backward()
            _, (_, gv) = cyloss.gaussian_nll_loss(x, x2, v, full=full, reduction=reduction, return_grad=True)
            assert_close(gv, vt.grad.numpy(), np.float64, scale=1e12, what="d/dvar")


def torch_focal(torch, xt, tt, alpha, gamma):
    """torchvision.ops.sigmoid_focal_loss's code (reduction "none"), in torch."""
    F = torch.nn.functional
    p = torch.sigmoid(xt)
    ce = F.binary_cross_entropy_with_logits(xt, tt, reduction="none")
    p_t = p * tt + (1 - p) * (1 - tt)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        loss = (alpha * tt + (1 - alpha) * (1 - tt)) * loss
    return loss


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_focal_against_torch_autograd(reduction, rng):
    """torchvision.ops.sigmoid_focal_loss's code, in torch (torchvision itself is not needed),
    on logits where its 1 - p_t does not cancel."""
    torch = _torch()
    x = rng.normal(size=(40, 3)) * 3
    t = rng.uniform(size=(40, 3))
    t[:10] = np.round(t[:10])
    for alpha, gamma in ((0.25, 2.0), (-1.0, 1.5), (0.6, 0.0)):
        xt = torch.tensor(x, requires_grad=True)
        loss = torch_focal(torch, xt, torch.tensor(t), alpha, gamma)
        loss = loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss
        loss.sum().backward()
        L, G = cyloss.sigmoid_focal_loss(x, t, alpha=alpha, gamma=gamma, reduction=reduction, return_grad=True)
        assert_close(L, loss.detach().numpy(), np.float64, rtol=1e-9, what="loss")
        assert_close(G, xt.grad.numpy(), np.float64, rtol=1e-8, atol=1e-12, what="grad")


# ------------------------------------------------------------ hard cases (mpmath)

def test_log_cosh_and_pseudo_huber_hard_points():
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 80
    d = np.array([1e-300, 1e-30, 1e-9, 1e-4, 0.01, 0.4999, 0.5, 0.9999, 1.0, 1.0001, 3.0, 30.0, 700.0, 1e6,
                  1e150, 1e300])
    d = np.concatenate([d, -d])
    for dtype in (np.float64, np.float32):
        with np.errstate(over="ignore"):
            dd = d.astype(dtype)
        ok = np.isfinite(dd)
        l, g, h = cyloss.log_cosh_loss(dd[ok], dtype(0), reduction="none", return_hessian=True)
        for di, li, gi, hi in zip(dd[ok].astype(np.float64), l, g, h):
            x = mp.mpf(float(di))
            rl = mp.log(mp.cosh(x))
            tol = 4 * np.finfo(dtype).eps
            tiny = np.finfo(dtype).tiny
            assert abs(float(li) - float(rl)) <= tol * float(rl) + tiny, (dtype, di, li, rl)
            assert abs(float(gi) - float(mp.tanh(x))) <= tol * abs(float(mp.tanh(x))) + tiny, (dtype, di)
            assert abs(float(hi) - float(1 / mp.cosh(x) ** 2)) <= tol * float(1 / mp.cosh(x) ** 2) + tiny, (dtype, di)
        delta = 0.7
        l, g, h = cyloss.pseudo_huber_loss(dd[ok], dtype(0), delta=delta, reduction="none", return_hessian=True)
        for di, li, gi, hi in zip(dd[ok].astype(np.float64), l, g, h):
            x, D = mp.mpf(float(di)), mp.mpf(delta)
            s = mp.sqrt(1 + (x / D) ** 2)
            tol = 4 * np.finfo(dtype).eps
            tiny = np.finfo(dtype).tiny
            for got, want in ((li, D * D * (s - 1)), (gi, x / s), (hi, 1 / s ** 3)):
                want = float(want)
                if abs(want) > np.finfo(dtype).max:
                    assert np.isinf(got)
                else:
                    assert abs(float(got) - want) <= tol * abs(want) + tiny, (dtype, di, got, want)


def test_infinities_stay_finite_where_the_math_is():
    inf = np.inf
    d = np.array([inf, -inf])
    l, g, h = cyloss.log_cosh_loss(d, 0.0, reduction="none", return_hessian=True)
    assert np.array_equal(l, [inf, inf]) and np.array_equal(g, [1.0, -1.0]) and np.array_equal(h, [0.0, 0.0])
    l, g, h = cyloss.pseudo_huber_loss(d, 0.0, delta=2.0, reduction="none", return_hessian=True)
    assert np.array_equal(l, [inf, inf]) and np.array_equal(g, [2.0, -2.0]) and np.array_equal(h, [0.0, 0.0])
    # soft margin: log(1 + exp(-y x)) for -y x = 1000 is 1000 (torch's log1p(exp()) gives inf)
    l, g = cyloss.soft_margin_loss(np.array([-1000.0, 1000.0]), np.array([1.0, 1.0]), reduction="none",
                                   return_grad=True)
    assert np.array_equal(l, [1000.0, 0.0]) and np.array_equal(g, [-1.0, -0.0])
    l32 = cyloss.soft_margin_loss(np.float32(-100.0), np.float32(1.0), reduction="none")
    assert l32 == np.float32(100.0)
    # focal loss at |x| = 40 with hard targets: the loss of the right class is exp(-40)^2 * 40-ish, not 0
    l = cyloss.sigmoid_focal_loss(np.array([40.0]), np.array([1.0]), alpha=-1)
    assert l[0] > 0 and l[0] == pytest.approx(math.exp(-40) ** 2 * math.log1p(math.exp(-40)), rel=1e-12)


# ------------------------------------------------------- NaN, empty, bad input

ALL_PAIR = ["log_cosh_loss", "pseudo_huber_loss", "soft_margin_loss", "hinge_embedding_loss", "poisson_nll_loss",
            "sigmoid_focal_loss"]


@pytest.mark.parametrize("name", ALL_PAIR)
def test_nan_touches_only_its_element(name):
    x = np.array([0.3, np.nan, -0.7, 1.2])
    # (hinge: y = 0.5 gets both terms; with y = 1 the loss is x itself, whose gradient is 1 even at NaN, as torch)
    y = np.array([1.0, 0.5, -1.0, 0.5]) if name != "poisson_nll_loss" else np.array([1.0, 2.0, 0.0, 3.0])
    L, G = getattr(cyloss, name)(x, y, reduction="none", return_grad=True)
    assert np.isnan(L[1]) and np.isnan(G[1])
    assert np.all(np.isfinite(np.delete(L, 1))) and np.all(np.isfinite(np.delete(G, 1)))
    assert np.isnan(getattr(cyloss, name)(x, y, reduction="sum"))


def test_nan_in_multi_input_losses():
    x1 = np.array([0.3, np.nan, -0.7])
    L, (g1, g2) = cyloss.margin_ranking_loss(x1, np.zeros(3), np.ones(3), reduction="none", return_grad=True)
    assert np.isnan(L[1]) and np.isnan(g1[1]) and np.isnan(g2[1]) and np.isfinite(L[[0, 2]]).all()
    var = np.array([1.0, np.nan, 2.0])
    L, (g, gv) = cyloss.gaussian_nll_loss(np.zeros(3), np.ones(3), var, reduction="none", return_grad=True)
    assert np.isnan(L[1]) and np.isnan(g[1]) and np.isnan(gv[1]) and np.isfinite(L[[0, 2]]).all()


@pytest.mark.parametrize("name", ALL_PAIR)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_empty(name, dtype):
    x = np.empty((0, 3), dtype=dtype)
    fn = getattr(cyloss, name)
    assert np.isnan(fn(x, x, reduction="mean"))
    assert fn(x, x, reduction="sum") == 0
    L, G = fn(x, x, reduction="none", return_grad=True)
    assert L.shape == (0, 3) and G.shape == (0, 3) and G.dtype == dtype
    L, (g1, g2) = cyloss.margin_ranking_loss(x, x, x, reduction="mean", return_grad=True)
    assert np.isnan(L) and g1.shape == (0, 3) and g2.shape == (0, 3)
    L, (g, gv) = cyloss.gaussian_nll_loss(x, x, x, reduction="sum", return_grad=True)
    assert L == 0 and gv.shape == (0, 3)


BAD = [
    (lambda: cyloss.log_cosh_loss(np.ones(3), np.ones(3), reduction="avg"), ValueError, "reduction"),
    (lambda: cyloss.pseudo_huber_loss(np.ones(3), np.ones(3), delta=0.0), ValueError, "delta"),
    (lambda: cyloss.pseudo_huber_loss(np.ones(3), np.ones(3), delta=-1.0), ValueError, "delta"),
    (lambda: cyloss.pseudo_huber_loss(np.ones(3), np.ones(3), delta=float("nan")), ValueError, "delta"),
    (lambda: cyloss.log_cosh_loss(np.ones(3), np.ones(4)), ValueError, "target"),
    (lambda: cyloss.log_cosh_loss(np.ones(3), np.ones(3), weight=np.ones(2)), ValueError, "weight"),
    (lambda: cyloss.soft_margin_loss(np.ones(3), np.ones(3), reduction="batchmean"), ValueError, "reduction"),
    (lambda: cyloss.hinge_embedding_loss(np.ones(3), np.ones(3), margin="1"), TypeError, "margin"),
    (lambda: cyloss.margin_ranking_loss(np.ones((3, 1)), np.ones(3), np.ones(3)), ValueError, "dimensions"),
    (lambda: cyloss.margin_ranking_loss(np.ones(3), np.ones(4), np.ones(3)), ValueError, "input2"),
    (lambda: cyloss.margin_ranking_loss(np.ones(3), np.ones(3), np.ones(3), return_grad=True,
                                        grad_out=np.empty(3)), TypeError, "grad_out"),
    (lambda: cyloss.margin_ranking_loss(np.ones(3), np.ones(3), np.ones(3), grad_out=(np.empty(3), None)),
     ValueError, "return_grad"),
    (lambda: cyloss.margin_ranking_loss(np.ones(3), np.ones(3), np.ones(3), return_grad=True,
                                        grad_out=(np.empty(4), None)), ValueError, "grad_out"),
    (lambda: cyloss.poisson_nll_loss(np.ones(3), np.ones(3), log_input="yes"), TypeError, "log_input"),
    (lambda: cyloss.poisson_nll_loss(np.ones(3), np.ones(3), eps=None), TypeError, "eps"),
    (lambda: cyloss.gaussian_nll_loss(np.ones((4, 3)), np.ones((4, 3)), -np.ones((4, 3))), ValueError, "var"),
    (lambda: cyloss.gaussian_nll_loss(np.ones((4, 3)), np.ones((4, 3)), np.ones(3)), ValueError, "var"),
    (lambda: cyloss.gaussian_nll_loss(np.ones((4, 3)), np.ones((4, 3)), np.ones((4, 2))), ValueError, "var"),
    (lambda: cyloss.gaussian_nll_loss(np.ones((4, 3)), np.ones((4, 3)), np.ones((4, 3)), eps=-1.0), ValueError,
     "eps"),
    (lambda: cyloss.gaussian_nll_loss(np.ones((4, 3)), np.ones((4, 3)), np.ones((4, 3)), full=2), TypeError, "full"),
    (lambda: cyloss.sigmoid_focal_loss(np.ones(3), np.ones(3), alpha=1.5), ValueError, "alpha"),
    (lambda: cyloss.sigmoid_focal_loss(np.ones(3), np.ones(3), alpha=-0.5), ValueError, "alpha"),
    (lambda: cyloss.sigmoid_focal_loss(np.ones(3), np.ones(3), gamma=-1.0), ValueError, "gamma"),
    (lambda: cyloss.sigmoid_focal_loss(np.ones(3), np.ones(3), gamma=float("nan")), ValueError, "gamma"),
    (lambda: cyloss.sigmoid_focal_loss(np.ones(3), np.ones(3), reduction=None), (TypeError, ValueError), "reduction"),
    (lambda: cyloss.soft_margin_loss(np.array(["a"]), np.ones(1)), TypeError, "input"),
    (lambda: cyloss.poisson_nll_loss(np.ones(2), np.array([1j, 2j])), TypeError, "target"),
]


@pytest.mark.parametrize("k", range(len(BAD)))
def test_bad_input(k):
    call, exc, word = BAD[k]
    with pytest.raises(exc, match=word):
        call()


@pytest.mark.parametrize("name", ["log_cosh_loss", "pseudo_huber_loss", "soft_margin_loss", "poisson_nll_loss"])
def test_hessian_is_the_derivative_of_the_gradient(name, rng):
    x = rng.normal(size=50)
    y = np.sign(rng.normal(size=50)) if name == "soft_margin_loss" else rng.uniform(0, 3, size=50)
    fn = getattr(cyloss, name)
    _, _, h = fn(x, y, reduction="sum", return_hessian=True)
    step = 1e-6
    gp = fn(x + step, y, reduction="sum", return_grad=True)[1]
    gm = fn(x - step, y, reduction="sum", return_grad=True)[1]
    np.testing.assert_allclose(h, (gp - gm) / (2 * step), rtol=1e-6, atol=1e-8)


def test_weighted_log_cosh_and_pseudo_huber_mean_by_weight(rng):
    d = rng.normal(size=(8, 3))
    w = rng.uniform(size=(8, 1))
    for fn, ref in ((cyloss.log_cosh_loss, ref_log_cosh), (cyloss.pseudo_huber_loss, lambda d: ref_pseudo_huber(d, 1.0))):
        l, g, _ = ref(d)
        wb = np.broadcast_to(w, d.shape)
        L, G = fn(d, 0.0, weight=w, return_grad=True)
        assert_close(L, (wb * l).sum() / wb.sum(), np.float64)
        assert_close(G, wb * g / wb.sum(), np.float64)


@pytest.mark.parametrize("name", ALL_PAIR + ["margin_ranking_loss", "gaussian_nll_loss"])
def test_large_inputs_thread_count_independent(name, rng):
    """Large enough for the thread pool: the same bits with 1 and 2 threads (block sums in
    a fixed order)."""
    n = 300_001
    x = rng.normal(size=n).astype(np.float32)
    y = np.sign(rng.normal(size=n)).astype(np.float32)
    args = (x, y)
    if name == "margin_ranking_loss":
        args = (x, rng.normal(size=n).astype(np.float32), y)
    elif name == "gaussian_nll_loss":
        args = (x, y, rng.uniform(0.1, 2.0, size=n).astype(np.float32))
    elif name == "poisson_nll_loss":
        args = (x, np.abs(y) * 2)
    fn = getattr(cyloss, name)
    res = []
    for threads in (1, 2):
        with cyloss.num_threads(threads):
            res.append(fn(*args, reduction="sum", return_grad=True))
    assert res[0][0] == res[1][0]
    g0 = res[0][1] if isinstance(res[0][1], tuple) else (res[0][1],)
    g1 = res[1][1] if isinstance(res[1][1], tuple) else (res[1][1],)
    for a, b in zip(g0, g1):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------- softmin

def _ref_softmin(x, axis, t):
    z = -np.asarray(x, dtype=np.float64) / t
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("temperature", [1.0, 0.3, 7.0])
def test_softmin(dtype, axis, temperature, rng):
    x = (rng.normal(size=(9, 13)) * 3).astype(dtype)
    x0 = x.copy()
    y = cyloss.softmin(x, axis, temperature=temperature)
    assert_close(y, _ref_softmin(x, axis, temperature), dtype)
    out = np.empty_like(x)
    assert cyloss.softmin(x, axis, temperature=temperature, out=out) is out
    np.testing.assert_array_equal(out, y)
    np.testing.assert_array_equal(x, x0)
    # in place: out is x itself
    xi = x.copy()
    cyloss.softmin(xi, axis, temperature=temperature, out=xi)
    np.testing.assert_array_equal(xi, y)


def test_softmin_dtypes_and_specials():
    assert cyloss.softmin(np.array([1, 2, 3])).dtype == np.float64
    assert cyloss.softmin(np.array([True, False])).dtype == np.float64
    y16 = cyloss.softmin(np.array([1.0, 2.0], dtype=np.float16))
    assert y16.dtype == np.float16
    np.testing.assert_allclose(y16.astype(np.float64), _ref_softmin([1.0, 2.0], -1, 1.0), rtol=2e-3)
    y = cyloss.softmin(np.array([[np.inf, 0.0], [np.nan, 1.0], [-np.inf, 1.0]]))
    np.testing.assert_array_equal(y[0], [0.0, 1.0])
    assert np.isnan(y[1]).all() and np.isnan(y[2]).all()
    with pytest.raises(ValueError, match="temperature"):
        cyloss.softmin(np.ones(3), temperature=0.0)
    with pytest.raises(TypeError, match="x"):
        cyloss.softmin(np.array(["a"]))


def test_softmin_against_torch(rng):
    torch = _torch()
    x = rng.normal(size=(6, 11)) * 4
    for dim in (0, 1):
        ref = torch.nn.functional.softmin(torch.tensor(x), dim=dim).numpy()
        assert_close(cyloss.softmin(x, dim), ref, np.float64)


# ----------------------------------------------------------- multi_margin_loss

def ref_multi_margin(x, t, p, margin, w):
    n, c = x.shape
    l = np.zeros(n)
    g = np.zeros((n, c))
    for i in range(n):
        wt = 1.0 if w is None else w[t[i]]
        for d in range(c):
            if d == t[i]:
                continue
            z = margin - x[i, t[i]] + x[i, d]
            if z > 0:
                l[i] += wt * z ** p / c
                gd = wt * (1.0 if p == 1 else 2.0 * z) / c
                g[i, d] += gd
                g[i, t[i]] -= gd
    return l, g


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_multi_margin_matches_reference(dtype, p, weighted, rng):
    x = rng.normal(size=(25, 9)).astype(dtype)
    t = rng.integers(0, 9, size=25)
    x[0, (t[0] + 1) % 9] = x[0, t[0]] - dtype(1.0)  # z = 0: no loss, no gradient (torch)
    w = rng.uniform(0.1, 2.0, size=9).astype(dtype) if weighted else None
    l, g = ref_multi_margin(x.astype(np.float64), t, p, 1.0, None if w is None else w.astype(np.float64))
    for red in REDUCTIONS:
        el, eg = _reduce(l, g, red)
        L, G = cyloss.multi_margin_loss(x, t, p=p, weight=w, reduction=red, return_grad=True)
        assert_close(L, el, dtype, scale=10, what=red)
        assert_close(G, eg, dtype, what=red)
    # one sample, (C,) scores and a 0-d target
    L, G = cyloss.multi_margin_loss(x[3], t[3], p=p, weight=w, margin=0.5, reduction="none", return_grad=True)
    l1, g1 = ref_multi_margin(x[3:4].astype(np.float64), t[3:4], p, 0.5, None if w is None else w.astype(np.float64))
    assert_close(L, l1[0], dtype)
    assert_close(G, g1[0], dtype)


def test_multi_margin_against_torch(rng):
    torch = _torch()
    F = torch.nn.functional
    x = rng.normal(size=(30, 6))
    t = rng.integers(0, 6, size=30)
    x[1, (t[1] + 2) % 6] = x[1, t[1]] - 1.0
    w = rng.uniform(size=6)
    for p in (1, 2):
        for red in REDUCTIONS:
            for ww in (None, w):
                xt = torch.tensor(x, requires_grad=True)
                out = F.multi_margin_loss(xt, torch.tensor(t), p=p, margin=1.0,
                                          weight=None if ww is None else torch.tensor(ww), reduction=red)
                out.sum().backward()
                L, G = cyloss.multi_margin_loss(x, t, p=p, weight=ww, reduction=red, return_grad=True)
                assert_close(L, out.detach().numpy(), np.float64, scale=10)
                assert_close(G, xt.grad.numpy(), np.float64)


def test_multi_margin_edges():
    # empty batch: mean NaN, sum 0; grad_out; NaN touches its row only; inputs unchanged
    e = np.empty((0, 4))
    assert np.isnan(cyloss.multi_margin_loss(e, np.empty(0, dtype=np.int64)))
    assert cyloss.multi_margin_loss(e, np.empty(0, dtype=np.int64), reduction="sum") == 0
    x = np.array([[0.1, 0.5, np.nan], [0.3, 0.2, 0.9]])
    t = np.array([0, 2])
    L, G = cyloss.multi_margin_loss(x, t, reduction="none", return_grad=True)
    assert np.isnan(L[0]) and np.isnan(G[0]).any() and np.isfinite(L[1]) and np.isfinite(G[1]).all()
    out = np.empty((2, 3))
    r = cyloss.multi_margin_loss(x, t, return_grad=True, grad_out=out)
    assert r[1] is out
    with pytest.raises(IndexError, match="target"):
        cyloss.multi_margin_loss(x, np.array([0, 3]))
    with pytest.raises(IndexError, match="target"):
        cyloss.multi_margin_loss(x, np.array([-1, 0]))
    with pytest.raises(ValueError, match="p must be"):
        cyloss.multi_margin_loss(x, t, p=3)
    with pytest.raises(ValueError, match="input"):
        cyloss.multi_margin_loss(np.ones((2, 2, 3)), np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="weight"):
        cyloss.multi_margin_loss(x, t, weight=np.ones(2))
    with pytest.raises(TypeError, match="target"):
        cyloss.multi_margin_loss(x, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="target"):
        cyloss.multi_margin_loss(x, np.array([0, 1, 2]))


# -------------------------------------------------- multilabel_soft_margin_loss

def ref_multilabel_soft_margin(x, y, w):
    w = np.ones_like(x) if w is None else np.broadcast_to(w, x.shape)
    c = x.shape[-1]
    l = (w * (y * np.logaddexp(0.0, -x) + (1.0 - y) * np.logaddexp(0.0, x))).sum(axis=-1) / c
    return l, w * (_expit(x) - y) / c


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("wshape", [None, (6,), (4, 5, 6), (4, 1, 6), (5, 1)])
def test_multilabel_soft_margin_matches_reference(dtype, wshape, rng):
    x = (rng.normal(size=(4, 5, 6)) * 4).astype(dtype)
    y = (rng.uniform(size=(4, 5, 6)) > 0.5).astype(dtype)
    y[0, 0] = rng.uniform(size=6)  # soft labels
    w = None if wshape is None else rng.uniform(0.1, 2.0, size=wshape).astype(dtype)
    l, g = ref_multilabel_soft_margin(x.astype(np.float64), y.astype(np.float64),
                                      None if w is None else w.astype(np.float64))
    for red in REDUCTIONS:
        el, eg = (l, g) if red == "none" else (l.sum(), g) if red == "sum" else (l.mean(), g / l.size)
        L, G = cyloss.multilabel_soft_margin_loss(x, y, weight=w, reduction=red, return_grad=True)
        assert_close(L, el, dtype, scale=20, what=red)
        assert_close(G, eg, dtype, what=red)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("red", REDUCTIONS)
def test_multilabel_soft_margin_hessian(dtype, red, rng):
    """The diagonal Hessian w sigmoid(x)(1 - sigmoid(x)) / C (float64 reference written here, and
    the central difference of cyloss's own gradient), scaled like the gradient."""
    x = (4 * rng.normal(size=(7, 5))).astype(dtype)
    x[0, 0], x[0, 1] = 60.0, -60.0  # saturated: tiny but exact, no cancellation
    y = rng.uniform(size=(7, 5)).astype(dtype)
    w = rng.uniform(0.5, 2, size=5).astype(dtype)
    x64 = x.astype(np.float64)
    s = _expit(x64)
    h = w.astype(np.float64) * s * (1 - s) / 5
    if red == "mean":
        h = h / 7
    L, G, H = cyloss.multilabel_soft_margin_loss(x, y, weight=w, reduction=red, return_hessian=True)
    assert H.dtype == dtype and H.shape == x.shape
    assert_close(H, h, dtype, scale=4)
    assert H[0, 0] > 0 and H[0, 1] > 0
    L2, G2 = cyloss.multilabel_soft_margin_loss(x, y, weight=w, reduction=red, return_grad=True)
    # the same gradient and loss as return_grad=True, to the rounding an FMA contraction that
    # differs between the row specializations can make (as tests/test_hessian.py)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(G.astype(np.float64), G2.astype(np.float64), rtol=4 * eps,
                               atol=4 * eps * float(np.max(np.abs(G2))))
    np.testing.assert_allclose(np.asarray(L, np.float64), np.asarray(L2, np.float64), rtol=4 * eps)
    if dtype == np.float64:
        step = 1e-6
        gp = cyloss.multilabel_soft_margin_loss(x + step, y, weight=w, reduction=red, return_grad=True)[1]
        gm = cyloss.multilabel_soft_margin_loss(x - step, y, weight=w, reduction=red, return_grad=True)[1]
        np.testing.assert_allclose(H, (gp - gm) / (2 * step), rtol=1e-6, atol=1e-10)
        out = np.empty_like(x)
        r = cyloss.multilabel_soft_margin_loss(x, y, weight=w, reduction=red, return_hessian=True, hess_out=out)
        assert r[2] is out
        np.testing.assert_array_equal(out, H)
    with pytest.raises(ValueError, match="hess_out"):
        cyloss.multilabel_soft_margin_loss(x, y, hess_out=np.empty_like(x))


def test_multilabel_soft_margin_against_torch(rng):
    torch = _torch()
    F = torch.nn.functional
    x = rng.normal(size=(12, 5)) * 5
    y = (rng.uniform(size=(12, 5)) > 0.4).astype(np.float64)
    for w in (None, rng.uniform(size=5)):
        for red in REDUCTIONS:
            xt = torch.tensor(x, requires_grad=True)
            out = F.multilabel_soft_margin_loss(xt, torch.tensor(y), weight=None if w is None else torch.tensor(w),
                                                reduction=red)
            out.sum().backward()
            L, G = cyloss.multilabel_soft_margin_loss(x, y, weight=w, reduction=red, return_grad=True)
            assert_close(L, out.detach().numpy(), np.float64, scale=10)
            assert_close(G, xt.grad.numpy(), np.float64)


def test_multilabel_soft_margin_edges():
    big = cyloss.multilabel_soft_margin_loss(np.array([[-1000.0, 1000.0]]), np.array([[1.0, 0.0]]),
                                             reduction="none")
    assert big[0] == 1000.0  # (1000 + 1000) / 2, finite (softplus)
    assert np.isnan(cyloss.multilabel_soft_margin_loss(np.empty((0, 3)), np.empty((0, 3))))
    assert cyloss.multilabel_soft_margin_loss(np.empty((0, 3)), np.empty((0, 3)), reduction="sum") == 0
    L = cyloss.multilabel_soft_margin_loss(np.array([[0.1, np.nan], [0.2, 0.3]]), np.ones((2, 2)), reduction="none")
    assert np.isnan(L[0]) and np.isfinite(L[1])
    L = cyloss.multilabel_soft_margin_loss(np.array([0.5, -0.5, 2.0]), np.array([1.0, 0.0, 1.0]), reduction="none")
    assert L.shape == () and isinstance(L, np.floating)
    with pytest.raises(ValueError, match="target"):
        cyloss.multilabel_soft_margin_loss(np.ones((2, 3)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="weight"):
        cyloss.multilabel_soft_margin_loss(np.ones((2, 3)), np.ones((2, 3)), weight=np.ones(2))
    with pytest.raises(ValueError, match="input"):
        cyloss.multilabel_soft_margin_loss(np.float64(1.0), np.float64(1.0))


# ------------------------------------------------------- cosine_embedding_loss

def ref_cosine_embedding(a, b, y, margin, eps=1e-12):
    p = (a * b).sum(-1)
    A = (a * a).sum(-1) + eps
    B = (b * b).sum(-1) + eps
    cs = p / np.sqrt(A * B)
    l = np.where(y == 1, 1 - cs, np.where(y == -1, np.maximum(0.0, cs - margin), 0.0))
    s = np.where(y == 1, -1.0, np.where(y == -1, (cs - margin >= 0).astype(float), 0.0))
    den = np.sqrt(A * B)
    ga = s[..., None] * (b / den[..., None] - (cs / A)[..., None] * a)
    gb = s[..., None] * (a / den[..., None] - (cs / B)[..., None] * b)
    return l, ga, gb


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("margin", [0.0, 0.4, -0.2])
def test_cosine_embedding_matches_reference(dtype, margin, rng):
    a = rng.normal(size=(30, 8)).astype(dtype)
    b = rng.normal(size=(30, 8)).astype(dtype)
    y = np.where(rng.uniform(size=30) > 0.5, 1.0, -1.0).astype(dtype)
    y[0] = 0.0  # neither: loss 0 (torch)
    b[1] = a[1]  # cos = 1
    l, ga, gb = ref_cosine_embedding(a.astype(np.float64), b.astype(np.float64), y.astype(np.float64), margin)
    for red in REDUCTIONS:
        el, ega, egb = _reduce(l, ga, red, (gb,))
        L, (GA, GB) = cyloss.cosine_embedding_loss(a, b, y, margin=margin, reduction=red, return_grad=True)
        assert_close(L, el, dtype, scale=30, what=red)
        assert_close(GA, ega, dtype, what=red)
        assert_close(GB, egb, dtype, what=red)
    L, (GA, GB) = cyloss.cosine_embedding_loss(a[2], b[2], y[2], margin=margin, reduction="none", return_grad=True)
    assert_close(L, l[2], dtype)
    assert_close(GA, ga[2], dtype)


def test_cosine_embedding_against_torch(rng):
    torch = _torch()
    F = torch.nn.functional
    a = rng.normal(size=(16, 5))
    b = rng.normal(size=(1, 5))  # broadcast against a
    y = np.where(rng.uniform(size=16) > 0.5, 1.0, -1.0)
    for red in REDUCTIONS:
        at, bt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        out = F.cosine_embedding_loss(at, bt, torch.tensor(y), margin=0.1, reduction=red)
        out.sum().backward()
        L, (GA, GB) = cyloss.cosine_embedding_loss(a, b, y, margin=0.1, reduction=red, return_grad=True)
        assert_close(L, out.detach().numpy(), np.float64, scale=10)
        assert_close(GA, at.grad.numpy(), np.float64)
        assert_close(GB, bt.grad.numpy(), np.float64, scale=10)


def test_cosine_embedding_edges():
    z = np.zeros((2, 3))
    L = cyloss.cosine_embedding_loss(z, z, np.array([1.0, -1.0]), reduction="none")
    np.testing.assert_array_equal(L, [1.0, 0.0])  # cos = 0 / eps
    assert np.isnan(cyloss.cosine_embedding_loss(np.empty((0, 3)), np.empty((0, 3)), np.empty(0)))
    L = cyloss.cosine_embedding_loss(np.array([[1.0, np.nan], [1.0, 2.0]]), np.ones((2, 2)), np.ones(2),
                                     reduction="none")
    assert np.isnan(L[0]) and np.isfinite(L[1])
    with pytest.raises(ValueError, match="target"):
        cyloss.cosine_embedding_loss(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 1)))
    with pytest.raises(ValueError, match="inputs"):
        cyloss.cosine_embedding_loss(np.ones(3), np.ones(3), np.ones(1))
    with pytest.raises(ValueError, match="target"):
        cyloss.cosine_embedding_loss(np.ones((2, 3)), np.ones((2, 3)), np.ones(3))
    with pytest.raises(ValueError, match="eps"):
        cyloss.cosine_embedding_loss(np.ones((2, 3)), np.ones((2, 3)), np.ones(2), eps=-1.0)


# ----------------------------------------------------- multilabel_margin_loss

def ref_multilabel_margin(x, t):
    n, c = x.shape
    l = np.zeros(n)
    g = np.zeros((n, c))
    for r in range(n):
        listed = []
        for v in t[r]:
            if v < 0:
                break
            listed.append(int(v))
        members = set(listed)
        for j in listed:
            for i in range(c):
                if i in members:
                    continue
                z = 1.0 - x[r, j] + x[r, i]
                if z > 0:
                    l[r] += z / c
                    g[r, i] += 1.0 / c
                    g[r, j] -= 1.0 / c
    return l, g


def _ml_targets(rng, n, c):
    t = np.full((n, c), -1, dtype=np.int64)
    for r in range(n):
        k = int(rng.integers(0, c))
        t[r, :k] = rng.choice(c, k, replace=False)
        t[r, k + 1:] = rng.integers(-3, 2 * c, size=c - k - 1)  # ignored after the first -1
    return t


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_multilabel_margin_matches_reference(dtype, rng):
    x = rng.normal(size=(30, 8)).astype(dtype)
    t = _ml_targets(rng, 30, 8)
    t[0, :4] = [3, 3, 1, -1]  # a duplicate is counted twice (torch)
    l, g = ref_multilabel_margin(x.astype(np.float64), t)
    for red in REDUCTIONS:
        el, eg = _reduce(l, g, red)
        L, G = cyloss.multilabel_margin_loss(x, t, reduction=red, return_grad=True)
        assert_close(L, el, dtype, scale=10, what=red)
        assert_close(G, eg, dtype, what=red)
    L, G = cyloss.multilabel_margin_loss(x[5], t[5].astype(np.int32), reduction="none", return_grad=True)
    assert_close(L, l[5], dtype)
    assert_close(G, g[5], dtype)


def test_multilabel_margin_against_torch(rng):
    torch = _torch()
    F = torch.nn.functional
    x = rng.normal(size=(25, 6))
    t = _ml_targets(rng, 25, 6)
    # torch rejects any entry outside [-1, C), also after the first -1 (cyloss ignores those)
    t = np.where(np.cumsum(t < 0, axis=1) > 0, -1, t)
    for red in REDUCTIONS:
        xt = torch.tensor(x, requires_grad=True)
        out = F.multilabel_margin_loss(xt, torch.tensor(t), reduction=red)
        out.sum().backward()
        L, G = cyloss.multilabel_margin_loss(x, t, reduction=red, return_grad=True)
        assert_close(L, out.detach().numpy(), np.float64, scale=10)
        assert_close(G, xt.grad.numpy(), np.float64)


def test_multilabel_margin_many_classes_scan_path(rng):
    """Beyond CYL_SCRATCH_BYTES classes the target set is scanned instead of masked."""
    c = 70_000
    x = rng.normal(size=(2, c)).astype(np.float32)
    t = np.full((2, c), -1, dtype=np.int64)
    t[0, :3] = [5, 69_999, 12]
    t[1, :1] = [0]
    L, G = cyloss.multilabel_margin_loss(x, t, reduction="none", return_grad=True)
    for r in range(2):
        listed = [v for v in t[r][:3] if v >= 0] if r == 0 else [0]
        mask = np.zeros(c, dtype=bool)
        mask[listed] = True
        x64 = x[r].astype(np.float64)
        z = np.concatenate([np.maximum(0, 1 - x64[j] + x64[~mask]) for j in listed])
        assert L[r] == pytest.approx(z.sum() / c, rel=1e-5)
        gref = np.zeros(c)
        for j in listed:
            act = (1 - x64[j] + x64 > 0) & ~mask
            gref[act] += 1 / c
            gref[j] -= act.sum() / c
        np.testing.assert_allclose(G[r], gref, rtol=1e-5, atol=1e-9)


def test_multilabel_margin_edges():
    x = np.array([[0.1, 0.2, 0.3], [0.5, np.nan, 0.0]])
    t = np.array([[0, -1, 7], [2, -1, -1]])
    L = cyloss.multilabel_margin_loss(x, t, reduction="none")
    assert np.isfinite(L[0]) and np.isnan(L[1])
    with pytest.raises(IndexError, match=r"target\[0, 1\] = 3"):
        cyloss.multilabel_margin_loss(x, np.array([[0, 3, -1], [0, -1, 0]]))
    with pytest.raises(TypeError, match="target"):
        cyloss.multilabel_margin_loss(x, t.astype(float))
    with pytest.raises(ValueError, match="target"):
        cyloss.multilabel_margin_loss(x, t[:, :2])
    with pytest.raises(ValueError, match="input"):
        cyloss.multilabel_margin_loss(np.ones((2, 2, 2)), np.zeros((2, 2, 2), dtype=np.int64))
    assert np.isnan(cyloss.multilabel_margin_loss(np.empty((0, 3)), np.empty((0, 3), dtype=np.int64)))
    assert cyloss.multilabel_margin_loss(np.ones((2, 3)), np.full((2, 3), -1), reduction="sum") == 0


# -------------------------------------------------------- triplet_margin_loss

def _ref_dist(x, y, p, eps):
    """torch's pairwise_distance ||x - y + eps||_p over the last axis, and its gradient in v."""
    v = x - y + eps
    av = np.abs(v)
    if p == math.inf:
        d = av.max(-1)
        at = av == d[..., None]
        g = np.sign(v) * at / at.sum(-1, keepdims=True)
    else:
        d = (av ** p).sum(-1) ** (1.0 / p)
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.sign(v) * (av / d[..., None]) ** (p - 1)
        g = np.where((v == 0) | (d[..., None] == 0), 0.0, g)
    return d, g


def ref_triplet(a, p, n, margin, norm, eps, swap):
    dp, up = _ref_dist(a, p, norm, eps)
    dn, un = _ref_dist(a, n, norm, eps)
    wn, ws = np.ones_like(dn), np.zeros_like(dn)
    us = np.zeros_like(un)
    if swap:
        ds, us = _ref_dist(p, n, norm, eps)
        wn = np.where(ds < dn, 0.0, np.where(ds == dn, 0.5, 1.0))
        ws = 1.0 - wn
        dn = np.minimum(dn, ds)
    z = margin + dp - dn
    l = np.maximum(z, 0.0)
    s = (z > 0).astype(float)[..., None]
    un, us = wn[..., None] * un, ws[..., None] * us
    return l, s * (up - un), s * (-up - us), s * (un + us)


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("norm", [2.0, 1.0, 3.0, 0.5, math.inf])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_triplet_matches_reference(dtype, norm, swap, rng):
    a, p, n = (rng.normal(size=(40, 9)).astype(dtype) for _ in range(3))
    p[0] = a[0]  # d(a, p) = ||eps||: the eps inside the difference
    n[1] = a[1] + 5  # z < 0: no loss, no gradient
    a64, p64, n64 = (v.astype(np.float64) for v in (a, p, n))
    l, ga, gp, gn = ref_triplet(a64, p64, n64, 1.3, norm, 1e-6, swap)
    for red in REDUCTIONS:
        el, ega, egp, egn = _reduce(l, ga, red, (gp, gn))
        L, (GA, GP, GN) = cyloss.triplet_margin_loss(a, p, n, margin=1.3, p=norm, swap=swap, reduction=red,
                                                     return_grad=True)
        assert_close(L, el, dtype, scale=30, what=red)
        for G, E in ((GA, ega), (GP, egp), (GN, egn)):
            assert G.dtype == dtype
            assert_close(G, E, dtype, scale=4, what=red)
    # one unbatched triple; 3-d inputs (the distance is over the last axis)
    L = cyloss.triplet_margin_loss(a[3], p[3], n[3], margin=1.3, p=norm, swap=swap, reduction="none")
    assert np.shape(L) == () and np.isclose(L, l[3], rtol=1e-5)
    L = cyloss.triplet_margin_loss(a.reshape(4, 10, 9), p.reshape(4, 10, 9), n.reshape(4, 10, 9), margin=1.3,
                                   p=norm, swap=swap, reduction="none")
    assert_close(L, l.reshape(4, 10), dtype, scale=30)


def test_triplet_against_torch(rng):
    torch = _torch()
    F = torch.nn.functional
    a = rng.normal(size=(24, 6))
    p = rng.normal(size=(1, 6))  # broadcast against a: its gradient is summed
    n = rng.normal(size=(24, 6))
    n[2] = a[2]  # d(a, n) tiny
    for norm in (2.0, 1.0, 1.7, math.inf):
        for swap in (False, True):
            for red in REDUCTIONS:
                ts = [torch.tensor(v, requires_grad=True) for v in (a, p, n)]
                out = F.triplet_margin_loss(*ts, margin=0.8, p=norm, swap=swap, reduction=red)
                out.sum().backward()
                L, G = cyloss.triplet_margin_loss(a, p, n, margin=0.8, p=norm, swap=swap, reduction=red,
                                                  return_grad=True)
                assert_close(L, out.detach().numpy(), np.float64, scale=10, what=f"{norm} {swap} {red}")
                for g, t in zip(G, ts):
                    assert g.shape == tuple(t.shape)
                    assert_close(g, t.grad.numpy(), np.float64, scale=30, what=f"{norm} {swap} {red}")


def test_triplet_kinks_follow_torch():
    """z = 0 passes no gradient (clamp_min), a zero difference has a zero norm gradient, a tie of
    swap's min splits the gradient, an inf-norm tie splits among the maximal entries: the values
    torch 2.13's autograd gives (checked by hand)."""
    a, p, n = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]])
    L, G = cyloss.triplet_margin_loss(a, p, n, eps=0.0, margin=1.0, return_grad=True)
    assert L == 0.0 and all(np.all(g == 0) for g in G)
    L, (GA, GP, GN) = cyloss.triplet_margin_loss(a, a, np.array([[1.0, 0.0]]), eps=0.0, margin=2.0, swap=True,
                                                 return_grad=True)
    assert L == 1.0
    np.testing.assert_array_equal(GA, [[0.5, 0.0]])
    np.testing.assert_array_equal(GP, [[0.5, 0.0]])
    np.testing.assert_array_equal(GN, [[-1.0, 0.0]])
    L, (GA, _, _) = cyloss.triplet_margin_loss(a, np.array([[1.0, -1.0]]), a, p=math.inf, eps=0.0, margin=1.0,
                                               return_grad=True)
    assert L == 2.0
    np.testing.assert_array_equal(GA, [[-0.5, 0.5]])


def test_triplet_edges_and_errors():
    x = np.ones((3, 4))
    bad = x.copy()
    bad[1, 2] = np.nan
    L, G = cyloss.triplet_margin_loss(x, x + 1, bad, reduction="none", return_grad=True)
    assert np.isnan(L[1]) and np.isfinite(L[[0, 2]]).all()
    assert np.isnan(G[0][1]).all() and np.isfinite(G[0][[0, 2]]).all()
    assert np.isnan(cyloss.triplet_margin_loss(np.empty((0, 4)), np.empty((0, 4)), np.empty((0, 4))))
    assert cyloss.triplet_margin_loss(np.empty((0, 4)), np.empty((0, 4)), np.empty((0, 4)), reduction="sum") == 0
    before = [v.copy() for v in (x, bad)]
    cyloss.triplet_margin_loss(x, bad, x, return_grad=True)
    np.testing.assert_array_equal(x, before[0])
    np.testing.assert_array_equal(bad, before[1])
    for kw, err, match in [({"margin": 0.0}, ValueError, "margin"), ({"margin": -1.0}, ValueError, "margin"),
                           ({"p": 0.0}, ValueError, "p must"), ({"p": -2.0}, ValueError, "p must"),
                           ({"p": "2"}, TypeError, "p must"), ({"swap": "yes"}, TypeError, "swap"),
                           ({"eps": math.nan}, ValueError, "eps"), ({"reduction": "avg"}, ValueError, "reduction")]:
        with pytest.raises(err, match=match):
            cyloss.triplet_margin_loss(x, x, x, **kw)
    with pytest.raises(ValueError, match="same number of dimensions"):
        cyloss.triplet_margin_loss(x, x[0], x)
    with pytest.raises(ValueError, match="negative"):
        cyloss.triplet_margin_loss(x, x, np.ones((3, 5)))
    with pytest.raises(TypeError, match="grad_out"):
        cyloss.triplet_margin_loss(x, x, x, return_grad=True, grad_out=np.empty((3, 4)))


def test_triplet_large_thread_count_independent(rng):
    a, p, n = (rng.normal(size=(3000, 100)).astype(np.float32) for _ in range(3))
    with cyloss.num_threads(1):
        one = cyloss.triplet_margin_loss(a, p, n, reduction="sum", return_grad=True)
    with cyloss.num_threads(2):
        two = cyloss.triplet_margin_loss(a, p, n, reduction="sum", return_grad=True)
    assert one[0] == two[0]
    for g1, g2 in zip(one[1], two[1]):
        np.testing.assert_array_equal(g1, g2)
