#!/usr/bin/env bash
# Build cyloss with AddressSanitizer + UndefinedBehaviorSanitizer in a scratch copy of
# the tracked source tree and run the test suite against it; any sanitizer report fails.
#   tools/sanitize.sh [pytest args]      (default: the whole tests/ directory, minus the
#                                         tests that rebuild or re-run the suite)
# Needs gcc with libasan/libubsan and the test requirements in the current Python.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$src" && git ls-files -z | xargs -0 -I{} cp --parents {} "$work"/)
cd "$work"
cc=${CC:-gcc}
# the ThreadSanitizer program compiles in the background, beside the ASan build below
$cc -std=gnu11 -O1 -g -fsanitize=thread -pthread -fopenmp-simd -DCYL_NO_AVX2 -Icsrc tools/pool_stress.c \
    csrc/dispatch.c csrc/cyl_threads.c csrc/kernels_baseline.c -lm -o pool_stress > tsan_build.log 2>&1 &
tsan_build=$!
# the CPU target the tests will run: that of an installed cyloss (CI's README stage), else
# every target is instrumented
target=$( (cd / && python -c "import cyloss; print(cyloss._core.cpu_target())") 2>/dev/null || true)
case "$target" in
    avx512|avx2|baseline)
        export CYLOSS_SANITIZE_ONLY=$target CYLOSS_CPU=$target
        echo "== sanitizer build (CYLOSS_SANITIZE=1) in $work: target $target instrumented, those below at -O0, those above not built" ;;
    *)
        echo "== sanitizer build (CYLOSS_SANITIZE=1) in $work: every CPU target instrumented" ;;
esac
CYLOSS_SANITIZE=1 python setup.py -q build_ext --inplace > build.log 2>&1 || { tail -50 build.log; exit 1; }
echo "== ThreadSanitizer: tools/pool_stress.c (callers racing for the thread pool)"
wait "$tsan_build" || { cat tsan_build.log; exit 1; }
TSAN_OPTIONS="halt_on_error=1:${TSAN_OPTIONS:-}" ./pool_stress
preload="$($cc -print-file-name=libasan.so):$($cc -print-file-name=libubsan.so)"
for lib in ${preload//:/ }; do
    [ -f "$lib" ] || { echo "sanitize: $lib not found"; exit 1; }
done
# Python's own allocations are not ours to police: leaks off; everything else halts.
# --capture=sys: pytest captures Python-level output only, so a report written to fd 2
# by a process that the sanitizer aborts is not lost with the captured output.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export CYLOSS_SANITIZED=1   # tests that rebuild or re-run the suite skip themselves
echo "== tests under ASan/UBSan"
set +e
LD_PRELOAD="$preload" python -m pytest -p no:cacheprovider --capture=sys -q "${@:-tests}" 2>&1 | tee pytest.log
status=${PIPESTATUS[0]}
set -e
if grep -qE "ERROR: AddressSanitizer|runtime error:|ERROR: UndefinedBehaviorSanitizer" pytest.log; then
    echo "sanitize: sanitizer report above"
    exit 1
fi
if grep -qE "no tests ran|collected 0 items" pytest.log; then
    echo "sanitize: no tests collected"
    exit 1
fi
exit "$status"
