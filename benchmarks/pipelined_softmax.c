/*
 * pipelined_softmax.c -- issue 9's "one software-pipelined loop per row" softmax, as a
 * standalone AVX-512 float32 prototype (every row taken as a fast row: no NaN / inf, no
 * underflowing range), timed in one process against cyloss's softmax_f32 (AVX-512 target).
 * While row i's exponentials are computed and summed, row i+1's max/min are accumulated and
 * row i-1 is scaled by its 1/sum.  Variants (-D): BUF (exponentials into an L1 buffer, row i-1
 * written from it), NT (that write streamed; rows must be 64-byte aligned, e.g. c = 1008),
 * SEPSTATS (row i+1's statistics in their own pass before row i's loop), PF (prefetch row i+2),
 * NOSTATS / NOSCALE (leave a part out: timing only, wrong results).
 *   gcc -O3 -std=gnu11 -mavx512f -mavx512dq -mavx512bw -mavx512vl -mfma -mavx2 -fno-math-errno \
 *       -fno-trapping-math -funroll-loops -pthread -Icsrc [-DBUF -DNT] benchmarks/pipelined_softmax.c \
 *       csrc/dispatch.c csrc/cyl_threads.c csrc/kernels_*.c -lm -o /tmp/ps && /tmp/ps 4096 1008
 * Results are in BENCHMARKS.md (issue 9).
 */
#include <immintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cyloss.h"
extern const cyl_kernels cyl_kernels_avx512;
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+1e-9*t.tv_nsec;}
static double ghz(void){long n=400000000;double t0=now();long x=0;__asm__ volatile("1: add $1, %0\n dec %1\n jnz 1b":"+r"(x),"+r"(n));return 0.4/(now()-t0);}
#define BEST(expr, reps) ({double b_=1e9;for(int r_=0;r_<(reps);r_++){double t0_=now();expr;double t_=now()-t0_;if(t_<b_)b_=t_;}b_;})

#ifdef NT
#define YST _mm512_stream_ps
#else
#define YST _mm512_storeu_ps
#endif
static inline __m512 vexp(__m512 x, __m512 M) {
    __m512 t = _mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f), M);
    __m512 q = _mm512_sub_ps(t, M);
    __m512 r = _mm512_fnmadd_ps(q, _mm512_set1_ps(6.9314575195e-01f), x);
    r = _mm512_fnmadd_ps(q, _mm512_set1_ps(1.4286067653e-06f), r);
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(0.001395083381794393f), r, _mm512_set1_ps(0.008369088172912598f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.04166620224714279f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.16666516661643982f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    __m512 r2 = _mm512_mul_ps(r, r);
    p = _mm512_fmadd_ps(r2, p, r);
    p = _mm512_add_ps(p, _mm512_set1_ps(1.0f));
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), _mm512_slli_epi32(_mm512_castps_si512(t), 23)));
}
static inline double fold(__m512 a) {
    __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(a));
    __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
    return _mm512_reduce_add_pd(_mm512_add_pd(lo, hi));
}
static void stats(const float *x, long c, float *mx, float *mn) {
    __m512 am = _mm512_set1_ps(-INFINITY), an = _mm512_set1_ps(INFINITY);
    long j = 0;
    for (; j + 16 <= c; j += 16) { __m512 v = _mm512_loadu_ps(x + j); am = _mm512_max_ps(v, am); an = _mm512_min_ps(v, an); }
    if (j < c) { __mmask16 k = (__mmask16)((1u << (c - j)) - 1); __m512 v = _mm512_mask_loadu_ps(_mm512_set1_ps(x[0]), k, x + j); am = _mm512_max_ps(v, am); an = _mm512_min_ps(v, an); }
    *mx = _mm512_reduce_max_ps(am); *mn = _mm512_reduce_min_ps(an);
}
/* pipelined softmax, all rows fast (prototype) */
static void softmax_pipe(long n, long c, const float *x, float *y, long ld) {
    float m, mn; stats(x, c, &m, &mn);
    float rprev = 0; float *yprev = NULL;
#ifdef BUF
    static float bufs[2][40000] __attribute__((aligned(64))); const float *bprev = NULL;
#define EO bcur
#define SRC bprev
#else
#define EO yi
#define SRC yprev
#endif
    const long cv = c / 16 * 16; const __mmask16 kt = (__mmask16)((1u << (c - cv)) - 1);
    for (long i = 0; i < n; i++) {
        const float *xi = x + i * ld, *xn = i + 1 < n ? xi + ld : xi; float *yi = y + i * ld; const float *xp = i + 2 < n ? xi + 2 * ld : xi;
#ifdef BUF
        float *bcur = bufs[i & 1];
#endif
#ifdef SEPSTATS
        float m2, mn2; stats(xn, c, &m2, &mn2);
#endif
        const float N = rintf(m * 1.44269504088896341f);
        const __m512 M = _mm512_set1_ps(12582912.0f - N);
        __m512 am = _mm512_set1_ps(-INFINITY), an = _mm512_set1_ps(INFINITY);
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
        const __m512 rv = _mm512_set1_ps(rprev);
        double tot = 0;
        long j = 0;
        for (; j + 32 <= cv; ) {
            long end = j + 256 <= cv ? j + 256 : cv / 32 * 32 > j ? j + (cv - j) / 32 * 32 : j;
            for (; j < end; j += 32) {
#ifdef PF
                _mm_prefetch((const char *)(xp + j), _MM_HINT_T0); _mm_prefetch((const char *)(xp + j + 16), _MM_HINT_T0);
#endif
                __m512 u0 = _mm512_loadu_ps(xi + j), u1 = _mm512_loadu_ps(xi + j + 16);
                __m512 e0 = vexp(u0, M), e1 = vexp(u1, M);
                _mm512_storeu_ps(EO + j, e0); _mm512_storeu_ps(EO + j + 16, e1);
                a0 = _mm512_add_ps(a0, e0); a1 = _mm512_add_ps(a1, e1);
#if !defined(NOSTATS) && !defined(SEPSTATS)
                __m512 w0 = _mm512_loadu_ps(xn + j), w1 = _mm512_loadu_ps(xn + j + 16);
                am = _mm512_max_ps(_mm512_max_ps(w0, w1), am); an = _mm512_min_ps(_mm512_min_ps(w0, w1), an);
#endif
#ifndef NOSCALE
                if (yprev)
#else
                if (0)
#endif
                {
                    YST(yprev + j, _mm512_mul_ps(_mm512_loadu_ps(SRC + j), rv));
                    YST(yprev + j + 16, _mm512_mul_ps(_mm512_loadu_ps(SRC + j + 16), rv));
                }
            }
            tot += fold(_mm512_add_ps(a0, a1)); a0 = a1 = _mm512_setzero_ps();
        }
        for (; j < cv; j += 16) {
            __m512 u0 = _mm512_loadu_ps(xi + j); __m512 e0 = vexp(u0, M); _mm512_storeu_ps(EO + j, e0); a0 = _mm512_add_ps(a0, e0);
            __m512 w0 = _mm512_loadu_ps(xn + j); am = _mm512_max_ps(w0, am); an = _mm512_min_ps(w0, an);
            if (yprev) _mm512_storeu_ps(yprev + j, _mm512_mul_ps(_mm512_loadu_ps(SRC + j), rv));
        }
        if (j < c) {
            __m512 u0 = _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), kt, xi + j); __m512 e0 = _mm512_maskz_mov_ps(kt, vexp(u0, M));
            _mm512_mask_storeu_ps(EO + j, kt, e0); a0 = _mm512_add_ps(a0, e0);
            __m512 w0 = _mm512_mask_loadu_ps(_mm512_set1_ps(xn[0]), kt, xn + j); am = _mm512_max_ps(w0, am); an = _mm512_min_ps(w0, an);
            if (yprev) _mm512_mask_storeu_ps(yprev + j, kt, _mm512_mul_ps(_mm512_maskz_loadu_ps(kt, SRC + j), rv));
        }
        tot += fold(_mm512_add_ps(a0, a1));
        m = _mm512_reduce_max_ps(am); mn = _mm512_reduce_min_ps(an);
#ifdef SEPSTATS
        m = m2; mn = mn2;
#endif
        rprev = (float)(1.0 / tot); yprev = yi;
#ifdef BUF
        bprev = bcur;
#endif
    }
    if (yprev) for (long j = 0; j < c; j++) yprev[j] = SRC[j] * rprev;
}
int main(int argc, char **argv) {
    const long n = atol(argv[1]), c = atol(argv[2]);
    cyl_init(0); cyl_set_thread_defaults(1, 1);
    const cyl_kernels *K = &cyl_kernels_avx512;
    const double f = ghz();
    float *x = aligned_alloc(64, n*c*4), *y = aligned_alloc(64, n*c*4), *y2 = aligned_alloc(64, n*c*4);
    srand(1);
    for (long k = 0; k < n*c; k++) { float u1=(rand()+1.0f)/RAND_MAX,u2=(rand()+1.0f)/RAND_MAX; x[k]=sqrtf(-2*logf(u1))*cosf(6.2831853f*u2); }
    memset(y,0,n*c*4); memset(y2,0,n*c*4);
    K->softmax_f32(n, c, x, c, y, c, 1.0); softmax_pipe(n, c, x, y2, c);
    double md = 0; for (long k = 0; k < n*c; k++) { double d = fabs((double)y[k]-y2[k])/y[k]; if (d>md) md=d; }
    printf("max rel diff %.3g\n", md);
    double tcopy = BEST(memcpy(y2, x, n*c*4), 20);
    double tk1 = BEST(K->softmax_f32(n, c, x, 0, y, 0, 1.0), 20), tk2 = BEST(K->softmax_f32(n, c, x, c, y, c, 1.0), 20);
    double tp1 = BEST(softmax_pipe(n, c, x, y2, 0), 20);
    (void)tp1;
    double tp2 = BEST(softmax_pipe(n, c, x, y2, c), 20);
    printf("%ldx%ld %.2f GHz memcpy %.3f ms | cyloss compute %.3f (%.2f cyc/8) stream %.3f | pipe compute %.3f stream %.3f (%.2f cyc/8)\n",
           n, c, f, tcopy*1e3, tk1*1e3, tk1*f*1e9/(n*c/8.0), tk2*1e3, tp1*1e3, tp2*1e3, tp2*f*1e9/(n*c/8.0));
}
