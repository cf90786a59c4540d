/*
 * ctc.h -- connectionist temporal classification loss (torch.nn.functional.ctc_loss,
 * reduction 'none') and its gradient with respect to the log-probabilities.
 * Part of the kernel source: included, in order, by cyl_kernels_body.h (once per scalar
 * type and CPU target; see there), never on its own.
 *
 * Sample b: lp_t(k) = log_probs[t, b, k] for t < T_b = input_lengths[b], labels l_1..l_L,
 * extended label sequence l' of S = 2L + 1 states (blank, l_1, blank, ..., l_L, blank),
 * y_t(s) = exp(lp_t(l'_s)).  Forward variables (Graves et al. 2006, eq. 6-8):
 *   alpha_0(0) = y_0(0), alpha_0(1) = y_0(1), alpha_0(s) = 0 otherwise,
 *   alpha_t(s) = (alpha_{t-1}(s) + alpha_{t-1}(s-1) + sk(s) alpha_{t-1}(s-2)) y_t(s),
 * sk(s) = [s >= 2 and l'_s != l'_{s-2}] (the skip over a blank between two different
 * labels); P = alpha_{T-1}(S-1) + alpha_{T-1}(S-2) (only the first for L = 0), loss =
 * -log P.  Backward variables without the emission at t (so P = sum_s alpha_t beta_t, t
 * any):  beta_{T-1}(s) = [s >= S-2], beta_t(s) = sum over s' in {s, s+1, s+2 (sk(s+2))}
 * of beta_{t+1}(s') y_{t+1}(s').  Gradient (torch's autograd formula, which assumes the
 * log-probs came from log_softmax):
 *   d loss / d lp_t(k) = exp(lp_t(k)) - sum_{s: l'_s = k} alpha_t(s) beta_t(s) / P,
 * for t < T_b (0 for t >= T_b), times grad_scale[b].
 *
 * Fast path: the recursions run in probability space in double (Rabiner's scaling):
 * y_t(s) = exp(lp_t(l'_s) - m_t), m_t = max_s lp_t(l'_s), and every alpha and beta column
 * is divided by its sum (the logs of the sums and of the m_t give log P).  The occupancy
 * alpha_t beta_t / P = ab_t(s) / sum_s ab_t(s) of the scaled columns needs no scale.
 * It is exact up to rounding unless a product underflows: every product (alpha or beta
 * times y) that is positive in exact arithmetic but < 2^-1000 in double, at a state that
 * can matter (s can still reach the final states, for alpha; s can be reached from the
 * start, for beta), sets a flag, as do a NaN or +inf log-prob on the lattice, a scaled
 * occupancy sum below 2^-900 and a disagreement of log(sum_s alpha_t beta_t) + scales
 * with log P.  A flagged sample is redone by the reference: torch's own log-space
 * recursion (logsumexp per state, in double), so it reproduces torch's NaN / inf
 * patterns exactly.  Without a flag, a column sum < 2^-1000 means no state that can
 * reach the end holds mass, i.e. P = 0 exactly (impossible alignment): loss inf.
 *
 * Edge cases (as torch 2.13 on CPU): T_b = 0 gives loss -0.0 (L = 0) or inf and a zero
 * gradient; loss inf (impossible alignment) gives a NaN gradient for t < T_b unless
 * zero_infinity, which makes the loss 0 and the gradient 0; lp = -inf at t < T_b gives
 * a NaN gradient there (torch's exp(-inf + nll + inf)); a NaN log-prob off the lattice
 * gives NaN only at its own gradient entry, on the lattice it spreads as in torch.
 */

#ifndef CYL_CTC_ONCE
#define CYL_CTC_ONCE
#define CYL_CTC_TINY 0x1p-1000 /* smallest product trusted not to have lost precision */
#define CYL_CTC_GMIN 0x1p-900  /* smallest trusted occupancy sum of the scaled columns */
#define CYL_CTC_LOGTOL 1e-9    /* allowed |log P_t - log P| between time steps */
#endif

typedef struct {
    const T *lp;
    const int64_t *targets, *tstart, *ilen, *tlen;
    const double *gscale;
    double *loss;
    T *grad;
    ptrdiff_t t_max, c, ld_t, ld_n, ldg_t, ldg_n;
    int64_t blank;
    int zero_inf;
    int err; /* set (racy but only ever to CYL_ERR_NOMEM) when a block cannot allocate */
} CYL_FN(ctc_ctx);

/* exp(x) for double x, vectorizable (no libm call): x = k ln2 + r, |r| <= ln2/2, e^r by
 * its Taylor polynomial of degree 13 (truncation < 5e-18), 2^k as two halves built in the
 * exponent bits (so subnormal results and overflow to inf come out right).  Error ~1 ulp;
 * -inf gives 0, NaN gives NaN. */
static inline double CYL_FN(ctc_exp)(double x)
{
    double xc = x < -750.0 ? -750.0 : x; /* NaN stays NaN */
    xc = xc > 710.0 ? 710.0 : xc;
    const double shift = 0x1.8p52;
    const double kd = xc * 1.4426950408889634 + shift - shift;          /* round(x / ln2) */
    const double k1 = (kd * 0.5 + shift) - shift;                       /* round(k / 2) */
    const double k2 = kd - k1;
    const double r = (xc - kd * 6.93147180369123816490e-01) - kd * 1.90821492927058770002e-10;
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
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
    p = p * r + 1.0;
    p = p * r + 1.0;
    double a = k1 + shift, b = k2 + shift, s1, s2;
    uint64_t ua, ub;
    memcpy(&ua, &a, 8);
    memcpy(&ub, &b, 8);
    ua = (ua + 1023u) << 52; /* the low mantissa bits of a hold k1 (two's complement) */
    ub = (ub + 1023u) << 52;
    memcpy(&s1, &ua, 8);
    memcpy(&s2, &ub, 8);
    return (p * s1) * s2;
}

/* The reference: torch's log-space recursion (LossCTC.cpp) in double, state by state,
 * with its max / -inf handling, so that NaN and inf come out where torch's do.  Writes
 * *nll_out, and the gradient rows t < tb (times gr) when g != NULL.  la: tb*S doubles,
 * lb: 2*S, acc: c. */
static void CYL_FN(ctc_logspace)(const CYL_FN(ctc_ctx) *k, const T *lp, const int64_t *tg, ptrdiff_t tb,
                                 ptrdiff_t L, double *la, double *lb, double *acc, double *nll_out, T *g, double gr)
{
    const ptrdiff_t S = 2 * L + 1, c = k->c, ld = k->ld_t;
    const int64_t blank = k->blank;
    const double ninf = -INFINITY;
#define CYL_CTC_LAB(s) ((s) % 2 == 0 ? blank : tg[(s) / 2])
    for (ptrdiff_t s = 0; s < S; s++)
        la[s] = ninf;
    la[0] = (double)lp[blank];
    if (L > 0) la[1] = (double)lp[tg[0]];
    for (ptrdiff_t t = 1; t < tb; t++) {
        const double *pa = la + (t - 1) * S;
        double *ca = la + t * S;
        const T *row = lp + t * ld;
        for (ptrdiff_t s = 0; s < S; s++) {
            const int64_t cur = CYL_CTC_LAB(s);
            double l1 = pa[s], mx = l1, l2 = ninf, l3 = ninf;
            if (s > 0) {
                l2 = pa[s - 1];
                if (l2 > mx) mx = l2;
            }
            if (s > 1 && CYL_CTC_LAB(s - 2) != cur) {
                l3 = pa[s - 2];
                if (l3 > mx) mx = l3;
            }
            if (mx == ninf) mx = 0;
            ca[s] = log(exp(l1 - mx) + exp(l2 - mx) + exp(l3 - mx)) + mx + (double)row[cur];
        }
    }
    double nll;
    const double *fa = la + (tb - 1) * S;
    if (L == 0) {
        nll = -fa[0];
    } else {
        double l1 = fa[S - 1], l2 = fa[S - 2];
        double mx = l1 < l2 ? l2 : l1; /* std::max */
        if (mx == ninf) mx = 0;
        nll = -(log(exp(l1 - mx) + exp(l2 - mx)) + mx);
    }
    *nll_out = nll;
    if (!g) return;
    if (k->zero_inf && nll == INFINITY) {
        for (ptrdiff_t t = 0; t < tb; t++)
            for (ptrdiff_t j = 0; j < c; j++)
                g[t * k->ldg_t + j] = 0;
        return;
    }
    /* beta in torch's convention (including the emission at t), two rows */
    double *nb = lb, *cb = lb + S; /* beta_{t+1}, beta_t */
    for (ptrdiff_t t = tb - 1; t >= 0; t--) {
        const T *row = lp + t * ld;
        const double *ca = la + t * S;
        for (ptrdiff_t j = 0; j < c; j++)
            acc[j] = ninf;
        if (t == tb - 1) {
            for (ptrdiff_t s = 0; s < S; s++)
                cb[s] = ninf;
            cb[S - 1] = (double)row[blank];
            acc[blank] = ca[S - 1] + cb[S - 1];
            if (L > 0) {
                const int64_t cur = tg[L - 1];
                cb[S - 2] = (double)row[cur];
                acc[cur] = ca[S - 2] + cb[S - 2];
            }
        } else {
            for (ptrdiff_t s = S - 1; s >= 0; s--) {
                const int64_t cur = CYL_CTC_LAB(s);
                double l1 = nb[s], mx = l1, l2 = ninf, l3 = ninf;
                if (s < S - 1) {
                    l2 = nb[s + 1];
                    if (l2 > mx) mx = l2;
                }
                if (s < S - 2 && CYL_CTC_LAB(s + 2) != cur) {
                    l3 = nb[s + 2];
                    if (l3 > mx) mx = l3;
                }
                if (mx == ninf) mx = 0;
                cb[s] = log(exp(l1 - mx) + exp(l2 - mx) + exp(l3 - mx)) + mx + (double)row[cur];
                const double lab = ca[s] + cb[s];
                double *lc = &acc[cur];
                if (*lc == ninf) {
                    *lc = lab;
                } else {
                    double m2 = *lc < lab ? lab : *lc;
                    *lc = log(exp(*lc - m2) + exp(lab - m2)) + m2;
                }
            }
        }
        T *grow = g + t * k->ldg_t;
        for (ptrdiff_t j = 0; j < c; j++) {
            const double x = (double)row[j];
            grow[j] = (T)((exp(x) - exp(acc[j] + nll - x)) * gr);
        }
        double *sw = nb;
        nb = cb;
        cb = sw;
    }
#undef CYL_CTC_LAB
}

/* One sample: loss and (when k->grad) its gradient rows. */
static void CYL_FN(ctc_block)(void *vctx, ptrdiff_t b, void *scratch)
{
    CYL_FN(ctc_ctx) *k = (CYL_FN(ctc_ctx) *)vctx;
    (void)scratch;
    const ptrdiff_t tb = (ptrdiff_t)k->ilen[b], L = (ptrdiff_t)k->tlen[b], S = 2 * L + 1, c = k->c;
    const T *lp = k->lp + b * k->ld_n;
    const int64_t *tg = k->targets + k->tstart[b];
    const int64_t blank = k->blank;
    T *g = k->grad ? k->grad + b * k->ldg_n : NULL;
    const double gr = g ? k->gscale[b] : 0.0;
    double nll = 0.0;

    if (g) /* rows t >= T_b are 0 */
        for (ptrdiff_t t = tb; t < k->t_max; t++)
            memset(g + t * k->ldg_t, 0, (size_t)c * sizeof(T));
    if (tb == 0) {
        nll = L == 0 ? -0.0 : INFINITY;
        goto done;
    }

    {
        const ptrdiff_t W = S + 2; /* row stride: 2 zero pads before (alpha) / after (beta) */
        const ptrdiff_t nrow = g ? tb : 2;
        /* alpha rows (nrow), y rows (nrow), d row, beta 2 rows, bb row, sk, lab, fm, acc */
        const size_t nd = (size_t)(2 * nrow * W + 4 * W + 3 * W + (g ? c + 2 * tb : 0));
        double *buf = (double *)malloc(nd * sizeof(double) + (size_t)W * sizeof(ptrdiff_t));
        if (!buf) {
            k->err = CYL_ERR_NOMEM;
            return;
        }
        double *alpha = buf, *yv = alpha + nrow * W, *d = yv + nrow * W, *beta = d + W, *bb = beta + 2 * W;
        double *sk = bb + W, *fm = sk + W, *acc = fm + W;
        double *ls = acc + (g ? c : 0), *mt = ls + (g ? tb : 0); /* per step: log scale of alpha so far, m_t */
        ptrdiff_t *lab = (ptrdiff_t *)(mt + (g ? tb : 0));
        if (g) memset(acc, 0, (size_t)c * sizeof(double));
        int flag = 0;
        double lsa = 0.0; /* sum of log column scales of alpha (incl. the m_t) */

        for (ptrdiff_t s = 0; s < S; s++)
            lab[s] = s % 2 == 0 ? (ptrdiff_t)blank : (ptrdiff_t)tg[s / 2];
        for (ptrdiff_t s = 0; s < W; s++)
            sk[s] = (s >= 2 && s < S && lab[s] != lab[s - 2]) ? 1.0 : 0.0;

        /* ---- forward ---- */
        for (ptrdiff_t t = 0; t < tb; t++) {
            const T *row = lp + t * k->ld_t;
            double *ya = yv + (g ? t : t & 1) * W + 2;
            double *ca = alpha + (g ? t : t & 1) * W + 2;
            const double *pa = alpha + (g ? t - 1 : (t - 1) & 1) * W + 2;
            double mx = -INFINITY;
            int bad = 0;
            for (ptrdiff_t s = 0; s < S; s++) {
                const double x = (double)row[lab[s]];
                d[s] = x;
                bad |= (x != x) | (x == INFINITY);
                mx = x > mx ? x : mx;
            }
            if (bad) {
                flag = 1;
                break;
            }
            if (mx == -INFINITY) mx = 0.0;
            lsa += mx;
            if (g) mt[t] = mx;
            /* states that can still reach the final ones: s >= S-2 - 2 (T_b-1-t) */
            const ptrdiff_t lo = S - 2 - 2 * (tb - 1 - t);
            for (ptrdiff_t s = 0; s < S; s++)
                ya[s] = CYL_FN(ctc_exp)(d[s] - mx);
            for (ptrdiff_t s = 0; s < S; s++)
                fm[s] = (double)((s >= lo) & (d[s] > -INFINITY));
            ca[-2] = ca[-1] = 0.0;
            double sum = 0.0;
            int fl = 0;
            if (t == 0) {
                for (ptrdiff_t s = 0; s < S; s++)
                    ca[s] = s < 2 ? ya[s] : 0.0;
                for (ptrdiff_t s = 0; s < S && s < 2; s++) {
                    sum += ca[s];
                    fl |= (fm[s] != 0.0) & (ca[s] < CYL_CTC_TINY);
                }
            } else {
#pragma omp simd reduction(+:sum) reduction(|:fl)
                for (ptrdiff_t s = 0; s < S; s++) {
                    const double pre = pa[s] + pa[s - 1] + sk[s] * pa[s - 2];
                    const double v = pre * ya[s];
                    ca[s] = v;
                    sum += v;
                    fl |= (pre > 0.0) & (fm[s] != 0.0) & (v < CYL_CTC_TINY);
                }
            }
            flag |= fl;
            if (flag) break;
            if (sum < CYL_CTC_TINY) { /* no state that can reach the end holds mass: P = 0 */
                nll = INFINITY;
                free(buf);
                goto done;
            }
            const double inv = 1.0 / sum;
            for (ptrdiff_t s = 0; s < S; s++)
                ca[s] *= inv;
            lsa += log(sum);
            if (g) ls[t] = lsa;
        }
        if (!flag) {
            const double *fa = alpha + (g ? tb - 1 : (tb - 1) & 1) * W + 2;
            const double pe = L == 0 ? fa[0] : fa[S - 1] + fa[S - 2];
            if (!(pe >= CYL_CTC_TINY)) {
                nll = INFINITY;
                free(buf);
                goto done;
            }
            const double logp = log(pe) + lsa;
            nll = -logp;
            if (g && !(k->zero_inf && nll == INFINITY)) {
                /* ---- backward sweep with the gradient rows ---- */
                double lsb = 0.0; /* sum of log column scales of beta (incl. the m_{t+1}) */
                double *cb = beta, *nb = beta + W;
                for (ptrdiff_t s = 0; s < W; s++) {
                    cb[s] = (s < S && s >= S - 2) ? 1.0 : 0.0;
                    bb[s] = 0.0;
                    nb[s] = 0.0;
                }
                for (ptrdiff_t t = tb - 1; t >= 0 && !flag; t--) {
                    const T *row = lp + t * k->ld_t;
                    const double *ca = alpha + t * W + 2;
                    if (t < tb - 1) {
                        const double *ya = yv + (t + 1) * W + 2;
                        const ptrdiff_t hi = 2 * (t + 1) + 1; /* states reachable at t+1 */
                        int fl = 0;
#pragma omp simd reduction(|:fl)
                        for (ptrdiff_t s = 0; s < S; s++) {
                            const double v = nb[s] * ya[s];
                            bb[s] = v;
                            fl |= (nb[s] > 0.0) & (ya[s] > 0.0) & (v < CYL_CTC_TINY) & (s <= hi);
                        }
                        double sum = 0.0;
#pragma omp simd reduction(+:sum)
                        for (ptrdiff_t s = 0; s < S; s++) {
                            const double v = bb[s] + bb[s + 1] + sk[s + 2] * bb[s + 2];
                            cb[s] = v;
                            sum += v;
                        }
                        if (fl || !(sum >= CYL_CTC_TINY)) {
                            flag = 1;
                            break;
                        }
                        const double inv = 1.0 / sum;
                        for (ptrdiff_t s = 0; s < S; s++)
                            cb[s] *= inv;
                        lsb += log(sum) + mt[t + 1];
                    }
                    /* occupancy of the states at t, and the consistency check against P */
                    double G = 0.0;
#pragma omp simd reduction(+:G)
                    for (ptrdiff_t s = 0; s < S; s++)
                        G += ca[s] * cb[s];
                    if (!(G >= CYL_CTC_GMIN) || fabs(log(G) + ls[t] + lsb - logp) > CYL_CTC_LOGTOL * (1.0 + fabs(logp))) {
                        flag = 1;
                        break;
                    }
                    const double ig = 1.0 / G;
                    double ob = 0.0;
                    for (ptrdiff_t s = 0; s < S; s += 2)
                        ob += ca[s] * cb[s];
                    for (ptrdiff_t s = 1; s < S; s += 2)
                        acc[lab[s]] += ca[s] * cb[s] * ig;
                    acc[blank] += ob * ig;
                    T *grow = g + t * k->ldg_t;
                    int ninf = 0;
#pragma omp simd reduction(|:ninf)
                    for (ptrdiff_t j = 0; j < c; j++) {
                        const double x = (double)row[j];
                        grow[j] = (T)((CYL_FN(ctc_exp)(x) - acc[j]) * gr);
                        ninf |= x == -INFINITY;
                    }
                    if (ninf) /* torch: exp(-inf) - exp(res + nll + inf) = NaN */
                        for (ptrdiff_t j = 0; j < c; j++)
                            if (row[j] == -INFINITY) grow[j] = (T)NAN;
                    for (ptrdiff_t s = 0; s < S; s += 1)
                        acc[lab[s]] = 0.0;
                    double *sw = nb; /* beta_t becomes beta_{t+1} of the next step */
                    nb = cb;
                    cb = sw;
                }
            } else if (g) {
                for (ptrdiff_t t = 0; t < tb; t++)
                    memset(g + t * k->ldg_t, 0, (size_t)c * sizeof(T));
            }
        }
        free(buf);
        if (flag) { /* the reference, torch's log-space recursion */
#ifdef CYL_CTC_ON_FALLBACK
            CYL_CTC_ON_FALLBACK(b);
#endif
            const size_t nl = (size_t)(tb * S + 2 * S + (g ? c : 0));
            double *lb = (double *)malloc(nl * sizeof(double));
            if (!lb) {
                k->err = CYL_ERR_NOMEM;
                return;
            }
            CYL_FN(ctc_logspace)(k, lp, tg, tb, L, lb, lb + tb * S, lb + tb * S + 2 * S, &nll, g, gr);
            free(lb);
            if (k->loss) k->loss[b] = (k->zero_inf && nll == INFINITY) ? 0.0 : nll;
            return;
        }
    }
    if (k->loss) k->loss[b] = (k->zero_inf && nll == INFINITY) ? 0.0 : nll;
    return;

done:
    if (g && tb > 0) { /* nll = +inf here: NaN rows (torch's exp(-inf + inf)), or 0 */
        const double v = k->zero_inf ? 0.0 : NAN;
        for (ptrdiff_t t = 0; t < tb; t++)
            for (ptrdiff_t j = 0; j < c; j++)
                g[t * k->ldg_t + j] = (T)(v * gr);
    }
    if (k->loss) k->loss[b] = (k->zero_inf && nll == INFINITY) ? 0.0 : nll;
}

int CYL_FN(ctc_loss_grad)(ptrdiff_t t_max, ptrdiff_t n, ptrdiff_t c, const T *log_probs, ptrdiff_t ld_t,
                          ptrdiff_t ld_n, const int64_t *targets, const int64_t *target_start,
                          const int64_t *input_lengths, const int64_t *target_lengths, int64_t blank,
                          int zero_infinity, const double *grad_scale, double *loss, T *grad, ptrdiff_t ldg_t,
                          ptrdiff_t ldg_n)
{
    if (t_max < 0 || n < 0 || c < 0 || (!grad != !grad_scale)) return CYL_ERR_ARG;
    if (n == 0) return CYL_OK;
    int64_t lmax = 0;
    for (ptrdiff_t b = 0; b < n; b++)
        lmax = target_lengths[b] > lmax ? target_lengths[b] : lmax;
    CYL_FN(ctc_ctx) k = {log_probs, targets, target_start, input_lengths, target_lengths, grad_scale, loss, grad,
                         t_max, c, ld_t, ld_n, ldg_t, ldg_n, blank, zero_infinity, CYL_OK};
    const double work = (double)t_max * (double)n * ((double)c + 2.0 * (double)lmax + 1.0);
    int st = cyl_parallel_for(n, work, CYL_FN(ctc_block), &k);
    return st != CYL_OK ? st : k.err;
}
