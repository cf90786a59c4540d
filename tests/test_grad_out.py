"""grad_out= of every loss: the gradient written into a caller's array, which is returned.

* the same values, bit for bit, as the allocating call, for every loss and mode
  (tests/_cases.py) and for the common calls the Cython fast paths take, in every layout
  of grad_out (C order, Fortran, strided, reversed, unaligned, np.matrix, np.memmap) and
  float16 / float32 / float64;
* the kernel writes straight into a C-contiguous, aligned grad_out of the compute dtype
  that overlaps no input: no gradient-sized temporary (measured with tracemalloc, which
  sees NumPy's data allocations);
* grad_out overlapping an input (the input itself, a shifted view of its buffer): the
  gradient of the inputs as they were before the call;
* a bad grad_out (shape, dtype, read-only, masked, not an ndarray, or given without
  return_grad=True) is an error naming grad_out, with the inputs and grad_out untouched.
"""
import tracemalloc
import warnings

import numpy as np
import pytest

import cyloss
from _cases import LOSS_CASES, build, scale_of
from _helpers import apply_layout, assert_close, assert_unmodified, snapshot

DTYPES = (np.float16, np.float32, np.float64)
DTYPE_IDS = ("f16", "f32", "f64")


def _fast_ce(rng, dtype):
    x = rng.normal(0, 2, (9, 7)).astype(dtype)
    t = rng.integers(0, 7, 9)
    t[3] = -100
    return [x, t], {"return_grad": True}


def _fast_nll(rng, dtype):
    x = rng.normal(-2, 1, (9, 7)).astype(dtype)
    t = rng.integers(0, 7, 9)
    return [x, t], {"reduction": "sum", "return_grad": True}


class _Fast:
    """A common call (the Cython fast path takes it for float32/float64)."""

    def __init__(self, name, func, make):
        self.name, self.func, self.make = name, func, make

    def __repr__(self):
        return self.name


CASES = list(LOSS_CASES) + [_Fast("cross_entropy_fast", "cross_entropy", _fast_ce),
                            _Fast("nll_loss_fast", "nll_loss", _fast_nll)]
IDS = [c.name for c in CASES]


def _build(case, dtype):
    if isinstance(case, _Fast):
        args, kwargs = case.make(np.random.default_rng(5), dtype)
        return list(args), dict(kwargs)
    return build(case, dtype)


def _call(case, args, kwargs, **extra):
    return getattr(cyloss, case.func)(*args, **{**kwargs, **extra})


def _bits(a):
    a = np.asarray(a)
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


def assert_same(got, expected, what=""):
    """Same type (a NumPy scalar or an ndarray), dtype, shape and bits (NaN payloads and
    signed zeros included)."""
    assert type(got) is type(expected) or (isinstance(got, np.ndarray) and isinstance(expected, np.ndarray)), what
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.dtype == expected.dtype and got.shape == expected.shape, what
    np.testing.assert_array_equal(_bits(got), _bits(expected), err_msg=what)


GRAD_LAYOUTS = ["contiguous", "fortran", "strided", "reversed", "unaligned", "matrix", "memmap"]


def _grad_out(shape, dtype, layout, tmp_path):
    g = np.full(shape, np.nan, dtype=dtype)
    if layout == "matrix":
        if g.ndim != 2:
            pytest.skip("np.matrix is 2-D")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return np.asmatrix(g)
    if layout == "memmap":
        f = tmp_path / "grad.bin"
        g.tofile(f)
        return np.memmap(f, dtype=g.dtype, mode="r+", shape=g.shape)
    return apply_layout(g, layout)


# --------------------------------------------------------------------------- values
@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("layout", GRAD_LAYOUTS)
def test_grad_out_equals_the_allocating_call(case, dtype, layout, tmp_path):
    args, kwargs = _build(case, dtype)
    loss, grad = _call(case, args, kwargs)
    snaps = [snapshot(a) for a in args] + [snapshot(v) for v in kwargs.values()]
    g = _grad_out(grad.shape, grad.dtype, layout, tmp_path)
    got = _call(case, args, kwargs, grad_out=g)
    assert isinstance(got, tuple) and len(got) == 2
    assert got[1] is g, "grad_out must be returned as the gradient"
    assert_same(got[0], loss, "loss")
    assert_same(np.asarray(g), grad, f"grad ({layout})")
    if not isinstance(case, _Fast):  # (and the independent reference)
        assert_close(np.asarray(g), case.reference(args, kwargs)[1], dtype, scale=scale_of(args, kwargs), what="grad")
    for a, s in zip(list(args) + list(kwargs.values()), snaps):
        assert_unmodified(a, s)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_grad_out_reused_across_calls(case):
    args, kwargs = _build(case, np.float64)
    g = np.full(np.shape(args[0]), np.nan)
    for scale in (1.0, 0.5, 0.75):       # (probabilities stay in [0, 1])
        a = [args[0] * scale] + list(args[1:])
        expected = _call(case, a, kwargs)
        got = _call(case, a, kwargs, grad_out=g)
        assert got[1] is g
        assert_same(g, expected[1])


@pytest.mark.parametrize("func,x,t,kw", [
    ("cross_entropy", np.zeros((0, 4)), np.zeros(0, np.int64), {}),
    ("cross_entropy", np.zeros((3, 0)), np.full(3, -100), {"reduction": "sum"}),
    ("nll_loss", np.zeros((0, 4)), np.zeros(0, np.int64), {"reduction": "none"}),
    ("cross_entropy", np.zeros(4), 2, {}),
    ("mse_loss", np.float64(1.5), 0.5, {}),
    ("mse_loss", np.zeros((2, 0, 3)), 1.0, {}),
    ("kl_div", np.zeros(()), np.ones(3), {"reduction": "sum"}),
])
def test_grad_out_empty_and_zero_d(func, x, t, kw):
    expected = getattr(cyloss, func)(x, t, return_grad=True, **kw)
    g = np.full(np.shape(x), np.nan)
    got = getattr(cyloss, func)(x, t, return_grad=True, grad_out=g, **kw)
    assert got[1] is g
    assert_same(got[0], expected[0])
    assert_same(g, np.asarray(expected[1]))    # (an allocated 0-d gradient may be a NumPy scalar)


# --------------------------------------------------------------------------- no temporary
def _peak_bytes(f):
    """Largest traced memory (NumPy data included) above the start while running f."""
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = f()
        return tracemalloc.get_traced_memory()[1] - start, result
    finally:
        tracemalloc.stop()


def _direct_calls(rng, dtype, n=256, c=256):
    """Calls whose every array argument is C-contiguous of the compute dtype and of the
    gradient's shape, or small: a direct write needs no array of the gradient's size."""
    x = rng.normal(0, 2, (n, c)).astype(dtype)
    y = rng.uniform(0.1, 0.9, (n, c)).astype(dtype)
    p = (y / y.sum(1, keepdims=True)).astype(dtype)
    t = rng.integers(0, c, n)
    w = rng.uniform(0.5, 2, c).astype(dtype)
    return {
        "cross_entropy_fast": lambda g: cyloss.cross_entropy(x, t, return_grad=True, grad_out=g),
        "cross_entropy": lambda g: cyloss.cross_entropy(x, t, weight=w, label_smoothing=0.1, reduction="none",
                                                        return_grad=True, grad_out=g),
        "cross_entropy_probs": lambda g: cyloss.cross_entropy(x, p, return_grad=True, grad_out=g),
        "nll_loss_fast": lambda g: cyloss.nll_loss(x, t, return_grad=True, grad_out=g),
        "nll_loss": lambda g: cyloss.nll_loss(x, t, weight=w, return_grad=True, grad_out=g),
        "bce_with_logits": lambda g: cyloss.binary_cross_entropy_with_logits(x, y, pos_weight=y, return_grad=True,
                                                                             grad_out=g),
        "bce": lambda g: cyloss.binary_cross_entropy(y, p, weight=y, return_grad=True, grad_out=g),
        "kl_div": lambda g: cyloss.kl_div(x, p, reduction="batchmean", return_grad=True, grad_out=g),
        "mse_loss": lambda g: cyloss.mse_loss(x, y, return_grad=True, grad_out=g),
        "l1_loss": lambda g: cyloss.l1_loss(x, y, weight=y, return_grad=True, grad_out=g),
        "huber_loss": lambda g: cyloss.huber_loss(x, y, delta=0.5, return_grad=True, grad_out=g),
        "smooth_l1_loss": lambda g: cyloss.smooth_l1_loss(x, y, beta=0.5, return_grad=True, grad_out=g),
        # grad_out is the first argument (holding x): in place
        "mse_loss_in_place": lambda g: cyloss.mse_loss(g, y, return_grad=True, grad_out=g),
        "bce_with_logits_in_place": lambda g: cyloss.binary_cross_entropy_with_logits(g, y, pos_weight=y,
                                                                                      return_grad=True, grad_out=g),
    }, x


DIRECT = list(_direct_calls(np.random.default_rng(0), np.float64, 2, 2)[0])


@pytest.mark.parametrize("name", DIRECT)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_grad_out_is_written_directly(name, dtype):
    """No gradient-sized allocation when grad_out is C-contiguous, aligned, of the compute
    dtype and overlaps no input; the values are those of the allocating call."""
    calls, x = _direct_calls(np.random.default_rng(1), dtype)
    expected = calls[name.replace("_in_place", "")](None)      # allocating, out of place
    g = x.copy() if name.endswith("_in_place") else np.empty_like(x)
    peak, got = _peak_bytes(lambda: calls[name](g))
    assert got[1] is g
    assert_same(got[0], expected[0], "loss")
    assert_same(g, expected[1], "grad")
    assert peak < x.nbytes // 4, f"{name}: {peak} bytes allocated for a {x.nbytes}-byte gradient"


@pytest.mark.parametrize("name", ["cross_entropy_fast", "nll_loss_fast", "mse_loss"])
def test_grad_out_through_a_temporary_allocates(name):
    """(The measurement can fail: a grad_out that needs a temporary shows it.)"""
    calls, x = _direct_calls(np.random.default_rng(2), np.float64)
    g = np.empty((x.shape[1], x.shape[0])).T            # Fortran order: not written directly
    peak, got = _peak_bytes(lambda: calls[name](g))
    assert got[1] is g
    assert peak >= x.nbytes


# --------------------------------------------------------------------------- overlap
@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("shift", [0, 1, -1, 3, "reversed"])
def test_grad_out_overlapping_the_first_argument(case, dtype, shift):
    """grad_out is the first argument (shift 0: in place for elementwise losses, bit for
    bit as out of place; through a temporary for the row kernels, which read a row after
    writing its gradient) or another view of its buffer: the gradient of the inputs as
    they were before the call.  The other inputs are not modified."""
    args, kwargs = _build(case, dtype)
    expected = _call(case, [np.array(a, copy=True) for a in args], kwargs)
    first = np.asarray(args[0])
    if shift == "reversed":
        buf = first.copy()
        inp, g = buf, buf[tuple(slice(None, None, -1) for _ in buf.shape)]
    else:
        size = first.size
        buf = np.empty(size + abs(shift), dtype=first.dtype)
        a0, o0 = (0, shift) if shift >= 0 else (-shift, 0)
        inp = buf[a0:a0 + size].reshape(first.shape)
        inp[...] = first
        g = buf[o0:o0 + size].reshape(first.shape)
    assert np.shares_memory(inp, g)
    others = [snapshot(a) for a in args[1:]] + [snapshot(v) for v in kwargs.values()]
    got = _call(case, [inp] + list(args[1:]), kwargs, grad_out=g)
    assert got[1] is g
    assert_same(got[0], expected[0], "loss")
    assert_same(g, expected[1], "grad")
    for a, s in zip(list(args[1:]) + list(kwargs.values()), others):
        assert_unmodified(a, s)


@pytest.mark.parametrize("func", ["binary_cross_entropy_with_logits", "binary_cross_entropy", "kl_div",
                                  "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"])
@pytest.mark.parametrize("which", ["target", "weight", "pos_weight"])
def test_grad_out_is_another_input(func, which, rng):
    """grad_out is the target / weight / pos_weight array itself (the gradient's shape)."""
    if which == "pos_weight" and func != "binary_cross_entropy_with_logits":
        pytest.skip("no pos_weight")
    if which == "weight" and func == "kl_div":
        pytest.skip("no weight")
    x = rng.uniform(0.1, 0.9, (5, 6))
    kw = {"target": rng.uniform(0.1, 0.9, (5, 6))}
    if which != "target":
        kw[which] = rng.uniform(0.5, 2, (5, 6))
    expected = getattr(cyloss, func)(x, return_grad=True, **{k: v.copy() for k, v in kw.items()})
    got = getattr(cyloss, func)(x, return_grad=True, grad_out=kw[which], **kw)
    assert got[1] is kw[which]
    assert_same(got[0], expected[0])
    assert_same(kw[which], expected[1])


@pytest.mark.parametrize("func", ["cross_entropy", "nll_loss"])
def test_grad_out_is_the_class_target_buffer(func, rng):
    """A float grad_out sharing memory with the (int64) target array of the fast path."""
    x = rng.normal(size=(4, 2))
    t = rng.integers(0, 2, 8)
    g = t.view(np.float64).reshape(4, 2)                # 64 bytes: the whole target buffer
    tt = t[:4]
    expected = getattr(cyloss, func)(x, tt.copy(), return_grad=True)
    got = getattr(cyloss, func)(x, tt, return_grad=True, grad_out=g)
    assert got[1] is g
    assert_same(got[0], expected[0])
    assert_same(g, expected[1])


# --------------------------------------------------------------------------- bad grad_out
# grad_out named by cyloss's message (not quoted, as in Python's "unexpected keyword argument 'grad_out'")
NAMES_GRAD_OUT = r"(?<![\w'])grad_out(?![\w'])"


def _bad_grad_outs(shape, rdt):
    other = np.float32 if rdt != np.float32 else np.float64
    ro = np.zeros(shape, rdt)
    ro.setflags(write=False)
    return {
        "shape_extra_dim": (np.zeros(shape + (1,), rdt), ValueError),
        "shape_short": (np.zeros(shape[:-1], rdt), ValueError),
        "shape_transposed": (np.zeros(shape[::-1] + (2,), rdt), ValueError),
        "dtype_other_float": (np.zeros(shape, other), TypeError),
        "dtype_f16": (np.zeros(shape, np.float16 if rdt != np.float16 else np.float32), TypeError),
        "dtype_int": (np.zeros(shape, np.int64), TypeError),
        "bigendian": (np.zeros(shape, np.dtype(rdt).newbyteorder("S")), TypeError),
        "readonly": (ro, ValueError),
        "masked": (np.ma.array(np.zeros(shape, rdt), mask=False), TypeError),
        "list": (np.zeros(shape, rdt).tolist(), TypeError),
        "scalar": (rdt(0), TypeError),
    }


BAD = list(_bad_grad_outs((2, 3), np.float64))


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("bad", BAD)
def test_bad_grad_out_rejected(case, dtype, bad):
    args, kwargs = _build(case, dtype)
    rdt = np.asarray(args[0]).dtype.type
    g, exc = _bad_grad_outs(np.shape(args[0]), rdt)[bad]
    snaps = [snapshot(a) for a in args] + [snapshot(v) for v in kwargs.values()]
    gsnap = snapshot(g)
    with pytest.raises(exc, match=NAMES_GRAD_OUT):
        _call(case, args, kwargs, grad_out=g)
    for a, s in zip(list(args) + list(kwargs.values()), snaps):
        assert_unmodified(a, s)
    assert_unmodified(g, gsnap, "grad_out")


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("return_grad", ["omitted", False, 0, np.False_])
def test_grad_out_without_return_grad_rejected(case, return_grad):
    args, kwargs = _build(case, np.float64)
    kwargs.pop("return_grad", None)
    if return_grad != "omitted":
        kwargs["return_grad"] = return_grad
    g = np.full(np.shape(args[0]), 7.0)
    with pytest.raises(ValueError, match=r"grad_out .*return_grad"):
        _call(case, args, kwargs, grad_out=g)
    assert np.all(g == 7.0)


@pytest.mark.parametrize("func", ["cross_entropy", "nll_loss"])
def test_grad_out_with_a_bad_target_is_left_alone(func):
    """A bad target is reported (IndexError naming target) before any gradient is written."""
    x = np.zeros((5, 3))
    t = np.array([0, 1, 2, 3, 0])
    g = np.full((5, 3), 7.0)
    for reduction in ("mean", "sum", "none"):
        with pytest.raises(IndexError, match="target"):
            getattr(cyloss, func)(x, t, reduction=reduction, return_grad=True, grad_out=g)
        assert np.all(g == 7.0)
