"""Hostile arguments (hypothesis): every public function under random shapes (0-size
dimensions anywhere, up to 40 dimensions), dtypes (float16 .. long double, integers, bool,
complex, object, structured, strings, datetimes), layouts (transposed, negative strides,
strided, Fortran, unaligned, read-only, memmap, non-native byte order, lists, np.matrix),
keyword values (valid, of the wrong type, NaN / inf, out of range), out= and grad_out= (fresh
in any layout, the first argument or another input itself, a view overlapping one, or a bad
one) aliasing.

Each example draws a valid call (structure from hypothesis, values from a seeded NumPy
generator), re-lays its arrays out and, in about half of the examples, breaks exactly one
argument.  The only allowed outcomes:

* a valid call returns the correct result: the independent float64 reference
  (tests/_reference.py, plain NumPy) on the inputs as the documented dtype rules convert
  them, in the documented result dtype and type (NumPy scalars for 0-d results), written
  into and returned as out= / grad_out= when given;
* a call with a broken argument raises ValueError, TypeError or IndexError whose message
  names that argument;
* either way the inputs are unmodified (except through out= / grad_out=), no warning is emitted and
  every array handed to a kernel wrapper of cyloss._core is aligned.

Data: moderate values, sometimes with a NaN, a -inf (softmax family, logsumexp) or large
magnitudes (1e4 in float32, 1e300 in float64).  The example count is 4x the hypothesis
profile's (tests/conftest.py): about 10 s by default; CYLOSS_HYPOTHESIS_PROFILE=
cyloss-thorough explores ~60000 fresh examples in a few minutes.
"""
import itertools
import math
import os
import re
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import event, given, note, settings
from hypothesis import strategies as st

import cyloss
import _reference as ref
from _helpers import apply_layout

ALLOWED = (ValueError, TypeError, IndexError)
F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
MAX_BROADCAST_DIMS = 32

# ----------------------------------------------------------------------------- dtypes
DATA_DTYPES = [np.float64, np.float32, np.float16, np.longdouble, np.int8, np.int32, np.int64,
               np.uint8, np.uint64, np.bool_]
FLOAT_DTYPES = [np.float64, np.float32, np.float16, np.longdouble]
CLASS_DTYPES = [np.int64, np.int8, np.int16, np.int32, np.uint8, np.uint16, np.uint32, np.uint64]
BAD_DTYPES = ["complex128", "complex64", "object", "structured", "str", "bytes", "datetime64",
              "timedelta64"]

_TMP = tempfile.TemporaryDirectory(prefix="cyloss-hostile-")
_counter = itertools.count()


def named(name):
    """Regex: the argument name as a word ('weight' does not match 'pos_weight')."""
    return rf"(?<![\w]){re.escape(name)}(?![\w])"


def compute_dtypes(first):
    """(compute dtype, result dtype) of the first argument (README: Semantics)."""
    dt = np.asarray(first).dtype
    if dt.kind == "f" and dt.itemsize == 4:
        return F32, F32
    if dt.kind == "f" and dt.itemsize == 2:
        return F32, F16
    return F64, F64


def as_seen(a, cdt):
    """An array argument as the kernels see it (converted to the compute dtype), in float64."""
    with np.errstate(over="ignore"):
        return np.asarray(a).astype(cdt).astype(np.float64)


def cast_data(v, dtype, kind="real"):
    """float64 values v as an array of dtype (integers / bools rounded from them)."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return v.astype(dt)
    if dt.kind == "b":
        return v > (0.5 if kind == "prob" else 0.0)
    r = np.round(v)
    if dt.kind == "u":
        r = np.abs(r)
    info = np.iinfo(dt)
    return np.clip(r, info.min, info.max).astype(dt)


def bad_dtype_array(a, which):
    a = np.asarray(a)
    if which == "structured":
        return np.zeros(a.shape, dtype=[("a", "f8"), ("b", "f8")])
    if which == "datetime64":
        return np.zeros(a.shape, dtype="datetime64[s]")
    if which == "timedelta64":
        return np.zeros(a.shape, dtype="timedelta64[s]")
    if which == "str":
        return a.astype("U8")
    if which == "bytes":
        return a.astype("S8")
    with np.errstate(over="ignore"):
        return a.astype(which)


# ----------------------------------------------------------------------------- shapes
@st.composite
def shapes(draw, min_dims=0, max_size=48):
    """Mostly 0-4 dimensions of 0-5; sometimes up to 40 dimensions (most of them 1)."""
    many = draw(st.integers(0, 5)) == 0
    if many:
        nd = draw(st.integers(max(min_dims, 5), 40))
        dims = [1] * nd
        for _ in range(draw(st.integers(0, 3))):
            dims[draw(st.integers(0, nd - 1))] = draw(st.sampled_from([0, 2, 3]))
    else:
        nd = draw(st.integers(min_dims, 4))
        dims = [draw(st.sampled_from([1, 2, 3, 4, 5, 0, 1, 3])) for _ in range(nd)]
    while math.prod(dims) > max_size:
        i = int(np.argmax(dims))
        dims[i] = max(1, dims[i] // 2)
    return tuple(dims)


def broadcastable_to(draw, shape):
    """A shape that broadcasts to `shape` (leading dimensions dropped, some set to 1)."""
    drop = draw(st.integers(0, len(shape)))
    return tuple(1 if draw(st.booleans()) else s for s in shape[drop:])


def incompatible(shape, exact):
    """A shape that cannot be used with `shape`: different (exact) or not broadcastable."""
    if exact:
        return shape + (2,) if len(shape) < 40 else shape[:-1]
    for i, s in enumerate(shape):
        if s != 1:
            return shape[:i] + (s + 1 if s >= 2 else 2,) + shape[i + 1:]
    return None


def too_many_dims(shapes_):
    """Different shapes of which one has more dimensions than NumPy can broadcast."""
    shapes_ = [tuple(s) for s in shapes_]
    return len(set(shapes_)) > 1 and any(len(s) > MAX_BROADCAST_DIMS for s in shapes_)


# ----------------------------------------------------------------------------- layouts
LAYOUTS = ["contiguous", "contiguous", "transposed", "reversed", "strided", "fortran", "unaligned",
           "readonly", "memmap", "memmap_readonly", "bigendian", "list", "matrix", "scalar"]


def _memmap(a, mode):
    path = os.path.join(_TMP.name, f"{next(_counter)}.bin")
    a.tofile(path)
    m = np.memmap(path, dtype=a.dtype, mode=mode, shape=a.shape)
    try:
        os.remove(path)  # the mapping stays valid (POSIX)
    except OSError:
        pass
    return m


def relayout(a, layout):
    """The same values in another memory layout / container (None if not applicable).
    The layouts of tests/_helpers.py where they suit arrays of up to 40 dimensions; its
    "strided" doubles every dimension, so here only the longest axis is strided."""
    if not isinstance(a, np.ndarray):
        return a
    if layout in ("contiguous", "reversed", "readonly", "unaligned"):
        return apply_layout(a, layout)
    if layout == "transposed":
        return np.ascontiguousarray(a.T).T if a.ndim else a.copy()  # (ascontiguousarray makes 0-d 1-d)
    if layout == "strided":  # every other element along the longest axis
        if a.ndim == 0:
            return a.copy()
        ax = int(np.argmax(a.shape))
        big = np.zeros(a.shape[:ax] + (2 * a.shape[ax] + 1,) + a.shape[ax + 1:], dtype=a.dtype)
        view = big[(slice(None),) * ax + (slice(1, None, 2),)]
        view[...] = a
        return view
    if layout == "fortran":
        return np.asfortranarray(a) if a.ndim else a.copy()  # (asfortranarray makes 0-d 1-d)
    if layout in ("memmap", "memmap_readonly"):
        if a.size == 0 or a.ndim == 0 or a.dtype.kind not in "biuf":
            return a.copy()
        return _memmap(a, "r" if layout == "memmap_readonly" else "r+")
    if layout == "bigendian":
        if a.dtype.kind not in "iuf" or a.dtype.itemsize == 1:
            return a.copy()
        return a.astype(a.dtype.newbyteorder("S"))
    if layout == "list":
        if a.size == 0 or a.dtype.kind not in "biuf" or (a.dtype.kind == "f" and a.dtype != F64):
            return a.copy()  # (a list of float16 / float32 / long double values changes dtype)
        return a.tolist()
    if layout == "matrix":
        if a.ndim != 2:
            return a.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return np.asmatrix(a)
    if layout == "scalar":
        if a.ndim != 0:
            return a.copy()
        return a[()]  # a NumPy scalar
    raise ValueError(layout)


class aligned_kernels:
    """Context manager: every array handed to a kernel wrapper of cyloss._core must be
    aligned (the fast paths check the layout themselves)."""

    def __enter__(self):
        self.saved = {}
        for name in dir(cyloss._core):
            f = getattr(cyloss._core, name)
            if name.startswith("_") or name.endswith("_fast") or isinstance(f, type) or not callable(f):
                continue

            def wrapper(*args, _f=f, _name=name):
                for i, a in enumerate(args):
                    if isinstance(a, np.ndarray):
                        assert a.flags.aligned, f"_core.{_name}: argument {i} is misaligned"
                return _f(*args)
            self.saved[name] = f
            setattr(cyloss._core, name, wrapper)
        return self

    def __exit__(self, *exc):
        for name, f in self.saved.items():
            setattr(cyloss._core, name, f)


def snapshot(a):
    if isinstance(a, np.ndarray):
        return ("array", np.array(a, copy=True), a.dtype, a.shape, a.strides)
    if isinstance(a, list):
        return ("list", repr(a))
    return ("other", a)


def assert_unmodified(a, snap, what):
    if snap[0] == "array":
        _, copy, dtype, shape, strides = snap
        assert a.dtype == dtype and a.shape == shape and a.strides == strides, f"{what}: metadata changed"
        if a.dtype.kind == "O":
            assert repr(a.tolist()) == repr(copy.tolist()), f"{what} was modified"
        else:
            np.testing.assert_array_equal(np.asarray(a), copy, err_msg=f"{what} was modified")
    elif snap[0] == "list":
        assert repr(a) == snap[1], f"{what} (list) was modified"


# ----------------------------------------------------------------------------- scalar parameters
def bad_values(kind):
    """(value, exception) that a parameter of this kind must refuse."""
    common_type = ["2", True, False, np.True_, np.array([0.5, 0.25]), [1.0], None, 1 + 1j, object()]
    if kind == "temperature":
        return [(v, TypeError) for v in common_type] + [
            (v, ValueError) for v in (0.0, -1.0, np.nan, np.inf, -np.inf, 1e-320, 10**400)]
    if kind == "label_smoothing":
        return [(v, TypeError) for v in common_type] + [
            (v, ValueError) for v in (-0.1, 1.5, np.nan, np.inf, np.float32(-np.inf))]
    if kind == "delta":
        return [(v, TypeError) for v in common_type] + [
            (v, ValueError) for v in (0.0, -1.0, np.nan, np.inf, np.float64(-np.inf))]
    if kind == "beta":
        return [(v, TypeError) for v in common_type] + [
            (v, ValueError) for v in (-1e-12, -1.0, np.nan, np.inf)]
    if kind == "flag":
        return [(v, TypeError) for v in ("no", "", "False", 2, -1, 0.5, np.float64(1.0), np.array([True]),
                                         None, [], [True], object())]
    if kind == "reduction":
        return [(v, TypeError) for v in (None, True, 1, np.array(["mean"]), ["mean"], b"mean")] + [
            (v, ValueError) for v in ("avg", "MEAN", "", "elementwise_mean", "mean ")]
    if kind == "ignore_index":
        return [(v, TypeError) for v in ("1", True, 1.0, np.float64(-100), np.array([1, 2]), None)] + [
            (v, ValueError) for v in (2**63, -(2**63) - 1)]
    if kind == "axis":
        return [(v, TypeError) for v in ("1", True, 1.0, np.array([0, 1]), [0.0])]
    if kind == "power":
        return [(v, TypeError) for v in common_type] + [(v, ValueError) for v in (np.nan, np.inf, -np.inf)]
    if kind == "quantile":
        return [(v, TypeError) for v in common_type] + [
            (v, ValueError) for v in (0.0, 1.0, -0.5, 1.5, np.nan, np.inf)]
    raise ValueError(kind)


def valid_flag(draw):
    return draw(st.sampled_from([True, False, np.True_, np.False_, 0, 1]))


def valid_real(draw, lo, hi, log=True):
    """A real number in [lo, hi] in one of the accepted spellings."""
    if log:
        v = math.exp(draw(st.floats(math.log(lo), math.log(hi))))
    else:
        v = draw(st.floats(lo, hi))
    spelling = draw(st.sampled_from(["float", "float", "np64", "np32", "0d"]))
    if spelling == "np64":
        return np.float64(v)
    if spelling == "np32" and lo <= float(np.float32(v)) <= hi:
        return np.float32(v)
    if spelling == "0d":
        return np.array(v)
    return v


def real_value(v):
    return float(np.asarray(v))


def valid_axis(draw, ndim):
    """An int axis for an array of ndim >= 1 (sometimes a NumPy integer)."""
    ax = draw(st.integers(-ndim, ndim - 1))
    return np.int64(ax) if draw(st.integers(0, 4)) == 0 else ax


def bad_axis(ndim):
    return [(ndim, ValueError), (-ndim - 1, ValueError), (ndim + 7, ValueError)]


# ----------------------------------------------------------------------------- calls
class Call:
    """A call of `func`: positional and keyword arguments, which of them are arrays, the
    reference for valid calls, and the mutations that break one argument."""

    def __init__(self, func, pos, kw, reference, arrays, first):
        self.func = func
        self.pos = pos              # [(name, value)]
        self.kw = kw                # {name: value}
        self.reference = reference  # (values: {name: value}) -> expected
        self.arrays = arrays        # {name: "data" | "class" | "prob" | "weight" ...}
        self.first = first
        self.mutations = []         # [(description, names, exceptions, apply(call))]
        self.error = None           # (names, exceptions) when one argument was broken

    def get(self, name):
        for n, v in self.pos:
            if n == name:
                return v
        return self.kw.get(name)

    def set(self, name, value):
        for i, (n, _) in enumerate(self.pos):
            if n == name:
                self.pos[i] = (n, value)
                return
        self.kw[name] = value

    def values(self):
        d = dict(self.pos)
        d.update(self.kw)
        return d

    def run(self):
        return getattr(cyloss, self.func)(*[v for _, v in self.pos], **self.kw)

    def describe(self):
        def short(v):
            if isinstance(v, np.ndarray):
                return f"{type(v).__name__}(shape={v.shape}, dtype={v.dtype}, strides={v.strides})"
            r = repr(v)
            return r if len(r) < 80 else r[:77] + "..."
        args = ", ".join(f"{n}={short(v)}" for n, v in self.pos)
        kws = ", ".join(f"{n}={short(v)}" for n, v in self.kw.items())
        return f"cyloss.{self.func}({args}, {kws})"


def add_scalar_mutations(call, name, kind):
    for v, exc in bad_values(kind):
        call.mutations.append((f"{name}={v!r}", (name,), exc, lambda c, v=v: c.set(name, v)))


def add_dtype_mutations(call, name):
    for which in BAD_DTYPES:
        call.mutations.append((f"{name} dtype {which}", (name,), TypeError,
                               lambda c, w=which: c.set(name, bad_dtype_array(c.get(name), w))))
    call.mutations.append((f"{name} masked", (name,), TypeError,
                           lambda c: c.set(name, np.ma.array(np.asarray(c.get(name)),
                                                             mask=np.zeros(np.shape(c.get(name)), bool)))))
    call.mutations.append((f"{name} ragged", (name,), ValueError,
                           lambda c: c.set(name, [[1.0, 2.0], [3.0]])))


def add_shape_mutation(call, name, shape, exact, names):
    bad = incompatible(tuple(shape), exact)
    if bad is None:
        return

    def apply(c):
        v = c.get(name)
        v = np.ones(1) if v is None else np.asarray(v)
        c.set(name, np.resize(v, bad).astype(v.dtype) if v.size else np.zeros(bad, v.dtype))
    call.mutations.append((f"{name} shape {bad}", names, ValueError, apply))


def specials(draw, *allowed):
    """Mostly None; sometimes "nan" (one NaN), "-inf" (one -inf) or "big" (x 1e4 in
    float32 / 1e300 in float64: "any finite input is safe")."""
    return draw(st.sampled_from([None] * 6 + list(allowed)))


def fill(rng, shape, dtype, kind="real", special=None):
    """Values of moderate size for `kind` (real / prob / nonneg / weight), cast to dtype."""
    if kind == "prob":
        v = rng.uniform(0, 1, shape)
        if np.dtype(dtype).kind in "iu":
            v = np.round(v)
    elif kind == "nonneg":
        v = rng.uniform(0, 2, shape) * (rng.uniform(size=shape) > 0.2)
    elif kind == "positive":  # (> 0 also after rounding to an integer dtype)
        v = rng.uniform(0.25, 3, shape) if np.dtype(dtype).kind == "f" else rng.uniform(1, 3, shape)
    elif kind == "weight":
        v = rng.uniform(0.25, 2, shape) if np.dtype(dtype).kind == "f" else rng.integers(1, 4, shape) * 1.0
    else:
        v = rng.normal(0, 2, shape)
    dt = np.dtype(dtype)
    if special and v.size and dt.kind == "f":
        if special == "big":
            v = v * (1e300 if dt.itemsize >= 8 else 1e4 if dt.itemsize == 4 else 1e3)
        else:
            v.reshape(-1)[rng.integers(v.size)] = -np.inf if special == "-inf" else np.nan
    a = cast_data(np.asarray(v, dtype=np.float64), dtype, kind)
    return a if a.shape == tuple(shape) else np.asarray(a).reshape(shape)


# --- softmax family
def build_softmax(draw, rng, func):
    x = fill(rng, draw(shapes()), draw(st.sampled_from(DATA_DTYPES)), special=specials(draw, "nan", "-inf", "big"))
    kw = {}
    if x.ndim and draw(st.booleans()):
        kw["axis"] = valid_axis(draw, x.ndim)
    elif x.ndim == 0 and draw(st.booleans()):
        kw["axis"] = draw(st.sampled_from([0, -1]))
    if draw(st.booleans()):
        kw["temperature"] = valid_real(draw, 0.05, 20.0)
    r = ref.softmax if func == "softmax" else ref.log_softmax

    def reference(v):
        cdt = compute_dtypes(v["x"])[0]
        t = real_value(v.get("temperature", 1.0))
        return r(as_seen(v["x"], cdt), int(v.get("axis", -1)), t)

    call = Call(func, [("x", x)], kw, reference, {"x": "data"}, "x")
    add_dtype_mutations(call, "x")
    add_scalar_mutations(call, "temperature", "temperature")
    for v, exc in bad_values("axis") + bad_axis(max(x.ndim, 1)):
        call.mutations.append((f"axis={v!r}", ("axis",), exc, lambda c, v=v: c.set("axis", v)))
    return call


def build_backward(draw, rng, func):
    shape = draw(shapes())
    dt = draw(st.sampled_from(DATA_DTYPES))
    kw = {}
    axis = -1
    if shape and draw(st.booleans()):
        axis = kw["axis"] = valid_axis(draw, len(shape))
    elif not shape and draw(st.booleans()):
        axis = kw["axis"] = draw(st.sampled_from([0, -1]))
    z = rng.normal(0, 2, shape)
    if func == "softmax_backward":
        y = ref.softmax(z, int(axis)) if shape else np.array(1.0)
        names = ("y", "grad")
        r = ref.softmax_backward
    else:
        y = ref.log_softmax(z, int(axis)) if shape else np.array(0.0)
        names = ("log_y", "grad")
        r = ref.log_softmax_backward
    y = cast_data(np.asarray(y), dt if np.dtype(dt).kind == "f" else np.float64)
    g = fill(rng, shape, draw(st.sampled_from(DATA_DTYPES)))

    def reference(v):
        cdt = compute_dtypes(v[names[0]])[0]
        yy, gg = as_seen(v[names[0]], cdt), as_seen(v["grad"], cdt)
        if yy.ndim == 0:
            return r(yy.reshape(1), gg.reshape(1), -1).reshape(())
        return r(yy, gg, int(v.get("axis", -1)))

    call = Call(func, [(names[0], y), ("grad", g)], kw, reference, {names[0]: "data", "grad": "data"}, names[0])
    for n in names:
        add_dtype_mutations(call, n)
    add_shape_mutation(call, "grad", shape, True, names)
    for v, exc in bad_values("axis") + bad_axis(max(len(shape), 1)):
        call.mutations.append((f"axis={v!r}", ("axis",), exc, lambda c, v=v: c.set("axis", v)))
    return call


def build_logsumexp(draw, rng, func):
    kw = {}
    if draw(st.booleans()):
        kw["return_sign"] = valid_flag(draw)
    special = specials(draw, "-inf", "big", "nan")
    x = fill(rng, draw(shapes()), draw(st.sampled_from(DATA_DTYPES)), special=special)
    nd = x.ndim
    choice = draw(st.sampled_from(["none", "int", "tuple", "default"]))
    if choice == "none":
        kw["axis"] = None
    elif choice == "int" and nd:
        kw["axis"] = valid_axis(draw, nd)
    elif choice == "tuple" and nd:
        axes = draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=min(nd, 4)))
        kw["axis"] = tuple(a - nd if draw(st.booleans()) else a for a in axes)
    elif choice != "default":  # 0-d x is a 1-element 1-D array (scipy)
        kw["axis"] = draw(st.sampled_from([0, -1, (), (0,)]))
    if draw(st.booleans()):
        bshape = broadcastable_to(draw, x.shape) if draw(st.booleans()) else x.shape
        b = fill(rng, bshape, draw(st.sampled_from(DATA_DTYPES)))
        if draw(st.booleans()) and b.size and b.dtype.kind == "f":
            b.reshape(-1)[0] = 0.0
        kw["b"] = b
    if draw(st.booleans()):
        kw["keepdims"] = valid_flag(draw)

    def reference(v):
        cdt = compute_dtypes(v["x"])[0]
        xx = as_seen(v["x"], cdt)
        b = v.get("b")
        b = None if b is None else as_seen(b, cdt)
        axis = v.get("axis")
        if xx.ndim == 0 and (b is None or b.ndim == 0):  # scipy: 0-d x is 1-D of one element
            xx = xx.reshape(1)
            b = None if b is None else b.reshape(1)
        if isinstance(axis, (int, np.integer)):
            axis = int(axis)
        return ref.logsumexp(xx, axis, b, bool(v.get("keepdims", False)), bool(v.get("return_sign", False)))

    call = Call(func, [("x", x)], kw, reference, {"x": "data", "b": "data"}, "x")
    call.broadcast = ("x", "b")
    add_dtype_mutations(call, "x")
    if "b" in kw:
        add_dtype_mutations(call, "b")
        add_shape_mutation(call, "b", x.shape, False, ("b", "x"))
    add_scalar_mutations(call, "keepdims", "flag")
    add_scalar_mutations(call, "return_sign", "flag")
    for v, exc in bad_values("axis") + bad_axis(max(nd, 1)):
        call.mutations.append((f"axis={v!r}", ("axis",), exc, lambda c, v=v: c.set("axis", v)))
    if nd >= 2:
        call.mutations.append(("axis repeated", ("axis",), ValueError, lambda c: c.set("axis", (0, 0 - nd))))
    return call


# --- classification
def _class_common(draw, rng, func, probs):
    shape = draw(shapes(min_dims=1))
    ax = draw(st.integers(-len(shape), len(shape) - 1))
    c = shape[ax]
    tshape = shape[:ax % len(shape)] + shape[ax % len(shape) + 1:]
    x = fill(rng, shape, draw(st.sampled_from(DATA_DTYPES)), special=specials(draw, "nan", "big"))
    kw = {}
    if ax != -1 or draw(st.booleans()):
        kw["axis"] = np.int64(ax) if draw(st.integers(0, 4)) == 0 else ax
    ignore = -100
    if draw(st.booleans()):
        ignore = kw["ignore_index"] = draw(st.sampled_from([-100, -1, 0, 1, c, c + 5, 2**40, -(2**63)]))
    if probs:
        t = fill(rng, shape, draw(st.sampled_from(FLOAT_DTYPES)), "prob")
    else:
        tdt = np.dtype(draw(st.sampled_from(CLASS_DTYPES)))
        fits = np.iinfo(tdt).min <= ignore <= np.iinfo(tdt).max
        if c == 0:  # no class: every target must be ignore_index
            t = np.full(tshape, ignore, dtype=tdt if fits else np.int64)
        else:
            t = rng.integers(0, c, tshape)
            if fits and draw(st.booleans()):
                t = np.where(rng.uniform(size=tshape) < 0.3, ignore, t)
            t = np.asarray(t).astype(tdt)
    if draw(st.booleans()):
        kw["weight"] = fill(rng, (c,), draw(st.sampled_from([np.float64, np.float32, np.float16, np.int32])),
                            "weight")
    kw["reduction"] = draw(st.sampled_from(["mean", "sum", "none"]))
    if draw(st.booleans()):
        kw["return_grad"] = valid_flag(draw)
    return shape, ax, c, tshape, x, t, kw, ignore, probs


def build_class(draw, rng, func):
    probs = func == "cross_entropy" and draw(st.integers(0, 2)) == 0
    first = "logits" if func == "cross_entropy" else "log_probs"
    shape, ax, c, tshape, x, t, kw, ignore, probs = _class_common(draw, rng, func, probs)
    if func == "cross_entropy" and draw(st.booleans()):
        kw["label_smoothing"] = valid_real(draw, 0.0, 1.0, log=False)

    def reference(v):
        cdt = compute_dtypes(v[first])[0]
        xx = as_seen(v[first], cdt)
        w = v.get("weight")
        w = None if w is None else as_seen(w, cdt)
        axis = int(v.get("axis", -1))
        red = v.get("reduction", "mean")
        ign = int(v.get("ignore_index", -100))
        target = np.asarray(v["target"])
        if target.dtype.kind == "f":
            target = as_seen(target, cdt)
        else:
            target = target.astype(np.int64)
        if xx.shape[axis] == 0:
            return _no_classes(xx, target, axis, red, ign)
        if func == "cross_entropy":
            return ref.cross_entropy(xx, target, axis, w, ign, red,
                                     real_value(v.get("label_smoothing", 0.0)))
        return ref.nll_loss(xx, target, axis, w, ign, red)

    call = Call(func, [(first, x), ("target", t)], kw, reference,
                {first: "data", "target": "class", "weight": "weight"}, first)
    call.loss = True
    add_dtype_mutations(call, first)
    for which in ["complex128", "object", "str", "structured"]:
        call.mutations.append((f"target dtype {which}", ("target",), TypeError,
                               lambda c, w=which: c.set("target", bad_dtype_array(c.get("target"), w))))
    if func == "nll_loss" or not probs:
        call.mutations.append(("float class target", ("target",), (TypeError, ValueError),
                               lambda cl, n=c: cl.set("target", np.zeros(tshape + (n + 1,)))))
    add_shape_mutation(call, "target", tshape if not probs else shape, True, ("target", first))
    call.mutations.append(("weight length", ("weight",), ValueError,
                           lambda cl, n=c: cl.set("weight", np.ones(n + 1))))
    call.mutations.append(("weight 2-D", ("weight",), ValueError,
                           lambda cl, n=c: cl.set("weight", np.ones((1, n)))))
    if not probs and math.prod(tshape) > 0 and c < 2**40:
        bad = c if c != ignore else c + 1

        def out_of_range(cl, bad=bad):
            tt = np.array(np.asarray(cl.get("target")), dtype=np.int64, order="C")
            tt.reshape(-1)[-1] = bad
            cl.set("target", tt)
        call.mutations.append(("target out of range", ("target",), IndexError, out_of_range))
        if ignore != -1:
            def negative(cl):
                tt = np.array(np.asarray(cl.get("target")), dtype=np.int64, order="C")
                tt.reshape(-1)[0] = -1
                cl.set("target", tt)
            call.mutations.append(("target -1", ("target",), IndexError, negative))
    call.mutations.append(("logits 0-d", (first,), ValueError, lambda c: c.set(first, np.float64(1.0))))
    add_scalar_mutations(call, "reduction", "reduction")
    add_scalar_mutations(call, "return_grad", "flag")
    add_scalar_mutations(call, "ignore_index", "ignore_index")
    if func == "cross_entropy":
        add_scalar_mutations(call, "label_smoothing", "label_smoothing")
    for v, exc in bad_values("axis") + bad_axis(len(shape)):
        call.mutations.append((f"axis={v!r}", ("axis",), exc, lambda c, v=v: c.set("axis", v)))
    return call


def _no_classes(x, target, axis, red, ignore):
    """Zero classes (the references divide by the class count): class targets must all be
    ignore_index, so nothing is kept; probability targets sum over no class.  Losses 0,
    "mean" of nothing kept NaN."""
    grad = np.zeros(x.shape)
    if target.dtype.kind == "f":
        loss = np.zeros(np.delete(np.array(x.shape), axis % x.ndim))
        kept = loss.size
    else:
        assert np.all(target == ignore), "generator: targets for zero classes must be ignored"
        loss = np.zeros(target.shape)
        kept = 0
    if red == "sum":
        return np.float64(0.0), grad
    if red == "mean":
        return np.float64(0.0 if kept else np.nan), grad
    return loss, grad


# --- elementwise
def _weight_kw(draw, rng, kw, name, shape):
    if draw(st.booleans()):
        ws = broadcastable_to(draw, shape) if draw(st.booleans()) else shape
        kw[name] = fill(rng, ws, draw(st.sampled_from([np.float64, np.float32, np.float16, np.int64])), "weight")


def _loss_kw(draw, kw, reductions=("mean", "sum", "none")):
    if draw(st.booleans()):
        kw["reduction"] = draw(st.sampled_from(list(reductions)))
    if draw(st.booleans()):
        kw["return_grad"] = valid_flag(draw)


def _loss_mutations(call, reductions="reduction"):
    add_scalar_mutations(call, "reduction", "reduction")
    add_scalar_mutations(call, "return_grad", "flag")


def build_bce(draw, rng, func):
    shape = draw(shapes())
    logits = func == "binary_cross_entropy_with_logits"
    first = "logits" if logits else "probs"
    x = fill(rng, shape, draw(st.sampled_from(DATA_DTYPES)), "real" if logits else "prob",
             special=specials(draw, "nan", *(("big",) if logits else ())))
    y = fill(rng, shape, draw(st.sampled_from(DATA_DTYPES)), "prob")
    kw = {}
    _weight_kw(draw, rng, kw, "weight", shape)
    if logits:
        _weight_kw(draw, rng, kw, "pos_weight", shape)
    _loss_kw(draw, kw)

    def reference(v):
        cdt = compute_dtypes(v[first])[0]
        xx, yy = as_seen(v[first], cdt), as_seen(v["target"], cdt)
        w = v.get("weight")
        w = None if w is None else as_seen(w, cdt)
        red = v.get("reduction", "mean")
        if logits:
            pw = v.get("pos_weight")
            pw = None if pw is None else as_seen(pw, cdt)
            return ref.binary_cross_entropy_with_logits(xx, yy, w, pw, red)
        return ref.binary_cross_entropy(xx, yy, w, red)

    call = Call(func, [(first, x), ("target", y)], kw, reference,
                {first: "data", "target": "data", "weight": "weight", "pos_weight": "weight"}, first)
    call.loss = True
    call.broadcast = (first,) + tuple(n for n in ("weight", "pos_weight") if n in kw)
    for n in [first, "target"] + [n for n in ("weight", "pos_weight") if n in kw]:
        add_dtype_mutations(call, n)
    add_shape_mutation(call, "target", shape, True, ("target", first))
    for n in ("weight", "pos_weight") if logits else ("weight",):
        add_shape_mutation(call, n, shape, False, (n,))
    if not logits and x.size:
        def outside(c):
            p = np.array(np.asarray(c.get("probs")), dtype=np.float64, order="C")
            p.reshape(-1)[-1] = 1.5
            c.set("probs", p)
        call.mutations.append(("probs outside [0, 1]", ("probs",), ValueError, outside))
    _loss_mutations(call)
    return call


def build_kl(draw, rng, func):
    bshape = draw(shapes())
    lshape = broadcastable_to(draw, bshape) if draw(st.integers(0, 3)) == 0 else bshape
    tshape = broadcastable_to(draw, bshape) if draw(st.integers(0, 3)) == 0 else bshape
    lq = fill(rng, lshape, draw(st.sampled_from(DATA_DTYPES)), special=specials(draw, "nan", "big"))
    kw = {}
    log_target = False
    if draw(st.booleans()):
        kw["log_target"] = valid_flag(draw)
        log_target = bool(kw["log_target"])
    t = fill(rng, tshape, draw(st.sampled_from(DATA_DTYPES)), "real" if log_target else "nonneg")
    _loss_kw(draw, kw, ("mean", "sum", "none", "batchmean"))

    def reference(v):
        cdt = compute_dtypes(v["log_q"])[0]
        q, tt = as_seen(v["log_q"], cdt), as_seen(v["target"], cdt)
        red = v.get("reduction", "mean")
        if red == "batchmean" and q.ndim == 0:
            red = "sum"  # (batch of one)
        return ref.kl_div(q, tt, red, bool(v.get("log_target", False)))

    call = Call(func, [("log_q", lq), ("target", t)], kw, reference, {"log_q": "data", "target": "data"}, "log_q")
    call.loss = True
    call.broadcast = ("log_q", "target")
    add_dtype_mutations(call, "log_q")
    add_dtype_mutations(call, "target")
    add_shape_mutation(call, "target", lshape, False, ("target", "log_q"))
    add_scalar_mutations(call, "log_target", "flag")
    _loss_mutations(call)
    return call


def build_entropy(draw, rng, func):
    p = fill(rng, draw(shapes()), draw(st.sampled_from(DATA_DTYPES)), "nonneg",
             special=specials(draw, "nan", "big"))
    if p.size and p.dtype.kind == "f" and draw(st.integers(0, 5)) == 0:
        p.reshape(-1)[0] = -0.5
    kw = {}
    if p.ndim and draw(st.booleans()):
        kw["axis"] = valid_axis(draw, p.ndim)

    def reference(v):
        pp = as_seen(v["p"], compute_dtypes(v["p"])[0])
        if pp.ndim == 0:
            return np.float64(ref.entropy(pp.reshape(1)))
        return ref.entropy(pp, int(v.get("axis", -1)))

    call = Call(func, [("p", p)], kw, reference, {"p": "data"}, "p")
    add_dtype_mutations(call, "p")
    for v, exc in bad_values("axis") + bad_axis(max(p.ndim, 1)):
        call.mutations.append((f"axis={v!r}", ("axis",), exc, lambda c, v=v: c.set("axis", v)))
    return call


def build_regression(draw, rng, func):
    bshape = draw(shapes())
    pshape = broadcastable_to(draw, bshape) if draw(st.integers(0, 3)) == 0 else bshape
    tshape = broadcastable_to(draw, bshape) if draw(st.integers(0, 2)) == 0 else bshape
    pred = fill(rng, pshape, draw(st.sampled_from(DATA_DTYPES)), special=specials(draw, "nan", "big"))
    target = fill(rng, tshape, draw(st.sampled_from(DATA_DTYPES)))
    full = pshape if pshape == tshape else bshape if too_many_dims([pshape, tshape]) else \
        np.broadcast_shapes(pshape, tshape)
    kw = {}
    _weight_kw(draw, rng, kw, "weight", full)
    param = {"huber_loss": "delta", "smooth_l1_loss": "beta"}.get(func)
    if param and draw(st.booleans()):
        kw[param] = valid_real(draw, 0.05, 5.0) if (param == "delta" or draw(st.integers(0, 3))) else 0.0
    _loss_kw(draw, kw)

    def reference(v):
        cdt = compute_dtypes(v["pred"])[0]
        p, t = as_seen(v["pred"], cdt), as_seen(v["target"], cdt)
        w = v.get("weight")
        w = None if w is None else as_seen(w, cdt)
        red = v.get("reduction", "mean")
        if param:
            return getattr(ref, func)(p, t, real_value(v.get(param, 1.0)), w, red)
        return getattr(ref, func)(p, t, w, red)

    call = Call(func, [("pred", pred), ("target", target)], kw, reference,
                {"pred": "data", "target": "data", "weight": "weight"}, "pred")
    call.loss = True
    call.broadcast = ("pred", "target") + (("weight",) if "weight" in kw else ())
    for n in ["pred", "target"] + (["weight"] if "weight" in kw else []):
        add_dtype_mutations(call, n)
    add_shape_mutation(call, "target", pshape, False, ("target", "pred"))
    add_shape_mutation(call, "weight", full, False, ("weight",))
    if param:
        add_scalar_mutations(call, param, param)
    _loss_mutations(call)
    return call


# scikit-learn's loss family: function -> (reference kind, parameter name, y kind)
GLM = {
    "half_poisson_loss": ("poisson", None, "nonneg"),
    "half_gamma_loss": ("gamma", None, "positive"),
    "half_tweedie_loss": ("tweedie", "power", None),
    "half_tweedie_loss_identity": ("tweedie_identity", "power", None),
    "pinball_loss": ("pinball", "quantile", "real"),
    "exponential_loss": ("exponential", None, "prob"),
}


def build_glm(draw, rng, func):
    kind, param, ykind = GLM[func]
    bshape = draw(shapes())
    rshape = broadcastable_to(draw, bshape) if draw(st.integers(0, 3)) == 0 else bshape
    yshape = broadcastable_to(draw, bshape) if draw(st.integers(0, 2)) == 0 else bshape
    kw = {}
    p = {"power": 1.5, "quantile": 0.5}.get(param, 0.0)
    if param and draw(st.booleans()):
        if param == "power":
            p = draw(st.sampled_from([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]))
            kw[param] = draw(st.sampled_from([p, np.float64(p), int(p) if p == int(p) else p]))
        else:
            kw[param] = valid_real(draw, 0.05, 0.95, log=False)
            p = real_value(kw[param])
    if param == "power":
        ykind = "real" if p <= 0 else "nonneg" if p < 2 else "positive"
    identity = kind == "tweedie_identity" and p != 0
    rdtype = draw(st.sampled_from(DATA_DTYPES))
    raw = fill(rng, rshape, rdtype, "positive" if identity else "real", special=specials(draw, "nan"))
    if not identity and np.asarray(raw).dtype.kind == "f":
        raw = (np.asarray(raw) * 0.25).astype(np.asarray(raw).dtype)  # moderate exp arguments
    y = fill(rng, yshape, draw(st.sampled_from(DATA_DTYPES)), ykind)
    full = rshape if rshape == yshape else bshape if too_many_dims([rshape, yshape]) else \
        np.broadcast_shapes(rshape, yshape)
    _weight_kw(draw, rng, kw, "weight", full)
    _loss_kw(draw, kw)

    def reference(v):
        cdt = compute_dtypes(v["raw_prediction"])[0]
        r, t = as_seen(v["raw_prediction"], cdt), as_seen(v["y"], cdt)
        w = v.get("weight")
        w = None if w is None else as_seen(w, cdt)
        pp = real_value(v[param]) if param and param in v else p
        return ref.glm_loss(kind, r, t, w, v.get("reduction", "mean"), pp)

    call = Call(func, [("raw_prediction", raw), ("y", y)], kw, reference,
                {"raw_prediction": "data", "y": "data", "weight": "weight"}, "raw_prediction")
    call.loss = True
    call.broadcast = ("raw_prediction", "y") + (("weight",) if "weight" in kw else ())
    for n in ["raw_prediction", "y"] + (["weight"] if "weight" in kw else []):
        add_dtype_mutations(call, n)
    add_shape_mutation(call, "y", rshape, False, ("y", "raw_prediction"))
    add_shape_mutation(call, "weight", full, False, ("weight",))
    if param:
        add_scalar_mutations(call, param, param)
    outside = {"nonneg": -1.0, "positive": 0.0, "prob": 1.5}.get(ykind)
    if outside is not None and np.size(y) and math.prod(full):  # (an empty broadcast checks nothing)
        def set_outside(c, o=outside):
            t = np.array(np.asarray(c.get("y")), dtype=np.float64, order="C")
            t.reshape(-1)[-1] = o
            c.set("y", t)
        call.mutations.append(("y outside its domain", ("y",), ValueError, set_outside))
    _loss_mutations(call)
    return call


BUILDERS = {
    "softmax": build_softmax, "log_softmax": build_softmax, "logsumexp": build_logsumexp,
    "softmax_backward": build_backward, "log_softmax_backward": build_backward,
    "cross_entropy": build_class, "nll_loss": build_class,
    "binary_cross_entropy_with_logits": build_bce, "binary_cross_entropy": build_bce,
    "kl_div": build_kl, "entropy": build_entropy,
    "mse_loss": build_regression, "l1_loss": build_regression, "huber_loss": build_regression,
    "smooth_l1_loss": build_regression,
    **{f: build_glm for f in GLM},
}
OUT_FUNCS = ("softmax", "log_softmax", "softmax_backward", "log_softmax_backward")


# ----------------------------------------------------------------------------- out=
def add_out(draw, rng, call):
    """out= for the softmax family: a fresh buffer (any layout), the input itself, a view
    overlapping an input, or a wrong one (dtype, shape, read-only, list, masked)."""
    first = call.get(call.first)
    fa = np.asarray(first)
    rdt = compute_dtypes(fa)[1]
    kind = draw(st.sampled_from(["none", "fresh", "fresh", "self", "overlap", "bad"]))
    if kind == "none":
        return
    if kind == "fresh":
        layout = draw(st.sampled_from(["contiguous", "fortran", "strided", "reversed", "unaligned",
                                       "memmap", "matrix"]))
        call.kw["out"] = relayout(np.full(fa.shape, np.nan, dtype=rdt), layout)
        return
    names = [n for n, _ in call.pos]
    if kind == "self":
        which = draw(st.sampled_from(names))
        a = np.array(np.asarray(call.get(which)), dtype=rdt)   # the input, in the result dtype
        if a.shape != fa.shape:
            return
        call.set(which, a)
        call.kw["out"] = a
        call.aliased = (which,)
        return
    if kind == "overlap":
        which = draw(st.sampled_from(names))
        a = np.asarray(call.get(which))
        if a.shape != fa.shape or a.size == 0:
            return
        shift = draw(st.sampled_from([1, -1, 2, -3, max(1, a.size // 2), -max(1, a.size - 1)]))
        if abs(shift) >= a.size and a.size > 1:
            shift = 1
        buf = np.empty(a.size + abs(shift), dtype=rdt)
        a0, o0 = (0, shift) if shift >= 0 else (-shift, 0)
        inp = buf[a0:a0 + a.size].reshape(a.shape)
        with np.errstate(over="ignore"):
            inp[...] = a
        call.set(which, inp)
        call.kw["out"] = buf[o0:o0 + a.size].reshape(a.shape)
        call.aliased = (which,)
        return
    other = F32 if rdt != F32 else F64
    bad = draw(st.sampled_from(["dtype", "int", "shape", "readonly", "list", "masked", "bigendian_ok"]))
    if bad == "bigendian_ok":  # a non-native out: written correctly or refused naming out
        call.kw["out"] = np.empty(fa.shape, dtype=rdt.newbyteorder("S"))
        call.out_optional = True
        return
    outs = {
        "dtype": lambda: np.empty(fa.shape, dtype=other),
        "int": lambda: np.empty(fa.shape, dtype=np.int64),
        "shape": lambda: np.empty(fa.shape + (1,), dtype=rdt),
        "readonly": lambda: relayout(np.empty(fa.shape, dtype=rdt), "readonly"),
        "list": lambda: np.empty(fa.shape, dtype=rdt).tolist(),
        "masked": lambda: np.ma.array(np.empty(fa.shape, dtype=rdt), mask=False),
    }
    call.kw["out"] = outs[bad]()
    call.error = (("out",), (TypeError, ValueError))


def add_grad_out(draw, rng, call):
    """grad_out= for a loss (with return_grad=True): a fresh array of the gradient's shape and
    dtype (any layout or subclass), the first argument or another array input of that shape
    itself, a view overlapping the first argument, or a wrong one (dtype, shape, read-only,
    list, masked, non-native, or given without return_grad=True)."""
    first = call.get(call.first)
    fa = np.asarray(first)
    rdt = compute_dtypes(fa)[1]
    kind = draw(st.sampled_from(["none", "none", "fresh", "fresh", "self", "overlap", "bad"]))
    event(f"grad_out {kind}")
    if kind == "none":
        return
    call.kw["return_grad"] = draw(st.sampled_from([True, np.True_, 1]))
    if kind == "fresh":
        layout = draw(st.sampled_from(["contiguous", "contiguous", "fortran", "strided", "reversed", "unaligned",
                                       "memmap", "matrix"]))
        call.kw["grad_out"] = relayout(np.full(fa.shape, np.nan, dtype=rdt), layout)
        return
    if kind == "self":  # an array argument of the gradient's shape is grad_out as well
        names = [n for n in call.arrays if isinstance(call.get(n), (np.ndarray, list))
                 and np.shape(call.get(n)) == fa.shape and np.asarray(call.get(n)).dtype.kind in "biuf"]
        if not names:
            return
        which = draw(st.sampled_from(names))
        a = np.array(np.asarray(call.get(which)), dtype=rdt)   # the input, in the result dtype
        call.set(which, a)
        call.kw["grad_out"] = a
        call.aliased = (which,)
        return
    if kind == "overlap":
        if fa.size < 2:
            return
        shift = draw(st.sampled_from([1, -1, max(1, fa.size // 2), -(fa.size - 1)]))
        buf = np.empty(fa.size + abs(shift), dtype=rdt)
        a0, o0 = (0, shift) if shift >= 0 else (-shift, 0)
        inp = buf[a0:a0 + fa.size].reshape(fa.shape)
        with np.errstate(over="ignore"):
            inp[...] = fa
        call.set(call.first, inp)
        call.kw["grad_out"] = buf[o0:o0 + fa.size].reshape(fa.shape)
        call.aliased = (call.first,)
        return
    other = F32 if rdt != F32 else F64
    bad = draw(st.sampled_from(["dtype", "int", "shape", "readonly", "list", "masked", "bigendian",
                                "no_return_grad"]))
    outs = {
        "dtype": lambda: np.empty(fa.shape, dtype=other),
        "int": lambda: np.empty(fa.shape, dtype=np.int64),
        "shape": lambda: np.empty(fa.shape + (1,), dtype=rdt),
        "readonly": lambda: relayout(np.empty(fa.shape, dtype=rdt), "readonly"),
        "list": lambda: np.empty(fa.shape, dtype=rdt).tolist(),
        "masked": lambda: np.ma.array(np.empty(fa.shape, dtype=rdt), mask=False),
        "bigendian": lambda: np.empty(fa.shape, dtype=rdt.newbyteorder("S")),
        "no_return_grad": lambda: np.empty(fa.shape, dtype=rdt),
    }
    call.kw["grad_out"] = outs[bad]()
    if bad == "no_return_grad":
        if draw(st.booleans()):
            del call.kw["return_grad"]
        else:
            call.kw["return_grad"] = draw(st.sampled_from([False, np.False_, 0]))
    call.error = (("grad_out",), (TypeError, ValueError))


# ----------------------------------------------------------------------------- checking
TOL = {F16: (2e-3, 1e-3), F32: (2e-5, 2e-6), F64: (1e-12, 1e-13)}


def check_result(got, expected, rdt, scale, what, array_ok=False):
    """got has the result dtype, shape and type (a NumPy scalar for a 0-d result; a 0-d
    gradient or out= may be a 0-d array) and matches the reference rounded to that dtype."""
    if isinstance(expected, tuple):
        assert isinstance(got, tuple) and len(got) == len(expected), f"{what}: {type(got)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            check_result(g, e, rdt, scale, f"{what}[{i}]", array_ok=array_ok or (i == 1 and what != "logsumexp"))
        return
    e = np.asarray(expected, dtype=np.float64)
    if e.ndim == 0:
        assert type(got) is rdt.type or (array_ok and type(got) is np.ndarray and got.shape == ()
                                         and got.dtype == rdt), \
            f"{what}: expected a {rdt} scalar, got {type(got).__name__} {got!r}"
    else:
        assert type(got) is np.ndarray, f"{what}: expected a plain ndarray, got {type(got).__name__}"
        assert got.dtype == rdt, f"{what}: dtype {got.dtype} != {rdt}"
        assert got.shape == e.shape, f"{what}: shape {got.shape} != {e.shape}"
    with np.errstate(over="ignore"):
        e = e.astype(rdt).astype(np.float64)  # the reference rounded to the result dtype
    rtol, atol = TOL[rdt]
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), e, rtol=rtol, atol=atol * scale,
                               equal_nan=True, err_msg=what)


def magnitude(values, summed):
    """Absolute tolerance scale: max(1, largest |finite input|), times the number of
    elements for a sum (reduction "sum" / "batchmean")."""
    s, n = 1.0, 1
    for name, v in values.items():
        if name not in ("out", "grad_out") and (isinstance(v, (np.ndarray, list)) or np.isscalar(v)):
            a = np.asarray(v)
            if a.dtype.kind in "biuf" and a.size:
                f = np.abs(a.astype(np.float64))
                f = f[np.isfinite(f)]
                if f.size:
                    s = max(s, float(f.max()))
                n = max(n, a.size)
    return s * (n if summed else 1)


def broadcast_too_many_dims(call):
    shapes_ = []
    for n in getattr(call, "broadcast", ()):
        v = call.get(n)
        try:
            if v is not None:
                shapes_.append(np.shape(v))
        except ValueError:  # (a ragged list)
            pass
    return too_many_dims(shapes_)


@st.composite
def hostile_calls(draw, func):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    call = BUILDERS[func](draw, rng, func)
    call.aliased = ()
    call.out_optional = False
    # re-lay the arrays out (values unchanged)
    for name in list(call.arrays):
        v = call.get(name)
        if isinstance(v, np.ndarray):
            call.set(name, relayout(v, draw(st.sampled_from(LAYOUTS))))
    if func in OUT_FUNCS:
        add_out(draw, rng, call)
    elif getattr(call, "loss", False):
        add_grad_out(draw, rng, call)
    if call.error is None and not call.out_optional and call.mutations and draw(st.booleans()):
        desc, names, exc, apply = draw(st.sampled_from(call.mutations))
        apply(call)
        call.error = (names, exc)
        note(f"broken: {desc}")
        what = "(type/value)" if "=" in desc else desc.split(" ", 1)[-1]
        event(f"broken: {desc.split('=')[0].split(' ')[0]} {what}")
    return call


@pytest.mark.parametrize("func", list(BUILDERS))
@settings(max_examples=4 * settings.default.max_examples)  # (cheap examples: 4x the profile's count)
@given(data=st.data())
def test_hostile_arguments(func, data):
    call = data.draw(hostile_calls(func))
    note(call.describe())
    values = call.values()
    snaps = {n: snapshot(v) for n, v in values.items() if n not in ("out", "grad_out")}
    before = {n: np.array(v, copy=True) if isinstance(v, np.ndarray) else v for n, v in values.items()}
    out = call.kw.get("out")
    grad_out = call.kw.get("grad_out")
    written = [a for a in (out, grad_out) if isinstance(a, np.ndarray)]
    must_raise = call.error is not None or broadcast_too_many_dims(call)
    result = exc = None
    with warnings.catch_warnings(record=True) as caught, aligned_kernels():
        warnings.simplefilter("always")
        try:
            result = call.run()
        except ALLOWED as e:
            exc = e
        # anything else (a crash of another type) propagates and fails the test
    assert not caught, f"warnings: {[str(w.message) for w in caught]}"
    event("raised" if exc is not None else "returned")
    many = any(np.ndim(v) > MAX_BROADCAST_DIMS for v in values.values() if isinstance(v, np.ndarray))
    event(f"ndim {'> 32' if many else '<= 32'}")
    for n, s in snaps.items():
        if n in call.aliased or (isinstance(values[n], np.ndarray)
                                 and any(np.shares_memory(w, values[n]) for w in written)):
            continue
        assert_unmodified(values[n], s, n)
    if must_raise:
        assert exc is not None, f"expected an exception ({call.error}), got a result"
        if broadcast_too_many_dims(call) and isinstance(exc, ValueError) and "at most 32" in str(exc):
            return
        assert call.error is not None, f"expected the > 32 dimensions ValueError, got {exc!r}"
        names, expected_exc = call.error
        assert exc is not None, f"expected {expected_exc} naming {names}, got a result"
        assert isinstance(exc, expected_exc), f"expected {expected_exc}, got {exc!r}"
        assert re.search("|".join(named(n) for n in names), str(exc)), f"{exc!r} does not name {names}"
        return
    if exc is not None and call.out_optional and re.search(named("out"), str(exc)):
        return
    assert exc is None, f"valid call raised {exc!r}"
    with np.errstate(all="ignore"):
        expected = call.reference(before)
    rdt = compute_dtypes(call.get(call.first))[1]
    if isinstance(expected, tuple) and not getattr(call, "loss", False):
        pass  # logsumexp with return_sign
    elif getattr(call, "loss", False) and not bool(values.get("return_grad", False)):
        expected = expected[0]
    scale = magnitude(before, values.get("reduction") in ("sum", "batchmean"))
    if out is not None:
        assert result is out, "out= must be returned"
        check_result(np.asarray(out), expected, rdt, scale, "out", array_ok=True)
    elif grad_out is not None:
        assert isinstance(result, tuple) and result[1] is grad_out, "grad_out= must be returned as the gradient"
        check_result((result[0], np.asarray(grad_out)), expected, rdt, scale, call.func)
    else:
        check_result(result, expected, rdt, scale, call.func)


# ----------------------------------------------------------------------------- found by this test
# Kernel results the hostile examples found wrong (fixed in csrc/); the generator above
# still steers around them, so they are checked here directly.
def test_known_logsumexp_sign_of_nan():
    x = np.array([[1.0, np.nan], [0.5, 2.0]])
    expected = ref.logsumexp(x, axis=1, return_sign=True)
    got = cyloss.logsumexp(x, axis=1, return_sign=True)
    np.testing.assert_array_equal(got[1], expected[1])      # [nan, 1]; cyloss: [1, 1]


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_known_probability_targets_no_class(reduction):
    x, p = np.zeros((3, 0)), np.zeros((3, 0))
    loss, grad = cyloss.cross_entropy(x, p, reduction=reduction, return_grad=True)
    np.testing.assert_array_equal(loss, np.zeros(3) if reduction == "none" else 0.0)
    assert grad.shape == (3, 0)
