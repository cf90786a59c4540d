"""A/B of two cyloss builds in one process: the `+hess` workloads of benchmarks.workloads
(gradient + Hessian of 1e7 elements into existing arrays, with their NumPy and sklearn
peers), the old build's cyloss contenders added beside the new build's, all timed
interleaved by benchmarks.timer.measure.

    python -m benchmarks.ab_elementwise /path/to/old/checkout/cyloss [workload kinds...]

Kinds are the keys of workloads._HESS (default: the sklearn family and mse).  The old
package directory (built in place) is copied to a temporary directory and imported as
`cyloss_old` (its modules import each other relatively).
"""
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


def main(argv):
    old = _import_old(argv[0])
    n, threads, budget = 10**7, 2, 6.0
    for dt in ("f32", "f64"):
        for kind in argv[1:] or KINDS:
            setup = W.SETUPS[kind + "+hess"]
            new_cs = setup(W.Env(threads, seed=0), (n,), dt, out=True)
            new_module = W.cyloss
            W.cyloss = old  # the old build's contenders, on the same data (same seed)
            try:
                old_cs = [c for c in setup(W.Env(threads, seed=0, peers=()), (n,), dt, out=True) if c.role == "cyloss"]
            finally:
                W.cyloss = new_module
            old_cs = [dataclasses.replace(c, name="old " + c.name,
                                          enter=lambda k=c.threads: old.set_num_threads(k)) for c in old_cs]
            t = {name: tm.best * 1e3 for name, tm in measure(new_cs + old_cs, budget=budget).items()}
            ratios = " ".join(f"{name} {t[name]:.2f} ms ({t[name] / t[f'cyloss {threads}t']:.2f}x new, "
                              f"{t[name] / t[f'old cyloss {threads}t']:.2f}x old)"
                              for name in t if name.startswith(("numpy", "sklearn", "copy")))
            print(f"{kind + '+hess':28s} {dt} 1t old {t['old cyloss 1t']:6.2f} new {t['cyloss 1t']:6.2f} | "
                  f"{threads}t old {t[f'old cyloss {threads}t']:6.2f} new {t[f'cyloss {threads}t']:6.2f} ms | {ratios}",
                  flush=True)
    W.cyloss.set_num_threads(0)
    old.set_num_threads(0)


if __name__ == "__main__":
    main(sys.argv[1:])
