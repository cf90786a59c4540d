"""Invalid arguments raise clear exceptions whose message names the offending argument.

Out-of-range class targets (IndexError with position and value), shape mismatches,
unknown reductions, invalid scalar parameters, wrong weight lengths, non-real dtypes,
probabilities outside [0, 1], out-of-range axes.
"""
import re
import warnings

import numpy as np
import pytest

import cyloss
import _reference as ref

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


# (logits shape, axis, target shape, expected message) -- the message names the first argument's
# shape and the class axis as passed; the axis=1 hint appears exactly when axis=1 would fit.
TARGET_SHAPE_CASES = [
    ((4, 5, 8, 8), -1, (4, 8, 8),
     "target has shape (4, 8, 8), expected (4, 5, 8) (the {x}' shape without the class axis -1); "
     "for torch's (N, C, ...) layout pass axis=1"),
    ((4, 5, 8, 8), 3, (4, 8, 8),
     "target has shape (4, 8, 8), expected (4, 5, 8) (the {x}' shape without the class axis 3); "
     "for torch's (N, C, ...) layout pass axis=1"),
    ((2, 5, 6), -1, (2, 6),
     "target has shape (2, 6), expected (2, 5) (the {x}' shape without the class axis -1); "
     "for torch's (N, C, ...) layout pass axis=1"),
    ((6, 4), 0, (6,),
     "target has shape (6,), expected (4,) (the {x}' shape without the class axis 0); "
     "for torch's (N, C, ...) layout pass axis=1"),
    ((4, 5, 8, 8), -1, (4, 8, 7),   # axis=1 would not fit either: no hint
     "target has shape (4, 8, 7), expected (4, 5, 8) (the {x}' shape without the class axis -1)"),
    ((4, 5, 8, 8), 1, (4, 5, 8),    # already axis=1: no hint
     "target has shape (4, 5, 8), expected (4, 8, 8) (the {x}' shape without the class axis 1)"),
    ((4, 5), -1, (5,),              # 2-D: axis=-1 is axis 1
     "target has shape (5,), expected (4,) (the {x}' shape without the class axis -1)"),
    ((5,), 0, (1,),
     "target has shape (1,), expected () (the {x}' shape without the class axis 0)"),
]


@pytest.mark.parametrize("fn,x_name", [("cross_entropy", "logits"), ("nll_loss", "log_probs")])
@pytest.mark.parametrize("xshape,axis,tshape,message", TARGET_SHAPE_CASES,
                         ids=[f"{c[0]}-axis{c[1]}-{c[2]}" for c in TARGET_SHAPE_CASES])
def test_class_target_shape_message(fn, x_name, xshape, axis, tshape, message):
    x = np.zeros(xshape)
    t = np.zeros(tshape, dtype=np.int64)
    with pytest.raises(ValueError, match=f"^{re.escape(message.format(x=x_name))}$"):
        getattr(cyloss, fn)(x, t, axis=axis)
    if "pass axis=1" in message:  # the hint is right: axis=1 accepts these targets
        getattr(cyloss, fn)(x, t, axis=1)


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


# --------------------------------------------------------------------------- scalar parameters
# Every scalar / flag parameter of every public function: strings, bools, arrays, None,
# complex numbers are a TypeError naming it (also where the value would take a fast
# path: True == 1.0, False == 0.0 and bool("no") is True); NaN / inf a ValueError.
X32 = X.astype(np.float32)
PARAM_CALLS = {
    "softmax.temperature": lambda v: cyloss.softmax(X, temperature=v),
    "softmax.axis": lambda v: cyloss.softmax(X, axis=v),
    "log_softmax.temperature": lambda v: cyloss.log_softmax(X32, temperature=v),
    "log_softmax.axis": lambda v: cyloss.log_softmax(X32, axis=v),
    "logsumexp.axis": lambda v: cyloss.logsumexp(X, axis=v),
    "logsumexp.axis_tuple": lambda v: cyloss.logsumexp(X, axis=(0, v)),
    "logsumexp.keepdims": lambda v: cyloss.logsumexp(X, axis=1, keepdims=v),
    "logsumexp.return_sign": lambda v: cyloss.logsumexp(X, b=P, return_sign=v),
    "softmax_backward.axis": lambda v: cyloss.softmax_backward(P, X, axis=v),
    "log_softmax_backward.axis": lambda v: cyloss.log_softmax_backward(np.log(P), X, axis=v),
    "cross_entropy.axis": lambda v: cyloss.cross_entropy(X, T, axis=v),
    "cross_entropy.ignore_index": lambda v: cyloss.cross_entropy(X, T, ignore_index=v),
    "cross_entropy.reduction": lambda v: cyloss.cross_entropy(X, T, reduction=v),
    "cross_entropy.label_smoothing": lambda v: cyloss.cross_entropy(X, T, label_smoothing=v),
    "cross_entropy.return_grad": lambda v: cyloss.cross_entropy(X, T, return_grad=v),
    "cross_entropy_probs.return_grad": lambda v: cyloss.cross_entropy(X, P, return_grad=v),
    "cross_entropy_probs.label_smoothing": lambda v: cyloss.cross_entropy(X, P, label_smoothing=v),
    "nll_loss.axis": lambda v: cyloss.nll_loss(X, T, axis=v),
    "nll_loss.ignore_index": lambda v: cyloss.nll_loss(X, T, ignore_index=v),
    "nll_loss.reduction": lambda v: cyloss.nll_loss(X, T, reduction=v),
    "nll_loss.return_grad": lambda v: cyloss.nll_loss(X, T, return_grad=v),
    "bce_with_logits.reduction": lambda v: cyloss.binary_cross_entropy_with_logits(X, P, reduction=v),
    "bce_with_logits.return_grad": lambda v: cyloss.binary_cross_entropy_with_logits(X, P, return_grad=v),
    "bce.reduction": lambda v: cyloss.binary_cross_entropy(P, P, reduction=v),
    "bce.return_grad": lambda v: cyloss.binary_cross_entropy(P, P, return_grad=v),
    "kl_div.reduction": lambda v: cyloss.kl_div(X, P, reduction=v),
    "kl_div.log_target": lambda v: cyloss.kl_div(X, P, log_target=v),
    "kl_div.return_grad": lambda v: cyloss.kl_div(X, P, return_grad=v),
    "entropy.axis": lambda v: cyloss.entropy(P, axis=v),
    "mse_loss.reduction": lambda v: cyloss.mse_loss(X, P, reduction=v),
    "mse_loss.return_grad": lambda v: cyloss.mse_loss(X, P, return_grad=v),
    "l1_loss.reduction": lambda v: cyloss.l1_loss(X, P, reduction=v),
    "l1_loss.return_grad": lambda v: cyloss.l1_loss(X, P, return_grad=v),
    "huber_loss.delta": lambda v: cyloss.huber_loss(X, P, delta=v),
    "huber_loss.reduction": lambda v: cyloss.huber_loss(X, P, reduction=v),
    "huber_loss.return_grad": lambda v: cyloss.huber_loss(X, P, return_grad=v),
    "smooth_l1_loss.beta": lambda v: cyloss.smooth_l1_loss(X32, P, beta=v),
    "smooth_l1_loss.reduction": lambda v: cyloss.smooth_l1_loss(X, P, reduction=v),
    "smooth_l1_loss.return_grad": lambda v: cyloss.smooth_l1_loss(X, P, return_grad=v),
}
KIND = {"temperature": "real", "label_smoothing": "real", "delta": "real", "beta": "real",
        "axis": "int", "axis_tuple": "int", "ignore_index": "int", "reduction": "str",
        "return_grad": "flag", "keepdims": "flag", "return_sign": "flag", "log_target": "flag"}
WRONG_TYPE = {
    "real": ["2", "0", True, False, np.True_, np.array([0.1, 0.2]), np.array([1.0]), None, 1 + 2j,
             np.complex128(1), [1.0], object()],
    "int": ["1", True, False, np.True_, 1.0, -1.0, np.float64(1), np.array([1, 0]), np.array([1]), None, 1j],
    "str": [None, True, 1, np.array(["mean"]), ["mean"], ("sum",), b"mean"],
    "flag": ["no", "", "yes", 2, -1, 0.0, 1.0, np.float64(1), np.array([True]), np.array([True, False]),
             None, [], [True], object()],
}
PARAM_IDS = list(PARAM_CALLS)


def _param_name(key):
    p = key.split(".")[1]
    return {"axis_tuple": "axis"}.get(p, p)


@pytest.mark.parametrize("key", PARAM_IDS)
def test_scalar_parameter_wrong_type(key):
    name = key.split(".")[1]
    for v in WRONG_TYPE[KIND[name]]:
        if v is None and key == "logsumexp.axis":
            continue  # all axes
        with pytest.raises(TypeError, match=named(_param_name(key))):
            PARAM_CALLS[key](v)


@pytest.mark.parametrize("key", [k for k in PARAM_IDS if KIND[k.split(".")[1]] == "real"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, np.float32(np.nan), np.float64(np.inf),
                                   np.array(np.inf), 10**400, np.longdouble("1e4000")],
                         ids=["nan", "inf", "-inf", "f32nan", "f64inf", "0d_inf", "bigint", "ld_inf"])
def test_scalar_parameter_not_finite(key, value):
    with pytest.raises(ValueError, match=named(_param_name(key))):
        PARAM_CALLS[key](value)


@pytest.mark.parametrize("key,value", [
    ("softmax.temperature", np.float32(2.0)), ("softmax.temperature", 2), ("softmax.temperature", np.array(2.0)),
    ("softmax.temperature", np.int8(3)), ("softmax.axis", np.int64(0)), ("softmax.axis", np.array(1)),
    ("cross_entropy.ignore_index", np.int32(1)), ("cross_entropy.label_smoothing", 0),
    ("cross_entropy.label_smoothing", np.float16(0.25)), ("cross_entropy.reduction", np.str_("sum")),
    ("cross_entropy.return_grad", np.True_), ("cross_entropy.return_grad", 1), ("kl_div.log_target", 0),
    ("logsumexp.keepdims", np.False_), ("huber_loss.delta", np.float32(0.5)), ("smooth_l1_loss.beta", 0),
], ids=lambda v: repr(v) if not isinstance(v, str) else v)
def test_scalar_parameter_accepted_spellings(key, value):
    """NumPy scalars, 0-d arrays, ints for reals, numpy.bool_ and 0 / 1 for flags are fine."""
    PARAM_CALLS[key](value)


# --------------------------------------------------------------------------- extreme parameters
# The kernels get 1/temperature, delta and beta in the compute dtype; values that do not
# survive that cast (overflow to inf, underflow to 0 / subnormal) must not change the result.
def _rounded(expected, dtype):
    """The float64 reference rounded to the result dtype (overflow -> inf is exact)."""
    with np.errstate(over="ignore"):
        return np.asarray(expected, dtype=np.float64).astype(dtype).astype(np.float64)


F32_EXTREME_T = {
    # T, x: 1/T overflows float32 / is subnormal / underflows to 0 in float32, x - max overflows
    "tiny": (1e-39, [[1.0, 2.0, -1.0], [0.5, 0.5, 0.25], [1e-45, 0.0, -1e-45]]),
    "tiny_f64_range": (1e-300, [[1.0, 2.0, -1.0], [1e-45, 3e-45, -1e-45], [-3e-38, 3e-38, 0.0]]),
    "huge_subnormal_scale": (1e44, [[1e38, -1e38, 0.0], [3e38, -3e38, 1.0], [1.0, 2.0, 3.0]]),
    "huge_zero_scale": (1e300, [[-np.inf, 1.0, 2.0], [3e38, -3e38, 1.0], [0.0, -np.inf, 1.0]]),
    "x_minus_max_overflows": (1e38, [[-3e38, 3e38, 0.0], [3e38, -3.4e38, 1.0], [1.0, 2.0, 3.0]]),
}


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("case", list(F32_EXTREME_T))
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("use_out", [False, True])
def test_extreme_temperature_float32(name, case, dtype, use_out):
    T, rows = F32_EXTREME_T[case]
    with np.errstate(over="ignore"):
        x = np.array(rows, dtype=dtype)
    fn = getattr(cyloss, name)
    with np.errstate(all="ignore"):  # (inf input rows: NaN)
        reference = (ref.softmax if name == "softmax" else ref.log_softmax)(x, -1, T)
    out = np.empty_like(x) if use_out else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fn(x, temperature=T, out=out)
    assert got.dtype == dtype
    np.testing.assert_allclose(got.astype(np.float64), _rounded(reference, dtype),
                               rtol=2e-3 if dtype == np.float16 else 2e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("T,rows", [
    (1e305, [[-1e308, 1e308, 0.0], [1.0, 2.0, 3.0]]),          # x - max overflows float64
    (1.7e308, [[-np.inf, 1.0, 2.0], [-1.7e308, 1.7e308, 0.0]]),   # 1/T subnormal
    (3e-308, [[1.0, 2.0, -1.0], [0.0, 1e-300, 2e-300]]),  # 1/T near the float64 maximum
])
def test_extreme_temperature_float64(name, T, rows):
    x = np.array(rows)
    reference = (ref.softmax if name == "softmax" else ref.log_softmax)(x, -1, T)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = getattr(cyloss, name)(x, temperature=T)
    np.testing.assert_allclose(got, reference, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
@pytest.mark.parametrize("T", [1e-310, 5e-324, 2.0**-1024])
def test_temperature_whose_reciprocal_overflows_float64(name, dtype, T):
    with pytest.raises(ValueError, match=named("temperature")):
        getattr(cyloss, name)(np.ones((2, 3), dtype=dtype), temperature=T)


@pytest.mark.parametrize("fn,param", [("huber_loss", "delta"), ("smooth_l1_loss", "beta")])
@pytest.mark.parametrize("value", [1e-300, 1e-44, 1e300, 1e39])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_regression_parameter_outside_float32(fn, param, value, dtype, reduction):
    """delta / beta that are 0, subnormal or inf in float32: computed in float64."""
    pred = np.array([np.inf, -np.inf, 1.0, 0.0, 3.0, -2.0], dtype=dtype)
    target = np.array([0.0, 1.0, np.inf, 0.0, 3.0, 0.5], dtype=dtype)
    with np.errstate(all="ignore"):
        reference, ref_grad = getattr(ref, fn)(pred, target, value, reduction=reduction)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, grad = getattr(cyloss, fn)(pred, target, **{param: value}, reduction=reduction,
                                         return_grad=True)
    assert np.asarray(loss).dtype == dtype and grad.dtype == dtype
    for got, exp in ((loss, reference), (grad, ref_grad)):
        np.testing.assert_allclose(np.asarray(got, dtype=np.float64), _rounded(exp, dtype),
                                   rtol=2e-3 if dtype == np.float16 else 1e-6, atol=0)


@pytest.mark.parametrize("fn", ["cross_entropy", "nll_loss"])
def test_target_out_of_range_no_classes(fn):
    """With zero classes only ignore_index is a valid target (not "valid: 0..-1")."""
    with pytest.raises(IndexError) as exc:
        getattr(cyloss, fn)(np.zeros((3, 0)), [-100, 0, -100])
    _assert_index_message(exc, 0, position=1)
    assert "0..-1" not in str(exc.value) and "ignore_index=-100" in str(exc.value)
