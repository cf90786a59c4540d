"""CPU-target dispatch: CYLOSS_CPU=baseline / avx2 limit the kernels chosen at import.

The numerical test files are re-run in a subprocess on every built target below the
active one, so the AVX-512, AVX2 and baseline kernels are all checked against the
references (the in-process run covers the active target, AVX-512 on a machine that has it).
"""
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _python(code, **env):
    e = dict(os.environ)
    e.update(env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=e, capture_output=True,
                          text=True, timeout=120)


def test_baseline_is_selected_by_environment():
    r = _python("import cyloss; cyloss.show_config()", CYLOSS_CPU="baseline")
    assert r.returncode == 0, r.stderr
    assert re.search(r"active\s*:\s*baseline", r.stdout), r.stdout


@pytest.mark.parametrize("cpu", ["avx2", "avx512"])
def test_target_limit_is_honoured(cpu):
    """CYLOSS_CPU=avx2 never selects AVX-512; avx512 is the fastest the CPU has."""
    import cyloss
    built = cyloss._core.cpu_targets_built().split(",")
    if cpu not in built:
        pytest.skip(f"{cpu} not built")
    r = _python("import cyloss; print(cyloss._core.cpu_target())", CYLOSS_CPU=cpu)
    assert r.returncode == 0, r.stderr
    active = r.stdout.strip()
    assert active in built
    if cpu == "avx2":
        assert active in ("avx2", "baseline")
    else:
        r0 = _python("import cyloss; print(cyloss._core.cpu_target())", CYLOSS_CPU="auto")
        assert active == r0.stdout.strip()


def test_bad_cpu_request_is_an_import_error():
    r = _python("import cyloss", CYLOSS_CPU="no-such-cpu")
    assert r.returncode != 0
    assert "ImportError" in r.stderr and "CYLOSS_CPU" in r.stderr


def test_baseline_and_default_agree():
    code = (
        "import numpy as np, cyloss\n"
        "r = np.random.default_rng(7)\n"
        "x = r.normal(0, 5, (301, 67)).astype(np.float32)\n"
        "t = r.integers(0, 67, 301)\n"
        "res = [cyloss.softmax(x), cyloss.log_softmax(x.astype(np.float64)),\n"
        "       cyloss.logsumexp(x, axis=1), cyloss.cross_entropy(x, t, return_grad=True)[1],\n"
        "       cyloss.huber_loss(x, x[::-1], reduction='none')]\n"
        "np.savez(OUT, *res)\n"
    )
    import tempfile

    import numpy as np
    with tempfile.TemporaryDirectory() as d:
        paths = {}
        for cpu in ("baseline", "auto"):
            p = os.path.join(d, f"{cpu}.npz")
            r = _python(f"OUT = {p!r}\n" + code, CYLOSS_CPU=cpu)
            assert r.returncode == 0, r.stderr
            paths[cpu] = p
        a, b = np.load(paths["baseline"]), np.load(paths["auto"])
        for k in a.files:
            assert a[k].dtype == b[k].dtype
            eps = np.finfo(a[k].dtype).eps
            np.testing.assert_allclose(a[k], b[k], rtol=8 * eps, atol=8 * eps * 20, err_msg=k)


def _targets_below_active():
    import cyloss
    order = ["baseline", "avx2", "avx512"]
    active = cyloss._core.cpu_target()
    built = cyloss._core.cpu_targets_built().split(",")
    return [t for t in order[:order.index(active)] if t in built]


@pytest.mark.parametrize("cpu", ["baseline", "avx2"])
def test_numerical_suite_on_lower_target(cpu):
    if os.environ.get("CYLOSS_CI_RERUN_DONE"):
        # .ci/run's wheel stage: the same sources and flags were re-run on every target in its
        # README stage (a slow group, run once per CI, not per install variant)
        pytest.skip("the lower targets were re-run in this CI's README stage")
    if cpu not in _targets_below_active():
        pytest.skip(f"{cpu} is the active target (covered in process) or not available")
    if os.environ.get("CYLOSS_SANITIZE_ONLY"):
        # tools/sanitize.sh instrumented the active target only: the lower ones are -O0 code
        # without sanitizers, which the README stage's run of this test already covered
        pytest.skip(f"{cpu} is not instrumented in this sanitizer build (CYLOSS_SANITIZE_ONLY)")
    files = ["test_softmax.py", "test_classification.py", "test_regression.py",
             "test_gradients.py", "test_layouts.py", "test_properties.py", "test_mathfuncs.py",
             "test_hessian.py", "test_ce_groups.py", "test_sklearn_losses.py", "test_catalogue.py",
             "test_ctc.py", "test_catalogue_hessian.py", "test_large_outputs.py"]
    e = dict(os.environ, CYLOSS_CPU=cpu)
    # --capture=sys: a sanitizer report (tools/sanitize.sh) written to fd 2 reaches r.stderr
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--capture=sys",
                        *[os.path.join(HERE, f) for f in files]],
                       cwd=ROOT, env=e, capture_output=True, text=True, timeout=900)
    tail = "\n".join(r.stdout.splitlines()[-40:])
    assert r.returncode == 0, f"{cpu} run failed:\n{tail}\n{r.stderr[-2000:]}"
    assert re.search(r"\d+ passed", tail), tail


def test_thread_count_does_not_change_results():
    """OMP_NUM_THREADS=1 vs 2: row-wise results identical, reductions equal to rounding."""
    import tempfile

    import numpy as np
    code = (
        "import numpy as np, cyloss\n"
        "r = np.random.default_rng(3)\n"
        "x = r.normal(0, 3, (200003, 10))\n"
        "t = r.integers(0, 10, 200003)\n"
        "l, g = cyloss.cross_entropy(x, t, return_grad=True)\n"
        "np.savez(OUT, sm=cyloss.softmax(x.astype(np.float32)), g=g, l=l,\n"
        "         m=cyloss.mse_loss(x, x[::-1]), lse=cyloss.logsumexp(x))\n"
    )
    with tempfile.TemporaryDirectory() as d:
        res = []
        for n in ("1", "2"):
            p = os.path.join(d, f"{n}.npz")
            r = _python(f"OUT = {p!r}\n" + code, OMP_NUM_THREADS=n)
            assert r.returncode == 0, r.stderr
            res.append(np.load(p))
        a, b = res
        np.testing.assert_array_equal(a["sm"], b["sm"])
        np.testing.assert_array_equal(a["g"], b["g"])
        for k in ("l", "m", "lse"):
            np.testing.assert_allclose(a[k], b[k], rtol=1e-13)


def test_concurrent_python_threads():
    """Kernels release the GIL: concurrent calls from Python threads give the serial results."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    import cyloss
    rng = np.random.default_rng(11)
    xs = [rng.normal(0, 3, (2000, 50)).astype(dt) for dt in (np.float32, np.float64) * 4]
    ts = [rng.integers(0, 50, 2000) for _ in xs]

    def work(i):
        return (cyloss.softmax(xs[i]), cyloss.cross_entropy(xs[i], ts[i], return_grad=True),
                cyloss.logsumexp(xs[i], axis=1))

    serial = [work(i) for i in range(len(xs))]
    with ThreadPoolExecutor(4) as ex:
        for _ in range(3):
            par = list(ex.map(work, range(len(xs))))
            for s, p in zip(serial, par):
                np.testing.assert_array_equal(s[0], p[0])
                assert s[1][0] == p[1][0]
                np.testing.assert_array_equal(s[1][1], p[1][1])
                np.testing.assert_array_equal(s[2], p[2])


# --------------------------------------------------------------------------- threads API
def test_num_threads_api():
    import cyloss
    n0 = cyloss.get_num_threads()
    assert isinstance(n0, int) and n0 >= 1
    try:
        cyloss.set_num_threads(1)
        assert cyloss.get_num_threads() == 1
        with cyloss.num_threads(2):
            assert cyloss.get_num_threads() in (1, 2)  # 1 in a serial build
        assert cyloss.get_num_threads() == 1
        try:
            with cyloss.num_threads(3):
                raise KeyError("boom")
        except KeyError:
            pass
        assert cyloss.get_num_threads() == 1
        with pytest.raises(ValueError):
            cyloss.set_num_threads(-1)
        with pytest.raises(TypeError):
            cyloss.set_num_threads(1.5)
    finally:
        cyloss.set_num_threads(0)
    assert cyloss.get_num_threads() == n0


def _big_calls():
    import numpy as np

    import cyloss
    r = np.random.default_rng(5)
    x = r.normal(0, 3, (100_003, 33))
    x32 = x.astype(np.float32)
    t = r.integers(0, 33, 100_003)
    t[::7] = -100
    p = r.uniform(0.01, 1, x.shape)
    w = r.uniform(0.5, 2, 33)
    v = r.normal(0, 2, 1_000_003)
    u = r.normal(0, 2, 1_000_003)
    pr = r.uniform(0.01, 0.99, 1_000_003)
    y = r.uniform(0, 1, 1_000_003)
    nchw = r.normal(0, 2, (16, 5, 120, 120)).astype(np.float32)
    tl = r.integers(0, 5, (16, 120, 120))
    return {
        "softmax32": lambda: cyloss.softmax(x32),
        "log_softmax": lambda: cyloss.log_softmax(x, axis=0),
        "lse_rows": lambda: cyloss.logsumexp(x32, axis=1),
        "lse_all": lambda: cyloss.logsumexp(x),
        "lse_b": lambda: cyloss.logsumexp(x, b=p, axis=0, return_sign=True),
        "softmax_bw": lambda: cyloss.softmax_backward(p, x),
        "ce": lambda: cyloss.cross_entropy(x, t, weight=w, label_smoothing=0.1,
                                           return_grad=True),
        "ce32_nchw": lambda: cyloss.cross_entropy(nchw, tl, axis=1, return_grad=True),
        "ce_probs": lambda: cyloss.cross_entropy(x32, p, return_grad=True),
        "nll": lambda: cyloss.nll_loss(x, t, reduction="sum", return_grad=True),
        "bce_logits": lambda: cyloss.binary_cross_entropy_with_logits(v, y, return_grad=True),
        "bce": lambda: cyloss.binary_cross_entropy(pr, y, weight=u * u, return_grad=True),
        "kl": lambda: cyloss.kl_div(x, p, reduction="batchmean", return_grad=True),
        "entropy": lambda: cyloss.entropy(p),
        "mse": lambda: cyloss.mse_loss(v, u, weight=y, return_grad=True),
        "l1_32": lambda: cyloss.l1_loss(v.astype(np.float32), u.astype(np.float32),
                                        return_grad=True),
        "huber": lambda: cyloss.huber_loss(v, u, delta=0.5, reduction="sum", return_grad=True),
        "smooth_l1": lambda: cyloss.smooth_l1_loss(v, u, beta=0.3, return_grad=True),
    }


def _flat(res):
    import numpy as np
    return [np.asarray(a) for a in (res if isinstance(res, tuple) else (res,))]


def test_results_do_not_depend_on_thread_count():
    """README: 'results do not depend on the thread count' -- bitwise, reductions included."""
    import numpy as np

    import cyloss
    calls = _big_calls()
    results = {}
    try:
        for n in (1, 2, 3):
            cyloss.set_num_threads(n)
            results[n] = {k: _flat(f()) for k, f in calls.items()}
    finally:
        cyloss.set_num_threads(0)
    for k in calls:
        for n in (2, 3):
            for a, b in zip(results[1][k], results[n][k]):
                np.testing.assert_array_equal(a, b, err_msg=f"{k}: 1 vs {n} threads")
