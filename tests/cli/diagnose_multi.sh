#!/bin/sh
# diagnose_multi.sh — CLI tests of `syfosim diagnose|sweep --estimators`
# (issue 5): several analysis models fitted to the same replications, one
# simulation per replication.  Each estimator's rows are byte-identical to
# a diagnosis with that trial.estimator alone; the outputs do not depend on
# threads, shards (merge) or interruption (--resume); --null and --replay
# work per estimator; entries that cannot analyse the design are refused
# with exit 2; sweep takes the list too.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/diagnose_multi.sh

. "$(dirname "$0")/lib/common.sh"
setup diagnose_multi

SW=scenarios/msyfo-stepped-wedge.ini
SMALL="--set population.persons=4000 --set world.offices=8 --set trial.inference_draws=49"
LIST=lmm,ols,ols+wild,did

syf diagnose $SW $SMALL --null --reps 8 --threads 2 --estimators $LIST --out "$TMP/ref"
expect_ok "diagnose --estimators $LIST --null"
# rows: 4 estimators x (sate, null) x 11 diagnosands; replicates: 4 x 2 x 8
check "diagnosis.csv has 88 rows (got $(data_rows "$TMP/ref/diagnosis.csv"))" [ "$(data_rows "$TMP/ref/diagnosis.csv")" = 88 ]
check "replicates.csv has 64 rows (got $(data_rows "$TMP/ref/replicates.csv"))" [ "$(data_rows "$TMP/ref/replicates.csv")" = 64 ]
h=$(line_of "$TMP/ref/replicates.csv" 2)
check "replicates.csv has an estimator column after estimand (got $h)" \
    [ "$h" = "estimand,estimator,replication,status,estimate,std_error,df,p_value,conf_low,conf_high,estimand_value,n,clusters,reason" ]
n=$(csv_col "$TMP/ref/diagnosis.csv" estimator | sort -u | wc -l)
check "four estimators in diagnosis.csv (got $n)" [ "$n" = 4 ]
check "provenance names the list" grep -q "estimators=$LIST" "$TMP/ref/diagnosis.csv"

# Each estimator alone: its rows of the multi-estimator outputs.
for e in lmm ols ols+wild did; do
    inf=analytic
    case $e in *+wild) inf=wild ;; esac
    syf diagnose $SW $SMALL --null --reps 8 --threads 1 --set trial.estimator=${e%+*} \
        --set trial.inference=$inf --out "$TMP/one_$e"
    name=$(awk -F, 'NR == 3 { print $2 }' "$TMP/one_$e/diagnosis.csv")
    awk -F, -v n="$name" 'NR > 2 && $2 == n' "$TMP/ref/diagnosis.csv" >"$TMP/a"
    awk 'NR > 2' "$TMP/one_$e/diagnosis.csv" >"$TMP/b"
    check "$e ($name): its diagnosis.csv rows are those of trial.estimator alone" \
        eval '[ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b"'
    awk -F, -v n="$name" 'BEGIN { OFS = "," } NR > 2 && $2 == n { $2 = ""; sub(",,", ","); print }' \
        "$TMP/ref/replicates.csv" >"$TMP/a"
    awk 'NR > 2' "$TMP/one_$e/replicates.csv" >"$TMP/b"
    check "$e: its replicates.csv rows are those of trial.estimator alone" \
        eval '[ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b"'
done

# same_outputs NAME DIR: DIR's outputs equal the reference's.
same_outputs() {
    for f in diagnosis.csv replicates.csv; do
        if [ -s "$2/$f" ] && cmp -s "$TMP/ref/$f" "$2/$f"; then
            pass "$1: $f byte-identical"
        else
            fail "$1: $f differs: $(cmp "$TMP/ref/$f" "$2/$f" 2>&1)"
        fi
    done
}

syf diagnose $SW $SMALL --null --reps 8 --threads 1 --estimators $LIST --out "$TMP/t1"
expect_ok "--threads 1"
same_outputs "--threads 1 vs 2" "$TMP/t1"

for i in 1 2 3; do
    syf diagnose $SW $SMALL --null --reps 8 --threads 1 --estimators $LIST --shard $i/3 --out "$TMP/sh"
done
syf merge "$TMP/sh" --out "$TMP/merged"
expect_ok "merge of 3 shards"
same_outputs "3 shards merged" "$TMP/merged"
syf diagnose $SW $SMALL --null --reps 8 --estimators lmm,ols --shard 1/3 --out "$TMP/sh_other"
syf merge "$TMP/sh/shard-2-of-3.mcr" "$TMP/sh/shard-3-of-3.mcr" "$TMP/sh_other" --out "$TMP/bad"
expect_input_error "merge refuses a shard with another --estimators list" "options"

# Interrupted (SIGINT) and resumed: the same outputs.
"$SYFOSIM" diagnose $SW $SMALL --null --reps 40 --threads 1 --estimators $LIST --out "$TMP/int" \
    >"$TMP/bg.out" 2>"$TMP/bg.err" &
pid=$!
sleep 0.3
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
if [ $rc -eq 130 ]; then
    check "SIGINT: exit 130 and a checkpoint" [ -s "$TMP/int/.diagnose.ckpt" ]
else
    pass "the run finished before SIGINT (exit $rc); resume still checked"
fi
syf diagnose $SW $SMALL --null --reps 40 --threads 2 --estimators $LIST --out "$TMP/int" --resume
expect_ok "--resume with --estimators"
syf diagnose $SW $SMALL --null --reps 40 --threads 2 --estimators $LIST --out "$TMP/full"
for f in diagnosis.csv replicates.csv; do
    check "resumed $f byte-identical to an uninterrupted run" cmp -s "$TMP/full/$f" "$TMP/int/$f"
done
check "the checkpoint is removed" [ ! -e "$TMP/int/.diagnose.ckpt" ]
syf diagnose $SW $SMALL --null --reps 40 --estimators lmm --out "$TMP/full" --resume
expect_ok "--resume with another list and no checkpoint starts afresh"

# --replay: every estimator of the list on one replication.
syf diagnose $SW $SMALL --estimators $LIST --replay 3
expect_ok "--replay 3 --estimators"
want=$(awk -F, '$1 == "sate" && $2 ~ /^did/ && $3 == 3 { print $5 }' "$TMP/ref/replicates.csv")
got=$(awk '/^  did /{ f = 1; next } f && /estimate/ { sub(/^  estimate /, ""); sub(/,.*/, ""); print; exit }' "$TMP/out")
check "--replay 3 gives replication 3's did estimate ($want; got $got)" same_nonempty "$want" "$got"

# Refused lists (exit 2, nothing run).
syf diagnose scenarios/msyfo-triage.ini --reps 2 --estimators ols,did --out "$TMP/bad"
expect_input_error "did on a cluster RCT" "--estimators" "did" "stepped_wedge"
syf diagnose $SW --reps 2 --estimators lmm+wild --out "$TMP/bad"
expect_input_error "lmm+wild" "lmm+wild" "trial.inference = wild"
syf diagnose $SW --reps 2 --estimators ols,bogus --out "$TMP/bad"
expect_input_error "an unknown estimator" "bogus" "accepted"
syf diagnose $SW --reps 2 --estimators ols+nope --out "$TMP/bad"
expect_input_error "an unknown inference" "nope" "accepted"
syf diagnose $SW --reps 2 --estimators ols,ols --out "$TMP/bad"
expect_input_error "a duplicate" "twice"
syf diagnose $SW --reps 2 --estimators "ols,,lmm" --out "$TMP/bad"
expect_input_error "an empty entry" "empty"
syf diagnose $SW --reps 2 --estimators logit --out "$TMP/bad"
expect_input_error "logit without a binary outcome" "work_12m"
syf diagnose $SW --mdes --estimators lmm,ols --out "$TMP/bad"
expect_input_error "--mdes with two estimators" "one estimator"
check "refused runs write nothing" dir_is_empty "$TMP/bad"

# sweep --estimators: threads and shards give the same outputs.
GRID="--set population.persons=4000 --set world.offices=8 --set pilot.effect_hr=1.0,1.3 --reps 4"
syf sweep $SW $GRID --null --estimators lmm,ols --threads 2 --out "$TMP/s2"
expect_ok "sweep --estimators lmm,ols --null"
check "sweep.csv: 2 points x 2 estimators x (sate, null) x 11 rows (got $(data_rows "$TMP/s2/sweep.csv"))" \
    [ "$(data_rows "$TMP/s2/sweep.csv")" = 88 ]
check "sweep_replicates.csv has an estimator column" grep -q ",pilot.effect_hr,estimand,estimator,replication," "$TMP/s2/sweep_replicates.csv"
syf sweep $SW $GRID --null --estimators lmm,ols --threads 1 --out "$TMP/s1"
for f in sweep.csv sweep_replicates.csv; do
    check "sweep: $f byte-identical for threads 1 and 2" cmp -s "$TMP/s1/$f" "$TMP/s2/$f"
done
for i in 1 2; do
    syf sweep $SW $GRID --null --estimators lmm,ols --shard $i/2 --out "$TMP/ssh"
done
syf merge "$TMP/ssh" --out "$TMP/smerged"
expect_ok "sweep: merge of 2 shards"
for f in sweep.csv sweep_replicates.csv; do
    check "sweep: merged $f byte-identical" cmp -s "$TMP/s1/$f" "$TMP/smerged/$f"
done
syf sweep $SW $GRID --set trial.estimator=ols,lmm --estimators ols --out "$TMP/bad2"
expect_input_error "sweep: --set trial.estimator with --estimators" "trial.estimator" "--estimators"

finish
