#!/bin/sh
# estimate.sh — CLI tests of `syfosim estimate` (DESIGN §6 contract).
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/estimate.sh
# Prints one line per check; exits non-zero if any check fails.
# Reference numbers: /work/shared/validation/README.md §2 (Petersen 2009
# data; sandwich tests, estimatr) and clubSandwich 0.5.8 [recomputed].

SYFOSIM=${SYFOSIM:-build/syfosim}
DATA=tests/data/petersen.csv
TMP=$(mktemp -d "${TMPDIR:-/tmp}/syf_estimate.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT INT TERM
FAILS=0
CHECKS=0

pass() { CHECKS=$((CHECKS + 1)); echo "ok   $1"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL $1"; }

# run ARGS...: runs syfosim estimate, leaving $TMP/out, $TMP/err and $RC.
run() {
    "$SYFOSIM" estimate "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}

# field CSVFILE TERM COLUMN: the value of COLUMN in the row of TERM.
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

# check_abs NAME GOT WANT TOL: |got - want| <= tol.
check_abs() {
    if awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN {
            if (g == "missing" || g == "") exit 1
            d = g - w; if (d < 0) d = -d; exit !(d <= t) }'; then
        pass "$1 = $2 (reference $3, abs. tol $4)"
    else
        fail "$1 = $2, reference $3 (abs. tol $4)"
    fi
}

# expect_ok NAME: last run exited 0 with empty stderr.
expect_ok() {
    if [ "$RC" -eq 0 ] && [ ! -s "$TMP/err" ]; then
        pass "$1: exit 0"
    else
        fail "$1: exit $RC, stderr: $(cat "$TMP/err")"
    fi
}

# expect_input_error NAME PATTERN...: exit 2, empty stdout, stderr contains
# every PATTERN (fixed strings).
expect_input_error() {
    name=$1
    shift
    ok=1
    [ "$RC" -eq 2 ] || ok=0
    [ -s "$TMP/out" ] && ok=0
    for pat in "$@"; do
        grep -qF -- "$pat" "$TMP/err" || ok=0
    done
    if [ $ok -eq 1 ]; then
        pass "$name: exit 2, stderr: $(head -n 1 "$TMP/err")"
    else
        fail "$name: exit $RC (want 2), stdout $(wc -c <"$TMP/out") bytes, stderr: $(cat "$TMP/err"); wanted: $*"
    fi
}

if [ ! -x "$SYFOSIM" ]; then
    echo "FAIL $SYFOSIM is not an executable (set SYFOSIM=...)"
    exit 1
fi

# --- Petersen, y ~ x, cluster = firm --------------------------------------
run --data "$DATA" --outcome y --method ols --treat x --cluster firm --format csv
expect_ok "petersen CR2 (default) csv"
cp "$TMP/out" "$TMP/cr2.csv"
if [ "$(head -n 1 "$TMP/cr2.csv")" = "term,estimate,std_error,statistic,df,p_value,conf_low,conf_high" ] &&
    [ "$(wc -l <"$TMP/cr2.csv")" -eq 3 ] && [ "$(sed -n 2p "$TMP/cr2.csv" | cut -d, -f1)" = "(Intercept)" ]; then
    pass "csv header and rows (Intercept), x"
else
    fail "csv layout: $(cat "$TMP/cr2.csv")"
fi
check_rel "CR2 x estimate" "$(field "$TMP/cr2.csv" x estimate)" 1.034833439 1e-6
check_rel "CR2 (Intercept) estimate" "$(field "$TMP/cr2.csv" '(Intercept)' estimate)" 0.029679721 1e-6
check_rel "CR2 x std_error" "$(field "$TMP/cr2.csv" x std_error)" 0.050677767 1e-6
check_rel "CR2 (Intercept) std_error" "$(field "$TMP/cr2.csv" '(Intercept)' std_error)" 0.067040937 1e-6
check_rel "CR2 x df (Satterthwaite)" "$(field "$TMP/cr2.csv" x df)" 308.75638 1e-6
check_abs "CR2 (Intercept) df" "$(field "$TMP/cr2.csv" '(Intercept)' df)" 498.67 0.005
check_abs "CR2 x statistic (clubSandwich t = 20.420)" "$(field "$TMP/cr2.csv" x statistic)" 20.420 0.0005

run --data "$DATA" --outcome y --method ols --treat x --cluster firm --se CR1 --format csv
expect_ok "petersen CR1 csv"
check_rel "CR1 x std_error (Stata)" "$(field "$TMP/out" x std_error)" 0.050595726 1e-6
check_rel "CR1 (Intercept) std_error (Stata)" "$(field "$TMP/out" '(Intercept)' std_error)" 0.067012704 1e-6
check_rel "CR1 x df = G - 1" "$(field "$TMP/out" x df)" 499 1e-12

run --data "$DATA" --outcome y --method ols --treat x --cluster firm --se CR0 --format csv
expect_ok "petersen CR0 csv"
check_rel "CR0 x std_error" "$(field "$TMP/out" x std_error)" 0.050540049 1e-6
check_rel "CR0 (Intercept) std_error" "$(field "$TMP/out" '(Intercept)' std_error)" 0.066938961 1e-6

# clubSandwich 0.5.8 vcovCR(type = "CR3"): var(x) = 0.0025822624320339074.
run --data "$DATA" --outcome y --method ols --treat x --cluster firm --se cr3 --format csv
expect_ok "petersen CR3 csv"
check_rel "CR3 x std_error (clubSandwich)" "$(field "$TMP/out" x std_error)" 0.050815966310 1e-8

# Covariates given via --covariates instead of --treat: same numbers.
run --data "$DATA" --outcome y --method ols --covariates x --cluster firm --format csv --level 0.95
expect_ok "petersen via --covariates"
check_rel "--covariates x std_error" "$(field "$TMP/out" x std_error)" 0.050677767 1e-6

# Without --cluster, CR2 is HC2 (estimatr lm_robust se_type = "HC2").
run --data "$DATA" --outcome y --method ols --treat x --format csv
expect_ok "petersen HC2 (no --cluster)"
check_rel "HC2 x std_error (estimatr)" "$(field "$TMP/out" x std_error)" 0.028400787725 1e-8

# Text format: a readable table with n, clusters and the SE type.
run --data "$DATA" --outcome y --method ols --treat x --cluster firm
expect_ok "petersen text"
if grep -q "n = 5000" "$TMP/out" && grep -q "clusters = 500" "$TMP/out" && grep -q "CR2" "$TMP/out" &&
    grep -q "^x " "$TMP/out"; then
    pass "text output names n, clusters and CR2"
else
    fail "text output: $(cat "$TMP/out")"
fi

# Our own outputs start with a provenance comment: it is skipped.
{ echo "# syfosim 0.1.0 git=abc provenance"; cat "$DATA"; } >"$TMP/prov.csv"
run --data "$TMP/prov.csv" --outcome y --method ols --treat x --cluster firm --format csv
expect_ok "data with a '#' provenance line"
check_rel "same x std_error" "$(field "$TMP/out" x std_error)" 0.050677767 1e-6

run --help
if [ "$RC" -eq 0 ] && grep -q -- "--data" "$TMP/out" && grep -q -- "--outcome" "$TMP/out" &&
    grep -q -- "--method" "$TMP/out" && grep -q -- "--treat" "$TMP/out" &&
    grep -q -- "--cluster" "$TMP/out" && grep -q -- "--covariates" "$TMP/out" &&
    grep -q -- "--se" "$TMP/out" && grep -q -- "--level" "$TMP/out" && grep -q -- "--format" "$TMP/out"; then
    pass "--help: exit 0, lists every option"
else
    fail "--help: exit $RC"
fi

# --- bad input: exit 2, nothing on stdout, stderr names the problem --------
run --data "$DATA" --outcome y --method ols --treat z --cluster firm
expect_input_error "missing column" "$DATA" "no column named 'z'" "available: firm, year, x, y"

printf 'id,y,x\n1,1.5,2\n2,2.5,3\n3,x1,4\n4,1,1\n' >"$TMP/nonnum.csv"
run --data "$TMP/nonnum.csv" --outcome y --method ols --treat x
expect_input_error "non-numeric cell" "$TMP/nonnum.csv:4: column 'y': 'x1' is not a number"

printf 'id,y,x\n1,1.5,2\n2,,3\n3,1,4\n' >"$TMP/empty.csv"
run --data "$TMP/empty.csv" --outcome y --method ols --treat x
expect_input_error "empty cell" "$TMP/empty.csv:3: column 'y': empty cell"

run --data "$DATA" --outcome y --method ols --treat x --cluster firm --ties efron
expect_input_error "option the method does not use" "option '--ties' is not used by method 'ols'"

run --data "$DATA" --outcome y --method magic
expect_input_error "unknown method" "unknown method 'magic'"

run --data "$DATA" --outcome y --method ols --treat x --cluster firm --se HC3
expect_input_error "unknown --se" "--se" "'HC3'"

run --data "$TMP/no-such-file.csv" --outcome y --method ols
expect_input_error "missing --data file" "$TMP/no-such-file.csv"

printf 'id,y,x\n1,1.5,2\n2,2.5\n3,1,4\n' >"$TMP/ragged.csv"
run --data "$TMP/ragged.csv" --outcome y --method ols --treat x
expect_input_error "ragged row" "$TMP/ragged.csv:3: row has 2 fields but the header has 3"

printf 'g,y,x,z\na,1,2,4\na,2,3,6\nb,3,4,8\nb,5,1,2\n' >"$TMP/collinear.csv"
run --data "$TMP/collinear.csv" --outcome y --method ols --treat x --covariates z --cluster g
expect_input_error "singular design" "$TMP/collinear.csv" "design matrix is singular"

printf 'g,y,x\na,1,2\na,2,3\na,3,4\na,5,1\n' >"$TMP/onecluster.csv"
run --data "$TMP/onecluster.csv" --outcome y --method ols --treat x --cluster g
expect_input_error "fewer than 2 clusters" "$TMP/onecluster.csv" "fewer than 2 clusters"

printf 'g,y,x,d\na,1,2,1\nb,2,3,0\nb,3,4,0\nc,5,1,0\nc,5,3,0\n' >"$TMP/leverage.csv"
run --data "$TMP/leverage.csv" --outcome y --method ols --treat x --covariates d --cluster g
expect_input_error "CR2 undefined (leverage 1)" "cluster 'a'" "I - H_gg is singular"

run --data "$DATA" --outcome y --method ols --bogus 1
expect_input_error "unknown option" "unknown option '--bogus'"

run --outcome y --method ols
expect_input_error "missing required option" "missing required option" "--data"

run --data "$DATA" --outcome y --method ols --level 1.5
expect_input_error "bad --level" "--level" "'1.5'"

run --data "$DATA" --outcome y --method ols --format xml
expect_input_error "bad --format" "--format" "'xml'"

echo "estimate.sh: $CHECKS checks, $FAILS failed"
[ "$FAILS" -eq 0 ]
