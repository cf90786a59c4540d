/*
 * kernel_profile.c -- where the time of the row kernels goes, one thread, float32:
 * built from csrc/ by benchmarks/kernel_profile.py (python -m benchmarks.kernel_profile).
 *
 * For each kernel, two measurements:
 *   compute: every row is the same L1-resident row (ldx = ldy = 0), so the time is the
 *            kernel's arithmetic: reported in cycles per 8 elements (one AVX2 vector);
 *   stream:  a real n x c matrix: time, bytes the kernel must move (inputs read once,
 *            outputs written once) and the same bytes through memcpy.
 * The clock is measured with a dependent chain of integer adds (1 per cycle).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cyloss.h"

extern const cyl_kernels cyl_kernels_avx512, cyl_kernels_avx2, cyl_kernels_baseline;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double ghz(void)
{
    long n = 400000000;
    double t0 = now();
    long x = 0;
#if defined(__x86_64__)
    __asm__ volatile("1: add $1, %0\n dec %1\n jnz 1b" : "+r"(x), "+r"(n));
#else
    for (long k = 0; k < n; k++) __asm__ volatile("" : "+r"(x));
#endif
    return 0.4 / (now() - t0);
}

#define BEST(expr, reps) \
    ({ \
        double b_ = 1e9; \
        for (int r_ = 0; r_ < (reps); r_++) { \
            double t0_ = now(); \
            expr; \
            double t_ = now() - t0_; \
            if (t_ < b_) b_ = t_; \
        } \
        b_; \
    })

int main(int argc, char **argv)
{
    const long n = argc > 2 ? atol(argv[1]) : 4096, c = argc > 2 ? atol(argv[2]) : 1000;
    const char *isa = argc > 3 ? argv[3] : "avx2";
    const int base = !strcmp(isa, "baseline"), avx512 = !strcmp(isa, "avx512");
    const cyl_kernels *K = base ? &cyl_kernels_baseline : avx512 ? &cyl_kernels_avx512 : &cyl_kernels_avx2;
    cyl_init(base ? 1 : avx512 ? 0 : 2);
    cyl_set_thread_defaults(1, 1);
    const double f = ghz();
    float *x = aligned_alloc(64, (size_t)n * c * 4), *y = aligned_alloc(64, (size_t)n * c * 4);
    float *g = aligned_alloc(64, (size_t)n * c * 4), *o = aligned_alloc(64, (size_t)n * 4);
    int64_t *t = malloc((size_t)n * 8);
    srand(1);
    for (long k = 0; k < n * c; k++) {
        float u1 = (rand() + 1.0f) / RAND_MAX, u2 = (rand() + 1.0f) / RAND_MAX;
        x[k] = sqrtf(-2 * logf(u1)) * cosf(6.2831853f * u2);
    }
    for (long i = 0; i < n; i++) t[i] = rand() % c;
    memset(y, 0, (size_t)n * c * 4);
    memset(g, 0, (size_t)n * c * 4);
    K->softmax_f32(n, c, x, c, g, c, 1.0); /* g: softmax rows (for the backward kernels) */
    double ls;
    ptrdiff_t err;
    const double mb = (double)n * c * 4 / 1e6;
    const double tcopy = BEST(memcpy(y, x, (size_t)n * c * 4), 20);
    printf("%s, %ldx%ld float32, one thread, %.2f GHz; memcpy of %.1f MB: %.3f ms\n", base ? "baseline" : isa,
           n, c, f, mb, tcopy * 1e3);
    printf("%-24s %14s %11s %10s %10s %12s\n", "kernel", "compute cyc/8", "compute ms", "stream ms", "MB moved",
           "/ memcpy same");
#define ROW(name, in_arrays, out_arrays, call_l1, call_st) \
    do { \
        double tl = BEST(call_l1, 20), ts = BEST(call_st, 20); \
        double moved = mb * ((in_arrays) + (out_arrays)); \
        double tcp = tcopy * moved / (2 * mb); \
        printf("%-24s %14.2f %11.3f %10.3f %10.1f %12.2f\n", name, tl * f * 1e9 / ((double)n * c / 8), tl * 1e3, \
               ts * 1e3, moved, ts / tcp); \
    } while (0)
    ROW("softmax", 1, 1, K->softmax_f32(n, c, x, 0, y, 0, 1.0), K->softmax_f32(n, c, x, c, y, c, 1.0));
    ROW("log_softmax", 1, 1, K->log_softmax_f32(n, c, x, 0, y, 0, 1.0), K->log_softmax_f32(n, c, x, c, y, c, 1.0));
    ROW("logsumexp", 1, 0, K->logsumexp_f32(n, c, x, 0, NULL, 0, o, NULL),
        K->logsumexp_f32(n, c, x, c, NULL, 0, o, NULL));
    ROW("cross_entropy", 1, 0,
        K->cross_entropy_loss_grad_f32(n, c, x, 0, t, NULL, -100, 0.0, 1.0 / n, NULL, &ls, NULL, 0, &err),
        K->cross_entropy_loss_grad_f32(n, c, x, c, t, NULL, -100, 0.0, 1.0 / n, NULL, &ls, NULL, c, &err));
    ROW("cross_entropy+grad", 1, 1,
        K->cross_entropy_loss_grad_f32(n, c, x, 0, t, NULL, -100, 0.0, 1.0 / n, NULL, &ls, y, 0, &err),
        K->cross_entropy_loss_grad_f32(n, c, x, c, t, NULL, -100, 0.0, 1.0 / n, NULL, &ls, y, c, &err));
    ROW("softmax_backward", 2, 1, K->softmax_backward_f32(n, c, g, 0, x, 0, y, 0),
        K->softmax_backward_f32(n, c, g, c, x, c, y, c));
    K->log_softmax_f32(n, c, x, c, g, c, 1.0);
    ROW("log_softmax_backward", 2, 1, K->log_softmax_backward_f32(n, c, g, 0, x, 0, y, 0),
        K->log_softmax_backward_f32(n, c, g, c, x, c, y, c));
    return 0;
}
