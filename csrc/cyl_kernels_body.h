/*
 * cyl_kernels_body.h -- the one source of every kernel.  Included by
 * cyl_kernels_inst.h once per scalar type (T = float, S = f32 / T = double,
 * S = f64) and that file once per CPU target (CYL_ISA = baseline, avx2, avx512), so each
 * function here exists as cyl_<op>_<S>_<ISA>; csrc/dispatch.c picks the target.
 *
 * The math (see ../shared/DESIGN.md and the README's semantics table):
 *  softmax:      y = exp(s(x - m)) / sum exp(s(x - m)), m = max(x), s = 1/temperature.
 *                Shift invariance makes it exact in exact arithmetic; every exponent
 *                is <= 0, so nothing overflows.  A row holding NaN gives a NaN row;
 *                an all -inf row gives NaN (0/0), as torch does.
 *  log_softmax:  s(x - m) - log(sum exp(s(x - m))), never log(softmax).
 *  logsumexp:    m + log(sum b exp(x - m)); when m is +-inf the shift is 0 (scipy).
 *  cross-entropy: loss = (1-eps) w_t (lse - x_t) + eps/C sum_c w_c (lse - x_c), the
 *                terms (lse - x_c) = (m - x_c) + log(sum) are all >= 0 (no
 *                cancellation); gradient = a * exp(x - m) - (1-eps) w_t onehot(t)
 *                - eps/C w, with the exponentials stored in the gradient row during
 *                the sum pass and scaled in place (no second exp).
 *  BCE with logits: pw*y*softplus(-x) + (1-y)*softplus(x), softplus(+-x) =
 *                max(+-x, 0) + log1p(exp(-|x|)): every term >= 0 for y in [0, 1],
 *                equal to torch's (1-y)x + (1+(pw-1)y) softplus(-x) for every y.
 * Row sums and loss sums accumulate in double.  Errors found in the data (a
 * class target out of range, a probability outside [0, 1]) stop the kernel with
 * a status and the index; NaN/inf are data and propagate.
 */

#define CYL_FN__(name, s, isa) cyl_##name##_##s##_##isa
#define CYL_FN_(name, s, isa) CYL_FN__(name, s, isa)
#define CYL_FN(name) CYL_FN_(name, S, CYL_ISA)

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
CYL_INLINE vT CYL_FN(vcol)(const T *x, ptrdiff_t stride)
{
    vT v;
    for (int l = 0; l < CYL_VL; l++)
        v[l] = x[l * stride];
    return v;
}

#if !CYL_T_F32
/* in-place transpose of 4 x 4 doubles */
typedef int64_t cyl_v4l __attribute__((vector_size(32)));
CYL_INLINE void cyl_tr4_f64(cyl_v4d *a)
{
    const cyl_v4d t0 = __builtin_shuffle(a[0], a[1], (cyl_v4l){0, 4, 2, 6});
    const cyl_v4d t1 = __builtin_shuffle(a[0], a[1], (cyl_v4l){1, 5, 3, 7});
    const cyl_v4d t2 = __builtin_shuffle(a[2], a[3], (cyl_v4l){0, 4, 2, 6});
    const cyl_v4d t3 = __builtin_shuffle(a[2], a[3], (cyl_v4l){1, 5, 3, 7});
    a[0] = __builtin_shuffle(t0, t2, (cyl_v4l){0, 1, 4, 5});
    a[1] = __builtin_shuffle(t1, t3, (cyl_v4l){0, 1, 4, 5});
    a[2] = __builtin_shuffle(t0, t2, (cyl_v4l){2, 3, 6, 7});
    a[3] = __builtin_shuffle(t1, t3, (cyl_v4l){2, 3, 6, 7});
}
#endif

CYL_INLINE vT CYL_FN(vperm)(vT v, cyl_v8i idx)
{
    return (vT)__builtin_shuffle((cyl_v8f)v, idx);
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

/* ------------------------------------------------------------- softmax family */

static inline void CYL_FN(softmax_row)(const T *xr, T *yr, ptrdiff_t c, T s, int log_out, const T *pf, T *buf)
{
    T m;
    double sum, lsm;
    if (log_out) {
        /* y = s (x - m) - lsm: x - m is exact near the max, and |y| >= |s (x - m)| */
        CYL_FN(row_exp)(xr, c, s, NULL, pf, buf, &m, &sum, &lsm, 1);
        const T l = (T)lsm;
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
    int log_out, small;
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
                            CYL_FN(next_row)(k->x, i, i1, k->ldx), (T *)scratch);
}

static int CYL_FN(softmax_any)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, T *y, ptrdiff_t ldy,
                               double inv_temperature, int log_out)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    CYL_FN(softmax_ctx) k = {x, y, n, c, ldx, ldy, 0, (T)inv_temperature, log_out, 0};
    k.small = c > 0 && c <= CYL_SMALL_C_SOFTMAX && ldx == c && ldy == c;
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
#pragma omp simd reduction(max:m)
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

static inline void CYL_FN(softmax_backward_row)(const T *yr, const T *gr, T *o, ptrdiff_t c, int log_in)
{
    if (log_in) {
        T s = (T)CYL_FN(row_sum)(gr, c);
#ifdef CYL_VEC
        /* log-probabilities (no NaN, max <= 0): the row kernels' exponential, half the
         * work of the general one (terms below about the smallest normal number flush to
         * +0, as there); other rows: the general exp */
        T m, mn;
        int isnan;
        CYL_FN(row_stats)(yr, c, &m, &mn, &isnan);
        if (!isnan && m <= 0) {
            const vT M = CYL_FN(vsplat)(CYL_MAGIC), sv = CYL_FN(vsplat)(s);
            const ptrdiff_t VL = CYL_VL, step = 2 * CYL_VL;
            ptrdiff_t j = 0;
            for (; j + step <= c; j += step) {
                const vT e0 = CYL_FN(vexpshift)(CYL_FN(vld)(yr + j), (T)1, M, 0, 1);
                const vT e1 = CYL_FN(vexpshift)(CYL_FN(vld)(yr + j + VL), (T)1, M, 0, 1);
                CYL_FN(vst)(o + j, CYL_FN(vld)(gr + j) - e0 * sv);
                CYL_FN(vst)(o + j + VL, CYL_FN(vld)(gr + j + VL) - e1 * sv);
            }
            for (; j < c; j++)
                o[j] = gr[j] - EXPNEG(yr[j]) * s;
            return;
        }
#endif
#pragma omp simd
        for (ptrdiff_t j = 0; j < c; j++)
            o[j] = gr[j] - EXP(yr[j]) * s;
    } else {
        T d = (T)CYL_FN(row_dot)(yr, gr, c);
#pragma omp simd
        for (ptrdiff_t j = 0; j < c; j++)
            o[j] = yr[j] * (gr[j] - d);
    }
}

typedef struct {
    const T *y, *g;
    T *out;
    ptrdiff_t n, c, ldy, ldg, ldo, rb;
    int log_in;
} CYL_FN(backward_ctx);

static void CYL_FN(backward_block)(void *vctx, ptrdiff_t b, void *scratch)
{
    const CYL_FN(backward_ctx) *k = (const CYL_FN(backward_ctx) *)vctx;
    ptrdiff_t i0, i1;
    (void)scratch;
    CYL_FN(block_rows)(b, k->rb, k->n, &i0, &i1);
    for (ptrdiff_t i = i0; i < i1; i++)
        CYL_FN(softmax_backward_row)(k->y + i * k->ldy, k->g + i * k->ldg, k->out + i * k->ldo, k->c, k->log_in);
}

static int CYL_FN(backward_any)(ptrdiff_t n, ptrdiff_t c, const T *y, ptrdiff_t ldy, const T *g, ptrdiff_t ldg,
                                T *out, ptrdiff_t ldo, int log_in)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    CYL_FN(backward_ctx) k = {y, g, out, n, c, ldy, ldg, ldo, CYL_FN(rows_per_block)(c), log_in};
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
            vT e;
            for (int l = 0; l < CYL_VL; l++)
                e[l] = tb[gix[v * CYL_VL + l]];
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

/* ------------------------------------------------------ elementwise losses
 * Each kernel is one always-inline loop over [0, n) with constant flags (HW: weight
 * given, HG: gradient wanted, HL: per-element losses wanted, plus the kernel's own);
 * CYL_SPEC_* instantiate it for every combination so that no loop tests a flag.  A
 * block function (CYL_EW_PROLOGUE: the block [i0, i0 + len) of CYL_BLOCK_WORK
 * elements and the common arguments) runs it on one block, and ew_run runs the blocks
 * (threaded, deterministic sum).  Pointers are offset to the block before the call. */

#define CYL_SPEC_L(F, ...) do { if (loss) F(__VA_ARGS__, 1); else F(__VA_ARGS__, 0); } while (0)
/* (HG, HH): the Hessian comes with the gradient (the facade always asks for both) */
/* HL = -1: no loss at all (neither stored nor summed: ew_ctx.nosum, the caller passed
 * neither per-element losses nor a loss sum), only with the gradient */
#define CYL_SPEC_G(F, ...) \
    do { \
        if (hess) { \
            if (k_->nosum) F(__VA_ARGS__, 1, 1, -1); \
            else CYL_SPEC_L(F, __VA_ARGS__, 1, 1); \
        } else if (grad) { \
            if (k_->nosum) F(__VA_ARGS__, 1, 0, -1); \
            else CYL_SPEC_L(F, __VA_ARGS__, 1, 0); \
        } else CYL_SPEC_L(F, __VA_ARGS__, 0, 0); \
    } while (0)
#define CYL_SPEC_W(F, ...) do { if (weight) CYL_SPEC_G(F, __VA_ARGS__, 1); else CYL_SPEC_G(F, __VA_ARGS__, 0); } while (0)
#define CYL_OFF(p) ((p) ? (p) + i0 : NULL)

/* The body of a run function: return the sum over i in [0, n) of (double)ELEM, ELEM an
 * expression of the index i (an always-inline element function that also stores the
 * element's loss, gradient and Hessian).  Lane k adds the elements i = k mod CYL_LANES in
 * order, then the lanes and the tail are added in order: the sum does not depend on
 * whether or how the compiler vectorizes the loop, so a loss is the same bit for bit
 * with or without its gradient (another specialization of the loop) and whatever the
 * flags. */
#define CYL_LANES 16
#define CYL_LANE_SUM(n, ELEM) \
    if (HL < 0) { /* no loss: the element's stores only (its loss is dead code), in the same \
                   * loops as below so that every element gets the same arithmetic */ \
        ptrdiff_t j_ = 0; \
        for (; j_ + CYL_LANES <= (n); j_ += CYL_LANES) { \
            _Pragma("omp simd") \
            for (int k_ = 0; k_ < CYL_LANES; k_++) { \
                const ptrdiff_t i = j_ + k_; \
                (void)(ELEM); \
            } \
        } \
        for (ptrdiff_t i = j_; i < (n); i++) \
            (void)(ELEM); \
        return 0.0; \
    } \
    double lanes_[CYL_LANES]; \
    for (int k_ = 0; k_ < CYL_LANES; k_++) \
        lanes_[k_] = 0.0; \
    ptrdiff_t j_ = 0; \
    for (; j_ + CYL_LANES <= (n); j_ += CYL_LANES) { \
        _Pragma("omp simd") \
        for (int k_ = 0; k_ < CYL_LANES; k_++) { \
            const ptrdiff_t i = j_ + k_; \
            lanes_[k_] += (double)(ELEM); \
        } \
    } \
    double sum_ = 0.0; \
    for (int k_ = 0; k_ < CYL_LANES; k_++) \
        sum_ += lanes_[k_]; \
    for (ptrdiff_t i = j_; i < (n); i++) \
        sum_ += (double)(ELEM); \
    return sum_

/* the arguments of an elementwise kernel (a, b: its two inputs; w, pw: optional weights) */
typedef struct {
    const T *a, *b, *w, *pw;
    T *loss, *grad, *hess;
    double *part;
    T gs, prm;
    ptrdiff_t n;
    int nosum; /* set by ew_run: no loss wanted (loss and loss_sum NULL) */
} CYL_FN(ew_ctx);

#define CYL_EW_PROLOGUE \
    const CYL_FN(ew_ctx) *k_ = (const CYL_FN(ew_ctx) *)vctx; \
    const ptrdiff_t i0 = b_ * CYL_BLOCK_WORK; \
    const ptrdiff_t len = k_->n - i0 < CYL_BLOCK_WORK ? k_->n - i0 : CYL_BLOCK_WORK; \
    const T *weight = k_->w; \
    T *loss = k_->loss, *grad = k_->grad, *hess = k_->hess; \
    const T gs = k_->gs; \
    double acc = 0.0; \
    (void)scratch_; \
    (void)gs

/* run block function f over the blocks of k; *loss_sum = the in-order sum of the block sums */
static int CYL_FN(ew_run)(CYL_FN(ew_ctx) *k, double cost, cyl_block_fn f, double *loss_sum)
{
    if (k->n < 0) return CYL_ERR_ARG;
    const ptrdiff_t nb = (k->n + CYL_BLOCK_WORK - 1) / CYL_BLOCK_WORK;
    double one;
    if (!(k->part = CYL_FN(parts)(nb, &one))) return CYL_ERR_NOMEM;
    k->nosum = !loss_sum && !k->loss && k->grad;
    int st = cyl_parallel_for(nb, (double)k->n * cost, f, k);
    double total = cyl_sum_parts(k->part, nb, &one);
    if (loss_sum && st == CYL_OK) *loss_sum = total;
    return st;
}

/* store the element's outputs: loss l, gradient g and Hessian h, each times the weight,
 * g and h times the gradient scale */
#define CYL_EW_STORE(l, g, h) \
    do { \
        if (HW) { \
            l *= w[i]; \
            g *= w[i]; \
            h *= w[i]; \
        } \
        if (HL > 0) loss[i] = l; \
        if (HG) grad[i] = g * gs; \
        if (HH) hess[i] = h * gs; \
    } while (0)

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

/* first i with bad(x[i]) (the facade reports the position), or -1 */
#define CYL_FIRST_BAD(n, x, BAD, out) \
    do { \
        ptrdiff_t nbad_ = 0; \
        _Pragma("omp simd reduction(+:nbad_)") \
        for (ptrdiff_t i_ = 0; i_ < (n); i_++) { \
            const T v = (x)[i_]; \
            nbad_ += (BAD); \
        } \
        (out) = -1; \
        if (nbad_) \
            for (ptrdiff_t i_ = 0; i_ < (n); i_++) { \
                const T v = (x)[i_]; \
                if (BAD) { \
                    (out) = i_; \
                    break; \
                } \
            } \
    } while (0)

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

/* sign(d) with sign(0) = 0 and sign(NaN) = NaN */
#define CYL_SIGN(d) ((d) > 0 ? (T)1 : (d) < 0 ? (T)-1 : (d))

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
    } else { /* smooth L1, param = beta > 0 */
        int in = ad < param;
        l = in ? half * d * d * inv : ad - half * param;
        g = in ? d * inv : CYL_SIGN(d);
        h = ad <= param ? inv : (T)0;
    }
    CYL_EW_STORE(l, g, h);
    return l;
}

CYL_INLINE double CYL_FN(regression_run)(ptrdiff_t n, const T *pred, const T *target, const T *w, T param,
                                         T gs, T *loss, T *grad, T *hess, const int KIND, const int HW,
                                         const int HG, const int HH, const int HL)
{
    const T inv = KIND == CYL_SMOOTH_L1 ? (T)1 / param : (T)1;
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
#undef CYL_REG_BLOCK

int CYL_FN(regression_loss_grad_hess)(int kind, ptrdiff_t n, const T *pred, const T *target, const T *weight,
                                      double param, double grad_scale, T *loss, double *loss_sum, T *grad,
                                      T *hess)
{
    if (hess && !grad) return CYL_ERR_ARG;
    if (kind == CYL_SMOOTH_L1 && param == 0) kind = CYL_L1; /* beta = 0 is L1 (torch) */
    if ((kind == CYL_HUBER || kind == CYL_SMOOTH_L1) && !(param > 0 && (T)param > 0)) return CYL_ERR_ARG;
    CYL_FN(ew_ctx) k = {pred, target, weight, NULL, loss, grad, hess, NULL, (T)grad_scale, (T)param, n};
    switch (kind) {
    case CYL_MSE: return CYL_FN(ew_run)(&k, 1.0, CYL_FN(mse_block), loss_sum);
    case CYL_L1: return CYL_FN(ew_run)(&k, 1.0, CYL_FN(l1_block), loss_sum);
    case CYL_HUBER: return CYL_FN(ew_run)(&k, 1.0, CYL_FN(huber_block), loss_sum);
    case CYL_SMOOTH_L1: return CYL_FN(ew_run)(&k, 1.0, CYL_FN(smooth_l1_block), loss_sum);
    default: return CYL_ERR_ARG;
    }
}

int CYL_FN(regression_loss_grad)(int kind, ptrdiff_t n, const T *pred, const T *target, const T *weight,
                                 double param, double grad_scale, T *loss, double *loss_sum, T *grad)
{
    return CYL_FN(regression_loss_grad_hess)(kind, n, pred, target, weight, param, grad_scale, loss, loss_sum, grad,
                                             NULL);
}

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
 *                        p = 1: y log(y/r) + r - y (r if y = 0); p = 2: log(r/y) + y/r - 1
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
        if (!loss) loss = (T *)scratch_ - i0; \
        CYL_SPEC_WG_L1(CYL_GLM_CALL, KIND); \
        k_->part[b_] = acc; \
    }
#define CYL_SPEC_G_L1(F, ...) \
    do { \
        if (hess) { \
            if (k_->nosum) F(__VA_ARGS__, 1, 1, -1); \
            else F(__VA_ARGS__, 1, 1, 1); \
        } else if (grad) { \
            if (k_->nosum) F(__VA_ARGS__, 1, 0, -1); \
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
    /* the y domain of each loss (sklearn's interval_y_true); NaN is data */
    ptrdiff_t bad = -1;
    switch (kind) {
    case CYL_HALF_POISSON:
        CYL_FIRST_BAD(n, y, v < 0, bad);
        f = CYL_FN(g_poisson_block);
        break;
    case CYL_HALF_GAMMA:
        CYL_FIRST_BAD(n, y, v <= 0, bad);
        f = CYL_FN(g_gamma_block);
        break;
    case CYL_HALF_TWEEDIE:
    case CYL_HALF_TWEEDIE_IDENTITY:
        if (!(p == p) || p == INFINITY || p == -INFINITY) return CYL_ERR_ARG;
        if (p > 0 && p < 2) CYL_FIRST_BAD(n, y, v < 0, bad);
        else if (p >= 2) CYL_FIRST_BAD(n, y, v <= 0, bad);
        if (kind == CYL_HALF_TWEEDIE)
            f = p == 0 ? CYL_FN(g_tw0_block) : p == 1 ? CYL_FN(g_poisson_block)
              : p == 2 ? CYL_FN(g_gamma_block) : CYL_FN(g_tw_block);
        else
            f = p == 0 ? CYL_FN(g_twi0_block) : p == 1 ? CYL_FN(g_twi1_block)
              : p == 2 ? CYL_FN(g_twi2_block) : CYL_FN(g_twi_block);
        break;
    case CYL_PINBALL:
        if (!(p > 0 && p < 1)) return CYL_ERR_ARG;
        f = CYL_FN(g_pinball_block);
        break;
    case CYL_EXPONENTIAL:
        CYL_FIRST_BAD(n, y, (v < 0) | (v > 1), bad);
        f = CYL_FN(g_exp_block);
        break;
    default:
        return CYL_ERR_ARG;
    }
    if (bad >= 0) {
        if (err_index) *err_index = bad;
        return CYL_ERR_DOMAIN;
    }
    CYL_FN(ew_ctx) k = {raw, y, weight, NULL, loss, grad, hess, NULL, (T)grad_scale, (T)param, n};
    return CYL_FN(ew_run)(&k, 8.0, f, loss_sum);
}

/* ---------------------------------------------------------------- utilities */

CYL_INLINE double CYL_FN(sum_run)(ptrdiff_t n, const T *x)
{
    double acc = 0.0;
#pragma omp simd reduction(+:acc)
    for (ptrdiff_t i = 0; i < n; i++)
        acc += (double)x[i];
    return acc;
}

static void CYL_FN(sum_block)(void *vctx, ptrdiff_t b_, void *scratch_)
{
    CYL_EW_PROLOGUE;
    (void)weight;
    (void)loss;
    (void)grad;
    (void)hess;
    acc = CYL_FN(sum_run)(len, k_->a + i0);
    k_->part[b_] = acc;
}

int CYL_FN(sum)(ptrdiff_t n, const T *x, double *out)
{
    CYL_FN(ew_ctx) k = {x, NULL, NULL, NULL, NULL, NULL, NULL, NULL, (T)0, (T)0, n};
    return CYL_FN(ew_run)(&k, 0.5, CYL_FN(sum_block), out);
}

int CYL_FN(vexp)(ptrdiff_t n, const T *x, T *y)
{
    if (n < 0) return CYL_ERR_ARG;
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++)
        y[i] = EXP(x[i]);
    return CYL_OK;
}

int CYL_FN(vlog)(ptrdiff_t n, const T *x, T *y)
{
    if (n < 0) return CYL_ERR_ARG;
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++)
        y[i] = LOG(x[i]);
    return CYL_OK;
}

int CYL_FN(vexpneg)(ptrdiff_t n, const T *x, T *y)
{
    if (n < 0) return CYL_ERR_ARG;
#pragma omp simd
    for (ptrdiff_t i = 0; i < n; i++)
        y[i] = EXPNEG(x[i]);
    return CYL_OK;
}

#ifdef CYL_VEC
#undef vT
#undef vU
#undef vI
#undef vD
#undef CYL_VEC
#undef CYL_L2E
#undef CYL_MAGIC
#undef CYL_LN2HI
#undef CYL_LN2LO
#undef CYL_MANT
#undef CYL_KLIM
#undef CYL_NLIM
#undef CYL_VL
#undef CYL_FOLD
#endif
#undef CYL_SIGN
#undef CYL_SMALL_C
#undef CYL_SMALL_C_SOFTMAX
#undef CYL_SMALL_BLOCK
#undef CYL_NL
#undef CYL_BCEL_CALL
#undef CYL_BCE_CALL
#undef CYL_KL_CALL
#undef CYL_REG_CALL
#undef CYL_GLM_CALL
#undef CYL_EW_STORE
#undef CYL_FIRST_BAD
#undef CYL_G_POISSON
#undef CYL_G_GAMMA
#undef CYL_G_TW0
#undef CYL_G_TW
#undef CYL_G_TWI0
#undef CYL_G_TWI1
#undef CYL_G_TWI2
#undef CYL_G_TWI
#undef CYL_G_PINBALL
#undef CYL_G_EXP
#undef CYL_SPEC_L
#undef CYL_SPEC_G
#undef CYL_SPEC_W
#undef CYL_OFF
#undef CYL_EW_PROLOGUE
#undef CYL_LANE_SUM
#undef CYL_LANES
#undef CYL_FN
#undef CYL_FN_
#undef CYL_FN__
