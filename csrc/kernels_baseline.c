/* Portable build of every kernel (SSE2 on x86-64, NEON on aarch64, or scalar). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#define CYL_VBYTES 16 /* vector width of the row exponentials (vector extensions) */
#define CYL_ISA baseline
#include "cyl_kernels_inst.h"
