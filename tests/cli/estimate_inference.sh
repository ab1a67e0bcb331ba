#!/bin/sh
# estimate_inference.sh — CLI tests of `syfosim estimate --method ols
# --inference wild|ri` (inference for few clusters on the --treat row).
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/estimate_inference.sh
# Reference numbers: hand-coded R computations on the first 8 firms of the
# Petersen (2009) data [recomputed with R 4.2.2; clubSandwich 0.5.8 for the
# CR2 t of randomization inference], the same fixtures as
# tests/unit/test_wildboot.c and tests/unit/test_ri.c:
#   WCR, y ~ x, all 256 Rademacher vectors: p = 0.1328125 (34/256),
#     95% interval [-0.394215762182, 2.56159505629], CR1 t 2.61403948673;
#   RI, y ~ z with z = 1 for firms 2, 3, 5, 7, all 70 assignments, CR2 t:
#     p = 0.314285714286 (22/70), interval [-3.0343652222, 5.73286642467].

. "$(dirname "$0")/lib/common.sh"
setup estimate_inference

DATA=tests/data/petersen.csv
P8=$TMP/p8.csv
P8Z=$TMP/p8z.csv
awk -F, 'NR == 1 || $1 <= 8' "$DATA" >"$P8"
awk -F, 'NR == 1 { print $0 ",z"; next }
         { print $0 "," (($1 == 2 || $1 == 3 || $1 == 5 || $1 == 7) ? 1 : 0) }' "$P8" >"$P8Z"

# est ARGS...: syfosim estimate ARGS (leaves $TMP/out, $TMP/err, $RC).
est() { syf estimate "$@"; }

# field FILE TERM COLUMN: a value from the csv output (header on line 1).
field() {
    awk -F, -v term="$2" -v col="$3" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
        $1 == term && c { print $c; found = 1 }
        END { if (!found) print "missing" }' "$1"
}

# check_rel NAME GOT WANT TOL
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

# --- wild cluster bootstrap ------------------------------------------------
est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference wild --format csv
expect_ok "wild, Petersen firms 1-8"
cp "$TMP/out" "$TMP/wild.csv"
check_rel "wild p_value (256 vectors enumerated)" "$(field "$TMP/wild.csv" x p_value)" 0.1328125 1e-9
check_rel "wild conf_low" "$(field "$TMP/wild.csv" x conf_low)" -0.394215762182 1e-8
check_rel "wild conf_high" "$(field "$TMP/wild.csv" x conf_high)" 2.56159505629 1e-8
if [ "$(field "$TMP/wild.csv" x df)" = "" ]; then
    pass "wild: df of x is empty"
else
    fail "wild: df of x is '$(field "$TMP/wild.csv" x df)', want empty"
fi

est --data "$P8" --outcome y --method ols --treat x --cluster firm --format csv
expect_ok "analytic (CR2), Petersen firms 1-8"
cp "$TMP/out" "$TMP/analytic.csv"
same=1
for col in estimate std_error statistic; do
    [ "$(field "$TMP/wild.csv" x $col)" = "$(field "$TMP/analytic.csv" x $col)" ] || same=0
done
[ "$(grep '^(Intercept),' "$TMP/wild.csv")" = "$(grep '^(Intercept),' "$TMP/analytic.csv")" ] ||
    same=0
if [ $same -eq 1 ]; then
    pass "wild: x keeps the CR2 estimate, std_error and statistic; (Intercept) row analytic"
else
    fail "wild vs analytic rows differ: $(cat "$TMP/wild.csv") / $(cat "$TMP/analytic.csv")"
fi

est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference wild --se CR1 \
    --format csv --seed 99 --draws 500 --weights Rademacher
expect_ok "wild with --se CR1, --seed, --draws, --weights"
check_rel "CR1 t statistic" "$(field "$TMP/out" x statistic)" 2.61403948673 1e-9
check_rel "same p with another seed (enumerated)" "$(field "$TMP/out" x p_value)" 0.1328125 1e-9

est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference wild
expect_ok "wild, text format"
if has_all "$TMP/out" "wild cluster bootstrap" "WCR" "rademacher" "256" "enumerated" \
    "other rows: analytic inference (CR2)"; then
    pass "wild text notes name the method, weights and enumeration"
else
    fail "wild text notes lack$MISSING: $(cat "$TMP/out")"
fi

# Webb weights: 6^8 > 999, so draws are sampled: reproducible by seed.
est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference wild \
    --weights webb --seed 7 --format csv
cp "$TMP/out" "$TMP/webb7a.csv"
est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference wild \
    --weights webb --seed 7 --format csv
cp "$TMP/out" "$TMP/webb7b.csv"
est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference wild \
    --weights webb --seed 8 --format csv
cp "$TMP/out" "$TMP/webb8.csv"
check "webb: same seed, same output" cmp -s "$TMP/webb7a.csv" "$TMP/webb7b.csv"
check "webb: another seed, other draws" files_differ "$TMP/webb7a.csv" "$TMP/webb8.csv"
est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference wild \
    --weights webb --seed 7
if has_all "$TMP/out" "webb weights, B = 999 draws, seed 7"; then
    pass "webb text notes give B and seed"
else
    fail "webb text notes lack$MISSING: $(cat "$TMP/out")"
fi

# Without --cluster: each row its own cluster.
est --data "$P8" --outcome y --method ols --treat x --inference wild --format csv --draws 199
expect_ok "wild without --cluster"

# --- randomization inference -----------------------------------------------
est --data "$P8Z" --outcome y --method ols --treat z --cluster firm --inference ri --format csv
expect_ok "ri, Petersen firms 1-8, z on firms 2,3,5,7"
check_rel "ri p_value (70 assignments)" "$(field "$TMP/out" z p_value)" 0.314285714286 1e-9
check_rel "ri conf_low" "$(field "$TMP/out" z conf_low)" -3.0343652222 1e-8
check_rel "ri conf_high" "$(field "$TMP/out" z conf_high)" 5.73286642467 1e-8
check_rel "ri keeps the CR2 std_error" "$(field "$TMP/out" z std_error)" 1.45362801233 1e-9

est --data "$P8Z" --outcome y --method ols --treat z --cluster firm --inference ri
if has_all "$TMP/out" "randomization inference" "4 of 8 clusters" "all 70 assignments" \
    "CR2 t statistic" "constant additive effect"; then
    pass "ri text notes name the design, enumeration and statistic"
else
    fail "ri text notes lack$MISSING: $(cat "$TMP/out")"
fi

est --data "$P8Z" --outcome y --method ols --treat z --cluster firm --covariates x \
    --inference ri --draws 50 --seed 3 --format csv
expect_ok "ri with a covariate, 50 sampled assignments"
pv=$(field "$TMP/out" z p_value)
if awk -v p="$pv" 'BEGIN { k = p * 51; r = k - int(k + 0.5); if (r < 0) r = -r
                           exit !(p > 0 && p <= 1 && r < 1e-6) }'; then
    pass "ri sampled p = $pv is (1 + count) / 51"
else
    fail "ri sampled p = $pv is not a multiple of 1/51"
fi

# --- bad input: exit 2, nothing on stdout -----------------------------------
est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference jackknife
expect_input_error "unknown --inference" "--inference" "'jackknife'" "analytic, wild or ri"
est --data "$P8" --outcome y --method ols --treat x --cluster firm --draws 99
expect_input_error "--draws without wild/ri" "--draws is used only with --inference wild or ri"
est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference analytic --seed 3
expect_input_error "--seed with analytic" "--seed is used only with --inference wild or ri"
est --data "$P8Z" --outcome y --method ols --treat z --cluster firm --inference ri --weights webb
expect_input_error "--weights with ri" "--weights is used only with --inference wild"
est --data "$P8" --outcome y --method ols --covariates x --cluster firm --inference wild
expect_input_error "wild without --treat" "--inference wild needs --treat"
est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference wild --weights mammen
expect_input_error "unknown --weights" "--weights" "'mammen'" "rademacher or webb"
est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference wild --draws 0
expect_input_error "--draws 0" "--draws" "'0'"
est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference wild --draws 12x
expect_input_error "--draws 12x" "--draws" "'12x'"
est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference wild --seed -4
expect_input_error "--seed -4" "--seed" "'-4'"
est --data "$P8" --outcome y --method ols --treat x --cluster firm --inference ri
expect_input_error "ri with a continuous treatment" "$P8" "--inference ri" "0 or 1"
awk -F, 'NR == 1 { print $0 ",d"; next } { print $0 "," ($2 <= 5 ? 1 : 0) }' "$P8" >"$TMP/within.csv"
est --data "$TMP/within.csv" --outcome y --method ols --treat d --cluster firm --inference ri
expect_input_error "ri with a treatment varying within clusters" "--cluster firm: cluster '1'" \
    "varies within cluster"

finish
