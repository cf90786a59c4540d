#!/usr/bin/env bash
# Portable C, checked (issue 13): the C sources of the extension compile warning-free as
# ISO C11 under GCC and Clang, also in the serial build, and cross-compile for aarch64;
# tools/portable_kernels_test.c (the kernels against a scalar double reference) passes on
# every CPU target of this machine and under qemu-aarch64.  Run from anywhere:
#
#   tools/check_portable_c.sh
#
# Stages (one summary line each; exit status 1 if any fails):
#   gcc        every C source setup.py builds (dispatch.c, cyl_threads.c, kernels_baseline.c,
#              kernels_avx2.c, kernels_avx512.c) with -std=c11 -Wall -Wextra -Wpedantic
#              -Werror plus setup.py's flags (without -ffast-math, which it never uses)
#   clang      the same with clang (skipped if clang is absent)
#   no-threads the sources that see CYL_NO_THREADS (setup.py's define for CYLOSS_NO_THREADS=1 /
#              CYLOSS_NO_OPENMP=1) again with it, with each compiler
#   test gcc / test clang / test no-threads
#              tools/portable_kernels_test.c linked with those objects, run natively: every
#              CPU target this CPU supports (baseline, avx2, avx512)
#   stack      with CHECK_STACK=1 only: the gcc stage compiles at setup.py's -O3 (plus -fPIC and
#              -ffp-contract=fast, the code generation of its -std=gnu11) with -fstack-usage, and
#              tools/check_stack.py --su-dir checks those frames: one -O3 build serves both checks
#   aarch64    the five sources and the test cross-compiled with aarch64-linux-gnu-gcc (same
#              flags, -Werror), run under qemu-aarch64 -L /usr/aarch64-linux-gnu; the dispatch
#              must report the baseline only (skipped if the cross compiler or qemu is absent)
# Nothing is written outside a temporary directory; no network.  CHECK_JOBS=N: compiler
# processes at once (default: the CPUs); CHECK_OPT: optimisation level (default -O2, at
# which -Wmaybe-uninitialized and the vectorizer's warnings are representative).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$SECONDS
jobs=${CHECK_JOBS:-$(nproc 2>/dev/null || echo 2)}
opt=${CHECK_OPT:--O2}
stack_check=${CHECK_STACK:-0}

# setup.py's flags for the C files (it builds at -O3; no -ffast-math anywhere), the ISO mode
# and the warnings.  setup.py has no per-file flags: kernels_avx2.c / kernels_avx512.c switch
# their target on themselves (#pragma GCC target / #pragma clang attribute push).
std="-std=c11 -Wall -Wextra -Wpedantic -Wvla -Werror"  # -Wvla: MSVC has no VLAs
proj="$opt -fopenmp-simd -fno-math-errno -fno-trapping-math -funroll-loops -fvisibility=hidden"
defs="-DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION -Icsrc"
portable="dispatch cyl_threads kernels_baseline"
arch=$(uname -m)
if [ "$arch" = x86_64 ]; then
    native_srcs="kernels_avx2 kernels_avx512 kernels_baseline dispatch cyl_threads" # largest first
else
    native_srcs="kernels_baseline dispatch cyl_threads kernels_avx2 kernels_avx512"
fi
# the sources that see CYL_NO_THREADS (through a header: all of them)
if grep -q CYL_NO_THREADS csrc/*.h; then
    nothreads_srcs=$native_srcs
else
    nothreads_srcs=$(for f in $native_srcs; do grep -q CYL_NO_THREADS "csrc/$f.c" && echo "$f"; done)
fi

have() { command -v "$1" > /dev/null 2>&1; }
have_clang=0; have clang && have_clang=1
cross=aarch64-linux-gnu-gcc
qemu=qemu-aarch64
sysroot=/usr/aarch64-linux-gnu
have_cross=0
if have "$cross" && have "$qemu" && [ -d "$sysroot" ]; then have_cross=1; fi

# ---------------------------------------------------------------- a small job pool
# job NAME CMD...: run CMD in the background (at most $jobs at once), output in
# $work/NAME.log, exit status in $work/NAME.rc
running=0
job() {
    local name=$1
    shift
    while [ "$running" -ge "$jobs" ]; do
        wait -n || true
        running=$((running - 1))
    done
    (
        set +e
        "$@" > "$work/$name.log" 2>&1
        echo $? > "$work/$name.rc"
    ) &
    running=$((running + 1))
}
drain() {
    wait || true
    running=0
}
ok() { [ -f "$work/$1.rc" ] && [ "$(cat "$work/$1.rc")" = 0 ]; }
# stage_result STAGE DESCRIPTION JOB...: one line; the logs of failed jobs (and any output
# of a compile that passed: there should be none) below it
failed_stages=""
stage_result() {
    local stage=$1 what=$2 bad=0 j
    shift 2
    for j in "$@"; do
        ok "$j" || bad=1
    done
    if [ $bad = 0 ]; then
        printf '%-12s OK    %s\n' "$stage" "$what"
    else
        printf '%-12s FAIL  %s\n' "$stage" "$what"
        failed_stages="$failed_stages $stage"
        for j in "$@"; do
            ok "$j" && continue
            echo "---- $j (exit status $(cat "$work/$j.rc" 2>/dev/null || echo '?')):"
            head -c 20000 "$work/$j.log" || true
        done
    fi
}
skip() { printf '%-12s SKIP  %s\n' "$1" "$2"; }

mkdir -p "$work/gcc" "$work/clang" "$work/gcc-nt" "$work/clang-nt" "$work/a64"
echo "check_portable_c: $arch, $jobs compiler processes, $opt$([ "$stack_check" = 1 ] && echo " (gcc: -O3, stack check)"); gcc $(gcc -dumpfullversion)$(
    [ $have_clang = 1 ] && echo ", $(clang --version | head -1)")"

# ---------------------------------------------------------------- compiles (largest first)
gcc_jobs="" clang_jobs="" nt_jobs="" a64_jobs=""
gcc_release=""  # CHECK_STACK=1: the release build's optimisation, and its stack-usage files
[ "$stack_check" = 1 ] && gcc_release="-O3 -ffp-contract=fast -fPIC -fstack-usage"
for f in $native_srcs; do
    # shellcheck disable=SC2086
    job "gcc-$f" gcc $std $proj $gcc_release -pthread $defs -c "csrc/$f.c" -o "$work/gcc/$f.o"
    gcc_jobs="$gcc_jobs gcc-$f"
    if [ $have_cross = 1 ] && [ "$f" = kernels_baseline ]; then
        job "a64-$f" "$cross" $std $proj -pthread $defs -c "csrc/$f.c" -o "$work/a64/$f.o"
        a64_jobs="$a64_jobs a64-$f"
    fi
done
if [ $have_clang = 1 ]; then
    for f in $native_srcs; do
        job "clang-$f" clang $std $proj -pthread $defs -c "csrc/$f.c" -o "$work/clang/$f.o"
        clang_jobs="$clang_jobs clang-$f"
    done
fi
if [ $have_cross = 1 ]; then
    for f in dispatch cyl_threads kernels_avx2 kernels_avx512; do # (the AVX files: empty there)
        job "a64-$f" "$cross" $std $proj -pthread $defs -c "csrc/$f.c" -o "$work/a64/$f.o"
        a64_jobs="$a64_jobs a64-$f"
    done
    job a64-test "$cross" $std -O2 -pthread $defs -c tools/portable_kernels_test.c -o "$work/a64/test.o"
    a64_jobs="$a64_jobs a64-test"
fi
for f in $nothreads_srcs; do
    job "gcc-nt-$f" gcc $std $proj $defs -DCYL_NO_THREADS=1 -c "csrc/$f.c" -o "$work/gcc-nt/$f.o"
    nt_jobs="$nt_jobs gcc-nt-$f"
    if [ $have_clang = 1 ]; then
        job "clang-nt-$f" clang $std $proj $defs -DCYL_NO_THREADS=1 -c "csrc/$f.c" -o "$work/clang-nt/$f.o"
        nt_jobs="$nt_jobs clang-nt-$f"
    fi
done
job gcc-test gcc $std -O2 -pthread $defs -c tools/portable_kernels_test.c -o "$work/gcc/test.o"
[ $have_clang = 1 ] && job clang-test clang $std -O2 -pthread $defs -c tools/portable_kernels_test.c \
    -o "$work/clang/test.o"
drain

# any compiler output at all (a warning that -Werror does not cover) fails the stage
for j in $gcc_jobs $clang_jobs $nt_jobs $a64_jobs gcc-test clang-test; do
    if [ -s "$work/$j.log" ] && ok "$j"; then echo 1 > "$work/$j.rc"; fi
done
n() { echo $#; }
stage_result gcc "$(n $native_srcs) sources + the test program: gcc $std" $gcc_jobs gcc-test
if [ $have_clang = 1 ]; then
    stage_result clang "$(n $native_srcs) sources + the test program: clang $std" $clang_jobs clang-test
else
    skip clang "clang not found"
fi
stage_result no-threads "-DCYL_NO_THREADS=1: $(echo $nothreads_srcs) with gcc$([ $have_clang = 1 ] && echo ' and clang')" \
    $nt_jobs

if [ "$stack_check" = 1 ]; then
    if [ -z "$(for j in $gcc_jobs; do ok "$j" || echo x; done)" ] \
            && python3 tools/check_stack.py --su-dir "$work/gcc" > "$work/stack.log" 2>&1; then
        echo 0 > "$work/stack.rc"
    else
        echo 1 > "$work/stack.rc"
    fi
    stage_result stack "$(sed -n 's/^check_stack: //p' "$work/stack.log" 2>/dev/null | head -1)" stack
fi

# ---------------------------------------------------------------- link and run the test
# link_run NAME CC OBJDIR [NT_OBJDIR] [RUNNER...]: link test.o with the objects (those of
# NT_OBJDIR replacing their namesakes) and run it
link_run() {
    local name=$1 cc=$2 dir=$3 nt=$4 objs="" f
    shift 4
    for f in $native_srcs; do
        if [ -n "$nt" ] && [ -f "$nt/$f.o" ]; then objs="$objs $nt/$f.o"; else objs="$objs $dir/$f.o"; fi
    done
    $cc -pthread "$dir/test.o" $objs -lm -o "$work/$name.bin" && "$@" "$work/$name.bin"
}
run_jobs=""
if [ $have_cross = 1 ] && [ -z "$(for j in $a64_jobs; do ok "$j" || echo x; done)" ]; then
    # the a64 directory holds the same five objects (the AVX files empty)
    job run-a64 link_run run-a64 "$cross" "$work/a64" "" "$qemu" -L "$sysroot"
    run_jobs="$run_jobs run-a64"
fi
if ok gcc-test && [ -z "$(for j in $gcc_jobs; do ok "$j" || echo x; done)" ]; then
    job run-gcc link_run run-gcc gcc "$work/gcc" ""
    run_jobs="$run_jobs run-gcc"
    if [ -z "$(for j in $nt_jobs; do case $j in gcc-*) ok "$j" || echo x ;; esac; done)" ]; then
        job run-nt link_run run-nt gcc "$work/gcc" "$work/gcc-nt"
        run_jobs="$run_jobs run-nt"
    fi
fi
if [ $have_clang = 1 ] && ok clang-test && [ -z "$(for j in $clang_jobs; do ok "$j" || echo x; done)" ]; then
    job run-clang link_run run-clang clang "$work/clang" ""
    run_jobs="$run_jobs run-clang"
fi
drain
summary() { grep -E 'checks on|FAILED|nothing ran' "$work/$1.log" 2>/dev/null | tail -1 | sed 's/^portable_kernels_test: //'; }
targets() { grep -E '^portable_kernels_test: target ' "$work/$1.log" 2>/dev/null | sed 's/^portable_kernels_test: target //; s/:.*//' | tr '\n' ' '; }
for r in gcc nt clang; do
    case $r in
        gcc) stage="test gcc" ;;
        nt) stage="test no-thr" ;;
        clang) stage="test clang" ;;
    esac
    if [ $r = clang ] && [ $have_clang = 0 ]; then
        skip "$stage" "clang not found"
    elif [ -f "$work/run-$r.rc" ]; then
        stage_result "$stage" "portable_kernels_test, targets: $(targets run-$r)- $(summary run-$r)" run-$r
    else
        printf '%-12s FAIL  not run (a compile failed above)\n' "$stage"
        failed_stages="$failed_stages $stage"
    fi
done
if [ $have_cross = 1 ]; then
    if [ -f "$work/run-a64.rc" ]; then
        # on aarch64 the dispatch has no x86 target: baseline built and chosen, nothing else
        if ok run-a64 && ! grep -q '^portable_kernels_test: targets built: baseline$' "$work/run-a64.log"; then
            echo "aarch64: the dispatch reports other targets than the baseline" >> "$work/run-a64.log"
            echo 1 > "$work/run-a64.rc"
        fi
        stage_result aarch64 "cross gcc -Werror + qemu-aarch64, targets: $(targets run-a64)- $(summary run-a64)" \
            $a64_jobs run-a64
    else
        stage_result aarch64 "cross-compile (aarch64-linux-gnu-gcc $std)" $a64_jobs
    fi
else
    missing=""
    have "$cross" || missing="$missing $cross"
    have "$qemu" || missing="$missing $qemu"
    [ -d "$sysroot" ] || missing="$missing $sysroot"
    skip aarch64 "not found:$missing (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)"
fi

echo "check_portable_c: $((SECONDS - start)) s"
if [ -n "$failed_stages" ]; then
    echo "check_portable_c: FAILED:$failed_stages"
    exit 1
fi
echo "check_portable_c: OK"
