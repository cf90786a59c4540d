"""The type stubs (cyloss/__init__.pyi) under mypy --strict.

One mypy run over two snippet files: `good.py` calls every public function, the losses with
return_grad=True / False / omitted / a `bool` variable and with grad_out (logsumexp likewise
with return_sign), and pins each result type with assert_type, so a missing or wrong
overload is an error;
`bad.py` holds obvious misuses, each of which must be reported on its own line (marked
`# E`) -- and nothing else may be.  Skipped when mypy is not installed.
"""
import os
import re
import subprocess
import sys

import pytest

import cyloss

# function -> positional arguments of its call in the snippets
LOSSES = {
    "cross_entropy": "x, t", "nll_loss": "x, t", "binary_cross_entropy_with_logits": "x, y",
    "binary_cross_entropy": "y, y", "kl_div": "x, y", "mse_loss": "x, y", "l1_loss": "x, y",
    "huber_loss": "x, y, delta=0.5", "smooth_l1_loss": "x, y, beta=0.5",
    "half_poisson_loss": "x, y", "half_gamma_loss": "x, y", "half_tweedie_loss": "x, y, power=1.5",
    "half_tweedie_loss_identity": "y, y, power=1.5", "pinball_loss": "x, y, quantile=0.3",
    "exponential_loss": "x, y", "log_cosh_loss": "x, y", "pseudo_huber_loss": "x, y, delta=2.0",
    "soft_margin_loss": "x, y", "hinge_embedding_loss": "x, y, margin=0.5",
    "poisson_nll_loss": "x, y, log_input=False, full=True",
    "multilabel_soft_margin_loss": "x, y, weight=np.ones(3)",
    "sigmoid_focal_loss": "x, y, alpha=0.5", "multi_margin_loss": "x, t, p=2",
    "multilabel_margin_loss": "x, np.zeros((4, 3), dtype=np.int64)",
}
# losses without return_hessian, and losses of several float inputs (a tuple of gradients)
LOSSES_NO_HESSIAN = {"ctc_loss": "np.zeros((5, 4, 3)), np.ones((4, 2), dtype=np.int64), [5] * 4, (2, 2, 1, 0), blank=0"}
LOSSES_MULTI = {"margin_ranking_loss": "x, x, y, margin=0.1", "gaussian_nll_loss": "x, y, y, full=True",
                "cosine_embedding_loss": "x, y, np.ones(4), margin=0.2",
                "triplet_margin_loss": "x, y, x, p=1.0, swap=True"}
MULTI_HESSIAN = {"margin_ranking_loss", "gaussian_nll_loss"}  # the diagonal Hessian in the first input

HEADER = """\
from typing import Any, Optional, Tuple, Union

import numpy as np
from numpy.typing import NDArray
from typing_extensions import assert_type

import cyloss

Arr = NDArray[np.floating[Any]]
Loss = Union[np.floating[Any], Arr]
Pair = Tuple[Loss, Arr]
Triple = Tuple[Loss, Arr, Arr]

x = np.zeros((4, 3))
y = np.full((4, 3), 0.5)
t = np.zeros(4, dtype=np.int64)
flag: bool = bool(x.size)
"""


def _good():
    lines = [HEADER, """\
assert_type(cyloss.softmax(x, -1, temperature=2.0), Arr)
assert_type(cyloss.log_softmax(x, axis=0), Arr)
assert_type(cyloss.softmin(x, 0, temperature=0.5, out=np.empty((4, 3))), Arr)
assert_type(cyloss.softmax_backward(y, x), Arr)
assert_type(cyloss.log_softmax_backward(y, x, out=np.empty((4, 3))), Arr)
assert_type(cyloss.entropy(y, axis=0), Loss)
assert_type(cyloss.logsumexp(x), Loss)
assert_type(cyloss.logsumexp(x, axis=(0, 1), b=y, keepdims=True, return_sign=False), Loss)
assert_type(cyloss.logsumexp(x, 1, return_sign=True), Tuple[Loss, Loss])
assert_type(cyloss.logsumexp(x, return_sign=flag), Union[Loss, Tuple[Loss, Loss]])
lse = cyloss.logsumexp(x, return_sign=flag)
if isinstance(lse, tuple):
    value, sign = lse
    assert_type(sign, Loss)
else:
    assert_type(lse, Loss)
cyloss.set_num_threads(1)
assert_type(cyloss.get_num_threads(), int)
with cyloss.num_threads(2) as nt:
    assert_type(nt, cyloss.num_threads)
cyloss.show_config()
assert_type(cyloss.get_include(), str)
assert_type(cyloss.__version__, str)
m_, s_ = cyloss.logsumexp_partial(x, axis=0)
assert_type(m_, NDArray[np.float64])
assert_type(cyloss.logsumexp_merge([(m_, s_), cyloss.logsumexp_partial(y)]), NDArray[np.float64])
assert_type(cyloss.logsumexp_merge([(m_, s_)], return_pair=True), Tuple[NDArray[np.float64], NDArray[np.float64]])
cep = cyloss.cross_entropy_partial(x, np.zeros(4, dtype=np.int64), 3, weight=np.ones(3))
assert_type(cep.found, NDArray[np.bool_])
assert_type(cep.x_sum, Optional[NDArray[np.float64]])
"""]
    for fn, args in LOSSES.items():
        lines.append(f"""\
assert_type(cyloss.{fn}({args}), Loss)
assert_type(cyloss.{fn}({args}, reduction="none", return_grad=False), Loss)
assert_type(cyloss.{fn}({args}, return_grad=True), Pair)
assert_type(cyloss.{fn}({args}, return_grad=flag), Union[Loss, Pair])
assert_type(cyloss.{fn}({args}, return_grad=True, grad_out=np.empty((4, 3))), Pair)
assert_type(cyloss.{fn}({args}, return_grad=flag, grad_out=None), Union[Loss, Pair])
assert_type(cyloss.{fn}({args}, return_hessian=True), Triple)
assert_type(cyloss.{fn}({args}, return_hessian=True, grad_out=np.empty((4, 3)), hess_out=np.empty((4, 3))), Triple)
assert_type(cyloss.{fn}({args}, return_hessian=flag), Union[Loss, Pair, Triple])
r_{fn} = cyloss.{fn}({args}, return_grad=flag)
if isinstance(r_{fn}, tuple):
    loss_{fn}, grad_{fn} = r_{fn}
    assert_type(grad_{fn}, Arr)
else:
    assert_type(r_{fn}, Loss)
""")
    for fn, args in LOSSES_NO_HESSIAN.items():
        lines.append(f"""\
assert_type(cyloss.{fn}({args}), Loss)
assert_type(cyloss.{fn}({args}, return_grad=True), Pair)
assert_type(cyloss.{fn}({args}, return_grad=True, grad_out=np.empty((4, 3))), Pair)
assert_type(cyloss.{fn}({args}, return_grad=flag), Union[Loss, Pair])
assert_type(cyloss.{fn}({args}, return_grad=True, return_loss=False), Arr)
""")
    for fn, args in LOSSES_MULTI.items():
        k = 3 if fn == "triplet_margin_loss" else 2
        gs = f"Tuple[{', '.join(['Arr'] * k)}]"
        outs = ", ".join(["np.empty((4, 3))"] + ["None"] * (k - 1))
        lines.append(f"""\
assert_type(cyloss.{fn}({args}), Loss)
assert_type(cyloss.{fn}({args}, return_grad=True), Tuple[Loss, {gs}])
assert_type(cyloss.{fn}({args}, return_grad=True, grad_out=({outs})), Tuple[Loss, {gs}])
assert_type(cyloss.{fn}({args}, return_grad=flag), Union[Loss, Tuple[Loss, {gs}]])
assert_type(cyloss.{fn}({args}, return_grad=True, return_loss=False), {gs})
""")
        if fn in MULTI_HESSIAN:
            lines.append(f"""\
assert_type(cyloss.{fn}({args}, return_hessian=True), Tuple[Loss, {gs}, Arr])
assert_type(cyloss.{fn}({args}, return_hessian=True, hess_out=np.empty((4, 3))), Tuple[Loss, {gs}, Arr])
assert_type(cyloss.{fn}({args}, return_hessian=True, return_loss=False), Tuple[{gs}, Arr])
""")
    return "\n".join(lines)


BAD = HEADER + """\
a, b = cyloss.mse_loss(x, y)  # E: a loss is not a tuple
a, b = cyloss.cross_entropy(x, t, return_grad=flag)  # E: may not be a tuple
lse, sign = cyloss.logsumexp(x, return_sign=flag)  # E: may not be a tuple
f: float = cyloss.huber_loss(x, y, return_grad=True)  # E: a tuple is not a float
g: Arr = cyloss.l1_loss(x, y, return_grad=flag)  # E: may be a tuple
cyloss.softmax(x, axis=None)  # E: an integer axis only
cyloss.kl_div(x, y, return_grad="yes")  # E: not a bool
cyloss.nll_loss(x, t, reduction="avg")  # E: not a reduction
cyloss.mse_loss(x, y, grad_out=np.empty((4, 3)))  # E: grad_out goes with return_grad=True
cyloss.binary_cross_entropy(y, y, return_grad=True, grad_out=[[0.0]])  # E: not an ndarray
a, b = cyloss.half_poisson_loss(x, y, return_hessian=True)  # E: three values
cyloss.pinball_loss(x, y, hess_out=np.empty((4, 3)))  # E: hess_out goes with return_hessian=True
cyloss.cosine_embedding_loss(x, y, np.ones(4), return_hessian=True)  # E: no Hessian
gm: Arr = cyloss.margin_ranking_loss(x, x, y, return_grad=True)[1]  # E: a tuple of two gradients
"""


def test_generated_stubs_are_current():
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tool = os.path.join(root, "tools", "gen_stubs.py")
    if not os.path.exists(tool):
        pytest.skip("not a source checkout")
    r = subprocess.run([sys.executable, tool, "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_stubs_cover_the_public_api():
    good = _good()
    for name in cyloss.__all__:
        assert f"cyloss.{name}" in good, f"the typing snippet does not use cyloss.{name}"


def test_stubs_under_mypy(tmp_path):
    pytest.importorskip("mypy")
    (tmp_path / "good.py").write_text(_good())
    (tmp_path / "bad.py").write_text(BAD)
    env = dict(os.environ)
    env.pop("MYPYPATH", None)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(cyloss.__file__)))
    if "site-packages" not in pkg_parent:  # a source checkout with an in-place build
        env["PYTHONPATH"] = pkg_parent
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                        "--cache-dir", str(tmp_path / "mypy_cache"), "good.py", "bad.py"],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    out = r.stdout + r.stderr
    errors = re.findall(r"^(good|bad)\.py:(\d+): error:", out, re.M)
    assert r.returncode == 1 and "checked 2 source files" in out, out
    assert not [e for e in errors if e[0] == "good"], "valid code rejected:\n" + out
    marked = {i for i, line in enumerate(BAD.splitlines(), 1) if "# E" in line}
    reported = {int(n) for f, n in errors if f == "bad"}
    assert reported == marked, f"expected errors on lines {sorted(marked)}:\n{out}"
