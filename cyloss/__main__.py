"""python -m cyloss: a self-check of every function against plain float64 NumPy, then a
timing table of cyloss against NumPy (and scipy / torch when installed).

    python -m cyloss            self-check + timing table
    python -m cyloss check      self-check only (exit status 1 on failure)
    python -m cyloss bench ...  the full benchmark suite (benchmarks/ of a source checkout,
                                same options as `python -m benchmarks`)
"""
import sys
import time

import numpy as np

import cyloss


# ------------------------------------------------------------ float64 references
def _ref_log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    z = x - m
    return z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))


def _ref_softmax(x, axis=-1):
    return np.exp(_ref_log_softmax(x, axis))


def _ref_ce(x, t):
    ls = _ref_log_softmax(x)
    loss = -np.mean(ls[np.arange(len(t)), t])
    g = np.exp(ls)
    g[np.arange(len(t)), t] -= 1
    return loss, g / len(t)


def _ref_bce_logits(x, y):
    l = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    return l.mean(), (1 / (1 + np.exp(-x)) - y) / x.size


def _ref_huber(d, delta):
    a = np.abs(d)
    l = np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return l.mean(), np.where(a < delta, d, delta * np.sign(d)) / d.size


def self_check(verbose=True):
    rng = np.random.default_rng(12345)
    x = rng.normal(size=(64, 37)) * 4
    t = rng.integers(0, 37, 64)
    p = rng.uniform(0.01, 0.99, size=(64, 37))
    y = rng.uniform(size=(64, 37))
    q = rng.dirichlet(np.ones(37), 64)
    checks = []

    def add(name, fn):
        checks.append((name, fn))

    for dt, tol in ((np.float64, 1e-12), (np.float32, 2e-5)):
        xd = x.astype(dt)
        sfx = "f64" if dt is np.float64 else "f32"

        def close(a, b, tol=tol):
            return np.allclose(np.asarray(a, dtype=np.float64), b, rtol=tol, atol=tol)

        add(f"softmax {sfx}", lambda xd=xd, c=close: c(cyloss.softmax(xd), _ref_softmax(x)))
        add(f"log_softmax {sfx}", lambda xd=xd, c=close: c(cyloss.log_softmax(xd), _ref_log_softmax(x)))
        add(f"logsumexp {sfx}", lambda xd=xd, c=close: c(
            cyloss.logsumexp(xd, axis=1), np.max(x, 1) + np.log(np.sum(np.exp(x - np.max(x, 1, keepdims=True)), 1))))
        add(f"softmax_backward {sfx}", lambda xd=xd, c=close: c(
            cyloss.softmax_backward(_ref_softmax(x).astype(xd.dtype), y.astype(xd.dtype)),
            _ref_softmax(x) * (y - np.sum(y * _ref_softmax(x), -1, keepdims=True))))
        add(f"cross_entropy {sfx}", lambda xd=xd, c=close: all(
            c(a, b) for a, b in zip(cyloss.cross_entropy(xd, t, return_grad=True), _ref_ce(x, t))))
        add(f"nll_loss {sfx}", lambda xd=xd, c=close: c(
            cyloss.nll_loss(_ref_log_softmax(x).astype(xd.dtype), t), _ref_ce(x, t)[0]))
        add(f"bce_with_logits {sfx}", lambda xd=xd, c=close: all(
            c(a, b) for a, b in zip(cyloss.binary_cross_entropy_with_logits(xd, y.astype(xd.dtype), return_grad=True),
                                    _ref_bce_logits(x, y))))
        add(f"binary_cross_entropy {sfx}", lambda xd=xd, c=close: c(
            cyloss.binary_cross_entropy(p.astype(xd.dtype), y), -np.mean(y * np.log(p) + (1 - y) * np.log1p(-p))))
        add(f"kl_div {sfx}", lambda xd=xd, c=close: c(
            cyloss.kl_div(_ref_log_softmax(x).astype(xd.dtype), q, reduction="batchmean"),
            np.sum(q * (np.log(q) - _ref_log_softmax(x))) / 64))
        add(f"entropy {sfx}", lambda xd=xd, c=close: c(cyloss.entropy(q.astype(xd.dtype)), -np.sum(q * np.log(q), -1)))
        add(f"mse_loss {sfx}", lambda xd=xd, c=close: c(cyloss.mse_loss(xd, y), np.mean((x - y) ** 2)))
        add(f"l1_loss {sfx}", lambda xd=xd, c=close: c(cyloss.l1_loss(xd, y), np.mean(np.abs(x - y))))
        add(f"huber_loss {sfx}", lambda xd=xd, c=close: all(
            c(a, b) for a, b in zip(cyloss.huber_loss(xd, y, delta=1.5, return_grad=True), _ref_huber(x - y, 1.5))))
        add(f"smooth_l1_loss {sfx}", lambda xd=xd, c=close: c(
            cyloss.smooth_l1_loss(xd, y, beta=2.0),
            np.mean(np.where(np.abs(x - y) < 2.0, 0.25 * (x - y) ** 2, np.abs(x - y) - 1.0))))
    ok = True
    for name, fn in checks:
        try:
            good = bool(fn())
        except Exception as e:  # report, don't crash the self-check
            good = False
            name += f" ({type(e).__name__}: {e})"
        ok &= good
        if verbose:
            print(f"  {'ok  ' if good else 'FAIL'} {name}")
    return ok


# ------------------------------------------------------------------- timing table
def _tmin(fn, repeat=7, budget=0.3):
    fn()
    t0 = time.perf_counter()
    fn()
    one = time.perf_counter() - t0
    inner = max(1, int(budget / repeat / max(one, 1e-7)))
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        best = min(best, (time.perf_counter() - t0) / inner)
    return best


def timing_table():
    try:
        import scipy.special as sps
    except ImportError:
        sps = None
    try:
        import torch
        import torch.nn.functional as F
        torch.set_num_threads(1)
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    rows = []

    def np_softmax(a):
        e = np.exp(a - a.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    def np_ce(a, t):
        ls = a - a.max(-1, keepdims=True)
        ls = ls - np.log(np.exp(ls).sum(-1, keepdims=True))
        return -ls[np.arange(len(t)), t].mean()

    for n, c in ((4096, 1000), (131072, 10), (512, 32000)):
        x = rng.normal(size=(n, c)).astype(np.float32)
        t = rng.integers(0, c, n)
        out = np.empty_like(x)
        peers = {"numpy": lambda: np_softmax(x)}
        if sps is not None:
            peers["scipy"] = lambda: sps.softmax(x, axis=-1)
        if torch is not None:
            xt = torch.from_numpy(x)
            peers["torch"] = lambda: torch.softmax(xt, -1)
        rows.append((f"softmax f32 {n}x{c}", _tmin(lambda: cyloss.softmax(x, out=out)),
                     {k: _tmin(v) for k, v in peers.items()}))
        peers = {"numpy": lambda: np_ce(x, t)}
        if torch is not None:
            tt = torch.from_numpy(t)
            peers["torch"] = lambda: F.cross_entropy(xt, tt)
        rows.append((f"cross_entropy f32 {n}x{c}", _tmin(lambda: cyloss.cross_entropy(x, t)),
                     {k: _tmin(v) for k, v in peers.items()}))
    x = rng.normal(size=(4096, 1000))
    peers = {"numpy": lambda: np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1)) + x.max(-1)}
    if sps is not None:
        peers["scipy"] = lambda: sps.logsumexp(x, axis=-1)
    rows.append(("logsumexp f64 4096x1000", _tmin(lambda: cyloss.logsumexp(x, axis=-1)),
                 {k: _tmin(v) for k, v in peers.items()}))
    a = rng.normal(size=10**6).astype(np.float32)
    b = rng.normal(size=10**6).astype(np.float32)
    peers = {"numpy": lambda: np.mean((a - b) ** 2)}
    if torch is not None:
        at, bt = torch.from_numpy(a), torch.from_numpy(b)
        peers["torch"] = lambda: F.mse_loss(at, bt)
    rows.append(("mse_loss f32 1e6", _tmin(lambda: cyloss.mse_loss(a, b)), {k: _tmin(v) for k, v in peers.items()}))
    peers = {"numpy": lambda: np.mean(np.maximum(a, 0) - a * (b > 0) + np.log1p(np.exp(-np.abs(a))))}
    yb = (b > 0).astype(np.float32)
    if torch is not None:
        ybt = torch.from_numpy(yb)
        peers["torch"] = lambda: F.binary_cross_entropy_with_logits(at, ybt)
    rows.append(("bce_with_logits f32 1e6", _tmin(lambda: cyloss.binary_cross_entropy_with_logits(a, yb)),
                 {k: _tmin(v) for k, v in peers.items()}))

    names = ["numpy"] + (["scipy"] if sps is not None else []) + (["torch"] if torch is not None else [])
    head = f"{'workload':28s} {'cyloss':>10s}" + "".join(f" {n + ' (x)':>18s}" for n in names)
    print(head)
    print("-" * len(head))
    for label, ours, peer in rows:
        cells = ""
        for nme in names:
            if nme in peer:
                cells += f" {peer[nme] * 1e3:9.3f} ({peer[nme] / ours:5.1f}x)"
            else:
                cells += f" {'-':>18s}"
        print(f"{label:28s} {ours * 1e3:8.3f}ms{cells}")
    note = "times: best of 7, ms; (x) = peer time / cyloss time, > 1 means cyloss is faster"
    print(note + ("; torch pinned to 1 thread" if torch is not None else ""))


def _bench(argv):
    try:
        from benchmarks.run import main as bench_main
    except ImportError:
        print("The benchmark suite lives in benchmarks/ of the source checkout: run this from "
              "the repository root (or `python -m benchmarks` there).")
        return 2
    return bench_main(argv) or 0


def main(argv):
    cmd = argv[0] if argv else "all"
    if cmd == "bench":
        return _bench(argv[1:])
    if cmd not in ("all", "check"):
        print(__doc__)
        return 2
    cyloss.show_config()
    print("self-check against float64 NumPy references:")
    ok = self_check()
    print("self-check:", "PASSED" if ok else "FAILED")
    if cmd == "all":
        print()
        timing_table()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
