#!/bin/sh
# calibrate.sh — CLI tests of `syfosim calibrate`: this is the test that keeps
# the shipped baseline calibrated (DESIGN §2 "the test suite holds it there"),
# so the baseline runs at its full shipped size.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/calibrate.sh

. "$(dirname "$0")/lib/common.sh"
setup calibrate

# --- the shipped baseline meets every target (full size) -----------------
syf calibrate scenarios/baseline-norway.ini --threads 1
cp "$TMP/out" "$TMP/cal1"
if [ "$RC" -eq 0 ] && grep -q "all targets met" "$TMP/cal1"; then
    pass "calibrate baseline-norway (full size): exit 0, all targets met"
else
    fail "calibrate baseline-norway: exit $RC (want 0); missed targets:"
    grep FAIL "$TMP/cal1" | sed 's/^/#   /'
    sed 's/^/#   stderr: /' "$TMP/err"
fi

n=$(grep -c ' ok  ' "$TMP/cal1")
check "calibration table lists at least 20 targets, all ok (got $n ok rows)" [ "$n" -ge 20 ]
nf=$(grep -c 'FAIL' "$TMP/cal1")
check "no FAIL row for the shipped baseline (got $nf)" [ "$nf" = 0 ]

syf calibrate scenarios/baseline-norway.ini --threads 2
cp "$TMP/out" "$TMP/cal2"
if [ "$RC" -eq 0 ] && cmp -s "$TMP/cal1" "$TMP/cal2"; then
    pass "calibrate --threads 1 and --threads 2: identical output"
else
    fail "calibrate --threads 2: exit $RC, differs from --threads 1: $(diff "$TMP/cal1" "$TMP/cal2" | head -n 4 | tr '\n' ' ')"
fi

# --- a clearly wrong duration hazard misses the targets -------------------
# (a smaller population is enough to see it)
H=0.001
i=1
while [ $i -lt 16 ]; do
    H="$H,0.001"
    i=$((i + 1))
done
syf calibrate scenarios/baseline-norway.ini --persons 200000 --set "duration.baseline_hazard=$H"
if [ "$RC" -eq 1 ] && grep -q "FAIL" "$TMP/out" && ! grep -q "all targets met" "$TMP/out"; then
    pass "calibrate with baseline_hazard all 0.001: exit 1, prints FAIL ($(grep -c FAIL "$TMP/out") rows)"
else
    fail "calibrate with baseline_hazard all 0.001: exit $RC (want 1), FAIL rows: $(grep -c FAIL "$TMP/out"), stderr: $(cat "$TMP/err")"
fi
if grep 'mean spell duration' "$TMP/out" | grep -q FAIL; then
    pass "the wrong hazard fails the mean-duration target"
else
    fail "the wrong hazard does not fail the mean-duration target: $(grep 'mean spell duration' "$TMP/out")"
fi

# --- effect calibration: the hazard ratio for a work prior (row 57) ---------
syf calibrate scenarios/baseline-norway.ini --effect cbt --target 0.07 --persons 40000 \
    --set team_cbt.fte=1000 --set pilot.triage_day=56 --set team_cbt.refer_day=56
HR=$(sed -n 's/^hazard ratio \([0-9.]*\) gives.*/\1/p' "$TMP/out")
RD=$(sed -n 's/^hazard ratio [0-9.]* gives \([-+0-9.]*\).*/\1/p' "$TMP/out")
if [ "$RC" -eq 0 ] && [ -n "$HR" ] && awk -v h="$HR" -v d="$RD" 'BEGIN { exit !(h > 1 && d > 0.068 && d < 0.072) }'; then
    pass "calibrate --effect cbt --target 0.07: exit 0, hazard ratio $HR gives $RD"
else
    fail "calibrate --effect: exit $RC, out: $(cat "$TMP/out") err: $(cat "$TMP/err")"
fi
# the ratio it prints gives the target back when measured on the same seed
syf calibrate scenarios/baseline-norway.ini --effect cbt --target -0.05 --persons 40000 \
    --set team_cbt.fte=1000
HRN=$(sed -n 's/^hazard ratio \([0-9.]*\) gives.*/\1/p' "$TMP/out")
if [ "$RC" -eq 0 ] && awk -v h="$HRN" 'BEGIN { exit !(h < 1) }'; then
    pass "a harmful target (-0.05) gives a hazard ratio below 1 ($HRN)"
else
    fail "calibrate --effect --target -0.05: exit $RC, hr '$HRN': $(cat "$TMP/err")"
fi
syf calibrate scenarios/baseline-norway.ini --effect dentist --target 0.07
expect_input_error "calibrate --effect with an unknown team" "dentist" "accepted"
syf calibrate scenarios/baseline-norway.ini --effect cbt --target 7
expect_input_error "calibrate --target outside (-1, 1)" "--target" "accepted"
syf calibrate scenarios/baseline-norway.ini --effect cbt
expect_input_error "calibrate --effect without --target" "--target"

# --- bad input -------------------------------------------------------------
syf calibrate scenarios/baseline-norway.ini --set duration.baseline_hazard=0.1,0.1
expect_input_error "calibrate --set baseline_hazard with 2 values" "duration.baseline_hazard" "accepted"

syf calibrate scenarios/baseline-norway.ini --persons 0
expect_input_error "calibrate --persons 0" "--persons"

syf calibrate scenarios/no-such-scenario.ini
expect_input_error "calibrate of a missing scenario file" "scenarios/no-such-scenario.ini"

finish
