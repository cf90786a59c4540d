/* AVX-512 (F, DQ, VL, BW) + FMA build of every kernel (x86-64-v4), compiled from the
 * same source as the baseline with the target switched on for this file only; chosen
 * at run time by dispatch.c when the CPU (and the OS, for the zmm state) supports it.
 * The row exponentials use 64-byte vectors (16 float / 8 double lanes).  Empty on
 * other compilers/architectures. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(CYL_NO_AVX2) && \
    !defined(CYL_NO_AVX512)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma"))), \
                             apply_to = function)
#else
#pragma GCC target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma,prefer-vector-width=512")
#endif

#include <immintrin.h>
#define CYL_VBYTES 64 /* vector width of the row exponentials (vector extensions) */
#define CYL_ISA avx512
#include "cyl_kernels_inst.h"

#if defined(__clang__)
#pragma clang attribute pop
#endif
#else
typedef int cyl_kernels_avx512_unused;
#endif
