"""A/B of two cyloss builds in one process: the `+hess` workloads of benchmarks.workloads
(gradient + Hessian of 1e7 elements into existing arrays, with their NumPy and sklearn
peers), the old build's cyloss contenders added beside the new build's, all timed
interleaved by benchmarks.timer.measure.

    python -m benchmarks.ab_elementwise /path/to/old/checkout/cyloss [workload kinds...]
        [--shape 4096x1000] [--threads 1] [--dtypes f32]

Kinds are the keys of workloads._HESS (default: the sklearn family and mse), or any key of
workloads.SETUPS (e.g. softmax, cross_entropy+grad: the row kernels, with --shape NxC).  The
old package directory (built in place) is copied to a temporary directory and imported as
`cyloss_old` (its modules import each other relatively).
"""
import argparse
import dataclasses
import importlib
import shutil
import sys
import tempfile

from benchmarks import workloads as W
from benchmarks.timer import measure

KINDS = ["half_poisson", "half_gamma", "half_tweedie", "half_tweedie_identity", "exponential", "mse_loss"]


def _import_old(path):
    tmp = tempfile.mkdtemp()
    shutil.copytree(path, tmp + "/cyloss_old")
    sys.path.insert(0, tmp)
    return importlib.import_module("cyloss_old")


def _calling(module, fn):
    """fn with workloads' global `cyloss` bound to module during the call: most setups'
    callables look the module up when called (lambda: cyloss.softmax(x)), not when made."""
    def call():
        saved = W.cyloss
        W.cyloss = module
        try:
            return fn()
        finally:
            W.cyloss = saved
    return call


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", help="the old build's package directory")
    ap.add_argument("kinds", nargs="*", default=KINDS)
    ap.add_argument("--shape", default="10000000", help="N or NxC (default 1e7 elements)")
    ap.add_argument("--threads", type=int, default=2, help="the second thread count beside 1 (default 2)")
    ap.add_argument("--dtypes", default="f32,f64")
    ap.add_argument("--budget", type=float, default=6.0, help="seconds per workload")
    args = ap.parse_args(argv)
    old = _import_old(args.old)
    shape = tuple(int(float(v)) for v in args.shape.lower().split("x"))
    threads = args.threads
    for dt in args.dtypes.split(","):
        for kind in args.kinds:
            key = kind if kind in W.SETUPS else kind + "+hess"
            setup = W.SETUPS[key]
            extra = ({"out": True} if key.endswith("+hess") or key in ("softmax", "log_softmax")
                     else {"grad_out": True} if key == "cross_entropy+grad" else {})
            new_cs = setup(W.Env(threads, seed=0), shape, dt, **extra)
            new_module = W.cyloss
            W.cyloss = old  # the old build's contenders, on the same data (same seed)
            try:
                old_cs = [c for c in setup(W.Env(threads, seed=0, peers=()), shape, dt, **extra) if c.role == "cyloss"]
            finally:
                W.cyloss = new_module
            old_cs = [dataclasses.replace(c, name="old " + c.name, fn=_calling(old, c.fn),
                                          enter=lambda k=c.threads: old.set_num_threads(k)) for c in old_cs]
            t = {name: tm.best * 1e3 for name, tm in measure(new_cs + old_cs, budget=args.budget).items()}
            ratios = " ".join(f"{name} {t[name]:.2f} ms ({t[name] / t[f'cyloss {threads}t']:.2f}x new, "
                              f"{t[name] / t[f'old cyloss {threads}t']:.2f}x old)"
                              for name in t if name.startswith(("numpy", "sklearn", "copy", "torch", "scipy")))
            print(f"{key:28s} {dt} 1t old {t['old cyloss 1t']:6.2f} new {t['cyloss 1t']:6.2f} | "
                  f"{threads}t old {t[f'old cyloss {threads}t']:6.2f} new {t[f'cyloss {threads}t']:6.2f} ms | {ratios}",
                  flush=True)
    W.cyloss.set_num_threads(0)
    old.set_num_threads(0)


if __name__ == "__main__":
    main(sys.argv[1:])
