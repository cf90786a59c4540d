/*
 * portable_kernels_test.c -- the C kernels of cyloss against a scalar double reference
 * written here (plain loops with exp/log from libm; nothing of cyloss is used for the
 * expected values), for float32 and float64, on every CPU target the machine runs
 * (baseline, then avx2 and avx512 when built and supported).  Built and run by
 * tools/check_portable_c.sh, natively and cross-compiled for aarch64 (under qemu).
 *
 *   cc -std=c11 -O2 -Icsrc tools/portable_kernels_test.c csrc/dispatch.c csrc/cyl_threads.c \
 *      csrc/kernels_baseline.c [csrc/kernels_avx2.c csrc/kernels_avx512.c] -pthread -lm
 *
 * Covers softmax, log_softmax, logsumexp (with and without b / sign), logsumexp_partial,
 * softmax_backward, log_softmax_backward, entropy, class_weight_sum, cross_entropy (class
 * targets: weights, ignore_index, label smoothing, Hessian; probability targets), nll_loss,
 * BCE with logits (weight, pos_weight, Hessian), BCE on probabilities, kl_div (both
 * target modes), the regression kinds (MSE, L1, Huber, smooth L1, log-cosh, pseudo-Huber,
 * with Hessians), sum, vexp, vlog, vexpneg, cross_entropy_partial, the glm kinds (half
 * Poisson / Gamma / Tweedie with log and identity link, pinball, exponential), the margin
 * kinds (soft margin, hinge embedding, margin ranking), poisson_nll, gaussian_nll, sigmoid
 * focal loss, multi_margin, multilabel_margin, multilabel_soft_margin, cosine_embedding,
 * triplet_margin (q = 1, 2, 3, inf, swap) and ctc (a few samples of T <= 3 frames, against
 * the enumeration of all alignments); rows holding NaN, +inf and -inf where the
 * behaviour is documented (numpy / scipy / torch semantics, as tests/_reference.py);
 * empty inputs; error statuses.  Prints the number of checks and OK; exit status 1 on any
 * failure.
 *
 * Tolerances: |got - want| <= rtol (|want| + scale), rtol 1e-12 (float64) / 2e-6 (float32),
 * scale the magnitude of the terms (1 for O(1) data); NaN must be NaN, inf the same inf.
 */
#ifndef PKT_BODY
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cyloss.h"

static long n_checks = 0, n_fail = 0;
static const char *target_name = "?";

static void report(const char *what, const char *type, long i, double got, double want)
{
    n_fail++;
    if (n_fail <= 40)
        fprintf(stderr, "FAIL [%s %s] %s [%ld]: got %.17g want %.17g\n", target_name, type, what, i, got, want);
}

static void check(const char *type, const char *what, long i, double got, double want, double rtol, double scale)
{
    int ok;
    n_checks++;
    if (isnan(want))
        ok = isnan(got);
    else if (isinf(want))
        ok = got == want;
    else
        ok = isfinite(got) && fabs(got - want) <= rtol * (fabs(want) + scale);
    if (!ok) report(what, type, i, got, want);
}

static void check_int(const char *type, const char *what, long got, long want)
{
    n_checks++;
    if (got != want) report(what, type, -1, (double)got, (double)want);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double urand(void) /* [0, 1) */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}
static double nrand(void) /* roughly normal: sum of uniforms */
{
    return (urand() + urand() + urand() + urand() - 2.0) * 1.7320508075688772;
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memset(p, 0, bytes ? bytes : 1);
    return p;
}

/* ------------------------------------------------------------ double reference */
static double ref_max(const double *x, ptrdiff_t c) /* numpy max: NaN propagates */
{
    double m = -INFINITY;
    for (ptrdiff_t j = 0; j < c; j++) {
        if (isnan(x[j])) return NAN;
        if (x[j] > m) m = x[j];
    }
    return m;
}

/* numpy: z = s x, m = max z, e = exp(z - m), y = e / sum e (IEEE NaN/inf rules) */
static void ref_softmax(const double *x, ptrdiff_t c, double s, double *y, int log_out)
{
    double *z = xmalloc(sizeof(double) * (size_t)c);
    for (ptrdiff_t j = 0; j < c; j++)
        z[j] = s * x[j];
    const double m = ref_max(z, c);
    double sum = 0.0;
    for (ptrdiff_t j = 0; j < c; j++)
        sum += exp(z[j] - m);
    for (ptrdiff_t j = 0; j < c; j++)
        y[j] = log_out ? (z[j] - m) - log(sum) : exp(z[j] - m) / sum;
    free(z);
}

/* scipy.special.logsumexp of one row; b NULL: all ones; *sgn: sign of the sum */
static double ref_logsumexp(const double *x, const double *b, ptrdiff_t c, double *sgn)
{
    double m = -INFINITY;
    for (ptrdiff_t j = 0; j < c; j++) {
        const double v = (b && b[j] == 0) ? -INFINITY : x[j];
        if (isnan(v)) {
            m = NAN;
            break;
        }
        if (v > m) m = v;
    }
    const double ms = isfinite(m) ? m : 0.0;
    double s = 0.0;
    for (ptrdiff_t j = 0; j < c; j++) {
        if (b && b[j] == 0) continue;
        s += (b ? b[j] : 1.0) * exp(x[j] - ms);
    }
    if (sgn) *sgn = isnan(s) ? s : s > 0 ? 1.0 : s < 0 ? -1.0 : 0.0;
    return log(fabs(s)) + ms;
}

static double softplus(double z)
{
    return (z > 0 ? z : 0) + log1p(exp(-fabs(z)));
}

static double xlogx(double t)
{
    return t == 0 ? 0.0 : t * log(t);
}

#define PKT_BODY 1
#define T float
#define SFX(name) name##_f32
#define TNAME "f32"
#define RTOL 2e-6
#define BIGOFF 40.0
#include "portable_kernels_test.c"
#undef T
#undef SFX
#undef TNAME
#undef RTOL
#undef BIGOFF

#define T double
#define SFX(name) name##_f64
#define TNAME "f64"
#define RTOL 1e-12
#define BIGOFF 700.0
#include "portable_kernels_test.c"
#undef T
#undef SFX
#undef TNAME
#undef RTOL
#undef BIGOFF

static void run_all(void)
{
    run_tests_f32();
    run_tests_f64();
}

int main(void)
{
    /* cyl_init(limit): 1 = baseline, 2 = at most AVX2+FMA, 0 = no limit */
    static const int limits[3] = {1, 2, 0};
    static const char *const names[3] = {"baseline", "avx2", "avx512"};
    const char *built = cyl_cpu_targets_built();
    int ran = 0;
    printf("portable_kernels_test: targets built: %s\n", built);
    for (int k = 0; k < 3; k++) {
        if (!strstr(built, names[k])) continue;
        cyl_init(limits[k]);
        if (strcmp(cyl_cpu_target(), names[k]) != 0) {
            printf("portable_kernels_test: %s not supported by this CPU: skipped\n", names[k]);
            continue;
        }
        target_name = names[k];
        rng_state = 0x9e3779b97f4a7c15ull; /* the same data on every target */
        const long c0 = n_checks, f0 = n_fail;
        run_all();
        printf("portable_kernels_test: target %s: %ld checks, %ld failures\n", names[k], n_checks - c0,
               n_fail - f0);
        ran++;
    }
    if (ran == 0 || n_checks == 0) {
        printf("portable_kernels_test: nothing ran\n");
        return 1;
    }
    if (n_fail) {
        printf("portable_kernels_test: %ld checks, %ld FAILED\n", n_checks, n_fail);
        return 1;
    }
    printf("portable_kernels_test: %ld checks on %d target(s) OK\n", n_checks, ran);
    return 0;
}

#else /* PKT_BODY: the tests of one scalar type T */

/* a matrix (n, c) of T with leading dimension ld, from double values (NULL: zeros) */
static T *SFX(mat)(ptrdiff_t n, ptrdiff_t ld, const double *v, ptrdiff_t c)
{
    T *p = xmalloc(sizeof(T) * (size_t)(n * ld + 1));
    for (ptrdiff_t i = 0; i < n * ld; i++)
        p[i] = (T)-12345.0; /* padding: must stay untouched / unread */
    if (v)
        for (ptrdiff_t i = 0; i < n; i++)
            for (ptrdiff_t j = 0; j < c; j++)
                p[i * ld + j] = (T)v[i * c + j];
    return p;
}
/* the double values of a T matrix (the reference's input: the rounded data) */
static double *SFX(dbl)(const T *p, ptrdiff_t n, ptrdiff_t ld, ptrdiff_t c)
{
    double *v = xmalloc(sizeof(double) * (size_t)(n * c + 1));
    for (ptrdiff_t i = 0; i < n; i++)
        for (ptrdiff_t j = 0; j < c; j++)
            v[i * c + j] = (double)p[i * ld + j];
    return v;
}

/* rows of test logits: random, then (special) -inf entries, NaN, +inf, all -inf, large
 * offsets */
static double *SFX(logits)(ptrdiff_t n, ptrdiff_t c, int special)
{
    double *v = xmalloc(sizeof(double) * (size_t)(n * c + 1));
    for (ptrdiff_t i = 0; i < n * c; i++)
        v[i] = 3.0 * nrand();
    if (!special) return v;
    for (ptrdiff_t i = 0; i < n; i++) {
        double *r = v + i * c;
        switch (i % 8) {
        case 1: /* -inf entries (masking), not all */
            for (ptrdiff_t j = 0; j + 1 < c; j += 2)
                r[j] = -INFINITY;
            break;
        case 2:
            r[c / 2] = NAN;
            break;
        case 3:
            r[c / 3] = INFINITY;
            break;
        case 4:
            for (ptrdiff_t j = 0; j < c; j++)
                r[j] = -INFINITY;
            break;
        case 5:
            for (ptrdiff_t j = 0; j < c; j++)
                r[j] += BIGOFF;
            break;
        case 6:
            for (ptrdiff_t j = 0; j < c; j++)
                r[j] -= BIGOFF;
            break;
        default:
            break;
        }
    }
    return v;
}

static void SFX(test_softmax_family)(ptrdiff_t n, ptrdiff_t c, int special)
{
    const ptrdiff_t ld = c + 3;
    double *xv = SFX(logits)(n, c, special);
    T *x = SFX(mat)(n, ld, xv, c);
    double *xd = SFX(dbl)(x, n, ld, c);
    T *y = SFX(mat)(n, ld, NULL, c);
    double *want = xmalloc(sizeof(double) * (size_t)(c + 1));
    static const double temps[2] = {1.0, 2.0}; /* inv_temperature (exact in float) */
    for (int ti = 0; ti < 2; ti++)
        for (int lg = 0; lg < 2; lg++) {
            const int st = lg ? SFX(cyl_log_softmax)(n, c, x, ld, y, ld, temps[ti])
                              : SFX(cyl_softmax)(n, c, x, ld, y, ld, temps[ti]);
            check_int(TNAME, lg ? "log_softmax status" : "softmax status", st, CYL_OK);
            for (ptrdiff_t i = 0; i < n; i++) {
                ref_softmax(xd + i * c, c, temps[ti], want, lg);
                /* log_softmax: absolute error relative to the row's logit magnitude */
                double sc = 1.0;
                if (lg)
                    for (ptrdiff_t j = 0; j < c; j++)
                        if (isfinite(xd[i * c + j]) && fabs(temps[ti] * xd[i * c + j]) > sc)
                            sc = fabs(temps[ti] * xd[i * c + j]);
                for (ptrdiff_t j = 0; j < c; j++)
                    check(TNAME, lg ? "log_softmax" : "softmax", (long)(i * c + j), (double)y[i * ld + j], want[j],
                          RTOL, lg ? sc : 1e-30);
                if (ld > c) check(TNAME, "softmax padding", (long)i, (double)y[i * ld + c], -12345.0, 0, 0);
            }
        }
    /* in place (y may alias x) */
    {
        T *z = SFX(mat)(n, ld, xv, c);
        SFX(cyl_softmax)(n, c, z, ld, z, ld, 1.0);
        SFX(cyl_softmax)(n, c, x, ld, y, ld, 1.0);
        for (ptrdiff_t i = 0; i < n; i++)
            for (ptrdiff_t j = 0; j < c; j++)
                check(TNAME, "softmax in place", (long)(i * c + j), (double)z[i * ld + j], (double)y[i * ld + j],
                      0, 0);
        free(z);
    }
    /* logsumexp, b NULL (sign given and not) */
    {
        T *out = xmalloc(sizeof(T) * (size_t)(n + 1)), *sg = xmalloc(sizeof(T) * (size_t)(n + 1));
        check_int(TNAME, "logsumexp status", SFX(cyl_logsumexp)(n, c, x, ld, NULL, 0, out, NULL), CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            double sc = 1.0;
            for (ptrdiff_t j = 0; j < c; j++)
                if (isfinite(xd[i * c + j]) && fabs(xd[i * c + j]) > sc) sc = fabs(xd[i * c + j]);
            check(TNAME, "logsumexp", (long)i, (double)out[i], ref_logsumexp(xd + i * c, NULL, c, NULL), RTOL, sc);
        }
        /* with b: weights of both signs and zeros (finite rows only) */
        double *bv = xmalloc(sizeof(double) * (size_t)(n * c + 1));
        for (ptrdiff_t i = 0; i < n * c; i++)
            bv[i] = (i % 5 == 0) ? 0.0 : (i % 7 == 0 ? -0.5 : 0.25 + urand());
        T *b = SFX(mat)(n, ld, bv, c);
        double *bd = SFX(dbl)(b, n, ld, c);
        check_int(TNAME, "logsumexp b status", SFX(cyl_logsumexp)(n, c, x, ld, b, ld, out, sg), CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            int finite = 1;
            for (ptrdiff_t j = 0; j < c; j++)
                finite &= isfinite(xd[i * c + j]) != 0;
            if (!finite) continue;
            double s, sc = 1.0;
            for (ptrdiff_t j = 0; j < c; j++)
                if (fabs(xd[i * c + j]) > sc) sc = fabs(xd[i * c + j]);
            const double w = ref_logsumexp(xd + i * c, bd + i * c, c, &s);
            /* a sum that nearly cancels has no relative accuracy: skip those rows */
            double mag = 0.0, ms = -INFINITY;
            for (ptrdiff_t j = 0; j < c; j++)
                if (bd[i * c + j] != 0 && xd[i * c + j] > ms) ms = xd[i * c + j];
            for (ptrdiff_t j = 0; j < c; j++)
                if (bd[i * c + j] != 0) mag += fabs(bd[i * c + j]) * exp(xd[i * c + j] - ms);
            if (isfinite(w) && (w - ms) - log(mag) > -2.0) {
                check(TNAME, "logsumexp b", (long)i, (double)out[i], w, 64 * RTOL, sc);
                check(TNAME, "logsumexp sign", (long)i, (double)sg[i], s, 0, 0);
            }
        }
        free(out);
        free(sg);
        free(bv);
        free(b);
        free(bd);
    }
    /* logsumexp_partial: (max, sum exp(x - max)) in double */
    {
        double *m = xmalloc(sizeof(double) * (size_t)(n + 1)), *s = xmalloc(sizeof(double) * (size_t)(n + 1));
        check_int(TNAME, "logsumexp_partial status", SFX(cyl_logsumexp_partial)(n, c, x, ld, m, s), CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            const double *r = xd + i * c;
            const double wm = ref_max(r, c);
            double ws = 0.0;
            if (isnan(wm))
                ws = NAN;
            else if (wm == INFINITY)
                ws = 1.0; /* one +inf per row here */
            else if (wm == -INFINITY)
                ws = 0.0;
            else
                for (ptrdiff_t j = 0; j < c; j++)
                    ws += exp(r[j] - wm);
            check(TNAME, "logsumexp_partial m", (long)i, m[i], wm, 0, 0);
            check(TNAME, "logsumexp_partial s", (long)i, s[i], ws, RTOL, 1e-30);
        }
        free(m);
        free(s);
    }
    free(xv);
    free(x);
    free(xd);
    free(y);
    free(want);
}

static void SFX(test_backward_entropy)(ptrdiff_t n, ptrdiff_t c)
{
    const ptrdiff_t ld = c + 1;
    double *yv = xmalloc(sizeof(double) * (size_t)(n * c + 1)), *gv = xmalloc(sizeof(double) * (size_t)(n * c + 1));
    for (ptrdiff_t i = 0; i < n; i++) {
        double s = 0.0;
        for (ptrdiff_t j = 0; j < c; j++) {
            yv[i * c + j] = (i % 3 == 1 && j % 4 == 0) ? 0.0 : urand();
            s += yv[i * c + j];
        }
        for (ptrdiff_t j = 0; j < c; j++)
            yv[i * c + j] = s > 0 ? yv[i * c + j] / s : 0.0;
    }
    for (ptrdiff_t i = 0; i < n * c; i++)
        gv[i] = nrand();
    T *y = SFX(mat)(n, ld, yv, c), *g = SFX(mat)(n, ld, gv, c), *o = SFX(mat)(n, ld, NULL, c);
    double *yd = SFX(dbl)(y, n, ld, c), *gd = SFX(dbl)(g, n, ld, c);
    check_int(TNAME, "softmax_backward status", SFX(cyl_softmax_backward)(n, c, y, ld, g, ld, o, ld), CYL_OK);
    for (ptrdiff_t i = 0; i < n; i++) {
        double dot = 0.0, sc = 0.0;
        for (ptrdiff_t j = 0; j < c; j++) {
            dot += gd[i * c + j] * yd[i * c + j];
            sc += fabs(gd[i * c + j] * yd[i * c + j]);
        }
        for (ptrdiff_t j = 0; j < c; j++)
            check(TNAME, "softmax_backward", (long)(i * c + j), (double)o[i * ld + j],
                  yd[i * c + j] * (gd[i * c + j] - dot), RTOL, yd[i * c + j] * (fabs(gd[i * c + j]) + sc) + 1e-300);
    }
    /* log_softmax_backward on log y (log 0 = -inf: exp gives 0) */
    T *ly = SFX(mat)(n, ld, NULL, c);
    for (ptrdiff_t i = 0; i < n; i++)
        for (ptrdiff_t j = 0; j < c; j++)
            ly[i * ld + j] = (T)log(yd[i * c + j]);
    double *lyd = SFX(dbl)(ly, n, ld, c);
    check_int(TNAME, "log_softmax_backward status", SFX(cyl_log_softmax_backward)(n, c, ly, ld, g, ld, o, ld), CYL_OK);
    for (ptrdiff_t i = 0; i < n; i++) {
        double sg = 0.0, sc = 0.0;
        for (ptrdiff_t j = 0; j < c; j++) {
            sg += gd[i * c + j];
            sc += fabs(gd[i * c + j]);
        }
        for (ptrdiff_t j = 0; j < c; j++)
            check(TNAME, "log_softmax_backward", (long)(i * c + j), (double)o[i * ld + j],
                  gd[i * c + j] - exp(lyd[i * c + j]) * sg, 4 * RTOL, fabs(gd[i * c + j]) + sc);
    }
    /* entropy: -sum p log p, 0 log 0 = 0 */
    T *out = xmalloc(sizeof(T) * (size_t)(n + 1));
    check_int(TNAME, "entropy status", SFX(cyl_entropy)(n, c, y, ld, out), CYL_OK);
    for (ptrdiff_t i = 0; i < n; i++) {
        double h = 0.0;
        for (ptrdiff_t j = 0; j < c; j++)
            h -= xlogx(yd[i * c + j]);
        check(TNAME, "entropy", (long)i, (double)out[i], h, 4 * RTOL, 1.0);
    }
    free(yv);
    free(gv);
    free(y);
    free(g);
    free(o);
    free(yd);
    free(gd);
    free(ly);
    free(lyd);
    free(out);
}

/* cross-entropy with class targets (loss, sum, gradient, Hessian), nll_loss and
 * class_weight_sum; row i's target (i * 7) % c, every 5th row ignored */
static void SFX(test_class_targets)(ptrdiff_t n, ptrdiff_t c, int special, int weighted, double eps)
{
    const ptrdiff_t ld = c + 2, ldg = c + 1;
    const int64_t ignore = -100;
    double *xv = SFX(logits)(n, c, special);
    T *x = SFX(mat)(n, ld, xv, c);
    double *xd = SFX(dbl)(x, n, ld, c);
    int64_t *tg = xmalloc(sizeof(int64_t) * (size_t)(n + 1));
    for (ptrdiff_t i = 0; i < n; i++)
        tg[i] = (i % 5 == 4) ? ignore : (int64_t)((i * 7) % c);
    /* special rows: the target entry kept finite in the -inf masking rows */
    if (special)
        for (ptrdiff_t i = 0; i < n; i++)
            if (i % 8 == 1 && tg[i] >= 0) {
                x[i * ld + tg[i]] = (T)0.5;
                xd[i * c + tg[i]] = 0.5;
            }
    T *w = NULL;
    double *wd = xmalloc(sizeof(double) * (size_t)(c + 1));
    for (ptrdiff_t j = 0; j < c; j++)
        wd[j] = 1.0;
    if (weighted) {
        w = xmalloc(sizeof(T) * (size_t)c);
        for (ptrdiff_t j = 0; j < c; j++) {
            w[j] = (T)(0.25 + 2.0 * urand());
            wd[j] = (double)w[j];
        }
    }
    const double gs = n ? 1.0 / (double)n : 1.0;
    T *loss = xmalloc(sizeof(T) * (size_t)(n + 1)), *g = SFX(mat)(n, ldg, NULL, c), *h = SFX(mat)(n, ldg, NULL, c);
    double lsum = -1.0;
    ptrdiff_t err = -7;
    double *logp = xmalloc(sizeof(double) * (size_t)(c + 1));
    for (int hess = 0; hess < 2; hess++) {
        const int st = hess ? SFX(cyl_cross_entropy_loss_grad_hess)(n, c, x, ld, tg, w, ignore, eps, gs, loss, &lsum,
                                                                    g, ldg, h, ldg, &err)
                            : SFX(cyl_cross_entropy_loss_grad)(n, c, x, ld, tg, w, ignore, eps, gs, loss, &lsum, g,
                                                               ldg, &err);
        check_int(TNAME, "cross_entropy status", st, CYL_OK);
        double wsum = 0.0, wabs = 0.0;
        for (ptrdiff_t i = 0; i < n; i++) {
            const double *r = xd + i * c;
            double wl, sc = 1.0;
            for (ptrdiff_t j = 0; j < c; j++)
                if (isfinite(r[j]) && fabs(r[j]) > sc) sc = fabs(r[j]);
            if (tg[i] == ignore) {
                wl = 0.0;
                for (ptrdiff_t j = 0; j < c; j++) {
                    check(TNAME, "cross_entropy grad (ignored row)", (long)(i * c + j), (double)g[i * ldg + j], 0.0,
                          0, 0);
                    if (hess)
                        check(TNAME, "cross_entropy hess (ignored row)", (long)(i * c + j), (double)h[i * ldg + j],
                              0.0, 0, 0);
                }
            } else {
                ref_softmax(r, c, 1.0, logp, 1);
                const int64_t t = tg[i];
                double sw = 0.0, swl = 0.0;
                for (ptrdiff_t j = 0; j < c; j++) {
                    sw += wd[j];
                    swl += wd[j] * logp[j];
                }
                wl = -(1.0 - eps) * wd[t] * logp[t] - (eps > 0 ? eps / (double)c * swl : 0.0);
                const double A = (1.0 - eps) * wd[t] + eps / (double)c * sw;
                for (ptrdiff_t j = 0; j < c; j++) {
                    const double p = exp(logp[j]);
                    const double gj = gs * (A * p - (j == t ? (1.0 - eps) * wd[t] : 0.0) - eps / (double)c * wd[j]);
                    check(TNAME, "cross_entropy grad", (long)(i * c + j), (double)g[i * ldg + j], gj, 4 * RTOL,
                          gs * A);
                    if (hess)
                        check(TNAME, "cross_entropy hess", (long)(i * c + j), (double)h[i * ldg + j],
                              gs * A * p * (1.0 - p), 4 * RTOL, gs * A);
                }
                check(TNAME, "cross_entropy loss", (long)i, (double)loss[i], wl, 4 * RTOL, (1.0 + sc) * A);
            }
            wsum += wl;
            wabs += isfinite(wl) ? fabs(wl) : 0;
        }
        check(TNAME, "cross_entropy loss_sum", -1, lsum, wsum, 4 * RTOL, wabs + 1.0);
        if (ldg > c)
            for (ptrdiff_t i = 0; i < n; i++)
                check(TNAME, "cross_entropy grad padding", (long)i, (double)g[i * ldg + c], -12345.0, 0, 0);
    }
    /* class_weight_sum: sum of weight[t] over the rows kept */
    {
        double ws = -1.0, want = 0.0;
        for (ptrdiff_t i = 0; i < n; i++)
            if (tg[i] != ignore) want += wd[tg[i]];
        check_int(TNAME, "class_weight_sum status", SFX(cyl_class_weight_sum)(n, c, tg, w, ignore, &ws, &err), CYL_OK);
        check(TNAME, "class_weight_sum", -1, ws, want, RTOL, 1.0);
    }
    /* nll_loss on the logits as log-probabilities: loss -w[t] x[t], gradient -w[t] gs at t */
    if (!special) {
        check_int(TNAME, "nll_loss status",
                  SFX(cyl_nll_loss_grad)(n, c, x, ld, tg, w, ignore, gs, loss, &lsum, g, ldg, &err), CYL_OK);
        double want = 0.0;
        for (ptrdiff_t i = 0; i < n; i++) {
            const int keep = tg[i] != ignore;
            const double wl = keep ? -wd[tg[i]] * xd[i * c + tg[i]] : 0.0;
            want += wl;
            check(TNAME, "nll_loss", (long)i, (double)loss[i], wl, RTOL, 1e-30);
            for (ptrdiff_t j = 0; j < c; j++)
                check(TNAME, "nll_loss grad", (long)(i * c + j), (double)g[i * ldg + j],
                      keep && j == tg[i] ? -wd[tg[i]] * gs : 0.0, RTOL, 1e-30);
        }
        check(TNAME, "nll_loss sum", -1, lsum, want, 4 * RTOL, 1.0 + (double)n);
    }
    /* a target out of range: CYL_ERR_TARGET with its row */
    if (n > 3) {
        const int64_t keep = tg[3];
        tg[3] = (int64_t)c;
        err = -7;
        check_int(TNAME, "cross_entropy bad target status",
                  SFX(cyl_cross_entropy_loss_grad)(n, c, x, ld, tg, w, ignore, eps, gs, loss, &lsum, g, ldg, &err),
                  CYL_ERR_TARGET);
        check_int(TNAME, "cross_entropy bad target index", (long)err, 3);
        err = -7;
        check_int(TNAME, "nll_loss bad target status",
                  SFX(cyl_nll_loss_grad)(n, c, x, ld, tg, w, ignore, gs, loss, &lsum, g, ldg, &err), CYL_ERR_TARGET);
        check_int(TNAME, "nll_loss bad target index", (long)err, 3);
        err = -7;
        check_int(TNAME, "class_weight_sum bad target status",
                  SFX(cyl_class_weight_sum)(n, c, tg, w, ignore, &lsum, &err), CYL_ERR_TARGET);
        check_int(TNAME, "class_weight_sum bad target index", (long)err, 3);
        tg[3] = keep;
    }
    free(xv);
    free(x);
    free(xd);
    free(tg);
    free(w);
    free(wd);
    free(loss);
    free(g);
    free(h);
    free(logp);
}

/* cross-entropy with probability targets: loss -sum_c w_c q_c logp_c, q = (1-eps) p + eps/C */
static void SFX(test_prob_targets)(ptrdiff_t n, ptrdiff_t c, int weighted, double eps)
{
    const ptrdiff_t ld = c + 1;
    double *xv = SFX(logits)(n, c, 0), *pv = xmalloc(sizeof(double) * (size_t)(n * c + 1));
    for (ptrdiff_t i = 0; i < n; i++) {
        double s = 0.0;
        for (ptrdiff_t j = 0; j < c; j++)
            s += (pv[i * c + j] = urand());
        for (ptrdiff_t j = 0; j < c; j++)
            pv[i * c + j] /= s;
    }
    T *x = SFX(mat)(n, ld, xv, c), *p = SFX(mat)(n, ld, pv, c), *g = SFX(mat)(n, ld, NULL, c);
    double *xd = SFX(dbl)(x, n, ld, c), *pd = SFX(dbl)(p, n, ld, c);
    T *w = NULL;
    double *wd = xmalloc(sizeof(double) * (size_t)(c + 1));
    for (ptrdiff_t j = 0; j < c; j++)
        wd[j] = 1.0;
    if (weighted) {
        w = xmalloc(sizeof(T) * (size_t)c);
        for (ptrdiff_t j = 0; j < c; j++)
            wd[j] = (double)(w[j] = (T)(0.5 + urand()));
    }
    T *loss = xmalloc(sizeof(T) * (size_t)(n + 1));
    double lsum = -1.0, want = 0.0, *logp = xmalloc(sizeof(double) * (size_t)(c + 1));
    const double gs = 0.5;
    check_int(TNAME, "cross_entropy_prob status",
              SFX(cyl_cross_entropy_prob_loss_grad)(n, c, x, ld, p, ld, w, eps, gs, loss, &lsum, g, ld), CYL_OK);
    for (ptrdiff_t i = 0; i < n; i++) {
        ref_softmax(xd + i * c, c, 1.0, logp, 1);
        double l = 0.0, A = 0.0, sc = 1.0;
        for (ptrdiff_t j = 0; j < c; j++) {
            const double q = (1.0 - eps) * pd[i * c + j] + eps / (double)c;
            l -= wd[j] * q * logp[j];
            A += wd[j] * q;
            if (fabs(xd[i * c + j]) > sc) sc = fabs(xd[i * c + j]);
        }
        want += l;
        check(TNAME, "cross_entropy_prob loss", (long)i, (double)loss[i], l, 4 * RTOL, sc * A);
        for (ptrdiff_t j = 0; j < c; j++) {
            const double q = (1.0 - eps) * pd[i * c + j] + eps / (double)c;
            check(TNAME, "cross_entropy_prob grad", (long)(i * c + j), (double)g[i * ld + j],
                  gs * (A * exp(logp[j]) - wd[j] * q), 4 * RTOL, gs * A);
        }
    }
    check(TNAME, "cross_entropy_prob loss_sum", -1, lsum, want, 4 * RTOL, 1.0 + fabs(want));
    free(xv);
    free(pv);
    free(x);
    free(p);
    free(g);
    free(xd);
    free(pd);
    free(w);
    free(wd);
    free(loss);
    free(logp);
}

/* elementwise binary losses: BCE with logits, BCE on probabilities, KL divergence */
static void SFX(test_binary)(ptrdiff_t n)
{
    T *x = xmalloc(sizeof(T) * (size_t)(n + 1)), *y = xmalloc(sizeof(T) * (size_t)(n + 1));
    T *w = xmalloc(sizeof(T) * (size_t)(n + 1)), *pw = xmalloc(sizeof(T) * (size_t)(n + 1));
    T *loss = xmalloc(sizeof(T) * (size_t)(n + 1)), *g = xmalloc(sizeof(T) * (size_t)(n + 1));
    T *h = xmalloc(sizeof(T) * (size_t)(n + 1));
    const double gs = 0.25;
    for (ptrdiff_t i = 0; i < n; i++) {
        x[i] = (T)(i % 11 == 0 ? 30.0 * nrand() : 4.0 * nrand());
        y[i] = (T)(i % 3 == 0 ? (double)(i % 2) : urand());
        w[i] = (T)(0.5 + urand());
        pw[i] = (T)(0.5 + 2.0 * urand());
    }
    if (n > 20) { /* data, not errors: NaN, +-inf logits (with y in (0, 1)) */
        x[13] = (T)NAN;
        x[14] = (T)INFINITY;
        y[14] = (T)0.25;
        x[16] = (T)-INFINITY;
        y[16] = (T)0.75;
    }
    for (int variant = 0; variant < 3; variant++) {
        const T *wp = variant >= 1 ? w : NULL, *pwp = variant == 2 ? pw : NULL;
        double lsum = -1.0, want = 0.0, wabs = 0.0;
        check_int(TNAME, "bce_logits status",
                  SFX(cyl_bce_logits_loss_grad_hess)(n, x, y, wp, pwp, gs, loss, &lsum, g, h), CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            const double xi = (double)x[i], yi = (double)y[i];
            const double wi = wp ? (double)w[i] : 1.0, pwi = pwp ? (double)pw[i] : 1.0;
            const double l = wi * (pwi * yi * softplus(-xi) + (1.0 - yi) * softplus(xi));
            const double s = 1.0 / (1.0 + exp(-xi));
            want += l;
            wabs += isfinite(l) ? fabs(l) : 0;
            check(TNAME, "bce_logits loss", (long)i, (double)loss[i], l, 4 * RTOL, wi * pwi);
            check(TNAME, "bce_logits grad", (long)i, (double)g[i], gs * wi * ((1.0 - yi) * s - pwi * yi * (1.0 - s)),
                  4 * RTOL, gs * wi * pwi);
            check(TNAME, "bce_logits hess", (long)i, (double)h[i],
                  gs * wi * (pwi * yi + 1.0 - yi) * s * (1.0 - s), 4 * RTOL, gs * wi * pwi * 1e-3);
        }
        check(TNAME, "bce_logits loss_sum", -1, lsum, want, 4 * RTOL, wabs + 1.0);
        /* the gradient alone (no loss wanted) is the same */
        T *g2 = xmalloc(sizeof(T) * (size_t)(n + 1));
        SFX(cyl_bce_logits_loss_grad)(n, x, y, wp, pwp, gs, NULL, NULL, g2);
        for (ptrdiff_t i = 0; i < n; i++)
            check(TNAME, "bce_logits grad without loss", (long)i, (double)g2[i], (double)g[i], 4 * RTOL, gs);
        free(g2);
    }
    /* BCE on probabilities: logs clamped at -100, denominator at (float)1e-12 (torch) */
    for (ptrdiff_t i = 0; i < n; i++)
        x[i] = (T)(i % 17 == 5 ? 0.0 : i % 17 == 6 ? 1.0 : 0.001 + 0.998 * urand());
    if (n > 20) x[13] = (T)NAN;
    {
        double lsum = -1.0, want = 0.0, wabs = 0.0;
        ptrdiff_t err = -7;
        check_int(TNAME, "bce status", SFX(cyl_bce_loss_grad)(n, x, y, w, gs, loss, &lsum, g, &err), CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            const double p = (double)x[i], yi = (double)y[i], wi = (double)w[i];
            const double lp = fmax(log(p), -100.0), l1p = fmax(log1p(-p), -100.0);
            const double l = -wi * (yi * lp + (1.0 - yi) * l1p);
            want += l;
            wabs += fabs(l);
            check(TNAME, "bce loss", (long)i, (double)loss[i], isnan(p) ? NAN : l, 4 * RTOL, wi);
            check(TNAME, "bce grad", (long)i, (double)g[i],
                  isnan(p) ? NAN : gs * wi * (p - yi) / fmax(p * (1.0 - p), (double)1e-12f), 4 * RTOL, gs * wi);
        }
        if (n <= 20) check(TNAME, "bce loss_sum", -1, lsum, want, 4 * RTOL, wabs + 1.0);
        if (n > 20) {
            x[17] = (T)1.5; /* outside [0, 1]: CYL_ERR_DOMAIN with its index */
            check_int(TNAME, "bce domain status", SFX(cyl_bce_loss_grad)(n, x, y, w, gs, loss, &lsum, g, &err),
                      CYL_ERR_DOMAIN);
            check_int(TNAME, "bce domain index", (long)err, 17);
        }
    }
    /* KL divergence: t log t - t log_q (0 log 0 = 0), or exp(t)(t - log_q) */
    for (int lt = 0; lt < 2; lt++) {
        for (ptrdiff_t i = 0; i < n; i++) {
            x[i] = (T)(-4.0 * urand() - 0.01);                                   /* log q */
            y[i] = (T)(lt ? -3.0 * urand() : (i % 4 == 0 ? 0.0 : urand())); /* t or log t */
        }
        double lsum = -1.0, want = 0.0, wabs = 0.0;
        check_int(TNAME, "kl_div status", SFX(cyl_kl_div_loss_grad)(n, x, y, lt, gs, loss, &lsum, g), CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            const double lq = (double)x[i], t = (double)y[i];
            const double l = lt ? exp(t) * (t - lq) : xlogx(t) - t * lq;
            want += l;
            wabs += fabs(l);
            check(TNAME, "kl_div loss", (long)i, (double)loss[i], l, 8 * RTOL, 1.0);
            check(TNAME, "kl_div grad", (long)i, (double)g[i], gs * (lt ? -exp(t) : -t), 4 * RTOL, gs);
        }
        check(TNAME, "kl_div loss_sum", -1, lsum, want, 8 * RTOL, wabs + 1.0);
    }
    free(x);
    free(y);
    free(w);
    free(pw);
    free(loss);
    free(g);
    free(h);
}

/* the regression kinds on d = pred - target (computed in T, as the kernels do) */
static void SFX(test_regression)(ptrdiff_t n)
{
    T *pr = xmalloc(sizeof(T) * (size_t)(n + 1)), *tg = xmalloc(sizeof(T) * (size_t)(n + 1));
    T *w = xmalloc(sizeof(T) * (size_t)(n + 1)), *loss = xmalloc(sizeof(T) * (size_t)(n + 1));
    T *g = xmalloc(sizeof(T) * (size_t)(n + 1)), *h = xmalloc(sizeof(T) * (size_t)(n + 1));
    for (ptrdiff_t i = 0; i < n; i++) {
        pr[i] = (T)(3.0 * nrand());
        tg[i] = (T)(i % 9 == 0 ? (double)pr[i] : 3.0 * nrand()); /* some d == 0 */
        w[i] = (T)(0.5 + urand());
    }
    if (n > 20) pr[7] = (T)NAN;
    static const int kinds[7] = {CYL_MSE, CYL_L1, CYL_HUBER, CYL_SMOOTH_L1, CYL_SMOOTH_L1, CYL_LOG_COSH,
                                 CYL_PSEUDO_HUBER};
    static const double params[7] = {0.0, 0.0, 1.3, 0.7, 0.0, 0.0, 1.5};
    static const char *const names[7] = {"mse", "l1", "huber", "smooth_l1", "smooth_l1 beta 0", "log_cosh",
                                         "pseudo_huber"};
    const double gs = 0.125;
    for (int k = 0; k < 7; k++)
        for (int wt = 0; wt < 2; wt++) {
            const T *wp = wt ? w : NULL;
            double lsum = -1.0, want = 0.0, wabs = 0.0;
            char what[64];
            check_int(TNAME, names[k],
                      SFX(cyl_regression_loss_grad_hess)(kinds[k], n, pr, tg, wp, params[k], gs, loss, &lsum, g, h),
                      CYL_OK);
            for (ptrdiff_t i = 0; i < n; i++) {
                const double d = (double)(T)(pr[i] - tg[i]), a = fabs(d), wi = wp ? (double)w[i] : 1.0;
                const double P = params[k], sgn = d > 0 ? 1.0 : d < 0 ? -1.0 : 0.0;
                double l, gr, hs;
                switch (kinds[k]) {
                case CYL_MSE:
                    l = d * d, gr = 2.0 * d, hs = 2.0;
                    break;
                case CYL_L1:
                    l = a, gr = sgn, hs = 0.0;
                    break;
                case CYL_HUBER:
                    if (a <= P)
                        l = 0.5 * d * d, gr = d, hs = 1.0;
                    else
                        l = P * (a - 0.5 * P), gr = P * sgn, hs = 0.0;
                    break;
                case CYL_SMOOTH_L1:
                    if (a < P)
                        l = 0.5 * d * d / P, gr = d / P, hs = 1.0 / P;
                    else
                        l = a - 0.5 * P, gr = sgn, hs = 0.0;
                    break;
                case CYL_LOG_COSH:
                    l = a + log1p(exp(-2.0 * a)) - log(2.0), gr = tanh(d), hs = 1.0 - tanh(d) * tanh(d);
                    break;
                default: { /* pseudo-Huber */
                    const double r = sqrt(1.0 + (d / P) * (d / P));
                    l = P * P * (r - 1.0), gr = d / r, hs = 1.0 / (r * r * r);
                    break;
                }
                }
                /* NaN data: NaN loss and gradient; the Hessian is the branch's (constant for the
                 * piecewise kinds: MSE 2, the others' outer branch 0) */
                if (isnan(d)) l = gr = NAN;
                want += wi * l;
                wabs += isfinite(l) ? fabs(wi * l) : 0;
                snprintf(what, sizeof what, "%s loss%s", names[k], wt ? " (weighted)" : "");
                check(TNAME, what, (long)i, (double)loss[i], wi * l, 8 * RTOL, wi * 1e-3);
                snprintf(what, sizeof what, "%s grad%s", names[k], wt ? " (weighted)" : "");
                check(TNAME, what, (long)i, (double)g[i], gs * wi * gr, 8 * RTOL, gs * wi * 1e-3);
                snprintf(what, sizeof what, "%s hess%s", names[k], wt ? " (weighted)" : "");
                check(TNAME, what, (long)i, (double)h[i], gs * wi * hs, 8 * RTOL, gs * wi * 1e-3);
            }
            snprintf(what, sizeof what, "%s loss_sum", names[k]);
            check(TNAME, what, -1, lsum, n > 20 ? NAN : want, 8 * RTOL, wabs + 1.0);
        }
    check_int(TNAME, "regression unknown kind", SFX(cyl_regression_loss_grad)(99, n, pr, tg, NULL, 0.0, gs, loss,
                                                                             NULL, g), CYL_ERR_ARG);
    free(pr);
    free(tg);
    free(w);
    free(loss);
    free(g);
    free(h);
}

/* sum, vexp, vlog, vexpneg against libm */
static void SFX(test_utilities)(ptrdiff_t n)
{
    T *x = xmalloc(sizeof(T) * (size_t)(n + 8)), *y = xmalloc(sizeof(T) * (size_t)(n + 8));
    const double lim = sizeof(T) == 4 ? 80.0 : 700.0, tiny = sizeof(T) == 4 ? (double)FLT_MIN : DBL_MIN;
    for (ptrdiff_t i = 0; i < n; i++)
        x[i] = (T)(lim * (2.0 * urand() - 1.0));
    double s = -1.0, want = 0.0, sabs = 0.0;
    for (ptrdiff_t i = 0; i < n; i++) {
        want += (double)x[i];
        sabs += fabs((double)x[i]);
    }
    check_int(TNAME, "sum status", SFX(cyl_sum)(n, x, &s), CYL_OK);
    check(TNAME, "sum", -1, s, want, sizeof(T) == 4 ? RTOL : 1e-13, sabs + 1.0);
    /* special values at the end */
    const ptrdiff_t m = n + 5;
    x[n] = (T)NAN, x[n + 1] = (T)INFINITY, x[n + 2] = (T)-INFINITY, x[n + 3] = (T)0, x[n + 4] = (T)-0.5;
    check_int(TNAME, "vexp status", SFX(cyl_vexp)(m, x, y), CYL_OK);
    for (ptrdiff_t i = 0; i < m; i++)
        check(TNAME, "vexp", (long)i, (double)y[i], exp((double)x[i]), 2 * RTOL, 0);
    for (ptrdiff_t i = 0; i < n; i++)
        x[i] = (T)fabs((double)x[i]) + (T)1e-3;
    x[n + 1] = (T)INFINITY, x[n + 2] = (T)-1.0, x[n + 3] = (T)0, x[n + 4] = (T)1.0;
    check_int(TNAME, "vlog status", SFX(cyl_vlog)(m, x, y), CYL_OK);
    for (ptrdiff_t i = 0; i < m; i++)
        check(TNAME, "vlog", (long)i, (double)y[i], log((double)x[i]), 2 * RTOL, 1.0);
    for (ptrdiff_t i = 0; i < n; i++)
        x[i] = (T)(-(sizeof(T) == 4 ? 110.0 : 760.0) * urand()); /* into the flushed range */
    x[n] = (T)NAN, x[n + 1] = (T)-INFINITY, x[n + 2] = (T)0, x[n + 3] = (T)-1e-20, x[n + 4] = (T)-1.0;
    check_int(TNAME, "vexpneg status", SFX(cyl_vexpneg)(m, x, y), CYL_OK);
    for (ptrdiff_t i = 0; i < m; i++) {
        const double e = exp((double)x[i]);
        /* below the smallest normal: +0 (flushed); within a rounding of it: either */
        if (e < tiny * (1.0 + 1e-5) && e > tiny * (1.0 - 1e-5)) continue;
        check(TNAME, "vexpneg", (long)i, (double)y[i], e < tiny ? 0.0 : e, 2 * RTOL, 0);
    }
    free(x);
    free(y);
}

/* ---------------------------------------------------------------- the other kernels
 * Small random inputs against scalar double references ported from tests/_reference.py
 * and the family tests (tests/test_sklearn_losses.py, test_catalogue.py, test_ctc.py).
 * Tolerance RTOL (1e-12 / 2e-6) relative to the magnitude of the terms (their absolute values
 * summed, times 1 + |argument| where an exp or pow of a rounded argument is taken). */

/* cross_entropy_partial: a class shard [off, off + c) of rows of C = c + 3 classes */
static void SFX(test_ce_partial)(ptrdiff_t n, ptrdiff_t c, int weighted)
{
    const ptrdiff_t ld = c + 2;
    const int64_t off = 2;
    double *xv = SFX(logits)(n, c, 0);
    T *x = SFX(mat)(n, ld, xv, c), *w = NULL;
    double *xd = SFX(dbl)(x, n, ld, c);
    int64_t *tg = xmalloc(sizeof(int64_t) * (size_t)(n + 1));
    for (ptrdiff_t i = 0; i < n; i++)
        tg[i] = i % 6 == 5 ? -100 : (int64_t)((i * 5) % (c + 3)); /* some outside the shard */
    if (weighted) {
        w = xmalloc(sizeof(T) * (size_t)(c + 1));
        for (ptrdiff_t j = 0; j < c; j++)
            w[j] = (T)(0.25 + urand());
    }
    double *m = xmalloc(sizeof(double) * (size_t)(n + 1)), *s = xmalloc(sizeof(double) * (size_t)(n + 1));
    double *xt = xmalloc(sizeof(double) * (size_t)(n + 1)), *xs = xmalloc(sizeof(double) * (size_t)(n + 1));
    unsigned char *fd = xmalloc((size_t)(n + 1));
    for (int withsum = 0; withsum < 2; withsum++) {
        check_int(TNAME, "cross_entropy_partial status",
                  SFX(cyl_cross_entropy_partial)(n, c, x, ld, tg, off, w, m, s, xt, fd, withsum ? xs : NULL), CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            const double *r = xd + i * c;
            const double wm = ref_max(r, c);
            double ws = 0.0, wx = 0.0, sab = 1.0;
            for (ptrdiff_t j = 0; j < c; j++) {
                const double wj = w ? (double)w[j] : 1.0;
                ws += exp(r[j] - wm);
                wx += wj * r[j];
                sab += fabs(wj * r[j]);
            }
            const int in = tg[i] >= off && tg[i] < off + (int64_t)c;
            check(TNAME, "cross_entropy_partial m", (long)i, m[i], c ? wm : -INFINITY, 0, 0);
            check(TNAME, "cross_entropy_partial s", (long)i, s[i], ws, RTOL, 1e-30);
            check_int(TNAME, "cross_entropy_partial found", (long)fd[i], (long)in);
            check(TNAME, "cross_entropy_partial x_target", (long)i, xt[i], in ? r[tg[i] - off] : 0.0, 0, 0);
            if (withsum) check(TNAME, "cross_entropy_partial x_sum", (long)i, xs[i], wx, RTOL, sab);
        }
    }
    free(xv);
    free(x);
    free(w);
    free(xd);
    free(tg);
    free(m);
    free(s);
    free(xt);
    free(xs);
    free(fd);
}

/* scikit-learn's losses (cyloss/_glm.py, csrc/glm.h): half Poisson / Gamma / Tweedie (log
 * and identity link) / pinball / exponential, constant terms dropped as sklearn._loss */
static void SFX(test_glm)(ptrdiff_t n)
{
    T *r = xmalloc(sizeof(T) * (size_t)(n + 1)), *y = xmalloc(sizeof(T) * (size_t)(n + 1));
    T *w = xmalloc(sizeof(T) * (size_t)(n + 1)), *loss = xmalloc(sizeof(T) * (size_t)(n + 1));
    T *g = xmalloc(sizeof(T) * (size_t)(n + 1)), *h = xmalloc(sizeof(T) * (size_t)(n + 1));
    static const int kinds[15] = {CYL_HALF_POISSON, CYL_HALF_GAMMA, CYL_HALF_TWEEDIE, CYL_HALF_TWEEDIE,
                                  CYL_HALF_TWEEDIE, CYL_HALF_TWEEDIE, CYL_HALF_TWEEDIE, CYL_HALF_TWEEDIE_IDENTITY,
                                  CYL_HALF_TWEEDIE_IDENTITY, CYL_HALF_TWEEDIE_IDENTITY, CYL_HALF_TWEEDIE_IDENTITY,
                                  CYL_HALF_TWEEDIE_IDENTITY, CYL_PINBALL, CYL_EXPONENTIAL, CYL_HALF_TWEEDIE};
    static const double params[15] = {0, 0, 0, 1, 1.5, 2, 3, 0, 1, 1.5, 2, 3, 0.3, 0, 0.5};
    const double gs = 0.375;
    char what[96];
    for (int k = 0; k < 15; k++) {
        const int kind = kinds[k];
        const double P = params[k];
        const int ident = kind == CYL_HALF_TWEEDIE_IDENTITY;
        const int ypos = kind == CYL_HALF_GAMMA || (kind >= CYL_HALF_TWEEDIE && kind <= CYL_HALF_TWEEDIE_IDENTITY
                                                      && P >= 2);
        for (ptrdiff_t i = 0; i < n; i++) {
            r[i] = (T)(ident ? 0.2 + 2.0 * urand() : kind == CYL_PINBALL ? 2.0 * nrand() : nrand());
            if (kind == CYL_EXPONENTIAL)
                y[i] = (T)(i % 3 == 0 ? (double)(i % 2) : urand());
            else if (kind == CYL_PINBALL)
                y[i] = i % 4 == 1 ? r[i] : (T)(2.0 * nrand()); /* y == r: the "y >= r" branch */
            else
                y[i] = (T)(!ypos && i % 4 == 1 ? 0.0 : 0.05 + 3.0 * urand());
            w[i] = (T)(0.5 + urand());
        }
        for (int wt = 0; wt < 2; wt++) {
            const T *wp = wt ? w : NULL;
            double lsum = -1.0, want = 0.0, wabs = 0.0;
            ptrdiff_t err = -7;
            snprintf(what, sizeof what, "glm %d p=%g status", kind, P);
            check_int(TNAME, what,
                      SFX(cyl_glm_loss_grad_hess)(kind, n, r, y, wp, P, gs, loss, &lsum, g, h, &err), CYL_OK);
            for (ptrdiff_t i = 0; i < n; i++) {
                const double ri = (double)r[i], yi = (double)y[i], wi = wp ? (double)w[i] : 1.0;
                double l, gr, hs, sl, sg, sh; /* loss, gradient, Hessian; the magnitudes of their terms */
                if (kind == CYL_HALF_POISSON || (kind == CYL_HALF_TWEEDIE && P == 1)) {
                    const double e = exp(ri);
                    l = e - yi * ri, gr = e - yi, hs = e;
                    sl = e + fabs(yi * ri), sg = e + yi, sh = e;
                } else if (kind == CYL_HALF_GAMMA || (kind == CYL_HALF_TWEEDIE && P == 2)) {
                    const double e = exp(-ri);
                    l = ri + yi * e, gr = 1.0 - yi * e, hs = yi * e;
                    sl = fabs(ri) + yi * e, sg = 1.0 + yi * e, sh = hs;
                } else if (kind == CYL_HALF_TWEEDIE && P == 0) {
                    const double e = exp(ri);
                    l = 0.5 * (e - yi) * (e - yi), gr = e * (e - yi), hs = e * (2.0 * e - yi);
                    sl = (e + yi) * (e + yi), sg = e * (e + yi), sh = e * (2.0 * e + yi);
                } else if (kind == CYL_HALF_TWEEDIE) {
                    const double e1 = exp((1.0 - P) * ri), e2 = exp((2.0 - P) * ri);
                    l = e2 / (2.0 - P) - yi * e1 / (1.0 - P), gr = e2 - yi * e1;
                    hs = (2.0 - P) * e2 - (1.0 - P) * yi * e1;
                    sl = fabs(e2 / (2.0 - P)) + fabs(yi * e1 / (1.0 - P)), sg = e2 + yi * e1;
                    sh = fabs((2.0 - P) * e2) + fabs((1.0 - P) * yi * e1);
                    sl *= 1.0 + fabs(ri), sg *= 1.0 + fabs(ri), sh *= 1.0 + fabs(ri); /* exp of a product */
                } else if (ident && P == 0) {
                    l = 0.5 * (ri - yi) * (ri - yi), gr = ri - yi, hs = 1.0;
                    sl = (ri + yi) * (ri + yi), sg = ri + yi, sh = 1.0;
                } else if (ident && P == 1) {
                    l = yi == 0 ? ri : yi * log(yi / ri) + ri - yi, gr = 1.0 - yi / ri, hs = yi / (ri * ri);
                    sl = (yi > 0 ? fabs(yi * log(yi / ri)) : 0.0) + ri + yi, sg = 1.0 + yi / ri, sh = hs;
                } else if (ident && P == 2) {
                    l = log(ri / yi) + yi / ri - 1.0, gr = (ri - yi) / (ri * ri), hs = (-1.0 + 2.0 * yi / ri) / (ri * ri);
                    sl = fabs(log(ri / yi)) + yi / ri + 1.0, sg = (ri + yi) / (ri * ri);
                    sh = (1.0 + 2.0 * yi / ri) / (ri * ri);
                } else if (ident) {
                    const double t1 = pow(ri, 2.0 - P) / (2.0 - P), t2 = yi * pow(ri, 1.0 - P) / (1.0 - P);
                    const double t3 = yi > 0 ? pow(yi, 2.0 - P) / ((1.0 - P) * (2.0 - P)) : 0.0;
                    l = t1 - t2 + t3, gr = pow(ri, -P) * (ri - yi), hs = pow(ri, -P) * ((1.0 - P) + P * yi / ri);
                    sl = (fabs(t1) + fabs(t2) + fabs(t3)) * (1.0 + fabs(log(ri)) + fabs(log(yi + 1e-300)));
                    sg = pow(ri, -P) * (ri + yi) * (1.0 + fabs(log(ri)));
                    sh = pow(ri, -P) * (fabs(1.0 - P) + P * yi / ri) * (1.0 + fabs(log(ri)));
                } else if (kind == CYL_PINBALL) {
                    l = yi >= ri ? P * (yi - ri) : (1.0 - P) * (ri - yi), gr = yi >= ri ? -P : 1.0 - P, hs = 1.0;
                    sl = fabs(yi) + fabs(ri), sg = 1.0, sh = 1.0;
                } else { /* exponential */
                    const double e = exp(ri), ie = exp(-ri);
                    l = yi * ie + (1.0 - yi) * e, gr = -yi * ie + (1.0 - yi) * e, hs = l;
                    sl = sg = sh = (yi * ie + (1.0 - yi) * e) * (1.0 + fabs(ri));
                }
                want += wi * l;
                wabs += fabs(wi) * sl;
                snprintf(what, sizeof what, "glm %d p=%g loss%s", kind, P, wt ? " (weighted)" : "");
                check(TNAME, what, (long)i, (double)loss[i], wi * l, RTOL, wi * sl);
                snprintf(what, sizeof what, "glm %d p=%g grad%s", kind, P, wt ? " (weighted)" : "");
                check(TNAME, what, (long)i, (double)g[i], gs * wi * gr, RTOL, gs * wi * sg);
                snprintf(what, sizeof what, "glm %d p=%g hess%s", kind, P, wt ? " (weighted)" : "");
                check(TNAME, what, (long)i, (double)h[i], gs * wi * hs, RTOL, gs * wi * sh);
            }
            snprintf(what, sizeof what, "glm %d p=%g loss_sum", kind, P);
            check(TNAME, what, -1, lsum, want, RTOL, wabs + 1e-30);
        }
    }
    /* y outside the domain: CYL_ERR_DOMAIN with the first bad index */
    if (n >= 3) {
        ptrdiff_t err = -7;
        for (ptrdiff_t i = 0; i < n; i++)
            y[i] = (T)(0.5 + urand());
        y[2] = (T)-1.0;
        check_int(TNAME, "glm poisson domain status",
                  SFX(cyl_glm_loss_grad_hess)(CYL_HALF_POISSON, n, r, y, NULL, 0.0, gs, loss, NULL, g, h, &err),
                  CYL_ERR_DOMAIN);
        check_int(TNAME, "glm poisson domain index", (long)err, 2);
        y[2] = (T)0.0;
        err = -7;
        check_int(TNAME, "glm gamma domain status",
                  SFX(cyl_glm_loss_grad_hess)(CYL_HALF_GAMMA, n, r, y, NULL, 0.0, gs, loss, NULL, g, h, &err),
                  CYL_ERR_DOMAIN);
        check_int(TNAME, "glm gamma domain index", (long)err, 2);
        check_int(TNAME, "glm pinball bad quantile",
                  SFX(cyl_glm_loss_grad_hess)(CYL_PINBALL, n, r, y, NULL, 1.0, gs, loss, NULL, g, h, &err),
                  CYL_ERR_ARG);
    }
    free(r);
    free(y);
    free(w);
    free(loss);
    free(g);
    free(h);
}

/* the elementwise margin losses (csrc/margin.h), poisson_nll, gaussian_nll, sigmoid focal */
static void SFX(test_elementwise_more)(ptrdiff_t n)
{
    T *a = xmalloc(sizeof(T) * (size_t)(n + 1)), *b = xmalloc(sizeof(T) * (size_t)(n + 1));
    T *c = xmalloc(sizeof(T) * (size_t)(n + 1)), *loss = xmalloc(sizeof(T) * (size_t)(n + 1));
    T *g = xmalloc(sizeof(T) * (size_t)(n + 1)), *h = xmalloc(sizeof(T) * (size_t)(n + 1));
    T *gv = xmalloc(sizeof(T) * (size_t)(n + 1));
    const double gs = 0.625;
    char what[96];
    /* margin kinds: y in {1, -1} and (hinge embedding) another value, which gets both terms */
    static const char *const mnames[3] = {"soft_margin", "hinge_embedding", "margin_ranking"};
    for (int kind = CYL_SOFT_MARGIN; kind <= CYL_MARGIN_RANKING; kind++) {
        const double margin = kind == CYL_SOFT_MARGIN ? 0.0 : 0.75;
        for (ptrdiff_t i = 0; i < n; i++) {
            a[i] = (T)(2.0 * nrand());
            b[i] = (T)(kind == CYL_HINGE_EMBEDDING && i % 5 == 3 ? 0.5 : i % 2 ? -1.0 : 1.0);
            if (kind == CYL_MARGIN_RANKING) {
                b[i] = (T)(2.0 * nrand()); /* x2 */
                c[i] = (T)(i % 2 ? -1.0 : 1.0);
            }
        }
        double lsum = -1.0, want = 0.0, wabs = 0.0;
        snprintf(what, sizeof what, "%s status", mnames[kind]);
        check_int(TNAME, what,
                  SFX(cyl_margin_loss_grad_hess)(kind, n, a, kind == CYL_MARGIN_RANKING ? b : NULL,
                                                 kind == CYL_MARGIN_RANKING ? c : b, margin, gs, loss, &lsum, g, h),
                  CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            const double x = (double)a[i];
            double l, gr, hs = 0.0, sc;
            if (kind == CYL_SOFT_MARGIN) {
                const double y = (double)b[i], z = -y * x, sg = 1.0 / (1.0 + exp(-z));
                l = softplus(z), gr = -y * sg, hs = y * y * sg * (1.0 - sg), sc = 1.0 + fabs(z);
            } else if (kind == CYL_HINGE_EMBEDDING) {
                const double y = (double)b[i], z = margin - x;
                l = (y != 1 ? fmax(z, 0.0) : 0.0) + (y != -1 ? x : 0.0);
                gr = (y != 1 && z >= 0 ? -1.0 : 0.0) + (y != -1 ? 1.0 : 0.0);
                sc = fabs(x) + margin;
            } else {
                const double y = (double)c[i], z = -y * (x - (double)b[i]) + margin;
                l = fmax(z, 0.0), gr = z >= 0 ? -y : 0.0, sc = fabs(x) + fabs((double)b[i]) + margin;
            }
            want += l;
            wabs += sc;
            snprintf(what, sizeof what, "%s loss", mnames[kind]);
            check(TNAME, what, (long)i, (double)loss[i], l, RTOL, sc);
            snprintf(what, sizeof what, "%s grad", mnames[kind]);
            check(TNAME, what, (long)i, (double)g[i], gs * gr, RTOL, gs);
            snprintf(what, sizeof what, "%s hess", mnames[kind]);
            check(TNAME, what, (long)i, (double)h[i], gs * hs, RTOL, gs * 1e-3);
        }
        snprintf(what, sizeof what, "%s loss_sum", mnames[kind]);
        check(TNAME, what, -1, lsum, want, RTOL, wabs + 1e-30);
    }
    /* at z = 0 exactly the gradient passes (torch's clamp_min): hinge embedding x = margin,
     * y = -1 and margin ranking x1 = x2, margin 0 */
    if (n >= 2) {
        a[0] = (T)0.75, b[0] = (T)-1.0, a[1] = (T)0.25, b[1] = (T)1.0;
        check_int(TNAME, "hinge_embedding z=0 status",
                  SFX(cyl_margin_loss_grad_hess)(CYL_HINGE_EMBEDDING, 2, a, NULL, b, 0.75, gs, loss, NULL, g, NULL),
                  CYL_OK);
        check(TNAME, "hinge_embedding z=0 loss", 0, (double)loss[0], 0.0, 0, 0);
        check(TNAME, "hinge_embedding z=0 grad", 0, (double)g[0], -gs, 0, 0);
        check(TNAME, "hinge_embedding y=1 grad", 1, (double)g[1], gs, 0, 0);
        c[0] = (T)1.0, c[1] = (T)-1.0, b[0] = a[0], b[1] = a[1];
        check_int(TNAME, "margin_ranking z=0 status",
                  SFX(cyl_margin_loss_grad_hess)(CYL_MARGIN_RANKING, 2, a, b, c, 0.0, gs, loss, NULL, g, NULL),
                  CYL_OK);
        check(TNAME, "margin_ranking z=0 loss", 0, (double)loss[0], 0.0, 0, 0);
        check(TNAME, "margin_ranking z=0 grad", 0, (double)g[0], -gs, 0, 0);
        check(TNAME, "margin_ranking z=0 grad", 1, (double)g[1], gs, 0, 0);
    }
    check_int(TNAME, "margin unknown kind", SFX(cyl_margin_loss_grad_hess)(9, n, a, NULL, b, 0.0, gs, loss, NULL, g,
                                                                          NULL), CYL_ERR_ARG);
    /* poisson_nll (torch): log input or not, with or without Stirling's term (t > 1 only) */
    for (int flags = 0; flags < 4; flags++) {
        const int login = flags & CYL_NLL_LOG_INPUT, full = flags & CYL_NLL_FULL;
        const double eps = 1e-8;
        for (ptrdiff_t i = 0; i < n; i++) {
            a[i] = (T)(login ? nrand() : 0.1 + 2.0 * urand());
            b[i] = (T)(i % 4 == 1 ? 0.0 : i % 4 == 2 ? 0.5 * urand() : 4.0 * urand());
        }
        double lsum = -1.0, want = 0.0, wabs = 0.0;
        check_int(TNAME, "poisson_nll status",
                  SFX(cyl_poisson_nll_loss_grad_hess)(n, a, b, flags, eps, gs, loss, &lsum, g, h), CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            const double x = (double)a[i], t = (double)b[i];
            double l, gr, hs, sc;
            if (login) {
                l = exp(x) - t * x, gr = exp(x) - t, hs = exp(x), sc = exp(x) * (1.0 + fabs(x)) + fabs(t * x);
            } else {
                const double u = x + eps;
                l = x - t * log(u), gr = 1.0 - t / u, hs = t / (u * u), sc = x + fabs(t * log(u)) + t;
            }
            if (full && t > 1) {
                const double st = t * log(t) - t + 0.5 * log(6.283185307179586 * t);
                l += st;
                sc += fabs(t * log(t)) + t + fabs(0.5 * log(6.283185307179586 * t));
            }
            want += l;
            wabs += sc;
            snprintf(what, sizeof what, "poisson_nll flags %d loss", flags);
            check(TNAME, what, (long)i, (double)loss[i], l, RTOL, sc);
            snprintf(what, sizeof what, "poisson_nll flags %d grad", flags);
            check(TNAME, what, (long)i, (double)g[i], gs * gr, RTOL, gs * (1.0 + fabs(gr)));
            snprintf(what, sizeof what, "poisson_nll flags %d hess", flags);
            check(TNAME, what, (long)i, (double)h[i], gs * hs, RTOL, gs * 1e-3);
        }
        check(TNAME, "poisson_nll loss_sum", -1, lsum, want, RTOL, wabs + 1e-30);
    }
    /* gaussian_nll (torch): var clamped at eps (one element below it), grad_var, hess in x */
    for (int full = 0; full < 2; full++) {
        const double eps = 1e-3;
        for (ptrdiff_t i = 0; i < n; i++) {
            a[i] = (T)nrand();
            b[i] = (T)nrand();
            c[i] = (T)(i % 5 == 2 ? 1e-4 : 0.1 + 2.0 * urand());
        }
        double lsum = -1.0, want = 0.0, wabs = 0.0;
        check_int(TNAME, "gaussian_nll status",
                  SFX(cyl_gaussian_nll_loss_grad_hess)(n, a, b, c, full ? CYL_NLL_FULL : 0, eps, gs, loss, &lsum, g,
                                                       gv, h), CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            const double v = fmax((double)c[i], (double)(T)eps), d = (double)(T)(a[i] - b[i]);
            const double l = 0.5 * (log(v) + d * d / v) + (full ? 0.5 * log(6.283185307179586) : 0.0);
            const double sc = fabs(log(v)) + d * d / v + 1.0;
            want += l;
            wabs += sc;
            check(TNAME, "gaussian_nll loss", (long)i, (double)loss[i], l, RTOL, sc);
            check(TNAME, "gaussian_nll grad", (long)i, (double)g[i], gs * d / v, RTOL, gs * fabs(d) / v);
            check(TNAME, "gaussian_nll grad_var", (long)i, (double)gv[i], gs * 0.5 * (1.0 / v - d * d / (v * v)),
                  RTOL, gs * (1.0 / v + d * d / (v * v)));
            check(TNAME, "gaussian_nll hess", (long)i, (double)h[i], gs / v, RTOL, 0);
        }
        check(TNAME, "gaussian_nll loss_sum", -1, lsum, want, RTOL, wabs);
    }
    /* sigmoid focal loss (torchvision): alpha weighting or not (alpha < 0), gamma 2, 0, 1.5 */
    static const double alphas[3] = {0.25, -1.0, 0.6}, gammas[3] = {2.0, 0.0, 1.5};
    for (int v = 0; v < 3; v++) {
        const double al = alphas[v], ga = gammas[v];
        for (ptrdiff_t i = 0; i < n; i++) {
            a[i] = (T)(3.0 * nrand());
            b[i] = (T)(i % 3 == 0 ? (double)(i % 2) : urand());
        }
        double lsum = -1.0, want = 0.0, wabs = 0.0;
        check_int(TNAME, "sigmoid_focal status",
                  SFX(cyl_sigmoid_focal_loss_grad_hess)(n, a, b, al, ga, gs, loss, &lsum, g, h), CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            const double x = (double)a[i], t = (double)b[i];
            const double p = 1.0 / (1.0 + exp(-x)), q = 1.0 / (1.0 + exp(x)); /* sigmoid(x), 1 - sigmoid(x) */
            const double ce = t * softplus(-x) + (1.0 - t) * softplus(x);
            const double m = p * (1.0 - t) + q * t, at = al >= 0 ? al * t + (1.0 - al) * (1.0 - t) : 1.0;
            const double mg = ga == 0 ? 1.0 : pow(m, ga), D = ga == 0 || m == 0 ? 0.0 : ga * pow(m, ga - 1.0);
            const double E = ga == 0 || m == 0 ? 0.0 : ga * (ga - 1.0) * pow(m, ga - 2.0);
            const double s = 1.0 - 2.0 * t, pq = p * q, pt = p - t;
            const double l = at * ce * mg;
            const double gr = at * (pt * mg + ce * D * pq * s);
            const double hs = at * pq * (mg + 2.0 * pt * s * D + ce * s * (E * s * pq + D * (q - p)));
            const double sc = at * (1.0 + ce) * (1.0 + fabs(x)) * (1.0 + D + E);
            want += l;
            wabs += at * ce;
            snprintf(what, sizeof what, "sigmoid_focal %g %g loss", al, ga);
            check(TNAME, what, (long)i, (double)loss[i], l, RTOL, at * ce * (1.0 + fabs(x)));
            snprintf(what, sizeof what, "sigmoid_focal %g %g grad", al, ga);
            check(TNAME, what, (long)i, (double)g[i], gs * gr, RTOL, gs * sc);
            snprintf(what, sizeof what, "sigmoid_focal %g %g hess", al, ga);
            check(TNAME, what, (long)i, (double)h[i], gs * hs, RTOL, gs * sc);
        }
        check(TNAME, "sigmoid_focal loss_sum", -1, lsum, want, RTOL, 4 * wabs + 1e-30);
    }
    check_int(TNAME, "sigmoid_focal negative gamma",
              SFX(cyl_sigmoid_focal_loss_grad_hess)(n, a, b, 0.25, -1.0, gs, loss, NULL, g, h), CYL_ERR_ARG);
    free(a);
    free(b);
    free(c);
    free(loss);
    free(g);
    free(h);
    free(gv);
}

/* multi_margin (p 1 and 2, weights), multilabel_margin, multilabel_soft_margin: rows of c */
static void SFX(test_margin_rows)(ptrdiff_t n, ptrdiff_t c)
{
    const ptrdiff_t ld = c + 1, ldg = c + 2;
    double *xv = SFX(logits)(n, c, 0);
    T *x = SFX(mat)(n, ld, xv, c), *g = SFX(mat)(n, ldg, NULL, c), *h = SFX(mat)(n, ldg, NULL, c);
    double *xd = SFX(dbl)(x, n, ld, c);
    T *loss = xmalloc(sizeof(T) * (size_t)(n + 1)), *w = xmalloc(sizeof(T) * (size_t)(c + 1));
    int64_t *tg = xmalloc(sizeof(int64_t) * (size_t)(n * (c + 1) + 1));
    double *gw = xmalloc(sizeof(double) * (size_t)(c + 1)), *hw = xmalloc(sizeof(double) * (size_t)(c + 1));
    const double gs = 0.75;
    char what[96];
    for (ptrdiff_t j = 0; j < c; j++)
        w[j] = (T)(0.5 + urand());
    for (ptrdiff_t i = 0; i < n; i++)
        tg[i] = c ? (int64_t)((i * 3 + 1) % c) : 0;
    /* multi_margin: z_d = margin - x_t + x_d, l = w_t sum_{d != t} max(0, z_d)^p / c */
    for (int p = 1; p <= 2; p++)
        for (int wt = 0; wt < 2; wt++) {
            const double margin = wt ? 0.5 : 1.0;
            double lsum = -1.0, want = 0.0, wabs = 0.0;
            ptrdiff_t err = -7;
            snprintf(what, sizeof what, "multi_margin p=%d%s status", p, wt ? " (weighted)" : "");
            check_int(TNAME, what,
                      SFX(cyl_multi_margin_loss_grad_hess)(n, c, x, ld, tg, wt ? w : NULL, p, margin, gs, loss, &lsum,
                                                          g, ldg, h, ldg, &err), CYL_OK);
            for (ptrdiff_t i = 0; i < n; i++) {
                const double *r = xd + i * c;
                const ptrdiff_t t = (ptrdiff_t)tg[i];
                const double wtt = wt ? (double)w[t] : 1.0;
                double l = 0.0, sc = 0.0, gt = 0.0, ht = 0.0;
                for (ptrdiff_t d = 0; d < c; d++) {
                    const double z = margin - r[t] + r[d], zc = fmax(z, 0.0);
                    gw[d] = hw[d] = 0.0;
                    if (d == t) continue;
                    l += p == 2 ? zc * zc : zc;
                    sc += p == 2 ? (margin + fabs(r[t]) + fabs(r[d])) * (margin + fabs(r[t]) + fabs(r[d]))
                                 : margin + fabs(r[t]) + fabs(r[d]);
                    gw[d] = z > 0 ? gs * wtt * (p == 2 ? 2.0 * z : 1.0) / (double)c : 0.0;
                    hw[d] = z > 0 && p == 2 ? gs * wtt * 2.0 / (double)c : 0.0;
                    gt -= gw[d];
                    ht += hw[d];
                }
                if (c) gw[t] = gt, hw[t] = ht;
                l *= wtt / (double)c;
                sc *= wtt / (double)c;
                want += l;
                wabs += sc;
                snprintf(what, sizeof what, "multi_margin p=%d loss", p);
                check(TNAME, what, (long)i, (double)loss[i], l, RTOL, sc);
                for (ptrdiff_t d = 0; d < c; d++) {
                    const double gsc = gs * wtt * (p == 2 ? 2.0 * (margin + 2.0 * fabs(r[t]) + 2.0 * fabs(r[d])) : 1.0);
                    snprintf(what, sizeof what, "multi_margin p=%d grad", p);
                    check(TNAME, what, (long)(i * c + d), (double)g[i * ldg + d], gw[d], RTOL, gsc);
                    snprintf(what, sizeof what, "multi_margin p=%d hess", p);
                    check(TNAME, what, (long)(i * c + d), (double)h[i * ldg + d], hw[d], RTOL, gs * wtt);
                }
            }
            snprintf(what, sizeof what, "multi_margin p=%d loss_sum", p);
            check(TNAME, what, -1, lsum, want, RTOL, wabs + 1e-30);
        }
    /* z = 0 exactly (x_d = x_t - margin): neither loss nor gradient (torch's z > 0) */
    if (n == 5 && c >= 2) {
        T r0[2] = {(T)2.0, (T)1.0}, l0[1], g0[2];
        int64_t t0[2] = {0, -1};
        check_int(TNAME, "multi_margin z=0 status",
                  SFX(cyl_multi_margin_loss_grad_hess)(1, 2, r0, 2, t0, NULL, 2, 1.0, gs, l0, NULL, g0, 2, NULL, 0,
                                                      NULL), CYL_OK);
        check(TNAME, "multi_margin z=0 loss", 0, (double)l0[0], 0.0, 0, 0);
        check(TNAME, "multi_margin z=0 grad", 0, (double)g0[0], 0.0, 0, 0);
        check(TNAME, "multi_margin z=0 grad", 1, (double)g0[1], 0.0, 0, 0);
        check_int(TNAME, "multilabel_margin z=0 status",
                  SFX(cyl_multilabel_margin_loss_grad)(1, 2, r0, 2, t0, 2, gs, l0, NULL, g0, 2, NULL), CYL_OK);
        check(TNAME, "multilabel_margin z=0 loss", 0, (double)l0[0], 0.0, 0, 0);
        check(TNAME, "multilabel_margin z=0 grad", 0, (double)g0[0], 0.0, 0, 0);
        check(TNAME, "multilabel_margin z=0 grad", 1, (double)g0[1], 0.0, 0, 0);
    }
    if (n > 2) {
        ptrdiff_t err = -7;
        const int64_t keep = tg[2];
        tg[2] = (int64_t)c;
        check_int(TNAME, "multi_margin bad target status",
                  SFX(cyl_multi_margin_loss_grad_hess)(n, c, x, ld, tg, NULL, 1, 1.0, gs, loss, NULL, g, ldg, NULL, 0,
                                                      &err), CYL_ERR_TARGET);
        check_int(TNAME, "multi_margin bad target index", (long)err, 2);
        tg[2] = keep;
    }
    /* multilabel_margin: row i lists (i % (c + 1)) distinct classes, then -1 (when fewer than
     * c); l = sum_{j listed} sum_{k not listed} max(0, 1 - x_j + x_k) / c */
    {
        const ptrdiff_t ldt = c;
        unsigned char *mem = xmalloc((size_t)(c + 1));
        for (ptrdiff_t i = 0; i < n; i++) {
            const ptrdiff_t nt = i % (c + 1);
            for (ptrdiff_t q = 0; q < c; q++) /* distinct classes, then negatives */
                tg[i * ldt + q] = q < nt ? (int64_t)((q + i) % c) : -1 - (int64_t)q;
        }
        double lsum = -1.0, want = 0.0, wabs = 0.0;
        ptrdiff_t err = -7;
        check_int(TNAME, "multilabel_margin status",
                  SFX(cyl_multilabel_margin_loss_grad)(n, c, x, ld, tg, ldt, gs, loss, &lsum, g, ldg, &err), CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            const double *r = xd + i * c;
            ptrdiff_t nt = 0;
            while (nt < c && tg[i * ldt + nt] >= 0)
                nt++;
            memset(mem, 0, (size_t)(c + 1));
            for (ptrdiff_t q = 0; q < nt; q++)
                mem[tg[i * ldt + q]] = 1;
            double l = 0.0, sc = 0.0;
            for (ptrdiff_t k = 0; k < c; k++)
                gw[k] = 0.0;
            for (ptrdiff_t q = 0; q < nt; q++) {
                const ptrdiff_t j = (ptrdiff_t)tg[i * ldt + q];
                for (ptrdiff_t k = 0; k < c; k++) {
                    if (mem[k]) continue;
                    const double z = 1.0 - r[j] + r[k];
                    l += fmax(z, 0.0);
                    sc += 1.0 + fabs(r[j]) + fabs(r[k]);
                    if (z > 0) {
                        gw[k] += gs / (double)c;
                        gw[j] -= gs / (double)c;
                    }
                }
            }
            l /= (double)c;
            sc /= (double)c;
            want += l;
            wabs += sc;
            check(TNAME, "multilabel_margin loss", (long)i, (double)loss[i], l, RTOL, sc);
            for (ptrdiff_t k = 0; k < c; k++)
                check(TNAME, "multilabel_margin grad", (long)(i * c + k), (double)g[i * ldg + k], gw[k], RTOL,
                      gs * (double)(c + 1) / (double)c);
        }
        check(TNAME, "multilabel_margin loss_sum", -1, lsum, want, RTOL, wabs + 1e-30);
        if (n > 1 && c > 1) {
            const int64_t keep = tg[1 * ldt + 0];
            tg[1 * ldt + 0] = (int64_t)c; /* row 1 lists one class: now out of range */
            err = -7;
            check_int(TNAME, "multilabel_margin bad target status",
                      SFX(cyl_multilabel_margin_loss_grad)(n, c, x, ld, tg, ldt, gs, loss, NULL, g, ldg, &err),
                      CYL_ERR_TARGET);
            check_int(TNAME, "multilabel_margin bad target index", (long)err, (long)ldt);
            tg[1 * ldt + 0] = keep;
        }
        free(mem);
    }
    /* multilabel_soft_margin: mean over classes of weighted BCE with logits; weight NULL, one
     * (c,) vector (ldw 0) or one row per sample (ldw c) */
    {
        T *y = SFX(mat)(n, ld, NULL, c), *wr = SFX(mat)(n, c, NULL, c);
        for (ptrdiff_t i = 0; i < n; i++)
            for (ptrdiff_t j = 0; j < c; j++) {
                y[i * ld + j] = (T)((i + j) % 3 == 0 ? (double)((i + j) % 2) : urand());
                wr[i * c + j] = (T)(0.5 + urand());
            }
        for (int wm = 0; wm < 3; wm++) {
            const T *wp = wm == 0 ? NULL : wm == 1 ? w : wr;
            const ptrdiff_t ldw = wm == 2 ? c : 0;
            double lsum = -1.0, want = 0.0, wabs = 0.0;
            check_int(TNAME, "multilabel_soft_margin status",
                      SFX(cyl_multilabel_soft_margin_loss_grad_hess)(n, c, x, ld, y, ld, wp, ldw, gs, loss, &lsum, g,
                                                                    ldg, h, ldg), CYL_OK);
            for (ptrdiff_t i = 0; i < n; i++) {
                double l = 0.0, sc = 0.0;
                for (ptrdiff_t j = 0; j < c; j++) {
                    const double xj = xd[i * c + j], yj = (double)y[i * ld + j];
                    const double wj = wp ? (double)wp[i * ldw + j] : 1.0, s = 1.0 / (1.0 + exp(-xj));
                    l += wj * (yj * softplus(-xj) + (1.0 - yj) * softplus(xj));
                    sc += wj * (1.0 + fabs(xj));
                    check(TNAME, "multilabel_soft_margin grad", (long)(i * c + j), (double)g[i * ldg + j],
                          gs * wj * (s - yj) / (double)c, RTOL, gs * wj / (double)c);
                    check(TNAME, "multilabel_soft_margin hess", (long)(i * c + j), (double)h[i * ldg + j],
                          gs * wj * s * (1.0 - s) / (double)c, RTOL, gs * wj / (double)c * 1e-3);
                }
                l /= (double)c;
                sc /= (double)c;
                want += l;
                wabs += sc;
                check(TNAME, "multilabel_soft_margin loss", (long)i, (double)loss[i], l, RTOL, sc);
            }
            check(TNAME, "multilabel_soft_margin loss_sum", -1, lsum, want, RTOL, wabs + 1e-30);
        }
        free(y);
        free(wr);
    }
    free(xv);
    free(x);
    free(g);
    free(h);
    free(xd);
    free(loss);
    free(w);
    free(tg);
    free(gw);
    free(hw);
}

/* the q-norm of v (q > 0 or inf) and its gradient u = dD/dv (torch's norm backward) */
static double SFX(ref_norm)(const double *v, ptrdiff_t d, double q, double *u)
{
    double D = 0.0;
    ptrdiff_t ties = 0;
    if (isinf(q)) {
        for (ptrdiff_t j = 0; j < d; j++)
            D = fmax(D, fabs(v[j]));
        for (ptrdiff_t j = 0; j < d; j++)
            ties += fabs(v[j]) == D;
        for (ptrdiff_t j = 0; j < d; j++)
            u[j] = fabs(v[j]) == D && D > 0 ? (v[j] > 0 ? 1.0 : -1.0) / (double)ties : 0.0;
        return D;
    }
    for (ptrdiff_t j = 0; j < d; j++)
        D += pow(fabs(v[j]), q);
    D = pow(D, 1.0 / q);
    for (ptrdiff_t j = 0; j < d; j++)
        u[j] = v[j] == 0 || D == 0 ? 0.0 : (v[j] > 0 ? 1.0 : -1.0) * pow(fabs(v[j]) / D, q - 1.0);
    return D;
}

/* cosine_embedding and triplet_margin: rows of d elements */
static void SFX(test_embedding)(ptrdiff_t n, ptrdiff_t d)
{
    const ptrdiff_t ld = d + 1, ldg = d + 2;
    double *av = SFX(logits)(n, d, 0), *bv = SFX(logits)(n, d, 0), *cv = SFX(logits)(n, d, 0);
    T *a = SFX(mat)(n, ld, av, d), *b = SFX(mat)(n, ld, bv, d), *ng = SFX(mat)(n, ld, cv, d);
    double *ad = SFX(dbl)(a, n, ld, d), *bd = SFX(dbl)(b, n, ld, d), *nd = SFX(dbl)(ng, n, ld, d);
    T *ga = SFX(mat)(n, ldg, NULL, d), *gb = SFX(mat)(n, ldg, NULL, d), *gn = SFX(mat)(n, ldg, NULL, d);
    T *loss = xmalloc(sizeof(T) * (size_t)(n + 1)), *y = xmalloc(sizeof(T) * (size_t)(n + 1));
    double *v1 = xmalloc(sizeof(double) * (size_t)(d + 1)), *v2 = xmalloc(sizeof(double) * (size_t)(d + 1));
    double *v3 = xmalloc(sizeof(double) * (size_t)(d + 1)), *u1 = xmalloc(sizeof(double) * (size_t)(d + 1));
    double *u2 = xmalloc(sizeof(double) * (size_t)(d + 1)), *u3 = xmalloc(sizeof(double) * (size_t)(d + 1));
    const double gs = 0.5;
    char what[96];
    /* cosine_embedding: A = |a|^2 + eps, B = |b|^2 + eps, cos = <a, b> / sqrt(A B); y = 1: 1 - cos,
     * y = -1: max(0, cos - margin) (gradient at equality passed), other y: 0 */
    for (ptrdiff_t i = 0; i < n; i++)
        y[i] = (T)(i % 4 == 3 ? 0.5 : i % 2 ? -1.0 : 1.0);
    for (int mk = 0; mk < 2; mk++) {
        const double margin = mk ? 0.25 : -0.5, eps = 1e-12;
        double lsum = -1.0, want = 0.0;
        check_int(TNAME, "cosine_embedding status",
                  SFX(cyl_cosine_embedding_loss_grad)(n, d, a, ld, b, ld, y, margin, eps, gs, loss, &lsum, ga, ldg,
                                                      gb, ldg), CYL_OK);
        for (ptrdiff_t i = 0; i < n; i++) {
            const double *ar = ad + i * d, *br = bd + i * d, yi = (double)y[i];
            double P = 0.0, A = eps, B = eps;
            for (ptrdiff_t j = 0; j < d; j++) {
                P += ar[j] * br[j];
                A += ar[j] * ar[j];
                B += br[j] * br[j];
            }
            const double sab = sqrt(A * B), cs = P / sab;
            const double l = yi == 1 ? 1.0 - cs : yi == -1 ? fmax(0.0, cs - margin) : 0.0;
            const double s = yi == 1 ? -1.0 : yi == -1 ? (cs - margin >= 0 ? 1.0 : 0.0) : 0.0;
            want += l;
            check(TNAME, "cosine_embedding loss", (long)i, (double)loss[i], l, RTOL, 2.0);
            for (ptrdiff_t j = 0; j < d; j++) {
                check(TNAME, "cosine_embedding grad_a", (long)(i * d + j), (double)ga[i * ldg + j],
                      gs * s * (br[j] / sab - cs * ar[j] / A), RTOL, gs * (fabs(br[j]) / sab + fabs(ar[j]) / A));
                check(TNAME, "cosine_embedding grad_b", (long)(i * d + j), (double)gb[i * ldg + j],
                      gs * s * (ar[j] / sab - cs * br[j] / B), RTOL, gs * (fabs(ar[j]) / sab + fabs(br[j]) / B));
            }
        }
        check(TNAME, "cosine_embedding loss_sum", -1, lsum, want, RTOL, 2.0 * (double)n + 1e-30);
    }
    /* triplet_margin: d(x, y) = ||x - y + eps||_q, l = max(0, margin + d(a, p) - d(a, n)) (swap:
     * d(a, n) replaced by d(p, n) when smaller); gradient [z > 0] */
    static const double qs[4] = {2.0, 1.0, 3.0, INFINITY};
    for (int qi = 0; qi < 4; qi++)
        for (int swap = 0; swap < 2; swap++) {
            const double q = qs[qi], margin = 1.0, eps = 1e-6;
            double lsum = -1.0, want = 0.0, wabs = 0.0;
            check_int(TNAME, "triplet_margin status",
                      SFX(cyl_triplet_margin_loss_grad)(n, d, a, ld, b, ld, ng, ld, margin, q, eps, swap, gs, loss,
                                                        &lsum, ga, ldg, gb, ldg, gn, ldg), CYL_OK);
            for (ptrdiff_t i = 0; i < n; i++) {
                const double *ar = ad + i * d, *pr = bd + i * d, *nr = nd + i * d;
                for (ptrdiff_t j = 0; j < d; j++) {
                    v1[j] = (double)(T)(ar[j] - pr[j]) + (double)(T)eps;
                    v2[j] = (double)(T)(ar[j] - nr[j]) + (double)(T)eps;
                    v3[j] = (double)(T)(pr[j] - nr[j]) + (double)(T)eps;
                }
                const double dp = SFX(ref_norm)(v1, d, q, u1), dn = SFX(ref_norm)(v2, d, q, u2);
                const double ds = SFX(ref_norm)(v3, d, q, u3);
                const int use_s = swap && ds < dn;
                const double z = margin + dp - (use_s ? ds : dn), act = z > 0 ? gs : 0.0;
                const double l = fmax(z, 0.0), sc = margin + dp + dn + ds;
                want += l;
                wabs += sc;
                snprintf(what, sizeof what, "triplet_margin q=%g swap=%d loss", q, swap);
                check(TNAME, what, (long)i, (double)loss[i], l, RTOL, sc);
                for (ptrdiff_t j = 0; j < d; j++) {
                    const double wa = act * (u1[j] - (use_s ? 0.0 : u2[j]));
                    const double wp = act * (-u1[j] - (use_s ? u3[j] : 0.0));
                    const double wn = act * (use_s ? u3[j] : u2[j]);
                    snprintf(what, sizeof what, "triplet_margin q=%g swap=%d grad_a", q, swap);
                    check(TNAME, what, (long)(i * d + j), (double)ga[i * ldg + j], wa, RTOL, 2.0 * gs);
                    snprintf(what, sizeof what, "triplet_margin q=%g swap=%d grad_p", q, swap);
                    check(TNAME, what, (long)(i * d + j), (double)gb[i * ldg + j], wp, RTOL, 2.0 * gs);
                    snprintf(what, sizeof what, "triplet_margin q=%g swap=%d grad_n", q, swap);
                    check(TNAME, what, (long)(i * d + j), (double)gn[i * ldg + j], wn, RTOL, 2.0 * gs);
                }
            }
            check(TNAME, "triplet_margin loss_sum", -1, lsum, want, RTOL, wabs + 1e-30);
        }
    free(av);
    free(bv);
    free(cv);
    free(a);
    free(b);
    free(ng);
    free(ad);
    free(bd);
    free(nd);
    free(ga);
    free(gb);
    free(gn);
    free(loss);
    free(y);
    free(v1);
    free(v2);
    free(v3);
    free(u1);
    free(u2);
    free(u3);
}

/* ctc: t_max = 3 frames, c = 3 classes (blank 0 or 2), eight samples: labels [1], [1, 2],
 * [1, 1] (only 1 blank 1 fits), [] over 2 frames, [2, 1] over 2 frames, [1, 1] over 2
 * frames (impossible: loss inf, NaN gradient, or 0 and 0 with zero_infinity), [] and [1]
 * over 0 frames (loss -0 and inf, zero gradient); the reference
 * enumerates every path of c^T_b labels, collapses it (repeats, then blanks) and sums the
 * probabilities of those giving the labels: loss -log P, gradient (torch's)
 * exp(lp_t(k)) - P(paths through k at t) / P, times grad_scale[b]; 0 for t >= T_b */
static void SFX(test_ctc)(int64_t blank, int zero_inf)
{
    enum { TM = 3, NB = 8, C = 3 };
    const ptrdiff_t ld_n = C + 1, ld_t = NB * ld_n;
    const int64_t lab = blank == 0 ? 2 : 0; /* the non-blank label other than 1 */
    const int64_t targets[9] = {1, 1, lab, 1, 1, lab, 1, 1, 1};
    const int64_t tstart[NB] = {0, 1, 3, 5, 5, 7, 0, 0};
    const int64_t ilen[NB] = {3, 3, 3, 2, 2, 2, 0, 0};
    const int64_t tlen[NB] = {1, 2, 2, 0, 2, 2, 0, 1};
    const double gsc[NB] = {0.5, 1.0, 0.25, 2.0, 1.5, 0.75, 1.0, 1.0};
    double lv[TM * NB * C];
    for (ptrdiff_t i = 0; i < TM * NB; i++) { /* log_softmax of random logits */
        double z[C];
        for (int k = 0; k < C; k++)
            z[k] = 2.0 * nrand();
        ref_softmax(z, C, 1.0, lv + i * C, 1);
    }
    T *lp = xmalloc(sizeof(T) * (size_t)(TM * ld_t)), *g = xmalloc(sizeof(T) * (size_t)(TM * ld_t));
    for (ptrdiff_t t = 0; t < TM; t++)
        for (ptrdiff_t b = 0; b < NB; b++)
            for (ptrdiff_t k = 0; k < ld_n; k++) {
                lp[t * ld_t + b * ld_n + k] = (T)(k < C ? lv[(t * NB + b) * C + k] : -12345.0);
                g[t * ld_t + b * ld_n + k] = (T)-12345.0;
            }
    double loss[NB];
    check_int(TNAME, "ctc status",
              SFX(cyl_ctc_loss_grad)(TM, NB, C, lp, ld_t, ld_n, targets, tstart, ilen, tlen, blank, zero_inf, gsc,
                                     loss, g, ld_t, ld_n), CYL_OK);
    for (ptrdiff_t b = 0; b < NB; b++) {
        const ptrdiff_t Tb = (ptrdiff_t)ilen[b], L = (ptrdiff_t)tlen[b];
        const int64_t *lb = targets + tstart[b];
        double P = 0.0, occ[TM][C] = {{0}};
        int npaths = 1;
        for (ptrdiff_t t = 0; t < Tb; t++)
            npaths *= C;
        for (int code = 0; code < npaths; code++) {
            int path[TM], rest = code;
            for (ptrdiff_t t = 0; t < Tb; t++) {
                path[t] = rest % C;
                rest /= C;
            }
            int64_t out[TM];
            ptrdiff_t no = 0;
            for (ptrdiff_t t = 0; t < Tb; t++)
                if (path[t] != blank && (t == 0 || path[t] != path[t - 1])) out[no++] = path[t];
            int match = no == L;
            for (ptrdiff_t q = 0; match && q < L; q++)
                match = out[q] == lb[q];
            if (!match) continue;
            double pr = 1.0;
            for (ptrdiff_t t = 0; t < Tb; t++)
                pr *= exp((double)lp[t * ld_t + b * ld_n + path[t]]);
            P += pr;
            for (ptrdiff_t t = 0; t < Tb; t++)
                occ[t][path[t]] += pr;
        }
        const int inf = P == 0; /* impossible alignment */
        const double wl = inf ? (zero_inf ? 0.0 : INFINITY) : -log(P);
        check(TNAME, "ctc loss", (long)b, loss[b], wl, RTOL, 1.0);
        for (ptrdiff_t t = 0; t < TM; t++)
            for (ptrdiff_t k = 0; k < C; k++) {
                const double l = (double)lp[t * ld_t + b * ld_n + k];
                double want = t >= Tb || (inf && zero_inf) ? 0.0 : inf ? NAN : gsc[b] * (exp(l) - occ[t][k] / P);
                check(TNAME, "ctc grad", (long)((t * NB + b) * C + k), (double)g[t * ld_t + b * ld_n + k], want,
                      RTOL, gsc[b]);
            }
        check(TNAME, "ctc grad padding", (long)b, (double)g[b * ld_n + C], -12345.0, 0, 0);
    }
    /* loss only (no gradient) is the same loss */
    double loss2[NB];
    check_int(TNAME, "ctc loss-only status",
              SFX(cyl_ctc_loss_grad)(TM, NB, C, lp, ld_t, ld_n, targets, tstart, ilen, tlen, blank, zero_inf, NULL,
                                     loss2, NULL, ld_t, ld_n), CYL_OK);
    for (ptrdiff_t b = 0; b < NB; b++)
        check(TNAME, "ctc loss-only", (long)b, loss2[b], loss[b], RTOL, 1.0);
    free(lp);
    free(g);
}

/* the kernels above with n = 0 (and c = 0 where allowed) */
static void SFX(test_empty_more)(void)
{
    T a[4] = {1, 2, 3, 4}, b[4] = {0, 0, 0, 0}, l[4] = {7, 7, 7, 7};
    int64_t t[4] = {0, 0, 0, 0};
    double m[2] = {7, 7}, s[2] = {7, 7}, xt[2] = {7, 7}, lsum;
    unsigned char fd[2] = {7, 7};
    ptrdiff_t err = 0;
    check_int(TNAME, "cross_entropy_partial n=0",
              SFX(cyl_cross_entropy_partial)(0, 3, a, 3, t, 0, NULL, m, s, xt, fd, NULL), CYL_OK);
    check_int(TNAME, "cross_entropy_partial c=0",
              SFX(cyl_cross_entropy_partial)(2, 0, a, 1, t, 0, NULL, m, s, xt, fd, NULL), CYL_OK);
    check(TNAME, "cross_entropy_partial c=0 m", 1, m[1], -INFINITY, 0, 0);
    check(TNAME, "cross_entropy_partial c=0 s", 1, s[1], 0.0, 0, 0);
    check_int(TNAME, "cross_entropy_partial c=0 found", (long)fd[1], 0);
    for (int k = CYL_HALF_POISSON; k <= CYL_EXPONENTIAL; k++) {
        lsum = 7.0;
        check_int(TNAME, "glm n=0",
                  SFX(cyl_glm_loss_grad_hess)(k, 0, a, a, NULL, k == CYL_PINBALL ? 0.5 : 1.5, 1.0, b, &lsum, b, b,
                                              &err), CYL_OK);
        check(TNAME, "glm n=0 sum", k, lsum, 0.0, 0, 0);
    }
    for (int k = CYL_SOFT_MARGIN; k <= CYL_MARGIN_RANKING; k++) {
        lsum = 7.0;
        check_int(TNAME, "margin n=0", SFX(cyl_margin_loss_grad_hess)(k, 0, a, a, a, 1.0, 1.0, b, &lsum, b, b),
                  CYL_OK);
        check(TNAME, "margin n=0 sum", k, lsum, 0.0, 0, 0);
    }
    lsum = 7.0;
    check_int(TNAME, "poisson_nll n=0", SFX(cyl_poisson_nll_loss_grad_hess)(0, a, a, 0, 1e-8, 1.0, b, &lsum, b, b),
              CYL_OK);
    check(TNAME, "poisson_nll n=0 sum", 0, lsum, 0.0, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "gaussian_nll n=0",
              SFX(cyl_gaussian_nll_loss_grad_hess)(0, a, a, a, 0, 1e-6, 1.0, b, &lsum, b, b, b), CYL_OK);
    check(TNAME, "gaussian_nll n=0 sum", 0, lsum, 0.0, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "sigmoid_focal n=0",
              SFX(cyl_sigmoid_focal_loss_grad_hess)(0, a, a, 0.25, 2.0, 1.0, b, &lsum, b, b), CYL_OK);
    check(TNAME, "sigmoid_focal n=0 sum", 0, lsum, 0.0, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "multi_margin n=0",
              SFX(cyl_multi_margin_loss_grad_hess)(0, 3, a, 3, t, NULL, 1, 1.0, 1.0, b, &lsum, b, 3, NULL, 0, &err),
              CYL_OK);
    check(TNAME, "multi_margin n=0 sum", 0, lsum, 0.0, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "multilabel_margin n=0",
              SFX(cyl_multilabel_margin_loss_grad)(0, 3, a, 3, t, 3, 1.0, b, &lsum, b, 3, &err), CYL_OK);
    check(TNAME, "multilabel_margin n=0 sum", 0, lsum, 0.0, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "multilabel_soft_margin n=0",
              SFX(cyl_multilabel_soft_margin_loss_grad_hess)(0, 3, a, 3, a, 3, NULL, 0, 1.0, b, &lsum, b, 3, NULL, 0),
              CYL_OK);
    check(TNAME, "multilabel_soft_margin n=0 sum", 0, lsum, 0.0, 0, 0);
    lsum = 7.0; /* c = 0: 0 / 0 per row (torch) */
    check_int(TNAME, "multilabel_soft_margin c=0",
              SFX(cyl_multilabel_soft_margin_loss_grad_hess)(2, 0, a, 1, a, 1, NULL, 0, 1.0, l, &lsum, b, 1, NULL, 0),
              CYL_OK);
    check(TNAME, "multilabel_soft_margin c=0 loss", 1, (double)l[1], NAN, 0, 0);
    check(TNAME, "multilabel_soft_margin c=0 sum", 0, lsum, NAN, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "cosine_embedding n=0",
              SFX(cyl_cosine_embedding_loss_grad)(0, 3, a, 3, a, 3, a, 0.0, 1e-12, 1.0, b, &lsum, b, 3, b, 3), CYL_OK);
    check(TNAME, "cosine_embedding n=0 sum", 0, lsum, 0.0, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "triplet_margin n=0",
              SFX(cyl_triplet_margin_loss_grad)(0, 3, a, 3, a, 3, a, 3, 1.0, 2.0, 1e-6, 0, 1.0, b, &lsum, b, 3, b, 3,
                                                b, 3), CYL_OK);
    check(TNAME, "triplet_margin n=0 sum", 0, lsum, 0.0, 0, 0);
    check_int(TNAME, "ctc n=0",
              SFX(cyl_ctc_loss_grad)(3, 0, 3, a, 3, 3, t, t, t, t, 0, 0, m, s, b, 3, 3), CYL_OK);
}

/* every kernel tested above with n = 0 (and c = 0 where allowed) */
static void SFX(test_empty)(void)
{
    T a[4] = {1, 2, 3, 4}, b[4] = {0, 0, 0, 0};
    int64_t t[1] = {0};
    double m[2] = {7, 7}, s[2] = {7, 7}, lsum = 7.0;
    ptrdiff_t err = 0;
    check_int(TNAME, "softmax n=0", SFX(cyl_softmax)(0, 3, a, 3, b, 3, 1.0), CYL_OK);
    check_int(TNAME, "log_softmax n=0", SFX(cyl_log_softmax)(0, 3, a, 3, b, 3, 1.0), CYL_OK);
    check_int(TNAME, "softmax c=0", SFX(cyl_softmax)(2, 0, a, 1, b, 1, 1.0), CYL_OK);
    check_int(TNAME, "log_softmax c=0", SFX(cyl_log_softmax)(2, 0, a, 1, b, 1, 1.0), CYL_OK);
    check(TNAME, "softmax c=0 untouched", 0, (double)b[0], 0.0, 0, 0);
    check_int(TNAME, "logsumexp n=0", SFX(cyl_logsumexp)(0, 3, a, 3, NULL, 0, b, NULL), CYL_OK);
    check_int(TNAME, "logsumexp c=0", SFX(cyl_logsumexp)(2, 0, a, 1, NULL, 0, b, NULL), CYL_OK);
    check(TNAME, "logsumexp c=0", 0, (double)b[0], -INFINITY, 0, 0);
    check(TNAME, "logsumexp c=0", 1, (double)b[1], -INFINITY, 0, 0);
    check_int(TNAME, "logsumexp_partial c=0", SFX(cyl_logsumexp_partial)(2, 0, a, 1, m, s), CYL_OK);
    check(TNAME, "logsumexp_partial c=0 m", 0, m[1], -INFINITY, 0, 0);
    check(TNAME, "logsumexp_partial c=0 s", 0, s[1], 0.0, 0, 0);
    check_int(TNAME, "entropy c=0", SFX(cyl_entropy)(2, 0, a, 1, b), CYL_OK);
    check(TNAME, "entropy c=0", 0, (double)b[0], 0.0, 0, 0);
    check_int(TNAME, "softmax_backward n=0", SFX(cyl_softmax_backward)(0, 3, a, 3, a, 3, b, 3), CYL_OK);
    check_int(TNAME, "log_softmax_backward n=0", SFX(cyl_log_softmax_backward)(0, 3, a, 3, a, 3, b, 3), CYL_OK);
    check_int(TNAME, "class_weight_sum n=0", SFX(cyl_class_weight_sum)(0, 3, t, NULL, -100, &lsum, &err), CYL_OK);
    check(TNAME, "class_weight_sum n=0", 0, lsum, 0.0, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "cross_entropy n=0",
              SFX(cyl_cross_entropy_loss_grad)(0, 3, a, 3, t, NULL, -100, 0.0, 1.0, b, &lsum, b, 3, &err), CYL_OK);
    check(TNAME, "cross_entropy n=0 sum", 0, lsum, 0.0, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "cross_entropy_prob n=0",
              SFX(cyl_cross_entropy_prob_loss_grad)(0, 3, a, 3, a, 3, NULL, 0.0, 1.0, b, &lsum, b, 3), CYL_OK);
    check(TNAME, "cross_entropy_prob n=0 sum", 0, lsum, 0.0, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "nll_loss n=0", SFX(cyl_nll_loss_grad)(0, 3, a, 3, t, NULL, -100, 1.0, b, &lsum, b, 3, &err),
              CYL_OK);
    check(TNAME, "nll_loss n=0 sum", 0, lsum, 0.0, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "bce_logits n=0", SFX(cyl_bce_logits_loss_grad)(0, a, a, NULL, NULL, 1.0, b, &lsum, b), CYL_OK);
    check(TNAME, "bce_logits n=0 sum", 0, lsum, 0.0, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "bce n=0", SFX(cyl_bce_loss_grad)(0, a, a, NULL, 1.0, b, &lsum, b, &err), CYL_OK);
    check(TNAME, "bce n=0 sum", 0, lsum, 0.0, 0, 0);
    lsum = 7.0;
    check_int(TNAME, "kl_div n=0", SFX(cyl_kl_div_loss_grad)(0, a, a, 0, 1.0, b, &lsum, b), CYL_OK);
    check(TNAME, "kl_div n=0 sum", 0, lsum, 0.0, 0, 0);
    for (int k = CYL_MSE; k <= CYL_PSEUDO_HUBER; k++) {
        lsum = 7.0;
        check_int(TNAME, "regression n=0",
                  SFX(cyl_regression_loss_grad)(k, 0, a, a, NULL, 1.0, 1.0, b, &lsum, b), CYL_OK);
        check(TNAME, "regression n=0 sum", k, lsum, 0.0, 0, 0);
    }
    lsum = 7.0;
    check_int(TNAME, "sum n=0", SFX(cyl_sum)(0, a, &lsum), CYL_OK);
    check(TNAME, "sum n=0", 0, lsum, 0.0, 0, 0);
    check_int(TNAME, "vexp n=0", SFX(cyl_vexp)(0, a, b), CYL_OK);
    check_int(TNAME, "vlog n=0", SFX(cyl_vlog)(0, a, b), CYL_OK);
    check_int(TNAME, "softmax negative n", SFX(cyl_softmax)(-1, 3, a, 3, b, 3, 1.0), CYL_ERR_ARG);
}

static void SFX(run_tests)(void)
{
    static const ptrdiff_t cs[6] = {1, 2, 5, 16, 37, 300};
    for (int k = 0; k < 6; k++) {
        SFX(test_softmax_family)(17, cs[k], 0);
        SFX(test_softmax_family)(17, cs[k], 1);
        SFX(test_backward_entropy)(9, cs[k]);
        SFX(test_class_targets)(23, cs[k], 0, 0, 0.0);
        SFX(test_class_targets)(23, cs[k], 0, 1, 0.0);
        SFX(test_class_targets)(23, cs[k], 0, 1, 0.1);
        SFX(test_class_targets)(23, cs[k], 1, k % 2, 0.0);
        SFX(test_prob_targets)(11, cs[k], k % 2, 0.0);
        SFX(test_prob_targets)(11, cs[k], 1, 0.2);
    }
    /* large enough for the thread pool (work above 131072 elements) */
    SFX(test_softmax_family)(300, 500, 0);
    SFX(test_class_targets)(300, 500, 0, 1, 0.1);
    SFX(test_backward_entropy)(300, 500);
    for (ptrdiff_t n = 1; n <= 19; n += 6) {
        SFX(test_binary)(n);
        SFX(test_regression)(n);
        SFX(test_utilities)(n);
    }
    SFX(test_binary)(1003);
    SFX(test_regression)(1003);
    SFX(test_binary)(200003);
    SFX(test_regression)(200003);
    SFX(test_utilities)(5003);
    SFX(test_empty)();
    /* the other kernels: small inputs (and the thread pool once for the elementwise ones) */
    static const ptrdiff_t ns[4] = {1, 2, 7, 19};
    for (int k = 0; k < 4; k++) {
        SFX(test_ce_partial)(ns[k], cs[k], k % 2);
        SFX(test_glm)(ns[k]);
        SFX(test_elementwise_more)(ns[k]);
        SFX(test_margin_rows)(ns[k], cs[k]);
        SFX(test_margin_rows)(5, ns[k]);
        SFX(test_embedding)(ns[k], cs[k]);
        SFX(test_embedding)(4, ns[k]);
    }
    SFX(test_ce_partial)(300, 500, 1);
    SFX(test_glm)(20003);
    SFX(test_ctc)(0, 0);
    SFX(test_ctc)(0, 1);
    SFX(test_ctc)(2, 0);
    SFX(test_empty_more)();
}
#endif /* PKT_BODY */
