/*
 * rows.h -- row helpers (max, sums, dot products, prefetch), the row exponentials
 * shifted by N ln2, the few-class block exponentials, and the row blocks of the threading.
 * Part of the kernel source: included, in order, by cyl_kernels_body.h (once per scalar
 * type and CPU target; see there), never on its own.
 */

/* ---------------------------------------------------------------- row helpers */

/* Reductions over a row keep CYL_NL independent lanes (4 vectors on AVX2/SSE) so
 * that they are not bound by the latency of one vector accumulator (measured 1.5x
 * for sums), and combine the lanes in a fixed order: the result does not depend on
 * the CPU target. */
#define CYL_NL ((int)(128 / sizeof(T)))

static inline T CYL_FN(row_max)(const T *x, ptrdiff_t c)
{
    T acc[CYL_NL];
    for (int k = 0; k < CYL_NL; k++)
        acc[k] = -INFINITY;
    ptrdiff_t j = 0;
    for (; j + CYL_NL <= c; j += CYL_NL) {
#pragma omp simd
        for (int k = 0; k < CYL_NL; k++)
            acc[k] = x[j + k] > acc[k] ? x[j + k] : acc[k];
    }
    T m = -INFINITY;
    for (; j < c; j++)
        m = x[j] > m ? x[j] : m;
    for (int k = 0; k < CYL_NL; k++)
        m = acc[k] > m ? acc[k] : m;
    return m;
}

/* sum of a[j] * b[j] in double */
static inline double CYL_FN(row_dot)(const T *a, const T *b, ptrdiff_t len)
{
    double acc[16];
    for (int k = 0; k < 16; k++)
        acc[k] = 0.0;
    ptrdiff_t j = 0;
    for (; j + 16 <= len; j += 16) {
#pragma omp simd
        for (int k = 0; k < 16; k++)
            acc[k] += (double)a[j + k] * (double)b[j + k];
    }
    double s = 0.0;
    for (; j < len; j++)
        s += (double)a[j] * (double)b[j];
    for (int k = 0; k < 16; k++)
        s += acc[k];
    return s;
}

/* sum of e[0..len) in double */
static inline double CYL_FN(row_sum)(const T *e, ptrdiff_t len)
{
    double acc[16];
    for (int k = 0; k < 16; k++)
        acc[k] = 0.0;
    ptrdiff_t j = 0;
    for (; j + 16 <= len; j += 16) {
#pragma omp simd
        for (int k = 0; k < 16; k++)
            acc[k] += (double)e[j + k];
    }
    double s = 0.0;
    for (; j < len; j++)
        s += (double)e[j];
    for (int k = 0; k < 16; k++)
        s += acc[k];
    return s;
}

/* Software prefetch of the next row's elements [j0, j0 + len) while this row's
 * exponentials are computed.  Without it the max pass of every row waits on memory
 * while the exp pass leaves the memory bus idle: prefetching the next row overlaps
 * the two (measured at 4096x1000 float, one thread: softmax 3.2 -> 2.5 ms,
 * cross-entropy 2.8 -> 2.2 ms).  Prefetching the output row for writing measured
 * slower, so only inputs are prefetched.  Always inline: GCC deletes the calls of a
 * non-inlined helper made only of prefetches (it deems it pure). */
#if defined(__GNUC__) || defined(__clang__)
#define CYL_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#else
#define CYL_PREFETCH(p) ((void)(p))
#endif
CYL_INLINE void CYL_FN(prefetch_next)(const T *pf, ptrdiff_t j0, ptrdiff_t len)
{
    const ptrdiff_t line = 64 / (ptrdiff_t)sizeof(T);
    if (pf)
        for (ptrdiff_t k = 0; k < len; k += line)
            CYL_PREFETCH(pf + j0 + k);
}

/* the prefetch target of row i: row i + 1 of a (leading dimension ld), NULL after the last */
static inline const T *CYL_FN(next_row)(const T *a, ptrdiff_t i, ptrdiff_t n, ptrdiff_t ld)
{
    return i + 1 < n ? a + (i + 1) * ld : NULL;
}

/* sum_j exp(s (x_j - shift)) for shift >= max(x) (arguments <= 0), also storing the
 * exponentials when e != NULL (else in buf, CYL_BLOCK elements of scratch).
 * Per block of CYL_BLOCK elements (L1-resident): one loop of pure T-width
 * exponentials into e (or a stack buffer), then one loop summing them in double.
 * Measured on AVX2 (4096x1000 float): 10% slower than summing in float lanes but
 * 30% faster than a single loop with a double accumulator (mixed widths vectorize
 * badly), and the sum is exact to double rounding for any row length. */
#ifndef CYL_BLOCK
#define CYL_BLOCK 512
#endif
static inline double CYL_FN(row_expsum)(const T *x, ptrdiff_t c, T shift, T s, T *e, const T *pf, T *buf)
{
    double acc = 0.0;
    for (ptrdiff_t j0 = 0; j0 < c; j0 += CYL_BLOCK) {
        ptrdiff_t len = c - j0 < CYL_BLOCK ? c - j0 : CYL_BLOCK;
        const T *xb = x + j0;
        T *dst = e ? e + j0 : buf;
        CYL_FN(prefetch_next)(pf, j0, len);
#pragma omp simd
        for (ptrdiff_t k = 0; k < len; k++)
            dst[k] = EXPNEG((xb[k] - shift) * s);
        acc += CYL_FN(row_sum)(dst, len);
    }
    return acc;
}

static inline void CYL_FN(row_zero)(T *g, ptrdiff_t c)
{
    for (ptrdiff_t j = 0; j < c; j++)
        g[j] = (T)0;
}

/* ------------------------------------------------- row exponentials, shifted by N ln2
 * The row kernels need e_j = exp(s x_j - shift) for a shift near s max(x), and their
 * sum.  Instead of shift = s m (m = max x), which rounds s x_j - s m before the
 * exponential (the largest error of the softmax: 17 ulp in float), the shift is
 * N ln2 with N = rint(s m log2e): then e_j = 2^(k_j - N) p(r_j) with k_j = rint(s x_j
 * log2e) and r_j = s x_j - k_j ln2 reduced from x itself (two FMAs, Cody-Waite), and
 * 2^(k_j - N) is applied by adding (k_j - N) to the exponent field of p(r_j): the
 * magic constant M = 1.5 2^p - N makes t = s x_j log2e + M hold k_j - N in its low
 * bits.  p is the degree-6 minimax polynomial of cyl_expneg_f32 (float) or the
 * degree-13 Taylor polynomial of cyl_exp_f64 (double).  Measured: <= 2.2 ulp max error
 * of the float32 softmax against float64 (was 17.7).
 *
 * A row is classified once from its statistics (max, min, NaN): rows whose
 * exponentials cannot underflow run the plain loop; rows whose range can (k - N
 * below -CYL_KLIM, e.g. holding -inf) run it with a mask that flushes those terms to
 * +0 (the documented flush of results below about the smallest normal number); rows
 * holding NaN or +inf, all -inf rows and rows of huge magnitude (|N| > CYL_NLIM,
 * where k ln2 would not be exact) take the previous path (row_max, row_expsum), whose
 * NaN/inf behaviour is the documented one.
 *
 * The loop keeps two vectors in flight and two float-lane accumulators, folded into
 * double lanes every CYL_FOLD elements (the sum is as accurate as a double sum for any
 * row length) and reduced once per row; the tail is computed by the same vector code on
 * a copy padded with -inf (AVX-512: masked loads), so every element gets the same
 * arithmetic.  Written with GCC/Clang vector extensions (one source for both dtypes and
 * every CPU target: CYL_VBYTES = 16 for the baseline, 32 for AVX2, 64 for AVX-512);
 * other compilers take the previous path for every row. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(CYL_VBYTES) && !defined(CYL_NO_VECEXT)
#define CYL_VEC 1
#if CYL_T_F32
typedef uint32_t CYL_FN(uT);
typedef int32_t CYL_FN(iT);
#define CYL_L2E 1.44269504088896341f
#define CYL_MAGIC 12582912.0f /* 1.5 * 2^23 */
#define CYL_LN2HI 6.9314575195e-01f
#define CYL_LN2LO 1.4286067653e-06f
#define CYL_MANT 23
#define CYL_KLIM 125   /* k - N >= -125 keeps 2^(k-N) p(r) normal */
#define CYL_NLIM 8000  /* |k| <= 2^13: k * LN2HI exact */
#else
typedef uint64_t CYL_FN(uT);
typedef int64_t CYL_FN(iT);
#define CYL_L2E 1.4426950408889634074
#define CYL_MAGIC 6755399441055744.0 /* 1.5 * 2^52 */
#define CYL_LN2HI 6.93147180369123816490e-01
#define CYL_LN2LO 1.90821492927058770002e-10
#define CYL_MANT 52
#define CYL_KLIM 1021
#define CYL_NLIM 1000000 /* |k| <= 2^20: k * LN2HI exact */
#endif
#define CYL_VL ((ptrdiff_t)(CYL_VBYTES / sizeof(T)))
#define CYL_FOLD 256
typedef T CYL_FN(vT) __attribute__((vector_size(CYL_VBYTES)));
typedef CYL_FN(uT) CYL_FN(vU) __attribute__((vector_size(CYL_VBYTES)));
typedef CYL_FN(iT) CYL_FN(vI) __attribute__((vector_size(CYL_VBYTES)));
#define vT CYL_FN(vT)
#define vU CYL_FN(vU)
#define vI CYL_FN(vI)

CYL_INLINE vT CYL_FN(vld)(const T *p)
{
    vT v;
    memcpy(&v, p, sizeof v);
    return v;
}

CYL_INLINE void CYL_FN(vst)(T *p, vT v)
{
    memcpy(p, &v, sizeof v);
}

CYL_INLINE vT CYL_FN(vsplat)(T a)
{
    return (vT){0} + a;
}

/* m ? a : b for a comparison mask m (C has no vector ?: ) */
CYL_INLINE vT CYL_FN(vsel)(vI m, vT a, vT b)
{
    return (vT)(((vI)a & m) | ((vI)b & ~m));
}

#if CYL_VBYTES == 64
/* lanes [0, n) of p (n clamped to [0, CYL_VL]), the others `fill`; masked-off lanes are
 * not read (AVX-512 fault suppression) */
CYL_INLINE vT CYL_FN(vld_part)(const T *p, ptrdiff_t n, T fill)
{
    n = n < 0 ? 0 : n > CYL_VL ? CYL_VL : n;
#if CYL_T_F32
    return (vT)_mm512_mask_loadu_ps(_mm512_set1_ps(fill), (__mmask16)((1u << n) - 1u), p);
#else
    return (vT)_mm512_mask_loadu_pd(_mm512_set1_pd(fill), (__mmask8)((1u << n) - 1u), p);
#endif
}
/* store lanes [0, n) of v (n clamped to [0, CYL_VL]) */
CYL_INLINE void CYL_FN(vst_part)(T *p, vT v, ptrdiff_t n)
{
    n = n < 0 ? 0 : n > CYL_VL ? CYL_VL : n;
#if CYL_T_F32
    _mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1u), (__m512)v);
#else
    _mm512_mask_storeu_pd(p, (__mmask8)((1u << n) - 1u), (__m512d)v);
#endif
}
#endif

/* lanes [0, n) of p (0 <= n <= CYL_VL), the others `fill` (no element beyond p + n is read) */
CYL_INLINE vT CYL_FN(vld_n)(const T *p, ptrdiff_t n, T fill)
{
    if (n == CYL_VL) return CYL_FN(vld)(p);
    T t[CYL_VL];
    for (ptrdiff_t l = 0; l < CYL_VL; l++)
        t[l] = l < n ? p[l] : fill;
    return CYL_FN(vld)(t);
}

/* store lanes [0, n) of v at p (0 <= n <= CYL_VL) */
CYL_INLINE void CYL_FN(vst_n)(T *p, vT v, ptrdiff_t n)
{
    if (n == CYL_VL) {
        CYL_FN(vst)(p, v);
        return;
    }
    T t[CYL_VL];
    CYL_FN(vst)(t, v);
    for (ptrdiff_t l = 0; l < n; l++)
        p[l] = t[l];
}

#if CYL_NT_X86
/* non-temporal store of v at p (CYL_VBYTES-aligned) */
CYL_INLINE void CYL_FN(vstream)(T *p, vT v)
{
#if CYL_VBYTES == 64
    _mm512_stream_si512((__m512i *)(void *)p, (__m512i)v);
#elif CYL_VBYTES == 32
    _mm256_stream_si256((__m256i *)(void *)p, (__m256i)v);
#else
    _mm_stream_si128((__m128i *)(void *)p, (__m128i)v);
#endif
}

/* Streamed rows: y[0, c) written from vector expressions, every whole 64-byte line of y
 * with non-temporal stores, the partial lines at both ends with ordinary stores (y must be
 * aligned to sizeof(T); the caller fences with _mm_sfence before the results are used).
 * VEXPR(j, n) is the vector of elements [j, j + n), n <= CYL_VL (lanes >= n are not
 * stored); it is evaluated with n = CYL_VL for the streamed lines. */
#define CYL_STREAM_VROW(y, c, VEXPR) \
    do { \
        const ptrdiff_t LV_ = 64 / (ptrdiff_t)sizeof(T), VL_ = CYL_VL; \
        ptrdiff_t h_ = (ptrdiff_t)(((64 - ((uintptr_t)(y) & 63)) & 63) / sizeof(T)); \
        if (h_ > (c)) h_ = (c); \
        ptrdiff_t j_ = 0; \
        for (; j_ < h_; j_ += VL_) { \
            const ptrdiff_t n_ = h_ - j_ < VL_ ? h_ - j_ : VL_; \
            CYL_FN(vst_n)((y) + j_, VEXPR(j_, n_), n_); \
        } \
        j_ = h_; \
        for (; j_ + LV_ <= (c); j_ += LV_) \
            for (ptrdiff_t q_ = 0; q_ < LV_; q_ += VL_) \
                CYL_FN(vstream)((y) + j_ + q_, VEXPR(j_ + q_, VL_)); \
        for (; j_ < (c); j_ += VL_) { \
            const ptrdiff_t n_ = (c) - j_ < VL_ ? (c) - j_ : VL_; \
            CYL_FN(vst_n)((y) + j_, VEXPR(j_, n_), n_); \
        } \
    } while (0)

#endif

/* whether an output of n rows of c elements at p is streamed (CYL_STREAM_VROW): outputs
 * of CYL_NT_LSM_MIN_BYTES or more in rows of CYL_NT_LSM_MIN_ROW bytes or more, p aligned
 * to sizeof(T) (measurements: softmax.h) */
static inline int CYL_FN(stream_rows)(ptrdiff_t n, ptrdiff_t c, const T *p)
{
    return (double)n * (double)c * (double)sizeof(T) >= CYL_NT_LSM_MIN_BYTES &&
           (double)c * (double)sizeof(T) >= CYL_NT_LSM_MIN_ROW && ((uintptr_t)p % sizeof(T)) == 0;
}

/* acc += a in double lanes: vD holds CYL_VBYTES of doubles (float32: the two halves of
 * a converted and added; float64: a itself) */
typedef double CYL_FN(vD) __attribute__((vector_size(CYL_VBYTES)));
#define vD CYL_FN(vD)
#if CYL_T_F32
typedef float CYL_FN(vH) __attribute__((vector_size(CYL_VBYTES / 2)));
#endif
CYL_INLINE void CYL_FN(vfold)(vD *acc, vT a)
{
#if CYL_T_F32
    CYL_FN(vH) lo, hi;
    memcpy(&lo, &a, sizeof lo);
    memcpy(&hi, (const char *)&a + sizeof lo, sizeof hi);
    *acc += __builtin_convertvector(lo, vD) + __builtin_convertvector(hi, vD);
#else
    *acc += a;
#endif
}

/* exp(s x - N ln2) lane-wise, M = CYL_MAGIC - N; MASK: terms with k - N < -CYL_KLIM
 * (and -inf) are +0 */
CYL_INLINE vT CYL_FN(vexpshift)(vT x, T s, vT M, const int HS, const int MASK)
{
    vT z = HS ? x * s : x;
    vT t = z * CYL_L2E + M;
    vT q = t - M;
    vT r = z - q * CYL_LN2HI;
    r = r - q * CYL_LN2LO;
#if CYL_T_F32
    vT p = CYL_FN(vsplat)(0.001395083381794393f);
    p = p * r + 0.008369088172912598f;
    p = p * r + 0.04166620224714279f;
    p = p * r + 0.16666516661643982f;
    p = p * r + 0.5f;
    p = (T)1 + (r + r * r * p);
#else
    /* exp(r) = 1 + r + r^2 p(r), p of degree 9 fitted (Chebyshev, mpmath) to
     * (exp(r) - 1 - r) / r^2 on [-ln2/2, ln2/2]: relative error 1.8e-17 (0.16 ulp)
     * before rounding, against 13 Taylor terms before; evaluated by Estrin's scheme
     * (dependency chain of 5 operations instead of 12) */
    const vT r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    const vT q01 = r * 0.16666666666666667452 + 0.50000000000000010211;
    const vT q23 = r * 0.0083333333333300644495 + 0.041666666666624161903;
    const vT q45 = r * 0.00019841269863040545271 + 0.0013888888917196719077;
    const vT q67 = r * 2.7557268480310025526e-6 + 0.000024801521322368693266;
    const vT q89 = r * 2.5100375832561233664e-8 + 2.7620075879983366586e-7;
    const vT q03 = q23 * r2 + q01, q47 = q67 * r2 + q45;
    vT p = (q47 * r4 + q03) + q89 * r8;
    p = (T)1 + (r + r2 * p);
#endif
    vT e = (vT)((vU)p + ((vU)t << CYL_MANT));
    if (MASK) {
        /* bits(t) - bits(MAGIC) = k - N while t stays in [2^p, 2^(p+1)); below that
         * range (very negative z, -inf) the bits are smaller still, or negative */
        vI kn = (vI)t - (vI)CYL_FN(vsplat)(CYL_MAGIC);
        e = CYL_FN(vsel)(kn < -CYL_KLIM, CYL_FN(vsplat)((T)0), e);
    }
    return e;
}

/* sum_j exp(s x_j - N ln2), storing the terms in e[] when e != NULL; buf: 4 CYL_VL
 * elements of scratch for the tail (unused on AVX-512); pf: the next row to prefetch
 * (or NULL).
 * NL: also *rest = the sum of the terms with x_j != m and *cnt = the number of x_j == m,
 * which give log sum_j exp(s x_j - s m) with relative accuracy when the max dominates
 * (row_exp); the terms of the max are then left out of the returned sum too. */
CYL_INLINE double CYL_FN(vexpsum)(const T *x, ptrdiff_t c, T s, T N, T m, T *e, const T *pf, T *buf,
                                  ptrdiff_t *cnt, const int HS, const int MASK, const int NL)
{
    const vT M = CYL_FN(vsplat)(CYL_MAGIC - N), mv = CYL_FN(vsplat)(m);
    const ptrdiff_t VL = CYL_VL, step = 2 * CYL_VL;
    vD tot = {0}; /* the folds, in double lanes (reduced once per row) */
    vI k0 = {0}, k1 = {0};
    ptrdiff_t j = 0;
    for (ptrdiff_t j0 = 0; j0 + step <= c; j0 = j) {
        const ptrdiff_t end = c - j0 >= CYL_FOLD ? j0 + CYL_FOLD : j0 + (c - j0) / step * step;
        CYL_FN(prefetch_next)(pf, j0, end - j0);
        vT a0 = {0}, a1 = {0};
        for (j = j0; j < end; j += step) {
            const vT u0 = CYL_FN(vld)(x + j), u1 = CYL_FN(vld)(x + j + VL);
            vT v0 = CYL_FN(vexpshift)(u0, s, M, HS, MASK);
            vT v1 = CYL_FN(vexpshift)(u1, s, M, HS, MASK);
            if (e) {
                CYL_FN(vst)(e + j, v0);
                CYL_FN(vst)(e + j + VL, v1);
            }
            if (NL) {
                const vI q0 = u0 == mv, q1 = u1 == mv;
                k0 -= q0;
                k1 -= q1;
                v0 = (vT)((vI)v0 & ~q0);
                v1 = (vT)((vI)v1 & ~q1);
            }
            a0 += v0;
            a1 += v1;
        }
        CYL_FN(vfold)(&tot, a0 + a1);
    }
    if (NL) k0 += k1;
    if (j < c) { /* tail: the same vector code on a copy padded with -inf (terms +0) */
        const ptrdiff_t left = c - j;
#if CYL_VBYTES == 64 /* masked loads and stores (masked-off lanes are never accessed) */
        const T *x1 = left > VL ? x + j + VL : x + j;
        const vT u0 = CYL_FN(vld_part)(x + j, left, -(T)INFINITY);
        const vT u1 = CYL_FN(vld_part)(x1, left - VL, -(T)INFINITY);
        vT v0 = CYL_FN(vexpshift)(u0, s, M, HS, 1);
        vT v1 = CYL_FN(vexpshift)(u1, s, M, HS, 1);
        if (e) {
            CYL_FN(vst_part)(e + j, v0, left);
            if (left > VL) CYL_FN(vst_part)(e + j + VL, v1, left - VL);
        }
        (void)buf;
#else
        memcpy(buf, x + j, (size_t)left * sizeof(T));
        for (ptrdiff_t k = left; k < step; k++)
            buf[k] = -(T)INFINITY;
        const vT u0 = CYL_FN(vld)(buf), u1 = CYL_FN(vld)(buf + VL);
        vT v0 = CYL_FN(vexpshift)(u0, s, M, HS, 1);
        vT v1 = CYL_FN(vexpshift)(u1, s, M, HS, 1);
        if (e) {
            CYL_FN(vst)(buf + step, v0);
            CYL_FN(vst)(buf + step + VL, v1);
            memcpy(e + j, buf + step, (size_t)left * sizeof(T));
        }
#endif
        if (NL) { /* the padding (-inf) never equals the finite m */
            const vI q0 = u0 == mv, q1 = u1 == mv;
            k0 -= q0 + q1;
            v0 = (vT)((vI)v0 & ~q0);
            v1 = (vT)((vI)v1 & ~q1);
        }
        CYL_FN(vfold)(&tot, v0 + v1);
    }
    if (NL) { /* lanes folded in halves */
        CYL_FN(iT) kl[CYL_VL];
        memcpy(kl, &k0, sizeof kl);
        for (ptrdiff_t h = VL / 2; h >= 1; h /= 2)
            for (ptrdiff_t k = 0; k < h; k++)
                kl[k] += kl[k + h];
        *cnt = (ptrdiff_t)kl[0];
    }
    enum { DL = sizeof(vD) / sizeof(double) };
    double dl[DL];
    memcpy(dl, &tot, sizeof dl);
    for (ptrdiff_t h = DL / 2; h >= 1; h /= 2)
        for (ptrdiff_t k = 0; k < h; k++)
            dl[k] += dl[k + h];
    return dl[0];
}

#if CYL_VBYTES == 64 || CYL_VBYTES == 32
/* max / min with x86's semantics, a > b ? a : b (so a NaN in a is ignored), and a
 * NaN test; AVX-512 accumulates the NaN test in a mask register */
#if CYL_VBYTES == 64 && CYL_T_F32
#define CYL_XMAX(a, b) ((vT)_mm512_max_ps((__m512)(a), (__m512)(b)))
#define CYL_XMIN(a, b) ((vT)_mm512_min_ps((__m512)(a), (__m512)(b)))
#define CYL_XNAN(a) _mm512_cmp_ps_mask((__m512)(a), (__m512)(a), _CMP_UNORD_Q)
#elif CYL_VBYTES == 64
#define CYL_XMAX(a, b) ((vT)_mm512_max_pd((__m512d)(a), (__m512d)(b)))
#define CYL_XMIN(a, b) ((vT)_mm512_min_pd((__m512d)(a), (__m512d)(b)))
#define CYL_XNAN(a) _mm512_cmp_pd_mask((__m512d)(a), (__m512d)(a), _CMP_UNORD_Q)
#elif CYL_T_F32
#define CYL_XMAX(a, b) ((vT)_mm256_max_ps((__m256)(a), (__m256)(b)))
#define CYL_XMIN(a, b) ((vT)_mm256_min_ps((__m256)(a), (__m256)(b)))
#else
#define CYL_XMAX(a, b) ((vT)_mm256_max_pd((__m256d)(a), (__m256d)(b)))
#define CYL_XMIN(a, b) ((vT)_mm256_min_pd((__m256d)(a), (__m256d)(b)))
#endif
#if CYL_VBYTES == 64
#define CYL_XNANACC(acc, v) ((acc) |= CYL_XNAN(v))
#else
#define CYL_XNANACC(acc, v) ((acc) |= (v) != (v))
#endif
/* one vector into accumulator q of row_stats */
#define CYL_STATS_STEP(q, vexpr) \
    do { \
        const vT v_ = (vexpr); \
        am[q] = CYL_XMAX(v_, am[q]); \
        an[q] = CYL_XMIN(v_, an[q]); \
        CYL_XNANACC(nn, v_); \
    } while (0)
/* row_stats on the x86 vector targets: four vectors per step, each with its own max /
 * min accumulators (the lane-array form below compiled to blends and spills on AVX-512) */
static inline void CYL_FN(row_stats)(const T *x, ptrdiff_t c, T *mx, T *mn, int *nan)
{
    const ptrdiff_t VL = CYL_VL;
    vT am[4], an[4];
    for (int q = 0; q < 4; q++) {
        am[q] = CYL_FN(vsplat)(-(T)INFINITY);
        an[q] = CYL_FN(vsplat)((T)INFINITY);
    }
#if CYL_VBYTES == 64
    unsigned nn = 0;
#else
    vI nn = {0};
#endif
    ptrdiff_t j = 0;
    for (; j + 4 * VL <= c; j += 4 * VL) {
        for (int q = 0; q < 4; q++)
            CYL_STATS_STEP(q, CYL_FN(vld)(x + j + q * VL));
    }
    for (; j + VL <= c; j += VL)
        CYL_STATS_STEP(0, CYL_FN(vld)(x + j));
    T m = -(T)INFINITY, n = (T)INFINITY;
    int isnan = 0;
    if (j < c && c >= VL) { /* the last VL elements again: max, min and the NaN test are idempotent */
        CYL_STATS_STEP(1, CYL_FN(vld)(x + c - VL));
        j = c;
    }
    for (; j < c; j++) {
        m = x[j] > m ? x[j] : m;
        n = x[j] < n ? x[j] : n;
        isnan |= x[j] != x[j];
    }
    am[0] = CYL_XMAX(CYL_XMAX(am[0], am[1]), CYL_XMAX(am[2], am[3]));
    an[0] = CYL_XMIN(CYL_XMIN(an[0], an[1]), CYL_XMIN(an[2], an[3]));
    /* lanes folded in halves (no lane holds NaN: the accumulators ignore it) */
    T lm[CYL_VL], ln[CYL_VL];
    CYL_FN(vst)(lm, am[0]);
    CYL_FN(vst)(ln, an[0]);
    for (ptrdiff_t h = VL / 2; h >= 1; h /= 2)
        for (ptrdiff_t k = 0; k < h; k++) {
            lm[k] = lm[k + h] > lm[k] ? lm[k + h] : lm[k];
            ln[k] = ln[k + h] < ln[k] ? ln[k + h] : ln[k];
        }
    m = lm[0] > m ? lm[0] : m;
    n = ln[0] < n ? ln[0] : n;
#if CYL_VBYTES == 64
    isnan |= nn != 0;
#else
    for (ptrdiff_t k = 0; k < VL; k++)
        isnan |= nn[k] != 0;
#endif
    *mx = m;
    *mn = n;
    *nan = isnan;
}
#undef CYL_XMAX
#undef CYL_XMIN
#undef CYL_XNAN
#undef CYL_XNANACC
#undef CYL_STATS_STEP
#else
/* max (NaN ignored), min and whether a NaN is present, in one pass; lane arrays in the
 * style of row_max, which GCC turns into vmaxps/vminps (the vector-extension form
 * with a compare and a blend per reduction measured 2x slower) */
static inline void CYL_FN(row_stats)(const T *x, ptrdiff_t c, T *mx, T *mn, int *nan)
{
    T am[CYL_NL], an[CYL_NL];
    int nn[CYL_NL];
    for (int k = 0; k < CYL_NL; k++) {
        am[k] = -(T)INFINITY;
        an[k] = (T)INFINITY;
        nn[k] = 0;
    }
    ptrdiff_t j = 0;
    for (; j + CYL_NL <= c; j += CYL_NL) {
#pragma omp simd
        for (int k = 0; k < CYL_NL; k++) {
            const T v = x[j + k];
            am[k] = v > am[k] ? v : am[k];
            an[k] = v < an[k] ? v : an[k];
            nn[k] |= v != v;
        }
    }
    T m = -(T)INFINITY, n = (T)INFINITY;
    int isnan = 0;
    for (; j < c; j++) {
        m = x[j] > m ? x[j] : m;
        n = x[j] < n ? x[j] : n;
        isnan |= x[j] != x[j];
    }
    for (int k = 0; k < CYL_NL; k++) {
        m = am[k] > m ? am[k] : m;
        n = an[k] < n ? an[k] : n;
        isnan |= nn[k];
    }
    *mx = m;
    *mn = n;
    *nan = isnan;
}
#endif

#if CYL_VBYTES == 32
/* Helpers of the few-classes cross-entropy groups (ce_tblock): a vector of CYL_VL
 * elements x[0], x[stride], ... (one column of CYL_VL rows), and a lane permutation
 * (vpermps; float64 lanes are permuted as pairs of float32 lanes). */
#ifndef CYL_V8_TYPES
#define CYL_V8_TYPES
typedef float cyl_v8f __attribute__((vector_size(32)));
typedef int32_t cyl_v8i __attribute__((vector_size(32)));
typedef float cyl_v4f __attribute__((vector_size(16)));
typedef double cyl_v4d __attribute__((vector_size(32)));
#endif
/* s += e lane-wise in double (s: CYL_VL / 4 vectors of 4 doubles) */
CYL_INLINE void CYL_FN(vaccd)(cyl_v4d *s, vT e)
{
#if CYL_T_F32
    cyl_v4f lo, hi;
    memcpy(&lo, &e, sizeof lo);
    memcpy(&hi, (const char *)&e + sizeof lo, sizeof hi);
    s[0] += __builtin_convertvector(lo, cyl_v4d);
    s[1] += __builtin_convertvector(hi, cyl_v4d);
#else
    s[0] += e;
#endif
}
#if defined(__GNUC__) && !defined(__clang__) /* a false positive: every lane is set below */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
CYL_INLINE vT CYL_FN(vcol)(const T *x, ptrdiff_t stride)
{
    vT v;
    for (int l = 0; l < CYL_VL; l++)
        v[l] = x[l * stride];
    return v;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#if !CYL_T_F32
/* in-place transpose of 4 x 4 doubles */
typedef int64_t cyl_v4l __attribute__((vector_size(32)));
CYL_INLINE void cyl_tr4_f64(cyl_v4d *a)
{
#if defined(__clang__) /* clang has no __builtin_shuffle: the same shuffles */
    const cyl_v4d t0 = __builtin_shufflevector(a[0], a[1], 0, 4, 2, 6);
    const cyl_v4d t1 = __builtin_shufflevector(a[0], a[1], 1, 5, 3, 7);
    const cyl_v4d t2 = __builtin_shufflevector(a[2], a[3], 0, 4, 2, 6);
    const cyl_v4d t3 = __builtin_shufflevector(a[2], a[3], 1, 5, 3, 7);
    a[0] = __builtin_shufflevector(t0, t2, 0, 1, 4, 5);
    a[1] = __builtin_shufflevector(t1, t3, 0, 1, 4, 5);
    a[2] = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
    a[3] = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
#else
    const cyl_v4d t0 = __builtin_shuffle(a[0], a[1], (cyl_v4l){0, 4, 2, 6});
    const cyl_v4d t1 = __builtin_shuffle(a[0], a[1], (cyl_v4l){1, 5, 3, 7});
    const cyl_v4d t2 = __builtin_shuffle(a[2], a[3], (cyl_v4l){0, 4, 2, 6});
    const cyl_v4d t3 = __builtin_shuffle(a[2], a[3], (cyl_v4l){1, 5, 3, 7});
    a[0] = __builtin_shuffle(t0, t2, (cyl_v4l){0, 1, 4, 5});
    a[1] = __builtin_shuffle(t1, t3, (cyl_v4l){0, 1, 4, 5});
    a[2] = __builtin_shuffle(t0, t2, (cyl_v4l){2, 3, 6, 7});
    a[3] = __builtin_shuffle(t1, t3, (cyl_v4l){2, 3, 6, 7});
#endif
}
#endif

CYL_INLINE vT CYL_FN(vperm)(vT v, cyl_v8i idx)
{
#if defined(__clang__) /* no __builtin_shuffle: vpermps, what GCC emits for it */
    return (vT)_mm256_permutevar8x32_ps((__m256)v, (__m256i)idx);
#else
    return (vT)__builtin_shuffle((cyl_v8f)v, idx);
#endif
}
#endif
#endif /* CYL_VEC */

/* The exponentials of one row and their sum, relative to a shift near s max(x):
 * *sum = sum_j e_j, e_j = exp(s x_j - shift) (stored in e[] when e != NULL), and
 * *lsm = log sum_j exp(s x_j - s m), so that logsumexp(s x) = s m + *lsm; *m = max(x)
 * (NaN ignored).  NL: *lsm is wanted with relative accuracy (log_softmax, logsumexp,
 * the loss of cross-entropy, which are ~ -lsm when the max dominates): the terms of the
 * max are counted instead of summed and the rest is taken relative to the max's term
 * computed in double, lsm = log1p((count - 1) + rest / exp(s m - shift)); without NL
 * (softmax) *lsm is only accurate to the float rounding of the terms.
 * buf: CYL_BLOCK elements of scratch; pf: the next row to prefetch.
 * Returns 1 when the row took the shifted vector path, 0 for the previous path. */
static inline int CYL_FN(row_exp)(const T *x, ptrdiff_t c, T s, T *e, const T *pf, T *buf, T *m_out,
                                  double *sum, double *lsm, const int NL)
{
#ifdef CYL_VEC
    T m, mn;
    int isnan;
    CYL_FN(row_stats)(x, c, &m, &mn, &isnan);
    /* z = s x rounded as in the loop; N = rint(z_max log2e) rounded as the k of the loop */
    const T zm = s * m;
    if (!isnan && zm < (T)INFINITY && zm > -(T)INFINITY && zm * CYL_L2E < (T)CYL_NLIM &&
        zm * CYL_L2E > -(T)CYL_NLIM) {
        const T N = (zm * CYL_L2E + CYL_MAGIC) - CYL_MAGIC;
        const int mask = !((s * mn) * CYL_L2E - N >= (T)(-CYL_KLIM + 1));
        const int hs = s != (T)1;
        ptrdiff_t cnt = 0;
        double sm;
#define CYL_VEXPSUM_(HS, MK, NL_) CYL_FN(vexpsum)(x, c, s, N, m, e, pf, buf, &cnt, HS, MK, NL_)
#define CYL_VEXPSUM(NL_) \
    (hs ? (mask ? CYL_VEXPSUM_(1, 1, NL_) : CYL_VEXPSUM_(1, 0, NL_)) \
        : (mask ? CYL_VEXPSUM_(0, 1, NL_) : CYL_VEXPSUM_(0, 0, NL_)))
        /* shift - s m = N ln2 - zm with N ln2 in two parts (N * LN2_HI is exact) */
        const double d = ((double)N * 6.93147180369123816490e-01 - (double)zm) + (double)N * 1.90821492927058770002e-10;
        if (NL) {
            const double rest = CYL_VEXPSUM(1);
            const double emax = cyl_exp_f64(-d); /* exp(zm - shift), accurate in double (inline) */
            /* the sum of all the terms, the max's as the loop computed them */
            const T em = CYL_FN(vexpshift)(CYL_FN(vsplat)(m), s, CYL_FN(vsplat)(CYL_MAGIC - N), hs, 0)[0];
            sm = rest + (double)cnt * (double)em;
            *lsm = cyl_log1p_unit_f64((double)(cnt - 1) + rest / emax); /* Goldberg: any arg >= 0 */
        } else {
            sm = CYL_VEXPSUM(0);
            if (lsm) *lsm = d + cyl_log_f64(sm); /* softmax passes NULL: not needed */
        }
#undef CYL_VEXPSUM
#undef CYL_VEXPSUM_
        *m_out = m;
        *sum = sm;
        return 1;
    }
#endif
    (void)NL;
    const T mx = CYL_FN(row_max)(x, c);
    const double se = CYL_FN(row_expsum)(x, c, mx, s, e, pf, buf);
    *m_out = mx;
    *sum = se;
    if (lsm) *lsm = log(se);
    return 0;
}

/* Few classes (c <= CYL_SMALL_C, contiguous rows): a block of rows is one flat array,
 * so the exponentials run at full vector width instead of one short row at a time.
 * sh[k] receives the max of the row of element k; e[k] = exp(s (x[k] - sh[k])). */
#ifndef CYL_SMALL_C
#define CYL_SMALL_C 64 /* the most classes of the block paths (scratch sizes) */
#endif
/* the block paths' thresholds, measured (f32, one thread, 4e6 elements; row path -> block
 * path, ms): softmax C=33 6.5 -> 3.9, C=40 5.3 -> 4.0, C=64 3.3 -> 4.3; logsumexp C=40
 * 8.7 -> 4.8, C=64 4.8 -> 4.7, C=100 3.9 -> 5.1; class-target cross-entropy (ce_tblock)
 * C=33 10.4 -> 3.4, C=64 5.3 -> 3.2, C=100 3.9 -> 4.0 */
#ifndef CYL_SMALL_C_SOFTMAX /* also probability-target cross-entropy: the same flat exponentials */
#define CYL_SMALL_C_SOFTMAX 48
#endif
#define CYL_SMALL_BLOCK 1024
static inline void CYL_FN(small_block_exp)(const T *x, ptrdiff_t rows, ptrdiff_t c, T s, T *sh, T *e)
{
    for (ptrdiff_t i = 0; i < rows; i++) {
        const T *xr = x + i * c;
        T m = -INFINITY;
        for (ptrdiff_t j = 0; j < c; j++)
            m = xr[j] > m ? xr[j] : m;
        for (ptrdiff_t j = 0; j < c; j++)
            sh[i * c + j] = m;
    }
    const ptrdiff_t nel = rows * c;
#pragma omp simd
    for (ptrdiff_t k = 0; k < nel; k++)
        e[k] = EXPNEG((x[k] - sh[k]) * s);
}

static inline double CYL_FN(small_row_sum)(const T *e, ptrdiff_t c)
{
    double s = 0.0;
    for (ptrdiff_t j = 0; j < c; j++)
        s += (double)e[j];
    return s;
}

/* the cross-entropy block paths' first step: e = exp(x - row max) (small_block_exp, sh:
 * the row maxima), each row's sum of e and its log */
static inline void CYL_FN(small_block_lse)(const T *x, ptrdiff_t rows, ptrdiff_t c, T *sh, T *e, double *sums,
                                           double *lsums)
{
    CYL_FN(small_block_exp)(x, rows, c, (T)1, sh, e);
    for (ptrdiff_t i = 0; i < rows; i++)
        sums[i] = CYL_FN(small_row_sum)(e + i * c, c);
#pragma omp simd
    for (ptrdiff_t i = 0; i < rows; i++)
        lsums[i] = cyl_log_f64(sums[i]);
}

/* ------------------------------------------------------------ threading
 * Rows (or elements) are cut into blocks whose size depends only on the problem
 * size, never on the thread count; cyl_parallel_for (cyl_threads.c) runs the blocks
 * on the pool when the work is large enough, and a loss sum is the in-order sum of
 * the per-block sums: results are bitwise identical whatever the number of threads.
 * Each kernel has a context struct (its arguments) and a block function; block
 * buffers live in the per-thread scratch the block function receives (at most
 * CYL_SCRATCH_BYTES: 4 * CYL_SMALL_BLOCK doubles), never on the stack. */

/* rows [*i0, *i1) of block b of rb rows out of n */
static inline void CYL_FN(block_rows)(ptrdiff_t b, ptrdiff_t rb, ptrdiff_t n, ptrdiff_t *i0, ptrdiff_t *i1)
{
    *i0 = b * rb;
    *i1 = *i0 + rb < n ? *i0 + rb : n;
}

/* rows per block: about CYL_BLOCK_WORK elements of work */
static inline ptrdiff_t CYL_FN(rows_per_block)(ptrdiff_t c)
{
    ptrdiff_t r = CYL_BLOCK_WORK / (c > 0 ? c : 1);
    return r > 0 ? r : 1;
}
