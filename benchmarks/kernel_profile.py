"""Profile of the row kernels: cycles per 8 elements of their arithmetic (every row the
same L1-resident row) and their time on a real matrix against memcpy of the bytes they
move; float32, one thread, AVX2 (or the baseline with --baseline, AVX-512 with --target avx512).

    python -m benchmarks.kernel_profile [--baseline | --target avx512] [--shape 4096x1000 --shape 512x32000]

Builds benchmarks/kernel_profile.c with csrc/ (needs a C compiler; x86-64).
"""
import argparse
import os
import platform
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FLAGS = ["-O3", "-std=gnu11", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math", "-funroll-loops",
         "-pthread"]
SOURCES = ["csrc/dispatch.c", "csrc/cyl_threads.c", "csrc/kernels_baseline.c", "csrc/kernels_avx2.c", "csrc/kernels_avx512.c"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", action="store_true", help="the portable kernels instead of AVX2")
    ap.add_argument("--target", choices=["baseline", "avx2", "avx512"], default="avx2",
                    help="CPU target whose kernels are profiled (default avx2; --baseline = --target baseline)")
    ap.add_argument("--shape", action="append", help="NxC (default: 4096x1000 and 512x32000)")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    args = ap.parse_args(argv)
    if platform.machine() not in ("x86_64", "AMD64"):
        print("kernel_profile: x86-64 only")
        return 0
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(d, "kernel_profile")
        subprocess.run([args.cc, *FLAGS, "-I" + os.path.join(ROOT, "csrc"), os.path.join(HERE, "kernel_profile.c"),
                        *[os.path.join(ROOT, s) for s in SOURCES], "-lm", "-o", exe], check=True)
        for shape in args.shape or ["4096x1000", "512x32000"]:
            n, c = shape.lower().split("x")
            subprocess.run([exe, n, c, "baseline" if args.baseline else args.target], check=True)
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
