"""Non-temporal against ordinary stores, per elementwise kernel, in one build.

    python -m benchmarks.nt_stores [f32|f64] [kind,kind,...]

The gradient + Hessian of 1e7 elements into existing arrays (no loss: the kernels' streamed-
store path, csrc/elementwise.h), once with `hess_out` aligned like `grad_out` modulo 64 bytes
(the kernel may stream both) and once offset from it (ordinary stores), interleaved, best of
7. Kinds are the keys of benchmarks.workloads._HESS (default: all). A kernel that sets
`exp_bound` stores normally either way (the two columns then agree).
"""
import sys
import time

import numpy as np

import cyloss
from benchmarks.workloads import _HESS


def _data(rng, kind, n, dt):
    return {
        "normal": lambda: rng.normal(size=n),
        "small": lambda: rng.normal(size=n) * 0.5,
        "unit": lambda: rng.uniform(size=n),
        "prob": lambda: rng.uniform(0.02, 0.98, n),
        "positive": lambda: rng.uniform(0.1, 3.0, n),
        "count": lambda: rng.poisson(1.5, n),
        "binary": lambda: rng.random(n) < 0.5,
    }[kind]().astype(dt)


def main(argv):
    dt = np.float64 if argv[:1] == ["f64"] else np.float32
    kinds = argv[1].split(",") if len(argv) > 1 else list(_HESS)
    n = 10**7
    rng = np.random.default_rng(0)
    g = np.empty(n, dt)
    h_aligned = np.empty(n, dt)
    if (h_aligned.ctypes.data - g.ctypes.data) % 64:
        sys.exit("numpy did not align the two outputs alike; run again")
    hb = np.empty(n + 16, dt)
    off = next(o for o in range(1, 16) if (hb[o:].ctypes.data - g.ctypes.data) % 64)
    h_offset = hb[off:off + n]
    print(f"{np.dtype(dt).name}, 1e7, {cyloss.get_num_threads()} threads: ms, streamed / ordinary stores")
    for kind in kinds:
        fn, kw, p, (rk, yk), _ = _HESS[kind]
        r, y = _data(rng, rk, n, dt), _data(rng, yk, n, dt)
        f = getattr(cyloss, fn)
        kwa = {kw: p} if kw else {}
        best = {}
        for _ in range(7):
            for lab, h in (("nt", h_aligned), ("plain", h_offset)):
                t0 = time.perf_counter()
                f(r, y, reduction="sum", return_hessian=True, return_loss=False, grad_out=g, hess_out=h, **kwa)
                best[lab] = min(best.get(lab, 1e9), time.perf_counter() - t0)
        print(f"{kind:22s} {best['nt'] * 1e3:8.2f} {best['plain'] * 1e3:8.2f}  ({best['plain'] / best['nt']:.2f})",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
