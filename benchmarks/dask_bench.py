"""cyloss.dask against the usual Dask code on one LocalCluster (issue 12's benchmark).

    python -m benchmarks.dask_bench [--rows 400000] [--classes 1000] [--chunk 20000] [--repeat 3]

Starts distributed.LocalCluster(n_workers=2, threads_per_worker=1) on 127.0.0.1, generates
float32 logits in the workers' memory (persisted, so generation is not timed) and times, best
of --repeat, each workload computed through the cluster:
  - cross-entropy "mean" with class targets: cyloss.dask.cross_entropy against the
    hand-written dask.array version (max, exp, sum, log; the target logit by a one-hot mask);
  - logsumexp over rows, and softmax (its row sums returned, so that every softmax value is
    computed) against da.exp / da.max / da.log written by hand;
  - binary log loss of probabilities: cyloss.dask.binary_cross_entropy against
    dask_ml.metrics.log_loss (when dask-ml is installed).
Same chunks for every contender; prints the times and the ratios.
"""
import argparse
import importlib.util
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


def _sk_log_loss_block(y_true, y_pred, sample_weight, **kwargs):
    import sklearn.metrics
    return np.array([sklearn.metrics.log_loss(y_true, y_pred, sample_weight=sample_weight, **kwargs)])



def dask_ml_log_loss(y_true, y_pred, normalize=True):
    """dask_ml.metrics.log_loss (dask-ml 2025.1.0), graph for graph: one sklearn log_loss per
    chunk (normalize=False), summed, divided by the size.  Called as is, dask-ml passes
    eps= to sklearn.metrics.log_loss, which scikit-learn 1.8 removed (TypeError), so the
    same code is written here without that keyword."""
    import dask.array as da
    result = da.map_blocks(_sk_log_loss_block, y_true, y_pred, None, chunks=(1,), dtype="f8",
                           normalize=normalize, labels=None)
    return (result.mean() if normalize else result.sum()).compute()


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
        xs = x.rechunk((rows, c // 4)).persist()  # the class axis in 4 chunks
        wait([x, t, p, y, xs])
        print(f"LocalCluster 2 workers x 1 thread; logits {n}x{c} float32 ({x.nbytes / 1e9:.2f} GB) "
              f"in chunks of {rows} rows (and of {rows}x{c // 4}); binary: {p.shape[0]} probabilities")

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

        rows_out = []
        work = [
            ("cross_entropy mean", run(cld.cross_entropy(x, t)), run(hand_ce(x, t)), "dask.array by hand"),
            ("cross_entropy, 4 class chunks", run(cld.cross_entropy(xs, t)), run(hand_ce(xs, t)),
             "dask.array by hand"),
            ("logsumexp rows", run(cld.logsumexp(x, axis=-1)), run(hand_lse(x)), "dask.array by hand"),
            ("softmax, row sums of it", run(cld.softmax(x).sum(axis=1)), run(hand_softmax(x).sum(axis=1)),
             "dask.array by hand"),
        ]
        if importlib.util.find_spec("dask_ml") is not None:
            work.append(("binary log loss", run(cld.binary_cross_entropy(p, y)),
                         lambda: dask_ml_log_loss(y, p), "dask_ml.metrics.log_loss"))
        else:
            print("dask-ml is not installed: the log-loss comparison is skipped")
        for name, ours, theirs, peer in work:
            t_ours, r_ours = best(ours, args.repeat)
            t_theirs, r_theirs = best(theirs, args.repeat)
            assert np.allclose(np.asarray(r_ours, np.float64), np.asarray(r_theirs, np.float64), rtol=1e-4,
                               atol=1e-5), name
            rows_out.append((name, t_ours, t_theirs, peer))
        print(f"{'workload':24} {'cyloss.dask':>12} {'peer':>10}  {'ratio':>6}  peer")
        for name, a, b, peer in rows_out:
            print(f"{name:24} {a * 1e3:10.1f} ms {b * 1e3:7.1f} ms {b / a:6.2f}x  {peer}")


if __name__ == "__main__":
    main()
