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
    calling thread; results do not depend on the thread count.

    Parameters
    ----------
    n : int
        The thread count for large calls, 1 to 1024, or 0 for the default.

    Returns
    -------
    None

    Raises
    ------
    TypeError
        If n is a bool or not an integer (anything ``operator.index`` refuses).
    ValueError
        If n is outside [0, 1024].

    Notes
    -----
    A large call uses, first that applies: the calling thread's setting (``with
    cyloss.num_threads(n):``); the process setting (:func:`set_num_threads`); the default,
    ``OMP_NUM_THREADS`` if set (its first entry), else the CPUs this process may run on (affinity mask,
    and a cgroup CPU quota rounded up), capped by a threadpoolctl limit of the calling thread
    (``threadpoolctl.threadpool_limits(1)``).  The environment, affinity and quota are read once, at
    import.  A serial build always uses 1 thread.

    Examples
    --------
    >>> cyloss.set_num_threads(1)
    >>> cyloss.get_num_threads()
    1
    >>> cyloss.set_num_threads(0)  # back to the default
    """
    _core.set_num_threads(_count(n, "n"))


def get_num_threads():
    """Threads a large call made from this thread uses (1 in a serial build).

    Returns
    -------
    int
        The thread count (at least 1) that a large call made now from this thread would use.

    Notes
    -----
    A large call uses, first that applies: the calling thread's setting (``with
    cyloss.num_threads(n):``); the process setting (:func:`set_num_threads`); the default,
    ``OMP_NUM_THREADS`` if set (its first entry), else the CPUs this process may run on (affinity mask,
    and a cgroup CPU quota rounded up), capped by a threadpoolctl limit of the calling thread
    (``threadpoolctl.threadpool_limits(1)``).  The environment, affinity and quota are read once, at
    import.  A serial build always uses 1 thread.

    Examples
    --------
    >>> with cyloss.num_threads(1):
    ...     print(cyloss.get_num_threads())
    1
    >>> cyloss.get_num_threads() >= 1
    True
    """
    return _core.get_num_threads()


class num_threads:
    """``with cyloss.num_threads(n): ...`` -- calls made by this thread inside the block
    use n threads (0: the process default); other threads are not affected. On exit
    the thread's previous setting (usually "not set") is restored.

    Parameters
    ----------
    n : int
        The thread count inside the block, 1 to 1024, or 0 for the process default (the setting of
        :func:`set_num_threads`, else the default).

    Raises
    ------
    TypeError
        If n is a bool or not an integer (anything ``operator.index`` refuses).
    ValueError
        If n is outside [0, 1024].  Both are raised when the object is created, before the block is
        entered.

    Notes
    -----
    A large call uses, first that applies: the calling thread's setting (``with
    cyloss.num_threads(n):``); the process setting (:func:`set_num_threads`); the default,
    ``OMP_NUM_THREADS`` if set (its first entry), else the CPUs this process may run on (affinity mask,
    and a cgroup CPU quota rounded up), capped by a threadpoolctl limit of the calling thread
    (``threadpoolctl.threadpool_limits(1)``).  The environment, affinity and quota are read once, at
    import.  A serial build always uses 1 thread.

    Blocks nest (each thread keeps its own stack of saved settings), and entering returns the
    ``num_threads`` object.

    Examples
    --------
    >>> with cyloss.num_threads(1):
    ...     loss = cyloss.mse_loss(np.ones(4), np.zeros(4))
    ...     n = cyloss.get_num_threads()
    >>> n, float(loss)
    (1, 1.0)
    """

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
    or not a positive integer (then ignored, as libgomp does).

    Parameters
    ----------
    environ : mapping, optional
        The environment to read (default None: ``os.environ``).

    Returns
    -------
    int
        The first comma-separated entry of ``OMP_NUM_THREADS`` as an integer, capped at 1024; 0 when
        the variable is unset, empty, not an integer or not positive.

    Notes
    -----
    Malformed values give 0; nothing is raised.  Used once, at import, for the default thread count (see
    :func:`cyloss.set_num_threads`).

    Examples
    --------
    >>> env = cyloss._threads.env_threads
    >>> [env({"OMP_NUM_THREADS": v}) for v in ("4,2", "8", "-1", "x", "")]
    [4, 8, 0, 0, 0]
    >>> env({})
    0
    """
    value = (os.environ if environ is None else environ).get("OMP_NUM_THREADS", "")
    first = value.split(",")[0].strip()
    try:
        n = int(first)
    except ValueError:
        return 0
    return min(n, MAX_THREADS) if n > 0 else 0


def affinity_cpus():
    """CPUs in this process's affinity mask (all online CPUs where there is no mask).

    Returns
    -------
    int
        ``len(os.sched_getaffinity(0))``, or ``os.cpu_count()`` where the platform has no affinity
        mask (or it cannot be read); at least 1.

    Notes
    -----
    One of the inputs of :func:`hardware_threads`, the default thread count.

    Examples
    --------
    >>> cyloss._threads.affinity_cpus() >= 1
    True
    """
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
    The smallest quota found applies.

    Parameters
    ----------
    root : str, optional
        The cgroup file system's mount point (default "/sys/fs/cgroup").
    proc_cgroup : str, optional
        The file listing this process's cgroups (default "/proc/self/cgroup").

    Returns
    -------
    float or None
        The smallest quota / period found, in CPUs (e.g. 1.5), or None when no quota applies or none
        can be read.

    Notes
    -----
    Unreadable or malformed files are skipped; nothing is raised.  cgroup v2 is looked at when
    /proc/self/cgroup has a unified ("0::/path") entry or root holds cpu.max; cgroup v1 under the first
    of root/cpu, root/cpu,cpuacct and root/cpuacct,cpu that exists.  Non-positive quotas and periods are
    ignored.

    Examples
    --------
    >>> cyloss._threads.cgroup_cpu_limit("/nonexistent", "/nonexistent") is None
    True
    """
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
    """min(CPUs in the affinity mask, the cgroup quota rounded up), at least 1.

    Parameters
    ----------
    root : str, optional
        The cgroup file system's mount point (default "/sys/fs/cgroup").
    proc_cgroup : str, optional
        The file listing this process's cgroups (default "/proc/self/cgroup").

    Returns
    -------
    int
        The number of CPUs this process may use, between 1 and 1024.

    Notes
    -----
    :func:`affinity_cpus`, limited to ``ceil(cgroup_cpu_limit(root, proc_cgroup))`` (at least 1) when a
    quota applies; the default thread count when ``OMP_NUM_THREADS`` is not set.

    Examples
    --------
    >>> t = cyloss._threads
    >>> t.hardware_threads("/nonexistent", "/nonexistent") == min(t.affinity_cpus(), 1024)
    True
    """
    n = affinity_cpus()
    quota = cgroup_cpu_limit(root, proc_cgroup)
    if quota is not None:
        n = min(n, max(1, math.ceil(quota)))
    return max(1, min(n, MAX_THREADS))


def init():
    """Give the C runtime its defaults (at import) and register with threadpoolctl.

    Returns
    -------
    None

    Notes
    -----
    Called once by ``import cyloss``: hands the C runtime :func:`env_threads` and
    :func:`hardware_threads` as its defaults and, when threadpoolctl (3.3 or later) is installed,
    registers cyloss's thread pool with it, so that ``threadpoolctl.threadpool_limits(n)`` limits
    cyloss's threads on the calling thread.  Not meant to be called again.

    Examples
    --------
    >>> cyloss._threads.init()  # doctest: +SKIP
    """
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
