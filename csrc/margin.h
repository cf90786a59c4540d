/*
 * margin.h -- elementwise margin losses of torch.nn.functional: soft margin, hinge
 * embedding, margin ranking.
 * Part of the kernel source: included, in order, by cyl_kernels_body.h (once per scalar
 * type and CPU target; see there), never on its own.
 *
 * kind CYL_SOFT_MARGIN:     l = log(1 + exp(-y x)) as softplus(-y x) = max(-y x, 0) +
 *                           log1p(exp(-|y x|)) (finite where torch's log1p(exp(.))
 *                           overflows); g = -y sigmoid(-y x); h = y^2 sigmoid (1 - sigmoid).
 * kind CYL_HINGE_EMBEDDING: l = [y != 1] max(0, margin - x) + [y != -1] x (torch's where()
 *                           form: a y other than +-1 gets both terms); g = -[y != 1]
 *                           [margin - x >= 0] + [y != -1]; h = 0.
 * kind CYL_MARGIN_RANKING:  z = -y (x1 - x2) + margin, l = max(0, z); d/dx1 = -y [z >= 0],
 *                           d/dx2 = -d/dx1 (the caller's); h = 0.
 * The clamps keep NaN (max(0, NaN) = NaN, as torch's clamp_min) and the gradient of a NaN
 * z is NaN; at z = 0 the gradient is torch's (clamp_min passes it through at equality).
 */

CYL_INLINE T CYL_FN(margin_elem)(ptrdiff_t i, const T *a, const T *b, const T *c, T m, T gs, T *loss, T *grad,
                                 T *hess, const int KIND, const int HG, const int HH, const int HL)
{
    const T *w = NULL;
    const int HW = 0;
    T l, g, h = 0;
    (void)w;
    if (KIND == CYL_SOFT_MARGIN) {
        T z = -b[i] * a[i];
        T az = z < 0 ? -z : z;
        T e = EXPNEG(-az);
        l = (z > 0 ? z : (T)0) + LOG1PU(e);
        l = z != z ? z : l;
        T inv = (T)1 / ((T)1 + e);
        T sig = z >= 0 ? inv : e * inv; /* sigmoid(z) */
        g = -b[i] * sig;
        if (HH) h = b[i] * b[i] * (e * inv * inv);
    } else if (KIND == CYL_HINGE_EMBEDDING) {
        T x = a[i], y = b[i];
        T z = m - x;
        T clamp = z < 0 ? (T)0 : z;
        T gz = z >= 0 ? (T)-1 : z < 0 ? (T)0 : z; /* NaN z: NaN */
        l = (y != (T)1 ? clamp : (T)0) + (y != (T)-1 ? x : (T)0);
        g = (y != (T)1 ? gz : (T)0) + (y != (T)-1 ? (T)1 : (T)0);
    } else { /* CYL_MARGIN_RANKING: b = x2, c = y */
        T y = c[i];
        T z = -y * (a[i] - b[i]) + m;
        l = z < 0 ? (T)0 : z;
        g = z >= 0 ? -y : z < 0 ? (T)0 : z;
    }
    CYL_EW_STORE(l, g, h);
    return l;
}

CYL_INLINE double CYL_FN(margin_run)(ptrdiff_t n, const T *a, const T *b, const T *c, T m, T gs, T *loss, T *grad,
                                     T *hess, const int KIND, const int HG, const int HH, const int HL)
{
    CYL_LANE_SUM(n, CYL_FN(margin_elem)(i, a, b, c, m, gs, loss, grad, hess, KIND, HG, HH, HL));
}

#define CYL_MARGIN_CALL(KIND, HG, HH, HL) \
    acc = CYL_FN(margin_run)(len, a + i0, b + i0, CYL_OFF(c), k_->prm, gs, CYL_OFF(loss), CYL_OFF(grad), \
                             CYL_OFF(hess), KIND, HG, HH, HL)
#define CYL_MARGIN_BLOCK(KIND) \
    { \
        CYL_EW_PROLOGUE; \
        const T *a = k_->a, *b = k_->b, *c = k_->pw; \
        (void)weight; \
        CYL_SPEC_G(CYL_MARGIN_CALL, KIND); \
        k_->part[b_] = acc; \
    }
static void CYL_FN(soft_margin_block)(void *vctx, ptrdiff_t b_, void *scratch_) CYL_MARGIN_BLOCK(CYL_SOFT_MARGIN)
static void CYL_FN(hinge_embedding_block)(void *vctx, ptrdiff_t b_, void *scratch_)
    CYL_MARGIN_BLOCK(CYL_HINGE_EMBEDDING)
static void CYL_FN(margin_ranking_block)(void *vctx, ptrdiff_t b_, void *scratch_)
    CYL_MARGIN_BLOCK(CYL_MARGIN_RANKING)
#undef CYL_MARGIN_BLOCK

int CYL_FN(margin_loss_grad_hess)(int kind, ptrdiff_t n, const T *x1, const T *x2, const T *y, double margin,
                                  double grad_scale, T *loss, double *loss_sum, T *grad, T *hess)
{
    if (hess && !grad) return CYL_ERR_ARG;
    CYL_FN(ew_ctx) k = {x1, y, NULL, NULL, loss, grad, hess, NULL, (T)grad_scale, (T)margin, n};
    switch (kind) {
    case CYL_SOFT_MARGIN: return CYL_FN(ew_run)(&k, 8.0, CYL_FN(soft_margin_block), loss_sum);
    case CYL_HINGE_EMBEDDING: return CYL_FN(ew_run)(&k, 1.0, CYL_FN(hinge_embedding_block), loss_sum);
    case CYL_MARGIN_RANKING:
        if (n > 0 && (!x2 || !y)) return CYL_ERR_ARG;
        k.b = x2;
        k.pw = y;
        return CYL_FN(ew_run)(&k, 1.0, CYL_FN(margin_ranking_block), loss_sum);
    default: return CYL_ERR_ARG;
    }
}
