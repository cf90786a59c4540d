"""Threads and processes: fork, per-thread settings, the default thread count
(OMP_NUM_THREADS, threadpoolctl, affinity, cgroup quotas), small stacks.

Scenarios that could hang or crash run in a subprocess with a timeout, so a
regression fails the test instead of the test run.
"""
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import cyloss
from cyloss import _core, _threads

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
threaded = pytest.mark.skipif(not _core.threads_enabled(), reason="serial build")
multi_cpu = pytest.mark.skipif(CPUS < 2, reason="needs 2 CPUs")


def _run(code, timeout=120, **env):
    e = dict(os.environ)
    for k, v in env.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=e,
                          capture_output=True, text=True, timeout=timeout)


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}"
    return r.stdout


# ------------------------------------------------------------------------- fork
FORK_PRELUDE = """
import multiprocessing as mp, threading, numpy as np, cyloss
rng = np.random.default_rng(0)
x = rng.normal(0, 3, (4096, 300)).astype(np.float32)
t = rng.integers(0, 300, 4096)
v = rng.normal(size=2_000_000)

def ref_softmax(a):
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)

def child(q):
    try:
        with cyloss.num_threads(2):
            y = cyloss.softmax(x)
            n = cyloss._core.last_call_threads()
            l, g = cyloss.cross_entropy(x, t, return_grad=True)
            m = cyloss.mse_loss(v, 0.0)
        ok = (np.allclose(y, ref_softmax(x.astype(np.float64)), atol=1e-6)
              and np.isclose(m, np.mean(v * v)) and np.isfinite(l))
        q.put((bool(ok), n))
    except BaseException as e:
        q.put((repr(e), 0))

def fork_child(ctx):
    q = ctx.Queue()
    p = ctx.Process(target=child, args=(q,))
    p.start()
    p.join(20)
    alive = p.is_alive()
    if alive:
        p.kill()
        p.join()
    assert not alive, "forked child hung"
    assert p.exitcode == 0, p.exitcode
    return q.get(timeout=5)
"""


@threaded
def test_fork_after_parallel_call():
    """A fork child of a parent whose pool ran (libgomp's would hang forever) finishes,
    with correct results, and runs its own pool (2 threads: not forced serial)."""
    out = _ok(_run(FORK_PRELUDE + """
with cyloss.num_threads(2):
    cyloss.softmax(x)                      # the parent's pool is up
    assert cyloss._core.last_call_threads() == 2
ctx = mp.get_context("fork")
for _ in range(3):
    print(fork_child(ctx))
cyloss.softmax(x)                          # the parent's pool still works
"""))
    assert out.splitlines() == ["(True, 2)"] * 3, out


@threaded
def test_fork_while_another_thread_is_inside_a_kernel():
    """Children forked while a parent thread keeps the pool busy finish too."""
    out = _ok(_run(FORK_PRELUDE + """
stop = threading.Event()
calls = [0]
def hammer():
    big = rng.normal(size=(8192, 1000)).astype(np.float32)
    with cyloss.num_threads(2):
        while not stop.is_set():
            cyloss.softmax(big)
            calls[0] += 1
th = threading.Thread(target=hammer)
th.start()
ctx = mp.get_context("fork")
try:
    while calls[0] == 0:
        pass
    for _ in range(6):
        print(fork_child(ctx)[0])
finally:
    stop.set()
    th.join()
print("parent calls", calls[0] > 0)
"""))
    assert out.splitlines() == ["True"] * 6 + ["parent calls True"], out


# ------------------------------------------------------------------ per-thread settings
@threaded
def test_num_threads_block_affects_only_its_thread():
    default = cyloss.get_num_threads()
    inside, seen = threading.Event(), {}
    release = threading.Event()

    def other():
        with cyloss.num_threads(1):
            seen["other_inside"] = cyloss.get_num_threads()
            inside.set()
            release.wait(10)
        seen["other_after"] = cyloss.get_num_threads()

    th = threading.Thread(target=other)
    th.start()
    assert inside.wait(10)
    seen["main_while_other_inside"] = cyloss.get_num_threads()
    release.set()
    th.join()
    assert seen == {"other_inside": 1, "main_while_other_inside": default, "other_after": default}


@threaded
def test_overlapping_blocks_in_two_threads_restore_the_default():
    """A enters num_threads(1), B enters num_threads(3), A exits, B exits: both threads and
    the process are back to "not set" (a global setting would end at 1)."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    after = {}

    def a():
        with cyloss.num_threads(1):
            a_in.set()
            assert b_in.wait(10)
        a_out.set()
        after["a"] = (_core.get_thread_num_threads(), cyloss.get_num_threads())

    def b():
        assert a_in.wait(10)
        with cyloss.num_threads(3):
            b_in.set()
            assert a_out.wait(10)
            after["b_inside"] = cyloss.get_num_threads()
        after["b"] = (_core.get_thread_num_threads(), cyloss.get_num_threads())

    ths = [threading.Thread(target=a), threading.Thread(target=b)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    default = cyloss.get_num_threads()
    assert after == {"a": (0, default), "b_inside": 3, "b": (0, default)}
    assert _core.get_num_threads_setting() == 0 and _core.get_thread_num_threads() == 0


@threaded
def test_num_threads_restores_not_set_and_nests():
    assert _core.get_thread_num_threads() == 0
    cm = cyloss.num_threads(1)
    with cm:
        assert cyloss.get_num_threads() == 1
        with cyloss.num_threads(3):
            assert cyloss.get_num_threads() == 3
            with cm:  # the same object entered again
                assert cyloss.get_num_threads() == 1
            assert cyloss.get_num_threads() == 3
        assert cyloss.get_num_threads() == 1
    assert _core.get_thread_num_threads() == 0
    try:
        cyloss.set_num_threads(3)
        assert cyloss.get_num_threads() == 3
        with cyloss.num_threads(1):
            assert cyloss.get_num_threads() == 1
            with cyloss.num_threads(0):  # 0 inside a block: the process setting
                assert cyloss.get_num_threads() == 3
        assert cyloss.get_num_threads() == 3 and _core.get_thread_num_threads() == 0
    finally:
        cyloss.set_num_threads(0)


@threaded
def test_large_calls_use_the_setting_small_calls_one_thread():
    x = np.random.default_rng(1).normal(size=(2000, 500))
    with cyloss.num_threads(2):
        cyloss.softmax(x)
        assert _core.last_call_threads() == 2
        cyloss.softmax(x[:10])
        assert _core.last_call_threads() == 1
    with cyloss.num_threads(1):
        cyloss.softmax(x)
        assert _core.last_call_threads() == 1


@pytest.mark.parametrize("bad,exc", [(2**31, ValueError), (1025, ValueError), (-1, ValueError),
                                     (True, TypeError), (np.bool_(True), TypeError), (1.5, TypeError),
                                     ("2", TypeError), (None, TypeError)])
def test_bad_thread_counts(bad, exc):
    before = (_core.get_num_threads_setting(), _core.get_thread_num_threads())
    with pytest.raises(exc, match="n must be"):
        cyloss.set_num_threads(bad)
    with pytest.raises(exc, match="n must be"):
        cyloss.num_threads(bad)
    assert (_core.get_num_threads_setting(), _core.get_thread_num_threads()) == before


def test_thread_count_accepts_numpy_integers():
    try:
        cyloss.set_num_threads(np.int64(1))
        assert cyloss.get_num_threads() == 1
    finally:
        cyloss.set_num_threads(0)


# ------------------------------------------------------------------ the default
@threaded
@pytest.mark.parametrize("value,expected", [("3", 3), ("1", 1), ("5,2", 5), (" 2 ", 2), ("0", None),
                                            ("-4", None), ("lots", None), ("", None), ("99999", 1024)])
def test_omp_num_threads(value, expected):
    out = _ok(_run("import cyloss; print(cyloss.get_num_threads())", OMP_NUM_THREADS=value))
    assert int(out) == (expected if expected is not None else _threads.hardware_threads())


@threaded
def test_explicit_setting_beats_omp_num_threads():
    out = _ok(_run("""
import cyloss
a = cyloss.get_num_threads()
cyloss.set_num_threads(2)
b = cyloss.get_num_threads()
with cyloss.num_threads(1):
    c = cyloss.get_num_threads()
print(a, b, c)
""", OMP_NUM_THREADS="4"))
    assert out.split() == ["4", "2", "1"]


@threaded
@multi_cpu
def test_affinity_mask_limits_the_default():
    out = _ok(_run("""
import os
os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
import numpy as np, cyloss
cyloss.softmax(np.ones((4000, 1000)))
print(cyloss.get_num_threads(), cyloss._core.last_call_threads())
""", OMP_NUM_THREADS=None))
    assert out.split() == ["1", "1"]


def test_threadpoolctl_limits_cyloss():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not hasattr(threadpoolctl, "register"):
        pytest.skip("threadpoolctl without register()")
    info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "cyloss"]
    assert len(info) == 1 and info[0]["filepath"] == os.path.realpath(_core.__file__), info
    x = np.random.default_rng(2).normal(size=(2000, 500))
    default = cyloss.get_num_threads()
    with threadpoolctl.threadpool_limits(1):
        assert cyloss.get_num_threads() == 1
        cyloss.softmax(x)
        assert _core.last_call_threads() == 1
        with cyloss.num_threads(2):  # an explicit cyloss setting wins
            assert cyloss.get_num_threads() == 2
    assert cyloss.get_num_threads() == default
    with threadpoolctl.threadpool_limits(limits={"cyloss": 1}):
        assert cyloss.get_num_threads() == 1
    with threadpoolctl.threadpool_limits(limits=64):  # a limit above the default changes nothing
        assert cyloss.get_num_threads() == default
    assert cyloss.get_num_threads() == default


def test_threadpoolctl_limit_is_per_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    if not hasattr(threadpoolctl, "register"):
        pytest.skip("threadpoolctl without register()")
    seen = {}
    with threadpoolctl.threadpool_limits(1):
        th = threading.Thread(target=lambda: seen.setdefault("other", cyloss.get_num_threads()))
        th.start()
        th.join()
        seen["main"] = cyloss.get_num_threads()
    assert seen == {"other": _threads.hardware_threads() if not os.environ.get("OMP_NUM_THREADS")
                    else _threads.env_threads(), "main": 1}


# ------------------------------------------------------------------ cgroup quotas
def _write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def test_cgroup_v2_quota(tmp_path):
    root, proc = str(tmp_path / "cg"), str(tmp_path / "cgroup")
    _write(str(tmp_path), "cgroup", "0::/kubepods/pod1/ctr\n")
    _write(root, "cpu.max", "max 100000\n")
    _write(root, "kubepods/pod1/cpu.max", "250000 100000\n")
    _write(root, "kubepods/pod1/ctr/cpu.max", "max 100000\n")
    assert _threads.cgroup_cpu_limit(root, proc) == 2.5
    _write(root, "kubepods/pod1/ctr/cpu.max", "50000 100000\n")
    assert _threads.cgroup_cpu_limit(root, proc) == 0.5
    assert _threads.hardware_threads(root, proc) == 1


def test_cgroup_v2_container_root(tmp_path):
    """Inside a container (cgroup namespace) the process's cgroup is "/": the quota is in
    the mount's own cpu.max.  A 1-CPU container on a many-core host gets 1 thread."""
    root, proc = str(tmp_path / "cg"), str(tmp_path / "cgroup")
    _write(str(tmp_path), "cgroup", "0::/\n")
    _write(root, "cpu.max", "100000 100000\n")
    assert _threads.cgroup_cpu_limit(root, proc) == 1.0
    assert _threads.hardware_threads(root, proc) == 1
    _write(root, "cpu.max", "max 100000\n")
    assert _threads.cgroup_cpu_limit(root, proc) is None
    assert _threads.hardware_threads(root, proc) == _threads.affinity_cpus()


def test_cgroup_v1_quota(tmp_path):
    root, proc = str(tmp_path / "cg"), str(tmp_path / "cgroup")
    _write(str(tmp_path), "cgroup", "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/x\n")
    _write(root, "cpu,cpuacct/cpu.cfs_quota_us", "-1\n")
    _write(root, "cpu,cpuacct/cpu.cfs_period_us", "100000\n")
    _write(root, "cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "150000\n")
    _write(root, "cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n")
    assert _threads.cgroup_cpu_limit(root, proc) == 1.5
    assert _threads.hardware_threads(root, proc) == min(2, _threads.affinity_cpus())
    _write(root, "cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "-1\n")
    assert _threads.cgroup_cpu_limit(root, proc) is None


def test_cgroup_v1_container_root_and_garbage(tmp_path):
    root, proc = str(tmp_path / "cg"), str(tmp_path / "cgroup")
    _write(str(tmp_path), "cgroup", "4:cpu,cpuacct:/\n")
    _write(root, "cpu,cpuacct/cpu.cfs_quota_us", "100000\n")
    _write(root, "cpu,cpuacct/cpu.cfs_period_us", "100000\n")
    assert _threads.cgroup_cpu_limit(root, proc) == 1.0
    _write(root, "cpu,cpuacct/cpu.cfs_quota_us", "nonsense\n")
    assert _threads.cgroup_cpu_limit(root, proc) is None
    # no cgroup files at all (not Linux, or not mounted)
    assert _threads.cgroup_cpu_limit(str(tmp_path / "nothing"), str(tmp_path / "none")) is None


def test_this_machines_quota_is_read_without_error():
    q = _threads.cgroup_cpu_limit()
    assert q is None or q > 0
    assert 1 <= _threads.hardware_threads() <= _threads.affinity_cpus()


# ------------------------------------------------------------------ small stacks
SMALL_STACK = """
import threading, numpy as np, cyloss
rng = np.random.default_rng(0)
failures = []
done = [0]

def calls(dt, n, c):
    x = rng.normal(0, 3, (n, c)).astype(dt)
    t = rng.integers(0, c, n)
    p = rng.uniform(0.01, 0.99, (n, c)).astype(dt)
    q = rng.normal(size=n * c).astype(dt)
    y = cyloss.softmax(x)
    return [
        lambda: cyloss.softmax(x), lambda: cyloss.log_softmax(x),
        lambda: cyloss.softmax(x, temperature=2.0), lambda: cyloss.log_softmax(x, axis=0),
        lambda: cyloss.logsumexp(x, axis=-1), lambda: cyloss.logsumexp(x * 1e-3, axis=-1),
        lambda: cyloss.logsumexp(x, axis=-1, b=p, return_sign=True),
        lambda: cyloss.softmax_backward(y, x), lambda: cyloss.log_softmax_backward(x, y),
        lambda: cyloss.cross_entropy(x, t, return_grad=True),
        lambda: cyloss.cross_entropy(x, t, label_smoothing=0.1, weight=p[0], reduction="none"),
        lambda: cyloss.cross_entropy(x, p, return_grad=True),
        lambda: cyloss.nll_loss(x, t, return_grad=True), lambda: cyloss.entropy(p),
        lambda: cyloss.binary_cross_entropy_with_logits(x, p, return_grad=True),
        lambda: cyloss.binary_cross_entropy(p, p, return_grad=True),
        lambda: cyloss.kl_div(x, p, return_grad=True),
        lambda: cyloss.mse_loss(q, 0.0, return_grad=True), lambda: cyloss.l1_loss(q, 1.0, return_grad=True),
        lambda: cyloss.huber_loss(q, 0.5, return_grad=True), lambda: cyloss.smooth_l1_loss(q, 0.5, return_grad=True),
    ]

def work():
    try:
        for dt in (np.float32, np.float64):
            for n, c in ((2000, 10), (2000, 32), (40, 1000), (3, 70000)):
                for f in calls(dt, n, c):
                    f()
                    with cyloss.num_threads(1):
                        f()
                    done[0] += 2
    except BaseException as e:
        failures.append(repr(e))

threading.stack_size(32768)
th = threading.Thread(target=work)
th.start()
th.join()
print("failures", failures, "calls", done[0])
"""


def test_every_function_on_a_32k_stack_thread():
    """threading.stack_size(32768) (and OMP_STACKSIZE=32K, which sized OpenMP's workers
    when cyloss used OpenMP): kernels keep their buffers off the stack."""
    out = _ok(_run(SMALL_STACK, timeout=300, OMP_STACKSIZE="32K"))
    assert out.strip() == "failures [] calls 336", out


# ------------------------------------------------------------------ pool under contention
@threaded
def test_pool_shared_by_many_python_threads():
    """Threads racing for the pool (the loser of a race runs its call itself) with
    different settings: every result equals the one-thread result, bitwise."""
    from concurrent.futures import ThreadPoolExecutor
    rng = np.random.default_rng(12)
    xs = [rng.normal(0, 3, (600, 700)).astype(dt) for dt in (np.float32, np.float64)]
    ts = [rng.integers(0, 700, 600) for _ in xs]
    v = rng.normal(size=600_000)

    def work(i):
        x, t = xs[i % 2], ts[i % 2]
        with cyloss.num_threads(1 + i % 3):
            return (cyloss.softmax(x), cyloss.cross_entropy(x, t, return_grad=True),
                    cyloss.logsumexp(x, axis=0), cyloss.mse_loss(v, v[::-1], return_grad=True))

    with cyloss.num_threads(1):
        serial = [work(i) for i in range(6)]

    def same(a, b):
        if isinstance(a, tuple):
            return all(same(p, q) for p, q in zip(a, b))
        return np.array_equal(a, b)

    with ThreadPoolExecutor(6) as ex:
        for _ in range(4):
            par = list(ex.map(work, range(6)))
            assert all(same(serial[i], par[i]) for i in range(6))


@threaded
def test_pool_back_to_back_calls_and_tiny_jobs():
    """Many consecutive pool jobs of few blocks (the job protocol's fast path), each
    checked against the one-thread result."""
    rng = np.random.default_rng(13)
    for rows in (17, 33, 64, 129, 1000):
        x = rng.normal(size=(rows, 8192 // 4))
        with cyloss.num_threads(1):
            want = cyloss.log_softmax(x), cyloss.entropy(np.abs(x))
        with cyloss.num_threads(4):
            for _ in range(50):
                got = cyloss.log_softmax(x), cyloss.entropy(np.abs(x))
                assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
