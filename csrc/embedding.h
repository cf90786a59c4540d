/*
 * embedding.h -- losses on pairs of embedding rows: cosine_embedding_loss.
 * Part of the kernel source: included, in order, by cyl_kernels_body.h (once per scalar
 * type and CPU target; see there), never on its own.
 *
 * cosine: rows a, b of d elements, P = <a, b>, A = |a|^2 + eps, B = |b|^2 + eps (torch adds its
 * EPSILON = 1e-12 there), cos = P / sqrt(A B); l = 1 - cos where y = 1, max(0, cos - margin)
 * where y = -1, 0 for any other y (torch's where()).  With s = dl/dcos (-1; [cos - margin >= 0],
 * torch's clamp_min passing the gradient at equality; 0):
 *   dl/da = s (b / sqrt(A B) - cos a / A),  dl/db = s (a / sqrt(A B) - cos b / B).
 * The three sums accumulate in double.
 */

typedef struct {
    const T *a, *b, *y;
    T *loss, *ga, *gb;
    double *part;
    double margin, eps, grad_scale;
    ptrdiff_t n, d, lda, ldb, ldga, ldgb, rb;
} CYL_FN(cosemb_ctx);

static void CYL_FN(cosemb_block)(void *vctx, ptrdiff_t blk, void *scratch)
{
    const CYL_FN(cosemb_ctx) *k = (const CYL_FN(cosemb_ctx) *)vctx;
    ptrdiff_t i0, i1;
    (void)scratch;
    CYL_FN(block_rows)(blk, k->rb, k->n, &i0, &i1);
    const ptrdiff_t d = k->d;
    double acc = 0.0;
    for (ptrdiff_t i = i0; i < i1; i++) {
        const T *ar = k->a + i * k->lda, *br = k->b + i * k->ldb;
        double p = 0.0, sa = 0.0, sb = 0.0;
#pragma omp simd reduction(+:p, sa, sb)
        for (ptrdiff_t j = 0; j < d; j++) {
            double x = (double)ar[j], z = (double)br[j];
            p += x * z;
            sa += x * x;
            sb += z * z;
        }
        const double A = sa + k->eps, B = sb + k->eps;
        const double den = sqrt(A * B);
        const double cs = p / den;
        const double yi = (double)k->y[i];
        double li, s;
        if (yi == 1.0) {
            li = 1.0 - cs;
            s = -1.0;
        } else if (yi == -1.0) {
            double z = cs - k->margin;
            li = z < 0 ? 0.0 : z;                     /* NaN stays NaN */
            s = z >= 0 ? 1.0 : z < 0 ? 0.0 : z;
        } else {
            li = 0.0;
            s = 0.0;
        }
        if (k->loss) k->loss[i] = (T)li;
        acc += li;
        if (k->ga) {
            T *gar = k->ga + i * k->ldga, *gbr = k->gb + i * k->ldgb;
            const double sg = s * k->grad_scale;
            const T c1 = (T)(sg / den), ca = (T)(sg * cs / A), cb = (T)(sg * cs / B);
#pragma omp simd
            for (ptrdiff_t j = 0; j < d; j++) {
                const T x = ar[j], z = br[j];
                gar[j] = c1 * z - ca * x;
                gbr[j] = c1 * x - cb * z;
            }
        }
    }
    k->part[blk] = acc;
}

int CYL_FN(cosine_embedding_loss_grad)(ptrdiff_t n, ptrdiff_t d, const T *a, ptrdiff_t lda, const T *b,
                                       ptrdiff_t ldb, const T *y, double margin, double eps, double grad_scale, T *loss,
                                       double *loss_sum, T *grad_a, ptrdiff_t ldga, T *grad_b, ptrdiff_t ldgb)
{
    if (n < 0 || d < 0 || (!grad_a != !grad_b)) return CYL_ERR_ARG;
    CYL_FN(cosemb_ctx) k = {a, b, y, loss, grad_a, grad_b, NULL, margin, eps, grad_scale, n, d, lda, ldb, ldga, ldgb,
                            CYL_FN(rows_per_block)(d)};
    const ptrdiff_t nb = (n + k.rb - 1) / k.rb;
    double one;
    if (!(k.part = CYL_FN(parts)(nb, &one))) return CYL_ERR_NOMEM;
    int st = cyl_parallel_for(nb, (double)n * (double)d * 2, CYL_FN(cosemb_block), &k);
    double total = cyl_sum_parts(k.part, nb, &one);
    if (loss_sum && st == CYL_OK) *loss_sum = total;
    return st;
}

/* ------------------------------------------------ triplet_margin_loss (rows of three)
 * torch's triplet_margin_loss with pairwise_distance: for rows a, p, n of d elements,
 *   d(x, y) = ||x - y + eps||_q  (eps added to every difference, q the norm's order),
 *   dp = d(a, p),  dn = d(a, n),  with swap dn = min(dn, d(p, n)),
 *   l = max(0, margin + dp - dn);
 * the gradient of max(0, z) is [z > 0] (torch's clamp_min: none at z = 0; NaN z gives NaN).
 * For v = x - y + eps and D = ||v||_q: dD/dv_j = sign(v_j) (|v_j| / D)^(q-1), 0 where v_j = 0
 * or D = 0 (torch's norm backward); q = inf: sign(v_j) / k on the k entries with |v_j| = D.
 * A tie of the swap's min splits its gradient in halves (torch's min).  Sums in double. */
#define CYL_TRI_L1 1
#define CYL_TRI_L2 2
#define CYL_TRI_INF 3
#define CYL_TRI_GEN 4

typedef struct {
    const T *a, *p, *n;
    T *loss, *ga, *gp, *gn;
    double *part;
    double margin, q, eps, grad_scale;
    ptrdiff_t rows, d, lda, ldp, ldn, ldga, ldgp, ldgn, rb;
    int kind, swap;
} CYL_FN(tri_ctx);

/* ||x - y + eps||_q of one row pair; *ties = entries at the maximum (q = inf) */
static double CYL_FN(tri_dist)(const T *x, const T *y, ptrdiff_t d, double eps, int kind, double q, double *ties)
{
    double s = 0.0;
    if (kind == CYL_TRI_L2) {
#pragma omp simd reduction(+:s)
        for (ptrdiff_t j = 0; j < d; j++) {
            double v = (double)x[j] - (double)y[j] + eps;
            s += v * v;
        }
        return sqrt(s);
    }
    if (kind == CYL_TRI_L1) {
#pragma omp simd reduction(+:s)
        for (ptrdiff_t j = 0; j < d; j++)
            s += fabs((double)x[j] - (double)y[j] + eps);
        return s;
    }
    if (kind == CYL_TRI_INF) {
        double m = 0.0, k = 0.0;
        for (ptrdiff_t j = 0; j < d; j++) {
            double v = fabs((double)x[j] - (double)y[j] + eps);
            if (v != v) return v;
            if (v > m) {
                m = v;
                k = 1.0;
            } else if (v == m) {
                k += 1.0;
            }
        }
        *ties = k;
        return m;
    }
    for (ptrdiff_t j = 0; j < d; j++)
        s += pow(fabs((double)x[j] - (double)y[j] + eps), q);
    return pow(s, 1.0 / q);
}

/* dD/dv for v = x - y + eps, D its norm (ties: entries at the maximum for q = inf) */
static inline double CYL_FN(tri_du)(double v, double dist, int kind, double q, double ties)
{
    if (v != v) return v;
    if (v == 0.0 || !(dist > 0.0)) return dist != dist ? dist : 0.0;
    double sg = v > 0 ? 1.0 : -1.0;
    if (kind == CYL_TRI_L1) return sg;
    if (kind == CYL_TRI_L2) return v / dist;
    if (kind == CYL_TRI_INF) return fabs(v) == dist ? sg / ties : 0.0;
    return sg * pow(fabs(v) / dist, q - 1.0);
}

static void CYL_FN(tri_block)(void *vctx, ptrdiff_t blk, void *scratch)
{
    const CYL_FN(tri_ctx) *k = (const CYL_FN(tri_ctx) *)vctx;
    ptrdiff_t i0, i1;
    (void)scratch;
    CYL_FN(block_rows)(blk, k->rb, k->rows, &i0, &i1);
    const ptrdiff_t d = k->d;
    const int kind = k->kind;
    const double q = k->q, eps = k->eps;
    double acc = 0.0;
    for (ptrdiff_t i = i0; i < i1; i++) {
        const T *ar = k->a + i * k->lda, *pr = k->p + i * k->ldp, *nr = k->n + i * k->ldn;
        double tp = 1.0, tn = 1.0, ts = 1.0;
        const double dp = CYL_FN(tri_dist)(ar, pr, d, eps, kind, q, &tp);
        double dn = CYL_FN(tri_dist)(ar, nr, d, eps, kind, q, &tn);
        double ds = 0.0, wn = 1.0, ws = 0.0;
        if (k->swap) {
            ds = CYL_FN(tri_dist)(pr, nr, d, eps, kind, q, &ts);
            if (ds < dn) {
                wn = 0.0;
                ws = 1.0;
            } else if (ds == dn) {
                wn = ws = 0.5;
            } else if (ds != ds) {
                dn = ds;
            }
        }
        const double dneg = ws == 1.0 ? ds : dn;
        const double z = k->margin + dp - dneg;
        const double li = z > 0 ? z : z != z ? z : 0.0;
        if (k->loss) k->loss[i] = (T)li;
        acc += li;
        if (!k->ga) continue;
        T *gar = k->ga + i * k->ldga, *gpr = k->gp + i * k->ldgp, *gnr = k->gn + i * k->ldgn;
        const double s = z > 0 ? k->grad_scale : z != z ? z : 0.0;
        if (s == 0.0) {
            for (ptrdiff_t j = 0; j < d; j++)
                gar[j] = gpr[j] = gnr[j] = (T)0;
            continue;
        }
        if (kind == CYL_TRI_L2 && dp > 0 && dn > 0 && (ws == 0.0 || ds > 0)) {
            /* the common case, vectorized: dD/dv = v / D */
            const T cp = (T)(s / dp), cn = (T)(s * wn / dn), cs = (T)(ws == 0.0 ? 0.0 : s * ws / ds);
            const T te = (T)eps;
#pragma omp simd
            for (ptrdiff_t j = 0; j < d; j++) {
                const T vp = ar[j] - pr[j] + te, vn = ar[j] - nr[j] + te, vs = pr[j] - nr[j] + te;
                const T up = cp * vp, un = cn * vn, us = cs * vs;
                gar[j] = up - un;
                gpr[j] = -up - us;
                gnr[j] = un + us;
            }
            continue;
        }
        if (kind == CYL_TRI_L1) {
            /* dD/dv = sign(v), vectorized */
            const T cp = (T)s, cn = (T)(s * wn), cs = (T)(s * ws), te = (T)eps;
#pragma omp simd
            for (ptrdiff_t j = 0; j < d; j++) {
                const T vp = ar[j] - pr[j] + te, vn = ar[j] - nr[j] + te, vs = pr[j] - nr[j] + te;
                const T up = cp * CYL_SIGN(vp), un = cn * CYL_SIGN(vn), us = cs * CYL_SIGN(vs);
                gar[j] = up - un;
                gpr[j] = -up - us;
                gnr[j] = un + us;
            }
            continue;
        }
        for (ptrdiff_t j = 0; j < d; j++) {
            const double x = (double)ar[j], y = (double)pr[j], w = (double)nr[j];
            const double up = CYL_FN(tri_du)(x - y + eps, dp, kind, q, tp);
            const double un = wn == 0.0 ? 0.0 : wn * CYL_FN(tri_du)(x - w + eps, dn, kind, q, tn);
            const double us = ws == 0.0 ? 0.0 : ws * CYL_FN(tri_du)(y - w + eps, ds, kind, q, ts);
            gar[j] = (T)(s * (up - un));
            gpr[j] = (T)(s * (-up - us));
            gnr[j] = (T)(s * (un + us));
        }
    }
    k->part[blk] = acc;
}

int CYL_FN(triplet_margin_loss_grad)(ptrdiff_t n, ptrdiff_t d, const T *a, ptrdiff_t lda, const T *p, ptrdiff_t ldp,
                                     const T *neg, ptrdiff_t ldn, double margin, double norm_p, double eps, int swap,
                                     double grad_scale, T *loss, double *loss_sum, T *grad_a, ptrdiff_t ldga,
                                     T *grad_p, ptrdiff_t ldgp, T *grad_n, ptrdiff_t ldgn)
{
    if (n < 0 || d < 0 || !(norm_p > 0) || (!grad_a != !grad_p) || (!grad_a != !grad_n)) return CYL_ERR_ARG;
    const int kind = norm_p == 1.0   ? CYL_TRI_L1
                     : norm_p == 2.0 ? CYL_TRI_L2
                     : isinf(norm_p) ? CYL_TRI_INF
                                     : CYL_TRI_GEN;
    CYL_FN(tri_ctx) k = {a, p, neg, loss, grad_a, grad_p, grad_n, NULL, margin, norm_p, eps, grad_scale,
                         n, d, lda, ldp, ldn, ldga, ldgp, ldgn, CYL_FN(rows_per_block)(d * 3), kind, swap != 0};
    const ptrdiff_t nb = (n + k.rb - 1) / k.rb;
    double one;
    if (!(k.part = CYL_FN(parts)(nb, &one))) return CYL_ERR_NOMEM;
    const double per = kind == CYL_TRI_GEN ? 40.0 : 3.0;
    int st = cyl_parallel_for(nb, (double)n * (double)d * per, CYL_FN(tri_block), &k);
    double total = cyl_sum_parts(k.part, nb, &one);
    if (loss_sum && st == CYL_OK) *loss_sum = total;
    return st;
}
