"""return_hessian=True: the diagonal of the Hessian of the reduced loss, for every loss.

References: the second derivatives written out in plain float64 NumPy below (independent
of cyloss), and central finite differences of cyloss's own gradient (the Hessian must be
the derivative of the gradient the library returns).  Data avoid the kinks (L1 at 0,
Huber/smooth L1 at |d| = delta) except in the tests that pin the kink conventions.
"""
import numpy as np
import pytest

import cyloss
from _helpers import FLOAT_DTYPES, FLOAT_IDS, assert_close

REDUCTIONS = ("none", "mean", "sum")


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# name -> (call(a, b, **kw), reference hessian per element (a, b, param) before weights, data maker)
def _pred_target(rng, shape):
    d = rng.uniform(0.2, 2.0, shape) * rng.choice([-1, 1], shape)  # |d| in [0.2, 2]: no kink at 0
    t = rng.normal(size=shape)
    return t + d, t


def _probs_target(rng, shape):
    return rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape)


def _raw_pos(rng, shape):
    return rng.normal(0, 0.7, shape), rng.uniform(0.1, 3.0, shape)


def _raw_identity(rng, shape):
    return rng.uniform(0.3, 3.0, shape), rng.uniform(0.1, 3.0, shape)


def _raw01(rng, shape):
    return rng.normal(0, 0.7, shape), rng.integers(0, 2, shape).astype(float)


ELEMENTWISE = {
    "mse": (lambda a, b, **k: cyloss.mse_loss(a, b, **k), lambda a, b: np.full_like(a, 2.0), _pred_target, {}),
    "l1": (lambda a, b, **k: cyloss.l1_loss(a, b, **k), lambda a, b: np.zeros_like(a), _pred_target, {}),
    "huber": (lambda a, b, **k: cyloss.huber_loss(a, b, delta=0.9, **k),
              lambda a, b: (np.abs(a - b) <= 0.9).astype(float), _pred_target, {}),
    "smooth_l1": (lambda a, b, **k: cyloss.smooth_l1_loss(a, b, beta=1.3, **k),
                  lambda a, b: (np.abs(a - b) <= 1.3) / 1.3, _pred_target, {}),
    "bce_logits": (lambda a, b, **k: cyloss.binary_cross_entropy_with_logits(a, b, **k),
                   lambda a, b: _sig(a) * (1 - _sig(a)), _raw_pos, {}),
    "bce_logits_pw": (lambda a, b, **k: cyloss.binary_cross_entropy_with_logits(a, b, pos_weight=2.5, **k),
                      lambda a, b: (2.5 * b + 1 - b) * _sig(a) * (1 - _sig(a)), _raw_pos, {}),
    "bce": (lambda a, b, **k: cyloss.binary_cross_entropy(a, b, **k),
            lambda a, b: b / a ** 2 + (1 - b) / (1 - a) ** 2, _probs_target, {}),
    "kl": (lambda a, b, **k: cyloss.kl_div(np.log(a), b, **k) if False else cyloss.kl_div(a, b, **k),
           lambda a, b: np.zeros_like(a), _probs_target, {}),
    "poisson": (lambda a, b, **k: cyloss.half_poisson_loss(a, b, **k), lambda a, b: np.exp(a), _raw_pos, {}),
    "gamma": (lambda a, b, **k: cyloss.half_gamma_loss(a, b, **k), lambda a, b: b * np.exp(-a), _raw_pos, {}),
    "tweedie1.5": (lambda a, b, **k: cyloss.half_tweedie_loss(a, b, power=1.5, **k),
                   lambda a, b: 0.5 * np.exp(0.5 * a) + 0.5 * b * np.exp(-0.5 * a), _raw_pos, {}),
    "tweedie0": (lambda a, b, **k: cyloss.half_tweedie_loss(a, b, power=0, **k),
                 lambda a, b: np.exp(a) * (2 * np.exp(a) - b), _raw_pos, {}),
    "tweedie3": (lambda a, b, **k: cyloss.half_tweedie_loss(a, b, power=3, **k),
                 lambda a, b: -np.exp(-a) + 2 * b * np.exp(-2 * a), _raw_pos, {}),
    "tweedie_id1.5": (lambda a, b, **k: cyloss.half_tweedie_loss_identity(a, b, power=1.5, **k),
                      lambda a, b: a ** -1.5 * (-0.5 + 1.5 * b / a), _raw_identity, {}),
    "tweedie_id1": (lambda a, b, **k: cyloss.half_tweedie_loss_identity(a, b, power=1, **k),
                    lambda a, b: b / a ** 2, _raw_identity, {}),
    "tweedie_id2": (lambda a, b, **k: cyloss.half_tweedie_loss_identity(a, b, power=2, **k),
                    lambda a, b: (-1 + 2 * b / a) / a ** 2, _raw_identity, {}),
    "pinball": (lambda a, b, **k: cyloss.pinball_loss(a, b, quantile=0.3, **k), lambda a, b: np.ones_like(a),
                _pred_target, {}),
    "exponential": (lambda a, b, **k: cyloss.exponential_loss(a, b, **k),
                    lambda a, b: b * np.exp(-a) + (1 - b) * np.exp(a), _raw01, {}),
}
# the exact Hessian where it is not the derivative of the gradient (a stand-in)
STAND_IN = {"pinball"}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "w"])
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_hessian(name, weighted, reduction, dtype, rng):
    call, href, make, _ = ELEMENTWISE[name]
    a, b = make(rng, (6, 7))
    a, b = a.astype(dtype), b.astype(dtype)
    kw = {"reduction": reduction}
    w = None
    if weighted and name not in ("kl",):
        w = rng.uniform(0.2, 2.0, a.shape).astype(dtype)
        kw["weight"] = w
    loss, grad, hess = call(a, b, return_hessian=True, **kw)
    loss2, grad2 = call(a, b, return_grad=True, **kw)
    # the same gradient and loss as return_grad=True, to the rounding an FMA contraction
    # that differs between the loop specializations can make
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(grad.astype(np.float64), grad2.astype(np.float64), rtol=4 * eps,
                               atol=4 * eps * float(np.max(np.abs(grad2))))
    np.testing.assert_allclose(np.asarray(loss, np.float64), np.asarray(loss2, np.float64), rtol=4 * eps)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    h = href(a64, b64)
    if w is not None:
        h = h * w.astype(np.float64)
    if reduction == "mean":
        mean_by_weight = w is not None and name not in ("huber", "smooth_l1", "bce_logits", "bce_logits_pw", "bce")
        h = h / (w.astype(np.float64).sum() if mean_by_weight else a.size)
    assert_close(hess, h, dtype, scale=float(np.max(np.abs(h))) or 1.0, what=f"{name} hess", is_grad=True)
    if name in STAND_IN:
        return
    # the derivative of the library's own gradient (elementwise: all elements at once)
    step = 1e-6 if dtype == np.float64 else 3e-3
    gp = call((a64 + step).astype(dtype), b, return_grad=True, **kw)[1].astype(np.float64)
    gm = call((a64 - step).astype(dtype), b, return_grad=True, **kw)[1].astype(np.float64)
    fd = (gp - gm) / (((a64 + step).astype(dtype).astype(np.float64)) - ((a64 - step).astype(dtype).astype(np.float64)))
    tol = 1e-6 if dtype == np.float64 else 3e-2
    # (elements whose step crosses a kink, e.g. |d| = delta, are left out)
    smooth = np.isclose(href(a64 + 2 * step, b64), href(a64 - 2 * step, b64), rtol=0.1, atol=0)
    np.testing.assert_allclose(hess.astype(np.float64)[smooth], fd[smooth], rtol=tol,
                               atol=tol * float(np.max(np.abs(h)) or 1.0),
                               err_msg=f"{name}: Hessian vs finite differences of the gradient")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", ["plain", "weight", "smooth", "probs", "nchw", "few"])
def test_cross_entropy_hessian(case, reduction, dtype, rng):
    """The diagonal of each sample's Hessian over its logits: A p (1 - p), A the sample's
    total target weight ((1 - eps) w_t + eps/C sum w, or sum of w q for probabilities),
    scaled like the gradient; ignored samples 0."""
    n, c = (9, 5) if case != "few" else (40, 3)
    x = rng.normal(0, 2, (n, c))
    t = rng.integers(0, c, n)
    t[::4] = -100
    kw = {"reduction": reduction}
    wv = np.ones(c)
    eps = 0.0
    target = t
    if case == "weight":
        wv = rng.uniform(0.3, 2, c)
        kw["weight"] = wv.astype(dtype)
    if case == "smooth":
        eps = 0.2
        kw["label_smoothing"] = eps
    if case == "probs":
        target = _softmax(rng.normal(size=(n, c))).astype(dtype)
    xx, axis = x, -1
    if case == "nchw":
        xx, axis = np.ascontiguousarray(np.moveaxis(x.reshape(3, 3, c), -1, 1)), 1
        target = t.reshape(3, 3)
        kw["axis"] = 1
    loss, grad, hess = cyloss.cross_entropy(xx.astype(dtype), target, return_hessian=True, **kw)
    p = _softmax(x.astype(dtype).astype(np.float64))
    if case == "probs":
        A = target.astype(np.float64).sum(axis=1)
        scale = 1.0 / n if reduction == "mean" else 1.0
    else:
        keep = t != -100
        wt = np.where(keep, wv[np.where(keep, t, 0)], 0.0)
        A = np.where(keep, (1 - eps) * wt + eps / c * wv.sum(), 0.0)
        scale = 1.0 / wt.sum() if reduction == "mean" else 1.0
    h = A[:, None] * p * (1 - p) * scale
    if case == "nchw":
        h = np.moveaxis(h.reshape(3, 3, c), -1, 1)
    assert_close(hess, h, dtype, what="cross_entropy hess", is_grad=True)
    np.testing.assert_array_equal(grad, cyloss.cross_entropy(xx.astype(dtype), target, return_grad=True, **kw)[1])
    if case == "nchw":
        return
    # finite differences of the gradient, one class column at a time (rows are independent)
    step = 1e-6 if dtype == np.float64 else 1e-2
    for j in range(c):
        e = np.zeros_like(x)
        e[:, j] = step
        gp = cyloss.cross_entropy((x + e).astype(dtype), target, return_grad=True, **kw)[1].astype(np.float64)
        gm = cyloss.cross_entropy((x - e).astype(dtype), target, return_grad=True, **kw)[1].astype(np.float64)
        fd = (gp[:, j] - gm[:, j]) / (2 * step)
        tol = 1e-5 if dtype == np.float64 else 5e-2
        np.testing.assert_allclose(hess[:, j].astype(np.float64), fd, rtol=tol, atol=tol * float(h.max() or 1))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_nll_hessian_is_zero(dtype, rng):
    x = rng.normal(size=(5, 4)).astype(dtype)
    t = rng.integers(0, 4, 5)
    loss, grad, hess = cyloss.nll_loss(x, t, return_hessian=True)
    assert hess.shape == x.shape and hess.dtype == dtype and not hess.any()
    out = np.full(x.shape, 7, dtype=dtype)
    assert cyloss.nll_loss(x, t, return_hessian=True, hess_out=out)[2] is out and not out.any()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_kink_conventions(dtype):
    """At the kinks the Hessian follows sklearn: L1 0, Huber 1 for |d| <= delta, smooth L1
    1/beta for |d| <= beta; pinball's gradient at a tie is -quantile."""
    p = np.array([1.0, 2.0, -1.0, 0.5, 3.5], dtype=dtype)
    t = np.array([1.0, 1.0, 0.0, 0.5, 1.0], dtype=dtype)  # d = 0, 1, -1, 0, 2.5
    h = cyloss.l1_loss(p, t, reduction="sum", return_hessian=True)[2]
    np.testing.assert_array_equal(h, [0, 0, 0, 0, 0])
    h = cyloss.huber_loss(p, t, delta=1.0, reduction="sum", return_hessian=True)[2]
    np.testing.assert_array_equal(h, [1, 1, 1, 1, 0])
    h = cyloss.smooth_l1_loss(p, t, beta=2.0, reduction="sum", return_hessian=True)[2]
    np.testing.assert_array_equal(h, [0.5, 0.5, 0.5, 0.5, 0])
    g = cyloss.pinball_loss(p, t, quantile=0.25, reduction="sum", return_grad=True)[1]
    np.testing.assert_array_equal(g, [-0.25, 0.75, -0.25, -0.25, 0.75])  # y >= r: -q (ties too)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_broadcast_first_argument_sums_the_hessian(dtype, rng):
    """pred (5, 1) against target (5, 4): the Hessian of the reduced loss over pred sums the
    broadcast elements' second derivatives (as the gradient sums their first)."""
    p = rng.normal(size=(5, 1)).astype(dtype)
    t = rng.normal(size=(5, 4)).astype(dtype)
    _, g, h = cyloss.half_poisson_loss(p, np.abs(t), reduction="sum", return_hessian=True)
    assert h.shape == p.shape
    assert_close(h, 4 * np.exp(p.astype(np.float64)), dtype, is_grad=True)


def test_hess_out_and_errors(rng):
    x = rng.normal(size=(6, 4))
    t = rng.integers(0, 4, 6)
    h = np.empty_like(x)
    g = np.empty_like(x)
    r = cyloss.cross_entropy(x, t, return_hessian=True, grad_out=g, hess_out=h)
    assert r[1] is g and r[2] is h
    want = cyloss.cross_entropy(x, t, return_hessian=True)
    np.testing.assert_array_equal(h, want[2])
    np.testing.assert_array_equal(g, want[1])
    # elementwise, hess_out in a layout needing a temporary
    hf = np.empty((4, 6)).T
    r = cyloss.mse_loss(x, x * 0, return_hessian=True, hess_out=hf)
    assert r[2] is hf and np.all(hf == 2.0 / x.size)
    with pytest.raises(ValueError, match="hess_out is given but return_hessian is False"):
        cyloss.mse_loss(x, x, hess_out=np.empty_like(x))
    with pytest.raises(ValueError, match="hess_out has shape"):
        cyloss.mse_loss(x, x, return_hessian=True, hess_out=np.empty((2, 2)))
    with pytest.raises(TypeError, match="hess_out has dtype"):
        cyloss.mse_loss(x, x, return_hessian=True, hess_out=np.empty(x.shape, np.float32))
    with pytest.raises(ValueError, match="hess_out overlaps grad_out"):
        cyloss.cross_entropy(x, t, return_hessian=True, grad_out=g, hess_out=g)
    with pytest.raises(TypeError, match="return_hessian"):
        cyloss.mse_loss(x, x, return_hessian="yes")
    # grad_out with return_hessian only (the gradient is returned)
    r = cyloss.l1_loss(x, x * 0, return_hessian=True, grad_out=g)
    assert r[1] is g
    # hess_out overlapping the input of an elementwise loss: in place is fine
    xc = x.copy()
    r = cyloss.half_poisson_loss(xc, np.abs(x), return_hessian=True, reduction="sum", hess_out=xc)
    np.testing.assert_allclose(xc, np.exp(x))
