"""cyloss.dask against the usual Dask code on one LocalCluster (issue 12's benchmark).

    python -m benchmarks.dask_bench [--rows 400000] [--classes 1000] [--chunk 20000] [--repeat 3]

Starts distributed.LocalCluster(n_workers=2, threads_per_worker=1) on 127.0.0.1, generates
float32 logits in the workers' memory (persisted, so generation is not timed) and times, best
of --repeat, each workload computed through the cluster:
  - cross-entropy "mean" with class targets: cyloss.dask.cross_entropy against the
    hand-written dask.array version (max, exp, sum, log; the target logit by a one-hot mask);
  - logsumexp over rows, and softmax (persisted in the workers) against da.exp / da.max /
    da.log written by hand;
  - binary log loss of probabilities: cyloss.dask.binary_cross_entropy against
    dask_ml.metrics.log_loss (when dask-ml is installed).
Same chunks for every contender; prints the times and the ratios.
"""
import argparse
import time

import numpy as np


def best(fn, repeat):
    t = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        t = min(t, time.perf_counter() - t0)
    return t, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=400_000)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--chunk", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    import dask.array as da
    from distributed import Client, LocalCluster, wait

    import cyloss.dask as cld

    n, c, rows = args.rows, args.classes, args.chunk
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        rng = da.random.default_rng(0)
        x = rng.standard_normal((n, c), chunks=(rows, c), dtype=np.float32).persist()
        t = rng.integers(0, c, n, chunks=rows).persist()
        p = rng.uniform(0.01, 0.99, n * 10, chunks=rows * 10).astype(np.float32).persist()
        y = (rng.uniform(0, 1, n * 10, chunks=rows * 10) < 0.5).astype(np.float32).persist()
        wait([x, t, p, y])
        print(f"LocalCluster 2 workers x 1 thread; logits {n}x{c} float32 ({x.nbytes / 1e9:.2f} GB) "
              f"in chunks of {rows} rows; binary: {p.shape[0]} probabilities")

        def hand_lse(x):
            m = x.max(axis=1, keepdims=True)
            return da.log(da.exp(x - m).sum(axis=1)) + m[:, 0]

        def hand_ce(x, t):
            onehot = da.arange(c)[None, :] == t[:, None]
            xt = da.where(onehot, x, 0).sum(axis=1)
            return (hand_lse(x) - xt).mean()

        def hand_softmax(x):
            e = da.exp(x - x.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)

        def run(expr):
            return lambda: client.compute(expr, sync=True)

        def keep(make):
            def f():
                r = make().persist()
                wait(r)
                del r
            return f

        rows_out = []
        work = [
            ("cross_entropy mean", run(cld.cross_entropy(x, t)), run(hand_ce(x, t)), "dask.array by hand"),
            ("logsumexp rows", keep(lambda: cld.logsumexp(x, axis=-1)), keep(lambda: hand_lse(x)),
             "dask.array by hand"),
            ("softmax (persisted)", keep(lambda: cld.softmax(x)), keep(lambda: hand_softmax(x)),
             "dask.array by hand"),
        ]
        try:
            from dask_ml.metrics import log_loss
            work.append(("binary log loss", run(cld.binary_cross_entropy(p, y)),
                         lambda: log_loss(y, p), "dask_ml.metrics.log_loss"))
        except ImportError:
            print("dask-ml is not installed: the log-loss comparison is skipped")
        for name, ours, theirs, peer in work:
            t_ours, r_ours = best(ours, args.repeat)
            t_theirs, r_theirs = best(theirs, args.repeat)
            if r_ours is not None and r_theirs is not None:
                assert np.isclose(float(r_ours), float(r_theirs), rtol=1e-4), (name, r_ours, r_theirs)
            rows_out.append((name, t_ours, t_theirs, peer))
        print(f"{'workload':24} {'cyloss.dask':>12} {'peer':>10}  {'ratio':>6}  peer")
        for name, a, b, peer in rows_out:
            print(f"{name:24} {a * 1e3:10.1f} ms {b * 1e3:7.1f} ms {b / a:6.2f}x  {peer}")


if __name__ == "__main__":
    main()
