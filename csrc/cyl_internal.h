/* cyl_internal.h -- private helpers shared by the kernel files (not installed). */
#ifndef CYL_INTERNAL_H
#define CYL_INTERNAL_H

#include <stddef.h>
#include <stdlib.h>

#define CYL_PRAGMA_(x) _Pragma(#x)
#ifdef _OPENMP
#define CYL_OMP(x) CYL_PRAGMA_(x)
#else
#define CYL_OMP(x)
#endif

/* Elements of work per block of a threaded loop (blocks, not threads, fix the
 * order of a loss sum), and the work below which a kernel stays on one thread. */
#define CYL_BLOCK_WORK 8192
#define CYL_PARALLEL_MIN_WORK 131072.0

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

/* threads to use for `work` element-operations (1 when small or without OpenMP) */
int cyl_threads_for(double work);

#endif
