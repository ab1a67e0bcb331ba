#!/bin/sh
# estimate_did_cs.sh — CLI tests of `syfosim estimate --method did` and
# `--method cs` on mpdta (tests/data/mpdta.csv).
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/estimate_did_cs.sh
# References: /work/shared/validation/README.md §4 (did README: ATT(g,t),
# aggregations, pre-test p; 4-5 digits printed, bootstrap SEs compared to
# 15%), and values [recomputed] with R 4.2.2 (ATT(g,t) and influence-function
# SEs by hand; TWFE/event/2x2 with lm + clubSandwich 0.5.8), as frozen in
# tests/unit/test_cs.c and tests/unit/test_did.c.

. "$(dirname "$0")/lib/common.sh"
setup estimate_did_cs

D=tests/data/mpdta.csv
CS="estimate --data $D --outcome lemp --method cs --id countyreal --time year --group first.treat"
DID="estimate --data $D --outcome lemp --method did --id countyreal --time year"

# field TERM COLUMN: the value of COLUMN in the row of TERM of $TMP/out (csv).
# A quoted term (ATT(g=2004,t=2005) has a comma) is read up to its closing quote.
field() {
    awk -F, -v term="$1" -v col="$2" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
        {
            line = $0
            if (substr(line, 1, 1) == "\"") {
                t = substr(line, 2, index(substr(line, 2), "\"") - 1)
                line = "x" substr(line, length(t) + 3)
            } else {
                t = substr(line, 1, index(line, ",") - 1)
            }
            split(line, f, ",")
        }
        t == term && c { print f[c]; found = 1 }
        END { if (!found) print "missing" }' "$TMP/out"
}

# check_abs NAME GOT WANT TOL / check_rel NAME GOT WANT TOL
check_abs() {
    if awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN {
            if (g == "missing" || g == "") exit 1
            d = g - w; if (d < 0) d = -d; exit !(d <= t) }'; then
        pass "$1 = $2 (reference $3, abs. tol $4)"
    else
        fail "$1 = $2, reference $3 (abs. tol $4)"
    fi
}
check_rel() {
    if awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN {
            if (g == "missing" || g == "") exit 1
            d = g - w; if (d < 0) d = -d; s = w < 0 ? -w : w; if (s == 0) s = 1
            exit !(d <= t * s) }'; then
        pass "$1 = $2 (reference $3, rel. tol $4)"
    else
        fail "$1 = $2, reference $3 (rel. tol $4)"
    fi
}

# --- cs: every ATT(g,t), README digits and recomputed values ---------------
# shellcheck disable=SC2086
syf $CS --format csv
expect_ok "cs ATT(g,t)"
n=$(($(wc -l <"$TMP/out") - 1))
check "cs prints 12 ATT(g,t) rows (got $n)" [ "$n" -eq 12 ]
for spec in 2004,2004,-0.0105 2004,2005,-0.0704 2004,2006,-0.1373 2004,2007,-0.1008 \
    2006,2004,0.0065 2006,2005,-0.0028 2006,2006,-0.0046 2006,2007,-0.0412 \
    2007,2004,0.0305 2007,2005,-0.0027 2007,2006,-0.0311 2007,2007,-0.0261; do
    g=${spec%%,*}
    rest=${spec#*,}
    t=${rest%%,*}
    v=${rest#*,}
    check_abs "ATT(g=$g,t=$t)" "$(field "ATT(g=$g,t=$t)" estimate)" "$v" 0.00005
done
check_rel "ATT(g=2004,t=2006) [recomputed]" "$(field "ATT(g=2004,t=2006)" estimate)" -0.137258738889 1e-8
check_rel "SE ATT(g=2004,t=2006) [recomputed]" "$(field "ATT(g=2004,t=2006)" std_error)" 0.0364356642877 1e-8
check "cs df column is empty (normal reference)" [ -z "$(field "ATT(g=2007,t=2007)" df)" ]

# shellcheck disable=SC2086
syf $CS
expect_ok "cs text format"
if grep -q "p = 0.16812" "$TMP/out"; then
    pass "pre-test p = 0.16812 (README)"
else
    fail "pre-test p = 0.16812 not in: $(grep pre-test "$TMP/out")"
fi
check "text notes name the analytic SEs" grep -q "influence functions" "$TMP/out"

# --- cs aggregations ---------------------------------------------------------
# shellcheck disable=SC2086
syf $CS --aggregate dynamic --format csv
expect_ok "cs --aggregate dynamic"
check_abs "dynamic ATT" "$(field ATT estimate)" -0.0772 0.00005
check_rel "dynamic ATT SE vs bootstrap 0.0219" "$(field ATT std_error)" 0.0219 0.15
check_rel "dynamic ATT SE [recomputed analytic]" "$(field ATT std_error)" 0.0199649890618 1e-8
e=-3
for v in 0.0305 -0.0006 -0.0245 -0.0199 -0.0510 -0.1373 -0.1008; do
    check_abs "ATT(e=$e)" "$(field "ATT(e=$e)" estimate)" "$v" 0.00005
    e=$((e + 1))
done

# shellcheck disable=SC2086
syf $CS --aggregate group --format csv
expect_ok "cs --aggregate group"
check_abs "group ATT" "$(field ATT estimate)" -0.031 0.0005
check_rel "group ATT SE vs bootstrap 0.0126" "$(field ATT std_error)" 0.0126 0.15
check_rel "group ATT SE [recomputed analytic]" "$(field ATT std_error)" 0.012446059321 1e-8
check_abs "ATT(g=2004)" "$(field "ATT(g=2004)" estimate)" -0.0797 0.00005
check_abs "ATT(g=2006)" "$(field "ATT(g=2006)" estimate)" -0.0229 0.00005
check_abs "ATT(g=2007)" "$(field "ATT(g=2007)" estimate)" -0.0261 0.00005

# shellcheck disable=SC2086
syf $CS --aggregate simple --control notyet --format csv
expect_ok "cs --aggregate simple --control notyet"
check_rel "simple ATT, not yet treated [recomputed]" "$(field ATT estimate)" -0.039763625623 1e-8
check_rel "its SE [recomputed]" "$(field ATT std_error)" 0.0120524247873 1e-8

# --- did ---------------------------------------------------------------------
# shellcheck disable=SC2086
syf $DID --group first.treat --format csv
expect_ok "did (twfe default) --group"
check_rel "TWFE ATT [recomputed, lm]" "$(field ATT estimate)" -0.0365489366742 1e-8
check_rel "TWFE CR2 SE [recomputed, clubSandwich]" "$(field ATT std_error)" 0.0132704299803 1e-7
check_rel "TWFE CR2 Satterthwaite df [recomputed]" "$(field ATT df)" 279.826220097 1e-7

awk -F, 'NR == 1 { print $0 ",D"; next }
    { print $0 "," (($5 > 0 && $1 >= $5) ? 1 : 0) }' "$D" >"$TMP/mp_d.csv"
syf estimate --data "$TMP/mp_d.csv" --outcome lemp --method did --id countyreal --time year \
    --treat D --se CR1 --format csv
expect_ok "did --treat D --se CR1"
check_rel "TWFE CR1 SE [recomputed]" "$(field ATT std_error)" 0.0132624968151 1e-7

# shellcheck disable=SC2086
syf $DID --group first.treat --aggregate event:-3:2 --format csv
expect_ok "did --aggregate event:-3:2"
got=$(awk -F, 'NR > 1 { printf "%s ", $1 }' "$TMP/out")
check "event-study terms (got $got)" [ "$got" = "e<=-3 e=-2 e=0 e=1 e>=2 " ]
check_rel "e>=2 [recomputed]" "$(field "e>=2" estimate)" -0.114224325297 1e-8
check_rel "e>=2 CR2 SE [recomputed]" "$(field "e>=2" std_error)" 0.0277347039831 1e-7

awk -F, 'NR == 1 || $5 == 0 || $5 == 2006' "$D" >"$TMP/mp_2x2.csv"
syf estimate --data "$TMP/mp_2x2.csv" --outcome lemp --method did --id countyreal --time year \
    --group first.treat --aggregate 2x2 --format csv
expect_ok "did --aggregate 2x2 (first.treat 0 or 2006)"
check_rel "2x2 ATT [recomputed, DiD of means]" "$(field ATT estimate)" -0.0225700476085 1e-8
check_rel "2x2 CR2 SE [recomputed]" "$(field ATT std_error)" 0.020989819793 1e-7

# --- errors ------------------------------------------------------------------
syf estimate --data $D --outcome lemp --method cs --id countyreal --time year
expect_input_error "cs without --group" "missing required option" "--group"
# shellcheck disable=SC2086
syf $CS --control sometimes
expect_input_error "cs --control sometimes" "--control" "never or notyet"
# shellcheck disable=SC2086
syf $CS --aggregate calendar
expect_input_error "cs --aggregate calendar" "--aggregate" "simple, dynamic or group"
# shellcheck disable=SC2086
syf $CS --se CR1
expect_input_error "cs --se" "not used by method 'cs'"
sed '7d' "$D" >"$TMP/unbal.csv"
syf estimate --data "$TMP/unbal.csv" --outcome lemp --method cs --id countyreal --time year \
    --group first.treat
expect_input_error "cs on an unbalanced panel" "balanced panel" "8019"
awk -F, 'NR == 3 { $5 = 2006 } { print }' OFS=, "$D" >"$TMP/badg.csv"
syf estimate --data "$TMP/badg.csv" --outcome lemp --method cs --id countyreal --time year \
    --group first.treat
expect_input_error "cs group not constant within a unit" "constant within a unit" "8001"
awk -F, 'NR > 1 && $5 == 0 { next } { print }' "$D" >"$TMP/nonever.csv"
syf estimate --data "$TMP/nonever.csv" --outcome lemp --method cs --id countyreal --time year \
    --group first.treat
expect_input_error "cs, no never-treated units" "never-treated"
syf estimate --data "$TMP/nonever.csv" --outcome lemp --method cs --id countyreal --time year \
    --group first.treat --control notyet --format csv
expect_ok "cs --control notyet with no never-treated units"
check_rel "ATT(g=2004,t=2004) there [recomputed]" "$(field "ATT(g=2004,t=2004)" estimate)" -0.0353990145156 1e-8

awk -F, 'NR > 1 && $2 == 8001 { $5 = 2005.5 } { print }' OFS=, "$D" >"$TMP/halfg_cs.csv"
syf estimate --data "$TMP/halfg_cs.csv" --outcome lemp --method cs --id countyreal --time year \
    --group first.treat
expect_input_error "cs group that is not a period" "unit '8001'" "not one of the periods"
awk -F, 'NR > 1 && $2 == 8001 { $5 = 2003 } { print }' OFS=, "$D" >"$TMP/early.csv"
syf estimate --data "$TMP/early.csv" --outcome lemp --method cs --id countyreal --time year \
    --group first.treat
expect_ok "cs with a unit treated in the first period"
check "its note says it was dropped" grep -q "dropped 1 unit already treated" "$TMP/out"

# shellcheck disable=SC2086
syf $DID --group first.treat --treat treat
expect_input_error "did with --treat and --group" "exactly one of --treat"
# shellcheck disable=SC2086
syf $DID --group first.treat --aggregate 2x2
expect_input_error "did 2x2 under staggered adoption" "staggered"
# shellcheck disable=SC2086
syf $DID --group first.treat --aggregate event:-1:3
expect_input_error "did bins not straddling -1" "--aggregate" "LO <= -2"
# shellcheck disable=SC2086
syf $DID --group first.treat --covariates lpop
expect_input_error "did with a time-invariant covariate" "'lpop' does not vary within units"
# shellcheck disable=SC2086
syf $DID --treat treat
expect_input_error "did --treat that never changes" "does not vary within any unit"
# shellcheck disable=SC2086
syf $DID --group first.treat --control notyet
expect_input_error "did --control" "not used by method 'did'"
awk -F, 'NR == 1 { print $0 ",D"; next }
    { print $0 "," (($5 > 0 && $1 == $5) ? 1 : 0) }' "$D" >"$TMP/mp_pulse.csv"
syf estimate --data "$TMP/mp_pulse.csv" --outcome lemp --method did --id countyreal \
    --time year --treat D --aggregate event
expect_input_error "did event with a treatment that switches off" "stays on"
awk -F, 'NR == 3 { $1 = 2003 } { print }' OFS=, "$D" >"$TMP/dup.csv"
syf estimate --data "$TMP/dup.csv" --outcome lemp --method did --id countyreal --time year \
    --group first.treat
expect_input_error "did duplicate unit-period" "appears twice in period 2003"
awk -F, 'NR == 2 { $5 = 2005.5 } { print }' OFS=, "$D" >"$TMP/halfg.csv"
syf estimate --data "$TMP/halfg.csv" --outcome lemp --method did --id countyreal --time year \
    --group first.treat
expect_input_error "did group that is not a period" "not one of the periods"

syf estimate --help
check "estimate --help lists did and cs" grep -q "^  did " "$TMP/out"
check "estimate --help lists cs" grep -q "^  cs " "$TMP/out"

finish
