#!/bin/sh
# estimate_cox_logit.sh — CLI tests of `syfosim estimate --method cox|logit|ipw`.
#
# Run from the repository root:
#     SYFOSIM=build/syfosim sh tests/cli/estimate_cox_logit.sh
# Reference numbers: /work/shared/validation/README.md §2 (Petersen logit,
# Stata via the sandwich tests) and §3 (coxph on lung, survival 3.5.3), with
# more digits [recomputed with survival 3.5.3 / sandwich 3.0-2, R 4.2.2];
# IPW on tests/data/ipw_example.csv [recomputed by hand in R 4.2.2, see
# tests/unit/test_ipw.c].  The unit tests hold the full sets of values.

. "$(dirname "$0")/lib/common.sh"
setup estimate_cox_logit

LUNG=tests/data/lung.csv
PET=tests/data/petersen.csv
IPW=tests/data/ipw_example.csv

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

# est ARGS...: syfosim estimate ARGS, leaving $TMP/out, $TMP/err, $RC.
est() { syf estimate "$@"; }

# --- Cox: lung with status recoded 1/2 -> 0/1 ------------------------------
awk -F, 'NR == 1 { print "time,status,age,sex,inst"; next }
         { print $1 "," $2 - 1 "," $3 "," $4 "," $5 }' "$LUNG" >"$TMP/lung01.csv"

est --data "$TMP/lung01.csv" --outcome time --event status --method cox \
    --covariates age,sex --cluster inst --format csv
expect_ok "cox efron, cluster inst"
cp "$TMP/out" "$TMP/cox.csv"
if [ "$(head -n 1 "$TMP/cox.csv")" = "term,estimate,std_error,statistic,df,p_value,conf_low,conf_high" ] &&
    [ "$(wc -l <"$TMP/cox.csv")" -eq 3 ] && [ "$(sed -n 2p "$TMP/cox.csv" | cut -d, -f1)" = "age" ] &&
    [ -z "$(field "$TMP/cox.csv" age df)" ]; then
    pass "cox csv: rows age, sex (no intercept), df empty (normal)"
else
    fail "cox csv layout: $(cat "$TMP/cox.csv")"
fi
# README §3 (survival 3.5.3): 0.017033496 / -0.511668296, robust 0.0073273931 / 0.1282306017
check_rel "cox age coef" "$(field "$TMP/cox.csv" age estimate)" 0.0170334959766 1e-8
check_rel "cox sex coef" "$(field "$TMP/cox.csv" sex estimate)" -0.511668298216 1e-8
check_rel "cox age robust se" "$(field "$TMP/cox.csv" age std_error)" 0.00732739307695 1e-8
check_rel "cox sex robust se" "$(field "$TMP/cox.csv" sex std_error)" 0.12823060178 1e-8
check_rel "cox sex robust p" "$(field "$TMP/cox.csv" sex p_value)" 6.6012066314e-05 1e-7
check_rel "cox sex conf_low" "$(field "$TMP/cox.csv" sex conf_low)" -0.76299565942 1e-8

est --data "$TMP/lung01.csv" --outcome time --event status --method cox \
    --covariates age,sex --cluster inst --ties breslow --format csv
expect_ok "cox breslow, cluster inst"
check_rel "cox breslow age coef" "$(field "$TMP/out" age estimate)" 0.0170000450713 1e-8
check_rel "cox breslow sex coef" "$(field "$TMP/out" sex estimate)" -0.510996589385 1e-8
check_rel "cox breslow age robust se" "$(field "$TMP/out" age std_error)" 0.00730480766743 1e-8
check_rel "cox breslow sex robust se" "$(field "$TMP/out" sex std_error)" 0.127959162682 1e-8

est --data "$TMP/lung01.csv" --outcome time --event status --method cox \
    --treat sex --covariates age --format csv
expect_ok "cox without --cluster (model-based SE), --treat sex"
check_rel "cox model se age (README 0.0092326644)" "$(field "$TMP/out" age std_error)" 0.0092326644368 1e-8
check_rel "cox model se sex (README 0.1676785912)" "$(field "$TMP/out" sex std_error)" 0.16767859127 1e-8
if [ "$(sed -n 2p "$TMP/out" | cut -d, -f1)" = "sex" ]; then
    pass "cox rows follow --treat then --covariates"
else
    fail "cox row order: $(cat "$TMP/out")"
fi

est --data "$TMP/lung01.csv" --outcome time --event status --method cox \
    --covariates age,sex --cluster inst
expect_ok "cox text"
if has_all "$TMP/out" "events = 164" "ties: efron" "robust, clustered by inst (18 clusters" \
    "hazard ratios" "sex: 0.599495"; then
    pass "cox text names events, ties, robust SE and hazard ratios"
else
    fail "cox text lacks$MISSING: $(cat "$TMP/out")"
fi

# bad input
est --data "$LUNG" --outcome time --event status --method cox --covariates age,sex
expect_input_error "cox event coded 1/2" "$LUNG:2: --event status: '2' is not 0 or 1" "status - 1"
est --data "$TMP/lung01.csv" --outcome time --event status --method cox --covariates age --ties exact
expect_input_error "cox --ties exact" "--ties" "'exact'" "efron or breslow"
est --data "$TMP/lung01.csv" --outcome time --event status --method cox
expect_input_error "cox without regressors" "at least one regressor"
est --data "$TMP/lung01.csv" --outcome time --method cox --covariates age
expect_input_error "cox without --event" "missing required option" "--event"
est --data "$TMP/lung01.csv" --outcome time --event status --method cox --covariates age --se CR2
expect_input_error "cox --se not used" "option '--se' is not used by method 'cox'"
awk -F, 'NR == 1 { print $0 ",one"; next } { print $0 ",1" }' "$TMP/lung01.csv" >"$TMP/const.csv"
est --data "$TMP/const.csv" --outcome time --event status --method cox --covariates age,one
expect_input_error "cox constant regressor" "$TMP/const.csv" "constant"

# --- logit: Petersen, (y > 0) ~ x -----------------------------------------
awk -F, 'NR == 1 { print "firm,year,x,y,yb"; next } { print $0 "," ($4 > 0 ? 1 : 0) }' "$PET" \
    >"$TMP/pet.csv"
est --data "$TMP/pet.csv" --outcome yb --method logit --treat x --cluster firm --format csv
expect_ok "logit cluster firm"
# README §2: var 0.00358954 (intercept), 0.00275766 (x): Stata, G/(G-1)
check_rel "logit x se (Stata var 0.00275766)" "$(field "$TMP/out" x std_error)" 0.052513434871 1e-8
check_rel "logit (Intercept) se (Stata var 0.00358954)" "$(field "$TMP/out" '(Intercept)' std_error)" 0.0599127409875 1e-8
check_rel "logit x coef" "$(field "$TMP/out" x estimate)" 0.811889755454 1e-8
check_rel "logit (Intercept) coef" "$(field "$TMP/out" '(Intercept)' estimate)" 0.0359459790603 1e-8
est --data "$TMP/pet.csv" --outcome yb --method logit --treat x --format csv
expect_ok "logit model-based"
check_rel "logit x model se (glm)" "$(field "$TMP/out" x std_error)" 0.0346105305588 1e-8
est --data "$TMP/pet.csv" --outcome yb --method logit --treat x --cluster firm
expect_ok "logit text"
if has_all "$TMP/out" "2546 with yb = 1" "clusters = 500||500 clusters" "G/(G-1)" "odds ratios"; then
    pass "logit text names n, clusters, convention and odds ratios"
else
    fail "logit text lacks$MISSING: $(cat "$TMP/out")"
fi
est --data "$PET" --outcome y --method logit --treat x
expect_input_error "logit non-binary outcome" "$PET:2: --outcome y: '2.25153470039368' is not 0 or 1"
printf 'y,x\n0,1\n0,2\n0,3\n1,4\n1,5\n1,6\n' >"$TMP/sep.csv"
est --data "$TMP/sep.csv" --outcome y --method logit --treat x
expect_input_error "logit perfect separation" "$TMP/sep.csv" "separated"

# --- ipw --------------------------------------------------------------------
est --data "$IPW" --outcome y --method ipw --treat z --covariates x1,x2 --format csv
expect_ok "ipw"
if [ "$(wc -l <"$TMP/out")" -eq 2 ] && [ "$(sed -n 2p "$TMP/out" | cut -d, -f1)" = "z" ]; then
    pass "ipw csv: one row named after --treat"
else
    fail "ipw csv layout: $(cat "$TMP/out")"
fi
check_rel "ipw ATE" "$(field "$TMP/out" z estimate)" 2.02902373126 1e-8
check_rel "ipw se (M-estimation sandwich)" "$(field "$TMP/out" z std_error)" 0.204978468492 1e-8
est --data "$IPW" --outcome y --method ipw --treat z --covariates x1,x2 --cluster clinic --format csv
expect_ok "ipw cluster clinic"
check_rel "ipw clustered se (G/(G-1))" "$(field "$TMP/out" z std_error)" 0.188946067372 1e-8
est --data "$IPW" --outcome y --method ipw --treat z --covariates x1,x2
expect_ok "ipw text"
if has_all "$TMP/out" "81 treated" "treated 3.48941, control 1.46039" "known it would be 0.378488"; then
    pass "ipw text names weighted means and the known-score SE"
else
    fail "ipw text lacks$MISSING: $(cat "$TMP/out")"
fi
est --data "$IPW" --outcome y --method ipw --treat z
expect_input_error "ipw without --covariates" "missing required option" "--covariates"
est --data "$IPW" --outcome y --method ipw --treat x1 --covariates x2
expect_input_error "ipw non-binary treatment" "$IPW:2: --treat x1: '0.5752' is not 0 or 1"
printf 'y,z,x\n1,0,1\n2,0,2\n3,0,3\n4,1,4\n5,1,5\n6,1,6\n' >"$TMP/nooverlap.csv"
est --data "$TMP/nooverlap.csv" --outcome y --method ipw --treat z --covariates x
expect_input_error "ipw without overlap" "$TMP/nooverlap.csv" "overlap"

est --help
if [ "$RC" -eq 0 ] && has_all "$TMP/out" "cox " "logit " "ipw " "required: event" \
    "required: treat,covariates"; then
    pass "--help lists cox, logit, ipw and their required options"
else
    fail "--help: exit $RC, lacks$MISSING"
fi

finish
