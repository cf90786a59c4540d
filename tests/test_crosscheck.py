"""Cross-checks against scipy.special and torch.nn.functional (skipped when absent).

torch runs in float64 with autograd; both the loss and the gradient are compared.  cyloss
float32 results are compared with the float64 peer at float32 tolerances.
"""
import numpy as np
import pytest

import cyloss
from _helpers import FLOAT_DTYPES, FLOAT_IDS, assert_close

REDUCTIONS = ("none", "mean", "sum")


def _scale(x):
    return max(1.0, float(np.max(np.abs(x)))) if np.size(x) else 1.0


# =========================================================================== scipy
@pytest.fixture(scope="module")
def sp():
    return pytest.importorskip("scipy.special")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape,axis", [((9,), 0), ((4, 7), -1), ((4, 7), 0), ((3, 4, 5), 1)])
def test_scipy_softmax_log_softmax(sp, dtype, shape, axis, rng):
    x = rng.normal(0, 4, shape).astype(dtype)
    x64 = x.astype(np.float64)
    assert_close(cyloss.softmax(x, axis=axis), sp.softmax(x64, axis=axis), dtype)
    assert_close(cyloss.log_softmax(x, axis=axis), sp.log_softmax(x64, axis=axis), dtype,
                 scale=_scale(x))


LSE_KW = [
    {}, {"axis": 0}, {"axis": -1}, {"axis": (0, 2)}, {"axis": (1, 2), "keepdims": True},
    {"axis": None, "keepdims": True}, {"axis": 1, "return_sign": True},
    {"axis": 2, "b": "pos"}, {"axis": 2, "b": "zeros"}, {"axis": 2, "b": "neg", "return_sign": True},
    {"axis": None, "b": "neg", "return_sign": True}, {"axis": 0, "b": "neg"},
    {"axis": (0, 1), "b": "row"},
]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("kw", LSE_KW, ids=[str(k) for k in LSE_KW])
def test_scipy_logsumexp(sp, dtype, kw, rng):
    x = rng.normal(0, 3, (3, 4, 5)).astype(dtype)
    kw = dict(kw)
    bmap = {"pos": rng.uniform(0.1, 2, (3, 4, 5)),
            "zeros": np.where(rng.uniform(size=(3, 4, 5)) < 0.4, 0.0, 1.5),
            "neg": rng.uniform(-1, 1.5, (3, 4, 5)),
            "row": rng.uniform(0.1, 2, 5)}
    if "b" in kw:
        kw["b"] = bmap[kw["b"]].astype(dtype)
    got = cyloss.logsumexp(x, **kw)
    kw64 = dict(kw)
    if "b" in kw64:
        kw64["b"] = kw64["b"].astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        exp = sp.logsumexp(x.astype(np.float64), **kw64)
    if kw.get("return_sign"):
        assert_close(got[0], exp[0], dtype, scale=_scale(x))
        assert_close(got[1], exp[1], dtype)
    else:
        assert_close(got, exp, dtype, scale=_scale(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("values", [[], [np.inf, 1.0], [-np.inf, -np.inf], [np.nan, 0.0],
                                    [-np.inf, 3.0], [1e4, -1e4, 1e4]],
                         ids=["empty", "inf", "all-neg-inf", "nan", "neg-inf", "big"])
def test_scipy_logsumexp_special(sp, dtype, values):
    x = np.array(values, dtype=dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        exp = sp.logsumexp(x.astype(np.float64))
    assert_close(cyloss.logsumexp(x), exp, dtype, scale=_scale(x[np.isfinite(x)]))


B_SPECIAL = [([np.nan, 0.0], [0, 1]), ([np.inf, 0.0], [0, 1]), ([np.inf, 0.0], [-1, 1]),
             ([np.inf, np.inf], [1, -1]), ([-np.inf, 0.0], [1, -1]), ([np.nan, 0.0], [1, 1]),
             ([1.0, 2.0], [0.0, -0.0]), ([3.0, 1.0, -2.0], [-1.0, 0.5, 0.0]),
             ([-np.inf, -np.inf], [1, 1])]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("x,b", B_SPECIAL, ids=[f"{x}-{b}" for x, b in B_SPECIAL])
def test_scipy_logsumexp_b_special(sp, dtype, x, b):
    xa, ba = np.array(x, dtype=dtype), np.array(b, dtype=dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        exp = sp.logsumexp(xa.astype(np.float64), b=ba.astype(np.float64), return_sign=True)
        exp_nosign = sp.logsumexp(xa.astype(np.float64), b=ba.astype(np.float64))
    got = cyloss.logsumexp(xa, b=ba, return_sign=True)
    assert_close(got[0], exp[0], dtype, scale=4)
    assert_close(got[1], exp[1], dtype)
    assert_close(cyloss.logsumexp(xa, b=ba), exp_nosign, dtype, scale=4)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_scipy_entropy_kl_huber_bce(sp, dtype, rng):
    stats = pytest.importorskip("scipy.stats")
    p = rng.uniform(0, 1, (5, 6))
    p[p < 0.2] = 0.0
    p = (p / p.sum(axis=1, keepdims=True)).astype(dtype)
    p64 = p.astype(np.float64)
    assert_close(cyloss.entropy(p), sp.entr(p64).sum(axis=1), dtype)
    assert_close(cyloss.entropy(p), stats.entropy(p64, axis=1), dtype)  # normalized p
    # kl_div(log q, t) pointwise == rel_entr(t, q)
    q = sp.softmax(rng.normal(size=(5, 6)), axis=1)
    lq = np.log(q).astype(dtype)
    assert_close(cyloss.kl_div(lq, p, reduction="none"),
                 sp.rel_entr(p64, np.exp(lq.astype(np.float64))), dtype)
    # huber
    a, b = rng.normal(0, 2, (2, 30)).astype(dtype)
    for delta in (0.5, 1.0, 2.0):
        assert_close(cyloss.huber_loss(a, b, delta=delta, reduction="none"),
                     sp.huber(delta, a.astype(np.float64) - b), dtype, scale=4)
    # BCE with logits via log_expit
    x = rng.normal(0, 5, 40).astype(dtype)
    y = rng.uniform(size=40).astype(dtype)
    x64, y64 = x.astype(np.float64), y.astype(np.float64)
    exp = -(y64 * sp.log_expit(x64) + (1 - y64) * sp.log_expit(-x64))
    assert_close(cyloss.binary_cross_entropy_with_logits(x, y, reduction="none"), exp, dtype)
    assert_close(cyloss.binary_cross_entropy(sp.expit(x64), y64, reduction="none"), exp,
                 np.float64, rtol=1e-9)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_scipy_entr_edge_values(sp, dtype):
    """README: entropy(p) is scipy.special.entr(p).sum(axis), negative and zero rows included."""
    p = np.array([[0.0, 0.0, 0.0], [0.2, -0.5, 0.3], [np.inf, 0.1, 0.2], [0.1, np.nan, 0.0],
                  [1.0, 0.0, 0.0], [-0.0, 0.5, 0.5]], dtype=dtype)
    got = cyloss.entropy(p)
    want = sp.entr(p.astype(np.float64)).sum(axis=-1)
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))



# =========================================================================== torch
@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(scope="module")
def F(torch):
    return torch.nn.functional


def _t(torch, a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _torch_loss_grad(torch, fn, x, *args, **kw):
    X = _t(torch, x, grad=True)
    L = fn(X, *args, **kw)
    L.sum().backward()
    return L.detach().numpy(), X.grad.numpy()


def _cmp(got, exp, dtype, scale=1.0, what=""):
    loss, grad = got
    assert_close(loss, np.asarray(exp[0]), dtype, scale=scale, what=f"{what} loss")
    assert_close(grad, exp[1], dtype, scale=scale, what=f"{what} grad", is_grad=True)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape,axis", [((9,), 0), ((4, 7), -1), ((4, 7), 0), ((2, 3, 4, 5), 1)])
def test_torch_softmax(torch, F, dtype, shape, axis, rng):
    x = rng.normal(0, 4, shape).astype(dtype)
    g = rng.normal(size=shape)
    for name in ("softmax", "log_softmax"):
        X = _t(torch, x, grad=True)
        Y = getattr(F, name)(X, dim=axis)
        (Y * _t(torch, g)).sum().backward()
        y = getattr(cyloss, name)(x, axis=axis)
        assert_close(y, Y.detach().numpy(), dtype, scale=1 if name == "softmax" else _scale(x))
        bw = getattr(cyloss, name + "_backward")(y, g.astype(dtype), axis=axis)
        assert_close(bw, X.grad.numpy(), dtype, scale=_scale(g))


CE_SHAPES = {"NC": ((6, 5), 1), "NCd1": ((3, 5, 4), 1), "NCd1d2": ((2, 5, 3, 2), 1),
             "unbatched": ((5,), 0)}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape", list(CE_SHAPES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight"])
@pytest.mark.parametrize("eps", [0.0, 0.2], ids=["", "ls"])
@pytest.mark.parametrize("ignore_index", [-100, 2], ids=["ign-100", "ign2"])
def test_torch_cross_entropy_class(torch, F, dtype, shape, reduction, weighted, eps,
                                   ignore_index, rng):
    s, axis = CE_SHAPES[shape]
    x = rng.normal(0, 3, s).astype(dtype)
    tshape = tuple(v for i, v in enumerate(s) if i != axis)
    t = rng.integers(0, 5, tshape)
    if t.ndim:
        t.flat[0] = ignore_index if ignore_index < 0 else t.flat[0]
        t.flat[-1] = 1
    w = rng.uniform(0.2, 3, 5).astype(dtype) if weighted else None
    exp = _torch_loss_grad(torch, F.cross_entropy, x, torch.tensor(t),
                           weight=None if w is None else _t(torch, w), reduction=reduction,
                           label_smoothing=eps, ignore_index=ignore_index)
    got = cyloss.cross_entropy(x, t, axis=axis, weight=w, reduction=reduction,
                               label_smoothing=eps, ignore_index=ignore_index, return_grad=True)
    _cmp(got, exp, dtype, _scale(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape", list(CE_SHAPES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight"])
@pytest.mark.parametrize("eps", [0.0, 0.2], ids=["", "ls"])
def test_torch_cross_entropy_probs(torch, F, dtype, shape, reduction, weighted, eps, rng):
    s, axis = CE_SHAPES[shape]
    x = rng.normal(0, 3, s).astype(dtype)
    p = rng.uniform(0, 1, s)
    p = (p / p.sum(axis=axis, keepdims=True)).astype(dtype)
    w = rng.uniform(0.2, 3, 5).astype(dtype) if weighted else None
    exp = _torch_loss_grad(torch, F.cross_entropy, x, _t(torch, p),
                           weight=None if w is None else _t(torch, w), reduction=reduction,
                           label_smoothing=eps)
    got = cyloss.cross_entropy(x, p, axis=axis, weight=w, reduction=reduction,
                               label_smoothing=eps, return_grad=True)
    _cmp(got, exp, dtype, _scale(x))


@pytest.mark.parametrize("case", ["all_ignored", "empty", "empty_probs"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("eps", [0.0, 0.1], ids=["", "ls"])
def test_torch_cross_entropy_degenerate(torch, F, case, reduction, eps, rng):
    if case == "all_ignored":
        x, t = rng.normal(size=(4, 3)), np.full(4, -100)
    elif case == "empty":
        x, t = np.zeros((0, 3)), np.zeros(0, dtype=np.int64)
    else:
        x, t = np.zeros((0, 3)), np.zeros((0, 3))
    T = torch.tensor(t)
    exp = _torch_loss_grad(torch, F.cross_entropy, x, T, reduction=reduction, label_smoothing=eps)
    got = cyloss.cross_entropy(x, t, reduction=reduction, label_smoothing=eps, return_grad=True)
    _cmp(got, exp, np.float64)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape", list(CE_SHAPES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight"])
def test_torch_nll_loss(torch, F, dtype, shape, reduction, weighted, rng):
    s, axis = CE_SHAPES[shape]
    x = rng.normal(0, 3, s).astype(dtype)
    tshape = tuple(v for i, v in enumerate(s) if i != axis)
    t = rng.integers(0, 5, tshape)
    if t.ndim:
        t.flat[0] = -100
        t.flat[-1] = 2
    w = rng.uniform(0.2, 3, 5).astype(dtype) if weighted else None
    exp = _torch_loss_grad(torch, F.nll_loss, x, torch.tensor(t),
                           weight=None if w is None else _t(torch, w), reduction=reduction)
    got = cyloss.nll_loss(x, t, axis=axis, weight=w, reduction=reduction, return_grad=True)
    _cmp(got, exp, dtype, _scale(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("wkind", [None, "full", "row", "col"], ids=lambda k: f"w-{k}")
@pytest.mark.parametrize("pwkind", [None, "row"], ids=lambda k: f"pw-{k}")
def test_torch_bce_with_logits(torch, F, dtype, reduction, wkind, pwkind, rng):
    x = rng.normal(0, 4, (5, 3)).astype(dtype)
    y = rng.uniform(size=(5, 3)).astype(dtype)
    y[0] = [0, 1, 1]
    wshapes = {"full": (5, 3), "row": (3,), "col": (5, 1)}
    w = None if wkind is None else rng.uniform(0.2, 2, wshapes[wkind]).astype(dtype)
    pw = None if pwkind is None else rng.uniform(0.2, 4, 3).astype(dtype)
    exp = _torch_loss_grad(torch, F.binary_cross_entropy_with_logits, x, _t(torch, y),
                           weight=None if w is None else _t(torch, w),
                           pos_weight=None if pw is None else _t(torch, pw), reduction=reduction)
    got = cyloss.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pw,
                                                  reduction=reduction, return_grad=True)
    _cmp(got, exp, dtype, _scale(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weight"])
def test_torch_bce(torch, F, dtype, reduction, weighted, rng):
    p = rng.uniform(0.01, 0.99, (6, 4))
    p[0] = [0.0, 1.0, 0.0, 1.0]
    p = p.astype(dtype)
    y = rng.uniform(size=(6, 4))
    y[0] = [0.0, 1.0, 1.0, 0.0]
    y = y.astype(dtype)
    w = rng.uniform(0.2, 2, (6, 1)).astype(dtype) if weighted else None
    exp = _torch_loss_grad(torch, F.binary_cross_entropy, p, _t(torch, y),
                           weight=None if w is None else _t(torch, w), reduction=reduction)
    got = cyloss.binary_cross_entropy(p, y, weight=w, reduction=reduction, return_grad=True)
    # gradient up to 1e12 at the clamped edges: relative comparison only there
    loss, grad = got
    assert_close(loss, np.asarray(exp[0]), dtype, scale=100)
    np.testing.assert_allclose(grad, exp[1], rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-4 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS + ("batchmean",))
@pytest.mark.parametrize("log_target", [False, True], ids=["", "log_target"])
def test_torch_kl_div(torch, F, dtype, reduction, log_target, rng):
    lq = F.log_softmax(torch.tensor(rng.normal(0, 2, (4, 6))), dim=1).numpy().astype(dtype)
    t = F.softmax(torch.tensor(rng.normal(0, 2, (4, 6))), dim=1).numpy()
    t[0, 2] = 0.0
    t = (np.log(t) if log_target else t).astype(dtype)
    exp = _torch_loss_grad(torch, F.kl_div, lq, _t(torch, t), reduction=reduction,
                           log_target=log_target)
    got = cyloss.kl_div(lq, t, reduction=reduction, log_target=log_target, return_grad=True)
    _cmp(got, exp, dtype, 10)


REG = [("mse_loss", "mse_loss", {}), ("l1_loss", "l1_loss", {}),
       ("huber_loss", "huber_loss", {"delta": 0.7}), ("huber_loss", "huber_loss", {}),
       ("smooth_l1_loss", "smooth_l1_loss", {"beta": 0.4}),
       ("smooth_l1_loss", "smooth_l1_loss", {"beta": 0.0}),
       ("smooth_l1_loss", "smooth_l1_loss", {})]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("name,tname,kw", REG, ids=[f"{a}{c}" for a, _, c in REG])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_torch_regression(torch, F, dtype, name, tname, kw, reduction, rng):
    a = rng.normal(0, 2, (7, 3)).astype(dtype)
    b = rng.normal(0, 2, (7, 3)).astype(dtype)
    b[0, 0] = a[0, 0]  # d = 0: gradient 0 for L1 / smooth L1 beta=0 (as torch)
    exp = _torch_loss_grad(torch, getattr(F, tname), a, _t(torch, b), reduction=reduction, **kw)
    got = getattr(cyloss, name)(a, b, reduction=reduction, return_grad=True, **kw)
    _cmp(got, exp, dtype, 16)


# Weighted regression losses.  torch 2.13 (torch/nn/functional.py): mse_loss and l1_loss
# return sum(w * l) / sum(w) for "mean", huber_loss returns (w * l).mean(); "none" is w * l
# and "sum" sum(w * l) for all three.  torch requires weight to have pred's shape: cyloss
# broadcasts it to the loss's shape, which is torch on explicitly expanded tensors (autograd
# through expand() sums the gradient back to pred's shape).  torch's smooth_l1_loss takes no
# weight; cyloss weights it as huber_loss: (w * F.smooth_l1_loss(reduction="none")).mean().
WREG = [("mse_loss", {}), ("l1_loss", {}), ("huber_loss", {"delta": 0.7}), ("huber_loss", {}),
        ("smooth_l1_loss", {"beta": 0.4}), ("smooth_l1_loss", {"beta": 0.0}), ("smooth_l1_loss", {})]

# id -> (pred shape, target shape, weight shape)
WSHAPES = {"full": ((7, 3), (7, 3), (7, 3)), "w_row": ((7, 3), (7, 3), (3,)),
           "w_col": ((7, 3), (7, 3), (7, 1)), "w_scalar": ((7, 3), (7, 3), ()),
           "target_bcast": ((7, 3), (3,), (7, 3)), "pred_bcast": ((3,), (7, 3), (7, 1)),
           "pred_col_w_row": ((7, 1), (7, 3), (3,))}


def _torch_weighted(torch, F, name, kw, X, Y, W, reduction):
    shape = torch.broadcast_shapes(X.shape, Y.shape)
    Xe, Ye, We = X.expand(shape), Y.expand(shape), W.expand(shape)
    if name != "smooth_l1_loss":
        return getattr(F, name)(Xe, Ye, weight=We, reduction=reduction, **kw)
    wl = We * F.smooth_l1_loss(Xe, Ye, reduction="none", **kw)
    return {"none": wl, "sum": wl.sum(), "mean": wl.mean()}[reduction]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("name,kw", WREG, ids=[f"{a}{c}" for a, c in WREG])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shapes", list(WSHAPES))
def test_torch_regression_weighted(torch, F, dtype, name, kw, reduction, shapes, rng):
    sp, st, sw = WSHAPES[shapes]
    a = rng.normal(0, 2, sp).astype(dtype)
    b = rng.normal(0, 2, st).astype(dtype)
    if sp == st:
        b[0, 0] = a[0, 0]  # d = 0
    w = np.asarray(rng.uniform(0.1, 3.0, sw)).astype(dtype)
    X = _t(torch, a, grad=True)
    L = _torch_weighted(torch, F, name, kw, X, _t(torch, b), _t(torch, w), reduction)
    L.sum().backward()
    exp = (L.detach().numpy(), X.grad.numpy())
    got = getattr(cyloss, name)(a, b, weight=w, reduction=reduction, return_grad=True, **kw)
    _cmp(got, exp, dtype, 16)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_torch_regression_weighted_mean_rule(torch, F, name, rng):
    """The weighted mean of each torch function: the two rules differ by sum(w) / size, so
    a sum(w) far from the element count tells them apart."""
    a, b = rng.normal(0, 2, (2, 6, 5))
    w = rng.uniform(0.1, 0.5, (6, 5))  # sum(w) about 9, size 30
    exp = getattr(F, name)(_t(torch, a), _t(torch, b), weight=_t(torch, w)).item()
    got = getattr(cyloss, name)(a, b, weight=w)
    np.testing.assert_allclose(got, exp, rtol=1e-12)
    l = getattr(cyloss, name)(a, b, reduction="none")
    by_weight = np.sum(w * l) / np.sum(w)
    by_size = np.sum(w * l) / w.size
    np.testing.assert_allclose(got, by_size if name == "huber_loss" else by_weight, rtol=1e-12)


@pytest.mark.parametrize("name,kw", WREG, ids=[f"{a}{c}" for a, c in WREG])
def test_torch_regression_zero_weights(torch, F, name, kw, rng):
    """All weights zero: huber (and smooth L1, weighted as huber) follow torch (0 loss, zero
    gradient); mse / l1 give torch's NaN loss but a zero gradient where torch's 0/0 makes the
    gradient NaN too (README: cyloss's 0/0 mean is NaN loss, zero gradient throughout)."""
    a, b = rng.normal(0, 2, (2, 5, 3))
    w = np.zeros((5, 3))
    X = _t(torch, a, grad=True)
    L = _torch_weighted(torch, F, name, kw, X, _t(torch, b), _t(torch, w), "mean")
    L.backward()
    loss, grad = getattr(cyloss, name)(a, b, weight=w, return_grad=True, **kw)
    np.testing.assert_array_equal(loss, L.item())  # NaN == NaN here
    if name in ("mse_loss", "l1_loss"):
        assert np.all(np.isnan(X.grad.numpy())) and not np.any(grad)
    else:
        np.testing.assert_array_equal(grad, X.grad.numpy())
