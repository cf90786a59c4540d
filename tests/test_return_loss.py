"""return_loss=False: every loss returns (grad, hess) / grad without the loss, the same
arrays as the call that returns the loss (the elementwise kernels skip the loss itself,
so this also checks that their no-loss specializations store the same gradient and
Hessian), out arrays work, and the flag is validated.

Bit for bit except binary_cross_entropy_with_logits: in the scalar tail of its loop (the
last n mod 16 elements) the compiler fuses the gradient's multiply-adds differently when
the loss is not computed, so there it agrees to a few ulp of the gradient's scale."""
import numpy as np
import pytest

import cyloss

F = [np.float32, np.float64]


def _cases(dt, rng):
    x = rng.normal(0, 2, (37, 5)).astype(dt)
    t = rng.integers(0, 5, 37)
    t[::6] = -100
    probs = rng.dirichlet(np.ones(5), 37).astype(dt)
    p = rng.uniform(0.05, 0.95, (37, 5)).astype(dt)
    y = rng.uniform(0, 1, (37, 5)).astype(dt)
    w = rng.uniform(0.5, 2, (37, 5)).astype(dt)
    cw = rng.uniform(0.5, 2, 5).astype(dt)
    cnt = rng.poisson(1.5, (37, 5)).astype(dt)
    pos = rng.uniform(0.2, 3, (37, 5)).astype(dt)
    binary = (rng.random((37, 5)) < 0.5).astype(dt)
    lq = np.log(probs)
    return {
        "cross_entropy": (cyloss.cross_entropy, (x, t), {"weight": cw}),
        "cross_entropy_smooth": (cyloss.cross_entropy, (x, t), {"label_smoothing": 0.1}),
        "cross_entropy_probs": (cyloss.cross_entropy, (x, probs), {}),
        "nll_loss": (cyloss.nll_loss, (lq, t), {"weight": cw}),
        "bce_with_logits": (cyloss.binary_cross_entropy_with_logits, (x, y), {"weight": w, "pos_weight": w}),
        "bce": (cyloss.binary_cross_entropy, (p, y), {"weight": w}),
        "kl_div": (cyloss.kl_div, (lq, probs), {}),
        "mse_loss": (cyloss.mse_loss, (x, y), {"weight": w}),
        "l1_loss": (cyloss.l1_loss, (x, y), {}),
        "huber_loss": (cyloss.huber_loss, (x, y), {"delta": 0.7, "weight": w}),
        "smooth_l1_loss": (cyloss.smooth_l1_loss, (x, y), {"beta": 0.5}),
        "half_poisson_loss": (cyloss.half_poisson_loss, (x * 0.3, cnt), {"weight": w}),
        "half_gamma_loss": (cyloss.half_gamma_loss, (x * 0.3, pos), {}),
        "half_tweedie_loss": (cyloss.half_tweedie_loss, (x * 0.3, cnt), {"power": 1.5}),
        "half_tweedie_loss_identity": (cyloss.half_tweedie_loss_identity, (pos, cnt), {"power": 1.3}),
        "pinball_loss": (cyloss.pinball_loss, (x, y), {"quantile": 0.8, "weight": w}),
        "exponential_loss": (cyloss.exponential_loss, (x * 0.3, binary), {}),
    }


NAMES = list(_cases(np.float64, np.random.default_rng(0)))


@pytest.mark.parametrize("dtype", F, ids=["f32", "f64"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", NAMES)
def test_same_gradient_and_hessian_without_the_loss(name, reduction, dtype):
    f, args, kw = _cases(dtype, np.random.default_rng(3))[name]
    _, g, h = f(*args, reduction=reduction, return_hessian=True, **kw)
    g2, h2 = f(*args, reduction=reduction, return_hessian=True, return_loss=False, **kw)
    if name == "bce_with_logits":
        eps = np.finfo(dtype).eps
        np.testing.assert_allclose(g2, g, rtol=0, atol=4 * eps * np.abs(g).max())
        np.testing.assert_allclose(h2, h, rtol=0, atol=4 * eps * np.abs(h).max())
    else:
        np.testing.assert_array_equal(g2, g)
        np.testing.assert_array_equal(h2, h)
    assert g2.dtype == g.dtype and h2.dtype == h.dtype
    _, g3 = f(*args, reduction=reduction, return_grad=True, **kw)
    g4 = f(*args, reduction=reduction, return_grad=True, return_loss=False, **kw)
    assert isinstance(g4, np.ndarray)
    if name == "bce_with_logits":
        np.testing.assert_allclose(g4, g3, rtol=0, atol=4 * np.finfo(dtype).eps * np.abs(g3).max())
    else:
        np.testing.assert_array_equal(g4, g3)


@pytest.mark.parametrize("name", NAMES)
def test_out_arrays_without_the_loss(name):
    f, args, kw = _cases(np.float64, np.random.default_rng(4))[name]
    _, g, h = f(*args, reduction="sum", return_hessian=True, **kw)
    go, ho = np.empty_like(g), np.empty_like(h)
    r = f(*args, reduction="sum", return_hessian=True, return_loss=False, grad_out=go, hess_out=ho, **kw)
    assert r[0] is go and r[1] is ho
    np.testing.assert_allclose(go, g, rtol=0, atol=4e-16 * np.abs(g).max())
    np.testing.assert_allclose(ho, h, rtol=0, atol=4e-16 * np.abs(h).max())


@pytest.mark.parametrize("name", NAMES)
def test_return_loss_is_validated(name):
    f, args, kw = _cases(np.float64, np.random.default_rng(5))[name]
    with pytest.raises(ValueError, match="return_loss=False leaves nothing to return"):
        f(*args, return_loss=False, **kw)
    with pytest.raises(TypeError, match="return_loss must be a bool"):
        f(*args, return_grad=True, return_loss="no", **kw)
    assert np.array_equal(np.asarray(f(*args, return_loss=True, **kw)), np.asarray(f(*args, **kw)))


def test_domain_checks_still_apply_without_the_loss():
    with pytest.raises(ValueError, match="outside"):
        cyloss.half_poisson_loss(np.zeros(4), np.array([1.0, -1.0, 2.0, 0.0]), return_hessian=True,
                                 return_loss=False)
    with pytest.raises(ValueError, match="outside"):
        cyloss.binary_cross_entropy(np.array([0.5, 1.5]), np.array([0.0, 1.0]), return_grad=True,
                                    return_loss=False)


def test_nan_propagates_the_same_without_the_loss():
    x = np.array([0.3, np.nan, -np.inf, np.inf, 2.0])
    y = np.array([1.0, 0.0, 1.0, 0.0, 0.5])
    for f in (cyloss.binary_cross_entropy_with_logits, cyloss.mse_loss, cyloss.huber_loss,
              cyloss.pinball_loss):
        with np.errstate(all="ignore"):
            _, g, h = f(x, y, reduction="sum", return_hessian=True)
            g2, h2 = f(x, y, reduction="sum", return_hessian=True, return_loss=False)
        np.testing.assert_array_equal(g2, g)
        np.testing.assert_array_equal(h2, h)


def test_large_inputs_take_the_threaded_no_loss_kernels():
    rng = np.random.default_rng(6)
    r = rng.normal(0, 0.5, 300_001)
    yv = rng.poisson(1.5, r.size).astype(np.float64)
    _, g, h = cyloss.half_tweedie_loss_identity(np.exp(r), yv, power=1.5, reduction="sum", return_hessian=True)
    g2, h2 = cyloss.half_tweedie_loss_identity(np.exp(r), yv, power=1.5, reduction="sum", return_hessian=True,
                                               return_loss=False)
    np.testing.assert_array_equal(g2, g)
    np.testing.assert_array_equal(h2, h)
