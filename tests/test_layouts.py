"""Memory layouts, input immutability and ``out=``.

Every function (tests/_cases.py) x every layout (non-contiguous, reversed, Fortran,
transposed memory, read-only, frombuffer, non-native byte order, unaligned, Python lists,
mixed per argument) x float32/float64: the result matches the reference and no input is
modified.  ``out=``: identity of the returned object, values, wrong shape / dtype /
read-only ``out`` rejected with a message naming ``out``.
"""
import warnings

import numpy as np
import pytest

import cyloss
import _reference as ref
from _cases import CASES, build, scale_of
from _helpers import (FLOAT_DTYPES, FLOAT_IDS, LAYOUTS, apply_layout, assert_close,
                      assert_unmodified, check_output, snapshot)

ALL_LAYOUTS = LAYOUTS + ("mixed",)
_MIX = ("strided", "fortran", "bigendian", "reversed", "readonly", "unaligned")


def _transform(args, kwargs, layout):
    if layout != "mixed":
        return ([apply_layout(a, layout) for a in args],
                {k: apply_layout(v, layout) for k, v in kwargs.items()})
    i = 0
    new_args, new_kwargs = [], {}
    for a in args:
        new_args.append(apply_layout(a, _MIX[i % len(_MIX)]))
        i += 1
    for k, v in kwargs.items():
        new_kwargs[k] = apply_layout(v, _MIX[i % len(_MIX)])
        i += 1
    return new_args, new_kwargs


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("layout", ALL_LAYOUTS)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_layout_matrix(case, layout, dtype):
    args, kwargs = build(case, dtype)
    expected = case.reference(args, kwargs)
    largs, lkwargs = _transform(args, kwargs, layout)
    snaps = [snapshot(a) for a in largs]
    ksnaps = {k: snapshot(v) for k, v in lkwargs.items()}
    got = getattr(cyloss, case.func)(*largs, **lkwargs)
    out_dtype = np.float64 if layout == "list" else dtype
    check_output(got, expected, out_dtype, scale=scale_of(args, kwargs),
                 what=f"{case.name}/{layout}")
    for i, (a, s) in enumerate(zip(largs, snaps)):
        assert_unmodified(a, s, f"argument {i}")
    for k, v in lkwargs.items():
        assert_unmodified(v, ksnaps[k], k)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_results_do_not_alias_inputs(case):
    """Returned arrays are fresh: writing into them leaves the inputs alone."""
    args, kwargs = build(case, np.float64)
    snaps = [snapshot(a) for a in args]
    got = getattr(cyloss, case.func)(*args, **kwargs)
    outs = got if isinstance(got, tuple) else (got,)
    for o in outs:
        if isinstance(o, np.ndarray) and o.size:
            for a in args:
                if isinstance(a, np.ndarray):
                    assert not np.shares_memory(o, a)
            o[...] = 12345.0
    for i, (a, s) in enumerate(zip(args, snaps)):
        assert_unmodified(a, s, f"argument {i}")


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_torch_layout_axis1_views(dtype, name, axis, rng):
    """(N, C, d1, d2) arrays arriving as views (transposed, sliced) with any class axis."""
    base = rng.normal(0, 2, (4, 6, 5, 3)).astype(dtype)
    views = {
        "transposed": np.ascontiguousarray(base.transpose(3, 2, 1, 0)).transpose(3, 2, 1, 0),
        "sliced": np.repeat(base, 2, axis=2)[:, :, ::2, :],
        "fortran": np.asfortranarray(base),
    }
    exp = (ref.softmax if name == "softmax" else ref.log_softmax)(base, axis)
    for vname, v in views.items():
        np.testing.assert_array_equal(v, base)
        assert_close(getattr(cyloss, name)(v, axis=axis), exp, dtype, scale=8, what=vname)


# --------------------------------------------------------------------------- out=
OUT_FUNCS = {
    "softmax": (lambda x, r: (x,), lambda a, axis: ref.softmax(a[0], axis)),
    "log_softmax": (lambda x, r: (x,), lambda a, axis: ref.log_softmax(a[0], axis)),
    "softmax_backward": (lambda x, r: (ref.softmax(x).astype(x.dtype), r.normal(
        size=x.shape).astype(x.dtype)), lambda a, axis: ref.softmax_backward(*a, axis)),
    "log_softmax_backward": (lambda x, r: (ref.log_softmax(x).astype(x.dtype), r.normal(
        size=x.shape).astype(x.dtype)), lambda a, axis: ref.log_softmax_backward(*a, axis)),
}


def _out_args(name, dtype, rng, shape=(4, 5)):
    x = rng.normal(0, 2, shape).astype(dtype)
    return OUT_FUNCS[name][0](x, rng)


@pytest.mark.parametrize("name", list(OUT_FUNCS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape,axis", [((4, 5), -1), ((4, 5), 0), ((3, 4, 5), 1), ((7,), 0)])
def test_out_written_and_returned(name, dtype, shape, axis, rng):
    args = _out_args(name, dtype, rng, shape)
    if "backward" in name:  # backward references need y / log_y along the same axis
        x = rng.normal(0, 2, shape)
        y = (ref.softmax if name == "softmax_backward" else ref.log_softmax)(x, axis)
        args = (y.astype(dtype), args[1])
    out = np.full(shape, np.nan, dtype=dtype)
    res = getattr(cyloss, name)(*args, axis=axis, out=out)
    assert res is out
    assert_close(out, OUT_FUNCS[name][1](args, axis), dtype, scale=8)


@pytest.mark.parametrize("name", list(OUT_FUNCS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("bad", ["shape_cols", "shape_transposed", "shape_extra_dim", "shape_1d",
                                 "dtype_other_float", "dtype_int", "dtype_f16", "list",
                                 "readonly"])
def test_out_rejected(name, dtype, bad, rng):
    args = _out_args(name, dtype, rng)
    other = np.float32 if dtype == np.float64 else np.float64
    outs = {
        "shape_cols": lambda: np.empty((4, 6), dtype=dtype),
        "shape_transposed": lambda: np.empty((5, 4), dtype=dtype),
        "shape_extra_dim": lambda: np.empty((1, 4, 5), dtype=dtype),
        "shape_1d": lambda: np.empty(20, dtype=dtype),
        "dtype_other_float": lambda: np.empty((4, 5), dtype=other),
        "dtype_int": lambda: np.empty((4, 5), dtype=np.int64),
        "dtype_f16": lambda: np.empty((4, 5), dtype=np.float16),
        "list": lambda: [[0.0] * 5 for _ in range(4)],
        "readonly": lambda: np.frombuffer(np.zeros((4, 5), dtype=dtype).tobytes(),
                                          dtype=dtype).reshape(4, 5),
    }
    out = outs[bad]()
    snaps = [snapshot(a) for a in args]
    with pytest.raises((ValueError, TypeError), match=r"(?<![\w])out(?![\w])"):
        getattr(cyloss, name)(*args, out=out)
    for a, s in zip(args, snaps):
        assert_unmodified(a, s)


@pytest.mark.parametrize("name", list(OUT_FUNCS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("kind", ["strided", "fortran", "reversed", "bigendian"])
def test_out_non_contiguous_written_or_rejected(name, dtype, kind, rng):
    """A non-contiguous (or non-native) out is either filled correctly and returned, or
    rejected with a message naming out -- never silently left stale."""
    args = _out_args(name, dtype, rng)
    exp = OUT_FUNCS[name][1](args, -1)
    out = apply_layout(np.full((4, 5), np.nan, dtype=dtype), kind)
    try:
        res = getattr(cyloss, name)(*args, out=out)
    except (ValueError, TypeError) as e:
        assert "out" in str(e)
        return
    assert res is out
    np.testing.assert_allclose(out.astype(np.float64), exp, rtol=1e-5 if dtype == np.float32
                               else 1e-12, atol=1e-6 if dtype == np.float32 else 1e-14)


@pytest.mark.parametrize("name", list(OUT_FUNCS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("which", [0, 1])
def test_out_in_place(name, dtype, axis, which, rng):
    """out may be one of the inputs (in-place update, a common buffer-reuse pattern)."""
    if which == 1 and "backward" not in name:
        pytest.skip("single input")
    x = rng.normal(0, 2, (6, 5))
    if "backward" in name:
        y = (ref.softmax if name == "softmax_backward" else ref.log_softmax)(x, axis)
        args = [y.astype(dtype), rng.normal(size=(6, 5)).astype(dtype)]
    else:
        args = [x.astype(dtype)]
    exp = OUT_FUNCS[name][1]([a.copy() for a in args], axis)
    res = getattr(cyloss, name)(*args, axis=axis, out=args[which])
    assert res is args[which]
    assert_close(res, exp, dtype, scale=8)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_out_reused_across_calls(dtype, rng):
    out = np.empty((50, 9), dtype=dtype)
    for _ in range(3):
        x = rng.normal(0, 3, (50, 9)).astype(dtype)
        assert cyloss.softmax(x, out=out) is out
        assert_close(out, ref.softmax(x), dtype)
        assert cyloss.log_softmax(x, out=out) is out
        assert_close(out, ref.log_softmax(x), dtype, scale=10)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_out_empty_and_zero_d(name):
    out = np.empty((0, 3))
    assert getattr(cyloss, name)(np.empty((0, 3)), out=out) is out
    out = np.empty(())
    res = getattr(cyloss, name)(np.array(2.0), out=out)
    assert res is out
    assert out[()] == (1.0 if name == "softmax" else 0.0)


# --------------------------------------------------------------------------- out= overlap
def assert_bitwise(a, b, what=""):
    """Same dtype, shape and bits (NaN payloads and signed zeros included)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, what
    ui = np.dtype(f"u{a.dtype.itemsize}")
    np.testing.assert_array_equal(a.view(ui), b.view(ui), err_msg=what)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("c", [1, 5, 32, 33, 48, 49, 64, 65, 200])
@pytest.mark.parametrize("n", [3, 300])
@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_out_is_x_bitwise_equal_to_out_of_place(name, dtype, c, n, temperature, rng):
    """out=x computes in place and gives exactly the out-of-place result, on the few-class
    path (c <= 48) and the row path alike."""
    x = rng.normal(0, 3, (n, c)).astype(dtype)
    fn = getattr(cyloss, name)
    expected = fn(x, temperature=temperature)
    assert_close(expected, (ref.softmax if name == "softmax" else ref.log_softmax)(x, -1, temperature),
                 dtype, scale=10)
    assert_bitwise(fn(x, temperature=temperature, out=np.empty_like(x)), expected, "fresh out")
    xx = x.copy()
    assert fn(xx, temperature=temperature, out=xx) is xx
    assert_bitwise(xx, expected, "out is x")


@pytest.mark.parametrize("name", ["softmax_backward", "log_softmax_backward"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("c", [5, 33])
@pytest.mark.parametrize("which", [0, 1], ids=["out_is_y", "out_is_grad"])
def test_backward_out_is_input_bitwise_equal_to_out_of_place(name, dtype, c, which, rng):
    args = _out_args(name, dtype, rng, (40, c))
    fn = getattr(cyloss, name)
    expected = fn(*args)
    assert_close(expected, OUT_FUNCS[name][1](args, -1), dtype, scale=8)
    inplace = [a.copy() for a in args]
    assert fn(*inplace, out=inplace[which]) is inplace[which]
    assert_bitwise(inplace[which], expected)


@pytest.mark.parametrize("name", list(OUT_FUNCS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("axis", [-1, 0])
@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("shift", [1, -1, 5, -9, 40, 0, "reversed"])
def test_out_overlapping_an_input(name, dtype, axis, which, shift, rng):
    """out is a shifted (or otherwise different) view of an input's buffer: the result is
    the function of the inputs as they were before the call."""
    if which == 1 and "backward" not in name:
        pytest.skip("single input")
    shape = (6, 8)
    x = rng.normal(0, 2, shape)
    if "backward" in name:
        y = (ref.softmax if name == "softmax_backward" else ref.log_softmax)(x, axis)
        args = [y.astype(dtype), rng.normal(size=shape).astype(dtype)]
    else:
        args = [x.astype(dtype)]
    expected = OUT_FUNCS[name][1]([a.copy() for a in args], axis)
    size = args[which].size
    if shift == "reversed":
        buf = args[which].copy()
        args[which] = buf
        out = buf[::-1, ::-1]
    else:
        buf = np.empty(size + abs(shift), dtype=dtype)
        a0, o0 = (0, shift) if shift >= 0 else (-shift, 0)
        inp = buf[a0:a0 + size].reshape(shape)
        inp[...] = args[which]
        args[which] = inp
        out = buf[o0:o0 + size].reshape(shape)
        assert out is not inp and np.shares_memory(out, inp)
    other = [a.copy() for i, a in enumerate(args) if i != which]
    res = getattr(cyloss, name)(*args, axis=axis, out=out)
    assert res is out
    assert_close(out, expected, dtype, scale=8, what=f"shift {shift}")
    for a, s in zip([a for i, a in enumerate(args) if i != which], other):
        np.testing.assert_array_equal(a, s)


# --------------------------------------------------------------------------- alignment
# the fast paths check the alignment themselves
_LAYOUT_CHECKING = {"softmax_fast", "cross_entropy_fast", "nll_loss_fast", "logsumexp_fast"}


@pytest.fixture
def aligned_core(monkeypatch):
    """Wrap every kernel wrapper of cyloss._core: each array handed to it must be aligned
    (a misaligned float64 load is undefined behaviour in C).  Returns the names called."""
    called = []
    for name in dir(cyloss._core):
        f = getattr(cyloss._core, name)
        if name.startswith("_") or name in _LAYOUT_CHECKING or isinstance(f, type) or not callable(f):
            continue

        def wrapper(*args, _f=f, _name=name, **kwargs):
            for i, a in enumerate(list(args) + list(kwargs.values())):
                if isinstance(a, np.ndarray):
                    assert a.flags.aligned, f"_core.{_name}: argument {i} is misaligned"
            called.append(_name)
            return _f(*args, **kwargs)

        monkeypatch.setattr(cyloss._core, name, wrapper)
    return called


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_unaligned_inputs_reach_kernels_aligned(case, dtype, aligned_core):
    args, kwargs = build(case, dtype)
    expected = case.reference(args, kwargs)
    uargs = [apply_layout(a, "unaligned") for a in args]
    ukwargs = {k: apply_layout(v, "unaligned") for k, v in kwargs.items()}
    assert any(isinstance(a, np.ndarray) and not a.flags.aligned for a in uargs)
    got = getattr(cyloss, case.func)(*uargs, **ukwargs)
    check_output(got, expected, dtype, scale=scale_of(args, kwargs), what=case.name)
    assert aligned_core, "no kernel was called"


@pytest.mark.parametrize("name", list(OUT_FUNCS))
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("axis", [-1, 0])
def test_unaligned_out(name, dtype, axis, aligned_core, rng):
    args = _out_args(name, dtype, rng, (4, 5))
    if "backward" in name:
        x = rng.normal(0, 2, (4, 5))
        y = (ref.softmax if name == "softmax_backward" else ref.log_softmax)(x, axis)
        args = (y.astype(dtype), args[1])
    out = apply_layout(np.full((4, 5), np.nan, dtype=dtype), "unaligned")
    assert not out.flags.aligned and out.flags.c_contiguous
    assert getattr(cyloss, name)(*args, axis=axis, out=out) is out
    assert_close(out, OUT_FUNCS[name][1](args, axis), dtype, scale=8)
    assert aligned_core


# --------------------------------------------------------------------------- subclasses
def _as_matrix(a):
    """np.matrix of a 2-D ndarray (other arguments unchanged)."""
    if not (isinstance(a, np.ndarray) and a.ndim == 2):
        return a
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # "matrix is not recommended"
        return np.asmatrix(a)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_matrix_inputs(case, dtype):
    """np.matrix arguments (an ndarray subclass that stays 2-D through reshape) compute as
    plain arrays; results are plain ndarrays."""
    args, kwargs = build(case, dtype)
    expected = case.reference(args, kwargs)
    margs = [_as_matrix(a) for a in args]
    mkwargs = {k: _as_matrix(v) for k, v in kwargs.items()}
    if not any(isinstance(a, np.matrix) for a in margs + list(mkwargs.values())):
        pytest.skip("no 2-D argument")
    got = getattr(cyloss, case.func)(*margs, **mkwargs)
    check_output(got, expected, dtype, scale=scale_of(args, kwargs), what=case.name)
    for g in got if isinstance(got, tuple) else (got,):
        assert not isinstance(g, np.matrix)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_matrix_class_targets(fn, rng):
    """A (1, n) / (n, 1) np.matrix of class indices is 2-D: it matches 2-D logits
    without the class axis, and is a shape error (naming target) against (n, c) logits."""
    x = rng.normal(size=(1, 4, 3))
    t = rng.integers(0, 4, (1, 3))
    expected = getattr(ref, fn)(x, t, axis=1)
    got = getattr(cyloss, fn)(x, _as_matrix(t), axis=1, return_grad=True)
    check_output(got, expected, np.float64)
    with pytest.raises(ValueError, match="target"):
        getattr(cyloss, fn)(x[0].T, _as_matrix(t))


@pytest.mark.parametrize("name", list(OUT_FUNCS))
@pytest.mark.parametrize("axis", [-1, 0])
def test_matrix_out(name, axis, rng):
    args = _out_args(name, np.float64, rng, (4, 5))
    if "backward" in name:
        x = rng.normal(0, 2, (4, 5))
        args = ((ref.softmax if name == "softmax_backward" else ref.log_softmax)(x, axis), args[1])
    out = _as_matrix(np.full((4, 5), np.nan))
    assert getattr(cyloss, name)(*args, axis=axis, out=out) is out
    assert_close(np.asarray(out), OUT_FUNCS[name][1](args, axis), np.float64, scale=8)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_memmap_inputs(case, tmp_path):
    """np.memmap arguments (read-write and read-only) compute as plain arrays."""
    args, kwargs = build(case, np.float32)
    expected = case.reference(args, kwargs)

    def mm(a, i, mode):
        if not isinstance(a, np.ndarray) or a.size == 0:
            return a
        f = tmp_path / f"{i}.bin"
        a.tofile(f)
        return np.memmap(f, dtype=a.dtype, mode=mode, shape=a.shape)

    for mode in ("r+", "r"):
        margs = [mm(a, f"a{i}{mode}", mode) for i, a in enumerate(args)]
        mkwargs = {k: mm(v, f"{k}{mode}", mode) for k, v in kwargs.items()}
        got = getattr(cyloss, case.func)(*margs, **mkwargs)
        check_output(got, expected, np.float32, scale=scale_of(args, kwargs), what=f"{case.name} {mode}")
        for a, b in zip(margs, args):
            np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- many dimensions
MANY_DIMS = (2,) + (1,) * 37 + (3, 1, 4)      # 41 dimensions (NumPy allows 64)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "logsumexp_b", "softmax_backward",
                                  "log_softmax_backward", "cross_entropy", "nll_loss", "bce_with_logits",
                                  "bce", "kl_div", "entropy", "mse_loss", "l1_loss", "huber_loss",
                                  "smooth_l1_loss"])
def test_more_than_32_dims_without_broadcasting(name, dtype, rng):
    """Arrays of one shape are never broadcast, so NumPy's 32-dimension broadcasting limit
    does not apply: any number of dimensions NumPy allows works."""
    x = rng.normal(0, 2, MANY_DIMS).astype(dtype)
    p = rng.uniform(0.05, 0.95, MANY_DIMS).astype(dtype)
    t = rng.integers(0, 4, MANY_DIMS[:-1])
    calls = {
        "softmax": ((x,), {"axis": 0}, lambda: ref.softmax(x, 0)),
        "log_softmax": ((x,), {}, lambda: ref.log_softmax(x)),
        "logsumexp": ((x,), {"axis": (0, 38)}, lambda: ref.logsumexp(x, (0, 38))),
        "logsumexp_b": ((x,), {"b": p, "axis": -1}, lambda: ref.logsumexp(x, -1, b=p)),
        "softmax_backward": ((p, x), {}, lambda: ref.softmax_backward(p, x)),
        "log_softmax_backward": ((p, x), {}, lambda: ref.log_softmax_backward(p, x)),
        "cross_entropy": ((x, t), {"return_grad": True}, lambda: ref.cross_entropy(x, t)),
        "nll_loss": ((x, t), {"return_grad": True}, lambda: ref.nll_loss(x, t)),
        "bce_with_logits": ((x, p), {"weight": p, "pos_weight": p, "return_grad": True},
                            lambda: ref.binary_cross_entropy_with_logits(x, p, p, p)),
        "bce": ((p, p), {"weight": p, "return_grad": True}, lambda: ref.binary_cross_entropy(p, p, p)),
        "kl_div": ((x, p), {"return_grad": True}, lambda: ref.kl_div(x, p)),
        "entropy": ((p,), {}, lambda: ref.entropy(p)),
        "mse_loss": ((x, p), {"weight": p, "return_grad": True}, lambda: ref.mse_loss(x, p, p)),
        "l1_loss": ((x, p), {"return_grad": True}, lambda: ref.l1_loss(x, p)),
        "huber_loss": ((x, p), {"reduction": "none", "return_grad": True},
                       lambda: ref.huber_loss(x, p, reduction="none")),
        "smooth_l1_loss": ((x, p), {"weight": p, "return_grad": True}, lambda: ref.smooth_l1_loss(x, p, 1.0, p)),
    }
    args, kwargs, reference = calls[name]
    func = {"logsumexp_b": "logsumexp", "bce_with_logits": "binary_cross_entropy_with_logits",
            "bce": "binary_cross_entropy"}.get(name, name)
    got = getattr(cyloss, func)(*args, **kwargs)
    check_output(got, reference(), dtype, scale=8)


# --------------------------------------------------------------------------- internal casts
def _cast(a, dtype):
    with np.errstate(over="ignore"):
        return np.asarray(a).astype(dtype)


_W = np.array([1e300, 1.0, 2e-310, 3.0])        # float64 weights beyond the float32 range
_X4 = np.array([[0.5, -1.0, 2.0, 0.25], [1.0, 3.0, -2.0, 0.0]], dtype=np.float32)
_P4 = np.array([[0.25, 0.5, 0.75, 1.0], [0.0, 0.5, 0.125, 0.9]], dtype=np.float32)
_T2 = np.array([0, 1])
_H = np.float16
CAST_CALLS = {
    # name: (cyloss call, reference on the inputs as the kernels see them, result dtype)
    "ce_weight_f64_1e300": (lambda: cyloss.cross_entropy(_X4, _T2, weight=_W, return_grad=True),
                            lambda: ref.cross_entropy(_X4, _T2, weight=_cast(_W, np.float32)), np.float32),
    "ce_probs_weight": (lambda: cyloss.cross_entropy(_X4, _P4, weight=_W, reduction="sum", return_grad=True),
                        lambda: ref.cross_entropy(_X4, _P4, weight=_cast(_W, np.float32), reduction="sum"),
                        np.float32),
    "nll_weight": (lambda: cyloss.nll_loss(_X4, _T2, weight=_W, reduction="none", return_grad=True),
                   lambda: ref.nll_loss(_X4, _T2, weight=_cast(_W, np.float32), reduction="none"), np.float32),
    "bce_logits_weight": (lambda: cyloss.binary_cross_entropy_with_logits(_X4, _P4, weight=_W, return_grad=True),
                          lambda: ref.binary_cross_entropy_with_logits(_X4, _P4, weight=_cast(_W, np.float32)),
                          np.float32),
    # (loss only: with an infinite pos_weight the gradient is NaN, as in torch; the reference says -inf)
    "bce_logits_pos_weight": (lambda: (cyloss.binary_cross_entropy_with_logits(
        _X4, _P4, pos_weight=_W, reduction="sum"),),
        lambda: ref.binary_cross_entropy_with_logits(_X4, _P4, pos_weight=_cast(_W, np.float32),
                                                     reduction="sum")[:1], np.float32),
    "bce_weight": (lambda: cyloss.binary_cross_entropy(_P4, _P4, weight=_W, reduction="none", return_grad=True),
                   lambda: ref.binary_cross_entropy(_P4, _P4, weight=_cast(_W, np.float32), reduction="none"),
                   np.float32),
    "mse_target_f64": (lambda: cyloss.mse_loss(_X4, _W, reduction="none", return_grad=True),
                       lambda: ref.mse_loss(_X4, _cast(_W, np.float32), reduction="none"), np.float32),
    "l1_weight": (lambda: cyloss.l1_loss(_X4, _P4, weight=_W, reduction="sum", return_grad=True),
                  lambda: ref.l1_loss(_X4, _P4, weight=_cast(_W, np.float32), reduction="sum"), np.float32),
    "logsumexp_b": (lambda: cyloss.logsumexp(_X4, axis=1, b=_W),
                    lambda: ref.logsumexp(_X4, axis=1, b=_cast(_W, np.float32)), np.float32),
    "kl_target_f64": (lambda: cyloss.kl_div(_X4, _W, reduction="sum", return_grad=True),
                      lambda: ref.kl_div(_X4, _cast(_W, np.float32), reduction="sum"), np.float32),
    # float32 -> float16 results beyond 65504
    "f16_mse_sum": (lambda: cyloss.mse_loss(np.full(3, 300, _H), _H(0), reduction="sum", return_grad=True),
                    lambda: ref.mse_loss(np.full(3, 300, _H), 0.0, reduction="sum"), _H),
    "f16_mse_none": (lambda: cyloss.mse_loss(np.full(3, 300, _H), _H(0), reduction="none", return_grad=True),
                     lambda: ref.mse_loss(np.full(3, 300, _H), 0.0, reduction="none"), _H),
    "f16_log_softmax": (lambda: cyloss.log_softmax(np.array([60000, -60000, 0], _H)),
                        lambda: ref.log_softmax(np.array([60000, -60000, 0], _H)), _H),
    "f16_log_softmax_out": (lambda: cyloss.log_softmax(np.array([60000, -60000, 0], _H), out=np.empty(3, _H)),
                            lambda: ref.log_softmax(np.array([60000, -60000, 0], _H)), _H),
    "f16_entropy": (lambda: cyloss.entropy(np.full((2, 100), 300, _H)),
                    lambda: ref.entropy(np.full((2, 100), 300, _H)), _H),
    "f16_ce_none": (lambda: cyloss.cross_entropy(np.array([[60000, -60000]], _H), [1], reduction="none",
                                                 return_grad=True),
                    lambda: ref.cross_entropy(np.array([[60000, -60000]], _H), [1], reduction="none"), _H),
    "f16_kl_batchmean": (lambda: cyloss.kl_div(np.full((1, 4), -60000, _H), np.full((1, 4), 1.0, _H),
                                               reduction="batchmean", return_grad=True),
                         lambda: ref.kl_div(np.full((1, 4), -60000, _H), np.full((1, 4), 1.0, _H),
                                            reduction="batchmean"), _H),
    # a gradient summed over broadcast dimensions in float64, beyond the float32 range
    "f32_grad_sum_to_shape": (lambda: cyloss.mse_loss(np.zeros(1, np.float32), np.full(4, -1e38, np.float32),
                                                      reduction="sum", return_grad=True),
                              lambda: ref.mse_loss(np.zeros(1, np.float32), np.full(4, -1e38, np.float32),
                                                   reduction="sum"), np.float32),
    # long double beyond the float64 range
    "longdouble_softmax": (lambda: cyloss.softmax(np.array([np.longdouble("1e4000"), 0, 1])),
                           lambda: ref.softmax(_cast(np.array([np.longdouble("1e4000"), 0, 1]), np.float64)),
                           np.float64),
    "longdouble_target": (lambda: cyloss.l1_loss(np.zeros(2), np.array([np.longdouble("-1e4000"), 1]),
                                                 return_grad=True),
                          lambda: ref.l1_loss(np.zeros(2), [-np.inf, 1.0]), np.float64),
}


@pytest.mark.parametrize("name", list(CAST_CALLS))
def test_internal_casts_do_not_warn(name):
    """Overflow in an internal cast (float64 weights / targets to float32, float32 results
    to float16, float64 sums to float32, long double to float64) gives the documented inf
    (compared with the reference on the inputs as converted) and no NumPy warning."""
    call, reference, dtype = CAST_CALLS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = call()
    with np.errstate(all="ignore"):
        expected = reference()
    if not isinstance(got, tuple):
        got, expected = (got,), (expected,)
    for g, e in zip(got, expected):
        e = np.asarray(e, dtype=np.float64)
        assert np.asarray(g).dtype == dtype and np.shape(g) == e.shape
        with np.errstate(over="ignore"):
            e = e.astype(dtype).astype(np.float64)     # the reference rounded to the result dtype
        np.testing.assert_allclose(np.asarray(g, dtype=np.float64), e,
                                   rtol=2e-3 if dtype == _H else 1e-5, atol=0)


def test_cross_entropy_fast_path_overflow_does_not_warn():
    x = np.array([[3e38, -3e38]], dtype=np.float32)    # loss = 6e38: inf in float32
    expected = _cast(ref.cross_entropy(x, np.array([1]))[0], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = cyloss.cross_entropy(x, np.array([1]))
    assert loss == expected == np.inf
