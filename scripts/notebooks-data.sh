#!/bin/sh
# notebooks-data.sh — regenerate the example datasets of notebooks-data/
# (`make notebooks-data`): one small trial run of the shipped pilot scenario
# (population sample, register-like spells and services, the trial data set,
# its estimate), one diagnosis and one sweep, all with fixed seeds, so the
# files are byte-identical on every machine for a given version of the code.
#
# Usage: sh scripts/notebooks-data.sh [BIN] [DIR]    (from the repo root;
#        defaults build/syfosim and notebooks-data)
#
# The provenance line of every CSV names the git revision of the program
# that wrote it; here that field is replaced by the fixed marker
# `git=notebooks` so that the committed files do not change with every
# commit (tests/cli/notebooks.sh regenerates them and fails if anything else
# drifts).  Only the CSVs and scenario.ini are kept (no plots).
set -eu
BIN=${1:-build/syfosim}
DIR=${2:-notebooks-data}
SCENARIO=scenarios/msyfo-triage.ini
SEED=20261122
SIZE="--set population.persons=8000 --set world.offices=8"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/syf_nbdata.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT HUP TERM

# shellcheck disable=SC2086
"$BIN" run "$SCENARIO" --seed "$SEED" $SIZE --out "$TMP/trial" >/dev/null
# shellcheck disable=SC2086
"$BIN" diagnose "$SCENARIO" --seed "$SEED" $SIZE --reps 40 --null --threads 2 \
    --out "$TMP/diagnosis" >/dev/null
# shellcheck disable=SC2086
"$BIN" sweep "$SCENARIO" --seed "$SEED" --set population.persons=8000 \
    --set world.offices=6,8,12 --set pilot.effect_hr=1.15,1.5 --reps 20 --threads 2 \
    --out "$TMP/sweep" >/dev/null

mkdir -p "$DIR/trial" "$DIR/diagnosis" "$DIR/sweep"
copy() { # copy SRC DST: with the fixed git marker in the provenance line
    sed '1s/ git=[^ ]* / git=notebooks /' "$1" >"$2.tmp" && mv "$2.tmp" "$2"
}
for f in persons.csv spells.csv services.csv summary.csv trial.csv estimates.csv triage.csv; do
    copy "$TMP/trial/$f" "$DIR/trial/$f"
done
cp "$TMP/trial/scenario.ini" "$DIR/trial/scenario.ini"
for f in diagnosis.csv replicates.csv; do copy "$TMP/diagnosis/$f" "$DIR/diagnosis/$f"; done
for f in sweep.csv sweep_replicates.csv; do copy "$TMP/sweep/$f" "$DIR/sweep/$f"; done
echo "notebooks-data: wrote $DIR/trial, $DIR/diagnosis, $DIR/sweep"
