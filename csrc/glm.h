/*
 * glm.h -- scikit-learn's loss family on raw predictions (Poisson, Gamma,
 * Tweedie, pinball, exponential).
 * Part of the kernel source: included, in order, by cyl_kernels_body.h (once per scalar
 * type and CPU target; see there), never on its own.
 */

/* ------------------------------------------- scikit-learn's loss family (raw predictions)
 * The definitions of sklearn._loss (its "half" deviances with the constant terms dropped,
 * as HalfPoissonLoss.loss etc.), r = raw prediction, y = target:
 *   Poisson (log link)   exp(r) - y r;           g = exp(r) - y;     h = exp(r)
 *   Gamma (log link)     r + y exp(-r);          g = 1 - y exp(-r);  h = y exp(-r)
 *   Tweedie p (log link) exp((2-p) r)/(2-p) - y exp((1-p) r)/(1-p); g = exp((2-p) r) - y exp((1-p) r);
 *                        h = (2-p) exp((2-p) r) - (1-p) y exp((1-p) r); p = 0: 0.5 (exp(r) - y)^2,
 *                        g = e (e - y), h = e (2 e - y); p = 1: Poisson; p = 2: Gamma
 *   Tweedie p (identity) r^(2-p)/(2-p) - y r^(1-p)/(1-p) + max(y,0)^(2-p)/((1-p)(2-p));
 *                        g = r^-p (r - y); h = r^-p ((1-p) + p y / r); p = 0: 0.5 (r - y)^2;
 *                        p = 1: y log(y/r) + r - y (r if y = 0); p = 2: log(r/y) + y/r - 1;
 *                        p = 1.5: r^-1.5 = (1/r) / sqrt(r), no log or exp
 *   pinball q            q (y - r) if y >= r else (1-q) (r - y); g = -q if y >= r else 1-q; h = 1
 *   exponential          y exp(-r) + (1-y) exp(r); g = -y exp(-r) + (1-y) exp(r); h = the loss
 * computed in T with the library's exp and log (pow through them). */
#define CYL_G_POISSON 0
#define CYL_G_GAMMA 1
#define CYL_G_TW0 2      /* Tweedie, log link, p = 0 */
#define CYL_G_TW 3       /* Tweedie, log link, other p */
#define CYL_G_TWI0 4     /* identity link p = 0 */
#define CYL_G_TWI1 5
#define CYL_G_TWI2 6
#define CYL_G_TWI 7
#define CYL_G_PINBALL 8
#define CYL_G_EXP 9
#define CYL_G_TWI15 10   /* identity link p = 1.5 (the default power of sklearn, xgboost, lightgbm) */

CYL_INLINE T CYL_FN(glm_elem)(ptrdiff_t i, const T *raw, const T *y, const T *w, T p, T gs, T *loss, T *grad,
                              T *hess, const int KIND, const int HW, const int HG, const int HH, const int HL)
{
    const T r = raw[i], yi = y[i];
    T l, g, h;
    if (KIND == CYL_G_POISSON) {
        const T e = EXP(r);
        l = e - yi * r;
        g = e - yi;
        h = e;
    } else if (KIND == CYL_G_GAMMA) {
        const T e = EXP(-r);
        l = r + yi * e;
        g = (T)1 - yi * e;
        h = yi * e;
    } else if (KIND == CYL_G_TW0) {
        const T e = EXP(r);
        const T d = e - yi;
        l = (T)0.5 * d * d;
        g = e * d;
        h = e * ((T)2 * e - yi);
    } else if (KIND == CYL_G_TW) {
        const T e1 = EXP(((T)1 - p) * r), e2 = EXP(((T)2 - p) * r);
        l = e2 * ((T)1 / ((T)2 - p)) - yi * (e1 * ((T)1 / ((T)1 - p))); /* no product shared with g */
        g = e2 - yi * e1;
        h = ((T)2 - p) * e2 - ((T)1 - p) * yi * e1;
    } else if (KIND == CYL_G_TWI0) {
        const T d = r - yi;
        l = (T)0.5 * d * d;
        g = d;
        h = (T)1;
    } else if (KIND == CYL_G_TWI1) {
        const T lr = yi == 0 ? r : yi * LOG(yi / r) + r - yi;
        l = lr;
        g = (T)1 - yi / r;
        h = yi / (r * r);
    } else if (KIND == CYL_G_TWI2) {
        const T r2 = r * r;
        l = LOG(r / yi) + yi / r - (T)1;
        g = (r - yi) / r2;
        h = ((T)-1 + (T)2 * yi / r) / r2;
    } else if (KIND == CYL_G_TWI) {
        const T tp = EXP(-p * LOG(r)); /* r^(-p) */
        const T t1 = r * tp;           /* r^(1-p) */
        l = r * t1 * ((T)1 / ((T)2 - p)) - yi * t1 * ((T)1 / ((T)1 - p));
        l += yi > 0 ? EXP(((T)2 - p) * LOG(yi)) * ((T)1 / (((T)1 - p) * ((T)2 - p))) : (T)0;
        g = tp * (r - yi);
        h = tp * (((T)1 - p) + p * yi / r);
    } else if (KIND == CYL_G_TWI15) {
        /* the formulas of CYL_G_TWI at p = 1.5 with r^-1.5 = (1/r) / sqrt(r): two divisions and
         * a square root, each correctly rounded, instead of a log, an exp and a division (the
         * same special values at r = +-0, +inf, NaN and r < 0) */
        const T ir = (T)1 / r;
        const T tp = ir / SQRT(r); /* r^(-p) */
        const T t1 = r * tp;       /* r^(1-p); r t1 = r^(2-p) is NaN at r = 0 and inf, as sklearn's */
        l = r * t1 * (T)2 + yi * t1 * (T)2;
        l += yi > 0 ? SQRT(yi) * (T)-4 : (T)0; /* y^(2-p) / ((1-p)(2-p)) */
        g = tp * (r - yi);
        h = tp * ((T)-0.5 + (T)1.5 * (yi * ir));
    } else if (KIND == CYL_G_PINBALL) {
        const int up = yi >= r;
        l = up ? p * (yi - r) : ((T)1 - p) * (r - yi);
        g = up ? -p : (T)1 - p;
        h = (T)1; /* the exact Hessian is 0 almost everywhere; sklearn's stand-in */
    } else { /* exponential */
        const T e = EXP(r), ie = EXP(-r);
        l = yi * ie + ((T)1 - yi) * e;
        g = -yi * ie + ((T)1 - yi) * e;
        h = l;
    }
    CYL_EW_STORE(l, g, h);
    return l;
}

CYL_INLINE double CYL_FN(glm_run)(ptrdiff_t n, const T *raw, const T *y, const T *w, T p, T gs, T *loss, T *grad,
                                  T *hess, const int KIND, const int HW, const int HG, const int HH, const int HL)
{
    CYL_LANE_SUM(n, CYL_FN(glm_elem)(i, raw, y, w, p, gs, loss, grad, hess, KIND, HW, HG, HH, HL));
}

/* The y domain of a loss (sklearn's interval_y_true; NaN is data), checked block by block
 * inside the kernel (ew_ctx.flags, ew_ctx.bad) rather than in a pass of its own before
 * it: the block's y is then read from the cache by the loss loop, and the check runs on
 * every thread.  Measured (1e7 float32, Poisson gradient + Hessian into existing arrays):
 * the separate pass read all of y on one thread, a fifth of the kernel's time on two. */
#define CYL_DOM_ANY 0
#define CYL_DOM_NONNEG 1 /* y >= 0 */
#define CYL_DOM_POS 2    /* y > 0 */
#define CYL_DOM_UNIT 3   /* 0 <= y <= 1 */
static ptrdiff_t CYL_FN(glm_first_bad)(int dom, ptrdiff_t n, const T *y)
{
    ptrdiff_t bad = -1;
    if (dom == CYL_DOM_NONNEG) CYL_FIRST_BAD(n, y, v < 0, bad);
    else if (dom == CYL_DOM_POS) CYL_FIRST_BAD(n, y, v <= 0, bad);
    else if (dom == CYL_DOM_UNIT) CYL_FIRST_BAD(n, y, (v < 0) | (v > 1), bad);
    return bad;
}

#define CYL_GLM_CALL(KIND, HW, HG, HH, HL) \
    acc = CYL_FN(glm_run)(len, raw + i0, yv + i0, CYL_OFF(weight), prm, gs, CYL_OFF(loss), CYL_OFF(grad), \
                          CYL_OFF(hess), KIND, HW, HG, HH, HL)
/* the per-element losses always go somewhere (the thread's scratch, CYL_BLOCK_WORK
 * elements, when not wanted): half the instantiations of these exp-heavy loops, for a
 * few stores to L2 */
#define CYL_GLM_BLOCK(KIND) \
    { \
        CYL_EW_PROLOGUE; \
        const T *raw = k_->a, *yv = k_->b, prm = k_->prm; \
        if (k_->bad) { /* a block with y outside the domain computes nothing */ \
            const ptrdiff_t bad_ = CYL_FN(glm_first_bad)(k_->flags, len, yv + i0); \
            k_->bad[b_] = bad_ < 0 ? -1 : i0 + bad_; \
            if (bad_ >= 0) { \
                k_->part[b_] = 0.0; \
                return; \
            } \
        } \
        if (!loss) loss = (T *)scratch_ - i0; \
        CYL_SPEC_WG_L1(CYL_GLM_CALL, KIND); \
        k_->part[b_] = acc; \
    }
#define CYL_SPEC_G_L1(F, ...) \
    do { \
        if (hess) { \
            if (k_->nosum) CYL_SPEC_N(F, __VA_ARGS__, 1, 1); \
            else F(__VA_ARGS__, 1, 1, 1); \
        } else if (grad) { \
            if (k_->nosum) CYL_SPEC_N(F, __VA_ARGS__, 1, 0); \
            else F(__VA_ARGS__, 1, 0, 1); \
        } else F(__VA_ARGS__, 0, 0, 1); \
    } while (0)
#define CYL_SPEC_WG_L1(F, ...) do { if (weight) CYL_SPEC_G_L1(F, __VA_ARGS__, 1); else CYL_SPEC_G_L1(F, __VA_ARGS__, 0); } while (0)
static void CYL_FN(g_poisson_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_GLM_BLOCK(CYL_G_POISSON)
static void CYL_FN(g_gamma_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_GLM_BLOCK(CYL_G_GAMMA)
static void CYL_FN(g_tw0_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_GLM_BLOCK(CYL_G_TW0)
static void CYL_FN(g_tw_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_GLM_BLOCK(CYL_G_TW)
static void CYL_FN(g_twi0_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_GLM_BLOCK(CYL_G_TWI0)
static void CYL_FN(g_twi1_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_GLM_BLOCK(CYL_G_TWI1)
static void CYL_FN(g_twi2_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_GLM_BLOCK(CYL_G_TWI2)
static void CYL_FN(g_twi_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_GLM_BLOCK(CYL_G_TWI)
static void CYL_FN(g_twi15_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_GLM_BLOCK(CYL_G_TWI15)
static void CYL_FN(g_pinball_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_GLM_BLOCK(CYL_G_PINBALL)
static void CYL_FN(g_exp_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_GLM_BLOCK(CYL_G_EXP)
#undef CYL_GLM_BLOCK
#undef CYL_SPEC_G_L1
#undef CYL_SPEC_WG_L1

int CYL_FN(glm_loss_grad_hess)(int kind, ptrdiff_t n, const T *raw, const T *y, const T *weight, double param,
                               double grad_scale, T *loss, double *loss_sum, T *grad, T *hess, ptrdiff_t *err_index)
{
    if (n < 0 || (hess && !grad)) return CYL_ERR_ARG;
    const double p = param;
    cyl_block_fn f;
    int dom = CYL_DOM_ANY; /* the y domain of each loss (sklearn's interval_y_true) */
    switch (kind) {
    case CYL_HALF_POISSON:
        dom = CYL_DOM_NONNEG;
        f = CYL_FN(g_poisson_block);
        break;
    case CYL_HALF_GAMMA:
        dom = CYL_DOM_POS;
        f = CYL_FN(g_gamma_block);
        break;
    case CYL_HALF_TWEEDIE:
    case CYL_HALF_TWEEDIE_IDENTITY:
        if (!(p == p) || p == INFINITY || p == -INFINITY) return CYL_ERR_ARG;
        if (p > 0 && p < 2) dom = CYL_DOM_NONNEG;
        else if (p >= 2) dom = CYL_DOM_POS;
        if (kind == CYL_HALF_TWEEDIE)
            f = p == 0 ? CYL_FN(g_tw0_block) : p == 1 ? CYL_FN(g_poisson_block)
              : p == 2 ? CYL_FN(g_gamma_block) : CYL_FN(g_tw_block);
        else
            f = p == 0 ? CYL_FN(g_twi0_block) : p == 1 ? CYL_FN(g_twi1_block)
              : p == 2 ? CYL_FN(g_twi2_block) : p == 1.5 ? CYL_FN(g_twi15_block) : CYL_FN(g_twi_block);
        break;
    case CYL_PINBALL:
        if (!(p > 0 && p < 1)) return CYL_ERR_ARG;
        f = CYL_FN(g_pinball_block);
        break;
    case CYL_EXPONENTIAL:
        dom = CYL_DOM_UNIT;
        f = CYL_FN(g_exp_block);
        break;
    default:
        return CYL_ERR_ARG;
    }
    CYL_FN(ew_ctx) k = {raw, y, weight, NULL, loss, grad, hess, NULL, (T)grad_scale, (T)param, n};
    const ptrdiff_t nb = (n + CYL_BLOCK_WORK - 1) / CYL_BLOCK_WORK;
    ptrdiff_t bad1 = -1, *badv = NULL;
    if (dom != CYL_DOM_ANY && nb > 0) {
        badv = nb > 1 ? (ptrdiff_t *)malloc((size_t)nb * sizeof *badv) : &bad1;
        if (!badv) return CYL_ERR_NOMEM;
    }
    k.flags = dom;
    k.bad = badv;
    /* the log-link losses and the exponential loss; the identity link's r^-p is an exp only
     * at the powers without a kernel of their own */
    k.exp_bound = f == CYL_FN(g_poisson_block) || f == CYL_FN(g_gamma_block) || f == CYL_FN(g_tw0_block) ||
                  f == CYL_FN(g_tw_block) || f == CYL_FN(g_exp_block) || f == CYL_FN(g_twi_block);
    const int st = CYL_FN(ew_run)(&k, 8.0, f, loss_sum);
    ptrdiff_t bad = -1;
    if (badv) {
        if (st == CYL_OK)
            for (ptrdiff_t b = 0; b < nb && bad < 0; b++)
                bad = badv[b];
        if (badv != &bad1) free(badv);
    }
    if (bad >= 0) { /* the outputs of the other blocks are written, this block's are not */
        if (err_index) *err_index = bad;
        return CYL_ERR_DOMAIN;
    }
    return st;
}
