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
 * with log P.  A flagged sample is redone in log space (ctc_logspace: torch's recursion,
 * logsumexp per state in double with torch's max / -inf handling, vectorized over the
 * states), so it reproduces torch's NaN / inf patterns.  Without a flag, a column sum < 2^-1000 means no state that can
 * reach the end holds mass, i.e. P = 0 exactly (impossible alignment): loss inf.
 *
 * The per-product flags cannot be replaced by the occupancy check alone: G_t - G_{t+1} only
 * sees paths through a node at t+1 that one pass lost and the other kept, so mass lost by the
 * forward pass at t1 and by the backward pass at t2 > t1 (a main path paying two isolated
 * -800 frames, with a decoy lagging two labels behind that pays -5 per frame in between) is
 * missing from every G_t consistently: loss 2050 would be accepted for a true 1600 (adv.py,
 * test_adversarial_double_loss).  The same holds for a loss-only forward+beta check.
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

/* exp and log in double, vectorizable, no libm (cyl_math.h: ~1 ulp; exp underflows to
 * subnormals and 0, log gives -inf at 0, NaN below 0, and keeps inf and NaN) */
static inline double CYL_FN(ctc_exp)(double x)
{
    return cyl_exp_f64(x);
}

static inline double CYL_FN(ctc_log)(double x)
{
    return cyl_log_f64(x);
}

/* torch's log(exp(a-mx) + exp(b-mx) + exp(c-mx)) + mx (mx = max, 0 when all are -inf),
 * branch-free: the max term is exp(0) = 1 (NaN when mx = +inf, as in torch), so two exps.
 * The compare-and-swap pairs permute their inputs, so a NaN always reaches the sum. */
static inline double CYL_FN(ctc_lse3)(double a, double b, double c)
{
    const double hi = a > b ? a : b, lo = a > b ? b : a;
    const double mm = hi > c ? hi : c, mid = hi > c ? c : hi;
    const double m0 = mm == -INFINITY ? 0.0 : mm;
    const double one = mm == -INFINITY ? 0.0 : (mm - mm) + 1.0;
    return CYL_FN(ctc_log)(one + CYL_FN(ctc_exp)(lo - m0) + CYL_FN(ctc_exp)(mid - m0)) + m0;
}

/* out[s] = lse3(p[s], p[s+o1], sk[s] ? p[s+o2] : -inf) + x[s] for all s (one alpha or beta
 * column; p padded with -inf so that s+o1, s+o2 stay inside). */
static CYL_NOINLINE void CYL_FN(ctc_lse_col)(const double *restrict p, ptrdiff_t o1, ptrdiff_t o2,
                                                          const double *restrict sk, const double *restrict x,
                                                          double *restrict out, ptrdiff_t S)
{
#pragma omp simd
    for (ptrdiff_t s = 0; s < S; s++) {
        const double pc = p[s + o2], c = sk[s] != 0.0 ? pc : -INFINITY;
        out[s] = CYL_FN(ctc_lse3)(p[s], p[s + o1], c) + x[s];
    }
}

/* Gradient row t exactly as torch: log-space accumulation per class (descending s; at
 * t = tb-1 only the two final states), then exp(lp) - exp(res + nll - lp).  lacc: c. */
static void CYL_FN(ctc_grad_row_ref)(const CYL_FN(ctc_ctx) *k, const T *row, const double *ca, const double *cb,
                                     const ptrdiff_t *lab, ptrdiff_t S, int last, double nll, double *lacc, T *grow,
                                     double gr)
{
    const ptrdiff_t c = k->c;
    for (ptrdiff_t j = 0; j < c; j++)
        lacc[j] = -INFINITY;
    const ptrdiff_t s0 = last ? (S > 1 ? S - 2 : S - 1) : 0;
    for (ptrdiff_t s = S - 1; s >= s0; s--) {
        const double lab_ = ca[s] + cb[s];
        double *lc = &lacc[lab[s]];
        if (*lc == -INFINITY) {
            *lc = lab_;
        } else {
            double m2 = *lc < lab_ ? lab_ : *lc;
            *lc = log(exp(*lc - m2) + exp(lab_ - m2)) + m2;
        }
    }
    for (ptrdiff_t j = 0; j < c; j++) {
        const double x = (double)row[j];
        grow[j] = (T)((exp(x) - exp(lacc[j] + nll - x)) * gr);
    }
}

#define CYL_CTC_ZMAX 500.0 /* rows with nll + max_s(la+lb) - lp > this go to the reference */

/* The reference path: torch's log-space recursion (LossCTC.cpp) in double, with its max /
 * -inf handling, so that NaN and inf come out where torch's do, but vectorized over the
 * states (ctc_lse3 per cell: 2 exp + 1 log, no libm).  Gradient row t in linear space with
 * the shift M_t = max_s (la+lb): acc[k] = sum_{s: l'_s=k} exp(la+lb-M_t), grad = exp(lp) -
 * acc[k] exp(M_t + nll - lp) (mass dropped by the shift < S e^-745 relative to the row max).
 * Rows with a NaN / +inf la+lb, a non-finite M_t or nll, or a huge M_t + nll - lp are done
 * by ctc_grad_row_ref.  Writes *nll_out, and the gradient rows t < tb (times gr) when
 * g != NULL.  buf: nrow*(S+2) + 6*(S+2) + 2*c doubles; lab: S+2. */
static CYL_NOINLINE void CYL_FN(ctc_logspace)(const CYL_FN(ctc_ctx) *k, const T *lp, const int64_t *tg,
                                                           ptrdiff_t tb, ptrdiff_t L, double *buf, ptrdiff_t *lab,
                                                           double *nll_out, T *g, double gr)
{
    const ptrdiff_t S = 2 * L + 1, W = S + 2, c = k->c, ld = k->ld_t;
    const int64_t blank = k->blank;
    const double ninf = -INFINITY;
    const ptrdiff_t nrow = g ? tb : 2;
    double *la = buf, *lb = la + nrow * W, *d = lb + 2 * W, *ska = d + W, *skb = ska + W, *ab = skb + W;
    double *acc = ab + W, *lacc = acc + c;
    for (ptrdiff_t s = 0; s < S; s++)
        lab[s] = s % 2 == 0 ? (ptrdiff_t)blank : (ptrdiff_t)tg[s / 2];
    for (ptrdiff_t s = 0; s < W; s++) {
        ska[s] = (s >= 2 && s < S && lab[s] != lab[s - 2]) ? 1.0 : 0.0;
        skb[s] = (s + 2 < S && lab[s + 2] != lab[s]) ? 1.0 : 0.0;
    }
    /* alpha rows: W doubles, 2 -inf pads then S states */
    for (ptrdiff_t s = 0; s < W; s++)
        la[s] = ninf;
    la[2] = (double)lp[blank];
    if (L > 0) la[3] = (double)lp[tg[0]];
    for (ptrdiff_t t = 1; t < tb; t++) {
        const double *pa = la + (g ? t - 1 : (t - 1) & 1) * W + 2;
        double *ca = la + (g ? t : t & 1) * W + 2;
        const T *row = lp + t * ld;
        ca[-2] = ca[-1] = ninf;
        for (ptrdiff_t s = 0; s < S; s++)
            d[s] = (double)row[lab[s]];
        CYL_FN(ctc_lse_col)(pa, -1, -2, ska, d, ca, S);
    }
    double nll;
    const double *fa = la + (g ? tb - 1 : (tb - 1) & 1) * W + 2;
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
    const int nll_ok = nll > -INFINITY && nll < INFINITY;
    for (ptrdiff_t j = 0; j < c; j++)
        acc[j] = 0.0;
    /* beta rows in torch's convention (including the emission at t): S states, 2 -inf pads */
    double *nb = lb, *cb = lb + W; /* beta_{t+1}, beta_t */
    for (ptrdiff_t t = tb - 1; t >= 0; t--) {
        const T *row = lp + t * ld;
        const double *ca = la + t * W + 2;
        cb[S] = cb[S + 1] = ninf;
        if (t == tb - 1) {
            for (ptrdiff_t s = 0; s < S; s++)
                cb[s] = ninf;
            cb[S - 1] = (double)row[blank];
            if (L > 0) cb[S - 2] = (double)row[tg[L - 1]];
        } else {
            for (ptrdiff_t s = 0; s < S; s++)
                d[s] = (double)row[lab[s]];
            CYL_FN(ctc_lse_col)(nb, 1, 2, skb, d, cb, S);
        }
        T *grow = g + t * k->ldg_t;
        double M = ninf;
        int bad = !nll_ok;
#if !defined(__clang__) /* clang cannot vectorize a NaN-respecting max (-Wpass-failed) */
#pragma omp simd reduction(max:M) reduction(|:bad)
#endif
        for (ptrdiff_t s = 0; s < S; s++) {
            const double v = ca[s] + cb[s];
            ab[s] = v;
            M = v > M ? v : M;
            bad |= !(v < INFINITY) & (v != ninf); /* NaN or +inf */
        }
        bad |= !(M > ninf && M < INFINITY);
        if (!bad) {
#pragma omp simd
            for (ptrdiff_t s = 0; s < S; s++)
                ab[s] = CYL_FN(ctc_exp)(ab[s] - M);
            double ob = 0.0;
            for (ptrdiff_t s = 0; s < S; s += 2)
                ob += ab[s];
            for (ptrdiff_t s = 1; s < S; s += 2)
                acc[lab[s]] += ab[s];
            acc[blank] += ob;
            /* grad = exp(x) - acc exp(e - x), e = M + nll; exp(e - x) as exp(e) / exp(x) when both
             * are normal (e, x >= -700), else by its own exp; z = e - x > ZMAX: reference row */
            const double e = M + nll, ee = exp(e);
            int big = 0, ninfx = 0, tiny = !(e >= -700.0);
            if (!tiny) {
#pragma omp simd reduction(|:big) reduction(|:ninfx) reduction(|:tiny)
                for (ptrdiff_t j = 0; j < c; j++) {
                    const double x = (double)row[j];
                    const double ex = CYL_FN(ctc_exp)(x);
                    grow[j] = (T)((ex - acc[j] * (ee / ex)) * gr);
                    big |= (e - x > CYL_CTC_ZMAX) & (x > ninf);
                    ninfx |= x == ninf;
                    tiny |= (x < -700.0) & (x > ninf);
                }
            }
            if (tiny) {
                big = ninfx = 0;
#pragma omp simd reduction(|:big) reduction(|:ninfx)
                for (ptrdiff_t j = 0; j < c; j++) {
                    const double x = (double)row[j];
                    const double z = e - x;
                    grow[j] = (T)((CYL_FN(ctc_exp)(x) - acc[j] * CYL_FN(ctc_exp)(z)) * gr);
                    big |= (z > CYL_CTC_ZMAX) & (x > ninf);
                    ninfx |= x == ninf;
                }
            }
            for (ptrdiff_t s = 0; s < S; s++)
                acc[lab[s]] = 0.0;
            bad = big;
            if (!big && ninfx) /* torch: exp(-inf) - exp(res + nll + inf) = NaN */
                for (ptrdiff_t j = 0; j < c; j++)
                    if (row[j] == -INFINITY) grow[j] = (T)NAN;
        }
        if (bad)
            CYL_FN(ctc_grad_row_ref)(k, row, ca, cb, lab, S, t == tb - 1, nll, lacc, grow, gr);
        double *sw = nb;
        nb = cb;
        cb = sw;
    }
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
#ifdef CYL_CTC_FORCE_LOGSPACE
        flag = 1; /* testing: every sample through the log-space path */
#endif
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
                    const double drift = fabs(log(G) + ls[t] + lsb - logp);
                    if (!(G >= CYL_CTC_GMIN) || drift > CYL_CTC_LOGTOL * (1.0 + fabs(logp))) {
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
            const ptrdiff_t W = S + 2;
            const size_t nl = (size_t)((g ? tb : 2) * W + 6 * W + 2 * c);
            double *lb = (double *)malloc(nl * sizeof(double) + (size_t)W * sizeof(ptrdiff_t));
            if (!lb) {
                k->err = CYL_ERR_NOMEM;
                return;
            }
            CYL_FN(ctc_logspace)(k, lp, tg, tb, L, lb, (ptrdiff_t *)(lb + nl), &nll, g, gr);
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
