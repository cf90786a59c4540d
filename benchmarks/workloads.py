"""The registry of workloads.

A workload is a name plus a ``setup(env)`` function that makes the data and returns the
contenders: zero-argument callables that compute the same thing with cyloss and with
each peer (torch CPU at 1 and at N threads, scipy.special, NumPy written the usual way,
sklearn's private loss module) plus the roofline (``copy``: np.copyto of an
output-sized array; ``read``: a sum over every input array).  Each peer is optional: a
peer whose module is missing is left out, one that raises or disagrees with cyloss is
dropped by the runner with the reason printed.

Conventions: every callable returns its result (a NumPy array / scalar, a torch tensor, or
a (loss, grad) tuple) so the runner can check it once against cyloss; anything a user
would need to get the same numbers (a mean, a 1/n scale of a per-sample gradient) is
part of the timed callable.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

import cyloss


def _noop():
    pass


@dataclass
class Contender:
    name: str                 # "cyloss 2t", "torch 1t", "numpy", "copy", ...
    fn: Callable[[], object]
    role: str                 # "cyloss" | "peer" | "roofline"
    family: str               # "cyloss", "torch", "scipy", "numpy", "sklearn", "copy", "read"
    threads: Optional[int] = None
    enter: Callable[[], None] = _noop   # untimed, before each batch of calls (threads, grad mode)
    checked: bool = True      # compare the result with cyloss's


@dataclass
class Workload:
    name: str
    func: str                 # the cyloss function measured
    dtype: str                # "f32" / "f64" (tolerance of the check)
    setup: Callable[["Env"], list] = field(repr=False)
    quick: bool = False       # part of --quick
    tiny: bool = False        # report microseconds per call
    rtol: Optional[float] = None  # the check's tolerance when not the dtype's default


def _optional(importer):
    try:
        return importer()
    except Exception:        # ImportError, or a broken install: the peer is just absent
        return None


def _import_torch():
    import torch
    import torch.nn.functional as F
    return torch, F


def _import_scipy_special():
    import scipy.special
    return scipy.special


def _import_sklearn_loss():
    from sklearn._loss import loss   # private API: guarded, and checked numerically
    for name in ("HalfMultinomialLoss", "HalfBinomialLoss", "HalfSquaredError", "AbsoluteError", "HuberLoss"):
        getattr(loss, name)
    return loss


class Env:
    """Peer modules, thread counts and contender builders shared by the setups."""

    def __init__(self, n_threads, peers=None, seed=0):
        self.n = n_threads
        want = (lambda p: peers is None or p in peers)
        tf = _optional(_import_torch) if want("torch") else None
        self.torch, self.F = tf if tf else (None, None)
        self.sp = _optional(_import_scipy_special) if want("scipy") else None
        self.skl = _optional(_import_sklearn_loss) if want("sklearn") else None
        self.use_numpy = want("numpy")
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.torch_default_threads = self.torch.get_num_threads() if self.torch else None

    # ---- data
    def normal(self, shape, dt, scale=1.0):
        x = self.rng.standard_normal(shape, dtype=np.float64 if dt == "f64" else np.float32)
        if scale != 1.0:
            x *= scale
        return x

    def uniform(self, shape, dt, lo=0.0, hi=1.0):
        return self.rng.uniform(lo, hi, size=shape).astype(np.float64 if dt == "f64" else np.float32)

    def targets(self, n, c):
        return self.rng.integers(0, c, size=n)       # int64: what torch wants

    # ---- contenders
    def cy(self, fn, single=False):
        n = self.n
        out = [Contender(f"cyloss {n}t", fn, "cyloss", "cyloss", n, enter=lambda: cyloss.set_num_threads(n))]
        if n > 1 and not single:
            out.append(Contender("cyloss 1t", fn, "cyloss", "cyloss", 1, enter=lambda: cyloss.set_num_threads(1)))
        return out

    def tch(self, make, grad=False):
        """torch at 1 thread and at N threads; ``make(torch, F)`` returns the callable.
        Forward-only callables run with autograd off (torch's fastest forward path)."""
        if self.torch is None:
            return []
        torch = self.torch
        fn = make(torch, self.F)
        res = []
        for k in sorted({1, self.n}):
            def enter(k=k):
                if torch.get_num_threads() != k:
                    torch.set_num_threads(k)
                torch.set_grad_enabled(grad)
            res.append(Contender(f"torch {k}t", fn, "peer", "torch", k, enter=enter))
        return res

    def scipy(self, make):
        return [] if self.sp is None else [Contender("scipy", make(self.sp), "peer", "scipy", 1)]

    def numpy(self, fn):
        return [Contender("numpy", fn, "peer", "numpy", 1)] if self.use_numpy else []

    def sklearn(self, make, single=False):
        """sklearn's private loss objects, with n_threads = N (their OpenMP loops; 1 for
        tiny inputs, where starting threads would dominate)."""
        if self.skl is None:
            return []
        k = 1 if single else self.n
        return [Contender(f"sklearn {k}t", make(self.skl, k), "peer", "sklearn", k)]

    @staticmethod
    def copy(src):
        dst = np.empty_like(src)
        return [Contender("copy", lambda: np.copyto(dst, src), "roofline", "copy", 1, checked=False)]

    @staticmethod
    def read(*arrays):
        if len(arrays) == 1:
            a = arrays[0]
            fn = a.sum
        else:
            def fn():
                return [a.sum() for a in arrays]
        return [Contender("read", fn, "roofline", "read", 1, checked=False)]

    def restore(self):
        cyloss.set_num_threads(self.n)
        if self.torch is not None:
            self.torch.set_num_threads(self.torch_default_threads)
            self.torch.set_grad_enabled(True)


# ------------------------------------------------------------------ NumPy, the usual way
def np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_log_softmax(x):
    z = x - x.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def np_logsumexp(x):
    m = x.max(-1)
    return m + np.log(np.exp(x - m[:, None]).sum(-1))


def np_cross_entropy(x, t, rows):
    z = x - x.max(-1, keepdims=True)
    return (np.log(np.exp(z).sum(-1)) - z[rows, t]).mean()


def np_cross_entropy_grad(x, t, rows):
    m = x.max(-1, keepdims=True)
    e = np.exp(x - m)
    s = e.sum(-1, keepdims=True)
    loss = (np.log(s[:, 0]) + m[:, 0] - x[rows, t]).mean()
    g = e / s
    g[rows, t] -= 1
    g /= len(t)
    return loss, g


# ------------------------------------------------------------------ registry
WORKLOADS = []


def _shape_str(shape):
    if len(shape) == 1:
        n = shape[0]
        return f"{n:.0e}".replace("e+0", "e") if n >= 10**6 and n % 10**6 == 0 else str(n)
    return "x".join(map(str, shape))


def register(func, label, shape, dt, *, quick=False, tiny=False, rtol=None, **params):
    """Add the workload "<label> <shape> <dt>" of cyloss function ``func``, made by the
    setup ``SETUPS[label](env, shape, dt, **params)``."""
    def setup(env, _f=SETUPS[label], _shape=shape, _dt=dt, _params=params):
        return _f(env, _shape, _dt, **_params)
    name = (f"{label} {_shape_str(shape)} {dt}" + (" out=" if params.get("out") else "")
            + (" grad_out=" if params.get("grad_out") else ""))
    WORKLOADS.append(Workload(name, func, dt, setup, quick=quick, tiny=tiny, rtol=rtol))


def torch_loss(call, diff, fixed=(), grad=False):
    """The ``make(torch, F)`` of Env.tch for a torch loss ``call(F, *diff, *fixed)`` on torch
    views of NumPy arrays: forward only, or with ``grad`` forward + backward from leaf copies
    of the ``diff`` arrays, returning (loss, grad) for one of them, (loss, (grads...)) for
    several."""
    def make(torch, F):
        rest = [torch.from_numpy(a) for a in fixed]
        if not grad:
            xs = [torch.from_numpy(a) for a in diff]
            return lambda: call(F, *xs, *rest)
        leaves = [torch.from_numpy(a.copy()).requires_grad_() for a in diff]

        def fwd_bwd():
            for leaf in leaves:
                leaf.grad = None
            loss = call(F, *leaves, *rest)
            loss.backward()
            grads = tuple(leaf.grad for leaf in leaves)
            return loss, grads if len(grads) > 1 else grads[0]
        return fwd_bwd
    return make


SETUPS = {}


def setup_fn(label):
    def deco(f):
        SETUPS[label] = f
        return f
    return deco


# ---- softmax family
@setup_fn("softmax")
def _softmax(env, shape, dt, out=False, scale=3.0):
    x = env.normal(shape, dt, scale)
    if out:
        o = np.empty_like(x)
        cy = (lambda: cyloss.softmax(x, out=o))
    else:
        cy = (lambda: cyloss.softmax(x))

    def t_make(torch, F):
        tx = torch.from_numpy(x)
        if out:
            to = torch.empty_like(tx)
            return lambda: torch.softmax(tx, -1, out=to)
        return lambda: torch.softmax(tx, -1)
    return (env.cy(cy, single=x.size < 100) + env.tch(t_make)
            + env.scipy(lambda sp: lambda: sp.softmax(x, axis=-1))
            + env.numpy(lambda: np_softmax(x))
            + ([] if x.size < 100 else env.copy(x) + env.read(x)))


@setup_fn("log_softmax")
def _log_softmax(env, shape, dt, out=False, scale=3.0):
    x = env.normal(shape, dt, scale)
    o = np.empty_like(x)
    cy = (lambda: cyloss.log_softmax(x, out=o)) if out else (lambda: cyloss.log_softmax(x))

    def t_make(torch, F):
        tx = torch.from_numpy(x)
        to = torch.empty_like(tx)
        return (lambda: torch.log_softmax(tx, -1, out=to)) if out else (lambda: torch.log_softmax(tx, -1))
    return (env.cy(cy) + env.tch(t_make)
            + env.scipy(lambda sp: lambda: sp.log_softmax(x, axis=-1))
            + env.numpy(lambda: np_log_softmax(x)) + env.copy(x) + env.read(x))


@setup_fn("logsumexp")
def _logsumexp(env, shape, dt, scale=3.0):
    x = env.normal(shape, dt, scale)
    tiny = x.size < 100

    def t_make(torch, F):
        tx = torch.from_numpy(x)
        return lambda: torch.logsumexp(tx, -1)
    return (env.cy(lambda: cyloss.logsumexp(x, axis=-1), single=tiny) + env.tch(t_make)
            + env.scipy(lambda sp: lambda: sp.logsumexp(x, axis=-1))
            + env.numpy(lambda: np_logsumexp(x)) + ([] if tiny else env.read(x)))


@setup_fn("softmax_backward")
def _softmax_backward(env, shape, dt):
    y = cyloss.softmax(env.normal(shape, dt, 3.0))
    g = env.normal(shape, dt)
    o = np.empty_like(y)

    def t_make(torch, F):
        ty, tg = torch.from_numpy(y), torch.from_numpy(g)
        return lambda: torch._softmax_backward_data(tg, ty, -1, ty.dtype)   # autograd's kernel
    return (env.cy(lambda: cyloss.softmax_backward(y, g, out=o)) + env.tch(t_make)
            + env.numpy(lambda: y * (g - (g * y).sum(-1, keepdims=True)))
            + env.copy(y) + env.read(y, g))


@setup_fn("log_softmax_backward")
def _log_softmax_backward(env, shape, dt):
    ly = cyloss.log_softmax(env.normal(shape, dt, 3.0))
    g = env.normal(shape, dt)
    o = np.empty_like(ly)

    def t_make(torch, F):
        tly, tg = torch.from_numpy(ly), torch.from_numpy(g)
        return lambda: torch._log_softmax_backward_data(tg, tly, -1, tly.dtype)
    return (env.cy(lambda: cyloss.log_softmax_backward(ly, g, out=o)) + env.tch(t_make)
            + env.numpy(lambda: g - np.exp(ly) * g.sum(-1, keepdims=True))
            + env.copy(ly) + env.read(ly, g))


# ---- classification
@setup_fn("cross_entropy")
def _cross_entropy(env, shape, dt, grad=False, scale=3.0, grad_out=False):
    """grad_out: cyloss writes the gradient into a preallocated array (sklearn too, through
    gradient_out=); torch's autograd and NumPy allocate theirs as usual."""
    n, c = shape
    x = env.normal(shape, dt, scale)
    t = env.targets(n, c)
    rows = np.arange(n)
    tf = t.astype(x.dtype)
    tiny = x.size < 100

    t_make = torch_loss(lambda F, x_, y_: F.cross_entropy(x_, y_), [x], [t], grad)

    def sk_make(skl, k):
        obj = skl.HalfMultinomialLoss(n_classes=c)
        if not grad:
            return lambda: obj(tf, x, n_threads=k)
        sk_g = np.empty_like(x) if grad_out else None

        def f():
            lv, g = obj.loss_gradient(tf, x, gradient_out=sk_g, n_threads=k)
            g *= 1.0 / n
            return lv.mean(), g
        return f

    if grad and grad_out:
        g_out = np.empty_like(x)
        cy = env.cy(lambda: cyloss.cross_entropy(x, t, return_grad=True, grad_out=g_out), single=tiny)
        np_c = env.numpy(lambda: np_cross_entropy_grad(x, t, rows))
        sp_c = []
        roof = [] if tiny else env.copy(x) + env.read(x)
    elif grad:
        cy = env.cy(lambda: cyloss.cross_entropy(x, t, return_grad=True), single=tiny)
        np_c = env.numpy(lambda: np_cross_entropy_grad(x, t, rows))
        sp_c = []
        roof = [] if tiny else env.copy(x) + env.read(x)
    else:
        cy = env.cy(lambda: cyloss.cross_entropy(x, t), single=tiny)
        np_c = env.numpy(lambda: np_cross_entropy(x, t, rows))
        sp_c = env.scipy(lambda sp: lambda: (sp.logsumexp(x, axis=-1) - x[rows, t]).mean())
        roof = [] if tiny else env.read(x)
    return cy + env.tch(t_make, grad=grad) + sp_c + np_c + env.sklearn(sk_make, single=tiny) + roof


@setup_fn("nll_loss")
def _nll_loss(env, shape, dt, grad=False):
    n, c = shape
    lp = cyloss.log_softmax(env.normal(shape, dt, 3.0))
    t = env.targets(n, c)
    rows = np.arange(n)

    t_make = torch_loss(lambda F, x_, y_: F.nll_loss(x_, y_), [lp], [t], grad)

    def np_grad():
        g = np.zeros_like(lp)
        g[rows, t] = -1.0 / n
        return -lp[rows, t].mean(), g
    if grad:
        return (env.cy(lambda: cyloss.nll_loss(lp, t, return_grad=True)) + env.tch(t_make, grad=True)
                + env.numpy(np_grad) + env.copy(lp))
    return (env.cy(lambda: cyloss.nll_loss(lp, t)) + env.tch(t_make)
            + env.numpy(lambda: -lp[rows, t].mean()))


@setup_fn("bce_with_logits")
def _bce_logits(env, shape, dt, grad=False):
    x = env.normal(shape, dt, 2.0)
    y = env.uniform(shape, dt)
    n = x.size

    t_make = torch_loss(lambda F, x_, y_: F.binary_cross_entropy_with_logits(x_, y_), [x], [y], grad)

    def sk_make(skl, k):
        obj = skl.HalfBinomialLoss()
        if not grad:
            return lambda: obj(y, x, n_threads=k)

        def f():
            lv, g = obj.loss_gradient(y, x, n_threads=k)
            g *= 1.0 / n
            return lv.mean(), g
        return f

    def np_loss():
        return (np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))).mean()

    def np_grad():
        return np_loss(), (1 / (1 + np.exp(-x)) - y) / n
    if grad:
        return (env.cy(lambda: cyloss.binary_cross_entropy_with_logits(x, y, return_grad=True))
                + env.tch(t_make, grad=True) + env.numpy(np_grad) + env.sklearn(sk_make)
                + env.copy(x) + env.read(x, y))
    return (env.cy(lambda: cyloss.binary_cross_entropy_with_logits(x, y)) + env.tch(t_make)
            + env.numpy(np_loss) + env.sklearn(sk_make) + env.read(x, y))


@setup_fn("binary_cross_entropy")
def _bce(env, shape, dt):
    p = env.uniform(shape, dt, 0.01, 0.99)
    y = env.uniform(shape, dt)

    def t_make(torch, F):
        tp, ty = torch.from_numpy(p), torch.from_numpy(y)
        return lambda: F.binary_cross_entropy(tp, ty)
    return (env.cy(lambda: cyloss.binary_cross_entropy(p, y)) + env.tch(t_make)
            + env.numpy(lambda: -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()) + env.read(p, y))


@setup_fn("kl_div")
def _kl_div(env, shape, dt, grad=False):
    n = shape[0]
    lq = cyloss.log_softmax(env.normal(shape, dt, 2.0))
    p = cyloss.softmax(env.normal(shape, dt, 2.0))

    t_make = torch_loss(lambda F, q_, p_: F.kl_div(q_, p_, reduction="batchmean"), [lq], [p], grad)

    def np_loss():
        return (p * (np.log(p) - lq)).sum() / n
    if grad:
        return (env.cy(lambda: cyloss.kl_div(lq, p, reduction="batchmean", return_grad=True))
                + env.tch(t_make, grad=True) + env.numpy(lambda: (np_loss(), p * (-1.0 / n)))
                + env.copy(lq) + env.read(lq, p))
    return (env.cy(lambda: cyloss.kl_div(lq, p, reduction="batchmean")) + env.tch(t_make)
            + env.scipy(lambda sp: lambda: (sp.rel_entr(p, np.exp(lq))).sum() / n)
            + env.numpy(np_loss) + env.read(lq, p))


@setup_fn("entropy")
def _entropy(env, shape, dt):
    p = cyloss.softmax(env.normal(shape, dt, 2.0))

    def t_make(torch, F):
        tp = torch.from_numpy(p)
        return lambda: torch.special.entr(tp).sum(-1)
    return (env.cy(lambda: cyloss.entropy(p)) + env.tch(t_make)
            + env.scipy(lambda sp: lambda: sp.entr(p).sum(-1))
            + env.numpy(lambda: -(p * np.log(p)).sum(-1)) + env.read(p))


# ---- regression (elementwise)
def _np_regression(kind, a, b, delta, grad):
    n = a.size
    d = a - b
    if kind == "mse_loss":
        return ((d * d).mean(), d * (2.0 / n)) if grad else (d * d).mean()
    ad = np.abs(d)
    if kind == "l1_loss":
        return (ad.mean(), np.sign(d) / n) if grad else ad.mean()
    small = ad < delta
    if kind == "huber_loss":
        loss = np.where(small, 0.5 * d * d, delta * (ad - 0.5 * delta)).mean()
        return (loss, np.where(small, d, delta * np.sign(d)) / n) if grad else loss
    loss = np.where(small, 0.5 * d * d / delta, ad - 0.5 * delta).mean()            # smooth_l1
    return (loss, np.where(small, d / delta, np.sign(d)) / n) if grad else loss


_REG = {  # label: (cyloss function, torch.nn.functional name, sklearn class + scale, kwargs)
    "mse_loss": ("mse_loss", "mse_loss", ("HalfSquaredError", 2.0), {}),
    "l1_loss": ("l1_loss", "l1_loss", ("AbsoluteError", 1.0), {}),
    "huber_loss": ("huber_loss", "huber_loss", ("HuberLoss", 1.0), {"delta": 1.0}),
    "smooth_l1_loss": ("smooth_l1_loss", "smooth_l1_loss", None, {"beta": 1.0}),
}


def _regression(env, shape, dt, kind, grad=False):
    a = env.normal(shape, dt)
    b = env.normal(shape, dt)
    n = a.size
    cy_name, t_name, sk, kw = _REG[kind]
    cy_fn = getattr(cyloss, cy_name)
    delta = next(iter(kw.values()), 1.0)

    t_make = torch_loss(lambda F, a_, b_: getattr(F, t_name)(a_, b_, **kw), [a], [b], grad)

    def sk_make(skl, k):
        cls, scale = sk
        obj = getattr(skl, cls)(**({"delta": delta} if cls == "HuberLoss" else {}))
        if not grad:
            return (lambda: scale * obj(b, a, n_threads=k)) if scale != 1 else (lambda: obj(b, a, n_threads=k))

        def f():
            lv, g = obj.loss_gradient(b, a, n_threads=k)
            g *= scale / n
            return scale * lv.mean(), g
        return f

    out = (env.cy(lambda: cy_fn(a, b, return_grad=grad, **kw)) + env.tch(t_make, grad=grad)
           + env.numpy(lambda: _np_regression(kind, a, b, delta, grad)))
    if sk is not None:
        out += env.sklearn(sk_make)
    return out + (env.copy(a) if grad else []) + env.read(a, b)


for _kind in _REG:
    SETUPS[_kind] = (lambda env, shape, dt, _k=_kind, **kw: _regression(env, shape, dt, _k, **kw))
    SETUPS[_kind + "+grad"] = (lambda env, shape, dt, _k=_kind, **kw: _regression(env, shape, dt, _k, grad=True, **kw))
for _lab in ("cross_entropy", "nll_loss", "bce_with_logits", "kl_div"):
    SETUPS[_lab + "+grad"] = (lambda env, shape, dt, _f=SETUPS[_lab], **kw: _f(env, shape, dt, grad=True, **kw))


# ------------------------------------------------------------------ second order (issue 10)
# Gradient and diagonal Hessian per sample, what a boosting round needs: cyloss with
# reduction="sum", return_loss=False (per-sample gradient and Hessian, unscaled, no loss:
# as the peers), sklearn._loss's gradient_hessian, and NumPy written the way custom
# objectives are.  Every contender returns (grad, hess).

def np_ce_grad_hess(x, t, rows):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    g = p.copy()
    g[rows, t] -= 1.0
    return g, p * (1.0 - p)


@setup_fn("cross_entropy+hess")
def _cross_entropy_hess(env, shape, dt, out=False):
    """out: cyloss writes into preallocated grad_out / hess_out, sklearn into gradient_out /
    hessian_out; NumPy allocates as usual."""
    n, c = shape
    x = env.normal(shape, dt, 3.0)
    t = env.targets(n, c)
    rows = np.arange(n)
    tf = t.astype(x.dtype)
    g_o, h_o = (np.empty_like(x), np.empty_like(x)) if out else (None, None)

    def cy():
        return cyloss.cross_entropy(x, t, reduction="sum", return_hessian=True, grad_out=g_o, hess_out=h_o,
                                    return_loss=False)

    def sk_make(skl, k):
        obj = skl.HalfMultinomialLoss(n_classes=c)
        sg, sh = (np.empty_like(x), np.empty_like(x)) if out else (None, None)
        return lambda: obj.gradient_hessian(tf, x, gradient_out=sg, hessian_out=sh, n_threads=k)
    return (env.cy(cy) + env.numpy(lambda: np_ce_grad_hess(x, t, rows)) + env.sklearn(sk_make)
            + env.copy(x) + env.read(x))


def _np_grad_hess(kind, r, y, p):
    """The usual NumPy objective: per-sample (gradient, Hessian) of the unreduced loss."""
    if kind == "mse_loss":
        return 2.0 * (r - y), np.full_like(r, 2.0)
    if kind == "l1_loss":
        return np.sign(r - y), np.zeros_like(r)
    if kind in ("huber_loss", "smooth_l1_loss"):
        d = r - y
        small = np.abs(d) <= p
        if kind == "huber_loss":
            return np.where(small, d, p * np.sign(d)), small.astype(r.dtype)
        return np.where(small, d / p, np.sign(d)), small.astype(r.dtype) / p
    if kind == "bce_with_logits":
        s = 1.0 / (1.0 + np.exp(-r))
        return s - y, s * (1.0 - s)
    if kind == "binary_cross_entropy":
        den = np.maximum(r * (1.0 - r), 1e-12)
        return (r - y) / den, (r * r - 2.0 * r * y + y) / (den * den)
    if kind == "half_poisson":
        e = np.exp(r)
        return e - y, e
    if kind == "half_gamma":
        e = y * np.exp(-r)
        return 1.0 - e, e
    if kind == "half_tweedie":
        e1, e2 = y * np.exp((1.0 - p) * r), np.exp((2.0 - p) * r)
        return e2 - e1, (2.0 - p) * e2 - (1.0 - p) * e1
    if kind == "half_tweedie_identity":
        rp = r ** -p
        return rp * (r - y), rp * ((1.0 - p) + p * y / r)
    if kind == "pinball":
        return np.where(y >= r, -p, 1.0 - p).astype(r.dtype), np.ones_like(r)
    if kind == "exponential":
        a, b = y * np.exp(-r), (1.0 - y) * np.exp(r)
        return b - a, a + b
    raise ValueError(kind)


_HESS = {  # label: (cyloss function, its keyword, parameter, data (raw, y), sklearn class + keyword + scale)
    "mse_loss": ("mse_loss", None, 0.0, ("normal", "normal"), ("HalfSquaredError", None, 2.0)),
    "l1_loss": ("l1_loss", None, 0.0, ("normal", "normal"), None),      # sklearn's Hessian stand-in is 1
    "huber_loss": ("huber_loss", "delta", 1.0, ("normal", "normal"), ("HuberLoss", "delta", 1.0)),
    "smooth_l1_loss": ("smooth_l1_loss", "beta", 1.0, ("normal", "normal"), None),
    "bce_with_logits": ("binary_cross_entropy_with_logits", None, 0.0, ("normal", "unit"),
                        ("HalfBinomialLoss", None, 1.0)),
    "binary_cross_entropy": ("binary_cross_entropy", None, 0.0, ("prob", "unit"), None),
    "half_poisson": ("half_poisson_loss", None, 0.0, ("small", "count"), ("HalfPoissonLoss", None, 1.0)),
    "half_gamma": ("half_gamma_loss", None, 0.0, ("small", "positive"), ("HalfGammaLoss", None, 1.0)),
    "half_tweedie": ("half_tweedie_loss", "power", 1.5, ("small", "count"), ("HalfTweedieLoss", "power", 1.0)),
    "half_tweedie_identity": ("half_tweedie_loss_identity", "power", 1.5, ("positive", "count"),
                              ("HalfTweedieLossIdentity", "power", 1.0)),
    "pinball": ("pinball_loss", "quantile", 0.9, ("normal", "normal"), ("PinballLoss", "quantile", 1.0)),
    "exponential": ("exponential_loss", None, 0.0, ("small", "binary"), ("ExponentialLoss", None, 1.0)),
}


def _hess_data(env, kind, shape, dt):
    if kind == "normal":
        return env.normal(shape, dt)
    if kind == "small":
        return env.normal(shape, dt, 0.5)
    if kind == "unit":
        return env.uniform(shape, dt)
    if kind == "prob":
        return env.uniform(shape, dt, 0.02, 0.98)
    if kind == "positive":
        return env.uniform(shape, dt, 0.1, 3.0)
    if kind == "count":
        return env.rng.poisson(1.5, size=shape).astype(np.float64 if dt == "f64" else np.float32)
    if kind == "binary":
        return (env.rng.random(shape) < 0.5).astype(np.float64 if dt == "f64" else np.float32)
    raise ValueError(kind)


def _elementwise_hess(env, shape, dt, kind, out=False):
    """out: cyloss writes into preallocated grad_out / hess_out, sklearn into gradient_out /
    hessian_out (no fresh pages to fault in); NumPy allocates as usual."""
    cy_name, kw_name, param, (rk, yk), sk = _HESS[kind]
    r, y = _hess_data(env, rk, shape, dt), _hess_data(env, yk, shape, dt)
    cy_fn = getattr(cyloss, cy_name)
    kw = {kw_name: param} if kw_name else {}
    if out:
        kw.update(grad_out=np.empty_like(r), hess_out=np.empty_like(r))

    def sk_make(skl, k):
        cls, sk_kw, scale = sk
        obj = getattr(skl, cls)(**({sk_kw: param} if sk_kw else {}))
        sg, sh = (np.empty_like(r), np.empty_like(r)) if out else (None, None)
        if scale == 1.0:
            return lambda: obj.gradient_hessian(y, r, gradient_out=sg, hessian_out=sh, n_threads=k)

        def f():
            g, h = obj.gradient_hessian(y, r, gradient_out=sg, hessian_out=sh, n_threads=k)
            g *= scale
            h *= scale
            return g, h
        return f

    res = (env.cy(lambda: cy_fn(r, y, reduction="sum", return_hessian=True, return_loss=False, **kw))
           + env.numpy(lambda: _np_grad_hess(kind, r, y, param)))
    if sk is not None:
        res += env.sklearn(sk_make)
    return res + env.copy(r) + env.read(r, y)


for _kind in _HESS:
    SETUPS[_kind + "+hess"] = (lambda env, shape, dt, _k=_kind, **kw: _elementwise_hess(env, shape, dt, _k, **kw))


# ------------------------------------------------------------------ the catalogue (issue 11)
# Each: (cyloss name, data kinds of the arguments, number of differentiated arguments,
# keyword arguments, torch forward f(torch, F, *tensors), NumPy loss, NumPy gradients).
# torch / NumPy are written the way their users write them where torch has no function
# (log-cosh, pseudo-Huber, torchvision's focal loss, here in plain torch).

def _np_focal(x, t, alpha=0.25, gamma=2.0):
    p = 1.0 / (1.0 + np.exp(-x))
    ce = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
    p_t = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - p_t) ** gamma * (alpha * t + (1 - alpha) * (1 - t))
    return loss, p, ce, p_t


def _np_focal_grad(x, t, alpha=0.25, gamma=2.0):
    loss, p, ce, p_t = _np_focal(x, t, alpha, gamma)
    m = 1 - p_t
    at = alpha * t + (1 - alpha) * (1 - t)
    g = at * ((p - t) * m ** gamma + ce * gamma * m ** (gamma - 1) * p * (1 - p) * (1 - 2 * t))
    return loss.mean(), g / x.size


def _t_focal(torch, F, x, t, alpha=0.25, gamma=2.0):
    p = torch.sigmoid(x)
    ce = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    p_t = p * t + (1 - p) * (1 - t)
    return (ce * ((1 - p_t) ** gamma) * (alpha * t + (1 - alpha) * (1 - t))).mean()


def _np_gnll(x, t, v, grad):
    d = x - t
    loss = (0.5 * (np.log(v) + d * d / v)).mean()
    if not grad:
        return loss
    n = x.size
    return loss, ((d / v) / n, (0.5 * (1 / v - d * d / (v * v))) / n)


_CAT = {
    "log_cosh_loss": ("log_cosh_loss", ("normal", "normal"), 1, {},
                      lambda torch, F, a, b: torch.log(torch.cosh(a - b)).mean(),
                      lambda a, b: np.log(np.cosh(a - b)).mean(),
                      lambda a, b: (np.log(np.cosh(a - b)).mean(), np.tanh(a - b) / a.size)),
    "pseudo_huber_loss": ("pseudo_huber_loss", ("normal", "normal"), 1, {"delta": 1.0},
                          lambda torch, F, a, b: (torch.sqrt(1 + (a - b) ** 2) - 1).mean(),
                          lambda a, b: (np.sqrt(1 + (a - b) ** 2) - 1).mean(),
                          lambda a, b: ((np.sqrt(1 + (a - b) ** 2) - 1).mean(),
                                        (a - b) / np.sqrt(1 + (a - b) ** 2) / a.size)),
    "soft_margin_loss": ("soft_margin_loss", ("normal", "sign"), 1, {},
                         lambda torch, F, a, b: F.soft_margin_loss(a, b),
                         lambda a, b: np.log1p(np.exp(-a * b)).mean(),
                         lambda a, b: (np.log1p(np.exp(-a * b)).mean(), -b / (1 + np.exp(a * b)) / a.size)),
    "hinge_embedding_loss": ("hinge_embedding_loss", ("normal", "sign"), 1, {},
                             lambda torch, F, a, b: F.hinge_embedding_loss(a, b),
                             lambda a, b: np.where(b == 1, a, np.maximum(0, 1 - a)).mean(),
                             lambda a, b: (np.where(b == 1, a, np.maximum(0, 1 - a)).mean(),
                                           np.where(b == 1, 1.0, np.where(1 - a >= 0, -1.0, 0.0)).astype(a.dtype)
                                           / a.size)),  # (y is +-1 here)
    "margin_ranking_loss": ("margin_ranking_loss", ("normal", "normal", "sign"), 2, {},
                            lambda torch, F, a, b, y: F.margin_ranking_loss(a, b, y),
                            lambda a, b, y: np.maximum(0, -y * (a - b)).mean(),
                            lambda a, b, y: (np.maximum(0, -y * (a - b)).mean(),
                                             (np.where(-y * (a - b) >= 0, -y, 0) / a.size,
                                              np.where(-y * (a - b) >= 0, y, 0) / a.size))),
    "poisson_nll_loss": ("poisson_nll_loss", ("small", "count"), 1, {},
                         lambda torch, F, a, b: F.poisson_nll_loss(a, b),
                         lambda a, b: (np.exp(a) - b * a).mean(),
                         lambda a, b: ((np.exp(a) - b * a).mean(), (np.exp(a) - b) / a.size)),
    "gaussian_nll_loss": ("gaussian_nll_loss", ("normal", "normal", "positive"), 2, {},
                          lambda torch, F, a, b, v: F.gaussian_nll_loss(a, b, v),
                          lambda a, b, v: _np_gnll(a, b, v, False),
                          lambda a, b, v: _np_gnll(a, b, v, True)),
    "sigmoid_focal_loss": ("sigmoid_focal_loss", ("normal", "unit"), 1, {"reduction": "mean"},
                           _t_focal, lambda a, b: _np_focal(a, b)[0].mean(), _np_focal_grad),
}


def _catalogue(env, shape, dt, kind, grad=False):
    cy_name, kinds, ndiff, kw, t_fwd, np_loss, np_grad = _CAT[kind]
    args = [env.normal(shape, dt, 2.0) if k == "normal" else
            np.where(env.normal(shape, dt) >= 0, 1, -1).astype(np.float32 if dt == "f32" else np.float64)
            if k == "sign" else _hess_data(env, k, shape, dt) for k in kinds]
    cy_fn = getattr(cyloss, cy_name)

    def t_make(torch, F):
        if not grad:
            ts = [torch.from_numpy(a) for a in args]
            return lambda: t_fwd(torch, F, *ts)
        leaves = [torch.from_numpy(a.copy()).requires_grad_() for a in args[:ndiff]]
        rest = [torch.from_numpy(a) for a in args[ndiff:]]
        if kind == "gaussian_nll_loss":  # var is differentiated too: (input, var) leaves
            leaves = [torch.from_numpy(args[0].copy()).requires_grad_(),
                      torch.from_numpy(args[2].copy()).requires_grad_()]
            rest = [torch.from_numpy(args[1])]

        def fwd_bwd():
            for lf in leaves:
                lf.grad = None
            if kind == "gaussian_nll_loss":
                loss = t_fwd(torch, F, leaves[0], rest[0], leaves[1])
            else:
                loss = t_fwd(torch, F, *leaves, *rest)
            loss.backward()
            gs = tuple(lf.grad for lf in leaves)
            return loss, (gs if ndiff > 1 else gs[0])
        return fwd_bwd

    res = (env.cy(lambda: cy_fn(*args, return_grad=grad, **kw)) + env.tch(t_make, grad=grad)
           + env.numpy(lambda: (np_grad if grad else np_loss)(*args)))
    return res + (env.copy(args[0]) if grad else []) + env.read(*args)


for _kind in _CAT:
    SETUPS[_kind] = (lambda env, shape, dt, _k=_kind, **kw: _catalogue(env, shape, dt, _k, **kw))
    SETUPS[_kind + "+grad"] = (lambda env, shape, dt, _k=_kind, **kw: _catalogue(env, shape, dt, _k, grad=True, **kw))


@setup_fn("multi_margin_loss")
def _multi_margin(env, shape, dt, grad=False):
    n, c = shape
    x = env.normal(shape, dt)
    t = env.targets(n, c)
    rows = np.arange(n)

    t_make = torch_loss(lambda F, x_, y_: F.multi_margin_loss(x_, y_), [x], [t], grad)

    def np_fn():
        z = np.maximum(0, 1.0 - x[rows, t][:, None] + x)
        z[rows, t] = 0
        loss = z.sum() / (n * c)
        if not grad:
            return loss
        g = (z > 0).astype(x.dtype) / (n * c)
        g[rows, t] = -g.sum(axis=1)
        return loss, g
    return (env.cy(lambda: cyloss.multi_margin_loss(x, t, return_grad=grad)) + env.tch(t_make, grad=grad)
            + env.numpy(np_fn) + (env.copy(x) if grad else []) + env.read(x))


@setup_fn("multilabel_soft_margin_loss")
def _multilabel_soft_margin(env, shape, dt, grad=False):
    x = env.normal(shape, dt, 2.0)
    y = (env.rng.random(shape) < 0.3).astype(x.dtype)
    n, c = shape

    t_make = torch_loss(lambda F, x_, y_: F.multilabel_soft_margin_loss(x_, y_), [x], [y], grad)

    def np_fn():
        loss = (np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))).mean()
        return (loss, (1 / (1 + np.exp(-x)) - y) / (n * c)) if grad else loss
    return (env.cy(lambda: cyloss.multilabel_soft_margin_loss(x, y, return_grad=grad)) + env.tch(t_make, grad=grad)
            + env.numpy(np_fn) + (env.copy(x) if grad else []) + env.read(x, y))


SETUPS["multilabel_soft_margin_loss+grad"] = (lambda env, shape, dt, **kw:
                                              _multilabel_soft_margin(env, shape, dt, grad=True, **kw))
@setup_fn("cosine_embedding_loss")
def _cosine_embedding(env, shape, dt, grad=False):
    a, b = env.normal(shape, dt), env.normal(shape, dt)
    y = np.where(env.rng.random(shape[0]) < 0.5, 1.0, -1.0).astype(a.dtype)

    t_make = torch_loss(lambda F, a_, b_, y_: F.cosine_embedding_loss(a_, b_, y_), [a, b], [y], grad)

    def np_fn():
        p, sa, sb = (a * b).sum(1), (a * a).sum(1) + 1e-12, (b * b).sum(1) + 1e-12
        den = np.sqrt(sa * sb)
        cs = p / den
        loss = np.where(y == 1, 1 - cs, np.maximum(0, cs)).mean()
        if not grad:
            return loss
        s = np.where(y == 1, -1.0, (cs >= 0).astype(a.dtype)) / len(y)
        return loss, ((s / den)[:, None] * b - (s * cs / sa)[:, None] * a,
                      (s / den)[:, None] * a - (s * cs / sb)[:, None] * b)
    return (env.cy(lambda: cyloss.cosine_embedding_loss(a, b, y, return_grad=grad)) + env.tch(t_make, grad=grad)
            + env.numpy(np_fn) + (env.copy(a) if grad else []) + env.read(a, b))


SETUPS["cosine_embedding_loss+grad"] = (lambda env, shape, dt, **kw: _cosine_embedding(env, shape, dt, grad=True, **kw))
@setup_fn("triplet_margin_loss")
def _triplet_margin(env, shape, dt, grad=False):
    a, p, n = env.normal(shape, dt), env.normal(shape, dt), env.normal(shape, dt)

    t_make = torch_loss(lambda F, a_, p_, n_: F.triplet_margin_loss(a_, p_, n_), [a, p, n], (), grad)

    def np_fn():
        vp, vn = a - p + 1e-6, a - n + 1e-6
        dp, dn = np.sqrt((vp * vp).sum(1)), np.sqrt((vn * vn).sum(1))
        z = 1.0 + dp - dn
        loss = np.maximum(z, 0).mean()
        if not grad:
            return loss
        s = (z > 0) / len(z)
        up, un = (s / dp)[:, None] * vp, (s / dn)[:, None] * vn
        return loss, (up - un, -up, un)
    return (env.cy(lambda: cyloss.triplet_margin_loss(a, p, n, return_grad=grad)) + env.tch(t_make, grad=grad)
            + env.numpy(np_fn) + (env.copy(a) if grad else []) + env.read(a, p, n))


SETUPS["triplet_margin_loss+grad"] = (lambda env, shape, dt, **kw: _triplet_margin(env, shape, dt, grad=True, **kw))
@setup_fn("ctc_loss")
def _ctc(env, shape, dt, grad=False, s=40, blank_boost=0.0):
    """Random log_softmax inputs; blank_boost > 0 adds that to the blank's logit first (the
    peaked distributions of a trained model, where cyloss's scaled-probability pass gives way to
    its exact log-space pass)."""
    t_max, n, c = shape
    x = env.normal(shape, dt)
    z = x.astype(np.float64)
    z[..., 0] += blank_boost
    lp = (z - np.log(np.exp(z).sum(-1, keepdims=True))).astype(x.dtype)
    targets = env.rng.integers(1, c, size=(n, s))
    il = np.full(n, t_max, dtype=np.int64)
    tl = np.full(n, s, dtype=np.int64)

    t_make = torch_loss(lambda F, *a_: F.ctc_loss(*a_), [lp], [targets, il, tl], grad)

    def np_fn():
        """The log-space forward-backward, vectorized over the batch and the states, one
        Python step per time step (every sample has the full input and target lengths)."""
        x64 = lp.astype(np.float64)
        ns = 2 * s + 1
        ext = np.zeros((n, ns), dtype=np.int64)
        ext[:, 1::2] = targets
        skip = np.zeros((n, ns), dtype=bool)
        skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
        xs = np.take_along_axis(x64, np.broadcast_to(ext, (t_max, n, ns)), axis=2)
        la = np.full((t_max, n, ns), -np.inf)
        la[0, :, :2] = xs[0, :, :2]
        for t in range(1, t_max):
            p = la[t - 1]
            a = p.copy()
            a[:, 1:] = np.logaddexp(a[:, 1:], p[:, :-1])
            a[:, 2:] = np.where(skip[:, 2:], np.logaddexp(a[:, 2:], p[:, :-2]), a[:, 2:])
            la[t] = a + xs[t]
        nll = -np.logaddexp(la[-1, :, -1], la[-1, :, -2])
        loss = (nll / s).mean()
        if not grad:
            return loss
        lb = np.full((t_max, n, ns), -np.inf)
        lb[-1, :, -2:] = xs[-1, :, -2:]
        for t in range(t_max - 2, -1, -1):
            q = lb[t + 1]
            a = q.copy()
            a[:, :-1] = np.logaddexp(a[:, :-1], q[:, 1:])
            a[:, :-2] = np.where(skip[:, 2:], np.logaddexp(a[:, :-2], q[:, 2:]), a[:, :-2])
            lb[t] = a + xs[t]
        occ = np.exp(la + lb - xs + nll[None, :, None])  # state posteriors
        onehot = np.zeros((n, ns, c))
        np.put_along_axis(onehot, ext[:, :, None], 1.0, axis=2)
        g = (np.exp(x64) - np.einsum("tns,nsc->tnc", occ, onehot)) / (s * n)
        return loss, g.astype(lp.dtype)
    return (env.cy(lambda: cyloss.ctc_loss(lp, targets, il, tl, return_grad=grad)) + env.tch(t_make, grad=grad)
            + env.numpy(np_fn) + (env.copy(lp) if grad else []) + env.read(lp))


SETUPS["ctc_loss+grad"] = (lambda env, shape, dt, **kw: _ctc(env, shape, dt, grad=True, **kw))
SETUPS["ctc_loss peaked"] = (lambda env, shape, dt, **kw: _ctc(env, shape, dt, blank_boost=40.0, **kw))
SETUPS["ctc_loss+grad peaked"] = (lambda env, shape, dt, **kw: _ctc(env, shape, dt, grad=True, blank_boost=40.0,
                                                                    **kw))
@setup_fn("multilabel_margin_loss")
def _multilabel_margin(env, shape, dt, grad=False):
    n, c = shape
    x = env.normal(shape, dt)
    t = np.full(shape, -1, dtype=np.int64)
    t[:, :4] = np.argsort(env.rng.random((n, c)), axis=1)[:, :4]  # 4 labels per sample
    rows = np.arange(n)[:, None]

    t_make = torch_loss(lambda F, x_, y_: F.multilabel_margin_loss(x_, y_), [x], [t], grad)

    def np_fn():
        lab = t[:, :4]
        member = np.zeros(shape, dtype=bool)
        member[rows, lab] = True
        z = 1.0 - x[rows, lab][:, :, None] + x[:, None, :]       # (n, 4, c)
        act = (z > 0) & ~member[:, None, :]
        loss = np.where(act, z, 0).sum() / (n * c)
        if not grad:
            return loss
        g = act.sum(axis=1).astype(x.dtype) / (n * c)
        np.subtract.at(g, (np.repeat(np.arange(n), 4), lab.ravel()), act.sum(axis=2).ravel() / (n * c))
        return loss, g
    return (env.cy(lambda: cyloss.multilabel_margin_loss(x, t, return_grad=grad)) + env.tch(t_make, grad=grad)
            + env.numpy(np_fn) + (env.copy(x) if grad else []) + env.read(x))


SETUPS["multilabel_margin_loss+grad"] = (lambda env, shape, dt, **kw: _multilabel_margin(env, shape, dt, grad=True, **kw))
SETUPS["multi_margin_loss+grad"] = (lambda env, shape, dt, **kw: _multi_margin(env, shape, dt, grad=True, **kw))


# ------------------------------------------------------------------ the list
def _build():
    F32, F64 = "f32", "f64"
    N7 = (10**7,)
    for shape, out in (((4096, 1000), True), ((512, 32000), True), ((131072, 10), False)):
        for dt in (F32, F64):
            register("softmax", "softmax", shape, dt, out=out, quick=dt == F32 and shape[1] != 32000)
    for dt in (F32, F64):
        register("log_softmax", "log_softmax", (4096, 1000), dt, out=True)
    for dt in (F32, F64):
        register("logsumexp", "logsumexp", (4096, 1000), dt, quick=dt == F32)
    register("softmax_backward", "softmax_backward", (4096, 1000), F32)
    register("log_softmax_backward", "log_softmax_backward", (4096, 1000), F32)
    for shape in ((4096, 1000), (512, 32000), (131072, 10)):
        for dt in (F32, F64):
            q = dt == F32 and shape == (4096, 1000)
            register("cross_entropy", "cross_entropy", shape, dt, quick=q)
            register("cross_entropy", "cross_entropy+grad", shape, dt, quick=q)
            if dt == F32 and shape[1] >= 1000:   # the gradient written into a preallocated array
                register("cross_entropy", "cross_entropy+grad", shape, dt, grad_out=True)
    register("cross_entropy", "cross_entropy+grad", (16384, 1000), F32)   # thread scaling
    register("nll_loss", "nll_loss", (4096, 1000), F32)
    register("nll_loss", "nll_loss+grad", (4096, 1000), F32)
    register("binary_cross_entropy_with_logits", "bce_with_logits", N7, F32, quick=True)
    register("binary_cross_entropy_with_logits", "bce_with_logits+grad", N7, F32)
    register("binary_cross_entropy_with_logits", "bce_with_logits", N7, F64)
    register("binary_cross_entropy", "binary_cross_entropy", N7, F32)
    register("kl_div", "kl_div", (4096, 1000), F32)
    register("kl_div", "kl_div+grad", (4096, 1000), F32)
    register("entropy", "entropy", (4096, 1000), F32)
    register("entropy", "entropy", (4096, 1000), F64)
    for kind in _REG:
        register(kind, kind, N7, F32, quick=kind == "huber_loss")
    register("mse_loss", "mse_loss+grad", N7, F32)
    register("huber_loss", "huber_loss+grad", N7, F32, quick=True)
    register("mse_loss", "mse_loss", N7, F64)
    register("huber_loss", "huber_loss+grad", N7, F64)
    for dt in (F32, F64):                                  # second order (issue 10)
        register("cross_entropy", "cross_entropy+hess", (10**6, 10), dt, quick=dt == F32)
        register("cross_entropy", "cross_entropy+hess", (10**6, 10), dt, out=True)
        for kind in _HESS:
            register(_HESS[kind][0], kind + "+hess", N7, dt, quick=dt == F32 and kind == "half_poisson")
            register(_HESS[kind][0], kind + "+hess", N7, dt, out=True)
    for kind in _CAT:                                      # the catalogue (issue 11)
        register(_CAT[kind][0], kind, N7, F32, quick=kind == "soft_margin_loss")
        register(_CAT[kind][0], kind + "+grad", N7, F32)
    register("multi_margin_loss", "multi_margin_loss", (4096, 1000), F32)
    register("multi_margin_loss", "multi_margin_loss+grad", (4096, 1000), F32)
    register("multilabel_soft_margin_loss", "multilabel_soft_margin_loss", (4096, 1000), F32)
    register("multilabel_soft_margin_loss", "multilabel_soft_margin_loss+grad", (4096, 1000), F32)
    register("cosine_embedding_loss", "cosine_embedding_loss", (4096, 1000), F32)
    register("cosine_embedding_loss", "cosine_embedding_loss+grad", (4096, 1000), F32)
    register("triplet_margin_loss", "triplet_margin_loss", (4096, 1000), F32)
    register("triplet_margin_loss", "triplet_margin_loss+grad", (4096, 1000), F32)
    register("ctc_loss", "ctc_loss", (200, 32, 50), F32)
    # torch runs the CTC recursion in float32 (cyloss in float64): its float32 gradient is off by
    # up to ~1e-3 of the largest entry, beyond the default float32 check
    register("ctc_loss", "ctc_loss+grad", (200, 32, 50), F32, rtol=2e-3)
    register("ctc_loss", "ctc_loss peaked", (200, 32, 50), F32, rtol=2e-3)
    register("ctc_loss", "ctc_loss+grad peaked", (200, 32, 50), F32, rtol=2e-3)
    register("multilabel_margin_loss", "multilabel_margin_loss", (4096, 1000), F32)
    register("multilabel_margin_loss", "multilabel_margin_loss+grad", (4096, 1000), F32)
    register("softmax", "softmax", (1, 10), F64, tiny=True, quick=True)
    register("logsumexp", "logsumexp", (1, 10), F64, tiny=True)
    register("cross_entropy", "cross_entropy", (1, 10), F64, tiny=True, quick=True)
    register("cross_entropy", "cross_entropy+grad", (1, 10), F64, tiny=True)


_build()
