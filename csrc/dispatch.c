/*
 * dispatch.c -- the public cyl_* functions: each forwards to the kernel table of
 * the CPU target chosen once by cyl_init() (AVX-512 F/DQ/VL/BW when the CPU and the
 * OS support it, else AVX2+FMA, else the portable baseline; CYLOSS_CPU=baseline or
 * avx2 in the environment, read by the Python module, sets a limit).
 */
#include "cyloss.h"
#include "cyl_internal.h"
#include "cyl_math.h"

/* the clamp bounds of the inline exp (cyl_math.h says why they live in memory) */
const float cyl_exp_lim_f32[2] = {-104.0f, 89.0f};
const double cyl_exp_lim_f64[2] = {-746.0, 710.0};
const uint32_t cyl_exp_keep_f32 = 0xffffffffu;
const uint64_t cyl_exp_keep_f64 = 0xffffffffffffffffu;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(CYL_NO_AVX2)
#define CYL_HAVE_AVX2 1
extern const cyl_kernels cyl_kernels_avx2;
#else
#define CYL_HAVE_AVX2 0
#endif
#if CYL_HAVE_AVX2 && !defined(CYL_NO_AVX512)
#define CYL_HAVE_AVX512 1
extern const cyl_kernels cyl_kernels_avx512;
#else
#define CYL_HAVE_AVX512 0
#endif
extern const cyl_kernels cyl_kernels_baseline;

static const cyl_kernels *cyl_active = NULL;
static const char *cyl_active_name = "baseline";

void cyl_init(int force_baseline)
{
#if CYL_HAVE_AVX2
    /* __builtin_cpu_supports also checks that the OS saves the ymm / zmm state (XCR0) */
    __builtin_cpu_init();
#if CYL_HAVE_AVX512
    if (force_baseline == 0 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("fma")) {
        cyl_active_name = "avx512";
        cyl_active = &cyl_kernels_avx512;
        return;
    }
#endif
    if (force_baseline != 1 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        cyl_active_name = "avx2";
        cyl_active = &cyl_kernels_avx2;
        return;
    }
#endif
    (void)force_baseline;
    cyl_active_name = "baseline";
    cyl_active = &cyl_kernels_baseline;
}

const char *cyl_cpu_target(void)
{
    if (!cyl_active) cyl_init(0);
    return cyl_active_name;
}

const char *cyl_cpu_targets_built(void)
{
    return CYL_HAVE_AVX512 ? "baseline,avx2,avx512" : CYL_HAVE_AVX2 ? "baseline,avx2" : "baseline";
}

#define CYL_FORWARD(S, name, params, args) \
    int cyl_##name##_##S params \
    { \
        if (!cyl_active) cyl_init(0); \
        return cyl_active->name##_##S args; \
    }
CYL_KERNEL_LIST(CYL_FORWARD, float, f32)
CYL_KERNEL_LIST(CYL_FORWARD, double, f64)

/* ------------------------------------------------------------- C-API table */
#define CYL_PUBLIC_ENTRY(S, name, params, args) .name##_##S = cyl_##name##_##S,
static const cyl_kernels cyl_public = {
    CYL_KERNEL_LIST(CYL_PUBLIC_ENTRY, float, f32)
    CYL_KERNEL_LIST(CYL_PUBLIC_ENTRY, double, f64)
};

const cyl_kernels *cyl_api(void)
{
    return &cyl_public;
}
