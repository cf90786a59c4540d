"""A registry of one representative call per public function (and per important mode).

Each case builds its inputs for a given float dtype, names the cyloss function to call and
computes the expected result with the independent reference (tests/_reference.py).  The
layout, dtype, "inputs are not modified" and finite-difference tests iterate over it.

Inputs are chosen away from kinks (|d| not near 0 or near delta/beta, probabilities away
from 0 and 1) so that finite differences are valid.
"""
import dataclasses
from typing import Callable

import numpy as np

import _reference as ref


@dataclasses.dataclass
class Case:
    name: str
    func: str                      # attribute of cyloss
    make: Callable                 # (rng, dtype) -> (args: list, kwargs: dict)
    reference: Callable            # (args, kwargs) -> expected result
    is_loss: bool = False          # supports return_grad=True
    smooth: bool = True            # valid for finite-difference gradient checks

    def __repr__(self):
        return self.name


def _away_from(values, kinks, margin, rng):
    """Push values whose |value| lies within margin of any kink away from it."""
    v = np.array(values, dtype=np.float64)
    for k in kinks:
        close = np.abs(np.abs(v) - k) < margin
        v[close] = np.sign(v[close] + 1e-300) * (k + margin + rng.uniform(0, 0.5, close.sum()))
    return v


def _targets(rng, n, C, ignore=()):
    t = rng.integers(0, C, size=n)
    for i in ignore:
        t.flat[i] = -100
    return t


def _probs(rng, shape, axis=-1):
    p = rng.uniform(0.05, 1.0, size=shape)
    return p / p.sum(axis=axis, keepdims=True)


def _loss_ref(fn):
    def reference(args, kwargs):
        kw = {k: v for k, v in kwargs.items() if k != "return_grad"}
        return fn(*args, **kw)
    return reference


def _mk(*arrays, dtype):
    """Cast float64 arrays to dtype (integer arrays unchanged)."""
    out = []
    for a in arrays:
        a = np.asarray(a)
        out.append(a.astype(dtype) if a.dtype.kind == "f" else a)
    return out


def _reg_inputs(rng, dtype, shape_p, shape_t, kinks=(0.0,), margin=0.05):
    pred = rng.normal(0.0, 1.5, size=shape_p)
    target = rng.normal(0.0, 1.5, size=shape_t)
    d = np.broadcast_to(pred, np.broadcast_shapes(shape_p, shape_t)) - target
    # Re-draw the target so that d is smooth (target = pred - d').
    d2 = _away_from(d, kinks, margin, rng)
    if shape_t == np.broadcast_shapes(shape_p, shape_t):
        target = np.broadcast_to(pred, d.shape) - d2
    else:  # target broadcasts: adjust pred instead (pred has the full shape here)
        pred = target + d2
    pred, target = pred.astype(dtype), target.astype(dtype)
    # Rounding to float32 may move d; re-check and fail loudly if so.
    dd = np.abs(pred.astype(np.float64) - target.astype(np.float64))
    for k in kinks:
        assert np.all(np.abs(dd - k) > margin / 2)
    return pred, target


def _cases():
    C = []

    def add(*a, **k):
        C.append(Case(*a, **k))

    # ---- softmax family
    add("softmax", "softmax",
        lambda r, dt: (_mk(r.normal(0, 3, (5, 7)), dtype=dt), {}),
        lambda a, k: ref.softmax(a[0], **k))
    add("softmax_axis1_T", "softmax",
        lambda r, dt: (_mk(r.normal(0, 3, (5, 7, 3)), dtype=dt),
                       {"axis": 1, "temperature": 0.7}),
        lambda a, k: ref.softmax(a[0], **k))
    add("log_softmax", "log_softmax",
        lambda r, dt: (_mk(r.normal(0, 3, (5, 7)), dtype=dt), {}),
        lambda a, k: ref.log_softmax(a[0], **k))
    add("log_softmax_axis0_T", "log_softmax",
        lambda r, dt: (_mk(r.normal(0, 3, (4, 6)), dtype=dt),
                       {"axis": 0, "temperature": 2.5}),
        lambda a, k: ref.log_softmax(a[0], **k))
    add("logsumexp", "logsumexp",
        lambda r, dt: (_mk(r.normal(0, 3, (5, 7)), dtype=dt), {"axis": -1}),
        lambda a, k: ref.logsumexp(a[0], **k))
    add("logsumexp_b_sign", "logsumexp",
        lambda r, dt: (_mk(r.normal(0, 2, (4, 6)), dtype=dt),
                       {"axis": 1, "b": np.array([1.0, 0.0, -0.5, 2.0, 0.25, -3.0], dtype=dt),
                        "return_sign": True}),
        lambda a, k: ref.logsumexp(a[0], **k))
    add("logsumexp_tuple_keepdims", "logsumexp",
        lambda r, dt: (_mk(r.normal(0, 3, (3, 4, 5)), dtype=dt),
                       {"axis": (0, 2), "keepdims": True}),
        lambda a, k: ref.logsumexp(a[0], **k))
    add("softmax_backward", "softmax_backward",
        lambda r, dt: (_mk(ref.softmax(r.normal(0, 2, (5, 7))), r.normal(0, 1, (5, 7)),
                           dtype=dt), {}),
        lambda a, k: ref.softmax_backward(*a, **k))
    add("log_softmax_backward_axis0", "log_softmax_backward",
        lambda r, dt: (_mk(ref.log_softmax(r.normal(0, 2, (5, 7)), axis=0),
                           r.normal(0, 1, (5, 7)), dtype=dt), {"axis": 0}),
        lambda a, k: ref.log_softmax_backward(*a, **k))

    # ---- classification
    add("cross_entropy", "cross_entropy",
        lambda r, dt: (_mk(r.normal(0, 2, (6, 5)), _targets(r, 6, 5, ignore=(2,)), dtype=dt),
                       {"weight": r.uniform(0.5, 2.0, 5).astype(dt), "label_smoothing": 0.1,
                        "return_grad": True}),
        _loss_ref(ref.cross_entropy), is_loss=True)
    add("cross_entropy_nchw_none", "cross_entropy",
        lambda r, dt: (_mk(r.normal(0, 2, (2, 4, 3, 2)), r.integers(0, 4, (2, 3, 2)), dtype=dt),
                       {"axis": 1, "reduction": "none", "return_grad": True}),
        _loss_ref(ref.cross_entropy), is_loss=True)
    add("cross_entropy_probs", "cross_entropy",
        lambda r, dt: (_mk(r.normal(0, 2, (6, 5)), _probs(r, (6, 5)), dtype=dt),
                       {"weight": r.uniform(0.5, 2.0, 5).astype(dt), "label_smoothing": 0.2,
                        "reduction": "sum", "return_grad": True}),
        _loss_ref(ref.cross_entropy), is_loss=True)
    add("nll_loss", "nll_loss",
        lambda r, dt: (_mk(ref.log_softmax(r.normal(0, 2, (6, 5))),
                           _targets(r, 6, 5, ignore=(4,)), dtype=dt),
                       {"weight": r.uniform(0.5, 2.0, 5).astype(dt), "return_grad": True}),
        _loss_ref(ref.nll_loss), is_loss=True)
    add("bce_with_logits", "binary_cross_entropy_with_logits",
        lambda r, dt: (_mk(r.normal(0, 3, (4, 5)), r.uniform(0, 1, (4, 5)), dtype=dt),
                       {"weight": r.uniform(0.5, 2, (4, 1)).astype(dt),
                        "pos_weight": r.uniform(0.5, 3, 5).astype(dt), "return_grad": True}),
        _loss_ref(ref.binary_cross_entropy_with_logits), is_loss=True)
    add("bce", "binary_cross_entropy",
        lambda r, dt: (_mk(r.uniform(0.05, 0.95, (4, 5)), r.uniform(0, 1, (4, 5)), dtype=dt),
                       {"weight": r.uniform(0.5, 2, (4, 1)).astype(dt), "reduction": "none",
                        "return_grad": True}),
        _loss_ref(ref.binary_cross_entropy), is_loss=True)
    add("kl_div_batchmean", "kl_div",
        lambda r, dt: (_mk(ref.log_softmax(r.normal(0, 2, (4, 5))), _probs(r, (4, 5)), dtype=dt),
                       {"reduction": "batchmean", "return_grad": True}),
        _loss_ref(ref.kl_div), is_loss=True)
    add("kl_div_logtarget_bcast", "kl_div",
        lambda r, dt: (_mk(ref.log_softmax(r.normal(0, 2, (4, 5))),
                           np.log(_probs(r, (5,))), dtype=dt),
                       {"reduction": "none", "log_target": True, "return_grad": True}),
        _loss_ref(ref.kl_div), is_loss=True)
    add("entropy", "entropy",
        lambda r, dt: (_mk(np.where(r.uniform(size=(4, 6)) < 0.2, 0.0, _probs(r, (4, 6))),
                           dtype=dt), {}),
        lambda a, k: ref.entropy(a[0], **k))

    # ---- regression
    add("mse_loss_weighted", "mse_loss",
        lambda r, dt: (list(_reg_inputs(r, dt, (4, 5), (4, 5))),
                       {"weight": r.uniform(0.5, 2, 5).astype(dt), "return_grad": True}),
        _loss_ref(ref.mse_loss), is_loss=True)
    add("mse_loss_bcast_pred", "mse_loss",
        lambda r, dt: (list(_reg_inputs(r, dt, (4, 1), (4, 5))),
                       {"reduction": "sum", "return_grad": True}),
        _loss_ref(ref.mse_loss), is_loss=True)
    add("l1_loss_bcast_target", "l1_loss",
        lambda r, dt: (list(_reg_inputs(r, dt, (4, 5), (5,))),
                       {"reduction": "sum", "return_grad": True}),
        _loss_ref(ref.l1_loss), is_loss=True)
    add("huber_loss_none", "huber_loss",
        lambda r, dt: (list(_reg_inputs(r, dt, (4, 5), (4, 5), kinks=(0.7,))),
                       {"delta": 0.7, "reduction": "none", "return_grad": True}),
        _loss_ref(ref.huber_loss), is_loss=True)
    add("smooth_l1_weighted", "smooth_l1_loss",
        lambda r, dt: (list(_reg_inputs(r, dt, (4, 5), (4, 5), kinks=(0.5,))),
                       {"beta": 0.5, "weight": r.uniform(0.5, 2, (4, 5)).astype(dt),
                        "return_grad": True}),
        _loss_ref(ref.smooth_l1_loss), is_loss=True)
    return C


CASES = _cases()
LOSS_CASES = [c for c in CASES if c.is_loss]


def build(case, dtype, seed=1234):
    rng = np.random.default_rng(seed)
    args, kwargs = case.make(rng, dtype)
    return list(args), dict(kwargs)


def scale_of(args, kwargs):
    """max(1, largest |finite float input|): scales absolute tolerances for cancellation."""
    s = 1.0
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, (np.ndarray, list)):
            a = np.asarray(a)
            if a.dtype.kind == "f":
                fin = np.abs(a[np.isfinite(a)])
                if fin.size:
                    s = max(s, float(fin.max()))
    return s
