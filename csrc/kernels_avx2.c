/* AVX2 + FMA build of every kernel, compiled from the same source as the baseline
 * with the target switched on for this file only; chosen at run time by
 * dispatch.c when the CPU supports it.  Empty on other compilers/architectures. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(CYL_NO_AVX2)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,fma")
#endif

#include <immintrin.h>
#define CYL_VBYTES 32 /* vector width of the row exponentials (vector extensions) */
#define CYL_ISA avx2
#include "cyl_kernels_inst.h"

#if defined(__clang__)
#pragma clang attribute pop
#endif
#else
typedef int cyl_kernels_avx2_unused;
#endif
