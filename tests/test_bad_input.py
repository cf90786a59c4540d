"""Invalid arguments raise clear exceptions whose message names the offending argument.

Out-of-range class targets (IndexError with position and value), shape mismatches,
unknown reductions, invalid scalar parameters, wrong weight lengths, non-real dtypes,
probabilities outside [0, 1], out-of-range axes.
"""
import re

import numpy as np
import pytest

import cyloss

AxisError = np.exceptions.AxisError

X = np.arange(12.0).reshape(3, 4) / 7.0
P = np.full((3, 4), 0.25)
T = np.array([0, 3, 1])


def named(name):
    """Regex: the argument name as a word (so 'weight' does not match 'pos_weight')."""
    return rf"(?<![\w]){re.escape(name)}(?![\w])"


# name -> (function, positional [(argname, value)], keyword {argname: value})
CALLS = {
    "softmax": ("softmax", [("x", X)], {}),
    "log_softmax": ("log_softmax", [("x", X)], {}),
    "logsumexp": ("logsumexp", [("x", X)], {"b": P}),
    "softmax_backward": ("softmax_backward", [("y", P), ("grad", X)], {}),
    "log_softmax_backward": ("log_softmax_backward", [("log_y", np.log(P)), ("grad", X)], {}),
    "cross_entropy": ("cross_entropy", [("logits", X), ("target", T)],
                      {"weight": np.ones(4)}),
    "cross_entropy_probs": ("cross_entropy", [("logits", X), ("target", P)],
                            {"weight": np.ones(4)}),
    "nll_loss": ("nll_loss", [("log_probs", X), ("target", T)], {"weight": np.ones(4)}),
    "bce_with_logits": ("binary_cross_entropy_with_logits", [("logits", X), ("target", P)],
                        {"weight": P, "pos_weight": np.ones(4)}),
    "bce": ("binary_cross_entropy", [("probs", P), ("target", P)], {"weight": P}),
    "kl_div": ("kl_div", [("log_q", X), ("target", P)], {}),
    "entropy": ("entropy", [("p", P)], {}),
    "mse_loss": ("mse_loss", [("pred", X), ("target", P)], {"weight": P}),
    "l1_loss": ("l1_loss", [("pred", X), ("target", P)], {"weight": P}),
    "huber_loss": ("huber_loss", [("pred", X), ("target", P)], {"weight": P}),
    "smooth_l1_loss": ("smooth_l1_loss", [("pred", X), ("target", P)], {"weight": P}),
}
LOSSES = [k for k in CALLS if k not in ("softmax", "log_softmax", "logsumexp",
                                         "softmax_backward", "log_softmax_backward", "entropy")]


def _call(name, **override):
    fn, pos, kw = CALLS[name]
    args = [override.pop(n, v) for n, v in pos]
    kwargs = dict(kw)
    kwargs.update(override)
    return getattr(cyloss, fn)(*args, **kwargs)


@pytest.mark.parametrize("name", list(CALLS))
def test_base_calls_are_valid(name):
    """The calls below differ from these valid ones by one argument only."""
    _call(name)


BAD_DTYPES = {
    "complex": lambda a: np.asarray(a).astype(np.complex128),
    "complex64": lambda a: np.asarray(a).astype(np.complex64),
    "object": lambda a: np.asarray(a).astype(object),
    "string": lambda a: np.asarray(a).astype(str),
    "bytes": lambda a: np.asarray(a).astype("S8"),
    "datetime": lambda a: np.zeros(np.shape(a), dtype="datetime64[s]"),
}
ARRAY_ARGS = [(name, arg) for name, (_, pos, kw) in CALLS.items()
              for arg in [n for n, _ in pos] + list(kw)]


@pytest.mark.parametrize("name,arg", ARRAY_ARGS, ids=[f"{n}-{a}" for n, a in ARRAY_ARGS])
@pytest.mark.parametrize("bad", list(BAD_DTYPES))
def test_non_real_dtype_raises_typeerror(name, arg, bad):
    fn, pos, kw = CALLS[name]
    value = dict(pos).get(arg, kw.get(arg))
    with pytest.raises(TypeError, match=named(arg)):
        _call(name, **{arg: BAD_DTYPES[bad](value)})


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("reduction", ["avg", "MEAN", "", "elementwise_mean", "batchmean"])
def test_unknown_reduction(name, reduction):
    if name == "kl_div" and reduction == "batchmean":
        pytest.skip("batchmean is valid for kl_div")
    with pytest.raises(ValueError, match=named("reduction")):
        _call(name, reduction=reduction)


@pytest.mark.parametrize("reduction", ["avg", "", "BatchMean"])
def test_kl_div_unknown_reduction(reduction):
    with pytest.raises(ValueError, match=named("reduction")):
        _call("kl_div", reduction=reduction)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("T", [0.0, -0.0, -1.0, np.nan, np.inf, -np.inf])
def test_bad_temperature(name, T):
    with pytest.raises(ValueError, match=named("temperature")):
        _call(name, temperature=T)


@pytest.mark.parametrize("name", ["cross_entropy", "cross_entropy_probs"])
@pytest.mark.parametrize("eps", [-0.1, 1.1, -1e-9, np.nan, np.inf])
def test_bad_label_smoothing(name, eps):
    with pytest.raises(ValueError, match=named("label_smoothing")):
        _call(name, label_smoothing=eps)


@pytest.mark.parametrize("delta", [0.0, -1.0, np.nan, -np.inf])
def test_bad_huber_delta(delta):
    with pytest.raises(ValueError, match=named("delta")):
        _call("huber_loss", delta=delta)


@pytest.mark.parametrize("beta", [-0.5, -1e-12, np.nan, -np.inf])
def test_bad_smooth_l1_beta(beta):
    with pytest.raises(ValueError, match=named("beta")):
        _call("smooth_l1_loss", beta=beta)


@pytest.mark.parametrize("name", ["cross_entropy", "cross_entropy_probs", "nll_loss"])
@pytest.mark.parametrize("weight", [np.ones(3), np.ones(5), np.ones((4, 1)), np.ones((1, 4)),
                                    np.float64(1.0), np.ones(0)],
                         ids=["short", "long", "col", "row", "scalar", "empty"])
def test_bad_class_weight(name, weight):
    with pytest.raises(ValueError, match=named("weight")):
        _call(name, weight=weight)


# --------------------------------------------------------------------------- class targets
def _assert_index_message(exc, value, position=None):
    msg = str(exc.value)
    assert "target" in msg, msg
    assert re.search(rf"(?<![\w.]){re.escape(str(value))}(?![\w.])", msg), msg
    if position is not None:
        assert re.search(rf"(?<![\w.-]){position}(?![\w.])", msg), msg


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("value", [4, 13, 2**40, -3, -1, -101])
@pytest.mark.parametrize("tdtype", ["int64", "int32", "list"])
def test_target_out_of_range(fn, value, tdtype):
    x = np.zeros((7, 4))
    t = np.array([0, 1, 2, 3, 0, 1, 2])
    t_bad = t.copy()
    if tdtype == "int32" and abs(value) > 2**31:
        pytest.skip("does not fit")
    t_bad = t_bad.astype(tdtype if tdtype != "list" else np.int64)
    t_bad[5] = value
    tt = t_bad.tolist() if tdtype == "list" else t_bad
    with pytest.raises(IndexError) as exc:
        getattr(cyloss, fn)(x, tt)
    _assert_index_message(exc, value, position=5)
    with pytest.raises(IndexError):
        getattr(cyloss, fn)(x, tt, return_grad=True, reduction="none")


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_target_out_of_range_unsigned_and_nd(fn):
    x = np.zeros((2, 4, 3))  # (N, C, d1), axis=1
    t = np.zeros((2, 3), dtype=np.uint64)
    t[1, 2] = 2**63 + 5       # must not wrap to a negative / in-range value
    with pytest.raises(IndexError, match="target"):
        getattr(cyloss, fn)(x, t, axis=1)
    t = np.zeros((2, 3), dtype=np.uint8)
    t[1, 1] = 200
    with pytest.raises(IndexError) as exc:
        getattr(cyloss, fn)(x, t, axis=1)
    _assert_index_message(exc, 200)
    t = np.zeros((2, 3), dtype=np.int64)
    t[0, 2] = 4               # == C
    with pytest.raises(IndexError) as exc:
        getattr(cyloss, fn)(x, t, axis=1)
    _assert_index_message(exc, 4)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_target_out_of_range_unbatched(fn):
    with pytest.raises(IndexError, match="target"):
        getattr(cyloss, fn)(np.zeros(4), 4)
    with pytest.raises(IndexError, match="target"):
        getattr(cyloss, fn)(np.zeros(4), -2)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_negative_target_other_than_ignore_index(fn):
    x = np.zeros((3, 4))
    getattr(cyloss, fn)(x, [0, -1, 2], ignore_index=-1)       # fine
    with pytest.raises(IndexError) as exc:
        getattr(cyloss, fn)(x, [0, -100, 2], ignore_index=-1)  # -100 is not ignored now
    _assert_index_message(exc, -100, position=1)
    with pytest.raises(IndexError):
        getattr(cyloss, fn)(x, [0, -1, 2])                     # default ignore_index=-100


# --------------------------------------------------------------------------- shapes
SHAPE_MISMATCH = {
    "ce_target_len": ("cross_entropy", {"target": np.array([0, 1, 2, 3])}, "target|logits"),
    "ce_target_2d": ("cross_entropy", {"target": np.zeros((3, 1), dtype=int)}, "target|logits"),
    "ce_target_full_int": ("cross_entropy", {"target": np.zeros((3, 4), dtype=int)},
                           "target|logits"),
    "ce_probs_shape": ("cross_entropy", {"target": np.full((3, 5), 0.2)}, "target|logits"),
    "ce_float_target_no_class_axis": ("cross_entropy", {"target": np.zeros(3)},
                                      "target|logits"),
    "ce_unbatched_target_1d": ("cross_entropy", {"logits": np.zeros(4),
                                                 "target": np.array([1])}, "target|logits"),
    "nll_target_len": ("nll_loss", {"target": np.array([0, 1])}, "target|log_probs"),
    "bcel_target": ("bce_with_logits", {"target": np.zeros((3, 5))}, "target|logits"),
    "bcel_target_bcast": ("bce_with_logits", {"target": np.zeros(4)}, "target|logits"),
    "bcel_weight": ("bce_with_logits", {"weight": np.ones(5)}, "weight"),
    "bcel_pos_weight": ("bce_with_logits", {"pos_weight": np.ones(5)}, "pos_weight"),
    "bcel_weight_bigger": ("bce_with_logits", {"weight": np.ones((2, 3, 4))}, "weight"),
    "bce_target": ("bce", {"target": np.zeros((4, 4))}, "target|probs"),
    "bce_weight": ("bce", {"weight": np.ones(3)}, "weight"),
    "kl_target": ("kl_div", {"target": np.zeros((3, 5))}, "target|log_q"),
    "mse_target": ("mse_loss", {"target": np.zeros((3, 5))}, "target|pred"),
    "l1_weight": ("l1_loss", {"weight": np.ones(5)}, "weight"),
    "huber_weight_bigger": ("huber_loss", {"weight": np.ones((2, 3, 4))}, "weight"),
    "smooth_l1_target": ("smooth_l1_loss", {"target": np.zeros(3)}, "target|pred"),
    "softmax_backward": ("softmax_backward", {"grad": np.zeros((3, 5))}, "grad|y"),
    "log_softmax_backward": ("log_softmax_backward", {"grad": np.zeros((4, 4))}, "grad|log_y"),
    "logsumexp_b": ("logsumexp", {"b": np.ones(5)}, "b"),
}


@pytest.mark.parametrize("case", list(SHAPE_MISMATCH))
def test_shape_mismatch(case):
    name, override, argnames = SHAPE_MISMATCH[case]
    pattern = "|".join(named(a) for a in argnames.split("|"))
    with pytest.raises(ValueError, match=pattern):
        _call(name, **override)


# --------------------------------------------------------------------------- values
@pytest.mark.parametrize("bad", [1.5, -0.1, np.inf, -np.inf, 1.0000001])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_probs_outside_unit_interval(bad, dtype):
    p = np.array([0.2, 0.5, bad, 0.9], dtype=dtype)
    if dtype == np.float32 and bad == 1.0000001:
        p[2] = np.nextafter(np.float32(1), np.float32(2))
    with pytest.raises(ValueError, match=named("probs")):
        cyloss.binary_cross_entropy(p, np.zeros(4, dtype=dtype))


def test_bce_probs_nan_does_not_raise():
    loss = cyloss.binary_cross_entropy(np.array([0.5, np.nan]), np.array([1.0, 0.0]))
    assert np.isnan(loss)


# --------------------------------------------------------------------------- axes
AXIS_CALLS = {
    "softmax": lambda a: cyloss.softmax(X, axis=a),
    "log_softmax": lambda a: cyloss.log_softmax(X, axis=a),
    "logsumexp": lambda a: cyloss.logsumexp(X, axis=a),
    "logsumexp_tuple": lambda a: cyloss.logsumexp(X, axis=(0, a)),
    "softmax_backward": lambda a: cyloss.softmax_backward(P, X, axis=a),
    "log_softmax_backward": lambda a: cyloss.log_softmax_backward(np.log(P), X, axis=a),
    "cross_entropy": lambda a: cyloss.cross_entropy(X, T, axis=a),
    "cross_entropy_probs": lambda a: cyloss.cross_entropy(X, P, axis=a),
    "nll_loss": lambda a: cyloss.nll_loss(X, T, axis=a),
    "entropy": lambda a: cyloss.entropy(P, axis=a),
}


@pytest.mark.parametrize("name", list(AXIS_CALLS))
@pytest.mark.parametrize("axis", [2, -3, 100])
def test_axis_out_of_range(name, axis):
    with pytest.raises(AxisError):
        AXIS_CALLS[name](axis)


KEYWORD_ONLY = {
    "softmax": lambda: cyloss.softmax(X, -1, 2.0),
    "log_softmax": lambda: cyloss.log_softmax(X, -1, 2.0),
    "logsumexp": lambda: cyloss.logsumexp(X, 1, P),
    "cross_entropy": lambda: cyloss.cross_entropy(X, T, -1),
    "nll_loss": lambda: cyloss.nll_loss(X, T, -1),
    "bce_with_logits": lambda: cyloss.binary_cross_entropy_with_logits(X, P, P),
    "bce": lambda: cyloss.binary_cross_entropy(P, P, P),
    "kl_div": lambda: cyloss.kl_div(X, P, "sum"),
    "mse_loss": lambda: cyloss.mse_loss(X, P, P),
    "huber_loss": lambda: cyloss.huber_loss(X, P, 1.0),
    "smooth_l1_loss": lambda: cyloss.smooth_l1_loss(X, P, 1.0),
}


@pytest.mark.parametrize("name", list(KEYWORD_ONLY))
def test_options_are_keyword_only(name):
    with pytest.raises(TypeError):
        KEYWORD_ONLY[name]()


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("bad", [2**63, -(2**63) - 1, 2**70])
def test_ignore_index_outside_int64(fn, reduction, bad):
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match="ignore_index"):
        getattr(cyloss, fn)(x, np.array([0, 1]), ignore_index=bad, reduction=reduction)


# --------------------------------------------------------------------------- masked arrays
@pytest.mark.parametrize("name,arg", ARRAY_ARGS, ids=[f"{n}-{a}" for n, a in ARRAY_ARGS])
@pytest.mark.parametrize("masked", ["one", "none"])
def test_masked_array_raises_typeerror(name, arg, masked):
    """Masks are not supported: using the masked values silently would be a wrong result
    (and a mask with nothing masked is refused too, so the rule does not depend on data)."""
    fn, pos, kw = CALLS[name]
    value = np.asarray(dict(pos).get(arg, kw.get(arg)))
    mask = np.zeros(value.shape, dtype=bool)
    if masked == "one":
        mask.flat[0] = True
    with pytest.raises(TypeError, match=named(arg) + ".*mask"):
        _call(name, **{arg: np.ma.array(value, mask=mask)})


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmax_backward", "log_softmax_backward"])
def test_masked_out_raises_typeerror(name):
    with pytest.raises(TypeError, match=named("out") + ".*mask"):
        _call(name, out=np.ma.array(np.zeros((3, 4)), mask=False))


# --------------------------------------------------------------------------- > 32 dimensions
BIG = (1,) * 30 + (3, 1, 4)          # 33 dimensions
BCAST_33 = {  # NumPy broadcasting stops at 32 dimensions: ValueError naming the argument
    "mse_target": (lambda a: cyloss.mse_loss(a, 0.5), "pred"),
    "l1_pred": (lambda a: cyloss.l1_loss(0.5, a), "target"),
    "huber_bcast": (lambda a: cyloss.huber_loss(a, np.ones(4)), "pred"),
    "smooth_l1_weight": (lambda a: cyloss.smooth_l1_loss(a[..., 0, :], a[..., 0, :], weight=a), "weight"),
    "mse_weight_small": (lambda a: cyloss.mse_loss(a, a, weight=np.ones(4)), "weight"),
    "kl_div": (lambda a: cyloss.kl_div(a, np.full(4, 0.25)), "log_q"),
    "kl_div_target": (lambda a: cyloss.kl_div(np.zeros(4), a), "target"),
    "bce_logits_weight": (lambda a: cyloss.binary_cross_entropy_with_logits(a, a, weight=2.0), "weight"),
    "bce_logits_pos_weight": (lambda a: cyloss.binary_cross_entropy_with_logits(a, a, pos_weight=np.ones(4)),
                              "pos_weight"),
    "bce_weight": (lambda a: cyloss.binary_cross_entropy(a * 0 + 0.5, a * 0, weight=np.ones((3, 1, 4))),
                   "weight"),
    "logsumexp_b": (lambda a: cyloss.logsumexp(a, b=np.ones(4)), "b"),
    "logsumexp_b_big": (lambda a: cyloss.logsumexp(np.ones(4), b=a), "b"),
}


@pytest.mark.parametrize("case", list(BCAST_33))
def test_broadcasting_more_than_32_dims(case):
    fn, name = BCAST_33[case]
    with pytest.raises(ValueError, match=named(name) + "|" + named(name) + ".*32"):
        fn(np.full(BIG, 0.25))
    with pytest.raises(ValueError, match="32"):
        fn(np.full(BIG, 0.25))
