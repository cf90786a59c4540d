"""A/B of two cyloss builds in one process: the elementwise gradient + Hessian of 1e7
elements into existing arrays (sklearn's loss family and mse), 1 and 2 threads, rounds
interleaved old / new, best of 5 per round; NumPy written the usual way and
sklearn._loss.<Loss>.gradient_hessian(n_threads=2) timed in the same process.

    python -m benchmarks.ab_elementwise /path/to/old/checkout/cyloss [loss names...]

The old package directory (built in place) is copied to a temporary directory and imported
as `cyloss_old` (its modules import each other relatively).
"""
import importlib
import shutil
import sys
import tempfile
import time

import numpy as np

import cyloss

_tmp = tempfile.mkdtemp()
shutil.copytree(sys.argv[1], _tmp + "/cyloss_old")
sys.path.insert(0, _tmp)
cyloss_old = importlib.import_module("cyloss_old")
from sklearn._loss import loss as skl  # noqa: E402

n = 10**7
rng = np.random.default_rng(0)


def best(f, k):
    f()
    b = 1e9
    for _ in range(k):
        t0 = time.perf_counter()
        f()
        b = min(b, time.perf_counter() - t0)
    return b * 1e3


cases = [
    ("half_poisson_loss", {}, "count", lambda r, y: (lambda e: (e - y, e))(np.exp(r)), skl.HalfPoissonLoss()),
    ("half_gamma_loss", {}, "pos", lambda r, y: (lambda e: (1.0 - e, e))(y * np.exp(-r)), skl.HalfGammaLoss()),
    ("half_tweedie_loss", {"power": 1.5}, "count", None, skl.HalfTweedieLoss(power=1.5)),
    ("half_tweedie_loss_identity", {"power": 1.5}, "pos", None, skl.HalfTweedieLossIdentity(power=1.5)),
    ("exponential_loss", {}, "unit",
     lambda r, y: (lambda a, b: (b - a, a + b))(y * np.exp(-r), (1.0 - y) * np.exp(r)), skl.ExponentialLoss()),
    ("mse_loss", {}, "any", lambda r, y: (r - y, np.ones_like(r)), None),
]
only = sys.argv[2:]
for dt in (np.float32, np.float64):
    for name, kw, dom, npf, sk in cases:
        if only and name not in only: continue
        r = (rng.standard_normal(n) * 0.5 + (1.5 if dom == "pos" else 0)).astype(dt)
        y = {"count": rng.poisson(1.5, n), "pos": rng.gamma(2.0, 1.0, n) + 0.01, "unit": rng.integers(0, 2, n), "any": rng.standard_normal(n)}[dom].astype(dt)
        g = np.empty_like(r); h = np.empty_like(r)
        res = {}
        for th in (1, 2):
            for rnd in range(3):  # rounds interleaved old / new
                for mod, tag in ((cyloss_old, "old"), (cyloss, "new")):
                    f = getattr(mod, name)
                    def call(f=f):
                        f(r, y, **kw, reduction="sum", return_hessian=True, return_loss=False, grad_out=g, hess_out=h)
                    with mod.num_threads(th):
                        res.setdefault((tag, th), []).append(best(call, 5))
        # interleave rounds: recompute min over rounds
        line = {k: min(v) for k, v in res.items()}
        extra = ""
        if npf is not None:
            tn = best(lambda: npf(r, y), 3)
            extra += f" numpy {tn:7.2f} ms ({tn / line[('new', 2)]:.2f}x new2t, {tn / line[('old', 2)]:.2f}x old2t)"
        if sk is not None:
            gg = np.empty_like(r); hh = np.empty_like(r)
            ts = best(lambda: sk.gradient_hessian(y, r, gradient_out=gg, hessian_out=hh, n_threads=2), 3)
            extra += f" sklearn {ts:7.2f} ms ({ts / line[('new', 2)]:.2f}x new2t, {ts / line[('old', 2)]:.2f}x old2t)"
        print(f"{name:28s} {np.dtype(dt).name:7s} 1t old {line[('old',1)]:6.2f} new {line[('new',1)]:6.2f} | 2t old {line[('old',2)]:6.2f} new {line[('new',2)]:6.2f} ms |{extra}", flush=True)
