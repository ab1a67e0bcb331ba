#!/bin/sh
# power.sh — CLI tests of `syfosim power crt|sw` (analytic power).
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/power.sh
# Prints one line per check; exits non-zero if any check fails.
# Reference numbers: /work/shared/validation/README.md §1 — clusterPower 0.7.0
# (cpa.normal, cpa.binary, cpa.count, cpa.sw.normal), swCRTdesign 4.0 swPwr,
# SWSamp HH.normal / HH.binary / HH.count; compared to the digits printed
# there (half a unit in the last digit).

. "$(dirname "$0")/lib/common.sh"
setup power

# field NAME: column NAME of the one-row CSV in $TMP/out ("missing" if absent).
field() {
    awk -F, -v name="$1" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
        NR == 2 && c { print $c; found = 1 }
        END { if (!found) print "missing" }' "$TMP/out"
}

# check_abs NAME GOT WANT TOL: |got - want| <= tol.
check_abs() {
    if awk -v g="$2" -v w="$3" -v t="$4" 'BEGIN {
            if (g == "missing" || g == "") exit 1
            d = g - w; if (d < 0) d = -d; exit !(d <= t) }'; then
        pass "$1 = $2 (reference $3, abs. tol $4)"
    else
        fail "$1 = $2, reference $3 (abs. tol $4); stderr: $(one_line "$TMP/err")"
    fi
}

# csv_shape NAME: exit 0, exactly two lines with the same number of fields.
csv_shape() {
    if [ "$RC" -eq 0 ] && [ "$(wc -l <"$TMP/out")" -eq 2 ] &&
        awk -F, 'NR == 1 { n = NF } NR == 2 { exit !(NF == n) }' "$TMP/out"; then
        pass "$1: csv is one header and one row"
    else
        fail "$1: csv shape (exit $RC): $(cat "$TMP/out" "$TMP/err")"
    fi
}

# ---- crt: clusterPower -----------------------------------------------------
syf power crt --clusters-per-arm 16 --cluster-size 10 --effect 1 --var-between .5 \
    --var-total 5 --format csv
csv_shape "cpa.normal power"
check_abs "cpa.normal power (16/arm, 10/cluster, d=1, sigma_b^2=.5, vart=5)" \
    "$(field power)" 0.801766 5e-7
check_abs "cpa.normal design effect" "$(field design_effect)" 1.9 1e-12
check "cpa.normal solved = power" [ "$(field solved)" = power ]

syf power crt --cluster-size 10 --effect 1 --icc .1 --var-total 5 --power .8 --format csv
check_abs "cpa.normal clusters for 80% power" "$(field clusters_per_arm)" 15.93278 5e-6
check_abs "cpa.normal clusters rounded up" "$(field clusters_per_arm_needed)" 16 0
check_abs "power at 16 clusters" "$(field power_at_needed)" 0.801766 5e-7

syf power crt --clusters-per-arm 20 --cluster-size 100 --cv .5 --effect .2 --icc .1 \
    --var-total 1 --format csv
check_abs "cpa.normal unequal sizes CV=.5 (taylor)" "$(field power)" 0.4559881 5e-8

syf power crt --outcome binary --cluster-size 10 --p0 .1 --p1 .2 --icc .1 --power .8 \
    --format csv
check_abs "cpa.binary clusters" "$(field clusters_per_arm)" 38.26666 5e-6
check "cpa.binary uses eldridge, unpooled" [ "$(field cv_method),$(field pooled)" = "eldridge,no" ]

syf power crt --outcome count --cluster-size 10 --r0 .1 --r1 .2 --cvb .1 --power .8 \
    --format csv
check_abs "cpa.count clusters" "$(field clusters_per_arm)" 24.93908 5e-6

# MDES round trip: solve the effect at 16 clusters, feed it back.
syf power crt --clusters-per-arm 16 --cluster-size 10 --icc .1 --var-total 5 --power .8 \
    --format csv
eff=$(field effect)
syf power crt --clusters-per-arm 16 --cluster-size 10 --icc .1 --var-total 5 \
    --effect "$eff" --format csv
check_abs "crt MDES round trip (effect $eff)" "$(field power)" 0.8 1e-8

# text output marks the solved row
syf power crt --clusters-per-arm 16 --cluster-size 10 --effect 1 --icc .1 --var-total 5
expect_ok "crt text"
check "crt text marks the solved row" grep -q 'power .*0.8017660228 .*<- solved' "$TMP/out"

# ---- sw: swCRTdesign swPwr --------------------------------------------------
SWB="--sequences 4 --clusters-per-sequence 6 --cluster-period-size 120 --outcome binary --p0 .05 --p1 .035 --tau .01 --format csv"
# shellcheck disable=SC2086
syf power sw $SWB
csv_shape "swPwr binomial"
check_abs "swPwr binomial, 24 clusters, 4 waves, 5 periods" "$(field power)" 0.7861896 5e-8
check "swPwr treatment matrix" [ "$(field treatment)" = "01111;00111;00011;00001" ]
# shellcheck disable=SC2086
syf power sw $SWB --extra-periods 3
check_abs "swPwr extra.trt.time = 3" "$(field power)" 0.8171283 5e-8
# shellcheck disable=SC2086
syf power sw $SWB --periods 8
check_abs "--periods 8 = --extra-periods 3" "$(field power)" 0.8171283 5e-8
# shellcheck disable=SC2086
syf power sw $SWB --tx-sd .0045
check_abs "swPwr eta = .0045" "$(field power)" 0.7724894 5e-8
# shellcheck disable=SC2086
syf power sw $SWB --tx-sd .0045 --tx-cor .4
check_abs "swPwr eta = .0045, rho = .4" "$(field power)" 0.7651551 5e-8
syf power sw --sequences 4 --clusters-per-sequence 6 --cluster-period-size 120 \
    --effect -.015 --sd .1 --icc .02 --cac .125 --format csv
check_abs "swPwr gaussian icc = .02, cac = .125, sigma = .1" "$(field power)" 0.9171886 5e-8

# the same design written out with --design
syf power sw --design 01111,00111,00011,00001 --clusters-per-sequence 6 \
    --cluster-period-size 120 --outcome binary --p0 .05 --p1 .035 --tau .01 --format csv
check_abs "--design = --sequences 4" "$(field power)" 0.7861896 5e-8
syf power sw --design 01111,00111,00011,00001 --clusters-per-sequence 6,6,6,6 \
    --cluster-period-size 120 --outcome binary --p0 .05 --p1 .035 --tau .01 --format csv
check_abs "--clusters-per-sequence 6,6,6,6 = 6" "$(field power)" 0.7861896 5e-8

# transition periods: excluded cells, lower power than the same periods used
syf power sw --sequences 4 --transition 1 --clusters-per-sequence 6 \
    --cluster-period-size 120 --outcome binary --p0 .05 --p1 .035 --tau .01 --format csv
tr_pow=$(field power)
check "transition design" [ "$(field treatment)" = "0.1111;00.111;000.11;0000.1" ]
syf power sw --sequences 4 --extra-periods 1 --clusters-per-sequence 6 \
    --cluster-period-size 120 --outcome binary --p0 .05 --p1 .035 --tau .01 --format csv
check "transition lowers power ($tr_pow < $(field power))" \
    awk -v a="$tr_pow" -v b="$(field power)" 'BEGIN { exit !(a < b) }'

# ---- sw: SWSamp (one tail counted; within-cluster sigma) ----------------------
SWS="--sequences 5 --clusters-per-sequence 2 --cluster-period-size 20 --icc .2 --far-tail no --format csv"
# shellcheck disable=SC2086
syf power sw $SWS --effect -.3875 --sd 1.55
check_abs "SWSamp HH.normal" "$(field power)" 0.6854281 5e-8
# shellcheck disable=SC2086
syf power sw $SWS --outcome binary --p0 .26 --p1 0.1619479048697622 --pooled no
check_abs "SWSamp HH.binary (p1 = .26, OR = .55)" "$(field power)" 0.6574523 5e-8
# shellcheck disable=SC2086
syf power sw $SWS --outcome count --r0 1.55 --r1 1.3485
check_abs "SWSamp HH.count (lambda1 = 1.55, RR = .87)" "$(field power)" 0.3731937 5e-8

# ---- sw: clusterPower cpa.sw.normal (Hooper 2016) ---------------------------
syf power sw --sequences 5 --cluster-period-size 50 --effect 1.5 --var-total 16 --icc .2 \
    --cac .8 --power .8 --far-tail no --format csv
check_abs "cpa.sw.normal clusters per step (R uniroot tol 1.22e-4)" \
    "$(field clusters_per_sequence)" 1.288772 1.22e-4
check_abs "cpa.sw.normal exact root" "$(field clusters_per_sequence)" 1.2888019087 1e-8
check_abs "cpa.sw.normal rounded up" "$(field clusters_per_sequence_needed)" 2 0
k=$(field clusters_per_sequence)
syf power sw --sequences 5 --cluster-period-size 50 --effect 1.5 --var-total 16 --icc .2 \
    --cac .8 --clusters-per-sequence "$k" --far-tail no --format csv
check_abs "sw solve-then-evaluate" "$(field power)" 0.8 1e-8

# ---- help and bad input -------------------------------------------------------
syf power --help
expect_ok "power --help"
syf power sw --help
expect_ok "power sw --help"
check "sw help lists --transition" grep -q -- '--transition' "$TMP/out"
syf power
expect_input_error "no kind" "crt" "sw"
syf power parallel --clusters-per-arm 3
expect_input_error "unknown kind" "parallel" "accepted: crt, sw"
syf power crt --clusters-per-arm 16 --cluster-size 10 --effect 1 --icc 1.5 --var-total 5
expect_input_error "icc out of range" "--icc" "1.5" "accepted:"
syf power crt --clusters-per-arm 16 --cluster-size 10 --effect 1 --icc .1 --var-total 5 \
    --power .8
expect_input_error "nothing left to solve" "leave out exactly one" "--power"
syf power crt --cluster-size 10 --effect 1 --icc .1 --var-total 5
expect_input_error "two left out" "leave out exactly one"
syf power crt --clusters-per-arm 16 --cluster-size 10 --effect 1 --icc .1
expect_input_error "one variance given" "exactly two of --sd"
syf power crt --clusters-per-arm 16 --cluster-size 10 --effect 1 --icc .1 --var-total 5 \
    --sequences 4
expect_input_error "sw option to crt" "--sequences" "sw"
syf power sw --design 01x1,0011 --clusters-per-sequence 3 --cluster-period-size 10 \
    --effect 1 --sd 1 --icc .1
expect_input_error "bad --design" "--design" "accepted:"
syf power sw --sequences 4 --clusters-per-sequence 3,3 --cluster-period-size 10 \
    --effect 1 --sd 1 --icc .1
expect_input_error "wrong number of cluster counts" "--clusters-per-sequence" "accepted:"
syf power sw --sequences 4 --clusters-per-sequence 3 --cluster-period-size 10 \
    --outcome binary --p0 .1 --p1 .2 --sd 1 --icc .1
expect_input_error "--sd with binary" "--sd" "gaussian"
syf power sw --sequences 4 --periods 3 --clusters-per-sequence 3 --cluster-period-size 10 \
    --effect 1 --sd 1 --icc .1
expect_input_error "too few periods" "--periods" "accepted:"
syf power crt --clusters-per-arm 16 --cluster-size 10 --effect 1 --icc .1 --var-total 5 \
    --alpha 0
expect_input_error "alpha" "--alpha" "accepted:"
syf power crt --clusters-per-arm 16 --cluster-size 10 --effect 1 --icc .1 --var-total 5 \
    --format xml
expect_input_error "format" "--format" "csv"
syf power sw --sequences 2 --clusters-per-sequence 1 --cluster-period-size 5 \
    --outcome binary --p0 .5 --tau .01 --power .999999
expect_input_error "unreachable binary MDES" "p1 - p0" "cannot be reached"

finish
