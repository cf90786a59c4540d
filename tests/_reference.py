"""Independent reference implementations for every cyloss function.

Plain float64 NumPy written straight from the definitions (torch.nn.functional /
scipy.special semantics as stated in the cyloss API).  Nothing here imports or calls
cyloss.  Loss references return ``(loss, grad)`` where ``grad`` is d(loss)/d(first
argument) (for reduction "none": the gradient of ``loss.sum()``).

The ``mp_*`` functions use mpmath for the hard cases (extreme logits, long rows): the
float64 inputs are treated as exact binary numbers, differences are formed exactly and
everything else is carried at 128 bits before rounding to float64.
"""
import math

import numpy as np

REDUCTIONS = ("none", "mean", "sum")
BCE_EPS = float(np.float32(1e-12))


def f64(a):
    return np.array(a, dtype=np.float64, copy=True)


# --------------------------------------------------------------------------- softmax family
def softmax(x, axis=-1, temperature=1.0):
    x = f64(x)
    if x.ndim == 0:
        return softmax(x.reshape(1), 0, temperature).reshape(())
    z = x / temperature
    if z.size == 0:
        return z
    m = np.max(z, axis=axis, keepdims=True)
    e = np.exp(z - m)
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1, temperature=1.0):
    x = f64(x)
    if x.ndim == 0:
        return log_softmax(x.reshape(1), 0, temperature).reshape(())
    z = x / temperature
    if z.size == 0:
        return z
    m = np.max(z, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):
        shifted = z - m
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _norm_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if np.ndim(axis) == 0:
        axis = (axis,)
    return tuple(int(a) % ndim for a in axis)


def logsumexp(x, axis=None, b=None, keepdims=False, return_sign=False):
    """scipy.special.logsumexp semantics for real input."""
    x = f64(x)
    if b is not None:
        b = f64(b)
        if b.shape != x.shape:  # (np.broadcast_arrays stops at 32 dimensions)
            x, b = np.broadcast_arrays(x, b)
        x = np.where(b != 0, x, -np.inf)  # a zero weight drops the term
    axes = _norm_axes(axis, x.ndim)
    m = np.max(x, axis=axes, keepdims=True, initial=-np.inf)
    m_safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(x - m_safe)
        if b is not None:
            e = e * b
    s = np.sum(e, axis=axes, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(np.abs(s)) + m_safe
    sign = np.sign(s)
    if not keepdims:
        out = np.squeeze(out, axis=axes)
        sign = np.squeeze(sign, axis=axes)
    if return_sign:
        return out, sign
    return np.where(sign < 0, np.nan, out)


def softmax_backward(y, g, axis=-1):
    y, g = f64(y), f64(g)
    return y * (g - np.sum(g * y, axis=axis, keepdims=True))


def log_softmax_backward(log_y, g, axis=-1):
    log_y, g = f64(log_y), f64(g)
    return g - np.exp(log_y) * np.sum(g, axis=axis, keepdims=True)


# --------------------------------------------------------------------------- helpers
def sum_to_shape(g, shape):
    """Sum a broadcast gradient back to ``shape`` (the adjoint of np.broadcast_to)."""
    g = np.asarray(g, dtype=np.float64)
    shape = tuple(shape)
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _reduce(l, g, reduction, denom=None):
    """Apply a reduction to per-sample losses ``l`` and the matching gradient ``g``."""
    if reduction == "none":
        return l, g
    if reduction == "sum":
        return np.float64(l.sum()), g
    if reduction == "mean":
        if denom is None:
            denom = l.size
        if denom == 0:
            return np.float64(np.nan), np.zeros_like(g)
        return np.float64(l.sum() / denom), g / denom
    raise ValueError(reduction)


def _xlogx(t):
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t == 0, 0.0, t * np.log(np.where(t == 0, 1.0, t)))


def is_class_target(target):
    t = np.asarray(target)
    return t.dtype.kind in "iu"


# --------------------------------------------------------------------------- classification
def cross_entropy(logits, target, axis=-1, weight=None, ignore_index=-100,
                  reduction="mean", label_smoothing=0.0):
    x = f64(logits)
    axis = axis % x.ndim
    xm = np.moveaxis(x, axis, -1)
    C = xm.shape[-1]
    w = np.ones(C) if weight is None else f64(weight)
    eps = float(label_smoothing)
    logp = log_softmax(xm, -1) if xm.size else xm.copy()
    p = np.exp(logp)
    if is_class_target(target):
        t = np.asarray(target).astype(np.int64)
        valid = t != ignore_index
        tc = np.where(valid, t, 0)
        nll = -np.take_along_axis(logp, tc[..., None], -1)[..., 0]
        wt = w[tc]
        l = (1.0 - eps) * wt * nll
        if eps:  # (skip when 0 so that masked -inf logits give 0, not 0 * inf)
            l = l + (eps / C) * -np.sum(w * logp, axis=-1)
        l = np.where(valid, l, 0.0)
        g = p * ((1.0 - eps) * wt + (eps / C) * w.sum())[..., None] - (eps / C) * w
        onehot = np.arange(C) == tc[..., None]
        g = g - onehot * ((1.0 - eps) * wt)[..., None]
        g = np.where(valid[..., None], g, 0.0)
        denom = float(np.sum(np.where(valid, wt, 0.0)))
    else:
        t = np.moveaxis(f64(target), axis, -1)
        pp = (1.0 - eps) * t + eps / C
        wp = w * pp
        l = -np.sum(wp * logp, axis=-1)
        g = p * np.sum(wp, axis=-1, keepdims=True) - wp
        denom = l.size
    loss, g = _reduce(l, g, reduction, denom)
    return loss, np.moveaxis(g, -1, axis)


def nll_loss(log_probs, target, axis=-1, weight=None, ignore_index=-100, reduction="mean"):
    x = f64(log_probs)
    axis = axis % x.ndim
    xm = np.moveaxis(x, axis, -1)
    C = xm.shape[-1]
    w = np.ones(C) if weight is None else f64(weight)
    t = np.asarray(target).astype(np.int64)
    valid = t != ignore_index
    tc = np.where(valid, t, 0)
    wt = np.where(valid, w[tc], 0.0)
    picked = np.take_along_axis(xm, tc[..., None], -1)[..., 0]
    l = np.where(valid, -wt * picked, 0.0)
    onehot = np.arange(C) == tc[..., None]
    g = np.where(onehot, -wt[..., None], 0.0)  # (0, not 0 * weight: an infinite weight gives NaN there)
    loss, g = _reduce(l, g, reduction, float(wt.sum()))
    return loss, np.moveaxis(g, -1, axis)


def sigmoid(x):
    x = f64(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def binary_cross_entropy_with_logits(logits, target, weight=None, pos_weight=None,
                                     reduction="mean"):
    x, y = f64(logits), f64(target)
    w = np.broadcast_to(1.0 if weight is None else f64(weight), x.shape)
    pw = np.broadcast_to(1.0 if pos_weight is None else f64(pos_weight), x.shape)
    log_sig = -np.logaddexp(0.0, -x)        # log(sigmoid(x))
    log_one_minus = -np.logaddexp(0.0, x)   # log(1 - sigmoid(x))
    l = -w * (pw * y * log_sig + (1.0 - y) * log_one_minus)
    s = sigmoid(x)
    g = w * ((1.0 - y) * s - pw * y * (1.0 - s))
    return _reduce(l, g, reduction)


def binary_cross_entropy(probs, target, weight=None, reduction="mean"):
    p, y = f64(probs), f64(target)
    w = np.broadcast_to(1.0 if weight is None else f64(weight), p.shape)
    with np.errstate(divide="ignore"):
        logp = np.maximum(np.log(p), -100.0)
        log1mp = np.maximum(np.log1p(-p), -100.0)
    l = -w * (y * logp + (1.0 - y) * log1mp)
    # torch's clamp constant is the float literal 1e-12f, also for float64 tensors
    # (torch float64 gives grad -1000000003995.8029 at p=0, y=1): match it.
    g = w * (p - y) / np.maximum(p * (1.0 - p), BCE_EPS)
    return _reduce(l, g, reduction)


def kl_div(log_q, target, reduction="mean", log_target=False):
    lq, t = f64(log_q), f64(target)
    shape = lq.shape if lq.shape == t.shape else np.broadcast_shapes(lq.shape, t.shape)
    lqb, tb = np.broadcast_to(lq, shape), np.broadcast_to(t, shape)
    if log_target:
        et = np.exp(tb)
        l = et * (tb - lqb)
        g = -et
    else:
        l = _xlogx(tb) - tb * lqb
        g = -tb
    g = np.array(g, dtype=np.float64)
    if reduction == "batchmean":
        loss = np.float64(l.sum() / lq.shape[0])
        g = g / lq.shape[0]
    else:
        loss, g = _reduce(l, g, reduction)
    return loss, sum_to_shape(g, lq.shape)


def entropy(p, axis=-1):
    """sum of entr(p) = -p log p (p > 0), 0 (p = 0), -inf (p < 0), NaN for NaN, over axis."""
    p = np.asarray(p, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(np.where(p > 0, p, 1.0)),
                         np.where(p == 0, 0.0, np.where(p < 0, -np.inf, np.nan)))
    return 0.0 + np.sum(terms, axis=axis)  # 0.0 + : a row of zeros sums to +0.0


# --------------------------------------------------------------------------- regression
def _pointwise_regression(kind, d, param):
    a = np.abs(d)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "mse":
            return d * d, 2.0 * d
        if kind == "l1":
            return a, np.sign(d)
        if kind == "huber":
            delta = param
            quad = a < delta
            return (np.where(quad, 0.5 * d * d, delta * (a - 0.5 * delta)),
                    np.where(quad, d, delta * np.sign(d)))
        if kind == "smooth_l1":
            beta = param
            quad = a < beta
            safe_beta = beta if beta > 0 else 1.0
            return (np.where(quad, 0.5 * d * d / safe_beta, a - 0.5 * beta),
                    np.where(quad, d / safe_beta, np.sign(d)))
    raise ValueError(kind)


# The weighted "mean" of each regression loss (torch 2.13): mse_loss and l1_loss divide
# sum(w * l) by sum(w); huber_loss by the number of elements (weighted_loss.mean());
# smooth_l1_loss (no weight in torch) as huber_loss.
MEAN_BY_WEIGHT = {"mse": True, "l1": True, "huber": False, "smooth_l1": False}


def regression(kind, pred, target, weight=None, reduction="mean", param=None):
    p, t = f64(pred), f64(target)
    d = p - t
    l, g = _pointwise_regression(kind, d, param)
    if weight is None:
        loss, g = _reduce(l, g, reduction)
    else:
        w = np.broadcast_to(f64(weight), d.shape)  # weight broadcasts to the loss's shape
        denom = float(w.sum()) if MEAN_BY_WEIGHT[kind] else d.size
        loss, g = _reduce(w * l, w * g, reduction, denom=denom)
    return loss, sum_to_shape(np.broadcast_to(g, d.shape), p.shape)


def mse_loss(pred, target, weight=None, reduction="mean"):
    return regression("mse", pred, target, weight, reduction)


def l1_loss(pred, target, weight=None, reduction="mean"):
    return regression("l1", pred, target, weight, reduction)


def huber_loss(pred, target, delta=1.0, weight=None, reduction="mean"):
    return regression("huber", pred, target, weight, reduction, delta)


def smooth_l1_loss(pred, target, beta=1.0, weight=None, reduction="mean"):
    return regression("smooth_l1", pred, target, weight, reduction, beta)


# --------------------------------------------------------------------------- mpmath
# ------------------------------------------------- scikit-learn's losses of raw predictions
def _glm_pointwise(kind, r, y, p):
    """(loss, gradient, Hessian) per element, sklearn._loss's formulas written out in NumPy."""
    with np.errstate(all="ignore"):
        if kind == "poisson" or (kind == "tweedie" and p == 1):
            return np.exp(r) - y * r, np.exp(r) - y, np.exp(r)
        if kind == "gamma" or (kind == "tweedie" and p == 2):
            return r + y * np.exp(-r), 1 - y * np.exp(-r), y * np.exp(-r)
        if kind == "tweedie":
            if p == 0:
                e = np.exp(r)
                return 0.5 * (e - y) ** 2, e * (e - y), e * (2 * e - y)
            e1, e2 = np.exp((1 - p) * r), np.exp((2 - p) * r)
            return e2 / (2 - p) - y * e1 / (1 - p), e2 - y * e1, (2 - p) * e2 - (1 - p) * y * e1
        if kind == "tweedie_identity":
            if p == 0:
                return 0.5 * (r - y) ** 2, r - y, np.ones_like(r)
            if p == 1:
                return (np.where(y == 0, r, y * np.log(y / r) + r - y), 1 - y / r, y / r ** 2)
            if p == 2:
                return np.log(r / y) + y / r - 1, (r - y) / r ** 2, (-1 + 2 * y / r) / r ** 2
            t1 = r ** (1 - p)
            loss = r * t1 / (2 - p) - y * t1 / (1 - p) + np.where(y > 0, np.maximum(y, 0) ** (2 - p), 0) / (
                (1 - p) * (2 - p))
            return loss, r ** -p * (r - y), r ** -p * ((1 - p) + p * y / r)
        if kind == "pinball":
            up = y >= r
            return (np.where(up, p * (y - r), (1 - p) * (r - y)), np.where(up, -p, 1 - p), np.ones_like(r))
        if kind == "exponential":
            return (y * np.exp(-r) + (1 - y) * np.exp(r), -y * np.exp(-r) + (1 - y) * np.exp(r),
                    y * np.exp(-r) + (1 - y) * np.exp(r))
    raise ValueError(kind)


def glm_loss(kind, raw, y, weight=None, reduction="mean", param=0.0, hessian=False):
    """(loss, grad[, hess]) of the reduced loss; "mean" is sum(w l) / sum(w) (sklearn)."""
    r, t = f64(raw), f64(y)
    shape = r.shape if r.shape == t.shape else np.broadcast_shapes(r.shape, t.shape)  # (<= 32 dims)
    rb, tb = (r, t) if r.shape == t.shape else (np.broadcast_to(r, shape), np.broadcast_to(t, shape))
    l, g, h = _glm_pointwise(kind, rb, tb, param)
    w = np.ones(shape) if weight is None else np.broadcast_to(f64(weight), shape)
    denom = float(w.sum()) if weight is not None else float(np.prod(shape))
    l, g, h = w * l, w * g, w * h
    if reduction == "none":
        loss = l
    elif reduction == "sum":
        loss = l.sum()
    else:
        loss = l.sum() / denom if denom else np.nan
        g, h = (g / denom, h / denom) if denom else (g * 0, h * 0)
    g = sum_to_shape(g if g.shape == shape else np.broadcast_to(g, shape), r.shape)
    h = sum_to_shape(h if h.shape == shape else np.broadcast_to(h, shape), r.shape)
    return (loss, g, h) if hessian else (loss, g)


def _mp():
    import mpmath
    return mpmath


def mp_row(row):
    """Exact-as-float64 log_softmax, softmax and logsumexp of one row via mpmath.

    Returns (log_softmax list, softmax list, lse) as float64 numbers.
    """
    mpmath = _mp()
    xs = [mpmath.mpf(float(v)) for v in np.asarray(row, dtype=np.float64)]
    m = max(xs)
    with mpmath.workprec(128):
        diffs = [mpmath.fsub(v, m, exact=True) for v in xs]
        s = mpmath.fsum(mpmath.exp(d) for d in diffs if d > -2000)
        log_s = mpmath.log(s)
        logp = [d - log_s for d in diffs]
        lse = m + log_s
        return ([float(v) for v in logp], [float(mpmath.exp(v)) for v in logp], float(lse))


def mp_logsumexp(row):
    return mp_row(row)[2]


def mp_log1pexp(x):
    """log(1 + exp(x)) in mpmath, rounded to float64."""
    mpmath = _mp()
    with mpmath.workprec(256):
        x = mpmath.mpf(float(x))
        if x > 0:
            return float(x + mpmath.log1p(mpmath.exp(-x)))
        return float(mpmath.log1p(mpmath.exp(x)))


def ulp_error(actual, expected, dtype):
    """|actual - expected| in units of the last place of ``expected`` rounded to dtype.

    Subnormal references use the spacing of the smallest normal number.
    """
    dtype = np.dtype(dtype)
    exp_r = np.asarray(expected, dtype=np.float64).astype(dtype)
    spacing = np.spacing(np.abs(exp_r)).astype(np.float64)
    tiny = float(np.finfo(dtype).tiny) * float(np.finfo(dtype).eps)
    spacing = np.maximum(spacing, tiny)
    diff = np.abs(np.asarray(actual, dtype=np.float64) - np.asarray(expected, dtype=np.float64))
    same = np.asarray(actual, dtype=np.float64) == np.asarray(expected, dtype=np.float64)
    return np.where(same, 0.0, diff / spacing)


def fsum_logsumexp(row):
    """Float64 logsumexp of a long row with an exactly rounded sum (math.fsum)."""
    row = np.asarray(row, dtype=np.float64)
    m = row.max()
    return m + math.log(math.fsum(np.exp(row - m)))


def mp_log(v):
    """Correctly rounded (to float64) natural log via mpmath."""
    mpmath = _mp()
    with mpmath.workprec(160):
        return float(mpmath.log(mpmath.mpf(float(v))))


def mp_two_class(d):
    """For rows [0, d]: (softmax, log_softmax) of shape (2,) via mpmath."""
    logp, p, _ = mp_row([0.0, float(d)])
    return p, logp
