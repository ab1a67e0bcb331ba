#!/bin/sh
# estimate_lmm_gee.sh — CLI tests of `syfosim estimate --method lmm|gee`.
#
# Run from the repository root:
#     SYFOSIM=build/syfosim sh tests/cli/estimate_lmm_gee.sh
# Reference numbers: /work/shared/validation/README.md (lmer on sleep.csv
# and the Petersen data, geepack GEE on the Petersen data) and values
# recomputed with lme4 1.1-31 / lmerTest 3.1-3 / geepack 1.3.9 in R 4.2.2 on
# tests/data/stepped_wedge.csv; tests/unit/test_lmm.c and test_gee.c hold the
# full sets of values and say how they were computed.

. "$(dirname "$0")/lib/common.sh"
setup estimate_lmm_gee

SLEEP=tests/data/sleep.csv
PET=tests/data/petersen.csv
SW=tests/data/stepped_wedge.csv
HEADER="term,estimate,std_error,statistic,df,p_value,conf_low,conf_high"

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

est() { syf estimate "$@"; }

# --- lmm: sleepstudy --------------------------------------------------------
est --data "$SLEEP" --outcome Reaction --treat Days --cluster Subject --method lmm --format csv
expect_ok "lmm sleep csv"
cp "$TMP/out" "$TMP/sleep.csv"
rows=$(cut -d, -f1 "$TMP/sleep.csv" | tr '\n' ' ')
check "lmm csv rows: header, (Intercept), Days, var(Subject), var(residual) (got: $rows)" \
    [ "$rows" = "term (Intercept) Days var(Subject) var(residual) " ]
check "lmm csv header" [ "$(head -n 1 "$TMP/sleep.csv")" = "$HEADER" ]
# README: 251.40510 (9.7467163), 10.46729 (0.8042214), 1378.1785, 960.4566
check_rel "lmm sleep (Intercept)" "$(field "$TMP/sleep.csv" '(Intercept)' estimate)" 251.40510 1e-6
check_rel "lmm sleep (Intercept) SE" "$(field "$TMP/sleep.csv" '(Intercept)' std_error)" 9.7467163 1e-6
check_rel "lmm sleep Days" "$(field "$TMP/sleep.csv" Days estimate)" 10.46729 1e-6
check_rel "lmm sleep Days SE" "$(field "$TMP/sleep.csv" Days std_error)" 0.8042214 1e-6
check_rel "lmm sleep var(Subject)" "$(field "$TMP/sleep.csv" 'var(Subject)' estimate)" 1378.1785 1e-6
check_rel "lmm sleep var(residual)" "$(field "$TMP/sleep.csv" 'var(residual)' estimate)" 960.4566 1e-6
# lmerTest 3.1-3 Satterthwaite df [recomputed]
check_rel "lmm sleep (Intercept) df (Satterthwaite)" "$(field "$TMP/sleep.csv" '(Intercept)' df)" 22.8101990968 1e-7
check_rel "lmm sleep Days df (Satterthwaite)" "$(field "$TMP/sleep.csv" Days df)" 161 1e-7
vrow=$(grep '^var(Subject),' "$TMP/sleep.csv" | cut -d, -f3-)
check "var(Subject) row: only the estimate is filled (got ',$vrow')" [ "$vrow" = ",,,,," ]

est --data "$SLEEP" --outcome Reaction --treat Days --cluster Subject --method lmm
expect_ok "lmm sleep text"
if has_all "$TMP/out" "clusters = 18 (Subject)" "REML" "Satterthwaite" "var(Subject)" "var(residual)"; then
    pass "lmm text names clusters, REML, Satterthwaite and the variance rows"
else
    fail "lmm text lacks$MISSING: $(cat "$TMP/out")"
fi

# --- lmm: Petersen ----------------------------------------------------------
est --data "$PET" --outcome y --treat x --cluster firm --method lmm --format csv
expect_ok "lmm petersen"
check_rel "lmm petersen (Intercept)" "$(field "$TMP/out" '(Intercept)' estimate)" 0.029967701 1e-6
check_rel "lmm petersen (Intercept) SE" "$(field "$TMP/out" '(Intercept)' std_error)" 0.067077613 1e-6
check_rel "lmm petersen x" "$(field "$TMP/out" x estimate)" 0.981218766 1e-6
check_rel "lmm petersen x SE" "$(field "$TMP/out" x std_error)" 0.028252845 1e-6
check_rel "lmm petersen var(firm)" "$(field "$TMP/out" 'var(firm)' estimate)" 2.0521415 1e-6
check_rel "lmm petersen var(residual)" "$(field "$TMP/out" 'var(residual)' estimate)" 1.9755010 1e-6

# --- lmm: Hussey-Hughes stepped wedge with period effects -------------------
est --data "$SW" --outcome y --treat treat --covariates age --time period --cluster cluster \
    --method lmm --format csv
expect_ok "lmm stepped wedge --time period"
cp "$TMP/out" "$TMP/sw.csv"
rows=$(cut -d, -f1 "$TMP/sw.csv" | tr '\n' ' ')
check "HH rows with period(period=2..5) (got: $rows)" \
    [ "$rows" = "term (Intercept) treat age period(period=2) period(period=3) period(period=4) period(period=5) var(cluster) var(residual) " ]
# [recomputed with lme4 1.1-31 / lmerTest 3.1-3]
check_rel "HH treat" "$(field "$TMP/sw.csv" treat estimate)" 1.8721134572946 1e-8
check_rel "HH treat SE" "$(field "$TMP/sw.csv" treat std_error)" 0.4757717504832 1e-8
check_rel "HH treat df (Satterthwaite)" "$(field "$TMP/sw.csv" treat df)" 201.287936551 1e-7
check_rel "HH treat p" "$(field "$TMP/sw.csv" treat p_value)" 0.00011457016 1e-6
check_rel "HH period 5" "$(field "$TMP/sw.csv" 'period(period=5)' estimate)" 0.99637314924881 1e-8
check_rel "HH (Intercept) df" "$(field "$TMP/sw.csv" '(Intercept)' df)" 41.5529306888 1e-7
check_rel "HH var(cluster)" "$(field "$TMP/sw.csv" 'var(cluster)' estimate)" 2.1888928813581 1e-8
check_rel "HH var(residual)" "$(field "$TMP/sw.csv" 'var(residual)' estimate)" 3.6050342210446 1e-8

# --- gee: Petersen ----------------------------------------------------------
est --data "$PET" --outcome y --treat x --cluster firm --method gee --format csv
expect_ok "gee petersen csv"
cp "$TMP/out" "$TMP/gee.csv"
rows=$(cut -d, -f1 "$TMP/gee.csv" | tr '\n' ' ')
check "gee csv rows: (Intercept), x, alpha (got: $rows)" [ "$rows" = "term (Intercept) x alpha " ]
# README: geepack 1.3.9, 0.029967591 (0.067007881), 0.981239256 (0.028694998)
check_rel "gee (Intercept)" "$(field "$TMP/gee.csv" '(Intercept)' estimate)" 0.029967591 1e-6
check_rel "gee (Intercept) robust SE" "$(field "$TMP/gee.csv" '(Intercept)' std_error)" 0.067007881 1e-6
check_rel "gee x" "$(field "$TMP/gee.csv" x estimate)" 0.981239256 1e-6
check_rel "gee x robust SE" "$(field "$TMP/gee.csv" x std_error)" 0.028694998 1e-6
check_rel "gee alpha [recomputed]" "$(field "$TMP/gee.csv" alpha estimate)" 0.50896826491383 1e-8
check "gee df empty (normal reference)" [ -z "$(field "$TMP/gee.csv" x df)" ]
check_rel "gee (Intercept) p = 2 pnorm(-|z|)" "$(field "$TMP/gee.csv" '(Intercept)' p_value)" 0.65471270692259 1e-8

est --data "$PET" --outcome y --treat x --cluster firm --method gee --level 0.9
expect_ok "gee petersen text"
if has_all "$TMP/out" "exchangeable" "alpha = 0.50896" "robust" "90% low"; then
    pass "gee text names the working correlation, alpha, robust SE, level"
else
    fail "gee text lacks$MISSING: $(cat "$TMP/out")"
fi

# [recomputed with geepack 1.3.9, epsilon = 1e-14] stepped wedge, rows not
# sorted by cluster: geeglm(y ~ treat + age, id = cluster) on sorted rows.
est --data "$SW" --outcome y --treat treat --covariates age --cluster cluster --method gee --format csv
expect_ok "gee stepped wedge (unsorted rows)"
check_rel "gee SW treat" "$(field "$TMP/out" treat estimate)" 2.18711865094 1e-8
check_rel "gee SW treat robust SE" "$(field "$TMP/out" treat std_error)" 0.43467343181482 1e-8
check_rel "gee SW alpha" "$(field "$TMP/out" alpha estimate)" 0.34159157957203 1e-8

# --- bad input ----------------------------------------------------------------
est --data "$SLEEP" --outcome Reaction --treat Days --method lmm
expect_input_error "lmm without --cluster" "missing required option" "--cluster"
est --data "$PET" --outcome y --treat x --method gee
expect_input_error "gee without --cluster" "missing required option" "--cluster"
est --data "$PET" --outcome y --treat x --cluster firm --method gee --time year
expect_input_error "gee does not take --time" "option '--time' is not used by method 'gee'"
est --data "$PET" --outcome y --treat x --cluster firm --method lmm --se CR2
expect_input_error "lmm does not take --se" "option '--se' is not used by method 'lmm'"

printf 'g,y,x\na,1,2\na,2,3\na,3,4\na,5,1\n' >"$TMP/onecluster.csv"
est --data "$TMP/onecluster.csv" --outcome y --treat x --cluster g --method lmm
expect_input_error "lmm one cluster" "$TMP/onecluster.csv" "fewer than 2 clusters"
est --data "$TMP/onecluster.csv" --outcome y --treat x --cluster g --method gee
expect_input_error "gee one cluster" "$TMP/onecluster.csv" "fewer than 2 clusters"

printf 'g,y,x\na,1,2\nb,2,3\nc,3,4\nd,5,1\n' >"$TMP/singletons.csv"
est --data "$TMP/singletons.csv" --outcome y --treat x --cluster g --method lmm
expect_input_error "lmm: every cluster one row" "$TMP/singletons.csv" "single row"

printf 'g,y,x,z\na,1,2,4\na,2,3,6\nb,3,4,8\nb,5,1,2\nc,4,2,4\nc,1,1,2\n' >"$TMP/collinear.csv"
est --data "$TMP/collinear.csv" --outcome y --treat x --covariates z --cluster g --method lmm
expect_input_error "lmm singular design" "$TMP/collinear.csv" "singular" "regressors: (Intercept), x, z"
est --data "$TMP/collinear.csv" --outcome y --treat x --covariates z --cluster g --method gee
expect_input_error "gee singular design" "$TMP/collinear.csv" "singular"

est --data "$SW" --outcome y --treat treat --time nosuch --cluster cluster --method lmm
expect_input_error "lmm --time missing column" "no column named 'nosuch'"

finish
