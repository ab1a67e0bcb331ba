#!/bin/sh
# bench/run.sh — the speed benchmarks of issue 5 (`make bench`; never part of
# `make test`).  Every figure is the median of several runs (BENCH_RUNS,
# default 3); peak memory comes from /usr/bin/time -f %M.  Where a piece of
# a benchmark does not exist yet the line says "not yet available" instead
# of a number.
#
#   1. one simulated year of the national baseline (2,860,000 employed, about
#      1.3 M spells), 1 thread: wall time, spells per second, peak memory per
#      person.  Target <= 2 s, <= 150 bytes per person.
#   2. diagnose of the 24-office stepped wedge (bench/sw-bench.ini: the
#      scenario msyfo-stepped-wedge, 4 sequences, 5 periods, with one year of
#      burn-in and 999 wild bootstrap draws) with BENCH_SW_REPS (default 1000)
#      replications on 2 threads, fitting LMM (Hussey-Hughes), OLS-CR2 and
#      OLS with the wild cluster bootstrap to the same replications
#      (--estimators lmm,ols,ols+wild).  Target <= 60 s.  Also the CPU time
#      per replication (independent of other load on the machine) and a
#      side-by-side of the one- and two-year burn-in (BENCH_SW_CHECK_REPS,
#      default 30, replications each).
#   3. estimate OLS-CR2 and LMM on a BENCH_ROWS-row (default 10,000,000) CSV
#      with 1,000 clusters.  Targets <= 5 s and <= 10 s.
#   4. the estimation work of one stepped-wedge replication: R
#      (bench/peer/peer.R: estimatr CR2, lme4, fit time inside R) against
#      syfosim's fits timed in-process (bench/fit_bench.c, built by
#      `make bench`) on the same CSV, and the ratios.  Target >= 100x.
#
# Usage: make bench, or sh bench/run.sh [BIN] after `make bench-programs`
# (BENCH_RUNS=1 BENCH_SW_REPS=100 for a quick look)
set -u
BIN=${1:-build/syfosim}
RUNS=${BENCH_RUNS:-3}
SW_REPS=${BENCH_SW_REPS:-1000}
SW_CHECK_REPS=${BENCH_SW_CHECK_REPS:-30}
ROWS=${BENCH_ROWS:-10000000}
PEER_REPS=${BENCH_PEER_REPS:-5}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/syf_bench.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }

# measure NAME CMD...: run CMD $RUNS times; $TMP/NAME.wall, .rss and .cpu
# hold the medians (seconds, KB, user + system seconds); stdout of the last
# run in $TMP/NAME.out.
measure() {
    _n=$1
    shift
    : >"$TMP/$_n.t"
    _i=0
    while [ $_i -lt "$RUNS" ]; do
        _s=$(date +%s.%N)
        /usr/bin/time -f "%M %U %S" -o "$TMP/$_n.one" "$@" >"$TMP/$_n.out" 2>"$TMP/$_n.err"
        _rc=$?
        _e=$(date +%s.%N)
        echo "$_s $_e $(tail -n 1 "$TMP/$_n.one")" | awk '{ printf "%.4f %s %.2f\n", $2 - $1, $3, $4 + $5 }' >>"$TMP/$_n.t"
        _i=$((_i + 1))
    done
    awk '{ print $1 }' "$TMP/$_n.t" | median >"$TMP/$_n.wall"
    awk '{ print $2 }' "$TMP/$_n.t" | median >"$TMP/$_n.rss"
    awk '{ print $3 }' "$TMP/$_n.t" | median >"$TMP/$_n.cpu"
    return $_rc
}

if [ ! -x "$BIN" ]; then
    echo "bench: $BIN is not an executable"
    exit 1
fi
echo "syfosim benchmarks: $($BIN --version); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); medians of $RUNS runs"

# --- 1 ----------------------------------------------------------------------------
P=2860000
echo "== 1. one simulated year of the national baseline ($P employed), 1 thread"
measure b1 "$BIN" calibrate scenarios/baseline-norway.ini --threads 1 --persons $P \
    --set run.burn_in_days=0 --set run.follow_up_days=0
spells=$(sed -n 's/^[0-9]* persons, \([0-9]*\) spells in the window.*/\1/p' "$TMP/b1.out")
wall=$(cat "$TMP/b1.wall")
rss=$(cat "$TMP/b1.rss")
if [ -n "$spells" ] && [ -n "$wall" ]; then
    awk -v s="$spells" -v w="$wall" -v r="$rss" -v p=$P 'BEGIN {
        printf "   wall %.2f s (target <= 2 s), %d spells, %.0f spells/s, peak RSS %.0f MB = %.0f bytes per person (target <= 150)\n",
            w, s, s / w, r / 1024, r * 1024 / p }'
    echo "   (no burn-in: the window's first months lack recurrence history; with run.burn_in_days=365 the work doubles)"
else
    echo "   failed: $(cat "$TMP/b1.err")"
fi

# --- 2 ----------------------------------------------------------------------------
echo "== 2. diagnose bench/sw-bench.ini (24 offices, 4 sequences x 5 periods), $SW_REPS replications, 2 threads,"
echo "      LMM (Hussey-Hughes) + OLS-CR2 + OLS with wild cluster bootstrap (999 draws) on the same replications"
measure b2 "$BIN" diagnose bench/sw-bench.ini --reps "$SW_REPS" --threads 2 \
    --estimators lmm,ols,ols+wild --out "$TMP/d2"
if [ -s "$TMP/d2/diagnosis.csv" ]; then
    n=$(awk -F, 'NR > 2 && $1 == "sate" && $2 ~ /^lmm/ { s += $12; k++ } END { if (k) printf "%.0f", s / k }' "$TMP/d2/replicates.csv")
    awk -v w="$(cat "$TMP/b2.wall")" -v c="$(cat "$TMP/b2.cpu")" -v r="$SW_REPS" -v n="$n" 'BEGIN {
        printf "   wall %.1f s for %d replications (%.1f s per 1,000; target <= 60 s); CPU %.3f s per replication\n",
            w, r, w * 1000 / r, c / r
        printf "   (%s participants a replication; 1,000 replications on two otherwise idle cores: about %.0f s)\n",
            n, c * 1000 / r / 2 }'
    awk -F, 'NR > 2 && $3 == "sate" && ($4 == "power" || $4 == "coverage" || $4 == "bias") {
                 v[$2] = v[$2] sprintf(" %s %.3f (%.3f)", $4, $5, $6) }
             END { for (e in v) printf "     %-32s%s\n", e, v[e] }' "$TMP/d2/diagnosis.csv" | sort
else
    echo "   failed: $(head -c 300 "$TMP/b2.err")"
fi
# The bench scenario's one-year burn-in against the shipped two years.
SAVE_RUNS=$RUNS
RUNS=1
for b in 365 730; do
    measure b2_$b "$BIN" diagnose bench/sw-bench.ini --reps "$SW_CHECK_REPS" --threads 2 \
        --set run.burn_in_days=$b --out "$TMP/d2_$b"
done
RUNS=$SAVE_RUNS
if [ -s "$TMP/d2_365/diagnosis.csv" ] && [ -s "$TMP/d2_730/diagnosis.csv" ]; then
    for b in 365 730; do
        awk -F, -v b=$b -v r="$SW_CHECK_REPS" -v c="$(cat "$TMP/b2_$b.cpu")" '
            NR > 2 && $3 == "sate" && $4 == "mean_estimand" { e = $5; m = $6 }
            NR > 2 && $3 == "sate" && $4 == "mean_estimate" { x = $5; mx = $6 }
            END { printf "   burn-in %d days (%d replications): mean SATE %.3f (MCSE %.3f), mean estimate %.3f (%.3f), CPU %.3f s per replication\n",
                         b, r, e, m, x, mx, c / r }' "$TMP/d2_$b/diagnosis.csv"
        awk -F, -v b=$b 'NR > 2 { s += $11; k++ } END { if (k) printf "      participants per replication %.0f\n", s / k }' "$TMP/d2_$b/replicates.csv"
    done
fi

# --- 3 ----------------------------------------------------------------------------
echo "== 3. estimate on a $ROWS-row CSV with 1,000 clusters"
awk -v n="$ROWS" 'BEGIN {
    srand(20261122)
    for (g = 0; g < 1000; g++) u[g] = rand() - 0.5
    print "y,z,x,g"
    for (i = 0; i < n; i++) {
        g = i % 1000; z = g % 2; x = rand()
        printf "%.6f,%d,%.6f,%d\n", 1 + 0.5 * z + 0.3 * x + u[g] + 2 * (rand() - 0.5), z, x, g
    }
}' >"$TMP/big.csv"
echo "   data: $(du -m "$TMP/big.csv" | cut -f1) MB"
if measure b3o "$BIN" estimate --data "$TMP/big.csv" --outcome y --method ols --treat z --covariates x \
    --cluster g --se CR2 --format csv; then
    awk -v w="$(cat "$TMP/b3o.wall")" -v r="$(cat "$TMP/b3o.rss")" 'BEGIN {
        printf "   OLS CR2:  wall %.2f s (target <= 5 s), peak RSS %.0f MB\n", w, r / 1024 }'
else
    echo "   OLS CR2: failed: $(head -c 300 "$TMP/b3o.err")"
fi
printf 'y,z,g\n1,0,1\n2,1,1\n3,0,2\n4,1,2\n5,0,3\n7,1,3\n' >"$TMP/probe.csv"
if "$BIN" estimate --data "$TMP/probe.csv" --outcome y --method lmm --treat z --cluster g >/dev/null 2>"$TMP/probe.err" ||
    ! grep -qi "method" "$TMP/probe.err"; then
    if measure b3l "$BIN" estimate --data "$TMP/big.csv" --outcome y --method lmm --treat z --covariates x \
        --cluster g --format csv; then
        awk -v w="$(cat "$TMP/b3l.wall")" -v r="$(cat "$TMP/b3l.rss")" 'BEGIN {
            printf "   LMM REML: wall %.2f s (target <= 10 s), peak RSS %.0f MB\n", w, r / 1024 }'
    else
        echo "   LMM REML: failed: $(head -c 300 "$TMP/b3l.err")"
    fi
else
    echo "   LMM REML: not yet available (syfosim estimate --method lmm: $(head -c 120 "$TMP/probe.err"))"
fi
rm -f "$TMP/big.csv"

# --- 4 ----------------------------------------------------------------------------
echo "== 4. one stepped-wedge replication's estimation: syfosim against R (bench/peer/peer.R)"
"$BIN" run scenarios/msyfo-stepped-wedge.ini --out "$TMP/sw" >/dev/null 2>&1
awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i; print "y,treated,office_id,period,p1,p2,p3,p4"; next }
         NR > 2 && $c["analysed"] == 1 {
             p = $c["period"]
             printf "%s,%s,%s,%s,%d,%d,%d,%d\n", $c["outcome"], $c["treated"], $c["office_id"], p, p == 1, p == 2, p == 3, p == 4
         }' "$TMP/sw/trial.csv" >"$TMP/sw.csv" 2>/dev/null
rows=$(($(wc -l <"$TMP/sw.csv") - 1))
FIT=$(dirname "$BIN")/bench/fit_bench
if [ "$rows" -lt 100 ]; then
    echo "   failed: no stepped-wedge trial data from syfosim run"
elif [ ! -x "$FIT" ]; then
    echo "   failed: $FIT is missing (make bench builds it)"
else
    echo "   data: $rows analysed participants of replication 0, 24 offices, periods 0-4 (y = paid days)"
    echo "   times per fit, medians of $PEER_REPS timings, each the mean over >= 0.2 s of repeated fits;"
    echo "   both sides time the fit on data already in memory (syfosim: design matrix, workspace, fit)"
    "$FIT" "$TMP/sw.csv" "$PEER_REPS" >"$TMP/fit.out" 2>"$TMP/fit.err" || echo "   fit_bench failed: $(cat "$TMP/fit.err")"
    if command -v Rscript >/dev/null 2>&1 && Rscript bench/peer/peer.R "$TMP/sw.csv" "$PEER_REPS" >"$TMP/peer.out" 2>"$TMP/peer.err"; then
        rver=$(Rscript -e 'cat(R.version$major, R.version$minor, sep = ".")' 2>/dev/null)
        while read -r name secs est se; do
            case $name in
            lm_robust*) ours=ols_CR2 what="OLS CR2 + Satterthwaite df" ;;
            lmer*) ours=lmm_REML what="LMM REML" ;;
            *) continue ;;
            esac
            awk -v n="$name" -v s="$secs" -v e="$est" -v se="$se" -v what="$what" -v rv="$rver" -v ours="$ours" '
                $1 == ours { o = $2; oe = $3; ose = $4 }
                END {
                    printf "   %s:\n", what
                    printf "     syfosim   %10.6f s (treated %s, SE %s)\n", o, oe, ose
                    printf "     R %s %s %10.6f s (treated %s, SE %s)\n", rv, n, s, e, se
                    printf "     syfosim is %.0fx faster per replication (target >= 100x)\n", s / o }' "$TMP/fit.out"
        done <"$TMP/peer.out"
    else
        echo "   R peer: not available ($(head -c 200 "$TMP/peer.err" 2>/dev/null))"
    fi
    SAVE_RUNS=$RUNS
    RUNS=$PEER_REPS
    measure b4o "$BIN" estimate --data "$TMP/sw.csv" --outcome y --method ols --treat treated \
        --covariates p1,p2,p3,p4 --cluster office_id --se CR2 --format csv
    measure b4l "$BIN" estimate --data "$TMP/sw.csv" --outcome y --method lmm --treat treated \
        --covariates p1,p2,p3,p4 --cluster office_id --format csv
    RUNS=$SAVE_RUNS
    echo "   for reference, the whole \`syfosim estimate\` process (start, CSV parsing, fit, output):"
    echo "     OLS CR2 $(cat "$TMP/b4o.wall") s, LMM $(cat "$TMP/b4l.wall") s"
fi
