/*
 * cyl_math.h -- inline exp and log for float and double, written so that a loop
 * calling them vectorizes (no branches, no table lookups, no libm calls).
 *
 * exp(x):  x = q*ln2 + r, |r| <= ln2/2 (Cody-Waite split of ln2, q = rint(x/ln2)
 *          by the 1.5*2^p "magic number" trick), exp(r) by a polynomial (float: a
 *          degree-6 minimax fit, 3.2e-9 absolute error; double: Taylor's degree 13,
 *          < 5e-18 relative), then multiplied by 2^q1 * 2^q2 with q1 + q2 = q so
 *          that both factors are normal numbers: the result is rounded once, also
 *          in the subnormal range.  Inputs are clamped first ([-104, 89] for
 *          float, [-746, 710] for double), which maps -inf to +0 and +inf to +inf;
 *          NaN passes the clamps (comparisons with NaN are false) and propagates.
 * log(x):  fdlibm / musl e_log.c and e_logf.c: x = 2^k * (1 + f) with
 *          1 + f in [sqrt(2)/2, sqrt(2)), log(1+f) = f - f^2/2 + s*(f^2/2 + R(s^2)),
 *          s = f / (2 + f).  Subnormals are scaled into the normal range first;
 *          x < 0 gives NaN, +-0 gives -inf, +inf gives +inf, NaN gives NaN.
 *
 * Measured error (tests/test_mathfuncs.py, against correctly rounded mpmath /
 * float64 references, over the whole range including the subnormal edges):
 * exp float < 1 ulp, exp double < 1 ulp, log float < 1 ulp, log double < 1 ulp.
 *
 * Nothing here uses -ffast-math semantics: NaN/inf behaviour is explicit.
 */
#ifndef CYL_MATH_H
#define CYL_MATH_H

#include <stdint.h>
#include <math.h>

#if defined(__GNUC__) || defined(__clang__)
#define CYL_INLINE static inline __attribute__((always_inline))
#define CYL_NOINLINE __attribute__((noinline))
#define CYL_PRAGMA(x) _Pragma(#x)
#elif defined(_MSC_VER)
#define CYL_INLINE static __forceinline
#define CYL_NOINLINE __declspec(noinline)
#define CYL_PRAGMA(x) /* MSVC: OpenMP 2.0 has no simd pragma; the loops stay plain C */
#else
#define CYL_INLINE static inline
#define CYL_NOINLINE
#define CYL_PRAGMA(x)
#endif

CYL_INLINE uint32_t cyl_f2u(float f) { union { float f; uint32_t u; } v; v.f = f; return v.u; }
CYL_INLINE float cyl_u2f(uint32_t u) { union { float f; uint32_t u; } v; v.u = u; return v.f; }
CYL_INLINE uint64_t cyl_d2u(double f) { union { double f; uint64_t u; } v; v.f = f; return v.u; }
CYL_INLINE double cyl_u2d(uint64_t u) { union { double f; uint64_t u; } v; v.u = u; return v.f; }

/* ------------------------------------------------------------------ exp */
/* The clamp bounds of cyl_exp_f32 / cyl_exp_f64 ({lo, hi}; defined in dispatch.c).  They
 * are read from memory, not written as literals: with literal bounds GCC's vectorizer
 * folds exp() of the bounds and rebuilds each clamp as compares and blends after the
 * polynomial (9 instructions per vector), while bounds it cannot see stay one vmaxps and
 * one vminps (NaN passes both: x < lo ? lo : x is maxps(lo, x)).  Measured (gcc -O3,
 * AVX2; a loop g = exp(r) - y, h = exp(r) over 4096 L1-resident elements, with the
 * minimax polynomial and the AND below): float32 38.6 -> 29.6 instructions per 8
 * elements, cycles -15..-25%; float64 48 -> 39 instructions per 4, cycles -10..-18%. */
extern const float cyl_exp_lim_f32[2];
extern const double cyl_exp_lim_f64[2];
/* All ones, also in memory: the result passes through an AND with it, so that the
 * caller's code cannot contract exp's last multiply into an FMA with its own arithmetic
 * (e - y x became fma(p s1, s2, -y x) in one flag specialization of a loop and not in
 * another, and a loss with and without its gradient differed in the last bit). */
extern const uint32_t cyl_exp_keep_f32;
extern const uint64_t cyl_exp_keep_f64;

CYL_INLINE float cyl_exp_f32(float x)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    const float lo = cyl_exp_lim_f32[0], hi = cyl_exp_lim_f32[1]; /* -104, 89 */
    x = x < lo ? lo : x;
    x = x > hi ? hi : x;
    float t = x * 1.44269504088896341f + magic;
    float q = t - magic;
    int32_t qi = (int32_t)(cyl_f2u(t) - cyl_f2u(magic));
    float r = x - q * 6.9314575195e-01f;
    r = r - q * 1.4286067653e-06f;
    /* the degree-6 minimax polynomial of cyl_expneg_f32 (3.2e-9 absolute error on
     * [-ln2/2, ln2/2]; Taylor's degree 7 before) */
    float p = 0.001395083381794393f;
    p = p * r + 0.008369088172912598f;
    p = p * r + 0.04166620224714279f;
    p = p * r + 0.16666516661643982f;
    p = p * r + 0.5f;
    p = 1.0f + (r + r * r * p);
    /* 2^qi = 2^q1 2^q2, both factors normal (an exponent add into p would turn a NaN
     * into a number) */
    int32_t q1 = qi >> 1;
    int32_t q2 = qi - q1;
    float s1 = cyl_u2f((uint32_t)(q1 + 127) << 23);
    float s2 = cyl_u2f((uint32_t)(q2 + 127) << 23);
    return cyl_u2f(cyl_f2u((p * s1) * s2) & cyl_exp_keep_f32);
}

/* exp(r) for |r| <= ln2/2 (+ rounding): Taylor polynomial of degree 13, truncation
 * error < 5e-18 relative */
CYL_INLINE double cyl_exp_reduced_f64(double r)
{
    double p = 1.0 / 6227020800.0;          /* 1/13! */
    p = p * r + 1.0 / 479001600.0;          /* 1/12! */
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    return 1.0 + (r + r * r * p);
}

CYL_INLINE double cyl_exp_f64(double x)
{
    const double magic = 6755399441055744.0; /* 1.5 * 2^52 */
    const double lo = cyl_exp_lim_f64[0], hi = cyl_exp_lim_f64[1]; /* -746, 710 */
    x = x < lo ? lo : x;
    x = x > hi ? hi : x;
    double t = x * 1.4426950408889634074 + magic;
    double q = t - magic;
    double r = x - q * 6.93147180369123816490e-01;
    r = r - q * 1.90821492927058770002e-10;
    double p = cyl_exp_reduced_f64(r);
    /* q = q1 + q2, both in [-540, 515]: exponent fields built with integer
     * adds and a left shift only (vectorizable without AVX-512). */
    double t1 = q * 0.5 + magic;
    double q1 = t1 - magic;
    double t2 = (q - q1) + magic;
    uint64_t m = cyl_d2u(magic);
    double s1 = cyl_u2d((cyl_d2u(t1) - m + 1023u) << 52);
    double s2 = cyl_u2d((cyl_d2u(t2) - m + 1023u) << 52);
    return cyl_u2d(cyl_d2u((p * s1) * s2) & cyl_exp_keep_f64);
}

/* exp(x) for x <= 0 (or NaN): the exponential of the row kernels, whose arguments
 * are x - max(x) <= 0.  Same reduction as above, a degree-6 minimax polynomial
 * (fitted on [-ln2/2, ln2/2], 3.2e-9 absolute error) instead of Taylor's degree 7,
 * and the scale 2^q applied by adding q to the exponent field: about half the
 * instructions of cyl_exp_f32.  Results below the smallest normal number
 * (x < -87.3365) are flushed to +0 (so is x = -inf); NaN propagates.  Measured error
 * on (-87.33, 0]: <= 1 ulp (tests/test_mathfuncs.py). */
CYL_INLINE float cyl_expneg_f32(float x)
{
    const float magic = 12582912.0f; /* 1.5 * 2^23; bits(magic) << 23 == 0 */
    float t = x * 1.44269504088896341f + magic;
    float q = t - magic;
    float r = x - q * 6.9314575195e-01f;
    r = r - q * 1.4286067653e-06f;
    float p = 0.001395083381794393f;
    p = p * r + 0.008369088172912598f;
    p = p * r + 0.04166620224714279f;
    p = p * r + 0.16666516661643982f;
    p = p * r + 0.5f;
    p = 1.0f + (r + r * r * p);
    float res = cyl_u2f(cyl_f2u(p) + (cyl_f2u(t) << 23));
    res = x < -87.3365479f ? 0.0f : res;
    return x != x ? x : res;
}

CYL_INLINE double cyl_expneg_f64(double x)
{
    const double magic = 6755399441055744.0; /* 1.5 * 2^52; bits(magic) << 52 == 0 */
    double t = x * 1.4426950408889634074 + magic;
    double q = t - magic;
    double r = x - q * 6.93147180369123816490e-01;
    r = r - q * 1.90821492927058770002e-10;
    double p = cyl_exp_reduced_f64(r);
    double res = cyl_u2d(cyl_d2u(p) + (cyl_d2u(t) << 52));
    res = x < -708.39641853226408 ? 0.0 : res;
    return x != x ? x : res;
}

/* ------------------------------------------------------------------ log */
CYL_INLINE float cyl_log_f32(float x)
{
    const float ln2_hi = 6.9313812256e-01f, ln2_lo = 9.0580006145e-06f;
    const float Lg1 = 0.66666662693f, Lg2 = 0.40000972152f,
                Lg3 = 0.28498786688f, Lg4 = 0.24279078841f;
    int sub = x < 1.17549435e-38f;
    float xs = sub ? x * 33554432.0f : x;          /* 2^25 */
    float kadj = sub ? -25.0f : 0.0f;
    uint32_t ix = cyl_f2u(xs);
    ix += 0x3f800000u - 0x3f3504f3u;
    float dk = (float)((int32_t)(ix >> 23) - 0x7f) + kadj;
    ix = (ix & 0x007fffffu) + 0x3f3504f3u;
    float f = cyl_u2f(ix) - 1.0f;
    float s = f / (2.0f + f);
    float z = s * s;
    float w = z * z;
    float t1 = w * (Lg2 + w * Lg4);
    float t2 = z * (Lg1 + w * Lg3);
    float R = t2 + t1;
    float hfsq = 0.5f * f * f;
    float r = s * (hfsq + R) + dk * ln2_lo - hfsq + f + dk * ln2_hi;
    r = x == INFINITY ? x : r;
    r = x == 0.0f ? -INFINITY : r;
    r = x < 0.0f ? NAN : r;
    r = x != x ? x : r;
    return r;
}

CYL_INLINE double cyl_log_f64(double x)
{
    const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
    const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
                 Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
                 Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
                 Lg7 = 1.479819860511658591e-01;
    const double magic = 6755399441055744.0;
    int sub = x < 2.2250738585072014e-308;
    double xs = sub ? x * 18014398509481984.0 : x; /* 2^54 */
    double kadj = sub ? -54.0 : 0.0;
    uint64_t ix = cyl_d2u(xs);
    ix += (uint64_t)(0x3ff00000u - 0x3fe6a09eu) << 32;
    /* biased exponent to double without a 64-bit int->double conversion */
    double e = cyl_u2d((ix >> 52) + cyl_d2u(magic)) - magic;
    double dk = (e - 1023.0) + kadj;
    ix = (ix & 0x000fffffffffffffull) + ((uint64_t)0x3fe6a09eu << 32);
    double f = cyl_u2d(ix) - 1.0;
    double hfsq = 0.5 * f * f;
    double s = f / (2.0 + f);
    double z = s * s;
    double w = z * z;
    double t1 = w * (Lg2 + w * (Lg4 + w * Lg6));
    double t2 = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7)));
    double R = t2 + t1;
    double r = s * (hfsq + R) + dk * ln2_lo - hfsq + f + dk * ln2_hi;
    r = x == INFINITY ? x : r;
    r = x == 0.0 ? -INFINITY : r;
    r = x < 0.0 ? NAN : r;
    r = x != x ? x : r;
    return r;
}

/* log1p(e) for e in [0, 1] (the softplus tail log1p(exp(-|x|))): log(1 + e)
 * plus the rounding error of 1 + e, (e - (u - 1)) / u (Goldberg's trick); correct for
 * any e >= 0 (the row kernels use it for log(count + rest) - 1). */
CYL_INLINE float cyl_log1p_unit_f32(float e)
{
    float u = 1.0f + e;
    return cyl_log_f32(u) + (e - (u - 1.0f)) / u;
}
CYL_INLINE double cyl_log1p_unit_f64(double e)
{
    double u = 1.0 + e;
    return cyl_log_f64(u) + (e - (u - 1.0)) / u;
}

#endif /* CYL_MATH_H */
