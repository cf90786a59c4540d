/*
 * cyl_kernels_body.h -- the one source of every kernel.  Included by
 * cyl_kernels_inst.h once per scalar type (T = float, S = f32 / T = double,
 * S = f64) and that file once per CPU target (CYL_ISA = baseline, avx2), so each
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

static inline T CYL_FN(row_max)(const T *x, ptrdiff_t c)
{
    T m = -INFINITY;
#pragma omp simd reduction(max:m)
    for (ptrdiff_t j = 0; j < c; j++)
        m = x[j] > m ? x[j] : m;
    return m;
}

/* sum_j exp(s (x_j - shift)), also storing the exponentials when e != NULL */
static inline double CYL_FN(row_expsum)(const T *x, ptrdiff_t c, T shift, T s, T *e)
{
    double acc = 0.0;
    if (e) {
#pragma omp simd reduction(+:acc)
        for (ptrdiff_t j = 0; j < c; j++) {
            T v = EXP((x[j] - shift) * s);
            e[j] = v;
            acc += (double)v;
        }
    } else {
#pragma omp simd reduction(+:acc)
        for (ptrdiff_t j = 0; j < c; j++)
            acc += (double)EXP((x[j] - shift) * s);
    }
    return acc;
}

static inline void CYL_FN(row_zero)(T *g, ptrdiff_t c)
{
    for (ptrdiff_t j = 0; j < c; j++)
        g[j] = (T)0;
}

/* ------------------------------------------------------------- softmax family */

int CYL_FN(softmax)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, T *y, ptrdiff_t ldy,
                    double inv_temperature)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    const T s = (T)inv_temperature;
    for (ptrdiff_t i = 0; i < n; i++) {
        const T *xr = x + i * ldx;
        T *yr = y + i * ldy;
        T m = CYL_FN(row_max)(xr, c);
        double sum = CYL_FN(row_expsum)(xr, c, m, s, yr);
        T r = (T)(1.0 / sum);
#pragma omp simd
        for (ptrdiff_t j = 0; j < c; j++)
            yr[j] *= r;
    }
    return CYL_OK;
}

int CYL_FN(log_softmax)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, T *y, ptrdiff_t ldy,
                        double inv_temperature)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    const T s = (T)inv_temperature;
    for (ptrdiff_t i = 0; i < n; i++) {
        const T *xr = x + i * ldx;
        T *yr = y + i * ldy;
        T m = CYL_FN(row_max)(xr, c);
        T lse = (T)log(CYL_FN(row_expsum)(xr, c, m, s, NULL));
#pragma omp simd
        for (ptrdiff_t j = 0; j < c; j++)
            yr[j] = (xr[j] - m) * s - lse;
    }
    return CYL_OK;
}

int CYL_FN(logsumexp)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const T *b, ptrdiff_t ldb,
                      T *out, T *sign)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    for (ptrdiff_t i = 0; i < n; i++) {
        const T *xr = x + i * ldx;
        T m;
        double sum = 0.0;
        if (b == NULL) {
            m = CYL_FN(row_max)(xr, c);
            T shift = isfinite(m) ? m : (T)0;
            sum = CYL_FN(row_expsum)(xr, c, shift, (T)1, NULL);
            m = shift;
        } else {
            /* terms with b == 0 are dropped, even when x is inf or NaN (scipy) */
            const T *br = b + i * ldb;
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
        }
        if (sign) {
            sign[i] = sum > 0 ? (T)1 : sum < 0 ? (T)-1 : sum == 0 ? (T)0 : (T)sum;
            out[i] = (T)((double)m + log(fabs(sum)));
        } else {
            out[i] = (T)((double)m + log(sum));
        }
    }
    return CYL_OK;
}

int CYL_FN(softmax_backward)(ptrdiff_t n, ptrdiff_t c, const T *y, ptrdiff_t ldy, const T *g, ptrdiff_t ldg,
                             T *out, ptrdiff_t ldo)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    for (ptrdiff_t i = 0; i < n; i++) {
        const T *yr = y + i * ldy, *gr = g + i * ldg;
        T *o = out + i * ldo;
        double dot = 0.0;
#pragma omp simd reduction(+:dot)
        for (ptrdiff_t j = 0; j < c; j++)
            dot += (double)yr[j] * (double)gr[j];
        T d = (T)dot;
#pragma omp simd
        for (ptrdiff_t j = 0; j < c; j++)
            o[j] = yr[j] * (gr[j] - d);
    }
    return CYL_OK;
}

int CYL_FN(log_softmax_backward)(ptrdiff_t n, ptrdiff_t c, const T *log_y, ptrdiff_t ldy, const T *g,
                                 ptrdiff_t ldg, T *out, ptrdiff_t ldo)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    for (ptrdiff_t i = 0; i < n; i++) {
        const T *yr = log_y + i * ldy, *gr = g + i * ldg;
        T *o = out + i * ldo;
        double sg = 0.0;
#pragma omp simd reduction(+:sg)
        for (ptrdiff_t j = 0; j < c; j++)
            sg += (double)gr[j];
        T s = (T)sg;
#pragma omp simd
        for (ptrdiff_t j = 0; j < c; j++)
            o[j] = gr[j] - EXP(yr[j]) * s;
    }
    return CYL_OK;
}

int CYL_FN(entropy)(ptrdiff_t n, ptrdiff_t c, const T *p, ptrdiff_t ldp, T *out)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    for (ptrdiff_t i = 0; i < n; i++) {
        const T *pr = p + i * ldp;
        double acc = 0.0;
#pragma omp simd reduction(+:acc)
        for (ptrdiff_t j = 0; j < c; j++) {
            T v = pr[j];
            T t = v * LOG(v);
            acc += v == 0 ? 0.0 : (double)t;
        }
        out[i] = (T)(-acc);
    }
    return CYL_OK;
}

/* ------------------------------------------------------- classification losses */

int CYL_FN(class_weight_sum)(ptrdiff_t n, ptrdiff_t c, const int64_t *target, const T *weight,
                             int64_t ignore_index, double *wsum, ptrdiff_t *err_index)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    double acc = 0.0;
    for (ptrdiff_t i = 0; i < n; i++) {
        int64_t t = target[i];
        if (t == ignore_index) continue;
        if (t < 0 || t >= c) {
            if (err_index) *err_index = i;
            return CYL_ERR_TARGET;
        }
        acc += weight ? (double)weight[t] : 1.0;
    }
    if (wsum) *wsum = acc;
    return CYL_OK;
}

int CYL_FN(cross_entropy_loss_grad)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx,
                                    const int64_t *target, const T *weight, int64_t ignore_index,
                                    double label_smoothing, double grad_scale, T *loss, double *loss_sum,
                                    T *grad, ptrdiff_t ldg, ptrdiff_t *err_index)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    const double eps = label_smoothing;
    const double epc = c > 0 ? eps / (double)c : 0.0;
    double wtot = (double)c; /* sum of class weights */
    if (weight) {
        wtot = 0.0;
        for (ptrdiff_t j = 0; j < c; j++)
            wtot += (double)weight[j];
    }
    double acc = 0.0;
    for (ptrdiff_t i = 0; i < n; i++) {
        const T *xr = x + i * ldx;
        T *gr = grad ? grad + i * ldg : NULL;
        int64_t t = target[i];
        if (t == ignore_index) {
            if (loss) loss[i] = (T)0;
            if (gr) CYL_FN(row_zero)(gr, c);
            continue;
        }
        if (t < 0 || t >= c) {
            if (err_index) *err_index = i;
            return CYL_ERR_TARGET;
        }
        T m = CYL_FN(row_max)(xr, c);
        double sum = CYL_FN(row_expsum)(xr, c, m, (T)1, gr);
        double lsum = log(sum);
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
        if (loss) loss[i] = (T)li;
        acc += li;
        if (gr) {
            T a = (T)(grad_scale * ((1.0 - eps) * wt + epc * wtot) / sum);
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
    }
    if (loss_sum) *loss_sum = acc;
    return CYL_OK;
}

int CYL_FN(cross_entropy_prob_loss_grad)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const T *p,
                                         ptrdiff_t ldp, const T *weight, double label_smoothing,
                                         double grad_scale, T *loss, double *loss_sum, T *grad, ptrdiff_t ldg)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    const T keep = (T)(1.0 - label_smoothing);
    const T add = c > 0 ? (T)(label_smoothing / (double)c) : (T)0;
    double acc = 0.0;
    for (ptrdiff_t i = 0; i < n; i++) {
        const T *xr = x + i * ldx, *pr = p + i * ldp;
        T *gr = grad ? grad + i * ldg : NULL;
        T m = CYL_FN(row_max)(xr, c);
        double sum = CYL_FN(row_expsum)(xr, c, m, (T)1, gr);
        double lsum = log(sum);
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
        double li = a_acc + sp * lsum;
        if (loss) loss[i] = (T)li;
        acc += li;
        if (gr) {
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
    }
    if (loss_sum) *loss_sum = acc;
    return CYL_OK;
}

int CYL_FN(nll_loss_grad)(ptrdiff_t n, ptrdiff_t c, const T *x, ptrdiff_t ldx, const int64_t *target,
                          const T *weight, int64_t ignore_index, double grad_scale, T *loss,
                          double *loss_sum, T *grad, ptrdiff_t ldg, ptrdiff_t *err_index)
{
    if (n < 0 || c < 0) return CYL_ERR_ARG;
    double acc = 0.0;
    for (ptrdiff_t i = 0; i < n; i++) {
        T *gr = grad ? grad + i * ldg : NULL;
        int64_t t = target[i];
        if (gr) CYL_FN(row_zero)(gr, c);
        if (t == ignore_index) {
            if (loss) loss[i] = (T)0;
            continue;
        }
        if (t < 0 || t >= c) {
            if (err_index) *err_index = i;
            return CYL_ERR_TARGET;
        }
        double wt = weight ? (double)weight[t] : 1.0;
        double li = -wt * (double)x[i * ldx + t];
        if (loss) loss[i] = (T)li;
        acc += li;
        if (gr) gr[t] = (T)(-wt * grad_scale);
    }
    if (loss_sum) *loss_sum = acc;
    return CYL_OK;
}

/* ------------------------------------------------------ elementwise losses
 * Each kernel is one always-inline loop with constant flags (HW: weight given,
 * HG: gradient wanted, HL: per-element losses wanted, plus the kernel's own), and
 * CYL_SPEC_* instantiate it for every combination so that no loop tests a flag. */

#define CYL_SPEC_L(F, ...) do { if (loss) F(__VA_ARGS__, 1); else F(__VA_ARGS__, 0); } while (0)
#define CYL_SPEC_G(F, ...) do { if (grad) CYL_SPEC_L(F, __VA_ARGS__, 1); else CYL_SPEC_L(F, __VA_ARGS__, 0); } while (0)
#define CYL_SPEC_W(F, ...) do { if (weight) CYL_SPEC_G(F, __VA_ARGS__, 1); else CYL_SPEC_G(F, __VA_ARGS__, 0); } while (0)

CYL_INLINE double CYL_FN(bce_logits_run)(ptrdiff_t n, const T *x, const T *y, const T *w, const T *pw,
                                         T gs, T *loss, T *grad, const int HP, const int HW, const int HG,
                                         const int HL)
{
    double acc = 0.0;
#pragma omp simd reduction(+:acc)
    for (ptrdiff_t i = 0; i < n; i++) {
        T xi = x[i], yi = y[i];
        T ax = xi < 0 ? -xi : xi;
        T e = EXP(-ax);
        T lg = LOG1PU(e);
        T sp_pos = (xi > 0 ? xi : (T)0) + lg;  /* softplus(x)  = -log(1 - sigmoid(x)) */
        T sp_neg = (xi < 0 ? -xi : (T)0) + lg; /* softplus(-x) = -log(sigmoid(x)) */
        T py = HP ? pw[i] * yi : yi;
        T l = py * sp_neg + ((T)1 - yi) * sp_pos;
        if (HW) l *= w[i];
        if (HL) loss[i] = l;
        acc += (double)l;
        if (HG) {
            T inv = (T)1 / ((T)1 + e);
            T sig = xi >= 0 ? inv : e * inv;
            T g = (py + (T)1 - yi) * sig - py;
            if (HW) g *= w[i];
            grad[i] = g * gs;
        }
    }
    return acc;
}

#define CYL_BCEL_CALL(HP, HW, HG, HL) \
    acc = CYL_FN(bce_logits_run)(n, x, y, weight, pos_weight, gs, loss, grad, HP, HW, HG, HL)

int CYL_FN(bce_logits_loss_grad)(ptrdiff_t n, const T *x, const T *y, const T *weight, const T *pos_weight,
                                 double grad_scale, T *loss, double *loss_sum, T *grad)
{
    if (n < 0) return CYL_ERR_ARG;
    const T gs = (T)grad_scale;
    double acc = 0.0;
    if (pos_weight) CYL_SPEC_W(CYL_BCEL_CALL, 1);
    else CYL_SPEC_W(CYL_BCEL_CALL, 0);
    if (loss_sum) *loss_sum = acc;
    return CYL_OK;
}

CYL_INLINE double CYL_FN(bce_run)(ptrdiff_t n, const T *p, const T *y, const T *w, T gs, T *loss, T *grad,
                                  int *bad, const int HW, const int HG, const int HL)
{
    double acc = 0.0;
    int nbad = 0;
#pragma omp simd reduction(+:acc, nbad)
    for (ptrdiff_t i = 0; i < n; i++) {
        T pi = p[i], yi = y[i];
        nbad += (pi < 0) | (pi > 1);
        T lp = LOG(pi);
        T lq = LOG((T)1 - pi);
        lp = lp < (T)-100 ? (T)-100 : lp; /* torch clamps the logs at -100 */
        lq = lq < (T)-100 ? (T)-100 : lq;
        T l = (yi - (T)1) * lq - yi * lp;
        if (HW) l *= w[i];
        if (HL) loss[i] = l;
        acc += (double)l;
        if (HG) {
            T den = pi * ((T)1 - pi);
            den = den < (T)1e-12f ? (T)1e-12f : den; /* torch: float EPSILON = 1e-12f */
            T g = (pi - yi) / den;
            if (HW) g *= w[i];
            grad[i] = g * gs;
        }
    }
    *bad = nbad;
    return acc;
}

#define CYL_BCE_CALL(HW, HG, HL) \
    acc = CYL_FN(bce_run)(n, p, y, weight, gs, loss, grad, &bad, HW, HG, HL)

int CYL_FN(bce_loss_grad)(ptrdiff_t n, const T *p, const T *y, const T *weight, double grad_scale,
                          T *loss, double *loss_sum, T *grad, ptrdiff_t *err_index)
{
    if (n < 0) return CYL_ERR_ARG;
    const T gs = (T)grad_scale;
    double acc = 0.0;
    int bad = 0;
    if (weight) {
        if (grad) { if (loss) CYL_BCE_CALL(1, 1, 1); else CYL_BCE_CALL(1, 1, 0); }
        else { if (loss) CYL_BCE_CALL(1, 0, 1); else CYL_BCE_CALL(1, 0, 0); }
    } else {
        if (grad) { if (loss) CYL_BCE_CALL(0, 1, 1); else CYL_BCE_CALL(0, 1, 0); }
        else { if (loss) CYL_BCE_CALL(0, 0, 1); else CYL_BCE_CALL(0, 0, 0); }
    }
    if (bad) {
        for (ptrdiff_t i = 0; i < n; i++)
            if (p[i] < 0 || p[i] > 1) {
                if (err_index) *err_index = i;
                break;
            }
        return CYL_ERR_DOMAIN;
    }
    if (loss_sum) *loss_sum = acc;
    return CYL_OK;
}

CYL_INLINE double CYL_FN(kl_run)(ptrdiff_t n, const T *lq, const T *t, T gs, T *loss, T *grad,
                                 const int LT, const int HG, const int HL)
{
    double acc = 0.0;
#pragma omp simd reduction(+:acc)
    for (ptrdiff_t i = 0; i < n; i++) {
        T ti = t[i], qi = lq[i], l, g;
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
        if (HL) loss[i] = l;
        acc += (double)l;
        if (HG) grad[i] = g * gs;
    }
    return acc;
}

#define CYL_KL_CALL(LT, HG, HL) acc = CYL_FN(kl_run)(n, log_q, t, gs, loss, grad, LT, HG, HL)

int CYL_FN(kl_div_loss_grad)(ptrdiff_t n, const T *log_q, const T *t, int log_target, double grad_scale,
                             T *loss, double *loss_sum, T *grad)
{
    if (n < 0) return CYL_ERR_ARG;
    const T gs = (T)grad_scale;
    double acc = 0.0;
    if (log_target) CYL_SPEC_G(CYL_KL_CALL, 1);
    else CYL_SPEC_G(CYL_KL_CALL, 0);
    if (loss_sum) *loss_sum = acc;
    return CYL_OK;
}

/* sign(d) with sign(0) = 0 and sign(NaN) = NaN */
#define CYL_SIGN(d) ((d) > 0 ? (T)1 : (d) < 0 ? (T)-1 : (d))

CYL_INLINE double CYL_FN(regression_run)(ptrdiff_t n, const T *pred, const T *target, const T *w, T param,
                                         T gs, T *loss, T *grad, const int KIND, const int HW, const int HG,
                                         const int HL)
{
    double acc = 0.0;
    const T half = (T)0.5;
    const T inv = KIND == CYL_SMOOTH_L1 ? (T)1 / param : (T)1;
#pragma omp simd reduction(+:acc)
    for (ptrdiff_t i = 0; i < n; i++) {
        T d = pred[i] - target[i];
        T ad = d < 0 ? -d : d;
        T l, g;
        if (KIND == CYL_MSE) {
            l = d * d;
            g = (T)2 * d;
        } else if (KIND == CYL_L1) {
            l = ad;
            g = CYL_SIGN(d);
        } else if (KIND == CYL_HUBER) {
            int in = ad < param;
            l = in ? half * d * d : param * (ad - half * param);
            g = in ? d : param * CYL_SIGN(d);
        } else { /* smooth L1, param = beta > 0 */
            int in = ad < param;
            l = in ? half * d * d * inv : ad - half * param;
            g = in ? d * inv : CYL_SIGN(d);
        }
        if (HW) {
            l *= w[i];
            g *= w[i];
        }
        if (HL) loss[i] = l;
        acc += (double)l;
        if (HG) grad[i] = g * gs;
    }
    return acc;
}

#define CYL_REG_CALL(KIND, HW, HG, HL) \
    acc = CYL_FN(regression_run)(n, pred, target, weight, prm, gs, loss, grad, KIND, HW, HG, HL)

int CYL_FN(regression_loss_grad)(int kind, ptrdiff_t n, const T *pred, const T *target, const T *weight,
                                 double param, double grad_scale, T *loss, double *loss_sum, T *grad)
{
    if (n < 0) return CYL_ERR_ARG;
    if (kind == CYL_SMOOTH_L1 && param == 0) kind = CYL_L1; /* beta = 0 is L1 (torch) */
    if ((kind == CYL_HUBER && !(param > 0)) || (kind == CYL_SMOOTH_L1 && !(param > 0)))
        return CYL_ERR_ARG;
    const T gs = (T)grad_scale, prm = (T)param;
    double acc = 0.0;
    switch (kind) {
    case CYL_MSE: CYL_SPEC_W(CYL_REG_CALL, CYL_MSE); break;
    case CYL_L1: CYL_SPEC_W(CYL_REG_CALL, CYL_L1); break;
    case CYL_HUBER: CYL_SPEC_W(CYL_REG_CALL, CYL_HUBER); break;
    case CYL_SMOOTH_L1: CYL_SPEC_W(CYL_REG_CALL, CYL_SMOOTH_L1); break;
    default: return CYL_ERR_ARG;
    }
    if (loss_sum) *loss_sum = acc;
    return CYL_OK;
}

/* ---------------------------------------------------------------- utilities */

int CYL_FN(sum)(ptrdiff_t n, const T *x, double *out)
{
    if (n < 0) return CYL_ERR_ARG;
    double acc = 0.0;
#pragma omp simd reduction(+:acc)
    for (ptrdiff_t i = 0; i < n; i++)
        acc += (double)x[i];
    *out = acc;
    return CYL_OK;
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

#undef CYL_SIGN
#undef CYL_BCEL_CALL
#undef CYL_BCE_CALL
#undef CYL_KL_CALL
#undef CYL_REG_CALL
#undef CYL_SPEC_L
#undef CYL_SPEC_G
#undef CYL_SPEC_W
#undef CYL_FN
#undef CYL_FN_
#undef CYL_FN__
