#!/bin/sh
# diagnose_shard.sh — CLI tests of `syfosim diagnose --shard I/N` and
# `syfosim merge` (issue 5): the shards of a run, merged, give outputs
# byte-identical to the unsharded run whatever the number of shards; merge
# refuses gaps, overlaps and shards of another run; --replay reruns one
# replication alone.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/diagnose_shard.sh

. "$(dirname "$0")/lib/common.sh"
setup diagnose_shard

SMALL="--set population.persons=3000 --set world.offices=6 --null --reps 10"

syf diagnose scenarios/msyfo-triage.ini $SMALL --threads 2 --out "$TMP/ref"
expect_ok "unsharded reference run"

# Three shards into one directory (as a job array would), two into separate ones.
ok=1
for i in 1 2 3; do
    syf diagnose scenarios/msyfo-triage.ini $SMALL --shard $i/3 --threads 1 --out "$TMP/sh3"
    [ "$RC" -eq 0 ] || ok=0
done
check "--shard 1/3, 2/3, 3/3: exit 0" [ $ok -eq 1 ]
check "shards write shard-I-of-N.mcr and scenario.ini, not diagnosis.csv" \
    [ -s "$TMP/sh3/shard-1-of-3.mcr" ] && [ -s "$TMP/sh3/shard-3-of-3.mcr" ] && [ -s "$TMP/sh3/scenario.ini" ] && [ ! -e "$TMP/sh3/diagnosis.csv" ]
n=$(awk 'f { n++ } /^rows$/ { f = 1 } END { print n + 0 }' "$TMP/sh3/shard-1-of-3.mcr")
check "shard 1/3 holds replications 1, 4, 7, 10 of both estimands (8 rows; got $n)" [ "$n" = 8 ]
reps=$(awk 'f { print $2 } /^rows$/ { f = 1 }' "$TMP/sh3/shard-2-of-3.mcr" | sort -n | uniq | tr '\n' ' ')
check "shard 2/3 holds replications r with (r - 1) mod 3 = 1 (got $reps)" [ "$reps" = "2 5 8 " ]

for i in 1 2; do
    syf diagnose scenarios/msyfo-triage.ini $SMALL --shard $i/2 --threads 2 --out "$TMP/sh2_$i"
done

syf merge "$TMP/sh3" --out "$TMP/m3"
expect_ok "merge DIR (3 shards)"
syf merge "$TMP/sh2_1/shard-1-of-2.mcr" "$TMP/sh2_2" --out "$TMP/m2"
expect_ok "merge FILE DIR (2 shards)"
for m in m3 m2; do
    for f in diagnosis.csv replicates.csv; do
        if [ -s "$TMP/$m/$f" ] && cmp -s "$TMP/ref/$f" "$TMP/$m/$f"; then
            pass "$m: merged $f byte-identical to the unsharded run"
        else
            fail "$m: merged $f differs: $(cmp "$TMP/ref/$f" "$TMP/$m/$f" 2>&1)"
        fi
    done
done

# --- what merge refuses ------------------------------------------------------
syf merge "$TMP/sh3/shard-1-of-3.mcr" "$TMP/sh3/shard-2-of-3.mcr" --out "$TMP/bad"
expect_input_error "merge with a shard missing" "missing" "replication 3"
check "a refused merge writes nothing" dir_is_empty "$TMP/bad"
syf merge "$TMP/sh3" "$TMP/sh2_1" --out "$TMP/bad"
expect_input_error "merge of overlapping shards" "already in another input"
syf diagnose scenarios/msyfo-triage.ini $SMALL --seed 5 --shard 2/2 --out "$TMP/other"
syf merge "$TMP/sh2_1" "$TMP/other" --out "$TMP/bad"
expect_input_error "merge of shards with different seeds" "seed 5"
syf diagnose scenarios/msyfo-triage.ini $SMALL --set pilot.effect_hr=1.4 --shard 2/2 --out "$TMP/other2"
syf merge "$TMP/sh2_1" "$TMP/other2" --out "$TMP/bad"
expect_input_error "merge of shards of different scenarios" "scenario hash"
syf merge "$TMP/nowhere" --out "$TMP/bad"
expect_input_error "merge of a missing file" "nowhere"
syf merge --out "$TMP/bad"
expect_input_error "merge without inputs" "expected"
syf diagnose scenarios/msyfo-triage.ini $SMALL --shard 4/3 --out "$TMP/bad"
expect_input_error "--shard 4/3" "--shard"
syf diagnose scenarios/msyfo-triage.ini $SMALL --shard x --out "$TMP/bad"
expect_input_error "--shard x" "--shard"

# --- --replay: one replication alone -----------------------------------------
syf diagnose scenarios/msyfo-triage.ini $SMALL --replay 4
expect_ok "--replay 4"
want=$(awk -F, '$1 == "sate" && $2 == 4 { print $4 }' "$TMP/ref/replicates.csv")
got=$(sed -n 's/^  estimate \([^,]*\),.*/\1/p' "$TMP/out")
check "--replay 4 gives replication 4's estimate ($want; got $got)" same_nonempty "$want" "$got"

finish
