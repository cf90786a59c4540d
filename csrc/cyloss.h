/*
 * cyloss.h -- public C interface of the cyloss kernels.
 *
 * Conventions (every function below):
 *  - names are cyl_<op>_f32 (float) and cyl_<op>_f64 (double); one source
 *    (csrc/cyl_kernels_body.h and the family files it includes) instantiates both,
 *    once per CPU target;
 *  - sizes and strides are ptrdiff_t; row-wise kernels see an (n, c) matrix whose
 *    class axis is contiguous, row i starting at p + i*ld (ld >= c, in elements);
 *  - arguments are IN unless marked OUT; optional pointers may be NULL;
 *  - they return an int status: CYL_OK (0), or a negative CYL_ERR_* code with the
 *    offending element (row for row-wise kernels) stored in *err_index;
 *  - NaN and inf in the data are not errors: they propagate to the rows/elements
 *    they touch;
 *  - reductions (row sums, loss sums) accumulate in double;
 *  - they touch no Python object and take no lock: call them from any thread,
 *    with the GIL released.
 *
 * Losses (the *_loss_grad kernels) compute, in one pass, the per-row/element loss
 * into loss[] (if not NULL), its sum into *loss_sum (if not NULL), and the gradient
 * of grad_scale * sum(loss) into grad[] (if not NULL).  The elementwise kernels
 * (bce_logits, bce, kl_div, regression, glm) given a gradient with loss and loss_sum
 * both NULL compute no loss at all (the same gradient and Hessian, less work).
 */
#ifndef CYLOSS_H
#define CYLOSS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CYL_OK 0
#define CYL_ERR_TARGET (-1)   /* class target outside [0, c) and != ignore_index */
#define CYL_ERR_DOMAIN (-2)   /* probability outside [0, 1] */
#define CYL_ERR_ARG    (-3)   /* negative size, unknown kind, bad parameter */
#define CYL_ERR_NOMEM  (-4)   /* a small scratch allocation failed */

/* kinds for cyl_regression_loss_grad_* */
#define CYL_MSE 0        /* d^2 */
#define CYL_L1 1         /* |d| */
#define CYL_HUBER 2      /* param = delta > 0 */
#define CYL_SMOOTH_L1 3  /* param = beta >= 0 */
#define CYL_LOG_COSH 4   /* log(cosh(d)) */
#define CYL_PSEUDO_HUBER 5 /* param = delta > 0: delta^2 (sqrt(1 + (d/delta)^2) - 1) */

/* kinds for cyl_margin_loss_grad_hess_* */
#define CYL_SOFT_MARGIN 0      /* x1 = x, y */
#define CYL_HINGE_EMBEDDING 1  /* x1 = x, y, margin */
#define CYL_MARGIN_RANKING 2   /* x1, x2, y, margin */

/* flags for cyl_poisson_nll_loss_grad_hess_* and cyl_gaussian_nll_loss_grad_hess_* */
#define CYL_NLL_LOG_INPUT 1    /* Poisson: the input is log(rate) */
#define CYL_NLL_FULL 2         /* add the constant terms (Stirling / log(2 pi) / 2) */

/* kinds for cyl_glm_loss_grad_hess_* (scikit-learn's loss family, raw predictions) */
#define CYL_HALF_POISSON 0           /* y >= 0 */
#define CYL_HALF_GAMMA 1             /* y > 0 */
#define CYL_HALF_TWEEDIE 2           /* param = power; y >= 0 for 0 < p < 2, y > 0 for p >= 2 */
#define CYL_HALF_TWEEDIE_IDENTITY 3  /* param = power; identity link, same y domain */
#define CYL_PINBALL 4                /* param = quantile in (0, 1) */
#define CYL_EXPONENTIAL 5            /* y in [0, 1] */

/*
 * The kernel list, X(S, name, parameters, arguments) for scalar type T and
 * suffix S.  Expanded below into the prototypes of the public functions and the
 * members of the dispatch table.
 *
 * softmax, log_softmax:   y = softmax(x * inv_temperature) row-wise (y may alias x).
 * logsumexp:              out[i] = log|sum_j b_ij exp(x_ij)| (b NULL: all ones;
 *                         b_ij == 0 drops the term); sign[i] in {-1, 0, 1} if sign
 *                         is not NULL, else a negative sum gives NaN (scipy rules).
 * logsumexp_partial:      m[i] = max_j x_ij, s[i] = sum_j exp(x_ij - m[i]), both double, so
 *                         logsumexp = m + log s; a row holding NaN gives (NaN, NaN), +inf
 *                         (+inf, 1), only -inf or c == 0 (-inf, 0). Pairs of pieces of a row
 *                         merge as (max(m, m'), s e^(m - M) + s' e^(m' - M)): the statistic a
 *                         vocabulary-parallel softmax exchanges between class shards.
 * cross_entropy_partial:  for a class shard x (n, c) holding classes [class_offset,
 *                         class_offset + c): (m, s) as logsumexp_partial, found[i] = 1 and
 *                         x_target[i] = x[i, target[i] - class_offset] when the target is in
 *                         the shard (else 0 and 0), and, when x_sum is not NULL,
 *                         x_sum[i] = sum_j weight_j x_ij (weight NULL: 1), in double.
 * softmax_backward:       out = y * (g - <g, y>) row-wise.
 * log_softmax_backward:   out = g - exp(log_y) * sum(g) row-wise.
 * entropy:                out[i] = -sum_j p_ij log p_ij, 0 log 0 = 0.
 * class_weight_sum:       checks every target (0 <= t < c or t == ignore_index) and
 *                         stores sum of weight[t] (1 if weight NULL) over rows
 *                         that are not ignored: the "mean" denominator.
 * cross_entropy_loss_grad: class targets, torch semantics (weights, ignore_index,
 *                         label smoothing).
 * cross_entropy_prob_loss_grad: probability targets p (n, c).
 * nll_loss_grad:          loss = -weight[t] * x[t].
 * bce_logits_loss_grad:   elementwise, weight and pos_weight optional (length n).
 * bce_loss_grad:          elementwise on probabilities; CYL_ERR_DOMAIN if p outside [0, 1].
 * kl_div_loss_grad:       elementwise xlogy(t, t) - t*log_q (or exp(t)(t - log_q)).
 * regression_loss_grad:   elementwise on d = pred - target, kind CYL_MSE.. above,
 *                         optional weight (loss and gradient are multiplied by it).
 * *_grad_hess:            the same with the diagonal of the Hessian of grad_scale *
 *                         sum(loss) in hess[] (NULL: none; needs grad): cross-entropy
 *                         A p (1 - p) per row (A = sum of the row's target weights),
 *                         BCE with logits (pw y + 1 - y) sigmoid (1 - sigmoid), MSE 2,
 *                         L1 0, Huber 1 for |d| <= delta, smooth L1 1/beta for |d| <= beta,
 *                         log-cosh 1 - tanh(d)^2, pseudo-Huber (1 + (d/delta)^2)^(-3/2),
 *                         KL 0, BCE on probabilities (p^2 - 2py + y) / (p (1-p))^2.
 * glm_loss_grad_hess:     scikit-learn's losses of raw predictions r (kinds CYL_HALF_POISSON..
 *                         above, its definitions with the constant terms dropped), optional
 *                         weight; CYL_ERR_DOMAIN with the first y outside the loss's domain
 *                         (checked block by block during the pass: the outputs of the other
 *                         blocks are then written).
 * margin_loss_grad_hess:  elementwise margin losses (kinds CYL_SOFT_MARGIN.. above; see
 *                         csrc/margin.h), torch semantics; hess 0 except soft margin.
 * poisson_nll_loss_grad_hess: torch's poisson_nll_loss elementwise (flags CYL_NLL_*).
 * gaussian_nll_loss_grad_hess: torch's gaussian_nll_loss elementwise, var one per element
 *                         (clamped at eps); grad_var = d loss / d var; hess = d2 loss / dx2
 *                         (grad_var and hess each need grad).
 * sigmoid_focal_loss_grad_hess: torchvision's sigmoid_focal_loss (alpha < 0: no alpha
 *                         weighting; gamma >= 0 else CYL_ERR_ARG); hess (needs grad) the
 *                         second derivative in x (csrc/binary.h).
 * multi_margin_loss_grad_hess: torch's multi_margin_loss per row (p 1 or 2, weight[t]
 *                         outside the power, / c); CYL_ERR_TARGET for a target outside
 *                         [0, c); hess (needs grad) the diagonal of the Hessian (p = 1: 0).
 * multilabel_soft_margin_loss_grad_hess: torch's multilabel_soft_margin_loss per row (the
 *                         mean over classes of weighted BCE with logits); weight row i at
 *                         weight + i*ldw (ldw 0: one (c,) vector for all rows); hess (needs
 *                         grad) the diagonal Hessian w sigmoid(x)(1 - sigmoid(x)) / c, scaled.
 * cosine_embedding_loss_grad: torch's cosine_embedding_loss per pair of rows (a, b), y one
 *                         per row; grad_a and grad_b both or neither.
 * triplet_margin_loss_grad: torch's triplet_margin_loss per row triple (anchor a, positive p,
 *                         negative neg) with pairwise_distance's ||x - y + eps||_norm_p
 *                         (norm_p > 0, may be inf); swap != 0 uses min(d(a, neg), d(p, neg));
 *                         the three gradients all or none.
 * ctc_loss_grad:          torch's ctc_loss (reduction "none") of n samples: log_probs
 *                         element (t, b, k) at log_probs[t*ld_t + b*ld_n + k], t < t_max, k < c;
 *                         sample b's labels targets[target_start[b] ..][0, target_lengths[b]),
 *                         each in [0, c) and != blank, 0 <= input_lengths[b] <= t_max (checked
 *                         by the caller); loss[b] in double; grad (same layout, strides
 *                         ldg_t, ldg_n) = grad_scale[b] * torch's autograd gradient, 0 for
 *                         t >= input_lengths[b]; grad and grad_scale both or neither
 *                         (see csrc/ctc.h).
 * multilabel_margin_loss_grad: torch's multilabel_margin_loss per row; target rows of c
 *                         int64 class indices ending at the first negative entry;
 *                         CYL_ERR_TARGET (err_index = r*ldt + q) for a listed index >= c.
 * sum:                    *out = sum of x in double.
 * vexp, vlog:             y = exp(x), log(x) elementwise with the library's own
 *                         inline functions (exposed for accuracy tests).
 * vexpneg:                y = exp(x) for x <= 0 with the row kernels' exponential
 *                         (results below FLT_MIN / DBL_MIN flushed to +0).
 */
#define CYL_KERNEL_LIST(X, T, S) \
  X(S, softmax, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, T *y, ptrdiff_t ldy, double inv_temperature), \
    (n, c, x, ldx, y, ldy, inv_temperature)) \
  X(S, log_softmax, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, T *y, ptrdiff_t ldy, double inv_temperature), \
    (n, c, x, ldx, y, ldy, inv_temperature)) \
  X(S, logsumexp, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const T *b, ptrdiff_t ldb, T *out, T *sign), \
    (n, c, x, ldx, b, ldb, out, sign)) \
  X(S, logsumexp_partial, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, double *m, double *s), \
    (n, c, x, ldx, m, s)) \
  X(S, cross_entropy_partial, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const int64_t *target, \
                               int64_t class_offset, const T *weight, double *m, double *s, double *x_target, \
                               unsigned char *found, double *x_sum), \
    (n, c, x, ldx, target, class_offset, weight, m, s, x_target, found, x_sum)) \
  X(S, softmax_backward, (ptrdiff_t n, ptrdiff_t c, const T *y, ptrdiff_t ldy, const T *g, ptrdiff_t ldg, T *out, ptrdiff_t ldo), \
    (n, c, y, ldy, g, ldg, out, ldo)) \
  X(S, log_softmax_backward, (ptrdiff_t n, ptrdiff_t c, const T *log_y, ptrdiff_t ldy, const T *g, ptrdiff_t ldg, T *out, ptrdiff_t ldo), \
    (n, c, log_y, ldy, g, ldg, out, ldo)) \
  X(S, entropy, (ptrdiff_t n, ptrdiff_t c, const T *p, ptrdiff_t ldp, T *out), \
    (n, c, p, ldp, out)) \
  X(S, class_weight_sum, (ptrdiff_t n, ptrdiff_t c, const int64_t *target, const T *weight, int64_t ignore_index, \
                          double *wsum, ptrdiff_t *err_index), \
    (n, c, target, weight, ignore_index, wsum, err_index)) \
  X(S, cross_entropy_loss_grad, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const int64_t *target, \
                                 const T *weight, int64_t ignore_index, double label_smoothing, double grad_scale, \
                                 T *loss, double *loss_sum, T *grad, ptrdiff_t ldg, ptrdiff_t *err_index), \
    (n, c, x, ldx, target, weight, ignore_index, label_smoothing, grad_scale, loss, loss_sum, grad, ldg, err_index)) \
  X(S, cross_entropy_prob_loss_grad, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const T *p, ptrdiff_t ldp, \
                                      const T *weight, double label_smoothing, double grad_scale, \
                                      T *loss, double *loss_sum, T *grad, ptrdiff_t ldg), \
    (n, c, x, ldx, p, ldp, weight, label_smoothing, grad_scale, loss, loss_sum, grad, ldg)) \
  X(S, nll_loss_grad, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const int64_t *target, const T *weight, \
                       int64_t ignore_index, double grad_scale, T *loss, double *loss_sum, T *grad, ptrdiff_t ldg, \
                       ptrdiff_t *err_index), \
    (n, c, x, ldx, target, weight, ignore_index, grad_scale, loss, loss_sum, grad, ldg, err_index)) \
  X(S, bce_logits_loss_grad, (ptrdiff_t n, const T *x, const T *y, const T *weight, const T *pos_weight, \
                              double grad_scale, T *loss, double *loss_sum, T *grad), \
    (n, x, y, weight, pos_weight, grad_scale, loss, loss_sum, grad)) \
  X(S, bce_loss_grad, (ptrdiff_t n, const T *p, const T *y, const T *weight, double grad_scale, \
                       T *loss, double *loss_sum, T *grad, ptrdiff_t *err_index), \
    (n, p, y, weight, grad_scale, loss, loss_sum, grad, err_index)) \
  X(S, kl_div_loss_grad, (ptrdiff_t n, const T *log_q, const T *t, int log_target, double grad_scale, \
                          T *loss, double *loss_sum, T *grad), \
    (n, log_q, t, log_target, grad_scale, loss, loss_sum, grad)) \
  X(S, regression_loss_grad, (int kind, ptrdiff_t n, const T *pred, const T *target, const T *weight, double param, \
                              double grad_scale, T *loss, double *loss_sum, T *grad), \
    (kind, n, pred, target, weight, param, grad_scale, loss, loss_sum, grad)) \
  X(S, sum, (ptrdiff_t n, const T *x, double *out), (n, x, out)) \
  X(S, vexp, (ptrdiff_t n, const T *x, T *y), (n, x, y)) \
  X(S, vlog, (ptrdiff_t n, const T *x, T *y), (n, x, y)) \
  X(S, vexpneg, (ptrdiff_t n, const T *x, T *y), (n, x, y)) \
  X(S, cross_entropy_loss_grad_hess, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const int64_t *target, \
                                      const T *weight, int64_t ignore_index, double label_smoothing, double grad_scale, \
                                      T *loss, double *loss_sum, T *grad, ptrdiff_t ldg, T *hess, ptrdiff_t ldh, \
                                      ptrdiff_t *err_index), \
    (n, c, x, ldx, target, weight, ignore_index, label_smoothing, grad_scale, loss, loss_sum, grad, ldg, hess, ldh, \
     err_index)) \
  X(S, cross_entropy_prob_loss_grad_hess, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const T *p, \
                                           ptrdiff_t ldp, const T *weight, double label_smoothing, double grad_scale, \
                                           T *loss, double *loss_sum, T *grad, ptrdiff_t ldg, T *hess, ptrdiff_t ldh), \
    (n, c, x, ldx, p, ldp, weight, label_smoothing, grad_scale, loss, loss_sum, grad, ldg, hess, ldh)) \
  X(S, bce_logits_loss_grad_hess, (ptrdiff_t n, const T *x, const T *y, const T *weight, const T *pos_weight, \
                                   double grad_scale, T *loss, double *loss_sum, T *grad, T *hess), \
    (n, x, y, weight, pos_weight, grad_scale, loss, loss_sum, grad, hess)) \
  X(S, bce_loss_grad_hess, (ptrdiff_t n, const T *p, const T *y, const T *weight, double grad_scale, \
                            T *loss, double *loss_sum, T *grad, T *hess, ptrdiff_t *err_index), \
    (n, p, y, weight, grad_scale, loss, loss_sum, grad, hess, err_index)) \
  X(S, kl_div_loss_grad_hess, (ptrdiff_t n, const T *log_q, const T *t, int log_target, double grad_scale, \
                               T *loss, double *loss_sum, T *grad, T *hess), \
    (n, log_q, t, log_target, grad_scale, loss, loss_sum, grad, hess)) \
  X(S, regression_loss_grad_hess, (int kind, ptrdiff_t n, const T *pred, const T *target, const T *weight, \
                                   double param, double grad_scale, T *loss, double *loss_sum, T *grad, T *hess), \
    (kind, n, pred, target, weight, param, grad_scale, loss, loss_sum, grad, hess)) \
  X(S, glm_loss_grad_hess, (int kind, ptrdiff_t n, const T *raw, const T *y, const T *weight, double param, \
                            double grad_scale, T *loss, double *loss_sum, T *grad, T *hess, ptrdiff_t *err_index), \
    (kind, n, raw, y, weight, param, grad_scale, loss, loss_sum, grad, hess, err_index)) \
  X(S, margin_loss_grad_hess, (int kind, ptrdiff_t n, const T *x1, const T *x2, const T *y, double margin, \
                               double grad_scale, T *loss, double *loss_sum, T *grad, T *hess), \
    (kind, n, x1, x2, y, margin, grad_scale, loss, loss_sum, grad, hess)) \
  X(S, poisson_nll_loss_grad_hess, (ptrdiff_t n, const T *x, const T *t, int flags, double eps, double grad_scale, \
                                    T *loss, double *loss_sum, T *grad, T *hess), \
    (n, x, t, flags, eps, grad_scale, loss, loss_sum, grad, hess)) \
  X(S, gaussian_nll_loss_grad_hess, (ptrdiff_t n, const T *x, const T *t, const T *var, int flags, double eps, \
                                     double grad_scale, T *loss, double *loss_sum, T *grad, T *grad_var, \
                                     T *hess), \
    (n, x, t, var, flags, eps, grad_scale, loss, loss_sum, grad, grad_var, hess)) \
  X(S, sigmoid_focal_loss_grad_hess, (ptrdiff_t n, const T *x, const T *t, double alpha, double gamma, \
                                      double grad_scale, T *loss, double *loss_sum, T *grad, T *hess), \
    (n, x, t, alpha, gamma, grad_scale, loss, loss_sum, grad, hess)) \
  X(S, multi_margin_loss_grad_hess, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const int64_t *target, \
                                     const T *weight, int p, double margin, double grad_scale, T *loss, \
                                     double *loss_sum, T *grad, ptrdiff_t ldg, T *hess, ptrdiff_t ldh, \
                                     ptrdiff_t *err_index), \
    (n, c, x, ldx, target, weight, p, margin, grad_scale, loss, loss_sum, grad, ldg, hess, ldh, err_index)) \
  X(S, multilabel_margin_loss_grad, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const int64_t *target, \
                                     ptrdiff_t ldt, double grad_scale, T *loss, double *loss_sum, T *grad, \
                                     ptrdiff_t ldg, ptrdiff_t *err_index), \
    (n, c, x, ldx, target, ldt, grad_scale, loss, loss_sum, grad, ldg, err_index)) \
  X(S, multilabel_soft_margin_loss_grad_hess, (ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const T *y, \
                                               ptrdiff_t ldy, const T *weight, ptrdiff_t ldw, double grad_scale, \
                                               T *loss, double *loss_sum, T *grad, ptrdiff_t ldg, T *hess, \
                                               ptrdiff_t ldh), \
    (n, c, x, ldx, y, ldy, weight, ldw, grad_scale, loss, loss_sum, grad, ldg, hess, ldh)) \
  X(S, cosine_embedding_loss_grad, (ptrdiff_t n, ptrdiff_t d, const T *a, ptrdiff_t lda, const T *b, ptrdiff_t ldb, \
                                    const T *y, double margin, double eps, double grad_scale, T *loss, \
                                    double *loss_sum, T *grad_a, ptrdiff_t ldga, T *grad_b, ptrdiff_t ldgb), \
    (n, d, a, lda, b, ldb, y, margin, eps, grad_scale, loss, loss_sum, grad_a, ldga, grad_b, ldgb)) \
  X(S, triplet_margin_loss_grad, (ptrdiff_t n, ptrdiff_t d, const T *a, ptrdiff_t lda, const T *p, ptrdiff_t ldp, \
                                  const T *neg, ptrdiff_t ldn, double margin, double norm_p, double eps, int swap, \
                                  double grad_scale, T *loss, double *loss_sum, T *grad_a, ptrdiff_t ldga, \
                                  T *grad_p, ptrdiff_t ldgp, T *grad_n, ptrdiff_t ldgn), \
    (n, d, a, lda, p, ldp, neg, ldn, margin, norm_p, eps, swap, grad_scale, loss, loss_sum, grad_a, ldga, grad_p, \
     ldgp, grad_n, ldgn)) \
  X(S, ctc_loss_grad, (ptrdiff_t t_max, ptrdiff_t n, ptrdiff_t c, const T *log_probs, ptrdiff_t ld_t, ptrdiff_t ld_n, \
                       const int64_t *targets, const int64_t *target_start, const int64_t *input_lengths, \
                       const int64_t *target_lengths, int64_t blank, int zero_infinity, const double *grad_scale, \
                       double *loss, T *grad, ptrdiff_t ldg_t, ptrdiff_t ldg_n), \
    (t_max, n, c, log_probs, ld_t, ld_n, targets, target_start, input_lengths, target_lengths, blank, zero_infinity, \
     grad_scale, loss, grad, ldg_t, ldg_n))

#define CYL_DECLARE_(S, name, params, args) int cyl_##name##_##S params;
CYL_KERNEL_LIST(CYL_DECLARE_, float, f32)
CYL_KERNEL_LIST(CYL_DECLARE_, double, f64)
#undef CYL_DECLARE_

/* The table of kernels of one CPU target. */
#define CYL_MEMBER_(S, name, params, args) int (*name##_##S) params;
typedef struct cyl_kernels {
    CYL_KERNEL_LIST(CYL_MEMBER_, float, f32)
    CYL_KERNEL_LIST(CYL_MEMBER_, double, f64)
} cyl_kernels;
#undef CYL_MEMBER_

/* The table of the public (dispatching) functions above, for C extensions that use
 * cyloss without linking to it; see CYLOSS_IMPORT_CAPI below. */
const cyl_kernels *cyl_api(void);

/* CPU dispatch.  cyl_init(limit) chooses the fastest table the CPU supports:
 * limit 0 = no limit (AVX-512 F/DQ/VL/BW, else AVX2+FMA, else the portable
 * baseline), 1 = the baseline, 2 = at most AVX2+FMA; it is called when the Python
 * module is imported, and on first use by any public function. */
void cyl_init(int force_baseline);
const char *cyl_cpu_target(void);       /* "baseline", "avx2" or "avx512" */
const char *cyl_cpu_targets_built(void); /* comma-separated list */

/* Threads.  Kernels run on the calling thread for small work and on up to
 * cyl_get_num_threads() threads of cyloss's own pool for large work (built with
 * POSIX threads); results do not depend on the thread count.  The pool survives
 * fork() (a child starts its own on first use) and waits passively when idle.
 * The count for a call is, first that applies: the calling thread's setting
 * (cyl_set_thread_num_threads), the process setting (cyl_set_num_threads), the
 * default (OMP_NUM_THREADS, else the CPUs available to the process, capped by a
 * threadpoolctl limit of the calling thread).  0 restores "not set"; values above
 * 1024 or below 0 return CYL_ERR_ARG. */
int cyl_set_num_threads(int n);
int cyl_get_num_threads(void);          /* the count a large call of this thread uses */
int cyl_get_num_threads_setting(void);  /* the process setting, 0 if not set */
int cyl_set_thread_num_threads(int n);  /* this thread only */
int cyl_get_thread_num_threads(void);   /* this thread's setting, 0 if not set */
int cyl_set_thread_defaults(int env_threads, int hw_threads); /* set by the Python module at import */
int cyl_threads_enabled(void);          /* 0 in a serial build */
int cyl_last_call_threads(void);        /* threads this thread's last kernel call used (1: its own) */

/*
 * C extensions: define CYLOSS_IMPORT_CAPI before including this header (which then
 * includes Python.h), call cyl_import_capi() once with the GIL held (e.g. in your
 * module's init function), then call the kernels through the table:
 *     cyl_capi->cross_entropy_loss_grad_f64(n, c, x, c, target, NULL, -100, 0.0,
 *                                           1.0 / n, NULL, &loss, grad, c, &err);
 * Nothing to link: the table comes from the installed cyloss._core module.
 */
#ifdef CYLOSS_IMPORT_CAPI
#include <Python.h>
static const cyl_kernels *cyl_capi = NULL;
static int cyl_import_capi(void)
{
    cyl_capi = (const cyl_kernels *)PyCapsule_Import("cyloss._core._C_API", 0);
    return cyl_capi ? 0 : -1;
}
#endif

#ifdef __cplusplus
}
#endif
#endif /* CYLOSS_H */
