"""Gradients (return_grad=True) by 4th-order central finite differences in float64.

For every loss and reduction: d(loss)/d(first argument) from cyloss equals the finite
difference of cyloss's own loss (for "none": of loss.sum()) and the analytic reference.
Inputs sit on smooth points (no |d| near 0 for L1, not near delta/beta for Huber /
smooth L1, probabilities away from 0 and 1).  The references' own gradients are
checked by finite differences too, so the oracle is validated independently.
"""
import numpy as np
import pytest

import cyloss
import _reference as ref
from _cases import LOSS_CASES, build
from _helpers import fd_gradient

RTOL, ATOL = 1e-6, 1e-8


def _reductions(case):
    r = ["none", "mean", "sum"]
    if case.func == "kl_div":
        r.append("batchmean")
    return r


def _fd_check(f, x, grad, what=""):
    fd = fd_gradient(lambda z: np.sum(f(z)), x)
    np.testing.assert_allclose(grad, fd, rtol=RTOL, atol=ATOL * max(1.0, np.abs(fd).max()),
                               err_msg=what)


PAIRS = [(c, r) for c in LOSS_CASES for r in _reductions(c)]


@pytest.mark.parametrize("case,reduction", PAIRS, ids=[f"{c.name}-{r}" for c, r in PAIRS])
def test_grad_matches_finite_differences(case, reduction):
    args, kwargs = build(case, np.float64)
    kwargs = dict(kwargs, reduction=reduction)
    fn = getattr(cyloss, case.func)
    loss, grad = fn(*args, **kwargs)
    assert grad.shape == np.shape(args[0]) and grad.dtype == np.float64

    def f(z):
        kw = dict(kwargs, return_grad=False)
        return fn(z, *args[1:], **kw)

    _fd_check(f, args[0], grad, f"{case.name} {reduction}")
    exp_loss, exp_grad = case.reference(args, kwargs)
    np.testing.assert_allclose(grad, exp_grad, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case,reduction", PAIRS, ids=[f"{c.name}-{r}" for c, r in PAIRS])
def test_reference_grad_matches_finite_differences(case, reduction):
    """The oracle itself: reference gradients are the derivative of reference losses."""
    args, kwargs = build(case, np.float64)
    kwargs = dict(kwargs, reduction=reduction)
    _, grad = case.reference(args, kwargs)
    _fd_check(lambda z: case.reference([z] + args[1:], kwargs)[0], args[0], grad)


CE_CONFIGS = {
    "plain": {},
    "weight": {"weight": np.array([0.5, 2.0, 1.0, 3.0])},
    "smooth": {"label_smoothing": 0.15},
    "weight_smooth": {"weight": np.array([0.5, 2.0, 1.0, 3.0]), "label_smoothing": 0.3},
    "smooth_1": {"label_smoothing": 1.0},
    "ignore_custom": {"ignore_index": 1},
}


@pytest.mark.parametrize("config", list(CE_CONFIGS))
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("target_kind", ["class", "probs", "unnormalized"])
@pytest.mark.parametrize("layout", ["NC", "NCd_axis1", "unbatched"])
def test_cross_entropy_grad_fd(config, reduction, target_kind, layout, rng):
    if layout == "NC":
        x, axis = rng.normal(0, 2, (5, 4)), -1
    elif layout == "NCd_axis1":
        x, axis = rng.normal(0, 2, (2, 4, 3)), 1
    else:
        x, axis = rng.normal(0, 2, 4), -1
    kw = dict(CE_CONFIGS[config], reduction=reduction, axis=axis)
    tshape = tuple(s for i, s in enumerate(x.shape) if i != axis % x.ndim)
    if target_kind == "class":
        t = rng.integers(0, 4, tshape)
        if t.ndim:
            t.flat[-1] = kw.get("ignore_index", -100)
        elif t == kw.get("ignore_index", -100):
            t = np.array(0)  # an ignored unbatched sample has a nan mean: not smooth
    else:
        if "ignore_index" in kw:
            pytest.skip("ignore_index does not apply to probability targets")
        t = rng.uniform(0.05, 1, x.shape)
        if target_kind == "probs":
            t /= t.sum(axis=axis, keepdims=True)
    loss, grad = cyloss.cross_entropy(x, t, return_grad=True, **kw)
    _fd_check(lambda z: cyloss.cross_entropy(z, t, **kw), x, grad)
    np.testing.assert_allclose(grad, ref.cross_entropy(x, t, **kw)[1], rtol=1e-12, atol=1e-14)
    if target_kind == "class" and config in ("plain", "ignore_custom") and layout == "NC":
        # without weights and smoothing each row of the gradient sums to 0
        np.testing.assert_allclose(grad.sum(axis=-1), 0.0, atol=1e-15)


@pytest.mark.parametrize("kw", [{}, {"pos_weight": np.array([0.5, 2.0, 4.0])},
                                {"weight": np.array([[1.0], [0.2]]),
                                 "pos_weight": np.array([3.0, 1.0, 0.5])}],
                         ids=["plain", "pos_weight", "weight_pos_weight"])
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_bce_with_logits_grad_fd(kw, reduction, rng):
    x = rng.normal(0, 3, (2, 3))
    y = rng.uniform(0, 1, (2, 3))
    loss, grad = cyloss.binary_cross_entropy_with_logits(x, y, reduction=reduction,
                                                         return_grad=True, **kw)
    _fd_check(lambda z: cyloss.binary_cross_entropy_with_logits(z, y, reduction=reduction,
                                                                **kw), x, grad)


@pytest.mark.parametrize("name,param", [("huber_loss", {"delta": 0.3}),
                                        ("huber_loss", {"delta": 4.0}),
                                        ("smooth_l1_loss", {"beta": 0.0}),
                                        ("smooth_l1_loss", {"beta": 2.0}),
                                        ("l1_loss", {}), ("mse_loss", {})],
                         ids=["huber0.3", "huber4", "sl1_b0", "sl1_b2", "l1", "mse"])
@pytest.mark.parametrize("bcast", ["same", "pred_col", "pred_scalar"])
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_grad_fd(name, param, bcast, weighted, rng):
    kink = param.get("delta", param.get("beta", 0.0 if name == "l1_loss" else None))
    shapes = {"same": ((3, 4), (3, 4)), "pred_col": ((3, 1), (3, 4)),
              "pred_scalar": ((), (3, 4))}[bcast]
    target = rng.normal(0, 2, shapes[1])
    pred = np.asarray(rng.normal(0, 2, shapes[0]))
    for _ in range(100):  # re-draw until every |d| is well away from the kinks
        d = np.abs(pred - target)
        kinks = [0.0] if kink is None else sorted({0.0, kink})
        if all(np.all(np.abs(d - k) > 0.05 * max(1, np.abs(pred).max())) for k in kinks):
            break
        pred = np.asarray(rng.normal(0, 2, shapes[0]))
    else:
        pytest.fail("could not draw smooth points")
    w = rng.uniform(0.5, 2, (3, 4)) if weighted else None
    for reduction in ("none", "mean", "sum"):
        kw = dict(param, weight=w, reduction=reduction)
        loss, grad = getattr(cyloss, name)(pred, target, return_grad=True, **kw)
        _fd_check(lambda z: getattr(cyloss, name)(z, target, **kw), pred, grad,
                  f"{name} {reduction}")
