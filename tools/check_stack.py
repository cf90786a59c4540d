"""Check the stack use of the C kernels: every function's frame (GCC -fstack-usage)
must be bounded and at most LIMIT bytes, so that a call chain (Cython wrapper -> public
function -> parallel_for -> block function -> row helpers) stays well under 4 KiB and
any thread, even one with a 32 KiB stack, can call the kernels.

    python tools/check_stack.py [--limit 2048] [--cc gcc]
    python tools/check_stack.py --su-dir DIR    (the .su files of a build already made:
                                                 tools/check_portable_c.sh with CHECK_STACK=1)

Compiles csrc/ with the release flags of setup.py into a temporary directory.
Exit status 1 when a frame is too large or unbounded (alloca/VLA), 0 otherwise; skips
(exit 0, with a message) when the compiler is not GCC.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = ["-O3", "-std=gnu11", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math", "-funroll-loops",
         "-fvisibility=hidden", "-pthread", "-fPIC", "-fstack-usage"]
SOURCES = ["csrc/kernels_avx512.c", "csrc/kernels_avx2.c", "csrc/kernels_baseline.c", "csrc/dispatch.c", "csrc/cyl_threads.c"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=2048, help="largest allowed frame in bytes (default 2048)")
    ap.add_argument("--cc", default=os.environ.get("CC", "gcc"))
    ap.add_argument("--su-dir", help="read the .su files in this directory instead of compiling")
    args = ap.parse_args(argv)
    if args.su_dir:
        missing = [src for src in SOURCES
                   if not os.path.exists(os.path.join(args.su_dir, os.path.basename(src)[:-2] + ".su"))]
        if missing:
            print(f"check_stack: no stack-usage data for {', '.join(missing)} in {args.su_dir}")
            return 1
        return report(glob.glob(os.path.join(args.su_dir, "*.su")), args.limit)
    version = subprocess.run([args.cc, "--version"], capture_output=True, text=True)
    if version.returncode != 0 or "GCC" not in version.stdout + version.stderr and "gcc" not in version.stdout:
        print(f"check_stack: {args.cc} is not GCC; skipped")
        return 0
    with tempfile.TemporaryDirectory() as d:
        def compile_one(src):
            obj = os.path.join(d, os.path.basename(src)[:-2] + ".o")
            subprocess.run([args.cc, *FLAGS, "-I" + os.path.join(ROOT, "csrc"), "-c", os.path.join(ROOT, src),
                            "-o", obj], check=True)

        # one compiler process per CPU (the three kernel files take a minute or more each)
        with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
            list(pool.map(compile_one, SOURCES))
        return report(glob.glob(os.path.join(d, "*.su")), args.limit)


def report(su_files, limit):
    bad, count, largest = [], 0, ("", 0)
    for su in su_files:
        with open(su) as fh:
            for line in fh:
                where, size, kind = line.rstrip("\n").rsplit("\t", 2)
                size = int(size)
                count += 1
                if size > largest[1]:
                    largest = (where, size)
                # "dynamic,bounded": the frame is realigned for AVX (still a fixed bound);
                # plain "dynamic" is alloca / a VLA
                if size > limit or (kind != "static" and "bounded" not in kind):
                    bad.append(f"{where}: {size} bytes ({kind})")
    if count == 0:
        print("check_stack: no stack-usage data produced")
        return 1
    print(f"check_stack: {count} functions, largest frame {largest[1]} bytes ({largest[0]}), limit {limit}")
    for b in bad:
        print("  too large:", b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
