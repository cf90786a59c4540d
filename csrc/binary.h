/*
 * binary.h -- binary cross-entropy (with logits and from probabilities), KL divergence,
 * sigmoid focal loss.
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
    k.exp_bound = 1;
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
    k.exp_bound = log_target != 0; /* exp(target) per element */
    return CYL_FN(ew_run)(&k, 4.0, CYL_FN(kl_block), loss_sum);
}

int CYL_FN(kl_div_loss_grad)(ptrdiff_t n, const T *log_q, const T *t, int log_target, double grad_scale,
                             T *loss, double *loss_sum, T *grad)
{
    return CYL_FN(kl_div_loss_grad_hess)(n, log_q, t, log_target, grad_scale, loss, loss_sum, grad, NULL);
}

/* torchvision.ops.sigmoid_focal_loss: p = sigmoid(x), ce = BCE with logits (as above),
 * m = 1 - p_t = p (1 - t) + (1 - p) t (no cancellation: 1 - p comes from sigmoid(-x)),
 * l = a_t ce m^gamma, a_t = alpha t + (1 - alpha)(1 - t) (alpha < 0: 1);
 * d/dx = a_t [(p - t) m^gamma + ce gamma m^(gamma - 1) p (1 - p) (1 - 2t)], the second term
 * taken as 0 where m = 0 (its limit: ce vanishes with m) or gamma = 0.  gamma = 2 (the
 * default) is m * m; other gammas exp(gamma log m).
 * With s = 1 - 2t, pq = p (1 - p), D = gamma m^(gamma-1), E = gamma (gamma-1) m^(gamma-2)
 * (dm/dx = s pq, d(pq)/dx = pq (1 - 2p), d ce/dx = p - t):
 * d2/dx2 = a_t pq [m^gamma + 2 (p - t) s D + ce s (E s pq + D (1 - 2p))], D and E taken as 0
 * where m = 0, like the gradient's term. */
CYL_INLINE T CYL_FN(focal_elem)(ptrdiff_t i, const T *x, const T *t, T alpha, T gamma, T gs, T *loss, T *grad,
                                T *hess, const int GK, const int HA, const int HG, const int HH, const int HL)
{
    const T *w = NULL;
    const int HW = 0;
    T xi = x[i], ti = t[i];
    T ax = xi < 0 ? -xi : xi;
    T e = EXPNEG(-ax);
    T lg = LOG1PU(e);
    T sp_pos = (xi > 0 ? xi : (T)0) + lg;  /* -log(1 - p) */
    T sp_neg = (xi < 0 ? -xi : (T)0) + lg; /* -log(p) */
    T inv = (T)1 / ((T)1 + e);
    T p = xi >= 0 ? inv : e * inv, q = xi >= 0 ? e * inv : inv; /* p, 1 - p */
    T ce = ti * sp_neg + ((T)1 - ti) * sp_pos;
    T m = p * ((T)1 - ti) + q * ti;
    T mg, dmg; /* m^gamma, gamma m^(gamma - 1) */
    if (GK == 2) {
        mg = m * m;
        dmg = (T)2 * m;
    } else if (GK == 0) {
        mg = (T)1;
        dmg = 0;
    } else {
        mg = m == 0 ? (T)0 : EXP(gamma * LOG(m)); /* 0^gamma = 0 (gamma > 0); NaN for m < 0, NaN */
        dmg = m == 0 ? (T)0 : gamma * mg / m;
    }
    T at = HA ? alpha * ti + ((T)1 - alpha) * ((T)1 - ti) : (T)1;
    T l = at * ce * mg, g = 0, h = 0;
    const T s = (T)1 - (T)2 * ti, pq = p * q;
    const T pt = p * ((T)1 - ti) - q * ti; /* p - t, from p and 1 - p: no cancellation for hard t */
    if (HG) g = at * (pt * mg + ce * dmg * pq * s);
    if (HH) {
        T ddmg; /* gamma (gamma - 1) m^(gamma - 2) */
        if (GK == 2) ddmg = (T)2;
        else if (GK == 0) ddmg = 0;
        else ddmg = m == 0 ? (T)0 : (gamma - (T)1) * dmg / m;
        h = at * pq * (mg + (T)2 * pt * s * dmg + ce * s * (ddmg * s * pq + dmg * (q - p)));
    }
    CYL_EW_STORE(l, g, h);
    return l;
}

CYL_INLINE double CYL_FN(focal_run)(ptrdiff_t n, const T *x, const T *t, T alpha, T gamma, T gs, T *loss, T *grad,
                                    T *hess, const int GK, const int HA, const int HG, const int HH, const int HL)
{
    CYL_LANE_SUM(n, CYL_FN(focal_elem)(i, x, t, alpha, gamma, gs, loss, grad, hess, GK, HA, HG, HH, HL));
}

#define CYL_FOCAL_CALL(GK, HA, HG, HH, HL) \
    acc = CYL_FN(focal_run)(len, x + i0, t + i0, k_->prm, k_->prm2, gs, CYL_OFF(loss), CYL_OFF(grad), \
                            CYL_OFF(hess), GK, HA, HG, HH, HL)
#define CYL_FOCAL_GK(GK) \
    do { if (k_->prm >= 0) CYL_SPEC_G(CYL_FOCAL_CALL, GK, 1); else CYL_SPEC_G(CYL_FOCAL_CALL, GK, 0); } while (0)

static void CYL_FN(focal_block)(void *vctx, ptrdiff_t b_, void *scratch_)
{
    CYL_EW_PROLOGUE;
    const T *x = k_->a, *t = k_->b;
    (void)weight;
    if (k_->prm2 == 2) CYL_FOCAL_GK(2);
    else if (k_->prm2 == 0) CYL_FOCAL_GK(0);
    else CYL_FOCAL_GK(1);
    k_->part[b_] = acc;
}
#undef CYL_FOCAL_GK

int CYL_FN(sigmoid_focal_loss_grad_hess)(ptrdiff_t n, const T *x, const T *t, double alpha, double gamma,
                                         double grad_scale, T *loss, double *loss_sum, T *grad, T *hess)
{
    if (!(gamma >= 0) || !(alpha <= 1) || (hess && !grad)) return CYL_ERR_ARG;
    CYL_FN(ew_ctx) k = {x, t, NULL, NULL, loss, grad, hess, NULL, (T)grad_scale, (T)alpha, n};
    k.prm2 = (T)gamma;
    k.exp_bound = 1;
    return CYL_FN(ew_run)(&k, 12.0, CYL_FN(focal_block), loss_sum);
}

/* torch's multilabel_soft_margin_loss per row: l = sum_c w_c BCE-with-logits(x_c, y_c) / c,
 * gradient w_c (sigmoid(x_c) - y_c) / c (times grad_scale); w row i at weight + i ldw
 * (ldw = 0: one weight vector for every row; weight NULL: 1). */
typedef struct {
    const T *x, *y, *w;
    T *loss, *grad, *hess;
    double *part;
    double grad_scale;
    ptrdiff_t n, c, ldx, ldy, ldw, ldg, ldh, rb;
} CYL_FN(mlsm_ctx);

/* one row, with the weight (HW), gradient (HG) and Hessian (HH, needs HG) flags constant: no
 * test in the loop.  Hessian w sigmoid(x) (1 - sigmoid(x)) / C = w e / (1 + e)^2 / C with
 * e = exp(-|x|) (no cancellation). */
CYL_INLINE double CYL_FN(mlsm_row)(const T *xr, const T *yr, const T *wr, T *gr, T *hr, ptrdiff_t c, T gsc,
                                   const int HW, const int HG, const int HH)
{
    double s = 0.0;
#pragma omp simd reduction(+:s)
    for (ptrdiff_t j = 0; j < c; j++) {
        T xi = xr[j], yi = yr[j];
        T ax = xi < 0 ? -xi : xi;
        T e = EXPNEG(-ax);
        T lg = LOG1PU(e);
        T sp_pos = (xi > 0 ? xi : (T)0) + lg;
        T sp_neg = (xi < 0 ? -xi : (T)0) + lg;
        T wj = HW ? wr[j] : (T)1;
        s += (double)(wj * (yi * sp_neg + ((T)1 - yi) * sp_pos));
        if (HG) {
            T inv = (T)1 / ((T)1 + e);
            T sig = xi >= 0 ? inv : e * inv;
            gr[j] = wj * (sig - yi) * gsc;
            if (HH) hr[j] = wj * (e * inv * inv) * gsc;
        }
    }
    return s;
}

static void CYL_FN(mlsm_block)(void *vctx, ptrdiff_t b, void *scratch)
{
    const CYL_FN(mlsm_ctx) *k = (const CYL_FN(mlsm_ctx) *)vctx;
    ptrdiff_t i0, i1;
    (void)scratch;
    CYL_FN(block_rows)(b, k->rb, k->n, &i0, &i1);
    const ptrdiff_t c = k->c;
    const double invc = 1.0 / (double)c;
    const T gsc = (T)(k->grad_scale * invc);
    double acc = 0.0;
    for (ptrdiff_t i = i0; i < i1; i++) {
        const T *xr = k->x + i * k->ldx, *yr = k->y + i * k->ldy;
        const T *wr = k->w ? k->w + i * k->ldw : NULL;
        T *gr = k->grad ? k->grad + i * k->ldg : NULL;
        T *hr = k->hess ? k->hess + i * k->ldh : NULL;
        double s;
        if (wr) {
            s = hr   ? CYL_FN(mlsm_row)(xr, yr, wr, gr, hr, c, gsc, 1, 1, 1)
                : gr ? CYL_FN(mlsm_row)(xr, yr, wr, gr, hr, c, gsc, 1, 1, 0)
                     : CYL_FN(mlsm_row)(xr, yr, wr, gr, hr, c, gsc, 1, 0, 0);
        } else {
            s = hr   ? CYL_FN(mlsm_row)(xr, yr, wr, gr, hr, c, gsc, 0, 1, 1)
                : gr ? CYL_FN(mlsm_row)(xr, yr, wr, gr, hr, c, gsc, 0, 1, 0)
                     : CYL_FN(mlsm_row)(xr, yr, wr, gr, hr, c, gsc, 0, 0, 0);
        }
        const double li = s * invc;
        if (k->loss) k->loss[i] = (T)li;
        acc += li;
    }
    k->part[b] = acc;
}

int CYL_FN(multilabel_soft_margin_loss_grad_hess)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const T *y,
                                                  ptrdiff_t ldy, const T *weight, ptrdiff_t ldw, double grad_scale,
                                                  T *loss, double *loss_sum, T *grad, ptrdiff_t ldg, T *hess,
                                                  ptrdiff_t ldh)
{
    if (n < 0 || c < 0 || (hess && !grad)) return CYL_ERR_ARG;
    if (c == 0) { /* 0 / 0 per row, as torch */
        for (ptrdiff_t i = 0; loss && i < n; i++)
            loss[i] = (T)NAN;
        if (loss_sum) *loss_sum = n ? NAN : 0.0;
        return CYL_OK;
    }
    CYL_FN(mlsm_ctx) k = {x, y, weight, loss, grad, hess, NULL, grad_scale, n, c, ldx, ldy, ldw, ldg, ldh,
                          CYL_FN(rows_per_block)(c)};
    const ptrdiff_t nb = (n + k.rb - 1) / k.rb;
    double one;
    if (!(k.part = CYL_FN(parts)(nb, &one))) return CYL_ERR_NOMEM;
    int st = cyl_parallel_for(nb, (double)n * (double)c * 8, CYL_FN(mlsm_block), &k);
    double total = cyl_sum_parts(k.part, nb, &one);
    if (loss_sum && st == CYL_OK) *loss_sum = total;
    return st;
}
