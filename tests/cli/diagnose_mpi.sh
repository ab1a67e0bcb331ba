#!/bin/sh
# diagnose_mpi.sh — Open MPI identity tests (issue 5): `mpirun -n K syfosim
# diagnose|sweep ...` splits the replications over ranks and rank 0 writes
# outputs byte-identical to a single process with --threads 1 or 2; also
# with several estimators per replication (--estimators) and for --mdes.
#
# Needs mpirun and a binary built with `make MPI=1` (it links libmpi): set
# SYFOSIM_MPI=build-mpi/syfosim, or SYFOSIM to an MPI build.  Otherwise the
# script says it skipped and passes (.ci/run builds the MPI variant and runs
# it).  Run from the repository root:
#     SYFOSIM_MPI=build-mpi/syfosim sh tests/cli/diagnose_mpi.sh

. "$(dirname "$0")/lib/common.sh"
setup diagnose_mpi

BIN=${SYFOSIM_MPI:-$SYFOSIM}
if ! command -v mpirun >/dev/null 2>&1; then
    pass "skipped: no mpirun (apt-get install openmpi-bin libopenmpi-dev)"
    finish
fi
if [ ! -x "$BIN" ] || ! ldd "$BIN" 2>/dev/null | grep -q libmpi; then
    pass "skipped: $BIN is not an MPI build (make MPI=1 BUILD=build-mpi; SYFOSIM_MPI=build-mpi/syfosim)"
    finish
fi
MPIRUN="mpirun --allow-run-as-root --oversubscribe"

SMALL="--set population.persons=3000 --set world.offices=6 --null --reps 10"

"$BIN" diagnose scenarios/msyfo-triage.ini $SMALL --threads 1 --out "$TMP/t1" >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_ok "diagnose --threads 1 (no mpirun)"
"$BIN" diagnose scenarios/msyfo-triage.ini $SMALL --threads 2 --out "$TMP/t2" >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_ok "diagnose --threads 2 (no mpirun)"
for n in 1 2 3; do
    $MPIRUN -n $n "$BIN" diagnose scenarios/msyfo-triage.ini $SMALL --threads 1 --out "$TMP/n$n" \
        >"$TMP/out" 2>"$TMP/err"
    RC=$?
    expect_ok "mpirun -n $n syfosim diagnose"
    lines=$(grep -c "replications (seed" "$TMP/out")
    check "mpirun -n $n: only rank 0 prints the summary (got $lines)" [ "$lines" = 1 ]
done
for d in t2 n1 n2 n3; do
    for f in diagnosis.csv replicates.csv; do
        if [ -s "$TMP/$d/$f" ] && cmp -s "$TMP/t1/$f" "$TMP/$d/$f"; then
            pass "$d: $f byte-identical to --threads 1"
        else
            fail "$d: $f differs from --threads 1: $(cmp "$TMP/t1/$f" "$TMP/$d/$f" 2>&1)"
        fi
    done
done

# Several estimators on the same replications (one simulation, K fits).
MULTI="--set population.persons=4000 --set world.offices=8 --set trial.inference_draws=49 --null --reps 7 --estimators lmm,ols,ols+wild"
for v in t1 t2 n1 n2 n3; do
    case $v in
    t*) "$BIN" diagnose scenarios/msyfo-stepped-wedge.ini $MULTI --threads ${v#t} --out "$TMP/e$v" >"$TMP/out" 2>"$TMP/err" ;;
    n*) $MPIRUN -n ${v#n} "$BIN" diagnose scenarios/msyfo-stepped-wedge.ini $MULTI --threads 1 --out "$TMP/e$v" >"$TMP/out" 2>"$TMP/err" ;;
    esac
    RC=$?
    expect_ok "--estimators, $v"
done
for v in t2 n1 n2 n3; do
    for f in diagnosis.csv replicates.csv; do
        if [ -s "$TMP/e$v/$f" ] && cmp -s "$TMP/et1/$f" "$TMP/e$v/$f"; then
            pass "--estimators, $v: $f byte-identical to --threads 1"
        else
            fail "--estimators, $v: $f differs from --threads 1: $(cmp "$TMP/et1/$f" "$TMP/e$v/$f" 2>&1)"
        fi
    done
done

GRID="--set population.persons=3000 --set world.offices=6,8 --set pilot.effect_hr=1.0,1.4 --reps 5"
"$BIN" sweep scenarios/msyfo-triage.ini $GRID --threads 1 --out "$TMP/s1" >/dev/null 2>&1
$MPIRUN -n 3 "$BIN" sweep scenarios/msyfo-triage.ini $GRID --threads 1 --out "$TMP/s3" >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_ok "mpirun -n 3 syfosim sweep"
for f in sweep.csv sweep_replicates.csv; do
    if [ -s "$TMP/s3/$f" ] && cmp -s "$TMP/s1/$f" "$TMP/s3/$f"; then
        pass "sweep: $f byte-identical for 3 ranks and 1 process"
    else
        fail "sweep: $f differs for 3 ranks: $(cmp "$TMP/s1/$f" "$TMP/s3/$f" 2>&1)"
    fi
done
"$BIN" sweep scenarios/msyfo-triage.ini $GRID --estimators ols,lmm --threads 2 --out "$TMP/se1" >/dev/null 2>&1
$MPIRUN -n 3 "$BIN" sweep scenarios/msyfo-triage.ini $GRID --estimators ols,lmm --threads 1 --out "$TMP/se3" >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_ok "mpirun -n 3 syfosim sweep --estimators ols,lmm"
for f in sweep.csv sweep_replicates.csv; do
    if [ -s "$TMP/se3/$f" ] && cmp -s "$TMP/se1/$f" "$TMP/se3/$f"; then
        pass "sweep --estimators: $f byte-identical for 3 ranks and 1 process"
    else
        fail "sweep --estimators: $f differs for 3 ranks: $(cmp "$TMP/se1/$f" "$TMP/se3/$f" 2>&1)"
    fi
done

MD="--mdes --set population.persons=12000 --set world.offices=12 --reps 12 --mdes-max 4"
"$BIN" diagnose scenarios/msyfo-triage.ini $MD --threads 1 --out "$TMP/m1" >/dev/null 2>&1
$MPIRUN -n 3 "$BIN" diagnose scenarios/msyfo-triage.ini $MD --threads 1 --out "$TMP/m3" >"$TMP/out" 2>"$TMP/err"
RC=$?
expect_ok "mpirun -n 3 syfosim diagnose --mdes"
if [ -s "$TMP/m3/mdes.csv" ] && cmp -s "$TMP/m1/mdes.csv" "$TMP/m3/mdes.csv"; then
    pass "--mdes: mdes.csv byte-identical for 3 ranks and 1 process"
else
    fail "--mdes: mdes.csv differs for 3 ranks: $(cmp "$TMP/m1/mdes.csv" "$TMP/m3/mdes.csv" 2>&1)"
fi

finish
