"""C API for other projects: cyloss.get_include() and the shipped header."""
import os
import shutil
import subprocess

import numpy as np
import pytest

import cyloss


def test_get_include_holds_the_header():
    inc = cyloss.get_include()
    assert isinstance(inc, str)
    assert os.path.isdir(inc), f"get_include() -> {inc!r} does not exist"
    assert os.path.isfile(os.path.join(inc, "cyloss.h"))


@pytest.mark.parametrize("std", ["c99", "c11"])
def test_header_compiles_standalone(tmp_path, std):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler")
    inc = cyloss.get_include()
    if not os.path.isfile(os.path.join(inc, "cyloss.h")):
        pytest.fail(f"cyloss.h not found in get_include() = {inc!r}")
    src = tmp_path / "use_cyloss.c"
    src.write_text(
        "#include <cyloss.h>\n"
        "int main(void) {\n"
        "    void *f[2];\n"
        "    f[0] = (void *)&cyl_softmax_f32;\n"
        "    f[1] = (void *)&cyl_softmax_f64;\n"
        "    return (f[0] == 0) + (f[1] == 0) + CYL_OK;\n"
        "}\n")
    r = subprocess.run([cc, f"-std={std}", "-Wall", "-Wextra", "-Werror", "-I", inc, "-c",
                        str(src), "-o", str(tmp_path / "use_cyloss.o")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# ---------------------------------------------------------------------------------------
# A separate Cython/C project (examples/downstream) built against the cyloss that this
# test process imports (the installed package in CI), in a temporary directory.

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "downstream")


def _have_build_tools():
    try:
        import Cython  # noqa: F401
        import setuptools  # noqa: F401
    except ImportError:
        return False
    return (shutil.which("cc") or shutil.which("gcc")) is not None


@pytest.fixture(scope="module")
def downstream(tmp_path_factory):
    if not os.path.isdir(EXAMPLE):
        pytest.skip("examples/downstream is not in this checkout")
    if not _have_build_tools():
        pytest.skip("Cython, setuptools or a C compiler missing")
    import sys
    work = tmp_path_factory.mktemp("downstream")
    for name in os.listdir(EXAMPLE):
        shutil.copy(os.path.join(EXAMPLE, name), work / name)
    env = dict(os.environ)
    # the build must find cyloss (its .pxd files and cyloss.h) where this process does
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(cyloss.__file__)))
    core_parent = os.path.dirname(os.path.dirname(os.path.abspath(cyloss._core.__file__)))
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys([core_parent, pkg_parent]))
    r = subprocess.run([sys.executable, "setup.py", "build_ext", "--inplace"], cwd=work, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    sys.path.insert(0, str(work))
    try:
        import capi_demo
        import fused_ce
        yield fused_ce, capi_demo
    finally:
        sys.path.remove(str(work))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_downstream_fused_cross_entropy(downstream, dtype):
    fused_ce, _ = downstream
    rng = np.random.default_rng(7)
    x = (rng.normal(size=(257, 13)) * 5).astype(dtype)
    t = rng.integers(0, 13, 257)
    loss, grad = fused_ce.cross_entropy_mean(x, t)
    ref_loss, ref_grad = cyloss.cross_entropy(x, t, return_grad=True)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert grad.dtype == dtype
    np.testing.assert_allclose(loss, ref_loss, rtol=tol)
    np.testing.assert_allclose(grad, ref_grad, rtol=tol, atol=tol * 1e-2)
    # and against a plain float64 NumPy reference, not only against cyloss
    z = x.astype(np.float64) - x.max(1, keepdims=True)
    lsm = z - np.log(np.exp(z).sum(1, keepdims=True))
    np.testing.assert_allclose(loss, -lsm[np.arange(257), t].mean(), rtol=tol)


def test_downstream_row_kernel_in_prange(downstream):
    fused_ce, _ = downstream
    rng = np.random.default_rng(8)
    x = rng.normal(size=(100, 7)) * 3
    t = rng.integers(0, 7, 100)
    losses, grad = fused_ce.cross_entropy_rows(x, t)
    ref_l, ref_g = cyloss.cross_entropy(x, t, reduction="none", return_grad=True)
    np.testing.assert_allclose(losses, ref_l, rtol=1e-12)
    np.testing.assert_allclose(grad, ref_g, rtol=1e-12, atol=1e-15)
    bad = t.copy()
    bad[5] = 7
    with pytest.raises(IndexError):
        fused_ce.cross_entropy_rows(x, bad)
    with pytest.raises(IndexError, match=r"target\[5\]"):
        fused_ce.cross_entropy_mean(x, bad)


def test_downstream_grad_hess_row_kernel(downstream):
    fused_ce, _ = downstream
    rng = np.random.default_rng(9)
    x = rng.normal(size=(64, 5)) * 2
    t = rng.integers(0, 5, 64)
    g, h = fused_ce.softmax_objective(x, t)
    p = np.exp(x - x.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(h, p * (1 - p), rtol=1e-12, atol=1e-15)
    onehot = np.eye(5)[t]
    np.testing.assert_allclose(g, p - onehot, rtol=1e-12, atol=1e-15)


def test_downstream_calls_a_catalogue_kernel(downstream):
    """multi_margin_loss_grad_hess_f64 from Cython, against a plain loop written here."""
    fused_ce, _ = downstream
    rng = np.random.default_rng(10)
    x = rng.normal(size=(40, 6))
    t = rng.integers(0, 6, 40)
    loss, grad = fused_ce.multi_margin_mean(x, t, 0.7)
    ref_l, ref_g = 0.0, np.zeros_like(x)
    for i in range(40):
        for d in range(6):
            z = 0.7 - x[i, t[i]] + x[i, d]
            if d != t[i] and z > 0:
                ref_l += z / 6 / 40
                ref_g[i, d] += 1 / 6 / 40
                ref_g[i, t[i]] -= 1 / 6 / 40
    np.testing.assert_allclose(loss, ref_l, rtol=1e-12)
    np.testing.assert_allclose(grad, ref_g, rtol=1e-12, atol=1e-15)
    bad = t.copy()
    bad[3] = 6
    with pytest.raises(IndexError, match=r"target\[3\]"):
        fused_ce.multi_margin_mean(x, bad)


def test_downstream_c_extension_through_capsule(downstream):
    _, capi_demo = downstream
    vals = [1.0, -2.0, 700.0, 3.5]
    m = max(vals)
    ref = m + np.log(sum(np.exp(v - m) for v in vals))
    assert capi_demo.logsumexp(vals) == pytest.approx(ref, rel=1e-15)
    assert capi_demo.logsumexp([]) == -np.inf


def test_kernels_pxd_declares_every_kernel():
    """Every kernel of cyloss.h is cimportable (cyloss/kernels.pxd, installed with the package)."""
    import re
    here = os.path.dirname(os.path.abspath(cyloss.__file__))
    core = os.path.dirname(os.path.abspath(cyloss._core.__file__))
    pxd = next((os.path.join(d, "kernels.pxd") for d in (here, core)
                if os.path.isfile(os.path.join(d, "kernels.pxd"))), None)
    assert pxd is not None, "cyloss/kernels.pxd is not installed"
    header = open(os.path.join(cyloss.get_include(), "cyloss.h")).read()
    names = re.findall(r"X\(S, (\w+), \(", header)
    text = open(pxd).read()
    assert len(names) >= 17
    for n in names:
        for sfx in ("f32", "f64"):
            assert f"{n}_{sfx}" in text, f"{n}_{sfx} missing from kernels.pxd"
    assert set(cyloss._core.__pyx_capi__) >= {f"{n}_{s}" for n in names for s in ("f32", "f64")}


def test_generated_cython_declarations_are_current():
    tool = os.path.join(ROOT, "tools", "gen_capi.py")
    if not os.path.isfile(tool):
        pytest.skip("not a source checkout")
    import sys
    r = subprocess.run([sys.executable, tool, "--check"], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_user_script_passes_mypy_strict(tmp_path):
    pytest.importorskip("mypy")
    import sys
    script = tmp_path / "user.py"
    script.write_text(
        "import numpy as np\n"
        "import cyloss\n\n"
        "x = np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)\n"
        "t = np.arange(8) % 5\n"
        "p = cyloss.softmax(x, axis=-1, temperature=2.0)\n"
        "loss = cyloss.cross_entropy(x, t, label_smoothing=0.1)\n"
        "loss2, grad = cyloss.cross_entropy(x, t, return_grad=True)\n"
        "total: float = float(loss) + float(loss2) + float(grad.sum()) + float(p.sum())\n"
        "lse, sign = cyloss.logsumexp(x, axis=1, return_sign=True)\n"
        "h, g = cyloss.huber_loss(x, 0.0, delta=0.5, return_grad=True)\n"
        "with cyloss.num_threads(1):\n"
        "    m = cyloss.mse_loss(x, np.zeros(5), weight=np.ones((8, 1)))\n"
        "inc: str = cyloss.get_include()\n"
        "print(total, lse, sign, h, g.shape, m, inc, cyloss.get_num_threads())\n")
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(cyloss.__file__)))
    env.pop("MYPYPATH", None)
    if "site-packages" not in pkg_parent:  # a source checkout with an in-place build
        env["PYTHONPATH"] = pkg_parent
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                        "--cache-dir", str(tmp_path / "mypy_cache"), str(script)],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
