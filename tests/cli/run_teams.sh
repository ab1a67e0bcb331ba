#!/bin/sh
# run_teams.sh — CLI tests of the outputs of `syfosim run` for every shipped
# scenario (issue 3, "Outputs of a run" and "Checks that must hold"):
# `check` and `run` succeed for each scenarios/*.ini and the outputs are not
# degenerate (both arms populated where the design has arms, waits
# non-negative, costs positive, the teams of the scenario serve people and
# log hours, every plot written); summary.csv agrees with itself and with
# team_services.csv; a team with fte 0 logs no hours; employer-team hours
# scale with the time the team ran; a run without gnuplot still writes its
# data and skips the plots with one warning.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/run_teams.sh

. "$(dirname "$0")/lib/common.sh"
setup run_teams

PERSONS=20000 # small populations (or 250 per office): each run well under a second
SUMMARY_HEADER="office_id,arm,persons,person_years,spells,sick_days,paid_days,aap_entries,sick_persons,rtw_12m,rtw_12m_share,referrals,served,withdrawn,expired,mean_wait_days,p90_wait_days,hours_veileder,hours_rph_therapist,hours_cognitive_therapist,hours_job_specialist,hours_nav_veileder,hours_employer_team,paid_team_hours,cost_sick_pay_nok,cost_staff_nok,cost_nok"
TEAM_HEADER="person_id,spell_id,office_id,arm,team,profession,outcome,referral_day,left_day,wait_days,end_day,hours"
HAVE_GNUPLOT=0
command -v gnuplot >/dev/null 2>&1 && HAVE_GNUPLOT=1

# ini_value FILE SECTION KEY: the value of SECTION.KEY in a resolved scenario.ini.
ini_value() {
    awk -v s="[$2]" -v k="$3" '
        /^\[/ { sec = $0; next }
        sec == s && $1 == k && $2 == "=" { sub(/^[^=]*= */, ""); print; exit }' "$1"
}

# sum_col FILE NAME [OFFICE]: sum of column NAME over the rows whose office_id
# is OFFICE ("all" or "offices" = every row but the totals; default all).
sum_col() {
    awk -F, -v name="$2" -v which="${3:-all}" '
        NR == 2 { for (i = 1; i <= NF; i++) { if ($i == name) c = i; if ($i == "office_id") o = i }; next }
        NR > 2 && c && ((which == "all") == ($o == "all")) { s += $c }
        END { printf "%.1f\n", s }' "$1"
}

# profession of a team section suffix (syf_team_professions in scenario.c)
profession() {
    case $1 in
    rph) echo rph_therapist ;;
    cbt) echo cognitive_therapist ;;
    ips) echo job_specialist ;;
    nav) echo nav_veileder ;;
    esac
}

# check_summary DIR NAME: checks every scenario's output must pass.
check_summary() {
    _d=$1
    _n=$2
    _s=$_d/summary.csv
    h=$(line_of "$_s" 2)
    check "$_n: summary.csv header is the documented column list (got $h)" [ "$h" = "$SUMMARY_HEADER" ]
    h=$(line_of "$_d/team_services.csv" 2)
    check "$_n: team_services.csv header (got $h)" [ "$h" = "$TEAM_HEADER" ]

    # every cell numeric (or empty where allowed), waits and counts >= 0
    bad=$(awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i; nf = NF; next }
        NR > 2 {
            if (NF != nf) { print "row " NR ": " NF " fields"; next }
            for (i = 3; i <= NF; i++) {
                if ($i == "" && (i == c["rtw_12m_share"] || i == c["mean_wait_days"] || i == c["p90_wait_days"])) continue
                if ($i !~ /^[0-9]+(\.[0-9]+)?$/) print "row " NR " col " i ": " $i
            }
            if ($c["rtw_12m"] > $c["sick_persons"]) print "row " NR ": rtw_12m > sick_persons"
            if ($c["served"] + $c["withdrawn"] > $c["referrals"]) print "row " NR ": served + withdrawn > referrals"
            if ($c["expired"] > $c["withdrawn"]) print "row " NR ": expired > withdrawn"
            if ($c["rtw_12m_share"] != "" && $c["rtw_12m_share"] > 1) print "row " NR ": rtw share > 1"
            if ($c["mean_wait_days"] != "" && $c["served"] == 0) print "row " NR ": a wait without served"
            d = $c["cost_nok"] - $c["cost_sick_pay_nok"] - $c["cost_staff_nok"]
            if (d > 1.5 || d < -1.5) print "row " NR ": cost_nok != sick pay + staff"
        }' "$_s" | head -n 3 | tr '\n' ';')
    check "$_n: summary.csv cells are non-negative numbers, counts consistent, cost_nok = sick pay + staff ($bad)" [ -z "$bad" ]

    # totals = sum of the office rows
    bad=
    for col in persons spells aap_entries sick_persons rtw_12m referrals served withdrawn hours_veileder \
        hours_rph_therapist hours_cognitive_therapist hours_job_specialist hours_nav_veileder \
        hours_employer_team cost_nok; do
        a=$(sum_col "$_s" "$col" all)
        o=$(sum_col "$_s" "$col" offices)
        awk -v a="$a" -v o="$o" 'BEGIN { d = a - o; if (d < 0) d = -d; exit !(d <= 0.002 * (a > 1 ? a : 1) + 0.5) }' ||
            bad="$bad $col($a vs $o)"
    done
    check "$_n: the 'all' rows are the sums of the office rows (differing:${bad:- none})" [ -z "$bad" ]

    # team_services.csv agrees with the summary
    ts=$(awk -F, 'NR > 2 && $8 >= 0 && $8 < 365 && $7 == "served" { n++ } END { print n + 0 }' "$_d/team_services.csv")
    ss=$(sum_col "$_s" served all | cut -d. -f1)
    check "$_n: served in summary ($ss) = served team_services.csv rows referred in the window ($ts)" [ "$ts" = "$ss" ]
    bad=$(awk -F, 'NR > 2 {
            if ($7 !~ /^(served|withdrawn|expired|pending)$/) print "row " NR ": outcome " $7
            if ($10 != "" && $10 < 0) print "row " NR ": wait " $10
            if ($9 != "" && $9 < $8) print "row " NR ": left before referral"
            if ($7 == "served" && ($11 == "" || $11 < $9 || $12 <= 0)) print "row " NR ": served without end or hours"
            if ($7 != "served" && ($11 != "" || $12 != 0)) print "row " NR ": unserved with end or hours"
        }' "$_d/team_services.csv" | head -n 3 | tr '\n' ';')
    check "$_n: team_services.csv: outcomes known, waits >= 0, served rows have an end and hours ($bad)" [ -z "$bad" ]

    # costs positive in every populated arm
    bad=$(awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i; next }
        NR > 2 && $1 == "all" && $c["persons"] > 0 && !($c["cost_sick_pay_nok"] > 0 && $c["cost_staff_nok"] > 0 && $c["cost_nok"] > 0) { print $2 }' "$_s")
    check "$_n: sick-pay, staff and total cost > 0 in every populated arm (not in: '$bad')" [ -z "$bad" ]
}

# --- every shipped scenario ------------------------------------------------
for sc in scenarios/*.ini; do
    n=$(basename "$sc" .ini)
    syf check "$sc"
    expect_ok "$n: check"
    D=$TMP/$n
    # at least ~250 persons per office, so that small offices still recruit
    offices=$(sed -n 's/^offices *= *\([0-9][0-9]*\).*/\1/p' "$sc" | tail -n 1)
    persons=$PERSONS
    [ -n "$offices" ] && [ $((250 * offices)) -gt $persons ] && persons=$((250 * offices))
    syf run "$sc" --out "$D" --set population.persons=$persons
    expect_ok "$n: run ($persons persons)"
    [ "$RC" -eq 0 ] || continue
    cp "$TMP/out" "$D.stdout"
    check_summary "$D" "$n"

    design=$(ini_value "$D/scenario.ini" trial design)
    # teams that exist (fte > 0) and take referrals (uptake > 0; a team with
    # uptake 0 acts only through spillover, e.g. office-wide training)
    teams=
    spill=
    for t in rph cbt ips nav; do
        f=$(ini_value "$D/scenario.ini" "team_$t" fte)
        u=$(ini_value "$D/scenario.ini" "team_$t" uptake)
        if awk -v f="$f" 'BEGIN { exit !(f + 0 > 0) }'; then
            if awk -v u="$u" 'BEGIN { exit !(u + 0 > 0) }'; then
                teams="$teams $t"
            else
                spill="$spill $t"
            fi
        fi
    done
    for t in $spill; do
        n_t=$(awk -F, -v t="$t" 'NR > 2 && $5 == t { n++ } END { print n + 0 }' "$D/team_services.csv")
        check "$n: team_$t (fte > 0, uptake 0) has no referrals ($n_t)" [ "$n_t" = 0 ]
    done

    if [ "$design" = rd ]; then
        # every office runs the threshold rule: the arms are persons either
        # side of the cutoff (trial.csv), not offices
        arms=$(csv_col "$D/trial.csv" treated | sort -u | tr '\n' ' ')
        check "$n (rd): trial.csv has treated and untreated participants (got '$arms')" [ "$arms" = "0 1 " ]
    elif [ -n "$design" ] && [ "$design" != none ]; then
        pop=$(awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i; next }
            NR > 2 && $1 == "all" && $c["persons"] > 0 && $c["spells"] > 0 && $c["sick_days"] > 0 { print $2 }' "$D/summary.csv" | tr '\n' ' ')
        check "$n ($design): both arms populated in summary.csv (persons, spells, sick days > 0 in: '$pop')" [ "$pop" = "control pilot " ]
        check "$n: stdout reports both arms" grep -q "^  pilot (.*sick-leave days per 1,000" "$D.stdout"
        check "$n: stdout reports the control arm" grep -q "^  control (.*sick-leave days per 1,000" "$D.stdout"
    else
        rows=$(csv_col "$D/summary.csv" arm | sort -u | tr '\n' ' ')
        check "$n (no design): summary.csv arm column empty (got '$rows')" [ "$rows" = " " ]
    fi

    for t in $teams; do
        p=$(profession "$t")
        sv=$(awk -F, -v t="$t" 'NR > 2 && $5 == t && $7 == "served" { n++ } END { print n + 0 }' "$D/team_services.csv")
        hr=$(sum_col "$D/summary.csv" "hours_$p" all)
        check "$n: team_$t (fte > 0) served people ($sv) and logged hours_$p ($hr)" \
            awk -v s="$sv" -v h="$hr" 'BEGIN { exit !(s > 0 && h > 0) }'
        ts=$(awk -F, -v t="$t" 'NR > 2 && $5 == t && $7 == "served" && $9 >= 0 && $9 < 365 { s += $12 } END { printf "%.1f\n", s }' "$D/team_services.csv")
        check "$n: hours_$p ($hr) = hours of team_$t services started in the window ($ts)" \
            awk -v a="$hr" -v b="$ts" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 0.05 + 1e-4 * a) }'
    done
    if [ -n "$teams" ]; then
        served=$(sum_col "$D/summary.csv" served all | cut -d. -f1)
        check "$n: served > 0 in summary.csv ($served)" [ "$served" -gt 0 ]
        check "$n: stdout names the team hours" grep -q "staff hours .*_" "$D.stdout"
    fi
    ef=$(ini_value "$D/scenario.ini" employer_team fte)
    if awk -v f="$ef" 'BEGIN { exit !(f + 0 > 0) }'; then
        eh=$(sum_col "$D/summary.csv" hours_employer_team all)
        check "$n: employer team (fte $ef) logged hours ($eh)" awk -v h="$eh" 'BEGIN { exit !(h > 0) }'
    fi

    if [ $HAVE_GNUPLOT = 1 ]; then
        plots="km hazard cost"
        [ -n "$teams$spill" ] && plots="$plots queue"
        missing=
        for p in $plots; do
            [ -s "$D/$p.png" ] && grep -qs "<svg" "$D/$p.svg" || missing="$missing $p"
        done
        check "$n: plots $plots written as PNG and SVG (missing:${missing:- none})" [ -z "$missing" ]
        if [ -z "$teams$spill" ]; then
            check "$n: no queue plot without teams" [ ! -e "$D/queue.png" ]
        fi
    fi
    hidden=$(ls -A "$D" | grep '^\.' | tr '\n' ' ')
    check "$n: no temporary files left (found: '$hidden')" [ -z "$hidden" ]
done

# syf_noplot ARGS...: as syf, with gnuplot out of reach (faster: the runs
# below check data only).
mkdir "$TMP/nopath"
case $SYFOSIM in
/*) BIN=$SYFOSIM ;;
*) BIN=$(pwd)/$SYFOSIM ;;
esac
syf_noplot() {
    PATH=$TMP/nopath "$BIN" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}

# --- a team with fte 0 logs nothing; cost of a team's hours ------------------
BASE=$(pwd)/scenarios/baseline-norway.ini
cat >"$TMP/fte0.ini" <<EOF
[scenario]
base = $BASE
name = fte0
[population]
persons = 20000
[world]
offices = 4
[team_rph]
fte = 1
caseload = 8
in_pilot = 0
refer_day = 28
cost_per_hour = 1000
[team_ips]
fte = 0
caseload = 20
in_pilot = 0
refer_day = 14
sessions = 20
cost_per_hour = 5000
EOF
syf_noplot run "$TMP/fte0.ini" --out "$TMP/fte0"
expect_ok "run with team_rph fte 1 and team_ips fte 0"
S=$TMP/fte0/summary.csv
ips=$(csv_col "$S" hours_job_specialist | sort -u | tr '\n' ' ')
check "team_ips fte 0: hours_job_specialist is 0.0 in every row (got '$ips')" [ "$ips" = "0.0 " ]
n=$(awk -F, 'NR > 2 && $5 == "ips"' "$TMP/fte0/team_services.csv" | wc -l)
check "team_ips fte 0: no ips referral in team_services.csv ($n)" [ "$n" -eq 0 ]
rph=$(sum_col "$S" hours_rph_therapist all)
check "team_rph fte 1 (in every office from day 0): hours_rph_therapist > 0 ($rph)" \
    awk -v h="$rph" 'BEGIN { exit !(h > 0) }'
vrate=$(ini_value "$TMP/fte0/scenario.ini" regime veileder_nok_per_hour)
bad=$(awk -F, -v v="$vrate" 'NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    NR > 2 { e = $c["hours_veileder"] * v + $c["paid_team_hours"] * 1000; d = $c["cost_staff_nok"] - e
             if (d > 1.5 || d < -1.5) print $1 ":" $c["cost_staff_nok"] "!=" e }' "$S" | head -n 3 | tr '\n' ' ')
check "cost_staff_nok = hours_veileder x regime.veileder_nok_per_hour + paid_team_hours x 1000 ($bad)" [ -z "$bad" ]
# a team is paid for its FTE while present: 1 FTE x 1,695 hours a year in every office
nof=$(ini_value "$TMP/fte0/scenario.ini" world offices)
wdays=$(ini_value "$TMP/fte0/scenario.ini" run observation_days)
paid=$(sum_col "$S" paid_team_hours all)
check "paid_team_hours = offices x fte x 1695 x window/365 ($paid for $nof offices)" \
    awk -v p="$paid" -v n="$nof" -v d="$wdays" 'BEGIN { e = n * 1695 * d / 365; exit !(p > e - 1 && p < e + 1) }'
check "paid hours of a team at least the hours it delivered ($paid >= $rph)" \
    awk -v p="$paid" -v h="$rph" 'BEGIN { exit !(p >= h) }'
syf run "$TMP/fte0.ini" --out "$TMP/fte0b" --set team_rph.fte=0
expect_ok "run with both teams at fte 0"
tot=$(awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    NR > 2 { s += $c["hours_rph_therapist"] + $c["hours_job_specialist"] + $c["referrals"] } END { print s + 0 }' "$TMP/fte0b/summary.csv")
check "every team at fte 0: no team hours or referrals at all (sum $tot)" [ "$tot" = 0 ]
check "every team at fte 0: no queue plot" [ ! -e "$TMP/fte0b/queue.png" ]
m=$(csv_col "$TMP/fte0b/summary.csv" mean_wait_days | sort -u | tr '\n' ' ')
check "no referrals: mean_wait_days empty (got '$m')" [ "$m" = " " ]

# --- employer-team hours follow the time the team ran -----------------------
ONES="1,1,1,1,1,1,1,1,1,1,1,1,1,1,1"
syf_noplot run "$TMP/fte0.ini" --out "$TMP/emp0" --set team_rph.fte=0 --set employer_team.fte=1 \
    --set employer_team.in_pilot=0 --set employer_team.counties=$ONES \
    --set employer_team.start_days=0,0,0,0,0,0,0,0,0,0,0,0,0,0,0 --set employer_team.cost_per_hour=900
expect_ok "employer team in every county from the window's start"
syf_noplot run "$TMP/fte0.ini" --out "$TMP/emp1" --set team_rph.fte=0 --set employer_team.fte=1 \
    --set employer_team.in_pilot=0 --set employer_team.counties=$ONES \
    --set employer_team.start_days=146,146,146,146,146,146,146,146,146,146,146,146,146,146,146 \
    --set employer_team.cost_per_hour=900
expect_ok "employer team from day 146"
h0=$(sum_col "$TMP/emp0/summary.csv" hours_employer_team all)
h1=$(sum_col "$TMP/emp1/summary.csv" hours_employer_team all)
check "employer-team hours > 0 ($h0) and from day 146 they are (365 - 146) / 365 of that ($h1)" \
    awk -v a="$h0" -v b="$h1" 'BEGIN { exit !(a > 0 && b > 0.59 * a && b < 0.61 * a) }'
bad=$(awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    NR > 2 && $1 == "all" { e = $c["hours_veileder"] * 460 + $c["paid_team_hours"] * 900; d = $c["cost_staff_nok"] - e
        if ($c["paid_team_hours"] <= 0 || d > 1.5 || d < -1.5) print "staff cost " $c["cost_staff_nok"] " != " e }' "$TMP/emp0/summary.csv")
check "the employer team's paid FTE hours are costed at employer_team.cost_per_hour ($bad)" [ -z "$bad" ]

# --- without gnuplot: data written, plots skipped with one warning ----------
syf_noplot run "$TMP/fte0.ini" --out "$TMP/nognu"
expect_ok "run with gnuplot missing from PATH"
check "gnuplot missing: one warning on stderr ($(one_line "$TMP/err"))" \
    [ "$(grep -c 'gnuplot is not installed' "$TMP/err")" = 1 ]
check "gnuplot missing: summary.csv written" [ -s "$TMP/nognu/summary.csv" ]
check "gnuplot missing: team_services.csv written" [ -s "$TMP/nognu/team_services.csv" ]
pngs=$(ls "$TMP/nognu" | grep -c '\.png$\|\.svg$')
check "gnuplot missing: no plot files ($pngs)" [ "$pngs" = 0 ]

finish
