/*
 * cyl_kernels_body.h -- the kernel source: the shared definitions, then one file per
 * family (the #includes below), then the #undefs.  Included by
 * cyl_kernels_inst.h once per scalar type (T = float, S = f32 / T = double,
 * S = f64) and that file once per CPU target (CYL_ISA = baseline, avx2, avx512), so each
 * function here exists as cyl_<op>_<S>_<ISA>; csrc/dispatch.c picks the target.
 *
 * The math (see ../shared/DESIGN.md and the README's semantics table):
 *  softmax:      y = exp(s(x - m)) / sum exp(s(x - m)), m = max(x), s = 1/temperature.
 *                Shift invariance makes it exact in exact arithmetic; every exponent
 *                is <= 0, so nothing overflows.  A row holding NaN gives a NaN row;
 *                an all -inf row gives NaN (0/0), as torch does.
 *  log_softmax:  s(x - m) - log(sum exp(s(x - m))), never log(softmax).
 *  logsumexp:    m + log(sum b exp(x - m)); when m is +-inf the shift is 0 (scipy).
 *  cross-entropy: loss = (1-eps) w_t (lse - x_t) + eps/C sum_c w_c (lse - x_c), the
 *                terms (lse - x_c) = (m - x_c) + log(sum) are all >= 0 (no
 *                cancellation); gradient = a * exp(x - m) - (1-eps) w_t onehot(t)
 *                - eps/C w, with the exponentials stored in the gradient row during
 *                the sum pass and scaled in place (no second exp).
 *  BCE with logits: pw*y*softplus(-x) + (1-y)*softplus(x), softplus(+-x) =
 *                max(+-x, 0) + log1p(exp(-|x|)): every term >= 0 for y in [0, 1],
 *                equal to torch's (1-y)x + (1+(pw-1)y) softplus(-x) for every y.
 * Row sums and loss sums accumulate in double.  Errors found in the data (a
 * class target out of range, a probability outside [0, 1]) stop the kernel with
 * a status and the index; NaN/inf are data and propagate.
 */

#define CYL_FN__(name, s, isa) cyl_##name##_##s##_##isa
#define CYL_FN_(name, s, isa) CYL_FN__(name, s, isa)
#define CYL_FN(name) CYL_FN_(name, S, CYL_ISA)

/* The kernels, one file per family (each included once per instantiation, in this order:
 * later files use the helpers of earlier ones). */
#include "rows.h"
#include "softmax.h"
#include "classification.h"
#include "elementwise.h"
#include "binary.h"
#include "regression.h"
#include "margin.h"
#include "likelihood.h"
#include "embedding.h"
#include "ctc.h"
#include "glm.h"
#include "utilities.h"

#ifdef CYL_VEC
#undef vT
#undef vU
#undef vI
#undef vD
#undef CYL_VEC
#undef CYL_L2E
#undef CYL_MAGIC
#undef CYL_LN2HI
#undef CYL_LN2LO
#undef CYL_MANT
#undef CYL_KLIM
#undef CYL_NLIM
#undef CYL_VL
#undef CYL_FOLD
#endif
#undef CYL_SIGN
#undef CYL_TRI_L1
#undef CYL_TRI_L2
#undef CYL_TRI_INF
#undef CYL_TRI_GEN
#undef CYL_SMALL_C
#undef CYL_SMALL_C_SOFTMAX
#undef CYL_SMALL_BLOCK
#undef CYL_NL
#undef CYL_BCEL_CALL
#undef CYL_BCE_CALL
#undef CYL_KL_CALL
#undef CYL_REG_CALL
#undef CYL_MARGIN_CALL
#undef CYL_POISSON_NLL_CALL
#undef CYL_GAUSSIAN_NLL_CALL
#undef CYL_FOCAL_CALL
#undef CYL_GLM_CALL
#undef CYL_EW_STORE
#undef CYL_FIRST_BAD
#undef CYL_BAD_ACC
#undef CYL_BAD_SIMD
#undef CYL_BAD_ADD
#undef CYL_DOM_ANY
#undef CYL_DOM_NONNEG
#undef CYL_DOM_POS
#undef CYL_DOM_UNIT
#undef CYL_G_POISSON
#undef CYL_G_GAMMA
#undef CYL_G_TW0
#undef CYL_G_TW
#undef CYL_G_TWI0
#undef CYL_G_TWI1
#undef CYL_G_TWI2
#undef CYL_G_TWI
#undef CYL_G_TWI15
#undef CYL_G_PINBALL
#undef CYL_G_EXP
#undef CYL_SPEC_L
#undef CYL_SPEC_G
#undef CYL_SPEC_N
#undef CYL_NT_LOOP
#undef CYL_NT_ROW
#undef CYL_STREAM_VROW
#undef CYL_HAVE_NT
#undef CYL_SPEC_W
#undef CYL_OFF
#undef CYL_EW_PROLOGUE
#undef CYL_LANE_SUM
#undef CYL_LANES
#undef CYL_GROUP
#undef CYL_FN
#undef CYL_FN_
#undef CYL_FN__
