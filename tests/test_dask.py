"""cyloss.dask against cyloss's NumPy functions on the same data, for many chunkings (one
chunk, single-row chunks, class chunks of size 1), computed on dask's threaded scheduler
and on a real distributed.LocalCluster (2 worker processes on 127.0.0.1)."""
import os

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

import cyloss  # noqa: E402
import cyloss.dask as cld  # noqa: E402


@pytest.fixture(scope="module")
def cluster_client():
    environ = dict(os.environ)  # distributed's nanny sets OMP_NUM_THREADS & co. in this process
    try:
        yield from _cluster_client()
    finally:
        os.environ.clear()
        os.environ.update(environ)


# no dashboard; the scheduler's health/metrics HTTP server on a free port of 127.0.0.1 (not
# 8787, which the module's cluster holds while the out-of-core test starts its own)
_LOCAL_HTTP = {"dashboard_address": "127.0.0.1:0"}


def _cluster_client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None, worker_dashboard_address=None,
                                  scheduler_kwargs=_LOCAL_HTTP) as cluster:
        with distributed.Client(cluster, set_as_default=False) as client:
            yield client


# cyloss.dask is Python over the kernels that the other test files check under the
# sanitizers (tools/sanitize.sh); its own tests run once per CI, in the README stage
SANITIZED = os.environ.get("CYLOSS_SANITIZED", "") not in ("", "0")
if SANITIZED:
    pytest.skip("cyloss.dask's tests do not run under the sanitizers", allow_module_level=True)


def _runner(request, where):
    if where == "cluster" and SANITIZED:
        pytest.skip("cluster tests do not run under the sanitizers")
    if where == "threads":
        def run(*xs):
            r = da.compute(*xs, scheduler="threads")
            return r if len(xs) > 1 else r[0]
    else:
        client = request.getfixturevalue("cluster_client")

        def run(*xs):
            r = client.compute(list(xs), sync=True)
            return tuple(r) if len(xs) > 1 else r[0]
    return run


@pytest.fixture(params=["threads", "cluster"])
def compute(request):
    """Both schedulers (the tests whose parameter grid is small)."""
    return _runner(request, request.param)


@pytest.fixture
def compute_threads(request):
    """The threaded scheduler: the large grids (each function family also runs on the cluster
    through a test of the `compute` fixture)."""
    return _runner(request, "threads")


def close(a, b, dtype, rtol=None, atol=None):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    if rtol is None:
        rtol = 1e-12 if dtype == np.float64 else 3e-6
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-3 if atol is None else atol)


CHUNKINGS = [(-1, -1), (1, -1), (7, -1), (5, 4), (-1, 1), (3, 6)]


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family(compute_threads, chunks, dtype):
    _softmax_family(compute_threads, chunks, dtype)


@pytest.mark.parametrize("chunks", [(7, -1), (3, 6)])
def test_softmax_family_both_schedulers(compute, chunks):
    _softmax_family(compute, chunks, np.float32)


def _softmax_family(compute, chunks, dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((20, 13)) * 4).astype(dtype)
    x[2, 3] = np.nan
    x[4, :] = -np.inf
    x[5, 7] = np.inf
    dx = da.from_array(x, chunks=chunks)
    s, ls, sm, lse = compute(cld.softmax(dx), cld.log_softmax(dx, temperature=2.0), cld.softmin(dx, axis=0),
                             cld.logsumexp(dx, axis=-1))
    close(s, cyloss.softmax(x), dtype)
    close(ls, cyloss.log_softmax(x, temperature=2.0), dtype)
    close(sm, cyloss.softmin(x, axis=0), dtype)
    close(lse, cyloss.logsumexp(x, axis=-1), dtype)


@pytest.mark.parametrize("axis", [None, 0, (0, 2), -1])
def test_logsumexp_axes(compute_threads, axis):
    compute = compute_threads
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 5, 8)) * 3
    dx = da.from_array(x, chunks=(2, 5, 3))
    got = compute(cld.logsumexp(dx, axis=axis, keepdims=True))
    close(got, cyloss.logsumexp(x, axis=axis, keepdims=True), np.float64)
    got = compute(cld.logsumexp(dx, axis=axis))
    close(got, cyloss.logsumexp(x, axis=axis), np.float64)


def test_logsumexp_partial_dask(compute):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((9, 40))
    m, s = compute(*cld.logsumexp_partial(da.from_array(x, chunks=(4, 7))))
    m0, s0 = cyloss.logsumexp_partial(x)
    np.testing.assert_array_equal(m, m0)
    np.testing.assert_allclose(s, s0, rtol=1e-14)


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy(compute_threads, chunks, dtype, reduction):
    _cross_entropy(compute_threads, chunks, dtype, reduction)


@pytest.mark.parametrize("chunks", [(7, -1), (5, 4)])
def test_cross_entropy_both_schedulers(compute, chunks):
    _cross_entropy(compute, chunks, np.float64, "mean")


def _cross_entropy(compute, chunks, dtype, reduction):
    rng = np.random.default_rng(3)
    n, c = 20, 12
    x = (rng.standard_normal((n, c)) * 3).astype(dtype)
    t = rng.integers(0, c, n)
    t[::6] = -100
    w = rng.uniform(0.5, 2, c)
    dx = da.from_array(x, chunks=chunks)
    for kw in ({}, {"weight": w, "label_smoothing": 0.1}):
        loss, grad = compute(*cld.cross_entropy(dx, t, reduction=reduction, return_grad=True, **kw))
        l0, g0 = cyloss.cross_entropy(x, t, reduction=reduction, return_grad=True, **kw)
        close(loss, l0, dtype)
        close(grad, g0, dtype)
        lonly = compute(cld.cross_entropy(dx, da.from_array(t, chunks=3), reduction=reduction, **kw))
        close(lonly, l0, dtype)


def test_cross_entropy_probability_targets_and_hessian(compute):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((15, 6))
    p = rng.dirichlet(np.ones(6), 15)
    dx = da.from_array(x, chunks=(4, 3))
    loss, grad = compute(*cld.cross_entropy(dx, da.from_array(p, chunks=(5, 6)), return_grad=True))
    l0, g0 = cyloss.cross_entropy(x, p, return_grad=True)
    close(loss, l0, np.float64)
    close(grad, g0, np.float64)
    t = rng.integers(0, 6, 15)
    res = compute(*cld.cross_entropy(da.from_array(x, chunks=(4, 6)), t, return_hessian=True))
    for a, b in zip(res, cyloss.cross_entropy(x, t, return_hessian=True)):
        close(a, b, np.float64)


@pytest.mark.parametrize("chunks", [(3, 1), (4, 3), (14, 4), (1, 2), (-1, -1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_split_class_axis_hessian_and_probabilities(compute_threads, chunks, dtype):
    """Class and probability targets over a class axis in several chunks, with the Hessian,
    weights and label smoothing, NaN / inf rows and zero-probability -inf logits."""
    rng = np.random.default_rng(12)
    n, c = 14, 9
    x = rng.standard_normal((n, c)) * 3
    p = rng.dirichlet(np.ones(c), n)
    t = rng.integers(0, c, n)
    t[::5] = -100
    x[1, 0], p[1, 0] = -np.inf, 0.0   # 0 * -inf: NaN loss, finite gradient
    x[2, 0] = -np.inf                 # positive probability at -inf: inf loss
    x[3, 1] = np.inf
    x[4, 2] = np.nan
    p[5, 3] = np.nan
    x[6] = -np.inf
    x = x.astype(dtype)
    w = rng.uniform(0.5, 2, c)
    # float32: the NumPy kernel's gradient is float32 arithmetic, ours float64 rounded once;
    # small components differ by float32 rounding of the row's larger ones
    tol, atol = (1e-12, 1e-15) if dtype == np.float64 else (3e-6, 1e-7)
    dx = da.from_array(x, chunks=chunks)
    for kw in ({}, {"weight": w, "label_smoothing": 0.1}, {"label_smoothing": 0.2}):
        for reduction in ("mean", "sum", "none"):
            for tgt in (p.astype(dtype), t):
                dt = da.from_array(tgt, chunks=(5,) + (3,) * (tgt.ndim - 1))
                got = compute_threads(*cld.cross_entropy(dx, dt, reduction=reduction, return_hessian=True, **kw))
                want = cyloss.cross_entropy(x, tgt, reduction=reduction, return_hessian=True, **kw)
                for a, b in zip(got, want):
                    close(a, b, dtype, tol, atol)
                got = compute_threads(cld.cross_entropy(dx, dt, reduction=reduction, **kw))
                close(got, want[0], dtype, tol, atol)
                got = compute_threads(cld.cross_entropy(dx, dt, reduction=reduction, return_grad=True,
                                                        return_loss=False, **kw))
                close(got, want[1], dtype, tol, atol)


def test_cross_entropy_split_probability_targets_are_not_rechunked():
    x = da.ones((8, 12), chunks=(4, 3))
    p = da.full((8, 12), 1.0 / 12, chunks=(4, 3))
    loss, grad = cld.cross_entropy(x, p, return_grad=True)
    deps = grad.__dask_graph__().dependencies
    rechunked = set().union(set(), *[d for name, d in deps.items() if name.startswith("rechunk")])
    assert x.name not in rechunked and p.name not in rechunked
    assert any(x.name in d and p.name in d for d in deps.values())  # x and p read in the same tasks
    assert grad.chunks == x.chunks
    np.testing.assert_allclose(loss.compute(), np.log(12.0), rtol=1e-15)


@pytest.mark.parametrize("chunks", [(3, 1), (2, 4), (9, 13), (1, 5)])
@pytest.mark.parametrize("axis", [1, None, 0, (0, 1)])
def test_logsumexp_b_and_sign_over_split_axes(compute, chunks, axis):
    """b= (a dask array in other chunks, or broadcast NumPy) and return_sign over reduced axes
    in several chunks: signed sums, +inf of both signs (NaN), NaN under b = 0 (ignored),
    rows of -inf, all-zero b."""
    rng = np.random.default_rng(13)
    x = rng.standard_normal((9, 13)) * 3
    b = rng.standard_normal((9, 13))
    x[1, 2], b[1, 2], x[1, 5], b[1, 5] = np.inf, 1.0, np.inf, -1.0
    x[2, 3], b[2, 3] = np.nan, 0.0
    x[3] = -np.inf
    b[4] = 0.0
    x[5, 0], b[5, 0] = np.inf, -2.0
    x[6, 1] = np.nan
    b[7, :6], b[7, 6:12], x[7, 6:12] = 1.0, -1.0, x[7, :6]  # cancelling pairs in different chunks
    x[7, 12], b[7, 12] = x[7].max() + 1.0, 0.5
    dx = da.from_array(x, chunks=chunks)
    db = da.from_array(b, chunks=(4, 3))
    lse, sign = compute(*cld.logsumexp(dx, axis=axis, b=db, return_sign=True))
    lse0, sign0 = cyloss.logsumexp(x, axis=axis, b=b, return_sign=True)
    close(lse, lse0, np.float64)
    np.testing.assert_array_equal(sign, sign0)
    got = compute(cld.logsumexp(dx, axis=axis, b=b[0], keepdims=True))  # negative sums: NaN
    close(got, cyloss.logsumexp(x, axis=axis, b=b[0], keepdims=True), np.float64)
    s = compute(cld.logsumexp(dx, axis=axis, return_sign=True)[1])
    np.testing.assert_array_equal(s, cyloss.logsumexp(x, axis=axis, return_sign=True)[1])
    x32 = x.astype(np.float32)
    got = compute(cld.logsumexp(da.from_array(x32, chunks=chunks), axis=axis, b=db))
    close(got, cyloss.logsumexp(x32, axis=axis, b=b), np.float32)


@pytest.mark.parametrize("chunks", [(-1, -1), (4, 3), (1, 1)])
def test_nll_entropy_backward(compute, chunks):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((12, 9))
    t = rng.integers(0, 9, 12)
    lp = cyloss.log_softmax(x)
    y = cyloss.softmax(x)
    g = rng.standard_normal((12, 9))
    dlp, dy, dg = (da.from_array(a, chunks=chunks) for a in (lp, y, g))
    nl, ng = compute(*cld.nll_loss(dlp, t, return_grad=True))
    l0, g0 = cyloss.nll_loss(lp, t, return_grad=True)
    close(nl, l0, np.float64)
    close(ng, g0, np.float64)
    close(compute(cld.entropy(dy)), cyloss.entropy(y), np.float64)
    close(compute(cld.softmax_backward(dy, dg)), cyloss.softmax_backward(y, g), np.float64)
    close(compute(cld.log_softmax_backward(dlp, dg)), cyloss.log_softmax_backward(lp, g), np.float64)


ELEMENTWISE = [
    ("mse_loss", {}, True), ("l1_loss", {}, True), ("huber_loss", {"delta": 0.7}, True),
    ("smooth_l1_loss", {"beta": 0.5}, True), ("log_cosh_loss", {}, True), ("pseudo_huber_loss", {}, True),
    ("binary_cross_entropy_with_logits", {}, True), ("soft_margin_loss", {}, False),
    ("hinge_embedding_loss", {}, False), ("poisson_nll_loss", {}, False), ("kl_div", {}, False),
    ("half_poisson_loss", {}, True), ("half_gamma_loss", {}, True), ("half_tweedie_loss", {"power": 1.3}, True),
    ("half_tweedie_loss_identity", {"power": 0.0}, True), ("pinball_loss", {"quantile": 0.3}, True),
    ("exponential_loss", {}, True), ("binary_cross_entropy", {}, True),
]


def _targets(name, rng, shape):
    if name in ("soft_margin_loss", "hinge_embedding_loss"):
        return rng.choice([-1.0, 1.0], shape)
    if name in ("binary_cross_entropy_with_logits", "exponential_loss", "binary_cross_entropy"):
        return rng.uniform(0, 1, shape).round()
    if name in ("half_gamma_loss",):
        return rng.uniform(0.1, 3, shape)
    if name in ("poisson_nll_loss", "half_poisson_loss", "half_tweedie_loss", "kl_div"):
        return rng.uniform(0, 3, shape)
    return rng.standard_normal(shape)


# one-element chunks (80 blocks, a graph of hundreds of tasks, 2-3 s a case) with "mean" only,
# where the per-chunk sums, counts and weights all meet; "sum" and "none" split as (3, 4)
ELEMENTWISE_SPLITS = [(chunks, reduction) for chunks in [(-1, -1), (3, 4), (1, 1)]
                      for reduction in ["mean", "sum", "none"] if chunks != (1, 1) or reduction == "mean"]


@pytest.mark.parametrize("name,kw,weighted", ELEMENTWISE)
@pytest.mark.parametrize("chunks,reduction", ELEMENTWISE_SPLITS)
def test_elementwise(compute_threads, name, kw, weighted, reduction, chunks):
    _elementwise(compute_threads, name, kw, weighted, reduction, chunks)


@pytest.mark.parametrize("name,kw,weighted", [e for e in ELEMENTWISE if e[0] in ("mse_loss", "huber_loss",
                                                                                  "half_poisson_loss")])
def test_elementwise_both_schedulers(compute, name, kw, weighted):
    _elementwise(compute, name, kw, weighted, "mean", (3, 4))


def _elementwise(compute, name, kw, weighted, reduction, chunks):
    rng = np.random.default_rng(6)
    shape = (10, 8)
    a = rng.standard_normal(shape)
    if name == "binary_cross_entropy":
        a = rng.uniform(0.05, 0.95, shape)
    b = _targets(name, rng, shape)
    f, f0 = getattr(cld, name), getattr(cyloss, name)
    extra = {"weight": rng.uniform(0.2, 2, shape)} if weighted else {}
    want = f0(a, b, reduction=reduction, return_grad=True, **kw, **extra)
    args = (da.from_array(a, chunks=chunks), da.from_array(b, chunks=(5, 8)))
    dextra = {"weight": da.from_array(extra["weight"], chunks=(2, 8))} if weighted else {}
    got = compute(*f(*args, reduction=reduction, return_grad=True, **kw, **dextra))
    for g, w_ in zip(got, want):
        close(g, w_, np.float64)
    if weighted:  # a NumPy weight (sliced to the chunks) and the Hessian
        got = compute(*f(*args, reduction=reduction, return_hessian=True, weight=extra["weight"], **kw))
        for g, w_ in zip(got, f0(a, b, reduction=reduction, return_hessian=True, **kw, **extra)):
            close(g, w_, np.float64)


def test_float32_mean_over_many_chunks(compute):
    rng = np.random.default_rng(7)
    a = rng.standard_normal(10000).astype(np.float32)
    b = rng.standard_normal(10000).astype(np.float32)
    got = compute(cld.mse_loss(da.from_array(a, chunks=100), b))
    assert got.dtype == np.float32
    ref = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    assert abs(float(got) - ref) <= 2e-7 * ref


def test_bce_with_logits_pos_weight(compute):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((9, 4))
    y = rng.uniform(0, 1, (9, 4)).round()
    pw = np.array([1.0, 2.0, 0.5, 3.0])
    got = compute(*cld.binary_cross_entropy_with_logits(da.from_array(x, chunks=(2, 2)), y, pos_weight=pw,
                                                        return_grad=True))
    for g, w_ in zip(got, cyloss.binary_cross_entropy_with_logits(x, y, pos_weight=pw, return_grad=True)):
        close(g, w_, np.float64)


def test_lazy_and_graph_size():
    x = da.ones((1000, 50), chunks=(10, 50))
    t = da.zeros(1000, chunks=10, dtype=np.int64)
    loss = cld.cross_entropy(x, t)
    assert isinstance(loss, da.Array) and loss.shape == ()
    ntasks = len(loss.__dask_graph__())
    assert ntasks < 12 * x.numblocks[0]  # O(chunks)


def test_errors():
    x = da.ones((4, 3), chunks=2)
    with pytest.raises(ValueError, match="out"):
        cld.softmax(x, out=np.empty((4, 3)))
    with pytest.raises(ValueError, match="grad_out"):
        cld.mse_loss(x, x, return_grad=True, grad_out=np.empty((4, 3)))
    with pytest.raises(ValueError, match="axis"):
        cld.softmax(x, axis=2)
    with pytest.raises(ValueError, match="temperature"):
        cld.softmax(x, temperature=0.0)
    with pytest.raises(ValueError, match="reduction"):
        cld.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="target"):
        cld.cross_entropy(x, da.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        cld.softmax(x[x[:, 0] > 0])
    with pytest.raises(TypeError):
        cld.softmax(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="broadcast"):
        cld.mse_loss(x, da.ones((4, 5)))
    with pytest.raises(IndexError, match="target"):
        cld.cross_entropy(x, np.array([0, 1, 2, 7])).compute(scheduler="sync")
    with pytest.raises(IndexError, match="target"):
        cld.cross_entropy(da.ones((4, 6), chunks=(2, 3)), np.array([0, 1, 2, 7])).compute(scheduler="sync")


@pytest.mark.skipif(SANITIZED, reason="a 4 GB computation; not under the sanitizers")
def test_out_of_core_cross_entropy_and_logsumexp():
    """float32 logits of 4 GB, four times the two workers' total memory_limit, generated
    lazily: cross-entropy "mean" and the mean logsumexp stream through the workers in
    chunks, no worker is lost, and the results agree with the statistics of N(0, 1) logits
    (and with each other)."""
    n, c, rows = 1_100_000, 1000, 10_000  # 40 MB chunks: headroom under 512 MiB per worker
    environ = dict(os.environ)
    try:
        _out_of_core(n, c, rows)
    finally:
        os.environ.clear()
        os.environ.update(environ)


def _out_of_core(n, c, rows):
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  memory_limit="512MiB", dashboard_address=None,
                                  worker_dashboard_address=None, scheduler_kwargs=_LOCAL_HTTP) as cluster:
        with distributed.Client(cluster, set_as_default=False) as client:
            workers = set(client.scheduler_info()["workers"])
            rng = da.random.default_rng(42)
            x = rng.standard_normal((n, c), chunks=(rows, c), dtype=np.float32)
            assert x.nbytes >= 4 * 2 * 512 * 2**20 * 0.95
            t = rng.integers(0, c, n, chunks=rows)
            ce = cld.cross_entropy(x, t)
            lse = cld.logsumexp(x, axis=-1).astype(np.float64).mean()
            xt_mean = da.map_blocks(lambda xb, tb: np.take_along_axis(xb, tb, 1)[:, 0], x, t[:, None],
                                    dtype=np.float32, drop_axis=1).astype(np.float64).mean()
            ce_v, lse_v, xt_v = client.compute([ce, lse, xt_mean], sync=True)
            now = set(client.scheduler_info()["workers"])
            assert now == workers, f"workers replaced: {workers} -> {now}"  # none killed

            def spilled(dask_worker):
                total = getattr(dask_worker.data, "spilled_total", None)
                return 0 if total is None else total.memory

            held = sum(client.run(spilled).values())
            assert held < x.nbytes / 4, f"{held} bytes spilled"  # streamed, not parked on disk
    # logsumexp of 1000 N(0, 1) logits is about log(1000) + 1/2
    assert abs(lse_v - (np.log(c) + 0.5)) < 0.05
    # cross-entropy = logsumexp - x[target], averaged
    assert ce_v.dtype == np.float32
    assert abs(float(ce_v) - (lse_v - xt_v)) < 1e-4


def _same(got, want, dtype=np.float64):
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w_ in zip(got, want):
            _same(g, w_, dtype)
    else:
        close(got, want, dtype)


def _batched_cases(rng):
    n, c, d = 11, 6, 5
    x = rng.standard_normal((n, c))
    multi_hot = (rng.uniform(0, 1, (n, c)) < 0.4).astype(np.float64)
    t = rng.integers(0, c, n)
    lists = np.full((n, c), -1)
    for i in range(n):
        k = rng.integers(0, c)
        lists[i, :k] = rng.choice(c, k, replace=False)
    a, b, e = (rng.standard_normal((n, d)) for _ in range(3))
    pm = rng.choice([-1.0, 1.0], n)
    v = rng.uniform(0.5, 2, (n, d))
    T, S = 12, 4
    lp = np.log(rng.dirichlet(np.ones(c), (T, n)))
    tg = rng.integers(1, c, (n, S))
    il = rng.integers(8, T + 1, n)
    tl = rng.integers(0, S + 1, n)
    return [
        ("multilabel_soft_margin_loss", (x, multi_hot), {"weight": rng.uniform(0.5, 2, c)}, True),
        ("multi_margin_loss", (x, t), {"p": 2, "weight": rng.uniform(0.5, 2, c)}, True),
        ("multilabel_margin_loss", (x, lists), {}, True),
        ("cosine_embedding_loss", (a, b, pm), {"margin": 0.1}, False),
        ("triplet_margin_loss", (a, b, e), {"swap": True}, False),
        ("margin_ranking_loss", (a[:, 0], b[:, 0], pm), {"margin": 0.2}, True),
        ("gaussian_nll_loss", (a, b, v), {}, True),
        ("gaussian_nll_loss", (a, b, v[:, :1]), {"full": True}, True),
        ("ctc_loss", (lp, tg, il, tl), {}, False),
        ("ctc_loss", (lp, np.concatenate([tg[i, :tl[i]] for i in range(n)]), il, tl), {"zero_infinity": True},
         False),
    ]


@pytest.mark.parametrize("case", range(10))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("rows", [-1, 4, 1])
def test_sample_losses(compute_threads, case, reduction, rows):
    rng = np.random.default_rng(9)
    name, args, kw, hess = _batched_cases(rng)[case]
    f, f0 = getattr(cld, name), getattr(cyloss, name)
    batch_axis = 1 if name == "ctc_loss" else 0
    dargs = [da.from_array(args[0], chunks={batch_axis: rows})] + list(args[1:])
    if name != "ctc_loss" or args[1].ndim == 2:  # the other batched arguments as dask arrays too
        dargs[1] = da.from_array(args[1], chunks=3 if args[1].ndim else ())
    flags = {"return_hessian": True} if hess else {"return_grad": True}
    got = compute_threads(*_flatten(f(*dargs, reduction=reduction, **flags, **kw)))
    want = _flatten(f0(*args, reduction=reduction, **flags, **kw))
    _same(tuple(got), tuple(want))
    got = compute_threads(f(*dargs, reduction=reduction, **kw))
    _same(got, f0(*args, reduction=reduction, **kw))


def _flatten(r):
    out = []
    for p in (r if isinstance(r, tuple) else (r,)):
        out.extend(p if isinstance(p, tuple) else (p,))
    return out


@pytest.mark.parametrize("case", [1, 4, 8])
def test_sample_losses_both_schedulers(compute, case):
    rng = np.random.default_rng(10)
    name, args, kw, hess = _batched_cases(rng)[case]
    batch_axis = 1 if name == "ctc_loss" else 0
    dargs = [da.from_array(args[0], chunks={batch_axis: 4})] + list(args[1:])
    got = compute(*_flatten(getattr(cld, name)(*dargs, return_grad=True, **kw)))
    _same(tuple(got), tuple(_flatten(getattr(cyloss, name)(*args, return_grad=True, **kw))))


def test_every_public_array_function_is_there():
    skip = {"set_num_threads", "get_num_threads", "num_threads", "show_config", "get_include", "__version__",
            "logsumexp_merge", "cross_entropy_partial"}
    missing = [n for n in cyloss.__all__ if n not in skip and not hasattr(cld, n)]
    assert not missing


@pytest.mark.parametrize("name", ["cross_entropy", "mse_loss"])
def test_loss_and_gradient_read_each_block_once(monkeypatch, name):
    """return_grad with "mean": one kernel call per block gives the block's loss and gradient
    (the mean's denominator comes from the targets / weights alone)."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((12, 5))
    if name == "cross_entropy":
        other = rng.integers(0, 5, 12)
        other[0] = -100
        kw = {"weight": rng.uniform(0.5, 2, 5)}
    else:
        other = rng.standard_normal((12, 5))
        kw = {"weight": rng.uniform(0.5, 2, (12, 5))}
    real = getattr(cyloss, name)
    calls = []

    def counting(*a, **k):
        if k.get("reduction") == "sum":  # the blocks' calls (the argument check calls "mean")
            calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(cyloss, name, counting)
    dx = da.from_array(x, chunks=(4, 5))
    res = getattr(cld, name)(dx, other, return_grad=True, **kw)
    loss, grad = da.compute(*res, scheduler="sync")
    assert len(calls) == dx.npartitions
    l0, g0 = real(x, other, return_grad=True, **kw)
    close(loss, l0, np.float64)
    close(grad, g0, np.float64)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_none_reduction_with_gradient_reads_each_block_once(monkeypatch, name):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((12, 5))
    t = rng.integers(0, 5, 12)
    real = getattr(cyloss, name)
    dx = da.from_array(x, chunks=(4, 5))
    res = getattr(cld, name)(dx, t, reduction="none", return_grad=True)
    calls = []

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(cyloss, name, counting)  # the blocks look the function up when they run
    loss, grad = da.compute(*res, scheduler="sync")
    assert len(calls) == dx.npartitions
    l0, g0 = real(x, t, reduction="none", return_grad=True)
    close(loss, l0, np.float64)
    close(grad, g0, np.float64)
