"""Build of the cyloss extension: C kernels (csrc/) + Cython wrappers (pyx/).

Environment switches:
  CYLOSS_DEBUG=1    Cython bounds/wraparound checks on, -O0 -g.
  CYLOSS_NATIVE=1   add -march=native (a build for this machine only; never for
                    wheels that are distributed).
  CYLOSS_NO_OPENMP=1  build without OpenMP (kernels run serially); this also
                    happens when the compiler cannot build an OpenMP program.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy
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
    # -funroll-loops: the exp loops run 1.6x faster unrolled (measured, AVX2).
    cflags += ["-std=gnu11", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math", "-funroll-loops",
               "-fvisibility=hidden"]
    if NATIVE:
        cflags.append("-march=native")


def openmp_flags():
    """-fopenmp if the C compiler builds and links an OpenMP program, else [] (serial build)."""
    if sys.platform == "win32" or os.environ.get("CYLOSS_NO_OPENMP", "") not in ("", "0"):
        return []
    cc = os.environ.get("CC", "cc")
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "t.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void){return omp_get_max_threads() < 1;}\n")
        try:
            r = subprocess.run([cc, "-fopenmp", src, "-o", os.path.join(d, "t")],
                               capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return []
        return ["-fopenmp"] if r.returncode == 0 else []


def copy_public_header():
    """cyloss/include/cyloss.h: the header installed with the package (cyloss.get_include()).
    A build output, copied from csrc/ (the one source)."""
    here = os.path.dirname(os.path.abspath(__file__))
    dst = os.path.join(here, "cyloss", "include")
    os.makedirs(dst, exist_ok=True)
    shutil.copyfile(os.path.join(here, "csrc", "cyloss.h"), os.path.join(dst, "cyloss.h"))


copy_public_header()
omp = openmp_flags()
if omp:
    cflags += omp

ext = Extension(
    "cyloss._core",
    sources=[
        "pyx/_core.pyx",
        "csrc/dispatch.c",
        "csrc/kernels_baseline.c",
        "csrc/kernels_avx2.c",
    ],
    include_dirs=["csrc", numpy.get_include()],
    depends=[
        "csrc/cyloss.h",
        "csrc/cyl_math.h",
        "csrc/cyl_kernels_body.h",
        "csrc/cyl_kernels_inst.h",
        "csrc/cyl_internal.h",
        "pyx/ccyloss.pxd",
        "pyx/_capi.pxi",
        "cyloss/_core.pxd",
    ],
    extra_compile_args=cflags,
    extra_link_args=omp,
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
    ext_modules=cythonize([ext], include_path=["pyx", "."], compiler_directives=directives),
)
