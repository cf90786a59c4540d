"""Assertion helpers, finite differences and memory-layout transforms for the cyloss tests."""
import sys

import numpy as np

FLOAT_DTYPES = (np.float32, np.float64)
FLOAT_IDS = ("f32", "f64")

# (rtol, atol) for comparing a result of the given dtype with a float64 reference.
TOL = {
    np.dtype(np.float16): (2e-3, 1e-4),
    np.dtype(np.float32): (1e-5, 1e-6),
    np.dtype(np.float64): (1e-12, 1e-14),
}


def tol(dtype, scale=1.0):
    rtol, atol = TOL[np.dtype(dtype)]
    return rtol, atol * scale


def assert_close(actual, expected, dtype, *, scale=1.0, rtol=None, atol=None, what="",
                 is_grad=False):
    """``actual`` has exactly ``dtype`` (native order) and the shape of ``expected``, and
    matches it (compared in float64) within the dtype's tolerance.  NaN positions must
    match; infinities must match exactly.  A 0-d expected value requires a NumPy scalar
    (for a gradient, ``is_grad=True``, a 0-d array is accepted too)."""
    dtype = np.dtype(dtype)
    d_rtol, d_atol = tol(dtype, scale)
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    expected = np.asarray(expected, dtype=np.float64)
    if expected.ndim == 0 and is_grad and isinstance(actual, np.ndarray):
        assert actual.shape == () and actual.dtype == dtype, f"{what}: {actual!r}"
    elif expected.ndim == 0:
        assert_numpy_scalar(actual, dtype, what)
    else:
        assert isinstance(actual, np.ndarray), f"{what}: expected ndarray, got {type(actual)}"
        assert actual.dtype == dtype, f"{what}: dtype {actual.dtype!r} != {dtype!r}"
        assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol,
                               atol=atol, equal_nan=True, err_msg=what)


def assert_numpy_scalar(value, dtype, what=""):
    dtype = np.dtype(dtype)
    assert type(value) is dtype.type, (
        f"{what}: expected a NumPy scalar of type {dtype.type.__name__}, got "
        f"{type(value).__name__} {value!r}")


def check_output(actual, expected, dtype, *, scale=1.0, what=""):
    """Compare a (possibly tuple) result with its reference."""
    if isinstance(expected, tuple):
        assert isinstance(actual, tuple), f"{what}: expected a tuple, got {type(actual)}"
        assert len(actual) == len(expected), what
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_close(a, e, dtype, scale=scale, what=f"{what}[{i}]")
    else:
        assert_close(actual, expected, dtype, scale=scale, what=what)


def fd_gradient(f, x, h=1e-3):
    """4th-order central finite-difference gradient of scalar f at x (float64)."""
    x = np.array(x, dtype=np.float64)
    g = np.empty_like(x)
    for idx in np.ndindex(*x.shape):
        x0 = x[idx]
        step = h * max(1.0, abs(x0))

        def at(v):
            xx = x.copy()
            xx[idx] = v
            return float(f(xx))

        g[idx] = (-at(x0 + 2 * step) + 8 * at(x0 + step)
                  - 8 * at(x0 - step) + at(x0 - 2 * step)) / (12 * step)
    return g


# --------------------------------------------------------------------------- layouts
LAYOUTS = ("contiguous", "strided", "reversed", "fortran", "swapped", "readonly",
           "frombuffer", "bigendian", "unaligned", "list")


def _strided(a):
    if a.ndim == 0:
        return a.copy()
    big = np.zeros(tuple(2 * s + 1 for s in a.shape), dtype=a.dtype)
    view = big[tuple(slice(1, None, 2) for _ in a.shape)]
    view[...] = a
    assert not view.flags.c_contiguous or a.size <= 1
    return view


def _unaligned(a):
    if a.dtype.itemsize == 1:
        return a.copy()
    buf = np.zeros(a.nbytes + 1, dtype=np.uint8)
    view = buf[1:].view(a.dtype).reshape(a.shape)
    view[...] = a
    return view


def apply_layout(a, layout):
    """Return an object holding the same values as ``a`` in the requested layout."""
    if not isinstance(a, np.ndarray):
        return a
    if layout == "contiguous":
        return a.copy()
    if layout == "strided":
        return _strided(a)
    if layout == "reversed":
        if a.ndim == 0:
            return a.copy()
        rev = tuple(slice(None, None, -1) for _ in a.shape)
        return np.ascontiguousarray(a[rev])[rev]
    if layout == "fortran":
        return np.asfortranarray(a)
    if layout == "swapped":
        if a.ndim < 2:
            return a.copy()
        return np.ascontiguousarray(np.swapaxes(a, -1, -2)).swapaxes(-1, -2)
    if layout == "readonly":
        c = a.copy()
        c.setflags(write=False)
        return c
    if layout == "frombuffer":
        return np.frombuffer(a.tobytes(), dtype=a.dtype).reshape(a.shape)
    if layout == "bigendian":
        non_native = ">" if sys.byteorder == "little" else "<"
        return a.astype(a.dtype.newbyteorder(non_native))
    if layout == "unaligned":
        return _unaligned(a)
    if layout == "list":
        return a.tolist()
    raise ValueError(layout)


def snapshot(obj):
    """A deep copy used to check that inputs are never modified."""
    if isinstance(obj, np.ndarray):
        return obj.copy(order="K"), obj.dtype, obj.strides
    if isinstance(obj, list):
        import copy
        return copy.deepcopy(obj)
    return obj


def assert_unmodified(obj, snap, what=""):
    if isinstance(obj, np.ndarray):
        copy_, dtype, strides = snap
        assert obj.dtype == dtype and obj.strides == strides, f"{what}: array metadata changed"
        np.testing.assert_array_equal(obj, copy_, err_msg=f"{what}: input was modified")
    elif isinstance(obj, list):
        assert obj == snap, f"{what}: input list was modified"
