/*
 * regression.h -- MSE, L1, Huber, smooth L1, log-cosh and pseudo-Huber.
 * Part of the kernel source: included, in order, by cyl_kernels_body.h (once per scalar
 * type and CPU target; see there), never on its own.
 */

/* Hessians at the kinks follow sklearn: Huber 1 for |d| <= delta (smooth L1 1/beta for
 * |d| <= beta, so that huber(delta) = delta * smooth_l1(beta = delta) holds for it too),
 * L1 0 */
CYL_INLINE T CYL_FN(regression_elem)(ptrdiff_t i, const T *pred, const T *target, const T *w, T param, T inv,
                                     T gs, T *loss, T *grad, T *hess, const int KIND, const int HW, const int HG,
                                     const int HH, const int HL)
{
    const T half = (T)0.5;
    T d = pred[i] - target[i];
    T ad = d < 0 ? -d : d;
    T l, g, h;
    if (KIND == CYL_MSE) {
        l = d * d;
        g = (T)2 * d;
        h = (T)2;
    } else if (KIND == CYL_L1) {
        l = ad;
        g = CYL_SIGN(d);
        h = 0;
    } else if (KIND == CYL_HUBER) {
        int in = ad < param;
        l = in ? half * d * d : param * (ad - half * param);
        g = in ? d : param * CYL_SIGN(d);
        h = ad <= param ? (T)1 : (T)0;
    } else if (KIND == CYL_SMOOTH_L1) { /* param = beta > 0 */
        int in = ad < param;
        l = in ? half * d * d * inv : ad - half * param;
        g = in ? d * inv : CYL_SIGN(d);
        h = ad <= param ? inv : (T)0;
    } else if (KIND == CYL_LOG_COSH) {
        /* |d| < 1: cosh(d) - 1 = 2 sinh(d/2)^2 with sinh(d/2) from its Taylor series (to
         * x^17: below half an ulp of double for |x| < 1/2), l = log1p(cosh(d) - 1) and
         * tanh(d) = sinh(d) / cosh(d) = 2 s sqrt(1 + s^2) / (1 + 2 s^2): no cancellation.
         * |d| >= 1: l = |d| + log1p(e) - log 2 and tanh(|d|) = (1 - e) / (1 + e), e =
         * exp(-2|d|) (l >= 0.43 there: at most a few ulp lost to the subtraction) */
        T x = half * ad, x2 = x * x;
        T sh = x * ((T)1 + x2 * ((T)(1.0 / 6) + x2 * ((T)(1.0 / 120) + x2 * ((T)(1.0 / 5040) +
               x2 * ((T)(1.0 / 362880) + x2 * ((T)(1.0 / 39916800) + x2 * ((T)(1.0 / 6227020800.0) +
               x2 * ((T)(1.0 / 1307674368000.0) + x2 * (T)(1.0 / 355687428096000.0)))))))));
        /* s2 has a multiply among its uses, so no variant of this loop fuses it into an add
         * (GCC fuses a product only when all its uses are adds): the loss and the gradient
         * round the same way with or without each other; 2 s2 is exact, fused or not */
        T s2 = sh * sh;
        T c1 = (T)2 * s2;
        T e = EXPNEG((T)-2 * ad);
        int small = ad < (T)1;
        T lg = LOG1PU(small ? c1 : e); /* one log1p for both branches */
        l = small ? lg : ad + lg - (T)0.6931471805599453;
        /* tanh = num / den and 1 - tanh^2 = hn / den^2 with one division */
        T num = small ? (T)2 * sh * SQRT((T)1 + s2) : (T)1 - e;
        T den = small ? (T)1 + c1 : (T)1 + e;
        T inv = (T)1 / den;
        T th = num * inv;
        g = d < 0 ? -th : d > 0 ? th : d; /* 0 at 0, NaN for NaN */
        h = (small ? (T)1 : (T)4 * e) * inv * inv;
    } else { /* pseudo-Huber, param = delta > 0: s = sqrt(1 + r^2), r = |d| / delta;
              * l = delta |d| r / (s + 1) (= delta^2 (s - 1) without its cancellation),
              * g = delta sign(d) r / s, h = s^-3; beyond r = 1e17, s = r and r/(s+1) = r/s = 1
              * (within half an ulp), which also keeps d = +-inf finite where it should be */
        T r = ad * inv;
        int big = r > (T)1e17;
        T s = big ? r : SQRT((T)1 + r * r);
        l = param * ad * (big ? (T)1 : r / (s + (T)1));
        T gm = param * (big ? (T)1 : r / s);
        g = d < 0 ? -gm : d > 0 ? gm : d;
        h = (T)1 / (s * s * s);
    }
    CYL_EW_STORE(l, g, h);
    return l;
}

CYL_INLINE double CYL_FN(regression_run)(ptrdiff_t n, const T *pred, const T *target, const T *w, T param,
                                         T gs, T *loss, T *grad, T *hess, const int KIND, const int HW,
                                         const int HG, const int HH, const int HL)
{
    const T inv = KIND == CYL_SMOOTH_L1 || KIND == CYL_PSEUDO_HUBER ? (T)1 / param : (T)1;
    CYL_LANE_SUM(n, CYL_FN(regression_elem)(i, pred, target, w, param, inv, gs, loss, grad, hess, KIND, HW, HG,
                                            HH, HL));
}

#define CYL_REG_CALL(KIND, HW, HG, HH, HL) \
    acc = CYL_FN(regression_run)(len, pred + i0, target + i0, CYL_OFF(weight), prm, gs, CYL_OFF(loss), \
                                 CYL_OFF(grad), CYL_OFF(hess), KIND, HW, HG, HH, HL)

#define CYL_REG_BLOCK(KIND) \
    { \
        CYL_EW_PROLOGUE; \
        const T *pred = k_->a, *target = k_->b, prm = k_->prm; \
        CYL_SPEC_W(CYL_REG_CALL, KIND); \
        k_->part[b_] = acc; \
    }
static void CYL_FN(mse_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_REG_BLOCK(CYL_MSE)
static void CYL_FN(l1_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_REG_BLOCK(CYL_L1)
static void CYL_FN(huber_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_REG_BLOCK(CYL_HUBER)
static void CYL_FN(smooth_l1_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_REG_BLOCK(CYL_SMOOTH_L1)
static void CYL_FN(log_cosh_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_REG_BLOCK(CYL_LOG_COSH)
static void CYL_FN(pseudo_huber_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_REG_BLOCK(CYL_PSEUDO_HUBER)
#undef CYL_REG_BLOCK

int CYL_FN(regression_loss_grad_hess)(int kind, ptrdiff_t n, const T *pred, const T *target, const T *weight,
                                      double param, double grad_scale, T *loss, double *loss_sum, T *grad,
                                      T *hess)
{
    if (hess && !grad) return CYL_ERR_ARG;
    if (kind == CYL_SMOOTH_L1 && param == 0) kind = CYL_L1; /* beta = 0 is L1 (torch) */
    if ((kind == CYL_HUBER || kind == CYL_SMOOTH_L1 || kind == CYL_PSEUDO_HUBER) && !(param > 0 && (T)param > 0))
        return CYL_ERR_ARG;
    CYL_FN(ew_ctx) k = {pred, target, weight, NULL, loss, grad, hess, NULL, (T)grad_scale, (T)param, n};
    switch (kind) {
    case CYL_MSE: return CYL_FN(ew_run)(&k, 1.0, CYL_FN(mse_block), loss_sum);
    case CYL_L1: return CYL_FN(ew_run)(&k, 1.0, CYL_FN(l1_block), loss_sum);
    case CYL_HUBER: return CYL_FN(ew_run)(&k, 1.0, CYL_FN(huber_block), loss_sum);
    case CYL_SMOOTH_L1: return CYL_FN(ew_run)(&k, 1.0, CYL_FN(smooth_l1_block), loss_sum);
    case CYL_LOG_COSH:
        k.exp_bound = 1;
        return CYL_FN(ew_run)(&k, 8.0, CYL_FN(log_cosh_block), loss_sum);
    case CYL_PSEUDO_HUBER: return CYL_FN(ew_run)(&k, 4.0, CYL_FN(pseudo_huber_block), loss_sum);
    default: return CYL_ERR_ARG;
    }
}

int CYL_FN(regression_loss_grad)(int kind, ptrdiff_t n, const T *pred, const T *target, const T *weight,
                                 double param, double grad_scale, T *loss, double *loss_sum, T *grad)
{
    return CYL_FN(regression_loss_grad_hess)(kind, n, pred, target, weight, param, grad_scale, loss, loss_sum, grad,
                                             NULL);
}
