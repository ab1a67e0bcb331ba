#!/bin/sh
# diagnose_single_site.sh — the single_site design end to end: synthetic
# control on the office-by-period panel, its estimand (the pilot office's
# ATT from the simulator's counterfactuals), labels, thread identity and the
# refused combinations.
. "$(dirname "$0")/lib/common.sh"
SMALL="--reps 3 --set population.persons=40000 --set world.offices=8"
syf diagnose scenarios/msyfo-single-site.ini $SMALL --threads 1 --out "$TMP/t1"
expect_ok "diagnose msyfo-single-site (1 thread)"
syf diagnose scenarios/msyfo-single-site.ini $SMALL --threads 2 --out "$TMP/t2"
expect_ok "diagnose msyfo-single-site (2 threads)"
check "threads 1 and 2 give the same diagnosis.csv" cmp -s "$TMP/t1/diagnosis.csv" "$TMP/t2/diagnosis.csv"
D=$TMP/t1/diagnosis.csv
labels=$(awk -F, 'NR > 2 { print $1 "," $2 "," $3 }' "$D" | sort -u)
check "labels are single_site,sc_placebo,att_pilot_office (got '$labels')" [ "$labels" = "single_site,sc_placebo,att_pilot_office" ]
nf=$(awk -F, 'NR > 2 && $4 == "mean_estimand" { print $7 "/" $8 }' "$D")
check "3 replications, none failed (got $nf)" [ "$nf" = "3/0" ]
est=$(awk -F, 'NR > 2 && $4 == "mean_estimand" { print $5 }' "$D")
neg=$(awk -v e="$est" 'BEGIN { print (e < 0) ? 1 : 0 }')
check "the pilot office's ATT is negative with effect_hr 1.15 (got $est)" [ "$neg" = 1 ]
syf diagnose scenarios/msyfo-triage.ini --reps 2 --set trial.estimator=sc --out "$TMP/bad"
check "sc with a cluster_rct is refused with exit 2 (got $RC)" [ "$RC" = 2 ]
check "and names the accepted combination" grep -q "single_site with default or sc" "$TMP/err"
syf diagnose scenarios/msyfo-single-site.ini --reps 2 --set trial.inference=ri --out "$TMP/bad2"
check "single_site with ri inference is refused with exit 2 (got $RC)" [ "$RC" = 2 ]
finish
