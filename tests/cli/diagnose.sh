#!/bin/sh
# diagnose.sh — CLI tests of `syfosim diagnose` (DESIGN §5, §6: Monte Carlo
# diagnosis, bit-identical whatever the number of threads).
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/diagnose.sh

. "$(dirname "$0")/lib/common.sh"
setup diagnose

SMALL="--reps 6 --set population.persons=20000 --set world.offices=8 --null"
HEADER="design,estimator,estimand,diagnosand,value,mcse,n_reps,n_failed"

for t in 1 2; do
    # shellcheck disable=SC2086
    syf diagnose scenarios/msyfo-triage.ini $SMALL --threads $t --out "$TMP/t$t"
    expect_ok "diagnose msyfo-triage --reps 6 --null --threads $t"
    cp "$TMP/err" "$TMP/err$t"
done

for f in diagnosis.csv replicates.csv; do
    if [ -s "$TMP/t1/$f" ] && [ -s "$TMP/t2/$f" ] && cmp -s "$TMP/t1/$f" "$TMP/t2/$f"; then
        pass "$f byte-identical with --threads 1 and --threads 2"
    else
        fail "$f differs (or is missing) between --threads 1 and 2: $(cmp "$TMP/t1/$f" "$TMP/t2/$f" 2>&1)"
    fi
done

D=$TMP/t1/diagnosis.csv
l1=$(line_of "$D" 1)
case $l1 in
"# syfosim "*git=*scenario_hash=*seed=*) pass "diagnosis.csv provenance line: $l1" ;;
*) fail "diagnosis.csv provenance line: $l1" ;;
esac
h=$(line_of "$D" 2)
check "diagnosis.csv header is $HEADER (got $h)" [ "$h" = "$HEADER" ]

for estimand in sate null; do
    missing=
    for dg in mean_estimand mean_estimate bias sd rmse power coverage; do
        n=$(awk -F, -v e="$estimand" -v d="$dg" 'NR > 2 && $3 == e && $4 == d && $5 != "" { n++ } END { print n + 0 }' "$D" 2>/dev/null)
        [ "${n:-0}" -ge 1 ] || missing="$missing $dg"
    done
    check "diagnosis.csv has estimand $estimand rows for mean_estimand, mean_estimate, bias, sd, rmse, power, coverage (missing:${missing:- none})" \
        [ -z "$missing" ]
    reps=$(awk -F, -v e="$estimand" 'NR > 2 && $3 == e { print $7 "/" $8 }' "$D" 2>/dev/null | sort -u | tr '\n' ' ')
    check "estimand $estimand: n_reps = 6, n_failed = 0 on every row (got $reps)" [ "$reps" = "6/0 " ]
done

v=$(awk -F, 'NR > 2 && $3 == "null" && $4 == "mean_estimand" { print $5 }' "$D" 2>/dev/null)
zero=$(awk -v v="$v" 'BEGIN { print (v != "" && v + 0 == 0) ? 1 : 0 }')
check "null mean_estimand is 0 (got '$v')" [ "$zero" = 1 ]

R=$TMP/t1/replicates.csv

# The diagnosands recomputed from replicates.csv (columns by name): mean
# estimand and estimate, bias = mean(estimate - estimand), SD (n - 1) of the
# estimates, RMSE against the per-replication estimand, power (p < 0.05) and
# coverage of the estimand by the CI.
for estimand in sate null; do
    awk -F, -v e="$estimand" '
        NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        NR > 2 && $c["estimand"] == e && $c["status"] == "ok" {
            n++; x = $c["estimate"]; t = $c["estimand_value"]
            sx += x; sxx += x * x; st += t; d = x - t; sd += d; sdd += d * d
            pw += ($c["p_value"] < 0.05); cv += ($c["conf_low"] <= t && t <= $c["conf_high"])
        }
        END {
            m = sx / n
            printf "mean_estimand %.10g\nmean_estimate %.10g\nbias %.10g\n", st / n, m, sd / n
            printf "sd %.10g\nrmse %.10g\npower %.10g\ncoverage %.10g\n", sqrt((sxx - n * m * m) / (n - 1)), sqrt(sdd / n), pw / n, cv / n
        }' "$R" >"$TMP/recomputed.$estimand" 2>/dev/null
    bad=$(awk -F, -v e="$estimand" '
        FNR == NR { split($0, a, " "); want[a[1]] = a[2]; next }
        FNR > 2 && $3 == e && ($4 in want) {
            d = $5 - want[$4]; if (d < 0) d = -d
            s = want[$4] < 0 ? -want[$4] : want[$4]
            if (d > 1e-6 * (1 + s)) printf "%s=%s (recomputed %s) ", $4, $5, want[$4]
            seen[$4] = 1
        }
        END { for (k in want) if (!(k in seen)) printf "%s missing ", k }' "$TMP/recomputed.$estimand" "$D" 2>/dev/null)
    check "estimand $estimand: diagnosands agree with replicates.csv (${bad:-all 7 agree})" [ -z "$bad" ]
done

n=$(data_rows "$R")
check "replicates.csv has 12 rows (6 sate + 6 null; got $n)" [ "$n" = 12 ]

# --- bad input -------------------------------------------------------------
syf diagnose scenarios/baseline-norway.ini --reps 2 --set population.persons=5000 --set world.offices=5 --out "$TMP/base"
expect_input_error "diagnose a scenario without a design" "trial.design"
check "no design: out dir holds no files" dir_is_empty "$TMP/base"

syf diagnose scenarios/msyfo-triage.ini --reps 0 --out "$TMP/bad"
expect_input_error "diagnose --reps 0" "--reps"
check "--reps 0: out dir holds no files" dir_is_empty "$TMP/bad"

syf diagnose scenarios/msyfo-triage.ini --threads x --out "$TMP/bad"
expect_input_error "diagnose --threads x" "--threads"

syf diagnose --help
if [ "$RC" -eq 0 ] && grep -q -- "--reps" "$TMP/out" && grep -q -- "--threads" "$TMP/out" && grep -q -- "--null" "$TMP/out"; then
    pass "diagnose --help: exit 0, names --reps, --threads, --null"
else
    fail "diagnose --help: exit $RC"
fi

finish
