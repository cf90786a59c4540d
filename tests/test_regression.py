"""mse_loss, l1_loss, huber_loss, smooth_l1_loss.

Loss and gradient against the float64 reference over dtypes, reductions, weights (weighted
mean sum(w l) / sum(w) for mse / l1, sum(w l) / size for huber / smooth L1, as torch) and
broadcasting (the gradient is summed back to pred's shape); kinks (d = 0, |d| = delta/beta);
beta = 0; empty input; NaN / inf; array lengths that exercise SIMD tails and threading.
"""
import numpy as np
import pytest

import cyloss
import _reference as ref
from _helpers import FLOAT_DTYPES, FLOAT_IDS, assert_close, assert_numpy_scalar

REDUCTIONS = ("none", "mean", "sum")

# id -> (cyloss name, kwargs, reference callable)
LOSSES = {
    "mse": ("mse_loss", {}, ref.mse_loss),
    "l1": ("l1_loss", {}, ref.l1_loss),
    "huber": ("huber_loss", {}, ref.huber_loss),
    "huber_d0.3": ("huber_loss", {"delta": 0.3}, ref.huber_loss),
    "huber_d2.5": ("huber_loss", {"delta": 2.5}, ref.huber_loss),
    "smooth_l1": ("smooth_l1_loss", {}, ref.smooth_l1_loss),
    "smooth_l1_b0": ("smooth_l1_loss", {"beta": 0.0}, ref.smooth_l1_loss),
    "smooth_l1_b0.4": ("smooth_l1_loss", {"beta": 0.4}, ref.smooth_l1_loss),
    "smooth_l1_b3": ("smooth_l1_loss", {"beta": 3.0}, ref.smooth_l1_loss),
}

# id -> (pred shape, target shape)
SHAPES = {
    "same2d": ((5, 4), (5, 4)),
    "same1d": ((11,), (11,)),
    "pred_col": ((5, 1), (5, 4)),
    "target_row": ((5, 4), (4,)),
    "pred_row_bcast": ((4,), (3, 4)),
    "pred_scalar": ((), (6,)),
    "scalar": ((), ()),
    "3d": ((2, 3, 4), (2, 1, 4)),
}

WEIGHTS = {
    None: lambda r, s: None,
    "full": lambda r, s: r.uniform(0.1, 2.0, s),
    "lastdim": lambda r, s: r.uniform(0.1, 2.0, s[-1:]),
    "scalar": lambda r, s: np.float64(0.7),
}


def _call(name, pred, target, **kw):
    fn_name, extra, reference = LOSSES[name]
    got = getattr(cyloss, fn_name)(pred, target, return_grad=True, **extra, **kw)
    return got, reference(pred, target, **extra, **kw)


def _scale(*arrays):
    return max([1.0] + [float(np.max(np.abs(a))) for a in arrays if np.size(a)])


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shapes", list(SHAPES))
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("wkind", list(WEIGHTS), ids=lambda k: f"w-{k}")
def test_regression_matches_reference(name, dtype, shapes, reduction, wkind, rng):
    sp, st = SHAPES[shapes]
    bshape = np.broadcast_shapes(sp, st)
    if wkind == "lastdim" and not bshape:
        pytest.skip("no last dimension")
    pred = np.asarray(rng.normal(0, 2, sp)).astype(dtype)
    target = np.asarray(rng.normal(0, 2, st)).astype(dtype)
    w = WEIGHTS[wkind](rng, bshape)
    w = None if w is None else np.asarray(w).astype(dtype)
    (loss, grad), (exp_loss, exp_grad) = _call(name, pred, target, weight=w, reduction=reduction)
    scale = _scale(pred, target) ** 2 if name == "mse" else _scale(pred, target)
    assert_close(loss, exp_loss, dtype, scale=scale, what="loss")
    assert_close(grad, exp_grad, dtype, scale=scale, what="grad", is_grad=True)
    # The loss without the gradient is the same sum in the same order (16 fixed lanes),
    # but the compiler may contract a*b + c into an FMA differently in the two loop
    # specializations (seen in the ASan/UBSan build): equal to 2 ulps of the terms.
    loss_only = getattr(cyloss, LOSSES[name][0])(pred, target, weight=w, reduction=reduction,
                                                 **LOSSES[name][1])
    assert type(loss_only) is type(loss)
    np.testing.assert_allclose(loss_only, loss, rtol=2 * np.finfo(dtype).eps,
                               atol=2 * np.finfo(dtype).eps * scale)


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65, 1000, 250_007])
def test_regression_lengths(name, dtype, n, rng):
    pred = rng.normal(0, 2, n).astype(dtype)
    target = rng.normal(0, 2, n).astype(dtype)
    w = rng.uniform(0.1, 2, n).astype(dtype)
    for kw in ({"reduction": "mean"}, {"reduction": "sum"}, {"reduction": "none"},
               {"reduction": "mean", "weight": w}):
        (loss, grad), (exp_loss, exp_grad) = _call(name, pred, target, **kw)
        assert_close(loss, exp_loss, dtype, scale=10, what=f"loss {kw}")
        assert_close(grad, exp_grad, dtype, scale=10, what=f"grad {kw}")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_regression_known_values(dtype):
    p = np.array([0.0, 1.0, 3.0, -2.0, 0.5], dtype=dtype)
    t = np.array([0.0, 0.0, 1.0, 1.0, 0.5], dtype=dtype)   # d = 0, 1, 2, -3, 0
    f = lambda fn, **k: getattr(cyloss, fn)(p, t, reduction="none", return_grad=True, **k)  # noqa
    chk = lambda got, l, g: (assert_close(got[0], l, dtype), assert_close(got[1], g, dtype))  # noqa
    chk(f("mse_loss"), [0, 1, 4, 9, 0], [0, 2, 4, -6, 0])
    chk(f("l1_loss"), [0, 1, 2, 3, 0], [0, 1, 1, -1, 0])                     # sign(0) = 0
    chk(f("huber_loss"), [0, 0.5, 1.5, 2.5, 0], [0, 1, 1, -1, 0])            # |d| = delta at 1
    chk(f("huber_loss", delta=2.0), [0, 0.5, 2.0, 4.0, 0], [0, 1, 2, -2, 0])  # |d| = delta at 2
    chk(f("smooth_l1_loss"), [0, 0.5, 1.5, 2.5, 0], [0, 1, 1, -1, 0])
    chk(f("smooth_l1_loss", beta=2.0), [0, 0.25, 1.0, 2.0, 0], [0, 0.5, 1, -1, 0])
    chk(f("smooth_l1_loss", beta=0.0), [0, 1, 2, 3, 0], [0, 1, 1, -1, 0])
    chk(f("huber_loss", delta=0.5), [0, 0.375, 0.875, 1.375, 0], [0, 0.5, 0.5, -0.5, 0])
    assert_close(cyloss.mse_loss(p, t), 14 / 5, dtype)
    assert_close(cyloss.l1_loss(p, t, reduction="sum"), 6.0, dtype)
    w = np.array([1, 2, 0, 1, 4], dtype=dtype)
    assert_close(cyloss.mse_loss(p, t, weight=w), (2 + 9) / 8, dtype)
    loss, grad = cyloss.l1_loss(p, t, weight=w, return_grad=True)
    assert_close(loss, (2 + 3) / 8, dtype)
    assert_close(grad, [0, 2 / 8, 0, -1 / 8, 0], dtype)
    # huber / smooth L1 (torch's huber_loss rule): weighted mean = sum(w * l) / size, not / sum(w)
    loss, grad = cyloss.huber_loss(p, t, weight=w, return_grad=True)
    assert_close(loss, (2 * 0.5 + 2.5) / 5, dtype)
    assert_close(grad, [0, 2 / 5, 0, -1 / 5, 0], dtype)
    loss, grad = cyloss.smooth_l1_loss(p, t, beta=2.0, weight=w, return_grad=True)
    assert_close(loss, (2 * 0.25 + 2.0) / 5, dtype)
    assert_close(grad, [0, 2 * 0.5 / 5, 0, -1 / 5, 0], dtype)


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_regression_zero_weights(name, dtype, rng):
    """All weights 0: mse / l1 mean is 0/0 -> NaN loss, zero gradient (as an all-ignored
    cross-entropy); huber / smooth L1 mean is 0 / size -> 0 loss, zero gradient (torch)."""
    fn_name, extra, reference = LOSSES[name]
    p = rng.normal(0, 2, (4, 3)).astype(dtype)
    t = rng.normal(0, 2, (4, 3)).astype(dtype)
    w = np.zeros(3, dtype=dtype)
    loss, grad = getattr(cyloss, fn_name)(p, t, weight=w, return_grad=True, **extra)
    exp_loss, exp_grad = reference(p, t, weight=w, **extra)
    assert_close(loss, exp_loss, dtype)
    assert_close(grad, exp_grad, dtype, is_grad=True)
    assert np.isnan(loss) == (fn_name in ("mse_loss", "l1_loss"))
    assert not np.any(grad)


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_regression_empty(name, dtype):
    fn = getattr(cyloss, LOSSES[name][0])
    e = np.empty((0, 3), dtype=dtype)
    loss, grad = fn(e, e, return_grad=True, **LOSSES[name][1])
    assert_numpy_scalar(loss, dtype)
    assert np.isnan(loss) and grad.shape == (0, 3) and grad.dtype == dtype
    loss = fn(e, e, reduction="sum", **LOSSES[name][1])
    assert_numpy_scalar(loss, dtype)
    assert loss == 0.0
    loss = fn(e, e, reduction="none", **LOSSES[name][1])
    assert loss.shape == (0, 3) and loss.dtype == dtype


@pytest.mark.parametrize("name", list(LOSSES))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_regression_nan_inf(name, dtype, rng):
    fn = getattr(cyloss, LOSSES[name][0])
    p = rng.normal(0, 2, 9).astype(dtype)
    t = rng.normal(0, 2, 9).astype(dtype)
    p[2] = np.nan
    t[5] = np.nan
    p[7] = np.inf
    loss, grad = fn(p, t, reduction="none", return_grad=True, **LOSSES[name][1])
    assert np.isnan(loss[2]) and np.isnan(loss[5])
    sign_based = name in ("l1", "smooth_l1_b0")
    if sign_based:  # sign(nan): NumPy says nan, torch says 0 -- accept either
        assert np.all(np.isnan(grad[[2, 5]]) | (grad[[2, 5]] == 0))
        grad = grad.copy()
        grad[[2, 5]] = np.nan
    else:
        assert np.isnan(grad[2]) and np.isnan(grad[5])
    assert loss[7] == np.inf
    ok = np.ones(9, bool)
    ok[[2, 5, 7]] = False
    assert np.all(np.isfinite(loss[ok])) and np.all(np.isfinite(grad[ok]))
    exp_loss, exp_grad = LOSSES[name][2](p, t, reduction="none", **LOSSES[name][1])
    assert_close(loss, exp_loss, dtype, scale=10)
    assert_close(grad, exp_grad, dtype, scale=10)  # inf for mse, sign / delta otherwise
    assert np.isnan(fn(p, t, **LOSSES[name][1]))


@pytest.mark.parametrize("name", list(LOSSES))
def test_regression_dtype_rules(name, rng):
    fn = getattr(cyloss, LOSSES[name][0])
    p32 = rng.normal(size=(3, 4)).astype(np.float32)
    t64 = rng.normal(size=(3, 4))
    loss, grad = fn(p32, t64, return_grad=True, **LOSSES[name][1])
    assert_numpy_scalar(loss, np.float32)
    assert grad.dtype == np.float32
    exp = LOSSES[name][2](p32, t64.astype(np.float32), **LOSSES[name][1])
    assert_close(loss, exp[0], np.float32, scale=10)
    # integer first argument -> float64, even with a float32 second argument
    loss, grad = fn(np.array([[1, 2], [3, 4]]), np.float32([[0.5, 2.5], [1.0, 9.0]]),
                    return_grad=True, **LOSSES[name][1])
    assert_numpy_scalar(loss, np.float64)
    assert grad.dtype == np.float64
    # lists and Python scalars
    loss = fn([1.0, 2.0, 3.0], 2.0, reduction="none", **LOSSES[name][1])
    exp = LOSSES[name][2]([1.0, 2.0, 3.0], 2.0, reduction="none", **LOSSES[name][1])[0]
    assert_close(loss, exp, np.float64)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_smooth_l1_beta_zero_is_l1(dtype, rng):
    p = rng.normal(0, 2, (7, 3)).astype(dtype)
    t = rng.normal(0, 2, (7, 3)).astype(dtype)
    for reduction in REDUCTIONS:
        a = cyloss.smooth_l1_loss(p, t, beta=0.0, reduction=reduction, return_grad=True)
        b = cyloss.l1_loss(p, t, reduction=reduction, return_grad=True)
        assert_close(a[0], np.asarray(b[0], dtype=np.float64), dtype)
        assert_close(a[1], b[1].astype(np.float64), dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_huber_is_beta_times_smooth_l1(dtype, rng):
    """huber(delta) == delta * smooth_l1(beta=delta)."""
    p = rng.normal(0, 2, (7, 3)).astype(dtype)
    t = rng.normal(0, 2, (7, 3)).astype(dtype)
    for delta in (0.25, 1.0, 3.0):
        h = cyloss.huber_loss(p, t, delta=delta, reduction="none")
        s = cyloss.smooth_l1_loss(p, t, beta=delta, reduction="none")
        np.testing.assert_allclose(h, delta * s.astype(np.float64),
                                   rtol=4 * np.finfo(dtype).eps, atol=0)
