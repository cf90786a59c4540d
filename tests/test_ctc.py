"""ctc_loss against a plain float64 log-space forward-backward written here (np.logaddexp,
nothing from cyloss), against torch's ctc_loss and its autograd when torch is installed, and at
the edges: impossible alignments, empty targets and inputs, -inf / very negative / NaN
log-probabilities, and every argument check."""
import numpy as np
import pytest

import cyloss
from _helpers import FLOAT_DTYPES, FLOAT_IDS, assert_close

REDUCTIONS = ("none", "mean", "sum")


def ref_ctc(lp, labels, input_lengths, blank=0):
    """(per-sample loss, gradient) of lp (T, N, C) with labels a list of per-sample label lists:
    log-space alpha / beta (beta including the emission at t, as torch), gradient
    exp(lp) - sum_{s: l'_s = k} exp(alpha + beta + nll - lp), 0 beyond the input length."""
    lp = np.asarray(lp, dtype=np.float64)
    t_max, n, c = lp.shape
    losses = np.zeros(n)
    grad = np.zeros_like(lp)
    for b in range(n):
        tb = int(input_lengths[b])
        ext = [blank]
        for k in labels[b]:
            ext += [int(k), blank]
        s_len = len(ext)
        if tb == 0:
            losses[b] = 0.0 if s_len == 1 else np.inf
            continue
        x = lp[:tb, b, :][:, ext]
        skip = np.array([s >= 2 and ext[s] != ext[s - 2] for s in range(s_len)])
        la = np.full((tb, s_len), -np.inf)
        lb = np.full((tb, s_len), -np.inf)
        la[0, :min(2, s_len)] = x[0, :min(2, s_len)]
        for t in range(1, tb):
            p = la[t - 1]
            a = p.copy()
            a[1:] = np.logaddexp(a[1:], p[:-1])
            a[2:] = np.where(skip[2:], np.logaddexp(a[2:], p[:-2]), a[2:])
            la[t] = a + x[t]
        lb[tb - 1, max(0, s_len - 2):] = x[tb - 1, max(0, s_len - 2):]
        for t in range(tb - 2, -1, -1):
            q = lb[t + 1]
            a = q.copy()
            a[:-1] = np.logaddexp(a[:-1], q[1:])
            a[:-2] = np.where(skip[2:], np.logaddexp(a[:-2], q[2:]), a[:-2])
            lb[t] = a + x[t]
        ll = la[tb - 1, 0] if s_len == 1 else np.logaddexp(la[tb - 1, -1], la[tb - 1, -2])
        nll = -ll
        losses[b] = nll
        with np.errstate(all="ignore"):
            for t in range(tb):
                res = np.full(c, -np.inf)
                for s in range(s_len):
                    res[ext[s]] = np.logaddexp(res[ext[s]], la[t, s] + lb[t, s])
                row = lp[t, b]
                grad[t, b] = np.exp(row) - np.exp(res + nll - row)
    return losses, grad


def _log_softmax(z):
    m = z.max(-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(-1, keepdims=True))


def _case(rng, t_max, n, c, s_max, blank=0, dtype=np.float64, scale=1.0):
    lp = _log_softmax(scale * rng.normal(size=(t_max, n, c))).astype(dtype)
    tl = rng.integers(0, s_max + 1, size=n)
    il = np.array([rng.integers(min(t_max, 2 * int(v) + 1), t_max + 1) for v in tl])
    classes = np.array([k for k in range(c) if k != blank])
    labels = [list(rng.choice(classes, size=int(v))) for v in tl]
    padded = np.full((n, s_max), blank, dtype=np.int64)  # padding: any value, here the blank
    for b, lab in enumerate(labels):
        padded[b, :len(lab)] = lab
    return lp, labels, padded, il, tl


def _reduce_ref(losses, grad, tl, red):
    n = len(losses)
    if red == "none":
        return losses, grad
    if red == "sum":
        return losses.sum(), grad
    div = np.maximum(tl, 1)
    return (losses / div).mean(), grad / (div * n)[None, :, None]


@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=FLOAT_IDS)
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
@pytest.mark.parametrize("red", REDUCTIONS)
def test_matches_reference(dtype, layout, red, rng):
    lp, labels, padded, il, tl = _case(rng, 30, 6, 7, 8, blank=2, dtype=dtype)
    labels[1] = [3, 3, 3]  # repeats need a blank between them
    padded[1, :3] = 3
    tl[1] = 3
    il[1] = max(il[1], 7)
    losses, grad = ref_ctc(lp, labels, il, blank=2)
    targets = padded if layout == "padded" else np.concatenate([np.asarray(v, dtype=np.int64) for v in labels])
    el, eg = _reduce_ref(losses, grad, tl, red)
    L, G = cyloss.ctc_loss(lp, targets, il, tl, blank=2, reduction=red, return_grad=True)
    assert G.dtype == dtype and G.shape == lp.shape
    assert_close(L, el, dtype, scale=50)
    assert_close(G, eg, dtype, scale=50)
    assert np.all(G[il[0]:, 0] == 0)  # beyond the input length
    L2 = cyloss.ctc_loss(lp, targets, il, tl, blank=2, reduction=red)
    np.testing.assert_array_equal(L2, L)


def test_unbatched_and_integer_types(rng):
    lp, labels, padded, il, tl = _case(rng, 12, 1, 5, 4)
    losses, grad = ref_ctc(lp, labels, il)
    L, G = cyloss.ctc_loss(lp[:, 0], padded[0].astype(np.int8), np.int16(il[0]), np.uint8(tl[0]),
                           reduction="none", return_grad=True)
    assert np.shape(L) == () and G.shape == (12, 5)
    assert_close(L, losses[0], np.float64)
    assert_close(G, grad[:, 0], np.float64)
    L = cyloss.ctc_loss(lp, [list(padded[0])], (int(il[0]),), [int(tl[0])], reduction="sum")
    assert_close(L, losses.sum(), np.float64)
    # concatenated targets, lengths as int32 arrays, the (1, S) unbatched form
    L = cyloss.ctc_loss(lp[:, 0], padded[:1], np.array([il[0]], dtype=np.int32), tl[:1].astype(np.uint16),
                        reduction="none")
    assert_close(L, losses[0], np.float64)


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("red", REDUCTIONS)
def test_against_torch_autograd(red, zero_infinity, rng):
    torch = _torch()
    F = torch.nn.functional
    lp, labels, padded, il, tl = _case(rng, 25, 8, 6, 6, blank=0)
    il[3] = 2 * tl[3] - 1 if tl[3] > 0 else 0  # too short: impossible (or empty) alignment
    il[5] = 0
    for layout in ("padded", "concatenated"):
        targets = padded if layout == "padded" else np.concatenate([np.asarray(v, dtype=np.int64) for v in labels])
        lt = torch.tensor(lp, requires_grad=True)
        out = F.ctc_loss(lt, torch.tensor(targets), torch.tensor(il), torch.tensor(tl), blank=0, reduction=red,
                         zero_infinity=zero_infinity)
        out.sum().backward()
        L, G = cyloss.ctc_loss(lp, targets, il, tl, reduction=red, zero_infinity=zero_infinity, return_grad=True)
        tg = lt.grad.numpy()
        np.testing.assert_allclose(L, out.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=layout)
        assert np.array_equal(np.isnan(G), np.isnan(tg)), layout
        np.testing.assert_allclose(np.nan_to_num(G), np.nan_to_num(tg), rtol=1e-9, atol=1e-12, err_msg=layout)


def test_float32_against_torch(rng):
    torch = _torch()
    F = torch.nn.functional
    lp, labels, padded, il, tl = _case(rng, 200, 4, 50, 40, dtype=np.float32)
    lt = torch.tensor(lp, requires_grad=True)
    out = F.ctc_loss(lt, torch.tensor(padded), torch.tensor(il), torch.tensor(tl), reduction="sum")
    out.backward()
    L, G = cyloss.ctc_loss(lp, padded, il, tl, reduction="sum", return_grad=True)
    assert L.dtype == np.float32 and G.dtype == np.float32
    losses, grad = ref_ctc(lp, labels, il)
    # cyloss works in float64: within float32 rounding of the float64 result; torch runs the
    # recursion in float32 and is further off
    assert abs(float(L) - losses.sum()) <= 2e-7 * losses.sum()
    np.testing.assert_allclose(G, grad, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(G, lt.grad.numpy(), rtol=1e-3, atol=1e-3)
    assert float(L) == pytest.approx(float(out.detach()), rel=1e-5)


def test_impossible_and_empty(rng):
    lp = _log_softmax(rng.normal(size=(3, 4, 5)))
    targets = np.array([[1, 1, 0], [1, 2, 3], [0, 0, 0], [2, 0, 0]])
    tl = np.array([2, 3, 0, 1])
    il = np.array([3, 2, 3, 0])
    L, G = cyloss.ctc_loss(lp, targets, il, tl, reduction="none", return_grad=True)
    # [1, 1] needs 3 steps: possible; 3 labels in 2 steps: inf with NaN gradient rows (torch);
    # no labels: -sum of blank log-probs; no steps with a label: inf, nothing to differentiate
    assert np.isfinite(L[0]) and L[1] == np.inf and L[3] == np.inf
    assert L[2] == pytest.approx(-lp[:, 2, 0].sum(), rel=1e-14)
    assert np.isnan(G[:2, 1]).all() and (G[2:, 1] == 0).all()
    assert (G[:, 3] == 0).all()
    L, G = cyloss.ctc_loss(lp, targets, il, tl, reduction="none", zero_infinity=True, return_grad=True)
    assert L[1] == 0 and L[3] == 0 and (G[:, 1] == 0).all()
    assert np.isfinite(G).all()
    # empty batch: "mean" NaN, "sum" 0, "none" (0,); T = 0
    e = np.empty((5, 0, 4))
    assert np.isnan(cyloss.ctc_loss(e, np.empty((0, 2), dtype=np.int64), [], []))
    assert cyloss.ctc_loss(e, np.empty(0, dtype=np.int64), [], [], reduction="sum") == 0
    L, G = cyloss.ctc_loss(np.empty((0, 2, 4)), np.ones((2, 1), dtype=int), [0, 0], [0, 1], reduction="none",
                           return_grad=True)
    assert L[0] == 0 and L[1] == np.inf and G.shape == (0, 2, 4)


def test_hard_inputs_match_reference():
    """Very negative log-probabilities (scaled probabilities would underflow), -inf entries and
    NaN, against the float64 log-space reference."""
    rng = np.random.default_rng(7)
    t_max, n, c = 40, 5, 6
    lp = np.full((t_max, n, c), -1000.0)
    labels = [[1, 2, 3], [4, 4], [5], [1, 2, 1, 2], []]
    for b, lab in enumerate(labels):  # one cheap path, everything else at -1000
        ext = [0] + [v for k in lab for v in (k, 0)]
        for t in range(t_max):
            lp[t, b, ext[min(len(ext) - 1, t * len(ext) // t_max)]] = -rng.uniform(0, 1)
    lp[5, 1, :] = -np.inf
    lp[5, 1, 0] = -0.5
    lp[7, 3, 5] = np.nan  # off the lattice of sample 3: NaN only in its own gradient entry
    il = np.full(n, t_max)
    tl = np.array([len(v) for v in labels])
    padded = np.zeros((n, 4), dtype=np.int64)
    for b, lab in enumerate(labels):
        padded[b, :len(lab)] = lab
    losses, grad = ref_ctc(lp, labels, il)
    L, G = cyloss.ctc_loss(lp, padded, il, tl, reduction="none", return_grad=True)
    np.testing.assert_allclose(L, losses, rtol=1e-12)
    assert np.array_equal(np.isnan(G), np.isnan(grad))
    np.testing.assert_allclose(np.nan_to_num(G), np.nan_to_num(grad), rtol=1e-10, atol=1e-12)
    assert np.isnan(G[7, 3, 5]) and np.isfinite(np.delete(G[:, 3].ravel(), 7 * c + 5)).all()
    # a NaN on the lattice reaches the loss
    lp2 = lp.copy()
    lp2[3, 2, 0] = np.nan
    assert np.isnan(cyloss.ctc_loss(lp2, padded, il, tl, reduction="none")[2])


def test_peaky_inputs_match_reference():
    """Trained-model-like log-probabilities: the blank near 0, labels along a monotone alignment,
    everything else between -30 and -100."""
    rng = np.random.default_rng(3)
    t_max, n, c, s = 120, 6, 20, 25
    labels = [list(rng.integers(1, c, size=s)) for _ in range(n)]
    z = -rng.uniform(30, 100, size=(t_max, n, c))
    for b, lab in enumerate(labels):
        z[:, b, 0] = 0.0
        for j, k in enumerate(lab):
            z[4 * j + 3, b, k] = 5.0
    lp = _log_softmax(z)
    for dtype in FLOAT_DTYPES:
        x = lp.astype(dtype)
        losses, grad = ref_ctc(x, labels, np.full(n, t_max))
        L, G = cyloss.ctc_loss(x, np.array(labels), np.full(n, t_max), np.full(n, s), reduction="none",
                               return_grad=True)
        assert_close(L, losses, dtype, scale=100)
        assert_close(G, grad, dtype, scale=100)


def test_thread_count_independent_and_inputs_unchanged(rng):
    lp, labels, padded, il, tl = _case(rng, 100, 32, 50, 30, dtype=np.float32)
    before = (lp.copy(), padded.copy(), il.copy(), tl.copy())
    with cyloss.num_threads(1):
        one = cyloss.ctc_loss(lp, padded, il, tl, return_grad=True)
    with cyloss.num_threads(2):
        two = cyloss.ctc_loss(lp, padded, il, tl, return_grad=True)
    assert one[0] == two[0]
    np.testing.assert_array_equal(one[1], two[1])
    for a, b in zip(before, (lp, padded, il, tl)):
        np.testing.assert_array_equal(a, b)


def test_grad_out_and_return_loss(rng):
    lp, labels, padded, il, tl = _case(rng, 10, 3, 4, 3)
    L, G = cyloss.ctc_loss(lp, padded, il, tl, return_grad=True)
    out = np.empty_like(lp)
    G2 = cyloss.ctc_loss(lp, padded, il, tl, return_grad=True, grad_out=out, return_loss=False)
    assert G2 is out
    np.testing.assert_array_equal(out, G)
    h = lp.astype(np.float16)
    L16, G16 = cyloss.ctc_loss(h, padded, il, tl, return_grad=True)
    assert L16.dtype == np.float16 and G16.dtype == np.float16


BAD = [
    (dict(log_probs=np.zeros((3, 2, 2, 2))), ValueError, "log_probs must be"),
    (dict(log_probs=np.zeros((3, 2, 0))), ValueError, "no classes"),
    (dict(blank=4), ValueError, "blank = 4"),
    (dict(blank=-1), ValueError, "blank = -1"),
    (dict(blank=1.0), TypeError, "blank"),
    (dict(targets=np.ones((2, 2))), TypeError, "targets must hold integers"),
    (dict(targets=np.array([[1, 5], [1, 1]])), IndexError, r"targets\[0, 1\] = 5"),
    (dict(targets=np.array([[1, -2], [1, 1]])), IndexError, r"targets\[0, 1\] = -2"),
    (dict(targets=np.array([[1, 0], [1, 1]])), ValueError, "blank class"),
    (dict(targets=np.array([[1, 1]])), ValueError, "2 rows"),
    (dict(targets=np.array([1, 1, 2, 3])), ValueError, "sum"),
    (dict(targets=np.ones((2, 1), dtype=int)), ValueError, "exceeds the 1 columns"),
    (dict(targets=np.ones((2, 2, 2), dtype=int)), ValueError, "padded"),
    (dict(input_lengths=[4, 3]), ValueError, "input_lengths\\[0\\] = 4 exceeds"),
    (dict(input_lengths=[-1, 3]), ValueError, "input_lengths\\[0\\] = -1 is negative"),
    (dict(input_lengths=[3]), ValueError, "input_lengths has shape"),
    (dict(input_lengths=[3.0, 3.0]), TypeError, "input_lengths must hold integers"),
    (dict(target_lengths=[2, -1]), ValueError, "target_lengths\\[1\\] = -1"),
    (dict(target_lengths=[[2, 2]]), ValueError, "target_lengths has shape"),
    (dict(reduction="avg"), ValueError, "reduction"),
    (dict(zero_infinity="no"), TypeError, "zero_infinity"),
    (dict(grad_out=np.empty((3, 2, 4))), ValueError, "grad_out"),
]


@pytest.mark.parametrize("k", range(len(BAD)))
def test_bad_input(k):
    kw = dict(log_probs=np.log(np.full((3, 2, 4), 0.25)), targets=np.array([[1, 2], [3, 3]]), input_lengths=[3, 3],
              target_lengths=[2, 1])
    change, err, match = BAD[k]
    kw.update(change)
    args = [kw.pop(name) for name in ("log_probs", "targets", "input_lengths", "target_lengths")]
    with pytest.raises(err, match=match):
        cyloss.ctc_loss(*args, **kw)
