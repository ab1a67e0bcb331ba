#!/bin/sh
# bench/run.sh — speed benchmarks (`make bench`); never part of `make test`.
# Prints medians of several runs.  Targets live in issue "diagnosis at scale".
set -eu
BIN=${1:-build/syfosim}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
timeit() { # prints wall seconds of "$@"
    s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); echo "$e $s" | awk "{print \$1 - \$2}"
}
echo "== 1. one simulated year of the national baseline (2,860,000 employed), 1 thread"
for i in 1 2 3; do
    /usr/bin/time -f "%e %M" -o "$TMP/t$i" "$BIN" calibrate scenarios/baseline-norway.ini \
        --threads 1 --persons 2860000 --set run.burn_in_days=365 --set run.follow_up_days=0 \
        > "$TMP/cal$i" || true
done
cat "$TMP"/t? | awk '{print $1}' | median > "$TMP/wall"
cat "$TMP"/t? | awk '{print $2}' | median > "$TMP/rss"
spells=$(grep "spells in the window" "$TMP/cal1" | awk '{print $3}')
wall=$(cat "$TMP/wall"); rss=$(cat "$TMP/rss")
echo "   wall ${wall} s (median of 3; includes 1 burn-in year), ${spells} spells in the year,"
echo "   $(echo "$spells $wall" | awk "{printf \"%d\", \$1 / \$2}") spells/s, peak RSS $(echo "$rss" | awk "{printf \"%d\", \$1 * 1024 / 2860000}") bytes per person"
echo "== 2. diagnose msyfo-triage (12 offices, about 8,500 participants), 200 replications, 2 threads"
for i in 1 2 3; do timeit "$BIN" diagnose scenarios/msyfo-triage.ini --reps 200 --threads 2 --out "$TMP/d"; done | median | sed 's/^/   wall s: /'
