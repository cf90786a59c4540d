"""Thread behaviour of cyloss's default setting, quiet and with a busy core.

    python -m benchmarks.threads             # full run (~2 min on 2 cores)
    python -m benchmarks.threads --quick     # smoke run

Two measurements, both in one process (medians over 41 calls, GC off):

1. Busy machine: another process runs a bounded busy loop pinned to one CPU of this
   process's affinity mask, while the default thread count and one thread
   (``cyloss.num_threads(1)``) take turns on softmax, cross_entropy (mean, int
   targets) and mse_loss (mean) at 1e5, 1e6 and 4.1e6 float32 elements, (a) in blocks
   of 41 consecutive calls, (b) alternating call by call.  Reported: default median /
   one-thread median (the target: <= 1.25).
2. Quiet machine: one thread / default on cross_entropy with gradient, 16384x1000
   float32 (the target on 2 cores: >= 1.7).

Each comparison is repeated in ``--rounds`` alternating rounds; the table shows every
round's ratio and their median.
"""
import argparse
import gc
import os
import statistics
import subprocess
import sys
import time

import numpy as np

import cyloss

BUSY = """
import os, sys, time
os.sched_setaffinity(0, {int(sys.argv[1])})
end = time.monotonic() + float(sys.argv[2])
x = 0
while time.monotonic() < end:
    for _ in range(10000):
        x += 1
"""


def _median_time(fn, calls):
    ts = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _ratio_rounds(fn, calls, rounds, threads_a=None, threads_b=1, alternate=False):
    """[(median with threads_a, median with threads_b)] per round (None: the default).
    alternate=False: 41 consecutive calls with one setting, then 41 with the other (a
    loop of calls); alternate=True: the two settings take turns call by call (both see
    the same machine state; the pool's workers have gone to sleep before each call)."""
    out = []
    fn()
    for _ in range(rounds):
        if alternate:
            ta, tb = [], []
            for _ in range(calls):
                with cyloss.num_threads(threads_a or 0):
                    ta.append(_timed(fn))
                with cyloss.num_threads(threads_b or 0):
                    tb.append(_timed(fn))
            out.append((statistics.median(ta), statistics.median(tb)))
            continue
        with cyloss.num_threads(threads_a or 0):
            a = _median_time(fn, calls)
        with cyloss.num_threads(threads_b or 0):
            b = _median_time(fn, calls)
        out.append((a, b))
    return out


def workloads(rng):
    out = []
    for size in (100_000, 1_000_000, 4_096_000):
        c = 1000
        x = rng.normal(size=(size // c, c)).astype(np.float32)
        t = rng.integers(0, c, size // c)
        p = rng.normal(size=size).astype(np.float32)
        q = rng.normal(size=size).astype(np.float32)
        label = f"{size:.1e}".replace("e+0", "e")
        out.append((f"softmax {x.shape[0]}x{c}", label, lambda x=x: cyloss.softmax(x)))
        out.append((f"cross_entropy {x.shape[0]}x{c}", label, lambda x=x, t=t: cyloss.cross_entropy(x, t)))
        out.append((f"mse_loss {size}", label, lambda p=p, q=q: cyloss.mse_loss(p, q)))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer rounds (smoke run)")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds per workload (default 3)")
    ap.add_argument("--calls", type=int, default=41, help="calls per median (default 41)")
    ap.add_argument("--no-busy", action="store_true", help="skip the busy-core measurement")
    args = ap.parse_args(argv)
    rounds = args.rounds or (1 if args.quick else 3)
    rng = np.random.default_rng(0)
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count()))
    print(f"cyloss {cyloss.__version__}: default threads {cyloss.get_num_threads()}, CPUs {cpus}; "
          f"medians over {args.calls} calls, {rounds} rounds")
    gc.disable()
    rows = []
    if not args.no_busy and len(cpus) > 1:
        busy_cpu = cpus[-1]
        wl = workloads(rng)
        seconds = 5 + 2 * len(wl) * rounds * args.calls * 0.03
        proc = subprocess.Popen([sys.executable, "-c", BUSY, str(busy_cpu), str(seconds)])
        try:
            time.sleep(0.5)
            for alternate in (False, True):
                how = ("the settings alternate call by call" if alternate else
                       f"{args.calls} consecutive calls per setting")
                print(f"\n1{'b' if alternate else 'a'}. busy loop pinned to CPU {busy_cpu}, {how}: "
                      f"default / 1 thread (target <= 1.25)")
                print(f"{'workload':28s} {'elements':>9s} {'default ms':>11s} {'1 thread ms':>11s}  ratio per round")
                for name, label, fn in wl:
                    res = _ratio_rounds(fn, args.calls, rounds, alternate=alternate)
                    ratios = [a / b for a, b in res]
                    med = statistics.median(ratios)
                    a = statistics.median(r[0] for r in res) * 1e3
                    b = statistics.median(r[1] for r in res) * 1e3
                    print(f"{name:28s} {label:>9s} {a:11.3f} {b:11.3f}  "
                          + " ".join(f"{r:.2f}" for r in ratios) + f"  -> {med:.2f}", flush=True)
                    rows.append((name, label, alternate, med))
        finally:
            proc.kill()
            proc.wait()
        time.sleep(0.5)
    x = rng.normal(size=(16384, 1000)).astype(np.float32)
    t = rng.integers(0, 1000, 16384)
    print("\n2. quiet: 1 thread / default, cross_entropy + gradient 16384x1000 f32 (target >= 1.7 on 2 cores)")
    res = _ratio_rounds(lambda: cyloss.cross_entropy(x, t, return_grad=True), max(11, args.calls // 2), rounds)
    ratios = [b / a for a, b in res]
    print(f"  default {statistics.median(r[0] for r in res) * 1e3:.2f} ms, 1 thread "
          f"{statistics.median(r[1] for r in res) * 1e3:.2f} ms; speedup per round "
          + " ".join(f"{r:.2f}" for r in ratios) + f"  -> {statistics.median(ratios):.2f}")
    gc.enable()
    return 0


if __name__ == "__main__":
    sys.exit(main())
