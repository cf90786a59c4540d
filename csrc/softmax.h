/*
 * softmax.h -- softmax, log_softmax, logsumexp, their backward kernels, entropy.
 * Part of the kernel source: included, in order, by cyl_kernels_body.h (once per scalar
 * type and CPU target; see there), never on its own.
 */

/* ------------------------------------------------------------- softmax family */

#if CYL_NT_X86
/* Streamed log_softmax rows (softmax_any's nt): every whole 64-byte line of the output
 * row is written with non-temporal stores, so no output line is read before it is
 * written; the values are those of the cached loop.  With the vector code (CYL_VEC,
 * rows.h CYL_STREAM_VROW): outputs of CYL_NT_LSM_MIN_BYTES (4 MB) or more in rows of at least
 * CYL_NT_LSM_MIN_ROW (2 KB).  Measured on a Zen 3 (AVX2, one thread float32, streamed /
 * cached ms, one process, two runs): 4096x1000 3.74 / 4.41 and 4.50 / 5.00, 2048x4000
 * 8.1 / 9.8 and 10.5 / 12.7, 512x7936 5.6 / 6.8 and 4.7 / 6.7, 1024x1000 (4 MB) 0.88 /
 * 0.89; on a Zen 4 (AVX-512) rows of 1 KB measured slower streamed (65536x250 13.9 /
 * 10.4), hence the row length.  Without the vector code, CYL_NT_ROW below (groups of 16
 * elements computed into an aligned local buffer, then streamed) for outputs of
 * CYL_NT_MIN_BYTES in rows of 8 KB.  softmax measured no faster streamed (its
 * exponentials then need a buffer besides the output row: Zen 3, 4096x1000 3.24 / 3.34
 * and 3.23 / 3.19 ms, 2048x4000 7.7 / 7.4 and 9.3 / 8.6; Zen 4 512x32000 9.3 / 7.9) and
 * stays cached. */
#define CYL_NT_ROW(y, c, EXPR) \
    do { \
        ptrdiff_t p_ = (ptrdiff_t)(((64 - ((uintptr_t)(y) & 63)) & 63) / sizeof(T)); \
        if (p_ > (c)) p_ = (c); \
        ptrdiff_t j = 0; \
        for (; j < p_; j++) \
            (y)[j] = (EXPR); \
        _Alignas(64) T b_[16]; \
        for (ptrdiff_t j0_ = j; j0_ + 16 <= (c); j0_ += 16) { \
            CYL_PRAGMA(omp simd) \
            for (int k_ = 0; k_ < 16; k_++) { \
                const ptrdiff_t j = j0_ + k_; \
                b_[k_] = (EXPR); \
            } \
            cyl_stream_lines((y) + j0_, b_, sizeof b_); \
            j = j0_ + 16; \
        } \
        for (; j < (c); j++) \
            (y)[j] = (EXPR); \
    } while (0)
#endif

static inline void CYL_FN(softmax_row)(const T *xr, T *yr, ptrdiff_t c, T s, int log_out, const T *pf, T *buf,
                                       int nt)
{
    T m;
    double sum, lsm;
    if (log_out) {
        /* y = s (x - m) - lsm: x - m is exact near the max, and |y| >= |s (x - m)| */
        CYL_FN(row_exp)(xr, c, s, NULL, pf, buf, &m, &sum, &lsm, 1);
        const T l = (T)lsm;
#if CYL_NT_X86
        if (nt) {
#ifdef CYL_VEC
            const vT mv = CYL_FN(vsplat)(m), sv = CYL_FN(vsplat)(s), lv = CYL_FN(vsplat)(l);
#define CYL_LSM_V(j, n) ((CYL_FN(vld_n)(xr + (j), (n), (T)0) - mv) * sv - lv)
            CYL_STREAM_VROW(yr, c, CYL_LSM_V);
#undef CYL_LSM_V
#else
            CYL_NT_ROW(yr, c, (xr[j] - m) * s - l);
#endif
            return;
        }
#endif
        (void)nt;
#pragma omp simd
        for (ptrdiff_t j = 0; j < c; j++)
            yr[j] = (xr[j] - m) * s - l;
    } else {
        CYL_FN(row_exp)(xr, c, s, yr, pf, buf, &m, &sum, NULL, 0);
        T r = (T)(1.0 / sum);
#pragma omp simd
        for (ptrdiff_t j = 0; j < c; j++)
            yr[j] *= r;
    }
}

/* softmax / log_softmax of a block of `rows` contiguous short rows (see small_block_exp);
 * y may be x.  Scratch: sh, eb (T) and sums (double), CYL_SMALL_BLOCK each. */
static void CYL_FN(softmax_small_block)(const T *x, T *y, ptrdiff_t rows, ptrdiff_t c, T s, int log_out,
                                        void *scratch)
{
    T *sh = (T *)scratch, *eb = sh + CYL_SMALL_BLOCK;
    double *sums = (double *)(eb + CYL_SMALL_BLOCK);
    const ptrdiff_t nel = rows * c;
    T *e = log_out ? eb : y;
    CYL_FN(small_block_exp)(x, rows, c, s, sh, e);
    if (log_out) {
        /* y = s (x - m) - log(sum), the log-sums spread over the row's elements in eb */
        for (ptrdiff_t i = 0; i < rows; i++)
            sums[i] = CYL_FN(small_row_sum)(e + i * c, c);
#pragma omp simd
        for (ptrdiff_t i = 0; i < rows; i++)
            sums[i] = cyl_log_f64(sums[i]);
        for (ptrdiff_t i = 0; i < rows; i++) {
            T lse = (T)sums[i];
            for (ptrdiff_t j = 0; j < c; j++)
                eb[i * c + j] = lse;
        }
#pragma omp simd
        for (ptrdiff_t k = 0; k < nel; k++)
            y[k] = (x[k] - sh[k]) * s - eb[k];
    } else {
        for (ptrdiff_t i = 0; i < rows; i++) {
            T r = (T)(1.0 / CYL_FN(small_row_sum)(e + i * c, c));
            for (ptrdiff_t j = 0; j < c; j++)
                sh[i * c + j] = r;
        }
#pragma omp simd
        for (ptrdiff_t k = 0; k < nel; k++)
            y[k] *= sh[k];
    }
}

typedef struct {
    const T *x;
    T *y;
    ptrdiff_t n, c, ldx, ldy, rb;
    T s;
    int log_out, small, nt;
} CYL_FN(softmax_ctx);

static void CYL_FN(softmax_block)(void *vctx, ptrdiff_t b, void *scratch)
{
    const CYL_FN(softmax_ctx) *k = (const CYL_FN(softmax_ctx) *)vctx;
    ptrdiff_t i0, i1;
    CYL_FN(block_rows)(b, k->rb, k->n, &i0, &i1);
    if (k->small) {
        CYL_FN(softmax_small_block)(k->x + i0 * k->c, k->y + i0 * k->c, i1 - i0, k->c, k->s, k->log_out, scratch);
        return;
    }
    for (ptrdiff_t i = i0; i < i1; i++)
        CYL_FN(softmax_row)(k->x + i * k->ldx, k->y + i * k->ldy, k->c, k->s, k->log_out,
                            CYL_FN(next_row)(k->x, i, i1, k->ldx), (T *)scratch, k->nt);
#if CYL_NT_X86
    if (k->nt) _mm_sfence();
#endif
}

static int CYL_FN(softmax_any)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, T *y, ptrdiff_t ldy,
                               double inv_temperature, int log_out)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    CYL_FN(softmax_ctx) k = {x, y, n, c, ldx, ldy, 0, (T)inv_temperature, log_out, 0};
    k.small = c > 0 && c <= CYL_SMALL_C_SOFTMAX && ldx == c && ldy == c;
    if (log_out)
#if defined(CYL_VEC)
        k.nt = CYL_NT_X86 && !k.small && CYL_FN(stream_rows)(n, c, y);
#else
        k.nt = CYL_NT_X86 && !k.small && (double)n * (double)c * (double)sizeof(T) >= CYL_NT_MIN_BYTES &&
               (double)c * (double)sizeof(T) >= 8192.0 && ((uintptr_t)y % sizeof(T)) == 0;
#endif
    else
        k.nt = 0; /* softmax: measured no faster streamed (see above) */
    k.rb = k.small ? CYL_SMALL_BLOCK / c : CYL_FN(rows_per_block)(c);
    return cyl_parallel_for((n + k.rb - 1) / k.rb, (double)n * (double)c, CYL_FN(softmax_block), &k);
}

int CYL_FN(softmax)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, T *y, ptrdiff_t ldy,
                    double inv_temperature)
{
    return CYL_FN(softmax_any)(n, c, x, ldx, y, ldy, inv_temperature, 0);
}

int CYL_FN(log_softmax)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, T *y, ptrdiff_t ldy,
                        double inv_temperature)
{
    return CYL_FN(softmax_any)(n, c, x, ldx, y, ldy, inv_temperature, 1);
}

static inline void CYL_FN(logsumexp_row)(const T *xr, const T *br, ptrdiff_t c, T *out, T *sign, const T *pf,
                                         T *buf)
{
    T m;
    double sum = 0.0;
    if (br == NULL) {
        double lsm;
        if (CYL_FN(row_exp)(xr, c, (T)1, NULL, pf, buf, &m, &sum, &lsm, 1)) {
            /* lsm has relative accuracy (row_exp), so m + lsm does near 0 too */
            const double lse = (double)m + lsm;
            if (sign) *sign = (T)1;
            *out = (T)lse;
            return;
        }
        /* NaN, +-inf or huge values in the row: the previous path */
        sum = 0.0;
        m = CYL_FN(row_max)(xr, c);
        if (isfinite(m)) {
            /* The sum of all the terms (the maxima's are exactly 1) by the same pass as the
             * other row kernels.  m + log(sum) has an absolute error of a few double
             * roundings: relatively accurate unless the result is small (a NaN in the row
             * gives NaN here and returns). */
            double lse = (double)m + log(CYL_FN(row_expsum)(xr, c, m, (T)1, NULL, pf, buf));
            if (!(fabs(lse) < 2.0)) {
                if (sign) *sign = lse == lse ? (T)1 : (T)lse; /* sign of a NaN sum: NaN */
                *out = (T)lse;
                return;
            }
            /* |result| < 2: log(sum) = log1p((k - 1) + sum of the terms below the max), k =
             * number of maxima (each term exactly 1), keeps relative accuracy near 0 (scipy
             * does the same).  NaN is not == m and lands in `rest`. */
            double rest = 0.0;
            ptrdiff_t k = 0;
            for (ptrdiff_t j0 = 0; j0 < c; j0 += CYL_BLOCK) {
                ptrdiff_t len = c - j0 < CYL_BLOCK ? c - j0 : CYL_BLOCK;
                const T *xb = xr + j0;
#pragma omp simd reduction(+:k)
                for (ptrdiff_t j = 0; j < len; j++)
                    k += xb[j] == m;
#pragma omp simd
                for (ptrdiff_t j = 0; j < len; j++)
                    buf[j] = xb[j] == m ? (T)0 : EXPNEG(xb[j] - m);
                rest += CYL_FN(row_sum)(buf, len);
            }
            lse = (double)m + log1p((double)(k - 1) + rest);
            if (sign) *sign = lse == lse ? (T)1 : (T)lse;
            *out = (T)lse;
            return;
        }
        /* m = +-inf (or NaN): no shift; inf terms give inf, all -inf gives log 0 = -inf */
#pragma omp simd reduction(+:sum)
        for (ptrdiff_t j = 0; j < c; j++)
            sum += (double)EXP(xr[j]);
        m = 0;
    } else {
        /* terms with b == 0 are dropped, even when x is inf or NaN (scipy) */
        m = -INFINITY;
#if !defined(__clang__) /* clang cannot vectorize a NaN-respecting max (-Wpass-failed) */
#pragma omp simd reduction(max:m)
#endif
        for (ptrdiff_t j = 0; j < c; j++) {
            T v = br[j] != 0 ? xr[j] : -INFINITY;
            m = v > m ? v : m;
        }
        T shift = isfinite(m) ? m : (T)0;
#pragma omp simd reduction(+:sum)
        for (ptrdiff_t j = 0; j < c; j++) {
            T v = br[j] * EXP(xr[j] - shift);
            sum += br[j] != 0 ? (double)v : 0.0;
        }
        m = shift;
        if (isfinite(shift) && sum != 0 && fabs((double)m + log(fabs(sum))) < 2.0) {
            /* near 0: log|S| = log1p(|S| - 1) with S = A + rest, A = the sum of the b of
             * the maxima (their terms are exactly b) and rest the other terms, so that the
             * result keeps relative accuracy as in the unweighted path */
            double A = 0.0, rest = 0.0, lanes[16] = {0};
            ptrdiff_t j = 0;
            for (; j + 16 <= c; j += 16) { /* 16 lanes: short rounding chains, as row_sum */
#pragma omp simd
                for (int k = 0; k < 16; k++) {
                    const T xv = xr[j + k], bv = br[j + k];
                    const double v = (double)bv * (double)EXP(xv - shift);
                    lanes[k] += (bv != 0 && xv != shift) ? v : 0.0;
                }
            }
            for (; j < c; j++)
                if (br[j] != 0 && xr[j] != shift) rest += (double)br[j] * (double)EXP(xr[j] - shift);
            for (int k = 0; k < 16; k++)
                rest += lanes[k];
            for (j = 0; j < c; j++)
                A += xr[j] == shift ? (double)br[j] : 0.0;
            const double S = A + rest;
            if (S > 0 || (S < 0 && sign)) { /* (a negative sum without sign: NaN below) */
                const double l = S > 0 ? log1p((A - 1.0) + rest) : log1p((-A - 1.0) - rest);
                if (sign) *sign = S > 0 ? (T)1 : (T)-1;
                *out = (T)((double)m + l);
                return;
            }
        }
    }
    if (sign) {
        *sign = sum > 0 ? (T)1 : sum < 0 ? (T)-1 : sum == 0 ? (T)0 : (T)sum;
        *out = (T)((double)m + log(fabs(sum)));
    } else {
        *out = (T)((double)m + log(sum));
    }
}

/* logsumexp of `rows` contiguous short rows (c <= CYL_SMALL_C, no b): the
 * exponentials of the whole block in one loop (small_block_exp), the maxima's terms
 * (exactly 1) zeroed and counted so that log1p((k - 1) + rest) keeps the relative
 * accuracy of logsumexp_row, and the row logs vectorized.  Rows whose max is not
 * finite go through logsumexp_row. */
static void CYL_FN(logsumexp_small_block)(const T *x, ptrdiff_t rows, ptrdiff_t c, T *out, T *sign,
                                          void *scratch)
{
    T *sh = (T *)scratch, *e = sh + CYL_SMALL_BLOCK;
    double *v = (double *)(e + CYL_SMALL_BLOCK);
    T *buf = (T *)(v + CYL_SMALL_BLOCK);
    const ptrdiff_t nel = rows * c;
    CYL_FN(small_block_exp)(x, rows, c, (T)1, sh, e);
#pragma omp simd
    for (ptrdiff_t k = 0; k < nel; k++)
        e[k] = x[k] == sh[k] ? (T)0 : e[k];
    for (ptrdiff_t i = 0; i < rows; i++) {
        const T *xr = x + i * c;
        ptrdiff_t k = 0;
        for (ptrdiff_t j = 0; j < c; j++)
            k += xr[j] == sh[i * c];
        v[i] = (double)(k - 1) + CYL_FN(small_row_sum)(e + i * c, c);
    }
#pragma omp simd
    for (ptrdiff_t i = 0; i < rows; i++)
        v[i] = cyl_log1p_unit_f64(v[i]); /* Goldberg's log1p: exact to first order for any v >= 0 */
    for (ptrdiff_t i = 0; i < rows; i++) {
        T m = sh[i * c];
        if (isfinite(m)) {
            out[i] = (T)((double)m + v[i]);
            if (sign) sign[i] = v[i] == v[i] ? (T)1 : (T)v[i];
        } else {
            CYL_FN(logsumexp_row)(x + i * c, NULL, c, out + i, sign ? sign + i : NULL, NULL, buf);
        }
    }
}

typedef struct {
    const T *x, *b;
    T *out, *sign;
    ptrdiff_t n, c, ldx, ldb, rb;
    int small;
} CYL_FN(logsumexp_ctx);

static void CYL_FN(logsumexp_block)(void *vctx, ptrdiff_t bl, void *scratch)
{
    const CYL_FN(logsumexp_ctx) *k = (const CYL_FN(logsumexp_ctx) *)vctx;
    ptrdiff_t i0, i1;
    CYL_FN(block_rows)(bl, k->rb, k->n, &i0, &i1);
    if (k->small) {
        CYL_FN(logsumexp_small_block)(k->x + i0 * k->c, i1 - i0, k->c, k->out + i0, k->sign ? k->sign + i0 : NULL,
                                      scratch);
        return;
    }
    for (ptrdiff_t i = i0; i < i1; i++)
        CYL_FN(logsumexp_row)(k->x + i * k->ldx, k->b ? k->b + i * k->ldb : NULL, k->c, k->out + i,
                              k->sign ? k->sign + i : NULL, CYL_FN(next_row)(k->x, i, i1, k->ldx), (T *)scratch);
}

int CYL_FN(logsumexp)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const T *b, ptrdiff_t ldb,
                      T *out, T *sign)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    CYL_FN(logsumexp_ctx) k = {x, b, out, sign, n, c, ldx, ldb, 0, 0};
    k.small = b == NULL && c > 0 && c <= CYL_SMALL_C && ldx == c;
    k.rb = k.small ? CYL_SMALL_BLOCK / c : CYL_FN(rows_per_block)(c);
    return cyl_parallel_for((n + k.rb - 1) / k.rb, (double)n * (double)c, CYL_FN(logsumexp_block), &k);
}

/* one row of logsumexp_partial: (max, sum exp(x - max)) in double (see cyloss.h) */
static inline void CYL_FN(lse_partial_row)(const T *xr, ptrdiff_t c, double *mo, double *so, const T *pf, T *buf)
{
    T m;
    double sum, lsm;
    if (c > 0 && CYL_FN(row_exp)(xr, c, (T)1, NULL, pf, buf, &m, &sum, &lsm, 1)) {
        /* lsm = log sum exp(x - m) with relative accuracy (row_exp) */
        *mo = (double)m;
        *so = exp(lsm);
        return;
    }
    /* NaN, +-inf or huge values, or an empty row */
    double mx = -INFINITY;
    int nan = 0;
    for (ptrdiff_t j = 0; j < c; j++) {
        const double v = (double)xr[j];
        nan |= v != v;
        mx = v > mx ? v : mx;
    }
    if (nan) {
        *mo = NAN;
        *so = NAN;
    } else if (mx == -INFINITY) {
        *mo = -INFINITY;
        *so = 0.0;
    } else if (mx == INFINITY) {
        *mo = INFINITY;
        *so = 1.0;
    } else {
        double s = 0.0;
        for (ptrdiff_t j = 0; j < c; j++)
            s += exp((double)xr[j] - mx);
        *mo = mx;
        *so = s;
    }
}

typedef struct {
    const T *x;
    double *m, *s;
    ptrdiff_t n, c, ldx, rb;
} CYL_FN(lse_partial_ctx);

static void CYL_FN(lse_partial_block)(void *vctx, ptrdiff_t bl, void *scratch)
{
    const CYL_FN(lse_partial_ctx) *k = (const CYL_FN(lse_partial_ctx) *)vctx;
    ptrdiff_t i0, i1;
    CYL_FN(block_rows)(bl, k->rb, k->n, &i0, &i1);
    for (ptrdiff_t i = i0; i < i1; i++)
        CYL_FN(lse_partial_row)(k->x + i * k->ldx, k->c, k->m + i, k->s + i, CYL_FN(next_row)(k->x, i, i1, k->ldx),
                                (T *)scratch);
}

int CYL_FN(logsumexp_partial)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, double *m, double *s)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    CYL_FN(lse_partial_ctx) k = {x, m, s, n, c, ldx, CYL_FN(rows_per_block)(c)};
    return cyl_parallel_for((n + k.rb - 1) / k.rb, (double)n * (double)c, CYL_FN(lse_partial_block), &k);
}

typedef struct {
    const T *x, *w;
    const int64_t *t;
    double *m, *s, *xt, *xs;
    unsigned char *found;
    int64_t off;
    ptrdiff_t n, c, ldx, rb;
} CYL_FN(ce_partial_ctx);

static void CYL_FN(ce_partial_block)(void *vctx, ptrdiff_t bl, void *scratch)
{
    const CYL_FN(ce_partial_ctx) *k = (const CYL_FN(ce_partial_ctx) *)vctx;
    ptrdiff_t i0, i1;
    CYL_FN(block_rows)(bl, k->rb, k->n, &i0, &i1);
    const ptrdiff_t c = k->c;
    for (ptrdiff_t i = i0; i < i1; i++) {
        const T *xr = k->x + i * k->ldx;
        CYL_FN(lse_partial_row)(xr, c, k->m + i, k->s + i, CYL_FN(next_row)(k->x, i, i1, k->ldx), (T *)scratch);
        /* the target's position in the shard, compared before any subtraction can overflow */
        const int64_t t = k->t[i];
        const int in = t >= k->off && t - k->off < (int64_t)c;
        k->found[i] = (unsigned char)in;
        k->xt[i] = in ? (double)xr[t - k->off] : 0.0;
        if (k->xs) {
            double acc = 0.0;
            if (k->w) {
#pragma omp simd reduction(+:acc)
                for (ptrdiff_t j = 0; j < c; j++)
                    acc += (double)k->w[j] * (double)xr[j];
            } else {
#pragma omp simd reduction(+:acc)
                for (ptrdiff_t j = 0; j < c; j++)
                    acc += (double)xr[j];
            }
            k->xs[i] = acc;
        }
    }
}

int CYL_FN(cross_entropy_partial)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const int64_t *target,
                                  int64_t class_offset, const T *weight, double *m, double *s, double *x_target,
                                  unsigned char *found, double *x_sum)
{
    if (n < 0 || c < 0 || class_offset < 0) return CYL_ERR_ARG;
    CYL_FN(ce_partial_ctx) k = {x, weight, target, m, s, x_target, x_sum, found, class_offset, n, c, ldx,
                                CYL_FN(rows_per_block)(c)};
    return cyl_parallel_for((n + k.rb - 1) / k.rb, (double)n * (double)c, CYL_FN(ce_partial_block), &k);
}

/* one vector of the backward kernels: elements [j, j + n) of y (g - d) (softmax), or of
 * g - exp(y) s for log-probabilities y (no NaN, max <= 0: the row kernels' exponential,
 * terms below about the smallest normal number flushed to +0); lanes >= n padded */
#ifdef CYL_VEC
#define CYL_BWD_SM(j, n) (CYL_FN(vld_n)(yr + (j), (n), (T)0) * (CYL_FN(vld_n)(gr + (j), (n), (T)0) - dv))
#define CYL_BWD_LSM(j, n) \
    (CYL_FN(vld_n)(gr + (j), (n), (T)0) - \
     CYL_FN(vexpshift)(CYL_FN(vld_n)(yr + (j), (n), -(T)INFINITY), (T)1, M, 0, 1) * sv)
#endif

static inline void CYL_FN(softmax_backward_row)(const T *yr, const T *gr, T *o, ptrdiff_t c, int log_in, int nt)
{
    (void)nt;
    if (log_in) {
        T s = (T)CYL_FN(row_sum)(gr, c);
#ifdef CYL_VEC
        /* log-probabilities (no NaN, max <= 0): the row kernels' exponential, half the
         * work of the general one; every element by the same vector code (the row's
         * last partial vector padded); other rows: the general exp */
        T m, mn;
        int isnan;
        CYL_FN(row_stats)(yr, c, &m, &mn, &isnan);
        if (!isnan && m <= 0) {
            const vT M = CYL_FN(vsplat)(CYL_MAGIC), sv = CYL_FN(vsplat)(s);
#if CYL_NT_X86
            if (nt) {
                CYL_STREAM_VROW(o, c, CYL_BWD_LSM);
                return;
            }
#endif
            const ptrdiff_t VL = CYL_VL, step = 2 * CYL_VL;
            ptrdiff_t j = 0;
            for (; j + step <= c; j += step) {
                const vT e0 = CYL_FN(vexpshift)(CYL_FN(vld)(yr + j), (T)1, M, 0, 1);
                const vT e1 = CYL_FN(vexpshift)(CYL_FN(vld)(yr + j + VL), (T)1, M, 0, 1);
                CYL_FN(vst)(o + j, CYL_FN(vld)(gr + j) - e0 * sv);
                CYL_FN(vst)(o + j + VL, CYL_FN(vld)(gr + j + VL) - e1 * sv);
            }
            for (; j < c; j += VL) {
                const ptrdiff_t n = c - j < VL ? c - j : VL;
                CYL_FN(vst_n)(o + j, CYL_BWD_LSM(j, n), n);
            }
            return;
        }
#endif
#pragma omp simd
        for (ptrdiff_t j = 0; j < c; j++)
            o[j] = gr[j] - EXP(yr[j]) * s;
    } else {
        T d = (T)CYL_FN(row_dot)(yr, gr, c);
#if CYL_NT_X86 && defined(CYL_VEC)
        if (nt) {
            const vT dv = CYL_FN(vsplat)(d);
            CYL_STREAM_VROW(o, c, CYL_BWD_SM);
            return;
        }
#endif
#pragma omp simd
        for (ptrdiff_t j = 0; j < c; j++)
            o[j] = yr[j] * (gr[j] - d);
    }
}
#undef CYL_BWD_SM
#undef CYL_BWD_LSM

typedef struct {
    const T *y, *g;
    T *out;
    ptrdiff_t n, c, ldy, ldg, ldo, rb;
    int log_in, nt;
} CYL_FN(backward_ctx);

static void CYL_FN(backward_block)(void *vctx, ptrdiff_t b, void *scratch)
{
    const CYL_FN(backward_ctx) *k = (const CYL_FN(backward_ctx) *)vctx;
    ptrdiff_t i0, i1;
    (void)scratch;
    CYL_FN(block_rows)(b, k->rb, k->n, &i0, &i1);
    for (ptrdiff_t i = i0; i < i1; i++)
        CYL_FN(softmax_backward_row)(k->y + i * k->ldy, k->g + i * k->ldg, k->out + i * k->ldo, k->c, k->log_in,
                                     k->nt);
#if CYL_NT_X86
    if (k->nt) _mm_sfence();
#endif
}

static int CYL_FN(backward_any)(ptrdiff_t n, ptrdiff_t c, const T *y, ptrdiff_t ldy, const T *g, ptrdiff_t ldg,
                                T *out, ptrdiff_t ldo, int log_in)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    CYL_FN(backward_ctx) k = {y, g, out, n, c, ldy, ldg, ldo, CYL_FN(rows_per_block)(c), log_in, 0};
#if defined(CYL_VEC) /* streamed outputs: as log_softmax's (see above) */
    k.nt = CYL_NT_X86 && CYL_FN(stream_rows)(n, c, out);
#endif
    return cyl_parallel_for((n + k.rb - 1) / k.rb, (double)n * (double)c, CYL_FN(backward_block), &k);
}

int CYL_FN(softmax_backward)(ptrdiff_t n, ptrdiff_t c, const T *y, ptrdiff_t ldy, const T *g, ptrdiff_t ldg,
                             T *out, ptrdiff_t ldo)
{
    return CYL_FN(backward_any)(n, c, y, ldy, g, ldg, out, ldo, 0);
}

int CYL_FN(log_softmax_backward)(ptrdiff_t n, ptrdiff_t c, const T *log_y, ptrdiff_t ldy, const T *g,
                                 ptrdiff_t ldg, T *out, ptrdiff_t ldo)
{
    return CYL_FN(backward_any)(n, c, log_y, ldy, g, ldg, out, ldo, 1);
}

typedef struct {
    const T *p;
    T *out;
    ptrdiff_t n, c, ldp, rb;
} CYL_FN(entropy_ctx);

static void CYL_FN(entropy_block)(void *vctx, ptrdiff_t b, void *scratch)
{
    const CYL_FN(entropy_ctx) *k = (const CYL_FN(entropy_ctx) *)vctx;
    ptrdiff_t i0, i1;
    (void)scratch;
    CYL_FN(block_rows)(b, k->rb, k->n, &i0, &i1);
    for (ptrdiff_t i = i0; i < i1; i++) {
        const T *pr = k->p + i * k->ldp;
        double acc = 0.0;
#pragma omp simd reduction(+:acc)
        for (ptrdiff_t j = 0; j < k->c; j++) {
            /* scipy.special.entr: p log p is 0 at p = 0 and the entropy term is -inf for
             * p < 0 (so acc gets +inf); NaN propagates */
            T v = pr[j];
            T t = v * LOG(v);
            acc += v > 0 ? (double)t : v == 0 ? 0.0 : v < 0 ? (double)INFINITY : (double)v;
        }
        k->out[i] = (T)(0.0 - acc); /* +0.0, not -0.0, for a row of zeros (scipy) */
    }
}

int CYL_FN(entropy)(ptrdiff_t n, ptrdiff_t c, const T *p, ptrdiff_t ldp, T *out)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    CYL_FN(entropy_ctx) k = {p, out, n, c, ldp, CYL_FN(rows_per_block)(c)};
    return cyl_parallel_for((n + k.rb - 1) / k.rb, (double)n * (double)c, CYL_FN(entropy_block), &k);
}
