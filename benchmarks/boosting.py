"""One boosting round with cyloss's objective against the built-in objective and NumPy.

    python -m benchmarks.boosting              # 1e6 x 10 and 1e5 x 10, multiclass (~4 min on 2 cores)
    python -m benchmarks.boosting --quick      # smoke run (~20 s)
    python -m benchmarks.boosting --rows 200000 --classes 5 --rounds 6 --repeats 2

Data: ``rows`` samples of 10 float32 features (normal), ``classes`` classes drawn from a
softmax of a random linear function (Gumbel noise).  Three parts, each printed as a table:

1. The objective alone, per call, on margins of that size (normal, scale 2): cyloss's
   ``xgboost_objective("multi:softprob")`` and ``lightgbm_objective("multiclass")`` against
   the usual NumPy objective written for each (exp / max / sum, the one-hot subtraction,
   the library's Hessian), float32 and float64 margins (XGBoost passes float32, LightGBM
   float64 in class-major (Fortran) order).  Minimum over ``--calls`` calls.
2. Training ``--rounds`` rounds of XGBoost (``multi:softprob``, hist, depth 6, eta 0.3,
   base_score 0) and LightGBM (``multiclass``, 31 leaves, from zero) with the built-in
   objective, the cyloss objective and the NumPy objective, interleaved, ``--repeats``
   times after an untimed one-round warm-up each (which builds the histogram cuts XGBoost
   caches in the DMatrix), keeping each contender's fastest run: the first round, the median
   of the later rounds, the total, the total against the built-in's, and the custom
   objective's share of its rounds (time inside the callable / round time; the rest of a
   custom round is the library's own work: the prediction copy it hands to the callable,
   the gradient copy it takes back, the trees).  Threads: each library's default (all
   cores), or ``--threads N`` for XGBoost, LightGBM and cyloss alike.
3. The largest difference between the margins of the built-in and cyloss models after
   training, relative to the margin scale (the tests assert <= 1e-6 on smaller data).

Needs xgboost and lightgbm (``pip install xgboost-cpu lightgbm``); a missing one is skipped.
"""
import argparse
import gc
import statistics
import sys
import time

import numpy as np

import cyloss
import cyloss.boosting as boosting


def _data(rows, classes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 10)).astype(np.float32)
    y = (X @ rng.normal(size=(10, classes)) + rng.gumbel(size=(rows, classes))).argmax(1).astype(np.float32)
    return X, y


# ------------------------------------------------------------------ NumPy objectives

def numpy_softprob(predt, dtrain):
    """XGBoost multi:softprob as usually written in NumPy."""
    labels = dtrain.get_label().astype(np.intp)
    e = np.exp(predt - predt.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    grad = p.copy()
    grad[np.arange(len(labels)), labels] -= 1.0
    hess = np.maximum(2.0 * p * (1.0 - p), 1e-16)
    return grad, hess


def numpy_multiclass(preds, train_data):
    """LightGBM multiclass as usually written in NumPy."""
    labels = train_data.get_label().astype(np.intp)
    k = preds.shape[1]
    e = np.exp(preds - preds.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    grad = p.copy()
    grad[np.arange(len(labels)), labels] -= 1.0
    hess = k / (k - 1.0) * p * (1.0 - p)
    return grad, hess


class _Labels:
    """A DMatrix / Dataset stand-in for timing the objectives alone."""

    def __init__(self, y):
        self.y = y

    def get_label(self):
        return self.y

    def get_weight(self):
        return None


class _Timed:
    """Wraps an objective, summing the time spent inside it."""

    def __init__(self, fn):
        self.fn, self.total, self.calls = fn, 0.0, 0

    def __call__(self, preds, data):
        t0 = time.perf_counter()
        out = self.fn(preds, data)
        self.total += time.perf_counter() - t0
        self.calls += 1
        return out


def _best(fn, calls):
    ts = []
    for _ in range(calls):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts)


# ------------------------------------------------------------------ part 1

def objective_alone(rows, classes, calls):
    rng = np.random.default_rng(1)
    m32 = rng.normal(scale=2.0, size=(rows, classes)).astype(np.float32)
    y = rng.integers(0, classes, rows).astype(np.float32)
    data = _Labels(y)
    xo, lo = boosting.xgboost_objective("multi:softprob"), boosting.lightgbm_objective("multiclass")
    cases = [
        ("xgboost multi:softprob", "float32 (n, K)", m32, xo, numpy_softprob),
        ("xgboost multi:softprob", "float64 (n, K)", m32.astype(np.float64), xo, numpy_softprob),
        ("lightgbm multiclass", "float64 (n, K) F", np.asfortranarray(m32, dtype=np.float64), lo, numpy_multiclass),
        ("lightgbm multiclass", "float32 (n, K) F", np.asfortranarray(m32), lo, numpy_multiclass),
    ]
    print(f"\n### Objective alone, {rows} x {classes} (ms per call, best of {calls})\n")
    print("| objective | margins | cyloss | NumPy | NumPy / cyloss |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, kind, m, obj, ref in cases:
        tc = _best(lambda: obj(m, data), calls)
        tn = _best(lambda: ref(m, data), calls)
        print(f"| {name} | {kind} | {tc * 1e3:.1f} | {tn * 1e3:.1f} | {tn / tc:.2f}x |", flush=True)


# ------------------------------------------------------------------ part 2

def _xgb_train(xgb, dtrain, params, rounds, fobj):
    bst = xgb.Booster(params, [dtrain])
    times = []
    for i in range(rounds):
        t0 = time.perf_counter()
        bst.update(dtrain, i, fobj=fobj)
        times.append(time.perf_counter() - t0)
    return times, bst


def _lgb_train(lgb, dtrain, params, rounds, fobj):
    bst = lgb.Booster(params, dtrain)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        bst.update(fobj=fobj)
        times.append(time.perf_counter() - t0)
    return times, bst


def rounds_table(lib, rows, classes, rounds, repeats, threads=None):
    X, y = _data(rows, classes)
    if lib == "xgboost":
        import xgboost as xgb
        dtrain = xgb.DMatrix(X, label=y)
        params = {"num_class": classes, "tree_method": "hist", "max_depth": 6, "eta": 0.3, "base_score": 0.0,
                  "seed": 0}
        if threads:
            params["nthread"] = threads
        contenders = {"built-in multi:softprob": ({**params, "objective": "multi:softprob"}, None),
                      "cyloss": (params, boosting.xgboost_objective("multi:softprob")),
                      "NumPy": (params, numpy_softprob)}

        def train(p, fobj, n=rounds):
            return _xgb_train(xgb, dtrain, p, n, fobj)

        def margins(bst):
            return bst.predict(dtrain, output_margin=True)
    else:
        import lightgbm as lgb
        dtrain = lgb.Dataset(X, label=y, params={"verbose": -1}).construct()
        params = {"num_class": classes, "num_leaves": 31, "learning_rate": 0.3, "boost_from_average": False,
                  "verbose": -1, "seed": 0, "deterministic": True, "force_col_wise": True}
        if threads:
            params["num_threads"] = threads
        contenders = {"built-in multiclass": ({**params, "objective": "multiclass"}, None),
                      "cyloss": ({**params, "objective": "none"}, boosting.lightgbm_objective("multiclass")),
                      "NumPy": ({**params, "objective": "none"}, numpy_multiclass)}

        def train(p, fobj, n=rounds):
            return _lgb_train(lgb, dtrain, p, n, fobj)

        def margins(bst):
            return bst.predict(X, raw_score=True)

    for p, fobj in contenders.values():   # warm-up: the histogram cuts (cached in the DMatrix), imports
        train(p, fobj, 1)
    best = {}
    names = list(contenders)
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            p, fobj = contenders[name]
            timed = _Timed(fobj) if fobj is not None else None
            gc.collect()
            times, bst = train(p, timed)
            total = sum(times)
            if name not in best or total < best[name][0]:
                share = timed.total / total if timed else None
                best[name] = (total, times, share, bst)
            del bst
    ref_total = best[next(iter(contenders))][0]
    print(f"\n### {lib}: {rounds} rounds, {rows} x 10 features, {classes} classes "
          f"(seconds; fastest of {repeats} interleaved runs)\n")
    print("| objective | first round | later rounds (median) | total | total / built-in | objective's share |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, (total, times, share, _) in best.items():
        later = statistics.median(times[1:]) if len(times) > 1 else float("nan")
        sh = "" if share is None else f"{100 * share:.1f}%"
        print(f"| {name} | {times[0]:.3f} | {later:.3f} | {total:.2f} | {total / ref_total:.2f}x | {sh} |",
              flush=True)
    names = list(best)
    mb, mc = margins(best[names[0]][3]), margins(best[names[1]][3])
    scale = float(np.abs(mb).max())
    print(f"\nbuilt-in vs cyloss margins after {rounds} rounds: max difference "
          f"{float(np.abs(mb - mc).max()) / scale:.2g} of the margin scale {scale:.3g}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, action="append", help="samples (repeatable; default 1e6 and 1e5)")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--calls", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0,
                    help="threads of xgboost, lightgbm and cyloss (default 0: each library's default, all cores)")
    ap.add_argument("--quick", action="store_true", help="smoke run: 20000 rows, 3 rounds, 1 repeat")
    args = ap.parse_args(argv)
    rows = args.rows or ([20000] if args.quick else [1_000_000, 100_000])
    rounds, repeats, calls = (3, 1, 2) if args.quick else (args.rounds, args.repeats, args.calls)
    import platform
    if args.threads:
        cyloss.set_num_threads(args.threads)
    print(f"cyloss {cyloss.__version__} ({cyloss._core.cpu_target()}, {cyloss.get_num_threads()} threads), "
          f"NumPy {np.__version__}, Python {platform.python_version()}, {platform.machine()}")
    libs = []
    for lib in ("xgboost", "lightgbm"):
        try:
            mod = __import__(lib)
            libs.append(lib)
            print(f"{lib} {mod.__version__}")
        except ImportError:
            print(f"{lib}: not installed, skipped")
    for n in rows:
        objective_alone(n, args.classes, calls)
        for lib in libs:
            rounds_table(lib, n, args.classes, rounds, repeats, args.threads or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
