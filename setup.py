"""Build of the cyloss extension: C kernels (csrc/) + Cython wrappers (pyx/).

Environment switches:
  CYLOSS_DEBUG=1    Cython bounds/wraparound checks on, -O0 -g.
  CYLOSS_NATIVE=1   add -march=native (a build for this machine only; never for
                    wheels that are distributed).
"""
import os
import sys

from setuptools import Extension, setup
from Cython.Build import cythonize

DEBUG = os.environ.get("CYLOSS_DEBUG", "") not in ("", "0")
NATIVE = os.environ.get("CYLOSS_NATIVE", "") not in ("", "0")

if sys.platform == "win32":
    cflags = ["/O2"]
else:
    cflags = ["-O0", "-g"] if DEBUG else ["-O3"]
    # -fopenmp-simd: honour `#pragma omp simd` (vectorization hints, no runtime);
    # no -ffast-math anywhere: NaN and inf must behave.
    # -fno-trapping-math: FP exception flags are not observed, which lets GCC
    # if-convert the NaN-safe clamps in exp/log (NaN and inf results unchanged).
    cflags += ["-std=gnu11", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math",
               "-fvisibility=hidden"]
    if NATIVE:
        cflags.append("-march=native")

ext = Extension(
    "cyloss._core",
    sources=[
        "pyx/_core.pyx",
        "csrc/dispatch.c",
        "csrc/kernels_baseline.c",
        "csrc/kernels_avx2.c",
    ],
    include_dirs=["csrc"],
    depends=[
        "csrc/cyloss.h",
        "csrc/cyl_math.h",
        "csrc/cyl_kernels_body.h",
        "csrc/cyl_kernels_inst.h",
        "pyx/ccyloss.pxd",
    ],
    extra_compile_args=cflags,
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
)

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "initializedcheck": DEBUG,
    "cdivision": True,
    "embedsignature": True,
}

setup(
    ext_modules=cythonize([ext], include_path=["pyx"], compiler_directives=directives),
)
