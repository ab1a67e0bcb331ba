#!/bin/sh
# bad_inputs.sh — table-driven test of bad input across the subcommands
# (issue 6, "nobody can crash the program with a bad file").  Every case must
#   - exit with status 2 (bad input), print nothing on stdout,
#   - print a message naming the file (or option), the line or column where
#     there is one, and the problem (each PATTERN below must appear in stderr;
#     'a||b' accepts either),
#   - leave nothing behind: for commands that write into --out DIR, DIR (which
#     holds one sentinel file) must have no new entry afterwards.
# The replayed fuzz regressions (tests/fuzz/regressions/) must exit 0 or 2,
# never crash.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/bad_inputs.sh

. "$(dirname "$0")/lib/common.sh"
setup bad_inputs

D=$TMP/in
mkdir -p "$D"
REPO=$(pwd)
MSYFO=$REPO/scenarios/msyfo-triage.ini
SMALL="--set population.persons=3000 --set world.offices=4"

# --- input files -------------------------------------------------------------
# scenarios
printf '[scenario]\nname = x\n\0\377garbage\n' >"$D/bin.ini"
printf '[world]\nofficez = 4\n' >"$D/unk.ini"
printf '[wurld]\noffices = 4\n' >"$D/unksec.ini"
printf '[trial]\ntreated_share = 1.5\n' >"$D/prob.ini"
printf '[pilot]\nresponse_share = -0.1\n' >"$D/negp.ini"
printf '[population]\npersons = 1e12\n' >"$D/absurd.ini"
printf '[population]\npersons = 0\n' >"$D/zero.ini"
printf '[world]\noffices = many\n' >"$D/nonnum.ini"
printf '[pilot]\neffect_hr = nan\n' >"$D/nan.ini"
printf '[pilot]\neffect_hr = inf\n' >"$D/inf.ini"
printf '[world]\noffices = 4\noffices = 5\n' >"$D/dupkey.ini"
printf '[scenario]\nbase = nosuch.ini\n' >"$D/nobase.ini"
printf '[scenario]\nbase = cyc2.ini\n' >"$D/cyc1.ini"
printf '[scenario]\nbase = cyc1.ini\n' >"$D/cyc2.ini"
printf '[world]\noffices = 1\n' >"$D/onecluster.ini"
printf '[scenario]\nbase = %s\n[world]\noffices = 4\n[trial]\ntreated_share = 1\n' "$MSYFO" >"$D/alltreated.ini"
# CSVs for estimate
: >"$D/empty.csv"
printf '\000\001\002\377\376,\000\n\003\004\n' >"$D/garbage.csv"
printf 'y,x\n1,0\n2\000junk,1\n3,0\n5,1\n' >"$D/nulcell.csv"
printf 'y,x,g\n' >"$D/hdronly.csv"
printf 'y,x,x\n1,0,1\n2,1,2\n' >"$D/dupcol.csv"
printf 'y,x,g\n1,0,a\n2,1,b,9\n' >"$D/ragged.csv"
printf 'y,x,g\n1,0,a\n2,1,b\nabc,0,c\n3,1,d\n' >"$D/nonnum.csv"
printf 'y,x,g\n1,0,a\nNaN,1,b\n3,0,c\n4,1,d\n' >"$D/nancell.csv"
printf 'y,x,g\n1,0,a\n2,1,b\n3,0,c\nInf,1,d\n' >"$D/infcell.csv"
printf 'y,x,g\n1,0,a\n,1,b\n3,0,c\n4,1,d\n' >"$D/emptycell.csv"
printf 'y,x,g\n1,0,a\n"2,1,b\n3,0,c\n' >"$D/quote.csv"
printf '1,2\n3,4\n' >"$D/numhdr.csv"
printf 'y,x,z,g\n1,0,0,a\n2,1,1,b\n3,0,0,c\n4,1,1,d\n5,0,0,a\n6,1,1,b\n' >"$D/singular.csv"
printf 'y,x,g\n1,0,a\n2,1,a\n3,0,a\n4,1,a\n' >"$D/onecl.csv"
printf 'y,x,g\n1,1,a\n2,1,b\n3,1,c\n4,1,d\n' >"$D/alltreated.csv"
printf 'unit,period,y,d\n1,1,5,0\n1,2,6,1\n1,2,7,1\n2,1,4,0\n2,2,4,0\n3,1,5,0\n3,2,7,1\n4,1,3,0\n4,2,3,0\n' >"$D/dupid.csv"
printf 'time,status,x\n5,1,0\n-3,1,1\n7,0,0\n8,1,1\n9,0,1\n4,1,0\n' >"$D/negtime.csv"
printf 'time,status,x\n5,1,0\n3,2,1\n7,0,0\n8,1,1\n9,0,1\n4,1,0\n' >"$D/badevent.csv"
mkdir -p "$D/adir.csv"

# run outputs for report, from one small run, then broken copies
R=$TMP/run
# shellcheck disable=SC2086
if ! "$SYFOSIM" run "$MSYFO" $SMALL --out "$R" >/dev/null 2>&1 ||
   ! "$SYFOSIM" diagnose "$MSYFO" $SMALL --reps 3 --out "$R" >/dev/null 2>&1; then
    fail "setup: syfosim run/diagnose for the report cases"
fi
# broken COPY-DIR FILE AWK-PROGRAM: a copy of the run's FILE changed by awk
# (line 1 is the provenance line, line 2 the header, line 5 the third data row).
broken() {
    mkdir -p "$D/$1"
    awk -F, -v OFS=, "$3" "$R/$2" >"$D/$1/$2"
}
COLS='NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i }'
broken rep_negdays spells.csv "$COLS NR == 5 { \$c[\"days\"] = -3 } { print }"
broken rep_endbefore spells.csv "$COLS NR == 5 { \$c[\"end_day\"] = \$c[\"start_day\"] - 9; \$c[\"end_reason\"] = \"work\" } { print }"
broken rep_refafter services.csv "$COLS NR == 5 { \$c[\"start_day\"] = \$c[\"referral_day\"] - 2 } { print }"
broken rep_event trial.csv "$COLS NR == 5 { \$c[\"index_ended\"] = 2 } { print }"
broken rep_dupid trial.csv "{ print } NR == 4 { print }"
broken rep_diagval diagnosis.csv "$COLS NR == 5 { \$c[\"value\"] = \"abc\" } { print }"
broken rep_nocol estimates.csv "$COLS NR == 2 { \$c[\"estimate\"] = \"estimate_x\" } { print }"
mkdir -p "$D/rep_empty" && : >"$D/rep_empty/summary.csv"
mkdir -p "$D/rep_none" && : >"$D/rep_none/notes.txt"

# --- the table ---------------------------------------------------------------
# case NAME OUTDIR 'PATTERN@PATTERN...' ARGS...   (OUTDIR '-' = the command
# writes no files; otherwise OUTDIR gets a sentinel and must gain no entry)
case_() {
    _name=$1 _out=$2 _pats=$3
    shift 3
    if [ "$_out" != - ]; then
        mkdir -p "$_out" && : >"$_out/sentinel"
        _before=$(ls -A "$_out" | tr '\n' ' ')
    fi
    syf "$@"
    [ "$RC" -gt 2 ] && fail "$_name: exit $RC (crash?)"
    _saved_ifs=$IFS
    IFS=@
    set -f
    # shellcheck disable=SC2086
    set -- $_pats
    IFS=$_saved_ifs
    set +f
    expect_input_error "$_name" "$@"
    if [ "$_out" != - ]; then
        _after=$(ls -A "$_out" | tr '\n' ' ')
        if [ "$_before" = "$_after" ]; then
            pass "$_name: nothing written into the output directory"
        else
            fail "$_name: output directory gained files: before '$_before' after '$_after'"
        fi
    fi
}
O=$TMP/outdirs

# scenario files
case_ "scenario: binary garbage" - "bin.ini:3:@binary" check "$D/bin.ini"
case_ "scenario: unknown key" - "unk.ini:2:@world.officez@unknown key" check "$D/unk.ini"
case_ "scenario: unknown section" - "unksec.ini:1:@wurld@unknown section" check "$D/unksec.ini"
case_ "scenario: probability above 1" - "prob.ini:2:@trial.treated_share@out of range" check "$D/prob.ini"
case_ "scenario: negative probability" - "negp.ini:2:@pilot.response_share@out of range" check "$D/negp.ini"
case_ "scenario: absurd population size" - "absurd.ini:2:@population.persons@out of range" check "$D/absurd.ini"
case_ "scenario: empty population" - "zero.ini:2:@population.persons@out of range" check "$D/zero.ini"
case_ "scenario: non-numeric value" - "nonnum.ini:2:@world.offices@not an integer" check "$D/nonnum.ini"
case_ "scenario: NaN value" - "nan.ini:2:@pilot.effect_hr@not a number" check "$D/nan.ini"
case_ "scenario: Inf value" - "inf.ini:2:@pilot.effect_hr@not a number||not finite" check "$D/inf.ini"
case_ "scenario: duplicated key" - "dupkey.ini:3:@world.offices@twice" check "$D/dupkey.ini"
case_ "scenario: missing base file" - "nobase.ini:2:@scenario.base@nosuch.ini" check "$D/nobase.ini"
case_ "scenario: base cycle" - "cyc1.ini:2:@scenario.base@cycle" check "$D/cyc1.ini"
case_ "scenario: missing file" - "none.ini@cannot open" check "$D/none.ini"
case_ "run: one cluster (file)" "$O/r1" "onecluster.ini:2:@world.offices@out of range" \
    run "$D/onecluster.ini" --out "$O/r1"
case_ "run: all clusters treated (file)" "$O/r2" "alltreated.ini:6:@trial.treated_share@arm empty" \
    run "$D/alltreated.ini" --out "$O/r2"
case_ "run: unknown key in the scenario" "$O/r3" "unk.ini:2:@world.officez" run "$D/unk.ini" --out "$O/r3"
# command-line overrides
case_ "run --set: unknown key" "$O/r4" "--set@world.officez@unknown key" \
    run "$MSYFO" --set world.officez=3 --out "$O/r4"
case_ "run --set: all clusters treated" "$O/r5" "trial.treated_share@arm empty" \
    run "$MSYFO" $SMALL --set trial.treated_share=1 --out "$O/r5"
case_ "run --set: no cluster treated" "$O/r6" "trial.treated_share@arm empty" \
    run "$MSYFO" $SMALL --set trial.treated_share=0 --out "$O/r6"
case_ "run --set: one cluster" "$O/r7" "--set@world.offices@out of range" \
    run "$MSYFO" --set world.offices=1 --out "$O/r7"
case_ "run --set: absurd population" "$O/r8" "--set@population.persons@out of range" \
    run "$MSYFO" --set population.persons=99999999999 --out "$O/r8"
case_ "run --set: not KEY=VALUE" "$O/r9" "--set@SECTION.KEY=VALUE" run "$MSYFO" --set worldoffices --out "$O/r9"
case_ "run --seed: not a number" "$O/r10" "--seed@abc" run "$MSYFO" --seed abc --out "$O/r10"
case_ "diagnose --reps: too few" "$O/d1" "--reps@'1'" diagnose "$MSYFO" --reps 1 --out "$O/d1"
case_ "diagnose --threads: zero" "$O/d2" "--threads@'0'" diagnose "$MSYFO" --threads 0 --out "$O/d2"
case_ "diagnose: scenario without a design" "$O/d3" "baseline-norway.ini@trial.design@no trial design" \
    diagnose scenarios/baseline-norway.ini --reps 2 --out "$O/d3"
case_ "sweep --set: non-numeric grid value" "$O/w1" "--set@world.offices@'x'" \
    sweep "$MSYFO" --set world.offices=4,x --reps 2 --out "$O/w1"
case_ "sweep --set: unknown key" "$O/w2" "--set@world.officez@unknown key" \
    sweep "$MSYFO" --set world.officez=4,5 --reps 2 --out "$O/w2"
# CSV files (estimate)
case_ "csv: empty file" - "empty.csv@empty" estimate --method ols --data "$D/empty.csv" --outcome y
case_ "csv: binary garbage" - "garbage.csv:1:@binary||NUL" estimate --method ols --data "$D/garbage.csv" --outcome y
case_ "csv: NUL byte inside a number" - "nulcell.csv:3:@binary||NUL" \
    estimate --method ols --data "$D/nulcell.csv" --outcome y --treat x
case_ "csv: header only" - "hdronly.csv@0 data rows" estimate --method ols --data "$D/hdronly.csv" --outcome y --treat x
case_ "csv: missing column" - "nonnum.csv@no column named 'w'" estimate --method ols --data "$D/nonnum.csv" --outcome w
case_ "csv: duplicated column" - "dupcol.csv:1:@duplicate column@'x'" estimate --method ols --data "$D/dupcol.csv" --outcome y --treat x
case_ "csv: row with too many fields" - "ragged.csv:3:@4 fields" estimate --method ols --data "$D/ragged.csv" --outcome y
case_ "csv: non-numeric cell" - "nonnum.csv:4:@column 'y'@'abc'@not a number" estimate --method ols --data "$D/nonnum.csv" --outcome y --treat x
case_ "csv: NaN cell" - "nancell.csv:3:@column 'y'@NaN" estimate --method ols --data "$D/nancell.csv" --outcome y --treat x
case_ "csv: Inf cell" - "infcell.csv:5:@column 'y'@Inf" estimate --method ols --data "$D/infcell.csv" --outcome y --treat x
case_ "csv: empty cell" - "emptycell.csv:3:@column 'y'@empty cell" estimate --method ols --data "$D/emptycell.csv" --outcome y --treat x
case_ "csv: unterminated quote" - "quote.csv:@unterminated" estimate --method ols --data "$D/quote.csv" --outcome y
case_ "csv: header of numbers" - "numhdr.csv:1:@no header" estimate --method ols --data "$D/numhdr.csv" --outcome y
case_ "csv: singular design matrix" - "singular.csv@singular@z" estimate --method ols --data "$D/singular.csv" --outcome y --treat x --covariates z
case_ "csv: one cluster" - "onecl.csv@cluster@fewer than 2" estimate --method ols --data "$D/onecl.csv" --outcome y --treat x --cluster g
case_ "csv: all clusters treated" - "alltreated.csv@singular||constant" estimate --method ols --data "$D/alltreated.csv" --outcome y --treat x --cluster g
case_ "csv: duplicate unit-period ids" - "dupid.csv:4:@unit '1'@twice" \
    estimate --method did --data "$D/dupid.csv" --outcome y --id unit --time period --treat d
case_ "csv: negative duration" - "negtime.csv:3:@time@negative" \
    estimate --method cox --data "$D/negtime.csv" --outcome time --event status --treat x
case_ "csv: event not 0/1" - "badevent.csv:3:@status@not 0 or 1" \
    estimate --method cox --data "$D/badevent.csv" --outcome time --event status --treat x
case_ "csv: a directory" - "adir.csv@directory" estimate --method ols --data "$D/adir.csv" --outcome y
case_ "csv: missing file" - "nosuch.csv@cannot open" estimate --method ols --data "$D/nosuch.csv" --outcome y
case_ "estimate: unknown method" - "bogus" estimate --method bogus --data "$D/nonnum.csv" --outcome y
case_ "estimate: bad --se" - "--se@CR9" estimate --method ols --data "$D/nonnum.csv" --outcome y --se CR9
case_ "estimate: bad --level" - "--level@1.5" estimate --method ols --data "$D/nonnum.csv" --outcome y --level 1.5
# run outputs (report writes report.html into the directory: it must not appear)
case_ "report: negative duration" "$D/rep_negdays" "spells.csv:5:@days@negative" report "$D/rep_negdays"
case_ "report: end before start" "$D/rep_endbefore" "spells.csv:5:@end_day@before" report "$D/rep_endbefore"
case_ "report: service starts before referral" "$D/rep_refafter" "services.csv:5:@start_day@before the referral" report "$D/rep_refafter"
case_ "report: event indicator not 0/1" "$D/rep_event" "trial.csv:5:@index_ended@not 0 or 1" report "$D/rep_event"
case_ "report: duplicate participant ids" "$D/rep_dupid" "trial.csv:5:@duplicate@person_id" report "$D/rep_dupid"
case_ "report: non-numeric diagnosand" "$D/rep_diagval" "diagnosis.csv:5:@value@not a finite number" report "$D/rep_diagval"
case_ "report: missing column" "$D/rep_nocol" "estimates.csv@no column named 'estimate'" report "$D/rep_nocol"
case_ "report: empty file" "$D/rep_empty" "summary.csv@empty" report "$D/rep_empty"
case_ "report: no syfosim outputs" "$D/rep_none" "rep_none@no syfosim outputs" report "$D/rep_none"

# --- fuzz regressions: never a crash --------------------------------------------
for f in tests/fuzz/regressions/scenario/* tests/fuzz/regressions/csv/*; do
    [ -f "$f" ] || continue
    case $f in
    */scenario/*) syf check "$f" ;;
    *) syf estimate --method ols --data "$f" --outcome y ;;
    esac
    if [ "$RC" -le 2 ]; then
        pass "fuzz regression $f: exit $RC"
    else
        fail "fuzz regression $f: exit $RC (crash); stderr: $(head -c 300 "$TMP/err")"
    fi
done

finish
