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
    case CYL_SOFT_MARGIN:
        k.exp_bound = 1;
        return CYL_FN(ew_run)(&k, 8.0, CYL_FN(soft_margin_block), loss_sum);
    case CYL_HINGE_EMBEDDING: return CYL_FN(ew_run)(&k, 1.0, CYL_FN(hinge_embedding_block), loss_sum);
    case CYL_MARGIN_RANKING:
        if (n > 0 && (!x2 || !y)) return CYL_ERR_ARG;
        k.b = x2;
        k.pw = y;
        return CYL_FN(ew_run)(&k, 1.0, CYL_FN(margin_ranking_block), loss_sum);
    default: return CYL_ERR_ARG;
    }
}

/* ------------------------------------------------- multi_margin_loss (rows of classes)
 * torch's MultiMarginLoss: for row x with target t, z_d = margin - x_t + x_d,
 *   l = w_t sum_{d != t} h(z_d) / c,  h(z) = max(0, z)^p, p in {1, 2};
 *   d l / d x_d = w_t h'(z_d) / c (d != t),  d l / d x_t = -sum of those,
 * h'(z) = [z > 0] (p = 1) or 2 max(0, z) (p = 2): at z = 0 neither loss nor gradient (torch's
 * z > 0 test).  A NaN z gives NaN (torch skips it: its z > 0 is false).
 * The diagonal of the Hessian (hess, needs grad): p = 1 piecewise linear, 0; p = 2
 * d2l/dx_d^2 = 2 w_t [z_d > 0] / c (d != t), d2l/dx_t^2 = the sum of those (the Hessian's
 * off-diagonal -2 w_t [z_d > 0] / c entries between x_t and x_d are not returned); a NaN z
 * counts as inactive, as the indicator Hessians of huber_loss and smooth_l1_loss do. */
typedef struct {
    const T *x, *weight;
    const int64_t *target;
    T *loss, *grad, *hess;
    double *part;
    double margin, grad_scale;
    ptrdiff_t n, c, ldx, ldg, ldh, rb;
    int p;
} CYL_FN(mm_ctx);

CYL_INLINE void CYL_FN(multi_margin_rows)(const CYL_FN(mm_ctx) *k, ptrdiff_t i0, ptrdiff_t i1, const int P2,
                                          const int HH, double *acc_out)
{
    const ptrdiff_t c = k->c;
    const T m = (T)k->margin;
    const double invc = 1.0 / (double)c;
    double acc = 0.0;
    for (ptrdiff_t i = i0; i < i1; i++) {
        const T *xr = k->x + i * k->ldx;
        const ptrdiff_t t = (ptrdiff_t)k->target[i];
        const T xt = xr[t];
        const T w = k->weight ? k->weight[t] : (T)1;
        double s = 0.0;
#pragma omp simd reduction(+:s)
        for (ptrdiff_t d = 0; d < c; d++) {
            T z = m - xt + xr[d];
            T zc = z > 0 ? z : z != z ? z : (T)0;
            T h = P2 ? zc * zc : zc;
            s += d == t ? 0.0 : (double)h;
        }
        const double li = (double)w * s * invc;
        if (k->loss) k->loss[i] = (T)li;
        acc += li;
        if (k->grad) {
            T *gr = k->grad + i * k->ldg;
            T *hr = HH ? k->hess + i * k->ldh : NULL;
            const T gsc = (T)(k->grad_scale * (double)w * invc);
            double gt = 0.0, ht = 0.0;
            /* gradient and (HH) Hessian diagonal in one pass over the row */
#pragma omp simd reduction(+:gt, ht)
            for (ptrdiff_t d = 0; d < c; d++) {
                T z = m - xt + xr[d];
                T gd = z > 0 ? (P2 ? (T)2 * z : (T)1) * gsc : z != z ? z : (T)0;
                gd = d == t ? (T)0 : gd;
                gr[d] = gd;
                gt += (double)gd;
                if (HH) {
                    T hd = z > 0 && P2 ? (T)2 * gsc : (T)0;
                    hd = d == t ? (T)0 : hd;
                    hr[d] = hd;
                    ht += (double)hd;
                }
            }
            gr[t] = (T)(-gt);
            if (HH) hr[t] = (T)ht;
        }
    }
    *acc_out = acc;
}

static void CYL_FN(multi_margin_block)(void *vctx, ptrdiff_t b, void *scratch)
{
    const CYL_FN(mm_ctx) *k = (const CYL_FN(mm_ctx) *)vctx;
    ptrdiff_t i0, i1;
    double acc;
    (void)scratch;
    CYL_FN(block_rows)(b, k->rb, k->n, &i0, &i1);
    if (k->hess) {
        if (k->p == 2) CYL_FN(multi_margin_rows)(k, i0, i1, 1, 1, &acc);
        else CYL_FN(multi_margin_rows)(k, i0, i1, 0, 1, &acc);
    } else {
        if (k->p == 2) CYL_FN(multi_margin_rows)(k, i0, i1, 1, 0, &acc);
        else CYL_FN(multi_margin_rows)(k, i0, i1, 0, 0, &acc);
    }
    k->part[b] = acc;
}

/* first row whose target is outside [0, c), or -1: classification.h's check with class 0 as
 * the "ignored" value, which is a valid class whenever there is one (c = 0: every row is bad) */
static inline ptrdiff_t CYL_FN(first_bad_class)(ptrdiff_t n, ptrdiff_t c, const int64_t *target)
{
    if (c == 0) return n > 0 ? 0 : -1;
    return CYL_FN(bad_target)(n, c, target, 0);
}

int CYL_FN(multi_margin_loss_grad_hess)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const int64_t *target,
                                        const T *weight, int p, double margin, double grad_scale, T *loss,
                                        double *loss_sum, T *grad, ptrdiff_t ldg, T *hess, ptrdiff_t ldh,
                                        ptrdiff_t *err_index)
{
    if (n < 0 || c < 0 || (p != 1 && p != 2) || (hess && !grad)) return CYL_ERR_ARG;
    ptrdiff_t bad = CYL_FN(first_bad_class)(n, c, target);
    if (bad >= 0) {
        if (err_index) *err_index = bad;
        return CYL_ERR_TARGET;
    }
    CYL_FN(mm_ctx) k = {x, weight, target, loss, grad, hess, NULL, margin, grad_scale, n, c, ldx, ldg, ldh,
                        CYL_FN(rows_per_block)(c), p};
    const ptrdiff_t nb = (n + k.rb - 1) / k.rb;
    double one;
    if (!(k.part = CYL_FN(parts)(nb, &one))) return CYL_ERR_NOMEM;
    int st = cyl_parallel_for(nb, (double)n * (double)c * 2, CYL_FN(multi_margin_block), &k);
    double total = cyl_sum_parts(k.part, nb, &one);
    if (loss_sum && st == CYL_OK) *loss_sum = total;
    return st;
}

/* ------------------------------------------ multilabel_margin_loss (rows of classes)
 * torch's MultiLabelMarginLoss: the row's targets are its target entries before the first
 * negative one (torch pads with -1); with T that set (duplicates counted as listed),
 *   l = sum_{j listed} sum_{i not in T} max(0, 1 - x_{t_j} + x_i) / c,
 * gradient +1/c at x_i and -1/c at x_{t_j} for every active pair (z > 0: at z = 0 neither,
 * torch's test); a NaN z gives NaN (torch skips it).  The membership of T is a byte mask
 * in the thread's scratch for c <= CYL_SCRATCH_BYTES, a scan of the listed targets beyond. */
typedef struct {
    const T *x;
    const int64_t *target;
    T *loss, *grad;
    double *part;
    double grad_scale;
    ptrdiff_t n, c, ldx, ldt, ldg, rb;
} CYL_FN(mlm_ctx);

static inline int CYL_FN(mlm_member)(const int64_t *tr, ptrdiff_t nt, ptrdiff_t i)
{
    for (ptrdiff_t q = 0; q < nt; q++)
        if (tr[q] == i) return 1;
    return 0;
}

/* one listed target's pass over the row (the mask case), HG constant: no test in the loop.
 * Not inlined (GCC and Clang): the block function's frame would hold both variants'
 * spilled accumulators (over the 2 KB that tools/check_stack.py allows) */
#if defined(__GNUC__) || defined(__clang__)
CYL_NOINLINE
#endif
static void CYL_FN(mlm_pass)(const T *xr, const unsigned char *mask, T xt, T *gr, T gsc, ptrdiff_t c,
                             double *sq_out, double *cnt_out, const int HG)
{
    /* two loops of one double reduction each: one loop with both spilled its unrolled
     * accumulators (a 4 KB stack frame, tools/check_stack.py) */
    double sq = 0.0, cnt = 0.0;
#pragma omp simd reduction(+:sq)
    for (ptrdiff_t i = 0; i < c; i++) {
        T z = (T)1 - xt + xr[i];
        T keep = mask[i] ? (T)0 : (T)1;
        T zc = z > 0 ? z : z != z ? z : (T)0;
        sq += (double)(keep * zc);
    }
    if (HG) {
#pragma omp simd reduction(+:cnt)
        for (ptrdiff_t i = 0; i < c; i++) {
            T z = (T)1 - xt + xr[i];
            T keep = mask[i] ? (T)0 : (T)1;
            T a = keep * (z > 0 ? (T)1 : z != z ? z : (T)0);
            cnt += (double)a;
            gr[i] += a * gsc;
        }
    }
    *sq_out = sq;
    *cnt_out = cnt;
}

static void CYL_FN(mlm_block)(void *vctx, ptrdiff_t b, void *scratch)
{
    const CYL_FN(mlm_ctx) *k = (const CYL_FN(mlm_ctx) *)vctx;
    ptrdiff_t i0, i1;
    CYL_FN(block_rows)(b, k->rb, k->n, &i0, &i1);
    const ptrdiff_t c = k->c;
    const double invc = 1.0 / (double)c;
    const T gsc = (T)(k->grad_scale * invc);
    unsigned char *mask = c > 0 && c <= CYL_SCRATCH_BYTES ? (unsigned char *)scratch : NULL;
    double acc = 0.0;
    for (ptrdiff_t r = i0; r < i1; r++) {
        const T *xr = k->x + r * k->ldx;
        const int64_t *tr = k->target + r * k->ldt;
        T *gr = k->grad ? k->grad + r * k->ldg : NULL;
        ptrdiff_t nt = 0;
        while (nt < c && tr[nt] >= 0)
            nt++;
        if (mask) {
            memset(mask, 0, (size_t)c & (size_t)(CYL_SCRATCH_BYTES * 2 - 1)); /* (c <= CYL_SCRATCH_BYTES) */
            for (ptrdiff_t q = 0; q < nt; q++)
                mask[tr[q]] = 1;
        }
        if (gr)
            CYL_FN(row_zero)(gr, c);
        double s = 0.0;
        for (ptrdiff_t q = 0; q < nt; q++) {
            const ptrdiff_t t = (ptrdiff_t)tr[q];
            const T xt = xr[t];
            double sq = 0.0, cnt = 0.0;
            if (mask && gr) {
                CYL_FN(mlm_pass)(xr, mask, xt, gr, gsc, c, &sq, &cnt, 1);
            } else if (mask) {
                CYL_FN(mlm_pass)(xr, mask, xt, gr, gsc, c, &sq, &cnt, 0);
            } else {
                for (ptrdiff_t i = 0; i < c; i++) {
                    if (CYL_FN(mlm_member)(tr, nt, i)) continue;
                    T z = (T)1 - xt + xr[i];
                    T zc = z > 0 ? z : z != z ? z : (T)0;
                    T a = z > 0 ? (T)1 : z != z ? z : (T)0;
                    sq += (double)zc;
                    cnt += (double)a;
                    if (gr) gr[i] += a * gsc;
                }
            }
            s += sq;
            if (gr) gr[t] -= (T)(cnt * (double)gsc);
        }
        const double li = s * invc;
        if (k->loss) k->loss[r] = (T)li;
        acc += li;
    }
    k->part[b] = acc;
}

int CYL_FN(multilabel_margin_loss_grad)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const int64_t *target,
                                        ptrdiff_t ldt, double grad_scale, T *loss, double *loss_sum, T *grad,
                                        ptrdiff_t ldg, ptrdiff_t *err_index)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    /* every listed target (before the row's first negative entry) in [0, c); err_index:
     * the flat position r * ldt + q of the first bad one */
    for (ptrdiff_t r = 0; r < n; r++) {
        const int64_t *tr = target + r * ldt;
        for (ptrdiff_t q = 0; q < c && tr[q] >= 0; q++)
            if (tr[q] >= c) {
                if (err_index) *err_index = r * ldt + q;
                return CYL_ERR_TARGET;
            }
    }
    CYL_FN(mlm_ctx) k = {x, target, loss, grad, NULL, grad_scale, n, c, ldx, ldt, ldg, CYL_FN(rows_per_block)(c)};
    const ptrdiff_t nb = (n + k.rb - 1) / k.rb;
    double one;
    if (!(k.part = CYL_FN(parts)(nb, &one))) return CYL_ERR_NOMEM;
    int st = cyl_parallel_for(nb, (double)n * (double)c * 4, CYL_FN(mlm_block), &k);
    double total = cyl_sum_parts(k.part, nb, &one);
    if (loss_sum && st == CYL_OK) *loss_sum = total;
    return st;
}
