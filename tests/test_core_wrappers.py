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
