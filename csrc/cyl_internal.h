/* cyl_internal.h -- private helpers shared by the kernel files (not installed). */
#ifndef CYL_INTERNAL_H
#define CYL_INTERNAL_H

#include <stddef.h>
#include <stdlib.h>

#if defined(__GNUC__) || defined(__clang__)
#define CYL_EXPORT __attribute__((visibility("default")))
#else
#define CYL_EXPORT
#endif

/* Elements of work per block of a threaded loop (blocks, not threads, fix the
 * order of a loss sum), and the work below which a kernel stays on one thread. */
#define CYL_BLOCK_WORK 8192
#define CYL_PARALLEL_MIN_WORK 131072.0

/* Upper bound of every thread setting. */
#define CYL_MAX_THREADS 1024

/* Bytes of per-thread heap scratch a block function receives (cyl_parallel_for):
 * kernels keep their block buffers there, not on the stack. */
#define CYL_SCRATCH_BYTES 65536

/* Non-temporal stores (x86-64 with GCC or Clang; SSE2 is part of the base ISA): outputs
 * of at least CYL_NT_MIN_BYTES are written around the caches, which saves the read of
 * every output line before it is written (csrc/elementwise.h, csrc/softmax.h).  Far
 * beyond the L3 cache (32 MB on the machine measured), so such outputs would not have
 * stayed cached for their consumer anyway. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(CYL_NO_NT_STORES)
#include <emmintrin.h>
#define CYL_NT_X86 1
/* stream `bytes` (a multiple of 16; of CYL_VBYTES in the AVX2 / AVX-512 kernels) from the
 * aligned src to the aligned dst (16 bytes, or CYL_VBYTES in those kernels), in the widest
 * stores of the file's target (16-byte stores took a vextracti128 and two stores per AVX2
 * vector) */
static inline void cyl_stream_lines(void *dst, const void *src, size_t bytes)
{
#if defined(CYL_VBYTES) && CYL_VBYTES == 64
    for (size_t q = 0; q < bytes / 64; q++)
        _mm512_stream_si512((__m512i *)dst + q, _mm512_load_si512((const __m512i *)src + q));
#elif defined(CYL_VBYTES) && CYL_VBYTES == 32
    for (size_t q = 0; q < bytes / 32; q++)
        _mm256_stream_si256((__m256i *)dst + q, _mm256_load_si256((const __m256i *)src + q));
#else
    for (size_t q = 0; q < bytes / 16; q++)
        _mm_stream_si128((__m128i *)dst + q, _mm_load_si128((const __m128i *)src + q));
#endif
}
#else
#define CYL_NT_X86 0
#endif
#ifndef CYL_NT_LSM_MIN_BYTES /* log_softmax outputs streamed (see softmax.h) */
#define CYL_NT_LSM_MIN_BYTES ((double)(4 << 20))
#endif
#ifndef CYL_NT_LSM_MIN_ROW /* log_softmax rows (bytes) streamed */
#define CYL_NT_LSM_MIN_ROW 2048.0
#endif
#ifndef CYL_NT_MIN_BYTES
#define CYL_NT_MIN_BYTES ((double)(32 << 20))
#endif

/* In-order sum of the per-block partial sums of a threaded loop; frees `part` unless it
 * is the caller's single slot `one` (used when there is one block). */
static inline double cyl_sum_parts(double *part, ptrdiff_t nb, double *one)
{
    double total = 0.0;
    for (ptrdiff_t b = 0; b < nb; b++)
        total += part[b];
    if (part != one) free(part);
    return total;
}

/* threads to use for `work` element-operations (1 when small or without threads) */
int cyl_threads_for(double work);

/* Run fn(ctx, b, scratch) for b in [0, nblocks), on up to cyl_threads_for(work)
 * threads (the calling thread included), each block exactly once, in no particular
 * order; scratch is CYL_SCRATCH_BYTES of 16-byte aligned memory private to the
 * thread running the block.  Returns CYL_OK, or CYL_ERR_NOMEM (nothing was run)
 * when the calling thread's scratch cannot be allocated. */
typedef void (*cyl_block_fn)(void *ctx, ptrdiff_t b, void *scratch);
int cyl_parallel_for(ptrdiff_t nblocks, double work, cyl_block_fn fn, void *ctx);

/* The calling thread's scratch (CYL_SCRATCH_BYTES), or NULL if it cannot be allocated. */
void *cyl_scratch(void);

/* threadpoolctl's view (see cyl_threads.c) */
CYL_EXPORT int cyloss_threadpoolctl_get_num_threads(void);
CYL_EXPORT void cyloss_threadpoolctl_set_num_threads(int n);

#endif
