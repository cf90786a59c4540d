# Declarations of csrc/cyloss.h for the Cython wrappers (build-time only).
# Kept in step with the header by tests/test_api_sync.py.
from libc.stdint cimport int64_t
from libc.stddef cimport ptrdiff_t

cdef extern from "cyloss.h" nogil:
    int CYL_OK
    int CYL_ERR_TARGET
    int CYL_ERR_DOMAIN
    int CYL_ERR_ARG
    int CYL_ERR_NOMEM
    int CYL_MSE
    int CYL_L1
    int CYL_HUBER
    int CYL_SMOOTH_L1
    void cyl_init(int force_baseline) noexcept
    const char *cyl_cpu_target() noexcept
    const char *cyl_cpu_targets_built() noexcept
    int cyl_set_num_threads(int n) noexcept
    int cyl_get_num_threads() noexcept
    int cyl_openmp_enabled() noexcept

    int cyl_softmax_f32(ptrdiff_t n, ptrdiff_t c, const float *x, ptrdiff_t ldx, float *y, ptrdiff_t ldy, double inv_temperature) noexcept
    int cyl_log_softmax_f32(ptrdiff_t n, ptrdiff_t c, const float *x, ptrdiff_t ldx, float *y, ptrdiff_t ldy, double inv_temperature) noexcept
    int cyl_logsumexp_f32(ptrdiff_t n, ptrdiff_t c, const float *x, ptrdiff_t ldx, const float *b, ptrdiff_t ldb, float *out, float *sign) noexcept
    int cyl_softmax_backward_f32(ptrdiff_t n, ptrdiff_t c, const float *y, ptrdiff_t ldy, const float *g, ptrdiff_t ldg, float *out, ptrdiff_t ldo) noexcept
    int cyl_log_softmax_backward_f32(ptrdiff_t n, ptrdiff_t c, const float *log_y, ptrdiff_t ldy, const float *g, ptrdiff_t ldg, float *out, ptrdiff_t ldo) noexcept
    int cyl_entropy_f32(ptrdiff_t n, ptrdiff_t c, const float *p, ptrdiff_t ldp, float *out) noexcept
    int cyl_class_weight_sum_f32(ptrdiff_t n, ptrdiff_t c, const int64_t *target, const float *weight, int64_t ignore_index, double *wsum, ptrdiff_t *err_index) noexcept
    int cyl_cross_entropy_loss_grad_f32(ptrdiff_t n, ptrdiff_t c, const float *x, ptrdiff_t ldx, const int64_t *target, const float *weight, int64_t ignore_index, double label_smoothing, double grad_scale, float *loss, double *loss_sum, float *grad, ptrdiff_t ldg, ptrdiff_t *err_index) noexcept
    int cyl_cross_entropy_prob_loss_grad_f32(ptrdiff_t n, ptrdiff_t c, const float *x, ptrdiff_t ldx, const float *p, ptrdiff_t ldp, const float *weight, double label_smoothing, double grad_scale, float *loss, double *loss_sum, float *grad, ptrdiff_t ldg) noexcept
    int cyl_nll_loss_grad_f32(ptrdiff_t n, ptrdiff_t c, const float *x, ptrdiff_t ldx, const int64_t *target, const float *weight, int64_t ignore_index, double grad_scale, float *loss, double *loss_sum, float *grad, ptrdiff_t ldg, ptrdiff_t *err_index) noexcept
    int cyl_bce_logits_loss_grad_f32(ptrdiff_t n, const float *x, const float *y, const float *weight, const float *pos_weight, double grad_scale, float *loss, double *loss_sum, float *grad) noexcept
    int cyl_bce_loss_grad_f32(ptrdiff_t n, const float *p, const float *y, const float *weight, double grad_scale, float *loss, double *loss_sum, float *grad, ptrdiff_t *err_index) noexcept
    int cyl_kl_div_loss_grad_f32(ptrdiff_t n, const float *log_q, const float *t, int log_target, double grad_scale, float *loss, double *loss_sum, float *grad) noexcept
    int cyl_regression_loss_grad_f32(int kind, ptrdiff_t n, const float *pred, const float *target, const float *weight, double param, double grad_scale, float *loss, double *loss_sum, float *grad) noexcept
    int cyl_sum_f32(ptrdiff_t n, const float *x, double *out) noexcept
    int cyl_vexp_f32(ptrdiff_t n, const float *x, float *y) noexcept
    int cyl_vlog_f32(ptrdiff_t n, const float *x, float *y) noexcept

    int cyl_softmax_f64(ptrdiff_t n, ptrdiff_t c, const double *x, ptrdiff_t ldx, double *y, ptrdiff_t ldy, double inv_temperature) noexcept
    int cyl_log_softmax_f64(ptrdiff_t n, ptrdiff_t c, const double *x, ptrdiff_t ldx, double *y, ptrdiff_t ldy, double inv_temperature) noexcept
    int cyl_logsumexp_f64(ptrdiff_t n, ptrdiff_t c, const double *x, ptrdiff_t ldx, const double *b, ptrdiff_t ldb, double *out, double *sign) noexcept
    int cyl_softmax_backward_f64(ptrdiff_t n, ptrdiff_t c, const double *y, ptrdiff_t ldy, const double *g, ptrdiff_t ldg, double *out, ptrdiff_t ldo) noexcept
    int cyl_log_softmax_backward_f64(ptrdiff_t n, ptrdiff_t c, const double *log_y, ptrdiff_t ldy, const double *g, ptrdiff_t ldg, double *out, ptrdiff_t ldo) noexcept
    int cyl_entropy_f64(ptrdiff_t n, ptrdiff_t c, const double *p, ptrdiff_t ldp, double *out) noexcept
    int cyl_class_weight_sum_f64(ptrdiff_t n, ptrdiff_t c, const int64_t *target, const double *weight, int64_t ignore_index, double *wsum, ptrdiff_t *err_index) noexcept
    int cyl_cross_entropy_loss_grad_f64(ptrdiff_t n, ptrdiff_t c, const double *x, ptrdiff_t ldx, const int64_t *target, const double *weight, int64_t ignore_index, double label_smoothing, double grad_scale, double *loss, double *loss_sum, double *grad, ptrdiff_t ldg, ptrdiff_t *err_index) noexcept
    int cyl_cross_entropy_prob_loss_grad_f64(ptrdiff_t n, ptrdiff_t c, const double *x, ptrdiff_t ldx, const double *p, ptrdiff_t ldp, const double *weight, double label_smoothing, double grad_scale, double *loss, double *loss_sum, double *grad, ptrdiff_t ldg) noexcept
    int cyl_nll_loss_grad_f64(ptrdiff_t n, ptrdiff_t c, const double *x, ptrdiff_t ldx, const int64_t *target, const double *weight, int64_t ignore_index, double grad_scale, double *loss, double *loss_sum, double *grad, ptrdiff_t ldg, ptrdiff_t *err_index) noexcept
    int cyl_bce_logits_loss_grad_f64(ptrdiff_t n, const double *x, const double *y, const double *weight, const double *pos_weight, double grad_scale, double *loss, double *loss_sum, double *grad) noexcept
    int cyl_bce_loss_grad_f64(ptrdiff_t n, const double *p, const double *y, const double *weight, double grad_scale, double *loss, double *loss_sum, double *grad, ptrdiff_t *err_index) noexcept
    int cyl_kl_div_loss_grad_f64(ptrdiff_t n, const double *log_q, const double *t, int log_target, double grad_scale, double *loss, double *loss_sum, double *grad) noexcept
    int cyl_regression_loss_grad_f64(int kind, ptrdiff_t n, const double *pred, const double *target, const double *weight, double param, double grad_scale, double *loss, double *loss_sum, double *grad) noexcept
    int cyl_sum_f64(ptrdiff_t n, const double *x, double *out) noexcept
    int cyl_vexp_f64(ptrdiff_t n, const double *x, double *y) noexcept
    int cyl_vlog_f64(ptrdiff_t n, const double *x, double *y) noexcept
