#!/bin/sh
# diagnose_inference.sh — `syfosim diagnose --set trial.inference=wild|ri`
# (few-cluster inference for the ols analysis, include/syfosim/trial.h): on
# msyfo-triage (cluster RCT) and msyfo-stepped-wedge (ols), small sizes, 6
# replications: exit 0, no failed replication, the estimator column names
# the inference ("+wild" / "+ri_p"), estimates and SEs equal the analytic
# run's while the p-values differ, outputs byte-identical with 1 and 2
# threads; unsupported combinations exit 2 naming the keys.  Also
# `estimate --method did --inference wild` against the same bootstrap of the
# dummy-variable regression (--method ols).
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/diagnose_inference.sh

. "$(dirname "$0")/lib/common.sh"
setup diagnose_inference

SMALL="--reps 6 --set population.persons=20000 --set world.offices=8"

# cols FILE: estimate and std_error columns of replicates.csv
cols() { awk -F, 'NR > 2 { print $4 "," $5 }' "$1" 2>/dev/null; }
pvals() { awk -F, 'NR > 2 { print $7 }' "$1" 2>/dev/null; }
differ() { [ -n "$2" ] && [ "$1" != "$2" ]; }

# run LABEL SCENARIO INFERENCE NAME THREADS [--set ...]
run() {
    _label=$1 _sc=$2 _inf=$3 _name=$4 _thr=$5
    shift 5
    # shellcheck disable=SC2086
    syf diagnose "scenarios/$_sc.ini" $SMALL --threads "$_thr" --set trial.inference="$_inf" \
        "$@" --out "$TMP/$_label"
    expect_ok "diagnose $_sc --set trial.inference=$_inf --threads $_thr"
    _D=$TMP/$_label/diagnosis.csv
    _names=$(awk -F, 'NR > 2 { print $2 }' "$_D" 2>/dev/null | sort -u | tr '\n' ' ')
    check "$_label: estimator column is '$_name' (got '$_names')" [ "$_names" = "$_name " ]
    _nf=$(awk -F, 'NR > 2 { print $7 "/" $8 }' "$_D" 2>/dev/null | sort -u | tr '\n' ' ')
    check "$_label: 6 replications, none failed (got '$_nf')" [ "$_nf" = "6/0 " ]
}

for sc in msyfo-triage msyfo-stepped-wedge; do
    case $sc in
    msyfo-triage) base=ols_CR2 ;;
    *) base=ols_CR2+period_fe ;;
    esac
    run "$sc-analytic" $sc analytic $base 1 --set trial.estimator=ols
    for inf in wild ri; do
        case $inf in
        wild) suf=+wild ;;
        *) suf=+ri_p ;;
        esac
        run "$sc-$inf-1" $sc $inf "$base$suf" 1 --set trial.estimator=ols
        run "$sc-$inf-2" $sc $inf "$base$suf" 2 --set trial.estimator=ols
        for f in diagnosis.csv replicates.csv; do
            check "$sc $inf: $f identical with 1 and 2 threads" \
                cmp -s "$TMP/$sc-$inf-1/$f" "$TMP/$sc-$inf-2/$f"
        done
        a=$(cols "$TMP/$sc-analytic/replicates.csv")
        b=$(cols "$TMP/$sc-$inf-1/replicates.csv")
        check "$sc $inf: estimates and SEs are the analytic run's" same_nonempty "$a" "$b"
        pa=$(pvals "$TMP/$sc-analytic/replicates.csv")
        pb=$(pvals "$TMP/$sc-$inf-1/replicates.csv")
        check "$sc $inf: p-values differ from the analytic ones" differ "$pa" "$pb"
    done
done

# estimate --method did --inference wild (cli/est_did.c): on the first 150
# counties of mpdta the WCR of the unit-demeaned TWFE regression must equal
# the WCR of the same regression with unit and year dummies (--method ols,
# CR1: the bootstrap-t p-value does not depend on the CR factor), draw for
# draw: same p-value, interval to 1e-9 (Frisch-Waugh-Lovell; the restricted
# residuals have zero mean within each unit).
awk -F, 'NR == 1 { print; next } { if (!($2 in s)) s[$2] = ++n; if (s[$2] <= 150) print }' \
    tests/data/mpdta.csv >"$TMP/m150.csv"
awk -F, 'NR == 1 { next }
    { gsub(/"/, ""); yr[NR] = $1; id[NR] = $2; y[NR] = $4; ft[NR] = $5
      if (!($2 in seen)) { seen[$2] = ++nu; ids[nu] = $2 } }
    END {
      printf "lemp,D,cl"; for (t = 2004; t <= 2007; t++) printf ",y%d", t
      for (u = 2; u <= nu; u++) printf ",u%s", ids[u]; printf "\n"
      for (i = 2; i <= NR; i++) {
        printf "%s,%d,%s", y[i], (ft[i] > 0 && yr[i] >= ft[i]) ? 1 : 0, id[i]
        for (t = 2004; t <= 2007; t++) printf ",%d", yr[i] == t
        for (u = 2; u <= nu; u++) printf ",%d", id[i] == ids[u]
        printf "\n" } }' "$TMP/m150.csv" >"$TMP/m150d.csv"
covs=$(head -n 1 "$TMP/m150d.csv" | cut -d, -f4-)
for wt in "rademacher 7" "webb 3"; do
    set -- $wt
    syf estimate --data "$TMP/m150.csv" --method did --outcome lemp --id countyreal --time year \
        --group first.treat --inference wild --draws 999 --weights "$1" --seed "$2" --format csv
    expect_ok "estimate did --inference wild --weights $1"
    a=$(awk -F, '$1 == "ATT" { print $6, $7, $8 }' "$TMP/out")
    syf estimate --data "$TMP/m150d.csv" --method ols --outcome lemp --treat D --covariates "$covs" \
        --cluster cl --se CR1 --inference wild --draws 999 --weights "$1" --seed "$2" --format csv
    expect_ok "estimate ols with unit dummies --inference wild --weights $1"
    b=$(awk -F, '$1 == "D" { print $6, $7, $8 }' "$TMP/out")
    r=$(echo "$a $b" | awk 'function ad(x) { return x < 0 ? -x : x }
        NF == 6 { ok = $1 == $4
                  for (j = 2; j <= 3; j++) if (ad($j - $(j + 3)) > 1e-9 * ad($j)) ok = 0
                  print ok; exit } { print 0 }')
    check "did wild ($1) = ols with unit dummies wild: p, CI '$a' vs '$b'" [ "$r" = 1 ]
done
syf estimate --data "$TMP/m150.csv" --method did --outcome lemp --id countyreal --time year \
    --group first.treat --inference ri
expect_input_error "did --inference ri" "--inference" "analytic or wild"
syf estimate --data "$TMP/m150.csv" --method did --outcome lemp --id countyreal --time year \
    --group first.treat --aggregate event --inference wild
expect_input_error "did --aggregate event --inference wild" "twfe"
syf estimate --data "$TMP/m150.csv" --method did --outcome lemp --id countyreal --time year \
    --group first.treat --draws 99
expect_input_error "did --draws without --inference wild" "--draws"

# refused combinations (exit 2, message naming the keys)
syf diagnose scenarios/msyfo-stepped-wedge.ini $SMALL --set trial.inference=wild --out "$TMP/x1"
expect_input_error "wild with trial.estimator = lmm" "trial.inference = wild" "trial.estimator = lmm"
syf diagnose scenarios/msyfo-self-selected.ini $SMALL --set trial.inference=ri --out "$TMP/x2"
expect_input_error "ri with a self-selected design" "trial.inference = ri" "self_selected"
syf diagnose scenarios/risk-score-rd.ini $SMALL --set trial.inference=wild --out "$TMP/x3"
expect_input_error "wild with the rd design" "trial.inference = wild" "rd"
syf diagnose scenarios/msyfo-triage.ini $SMALL --set trial.inference=exact --out "$TMP/x4"
expect_input_error "unknown trial.inference" "inference"

finish
