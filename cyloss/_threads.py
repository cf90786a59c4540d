"""Thread settings of the kernels (the pool itself is C: csrc/cyl_threads.c).

A large call uses, first that applies:
  1. the calling thread's setting (``with cyloss.num_threads(n):``);
  2. the process setting (``cyloss.set_num_threads(n)``);
  3. the default: ``OMP_NUM_THREADS`` if set, else the CPUs this process may run on
     (affinity mask, and a cgroup CPU quota rounded up), capped by a threadpoolctl
     limit of the calling thread (``threadpoolctl.threadpool_limits(1)``).
The environment, affinity and quota are read once, at import.
"""
import math
import operator
import os
import sys
import threading

from . import _core

MAX_THREADS = 1024


def _count(n, name):
    """n as an int in [0, MAX_THREADS]; TypeError for bools and non-integers."""
    if isinstance(n, bool) or type(n).__name__ == "bool_":
        raise TypeError(f"{name} must be an integer, got {n!r}")
    try:
        i = operator.index(n)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(n).__name__} {n!r}") from None
    if not 0 <= i <= MAX_THREADS:
        raise ValueError(f"{name} must be between 0 (the default) and {MAX_THREADS}, got {i}")
    return i


def set_num_threads(n):
    """Threads for large calls in this process: 1..1024, or 0 for the default
    (OMP_NUM_THREADS, else the CPUs available to the process). A thread's own
    ``with cyloss.num_threads(n):`` takes precedence. Small calls always run on the
    calling thread; results do not depend on the thread count."""
    _core.set_num_threads(_count(n, "n"))


def get_num_threads():
    """Threads a large call made from this thread uses (1 in a serial build)."""
    return _core.get_num_threads()


class num_threads:
    """``with cyloss.num_threads(n): ...`` -- calls made by this thread inside the block
    use n threads (0: the process default); other threads are not affected. On exit
    the thread's previous setting (usually "not set") is restored."""

    def __init__(self, n):
        self._n = _count(n, "n")
        self._saved = threading.local()

    def __enter__(self):
        stack = self._saved.__dict__.setdefault("stack", [])
        stack.append(_core.get_thread_num_threads())
        _core.set_thread_num_threads(self._n)
        return self

    def __exit__(self, *exc):
        _core.set_thread_num_threads(self._saved.stack.pop())
        return False


# ----------------------------------------------------------------- defaults
def env_threads(environ=None):
    """OMP_NUM_THREADS as a count (its first entry, as OpenMP reads "4,2"), 0 if unset
    or not a positive integer (then ignored, as libgomp does)."""
    value = (os.environ if environ is None else environ).get("OMP_NUM_THREADS", "")
    first = value.split(",")[0].strip()
    try:
        n = int(first)
    except ValueError:
        return 0
    return min(n, MAX_THREADS) if n > 0 else 0


def affinity_cpus():
    """CPUs in this process's affinity mask (all online CPUs where there is no mask)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _cgroup_paths(proc_cgroup):
    """{controller: path} from /proc/self/cgroup ('' is the cgroup v2 unified entry)."""
    paths = {}
    for line in (_read(proc_cgroup) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        for ctl in parts[1].split(","):
            paths[ctl] = parts[2]
    return paths


def _ancestors(base, rel):
    """base/rel, then each parent directory up to base, then base itself."""
    rel = rel.strip("/")
    dirs = []
    while rel:
        dirs.append(os.path.join(base, rel))
        rel = os.path.dirname(rel)
    dirs.append(base)
    return dirs


def cgroup_cpu_limit(root="/sys/fs/cgroup", proc_cgroup="/proc/self/cgroup"):
    """CPUs allowed by the cgroup CPU quota of this process (quota / period, not
    rounded), or None without a quota.  cgroup v2: cpu.max ("max 100000" or
    "150000 100000") of the process's cgroup and its ancestors; v1: cpu.cfs_quota_us
    (-1: none) / cpu.cfs_period_us under the cpu controller's mount.  Inside a
    container the process's cgroup is the mount's root, which is looked at too.
    The smallest quota found applies."""
    paths = _cgroup_paths(proc_cgroup)
    limits = []
    if "" in paths or os.path.exists(os.path.join(root, "cpu.max")):  # v2
        for d in _ancestors(root, paths.get("", "/")):
            text = _read(os.path.join(d, "cpu.max"))
            if not text:
                continue
            fields = text.split()
            if len(fields) >= 2 and fields[0] != "max":
                try:
                    quota, period = float(fields[0]), float(fields[1])
                except ValueError:
                    continue
                if quota > 0 and period > 0:
                    limits.append(quota / period)
    for ctl in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):  # v1 mount names
        base = os.path.join(root, ctl)
        if not os.path.isdir(base):
            continue
        for d in _ancestors(base, paths.get("cpu", "/")):
            q, p = _read(os.path.join(d, "cpu.cfs_quota_us")), _read(os.path.join(d, "cpu.cfs_period_us"))
            try:
                quota, period = float(q), float(p)
            except (TypeError, ValueError):
                continue
            if quota > 0 and period > 0:
                limits.append(quota / period)
        break
    return min(limits) if limits else None


def hardware_threads(root="/sys/fs/cgroup", proc_cgroup="/proc/self/cgroup"):
    """min(CPUs in the affinity mask, the cgroup quota rounded up), at least 1."""
    n = affinity_cpus()
    quota = cgroup_cpu_limit(root, proc_cgroup)
    if quota is not None:
        n = min(n, max(1, math.ceil(quota)))
    return max(1, min(n, MAX_THREADS))


def init():
    """Give the C runtime its defaults (at import) and register with threadpoolctl."""
    _core.set_thread_defaults(env_threads(), hardware_threads())
    _register_threadpoolctl()


# ------------------------------------------------------------ threadpoolctl
def _register_threadpoolctl():
    """threadpoolctl.threadpool_limits(n) limits cyloss's threads on the calling thread.
    threadpoolctl is optional: imported here only if it is installed."""
    if "threadpoolctl" not in sys.modules:
        import importlib.util
        try:
            if importlib.util.find_spec("threadpoolctl") is None:
                return
        except (ImportError, ValueError):
            return
    try:
        import threadpoolctl
        base = threadpoolctl.LibController
        register = threadpoolctl.register
    except (ImportError, AttributeError):  # threadpoolctl < 3.3 has no register()
        return

    class CylossController(base):
        """cyloss's thread pool, found by the symbols its extension module exports."""
        user_api = "cyloss"
        internal_api = "cyloss"
        filename_prefixes = ("_core",)
        check_symbols = ("cyloss_threadpoolctl_get_num_threads", "cyloss_threadpoolctl_set_num_threads")

        def get_num_threads(self):
            fn = getattr(self.dynlib, "cyloss_threadpoolctl_get_num_threads", None)
            return fn() if fn is not None else None

        def set_num_threads(self, num_threads):
            fn = getattr(self.dynlib, "cyloss_threadpoolctl_set_num_threads", None)
            if fn is not None:
                fn(int(num_threads))

        def get_version(self):
            from . import __version__
            return __version__

    register(CylossController)
