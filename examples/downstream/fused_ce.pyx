"""Cross-entropy loss and gradient over typed memoryviews, calling cyloss's C kernels
from Cython without the GIL and without Python objects in the loop."""
from libc.stdint cimport int64_t
from cython.parallel cimport prange

from cyloss.kernels cimport (CYL_OK, cross_entropy_loss_grad_f32, cross_entropy_loss_grad_f64,
                             cross_entropy_row_f64, cross_entropy_grad_hess_row_f64, multi_margin_loss_grad_hess_f64)

import numpy as np

ctypedef fused real:
    float
    double


def cross_entropy_mean(const real[:, ::1] logits, const int64_t[::1] target):
    """Mean cross-entropy of (n, c) logits with class targets and its gradient, fused in
    one pass over the logits (one kernel call)."""
    cdef ptrdiff_t n = logits.shape[0], c = logits.shape[1], err = -1
    cdef double total = 0.0
    cdef int status
    if target.shape[0] != n or n == 0 or c == 0:
        raise ValueError("need n > 0 rows, c > 0 classes and one target per row")
    grad = np.empty((n, c), dtype=np.float32 if real is float else np.float64)
    cdef real[:, ::1] g = grad
    with nogil:
        if real is float:
            status = cross_entropy_loss_grad_f32(n, c, &logits[0, 0], c, &target[0], NULL, -100, 0.0,
                                                 1.0 / n, NULL, &total, &g[0, 0], c, &err)
        else:
            status = cross_entropy_loss_grad_f64(n, c, &logits[0, 0], c, &target[0], NULL, -100, 0.0,
                                                 1.0 / n, NULL, &total, &g[0, 0], c, &err)
    if status != CYL_OK:
        raise IndexError(f"target[{err}] is out of range")
    return total / n, grad


def cross_entropy_rows(const double[:, ::1] logits, const int64_t[::1] target):
    """Per-row losses and gradient with the row-level kernel inside a prange loop."""
    cdef ptrdiff_t n = logits.shape[0], c = logits.shape[1], i
    cdef int bad = 0
    losses = np.zeros(n)
    grad = np.zeros((n, c))
    cdef double[::1] l = losses
    cdef double[:, ::1] g = grad
    if target.shape[0] != n:
        raise ValueError("one target per row")
    if n == 0 or c == 0:
        return losses, grad
    for i in prange(n, nogil=True, schedule="static"):
        if cross_entropy_row_f64(&logits[i, 0], c, target[i], &l[i], &g[i, 0]) != CYL_OK:
            bad += 1
    if bad:
        raise IndexError(f"{bad} targets out of range")
    return losses, grad


def softmax_objective(const double[:, ::1] margins, const int64_t[::1] labels):
    """Per-sample gradient and Hessian of a multiclass boosting objective (softmax, p - onehot,
    p (1 - p)) with the row kernel inside a prange loop."""
    cdef ptrdiff_t n = margins.shape[0], c = margins.shape[1], i
    cdef int bad = 0
    cdef double loss
    grad = np.zeros((n, c))
    hess = np.zeros((n, c))
    cdef double[:, ::1] g = grad
    cdef double[:, ::1] h = hess
    if labels.shape[0] != n:
        raise ValueError("one label per row")
    if n == 0 or c == 0:
        return grad, hess
    for i in prange(n, nogil=True, schedule="static"):
        if cross_entropy_grad_hess_row_f64(&margins[i, 0], c, labels[i], &loss, &g[i, 0], &h[i, 0]) != CYL_OK:
            bad += 1
    if bad:
        raise IndexError(f"{bad} labels out of range")
    return grad, hess


def multi_margin_mean(const double[:, ::1] scores, const int64_t[::1] target, double margin=1.0):
    """torch's multi_margin_loss (p = 1, "mean") and its gradient from one kernel call."""
    cdef ptrdiff_t n = scores.shape[0], c = scores.shape[1], err = -1
    cdef double total = 0.0
    cdef int status
    if target.shape[0] != n or n == 0 or c == 0:
        raise ValueError("need n > 0 rows, c > 0 classes and one target per row")
    grad = np.empty((n, c))
    cdef double[:, ::1] g = grad
    with nogil:
        status = multi_margin_loss_grad_hess_f64(n, c, &scores[0, 0], c, &target[0], NULL, 1, margin, 1.0 / n,
                                                 NULL, &total, &g[0, 0], c, NULL, 0, &err)
    if status != CYL_OK:
        raise IndexError(f"target[{err}] is out of range")
    return total / n, grad
