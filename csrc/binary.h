/*
 * binary.h -- binary cross-entropy (with logits and from probabilities) and KL
 * divergence.
 * Part of the kernel source: included, in order, by cyl_kernels_body.h (once per scalar
 * type and CPU target; see there), never on its own.
 */

CYL_INLINE T CYL_FN(bce_logits_elem)(ptrdiff_t i, const T *x, const T *y, const T *w, const T *pw, T gs,
                                     T *loss, T *grad, T *hess, const int HP, const int HW, const int HG,
                                     const int HH, const int HL)
{
    T xi = x[i], yi = y[i];
    T ax = xi < 0 ? -xi : xi;
    T e = EXPNEG(-ax);
    T lg = LOG1PU(e);
    T sp_pos = (xi > 0 ? xi : (T)0) + lg;  /* softplus(x)  = -log(1 - sigmoid(x)) */
    T sp_neg = (xi < 0 ? -xi : (T)0) + lg; /* softplus(-x) = -log(sigmoid(x)) */
    T py = HP ? pw[i] * yi : yi;
    /* the loss shares no product with the gradient (pw (y sp_neg), not (pw y) sp_neg): the
     * contraction of the gradient's multiply-adds, and so its rounding, is then the same
     * whether the loss is computed or not (return_loss=False) */
    T l = (HP ? pw[i] * (yi * sp_neg) : yi * sp_neg) + ((T)1 - yi) * sp_pos, g = 0, h = 0;
    if (HG) {
        T inv = (T)1 / ((T)1 + e);
        T sig = xi >= 0 ? inv : e * inv;
        g = (py + (T)1 - yi) * sig - py;
        /* sigmoid (1 - sigmoid) = e / (1 + e)^2, e = exp(-|x|): no cancellation */
        if (HH) h = (py + (T)1 - yi) * (e * inv * inv);
    }
    CYL_EW_STORE(l, g, h);
    return l;
}

CYL_INLINE double CYL_FN(bce_logits_run)(ptrdiff_t n, const T *x, const T *y, const T *w, const T *pw,
                                         T gs, T *loss, T *grad, T *hess, const int HP, const int HW,
                                         const int HG, const int HH, const int HL)
{
    CYL_LANE_SUM(n, CYL_FN(bce_logits_elem)(i, x, y, w, pw, gs, loss, grad, hess, HP, HW, HG, HH, HL));
}

#define CYL_BCEL_CALL(HP, HW, HG, HH, HL) \
    acc = CYL_FN(bce_logits_run)(len, x + i0, y + i0, CYL_OFF(weight), CYL_OFF(pos_weight), gs, CYL_OFF(loss), \
                                 CYL_OFF(grad), CYL_OFF(hess), HP, HW, HG, HH, HL)

static void CYL_FN(bce_logits_block)(void *vctx, ptrdiff_t b_, void *scratch_)
{
    CYL_EW_PROLOGUE;
    const T *x = k_->a, *y = k_->b, *pos_weight = k_->pw;
    if (pos_weight) CYL_SPEC_W(CYL_BCEL_CALL, 1); else CYL_SPEC_W(CYL_BCEL_CALL, 0);
    k_->part[b_] = acc;
}

int CYL_FN(bce_logits_loss_grad_hess)(ptrdiff_t n, const T *x, const T *y, const T *weight, const T *pos_weight,
                                      double grad_scale, T *loss, double *loss_sum, T *grad, T *hess)
{
    if (hess && !grad) return CYL_ERR_ARG;
    CYL_FN(ew_ctx) k = {x, y, weight, pos_weight, loss, grad, hess, NULL, (T)grad_scale, (T)0, n};
    return CYL_FN(ew_run)(&k, 8.0, CYL_FN(bce_logits_block), loss_sum);
}

int CYL_FN(bce_logits_loss_grad)(ptrdiff_t n, const T *x, const T *y, const T *weight, const T *pos_weight,
                                 double grad_scale, T *loss, double *loss_sum, T *grad)
{
    return CYL_FN(bce_logits_loss_grad_hess)(n, x, y, weight, pos_weight, grad_scale, loss, loss_sum, grad, NULL);
}

CYL_INLINE T CYL_FN(bce_elem)(ptrdiff_t i, const T *p, const T *y, const T *w, T gs, T *loss, T *grad, T *hess,
                              const int HW, const int HG, const int HH, const int HL)
{
    T pi = p[i], yi = y[i];
    T lp = LOG(pi);
    T lq = LOG((T)1 - pi);
    lp = lp < (T)-100 ? (T)-100 : lp; /* torch clamps the logs at -100 */
    lq = lq < (T)-100 ? (T)-100 : lq;
    T l = (yi - (T)1) * lq - yi * lp, g = 0, h = 0;
    if (HG) {
        T den = pi * ((T)1 - pi);
        den = den < (T)1e-12f ? (T)1e-12f : den; /* torch: float EPSILON = 1e-12f */
        g = (pi - yi) / den;
        /* d/dp (p - y) / (p (1 - p)) = (p^2 - 2 p y + y) / (p (1 - p))^2, same clamp */
        if (HH) h = (pi * pi - (T)2 * pi * yi + yi) / (den * den);
    }
    CYL_EW_STORE(l, g, h);
    return l;
}

CYL_INLINE double CYL_FN(bce_run)(ptrdiff_t n, const T *p, const T *y, const T *w, T gs, T *loss, T *grad,
                                  T *hess, const int HW, const int HG, const int HH, const int HL)
{
    CYL_LANE_SUM(n, CYL_FN(bce_elem)(i, p, y, w, gs, loss, grad, hess, HW, HG, HH, HL));
}

#define CYL_BCE_CALL(UNUSED, HW, HG, HH, HL) \
    acc = CYL_FN(bce_run)(len, p + i0, y + i0, CYL_OFF(weight), gs, CYL_OFF(loss), CYL_OFF(grad), CYL_OFF(hess), \
                          HW, HG, HH, HL)

static void CYL_FN(bce_block)(void *vctx, ptrdiff_t b_, void *scratch_)
{
    CYL_EW_PROLOGUE;
    const T *p = k_->a, *y = k_->b;
    CYL_SPEC_W(CYL_BCE_CALL, 0);
    k_->part[b_] = acc;
}

int CYL_FN(bce_loss_grad_hess)(ptrdiff_t n, const T *p, const T *y, const T *weight, double grad_scale,
                               T *loss, double *loss_sum, T *grad, T *hess, ptrdiff_t *err_index)
{
    if (n < 0 || (hess && !grad)) return CYL_ERR_ARG;
    /* probabilities outside [0, 1] are an error (torch); NaN is data */
    ptrdiff_t bad;
    CYL_FIRST_BAD(n, p, (v < 0) | (v > 1), bad);
    if (bad >= 0) {
        if (err_index) *err_index = bad;
        return CYL_ERR_DOMAIN;
    }
    CYL_FN(ew_ctx) k = {p, y, weight, NULL, loss, grad, hess, NULL, (T)grad_scale, (T)0, n};
    return CYL_FN(ew_run)(&k, 8.0, CYL_FN(bce_block), loss_sum);
}

int CYL_FN(bce_loss_grad)(ptrdiff_t n, const T *p, const T *y, const T *weight, double grad_scale,
                          T *loss, double *loss_sum, T *grad, ptrdiff_t *err_index)
{
    return CYL_FN(bce_loss_grad_hess)(n, p, y, weight, grad_scale, loss, loss_sum, grad, NULL, err_index);
}

CYL_INLINE T CYL_FN(kl_elem)(ptrdiff_t i, const T *lq, const T *t, T gs, T *loss, T *grad, T *hess,
                             const int LT, const int HG, const int HH, const int HL)
{
    const T *w = NULL;
    const int HW = 0;
    T ti = t[i], qi = lq[i], l, g, h = 0; /* linear in log_q: Hessian 0 */
    (void)w;
    if (LT) {
        T et = EXP(ti);
        l = et * (ti - qi);
        g = -et;
    } else {
        T tl = ti * LOG(ti);
        tl = ti == 0 ? (T)0 : tl; /* xlogy(0, 0) = 0 */
        l = tl - ti * qi;
        g = -ti;
    }
    CYL_EW_STORE(l, g, h);
    return l;
}

CYL_INLINE double CYL_FN(kl_run)(ptrdiff_t n, const T *lq, const T *t, T gs, T *loss, T *grad, T *hess,
                                 const int LT, const int HG, const int HH, const int HL)
{
    CYL_LANE_SUM(n, CYL_FN(kl_elem)(i, lq, t, gs, loss, grad, hess, LT, HG, HH, HL));
}

#define CYL_KL_CALL(LT, HG, HH, HL) \
    acc = CYL_FN(kl_run)(len, log_q + i0, t + i0, gs, CYL_OFF(loss), CYL_OFF(grad), CYL_OFF(hess), LT, HG, HH, HL)

static void CYL_FN(kl_block)(void *vctx, ptrdiff_t b_, void *scratch_)
{
    CYL_EW_PROLOGUE;
    const T *log_q = k_->a, *t = k_->b;
    (void)weight;
    if (k_->pw) CYL_SPEC_G(CYL_KL_CALL, 1); else CYL_SPEC_G(CYL_KL_CALL, 0); /* pw: log_target flag */
    k_->part[b_] = acc;
}

int CYL_FN(kl_div_loss_grad_hess)(ptrdiff_t n, const T *log_q, const T *t, int log_target, double grad_scale,
                                  T *loss, double *loss_sum, T *grad, T *hess)
{
    if (hess && !grad) return CYL_ERR_ARG;
    /* log_target travels as a non-NULL pw (kl has no pos_weight) */
    CYL_FN(ew_ctx) k = {log_q, t, NULL, log_target ? log_q : NULL, loss, grad, hess, NULL, (T)grad_scale, (T)0, n};
    return CYL_FN(ew_run)(&k, 4.0, CYL_FN(kl_block), loss_sum);
}

int CYL_FN(kl_div_loss_grad)(ptrdiff_t n, const T *log_q, const T *t, int log_target, double grad_scale,
                             T *loss, double *loss_sum, T *grad)
{
    return CYL_FN(kl_div_loss_grad_hess)(n, log_q, t, log_target, grad_scale, loss, loss_sum, grad, NULL);
}
