"""Property-based tests (hypothesis) on finite inputs of moderate magnitude.

softmax: shift invariance, rows sum to one, values in [0, 1], order preserving,
temperature = scaling; log_softmax == log(softmax); max <= logsumexp <= max + log n;
backward rows sum to 0; losses are >= 0 where that holds; cross-entropy gradient rows sum
to 0; consistency identities between functions (one-hot probability targets vs class
targets, nll(log_softmax) vs cross_entropy, BCE(sigmoid) vs BCE with logits, symmetry).
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cyloss
import _reference as ref

DTYPES = st.sampled_from([np.float32, np.float64])
EPS = {np.float32: float(np.finfo(np.float32).eps), np.float64: float(np.finfo(np.float64).eps)}


def float_arrays(dtype, shape, lo=-50.0, hi=50.0):
    width = 32 if dtype == np.float32 else 64
    return hnp.arrays(dtype, shape, elements=st.floats(lo, hi, width=width,
                                                       allow_subnormal=False))


@st.composite
def array_and_axis(draw, lo=-50.0, hi=50.0, max_dims=3, max_side=9):
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=max_side))
    x = draw(float_arrays(dtype, shape, lo, hi))
    axis = draw(st.integers(-x.ndim, x.ndim - 1))
    return x, axis


@st.composite
def logits_and_targets(draw, max_c=9):
    dtype = draw(DTYPES)
    n = draw(st.integers(1, 8))
    c = draw(st.integers(1, max_c))
    x = draw(float_arrays(dtype, (n, c), -30, 30))
    t = np.array(draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    return x, t


def _tol(dtype, scale=1.0):
    return (1e-5, 1e-6 * scale) if dtype == np.float32 else (1e-12, 1e-14 * scale)


# --------------------------------------------------------------------------- softmax family
@given(array_and_axis(), st.floats(-100, 100))
def test_softmax_shift_invariance(xa, c):
    x, axis = xa
    dtype = x.dtype.type
    shifted = (x.astype(np.float64) + c).astype(dtype)
    # float32 rounding of x + c perturbs logits by <= ulp(150)/2 ~ 8e-6
    rtol, atol = (5e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-14)
    np.testing.assert_allclose(cyloss.softmax(shifted, axis=axis),
                               ref.softmax(shifted, axis), rtol=rtol, atol=atol)
    np.testing.assert_allclose(cyloss.softmax(shifted, axis=axis),
                               cyloss.softmax(x, axis=axis), rtol=rtol, atol=atol)


@given(array_and_axis(lo=-1e3, hi=1e3))
def test_softmax_rows_sum_to_one_and_bounded(xa):
    x, axis = xa
    p = cyloss.softmax(x, axis=axis)
    assert p.dtype == x.dtype and p.shape == x.shape
    assert np.all((p >= 0) & (p <= 1))
    n = x.shape[axis]
    np.testing.assert_allclose(p.astype(np.float64).sum(axis=axis), 1.0,
                               rtol=0, atol=4 * (n + 1) * EPS[x.dtype.type])
    lp = cyloss.log_softmax(x, axis=axis)
    assert np.all(lp <= 0)


@given(array_and_axis())
def test_softmax_preserves_order(xa):
    x, axis = xa
    p = cyloss.softmax(x, axis=axis)
    xm, pm = np.moveaxis(x, axis, -1), np.moveaxis(p, axis, -1)
    order = np.argsort(xm, axis=-1, kind="stable")
    ps = np.take_along_axis(pm, order, -1)
    # exp kernels are accurate to ~2 ulp, not necessarily monotone at the ulp level
    assert np.all(np.diff(ps, axis=-1) >= -2 * np.spacing(ps[..., 1:]))


@given(array_and_axis(lo=-15, hi=15))
def test_log_softmax_is_log_of_softmax(xa):
    x, axis = xa
    dtype = x.dtype.type
    p = cyloss.softmax(x, axis=axis).astype(np.float64)
    lp = cyloss.log_softmax(x, axis=axis)
    atol = 4e-6 if dtype == np.float32 else 4e-14  # relative error of p -> absolute in log
    np.testing.assert_allclose(lp, np.log(p), rtol=0, atol=atol * 4)


@given(array_and_axis(lo=-1e4, hi=1e4))
def test_logsumexp_bounds(xa):
    x, axis = xa
    m = np.max(x, axis=axis).astype(np.float64)
    lse = np.asarray(cyloss.logsumexp(x, axis=axis), dtype=np.float64)
    n = x.shape[axis]
    slack = 2 * EPS[x.dtype.type] * np.maximum(np.abs(m), 1)
    assert np.all(lse >= m - slack)
    assert np.all(lse <= m + np.log(n) + slack)


@given(array_and_axis())
def test_logsumexp_consistent_with_log_softmax(xa):
    x, axis = xa
    lse = cyloss.logsumexp(x, axis=axis, keepdims=True).astype(np.float64)
    lp = cyloss.log_softmax(x, axis=axis).astype(np.float64)
    rtol, atol = _tol(x.dtype.type, scale=4 * max(1.0, float(np.abs(x).max())))
    np.testing.assert_allclose(x.astype(np.float64) - lp, np.broadcast_to(lse, x.shape),
                               rtol=rtol, atol=atol)


@given(array_and_axis(lo=-10, hi=10), st.floats(0.05, 20))
def test_temperature_is_scaling(xa, T):
    x, axis = xa
    x = x.astype(np.float64)
    np.testing.assert_allclose(cyloss.softmax(x, axis=axis, temperature=T),
                               cyloss.softmax(x / T, axis=axis), rtol=1e-12, atol=1e-15)


@given(array_and_axis(lo=-10, hi=10), st.data())
def test_softmax_backward_rows_sum_to_zero(xa, data):
    x, axis = xa
    dtype = x.dtype.type
    g = data.draw(float_arrays(dtype, x.shape, -5, 5))
    y = cyloss.softmax(x, axis=axis)
    dx = cyloss.softmax_backward(y, g, axis=axis)
    n = x.shape[axis]
    atol = 20 * n * EPS[dtype] * max(1.0, float(np.abs(g).max()))
    np.testing.assert_allclose(dx.astype(np.float64).sum(axis=axis), 0.0, atol=atol)


# --------------------------------------------------------------------------- losses >= 0
@given(logits_and_targets(), st.floats(0, 1), st.booleans(), st.data())
def test_cross_entropy_nonnegative(xt, eps, weighted, data):
    x, t = xt
    C = x.shape[1]
    w = np.array(data.draw(st.lists(st.floats(0, 5), min_size=C, max_size=C))) if weighted \
        else None
    l = cyloss.cross_entropy(x, t, weight=w, label_smoothing=eps, reduction="none")
    assert np.all(l >= 0)
    # probability targets
    p = ref.softmax(data.draw(float_arrays(np.float64, x.shape, -5, 5)))
    l = cyloss.cross_entropy(x, p, weight=w, label_smoothing=eps, reduction="none")
    assert np.all(l >= 0)


@given(logits_and_targets(max_c=12))
def test_cross_entropy_grad_rows_sum_to_zero(xt):
    x, t = xt
    for reduction in ("none", "mean", "sum"):
        _, g = cyloss.cross_entropy(x, t, reduction=reduction, return_grad=True)
        atol = 8 * x.shape[1] * EPS[x.dtype.type]
        np.testing.assert_allclose(g.astype(np.float64).sum(axis=1), 0.0, atol=atol)


@st.composite
def pair(draw, lo=-20.0, hi=20.0):
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=8))
    return draw(float_arrays(dtype, shape, lo, hi)), draw(float_arrays(dtype, shape, lo, hi))


@given(pair(), st.floats(0, 3), st.booleans(), st.data())
def test_bce_with_logits_nonnegative(xy, pw, weighted, data):
    x, y = xy
    y = (np.abs(y) / 20).astype(x.dtype)  # targets in [0, 1]
    w = data.draw(float_arrays(x.dtype.type, x.shape, 0, 3)) if weighted else None
    pos = np.full(x.shape[-1:], pw, dtype=x.dtype)
    l = cyloss.binary_cross_entropy_with_logits(x, y, weight=w, pos_weight=pos, reduction="none")
    assert np.all(l >= 0)


@given(pair(0.0, 1.0))
def test_bce_nonnegative(py):
    p, y = py
    l = cyloss.binary_cross_entropy(p, y, reduction="none")
    assert np.all(l >= 0) and np.all(l <= 100 + 1e-3)


@given(pair(), st.sampled_from(["mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"]),
       st.floats(0.01, 5))
def test_regression_nonnegative_and_symmetric(pt, name, param):
    p, t = pt
    kw = {"huber_loss": {"delta": param}, "smooth_l1_loss": {"beta": param}}.get(name, {})
    fn = getattr(cyloss, name)
    l = fn(p, t, reduction="none", **kw)
    assert np.all(l >= 0)
    np.testing.assert_array_equal(l, fn(t, p, reduction="none", **kw))
    assert fn(p, p, reduction="sum", **kw) == 0


@given(array_and_axis(lo=-8, hi=8, max_dims=2), st.data())
def test_kl_div_of_distributions_nonnegative(xa, data):
    x, axis = xa
    x = np.moveaxis(x, axis, -1)
    lq = cyloss.log_softmax(x)
    t = ref.softmax(data.draw(float_arrays(np.float64, x.shape, -8, 8))).astype(x.dtype)
    slack = 8 * x.shape[-1] * EPS[x.dtype.type]
    for reduction in ("sum", "batchmean", "mean"):
        assert cyloss.kl_div(lq, t, reduction=reduction) >= -slack
    assert cyloss.kl_div(lq, np.exp(lq.astype(np.float64)).astype(x.dtype),
                         reduction="sum") <= slack * x.size
    assert np.all(cyloss.entropy(t) >= -slack)


# --------------------------------------------------------------------------- identities
@given(logits_and_targets(), st.floats(0, 1), st.data())
def test_one_hot_probability_target_equals_class_target(xt, eps, data):
    x, t = xt
    C = x.shape[1]
    w = np.array(data.draw(st.lists(st.floats(0.1, 5), min_size=C, max_size=C)))
    onehot = np.eye(C, dtype=x.dtype)[t]
    a, ga = cyloss.cross_entropy(x, t, weight=w, label_smoothing=eps, reduction="none",
                                 return_grad=True)
    b, gb = cyloss.cross_entropy(x, onehot, weight=w, label_smoothing=eps, reduction="none",
                                 return_grad=True)
    rtol, atol = _tol(x.dtype.type, scale=10 * max(1.0, float(np.abs(x).max())))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    np.testing.assert_allclose(ga, gb, rtol=rtol, atol=atol)


@given(logits_and_targets(), st.data())
def test_nll_of_log_softmax_equals_cross_entropy(xt, data):
    x, t = xt
    C = x.shape[1]
    w = np.array(data.draw(st.lists(st.floats(0.1, 5), min_size=C, max_size=C)))
    for reduction in ("none", "mean", "sum"):
        a = cyloss.nll_loss(cyloss.log_softmax(x), t, weight=w, reduction=reduction)
        b = cyloss.cross_entropy(x, t, weight=w, reduction=reduction)
        rtol, atol = _tol(x.dtype.type, scale=10 * max(1.0, float(np.abs(x).max())))
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@given(pair(-8, 8))
def test_bce_of_sigmoid_equals_bce_with_logits(xy):
    x, y = xy
    x = x.astype(np.float64)
    y = np.abs(y.astype(np.float64)) / 8
    a, ga = cyloss.binary_cross_entropy_with_logits(x, y, reduction="none", return_grad=True)
    s = ref.sigmoid(x)
    b, gb = cyloss.binary_cross_entropy(s, y, reduction="none", return_grad=True)
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    # chain rule: d/dx = d/ds * s (1 - s)
    np.testing.assert_allclose(ga, gb * s * (1 - s), rtol=1e-9, atol=1e-12)


@given(array_and_axis(lo=-20, hi=20))
def test_matches_reference_on_random_input(xa):
    x, axis = xa
    dtype = x.dtype.type
    rtol, atol = _tol(dtype, scale=max(1.0, float(np.abs(x).max())))
    np.testing.assert_allclose(cyloss.softmax(x, axis=axis), ref.softmax(x, axis),
                               rtol=rtol, atol=_tol(dtype)[1])
    np.testing.assert_allclose(cyloss.log_softmax(x, axis=axis), ref.log_softmax(x, axis),
                               rtol=rtol, atol=atol)
    np.testing.assert_allclose(cyloss.logsumexp(x, axis=axis), ref.logsumexp(x, axis),
                               rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_entropy_matches_reference(dtype, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=10))
    p = data.draw(float_arrays(dtype, shape, 0, 1))
    np.testing.assert_allclose(cyloss.entropy(p), ref.entropy(p), rtol=_tol(dtype)[0],
                               atol=_tol(dtype, scale=shape[-1])[1])
