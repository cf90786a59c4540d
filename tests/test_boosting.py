"""cyloss.boosting: drop-in XGBoost / LightGBM custom objectives.

* The gradient and Hessian of every objective against plain-NumPy float64 references written
  here from the libraries' sources (XGBoost 3.2 src/objective/, LightGBM 4.x
  src/objective/), float32 and float64 predictions, weights, edge cases: no library needed.
* Training: a model boosted with the cyloss objective predicts the raw margins of one boosted
  with the built-in objective (same parameters, both from zero margins, one thread,
  deterministic) to 1e-6 of the margin scale, on generated data and, with scikit-learn, on
  its digits / diabetes data; weighted and unweighted; through xgboost.train / lightgbm.train
  and the scikit-learn estimators.  Skipped without xgboost / lightgbm
  (``pip install xgboost-cpu lightgbm``).
* Inputs are read in place (no copy of float32 / float64 predictions), never modified;
  clear errors for unknown objectives, parameters and bad labels; ``import cyloss`` imports
  neither library.
"""
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import cyloss.boosting as boosting

# ---------------------------------------------------------------- references (float64)


def _sig(m):
    e = np.exp(-np.abs(m))
    return np.where(m >= 0, 1 / (1 + e), e / (1 + e))


def _softmax(m):
    e = np.exp(m - m.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _onehot(t, k):
    return np.eye(k)[t]


def xgb_reference(name, m, y, w=None, **p):
    """XGBoost 3.2's GetGradient of each objective, in float64."""
    m = np.asarray(m, np.float64)
    y = np.asarray(y, np.float64)
    w = np.ones(m.shape[0]) if w is None else np.asarray(w, np.float64)
    if m.ndim == 2:
        w = w[:, None]
    spw = p.get("scale_pos_weight", 1.0)
    wp = w * np.where(y == 1.0, spw, 1.0)           # RegLossObj: label == 1 -> w * scale_pos_weight
    if name in ("multi:softprob", "multi:softmax"):   # multiclass_obj.cu
        q = _softmax(m)
        g = (q - _onehot(y.astype(int), m.shape[1])) * w
        return g, np.maximum(2 * q * (1 - q) * w, 1e-16)
    if name in ("binary:logistic", "reg:logistic", "binary:logitraw"):   # regression_loss.h
        return (_sig(m) - y) * wp, np.maximum(_sig(m) * _sig(-m), 1e-16) * wp
    if name == "reg:squarederror":
        return (m - y) * wp, wp * np.ones_like(m)
    if name == "reg:pseudohubererror":              # regression_obj.cu, PseudoHuberRegression
        s = p.get("huber_slope", 1.0)
        z = m - y
        r = np.sqrt(1 + z * z / (s * s))
        return z / r * w, s * s / ((s * s + z * z) * r) * w
    if name == "count:poisson":
        mds = p.get("max_delta_step", 0.7)
        return (np.exp(m) - y) * w, np.exp(m + mds) * w
    if name == "reg:gamma":                          # GammaDeviance with p = exp(m)
        return (1 - y / np.exp(m)) * wp, y / np.exp(m) * wp
    if name == "reg:tweedie":
        r = p.get("tweedie_variance_power", 1.5)
        g = -y * np.exp((1 - r) * m) + np.exp((2 - r) * m)
        h = -y * (1 - r) * np.exp((1 - r) * m) + (2 - r) * np.exp((2 - r) * m)
        return g * w, h * w
    if name == "reg:absoluteerror":
        return np.sign(m - y) * w, w * np.ones_like(m)
    raise KeyError(name)


def lgb_reference(name, m, y, w=None, **p):
    """LightGBM's GetGradients of each objective, in float64 (before its float32 cast)."""
    m = np.asarray(m, np.float64)
    y = np.asarray(y, np.float64)
    w = np.ones(m.shape[0]) if w is None else np.asarray(w, np.float64)
    if name == "multiclass":                         # multiclass_objective.hpp
        k = m.shape[1]
        q = _softmax(m)
        t = y.astype(int)
        return (q - _onehot(t, k)) * w[:, None], k / (k - 1.0) * q * (1 - q) * w[:, None]
    if name == "binary":                             # binary_objective.hpp, in its own form
        s = p.get("sigmoid", 1.0)
        pos = y > 0
        lab = np.where(pos, 1.0, -1.0)
        lw = np.array([1.0, 1.0])
        if p.get("is_unbalance", False):
            npos, nneg = pos.sum(), (~pos).sum()
            if npos > nneg:
                lw[0] = npos / nneg
            else:
                lw[1] = nneg / npos
        lw[1] *= p.get("scale_pos_weight", 1.0)
        lwi = np.where(pos, lw[1], lw[0])
        resp = -lab * s / (1 + np.exp(lab * s * m))
        a = np.abs(resp)
        return resp * lwi * w, a * (s - a) * lwi * w
    d = m - y
    if name == "regression":
        if p.get("reg_sqrt", False):
            d = m - np.sign(y) * np.sqrt(np.abs(y))
        return d * w, w.copy()
    if name == "regression_l1":
        return np.sign(d) * w, w.copy()
    if name == "huber":
        a = p.get("alpha", 0.9)
        return np.where(np.abs(d) <= a, d, np.sign(d) * a) * w, w.copy()
    if name == "poisson":
        return (np.exp(m) - y) * w, np.exp(m) * np.exp(p.get("poisson_max_delta_step", 0.7)) * w
    if name == "gamma":
        return (1 - y * np.exp(-m)) * w, y * np.exp(-m) * w
    if name == "tweedie":
        r = p.get("tweedie_variance_power", 1.5)
        e1, e2 = np.exp((1 - r) * m), np.exp((2 - r) * m)
        return (-y * e1 + e2) * w, (-y * (1 - r) * e1 + (2 - r) * e2) * w
    if name == "quantile":
        a = float(np.float32(p.get("alpha", 0.9)))
        return np.where(d >= 0, 1 - a, -a) * w, w.copy()
    raise KeyError(name)


# ---------------------------------------------------------------- cases

# (objective, params, label kind)
XGB_CASES = [
    ("multi:softprob", {}, "class"),
    ("multi:softmax", {"num_class": 5}, "class"),
    ("binary:logistic", {}, "binary"),
    ("binary:logistic", {"scale_pos_weight": 3.0}, "binary"),
    ("reg:logistic", {}, "prob"),
    ("binary:logitraw", {}, "binary"),
    ("reg:squarederror", {}, "real"),
    ("reg:squarederror", {"scale_pos_weight": 2.0}, "real01"),
    ("reg:pseudohubererror", {}, "real"),
    ("reg:pseudohubererror", {"huber_slope": 0.3}, "real"),
    ("count:poisson", {}, "count"),
    ("count:poisson", {"max_delta_step": 0.0}, "count"),
    ("reg:gamma", {}, "positive"),
    ("reg:gamma", {"scale_pos_weight": 2.0}, "positive1"),
    ("reg:tweedie", {}, "count"),
    ("reg:tweedie", {"tweedie_variance_power": 1.0}, "count"),
    ("reg:tweedie", {"tweedie_variance_power": 2.0}, "positive"),
    ("reg:tweedie", {"tweedie_variance_power": 2.0}, "count"),      # y = 0 too (XGBoost allows it)
    ("reg:tweedie", {"tweedie_variance_power": 1.2}, "count"),
    ("reg:absoluteerror", {}, "real"),
]
LGB_CASES = [
    ("multiclass", {}, "class"),
    ("softmax", {"num_class": 5}, "class"),
    ("binary", {}, "binary"),
    ("binary", {"sigmoid": 0.6}, "binary"),
    ("binary", {"is_unbalance": True}, "binary"),
    ("binary", {"scale_pos_weight": 2.5, "sigmoid": 1.7}, "anysign"),
    ("regression", {}, "real"),
    ("mse", {"reg_sqrt": True}, "real"),
    ("regression_l1", {}, "real"),
    ("huber", {}, "real"),
    ("huber", {"alpha": 2.0}, "real"),
    ("poisson", {}, "count"),
    ("poisson", {"poisson_max_delta_step": 0.2}, "count"),
    ("gamma", {}, "positive"),
    ("gamma", {}, "count"),                                         # LightGBM's gamma allows y = 0
    ("tweedie", {}, "count"),
    ("tweedie", {"tweedie_variance_power": 1.0}, "count"),
    ("tweedie", {"tweedie_variance_power": 1.9}, "count"),
    ("quantile", {}, "real"),
    ("quantile", {"alpha": 0.25}, "real"),
]
K = 5


def _case_id(case):
    name, params, kind = case
    return name + "".join(f"-{k}={v}" for k, v in params.items()) + f"-{kind}"


def _labels(kind, n, rng, margins=None):
    if kind == "class":
        return rng.integers(0, K, n).astype(np.float32)
    if kind == "binary":
        return (rng.random(n) < 0.4).astype(np.float32)
    if kind == "anysign":
        return rng.choice([-1.0, 0.0, 0.5, 1.0, 2.0], n).astype(np.float32)
    if kind == "prob":
        return rng.choice([0.0, 0.3, 1.0], n).astype(np.float32)
    if kind == "real":
        y = rng.normal(scale=3.0, size=n).astype(np.float32)
        y[:5] = margins[:5]                      # ties: d = 0 exactly
        return y
    if kind == "real01":
        return rng.choice([0.0, 1.0, 2.5], n).astype(np.float32)
    if kind == "count":
        return rng.poisson(2.0, n).astype(np.float32)
    if kind == "positive":
        return rng.gamma(2.0, 1.5, n).astype(np.float32)
    if kind == "positive1":
        return rng.choice([0.5, 1.0, 3.0], n).astype(np.float32)
    raise KeyError(kind)


def _problem(lib, name, kind, dtype, weighted, rng, n=400):
    shape = (n, K) if kind == "class" else (n,)
    margins = rng.normal(scale=1.5, size=shape).astype(dtype)
    if kind == "class":
        margins[:3] = 0.0
        margins[3, 1] = 60.0                      # p ~ e^-60: XGBoost's 1e-16 Hessian floor
    else:
        margins[5:8] = [0.0, 8.0, -8.0]
    if lib == "lightgbm" and kind == "class":
        margins = np.asfortranarray(margins)      # LightGBM passes (n, K) class-major
    y = _labels(kind, n, rng, margins.reshape(n, -1)[:, 0])
    w = None
    if weighted:
        w = rng.uniform(0.2, 3.0, n).astype(np.float32)
        w[:4] = 0.0
    return margins, y, w


def _close(got, ref, rtol, what):
    ref = np.asarray(ref)
    scale = max(float(np.abs(ref).max()), 1e-300)
    err = np.abs(got.astype(np.float64) - ref)
    bad = err > rtol * np.abs(ref) + rtol * 0.1 * scale
    assert not bad.any(), (f"{what}: {int(bad.sum())} values off, worst at {np.unravel_index(np.argmax(err), err.shape)}"
                           f": got {got.ravel()[np.argmax(err)]!r}, reference {ref.ravel()[np.argmax(err)]!r}")


# ---------------------------------------------------------------- formulas


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("case", XGB_CASES, ids=_case_id)
def test_xgboost_formulas(case, dtype, weighted, rng):
    name, params, kind = case
    m, y, w = _problem("xgboost", name, kind, dtype, weighted, rng)
    m_before, y_before = m.copy(), y.copy()
    grad, hess = boosting.xgboost_objective(name, **params).grad_hess(m, y, w)
    for a in (grad, hess):
        assert type(a) is np.ndarray and a.shape == m.shape and a.dtype == dtype and a.flags.c_contiguous
    g_ref, h_ref = xgb_reference(name, m, y, w, **params)
    rtol = 4e-6 if dtype == np.float32 else 1e-12
    _close(grad, g_ref, rtol, "grad")
    _close(hess, h_ref, rtol, "hess")
    np.testing.assert_array_equal(m, m_before)
    np.testing.assert_array_equal(y, y_before)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", LGB_CASES, ids=_case_id)
def test_lightgbm_formulas(case, dtype, weighted, rng):
    name, params, kind = case
    m, y, w = _problem("lightgbm", name, kind, dtype, weighted, rng)
    m_before = m.copy()
    grad, hess = boosting.lightgbm_objective(name, **params).grad_hess(m, y, w)
    for a in (grad, hess):   # LightGBM's float32 gradients, in the predictions' layout
        assert type(a) is np.ndarray and a.shape == m.shape and a.dtype == np.float32
        assert a.flags.f_contiguous if kind == "class" else a.flags.c_contiguous
    g_ref, h_ref = lgb_reference(boosting.lightgbm_objective(name).name, m, y, w, **params)
    rtol = 2e-7 if dtype == np.float64 else 4e-6   # float64: the float32 rounding of the result
    _close(grad, g_ref, rtol, "grad")
    _close(hess, h_ref, rtol, "hess")
    np.testing.assert_array_equal(m, m_before)


def test_xgboost_hessian_floors():
    """max(2 p (1 - p) w, 1e-16) for softmax (after the weight: a zero weight gives 1e-16),
    max(p (1 - p), 1e-16) w for the logistic loss (before it)."""
    obj = boosting.xgboost_objective("multi:softprob")
    m = np.array([[0.0, -80.0, 0.0], [0.0, 0.0, 0.0]], np.float32)
    g, h = obj.grad_hess(m, [0, 2], [1.0, 0.0])
    assert h[0, 1] == np.float32(1e-16) and np.all(h[1] == np.float32(1e-16)) and np.all(g[1] == 0)
    g, h = boosting.xgboost_objective("binary:logistic").grad_hess(np.float32([-60.0, 0.0]), [0.0, 1.0],
                                                                    [2.0, 0.0])
    assert h[0] == np.float32(2e-16) and h[1] == 0 and g[1] == 0


def test_lightgbm_quantile_tie_and_single_class():
    """quantile: score == label counts as score >= label (1 - alpha); binary with one class
    present does not boost (LightGBM's need_train_ = false)."""
    g, h = boosting.lightgbm_objective("quantile", alpha=0.3).grad_hess([1.0, 1.0, 0.0], [1.0, 2.0, -1.0])
    assert g.tolist() == [np.float32(0.7), np.float32(-0.3), np.float32(0.7)] and h.tolist() == [1, 1, 1]
    g, h = boosting.lightgbm_objective("binary").grad_hess([0.5, -0.5], [1.0, 1.0])
    assert not g.any() and not h.any()


def test_multi_target_regression_rows_share_a_weight():
    m = np.arange(6, dtype=np.float32).reshape(3, 2)
    y = np.ones((3, 2), np.float32)
    g, h = boosting.xgboost_objective("reg:squarederror").grad_hess(m, y, [1.0, 2.0, 0.5])
    np.testing.assert_array_equal(g, (m - 1) * np.float32([[1], [2], [0.5]]))
    np.testing.assert_array_equal(h, np.broadcast_to(np.float32([[1], [2], [0.5]]), (3, 2)))


def test_call_signatures_read_the_dataset():
    """(predt, dtrain) reads get_label() / get_weight(); (y_true, y_pred[, weight]) is the
    scikit-learn estimators' call; both give grad_hess's result."""
    class Data:                                  # a DMatrix / Dataset stand-in
        def __init__(self, y, w):
            self.y, self.w = y, w

        def get_label(self):
            return self.y

        def get_weight(self):
            return self.w

    rng = np.random.default_rng(3)
    m = rng.normal(size=(50, K)).astype(np.float32)
    y = rng.integers(0, K, 50).astype(np.float32)
    w = rng.uniform(size=50).astype(np.float32)
    for obj, x in ((boosting.xgboost_objective("multi:softprob"), m),
                   (boosting.lightgbm_objective("multiclass"), np.asfortranarray(m, np.float64))):
        want = obj.grad_hess(x, y, w)
        for got in (obj(x, Data(y, w)), obj(y, x, w)):
            np.testing.assert_array_equal(got[0], want[0])
            np.testing.assert_array_equal(got[1], want[1])
        unweighted = obj.grad_hess(x, y)
        for got in (obj(x, Data(y, None)), obj(x, Data(y, np.empty(0, np.float32))), obj(y, x)):
            np.testing.assert_array_equal(got[0], unweighted[0])


@pytest.mark.parametrize("lib,name,shape,dtype", [
    ("xgboost", "multi:softprob", (40000, 10), np.float32),
    ("xgboost", "multi:softprob", (20000, 10), np.float64),
    ("xgboost", "count:poisson", (400000,), np.float32),
    ("xgboost", "binary:logistic", (200000,), np.float64),
    ("lightgbm", "poisson", (200000,), np.float64),
])
def test_predictions_are_not_copied(lib, name, shape, dtype):
    """The objective allocates its two results, small per-row arrays and (elementwise, float64)
    the float64 labels, never a copy of the predictions (NumPy's allocations are traced by
    tracemalloc)."""
    rng = np.random.default_rng(0)
    m = rng.normal(size=shape).astype(dtype)
    y = (rng.integers(0, shape[1], shape[0]) if len(shape) == 2 else rng.integers(0, 2, shape[0])).astype(np.float32)
    obj = boosting.xgboost_objective(name) if lib == "xgboost" else boosting.lightgbm_objective(name)
    obj.grad_hess(m[:10], y[:10])                # warm-up (imports, caches)
    tracemalloc.start()
    try:
        grad, hess = obj.grad_hess(m, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    outputs = 2 * m.nbytes   # grad and hess in the compute dtype (LightGBM's float32 copies come after)
    # float32 labels of elementwise float64 predictions are converted to float64 (the labels'
    # copy, one array of the predictions' size)
    labels = m.nbytes if (m.ndim == 1 and m.dtype != y.dtype) else 0
    assert peak < outputs + labels + 0.6 * m.nbytes, (peak, outputs, labels, m.nbytes)


def test_read_only_inputs():
    m = np.zeros((8, 3), np.float32)
    y = np.arange(8, dtype=np.float32) % 3
    for a in (m, y):
        a.flags.writeable = False
    g, _ = boosting.xgboost_objective("multi:softprob").grad_hess(m, y)
    assert g.flags.writeable
    g, _ = boosting.lightgbm_objective("multiclass").grad_hess(m, y)
    assert g.flags.writeable


# ---------------------------------------------------------------- errors, objects


def test_unknown_objective_names():
    with pytest.raises(ValueError, match=r"unknown objective 'multi:softmaxx'.*multi:softprob"):
        boosting.xgboost_objective("multi:softmaxx")
    with pytest.raises(ValueError, match=r"unknown objective 'lambdarank'.*quantile"):
        boosting.lightgbm_objective("lambdarank")
    with pytest.raises(ValueError, match="unknown objective 'multiclass'"):
        boosting.xgboost_objective("multiclass")           # the other library's name
    with pytest.raises(TypeError, match="must be a string"):
        boosting.lightgbm_objective(None)


@pytest.mark.parametrize("factory,name,params,exc,match", [
    (boosting.xgboost_objective, "reg:gamma", {"huber_slope": 1.0}, TypeError,
     r"unexpected parameter 'huber_slope' \(parameters of 'reg:gamma': scale_pos_weight\)"),
    (boosting.xgboost_objective, "count:poisson", {"poisson_max_delta_step": 0.7}, TypeError,
     "unexpected parameter 'poisson_max_delta_step'"),
    (boosting.lightgbm_objective, "poisson", {"max_delta_step": 0.7}, TypeError,
     "unexpected parameter 'max_delta_step'"),
    (boosting.lightgbm_objective, "huber", {"huber_slope": 1.0}, TypeError, "unexpected parameter"),
    (boosting.xgboost_objective, "reg:tweedie", {"tweedie_variance_power": 2.5}, ValueError, r"in \[1, 2\]"),
    (boosting.lightgbm_objective, "tweedie", {"tweedie_variance_power": 2.0}, ValueError, r"in \[1, 2\)"),
    (boosting.lightgbm_objective, "tweedie", {"tweedie_variance_power": 0.5}, ValueError, r"in \[1, 2\)"),
    (boosting.xgboost_objective, "reg:pseudohubererror", {"huber_slope": 0.0}, ValueError, "non-zero"),
    (boosting.xgboost_objective, "count:poisson", {"max_delta_step": -1}, ValueError, ">= 0"),
    (boosting.lightgbm_objective, "quantile", {"alpha": 1.0}, ValueError, r"in \(0, 1\)"),
    (boosting.lightgbm_objective, "huber", {"alpha": 0.0}, ValueError, "> 0"),
    (boosting.lightgbm_objective, "binary", {"sigmoid": -1.0}, ValueError, "> 0"),
    (boosting.lightgbm_objective, "binary", {"sigmoid": float("nan")}, ValueError, "> 0"),
    (boosting.lightgbm_objective, "binary", {"sigmoid": "1"}, TypeError, "must be a number"),
    (boosting.lightgbm_objective, "binary", {"is_unbalance": 1}, TypeError, "True or False"),
    (boosting.lightgbm_objective, "binary", {"is_unbalance": True, "scale_pos_weight": 2.0}, ValueError,
     "cannot set is_unbalance and scale_pos_weight"),
    (boosting.lightgbm_objective, "multiclass", {"num_class": 5, "num_classes": 5}, TypeError, "given twice"),
    (boosting.xgboost_objective, "multi:softprob", {"num_class": 1}, ValueError, "integer >= 2"),
    (boosting.xgboost_objective, "binary:logistic", {"scale_pos_weight": True}, TypeError, "must be a number"),
])
def test_bad_parameters(factory, name, params, exc, match):
    with pytest.raises(exc, match=match):
        factory(name, **params)


@pytest.mark.parametrize("lib,name,preds,label,match", [
    ("xgboost", "multi:softprob", np.zeros((3, 4), np.float32), [0, 1, 4], r"integers in \[0, 4\)"),
    ("xgboost", "multi:softprob", np.zeros((3, 4), np.float32), [0, 1, 1.5], r"integers in \[0, 4\)"),
    ("xgboost", "multi:softprob", np.zeros((3, 4), np.float32), [0, -1, 1], r"integers in \[0, 4\)"),
    ("xgboost", "multi:softprob", np.zeros((3, 4), np.float32), [0, np.nan, 1], r"integers in \[0, 4\)"),
    ("lightgbm", "multiclass", np.zeros((3, 4)), [0, 1, 4.2], r"in \[0, 4\)"),
    ("xgboost", "multi:softprob", np.zeros(12, np.float32), np.zeros(3), r"\(n_samples, n_classes\)"),
    ("xgboost", "binary:logistic", np.zeros(3, np.float32), [0, 1, 2], r"in \[0, 1\]"),
    ("xgboost", "reg:gamma", np.zeros(3, np.float32), [1, 0, 2], "positive"),
    ("xgboost", "count:poisson", np.zeros(3, np.float32), [1, -1, 2], "non-negative"),
    ("xgboost", "reg:tweedie", np.zeros(3, np.float32), [1, -1, 2], "non-negative"),
    ("lightgbm", "poisson", np.zeros(3), [1, -1, 2], "negative"),
    ("lightgbm", "gamma", np.zeros(3), [0, 0, 0], "sum of labels is zero"),
    ("lightgbm", "regression", np.zeros(3), [0, 0], "2 labels for predictions of shape"),
])
def test_bad_labels(lib, name, preds, label, match):
    obj = boosting.xgboost_objective(name) if lib == "xgboost" else boosting.lightgbm_objective(name)
    with pytest.raises(ValueError, match=match):
        obj.grad_hess(preds, np.asarray(label, np.float32))


def test_bad_shapes_and_types():
    obj = boosting.xgboost_objective("multi:softprob", num_class=3)
    with pytest.raises(ValueError, match="4 classes, num_class is 3"):
        obj.grad_hess(np.zeros((2, 4), np.float32), [0, 1])
    with pytest.raises(ValueError, match="3 weights for 2 rows"):
        obj.grad_hess(np.zeros((2, 3), np.float32), [0, 1], [1, 1, 1])
    with pytest.raises(ValueError, match="3 labels for 2 rows"):
        obj.grad_hess(np.zeros((2, 3), np.float32), [0, 1, 2])
    with pytest.raises(TypeError, match="predictions must be real numbers"):
        obj.grad_hess(np.array([["a", "b", "c"]]), [0])
    with pytest.raises(TypeError, match="sample_weight goes with"):
        obj(np.zeros((1, 3), np.float32), type("D", (), {"get_label": 0, "get_weight": 0})(), [1.0])


def test_objects_describe_themselves():
    obj = boosting.lightgbm_objective("l2", reg_sqrt=True)
    assert obj.name == "regression" and obj.params == {"reg_sqrt": True}
    assert repr(obj) == "lightgbm_objective('regression', reg_sqrt=True)"
    assert boosting.lightgbm_objective("binary", unbalance=True).params == {
        "sigmoid": 1.0, "is_unbalance": True, "scale_pos_weight": 1.0}
    obj = boosting.xgboost_objective("count:poisson")
    assert obj.params == {"max_delta_step": 0.7} and obj.booster_params == {"max_delta_step": 0.7}
    assert repr(obj) == "xgboost_objective('count:poisson', max_delta_step=0.7)"
    assert boosting.xgboost_objective("reg:gamma").booster_params == {}
    assert isinstance(obj, boosting.XGBoostObjective) and callable(obj)


def test_module_under_mypy_strict(tmp_path):
    """cyloss.boosting is typed inline: mypy --strict accepts it, cyloss's stubs included."""
    pytest.importorskip("mypy")
    import os
    import shutil
    shutil.copy(boosting.__file__, tmp_path / "boosting_copy.py")
    env = dict(os.environ)
    env.pop("MYPYPATH", None)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(boosting.__file__)))
    if "site-packages" not in pkg_parent:     # a source checkout with an in-place build
        env["PYTHONPATH"] = pkg_parent
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
                        str(tmp_path / "cache"), "boosting_copy.py"], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_import_cyloss_imports_no_booster_library():
    code = ("import sys, cyloss; assert 'cyloss.boosting' not in sys.modules; import cyloss.boosting; "
            "assert not {'xgboost', 'lightgbm', 'sklearn'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


# ---------------------------------------------------------------- training


def _synthetic(kind, n=800, d=6, seed=7):
    """Generated data with a signal in every column (continuous features)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    s = X @ rng.normal(scale=0.7, size=d)
    if kind == "class":
        z = X @ rng.normal(size=(d, K)) + rng.gumbel(size=(n, K))
        return X, z.argmax(1).astype(float)
    if kind == "binary":
        return X, (s + rng.logistic(size=n) > 0.3).astype(float)
    if kind == "real":
        return X, 20 * s + 5 + rng.standard_t(3, size=n) * 4
    if kind == "count":
        return X, rng.poisson(np.exp(0.6 * s + 0.5)).astype(float)
    if kind == "positive":
        return X, rng.gamma(2.0, np.exp(0.5 * s + 1) / 2)
    raise KeyError(kind)


def _sklearn_data(kind):
    datasets = pytest.importorskip("sklearn.datasets")
    if kind in ("class", "binary"):
        X, y = datasets.load_digits(return_X_y=True)
        return X, (y.astype(float) if kind == "class" else (y >= 5).astype(float))
    X, y = datasets.load_diabetes(return_X_y=True)
    if kind == "real":
        return X, y - y.mean()
    if kind == "positive":
        return X, y / 100.0
    if kind == "count":
        return X, np.round(y / 25.0)
    raise KeyError(kind)


def _data(source, kind):
    return _synthetic(kind) if source == "generated" else _sklearn_data(kind)


def _weights(n):
    return np.random.default_rng(11).uniform(0.2, 3.0, n)


def _assert_same_margins(builtin, custom):
    builtin, custom = np.asarray(builtin, np.float64), np.asarray(custom, np.float64)
    scale = float(np.abs(builtin).max())
    assert scale > 0.05, "the built-in model did not move from zero"
    err = float(np.abs(builtin - custom).max())
    assert err <= 1e-6 * scale, f"margins differ by {err:.3g} (scale {scale:.3g}, {err / scale:.2g} of it)"


XGB_TRAIN = [
    ("multi:softprob", {}, "class"),
    ("binary:logistic", {}, "binary"),
    ("binary:logistic", {"scale_pos_weight": 2.5}, "binary"),
    ("reg:squarederror", {}, "real"),
    ("reg:pseudohubererror", {"huber_slope": 60.0}, "real"),
    ("count:poisson", {}, "count"),
    ("count:poisson", {"max_delta_step": 0.3}, "count"),
    ("reg:gamma", {}, "positive"),
    ("reg:tweedie", {"tweedie_variance_power": 1.3}, "count"),
]
LGB_TRAIN = [
    ("multiclass", {}, "class"),
    ("binary", {}, "binary"),
    ("binary", {"sigmoid": 0.7, "is_unbalance": True}, "binary"),
    ("binary", {"scale_pos_weight": 2.0}, "binary"),
    ("regression", {}, "real"),
    ("regression", {"reg_sqrt": True}, "real"),
    ("huber", {"alpha": 15.0}, "real"),
    ("poisson", {}, "count"),
    ("gamma", {}, "positive"),
    ("gamma", {}, "count"),
    ("tweedie", {"tweedie_variance_power": 1.3}, "count"),
]
ROUNDS = 8


def _xgb_pair(xgb, name, params, X, y, w, obj=None, rounds=ROUNDS):
    """(built-in margins, cyloss margins) after `rounds` rounds from zero margins."""
    k = K if name.startswith("multi:") else 1
    n_class = int(y.max()) + 1 if k > 1 else 1
    margin0 = np.zeros((len(y), n_class) if k > 1 else len(y))
    dtrain = xgb.DMatrix(X, label=y, weight=w, base_margin=margin0)
    base = {"tree_method": "hist", "max_depth": 4, "eta": 0.3, "nthread": 1, "seed": 0}
    if k > 1:
        base["num_class"] = n_class
    builtin = xgb.train({**base, "objective": name, **params}, dtrain, rounds)
    obj = obj or boosting.xgboost_objective(name, **params)
    custom = xgb.train({**base, **boosting.xgboost_objective(name, **params).booster_params}, dtrain, rounds,
                       obj=obj)
    return builtin.predict(dtrain, output_margin=True), custom.predict(dtrain, output_margin=True)


def _lgb_params(name, y):
    p = {"num_threads": 1, "deterministic": True, "force_col_wise": True, "seed": 0, "verbose": -1,
         "boost_from_average": False, "num_leaves": 15, "learning_rate": 0.3, "min_data_in_leaf": 10,
         "metric": "None"}   # (no evaluation: the gamma metric rejects y = 0, the objective does not)
    if boosting.lightgbm_objective(name).name == "multiclass":
        p["num_class"] = int(np.max(y)) + 1
    return p


def _lgb_pair(lgb, name, params, X, y, w, obj=None, rounds=ROUNDS):
    base = _lgb_params(name, y)
    builtin = lgb.train({**base, "objective": name, **params}, lgb.Dataset(X, label=y, weight=w), rounds)
    obj = obj or boosting.lightgbm_objective(name, **params)
    custom = lgb.train({**base, "objective": obj}, lgb.Dataset(X, label=y, weight=w), rounds)
    return builtin.predict(X, raw_score=True), custom.predict(X, raw_score=True)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("source", ["generated", "sklearn"])
@pytest.mark.parametrize("case", XGB_TRAIN, ids=_case_id)
def test_xgboost_training_matches_builtin(case, source, weighted):
    xgb = pytest.importorskip("xgboost")
    name, params, kind = case
    X, y = _data(source, kind)
    _assert_same_margins(*_xgb_pair(xgb, name, params, X, y, _weights(len(y)) if weighted else None))


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("source", ["generated", "sklearn"])
@pytest.mark.parametrize("case", LGB_TRAIN, ids=_case_id)
def test_lightgbm_training_matches_builtin(case, source, weighted):
    lgb = pytest.importorskip("lightgbm")
    name, params, kind = case
    X, y = _data(source, kind)
    _assert_same_margins(*_lgb_pair(lgb, name, params, X, y, _weights(len(y)) if weighted else None))


def test_xgboost_float64_predictions_train_the_same():
    """The objective also takes float64 margins (computing in float64): same model."""
    xgb = pytest.importorskip("xgboost")
    obj = boosting.xgboost_objective("multi:softprob")
    seen = []

    def obj64(predt, dtrain):
        grad, hess = obj(predt.astype(np.float64), dtrain)
        seen.append(grad.dtype)
        return grad, hess

    X, y = _synthetic("class")
    _assert_same_margins(*_xgb_pair(xgb, "multi:softprob", {}, X, y, _weights(len(y)), obj=obj64))
    assert seen and set(seen) == {np.dtype(np.float64)}


def test_lightgbm_gets_its_layout_without_copies():
    """LightGBM passes float64 (n, K) class-major margins; the objective returns float32 (n, K)
    in the same layout, which LightGBM's ravel(order="F") and float32 conversion keep as is."""
    lgb = pytest.importorskip("lightgbm")
    obj = boosting.lightgbm_objective("multiclass")
    seen = []

    def spy(preds, data):
        grad, hess = obj(preds, data)
        seen.append((preds.dtype, preds.flags.f_contiguous, grad.dtype, grad.flags.f_contiguous,
                     np.shares_memory(grad, grad.ravel(order="F"))))
        return grad, hess

    X, y = _synthetic("class")
    _assert_same_margins(*_lgb_pair(lgb, "multiclass", {}, X, y, None, obj=spy, rounds=3))
    assert set(seen) == {(np.dtype(np.float64), True, np.dtype(np.float32), True, True)}


def test_renewed_leaf_objectives_train():
    """reg:absoluteerror, quantile, regression_l1: the built-in objectives recompute leaf values
    (weighted quantiles of the residuals), which a custom objective cannot: the models differ.
    Their gradients are checked above; with them the (Newton) leaves lower the loss."""
    xgb = pytest.importorskip("xgboost")
    lgb = pytest.importorskip("lightgbm")
    X, y = _synthetic("real")

    def pinball(m, q):
        return np.mean(np.maximum(q * (y - m), (q - 1) * (y - m)))

    builtin, custom = _xgb_pair(xgb, "reg:absoluteerror", {}, X, y, None, rounds=20)
    assert not np.allclose(builtin, custom) and pinball(custom, 0.5) < 0.95 * pinball(0, 0.5)
    for name, params, q in (("quantile", {"alpha": 0.8}, 0.8), ("regression_l1", {}, 0.5)):
        builtin, custom = _lgb_pair(lgb, name, params, X, y, None, rounds=20)
        assert not np.allclose(builtin, custom) and pinball(custom, q) < 0.95 * pinball(0, q)


def test_scikit_learn_estimators():
    """objective= of XGBClassifier / XGBRegressor (with sample_weight) and LGBMClassifier /
    LGBMRegressor: the same margins as the built-in objective."""
    xgb = pytest.importorskip("xgboost")
    lgb = pytest.importorskip("lightgbm")
    pytest.importorskip("sklearn")
    Xc, yc = _synthetic("class")
    Xr, yr = _synthetic("positive")
    w = _weights(len(yc))
    common = dict(n_estimators=5, max_depth=3, n_jobs=1, tree_method="hist", random_state=0)
    a = xgb.XGBClassifier(objective="multi:softprob", base_score=0.0, **common).fit(Xc, yc, sample_weight=w)
    b = xgb.XGBClassifier(objective=boosting.xgboost_objective("multi:softprob"), base_score=0.0,
                          **common).fit(Xc, yc, sample_weight=w)
    _assert_same_margins(a.predict(Xc, output_margin=True), b.predict(Xc, output_margin=True))
    # base_score is a mean for the built-in gamma (margin log 1 = 0), a margin for a custom one
    a = xgb.XGBRegressor(objective="reg:gamma", base_score=1.0, **common).fit(Xr, yr, sample_weight=w)
    b = xgb.XGBRegressor(objective=boosting.xgboost_objective("reg:gamma"), base_score=0.0,
                         **common).fit(Xr, yr, sample_weight=w)
    _assert_same_margins(a.predict(Xr, output_margin=True), b.predict(Xr, output_margin=True))
    common = dict(n_estimators=5, num_leaves=15, n_jobs=1, verbose=-1, deterministic=True, force_col_wise=True,
                  random_state=0)
    a = lgb.LGBMClassifier(boost_from_average=False, **common).fit(Xc, yc, sample_weight=w)
    b = lgb.LGBMClassifier(objective=boosting.lightgbm_objective("multiclass"), **common).fit(Xc, yc,
                                                                                               sample_weight=w)
    _assert_same_margins(a.predict(Xc, raw_score=True), b.predict(Xc, raw_score=True))
    a = lgb.LGBMRegressor(objective="gamma", boost_from_average=False, **common).fit(Xr, yr)
    b = lgb.LGBMRegressor(objective=boosting.lightgbm_objective("gamma"), **common).fit(Xr, yr)
    _assert_same_margins(a.predict(Xr, raw_score=True), b.predict(Xr, raw_score=True))
