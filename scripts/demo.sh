#!/bin/sh
# demo.sh — what `make demo` runs after building: the shipped default
# scenario (Morgendagens SYFO triage, cluster RCT by NAV office) simulated,
# estimated and diagnosed, plus the baseline's calibration table.
set -eu
BIN=${1:-build/syfosim}
OUT=out/msyfo-triage
THREADS=$(nproc 2>/dev/null || echo 2)
start=$(date +%s)
echo "== calibration of the status-quo baseline (scenarios/baseline-norway.ini)"
"$BIN" calibrate scenarios/baseline-norway.ini --threads "$THREADS"
echo
echo "== one replication of the pilot trial (scenarios/msyfo-triage.ini)"
"$BIN" run scenarios/msyfo-triage.ini --out "$OUT"
echo
echo "== diagnosis of the design: replications with the effect and under the null"
"$BIN" diagnose scenarios/msyfo-triage.ini --threads "$THREADS" --null --out "$OUT"
echo
echo "results in $OUT/: persons.csv spells.csv services.csv summary.csv trial.csv"
echo "  estimates.csv triage.csv diagnosis.csv replicates.csv km.png km.svg scenario.ini"
end=$(date +%s)
echo "make demo took $((end - start)) s after the build"
echo
echo "== report"
"$BIN" report "$OUT"
