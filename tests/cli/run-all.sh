#!/bin/sh
# run-all.sh — run every tests/cli/*.sh (except this one) in sorted order.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/run-all.sh
# (this is what `make test-cli` and `make test-asan` run).  Each script's
# output is shown, followed by its status; the last line is exactly
# "N passed, M failed" (N, M = numbers of scripts).  Exit 1 if any failed.

SYFOSIM=${SYFOSIM:-build/syfosim}
export SYFOSIM

dir=$(dirname "$0")
self=$(basename "$0")
passed=0
failed=0
failed_names=

# The glob is sorted; LC_ALL=C makes the order independent of the locale.
LC_ALL=C
export LC_ALL

for t in "$dir"/*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t")
    [ "$name" = "$self" ] && continue
    echo "# --- $name (SYFOSIM=$SYFOSIM)"
    start=$(date +%s)
    sh "$t"
    rc=$?
    secs=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "# PASS $name (${secs} s)"
    else
        failed=$((failed + 1))
        failed_names="$failed_names $name"
        echo "# FAIL $name (exit $rc, ${secs} s)"
    fi
done

[ "$failed" -gt 0 ] && echo "# failed scripts:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
