/*
 * likelihood.h -- negative log-likelihood losses of torch.nn.functional: Poisson
 * (poisson_nll_loss) and Gaussian (gaussian_nll_loss).
 * Part of the kernel source: included, in order, by cyl_kernels_body.h (once per scalar
 * type and CPU target; see there), never on its own.
 *
 * Poisson, x = input, t = target (flags: CYL_NLL_LOG_INPUT, CYL_NLL_FULL):
 *   log_input  l = exp(x) - t x;             g = exp(x) - t;       h = exp(x)
 *   otherwise  l = x - t log(x + eps);       g = 1 - t / (x + eps); h = t / (x + eps)^2
 *   full       l += t log t - t + log(2 pi t) / 2 where t > 1 (Stirling; torch's
 *              masked_fill(t <= 1, 0): a NaN t keeps its NaN term)
 * Gaussian, x = input, t = target, var (one per element, the caller broadcasts it),
 *   v = max(var, eps) (torch clamps without a gradient through the clamp; a NaN var stays
 *   NaN), d = x - t:
 *   l = (log v + d^2 / v) / 2 (+ log(2 pi) / 2 with full);
 *   d/dx = d / v;  d/dvar = (1 / v - d^2 / v^2) / 2  (stored where the others store h);
 *   d2/dx2 = 1 / v (in ew_ctx.out2).
 */

CYL_INLINE T CYL_FN(poisson_nll_elem)(ptrdiff_t i, const T *x, const T *t, T eps, T gs, T *loss, T *grad, T *hess,
                                      const int LOGIN, const int FULL, const int HG, const int HH, const int HL)
{
    const T *w = NULL;
    const int HW = 0;
    T xi = x[i], ti = t[i], l, g, h;
    (void)w;
    if (LOGIN) {
        T e = EXP(xi);
        l = e - ti * xi;
        g = e - ti;
        h = e;
    } else {
        T u = xi + eps;
        T r = ti / u;
        l = xi - ti * LOG(u);
        g = (T)1 - r;
        h = r / u;
    }
    if (FULL) {
        T st = ti * LOG(ti) - ti + (T)0.5 * LOG((T)6.283185307179586 * ti);
        l += ti <= (T)1 ? (T)0 : st;
    }
    CYL_EW_STORE(l, g, h);
    return l;
}

CYL_INLINE double CYL_FN(poisson_nll_run)(ptrdiff_t n, const T *x, const T *t, T eps, T gs, T *loss, T *grad,
                                          T *hess, const int LOGIN, const int FULL, const int HG, const int HH,
                                          const int HL)
{
    CYL_LANE_SUM(n, CYL_FN(poisson_nll_elem)(i, x, t, eps, gs, loss, grad, hess, LOGIN, FULL, HG, HH, HL));
}

#define CYL_POISSON_NLL_CALL(LOGIN, FULL, HG, HH, HL) \
    acc = CYL_FN(poisson_nll_run)(len, x + i0, t + i0, k_->prm, gs, CYL_OFF(loss), CYL_OFF(grad), CYL_OFF(hess), \
                                  LOGIN, FULL, HG, HH, HL)

static void CYL_FN(poisson_nll_block)(void *vctx, ptrdiff_t b_, void *scratch_)
{
    CYL_EW_PROLOGUE;
    const T *x = k_->a, *t = k_->b;
    (void)weight;
    switch (k_->flags & (CYL_NLL_LOG_INPUT | CYL_NLL_FULL)) {
    case 0: CYL_SPEC_G(CYL_POISSON_NLL_CALL, 0, 0); break;
    case CYL_NLL_LOG_INPUT: CYL_SPEC_G(CYL_POISSON_NLL_CALL, 1, 0); break;
    case CYL_NLL_FULL: CYL_SPEC_G(CYL_POISSON_NLL_CALL, 0, 1); break;
    default: CYL_SPEC_G(CYL_POISSON_NLL_CALL, 1, 1); break;
    }
    k_->part[b_] = acc;
}

int CYL_FN(poisson_nll_loss_grad_hess)(ptrdiff_t n, const T *x, const T *t, int flags, double eps,
                                       double grad_scale, T *loss, double *loss_sum, T *grad, T *hess)
{
    if (hess && !grad) return CYL_ERR_ARG;
    CYL_FN(ew_ctx) k = {x, t, NULL, NULL, loss, grad, hess, NULL, (T)grad_scale, (T)eps, n};
    k.flags = flags;
    k.exp_bound = (flags & CYL_NLL_LOG_INPUT) != 0;
    return CYL_FN(ew_run)(&k, 8.0, CYL_FN(poisson_nll_block), loss_sum);
}

CYL_INLINE T CYL_FN(gaussian_nll_elem)(ptrdiff_t i, const T *x, const T *t, const T *var, T eps, T gs, T *loss,
                                       T *grad, T *hess, T *hx, const int FULL, const int HX, const int HG,
                                       const int HH, const int HL)
{
    const T *w = NULL;
    const int HW = 0;
    T vi = var[i];
    T v = vi < eps ? eps : vi; /* NaN stays NaN */
    T d = x[i] - t[i];
    T iv = (T)1 / v;
    T q = d * iv; /* d / v */
    T l = (T)0.5 * (LOG(v) + d * q), g = 0, h = 0;
    (void)w;
    if (FULL) l += (T)0.9189385332046728; /* log(2 pi) / 2 */
    if (HG) g = q;
    if (HH) h = (T)0.5 * (iv - q * q);
    if (HX) hx[i] = iv * gs;
    CYL_EW_STORE(l, g, h);
    return l;
}

CYL_INLINE double CYL_FN(gaussian_nll_run)(ptrdiff_t n, const T *x, const T *t, const T *var, T eps, T gs,
                                           T *loss, T *grad, T *hess, T *hx, const int FULL, const int HX,
                                           const int HG, const int HH, const int HL)
{
    CYL_LANE_SUM(n, CYL_FN(gaussian_nll_elem)(i, x, t, var, eps, gs, loss, grad, hess, hx, FULL, HX, HG, HH, HL));
}

#define CYL_GAUSSIAN_NLL_CALL(FULL, HX, HG, HH, HL) \
    acc = CYL_FN(gaussian_nll_run)(len, x + i0, t + i0, var + i0, k_->prm, gs, CYL_OFF(loss), CYL_OFF(grad), \
                                   CYL_OFF(hess), CYL_OFF(k_->out2), FULL, HX, HG, HH, HL)

static void CYL_FN(gaussian_nll_block)(void *vctx, ptrdiff_t b_, void *scratch_)
{
    CYL_EW_PROLOGUE;
    const T *x = k_->a, *t = k_->b, *var = k_->pw;
    const int full = (k_->flags & CYL_NLL_FULL) != 0;
    (void)weight;
    if (k_->out2) { /* the Hessian in x: needs the gradient (checked) */
        if (full) CYL_SPEC_G(CYL_GAUSSIAN_NLL_CALL, 1, 1); else CYL_SPEC_G(CYL_GAUSSIAN_NLL_CALL, 0, 1);
    } else {
        if (full) CYL_SPEC_G(CYL_GAUSSIAN_NLL_CALL, 1, 0); else CYL_SPEC_G(CYL_GAUSSIAN_NLL_CALL, 0, 0);
    }
    k_->part[b_] = acc;
}

int CYL_FN(gaussian_nll_loss_grad_hess)(ptrdiff_t n, const T *x, const T *t, const T *var, int flags, double eps,
                                        double grad_scale, T *loss, double *loss_sum, T *grad, T *grad_var,
                                        T *hess)
{
    if ((n > 0 && !var) || (grad_var && !grad) || (hess && !grad)) return CYL_ERR_ARG;
    CYL_FN(ew_ctx) k = {x, t, NULL, var, loss, grad, grad_var, NULL, (T)grad_scale, (T)eps, n};
    k.flags = flags;
    k.out2 = hess;
    return CYL_FN(ew_run)(&k, 8.0, CYL_FN(gaussian_nll_block), loss_sum);
}
