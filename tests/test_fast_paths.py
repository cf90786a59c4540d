"""The Cython fast paths of the common calls (cyloss._core.*_fast): they are taken where
they apply (the general kernel wrapper is never reached), give exactly what the general
path gives (same kernels, same arithmetic), match the references, and leave every other
call to the general path (which validates and raises the clear errors)."""
import re
import warnings

import numpy as np
import pytest

import cyloss
import _reference as ref
from _helpers import FLOAT_DTYPES, FLOAT_IDS, apply_layout, assert_close


def _bits(a):
    a = np.asarray(a)
    return a.view(np.dtype(f"u{a.dtype.itemsize}"))


def assert_bitwise(a, b, what=""):
    assert type(a) is type(b), what
    assert np.asarray(a).dtype == np.asarray(b).dtype and np.shape(a) == np.shape(b), what
    np.testing.assert_array_equal(_bits(a), _bits(b), err_msg=what)


@pytest.fixture
def general_path_off(monkeypatch):
    """Make the general kernel wrappers of the functions under test raise."""
    def forbid(name):
        def f(*args, **kwargs):
            raise AssertionError(f"general path taken: _core.{name}")
        monkeypatch.setattr(cyloss._core, name, f)
    return forbid


# --------------------------------------------------------------------------- nll_loss
def _nll_data(rng, n, c, dtype, ignore=()):
    x = ref.log_softmax(rng.normal(0, 3, (n, c))).astype(dtype)
    t = rng.integers(0, c, n)
    for i in ignore:
        t[i] = -100
    return x, t


@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("return_grad", [False, True])
@pytest.mark.parametrize("n,c", [(1, 1), (3, 5), (7, 40), (1000, 33)])
def test_fast_path_taken_and_equal_to_general(fn, dtype, reduction, return_grad, n, c, rng, general_path_off):
    x, t = _nll_data(rng, n, c, dtype, ignore=(0,) if n > 2 else ())
    # the general path of the same call: weight=ones, class axis given as a positive axis
    expected = getattr(cyloss, fn)(x, t, axis=1, weight=np.ones(c, dtype), reduction=reduction,
                                   return_grad=return_grad)
    general_path_off(fn)
    general_path_off("class_weight_sum")
    got = getattr(cyloss, fn)(x, t, reduction=reduction, return_grad=return_grad)
    if return_grad:
        assert_bitwise(got[0], expected[0], "loss")
        assert_bitwise(got[1], expected[1], "grad")
        assert got[1].flags.c_contiguous and got[1].flags.writeable
    else:
        assert_bitwise(got, expected, "loss")
    r = getattr(ref, fn)(x, t, reduction=reduction)
    assert_close(got[0] if return_grad else got, r[0], dtype, scale=10)
    if return_grad:
        assert_close(got[1], r[1], dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_nll_loss_fast_path_all_ignored(dtype, general_path_off):
    x = np.zeros((4, 3), dtype)
    t = np.full(4, -100)
    general_path_off("nll_loss")
    loss, grad = cyloss.nll_loss(x, t, return_grad=True)
    assert type(loss) is np.dtype(dtype).type and np.isnan(loss)
    assert_bitwise(grad, np.zeros((4, 3), dtype))
    assert cyloss.nll_loss(x, t, reduction="sum") == 0


@pytest.mark.parametrize("kwargs,args", [
    ({"weight": np.ones(5)}, None),
    ({"axis": 1}, None),
    ({"axis": np.int64(-1)}, None),
    ({"ignore_index": np.int64(-100)}, None),
    ({"reduction": "none"}, None),
    ({"return_grad": 1}, None),
    ({}, "x_f16"), ({}, "x_3d"), ({}, "x_fortran"), ({}, "x_unaligned"), ({}, "x_list"),
    ({}, "t_int32"), ({}, "t_strided"), ({}, "t_2d"),
])
def test_nll_loss_other_calls_take_the_general_path(kwargs, args, rng):
    x, t = _nll_data(rng, 6, 5, np.float64)
    if args == "x_f16":
        x = x.astype(np.float16)
    elif args == "x_3d":
        x, t = x.reshape(2, 3, 5), t.reshape(2, 3)
    elif args in ("x_fortran", "x_unaligned", "x_list"):
        x = apply_layout(x, args[2:])
    elif args == "t_int32":
        t = t.astype(np.int32)
    elif args == "t_strided":
        t = apply_layout(t, "strided")
    elif args == "t_2d":
        x, t = x.reshape(6, 1, 5), t.reshape(6, 1)
    calls = []
    real = cyloss._core.nll_loss

    def spy(*a):
        calls.append(1)
        return real(*a)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cyloss._core, "nll_loss", spy)
        got = cyloss.nll_loss(x, t, **kwargs)
    assert calls, "the general path was not taken"
    expected = ref.nll_loss(np.asarray(x, dtype=np.float64), t, axis=int(kwargs.get("axis", -1)),
                            weight=kwargs.get("weight"), ignore_index=int(kwargs.get("ignore_index", -100)),
                            reduction=kwargs.get("reduction", "mean"))
    loss = got[0] if isinstance(got, tuple) else got
    np.testing.assert_allclose(np.asarray(loss, dtype=np.float64), expected[0], rtol=1e-3)


@pytest.mark.parametrize("fn", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("return_grad", [False, True])
def test_first_bad_target_is_reported(fn, reduction, weighted, return_grad):
    """Several out-of-range targets (on the fast and the general path, with and without the
    "mean" denominator pass): the message names the first."""
    n, c = 11, 4
    x = np.zeros((n, c))
    t = np.arange(n) % c
    t[[0, 5]] = -100
    t[6], t[9], t[10] = 7, -3, 4
    kw = {"weight": np.ones(c)} if weighted else {}
    with pytest.raises(IndexError, match=re.escape("target[6] = 7 is out of range for 4 classes")):
        getattr(cyloss, fn)(x, t, reduction=reduction, return_grad=return_grad, **kw)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n", [1, 3, 4, 5, 8, 13])
def test_nll_kernel_rows_and_lanes(dtype, weighted, n, rng):
    """Per-row losses and the sum of the one-pass kernel for every n mod 4 (its four
    accumulators), ignored rows included, against the reference."""
    c = 6
    x, t = _nll_data(rng, n, c, dtype, ignore=range(0, n, 3))
    w = rng.uniform(0.5, 2, c).astype(dtype) if weighted else None
    loss, grad = cyloss.nll_loss(x, t, weight=w, reduction="none", return_grad=True)
    r = ref.nll_loss(x, t, weight=w, reduction="none")
    assert_close(loss, r[0], dtype)
    assert_close(grad, r[1], dtype)
    s = cyloss.nll_loss(x, t, weight=w, reduction="sum")
    assert_close(s, ref.nll_loss(x, t, weight=w, reduction="sum")[0], dtype, scale=10)
    total = cyloss._core.nll_loss(np.ascontiguousarray(x), t, w, -100, 1.0, None, None)
    assert total == pytest.approx(float(np.sum(r[0], dtype=np.float64)), rel=1e-5, abs=1e-5)


def test_nll_kernel_bad_target_leaves_gradient_untouched():
    """The kernel stops at the first bad target before writing any gradient."""
    x = np.zeros((9, 3))
    t = np.array([0, 1, 2, 0, 1, 5, 2, 7, 0])
    grad = np.full((9, 3), 42.0)
    with pytest.raises(cyloss._core.KernelError) as exc:
        cyloss._core.nll_loss(x, t, None, -100, 1.0, None, grad)
    assert exc.value.args[1] == 5
    assert np.all(grad == 42.0)


# --------------------------------------------------------------------------- logsumexp
def _lse_calls():
    # (shape, kwargs) of calls the fast path takes
    return [((10,), {}), ((10,), {"axis": None}), ((10,), {"axis": 0}), ((10,), {"axis": -1}),
            ((1, 10), {"axis": -1}), ((1, 10), {"axis": 1}), ((4, 3, 7), {"axis": -1}),
            ((4, 3, 7), {"axis": 2}), ((1,), {}), ((300, 1000), {"axis": -1}), ((5, 40), {"axis": 1})]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("shape,kwargs", _lse_calls(), ids=lambda v: str(v))
def test_logsumexp_fast_path_taken_and_equal_to_general(dtype, shape, kwargs, rng, general_path_off):
    x = rng.normal(0, 3, shape).astype(dtype)
    # the general path of the same reduction: keepdims, then drop the kept axis
    expected = cyloss.logsumexp(x, axis=kwargs.get("axis", None), keepdims=True)
    expected = expected.reshape(expected.shape[:-1])
    expected = expected[()] if expected.ndim == 0 else expected
    general_path_off("logsumexp")
    got = cyloss.logsumexp(x, **kwargs)
    assert_bitwise(got, expected)
    if np.ndim(got):
        assert type(got) is np.ndarray and got.flags.c_contiguous
    else:
        assert type(got) is np.dtype(dtype).type
    axis = kwargs.get("axis", None)
    assert_close(got, ref.logsumexp(x, None if axis is None else int(axis)), dtype, scale=10)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
def test_logsumexp_fast_path_special_values(dtype, general_path_off):
    x = np.array([[0.0, -np.inf, 1.0], [np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf],
                  [np.nan, 0.0, 1.0], [1e-30, -1e-30, 0.0]], dtype=dtype)
    expected = cyloss.logsumexp(x, axis=1, keepdims=True)[:, 0]
    general_path_off("logsumexp")
    got = cyloss.logsumexp(x, axis=-1)
    assert_bitwise(got, expected)
    assert_close(got, ref.logsumexp(x, -1), dtype)


@pytest.mark.parametrize("shape,kwargs", [
    ((3, 4), {}), ((3, 4), {"axis": 0}), ((3, 4), {"axis": np.int64(-1)}), ((3, 4), {"axis": (1,)}),
    ((3, 4), {"axis": -1, "keepdims": True}), ((3, 4), {"axis": -1, "keepdims": 0}),
    ((3, 4), {"axis": -1, "return_sign": True}), ((3, 4), {"axis": -1, "b": np.ones(4)}),
    ((3, 0), {"axis": -1}), ((0, 4), {"axis": -1}), ((), {}), ((0,), {}),
], ids=lambda v: str(v))
@pytest.mark.parametrize("layout", ["contiguous", "fortran", "unaligned", "bigendian", "list", "f16", "int"])
def test_logsumexp_other_calls_take_the_general_path(shape, kwargs, layout, rng):
    x = rng.normal(0, 2, shape)
    if layout == "f16":
        xx = x.astype(np.float16)
    elif layout == "int":
        xx = np.round(x).astype(np.int64)
    else:
        xx = apply_layout(x, layout)
    if np.shape(xx) != shape:
        pytest.skip("np.asfortranarray makes a 0-d array 1-D")
    calls = []
    real = cyloss._core.logsumexp

    def spy(*a):
        calls.append(1)
        return real(*a)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cyloss._core, "logsumexp", spy)
        got = cyloss.logsumexp(xx, **kwargs)
    assert calls, "the general path was not taken"
    kw = dict(kwargs)
    if isinstance(kw.get("axis"), np.integer):
        kw["axis"] = int(kw["axis"])
    expected = ref.logsumexp(np.asarray(xx, dtype=np.float64).reshape(np.shape(xx) or (1,)), **kw)
    if isinstance(expected, tuple):
        got, expected = got[0], expected[0]
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), expected, rtol=2e-3)


# --------------------------------------------------------------------------- grad_out=
@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_fast_path_writes_grad_out(fn, dtype, reduction, rng, general_path_off):
    """The common call with a C-contiguous grad_out of the logits' dtype stays on the fast
    path, writes the gradient into grad_out and returns it."""
    x, t = _nll_data(rng, 50, 9, dtype, ignore=(3,))
    expected = getattr(cyloss, fn)(x, t, reduction=reduction, return_grad=True)
    g = np.full_like(x, np.nan)
    general_path_off(fn)
    general_path_off("class_weight_sum")
    loss, grad = getattr(cyloss, fn)(x, t, reduction=reduction, return_grad=True, grad_out=g)
    assert grad is g
    assert_bitwise(loss, expected[0])
    assert_bitwise(g, expected[1])


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("kind", ["fortran", "strided", "unaligned", "matrix", "is_x", "overlaps_x",
                                  "overlaps_target", "f16", "other_float", "readonly", "shape", "no_return_grad"])
def test_fast_path_leaves_other_grad_outs_to_the_general_path(fn, kind, rng):
    """grad_out the fast path cannot write directly: the general path writes it through a
    temporary, or raises the error naming grad_out."""
    x, t = _nll_data(rng, 6, 5, np.float64)
    expected = getattr(cyloss, fn)(x.copy(), t.copy(), return_grad=True)
    kw = {"return_grad": True}
    if kind in ("fortran", "strided", "unaligned"):
        g = apply_layout(np.zeros_like(x), kind)
    elif kind == "matrix":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            g = np.asmatrix(np.zeros_like(x))
    elif kind == "is_x":
        g = x
    elif kind == "overlaps_x":
        buf = np.concatenate([x.ravel(), [0.0]])
        x, g = buf[:-1].reshape(6, 5), buf[1:].reshape(6, 5)
    elif kind == "overlaps_target":
        buf = np.zeros(36)
        tt = buf[29:35].view(np.int64)                   # the target's first element is g's last
        tt[...] = t
        t, g = tt, buf[:30].reshape(6, 5)
    else:
        g = {"f16": lambda: np.zeros(x.shape, np.float16), "other_float": lambda: np.zeros(x.shape, np.float32),
             "readonly": lambda: np.frombuffer(np.zeros(30).tobytes()).reshape(6, 5),
             "shape": lambda: np.zeros((6, 6)), "no_return_grad": lambda: np.zeros_like(x)}[kind]()
        with pytest.raises((TypeError, ValueError), match=r"(?<![\w'])grad_out(?![\w'])"):
            if kind == "no_return_grad":
                kw = {}
            getattr(cyloss, fn)(x, t, grad_out=g, **kw)
        return
    loss, grad = getattr(cyloss, fn)(x, t, grad_out=g, **kw)
    assert grad is g
    assert_bitwise(loss, expected[0])
    np.testing.assert_array_equal(np.asarray(g), expected[1])
