"""Build of the cyloss extension: C kernels (csrc/) + Cython wrappers (pyx/).

Environment switches:
  CYLOSS_DEBUG=1    Cython bounds/wraparound checks on, -O0 -g.
  CYLOSS_SANITIZE=1 compile (at -O1) and link with -fsanitize=address,undefined (tools/sanitize.sh
                    runs the tests against such a build; not for distribution).
  CYLOSS_SANITIZE_ONLY=avx512|avx2|baseline  with CYLOSS_SANITIZE: only that CPU target's
                    kernels are instrumented (the one the sanitized tests run, CYLOSS_CPU); the
                    targets above it are not built (CYL_NO_AVX512 / CYL_NO_AVX2) and the ones
                    below compile at -O0 without sanitizers, to save build time.
  CYLOSS_NATIVE=1   add -march=native (a build for this machine only; never for
                    wheels that are distributed).
  CYLOSS_NO_THREADS=1  build without the thread pool (kernels run serially on the
                    calling thread); also CYLOSS_NO_OPENMP=1, its earlier name.
                    Windows builds are serial for now (the pool uses POSIX threads).
  CYLOSS_BUILD_JOBS=N  compiler processes run at once (default: one per CPU).
"""
import os
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext as _build_ext
from Cython.Build import cythonize

DEBUG = os.environ.get("CYLOSS_DEBUG", "") not in ("", "0")
SANITIZE = os.environ.get("CYLOSS_SANITIZE", "") not in ("", "0")
NATIVE = os.environ.get("CYLOSS_NATIVE", "") not in ("", "0")
SANITIZE_ONLY = os.environ.get("CYLOSS_SANITIZE_ONLY", "").strip().lower() if SANITIZE else ""
if SANITIZE_ONLY not in ("", "avx512", "avx2", "baseline"):
    sys.exit(f"CYLOSS_SANITIZE_ONLY must be avx512, avx2 or baseline, got {SANITIZE_ONLY!r}")

if sys.platform == "win32":
    cflags = ["/O2"]
else:
    cflags = ["-O0", "-g"] if DEBUG else ["-O3"]
    # -fopenmp-simd: honour `#pragma omp simd` (vectorization hints; no OpenMP runtime:
    # threads come from cyloss's own pool, csrc/cyl_threads.c);
    # no -ffast-math anywhere: NaN and inf must behave.
    # -fno-trapping-math: FP exception flags are not observed, which lets GCC
    # if-convert the NaN-safe clamps in exp/log (NaN and inf results unchanged).
    # -funroll-loops: the exp loops run 1.6x faster unrolled (measured, AVX2).
    cflags += ["-std=gnu11", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math", "-funroll-loops",
               "-fvisibility=hidden"]
    # -g0: no debug information in the release build (Python's own CFLAGS carry -g): the
    # extension was 80 MB with it and 13 MB of code, and the kernels compile faster without
    if not DEBUG:
        cflags.append("-g0")
    if NATIVE:
        cflags.append("-march=native")


def serial_build():
    return any(os.environ.get(v, "") not in ("", "0") for v in ("CYLOSS_NO_THREADS", "CYLOSS_NO_OPENMP"))


def copy_public_header():
    """cyloss/include/cyloss.h: the header installed with the package (cyloss.get_include()).
    A build output, copied from csrc/ (the one source)."""
    here = os.path.dirname(os.path.abspath(__file__))
    dst = os.path.join(here, "cyloss", "include")
    os.makedirs(dst, exist_ok=True)
    shutil.copyfile(os.path.join(here, "csrc", "cyloss.h"), os.path.join(dst, "cyloss.h"))


copy_public_header()
macros = [("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
link_args = []
if serial_build():
    macros.append(("CYL_NO_THREADS", "1"))
elif sys.platform != "win32":
    cflags.append("-pthread")
    link_args.append("-pthread")
if SANITIZE:
    # without UBSan's pointer-overflow check (a pointer + offset wrapping around the address
    # space; ASan checks every access itself): kernels_avx2.c took 591 s at -O1 with it and 215 s
    # without (measured here), the rest of -fsanitize=undefined costs 133 s
    san = ["-fsanitize=address,undefined", "-fno-sanitize=pointer-overflow", "-fno-sanitize-recover=undefined",
           "-fno-omit-frame-pointer", "-g"]
    # -O1: kernels_avx512.c instrumented took 252 s at -O3 and 88 s at -O1 (measured; the
    # whole stage's time varies with the machine's load); the sanitizers check the same loads
    # and stores (the hand-written vector code is intrinsics either way)
    if not DEBUG:
        cflags = ["-O1" if f == "-O3" else f for f in cflags]
    cflags += san
    link_args += san
    # the targets above the instrumented one never run in the sanitized tests (CYLOSS_CPU sets
    # a limit): not built (kernels_avx512.c took 133 s at -O0 here); the ones below stay, at -O0,
    # for the dispatch's fallback
    if SANITIZE_ONLY == "avx2":
        macros.append(("CYL_NO_AVX512", "1"))
    elif SANITIZE_ONLY == "baseline":
        macros.append(("CYL_NO_AVX2", "1"))

# the kernel families cyl_kernels_body.h includes (csrc/*.h other than the shared headers)
KERNEL_FAMILIES = [f"csrc/{name}.h" for name in (
    "rows", "softmax", "classification", "elementwise", "binary", "regression", "margin", "likelihood", "embedding",
    "ctc", "glm",
    "utilities")]

ext = Extension(
    "cyloss._core",
    sources=[
        "pyx/_core.pyx",
        "csrc/dispatch.c",
        "csrc/cyl_threads.c",
        "csrc/kernels_baseline.c",
        "csrc/kernels_avx2.c",
        "csrc/kernels_avx512.c",
    ],
    include_dirs=["csrc", numpy.get_include()],
    depends=[
        "csrc/cyloss.h",
        "csrc/cyl_math.h",
        "csrc/cyl_kernels_body.h",
        *KERNEL_FAMILIES,
        "csrc/cyl_kernels_inst.h",
        "csrc/cyl_internal.h",
        "pyx/ccyloss.pxd",
        "pyx/_capi.pxi",
        "cyloss/_core.pxd",
    ],
    extra_compile_args=cflags,
    extra_link_args=link_args,
    define_macros=macros,
)

class build_ext(_build_ext):
    """build_ext compiling the extension's C files in parallel, one compiler process per CPU
    (at most one per file): the Cython module and the three CPU targets' kernel files each take
    a minute or more at -O3, and the extension is one link of them.  CYLOSS_BUILD_JOBS=1 (or
    any count) overrides the number of processes.  A release build with GCC also writes each
    object's stack frames (-fstack-usage: a .su file beside the .o, nothing in the extension),
    which tools/check_stack.py --su-dir checks without a build of its own."""

    def accepts(self, flag):
        """Whether the C compiler compiles an empty file with FLAG, silently."""
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "probe.c")
            with open(src, "w") as fh:
                fh.write("int cyl_probe(void) { return 0; }\n")
            try:
                self.compiler.compile([src], output_dir=d, extra_postargs=[flag, "-Werror"])
            except Exception:
                return False
            return True

    def build_extensions(self):
        if (not DEBUG and not SANITIZE and self.compiler.compiler_type == "unix"
                and self.accepts("-fstack-usage")):
            for e in self.extensions:
                e.extra_compile_args = e.extra_compile_args + ["-fstack-usage"]
        serial = self.compiler.compile
        jobs = int(os.environ.get("CYLOSS_BUILD_JOBS", "0") or 0) or (os.cpu_count() or 1)

        def compile_one(src, args, kwargs):
            base = os.path.basename(src)
            if SANITIZE_ONLY and base.startswith("kernels_") and base != f"kernels_{SANITIZE_ONLY}.c":
                # a CPU target the sanitized tests do not run: uninstrumented, -O0
                post = [f for f in kwargs.get("extra_postargs") or []
                        if not f.startswith(("-fsanitize", "-fno-sanitize", "-O"))]
                kwargs = dict(kwargs, extra_postargs=post + ["-O0"])
            return serial([src], *args, **kwargs)

        def compile_parallel(sources, *args, **kwargs):
            if jobs < 2 or len(sources) < 2:
                return [obj for src in sources for obj in compile_one(src, args, kwargs)]
            with ThreadPoolExecutor(min(jobs, len(sources))) as pool:
                parts = list(pool.map(lambda src: compile_one(src, args, kwargs), sources))
            return [obj for objs in parts for obj in objs]

        self.compiler.compile = compile_parallel
        super().build_extensions()


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
    cmdclass={"build_ext": build_ext},
)
