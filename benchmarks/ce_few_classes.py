"""cross_entropy 1e6 x 10 (the few-classes kernel) at N threads: loss only, loss + gradient,
loss + gradient + Hessian, into preallocated outputs; minimum of 15 calls each.

    python -m benchmarks.ce_few_classes [threads]
"""
import sys
import time

import numpy as np

import cyloss


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    nt = int(argv[0]) if argv else 1
    cyloss.set_num_threads(nt)
    rng = np.random.default_rng(0)
    print(f"cyloss {cyloss.__version__}, {nt} thread(s)")
    for dt in (np.float32, np.float64):
        x = (rng.standard_normal((10**6, 10)) * 3).astype(dt)
        t = rng.integers(0, 10, 10**6)
        g, h = np.empty_like(x), np.empty_like(x)
        calls = (("loss", lambda: cyloss.cross_entropy(x, t, reduction="sum")),
                 ("loss+grad", lambda: cyloss.cross_entropy(x, t, reduction="sum", return_grad=True, grad_out=g)),
                 ("loss+grad+hess", lambda: cyloss.cross_entropy(x, t, reduction="sum", return_hessian=True,
                                                                 grad_out=g, hess_out=h)))
        for name, fn in calls:
            ts = []
            for _ in range(15):
                t0 = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t0)
            print(f"{np.dtype(dt).name:8s} {name:15s} {min(ts) * 1e3:8.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
