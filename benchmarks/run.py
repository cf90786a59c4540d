"""Benchmark cyloss against torch (CPU, 1 and N threads), scipy.special, NumPy written the
usual way and sklearn's private loss module, with the memory roofline (copy / read of the
same bytes) alongside.  Every peer is optional.

    python -m benchmarks                 # full suite (a few minutes)
    python -m benchmarks --quick         # CI smoke run (< 1 minute)
    python -m benchmarks --filter cross_entropy --filter f64
    python -m benchmarks --list

See benchmarks/README.md for what the columns mean.
"""
import argparse
import datetime
import gc
import os
import platform
import sys
import time

if __package__ in (None, ""):          # run as a script: python benchmarks/run.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "benchmarks"

import numpy as np

import cyloss

from . import report
from .timer import measure
from .workloads import WORKLOADS, Env

HERE = os.path.dirname(os.path.abspath(__file__))
RTOL = {"f32": 2e-4, "f64": 1e-9}


# ------------------------------------------------------------------ machine
def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(mod):
    try:
        m = __import__(mod)
        return getattr(m, "__version__", "?")
    except Exception:
        return None


def machine_info(env):
    core = cyloss._core
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {m: _version(m) for m in ("numpy", "scipy", "torch", "sklearn", "matplotlib")},
        "cyloss": {
            "version": cyloss.__version__,
            "cpu_target": core.cpu_target(),
            "cpu_targets_built": core.cpu_targets_built(),
            "threads_enabled": bool(core.threads_enabled()),
            "num_threads": cyloss.get_num_threads(),
            "CYLOSS_CPU": os.environ.get("CYLOSS_CPU", ""),
            "path": os.path.dirname(cyloss.__file__),
        },
        "torch_default_threads": env.torch_default_threads,
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    }


# ------------------------------------------------------------------ correctness
def _as_numpy(r):
    if isinstance(r, (tuple, list)):
        return tuple(_as_numpy(v) for v in r)
    if hasattr(r, "detach"):                     # torch tensor
        r = r.detach().cpu().numpy()
    return np.array(r, dtype=np.float64)          # a copy: later calls may reuse out= buffers


def _disagreement(got, ref, rtol):
    """None when ``got`` matches ``ref`` (scale-aware tolerance), else why not."""
    if isinstance(ref, tuple) != isinstance(got, tuple) or (isinstance(ref, tuple) and len(ref) != len(got)):
        return "returns a different structure"
    if isinstance(ref, tuple):
        for i, (g, r) in enumerate(zip(got, ref)):
            why = _disagreement(g, r, rtol)
            if why:
                return f"{('loss', 'gradient')[i] if len(ref) == 2 else f'item {i}'}: {why}"
        return None
    if got.shape != ref.shape:
        return f"shape {got.shape} != cyloss {ref.shape}"
    scale = float(np.max(np.abs(ref[np.isfinite(ref)]), initial=0.0)) or 1.0
    err = np.abs(got - ref)
    bad = ~(err <= rtol * (np.abs(ref) + scale)) & ~(np.isnan(got) & np.isnan(ref))
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        return (f"{int(bad.sum())} of {ref.size} values off (first: {got.ravel()[i]:.9g} vs cyloss "
                f"{ref.ravel()[i]:.9g}; tolerance {rtol:g} relative to max |value| {scale:.3g})")
    return None


def verify(contenders, rtol, skipped, notes):
    """Run every contender once (also the warm-up); drop those that fail or disagree."""
    ref, ref_name, kept = None, None, []
    for c in contenders:
        try:
            c.enter()
            r = c.fn()
            val = _as_numpy(r) if c.checked else None
        except Exception as e:
            skipped[c.name] = f"raised {e.__class__.__name__}: {str(e).splitlines()[0][:160] if str(e) else ''}"
            continue
        if c.role == "cyloss" and ref is None:
            ref, ref_name = val, c.name
        elif c.checked:
            why = _disagreement(val, ref, rtol)
            if why:
                skipped[c.name] = f"result disagrees with {ref_name}: {why}"
                continue
            if c.role == "cyloss":
                same = all(np.array_equal(a, b, equal_nan=True)
                           for a, b in zip(val if isinstance(val, tuple) else (val,),
                                           ref if isinstance(ref, tuple) else (ref,)))
                if not same:
                    notes.append(f"{c.name} is not bitwise identical to {ref_name} (within tolerance)")
        kept.append(c)
    if ref is None:
        return []
    return kept


# ------------------------------------------------------------------ one workload
def run_workload(wl, env, budget, min_repeats):
    skipped, notes = {}, []
    t0 = time.perf_counter()
    try:
        contenders = wl.setup(env)
    except Exception as e:
        print(f"\n== {wl.name}: setup failed ({e.__class__.__name__}: {e}); skipped")
        return None
    contenders = verify(contenders, wl.rtol or RTOL[wl.dtype], skipped, notes)
    if not contenders:
        print(f"\n== {wl.name}: cyloss failed ({skipped}); skipped")
        return None
    timings = measure(contenders, budget=budget, min_repeats=min_repeats)
    env.restore()
    n = env.n
    by = {c.name: timings[c.name].best for c in contenders}
    base = by.get(f"cyloss {n}t")
    one = by.get("cyloss 1t")
    rec = {
        "name": wl.name, "function": wl.func, "dtype": wl.dtype, "tiny": wl.tiny, "threads": n,
        "contenders": [], "skipped": skipped, "notes": notes,
    }
    for c in contenders:
        t = timings[c.name]
        rec["contenders"].append({
            "name": c.name, "family": c.family, "role": c.role, "threads": c.threads,
            "seconds": t.best, "median_seconds": t.median, "repeats": t.repeats, "inner": t.inner,
            "ratio": t.best / base if base else None,
            "ratio_vs_cyloss_1t": t.best / one if one else None,
        })
    rec["cyloss_over_copy"] = base / by["copy"] if base and "copy" in by else None
    rec["cyloss_over_read"] = base / by["read"] if base and "read" in by else None
    rec["thread_speedup"] = one / base if base and one else None
    rec["speedup"] = report.speedups(rec)
    rec["wall_seconds"] = time.perf_counter() - t0
    del contenders
    gc.collect()
    return rec


# ------------------------------------------------------------------ CLI
def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="a subset with a small time budget (CI smoke test, < 1 minute)")
    p.add_argument("--filter", action="append", default=[], metavar="SUBSTR",
                   help="only workloads whose name contains SUBSTR (case-insensitive; "
                        "repeat to require several)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    p.add_argument("--budget", type=float, default=None, metavar="SEC",
                   help="timed seconds per workload (default 2.0, --quick 0.15); at least "
                        "--min-repeats rounds are always run")
    p.add_argument("--min-repeats", type=int, default=None, metavar="N",
                   help="minimum rounds per workload (default 5, --quick 3)")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="threads of 'cyloss Nt' and 'torch Nt' (default: cyloss's default, all cores)")
    p.add_argument("--peers", default=None, metavar="LIST",
                   help="comma-separated subset of torch,scipy,numpy,sklearn (default: all importable)")
    p.add_argument("--json", default=None, metavar="PATH",
                   help="results file (default benchmarks/results/latest.json, --quick: "
                        "benchmarks/results/quick.json); 'none' to skip")
    p.add_argument("--png", default=None, metavar="PATH",
                   help="speedup chart (default benchmarks/results/speedup.png, --quick: "
                        "benchmarks/results/quick.png); 'none' to skip")
    p.add_argument("--seed", type=int, default=0, help="random data seed")
    return p.parse_args(argv)


def select(args):
    wls = [w for w in WORKLOADS if w.quick] if args.quick else list(WORKLOADS)
    for f in args.filter:
        wls = [w for w in wls if f.lower() in w.name.lower()]
    return wls


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    wls = select(args)
    if args.list:
        for w in wls:
            print(f"{w.name:<40} cyloss.{w.func}{'   (quick)' if w.quick else ''}")
        return 0
    if not wls:
        print("no workload matches", args.filter)
        return 1
    budget = args.budget if args.budget is not None else (0.15 if args.quick else 2.0)
    min_rep = args.min_repeats if args.min_repeats is not None else (3 if args.quick else 5)
    n = args.threads or cyloss.get_num_threads()
    if n < 1:
        print("--threads must be >= 1")
        return 1
    peers = None if args.peers is None else {p.strip() for p in args.peers.split(",") if p.strip()}
    env = Env(n, peers, seed=args.seed)
    env.restore()
    machine = machine_info(env)
    settings = {"quick": args.quick, "filter": args.filter, "budget_seconds": budget,
                "min_repeats": min_rep, "threads": n, "peers": sorted(peers) if peers else None,
                "seed": args.seed, "timer": "min over interleaved rounds, GC off"}
    absent = [name for name, ok in (("torch", env.torch), ("scipy", env.sp), ("sklearn", env.skl)) if not ok]

    print(f"cyloss {cyloss.__version__} [{machine['cyloss']['cpu_target']}, threads "
          f"{'on' if machine['cyloss']['threads_enabled'] else 'off'}] on {machine['cpu']}, "
          f"{machine['cores']} cores; numpy {np.__version__}, " +
          ", ".join(f"{m} {v}" for m, v in machine["versions"].items() if v and m in ("scipy", "torch", "sklearn")))
    if absent:
        print(f"peers not importable or not requested (skipped): {', '.join(absent)}")
    print(f"{len(wls)} workloads, {budget:g} s timed per workload (>= {min_rep} rounds), "
          f"N = {n} threads; times are the minimum over interleaved rounds; "
          f"'vs cy Nt' = contender time / cyloss time (> 1: cyloss faster)")

    t_start = time.perf_counter()
    records = []
    for wl in wls:
        rec = run_workload(wl, env, budget, min_rep)
        if rec:
            report.print_workload(rec)
            records.append(rec)
        sys.stdout.flush()
    env.restore()
    if records:
        report.print_summary(records, n)
    elapsed = time.perf_counter() - t_start
    settings["elapsed_seconds"] = elapsed
    print(f"\n{len(records)} workloads in {elapsed:.0f} s")

    default_json = os.path.join(HERE, "results", "quick.json" if args.quick else "latest.json")
    default_png = os.path.join(HERE, "results", "quick.png" if args.quick else "speedup.png")
    json_path = args.json or default_json
    png_path = args.png or default_png
    if json_path.lower() != "none":
        report.write_json(json_path, machine, settings, records)
    if png_path.lower() != "none" and records:
        report.write_png(png_path, records, machine, n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
