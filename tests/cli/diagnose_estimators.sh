#!/bin/sh
# diagnose_estimators.sh — `syfosim diagnose --set trial.estimator=X` for
# every analysis model of scenario designs (DESIGN §4, §5): each runs on a
# design it suits, with no failed replication, its name in diagnosis.csv;
# cox targets the marginal log hazard ratio (0 under --null, > 0 with an
# effect); combinations an estimator cannot analyse are refused with exit 2
# with a message naming the keys, never silently fitting another model.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/diagnose_estimators.sh

. "$(dirname "$0")/lib/common.sh"
setup diagnose_estimators

SMALL="--reps 4 --set population.persons=16000"

# value D ESTIMAND DIAGNOSAND: a diagnosis.csv value
value() {
    awk -F, -v e="$2" -v d="$3" 'NR > 2 && $3 == e && $4 == d { print $5 }' "$1" 2>/dev/null
}

# run_est LABEL SCENARIO ESTIMATOR NAME [--set ...]: diagnose, check exit
# 0, the estimator's name and no failed replication.
run_est() {
    _label=$1 _sc=$2 _est=$3 _name=$4
    shift 4
    # shellcheck disable=SC2086
    syf diagnose "scenarios/$_sc.ini" $SMALL --set trial.estimator="$_est" "$@" --out "$TMP/$_label"
    expect_ok "diagnose $_sc --set trial.estimator=$_est $*"
    _D=$TMP/$_label/diagnosis.csv
    _names=$(awk -F, 'NR > 2 { print $2 }' "$_D" 2>/dev/null | sort -u | tr '\n' ' ')
    check "$_label: estimator column is '$_name' (got '$_names')" [ "$_names" = "$_name " ]
    _nf=$(awk -F, 'NR > 2 { print $7 "/" $8 }' "$_D" 2>/dev/null | sort -u | tr '\n' ' ')
    case $_nf in
    "4/0 ") pass "$_label: 4 replications, none failed" ;;
    *) fail "$_label: n_reps/n_failed = '$_nf' (want 4/0); $(grep -m1 failed "$TMP/$_label/replicates.csv" 2>/dev/null)" ;;
    esac
    _lab=sate
    [ "$_est" = cox ] && _lab=log_hr # cox targets the marginal log hazard ratio
    _est_mean=$(value "$_D" $_lab mean_estimate)
    _cov=$(value "$_D" $_lab coverage)
    _fin=$(awk -v m="$_est_mean" -v c="$_cov" 'BEGIN { print (m != "" && m == m + 0 && c >= 0 && c <= 1) ? 1 : 0 }')
    check "$_label: finite mean estimate ($_est_mean) and a coverage in [0, 1] ($_cov)" [ "$_fin" = 1 ]
}

run_est logit msyfo-triage logit logit_AME_CR1 --set trial.outcome=work_12m --set world.offices=8
run_est cox msyfo-triage cox cox_efron_CR0 --set world.offices=8 --set pilot.effect_hr=2 --null
run_est did msyfo-stepped-wedge did did_twfe_cells_CR2 --set world.offices=8
run_est cs msyfo-stepped-wedge cs cs_simple_notyet --set world.offices=8
run_est ipw msyfo-self-selected ipw ipw_logit_ps_CR1 --set world.offices=16 --set trial.treated_share=0.5

# cox: the estimand is the marginal log HR, > 0 (faster return) with an
# effect and exactly 0 under the null; the estimate has the effect's sign.
D=$TMP/cox/diagnosis.csv
m1=$(value "$D" log_hr mean_estimand)
m0=$(value "$D" null mean_estimand)
e1=$(value "$D" log_hr mean_estimate)
r=$(awk -v a="$m1" -v b="$m0" -v e="$e1" 'BEGIN { print (a > 0.05 && a < 1 && b == 0 && e > 0) ? 1 : 0 }')
check "cox: mean estimand $m1 > 0 with effect_hr = 2, $m0 = 0 under --null, mean estimate $e1 > 0" [ "$r" = 1 ]

# did / cs / logit / ipw target the SATE: the same estimand as ols on the same seeds
syf diagnose scenarios/msyfo-stepped-wedge.ini $SMALL --set world.offices=8 --set trial.estimator=ols --out "$TMP/ols"
expect_ok "diagnose msyfo-stepped-wedge --set trial.estimator=ols"
a=$(value "$TMP/ols/diagnosis.csv" sate mean_estimand)
for e in did cs; do
    b=$(value "$TMP/$e/diagnosis.csv" sate mean_estimand)
    check "$e: mean estimand (SATE) $b equals ols's $a" same_nonempty "$a" "$b"
done

# Bad combinations are refused up front: exit 2, the reason on stderr,
# nothing written.
bad() {
    _label=$1 _sc=$2 _words=$3
    shift 3
    # shellcheck disable=SC2086
    syf diagnose "scenarios/$_sc.ini" --reps 2 --set population.persons=6000 --set world.offices=6 "$@" --out "$TMP/$_label"
    _rc=$RC
    if [ "$_rc" = 2 ] && has_all "$TMP/err" "trial.estimator = " "$_words" && [ ! -e "$TMP/$_label/diagnosis.csv" ]; then
        pass "$_label: refused with exit 2: $(head -c 160 "$TMP/err")"
    else
        fail "$_label: exit $_rc, stderr: $(cat "$TMP/err")"
    fi
}
bad bad_logit msyfo-triage "trial.outcome = paid_days" --set trial.estimator=logit
bad bad_did msyfo-triage "trial.design = cluster_rct" --set trial.estimator=did
bad bad_cs msyfo-self-selected "stepped_wedge, staggered" --set trial.estimator=cs
bad bad_ipw msyfo-stepped-wedge "trial.design = stepped_wedge" --set trial.estimator=ipw

finish
