/*
 * cyl_kernels_inst.h -- instantiate every kernel of cyl_kernels_body.h for float
 * and double under the CPU target named by CYL_ISA, and collect them in the
 * table cyl_kernels_<CYL_ISA> that csrc/dispatch.c selects from.
 */
#include <string.h>

#include "cyloss.h"
#include "cyl_math.h"
#include "cyl_internal.h"

/* the kernels' context structs are initialized leaving their trailing fields (set later) to
 * the implicit zero: not a missing initializer (-Wextra's -Wmissing-field-initializers) */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif

#define T float
#define S f32
#define CYL_T_F32 1 /* T-specific constants of the vector row exponential */
#define EXP cyl_exp_f32
#define EXPNEG cyl_expneg_f32
#define LOG cyl_log_f32
#define LOG1PU cyl_log1p_unit_f32
#define SQRT sqrtf
#include "cyl_kernels_body.h"
#undef T
#undef S
#undef CYL_T_F32
#undef EXP
#undef EXPNEG
#undef LOG
#undef LOG1PU
#undef SQRT

#define T double
#define S f64
#define CYL_T_F32 0
#define EXP cyl_exp_f64
#define EXPNEG cyl_expneg_f64
#define LOG cyl_log_f64
#define LOG1PU cyl_log1p_unit_f64
#define SQRT sqrt
#include "cyl_kernels_body.h"
#undef T
#undef S
#undef CYL_T_F32
#undef EXP
#undef EXPNEG
#undef LOG
#undef LOG1PU
#undef SQRT

#define CYL_TABLE_NAME__(isa) cyl_kernels_##isa
#define CYL_TABLE_NAME_(isa) CYL_TABLE_NAME__(isa)
#define CYL_ENTRY__(S, name, isa) .name##_##S = cyl_##name##_##S##_##isa,
#define CYL_ENTRY_(S, name, isa) CYL_ENTRY__(S, name, isa)
#define CYL_ENTRY(S, name, params, args) CYL_ENTRY_(S, name, CYL_ISA)

const cyl_kernels CYL_TABLE_NAME_(CYL_ISA) = {
    CYL_KERNEL_LIST(CYL_ENTRY, float, f32)
    CYL_KERNEL_LIST(CYL_ENTRY, double, f64)
};

#undef CYL_ENTRY
#undef CYL_ENTRY_
#undef CYL_ENTRY__
#undef CYL_TABLE_NAME_
#undef CYL_TABLE_NAME__

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
