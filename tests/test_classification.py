"""cross_entropy, nll_loss, binary_cross_entropy(_with_logits), kl_div, entropy.

Loss and gradient against the float64 reference over dtypes, reductions, weights, label
smoothing, ignore_index, class-axis layouts, target dtypes and class counts; the
all-ignored / empty-batch rules; result types; extreme logits against mpmath; NaN and -inf.
"""
import numpy as np
import pytest

import cyloss
import _reference as ref
from _helpers import FLOAT_DTYPES, FLOAT_IDS, assert_close, assert_numpy_scalar

REDUCTIONS = ("none", "mean", "sum")

# (logits shape, class axis): the target shape is the logits shape without the axis.
CE_LAYOUTS = {
    "NC": ((7, 5), -1),
    "NC_ax1": ((7, 5), 1),
    "N1": ((6, 1), -1),
    "NCd1": ((3, 4, 6), 1),
    "NCd1d2": ((2, 3, 4, 5), 1),
    "d1NC": ((2, 3, 4), -1),
    "CN_ax0": ((4, 6), 0),
    "unbatched": ((5,), -1),
}


def _scale(x):
    return max(1.0, float(np.max(np.abs(x)))) if np.size(x) else 1.0


def _class_targets(rng, logits_shape, axis, ignore_frac=0.0, ignore_index=-100):
    C = logits_shape[axis]
    tshape = tuple(s for i, s in enumerate(logits_shape) if i != axis % len(logits_shape))
    t = rng.integers(0, C, size=tshape)
    if ignore_frac and t.size > 1:
        mask = rng.uniform(size=tshape) < ignore_frac
        mask.flat[0] = False
        t = np.where(mask, ignore_index, t)
    return t


def _check_loss(got, expected, dtype, scale, what=""):
    loss, grad = got
    exp_loss, exp_grad = expected
    assert_close(loss, exp_loss, dtype, scale=scale, what=f"{what} loss")
    assert_close(grad, exp_grad, dtype, scale=scale, what=f"{what} grad", is_grad=True)


def _weights(rng, C, kind, dtype):
    if kind is None:
        return None
    return rng.uniform(0.2, 3.0, C).astype(dtype)


# --------------------------------------------------------------------------- cross_entropy
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("layout", list(CE_LAYOUTS))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [None, "w"], ids=["", "weight"])
@pytest.mark.parametrize("eps", [0.0, 0.1, 1.0], ids=["ls0", "ls0.1", "ls1"])
def test_cross_entropy_class_targets(dtype, layout, reduction, weighted, eps, rng):
    shape, axis = CE_LAYOUTS[layout]
    x = rng.normal(0, 2.5, shape).astype(dtype)
    t = _class_targets(rng, shape, axis, ignore_frac=0.25)
    w = _weights(rng, shape[axis], weighted, dtype)
    kw = dict(axis=axis, weight=w, reduction=reduction, label_smoothing=eps)
    got = cyloss.cross_entropy(x, t, return_grad=True, **kw)
    _check_loss(got, ref.cross_entropy(x, t, **kw), dtype, _scale(x))
    # Same computation without the gradient: equal to rounding (the compiler may contract
    # a*b + c into an FMA differently once the gradient stores are gone).
    loss_only = cyloss.cross_entropy(x, t, **kw)
    assert type(loss_only) is type(got[0])
    np.testing.assert_allclose(loss_only, got[0], rtol=4 * np.finfo(dtype).eps, atol=0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("layout", list(CE_LAYOUTS))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [None, "w"], ids=["", "weight"])
@pytest.mark.parametrize("eps", [0.0, 0.3], ids=["ls0", "ls0.3"])
@pytest.mark.parametrize("normalized", [True, False], ids=["probs", "unnormalized"])
def test_cross_entropy_prob_targets(dtype, layout, reduction, weighted, eps, normalized, rng):
    shape, axis = CE_LAYOUTS[layout]
    x = rng.normal(0, 2.5, shape).astype(dtype)
    p = rng.uniform(0, 1, shape)
    if normalized:
        p = p / p.sum(axis=axis, keepdims=True)
    p = p.astype(dtype)
    w = _weights(rng, shape[axis], weighted, dtype)
    kw = dict(axis=axis, weight=w, reduction=reduction, label_smoothing=eps)
    got = cyloss.cross_entropy(x, p, return_grad=True, **kw)
    _check_loss(got, ref.cross_entropy(x, p, **kw), dtype, _scale(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("C", [1, 2, 3, 4, 7, 8, 9, 16, 17, 33, 64, 65, 511, 512, 513, 1000,
                               1025, 5000])
def test_cross_entropy_class_counts(dtype, C, rng):
    x = rng.normal(0, 3, (37, C)).astype(dtype)
    t = rng.integers(0, C, 37)
    for kw in ({}, {"label_smoothing": 0.2, "weight": rng.uniform(0.5, 2, C).astype(dtype)}):
        for reduction in REDUCTIONS:
            got = cyloss.cross_entropy(x, t, reduction=reduction, return_grad=True, **kw)
            _check_loss(got, ref.cross_entropy(x, t, reduction=reduction, **kw), dtype, _scale(x),
                        what=f"{kw.keys()} {reduction}")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape,axis", [((60013, 10), -1), ((64, 10, 997), 1)], ids=["NC", "NCd"])
def test_cross_entropy_large(dtype, shape, axis, rng):
    x = rng.normal(0, 3, shape).astype(dtype)
    t = _class_targets(rng, shape, axis, ignore_frac=0.1)
    for reduction in ("none", "mean"):
        got = cyloss.cross_entropy(x, t, axis=axis, reduction=reduction, return_grad=True)
        _check_loss(got, ref.cross_entropy(x, t, axis=axis, reduction=reduction), dtype,
                    _scale(x))


@pytest.mark.parametrize("tdtype", ["int8", "int16", "int32", "int64", "uint8", "uint16",
                                    "uint32", "uint64", "intp", "list", ">i8"])
def test_cross_entropy_target_dtypes(tdtype, rng):
    x = rng.normal(0, 2, (6, 4))
    t = np.array([0, 3, 1, 2, 2, 1])
    exp = ref.cross_entropy(x, t, reduction="none")
    tt = t.tolist() if tdtype == "list" else t.astype(tdtype)
    _check_loss(cyloss.cross_entropy(x, tt, reduction="none", return_grad=True), exp,
                np.float64, 2)


@pytest.mark.parametrize("tdtype", ["int8", "int16", "int32", "int64", "list"])
def test_cross_entropy_ignored_small_signed_dtypes(tdtype, rng):
    x = rng.normal(0, 2, (6, 4))
    t = np.array([0, -100, 1, 2, -100, 1])
    exp = ref.cross_entropy(x, t)
    tt = t.tolist() if tdtype == "list" else t.astype(tdtype)
    _check_loss(cyloss.cross_entropy(x, tt, return_grad=True), exp, np.float64, 2)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("target", [3, np.int64(3), np.array(3), np.uint8(3)],
                         ids=["int", "np.int64", "0d", "np.uint8"])
def test_cross_entropy_unbatched(dtype, target, rng):
    x = rng.normal(0, 2, 5).astype(dtype)
    for reduction in REDUCTIONS:
        loss, grad = cyloss.cross_entropy(x, target, reduction=reduction, return_grad=True)
        exp_loss, exp_grad = ref.cross_entropy(x, np.asarray(target), reduction=reduction)
        assert_numpy_scalar(loss, dtype, reduction)
        assert_close(loss, exp_loss, dtype, scale=_scale(x))
        assert_close(grad, exp_grad, dtype)
    # unbatched probability target
    p = ref.softmax(rng.normal(size=5)).astype(dtype)
    loss, grad = cyloss.cross_entropy(x, p, reduction="none", return_grad=True)
    assert_numpy_scalar(loss, dtype)
    _check_loss((loss, grad), ref.cross_entropy(x, p, reduction="none"), dtype, _scale(x))


@pytest.mark.parametrize("ignore_index", [-100, -1, 2, 0])
@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_cross_entropy_ignore_index(ignore_index, eps, rng):
    x = rng.normal(0, 2, (8, 4))
    t = np.array([0, 1, 2, 3, 2, 1, 0, 3])
    t[[1, 5]] = ignore_index
    w = rng.uniform(0.5, 2, 4)
    for reduction in REDUCTIONS:
        loss, grad = cyloss.cross_entropy(x, t, weight=w, ignore_index=ignore_index,
                                          label_smoothing=eps, reduction=reduction,
                                          return_grad=True)
        exp = ref.cross_entropy(x, t, weight=w, ignore_index=ignore_index, label_smoothing=eps,
                                reduction=reduction)
        _check_loss((loss, grad), exp, np.float64, 2)
        ignored = t == ignore_index
        assert np.all(grad[ignored] == 0.0)
        if reduction == "none":
            assert np.all(loss[ignored] == 0.0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("case", ["all_ignored", "empty"])
def test_all_ignored_and_empty_batch(dtype, fn, case, rng):
    if case == "all_ignored":
        x = rng.normal(size=(4, 3)).astype(dtype)
        t = np.full(4, -100)
    else:
        x = np.empty((0, 3), dtype=dtype)
        t = np.empty(0, dtype=np.int64)
    kws = [{}, {"weight": np.array([1.0, 2.0, 3.0], dtype=dtype)}]
    if fn == "cross_entropy":
        kws.append({"label_smoothing": 0.1})
    for kw in kws:
        f = getattr(cyloss, fn)
        loss, grad = f(x, t, reduction="mean", return_grad=True, **kw)
        assert_numpy_scalar(loss, dtype)
        assert np.isnan(loss)
        assert grad.shape == x.shape and grad.dtype == dtype and np.all(grad == 0.0)
        loss, grad = f(x, t, reduction="sum", return_grad=True, **kw)
        assert_numpy_scalar(loss, dtype)
        assert loss == 0.0 and np.all(grad == 0.0)
        loss, grad = f(x, t, reduction="none", return_grad=True, **kw)
        assert loss.shape == t.shape and loss.dtype == dtype and np.all(loss == 0.0)
    if fn == "cross_entropy" and case == "empty":
        loss, grad = cyloss.cross_entropy(x, np.empty((0, 3), dtype=dtype), return_grad=True)
        assert_numpy_scalar(loss, dtype)
        assert np.isnan(loss) and grad.shape == (0, 3)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_cross_entropy_nan_row(dtype, rng):
    x = rng.normal(0, 2, (5, 4)).astype(dtype)
    t = np.array([0, 1, 2, 3, 0])
    clean_l, clean_g = cyloss.cross_entropy(x, t, reduction="none", return_grad=True)
    x[2, 1] = np.nan
    loss, grad = cyloss.cross_entropy(x, t, reduction="none", return_grad=True)
    assert np.isnan(loss[2]) and np.all(np.isnan(grad[2]))
    keep = np.arange(5) != 2
    np.testing.assert_array_equal(loss[keep], clean_l[keep])
    np.testing.assert_array_equal(grad[keep], clean_g[keep])
    assert np.isnan(cyloss.cross_entropy(x, t))
    # an ignored NaN row contributes nothing
    t[2] = -100
    loss, grad = cyloss.cross_entropy(x, t, reduction="none", return_grad=True)
    assert loss[2] == 0.0 and np.all(grad[2] == 0.0)
    assert np.isfinite(cyloss.cross_entropy(x, t))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_cross_entropy_masked_logits(dtype, rng):
    x = rng.normal(0, 2, (4, 6)).astype(dtype)
    t = np.array([0, 2, 5, 3])
    x[0, 1] = x[1, 4] = x[2, 0] = x[3, 5] = -np.inf
    loss, grad = cyloss.cross_entropy(x, t, reduction="none", return_grad=True)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    assert grad[0, 1] == 0 and grad[1, 4] == 0 and grad[2, 0] == 0 and grad[3, 5] == 0
    _check_loss((loss, grad), ref.cross_entropy(x, t, reduction="none"), dtype, _scale(x[np.isfinite(x)]))


EXTREME = {np.float32: 1e4, np.float64: 1e300}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_cross_entropy_extreme_logits_mpmath(dtype, rng):
    big = EXTREME[dtype]
    x = rng.uniform(-big, big, (6, 5)).astype(dtype)
    x[0] = [big, big, -big, 0, -big]
    x[1] = [-big] * 5
    x[2] = np.array(big, dtype=dtype) - np.arange(5, dtype=dtype) * dtype(
        0.5 if dtype == np.float32 else 0)
    t = np.array([0, 3, 2, int(np.argmax(x[3])), int(np.argmin(x[4])), 1])
    rows = [ref.mp_row(r) for r in x.astype(np.float64)]
    exp_loss = np.array([-rows[i][0][t[i]] for i in range(6)])
    exp_grad = np.array([rows[i][1] for i in range(6)])
    exp_grad[np.arange(6), t] -= 1.0
    loss, grad = cyloss.cross_entropy(x, t, reduction="none", return_grad=True)
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
    # loss = (max - x_t) + log(sum exp(x - max)): relative accuracy, no absolute slack of ulp(big)
    assert_close(loss, exp_loss, dtype)
    assert_close(grad, exp_grad, dtype)
    loss = cyloss.cross_entropy(x, t, reduction="sum")
    assert_close(loss, exp_loss.sum(), dtype)


# --------------------------------------------------------------------------- nll_loss
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("layout", list(CE_LAYOUTS))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [None, "w"], ids=["", "weight"])
def test_nll_loss(dtype, layout, reduction, weighted, rng):
    shape, axis = CE_LAYOUTS[layout]
    lp = ref.log_softmax(rng.normal(0, 2, shape), axis).astype(dtype)
    t = _class_targets(rng, shape, axis, ignore_frac=0.25)
    w = _weights(rng, shape[axis], weighted, dtype)
    kw = dict(axis=axis, weight=w, reduction=reduction)
    got = cyloss.nll_loss(lp, t, return_grad=True, **kw)
    _check_loss(got, ref.nll_loss(lp, t, **kw), dtype, _scale(lp))
    np.testing.assert_array_equal(cyloss.nll_loss(lp, t, **kw), got[0])


@pytest.mark.parametrize("ignore_index", [-100, 1])
def test_nll_loss_ignore_index_and_arbitrary_values(ignore_index, rng):
    """nll_loss takes any real input (not only log-probabilities)."""
    x = rng.normal(0, 5, (6, 3))
    t = np.array([0, 1, 2, 1, ignore_index, 0])
    for reduction in REDUCTIONS:
        got = cyloss.nll_loss(x, t, ignore_index=ignore_index, reduction=reduction,
                              return_grad=True)
        _check_loss(got, ref.nll_loss(x, t, ignore_index=ignore_index, reduction=reduction),
                    np.float64, 5)


def test_nll_matches_cross_entropy_of_log_softmax(rng):
    x = rng.normal(0, 2, (9, 4))
    t = rng.integers(0, 4, 9)
    w = rng.uniform(0.5, 2, 4)
    a = cyloss.nll_loss(cyloss.log_softmax(x), t, weight=w)
    b = cyloss.cross_entropy(x, t, weight=w)
    np.testing.assert_allclose(a, b, rtol=1e-13)


# --------------------------------------------------------------------------- BCE with logits
BCE_SHAPES = {"NC": (6, 4), "N": (9,), "NCd": (2, 4, 3), "scalar": ()}
BCE_WEIGHTS = {
    None: lambda r, s: None,
    "full": lambda r, s: r.uniform(0.2, 2, s),
    "lastdim": lambda r, s: r.uniform(0.2, 2, s[-1:]),
    "col": lambda r, s: r.uniform(0.2, 2, s[:1] + (1,) * (len(s) - 1)),
    "scalar": lambda r, s: np.float64(1.7),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape", list(BCE_SHAPES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("wkind", list(BCE_WEIGHTS), ids=lambda k: f"w-{k}")
@pytest.mark.parametrize("pwkind", [None, "lastdim", "scalar"], ids=lambda k: f"pw-{k}")
def test_bce_with_logits(dtype, shape, reduction, wkind, pwkind, rng):
    s = BCE_SHAPES[shape]
    if not s and wkind in ("lastdim", "col") or not s and pwkind == "lastdim":
        pytest.skip("no last dimension")
    x = rng.normal(0, 4, s).astype(dtype)
    y = np.where(rng.uniform(size=s) < 0.3, rng.uniform(size=s), rng.integers(0, 2, s))
    y = np.asarray(y).astype(dtype)
    w = BCE_WEIGHTS[wkind](rng, s)
    pw = BCE_WEIGHTS[pwkind](rng, s)
    w = None if w is None else np.asarray(w).astype(dtype)
    pw = None if pw is None else np.asarray(pw).astype(dtype)
    kw = dict(weight=w, pos_weight=pw, reduction=reduction)
    got = cyloss.binary_cross_entropy_with_logits(x, y, return_grad=True, **kw)
    _check_loss(got, ref.binary_cross_entropy_with_logits(x, y, **kw), dtype, _scale(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("n", [1, 3, 8, 15, 16, 17, 64, 100_003])
def test_bce_with_logits_lengths(dtype, n, rng):
    x = rng.normal(0, 4, n).astype(dtype)
    y = rng.uniform(size=n).astype(dtype)
    for reduction in REDUCTIONS:
        got = cyloss.binary_cross_entropy_with_logits(x, y, reduction=reduction,
                                                      return_grad=True)
        _check_loss(got, ref.binary_cross_entropy_with_logits(x, y, reduction=reduction),
                    dtype, _scale(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_bce_with_logits_extreme(dtype):
    big = EXTREME[dtype]
    x = np.array([big, big, -big, -big, 0.0, big / 2, 40.0, -40.0], dtype=dtype)
    y = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 0.25, 1.0, 0.0], dtype=dtype)
    pw = np.array(3.0, dtype=dtype)
    for kw in ({}, {"pos_weight": pw}):
        loss, grad = cyloss.binary_cross_entropy_with_logits(x, y, reduction="none",
                                                             return_grad=True, **kw)
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(grad))
        p = float(kw.get("pos_weight", 1.0))
        xs = x.astype(np.float64)
        # exact: l = p*y*log1p(e^-x) + (1-y)*log1p(e^x)
        exp = np.array([p * yy * ref.mp_log1pexp(-xx) + (1 - yy) * ref.mp_log1pexp(xx)
                        for xx, yy in zip(xs, y.astype(np.float64))])
        assert_close(loss, exp, dtype)
        assert_close(grad, ref.binary_cross_entropy_with_logits(x, y, reduction="none", **kw)[1],
                     dtype)


# --------------------------------------------------------------------------- BCE on probabilities
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape", ["NC", "N", "NCd", "scalar"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("wkind", [None, "full", "lastdim", "scalar"], ids=lambda k: f"w-{k}")
def test_bce(dtype, shape, reduction, wkind, rng):
    s = BCE_SHAPES[shape]
    if not s and wkind == "lastdim":
        pytest.skip("no last dimension")
    p = rng.uniform(0.01, 0.99, s).astype(dtype)
    y = np.asarray(np.where(rng.uniform(size=s) < 0.5, rng.uniform(size=s),
                            rng.integers(0, 2, s))).astype(dtype)
    w = BCE_WEIGHTS[wkind](rng, s)
    w = None if w is None else np.asarray(w).astype(dtype)
    kw = dict(weight=w, reduction=reduction)
    got = cyloss.binary_cross_entropy(p, y, return_grad=True, **kw)
    # grad ~ 1/(p(1-p)) <= ~100: scale the absolute tolerance
    _check_loss(got, ref.binary_cross_entropy(p, y, **kw), dtype, 100.0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_bce_clamping_edges(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1e-30, 0.5], dtype=dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.5, 0.25, 1.0, 1.0], dtype=dtype)
    loss, grad = cyloss.binary_cross_entropy(p, y, reduction="none", return_grad=True)
    # log(1e-30) = -69.08 > -100 is not clamped; log(0) is clamped to -100
    exp_loss = [0.0, 0.0, 100.0, 100.0, 50.0, 75.0, -np.log(float(dtype(1e-30))), np.log(2.0)]
    assert_close(loss, exp_loss, dtype)
    assert_close(grad, ref.binary_cross_entropy(p, y, reduction="none")[1], dtype)
    assert_close(grad[2:4], [-1 / ref.BCE_EPS, 1 / ref.BCE_EPS], dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_bce_nan_propagates(dtype):
    p = np.array([0.3, np.nan, 0.6], dtype=dtype)
    y = np.array([1.0, 1.0, 0.0], dtype=dtype)
    loss, grad = cyloss.binary_cross_entropy(p, y, reduction="none", return_grad=True)
    assert np.isnan(loss[1]) and np.isnan(grad[1])
    assert np.all(np.isfinite(loss[[0, 2]]))
    assert np.isnan(cyloss.binary_cross_entropy(p, y))


# --------------------------------------------------------------------------- kl_div
KL_SHAPES = {
    "same": ((5, 4), (5, 4)),
    "target_row": ((5, 4), (4,)),
    "target_col": ((5, 4), (5, 1)),
    "lq_row": ((1, 4), (5, 4)),
    "3d": ((2, 3, 4), (2, 3, 4)),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shapes", list(KL_SHAPES))
@pytest.mark.parametrize("reduction", REDUCTIONS + ("batchmean",))
@pytest.mark.parametrize("log_target", [False, True], ids=["", "log_target"])
def test_kl_div(dtype, shapes, reduction, log_target, rng):
    sq, st = KL_SHAPES[shapes]
    lq = ref.log_softmax(rng.normal(0, 2, sq)).astype(dtype)
    t = ref.softmax(rng.normal(0, 2, st))
    if not log_target:
        t = np.where(rng.uniform(size=st) < 0.25, 0.0, t)  # 0 log 0 = 0
    else:
        t = np.log(t)
    t = t.astype(dtype)
    kw = dict(reduction=reduction, log_target=log_target)
    got = cyloss.kl_div(lq, t, return_grad=True, **kw)
    _check_loss(got, ref.kl_div(lq, t, **kw), dtype, 10.0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_kl_div_zero_target(dtype):
    """0 log 0 = 0: a zero target contributes nothing (and its gradient is -0)."""
    lq = np.array([np.log(0.5), np.log(0.5), -5.0], dtype=dtype)
    t = np.array([0.5, 0.5, 0.0], dtype=dtype)
    loss, grad = cyloss.kl_div(lq, t, reduction="none", return_grad=True)
    assert_close(loss, [0.0, 0.0, 0.0], dtype)
    assert_close(grad, [-0.5, -0.5, -0.0], dtype)


# --------------------------------------------------------------------------- entropy
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape,axis", [((6,), -1), ((4, 6), -1), ((4, 6), 0), ((2, 3, 5), 1),
                                        ((3, 1), -1), ((3, 100), -1)])
def test_entropy(dtype, shape, axis, rng):
    p = rng.uniform(0, 1, shape)
    p = np.where(rng.uniform(size=shape) < 0.2, 0.0, p)
    p = (p / p.sum(axis=axis, keepdims=True).clip(1e-3)).astype(dtype)
    got = cyloss.entropy(p, axis=axis)
    assert_close(got, ref.entropy(p, axis=axis), dtype)
    # no normalisation: 2*p gives -sum 2p log 2p
    got2 = cyloss.entropy(2 * p, axis=axis)
    assert_close(got2, ref.entropy(2 * p, axis=axis), dtype, scale=2)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_entropy_values(dtype):
    assert_close(cyloss.entropy(np.array([0.5, 0.5, 0.0], dtype=dtype)), np.log(2.0), dtype)
    assert_close(cyloss.entropy(np.array([1.0, 0.0], dtype=dtype)), 0.0, dtype)
    assert_close(cyloss.entropy(np.full((2, 4), 0.25, dtype=dtype)), [np.log(4.0)] * 2, dtype)
    assert_close(cyloss.entropy(np.array([[0.0, 0.0]], dtype=dtype)), [0.0], dtype)
    assert np.isnan(cyloss.entropy(np.array([0.5, np.nan], dtype=dtype)))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("c", [3, 40])
def test_entropy_edge_values(dtype, c):
    """scipy.special.entr(p).sum(axis): p < 0 contributes -inf, +inf gives -inf, NaN
    propagates, a row of zeros is +0.0 (not -0.0)."""
    rows = np.full((7, c), 0.25)
    rows[0] = 0.0
    rows[1, 1] = -0.5
    rows[2, 0] = np.inf
    rows[3, 2] = np.nan
    rows[4, 0], rows[4, 1] = -1.0, np.inf
    rows[5, 0], rows[5, 1] = -1.0, np.nan
    rows[6, 1] = -0.0
    p = rows.astype(dtype)
    got = cyloss.entropy(p)
    want = ref.entropy(p)
    assert list(np.isnan(want)) == [False] * 3 + [True, False, True, False]
    assert want[1] == want[2] == want[4] == -np.inf
    assert_close(got, want, dtype)
    assert not np.signbit(got[0]) and got[0] == 0


@pytest.mark.parametrize("kind", ["int64", "bool", "list", "float16"])
def test_entropy_dtype_rules(kind):
    base = np.array([[1, 0, 1], [0, 0, 1]])
    x = base.tolist() if kind == "list" else base.astype(kind)
    exp_dtype = np.float16 if kind == "float16" else np.float64
    assert_close(cyloss.entropy(x), [0.0, 0.0], exp_dtype)
    x = [0.25, 0.75] if kind == "list" else np.array([0.25, 0.75]).astype(
        "float16" if kind == "float16" else np.float64)
    assert_close(cyloss.entropy(x), ref.entropy([0.25, 0.75]), exp_dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_entropy_empty_axis(dtype):
    got = cyloss.entropy(np.empty((3, 0), dtype=dtype))
    assert_close(got, np.zeros(3), dtype)
    got = cyloss.entropy(np.empty((0, 4), dtype=dtype))
    assert isinstance(got, np.ndarray) and got.shape == (0,) and got.dtype == dtype


# --------------------------------------------------------------------------- result types
LOSS_CALLS = {
    "cross_entropy": lambda x, r: (x, r.integers(0, 4, x.shape[:-1])),
    "cross_entropy_probs": lambda x, r: (x, ref.softmax(r.normal(size=x.shape))),
    "nll_loss": lambda x, r: (x, r.integers(0, 4, x.shape[:-1])),
    "binary_cross_entropy_with_logits": lambda x, r: (x, r.uniform(size=x.shape)),
    "binary_cross_entropy": lambda x, r: (np.abs(x) / (1 + np.abs(x)), r.uniform(size=x.shape)),
    "kl_div": lambda x, r: (x, r.uniform(size=x.shape)),
    "mse_loss": lambda x, r: (x, r.normal(size=x.shape)),
    "l1_loss": lambda x, r: (x, r.normal(size=x.shape)),
    "huber_loss": lambda x, r: (x, r.normal(size=x.shape)),
    "smooth_l1_loss": lambda x, r: (x, r.normal(size=x.shape)),
}


def _fn(name):
    return getattr(cyloss, name.replace("_probs", ""))


@pytest.mark.parametrize("name", list(LOSS_CALLS))
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64],
                         ids=["f16", "f32", "f64"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_loss_result_types(name, dtype, reduction, rng):
    x0 = rng.normal(0, 1, (3, 4))
    a, b = LOSS_CALLS[name](x0, rng)
    a = np.asarray(a).astype(dtype)
    if np.asarray(b).dtype.kind == "f":
        b = np.asarray(b).astype(np.float64)  # second argument is converted to a's dtype
    loss, grad = _fn(name)(a, b, reduction=reduction, return_grad=True)
    if reduction == "none":
        assert isinstance(loss, np.ndarray) and loss.dtype == dtype
    else:
        assert_numpy_scalar(loss, dtype)
    assert isinstance(grad, np.ndarray) and grad.dtype == dtype and grad.shape == a.shape
    assert not isinstance(_fn(name)(a, b, reduction=reduction), tuple)


@pytest.mark.parametrize("name", list(LOSS_CALLS))
@pytest.mark.parametrize("kind", ["int64", "bool", "list"])
def test_loss_integer_first_argument_is_float64(name, kind, rng):
    a = rng.integers(0, 2, (3, 4))
    a = a.tolist() if kind == "list" else np.asarray(a).astype(kind)
    b = LOSS_CALLS[name](np.asarray(a, dtype=np.float64), rng)[1]
    if np.asarray(b).dtype.kind == "f":
        b = np.asarray(b).astype(np.float32)
    loss, grad = _fn(name)(a, b, return_grad=True)
    assert_numpy_scalar(loss, np.float64)
    assert grad.dtype == np.float64 and grad.shape == (3, 4)


@pytest.mark.parametrize("name", list(LOSS_CALLS))
def test_float16_losses_compute_in_float32(name, rng):
    a, b = LOSS_CALLS[name](rng.normal(0, 1, (3, 4)), rng)
    a16 = np.asarray(a).astype(np.float16)
    b = np.asarray(b)
    b16 = b.astype(np.float16) if b.dtype.kind == "f" else b
    loss16, g16 = _fn(name)(a16, b16, reduction="sum", return_grad=True)
    exp = _fn(name)(a16.astype(np.float32), b16.astype(np.float32) if b.dtype.kind == "f"
                    else b, reduction="sum", return_grad=True)
    assert_numpy_scalar(loss16, np.float16)
    assert g16.dtype == np.float16
    # a float32 computation rounded once to float16 (allow one double-rounding ulp)
    assert ref.ulp_error(loss16, exp[0], np.float16) <= 1
    assert ref.ulp_error(g16, exp[1], np.float16).max() <= 1


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("name", ["binary_cross_entropy_with_logits", "binary_cross_entropy",
                                  "kl_div"])
def test_empty_losses(dtype, name):
    e = np.empty((0, 4), dtype=dtype)
    f = getattr(cyloss, name)
    reds = ("mean", "batchmean") if name == "kl_div" else ("mean",)
    for reduction in reds:
        loss, grad = f(e, e, reduction=reduction, return_grad=True)
        assert_numpy_scalar(loss, dtype)
        assert np.isnan(loss) and grad.shape == (0, 4) and grad.dtype == dtype
    loss = f(e, e, reduction="sum")
    assert_numpy_scalar(loss, dtype)
    assert loss == 0.0
    loss = f(e, e, reduction="none")
    assert loss.shape == (0, 4) and loss.dtype == dtype


def test_cross_entropy_ignore_index_does_not_apply_to_probs(rng):
    x = rng.normal(size=(5, 3))
    p = ref.softmax(rng.normal(size=(5, 3)))
    for ii in (0, 1, -100):
        got = cyloss.cross_entropy(x, p, ignore_index=ii, reduction="none", return_grad=True)
        _check_loss(got, ref.cross_entropy(x, p, reduction="none"), np.float64, 2)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_class_weight_as_list_or_int_array(fn, rng):
    x = rng.normal(size=(6, 3))
    t = rng.integers(0, 3, 6)
    exp = getattr(cyloss, fn)(x, t, weight=np.array([1.0, 2.0, 3.0]), return_grad=True)
    for w in ([1.0, 2.0, 3.0], [1, 2, 3], np.array([1, 2, 3]), np.array([1, 2, 3], np.float32)):
        got = getattr(cyloss, fn)(x, t, weight=w, return_grad=True)
        assert_close(got[0], exp[0], np.float64)
        assert_close(got[1], exp[1], np.float64)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("C", [1, 2, 3, 4, 5, 8, 10, 16, 31, 32, 33, 48, 49])
def test_cross_entropy_prob_targets_few_classes(dtype, C, rng):
    """Probability targets with C <= 48 take the block path (flat exponentials over
    blocks of rows); 2500 rows span several blocks and the row-path boundary (49)."""
    n = 2500
    x = rng.normal(0, 3, (n, C)).astype(dtype)
    p = rng.dirichlet(np.ones(C), n).astype(dtype)
    for kw in ({}, {"label_smoothing": 0.2, "weight": rng.uniform(0.5, 2, C).astype(dtype)}):
        for reduction in REDUCTIONS:
            got = cyloss.cross_entropy(x, p, reduction=reduction, return_grad=True, **kw)
            _check_loss(got, ref.cross_entropy(x, p, reduction=reduction, **kw), dtype, _scale(x),
                        what=f"{kw.keys()} {reduction}")
    # the Hessian diagonal: A p (1 - p) with A = sum_j p_j (unweighted, no smoothing), mean
    _, g, h = cyloss.cross_entropy(x, p, return_grad=True, return_hessian=True)
    x64 = x.astype(np.float64)
    sm = np.exp(x64 - x64.max(axis=1, keepdims=True))
    sm /= sm.sum(axis=1, keepdims=True)
    a = p.astype(np.float64).sum(axis=1, keepdims=True) / n
    assert_close(h, a * sm * (1 - sm), dtype, scale=1.0, what="hess", is_grad=True)
    # non-finite logits: NaN / inf exactly where the float64 reference has them
    x2 = x.copy()
    x2[3, 0] = np.nan
    x2[7, -1] = np.inf
    x2[11, :] = -np.inf
    x2[13, 0] = -np.inf
    got_l, got_g = cyloss.cross_entropy(x2, p, reduction="none", return_grad=True)
    exp_l, exp_g = ref.cross_entropy(x2, p, reduction="none")
    np.testing.assert_array_equal(np.isnan(got_l), np.isnan(exp_l))
    np.testing.assert_array_equal(np.isposinf(got_l), np.isposinf(exp_l))
    ok = np.isfinite(exp_l)
    assert_close(got_l[ok], exp_l[ok], dtype, scale=_scale(x), what="finite rows")
    np.testing.assert_array_equal(np.isnan(got_g), np.isnan(exp_g))
