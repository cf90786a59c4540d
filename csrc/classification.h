/*
 * classification.h -- cross-entropy (class and probability targets, with
 * gradient and Hessian) and NLL.
 * Part of the kernel source: included, in order, by cyl_kernels_body.h (once per scalar
 * type and CPU target; see there), never on its own.
 */

/* ------------------------------------------------------- classification losses */

/* First out-of-range target (not ignore_index), or -1.  A branch-free count
 * (vectorized) finds whether there is one; only then a scalar loop finds the first.
 * (uint64_t)t >= c covers t < 0 as well. */
static ptrdiff_t CYL_FN(bad_target)(ptrdiff_t n, ptrdiff_t c, const int64_t *target, int64_t ignore_index)
{
    ptrdiff_t nbad = 0;
#pragma omp simd reduction(+:nbad)
    for (ptrdiff_t i = 0; i < n; i++)
        nbad += (target[i] != ignore_index) & ((uint64_t)target[i] >= (uint64_t)c);
    if (nbad == 0)
        return -1;
    for (ptrdiff_t i = 0; i < n; i++) {
        int64_t t = target[i];
        if (t != ignore_index && (t < 0 || t >= c))
            return i;
    }
    return -1;
}

int CYL_FN(class_weight_sum)(ptrdiff_t n, ptrdiff_t c, const int64_t *target, const T *weight,
                             int64_t ignore_index, double *wsum, ptrdiff_t *err_index)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    double acc = 0.0;
    if (weight) {
        ptrdiff_t bad = CYL_FN(bad_target)(n, c, target, ignore_index);
        if (bad >= 0) {
            if (err_index) *err_index = bad;
            return CYL_ERR_TARGET;
        }
        for (ptrdiff_t i = 0; i < n; i++) {
            int64_t t = target[i];
            if (t != ignore_index)
                acc += (double)weight[t];
        }
    } else {
        /* the check and the count of the kept rows in one vectorized pass */
        ptrdiff_t kept = 0, nbad = 0;
#pragma omp simd reduction(+:kept, nbad)
        for (ptrdiff_t i = 0; i < n; i++) {
            ptrdiff_t keep = target[i] != ignore_index;
            kept += keep;
            nbad += keep & ((uint64_t)target[i] >= (uint64_t)c);
        }
        if (nbad) {
            if (err_index) *err_index = CYL_FN(bad_target)(n, c, target, ignore_index);
            return CYL_ERR_TARGET;
        }
        acc = (double)kept;
    }
    if (wsum) *wsum = acc;
    return CYL_OK;
}

/* Loss of one row with class target t (checked), gradient row written when gr. */
/* Loss (and gradient) of one row from its max m and sum of exp(x - m); when gr is
 * not NULL it holds the exponentials exp(x - m) and is turned into the gradient. */
/* The loss of a row is A lse - sum_c beta_c x_c with A = sum_c beta_c, beta_c = (1-eps) w_t [c = t]
 * + eps/C w_c: its gradient A p - beta, the diagonal of its Hessian A p (1 - p). */
static inline void CYL_FN(row_hess)(const T *e, ptrdiff_t c, double sum, double scaled_a, T *hr)
{
    const T inv = (T)(1.0 / sum), ca = (T)scaled_a;
#pragma omp simd
    for (ptrdiff_t j = 0; j < c; j++) {
        const T p = e[j] * inv;
        hr[j] = ca * (p * ((T)1 - p));
    }
}

static inline double CYL_FN(cross_entropy_row_finish)(const T *xr, ptrdiff_t c, int64_t t, const T *weight,
                                                      double eps, double epc, double wtot, double grad_scale,
                                                      T *gr, T *hr, T m, double sum, double lsum)
{
    double wt = weight ? (double)weight[t] : 1.0;
    double li = (1.0 - eps) * wt * (((double)m - (double)xr[t]) + lsum);
    if (eps > 0) {
        double sm = 0.0;
        if (weight) {
#pragma omp simd reduction(+:sm)
            for (ptrdiff_t j = 0; j < c; j++)
                sm += (double)weight[j] * (double)(m - xr[j]);
        } else {
#pragma omp simd reduction(+:sm)
            for (ptrdiff_t j = 0; j < c; j++)
                sm += (double)(m - xr[j]);
        }
        li += epc * (sm + wtot * lsum);
    }
    if (gr) {
        /* A = (1 - eps) w_t + eps/C sum(w); the smoothing term only when eps > 0 (an
         * infinite class weight leaves the other rows' gradients finite, as in torch) */
        const double A = (1.0 - eps) * wt + (eps > 0 ? epc * wtot : 0.0);
        if (hr) CYL_FN(row_hess)(gr, c, sum, grad_scale * A, hr);
        T a = (T)(grad_scale * A / sum);
        if (eps > 0 && weight) {
            T b = (T)(grad_scale * epc);
#pragma omp simd
            for (ptrdiff_t j = 0; j < c; j++)
                gr[j] = gr[j] * a - b * weight[j];
        } else if (eps > 0) {
            T b = (T)(grad_scale * epc);
#pragma omp simd
            for (ptrdiff_t j = 0; j < c; j++)
                gr[j] = gr[j] * a - b;
        } else {
#pragma omp simd
            for (ptrdiff_t j = 0; j < c; j++)
                gr[j] *= a;
        }
        gr[t] -= (T)(grad_scale * (1.0 - eps) * wt);
    }
    return li;
}

static inline double CYL_FN(cross_entropy_row)(const T *xr, ptrdiff_t c, int64_t t, const T *weight,
                                               double eps, double epc, double wtot, double grad_scale, T *gr,
                                               T *hr, const T *pf, T *buf)
{
    T m;
    double sum, lsm;
    CYL_FN(row_exp)(xr, c, (T)1, gr, pf, buf, &m, &sum, &lsm, 1);
    return CYL_FN(cross_entropy_row_finish)(xr, c, t, weight, eps, epc, wtot, grad_scale, gr, hr, m, sum, lsm);
}

typedef struct {
    const T *x, *weight;
    const int64_t *target;
    T *loss, *grad, *hess;
    double *part;
    double eps, epc, wtot, grad_scale;
    int64_t ignore;
    ptrdiff_t n, c, ldx, ldg, ldh, rb;
    int small;
} CYL_FN(ce_ctx);

#ifdef CYL_VEC
/* ce_tblock's output vectors: float32 recomputes e = exp(x - m) in row order (a
 * permuted max; as fast as reading e back lane by lane), float64 reads e back from
 * the group's columns (its exponential costs twice the float32 one).  Measured with
 * both choices for both dtypes, 1e6 x 10, one thread. */
#ifndef CYL_CE_RECOMP
#define CYL_CE_RECOMP CYL_T_F32
#endif
#if CYL_VBYTES == 32
/* Few classes (2 <= c <= CYL_SMALL_C, contiguous rows), no label smoothing, AVX2: the
 * block in groups of CYL_VL rows, which span exactly c vectors.  Per group, with the
 * lanes across the group's rows: the columns (into tb: lane by lane, or float64 4 x 4
 * transposes) give each row's max m and e = exp(x - m) (kept in tb) with the row sums s
 * in double, so no row is reduced by scalar code.  When the gradient is wanted, the group's c output vectors
 * follow at once: e back in row order (gix, or recomputed), each lane's A / s and 1 / s
 * put in place by a permutation (pix), g = e A / s, h = g (1 - e / s) = A p (1 - p),
 * then the target column.  The row logs (vectorized) and losses after the groups.  A group holding a NaN or an infinity (or a row of -inf) is redone by the
 * general path (ce_small_rows), with its exact conventions, by the caller; bad[]
 * marks those groups, whose rows the returned loss sum leaves out. */
static double CYL_FN(ce_tblock)(const CYL_FN(ce_ctx) *k, ptrdiff_t i0, ptrdiff_t ng, void *scratch,
                                unsigned char *bad)
{
    const ptrdiff_t c = k->c, VL = CYL_VL, rows = ng * CYL_VL;
    enum { RMAX = CYL_SMALL_BLOCK / 2 + CYL_VL };
    T *mm = (T *)scratch, *tb = mm + RMAX;
    double *sums = (double *)(tb + CYL_SMALL_C * CYL_VL), *lsums = sums + RMAX;
    int32_t *pix = (int32_t *)(lsums + RMAX), *gix = pix + 8 * CYL_SMALL_C; /* c vectors of 8 lanes */
    const T *xb = k->x + i0 * c;
    const vT M = CYL_FN(vsplat)(CYL_MAGIC);
    double acc = 0.0;
    if (k->grad) {
        for (int32_t q = 0, r = 0, col = 0; q < c * CYL_VL; q++) { /* lane q of a group: row r, column col */
#if CYL_T_F32
            pix[q] = r;
#else
            pix[2 * q] = 2 * r;
            pix[2 * q + 1] = 2 * r + 1;
#endif
            gix[q] = col * CYL_VL + r;
            if (++col == c) {
                col = 0;
                r++;
            }
        }
    }
#if CYL_T_F32
#define CYL_VMAX(a, b) ((vT)_mm256_max_ps((__m256)(a), (__m256)(b)))
#else
#define CYL_VMAX(a, b) ((vT)_mm256_max_pd((__m256d)(a), (__m256d)(b)))
#endif
    for (ptrdiff_t gi = 0; gi < ng; gi++) {
        const ptrdiff_t r0 = gi * VL;
        const T *xg = xb + r0 * c;
        vT mx;
        vI nan;
#if !CYL_T_F32
        if (c >= 4) { /* 4 x 4 blocks of the group's rows transposed (the last overlaps when 4 does not divide c) */
            mx = CYL_FN(vsplat)(-(T)INFINITY);
            nan = (vI){0};
            for (ptrdiff_t cb = 0; cb < c; cb += 4) {
                const ptrdiff_t o = cb + 4 <= c ? cb : c - 4;
                cyl_v4d a[4];
                for (int l = 0; l < 4; l++)
                    a[l] = CYL_FN(vld)(xg + l * c + o);
                cyl_tr4_f64(a);
                for (int j = 0; j < 4; j++) {
                    CYL_FN(vst)(tb + (o + j) * VL, a[j]);
                    nan |= a[j] != a[j];
                    mx = CYL_VMAX(a[j], mx); /* NaN: flagged above */
                }
            }
        } else
#endif
        {
            mx = CYL_FN(vcol)(xg, c);
            nan = mx != mx;
            CYL_FN(vst)(tb, mx);
            for (ptrdiff_t j = 1; j < c; j++) {
                const vT col = CYL_FN(vcol)(xg + j, c);
                CYL_FN(vst)(tb + j * VL, col);
                nan |= col != col;
                mx = CYL_VMAX(col, mx); /* NaN: flagged above */
            }
        }
        cyl_v4d s[CYL_VL / 4] = {{0}};
        for (ptrdiff_t j = 0; j < c; j++) {
            const vT e = CYL_FN(vexpshift)(CYL_FN(vld)(tb + j * VL) - mx, (T)1, M, 0, 1);
            CYL_FN(vst)(tb + j * VL, e);
            CYL_FN(vaccd)(s, e);
        }
        const vI inf = (mx == (T)INFINITY) | (mx == -(T)INFINITY);
        int any = 0;
        for (int l = 0; l < CYL_VL; l++)
            any |= (nan[l] | inf[l]) != 0;
        bad[gi] = (unsigned char)any;
        CYL_FN(vst)(mm + r0, mx);
        memcpy(sums + r0, s, sizeof s);
        if (!k->grad || any) continue;
        T av[CYL_VL];
        int64_t tg[CYL_VL];
        memcpy(tg, k->target + i0 + r0, sizeof tg);
        if (k->weight)
            for (int l = 0; l < CYL_VL; l++)
                av[l] = tg[l] == k->ignore ? (T)0 : (T)(k->grad_scale * (double)k->weight[tg[l]]);
        else
            for (int l = 0; l < CYL_VL; l++)
                av[l] = tg[l] == k->ignore ? (T)0 : (T)k->grad_scale;
#if CYL_T_F32
        const vT rv = (vT)_mm256_set_m128(_mm256_cvtpd_ps((__m256d)(1.0 / s[1])), _mm256_cvtpd_ps((__m256d)(1.0 / s[0])));
#else
        const vT rv = 1.0 / s[0];
#endif
        const vT fv = CYL_FN(vld)(av) * rv;
        T *gg = k->grad + (i0 + r0) * c, *hg = k->hess ? k->hess + (i0 + r0) * c : NULL;
#if !CYL_T_F32
        if (c >= 4) { /* the exponentials transposed back, 4 x 4 blocks; the row factors broadcast */
            vT fl[4], rl[4];
            for (int l = 0; l < 4; l++) {
                fl[l] = CYL_FN(vsplat)(fv[l]);
                rl[l] = CYL_FN(vsplat)(rv[l]);
            }
            for (ptrdiff_t cb = 0; cb < c; cb += 4) {
                const ptrdiff_t o = cb + 4 <= c ? cb : c - 4;
                cyl_v4d a[4];
                for (int j = 0; j < 4; j++)
                    a[j] = CYL_FN(vld)(tb + (o + j) * VL);
                cyl_tr4_f64(a);
                for (int l = 0; l < 4; l++) {
                    const vT g = a[l] * fl[l];
                    CYL_FN(vst)(gg + l * c + o, g);
                    if (hg) CYL_FN(vst)(hg + l * c + o, g * ((T)1 - a[l] * rl[l]));
                }
            }
        } else
#endif
        for (ptrdiff_t v = 0; v < c; v++) {
            cyl_v8i I;
            memcpy(&I, pix + v * 8, sizeof I);
#if CYL_CE_RECOMP
            const vT e = CYL_FN(vexpshift)(CYL_FN(vld)(xg + v * VL) - CYL_FN(vperm)(mx, I), (T)1, M, 0, 1);
#else
#if defined(__GNUC__) && !defined(__clang__) /* a false positive: every lane is set below */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
            vT e;
            for (int l = 0; l < CYL_VL; l++)
                e[l] = tb[gix[v * CYL_VL + l]];
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
            const vT g = e * CYL_FN(vperm)(fv, I);
            CYL_FN(vst)(gg + v * VL, g);
            if (hg) CYL_FN(vst)(hg + v * VL, g * ((T)1 - e * CYL_FN(vperm)(rv, I)));
        }
        for (int l = 0; l < CYL_VL; l++)
            if (tg[l] != k->ignore) gg[l * c + tg[l]] -= av[l];
    }
#undef CYL_VMAX
    /* the row logs vectorized over the block, then each row's loss w_t (m - x_t + log s) */
#pragma omp simd
    for (ptrdiff_t i = 0; i < rows; i++)
        lsums[i] = cyl_log_f64(sums[i]);
    for (ptrdiff_t gi = 0; gi < ng; gi++) {
        if (bad[gi]) continue;
        for (ptrdiff_t i = gi * VL; i < (gi + 1) * VL; i++) {
            const int64_t t = k->target[i0 + i];
            double li = 0.0;
            if (t != k->ignore) {
                const double wt = k->weight ? (double)k->weight[t] : 1.0;
                li = wt * (((double)mm[i] - (double)xb[i * c + t]) + lsums[i]);
            }
            if (k->loss) k->loss[i0 + i] = (T)li;
            acc += li;
        }
    }
    return acc;
}
#endif
#endif /* CYL_VEC */

/* Few classes: the block's exponentials in one loop (into the gradient rows when
 * wanted), the row logs vectorized too (one libm call per short row would dominate).
 * Scratch: sh, eb (T), sums, lsums (double), CYL_SMALL_BLOCK each. */
static double CYL_FN(ce_small_rows)(const CYL_FN(ce_ctx) *k, ptrdiff_t i0, ptrdiff_t i1, void *scratch)
{
    const ptrdiff_t c = k->c;
    T *sh = (T *)scratch, *eb = sh + CYL_SMALL_BLOCK;
    double *sums = (double *)(eb + CYL_SMALL_BLOCK), *lsums = sums + CYL_SMALL_BLOCK;
    T *e = k->grad ? k->grad + i0 * c : eb;
    double acc = 0.0;
    CYL_FN(small_block_lse)(k->x + i0 * c, i1 - i0, c, sh, e, sums, lsums);
    if (k->grad && k->eps == 0) {
        /* the gradient (and Hessian) in flat loops over the block: per row, the loss and
         * the factors A / sum (into sh, after the row's max is read) and 1 / sum (into eb,
         * free: the exponentials are in the gradient) spread over the row's elements;
         * then g = e A / sum, h = g (1 - e / sum) = A p (1 - p), and the target column */
        const ptrdiff_t rows = i1 - i0, nel = rows * c;
        const T *xb = k->x + i0 * c;
        T *g = e, *h = k->hess ? k->hess + i0 * c : NULL;
        for (ptrdiff_t i = 0; i < rows; i++) {
            const int64_t t = k->target[i0 + i];
            double li = 0.0, a = 0.0;
            if (t != k->ignore) {
                const double wt = k->weight ? (double)k->weight[t] : 1.0;
                li = wt * (((double)sh[i * c] - (double)xb[i * c + t]) + lsums[i]);
                a = k->grad_scale * wt;
            }
            const T f = (T)(a / sums[i]), r = (T)(1.0 / sums[i]);
            for (ptrdiff_t j = 0; j < c; j++)
                sh[i * c + j] = f;
            if (h)
                for (ptrdiff_t j = 0; j < c; j++)
                    eb[i * c + j] = r;
            sums[i] = a;
            if (k->loss) k->loss[i0 + i] = (T)li;
            acc += li;
        }
        if (h) {
#pragma omp simd
            for (ptrdiff_t q = 0; q < nel; q++) {
                const T gq = g[q] * sh[q];
                h[q] = gq * ((T)1 - g[q] * eb[q]);
                g[q] = gq;
            }
        } else {
#pragma omp simd
            for (ptrdiff_t q = 0; q < nel; q++)
                g[q] *= sh[q];
        }
        for (ptrdiff_t i = 0; i < rows; i++) {
            const int64_t t = k->target[i0 + i];
            if (t == k->ignore) { /* zero, also where the row holds NaN */
                CYL_FN(row_zero)(g + i * c, c);
                if (h) CYL_FN(row_zero)(h + i * c, c);
            } else {
                g[i * c + t] -= (T)sums[i];
            }
        }
        return acc;
    }
    for (ptrdiff_t i = i0; i < i1; i++) {
        T *er = e + (i - i0) * c;
        T *hr = k->hess ? k->hess + i * c : NULL;
        double li = 0.0;
        if (k->target[i] == k->ignore) {
            if (k->grad) CYL_FN(row_zero)(er, c);
            if (hr) CYL_FN(row_zero)(hr, c);
        } else {
            li = CYL_FN(cross_entropy_row_finish)(k->x + i * c, c, k->target[i], k->weight, k->eps, k->epc, k->wtot,
                                                  k->grad_scale, k->grad ? er : NULL, hr, sh[(i - i0) * c],
                                                  sums[i - i0], lsums[i - i0]);
        }
        if (k->loss) k->loss[i] = (T)li;
        acc += li;
    }
    return acc;
}

static double CYL_FN(ce_small_block)(const CYL_FN(ce_ctx) *k, ptrdiff_t i0, ptrdiff_t i1, void *scratch)
{
#if defined(CYL_VEC) && CYL_VBYTES == 32
    if (k->eps == 0 && k->c >= 2) {
        unsigned char bad[CYL_SMALL_BLOCK / 2 / CYL_VL + 1];
        const ptrdiff_t ng = (i1 - i0) / CYL_VL;
        double acc = ng ? CYL_FN(ce_tblock)(k, i0, ng, scratch, bad) : 0.0;
        for (ptrdiff_t gi = 0; gi < ng; gi++)
            if (bad[gi]) acc += CYL_FN(ce_small_rows)(k, i0 + gi * CYL_VL, i0 + (gi + 1) * CYL_VL, scratch);
        if (i0 + ng * CYL_VL < i1) acc += CYL_FN(ce_small_rows)(k, i0 + ng * CYL_VL, i1, scratch);
        return acc;
    }
#endif
    return CYL_FN(ce_small_rows)(k, i0, i1, scratch);
}

static void CYL_FN(ce_block)(void *vctx, ptrdiff_t b, void *scratch)
{
    const CYL_FN(ce_ctx) *k = (const CYL_FN(ce_ctx) *)vctx;
    ptrdiff_t i0, i1;
    CYL_FN(block_rows)(b, k->rb, k->n, &i0, &i1);
    if (k->small) {
        k->part[b] = CYL_FN(ce_small_block)(k, i0, i1, scratch);
        return;
    }
    double acc = 0.0;
    for (ptrdiff_t i = i0; i < i1; i++) {
        T *gr = k->grad ? k->grad + i * k->ldg : NULL;
        T *hr = k->hess ? k->hess + i * k->ldh : NULL;
        double li = 0.0;
        if (k->target[i] == k->ignore) {
            if (gr) CYL_FN(row_zero)(gr, k->c);
            if (hr) CYL_FN(row_zero)(hr, k->c);
        } else {
            li = CYL_FN(cross_entropy_row)(k->x + i * k->ldx, k->c, k->target[i], k->weight, k->eps, k->epc, k->wtot,
                                           k->grad_scale, gr, hr, CYL_FN(next_row)(k->x, i, i1, k->ldx),
                                           (T *)scratch);
        }
        if (k->loss) k->loss[i] = (T)li;
        acc += li;
    }
    k->part[b] = acc;
}

/* per-block partial sums: the caller's `one` when there is one block, else heap */
static inline double *CYL_FN(parts)(ptrdiff_t nb, double *one)
{
    return nb > 1 ? (double *)malloc((size_t)nb * sizeof(double)) : one;
}

#if defined(CYL_VEC) && CYL_VBYTES == 64
/* The AVX-512 build has no 16-lane ce_tblock: the few-classes groups run on the AVX2
 * build's kernel (8 float32 / 4 float64 rows per group), measured faster than the
 * general per-row path at 64-byte vectors (float64 1e6 x 10: 7.9 vs 11.4 ms loss). */
#define CYL_AVX2_FN__(name, s) cyl_##name##_##s##_avx2
#define CYL_AVX2_FN_(name, s) CYL_AVX2_FN__(name, s)
int CYL_AVX2_FN_(cross_entropy_loss_grad_hess, S)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx,
                                                 const int64_t *target, const T *weight, int64_t ignore_index,
                                                 double label_smoothing, double grad_scale, T *loss,
                                                 double *loss_sum, T *grad, ptrdiff_t ldg, T *hess, ptrdiff_t ldh,
                                                 ptrdiff_t *err_index);
#endif

int CYL_FN(cross_entropy_loss_grad_hess)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx,
                                         const int64_t *target, const T *weight, int64_t ignore_index,
                                         double label_smoothing, double grad_scale, T *loss, double *loss_sum,
                                         T *grad, ptrdiff_t ldg, T *hess, ptrdiff_t ldh, ptrdiff_t *err_index)
{
    if (n < 0 || c < 0 || (hess && !grad)) return CYL_ERR_ARG;
#if defined(CYL_VEC) && CYL_VBYTES == 64
    if (label_smoothing == 0 && c >= 2 && c <= CYL_SMALL_C && ldx == c && (!grad || ldg == c) &&
        (!hess || ldh == c))
        return CYL_AVX2_FN_(cross_entropy_loss_grad_hess, S)(n, c, x, ldx, target, weight, ignore_index,
                                                            label_smoothing, grad_scale, loss, loss_sum, grad,
                                                            ldg, hess, ldh, err_index);
#endif
    ptrdiff_t bad = CYL_FN(bad_target)(n, c, target, ignore_index);
    if (bad >= 0) {
        if (err_index) *err_index = bad;
        return CYL_ERR_TARGET;
    }
    CYL_FN(ce_ctx) k = {x, weight, target, loss, grad, hess, NULL, label_smoothing, 0.0, (double)c, grad_scale,
                        ignore_index, n, c, ldx, ldg, ldh, 0, 0};
    k.epc = c > 0 ? k.eps / (double)c : 0.0;
    if (weight) { /* sum of the class weights */
        k.wtot = 0.0;
        for (ptrdiff_t j = 0; j < c; j++)
            k.wtot += (double)weight[j];
    }
    k.small = c > 0 && c <= CYL_SMALL_C && ldx == c && (!grad || ldg == c) && (!hess || ldh == c);
    /* a multiple of 8 rows (whole ce_tblock groups), whatever the CPU target */
    k.rb = k.small ? (CYL_SMALL_BLOCK / c) & ~(ptrdiff_t)7 : CYL_FN(rows_per_block)(c);
    const ptrdiff_t nb = (n + k.rb - 1) / k.rb;
    double one;
    if (!(k.part = CYL_FN(parts)(nb, &one))) return CYL_ERR_NOMEM;
    int st = cyl_parallel_for(nb, (double)n * (double)c, CYL_FN(ce_block), &k);
    double total = cyl_sum_parts(k.part, nb, &one);
    if (loss_sum && st == CYL_OK) *loss_sum = total;
    return st;
}

int CYL_FN(cross_entropy_loss_grad)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx,
                                    const int64_t *target, const T *weight, int64_t ignore_index,
                                    double label_smoothing, double grad_scale, T *loss, double *loss_sum,
                                    T *grad, ptrdiff_t ldg, ptrdiff_t *err_index)
{
    return CYL_FN(cross_entropy_loss_grad_hess)(n, c, x, ldx, target, weight, ignore_index, label_smoothing,
                                                grad_scale, loss, loss_sum, grad, ldg, NULL, 0, err_index);
}

/* the loss of a row with probability targets and, when gr != NULL, its gradient (and
 * Hessian) from the exponentials e_j = exp(x_j - m) in gr, their sum and lsum =
 * log sum_j exp(x_j - m) */
static inline double CYL_FN(cross_entropy_prob_finish)(const T *xr, const T *pr, ptrdiff_t c, const T *weight,
                                                       T keep, T add, double grad_scale, T *gr, T *hr, T m,
                                                       double sum, double lsum)
{
    double a_acc = 0.0, sp = 0.0; /* sum w p' (m - x), sum w p' */
    if (weight) {
#pragma omp simd reduction(+:a_acc, sp)
        for (ptrdiff_t j = 0; j < c; j++) {
            T wq = weight[j] * (pr[j] * keep + add);
            a_acc += (double)(wq * (m - xr[j]));
            sp += (double)wq;
        }
    } else {
#pragma omp simd reduction(+:a_acc, sp)
        for (ptrdiff_t j = 0; j < c; j++) {
            T wq = pr[j] * keep + add;
            a_acc += (double)(wq * (m - xr[j]));
            sp += (double)wq;
        }
    }
    if (gr) {
        if (hr) CYL_FN(row_hess)(gr, c, sum, grad_scale * sp, hr); /* A = sum w p' */
        T a = (T)(grad_scale * sp / sum);
        T gs = (T)grad_scale;
        if (weight) {
#pragma omp simd
            for (ptrdiff_t j = 0; j < c; j++)
                gr[j] = gr[j] * a - gs * (weight[j] * (pr[j] * keep + add));
        } else {
#pragma omp simd
            for (ptrdiff_t j = 0; j < c; j++)
                gr[j] = gr[j] * a - gs * (pr[j] * keep + add);
        }
    }
    return a_acc + sp * lsum;
}

static inline double CYL_FN(cross_entropy_prob_row)(const T *xr, const T *pr, ptrdiff_t c, const T *weight,
                                                    T keep, T add, double grad_scale, T *gr, T *hr, const T *pf,
                                                    T *buf)
{
    if (c == 0) return 0.0; /* -sum over no class (else 0 * log(0) = NaN below) */
    T m;
    double sum, lsum;
    CYL_FN(row_exp)(xr, c, (T)1, gr, pf, buf, &m, &sum, &lsum, 1);
    return CYL_FN(cross_entropy_prob_finish)(xr, pr, c, weight, keep, add, grad_scale, gr, hr, m, sum, lsum);
}

typedef struct {
    const T *x, *p, *weight;
    T *loss, *grad, *hess;
    double *part;
    double grad_scale;
    T keep, add;
    ptrdiff_t n, c, ldx, ldp, ldg, ldh, rb;
    int small;
} CYL_FN(ce_prob_ctx);

/* Few classes (c <= CYL_SMALL_C_SOFTMAX, contiguous rows): the block's exponentials in
 * one flat loop and the row logs (small_block_lse, as the class-target path), then each
 * row finished by the formulas of the row path. */
static double CYL_FN(ce_prob_small_rows)(const CYL_FN(ce_prob_ctx) *k, ptrdiff_t i0, ptrdiff_t i1, void *scratch)
{
    const ptrdiff_t c = k->c, rows = i1 - i0;
    T *sh = (T *)scratch, *eb = sh + CYL_SMALL_BLOCK;
    double *sums = (double *)(eb + CYL_SMALL_BLOCK), *lsums = sums + CYL_SMALL_BLOCK;
    T *e = k->grad ? k->grad + i0 * c : eb;
    CYL_FN(small_block_lse)(k->x + i0 * c, rows, c, sh, e, sums, lsums);
    double acc = 0.0;
    for (ptrdiff_t i = 0; i < rows; i++) {
        const double li = CYL_FN(cross_entropy_prob_finish)(
            k->x + (i0 + i) * c, k->p + (i0 + i) * k->ldp, c, k->weight, k->keep, k->add, k->grad_scale,
            k->grad ? e + i * c : NULL, k->hess ? k->hess + (i0 + i) * c : NULL, sh[i * c], sums[i], lsums[i]);
        if (k->loss) k->loss[i0 + i] = (T)li;
        acc += li;
    }
    return acc;
}

static void CYL_FN(ce_prob_block)(void *vctx, ptrdiff_t b, void *scratch)
{
    const CYL_FN(ce_prob_ctx) *k = (const CYL_FN(ce_prob_ctx) *)vctx;
    ptrdiff_t i0, i1;
    CYL_FN(block_rows)(b, k->rb, k->n, &i0, &i1);
    if (k->small) {
        k->part[b] = CYL_FN(ce_prob_small_rows)(k, i0, i1, scratch);
        return;
    }
    double acc = 0.0;
    for (ptrdiff_t i = i0; i < i1; i++) {
        double li = CYL_FN(cross_entropy_prob_row)(k->x + i * k->ldx, k->p + i * k->ldp, k->c, k->weight, k->keep,
                                                   k->add, k->grad_scale, k->grad ? k->grad + i * k->ldg : NULL,
                                                   k->hess ? k->hess + i * k->ldh : NULL,
                                                   CYL_FN(next_row)(k->x, i, i1, k->ldx), (T *)scratch);
        if (k->loss) k->loss[i] = (T)li;
        acc += li;
    }
    k->part[b] = acc;
}

int CYL_FN(cross_entropy_prob_loss_grad_hess)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const T *p,
                                              ptrdiff_t ldp, const T *weight, double label_smoothing,
                                              double grad_scale, T *loss, double *loss_sum, T *grad, ptrdiff_t ldg,
                                              T *hess, ptrdiff_t ldh)
{
    if (n < 0 || c < 0 || (hess && !grad)) return CYL_ERR_ARG;
    CYL_FN(ce_prob_ctx) k = {x, p, weight, loss, grad, hess, NULL, grad_scale, (T)(1.0 - label_smoothing),
                             c > 0 ? (T)(label_smoothing / (double)c) : (T)0, n, c, ldx, ldp, ldg, ldh,
                             CYL_FN(rows_per_block)(c), 0};
    k.small = c > 0 && c <= CYL_SMALL_C_SOFTMAX && ldx == c && (!grad || ldg == c) && (!hess || ldh == c);
    if (k.small) k.rb = CYL_SMALL_BLOCK / c;
    const ptrdiff_t nb = (n + k.rb - 1) / k.rb;
    double one;
    if (!(k.part = CYL_FN(parts)(nb, &one))) return CYL_ERR_NOMEM;
    int st = cyl_parallel_for(nb, (double)n * (double)c, CYL_FN(ce_prob_block), &k);
    double total = cyl_sum_parts(k.part, nb, &one);
    if (loss_sum && st == CYL_OK) *loss_sum = total;
    return st;
}

int CYL_FN(cross_entropy_prob_loss_grad)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const T *p,
                                         ptrdiff_t ldp, const T *weight, double label_smoothing,
                                         double grad_scale, T *loss, double *loss_sum, T *grad, ptrdiff_t ldg)
{
    return CYL_FN(cross_entropy_prob_loss_grad_hess)(n, c, x, ldx, p, ldp, weight, label_smoothing, grad_scale,
                                                     loss, loss_sum, grad, ldg, NULL, 0);
}

typedef struct {
    T *grad;
    const T *weight;
    const int64_t *target;
    int64_t ignore;
    double grad_scale;
    ptrdiff_t n, c, ldg, rb;
} CYL_FN(nll_fill_ctx);

static void CYL_FN(nll_fill_block)(void *vctx, ptrdiff_t b, void *scratch)
{
    const CYL_FN(nll_fill_ctx) *k = (const CYL_FN(nll_fill_ctx) *)vctx;
    ptrdiff_t i0, i1;
    (void)scratch;
    CYL_FN(block_rows)(b, k->rb, k->n, &i0, &i1);
    for (ptrdiff_t i = i0; i < i1; i++) {
        T *gr = k->grad + i * k->ldg;
        int64_t t = k->target[i];
        CYL_FN(row_zero)(gr, k->c);
        if (t != k->ignore)
            gr[t] = (T)(-(k->weight ? (double)k->weight[t] : 1.0) * k->grad_scale);
    }
}

int CYL_FN(nll_loss_grad)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const int64_t *target,
                          const T *weight, int64_t ignore_index, double grad_scale, T *loss,
                          double *loss_sum, T *grad, ptrdiff_t ldg, ptrdiff_t *err_index)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    /* One pass over the targets: each is checked where its loss is taken, so the first
     * bad one stops the kernel (with only loss[0..i) written, the gradient untouched).
     * The losses (a gather: one row apart each) go to 4 interleaved accumulators, lane k
     * taking rows i = k mod 4 in order, then the lanes in a fixed order: independent
     * adds overlap their loads instead of waiting on one chain of adds.  The common call
     * (no weight, no per-row losses) has a loop of its own without their tests; it adds
     * -x where the other adds -1.0 * x: the same sums. */
    double lane[4] = {0.0, 0.0, 0.0, 0.0};
    for (ptrdiff_t i0 = 0; i0 < n; i0 += 4) {
        const int m = n - i0 < 4 ? (int)(n - i0) : 4;
        if (m == 4 && !weight && !loss) {
            for (int k = 0; k < 4; k++) {
                const ptrdiff_t i = i0 + k;
                const int64_t t = target[i];
                if (t != ignore_index) {
                    if ((uint64_t)t >= (uint64_t)c) {
                        if (err_index) *err_index = i;
                        return CYL_ERR_TARGET;
                    }
                    lane[k] -= (double)x[i * ldx + t];
                }
            }
            continue;
        }
        for (int k = 0; k < m; k++) {
            const ptrdiff_t i = i0 + k;
            const int64_t t = target[i];
            double li = 0.0;
            if (t != ignore_index) {
                if ((uint64_t)t >= (uint64_t)c) {
                    if (err_index) *err_index = i;
                    return CYL_ERR_TARGET;
                }
                li = -(weight ? (double)weight[t] : 1.0) * (double)x[i * ldx + t];
            }
            if (loss) loss[i] = (T)li;
            lane[k] += li;
        }
    }
    int st = CYL_OK;
    if (grad) {
        /* mostly zeros: a memory-bound fill, threaded over rows */
        CYL_FN(nll_fill_ctx) k = {grad, weight, target, ignore_index, grad_scale, n, c, ldg,
                                  CYL_FN(rows_per_block)(c)};
        st = cyl_parallel_for((n + k.rb - 1) / k.rb, (double)n * (double)c / 8, CYL_FN(nll_fill_block), &k);
    }
    if (loss_sum) *loss_sum = (lane[0] + lane[1]) + (lane[2] + lane[3]);
    return st;
}
