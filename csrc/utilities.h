/*
 * utilities.h -- sum, and the elementwise exp / log exposed for accuracy tests.
 * Part of the kernel source: included, in order, by cyl_kernels_body.h (once per scalar
 * type and CPU target; see there), never on its own.
 */

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
