# cython: language_level=3
"""Thin Cython wrappers over the C kernels (csrc/).

Each function takes typed (const) memoryviews, makes exactly one C call with the
GIL released, and turns a C status into a Python exception (KernelError, which
the facade in cyloss/ rewrites into a message naming the argument).  Arrays here
are already validated, C-contiguous, of one float type, and shaped as the kernel
wants: row-wise kernels see (rows, classes); elementwise kernels see flat arrays.
Optional arrays are passed as None.  No loops over data in this file.
"""
from libc.stdint cimport int64_t
from libc.stddef cimport ptrdiff_t
from cython cimport floating
from cpython.pycapsule cimport PyCapsule_New
cimport ccyloss as C

# cdef kernels for other Cython modules (declared in cyloss/_core.pxd, re-exported by
# cyloss/kernels.pxd) and the C-API capsule for C extensions (cyloss.h, CYLOSS_IMPORT_CAPI).
include "_capi.pxi"
_C_API = PyCapsule_New(<void *>C.cyl_api(), b"cyloss._core._C_API", NULL)


class KernelError(Exception):
    """A C kernel refused its data: args are (status, index)."""


cdef inline int _check(int status, ptrdiff_t index) except -1:
    if status == C.CYL_ERR_NOMEM:
        raise MemoryError("cyloss: scratch allocation failed")
    if status != 0:
        raise KernelError(status, index)
    return 0


# Data pointers of (possibly None or empty) memoryviews.
cdef inline const floating *_c1(const floating[::1] a) noexcept:
    if a is None or a.shape[0] == 0:
        return NULL
    return &a[0]

cdef inline floating *_w1(floating[::1] a) noexcept:
    if a is None or a.shape[0] == 0:
        return NULL
    return &a[0]

cdef inline const floating *_c2(const floating[:, ::1] a) noexcept:
    if a is None or a.shape[0] == 0 or a.shape[1] == 0:
        return NULL
    return &a[0, 0]

cdef inline floating *_w2(floating[:, ::1] a) noexcept:
    if a is None or a.shape[0] == 0 or a.shape[1] == 0:
        return NULL
    return &a[0, 0]

cdef inline const int64_t *_ci(const int64_t[::1] a) noexcept:
    if a.shape[0] == 0:
        return NULL
    return &a[0]


def init(int limit=0):
    """Choose the CPU target (done once at import): limit 0 = the fastest the CPU
    supports, 1 = the baseline, 2 = at most AVX2."""
    C.cyl_init(limit)
    return C.cyl_cpu_target().decode()


def cpu_target():
    return C.cyl_cpu_target().decode()


def cpu_targets_built():
    return C.cyl_cpu_targets_built().decode()


# Thread settings (validated by cyloss/_threads.py; the C functions only range-check).
def set_num_threads(int n):
    """The process setting (0: not set)."""
    if C.cyl_set_num_threads(n) != 0:
        raise ValueError(f"number of threads must be in [0, 1024], got {n}")


def get_num_threads_setting():
    return C.cyl_get_num_threads_setting()


def set_thread_num_threads(int n):
    """The calling thread's setting (0: not set)."""
    if C.cyl_set_thread_num_threads(n) != 0:
        raise ValueError(f"number of threads must be in [0, 1024], got {n}")


def get_thread_num_threads():
    return C.cyl_get_thread_num_threads()


def set_thread_defaults(int env_threads, int hw_threads):
    if C.cyl_set_thread_defaults(env_threads, hw_threads) != 0:
        raise ValueError(f"thread defaults out of range: {env_threads}, {hw_threads}")


def get_num_threads():
    """Threads a large call made from this thread uses."""
    return C.cyl_get_num_threads()


def threads_enabled():
    return bool(C.cyl_threads_enabled())


def last_call_threads():
    """Threads the calling thread's last kernel call ran on (for tests)."""
    return C.cyl_last_call_threads()


# Shape checks of the wrappers below: the kernels trust n and c, taken from the first
# array, so every other array is checked against them here (a mis-sized output would
# be written out of bounds).
cdef inline int _want1(ptrdiff_t got, ptrdiff_t n, str name) except -1:
    if got != n:
        raise ValueError(f"cyloss._core: {name} has length {got}, expected {n}")
    return 0


cdef inline int _want2(ptrdiff_t got0, ptrdiff_t got1, ptrdiff_t n, ptrdiff_t c, str name) except -1:
    if got0 != n or got1 != c:
        raise ValueError(f"cyloss._core: {name} has shape ({got0}, {got1}), expected ({n}, {c})")
    return 0


def softmax(const floating[:, ::1] x, floating[:, ::1] y, double inv_temperature, bint log=False):
    """y = softmax (or log_softmax) of the rows of x * inv_temperature."""
    cdef ptrdiff_t n = x.shape[0], c = x.shape[1]
    _want2(y.shape[0], y.shape[1], n, c, "y")
    cdef const floating *px = _c2(x)
    cdef floating *py = _w2(y)
    cdef int st
    with nogil:
        if floating is float:
            st = (C.cyl_log_softmax_f32 if log else C.cyl_softmax_f32)(n, c, px, c, py, c, inv_temperature)
        else:
            st = (C.cyl_log_softmax_f64 if log else C.cyl_softmax_f64)(n, c, px, c, py, c, inv_temperature)
    _check(st, -1)


def logsumexp(const floating[:, ::1] x, const floating[:, ::1] b, floating[::1] out, floating[::1] sign):
    """out[i] = log|sum_j b_ij exp(x_ij)|; sign (or None)."""
    cdef ptrdiff_t n = x.shape[0], c = x.shape[1]
    if b is not None:
        _want2(b.shape[0], b.shape[1], n, c, "b")
    _want1(out.shape[0], n, "out")
    if sign is not None:
        _want1(sign.shape[0], n, "sign")
    cdef const floating *px = _c2(x)
    cdef const floating *pb = _c2(b)
    cdef floating *po = _w1(out)
    cdef floating *ps = _w1(sign)
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_logsumexp_f32(n, c, px, c, pb, c, po, ps)
        else:
            st = C.cyl_logsumexp_f64(n, c, px, c, pb, c, po, ps)
    _check(st, -1)


def logsumexp_partial(const floating[:, ::1] x, double[::1] m, double[::1] s):
    """m[i] = max_j x_ij, s[i] = sum_j exp(x_ij - m[i]) in double (cyl_logsumexp_partial)."""
    cdef ptrdiff_t n = x.shape[0], c = x.shape[1]
    _want1(m.shape[0], n, "m")
    _want1(s.shape[0], n, "s")
    cdef const floating *px = _c2(x)
    cdef double *pm = &m[0] if n > 0 else NULL
    cdef double *ps = &s[0] if n > 0 else NULL
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_logsumexp_partial_f32(n, c, px, c, pm, ps)
        else:
            st = C.cyl_logsumexp_partial_f64(n, c, px, c, pm, ps)
    _check(st, -1)


def cross_entropy_partial(const floating[:, ::1] x, const int64_t[::1] target, int64_t class_offset,
                          const floating[::1] weight, double[::1] m, double[::1] s, double[::1] x_target,
                          unsigned char[::1] found, double[::1] x_sum):
    """A class shard's pieces of cross-entropy (cyl_cross_entropy_partial); weight and x_sum
    may be None."""
    cdef ptrdiff_t n = x.shape[0], c = x.shape[1]
    _want1(target.shape[0], n, "target")
    for arr, nm in ((m, "m"), (s, "s"), (x_target, "x_target")):
        _want1(arr.shape[0], n, nm)
    _want1(found.shape[0], n, "found")
    if x_sum is not None:
        _want1(x_sum.shape[0], n, "x_sum")
    if weight is not None:
        _want1(weight.shape[0], c, "weight")
    cdef const floating *px = _c2(x)
    cdef const floating *pw = &weight[0] if weight is not None and c > 0 else NULL
    cdef const int64_t *pt = &target[0] if n > 0 else NULL
    cdef double *pm = &m[0] if n > 0 else NULL
    cdef double *ps = &s[0] if n > 0 else NULL
    cdef double *pxt = &x_target[0] if n > 0 else NULL
    cdef unsigned char *pf = &found[0] if n > 0 else NULL
    cdef double *pxs = &x_sum[0] if x_sum is not None and n > 0 else NULL
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_cross_entropy_partial_f32(n, c, px, c, pt, class_offset, pw, pm, ps, pxt, pf, pxs)
        else:
            st = C.cyl_cross_entropy_partial_f64(n, c, px, c, pt, class_offset, pw, pm, ps, pxt, pf, pxs)
    _check(st, -1)


def softmax_backward(const floating[:, ::1] y, const floating[:, ::1] g, floating[:, ::1] out, bint log=False):
    """Vector-Jacobian product of softmax (log=False) or log_softmax (log=True), row-wise."""
    cdef ptrdiff_t n = y.shape[0], c = y.shape[1]
    _want2(g.shape[0], g.shape[1], n, c, "g")
    _want2(out.shape[0], out.shape[1], n, c, "out")
    cdef const floating *py = _c2(y)
    cdef const floating *pg = _c2(g)
    cdef floating *po = _w2(out)
    cdef int st
    with nogil:
        if floating is float:
            st = (C.cyl_log_softmax_backward_f32 if log else C.cyl_softmax_backward_f32)(n, c, py, c, pg, c, po, c)
        else:
            st = (C.cyl_log_softmax_backward_f64 if log else C.cyl_softmax_backward_f64)(n, c, py, c, pg, c, po, c)
    _check(st, -1)


def entropy(const floating[:, ::1] p, floating[::1] out):
    cdef ptrdiff_t n = p.shape[0], c = p.shape[1]
    _want1(out.shape[0], n, "out")
    cdef const floating *pp = _c2(p)
    cdef floating *po = _w1(out)
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_entropy_f32(n, c, pp, c, po)
        else:
            st = C.cyl_entropy_f64(n, c, pp, c, po)
    _check(st, -1)


def class_weight_sum(const int64_t[::1] target, const floating[::1] weight, ptrdiff_t c,
                     int64_t ignore_index, floating dtype_tag):
    """Check every class target and return the sum of weight[t] over the kept rows."""
    cdef ptrdiff_t n = target.shape[0], err = -1
    if c < 0:
        raise ValueError(f"cyloss._core: c must be >= 0, got {c}")
    if weight is not None:
        _want1(weight.shape[0], c, "weight")
    cdef const int64_t *pt = _ci(target)
    cdef const floating *pw = _c1(weight)
    cdef double wsum = 0.0
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_class_weight_sum_f32(n, c, pt, pw, ignore_index, &wsum, &err)
        else:
            st = C.cyl_class_weight_sum_f64(n, c, pt, pw, ignore_index, &wsum, &err)
    _check(st, err)
    return wsum


cdef int _check_hess2(floating[:, ::1] hess, bint has_grad, ptrdiff_t n, ptrdiff_t c) except -1:
    if hess is not None:
        if not has_grad:
            raise ValueError("cyloss._core: hess needs grad")
        _want2(hess.shape[0], hess.shape[1], n, c, "hess")
    return 0


cdef int _check_hess1(floating[::1] hess, bint has_grad, ptrdiff_t n) except -1:
    if hess is not None:
        if not has_grad:
            raise ValueError("cyloss._core: hess needs grad")
        _want1(hess.shape[0], n, "hess")
    return 0


cdef int _check_class_args(ptrdiff_t n, ptrdiff_t c, const int64_t[::1] target, const floating[::1] weight,
                           floating[::1] loss) except -1:
    _want1(target.shape[0], n, "target")
    if weight is not None:
        _want1(weight.shape[0], c, "weight")
    if loss is not None:
        _want1(loss.shape[0], n, "loss")
    return 0


def cross_entropy(const floating[:, ::1] x, const int64_t[::1] target, const floating[::1] weight,
                  int64_t ignore_index, double label_smoothing, double grad_scale,
                  floating[::1] loss, floating[:, ::1] grad, floating[:, ::1] hess=None):
    """Class-target cross-entropy: per-row losses into loss (or None), the gradient of
    grad_scale * sum(loss) into grad (or None) and the diagonal of its Hessian into hess
    (or None; needs grad); returns the sum of the losses."""
    cdef ptrdiff_t n = x.shape[0], c = x.shape[1], err = -1
    _check_class_args(n, c, target, weight, loss)
    if grad is not None:
        _want2(grad.shape[0], grad.shape[1], n, c, "grad")
    _check_hess2(hess, grad is not None, n, c)
    cdef floating *ph = _w2(hess)
    cdef const floating *px = _c2(x)
    cdef const int64_t *pt = _ci(target)
    cdef const floating *pw = _c1(weight)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w2(grad)
    cdef double total = 0.0
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_cross_entropy_loss_grad_hess_f32(n, c, px, c, pt, pw, ignore_index, label_smoothing,
                                                        grad_scale, pl, &total, pg, c, ph, c, &err)
        else:
            st = C.cyl_cross_entropy_loss_grad_hess_f64(n, c, px, c, pt, pw, ignore_index, label_smoothing,
                                                        grad_scale, pl, &total, pg, c, ph, c, &err)
    _check(st, err)
    return total


def cross_entropy_prob(const floating[:, ::1] x, const floating[:, ::1] p, const floating[::1] weight,
                       double label_smoothing, double grad_scale, floating[::1] loss, floating[:, ::1] grad,
                       floating[:, ::1] hess=None):
    """Probability-target cross-entropy; returns the sum of the losses."""
    cdef ptrdiff_t n = x.shape[0], c = x.shape[1]
    _want2(p.shape[0], p.shape[1], n, c, "p")
    if weight is not None:
        _want1(weight.shape[0], c, "weight")
    if loss is not None:
        _want1(loss.shape[0], n, "loss")
    if grad is not None:
        _want2(grad.shape[0], grad.shape[1], n, c, "grad")
    _check_hess2(hess, grad is not None, n, c)
    cdef floating *ph = _w2(hess)
    cdef const floating *px = _c2(x)
    cdef const floating *pp = _c2(p)
    cdef const floating *pw = _c1(weight)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w2(grad)
    cdef double total = 0.0
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_cross_entropy_prob_loss_grad_hess_f32(n, c, px, c, pp, c, pw, label_smoothing, grad_scale,
                                                             pl, &total, pg, c, ph, c)
        else:
            st = C.cyl_cross_entropy_prob_loss_grad_hess_f64(n, c, px, c, pp, c, pw, label_smoothing, grad_scale,
                                                             pl, &total, pg, c, ph, c)
    _check(st, -1)
    return total


def nll_loss(const floating[:, ::1] x, const int64_t[::1] target, const floating[::1] weight,
             int64_t ignore_index, double grad_scale, floating[::1] loss, floating[:, ::1] grad):
    cdef ptrdiff_t n = x.shape[0], c = x.shape[1], err = -1
    _check_class_args(n, c, target, weight, loss)
    if grad is not None:
        _want2(grad.shape[0], grad.shape[1], n, c, "grad")
    cdef const floating *px = _c2(x)
    cdef const int64_t *pt = _ci(target)
    cdef const floating *pw = _c1(weight)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w2(grad)
    cdef double total = 0.0
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_nll_loss_grad_f32(n, c, px, c, pt, pw, ignore_index, grad_scale, pl, &total, pg, c, &err)
        else:
            st = C.cyl_nll_loss_grad_f64(n, c, px, c, pt, pw, ignore_index, grad_scale, pl, &total, pg, c, &err)
    _check(st, err)
    return total


def multi_margin(const floating[:, ::1] x, const int64_t[::1] target, const floating[::1] weight, int p,
                 double margin, double grad_scale, floating[::1] loss, floating[:, ::1] grad,
                 floating[:, ::1] hess=None):
    """hess (the Hessian's diagonal) needs grad."""
    cdef ptrdiff_t n = x.shape[0], c = x.shape[1], err = -1
    _check_class_args(n, c, target, weight, loss)
    if grad is not None:
        _want2(grad.shape[0], grad.shape[1], n, c, "grad")
    _check_hess2(hess, grad is not None, n, c)
    cdef const floating *px = _c2(x)
    cdef const int64_t *pt = _ci(target)
    cdef const floating *pw = _c1(weight)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w2(grad)
    cdef floating *ph = _w2(hess)
    cdef double total = 0.0
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_multi_margin_loss_grad_hess_f32(n, c, px, c, pt, pw, p, margin, grad_scale, pl, &total, pg,
                                                       c, ph, c, &err)
        else:
            st = C.cyl_multi_margin_loss_grad_hess_f64(n, c, px, c, pt, pw, p, margin, grad_scale, pl, &total, pg,
                                                       c, ph, c, &err)
    _check(st, err)
    return total


def multilabel_soft_margin(const floating[:, ::1] x, const floating[:, ::1] y, const floating[:, ::1] weight,
                           double grad_scale, floating[::1] loss, floating[:, ::1] grad, floating[:, ::1] hess=None):
    """weight: None, (1, c) (one vector for every row) or (n, c); hess needs grad."""
    cdef ptrdiff_t n = x.shape[0], c = x.shape[1], ldw = 0
    _want2(y.shape[0], y.shape[1], n, c, "y")
    if weight is not None:
        if weight.shape[1] != c or (weight.shape[0] != 1 and weight.shape[0] != n):
            raise ValueError("cyloss._core: weight must be (1, c) or (n, c)")
        ldw = c if weight.shape[0] == n and n != 1 else 0
    if loss is not None:
        _want1(loss.shape[0], n, "loss")
    if grad is not None:
        _want2(grad.shape[0], grad.shape[1], n, c, "grad")
    _check_hess2(hess, grad is not None, n, c)
    cdef const floating *px = _c2(x)
    cdef const floating *py = _c2(y)
    cdef const floating *pw = _c2(weight)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w2(grad)
    cdef floating *ph = _w2(hess)
    cdef double total = 0.0
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_multilabel_soft_margin_loss_grad_hess_f32(n, c, px, c, py, c, pw, ldw, grad_scale, pl, &total,
                                                                 pg, c, ph, c)
        else:
            st = C.cyl_multilabel_soft_margin_loss_grad_hess_f64(n, c, px, c, py, c, pw, ldw, grad_scale, pl, &total,
                                                                 pg, c, ph, c)
    _check(st, -1)
    return total


def cosine_embedding(const floating[:, ::1] a, const floating[:, ::1] b, const floating[::1] y, double margin,
                     double eps, double grad_scale, floating[::1] loss, floating[:, ::1] grad_a, floating[:, ::1] grad_b):
    cdef ptrdiff_t n = a.shape[0], d = a.shape[1]
    _want2(b.shape[0], b.shape[1], n, d, "b")
    _want1(y.shape[0], n, "y")
    if loss is not None:
        _want1(loss.shape[0], n, "loss")
    if (grad_a is None) != (grad_b is None):
        raise ValueError("cyloss._core: grad_a and grad_b go together")
    if grad_a is not None:
        _want2(grad_a.shape[0], grad_a.shape[1], n, d, "grad_a")
        _want2(grad_b.shape[0], grad_b.shape[1], n, d, "grad_b")
    cdef const floating *pa = _c2(a)
    cdef const floating *pb = _c2(b)
    cdef const floating *py = _c1(y)
    cdef floating *pl = _w1(loss)
    cdef floating *pga = _w2(grad_a)
    cdef floating *pgb = _w2(grad_b)
    cdef double total = 0.0
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_cosine_embedding_loss_grad_f32(n, d, pa, d, pb, d, py, margin, eps, grad_scale, pl, &total,
                                                      pga, d, pgb, d)
        else:
            st = C.cyl_cosine_embedding_loss_grad_f64(n, d, pa, d, pb, d, py, margin, eps, grad_scale, pl, &total,
                                                      pga, d, pgb, d)
    _check(st, -1)
    return total



def triplet_margin(const floating[:, ::1] a, const floating[:, ::1] p, const floating[:, ::1] neg, double margin,
                   double norm_p, double eps, bint swap, double grad_scale, floating[::1] loss,
                   floating[:, ::1] grad_a, floating[:, ::1] grad_p, floating[:, ::1] grad_n):
    cdef ptrdiff_t n = a.shape[0], d = a.shape[1]
    _want2(p.shape[0], p.shape[1], n, d, "p")
    _want2(neg.shape[0], neg.shape[1], n, d, "neg")
    if loss is not None:
        _want1(loss.shape[0], n, "loss")
    if (grad_a is None) != (grad_p is None) or (grad_a is None) != (grad_n is None):
        raise ValueError("cyloss._core: grad_a, grad_p and grad_n go together")
    if grad_a is not None:
        _want2(grad_a.shape[0], grad_a.shape[1], n, d, "grad_a")
        _want2(grad_p.shape[0], grad_p.shape[1], n, d, "grad_p")
        _want2(grad_n.shape[0], grad_n.shape[1], n, d, "grad_n")
    cdef const floating *pa = _c2(a)
    cdef const floating *pp = _c2(p)
    cdef const floating *pn = _c2(neg)
    cdef floating *pl = _w1(loss)
    cdef floating *pga = _w2(grad_a)
    cdef floating *pgp = _w2(grad_p)
    cdef floating *pgn = _w2(grad_n)
    cdef double total = 0.0
    cdef int st
    cdef int sw = 1 if swap else 0
    with nogil:
        if floating is float:
            st = C.cyl_triplet_margin_loss_grad_f32(n, d, pa, d, pp, d, pn, d, margin, norm_p, eps, sw, grad_scale,
                                                    pl, &total, pga, d, pgp, d, pgn, d)
        else:
            st = C.cyl_triplet_margin_loss_grad_f64(n, d, pa, d, pp, d, pn, d, margin, norm_p, eps, sw, grad_scale,
                                                    pl, &total, pga, d, pgp, d, pgn, d)
    _check(st, -1)
    return total


def ctc(const floating[:, :, ::1] log_probs, const int64_t[::1] targets, const int64_t[::1] target_start,
        const int64_t[::1] input_lengths, const int64_t[::1] target_lengths, int64_t blank, bint zero_infinity,
        const double[::1] grad_scale, double[::1] loss, floating[:, :, ::1] grad):
    """CTC loss per sample into loss (float64, n) and, with grad_scale, the scaled gradient;
    re-checks every length, offset and label so that no caller can make the kernel read out
    of bounds (the facade has already checked them with messages naming the arguments)."""
    cdef ptrdiff_t t_max = log_probs.shape[0], n = log_probs.shape[1], c = log_probs.shape[2]
    cdef ptrdiff_t b, j, nt = targets.shape[0]
    cdef int64_t st0, ln
    _want1(target_start.shape[0], n, "target_start")
    _want1(input_lengths.shape[0], n, "input_lengths")
    _want1(target_lengths.shape[0], n, "target_lengths")
    _want1(loss.shape[0], n, "loss")
    if not 0 <= blank < c:
        raise ValueError("cyloss._core: blank out of range")
    if (grad is None) != (grad_scale is None):
        raise ValueError("cyloss._core: grad and grad_scale go together")
    if grad is not None:
        _want1(grad_scale.shape[0], n, "grad_scale")
        if grad.shape[0] != t_max or grad.shape[1] != n or grad.shape[2] != c:
            raise ValueError("cyloss._core: grad must have log_probs' shape")
    for b in range(n):
        st0 = target_start[b]
        ln = target_lengths[b]
        if not (0 <= input_lengths[b] <= t_max and ln >= 0 and 0 <= st0 <= nt and ln <= nt - st0):
            raise ValueError(f"cyloss._core: bad lengths or offset for sample {b}")
        for j in range(st0, st0 + ln):
            if not (0 <= targets[j] < c) or targets[j] == blank:
                raise ValueError(f"cyloss._core: bad label at targets[{j}]")
    cdef const floating *plp = &log_probs[0, 0, 0] if log_probs.size else NULL
    cdef const int64_t *ptg = &targets[0] if nt else NULL
    cdef const int64_t *pts = &target_start[0] if n else NULL
    cdef const int64_t *pil = &input_lengths[0] if n else NULL
    cdef const int64_t *ptl = &target_lengths[0] if n else NULL
    cdef const double *pgs = NULL
    cdef double *pl = &loss[0] if n else NULL
    cdef floating *pg = NULL
    cdef int st
    if grad is not None:
        pgs = &grad_scale[0] if n else NULL
        pg = &grad[0, 0, 0] if grad.size else NULL
        if pg == NULL or pgs == NULL:  # nothing to write: no sample has a time step and a class
            pg = NULL
            pgs = NULL
    with nogil:
        if floating is float:
            st = C.cyl_ctc_loss_grad_f32(t_max, n, c, plp, n * c, c, ptg, pts, pil, ptl, blank, zero_infinity, pgs,
                                         pl, pg, n * c, c)
        else:
            st = C.cyl_ctc_loss_grad_f64(t_max, n, c, plp, n * c, c, ptg, pts, pil, ptl, blank, zero_infinity, pgs,
                                         pl, pg, n * c, c)
    _check(st, -1)

def multilabel_margin(const floating[:, ::1] x, const int64_t[:, ::1] target, double grad_scale,
                      floating[::1] loss, floating[:, ::1] grad):
    cdef ptrdiff_t n = x.shape[0], c = x.shape[1], err = -1
    if target.shape[0] != n or target.shape[1] != c:
        raise ValueError("cyloss._core: target must have x's shape")
    if loss is not None:
        _want1(loss.shape[0], n, "loss")
    if grad is not None:
        _want2(grad.shape[0], grad.shape[1], n, c, "grad")
    cdef const floating *px = _c2(x)
    cdef const int64_t *pt = &target[0, 0] if n > 0 and c > 0 else NULL
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w2(grad)
    cdef double total = 0.0
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_multilabel_margin_loss_grad_f32(n, c, px, c, pt, c, grad_scale, pl, &total, pg, c, &err)
        else:
            st = C.cyl_multilabel_margin_loss_grad_f64(n, c, px, c, pt, c, grad_scale, pl, &total, pg, c, &err)
    _check(st, err)
    return total


cdef int _check_elementwise(ptrdiff_t n, const floating[::1] other, const floating[::1] weight,
                            floating[::1] loss, floating[::1] grad) except -1:
    """the second input, and the optional weight, per-element loss and gradient, have length n"""
    _want1(other.shape[0], n, "the second input")
    if weight is not None:
        _want1(weight.shape[0], n, "weight")
    if loss is not None:
        _want1(loss.shape[0], n, "loss")
    if grad is not None:
        _want1(grad.shape[0], n, "grad")
    return 0


def bce_with_logits(const floating[::1] x, const floating[::1] y, const floating[::1] weight,
                    const floating[::1] pos_weight, double grad_scale, floating[::1] loss, floating[::1] grad,
                    floating[::1] hess=None, bint want_loss=True):
    cdef ptrdiff_t n = x.shape[0]
    _check_elementwise(n, y, weight, loss, grad)
    _check_hess1(hess, grad is not None, n)
    cdef floating *ph = _w1(hess)
    if pos_weight is not None:
        _want1(pos_weight.shape[0], n, "pos_weight")
    cdef const floating *px = _c1(x)
    cdef const floating *py = _c1(y)
    cdef const floating *pw = _c1(weight)
    cdef const floating *ppw = _c1(pos_weight)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w1(grad)
    cdef double total = 0.0
    cdef double *ptot = &total if want_loss else NULL  # NULL (and no loss rows): no loss computed
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_bce_logits_loss_grad_hess_f32(n, px, py, pw, ppw, grad_scale, pl, ptot, pg, ph)
        else:
            st = C.cyl_bce_logits_loss_grad_hess_f64(n, px, py, pw, ppw, grad_scale, pl, ptot, pg, ph)
    _check(st, -1)
    return total


def bce(const floating[::1] p, const floating[::1] y, const floating[::1] weight, double grad_scale,
        floating[::1] loss, floating[::1] grad, floating[::1] hess=None, bint want_loss=True):
    cdef ptrdiff_t n = p.shape[0], err = -1
    _check_elementwise(n, y, weight, loss, grad)
    _check_hess1(hess, grad is not None, n)
    cdef floating *ph = _w1(hess)
    cdef const floating *pp = _c1(p)
    cdef const floating *py = _c1(y)
    cdef const floating *pw = _c1(weight)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w1(grad)
    cdef double total = 0.0
    cdef double *ptot = &total if want_loss else NULL  # NULL (and no loss rows): no loss computed
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_bce_loss_grad_hess_f32(n, pp, py, pw, grad_scale, pl, ptot, pg, ph, &err)
        else:
            st = C.cyl_bce_loss_grad_hess_f64(n, pp, py, pw, grad_scale, pl, ptot, pg, ph, &err)
    _check(st, err)
    return total


def kl_div(const floating[::1] log_q, const floating[::1] t, bint log_target, double grad_scale,
           floating[::1] loss, floating[::1] grad, floating[::1] hess=None, bint want_loss=True):
    cdef ptrdiff_t n = log_q.shape[0]
    _want1(t.shape[0], n, "t")
    if loss is not None:
        _want1(loss.shape[0], n, "loss")
    if grad is not None:
        _want1(grad.shape[0], n, "grad")
    _check_hess1(hess, grad is not None, n)
    cdef floating *ph = _w1(hess)
    cdef const floating *pq = _c1(log_q)
    cdef const floating *pt = _c1(t)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w1(grad)
    cdef double total = 0.0
    cdef double *ptot = &total if want_loss else NULL  # NULL (and no loss rows): no loss computed
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_kl_div_loss_grad_hess_f32(n, pq, pt, log_target, grad_scale, pl, ptot, pg, ph)
        else:
            st = C.cyl_kl_div_loss_grad_hess_f64(n, pq, pt, log_target, grad_scale, pl, ptot, pg, ph)
    _check(st, -1)
    return total


MSE, L1, HUBER, SMOOTH_L1 = C.CYL_MSE, C.CYL_L1, C.CYL_HUBER, C.CYL_SMOOTH_L1
LOG_COSH, PSEUDO_HUBER = C.CYL_LOG_COSH, C.CYL_PSEUDO_HUBER


def regression(int kind, const floating[::1] pred, const floating[::1] target, const floating[::1] weight,
               double param, double grad_scale, floating[::1] loss, floating[::1] grad,
               floating[::1] hess=None, bint want_loss=True):
    cdef ptrdiff_t n = pred.shape[0]
    _check_elementwise(n, target, weight, loss, grad)
    _check_hess1(hess, grad is not None, n)
    cdef floating *ph = _w1(hess)
    cdef const floating *pp = _c1(pred)
    cdef const floating *pt = _c1(target)
    cdef const floating *pw = _c1(weight)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w1(grad)
    cdef double total = 0.0
    cdef double *ptot = &total if want_loss else NULL  # NULL (and no loss rows): no loss computed
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_regression_loss_grad_hess_f32(kind, n, pp, pt, pw, param, grad_scale, pl, ptot, pg, ph)
        else:
            st = C.cyl_regression_loss_grad_hess_f64(kind, n, pp, pt, pw, param, grad_scale, pl, ptot, pg, ph)
    _check(st, -1)
    return total


SOFT_MARGIN, HINGE_EMBEDDING, MARGIN_RANKING = C.CYL_SOFT_MARGIN, C.CYL_HINGE_EMBEDDING, C.CYL_MARGIN_RANKING
NLL_LOG_INPUT, NLL_FULL = C.CYL_NLL_LOG_INPUT, C.CYL_NLL_FULL


def margin(int kind, const floating[::1] x1, const floating[::1] x2, const floating[::1] y, double margin,
           double grad_scale, floating[::1] loss, floating[::1] grad, floating[::1] hess=None,
           bint want_loss=True):
    """Elementwise margin losses (kind SOFT_MARGIN, HINGE_EMBEDDING: x2 None; MARGIN_RANKING)."""
    cdef ptrdiff_t n = x1.shape[0]
    _check_elementwise(n, y, y, loss, grad)
    if x2 is not None:
        _want1(x2.shape[0], n, "x2")
    _check_hess1(hess, grad is not None, n)
    cdef const floating *pa = _c1(x1)
    cdef const floating *pb = _c1(x2)
    cdef const floating *py = _c1(y)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w1(grad)
    cdef floating *ph = _w1(hess)
    cdef double total = 0.0
    cdef double *ptot = &total if want_loss else NULL
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_margin_loss_grad_hess_f32(kind, n, pa, pb, py, margin, grad_scale, pl, ptot, pg, ph)
        else:
            st = C.cyl_margin_loss_grad_hess_f64(kind, n, pa, pb, py, margin, grad_scale, pl, ptot, pg, ph)
    _check(st, -1)
    return total


def poisson_nll(const floating[::1] x, const floating[::1] t, int flags, double eps, double grad_scale,
                floating[::1] loss, floating[::1] grad, floating[::1] hess=None, bint want_loss=True):
    cdef ptrdiff_t n = x.shape[0]
    _check_elementwise(n, t, t, loss, grad)
    _check_hess1(hess, grad is not None, n)
    cdef const floating *px = _c1(x)
    cdef const floating *pt = _c1(t)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w1(grad)
    cdef floating *ph = _w1(hess)
    cdef double total = 0.0
    cdef double *ptot = &total if want_loss else NULL
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_poisson_nll_loss_grad_hess_f32(n, px, pt, flags, eps, grad_scale, pl, ptot, pg, ph)
        else:
            st = C.cyl_poisson_nll_loss_grad_hess_f64(n, px, pt, flags, eps, grad_scale, pl, ptot, pg, ph)
    _check(st, -1)
    return total


def gaussian_nll(const floating[::1] x, const floating[::1] t, const floating[::1] var, int flags, double eps,
                 double grad_scale, floating[::1] loss, floating[::1] grad, floating[::1] grad_var,
                 floating[::1] hess=None, bint want_loss=True):
    """grad and grad_var: both or neither; hess (d2/dx2) needs them."""
    cdef ptrdiff_t n = x.shape[0]
    _check_elementwise(n, t, var, loss, grad)
    if (grad is None) != (grad_var is None):
        raise ValueError("cyloss._core: grad and grad_var go together")
    if grad_var is not None:
        _want1(grad_var.shape[0], n, "grad_var")
    _check_hess1(hess, grad is not None, n)
    cdef floating *ph = _w1(hess)
    cdef const floating *px = _c1(x)
    cdef const floating *pt = _c1(t)
    cdef const floating *pv = _c1(var)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w1(grad)
    cdef floating *pgv = _w1(grad_var)
    cdef double total = 0.0
    cdef double *ptot = &total if want_loss else NULL
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_gaussian_nll_loss_grad_hess_f32(n, px, pt, pv, flags, eps, grad_scale, pl, ptot, pg, pgv,
                                                       ph)
        else:
            st = C.cyl_gaussian_nll_loss_grad_hess_f64(n, px, pt, pv, flags, eps, grad_scale, pl, ptot, pg, pgv,
                                                       ph)
    _check(st, -1)
    return total


def sigmoid_focal(const floating[::1] x, const floating[::1] t, double alpha, double gamma, double grad_scale,
                  floating[::1] loss, floating[::1] grad, floating[::1] hess=None, bint want_loss=True):
    cdef ptrdiff_t n = x.shape[0]
    _check_elementwise(n, t, t, loss, grad)
    _check_hess1(hess, grad is not None, n)
    cdef const floating *px = _c1(x)
    cdef const floating *pt = _c1(t)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w1(grad)
    cdef floating *ph = _w1(hess)
    cdef double total = 0.0
    cdef double *ptot = &total if want_loss else NULL
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_sigmoid_focal_loss_grad_hess_f32(n, px, pt, alpha, gamma, grad_scale, pl, ptot, pg, ph)
        else:
            st = C.cyl_sigmoid_focal_loss_grad_hess_f64(n, px, pt, alpha, gamma, grad_scale, pl, ptot, pg, ph)
    _check(st, -1)
    return total


HALF_POISSON, HALF_GAMMA, HALF_TWEEDIE = C.CYL_HALF_POISSON, C.CYL_HALF_GAMMA, C.CYL_HALF_TWEEDIE
HALF_TWEEDIE_IDENTITY, PINBALL, EXPONENTIAL = C.CYL_HALF_TWEEDIE_IDENTITY, C.CYL_PINBALL, C.CYL_EXPONENTIAL


def glm(int kind, const floating[::1] raw, const floating[::1] y, const floating[::1] weight,
        double param, double grad_scale, floating[::1] loss, floating[::1] grad, floating[::1] hess=None,
        bint want_loss=True):
    """scikit-learn's losses of raw predictions (kind HALF_POISSON..); KernelError(CYL_ERR_DOMAIN,
    index) for the first y outside the loss's domain."""
    cdef ptrdiff_t n = raw.shape[0], err = -1
    _check_elementwise(n, y, weight, loss, grad)
    _check_hess1(hess, grad is not None, n)
    cdef const floating *pr = _c1(raw)
    cdef const floating *py = _c1(y)
    cdef const floating *pw = _c1(weight)
    cdef floating *pl = _w1(loss)
    cdef floating *pg = _w1(grad)
    cdef floating *ph = _w1(hess)
    cdef double total = 0.0
    cdef double *ptot = &total if want_loss else NULL  # NULL (and no loss rows): no loss computed
    cdef int st
    with nogil:
        if floating is float:
            st = C.cyl_glm_loss_grad_hess_f32(kind, n, pr, py, pw, param, grad_scale, pl, ptot, pg, ph, &err)
        else:
            st = C.cyl_glm_loss_grad_hess_f64(kind, n, pr, py, pw, param, grad_scale, pl, ptot, pg, ph, &err)
    _check(st, err)
    return total


def vsum(const floating[::1] x):
    """Sum in double."""
    cdef ptrdiff_t n = x.shape[0]
    cdef const floating *px = _c1(x)
    cdef double total = 0.0
    with nogil:
        if floating is float:
            C.cyl_sum_f32(n, px, &total)
        else:
            C.cyl_sum_f64(n, px, &total)
    return total


def vexp(const floating[::1] x, floating[::1] y):
    """y = exp(x) with the library's inline exp (for accuracy tests)."""
    cdef ptrdiff_t n = x.shape[0]
    _want1(y.shape[0], n, "y")
    cdef const floating *px = _c1(x)
    cdef floating *py = _w1(y)
    with nogil:
        if floating is float:
            C.cyl_vexp_f32(n, px, py)
        else:
            C.cyl_vexp_f64(n, px, py)


def vlog(const floating[::1] x, floating[::1] y):
    """y = log(x) with the library's inline log (for accuracy tests)."""
    cdef ptrdiff_t n = x.shape[0]
    _want1(y.shape[0], n, "y")
    cdef const floating *px = _c1(x)
    cdef floating *py = _w1(y)
    with nogil:
        if floating is float:
            C.cyl_vlog_f32(n, px, py)
        else:
            C.cyl_vlog_f64(n, px, py)


def vexpneg(const floating[::1] x, floating[::1] y):
    """y = exp(x) for x <= 0 with the row kernels' exponential (for accuracy tests)."""
    cdef ptrdiff_t n = x.shape[0]
    _want1(y.shape[0], n, "y")
    cdef const floating *px = _c1(x)
    cdef floating *py = _w1(y)
    with nogil:
        if floating is float:
            C.cyl_vexpneg_f32(n, px, py)
        else:
            C.cyl_vexpneg_f64(n, px, py)


# ------------------------------------------------------------------ fast paths
# For the common call shapes (a C-contiguous, aligned, native float32/float64 ndarray,
# class axis last) the facade calls these first: they check the layout through the
# NumPy C API instead of acquiring memoryviews and dispatching on fused types, which
# is most of the cost of a tiny call.  They return None when the input does not fit
# (the facade then takes the general path, which also produces the error messages).
cimport numpy as cnp
cnp.import_array()
import numpy as _np

cdef object _F32 = _np.float32
cdef object _F64 = _np.float64


cdef inline int _float_kind(object a) noexcept:
    """1: float32, 2: float64 (C-contiguous, aligned, native, ndim >= 1); else 0."""
    if not cnp.PyArray_CheckExact(a):
        return 0
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if cnp.PyArray_NDIM(arr) < 1 or not cnp.PyArray_IS_C_CONTIGUOUS(arr) \
            or not cnp.PyArray_ISALIGNED(arr) or not cnp.PyArray_ISNOTSWAPPED(arr):
        return 0
    cdef int t = cnp.PyArray_TYPE(arr)
    return 1 if t == cnp.NPY_FLOAT32 else 2 if t == cnp.NPY_FLOAT64 else 0


def softmax_fast(object x, bint log):
    """softmax / log_softmax along the last axis of x, or None if x does not fit."""
    cdef int kind = _float_kind(x)
    if kind == 0:
        return None
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int nd = cnp.PyArray_NDIM(a)
    cdef ptrdiff_t c = cnp.PyArray_DIMS(a)[nd - 1]
    cdef ptrdiff_t size = cnp.PyArray_SIZE(a)
    if c == 0 or size == 0:
        return None
    cdef ptrdiff_t n = size // c
    cdef cnp.ndarray y = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)
    cdef void *px = cnp.PyArray_DATA(a)
    cdef void *py = cnp.PyArray_DATA(y)
    with nogil:
        if kind == 1:
            (C.cyl_log_softmax_f32 if log else C.cyl_softmax_f32)(n, c, <const float *>px, c, <float *>py, c, 1.0)
        else:
            (C.cyl_log_softmax_f64 if log else C.cyl_softmax_f64)(n, c, <const double *>px, c, <double *>py, c, 1.0)
    return y


cdef inline bint _overlap(cnp.ndarray a, cnp.ndarray b) noexcept:
    """Whether two C-contiguous arrays share a byte."""
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>cnp.PyArray_DATA(b)
    cdef ptrdiff_t na = cnp.PyArray_NBYTES(a), nb = cnp.PyArray_NBYTES(b)
    return na > 0 and nb > 0 and pa < pb + nb and pb < pa + na


cdef inline bint _grad_out_fits(object grad_out, cnp.ndarray a, cnp.ndarray t) noexcept:
    """grad_out can receive the gradient of the 2-D a directly: a plain ndarray of a's shape
    and type, C-contiguous, aligned, native, writeable, sharing no byte with a or t (any
    other grad_out is the general path's: validated, or written through a temporary)."""
    if not cnp.PyArray_CheckExact(grad_out):
        return False
    cdef cnp.ndarray g = <cnp.ndarray>grad_out
    return (cnp.PyArray_NDIM(g) == 2 and cnp.PyArray_DIMS(g)[0] == cnp.PyArray_DIMS(a)[0]
            and cnp.PyArray_DIMS(g)[1] == cnp.PyArray_DIMS(a)[1] and cnp.PyArray_TYPE(g) == cnp.PyArray_TYPE(a)
            and cnp.PyArray_IS_C_CONTIGUOUS(g) and cnp.PyArray_ISALIGNED(g) and cnp.PyArray_ISNOTSWAPPED(g)
            and cnp.PyArray_ISWRITEABLE(g) and not _overlap(g, a) and not _overlap(g, t))


def cross_entropy_fast(object logits, object target, int64_t ignore_index, bint mean, bint want_grad,
                       object grad_out=None):
    """Unweighted, unsmoothed class-target cross-entropy, reduction mean or sum, for
    (n, c) logits (class axis last) and an int64 target of n, the gradient into a new array
    or straight into grad_out; None if they do not fit or a target is out of range (the
    general path then reports it)."""
    cdef int kind = _float_kind(logits)
    if kind == 0 or not cnp.PyArray_CheckExact(target):
        return None
    cdef cnp.ndarray a = <cnp.ndarray>logits
    cdef cnp.ndarray t = <cnp.ndarray>target
    if cnp.PyArray_NDIM(a) != 2 or cnp.PyArray_NDIM(t) != 1 or cnp.PyArray_TYPE(t) != cnp.NPY_INT64 \
            or not cnp.PyArray_IS_C_CONTIGUOUS(t) or not cnp.PyArray_ISALIGNED(t) \
            or not cnp.PyArray_ISNOTSWAPPED(t):
        return None
    cdef ptrdiff_t n = cnp.PyArray_DIMS(a)[0], c = cnp.PyArray_DIMS(a)[1], err = -1
    if n == 0 or c == 0 or cnp.PyArray_DIMS(t)[0] != n:
        return None
    if grad_out is not None and not (want_grad and _grad_out_fits(grad_out, a, t)):
        return None
    cdef const int64_t *pt = <const int64_t *>cnp.PyArray_DATA(t)
    cdef void *px = cnp.PyArray_DATA(a)
    cdef double wsum = 0.0, total = 0.0, scale = 1.0
    cdef int st
    cdef cnp.ndarray g = None
    cdef void *pg = NULL
    if want_grad:
        g = <cnp.ndarray>grad_out if grad_out is not None else \
            cnp.PyArray_EMPTY(2, cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)
        pg = cnp.PyArray_DATA(g)
    with nogil:
        st = C.cyl_class_weight_sum_f64(n, c, pt, NULL, ignore_index, &wsum, &err)
        if st == 0:
            if mean:
                scale = 1.0 / wsum if wsum != 0 else 0.0
            if kind == 1:
                st = C.cyl_cross_entropy_loss_grad_f32(n, c, <const float *>px, c, pt, NULL, ignore_index, 0.0,
                                                       scale, NULL, &total, <float *>pg, c, &err)
            else:
                st = C.cyl_cross_entropy_loss_grad_f64(n, c, <const double *>px, c, pt, NULL, ignore_index, 0.0,
                                                       scale, NULL, &total, <double *>pg, c, &err)
    if st != 0:
        return None
    if mean:  # (total * (1 / wsum), as the general path: the same bits on both paths)
        total = total * scale if wsum != 0 else float("nan")
    # the float32 rounding in C: np.float32(total) would warn when total overflows float32
    loss = _F32(<float>total) if kind == 1 else _F64(total)
    return (loss, g) if want_grad else loss


def nll_loss_fast(object log_probs, object target, int64_t ignore_index, bint mean, bint want_grad,
                  object grad_out=None):
    """Unweighted NLL loss, reduction mean or sum, for (n, c) log-probabilities (class axis
    last) and an int64 target of n, the gradient into a new array or straight into
    grad_out; None if they do not fit or a target is out of range (the general path then
    reports it).  The same arithmetic as the general path."""
    cdef int kind = _float_kind(log_probs)
    if kind == 0 or not cnp.PyArray_CheckExact(target):
        return None
    cdef cnp.ndarray a = <cnp.ndarray>log_probs
    cdef cnp.ndarray t = <cnp.ndarray>target
    if cnp.PyArray_NDIM(a) != 2 or cnp.PyArray_NDIM(t) != 1 or cnp.PyArray_TYPE(t) != cnp.NPY_INT64 \
            or not cnp.PyArray_IS_C_CONTIGUOUS(t) or not cnp.PyArray_ISALIGNED(t) \
            or not cnp.PyArray_ISNOTSWAPPED(t):
        return None
    cdef ptrdiff_t n = cnp.PyArray_DIMS(a)[0], c = cnp.PyArray_DIMS(a)[1], err = -1
    if n == 0 or c == 0 or cnp.PyArray_DIMS(t)[0] != n:
        return None
    if grad_out is not None and not (want_grad and _grad_out_fits(grad_out, a, t)):
        return None
    cdef const int64_t *pt = <const int64_t *>cnp.PyArray_DATA(t)
    cdef void *px = cnp.PyArray_DATA(a)
    cdef double wsum = 0.0, total = 0.0, scale = 1.0
    cdef int st = 0
    cdef cnp.ndarray g = None
    cdef void *pg = NULL
    if want_grad:
        g = <cnp.ndarray>grad_out if grad_out is not None else \
            cnp.PyArray_EMPTY(2, cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)
        pg = cnp.PyArray_DATA(g)
    with nogil:
        if mean:  # the denominator (the number of kept rows) first: the gradient needs it
            st = C.cyl_class_weight_sum_f64(n, c, pt, NULL, ignore_index, &wsum, &err)
            scale = 1.0 / wsum if wsum != 0 else 0.0   # (no weight: wsum == 0 only if all ignored)
        if st == 0:
            if kind == 1:
                st = C.cyl_nll_loss_grad_f32(n, c, <const float *>px, c, pt, NULL, ignore_index, scale, NULL,
                                             &total, <float *>pg, c, &err)
            else:
                st = C.cyl_nll_loss_grad_f64(n, c, <const double *>px, c, pt, NULL, ignore_index, scale, NULL,
                                             &total, <double *>pg, c, &err)
    if st != 0:
        return None
    if mean:
        total = total * scale if wsum != 0 else float("nan")
    loss = _F32(<float>total) if kind == 1 else _F64(total)
    return (loss, g) if want_grad else loss


def logsumexp_fast(object x, object axis):
    """logsumexp over the last axis of x (axis -1 / ndim - 1, or None for 1-D x) without b,
    keepdims or return_sign; None if x does not fit (the general path takes it)."""
    cdef int kind = _float_kind(x)
    if kind == 0:
        return None
    cdef cnp.ndarray a = <cnp.ndarray>x
    cdef int nd = cnp.PyArray_NDIM(a)
    if axis is None:
        if nd != 1:
            return None
    elif type(axis) is int:
        if axis != -1 and axis != nd - 1:
            return None
    else:
        return None
    cdef ptrdiff_t c = cnp.PyArray_DIMS(a)[nd - 1]
    cdef ptrdiff_t size = cnp.PyArray_SIZE(a)
    if c == 0 or size == 0:
        return None
    cdef ptrdiff_t n = size // c
    cdef void *px = cnp.PyArray_DATA(a)
    cdef float r32 = 0
    cdef double r64 = 0
    cdef cnp.ndarray res = None
    cdef void *pr = &r32 if kind == 1 else <void *>&r64
    if nd > 1:
        res = cnp.PyArray_EMPTY(nd - 1, cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)
        pr = cnp.PyArray_DATA(res)
    cdef int st
    with nogil:
        if kind == 1:
            st = C.cyl_logsumexp_f32(n, c, <const float *>px, c, NULL, 0, <float *>pr, NULL)
        else:
            st = C.cyl_logsumexp_f64(n, c, <const double *>px, c, NULL, 0, <double *>pr, NULL)
    if st != 0:
        return None
    if nd > 1:
        return res
    return _F32(r32) if kind == 1 else _F64(r64)
