#!/bin/sh
# estimate_sc_rd.sh — CLI tests of `syfosim estimate --method sc` and `--method rd`.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/estimate_sc_rd.sh
# Reference numbers (sources in tests/unit/test_sc.c and test_rd.c):
#   sc: California Proposition 99 (tests/data/sc_smoking.csv), exact V = I
#       synthetic control [R 4.2.2 exact solve + KKT certificate; quadprog
#       limit]; Stata sdid -19.48 and synthdid -19.6 are regularised solvers.
#   rd: U.S. Senate data (tests/data/rd_senate.csv): rdrobust published output
#       (Calonico, Cattaneo, Farrell & Titiunik 2017, Stata Journal, pp.
#       392-398), rdrobust's Python tests (validation README §6), and an R
#       transcription of rdrobust [12 digits].

. "$(dirname "$0")/lib/common.sh"
setup estimate_sc_rd

SC=tests/data/sc_smoking.csv
RD=tests/data/rd_senate.csv

# field FILE TERM COLUMN: value of COLUMN in the row of TERM of a --format csv output.
field() {
    awk -F, -v term="$2" -v col="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
        $1 == term && c { print $c; found = 1 }
        END { if (!found) print "missing" }' "$1"
}

# check_rel NAME GOT WANT TOL: |got - want| <= tol * |want|.
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

# check_empty NAME VALUE
check_empty() {
    if [ -z "$2" ]; then pass "$1 is empty"; else fail "$1 = '$2', want empty"; fi
}

# --- synthetic control --------------------------------------------------------
syf estimate --data $SC --outcome packspercapita --method sc --id state --time year \
    --treat treated --unit California --format csv
expect_ok "sc Prop 99"
cp "$TMP/out" "$TMP/sc.csv"
check_rel "sc att" "$(field "$TMP/sc.csv" att estimate)" -19.5136313679 1e-9
check_rel "sc placebo p (rank 3 of 39)" "$(field "$TMP/sc.csv" att p_value)" 0.0769230769231 1e-9
check_empty "sc att std_error" "$(field "$TMP/sc.csv" att std_error)"
check_empty "sc att df" "$(field "$TMP/sc.csv" att df)"
check_rel "sc gap(t=1989)" "$(field "$TMP/sc.csv" 'gap(t=1989)' estimate)" -8.440481589 1e-8
check_rel "sc gap(t=2000) (ADH: about 26 packs by 2000)" \
    "$(field "$TMP/sc.csv" 'gap(t=2000)' estimate)" -26.59664268 1e-8
check_rel "sc att vs Stata sdid -19.48 (within 0.5%)" "$(field "$TMP/sc.csv" att estimate)" -19.48 0.005
n=$(grep -c '^gap(t=' "$TMP/sc.csv")
if [ "$n" -eq 12 ]; then pass "sc: 12 post-period gap rows"; else fail "sc: $n gap rows, want 12"; fi

syf estimate --data $SC --outcome packspercapita --method sc --id state --time year --treat treated
expect_ok "sc text format"
if has_all "$TMP/out" "Utah 0.393908" "Montana 0.231840" "placebo rank 3 of 39" "V = I" \
    "pre-periods 1970..1988 (19)"; then
    pass "sc notes: weights, placebo rank, pre-periods"
else
    fail "sc notes lack$MISSING: $(cat "$TMP/out")"
fi

syf estimate --data $SC --outcome packspercapita --method sc --id state --time year \
    --treat treated --unit Nevada
expect_input_error "sc --unit that is not the treated one" "--unit 'Nevada'" "California"

syf estimate --data $SC --outcome packspercapita --method sc --id state --time year
expect_input_error "sc without --treat" "missing required option" "--treat"

grep -v '^Utah,1975,' $SC >"$TMP/unbal.csv"
syf estimate --data "$TMP/unbal.csv" --outcome packspercapita --method sc --id state --time year \
    --treat treated
expect_input_error "sc unbalanced panel" "unit 'Utah' has no row for year '1975'" "balanced"

sed 's/^Utah,1995,\(.*\),0$/Utah,1995,\1,1/' $SC >"$TMP/two.csv"
syf estimate --data "$TMP/two.csv" --outcome packspercapita --method sc --id state --time year \
    --treat treated
expect_input_error "sc two treated units" "two units as treated"

sed 's/^California,1995,\(.*\),1$/California,1995,\1,0/' $SC >"$TMP/gap.csv"
syf estimate --data "$TMP/gap.csv" --outcome packspercapita --method sc --id state --time year \
    --treat treated
expect_input_error "sc treatment switching off" "treatment must continue"

sed 's/^Texas,1980,\(.*\),0$/Texas,1980,\1,2/' $SC >"$TMP/bad.csv"
syf estimate --data "$TMP/bad.csv" --outcome packspercapita --method sc --id state --time year \
    --treat treated
expect_input_error "sc treat not 0/1" "must be 0 or 1"

awk -F, '/^#/ || $1 != "Texas" || $2 != "1980" { print; next } { print; print }' $SC >"$TMP/dup.csv"
syf estimate --data "$TMP/dup.csv" --outcome packspercapita --method sc --id state --time year \
    --treat treated
expect_input_error "sc duplicate row" "second row for year '1980'"

# --- regression discontinuity -----------------------------------------------------
syf estimate --data $RD --outcome vote --method rd --running margin --cutoff 0 --format csv
expect_ok "rd Senate default (mserd, nn)"
cp "$TMP/out" "$TMP/rd.csv"
check_rel "rd conventional" "$(field "$TMP/rd.csv" Conventional estimate)" 7.41413080197 1e-9
check_rel "rd conventional SE" "$(field "$TMP/rd.csv" Conventional std_error)" 1.45871602383 1e-9
check_rel "rd robust estimate" "$(field "$TMP/rd.csv" Robust estimate)" 7.50650247059 1e-9
check_rel "rd robust SE" "$(field "$TMP/rd.csv" Robust std_error)" 1.74125841461 1e-9
check_rel "rd robust CI low" "$(field "$TMP/rd.csv" Robust conf_low)" 4.09369869018 1e-9
check_empty "rd df (normal)" "$(field "$TMP/rd.csv" Conventional df)"

syf estimate --data $RD --outcome vote --method rd --running margin --cutoff 0
expect_ok "rd text format"
if has_all "$TMP/out" "h = 17.7544, b = 28.0281" "N = 595 | 702" "360 | 323 at h" \
    "93 rows with a missing value dropped"; then
    pass "rd notes: bandwidths, N, effective N, dropped rows"
else
    fail "rd notes lack$MISSING: $(cat "$TMP/out")"
fi

syf estimate --data $RD --outcome vote --method rd --running margin --cutoff 0 \
    --bandwidth 16.79369,27.43745 --format csv
expect_ok "rd manual 2014 bandwidths"
# Stata Journal 2017, p. 393: 7.4253 (SE 1.4954), robust CI [4.06975, 10.9833]
check_rel "rd manual conventional (paper 7.4253)" "$(field "$TMP/out" Conventional estimate)" 7.4253 7e-6
check_rel "rd manual SE (paper 1.4954)" "$(field "$TMP/out" Conventional std_error)" 1.4954 4e-5
check_rel "rd manual robust CI low (paper 4.06975)" "$(field "$TMP/out" Robust conf_low)" 4.06975 2e-6
check_rel "rd manual robust CI high (paper 10.9833)" "$(field "$TMP/out" Robust conf_high)" 10.9833 5e-6

syf estimate --data $RD --outcome vote --method rd --running margin --cutoff 0 \
    --covariates termshouse,termssenate,population --se hc1
expect_ok "rd covariates hc1"
# validation README §6: mserd h = 17.976890, b = 28.963712
if has_all "$TMP/out" "h = 17.9769, b = 28.9637" "covariate-adjusted (3 covariates)" "N = 491 | 617"; then
    pass "rd covariates: h = 17.9769, b = 28.9637, N = 491 | 617"
else
    fail "rd covariates lack$MISSING: $(cat "$TMP/out")"
fi

syf estimate --data $RD --outcome vote --method rd --running margin --cutoff 0 \
    --covariates termshouse,termssenate,population --se hc1 --bandwidth 10,20
if has_all "$TMP/out" "N = 491 | 617" "215 | 181 at h, 336 | 300 at b"; then
    pass "rd h=10, b=20: N = [491, 617], N_h = [215, 181], N_b = [336, 300]"
else
    fail "rd h=10 b=20 lack$MISSING: $(cat "$TMP/out")"
fi

syf estimate --data $RD --outcome vote --method rd --running margin --cutoff 0 --cluster state \
    --format csv
expect_ok "rd clustered by state"
check_rel "rd cluster conventional" "$(field "$TMP/out" Conventional estimate)" 7.42014060944 1e-9
check_rel "rd cluster SE" "$(field "$TMP/out" Conventional std_error)" 1.52025156773 1e-9

syf estimate --data $RD --outcome vote --method rd --running margin --cutoff 200
expect_input_error "rd cutoff outside the data" "cutoff" "range"
syf estimate --data $RD --outcome vote --method rd --running margin --cutoff abc
expect_input_error "rd cutoff not a number" "--cutoff: 'abc'"
syf estimate --data $RD --outcome vote --method rd --running margin --cutoff 0 --bandwidth -3
expect_input_error "rd negative bandwidth" "--bandwidth: '-3'"
syf estimate --data $RD --outcome vote --method rd --running margin --cutoff 0 --bandwidth 5,x
expect_input_error "rd bad bias bandwidth" "--bandwidth: '5,x'"
syf estimate --data $RD --outcome vote --method rd --running margin --cutoff 0 --se CR2
expect_input_error "rd unknown --se" "--se: unknown variance 'CR2'"
syf estimate --data $RD --outcome vote --method rd --running margin
expect_input_error "rd without --cutoff" "missing required option" "--cutoff"
syf estimate --data $RD --outcome vote --method rd --running state --cutoff 0
expect_input_error "rd non-numeric running variable" "column 'state'" "is not a number"
syf estimate --data $RD --outcome vote --method rd --running margin --cutoff 0 --bandwidth 0.01
expect_input_error "rd bandwidth too small" "too few distinct running-variable values"
syf estimate --data $RD --outcome vote --method rd --running margin --cutoff 0 --treat class
expect_input_error "rd does not take --treat" "option '--treat' is not used by method 'rd'"

finish
