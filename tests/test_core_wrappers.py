"""The private Cython wrappers (cyloss._core) check every array's shape against the n
and c they take from the first one: a mis-sized output must be an error, not a write
out of bounds (the facade never passes one; other code might)."""
import numpy as np
import pytest

from cyloss import _core

F = np.float64
N, C = 5, 4


def _x(*shape):
    return np.zeros(shape, dtype=F)


def _t(n=N):
    return np.zeros(n, dtype=np.int64)


CASES = {
    "softmax_y": lambda: _core.softmax(_x(N, C), _x(N, C - 1), 1.0, False),
    "softmax_rows": lambda: _core.softmax(_x(N, C), _x(N - 1, C), 1.0, True),
    "logsumexp_out": lambda: _core.logsumexp(_x(N, C), None, _x(N - 1), None),
    "logsumexp_b": lambda: _core.logsumexp(_x(N, C), _x(N, C + 1), _x(N), None),
    "logsumexp_sign": lambda: _core.logsumexp(_x(N, C), None, _x(N), _x(1)),
    "backward_g": lambda: _core.softmax_backward(_x(N, C), _x(N, 1), _x(N, C), False),
    "backward_out": lambda: _core.softmax_backward(_x(N, C), _x(N, C), _x(N + 1, C), True),
    "entropy_out": lambda: _core.entropy(_x(N, C), _x(2)),
    "weight_sum_weight": lambda: _core.class_weight_sum(_t(), _x(C - 1), C, -100, F(0)),
    "weight_sum_c": lambda: _core.class_weight_sum(_t(), None, -1, -100, F(0)),
    "ce_target": lambda: _core.cross_entropy(_x(N, C), _t(N - 1), None, -100, 0.0, 1.0, None, None),
    "ce_weight": lambda: _core.cross_entropy(_x(N, C), _t(), _x(C + 1), -100, 0.0, 1.0, None, None),
    "ce_loss": lambda: _core.cross_entropy(_x(N, C), _t(), None, -100, 0.0, 1.0, _x(1), None),
    "ce_grad": lambda: _core.cross_entropy(_x(N, C), _t(), None, -100, 0.0, 1.0, None, _x(N, 1)),
    "ce_prob_p": lambda: _core.cross_entropy_prob(_x(N, C), _x(N, 2), None, 0.0, 1.0, None, None),
    "ce_prob_grad": lambda: _core.cross_entropy_prob(_x(N, C), _x(N, C), None, 0.0, 1.0, None, _x(1, C)),
    "nll_grad": lambda: _core.nll_loss(_x(N, C), _t(), None, -100, 1.0, None, _x(N, C - 1)),
    "bce_logits_y": lambda: _core.bce_with_logits(_x(N), _x(N - 1), None, None, 1.0, None, None),
    "bce_logits_pw": lambda: _core.bce_with_logits(_x(N), _x(N), None, _x(1), 1.0, None, None),
    "bce_grad": lambda: _core.bce(_x(N), _x(N), None, 1.0, None, _x(N - 1)),
    "kl_loss": lambda: _core.kl_div(_x(N), _x(N), False, 1.0, _x(N + 3), None),
    "kl_t": lambda: _core.kl_div(_x(N), _x(2), False, 1.0, None, None),
    "regression_weight": lambda: _core.regression(_core.MSE, _x(N), _x(N), _x(3), 0.0, 1.0, None, None),
    "regression_loss": lambda: _core.regression(_core.L1, _x(N), _x(N), None, 0.0, 1.0, _x(0), None),
    "vexp_y": lambda: _core.vexp(_x(N), _x(N - 1)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_mis_sized_arrays_are_refused(name):
    with pytest.raises(ValueError, match=r"cyloss\._core: (c must be|.* expected)"):
        CASES[name]()


def test_well_sized_arrays_pass():
    y = _x(N, C)
    _core.softmax(_x(N, C), y, 1.0, False)
    np.testing.assert_allclose(y, 1.0 / C)
    assert _core.cross_entropy(_x(N, C), _t(), _x(C) + 1, -100, 0.0, 1.0, _x(N), _x(N, C)) == pytest.approx(
        N * np.log(C))


def _ctc_args(**change):
    """Well-formed arguments of _core.ctc (T=3, N=2, C=4), with some replaced."""
    a = dict(log_probs=np.log(np.full((3, 2, 4), 0.25)), targets=np.array([1, 2, 3], dtype=np.int64),
             target_start=np.array([0, 2], dtype=np.int64), input_lengths=np.array([3, 3], dtype=np.int64),
             target_lengths=np.array([2, 1], dtype=np.int64), blank=0, zero_infinity=False,
             grad_scale=np.ones(2), loss=np.empty(2), grad=np.empty((3, 2, 4)))
    a.update(change)
    return a


CTC_BAD = {
    "target_start": (dict(target_start=np.array([0], dtype=np.int64)), "expected"),
    "loss": (dict(loss=np.empty(3)), "expected"),
    "grad": (dict(grad=np.empty((3, 2, 3))), "grad must have"),
    "grad_scale": (dict(grad_scale=None), "go together"),
    "blank": (dict(blank=4), "blank out of range"),
    "input_length": (dict(input_lengths=np.array([4, 3], dtype=np.int64)), "bad lengths"),
    "offset": (dict(target_start=np.array([0, 3], dtype=np.int64)), "bad lengths"),
    "target_length": (dict(target_lengths=np.array([2, 5], dtype=np.int64)), "bad lengths"),
    "negative_start": (dict(target_start=np.array([-1, 2], dtype=np.int64)), "bad lengths"),
    "label_range": (dict(targets=np.array([1, 9, 3], dtype=np.int64)), "bad label"),
    "label_blank": (dict(targets=np.array([1, 0, 3], dtype=np.int64)), "bad label"),
}


@pytest.mark.parametrize("name", sorted(CTC_BAD))
def test_ctc_wrapper_rechecks_everything_it_indexes(name):
    change, match = CTC_BAD[name]
    with pytest.raises(ValueError, match=match):
        _core.ctc(**_ctc_args(**change))


def test_ctc_wrapper_well_formed():
    a = _ctc_args()
    _core.ctc(**a)
    assert np.isfinite(a["loss"]).all() and np.isfinite(a["grad"]).all()


@pytest.mark.parametrize("which", ["p", "neg", "loss", "grad_a", "grad_n"])
def test_triplet_wrapper_sizes(which):
    a = dict(a=_x(N, C), p=_x(N, C), neg=_x(N, C), loss=_x(N), grad_a=_x(N, C), grad_p=_x(N, C), grad_n=_x(N, C))
    a[which] = _x(N - 1) if which == "loss" else _x(N, C + 1)
    with pytest.raises(ValueError, match=r"cyloss\._core: .* expected"):
        _core.triplet_margin(a["a"], a["p"], a["neg"], 1.0, 2.0, 1e-6, False, 1.0, a["loss"], a["grad_a"], a["grad_p"],
                             a["grad_n"])
