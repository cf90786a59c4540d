"""softmax, log_softmax, logsumexp, softmax_backward, log_softmax_backward.

Values against the float64 reference over shapes, axes, row lengths (SIMD tails), dtypes and
temperatures; 0-d and empty inputs; dtype rules; NaN / inf handling; extreme logits and
long rows against mpmath; ulp accuracy of the exp/log kernels; backward vs finite
differences of the forward.
"""
import numpy as np
import pytest

import cyloss
import _reference as ref
from _helpers import FLOAT_DTYPES, FLOAT_IDS, assert_close, assert_numpy_scalar, fd_gradient

SHAPES_AXES = [
    ((7,), -1), ((7,), 0), ((5, 3), -1), ((5, 3), 0), ((4, 1), -1), ((1, 9), -1),
    ((3, 2, 17), -1), ((3, 2, 17), 1), ((3, 2, 17), 0), ((2, 3, 4, 5), 1), ((2, 3, 4, 5), -2),
]
SA_IDS = [f"{'x'.join(map(str, s))}-ax{a}" for s, a in SHAPES_AXES]
ROW_LENGTHS = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 511,
               512, 513, 1000, 1024, 1025, 4099]
FORWARD = {"softmax": ref.softmax, "log_softmax": ref.log_softmax}


def _scale(x):
    return max(1.0, float(np.max(np.abs(x)))) if np.size(x) else 1.0


def _fwd_scale(name, x, temperature=1.0):
    """softmax is relatively accurate; log_softmax has absolute error ~ ulp(max|x/T|)."""
    return 1.0 if name == "softmax" else _scale(x) / temperature


def test_version():
    assert isinstance(cyloss.__version__, str) and cyloss.__version__


# --------------------------------------------------------------------------- forward values
@pytest.mark.parametrize("name", list(FORWARD))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape,axis", SHAPES_AXES, ids=SA_IDS)
@pytest.mark.parametrize("temperature", [1.0, 0.5, 3.0], ids=["T1", "T0.5", "T3"])
def test_forward_matches_reference(name, dtype, shape, axis, temperature, rng):
    x = rng.normal(0, 4, shape).astype(dtype)
    got = getattr(cyloss, name)(x, axis=axis, temperature=temperature)
    assert_close(got, FORWARD[name](x, axis, temperature), dtype,
                 scale=_fwd_scale(name, x, temperature))


@pytest.mark.parametrize("name", list(FORWARD))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("n", ROW_LENGTHS)
def test_forward_row_lengths(name, dtype, n, rng):
    x = rng.normal(0, 5, (3, n)).astype(dtype)
    x[1] += 50.0  # rows with different offsets
    assert_close(getattr(cyloss, name)(x), FORWARD[name](x), dtype, scale=_fwd_scale(name, x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("n", ROW_LENGTHS)
def test_logsumexp_row_lengths(dtype, n, rng):
    x = rng.normal(0, 5, (3, n)).astype(dtype)
    x[2] -= 30.0
    assert_close(cyloss.logsumexp(x, axis=-1), ref.logsumexp(x, axis=-1), dtype, scale=_scale(x))


@pytest.mark.parametrize("name", list(FORWARD))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_forward_large_array(name, dtype, rng):
    """Big enough for any threaded / blocked path."""
    x = rng.normal(0, 3, (30011, 37)).astype(dtype)
    assert_close(getattr(cyloss, name)(x), FORWARD[name](x), dtype, scale=_fwd_scale(name, x))
    xt = rng.normal(0, 3, (37, 20011)).astype(dtype)
    assert_close(getattr(cyloss, name)(xt, axis=0), FORWARD[name](xt, 0), dtype,
                 scale=_fwd_scale(name, xt))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_softmax_simple_values(dtype):
    got = cyloss.softmax(np.array([[0.0, np.log(3.0)], [1.0, 1.0]], dtype=dtype))
    assert_close(got, [[0.25, 0.75], [0.5, 0.5]], dtype)
    got = cyloss.log_softmax(np.array([2.0, 2.0, 2.0, 2.0], dtype=dtype))
    assert_close(got, np.full(4, -np.log(4.0)), dtype)


# --------------------------------------------------------------------------- 0-d and empty
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_zero_dim(dtype):
    x = np.array(3.0, dtype=dtype)
    assert np.shape(cyloss.softmax(x)) == ()
    assert np.asarray(cyloss.softmax(x)) == 1.0
    assert np.asarray(cyloss.softmax(x)).dtype == dtype
    assert np.asarray(cyloss.log_softmax(x)) == 0.0
    assert np.asarray(cyloss.softmax(3.0)) == 1.0
    lse = cyloss.logsumexp(x)
    assert_numpy_scalar(lse, dtype)
    assert lse == 3.0


@pytest.mark.parametrize("name", list(FORWARD) + ["softmax_backward", "log_softmax_backward"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape,axis", [((0,), -1), ((0, 3), -1), ((3, 0), -1), ((3, 0), 0),
                                        ((2, 0, 4), 1), ((2, 0, 4), -1)])
def test_empty(name, dtype, shape, axis):
    x = np.empty(shape, dtype=dtype)
    args = (x, np.empty(shape, dtype=dtype)) if "backward" in name else (x,)
    got = getattr(cyloss, name)(*args, axis=axis)
    assert isinstance(got, np.ndarray) and got.shape == shape and got.dtype == dtype


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_logsumexp_empty(dtype):
    got = cyloss.logsumexp(np.empty(0, dtype=dtype))
    assert_numpy_scalar(got, dtype)
    assert got == -np.inf
    got = cyloss.logsumexp(np.empty((3, 0), dtype=dtype), axis=1)
    assert_close(got, np.full(3, -np.inf), dtype)
    got = cyloss.logsumexp(np.empty((0, 3), dtype=dtype), axis=1)
    assert isinstance(got, np.ndarray) and got.shape == (0,) and got.dtype == dtype
    got = cyloss.logsumexp(np.empty((0, 3), dtype=dtype), axis=0, keepdims=True)
    assert_close(got, np.full((1, 3), -np.inf), dtype)


# --------------------------------------------------------------------------- dtype rules
@pytest.mark.parametrize("name", list(FORWARD))
@pytest.mark.parametrize("kind", ["int64", "int32", "uint8", "bool", "list", "float16"])
def test_forward_dtype_rules(name, kind, rng):
    base = rng.integers(-3, 4, (4, 5))
    if kind == "bool":
        x = base > 0
    elif kind == "list":
        x = base.tolist()
    else:
        x = base.astype(kind)
    out_dtype = np.float16 if kind == "float16" else np.float64
    got = getattr(cyloss, name)(x)
    assert_close(got, FORWARD[name](np.asarray(x, dtype=np.float64)), out_dtype, scale=3)


@pytest.mark.parametrize("name", list(FORWARD))
def test_float16_out(name, rng):
    x = rng.normal(0, 2, (3, 5)).astype(np.float16)
    out = np.empty((3, 5), dtype=np.float16)
    assert getattr(cyloss, name)(x, out=out) is out
    assert_close(out, FORWARD[name](x), np.float16, scale=8)
    out64 = np.empty((3, 5))
    xi = rng.integers(-3, 3, (3, 5))
    assert getattr(cyloss, name)(xi, out=out64) is out64   # integer input -> float64 result
    assert_close(out64, FORWARD[name](xi), np.float64, scale=3)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64, bool])
def test_logsumexp_dtype_rules(dtype, rng):
    x = rng.integers(-3, 4, (4, 5)).astype(dtype)
    out = {np.float16: np.float16, np.float32: np.float32}.get(dtype, np.float64)
    assert_close(cyloss.logsumexp(x, axis=1), ref.logsumexp(x, axis=1), out)
    assert_close(cyloss.logsumexp(x), ref.logsumexp(x), out)  # NumPy scalar


def test_float16_softmax_tiny_and_large(rng):
    """float16 computes in float32: no overflow of exp for |x| ~ 60000."""
    x = np.array([[60000.0, 59990.0, -60000.0], [1e-4, 0.0, -1e-4]], dtype=np.float16)
    assert_close(cyloss.softmax(x), ref.softmax(x), np.float16)
    assert_close(cyloss.logsumexp(x, axis=1), ref.logsumexp(x, axis=1), np.float16)


# --------------------------------------------------------------------------- logsumexp semantics
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("axis", [None, 0, 1, -1, 2, (0, 2), (2, 0), (0, 1, 2), (-1, -2), ()],
                         ids=lambda a: f"ax{a}")
@pytest.mark.parametrize("keepdims", [False, True], ids=["", "keep"])
def test_logsumexp_axes(dtype, axis, keepdims, rng):
    x = rng.normal(0, 3, (3, 4, 5)).astype(dtype)
    got = cyloss.logsumexp(x, axis=axis, keepdims=keepdims)
    assert_close(got, ref.logsumexp(x, axis=axis, keepdims=keepdims), dtype, scale=_scale(x))


B_CASES = {
    "row": lambda r: r.uniform(0.1, 2, 5),
    "col": lambda r: r.uniform(0.1, 2, (4, 1)),
    "full": lambda r: r.uniform(0.1, 2, (4, 5)),
    "scalar": lambda r: np.float64(2.5),
    "zeros": lambda r: np.array([1.0, 0.0, 2.0, 0.0, 0.5]),
    "negative": lambda r: np.array([1.0, -0.3, 2.0, -0.1, 0.5]),
    "all_zero_row": lambda r: np.where(np.arange(4)[:, None] == 2, 0.0, np.ones((4, 5))),
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("bname", list(B_CASES))
@pytest.mark.parametrize("axis", [None, 1, 0])
@pytest.mark.parametrize("return_sign", [False, True], ids=["", "sign"])
def test_logsumexp_b(dtype, bname, axis, return_sign, rng):
    x = rng.normal(0, 2, (4, 5)).astype(dtype)
    b = np.asarray(B_CASES[bname](rng)).astype(dtype)
    got = cyloss.logsumexp(x, axis=axis, b=b, return_sign=return_sign)
    exp = ref.logsumexp(x, axis=axis, b=b, return_sign=return_sign)
    if return_sign:
        assert isinstance(got, tuple) and len(got) == 2
        assert_close(got[0], exp[0], dtype, scale=_scale(x))
        assert_close(got[1], exp[1], dtype)
        assert set(np.unique(np.asarray(got[1]))) <= {-1.0, 0.0, 1.0}
    else:
        assert_close(got, exp, dtype, scale=_scale(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_logsumexp_special(dtype):
    f = lambda v, **k: cyloss.logsumexp(np.array(v, dtype=dtype), **k)  # noqa: E731
    assert f([np.inf, 1.0]) == np.inf
    assert f([1.0, np.inf, -np.inf]) == np.inf
    assert f([-np.inf, -np.inf]) == -np.inf
    assert np.isnan(f([np.nan, 1.0]))
    assert f([-np.inf, 2.0]) == 2.0
    # negative weighted sum without return_sign -> nan; with it -> sign -1
    assert np.isnan(f([1.0, 2.0], b=np.array([1.0, -1.0], dtype=dtype)))
    lse, sign = f([1.0, 2.0], b=np.array([1.0, -1.0], dtype=dtype), return_sign=True)
    assert sign == -1.0
    assert_close(lse, np.log(np.e**2 - np.e), dtype)
    # all-zero weights: exp term dropped -> -inf, sign 0
    lse, sign = f([1.0, 2.0], b=np.zeros(2, dtype=dtype), return_sign=True)
    assert lse == -np.inf and sign == 0.0
    # zero weight drops an +inf / nan term entirely? only the zero-weight +inf (scipy)
    assert_close(f([np.inf, 0.0], b=np.array([0.0, 1.0], dtype=dtype)), np.float64(0.0), dtype)
    # rows: axis=-1 keeps rows independent
    got = f([[0.0, -np.inf], [-np.inf, -np.inf], [np.inf, 0.0]], axis=1)
    assert_close(got, [0.0, -np.inf, np.inf], dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_logsumexp_b_broadcast_expands(dtype, rng):
    """b may have more dimensions than x (it broadcasts against x, as in scipy)."""
    x = rng.normal(size=5).astype(dtype)
    b = rng.uniform(0.5, 2, (3, 5)).astype(dtype)
    assert_close(cyloss.logsumexp(x, axis=-1, b=b), ref.logsumexp(x, axis=-1, b=b), dtype)


# --------------------------------------------------------------------------- temperature
@pytest.mark.parametrize("name", list(FORWARD))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("T", [2.0**-10, 0.1, 1.0, 7.0, 1024.0], ids=lambda t: f"T{t:g}")
def test_temperature(name, dtype, T, rng):
    """Powers of two keep x / T exact so the extreme temperatures test the kernel, not the
    unavoidable rounding of x / T; 0.1 and 7 use small |x| (|x/T| <~ 40)."""
    x = rng.normal(0, 1, (4, 6)).astype(dtype)
    x[:, 0] = x[:, 1] + dtype(2.0**-10)  # near-ties matter at low temperature
    got = getattr(cyloss, name)(x, temperature=T)
    assert_close(got, FORWARD[name](x, -1, T), dtype, scale=_fwd_scale(name, x, T))
    if T == 1.0:
        np.testing.assert_array_equal(got, getattr(cyloss, name)(x))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_temperature_integer_and_numpy_scalar(dtype):
    x = np.array([0.0, 1.0, 2.0], dtype=dtype)
    exp = ref.softmax(x, -1, 2.0)
    assert_close(cyloss.softmax(x, temperature=2), exp, dtype)
    assert_close(cyloss.softmax(x, temperature=np.float32(2.0)), exp, dtype)


# --------------------------------------------------------------------------- backward
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape,axis", SHAPES_AXES, ids=SA_IDS)
def test_backward_matches_reference(dtype, shape, axis, rng):
    x = rng.normal(0, 2, shape)
    g = rng.normal(0, 1, shape).astype(dtype)
    y = ref.softmax(x, axis).astype(dtype)
    assert_close(cyloss.softmax_backward(y, g, axis=axis), ref.softmax_backward(y, g, axis), dtype)
    ly = ref.log_softmax(x, axis).astype(dtype)
    assert_close(cyloss.log_softmax_backward(ly, g, axis=axis),
                 ref.log_softmax_backward(ly, g, axis), dtype, scale=np.abs(g).max())


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("n", ROW_LENGTHS)
def test_backward_row_lengths(dtype, n, rng):
    x = rng.normal(0, 2, (3, n))
    g = rng.normal(0, 1, (3, n)).astype(dtype)
    y = ref.softmax(x).astype(dtype)
    ly = ref.log_softmax(x).astype(dtype)
    assert_close(cyloss.softmax_backward(y, g), ref.softmax_backward(y, g), dtype)
    assert_close(cyloss.log_softmax_backward(ly, g), ref.log_softmax_backward(ly, g), dtype,
                 scale=np.abs(g).max() * max(1.0, np.sqrt(n) / 4))


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_backward_is_vjp_of_forward_fd(axis, temperature, rng):
    """softmax_backward(softmax(x), g) / T == d/dx sum(g * softmax(x / T)) by finite differences."""
    x = rng.normal(0, 1.5, (3, 4, 5))
    g = rng.normal(0, 1, (3, 4, 5))
    y = cyloss.softmax(x, axis=axis, temperature=temperature)
    fd = fd_gradient(lambda z: np.sum(g * cyloss.softmax(z, axis=axis, temperature=temperature)), x)
    np.testing.assert_allclose(cyloss.softmax_backward(y, g, axis=axis) / temperature, fd,
                               rtol=1e-7, atol=1e-9)
    ly = cyloss.log_softmax(x, axis=axis, temperature=temperature)
    fd = fd_gradient(lambda z: np.sum(g * cyloss.log_softmax(z, axis=axis,
                                                             temperature=temperature)), x)
    np.testing.assert_allclose(cyloss.log_softmax_backward(ly, g, axis=axis) / temperature, fd,
                               rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_backward_dtype_rule(dtype, rng):
    """The result dtype follows the first argument; grad is converted to it."""
    y = ref.softmax(rng.normal(size=(3, 4))).astype(dtype)
    g = rng.normal(size=(3, 4))  # float64 grad
    assert_close(cyloss.softmax_backward(y, g), ref.softmax_backward(y, g.astype(dtype)), dtype)
    assert_close(cyloss.softmax_backward(y, g.tolist()),
                 ref.softmax_backward(y, g.astype(dtype)), dtype)


# --------------------------------------------------------------------------- special values
@pytest.mark.parametrize("name", list(FORWARD))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("n", [3, 16, 37])
def test_nan_propagates_to_its_row_only(name, dtype, n, rng):
    x = rng.normal(0, 2, (6, n)).astype(dtype)
    clean = getattr(cyloss, name)(x)
    x_nan = x.copy()
    x_nan[3, n // 2] = np.nan
    got = getattr(cyloss, name)(x_nan)
    assert np.all(np.isnan(got[3]))
    others = np.arange(6) != 3
    assert not np.isnan(got[others]).any()
    np.testing.assert_array_equal(got[others], clean[others])
    assert_close(got[others], FORWARD[name](x[others]), dtype, scale=_fwd_scale(name, x))
    lse = cyloss.logsumexp(x_nan, axis=1)
    assert np.isnan(lse[3]) and not np.isnan(lse[others]).any()
    # NaN along a non-last class axis
    got0 = getattr(cyloss, name)(x_nan.T.copy(), axis=0)
    assert np.all(np.isnan(got0[:, 3])) and not np.isnan(got0[:, others]).any()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("n", [2, 5, 16, 33])
def test_neg_inf_masking(dtype, n, rng):
    x = rng.normal(0, 2, (4, n)).astype(dtype)
    mask = rng.uniform(size=(4, n)) < 0.4
    mask[:, 0] = False  # every row keeps one finite logit
    x[mask] = -np.inf
    p = cyloss.softmax(x)
    assert np.all(p[mask] == 0.0)
    lp = cyloss.log_softmax(x)
    assert np.all(lp[mask] == -np.inf)
    assert_close(p, ref.softmax(x), dtype)
    assert_close(lp, ref.log_softmax(x), dtype, scale=_scale(x[~mask]))
    assert_close(cyloss.logsumexp(x, axis=1), ref.logsumexp(x, axis=1), dtype, scale=_scale(x[~mask]))
    # masked probabilities contribute nothing to the backward pass
    g = rng.normal(size=(4, n)).astype(dtype)
    assert np.all(cyloss.softmax_backward(p, g)[mask] == 0.0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_fully_masked_row(dtype):
    """An all -inf row has no distribution: NaN (as torch); logsumexp gives -inf (scipy)."""
    x = np.array([[-np.inf, -np.inf, -np.inf], [0.0, 1.0, -np.inf]], dtype=dtype)
    for name in FORWARD:
        got = getattr(cyloss, name)(x)
        assert np.all(np.isnan(got[0])) and not np.isnan(got[1]).any()
        assert_close(got[1], FORWARD[name](x[1]), dtype)
    assert_close(cyloss.logsumexp(x, axis=1), [-np.inf, np.logaddexp(0.0, 1.0)], dtype)
    loss, grad = cyloss.cross_entropy(x, [0, 1], reduction="none", return_grad=True)
    assert np.isnan(loss[0]) and np.all(np.isnan(grad[0]))
    assert np.isfinite(loss[1]) and np.all(np.isfinite(grad[1]))


def test_logsumexp_zero_weight_drops_inf_corner():
    """README: b == 0 drops a term even where x is inf (scipy gives nan for this corner)."""
    got = cyloss.logsumexp(np.array([np.inf, np.inf]), b=np.array([0.0, 1.0]))
    assert got == np.inf
    got = cyloss.logsumexp(np.array([np.nan, 1.0]), b=np.array([0.0, 1.0]))
    assert got == 1.0


# --------------------------------------------------------------------------- hard cases (mpmath)
def _mp_rows(x):
    rows = [ref.mp_row(r) for r in np.asarray(x, dtype=np.float64)]
    logp = np.array([r[0] for r in rows])
    p = np.array([r[1] for r in rows])
    lse = np.array([r[2] for r in rows])
    return logp, p, lse


HARD = {
    np.float32: 1e4,
    np.float64: 1e300,
}


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_extreme_logits_mpmath(dtype, rng):
    big = HARD[dtype]
    x = rng.uniform(-big, big, (6, 9)).astype(dtype)
    x[0, :3] = [big, big, -big]
    x[1, :] = -big
    x[2, :4] = [big, np.nextafter(dtype(big), dtype(0)), -big, 0]
    x[3] = np.array(big, dtype=dtype) - np.arange(9, dtype=dtype) * dtype(0.5 if dtype ==
                                                                           np.float32 else 1)
    x[4, :] = big
    logp, p, lse = _mp_rows(x)
    got_p, got_lp, got_lse = cyloss.softmax(x), cyloss.log_softmax(x), cyloss.logsumexp(x, axis=1)
    for got in (got_p, got_lp, got_lse):
        assert np.all(np.isfinite(got))
    assert_close(got_p, p, dtype)
    assert np.max(ref.ulp_error(got_lp, logp, dtype)) <= 3
    assert np.max(ref.ulp_error(got_lse, lse, dtype)) <= 2
    # rows sum to one
    np.testing.assert_allclose(got_p.astype(np.float64).sum(axis=1), 1.0,
                               rtol=10 * np.finfo(dtype).eps)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("c", [2, 9, 32, 33, 64, 65, 1000])
def test_logsumexp_near_zero_relative_mpmath(dtype, c):
    """Results near 0 keep relative accuracy (m + log1p of the terms below the max) on the
    few-class block path (c <= 64) and on the general row path, with tied maxima, a NaN
    row and non-finite rows mixed in the same call."""
    rows = []
    for gap in (5.0, 20.0, 60.0):
        r = np.full(c, -gap)
        r[c // 2] = 0.0
        rows.append(r)
    r = np.full(c, -3.0)
    r[0] = r[-1] = 0.0  # tied maxima (one element when c == 1 is not used here)
    rows.append(r)
    rows.append(np.linspace(-1e-3, -40.0, c))
    x = np.array(rows, dtype=dtype)
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workprec(600):  # log(1 + e^-60) needs far more than 128 bits
        want = np.array([float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in row)))
                         for row in x])
    got = cyloss.logsumexp(x, axis=1)
    # float64: up to c - 1 exp roundings of <= 1 ulp each in the sum (without the log1p
    # form the row e^-60 would be off by ~1e10 ulp); float32: equal terms share their
    # exp error (<= 1.03 ulp), plus the float-lane sum and the final rounding
    tol = 2.5 if dtype == np.float32 else 4
    assert np.max(ref.ulp_error(got, want, dtype)) <= tol
    # non-finite rows next to finite ones take the scipy values
    special = np.array(rows[:1] * 4, dtype=dtype)
    special[1, 1] = np.nan
    special[2, :] = -np.inf
    special[3, 0] = np.inf
    got = cyloss.logsumexp(special, axis=1)
    assert ref.ulp_error(got[0], want[0], dtype) <= tol
    assert np.isnan(got[1]) and got[2] == -np.inf and got[3] == np.inf


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("c", [2, 9, 1000])
def test_weighted_logsumexp_near_zero_relative_mpmath(dtype, c):
    """logsumexp(x, b=b) near 0 keeps relative accuracy too (log1p of the terms against
    the maxima's weights), also for a negative sum with return_sign."""
    rows, weights = [], []
    for gap, bmax in ((20.0, 1.0), (60.0, 1.0), (5.0, 0.999), (30.0, -1.0)):
        r = np.full(c, -gap)
        r[c // 2] = 0.0
        w = np.full(c, 0.5)
        w[c // 2] = bmax
        if bmax < 0:
            w[:] = -0.25
            w[c // 2] = bmax
        rows.append(r)
        weights.append(w)
    x = np.array(rows, dtype=dtype)
    b = np.array(weights, dtype=dtype)
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workprec(600):
        sums = [mpmath.fsum(mpmath.mpf(float(bv)) * mpmath.exp(mpmath.mpf(float(v))) for v, bv in zip(xr, br))
                for xr, br in zip(x, b)]
        want = np.array([float(mpmath.log(abs(S))) for S in sums])
        want_sign = np.array([1.0 if S > 0 else -1.0 for S in sums])
    got, sign = cyloss.logsumexp(x, axis=1, b=b, return_sign=True)
    # equal terms share their exp error (<= 1 ulp) and are summed in 16 lanes of ~62 terms
    # at c = 1000 (without the log1p form the e^-60 row would be off by ~1e10 ulp)
    tol = 3 if dtype == np.float32 else 8
    assert np.max(ref.ulp_error(got, want, dtype)) <= tol, (got, want)
    np.testing.assert_array_equal(sign, want_sign)
    got_nosign = cyloss.logsumexp(x[:3], axis=1, b=b[:3])
    assert np.max(ref.ulp_error(got_nosign, want[:3], dtype)) <= tol


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_extreme_logits_backward_finite(dtype):
    big = HARD[dtype]
    x = np.array([[big, -big, 0.0], [-big, -big, -big]], dtype=dtype)
    g = np.array([[1.0, -1.0, 0.5], [0.25, 0.5, 2.0]], dtype=dtype)
    y = cyloss.softmax(x)
    assert_close(cyloss.softmax_backward(y, g), ref.softmax_backward(_mp_rows(x)[1], g), dtype)


def test_logsumexp_near_overflow():
    x = np.array([1.7e308, 1.7e308, 1.0e308])
    got = cyloss.logsumexp(x)
    assert np.isfinite(got)
    assert ref.ulp_error(got, ref.mp_logsumexp(x), np.float64) <= 1
    x32 = np.array([3.0e38, 3.0e38], dtype=np.float32)
    got = cyloss.logsumexp(x32)
    assert np.isfinite(got)
    assert ref.ulp_error(got, ref.mp_logsumexp(x32), np.float32) <= 1


def test_long_row_float64_mpmath(rng):
    x = rng.normal(0, 10, 20011)
    logp, p, lse = _mp_rows(x[None, :])
    got = cyloss.logsumexp(x)
    assert_numpy_scalar(got, np.float64)
    # the float64 sum of 2e4 terms carries ~sqrt(n) eps relative error: allow that, no more
    np.testing.assert_allclose(got, lse[0], rtol=1e-13)
    np.testing.assert_allclose(cyloss.log_softmax(x), logp[0], rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(cyloss.softmax(x), p[0], rtol=1e-12, atol=0)


@pytest.mark.parametrize("n", [100_003, 1_000_003])
def test_long_row_float32_accumulates_accurately(n, rng):
    """A naive float32 running sum over 1e5-1e6 terms is off by ~1e-4 relative."""
    x = rng.uniform(-4, 4, n).astype(np.float32)
    exp = ref.fsum_logsumexp(x)
    got = cyloss.logsumexp(x)
    assert_numpy_scalar(got, np.float32)
    assert ref.ulp_error(got, exp, np.float32) <= 4
    lp = cyloss.log_softmax(x)
    np.testing.assert_allclose(lp, x.astype(np.float64) - exp, rtol=0, atol=4e-6)
    p = cyloss.softmax(x)
    np.testing.assert_allclose(p.astype(np.float64).sum(), 1.0, rtol=2e-6)


# --------------------------------------------------------------------------- ulp accuracy
def _two_class_reference(d, dtype):
    """(softmax, log_softmax) of rows [0, d]; float64 NumPy is ample for float32 results,
    mpmath gives correctly rounded float64 references."""
    d64 = d.astype(np.float64)
    if dtype == np.float32:
        lp = np.stack([-np.logaddexp(0.0, d64), d64 - np.logaddexp(0.0, d64)], axis=1)
        return np.exp(lp), lp
    rows = [ref.mp_two_class(v) for v in d64]
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])


@pytest.mark.parametrize("dtype,lo,hi,n", [(np.float32, -87.0, 40.0, 40001),
                                           (np.float64, -700.0, 700.0, 4001)], ids=FLOAT_IDS)
def test_softmax_two_class_ulp(dtype, lo, hi, n):
    """softmax([0, d]) = [1/(1+e^d), e^d/(1+e^d)]: exercises exp over its whole normal range.
    x - max is exact, so all error comes from exp, the sum and the division (<= 4 ulp)."""
    d = np.linspace(lo, hi, n).astype(dtype)
    x = np.stack([np.zeros_like(d), d], axis=1)
    exp_p, exp_lp = _two_class_reference(d, dtype)
    got_p = cyloss.softmax(x)
    normal = exp_p >= np.finfo(dtype).tiny
    err = np.where(normal, ref.ulp_error(got_p, exp_p, dtype), 0.0)
    i = np.unravel_index(np.argmax(err), err.shape)
    assert err.max() <= 4, f"max ulp error {err.max()} at d={d[i[0]]}: {got_p[i]} vs {exp_p[i]}"
    got_lp = cyloss.log_softmax(x)
    imax = (d > 0).astype(int)            # column of the row maximum
    rows = np.arange(d.size)
    # the non-max entry -|d| - log1p(e^-|d|) is well conditioned
    err = ref.ulp_error(got_lp[rows, 1 - imax], exp_lp[rows, 1 - imax], dtype)
    assert err.max() <= 4, f"max ulp error {err.max()} at d={d[np.argmax(err)]}"
    # the max entry is -log(1 + tiny): absolute error of a couple of ulp(1)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(got_lp[rows, imax], exp_lp[rows, imax], rtol=4 * eps, atol=2 * eps)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("n", [8, 64])
def test_softmax_rows_ulp(dtype, n, rng):
    """Random rows on a 2^-10 grid in [-80, 0] (x - max exact): every element within 4 ulp
    (float32, whose row sum is accumulated in float64); float64 sums carry their own
    rounding, ~sqrt(n)/2 ulp."""
    rows = 2000 if dtype == np.float32 else 150
    x = (rng.integers(-80 * 1024, 0, (rows, n)) / 1024.0)
    x[:, 0] = 0.0
    x = x.astype(dtype)
    if dtype == np.float32:
        logp, p = ref.log_softmax(x), ref.softmax(x)
    else:
        mp = _mp_rows(x)
        logp, p = mp[0], mp[1]
    max_ulp = 4 if dtype == np.float32 else 4 + np.sqrt(n) / 2
    got = cyloss.softmax(x)
    normal = p >= np.finfo(dtype).tiny
    assert ref.ulp_error(got, p, dtype)[normal].max() <= max_ulp
    got = cyloss.log_softmax(x)
    big = np.abs(logp) > 0.5
    assert ref.ulp_error(got, logp, dtype)[big].max() <= max_ulp


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_log_kernel_ulp_via_weights(dtype):
    """logsumexp([0], b=[w]) = log(w) for w across the whole normal range."""
    info = np.finfo(dtype)
    n = 30001 if dtype == np.float32 else 8001
    w = np.geomspace(info.tiny * 4, info.max / 4, n).astype(dtype)
    w = np.concatenate([w, np.linspace(0.5, 2.0, n // 8).astype(dtype)])
    x = np.zeros((w.size, 1), dtype=dtype)
    got = cyloss.logsumexp(x, axis=1, b=w[:, None])
    if dtype == np.float32:
        exp = np.log(w.astype(np.float64))
    else:
        exp = np.array([ref.mp_log(v) for v in w])
    err = ref.ulp_error(got, exp, dtype)
    assert err.max() <= 2, f"max ulp error {err.max()} at w={w[np.argmax(err)]}"


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("n", [1, 2, 3, 7, 10, 100, 1000, 12345])
def test_uniform_rows_exact(dtype, n):
    """Equal logits c: softmax 1/n, log_softmax -log n, logsumexp c + log n.  The softmax's
    terms are exp(c - N ln2) (N = rint(c log2e)), not exactly 1, and their row sum carries
    its accumulation rounding: within 3 ulp (float32) / 8 ulp (float64) at 12345 terms;
    log_softmax and logsumexp count the max's terms exactly: within 2 ulp."""
    import mpmath
    log_n = ref.mp_log(n)
    for c in (0.0, -3.25, 1000.0):
        x = np.full((2, n), c, dtype=dtype)
        with mpmath.workprec(160):
            lse = float(mpmath.mpf(c) + mpmath.log(n))
        assert ref.ulp_error(cyloss.softmax(x), np.full((2, n), 1.0 / n), dtype).max() <= (
            3 if dtype == np.float32 else 8)
        assert ref.ulp_error(cyloss.log_softmax(x), np.full((2, n), -log_n), dtype).max() <= 2
        assert ref.ulp_error(cyloss.logsumexp(x, axis=1), np.full(2, lse), dtype).max() <= 2


@pytest.mark.parametrize("c", [1000, 32000, 200000])
def test_softmax_float32_long_rows_ulp(c, rng):
    """float32 softmax stays within 8 ulp of the float64 result of the same float32 logits
    for long rows (the exponentials are reduced from x itself, x - max is never rounded;
    the previous kernels measured 17-18 ulp here, torch CPU 28 / 215 / 416); log_softmax
    within 3 ulp."""
    rows = max(1, 400_000 // c)
    x = (rng.normal(size=(rows, c)) * 3).astype(np.float32)
    ref64 = ref.softmax(x.astype(np.float64))
    got = cyloss.softmax(x)
    normal = ref64 >= np.finfo(np.float32).tiny
    assert ref.ulp_error(got, ref64, np.float32)[normal].max() <= 8
    lref = ref.log_softmax(x.astype(np.float64))
    assert ref.ulp_error(cyloss.log_softmax(x), lref, np.float32).max() <= 3


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("c", [40, 1000])
def test_row_classes_in_one_call(dtype, c, rng):
    """Rows of every class of the row exponential in one call, each against the float64
    reference: plain, masked (-inf entries; a range wide enough to underflow), the previous
    path (NaN, +inf, all -inf, magnitudes beyond the shifted path's limit), and a
    temperature."""
    big = 1e4 if dtype == np.float32 else 1e7
    rows = [rng.normal(size=c) * 3,
            np.where(rng.uniform(size=c) < 0.3, -np.inf, rng.normal(size=c)),
            np.linspace(0.0, -200.0, c),
            np.linspace(50.0, -150.0, c)[::-1].copy(),
            rng.normal(size=c) + big,
            rng.normal(size=c) - big,
            np.where(np.arange(c) == 3, np.nan, rng.normal(size=c)),
            np.where(np.arange(c) == 5, np.inf, rng.normal(size=c)),
            np.full(c, -np.inf)]
    x = np.array(rows).astype(dtype)
    x64 = x.astype(np.float64)
    # softmax is shift invariant: the reference shifts finite rows by their max before
    # dividing by T, so that x / T of the 1e7 rows is not rounded far from x - max
    with np.errstate(invalid="ignore"):
        mx = np.nanmax(np.where(np.isfinite(x64), x64, -np.inf), axis=1, keepdims=True)
    shift = np.where(np.isfinite(mx) & ~np.isposinf(x64).any(axis=1, keepdims=True), mx, 0.0)
    for t in (1.0, 0.3):
        for fn in ("softmax", "log_softmax"):
            got = getattr(cyloss, fn)(x, temperature=t)
            want = getattr(ref, fn)((x64 - shift) / t)
            assert_close(got, want, dtype, scale=1.0 if fn == "softmax" else float(np.nanmax(np.abs(
                np.where(np.isfinite(want), want, 0)))), what=f"{fn} T={t}")
    got = cyloss.logsumexp(x, axis=1)
    want = ref.logsumexp(x64, axis=1)
    assert_close(got, want, dtype, scale=big, what="logsumexp")
    t = np.minimum(np.arange(len(rows)) % c, c - 1)
    loss = cyloss.cross_entropy(x, t, reduction="none")
    want = ref.cross_entropy(x64, t, reduction="none")[0]
    assert_close(loss, want, dtype, scale=big, what="cross_entropy")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("c", [65, 71, 80, 1000, 1003])
@pytest.mark.parametrize("special", ["nan", "inf", "-inf", "huge"])
def test_next_row_statistics(dtype, c, special, rng):
    """Rows of the row path (C > 64) are classified one by one from their statistics
    (rows.h, row_exp): a special value anywhere in a row between normal rows (the first or
    last element, the vector tail, the middle) sends that row, and only it, to its class, the
    rows around it unchanged; any scheme that gathers a row's statistics while the previous
    row is computed must keep this.  Against the float64 reference."""
    big = 1e30 if dtype == np.float32 else 1e300
    value = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf, "huge": big}[special]
    for pos in sorted({0, c - 1, c - 2, c - 9, c - 17, c // 2}):
        x = rng.normal(0, 3, (5, c)).astype(dtype)
        x[2, pos] = value
        x64 = x.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            want_p = ref.softmax(x64)
            want_lp = ref.log_softmax(x64)
            want_lse = ref.logsumexp(x64, axis=1)
        t = np.full(5, (pos + 1) % c)
        with np.errstate(invalid="ignore", over="ignore"):
            want_ce = ref.cross_entropy(x64, t, reduction="none")[0]
        scale = big if special == "huge" else _scale(np.where(np.isfinite(x64), x64, 0))
        what = f"{special} at {pos}"
        assert_close(cyloss.softmax(x), want_p, dtype, what="softmax " + what)
        assert_close(cyloss.log_softmax(x), want_lp, dtype, scale=scale, what="log_softmax " + what)
        assert_close(cyloss.logsumexp(x, axis=1), want_lse, dtype, scale=scale, what="logsumexp " + what)
        assert_close(cyloss.cross_entropy(x, t, reduction="none"), want_ce, dtype, scale=scale,
                     what="cross_entropy " + what)
        # the rows around it as when computed alone
        for i in (1, 3):
            np.testing.assert_array_equal(cyloss.softmax(x)[i], cyloss.softmax(x[i:i + 1])[0])
