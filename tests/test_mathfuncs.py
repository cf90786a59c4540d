"""Accuracy of the library's own inline exp and log (through the private _core.vexp /
_core.vlog hooks), against correctly rounded references over the whole range, subnormal
edges included, and their special values.  README states: float32 exp <= 1.04 ulp,
log <= 0.82 ulp; float64 exp <= 0.99 ulp, log <= 0.73 ulp (sampling can only find errors
below the true maximum, so the stated bounds must hold on every sample).

The float32 reference is float64 NumPy (its < 1 ulp float64 error is 2^-29 of a float32
ulp); the float64 reference is mpmath at 160 bits.
"""
import numpy as np
import pytest

import cyloss

core = cyloss._core

# dtype -> (exp bound, log bound) in ulp, from README
BOUNDS = {np.float32: (1.04, 0.82), np.float64: (0.99, 0.73)}


def vexp(x):
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    core.vexp(x, y)
    return y


def vlog(x):
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    core.vlog(x, y)
    return y


def _mp_ulp(fname, x, got):
    """Exact ulp error of float64 results via mpmath: |got - f(x)| / ulp(f(x))."""
    import mpmath
    out = np.empty(len(x))
    with mpmath.workprec(160):
        f = getattr(mpmath, fname)
        for i, (v, g) in enumerate(zip(x, got)):
            e = f(mpmath.mpf(float(v)))
            spacing = float(np.spacing(abs(float(e))))
            spacing = max(spacing, float(np.finfo(np.float64).smallest_subnormal))
            out[i] = float(abs(mpmath.mpf(float(g)) - e) / spacing)
    return out


def _ulp(fname, x, got, dtype):
    """ulp error of got = f(x) in the spacing at the exact value (subnormals: 2^-149 /
    2^-1074).  float32: the float64 value is exact enough; float64: mpmath."""
    if dtype == np.float64:
        return _mp_ulp(fname, x, got)
    exp = getattr(np, fname)(x.astype(np.float64))
    spacing = np.spacing(np.abs(exp.astype(np.float32))).astype(np.float64)
    return np.abs(got.astype(np.float64) - exp) / spacing


def _exp_points(dtype, n, rng):
    if dtype == np.float32:
        lo, hi = -103.97, 88.72      # down to the smallest subnormal, up to overflow
    else:
        lo, hi = -745.1, 709.78
    x = rng.uniform(lo, hi, n)
    edges = np.concatenate([rng.uniform(-1, 1, n // 8), rng.uniform(-1e-6, 1e-6, n // 16),
                            np.linspace(lo, lo + 20, n // 8)])  # subnormal results
    return np.concatenate([x, edges]).astype(dtype)


def _log_points(dtype, n, rng):
    info = np.finfo(dtype)
    bits = np.uint32 if dtype == np.float32 else np.uint64
    # uniform over the bit patterns of positive finite numbers: every binade, subnormals too
    top = np.array(info.max, dtype=dtype).view(bits)
    raw = rng.integers(1, int(top), n, dtype=np.uint64).astype(bits)
    x = raw.view(dtype)
    near_one = 1 + rng.uniform(-2**-6, 2**-6, n // 8)
    return np.concatenate([x, near_one.astype(dtype), np.array([info.tiny, info.max,
                                                                info.smallest_subnormal],
                                                               dtype=dtype)])


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_exp_accuracy(dtype, rng):
    n = 2_000_000 if dtype == np.float32 else 40_000
    x = _exp_points(dtype, n, rng)
    got = vexp(x)
    err = _ulp("exp", x, got, dtype)
    i = np.argmax(err)
    assert err[i] <= BOUNDS[dtype][0], f"exp({x[i]!r}) = {got[i]!r}: {err[i]:.3f} ulp"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_log_accuracy(dtype, rng):
    n = 2_000_000 if dtype == np.float32 else 40_000
    x = _log_points(dtype, n, rng)
    got = vlog(x)
    err = _ulp("log", x, got, dtype)
    i = np.argmax(err)
    assert err[i] <= BOUNDS[dtype][1], f"log({x[i]!r}) = {got[i]!r}: {err[i]:.3f} ulp"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_exp_special_values(dtype):
    info = np.finfo(dtype)
    over = 88.73 if dtype == np.float32 else 709.79
    under = -105.0 if dtype == np.float32 else -746.0  # below half the smallest subnormal
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, over, 1e30, under, -1e30,
                  info.smallest_subnormal, -info.smallest_subnormal, 1.0], dtype=dtype)
    y = vexp(x)
    assert y[0] == 1.0 and y[1] == 1.0
    assert y[2] == np.inf and y[3] == 0.0 and np.isnan(y[4])
    assert y[5] == np.inf and y[6] == np.inf
    assert y[7] == 0.0 and y[8] == 0.0
    assert y[9] == 1.0 and y[10] == 1.0
    assert abs(float(y[11]) - np.e) <= np.spacing(dtype(np.e))
    # just below the overflow threshold: finite and correct
    top = np.array([np.log(float(info.max)) * (1 - 1e-7)], dtype=dtype)
    assert np.isfinite(vexp(top)).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_log_special_values(dtype):
    info = np.finfo(dtype)
    x = np.array([1.0, 0.0, -0.0, -1.0, np.inf, -np.inf, np.nan, info.smallest_subnormal,
                  info.max, 2.0, 0.5], dtype=dtype)
    y = vlog(x)
    assert y[0] == 0.0
    assert y[1] == -np.inf and y[2] == -np.inf
    assert np.isnan(y[3]) and y[4] == np.inf and np.isnan(y[5]) and np.isnan(y[6])
    small = np.log(float(info.smallest_subnormal))
    sp = lambda v: float(np.spacing(abs(dtype(v))))  # noqa: E731
    assert abs(float(y[7]) - small) <= 2 * sp(small)
    assert abs(float(y[8]) - np.log(float(info.max))) <= 2 * sp(y[8])
    assert abs(float(y[9]) - np.log(2.0)) <= sp(np.log(2.0))
    assert abs(float(y[10]) + np.log(2.0)) <= sp(np.log(2.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("n", [1, 3, 7, 8, 9, 15, 16, 17, 33, 1000])
def test_vector_tails(dtype, n, rng):
    """Every position of a vector (SIMD body and scalar tail) gets the same accuracy."""
    x = rng.uniform(-20, 20, n).astype(dtype)
    assert _ulp("exp", x, vexp(x), dtype).max() <= BOUNDS[dtype][0]
    p = np.abs(x) + dtype(0.5)
    assert _ulp("log", p, vlog(p), dtype).max() <= BOUNDS[dtype][1]


# ----------------------------------------------------------------------------------------
# The row kernels' exponential for arguments <= 0 (x - max): <= 1.03 ulp on the normal
# range of results, +0 below the smallest normal number, NaN propagates.

EXPNEG_BOUND = 1.03


def vexpneg(x):
    x = np.ascontiguousarray(x)
    y = np.empty_like(x)
    core.vexpneg(x, y)
    return y


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_expneg_accuracy(dtype, rng):
    lo = -87.3365 if dtype == np.float32 else -708.3964
    n = 2_000_000 if dtype == np.float32 else 40_000
    x = np.concatenate([rng.uniform(lo, 0, n), rng.uniform(-1, 0, n // 8),
                        -rng.uniform(0, 1e-6, n // 16), np.linspace(lo, lo + 1, n // 16)]).astype(dtype)
    got = vexpneg(x)
    err = _ulp("exp", x, got, dtype)
    i = np.argmax(err)
    assert err[i] <= EXPNEG_BOUND, f"expneg({x[i]!r}) = {got[i]!r}: {err[i]:.3f} ulp"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_expneg_special_values(dtype):
    tiny = np.finfo(dtype).tiny
    below = np.log(np.float64(tiny)) * 1.0001          # result would be subnormal
    x = np.array([0.0, -0.0, -np.inf, np.nan, -np.nan, below, -1e30, -1000.0], dtype=dtype)
    y = vexpneg(x)
    assert y[0] == 1 and y[1] == 1
    assert y[2] == 0 and not np.signbit(y[2])
    assert np.isnan(y[3]) and np.isnan(y[4])
    assert (y[5:] == 0).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_row_exp_accuracy_through_softmax(dtype):
    """The row kernels' vector exponential (a separate polynomial from expneg): in a row
    whose max is 0 and whose other terms are all below 2^-60, the sum rounds to 1, so
    softmax returns each exp(x) itself; checked against mpmath (error of the result
    against the exact value, in ulp of the result's binade)."""
    mpmath = pytest.importorskip("mpmath")
    rng = np.random.default_rng(11)
    lo = -85.0 if dtype == np.float32 else -700.0
    z = rng.uniform(lo, -45.0, 20000).astype(dtype)
    y = cyloss.softmax(np.concatenate([[dtype(0)], z])[None, :], axis=-1)[0, 1:]
    with mpmath.workdps(40):
        exact = [mpmath.exp(mpmath.mpf(float(v))) for v in z]
        err = np.array([float(abs(mpmath.mpf(float(a)) - e)) for a, e in zip(y, exact)])
    ulp = err / np.spacing(y.astype(np.float64) if dtype == np.float64 else y).astype(np.float64)
    assert ulp.max() <= EXPNEG_BOUND, f"{ulp.max():.3f} ulp at {z[np.argmax(ulp)]!r}"
