#!/bin/sh
# diagnose_mdes.sh — CLI tests of `syfosim diagnose --mdes` (issue 5):
# bisection on pilot.effect_hr with simulated power on the same seeds at
# every step; mdes.csv lists the steps and the result, the bracket is
# consistent (every effect below the MDES had power under the target, every
# one at or above it reached it), and the output does not depend on threads.
# Searches checkpoint: an --mdes or --clusters search interrupted (SIGINT,
# or SIGKILL between periodic checkpoints) and resumed with --resume ends
# with exactly the output of an uninterrupted search.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/diagnose_mdes.sh

. "$(dirname "$0")/lib/common.sh"
setup diagnose_mdes

SMALL="--set population.persons=12000 --set world.offices=12 --reps 12 --mdes-max 4"

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

# --- interrupted and resumed searches -------------------------------------------
# search_resume NAME SIGNAL DELAY ARGS...: an uninterrupted search to
# $TMP/NAME_ref, the same interrupted after DELAY s and resumed in
# $TMP/NAME; the outputs must be equal.
search_resume() {
    _nm=$1 _sig=$2 _delay=$3
    shift 3
    "$SYFOSIM" diagnose scenarios/msyfo-triage.ini "$@" --threads 2 --out "$TMP/${_nm}_ref" >"$TMP/${_nm}_ref.out" 2>&1
    "$SYFOSIM" diagnose scenarios/msyfo-triage.ini "$@" --threads 1 --checkpoint-secs 0.05 --out "$TMP/$_nm" \
        >"$TMP/bg.out" 2>"$TMP/bg.err" &
    _pid=$!
    sleep "$_delay"
    kill -"$_sig" $_pid 2>/dev/null
    wait $_pid 2>/dev/null
    _rc=$?
    _out=$(ls "$TMP/$_nm" 2>/dev/null | grep -c '\.csv$')
    if [ "$_rc" -eq 0 ]; then
        pass "$_nm: the search finished before SIG$_sig (machine fast); resume still checked"
    elif [ "$_sig" = INT ]; then
        if [ "$_rc" -eq 130 ] && grep -q "interrupted after" "$TMP/bg.err" && ls -A "$TMP/$_nm" | grep -q "step-.*\.ckpt"; then
            pass "$_nm: SIGINT: exit 130, step checkpoints kept: $(ls -A "$TMP/$_nm" | tr '\n' ' ')"
        else
            fail "$_nm: SIGINT: exit $_rc (want 130), stderr: $(cat "$TMP/bg.err"), dir: $(ls -A "$TMP/$_nm" 2>&1)"
        fi
        check "$_nm: no output written by the interrupted search (got $_out)" [ "$_out" = 0 ]
    else
        pass "$_nm: SIGKILL: exit $_rc, files: $(ls -A "$TMP/$_nm" 2>&1 | tr '\n' ' ')"
    fi
    syf diagnose scenarios/msyfo-triage.ini "$@" --threads 2 --out "$TMP/$_nm" --resume
    expect_ok "$_nm: --resume"
    _f=$(ls "$TMP/${_nm}_ref" | grep '\.csv$')
    sed "s#$TMP/${_nm}_ref#DIR#" "$TMP/${_nm}_ref.out" >"$TMP/a.out"
    sed "s#$TMP/$_nm#DIR#" "$TMP/out" >"$TMP/b.out"
    if [ -n "$_f" ] && cmp -s "$TMP/${_nm}_ref/$_f" "$TMP/$_nm/$_f" && cmp -s "$TMP/a.out" "$TMP/b.out"; then
        pass "$_nm: resumed $_f and summary byte-identical to the uninterrupted search"
    else
        fail "$_nm: resumed output differs: $(cmp "$TMP/${_nm}_ref/$_f" "$TMP/$_nm/$_f" 2>&1); $(diff "$TMP/a.out" "$TMP/b.out")"
    fi
    check "$_nm: step checkpoints removed at the end" eval '! ls -A "$TMP/$_nm" | grep -q ckpt'
}
MDES_RESUME="--mdes --set population.persons=12000 --set world.offices=12 --reps 16 --mdes-max 4"
search_resume mdes_int INT 0.3 $MDES_RESUME
if grep -q "interrupted after" "$TMP/bg.err" && ! grep -q "mdes-step-0:" "$TMP/bg.err"; then
    check "mdes_int: the resume replays the finished steps from their checkpoints" \
        grep -q "mdes-step-0: resuming: 16 of 16" "$TMP/err"
fi
search_resume clusters_kill KILL 0.4 --clusters --set population.persons=3000 --set world.offices=12 \
    --set pilot.effect_hr=3 --reps 20
syf diagnose scenarios/msyfo-triage.ini $MDES_RESUME --reps 17 --out "$TMP/mdes_int2" --resume
expect_ok "--resume of a search without checkpoints starts from the beginning"

syf diagnose scenarios/msyfo-triage.ini --mdes --set population.persons=3000 --set world.offices=6 --reps 4 --mdes-max 1.2 --out "$TMP/low"
expect_input_error "--mdes whose upper end lacks power" "--mdes-max"
syf diagnose scenarios/msyfo-triage.ini --mdes --shard 1/2 --out "$TMP/bad"
expect_input_error "--mdes with --shard" "--mdes"
syf diagnose scenarios/msyfo-triage.ini --mdes --clusters --out "$TMP/bad"
expect_input_error "--mdes with --clusters" "exclude"
syf diagnose scenarios/msyfo-triage.ini --mdes --power 2 --out "$TMP/bad"
expect_input_error "--power 2" "--power"

finish
