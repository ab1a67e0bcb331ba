#!/bin/sh
# run.sh — CLI tests of `syfosim run` (DESIGN §6: register-like data of a run,
# provenance header in every output, atomic output directory).
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/run.sh

. "$(dirname "$0")/lib/common.sh"
setup run

SMALL="--set population.persons=20000 --set world.offices=8"
CSVS="persons.csv spells.csv services.csv team_services.csv summary.csv trial.csv estimates.csv triage.csv"
PLOTS="km.png km.svg hazard.png hazard.svg cost.png cost.svg"
SPELLS_HEADER="person_id,spell_id,office_id,arm,diagnosis,start_day,end_day,paid_days,grade,end_reason"

# --- a trial scenario ------------------------------------------------------
O=$TMP/a
# shellcheck disable=SC2086
syf run scenarios/msyfo-triage.ini --out "$O" $SMALL
expect_ok "run msyfo-triage (20000 persons, 8 offices)"

missing=
for f in $CSVS scenario.ini $PLOTS; do
    [ -s "$O/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then
    pass "run wrote $CSVS scenario.ini $PLOTS"
else
    fail "run did not write (or wrote empty):$missing; directory holds: $(ls -A "$O" 2>/dev/null | tr '\n' ' ')"
fi

for f in $CSVS; do
    [ -f "$O/$f" ] || continue
    l1=$(line_of "$O/$f" 1)
    case $l1 in
    "# syfosim "*git=*scenario_hash=*seed=20261122*)
        pass "$f provenance line: $l1" ;;
    *)
        fail "$f provenance line (want '# syfosim ... git= scenario_hash= seed=20261122'): $l1" ;;
    esac
    l2=$(line_of "$O/$f" 2)
    case $l2 in
    "#"* | "" | *" "*) fail "$f line 2 is not a CSV header: $l2" ;;
    *,*) pass "$f line 2 is a header: $(echo "$l2" | cut -c 1-60)" ;;
    *) fail "$f line 2 is not a CSV header: $l2" ;;
    esac
done

h=$(line_of "$O/persons.csv" 2)
check "persons.csv header is exactly person_id,sex,age,county,industry,employer_id,gp_id,office_id (got $h)" \
    [ "$h" = "person_id,sex,age,county,industry,employer_id,gp_id,office_id" ]

h=$(line_of "$O/spells.csv" 2)
case $h in
"$SPELLS_HEADER" | "$SPELLS_HEADER",*) pass "spells.csv header begins with $SPELLS_HEADER" ;;
*) fail "spells.csv header: $h" ;;
esac

n=$(data_rows "$O/persons.csv")
check "persons.csv has 20000 data rows (got $n)" [ "$n" = 20000 ]

ids=$(csv_col "$O/persons.csv" person_id | sort -n | uniq | awk 'NR == 1 { lo = $1 } { n++; hi = $1 } END { print n, lo, hi }')
check "persons.csv person_id is 0..19999, each once (got count, min, max: $ids)" [ "$ids" = "20000 0 19999" ]

n=$(data_rows "$O/spells.csv")
check "spells.csv has data rows (got $n)" [ "$n" -gt 0 ]

bad=$(csv_col "$O/spells.csv" end_reason | grep -vxE 'work|graded_work|job_change|max_reached|censored' | sort -u | head -n 5 | tr '\n' ' ')
check "spells.csv end_reason in {work, graded_work, job_change, max_reached, censored} (others: '$bad')" [ -z "$bad" ]

bad=$(csv_col "$O/spells.csv" arm | grep -vxE 'control|pilot' | sort -u | head -n 5 | tr '\n' ' ')
check "spells.csv arm in {control, pilot} (others: '$bad')" [ -z "$bad" ]

arms=$(csv_col "$O/spells.csv" arm | sort -u | tr '\n' ' ')
check "spells.csv has both arms (got '$arms')" [ "$arms" = "control pilot " ]

bad=$(csv_col "$O/spells.csv" office_id | grep -vxE '[0-7]' | sort -u | head -n 5 | tr '\n' ' ')
check "spells.csv office_id in 0..7 (others: '$bad')" [ -z "$bad" ]

# end_day is empty exactly when the spell is censored.
bad=$(awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    NR > 2 && (($c["end_day"] == "") != ($c["end_reason"] == "censored")) { n++ }
    END { print n + 0 }' "$O/spells.csv" 2>/dev/null)
check "spells.csv end_day empty iff end_reason = censored ($bad rows violate)" [ "$bad" = 0 ]

for p in km hazard cost; do
    sig=$(od -An -tx1 -N8 "$O/$p.png" 2>/dev/null | tr -d ' \n')
    check "$p.png starts with the PNG signature (got $sig)" [ "$sig" = 89504e470d0a1a0a ]
    check "$p.svg contains an <svg element" grep -qs "<svg" "$O/$p.svg"
done
check "no teams in msyfo-triage: no queue plot" [ ! -e "$O/queue.png" ]

# summary.csv: one row per office (a cluster design: each office in one arm)
# and one per arm; documented columns in a fixed order.
h=$(line_of "$O/summary.csv" 2)
check "summary.csv header starts office_id,arm,persons,person_years,spells,sick_days,paid_days (got $h)" \
    [ "${h#office_id,arm,persons,person_years,spells,sick_days,paid_days,}" != "$h" ]
for col in rtw_12m rtw_12m_share referrals served withdrawn mean_wait_days p90_wait_days hours_veileder \
    hours_rph_therapist hours_cognitive_therapist hours_job_specialist hours_nav_veileder \
    hours_employer_team cost_sick_pay_nok cost_staff_nok cost_nok; do
    echo "$h" | tr ',' '\n' | grep -qx "$col" || fail "summary.csv lacks column $col"
done
rows=$(awk -F, 'NR > 2 { print $1 "/" $2 }' "$O/summary.csv" | tr '\n' ' ')
n=$(data_rows "$O/summary.csv")
alls=$(awk -F, 'NR > 2 && $1 == "all" { print $2 }' "$O/summary.csv" | tr '\n' ' ')
check "summary.csv: 8 office rows and the rows all/control, all/pilot (got $rows)" \
    [ "$n" = 10 ] && [ "$alls" = "control pilot " ]
t=$(data_rows "$O/team_services.csv")
check "team_services.csv: header only without teams ($t rows)" [ "$t" = 0 ]
arms=$(grep -c "^  \(control\|pilot\) (.*sick-leave days per 1,000 employed" "$TMP/out")
check "stdout: a line per arm with sick-leave days per 1,000 employed (got $arms)" [ "$arms" = 2 ]
check "stdout: staff hours and cost per arm" grep -q "^    cost NOK .* million (sick pay" "$TMP/out"

hidden=$(ls -A "$O" 2>/dev/null | grep '^\.' | tr '\n' ' ')
check "no hidden or temporary files (.*.tmp.*) left in the out dir (found: '$hidden')" [ -z "$hidden" ]

# scenario.ini is the resolved scenario: valid, and its hash is the one in
# the provenance lines.
syf check "$O/scenario.ini"
if [ "$RC" -eq 0 ]; then
    pass "scenario.ini written by run passes check"
else
    fail "scenario.ini written by run fails check: exit $RC, stderr: $(cat "$TMP/err")"
fi
hcheck=$(sed -n 's/.*hash \([0-9a-f][0-9a-f]*\).*/\1/p' "$TMP/out")
hprov=$(sed -n '1s/.*scenario_hash=\([0-9a-f]*\).*/\1/p' "$O/spells.csv" 2>/dev/null)
check "check hash of scenario.ini ($hcheck) = scenario_hash of spells.csv ($hprov)" \
    same_nonempty "$hcheck" "$hprov"

# --- reproducibility -------------------------------------------------------
# shellcheck disable=SC2086
syf run scenarios/msyfo-triage.ini --out "$TMP/b" $SMALL
expect_ok "second identical run"
diffs=
for f in $CSVS scenario.ini; do
    cmp -s "$O/$f" "$TMP/b/$f" || diffs="$diffs $f"
done
check "same seed: byte-identical outputs (differing:${diffs:- none})" [ -z "$diffs" ]

# shellcheck disable=SC2086
syf run scenarios/msyfo-triage.ini --out "$TMP/c" --seed 7 $SMALL
expect_ok "run with --seed 7"
check "--seed 7 gives a different spells.csv" files_differ "$O/spells.csv" "$TMP/c/spells.csv"
l1=$(line_of "$TMP/c/spells.csv" 1)
case $l1 in
*" seed=7 "* | *" seed=7") pass "--seed 7 is in the provenance line" ;;
*) fail "--seed 7 not in the provenance line: $l1" ;;
esac

# --- baseline: no trial design ---------------------------------------------
syf run scenarios/baseline-norway.ini --out "$TMP/base" --set population.persons=5000 --set world.offices=5
expect_ok "run baseline-norway (5000 persons, 5 offices)"
check "baseline stdout: one line for all offices with sick-leave days per 1,000 employed" \
    grep -q "^  all offices (5 offices, 5000 employed.*sick-leave days per 1,000 employed" "$TMP/out"
alls=$(awk -F, 'NR > 2 && $1 == "all" { print "[" $2 "]" }' "$TMP/base/summary.csv" 2>/dev/null | tr '\n' ' ')
check "baseline summary.csv: one total row with an empty arm (got $alls)" [ "$alls" = "[] " ]
extra=
for f in trial.csv estimates.csv triage.csv; do
    [ -e "$TMP/base/$f" ] && extra="$extra $f"
done
check "baseline writes no trial.csv/estimates.csv/triage.csv (found:${extra:- none})" [ -z "$extra" ]
missing=
for f in persons.csv spells.csv services.csv summary.csv scenario.ini km.png km.svg; do
    [ -s "$TMP/base/$f" ] || missing="$missing $f"
done
check "baseline writes persons, spells, services, summary, scenario.ini, km (missing:${missing:- none})" [ -z "$missing" ]
n=$(data_rows "$TMP/base/persons.csv")
check "baseline persons.csv has 5000 data rows (got $n)" [ "$n" = 5000 ]
nonempty=$(csv_col "$TMP/base/spells.csv" arm | grep -c .)
rows=$(data_rows "$TMP/base/spells.csv")
arm_ok=0
if [ "$rows" -gt 0 ] && [ "$nonempty" = 0 ] && line_of "$TMP/base/spells.csv" 2 | grep -q "^$SPELLS_HEADER"; then
    arm_ok=1
fi
check "baseline spells.csv ($rows rows): arm column present and empty everywhere ($nonempty non-empty)" \
    [ $arm_ok = 1 ]

# --- bad input leaves nothing behind ---------------------------------------
syf run scenarios/msyfo-triage.ini --out "$TMP/bad1" --set population.persons=20000 --set pilot.effect_hr=-1
expect_input_error "bad --set pilot.effect_hr=-1" "pilot.effect_hr" "-1" "accepted"
check "bad --set: out dir (new) holds no files" dir_is_empty "$TMP/bad1"

mkdir "$TMP/bad2"
syf run scenarios/msyfo-triage.ini --out "$TMP/bad2" --set population.persons=20000 --set pilot.effect_hr=-1
expect_input_error "bad --set into an existing empty dir" "pilot.effect_hr"
check "bad --set: out dir (existing) still holds no files" dir_is_empty "$TMP/bad2"

syf run scenarios/msyfo-triage.ini --out "$TMP/bad3" --set population.nonsense=3
expect_input_error "--set of an unknown key" "population.nonsense"
check "unknown --set key: out dir holds no files" dir_is_empty "$TMP/bad3"

syf run scenarios/msyfo-triage.ini --out "$TMP/bad4" --frobnicate
expect_input_error "unknown option --frobnicate" "--frobnicate"
check "unknown option: out dir holds no files" dir_is_empty "$TMP/bad4"

syf run "$TMP/no-such.ini" --out "$TMP/bad5"
expect_input_error "missing scenario file" "$TMP/no-such.ini"
check "missing scenario: out dir holds no files" dir_is_empty "$TMP/bad5"

syf run scenarios/msyfo-triage.ini --out "$TMP/bad6" --seed abc $SMALL
expect_input_error "--seed abc" "--seed" "abc"
check "bad --seed: out dir holds no files" dir_is_empty "$TMP/bad6"

# An out path that cannot be created is a runtime failure (exit 1).
: >"$TMP/plainfile"
syf run scenarios/baseline-norway.ini --out "$TMP/plainfile/sub" --set population.persons=5000 --set world.offices=5
if [ "$RC" -eq 1 ] && grep -qF "$TMP/plainfile/sub" "$TMP/err"; then
    pass "uncreatable --out: exit 1: $(one_line "$TMP/err")"
else
    fail "uncreatable --out: exit $RC (want 1), stderr: $(cat "$TMP/err")"
fi

syf run --help
if [ "$RC" -eq 0 ] && grep -q -- "--seed" "$TMP/out" && grep -q -- "--out" "$TMP/out" && grep -q -- "--set" "$TMP/out"; then
    pass "run --help: exit 0, names --seed, --out, --set"
else
    fail "run --help: exit $RC"
fi

finish
