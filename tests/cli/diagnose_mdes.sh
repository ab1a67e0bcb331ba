#!/bin/sh
# diagnose_mdes.sh — CLI tests of `syfosim diagnose --mdes` (issue 5):
# bisection on pilot.effect_hr with simulated power on the same seeds at
# every step; mdes.csv lists the steps and the result, the bracket is
# consistent (every effect below the MDES had power under the target, every
# one at or above it reached it), and the output does not depend on threads.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/diagnose_mdes.sh

. "$(dirname "$0")/lib/common.sh"
setup diagnose_mdes

SMALL="--set population.persons=8000 --set world.offices=12 --reps 12 --mdes-max 4"

for t in 1 2; do
    # shellcheck disable=SC2086
    syf diagnose scenarios/msyfo-triage.ini --mdes $SMALL --threads $t --out "$TMP/t$t"
    expect_ok "diagnose --mdes --threads $t"
done
M=$TMP/t1/mdes.csv
if [ -s "$M" ] && cmp -s "$M" "$TMP/t2/mdes.csv"; then
    pass "mdes.csv byte-identical with --threads 1 and 2"
else
    fail "mdes.csv differs between --threads 1 and 2 (or is missing)"
fi
h=$(line_of "$M" 2)
check "mdes.csv header (got $h)" [ "$h" = "step,pilot.effect_hr,power,power_mcse,mean_estimand,mean_estimand_mcse,n_reps,n_failed" ]
mdes=$(awk -F, '$1 == "mdes" { print $2 }' "$M")
pw=$(awk -F, '$1 == "mdes" { print $3 }' "$M")
check "an MDES row with effect_hr in (1, 4] (got '$mdes')" awk -v x="$mdes" 'BEGIN { exit !(x != "" && x > 1 && x <= 4) }'
check "power at the MDES >= 0.8 (got '$pw')" awk -v p="$pw" 'BEGIN { exit !(p != "" && p >= 0.8) }'
bad=$(awk -F, -v m="$mdes" 'NR > 2 && $1 != "mdes" && (($2 < m && $3 >= 0.8) || ($2 >= m && $3 < 0.8)) { printf "%s ", $2 }' "$M")
check "bracket consistent: below the MDES power < 0.8, at or above it >= 0.8 (violations: ${bad:-none})" [ -z "$bad" ]
est=$(awk -F, '$1 == "mdes" { print $5 }' "$M")
check "the SATE at the MDES is reported and negative (fewer paid days; got '$est')" awk -v e="$est" 'BEGIN { exit !(e != "" && e < 0) }'
check "stdout names the MDES on the hazard-ratio scale and the SATE" grep -q "MDES at power 0.80: effect_hr" "$TMP/out"

syf diagnose scenarios/msyfo-triage.ini --mdes --set population.persons=3000 --set world.offices=6 --reps 4 --mdes-max 1.2 --out "$TMP/low"
expect_input_error "--mdes whose upper end lacks power" "--mdes-max"
syf diagnose scenarios/msyfo-triage.ini --mdes --shard 1/2 --out "$TMP/bad"
expect_input_error "--mdes with --shard" "--mdes"
syf diagnose scenarios/msyfo-triage.ini --mdes --clusters --out "$TMP/bad"
expect_input_error "--mdes with --clusters" "exclude"
syf diagnose scenarios/msyfo-triage.ini --mdes --power 2 --out "$TMP/bad"
expect_input_error "--power 2" "--power"

finish
