/*
 * elementwise.h -- the frame every elementwise loss uses: flag
 * specializations, the lane-ordered loss sum, the block context and runner, the store
 * of loss / gradient / Hessian, the first-bad-element scan.
 * Part of the kernel source: included, in order, by cyl_kernels_body.h (once per scalar
 * type and CPU target; see there), never on its own.
 */

/* ------------------------------------------------------ elementwise losses
 * Each kernel is one always-inline loop over [0, n) with constant flags (HW: weight
 * given, HG: gradient wanted, HL: per-element losses wanted, plus the kernel's own);
 * CYL_SPEC_* instantiate it for every combination so that no loop tests a flag.  A
 * block function (CYL_EW_PROLOGUE: the block [i0, i0 + len) of CYL_BLOCK_WORK
 * elements and the common arguments) runs it on one block, and ew_run runs the blocks
 * (threaded, deterministic sum).  Pointers are offset to the block before the call. */

#define CYL_SPEC_L(F, ...) do { if (loss) F(__VA_ARGS__, 1); else F(__VA_ARGS__, 0); } while (0)
/* (HG, HH): the Hessian comes with the gradient (the facade always asks for both) */
/* HL = -1: no loss at all (neither stored nor summed: ew_ctx.nosum, the caller passed
 * neither per-element losses nor a loss sum), only with the gradient; HL = -2: the same,
 * the gradient and Hessian written with non-temporal stores (ew_ctx.nt, see CYL_LANE_SUM) */
#define CYL_SPEC_N(F, ...) do { if (k_->nt) F(__VA_ARGS__, -2); else F(__VA_ARGS__, -1); } while (0)
#define CYL_SPEC_G(F, ...) \
    do { \
        if (hess) { \
            if (k_->nosum) CYL_SPEC_N(F, __VA_ARGS__, 1, 1); \
            else CYL_SPEC_L(F, __VA_ARGS__, 1, 1); \
        } else if (grad) { \
            if (k_->nosum) CYL_SPEC_N(F, __VA_ARGS__, 1, 0); \
            else CYL_SPEC_L(F, __VA_ARGS__, 1, 0); \
        } else CYL_SPEC_L(F, __VA_ARGS__, 0, 0); \
    } while (0)
#define CYL_SPEC_W(F, ...) do { if (weight) CYL_SPEC_G(F, __VA_ARGS__, 1); else CYL_SPEC_G(F, __VA_ARGS__, 0); } while (0)
#define CYL_OFF(p) ((p) ? (p) + i0 : NULL)

/* The body of a run function: return the sum over i in [0, n) of (double)ELEM, ELEM an
 * expression of the index i (an always-inline element function that also stores the
 * element's loss, gradient and Hessian).  Lane k adds the elements i = k mod CYL_LANES in
 * order, then the lanes and the tail are added in order: the sum does not depend on
 * whether or how the compiler vectorizes the loop, so a loss is the same bit for bit
 * with or without its gradient (another specialization of the loop) and whatever the
 * flags. */
#define CYL_LANES 16
/* the elements [J, J + CYL_LANES) of a no-loss loop: stores only, one vector loop */
#define CYL_GROUP(J, ELEM) \
    CYL_PRAGMA(omp simd) \
    for (int k_ = 0; k_ < CYL_LANES; k_++) { \
        const ptrdiff_t i = (J) + k_; \
        (void)(ELEM); \
    }
#define CYL_LANE_SUM(n, ELEM) \
    if (HL == -2) { /* no loss, non-temporal stores of grad and hess (CYL_NT_LOOP) */ \
        CYL_NT_LOOP(n, ELEM); \
        return 0.0; \
    } \
    if (HL < 0) { /* no loss: the element's stores only (its loss is dead code), in the same \
                   * loops as below so that every element gets the same arithmetic */ \
        ptrdiff_t j_ = 0; \
        for (; j_ + CYL_LANES <= (n); j_ += CYL_LANES) { \
            CYL_GROUP(j_, ELEM) \
        } \
        for (ptrdiff_t i = j_; i < (n); i++) \
            (void)(ELEM); \
        return 0.0; \
    } \
    double lanes_[CYL_LANES]; \
    for (int k_ = 0; k_ < CYL_LANES; k_++) \
        lanes_[k_] = 0.0; \
    ptrdiff_t j_ = 0; \
    for (; j_ + CYL_LANES <= (n); j_ += CYL_LANES) { \
        CYL_PRAGMA(omp simd) \
        for (int k_ = 0; k_ < CYL_LANES; k_++) { \
            const ptrdiff_t i = j_ + k_; \
            lanes_[k_] += (double)(ELEM); \
        } \
    } \
    double sum_ = 0.0; \
    for (int k_ = 0; k_ < CYL_LANES; k_++) \
        sum_ += lanes_[k_]; \
    for (ptrdiff_t i = j_; i < (n); i++) \
        sum_ += (double)(ELEM); \
    return sum_

/* Non-temporal stores (x86-64): a kernel whose outputs are far larger than the caches and
 * that computes no loss writes grad and hess around the caches, which saves the read of
 * every output line before it is written (measured, mse gradient + Hessian of 1e7 float32
 * on one thread: 6.4 -> 4.1 ms in a C harness, np.copyto of one array 3.6 ms).  The
 * elements before grad's first 64-byte boundary and the tail are stored as usual; each
 * group of CYL_LANES elements in between is computed by the same element code with grad
 * and hess pointing at 64-byte aligned local buffers (the names shadowed in a block:
 * grad + i lands on the buffer's k-th entry; the address is formed through uintptr_t, not
 * out-of-bounds pointer arithmetic), then streamed out with 16-byte stores.  ew_run
 * chooses it (ew_ctx.nt) only when grad and hess are equally aligned modulo 64 bytes. */
#if CYL_NT_X86
#define CYL_HAVE_NT 1
#define CYL_NT_LOOP(n, ELEM) \
    do { \
        T *const gdst_ = grad, *const hdst_ = hess; \
        _Alignas(64) T gbuf_[CYL_LANES]; \
        _Alignas(64) T hbuf_[CYL_LANES]; \
        ptrdiff_t p_ = (ptrdiff_t)(((64 - ((uintptr_t)gdst_ & 63)) & 63) / sizeof(T)); \
        if (p_ > (n)) p_ = (n); \
        for (ptrdiff_t i = 0; i < p_; i++) \
            (void)(ELEM); \
        ptrdiff_t j_ = p_; \
        for (; j_ + CYL_LANES <= (n); j_ += CYL_LANES) { \
            { \
                T *grad = (T *)((uintptr_t)gbuf_ - (uintptr_t)j_ * sizeof(T)); \
                T *hess = (T *)((uintptr_t)hbuf_ - (uintptr_t)j_ * sizeof(T)); \
                (void)grad; \
                (void)hess; \
                CYL_GROUP(j_, ELEM) \
            } \
            cyl_stream_lines(gdst_ + j_, gbuf_, sizeof gbuf_); \
            if (HH) cyl_stream_lines(hdst_ + j_, hbuf_, sizeof hbuf_); \
        } \
        for (ptrdiff_t i = j_; i < (n); i++) \
            (void)(ELEM); \
        _mm_sfence(); \
    } while (0)
#else
#define CYL_HAVE_NT 0
#define CYL_NT_LOOP(n, ELEM) \
    do { \
        for (ptrdiff_t i = 0; i < (n); i++) \
            (void)(ELEM); \
    } while (0)
#endif
/* the arguments of an elementwise kernel (a, b: its two inputs; w, pw: optional weights, or
 * pw a third input) */
typedef struct {
    const T *a, *b, *w, *pw;
    T *loss, *grad, *hess;
    double *part;
    T gs, prm;
    ptrdiff_t n;
    int nosum; /* set by ew_run: no loss wanted (loss and loss_sum NULL) */
    int nt;    /* set by ew_run: non-temporal stores of grad and hess (needs nosum) */
    T prm2;    /* a second parameter, and */
    int flags; /* the kernel's own flags, for the kernels that need them */
    T *out2;   /* a second output beside hess, for the kernels that need one */
    ptrdiff_t *bad; /* per block: the first element outside the kernel's domain, or -1
                     * (the kernels that check their input block by block; see glm.h) */
    int exp_bound;  /* the kernel evaluates an exponential per element: ordinary stores at any
                     * size (ew_run) */
} CYL_FN(ew_ctx);

#define CYL_EW_PROLOGUE \
    const CYL_FN(ew_ctx) *k_ = (const CYL_FN(ew_ctx) *)vctx; \
    const ptrdiff_t i0 = b_ * CYL_BLOCK_WORK; \
    const ptrdiff_t len = k_->n - i0 < CYL_BLOCK_WORK ? k_->n - i0 : CYL_BLOCK_WORK; \
    const T *weight = k_->w; \
    T *loss = k_->loss, *grad = k_->grad, *hess = k_->hess; \
    const T gs = k_->gs; \
    double acc = 0.0; \
    (void)scratch_; \
    (void)gs

/* run block function f over the blocks of k; *loss_sum = the in-order sum of the block sums */
static int CYL_FN(ew_run)(CYL_FN(ew_ctx) *k, double cost, cyl_block_fn f, double *loss_sum)
{
    if (k->n < 0) return CYL_ERR_ARG;
    const ptrdiff_t nb = (k->n + CYL_BLOCK_WORK - 1) / CYL_BLOCK_WORK;
    double one;
    if (!(k->part = CYL_FN(parts)(nb, &one))) return CYL_ERR_NOMEM;
    k->nosum = !loss_sum && !k->loss && k->grad;
    /* not for the kernels with an exponential per element (exp_bound): their loops, bound by
     * the FMA ports, ran 1.2-1.6x slower with non-temporal stores than with ordinary ones
     * (1e7 gradient + Hessian, float32 and float64, 1 and 2 threads, AVX2: half_poisson 1t
     * 12.96 against 18.99 ms, bce_with_logits 13.74 against 18.67, log_cosh 2t 12.3 against
     * 19.6), while the kernels without one gain 1.1-1.9x from them (mse 1t 5.73 against 8.60) */
    k->nt = CYL_HAVE_NT && k->nosum && !k->exp_bound && (double)k->n * (double)sizeof(T) * (k->hess ? 2.0 : 1.0) >= CYL_NT_MIN_BYTES &&
            ((uintptr_t)k->grad % sizeof(T)) == 0 && (!k->hess || ((uintptr_t)k->grad & 63) == ((uintptr_t)k->hess & 63));
    int st = cyl_parallel_for(nb, (double)k->n * cost, f, k);
    double total = cyl_sum_parts(k->part, nb, &one);
    if (loss_sum && st == CYL_OK) *loss_sum = total;
    return st;
}

/* store the element's outputs: loss l, gradient g and Hessian h, each times the weight,
 * g and h times the gradient scale */
#define CYL_EW_STORE(l, g, h) \
    do { \
        if (HW) { \
            l *= w[i]; \
            g *= w[i]; \
            h *= w[i]; \
        } \
        if (HL > 0) loss[i] = l; \
        if (HG) grad[i] = g * gs; \
        if (HH) hess[i] = h * gs; \
    } while (0)

/* first i with bad(x[i]) (the facade reports the position), or -1.  The scan: float32 ORs
 * the compare results in int lanes (vcmpps + vorps), float64 counts them (an int OR of
 * 64-bit compares measured slower); measured over 8192 L1/L2-resident elements, AVX2:
 * float32 0.46 -> 0.14-0.17 TSC ticks per element, float64 0.25-0.32 (at L2 bandwidth) */
#if CYL_T_F32
#define CYL_BAD_ACC int
#define CYL_BAD_SIMD CYL_PRAGMA(omp simd reduction(|:nbad_))
#define CYL_BAD_ADD(b) (nbad_ |= (b))
#else
#define CYL_BAD_ACC ptrdiff_t
#define CYL_BAD_SIMD CYL_PRAGMA(omp simd reduction(+:nbad_))
#define CYL_BAD_ADD(b) (nbad_ += (b))
#endif
#define CYL_FIRST_BAD(n, x, BAD, out) \
    do { \
        CYL_BAD_ACC nbad_ = 0; \
        CYL_BAD_SIMD \
        for (ptrdiff_t i_ = 0; i_ < (n); i_++) { \
            const T v = (x)[i_]; \
            CYL_BAD_ADD(BAD); \
        } \
        (out) = -1; \
        if (nbad_) \
            for (ptrdiff_t i_ = 0; i_ < (n); i_++) { \
                const T v = (x)[i_]; \
                if (BAD) { \
                    (out) = i_; \
                    break; \
                } \
            } \
    } while (0)

/* sign(d) with sign(0) = 0 and sign(NaN) = NaN */
#define CYL_SIGN(d) ((d) > 0 ? (T)1 : (d) < 0 ? (T)-1 : (d))
