"""The table of docs/semantics.md: the cyloss call that reproduces each loss of scikit-learn's private
sklearn._loss module (loss, gradient and Hessian, with and without sample weights, float32
and float64), checked against sklearn itself when it is installed, and the y-domain errors.
"""
import math

import numpy as np
import pytest

import cyloss
from _helpers import FLOAT_DTYPES, FLOAT_IDS

L = pytest.importorskip("sklearn._loss.loss")


def _data(rng, kind, n=40):
    r = rng.normal(0, 0.8, n)
    if kind == "positive":
        y = rng.uniform(0.1, 3.0, n)
    elif kind == "counts":
        y = rng.poisson(1.5, n).astype(float)
    elif kind == "binary":
        y = rng.integers(0, 2, n).astype(float)
    elif kind == "unit":
        y = rng.uniform(0, 1, n)
    elif kind == "identity":
        r = rng.uniform(0.2, 3.0, n)
        y = rng.uniform(0.0, 3.0, n)
    else:
        y = rng.normal(0, 1.5, n)
    return r, y


# id -> (sklearn loss object, y kind, cyloss call (r, y, **kw) -> (loss, grad, hess) as sklearn's)
def _half(fn):
    def call(r, y, **kw):
        loss, g, h = fn(r, y, **kw)
        return loss * 0.5, g * 0.5, h * 0.5
    return call


def _times2_pinball(r, y, **kw):
    loss, g, h = cyloss.pinball_loss(r, y, quantile=0.5, **kw)
    return 2 * loss, 2 * g, h  # sklearn's stand-in Hessian of AbsoluteError is 1, pinball's 1 too


CASES = {
    "HalfSquaredError": (lambda: L.HalfSquaredError(), "real",
                         _half(lambda r, y, **kw: cyloss.mse_loss(r, y, return_hessian=True, **kw))),
    "AbsoluteError": (lambda: L.AbsoluteError(), "real",
                      lambda r, y, **kw: _times2_pinball(r, y, return_hessian=True, **kw)),
    "HuberLoss": (lambda: L.HuberLoss(delta=0.7), "real",
                  lambda r, y, **kw: cyloss.huber_loss(r, y, delta=0.7, return_hessian=True, **kw)),
    "PinballLoss": (lambda: L.PinballLoss(quantile=0.8), "real",
                    lambda r, y, **kw: cyloss.pinball_loss(r, y, quantile=0.8, return_hessian=True, **kw)),
    "HalfPoissonLoss": (lambda: L.HalfPoissonLoss(), "counts",
                        lambda r, y, **kw: cyloss.half_poisson_loss(r, y, return_hessian=True, **kw)),
    "HalfGammaLoss": (lambda: L.HalfGammaLoss(), "positive",
                      lambda r, y, **kw: cyloss.half_gamma_loss(r, y, return_hessian=True, **kw)),
    **{f"HalfTweedieLoss-{p}": (lambda p=p: L.HalfTweedieLoss(power=p), "counts" if 0 < p < 2 else
                                "positive" if p >= 2 else "real",
                                lambda r, y, p=p, **kw: cyloss.half_tweedie_loss(r, y, power=p, return_hessian=True,
                                                                                 **kw))
       for p in (-0.5, 0, 0.5, 1, 1.5, 2, 3)},
    **{f"HalfTweedieLossIdentity-{p}": (lambda p=p: L.HalfTweedieLossIdentity(power=p), "identity",
                                        lambda r, y, p=p, **kw: cyloss.half_tweedie_loss_identity(
                                            r, y + (0.1 if p >= 2 else 0.0), power=p, return_hessian=True, **kw))
       for p in (0, 1, 1.5, 2, 3)},
    "HalfBinomialLoss": (lambda: L.HalfBinomialLoss(), "unit",
                         lambda r, y, **kw: cyloss.binary_cross_entropy_with_logits(r, y, return_hessian=True, **kw)),
    "ExponentialLoss": (lambda: L.ExponentialLoss(), "binary",
                        lambda r, y, **kw: cyloss.exponential_loss(r, y, return_hessian=True, **kw)),
}


def _y_for_sklearn(name, y):
    if name.startswith("HalfTweedieLossIdentity-"):
        p = float(name.split("-")[1])
        return y + (0.1 if p >= 2 else 0.0)
    return y


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "w"])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_sklearn(name, weighted, dtype, rng):
    make, kind, call = CASES[name]
    loss_obj = make()
    r, y = _data(rng, kind)
    r, y = r.astype(dtype), y.astype(dtype)
    w = rng.uniform(0.2, 2.0, r.shape).astype(dtype) if weighted else None
    ys = _y_for_sklearn(name, y).astype(dtype)
    want_l = loss_obj.loss(y_true=ys, raw_prediction=r, sample_weight=w)
    want_g, want_h = loss_obj.gradient_hessian(y_true=ys, raw_prediction=r, sample_weight=w)
    got_l, got_g, got_h = call(r, y, weight=w, reduction="none")
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for got, want, what in ((got_l, want_l, "loss"), (got_g, want_g, "gradient"), (got_h, want_h, "hessian")):
        scale = float(np.max(np.abs(want))) or 1.0
        np.testing.assert_allclose(np.asarray(got, np.float64), np.asarray(want, np.float64), rtol=rtol,
                                   atol=rtol * scale, err_msg=f"{name} {what}")
    # sklearn's __call__: the weighted mean of the losses; torch's huber_loss and
    # binary_cross_entropy_with_logits take mean(w * l): there it is "sum" / sum(w)
    if w is not None and name in ("HuberLoss", "HalfBinomialLoss"):
        mean = call(r, y, weight=w, reduction="sum")[0] / w.astype(np.float64).sum()
    else:
        mean = call(r, y, weight=w, reduction="mean")[0]
    np.testing.assert_allclose(float(mean), float(loss_obj(y_true=ys, raw_prediction=r, sample_weight=w)),
                               rtol=rtol * 10, err_msg=f"{name} mean")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "w"])
def test_multinomial_matches_sklearn(weighted, dtype, rng):
    n, k = 30, 5
    raw = rng.normal(0, 1.5, (n, k)).astype(dtype)
    y = rng.integers(0, k, n)
    w = rng.uniform(0.2, 2.0, n).astype(dtype) if weighted else None
    obj = L.HalfMultinomialLoss(n_classes=k)
    want_l = obj.loss(y_true=y.astype(dtype), raw_prediction=raw, sample_weight=w)
    want_g, want_h = obj.gradient_hessian(y_true=y.astype(dtype), raw_prediction=raw, sample_weight=w)
    loss, g, h = cyloss.cross_entropy(raw, y, reduction="none", return_hessian=True)
    if w is not None:  # cross_entropy's weight is per class (torch): sample weights multiply the rows
        loss, g, h = loss * w, g * w[:, None], h * w[:, None]
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(loss, want_l, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(g, want_g, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(h, want_h, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("call,bad,msg", [
    (lambda y: cyloss.half_poisson_loss(np.zeros(4), y), [1.0, 0.0, -2.0, 3.0],
     r"y\[2\] = -2.0 is outside the domain of half_poisson_loss \(y >= 0\)"),
    (lambda y: cyloss.half_gamma_loss(np.zeros(4), y, return_hessian=True), [1.0, 0.0, -2.0, 3.0],
     r"y\[1\] = 0.0 is outside the domain of half_gamma_loss \(y > 0\)"),
    (lambda y: cyloss.half_tweedie_loss(np.zeros(4), y, power=1.5), [1.0, 2.0, -0.5, 3.0],
     r"y\[2\] = -0.5 is outside the domain of half_tweedie_loss \(y >= 0\)"),
    (lambda y: cyloss.half_tweedie_loss(np.zeros(4), y, power=2.5), [1.0, 0.0, 2.0, 3.0],
     r"y\[1\] = 0.0 is outside"),
    (lambda y: cyloss.half_tweedie_loss_identity(np.ones(4), y, power=3), [1.0, 2.0, 3.0, -1.0],
     r"y\[3\] = -1.0 is outside the domain of half_tweedie_loss_identity \(y > 0\)"),
    (lambda y: cyloss.exponential_loss(np.zeros((2, 2)), y), [[0.0, 1.0], [1.5, 0.0]],
     r"y\[1, 0\] = 1.5 is outside the domain of exponential_loss \(0 <= y <= 1\)"),
])
def test_y_outside_the_domain(call, bad, msg):
    with pytest.raises(ValueError, match=msg):
        call(np.array(bad))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name,kw,good,bad,loss_at_1", [  # loss_at_1: sklearn's loss at r = y = 1
    ("half_poisson_loss", {}, 1.0, -1.0, math.e - 1.0),
    ("half_gamma_loss", {}, 1.0, 0.0, 1.0 + 1.0 / math.e),
    ("half_tweedie_loss", {"power": 1.5}, 1.0, -0.5, 2.0 * math.exp(0.5) + 2.0 * math.exp(-0.5)),
    ("half_tweedie_loss", {"power": 3.0}, 1.0, 0.0, -math.exp(-1.0) + 0.5 * math.exp(-2.0)),
    ("half_tweedie_loss_identity", {"power": 2.5}, 1.0, -2.0, 0.0),
    ("exponential_loss", {}, 1.0, 2.0, 1.0 / math.e),
])
def test_domain_checked_across_blocks(name, kw, good, bad, loss_at_1, dtype, threads):
    """The domain is checked block by block inside the kernel (8192 elements a block): the
    error names the first offending position whichever block it is in, with bad values in
    several blocks, on one thread and on two, with and without the gradient."""
    n = 5 * 8192 + 77
    fn = getattr(cyloss, name)
    raw = np.ones(n, dtype)
    with cyloss.num_threads(threads):
        for positions in ([n - 1], [3 * 8192 + 5, 4 * 8192 + 1, n - 3], [8191, 8192], [0, n - 1]):
            y = np.full(n, good, dtype)
            y[positions] = bad
            for extra in ({}, {"return_hessian": True, "return_loss": False, "reduction": "sum"}):
                with pytest.raises(ValueError, match=rf"y\[{positions[0]}\] = {float(bad)} is outside"):
                    fn(raw, y, **kw, **extra)
        y = np.full(n, good, dtype)  # no bad value: no error, the mean of n equal losses
        np.testing.assert_allclose(fn(raw, y, **kw, reduction="mean"), loss_at_1, rtol=1e-5, atol=1e-6)


def test_domain_edges_and_nan_are_not_errors():
    assert np.isnan(cyloss.half_poisson_loss(np.zeros(3), [0.0, np.nan, 1.0]))
    cyloss.half_tweedie_loss(np.zeros(3), [-1.0, 0.0, 2.0], power=0)  # p <= 0: any y
    cyloss.half_tweedie_loss(np.zeros(3), [0.0, 0.0, 2.0], power=1.0)
    cyloss.exponential_loss(np.zeros(2), [0.0, 1.0])
    cyloss.pinball_loss(np.zeros(2), [-5.0, 5.0], quantile=0.1)


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: cyloss.pinball_loss([0.0], [0.0], quantile=1.0), ValueError, "quantile must be in"),
    (lambda: cyloss.pinball_loss([0.0], [0.0], quantile="0.5"), TypeError, "quantile"),
    (lambda: cyloss.half_tweedie_loss([0.0], [0.0], power=np.inf), ValueError, "power must be a finite"),
    (lambda: cyloss.half_tweedie_loss([0.0], [0.0], power=True), TypeError, "power"),
    (lambda: cyloss.half_poisson_loss([0.0, 1.0], [0.0, 1.0, 2.0]), ValueError, "cannot be broadcast"),
    (lambda: cyloss.half_gamma_loss([0.0], [1.0], weight=[1.0, 2.0]), ValueError, "weight"),
])
def test_bad_parameters(call, exc, msg):
    with pytest.raises(exc, match=msg):
        call()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_tweedie_identity_default_power_edges(dtype):
    """power=1.5 (the default of sklearn, xgboost and LightGBM) has its own kernel, r^-1.5
    as (1/r) / sqrt(r): against sklearn's formulas in float64 NumPy over a wide range of r and
    at r = 0, -0, inf, NaN and r < 0 (NaN / inf where the formulas give them), 1 and 2
    threads."""
    p = 1.5
    r = np.array([0.0, -0.0, np.inf, np.nan, -1.0, 1e-30, 1e-20, 1e-6, 0.3, 1.0, 7.0, 1e6, 1e20, 1e30], dtype)
    if dtype == np.float32:
        r = r[np.isnan(r) | (np.abs(r) == 0) | np.isinf(r) | ((np.abs(r) > 1e-25) & (np.abs(r) < 1e25))]
    rr = np.repeat(r, 3)
    y = np.tile(np.array([0.0, 1.0, 2.5], dtype), len(r))
    r64, y64 = rr.astype(np.float64), y.astype(np.float64)
    with np.errstate(all="ignore"):
        tp = r64 ** -p
        t1 = r64 ** (1 - p)  # sklearn's closs_half_tweedie_identity: r^(2-p) as r * r^(1-p)
        want_l = r64 * t1 / (2 - p) - y64 * t1 / (1 - p) + np.where(y64 > 0, y64 ** (2 - p) / ((1 - p) * (2 - p)), 0.0)
        want_g = tp * (r64 - y64)
        want_h = tp * ((1 - p) + p * y64 / r64)
    for threads in (1, 2):
        with cyloss.num_threads(threads), np.errstate(all="ignore"):
            l, g, h = cyloss.half_tweedie_loss_identity(rr, y, power=p, reduction="none", return_hessian=True)
        for what, got, want in (("loss", l, want_l), ("grad", g, want_g), ("hess", h, want_h)):
            assert got.dtype == dtype
            with np.errstate(over="ignore"):
                want = want.astype(dtype).astype(np.float64)  # beyond float32's range: inf
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=what)
            fin = np.isfinite(want)
            np.testing.assert_array_equal(got[~fin & ~np.isnan(want)], want[~fin & ~np.isnan(want)], err_msg=what)
            np.testing.assert_allclose(got[fin], want[fin], rtol=4e-6 if dtype == np.float32 else 1e-13,
                                       atol=0, err_msg=what)
