#!/bin/sh
# diagnose_resume.sh — CLI tests of `syfosim diagnose` checkpoints (issue 5):
# a run interrupted by SIGINT (or killed with SIGKILL between periodic
# checkpoints) and resumed with --resume ends with outputs byte-identical to
# an uninterrupted run; --resume refuses a checkpoint of another run; the
# progress bar appears only on a terminal.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/diagnose_resume.sh

. "$(dirname "$0")/lib/common.sh"
setup diagnose_resume

# Small worlds (about 3 ms a replication on one thread) and enough
# replications that the interrupted run (1 thread) lasts well over the 0.2 s
# before the signal; the reference and the resumed runs use 2 threads.
SMALL="--set population.persons=3000 --set world.offices=6"
REPS=120

syf diagnose scenarios/msyfo-triage.ini $SMALL --reps $REPS --threads 2 --out "$TMP/ref"
expect_ok "uninterrupted reference run ($REPS replications)"
check "the reference run leaves no checkpoint" [ ! -e "$TMP/ref/.diagnose.ckpt" ]

# same_outputs NAME DIR: DIR's diagnosis.csv and replicates.csv equal the reference's.
same_outputs() {
    for f in diagnosis.csv replicates.csv; do
        if [ -s "$2/$f" ] && cmp -s "$TMP/ref/$f" "$2/$f"; then
            pass "$1: $f byte-identical to the uninterrupted run"
        else
            fail "$1: $f differs from the uninterrupted run (or is missing): $(cmp "$TMP/ref/$f" "$2/$f" 2>&1)"
        fi
    done
}

# interrupt NAME SIGNAL DIR EXTRA...: start a run in the background, send
# SIGNAL after 0.3 s, then resume it; leaves the outcome in $INTERRUPTED.
interrupt() {
    _nm=$1 _sig=$2 _dir=$3
    shift 3
    "$SYFOSIM" diagnose scenarios/msyfo-triage.ini $SMALL --reps $REPS --threads 1 --out "$_dir" "$@" \
        >"$TMP/bg.out" 2>"$TMP/bg.err" &
    _pid=$!
    sleep 0.2
    kill -"$_sig" $_pid 2>/dev/null
    wait $_pid 2>/dev/null
    _rc=$?
    INTERRUPTED=1
    if [ -s "$_dir/diagnosis.csv" ] && [ "$_rc" -eq 0 ]; then
        INTERRUPTED=0
        pass "$_nm: the run finished before SIG$_sig arrived (machine fast); resume still checked"
    elif [ "$_sig" = INT ]; then
        if [ "$_rc" -eq 130 ] && grep -q "interrupted after" "$TMP/bg.err" && [ -s "$_dir/.diagnose.ckpt" ]; then
            pass "$_nm: SIGINT: exit 130, checkpoint written: $(cat "$TMP/bg.err")"
        else
            fail "$_nm: SIGINT: exit $_rc (want 130), stderr: $(cat "$TMP/bg.err"), checkpoint: $(ls -A "$_dir" 2>&1)"
        fi
        check "$_nm: no outputs written by the interrupted run" [ ! -e "$_dir/diagnosis.csv" ]
    else
        pass "$_nm: SIGKILL: exit $_rc, checkpoint present: $([ -s "$_dir/.diagnose.ckpt" ] && echo yes || echo 'no (killed before the first save)')"
    fi
    "$SYFOSIM" diagnose scenarios/msyfo-triage.ini $SMALL --reps $REPS --threads 2 --out "$_dir" --resume "$@" \
        >"$TMP/out" 2>"$TMP/err"
    RC=$?
    expect_ok "$_nm: --resume"
    same_outputs "$_nm: resumed" "$_dir"
    check "$_nm: the checkpoint is removed after the outputs are written" [ ! -e "$_dir/.diagnose.ckpt" ]
}

interrupt "SIGINT" INT "$TMP/int"
if grep -q "resuming:" "$TMP/err"; then
    pass "SIGINT: resume reports what was already done: $(grep resuming: "$TMP/err")"
elif [ $INTERRUPTED -eq 0 ]; then
    pass "SIGINT: (run had finished; nothing to resume)"
else
    fail "SIGINT: resume did not report loading the checkpoint: $(cat "$TMP/err")"
fi

# SIGKILL cannot be caught: only the periodic checkpoints (here every
# 0.05 s) survive it.
interrupt "SIGKILL" KILL "$TMP/kill" --checkpoint-secs 0.05

# --- a checkpoint of another run is refused --------------------------------
"$SYFOSIM" diagnose scenarios/msyfo-triage.ini $SMALL --reps $REPS --threads 1 --out "$TMP/mis" \
    >/dev/null 2>&1 &
pid=$!
sleep 0.2
kill -INT $pid 2>/dev/null
wait $pid
if [ -s "$TMP/mis/.diagnose.ckpt" ]; then
    syf diagnose scenarios/msyfo-triage.ini $SMALL --reps $((REPS + 1)) --out "$TMP/mis" --resume
    expect_input_error "--resume with other --reps" "checkpoint" "replications" "without --resume"
    syf diagnose scenarios/msyfo-triage.ini $SMALL --reps $REPS --seed 7 --out "$TMP/mis" --resume
    expect_input_error "--resume with another --seed" "checkpoint" "seed"
    syf diagnose scenarios/msyfo-triage.ini $SMALL --reps $REPS --set pilot.effect_hr=1.3 --out "$TMP/mis" --resume
    expect_input_error "--resume with another scenario value" "scenario hash"
    syf diagnose scenarios/msyfo-triage.ini $SMALL --null --reps $REPS --out "$TMP/mis" --resume
    expect_input_error "--resume with --null added" "options"
    check "refused resumes leave the checkpoint alone" [ -s "$TMP/mis/.diagnose.ckpt" ]
else
    pass "checkpoint mismatch tests skipped: the run finished before SIGINT"
fi

syf diagnose scenarios/msyfo-triage.ini $SMALL --reps 4 --out "$TMP/fresh" --resume
expect_ok "--resume without a checkpoint starts from the beginning"
check "... and says so" grep -q "no checkpoint" "$TMP/err"

# --- progress bar: only on a terminal -----------------------------------------
syf diagnose scenarios/msyfo-triage.ini $SMALL --null --reps 4 --out "$TMP/quiet"
if grep -q "ETA" "$TMP/err"; then
    fail "no progress bar when stderr is not a terminal: $(cat "$TMP/err")"
else
    pass "no progress bar when stderr is not a terminal"
fi
if command -v script >/dev/null 2>&1; then
    script -qec "$SYFOSIM diagnose scenarios/msyfo-triage.ini $SMALL --null --reps 4 --out $TMP/tty" /dev/null \
        >"$TMP/tty.out" 2>&1
    if grep -q "ETA" "$TMP/tty.out" && grep -q "8/8" "$TMP/tty.out"; then
        pass "progress bar with ETA on a terminal (script(1))"
    else
        fail "no progress bar on a terminal: $(cat "$TMP/tty.out")"
    fi
fi

finish
