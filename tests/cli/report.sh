#!/bin/sh
# report.sh — CLI tests of `syfosim report` (issue 6): the HTML page of a run
# and a diagnosis is self-contained (inline SVG and CSS, no script, no
# external resource), carries the headline figures, is deterministic and
# atomic; a directory without outputs or with a malformed file is bad input
# (exit 2, FILE:LINE message) and leaves nothing behind.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/report.sh

. "$(dirname "$0")/lib/common.sh"
setup report

SMALL="--set population.persons=8000 --set world.offices=6"
O=$TMP/a
# shellcheck disable=SC2086
"$SYFOSIM" run scenarios/msyfo-triage.ini --out "$O" $SMALL >/dev/null 2>&1 &&
    "$SYFOSIM" diagnose scenarios/msyfo-triage.ini --reps 6 --null --out "$O" $SMALL >/dev/null 2>&1
check "setup: run + diagnose into $O" [ -s "$O/estimates.csv" ] && [ -s "$O/diagnosis.csv" ]

syf report "$O"
expect_ok "report of a run + diagnosis"
R=$O/report.html
check "report.html written" [ -s "$R" ]
check "stdout is the path of the report (got '$(cat "$TMP/out")')" [ "$(cat "$TMP/out")" = "$R" ]
left=$(ls -A "$O" | grep -E '^\.|tmp' | tr '\n' ' ')
check "no temporary file left in the directory (found: '$left')" [ -z "$left" ]

check "starts with <!DOCTYPE html>" [ "$(head -c 15 "$R")" = "<!DOCTYPE html>" ]
check "ends with </html>" [ "$(tail -n 1 "$R")" = "</html>" ]
check "has inline CSS" grep -q '<style>' "$R"
n_svg=$(grep -c '<svg' "$R")
check "has >= 5 inline SVG plots: KM, hazard, queue, 2 histograms (got $n_svg)" [ "$n_svg" -ge 5 ]
check "no XML prolog inside the page" sh -c "! grep -q '<?xml' '$R'"
check "no script" sh -c "! grep -qi '<script' '$R'"
check "no external resource (src= / href=http)" sh -c "! grep -qiE '(src|href)=.https?:' '$R'"
dups=$(grep -oE " id=['\"][^'\"]*['\"]" "$R" | sort | uniq -d | head -n 3 | tr '\n' ' ')
check "every element id is unique (duplicates: '$dups')" [ -z "$dups" ]

est=$(awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i } NR == 3 { printf "%.3f", $c["estimate"] }' "$O/estimates.csv")
sate=$(awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i } NR == 3 { printf "%.3f", $c["estimand_sate"] }' "$O/estimates.csv")
power=$(awk -F, '$3 == "sate" && $4 == "power" { printf "%.3f", $5; exit }' "$O/diagnosis.csv")
check "headline estimate $est from estimates.csv" grep -q "class=\"estimate\">$est<" "$R"
check "headline SATE $sate from estimates.csv" grep -q "class=\"sate\">$sate<" "$R"
check "headline power $power from diagnosis.csv" grep -q "class=\"power\">$power<" "$R"
for s in 'id="scenario"' 'id="summary"' 'id="cost"' 'id="triage"' 'id="km"' 'id="hazard"' \
         'id="queue"' 'id="diagnosis"' 'id="diagnosands"' 'id="provenance"' 'scenario_hash='; do
    check "has $s" grep -qF "$s" "$R"
done
# the diagnosand table carries every diagnosand of diagnosis.csv
miss=
for g in $(awk -F, 'NR > 2 { print $4 }' "$O/diagnosis.csv" | sort -u); do
    grep -q "<td>$g</td>" "$R" || miss="$miss $g"
done
check "diagnosand table lists every diagnosand (missing:$miss)" [ -z "$miss" ]

cp "$R" "$TMP/first.html"
syf report "$O"
check "a second report is byte-identical (deterministic)" cmp -s "$R" "$TMP/first.html"

syf report "$O" --no-plots --out "$TMP/np.html"
expect_ok "report --no-plots --out FILE"
check "--no-plots: no SVG" sh -c "! grep -q '<svg' '$TMP/np.html'"
check "--no-plots: still has the headline" grep -q "class=\"estimate\">$est<" "$TMP/np.html"

# a run without a trial design; a diagnosis alone; a sweep alone
B=$TMP/b
"$SYFOSIM" run scenarios/baseline-norway.ini --set population.persons=4000 --set world.offices=3 \
    --out "$B" >/dev/null 2>&1
syf report "$B" --no-plots
expect_ok "report of a run without a design"
check "no-design report says there is no estimate" grep -q "without a trial design" "$B/report.html"
D=$TMP/d
mkdir -p "$D" && cp "$O/diagnosis.csv" "$O/replicates.csv" "$D/"
syf report "$D" --no-plots
expect_ok "report of diagnosis.csv + replicates.csv only"
if "$SYFOSIM" --help | grep -q '^  sweep'; then
    S=$TMP/s
    # shellcheck disable=SC2086
    "$SYFOSIM" sweep scenarios/msyfo-triage.ini $SMALL --set pilot.effect_hr=1.15,1.6 --reps 3 \
        --out "$S" >/dev/null 2>&1
    syf report "$S"
    expect_ok "report of a sweep"
    check "sweep report has the power curve" grep -q 'id="sweep"' "$S/report.html"
fi

# the search of diagnose --mdes (a small hand-written mdes.csv)
Q=$TMP/q
mkdir -p "$Q"
printf '# syfosim test\nstep,effect_hr,power,power_mcse,mean_estimand,mean_estimand_mcse,n_reps,n_failed\n0,2,0.95,0.02,-10,0.1,100,0\n1,1.4142,0.7,0.04,-6,0.1,100,0\nmdes,2,0.95,0.02,-10,0.1,100,0\n' >"$Q/mdes.csv"
syf report "$Q" --no-plots
expect_ok "report of a diagnose --mdes search"
check "mdes report has its section" grep -q 'id="mdes"' "$Q/report.html"

# --- bad input: nothing written ---------------------------------------------
syf report "$TMP/no-such-dir"
expect_input_error "missing directory" "no-such-dir" "no such directory"
mkdir "$TMP/empty"
syf report "$TMP/empty"
expect_input_error "directory without outputs" "empty" "no syfosim outputs"
check "nothing written into the empty directory" dir_is_empty "$TMP/empty"

M=$TMP/m
mkdir "$M" && cp "$O/spells.csv" "$O/scenario.ini" "$M/"
awk -F, 'BEGIN { OFS = "," } NR == 2 { for (i = 1; i <= NF; i++) if ($i == "days") c = i }
    NR == 5 { $c = -3 } { print }' "$O/spells.csv" >"$M/spells.csv"
syf report "$M"
expect_input_error "negative duration in spells.csv" "spells.csv:5:" "days" "negative"
check "no report.html after bad input" [ ! -e "$M/report.html" ]
left=$(ls -A "$M" | grep -vxE 'spells.csv|scenario.ini' | tr '\n' ' ')
check "no new file after bad input (found: '$left')" [ -z "$left" ]

cp "$O/spells.csv" "$M/spells.csv"
sed -i '7s/,work,/,holiday,/; 7s/,graded_work,/,holiday,/; 7s/,censored,/,holiday,/; 7s/,job_change,/,holiday,/; 7s/,max_reached,/,holiday,/' "$M/spells.csv"
syf report "$M"
expect_input_error "unknown end_reason" "spells.csv:7:" "end_reason" "holiday"
check "no report.html after bad end_reason" [ ! -e "$M/report.html" ]

printf '# syfosim x\ndesign,estimator\ncluster_rct,ols\n' >"$M/estimates.csv"
cp "$O/spells.csv" "$M/spells.csv"
syf report "$M"
expect_input_error "estimates.csv without the estimate column" "estimates.csv" "estimate"
rm -f "$M/estimates.csv"

printf '[run\nseed = 1\n' >"$M/scenario.ini"
syf report "$M"
expect_input_error "malformed scenario.ini" "scenario.ini:1:"

syf report
expect_input_error "no directory argument" "expected a directory"
syf report "$O" --bogus
expect_input_error "unknown option" "--bogus"

# --- several estimators on the same replications: one histogram each --------
syf diagnose scenarios/msyfo-triage.ini --reps 4 --estimators ols,ols+wild --set population.persons=20000 --out "$TMP/multi"
expect_ok "diagnose --estimators ols,ols+wild"
syf report "$TMP/multi" --out "$TMP/multi/r.html" --no-plots
expect_ok "report of a diagnosis with two estimators"
n=$(grep -o 'Sampling distribution of the estimate (estimand: sate, estimator [^)]*)' "$TMP/multi/r.html" | sort -u | wc -l)
check "one sampling distribution per estimator ($n)" [ "$n" -eq 2 ]

syf report --help
expect_ok "report --help"
check "--help names --no-plots and --out" has_all "$TMP/out" "--no-plots" "--out FILE"

finish
