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
