/* montecarlo.h — the Monte Carlo engine behind `diagnose`, `sweep` and
 * `merge`: replication scheduling, result storage, checkpoints, shards,
 * ranks and progress.
 *
 * A run is a table of cells × replications.  A cell is one scenario (a grid
 * point of a sweep, or the null version of a design); replication r (1..R)
 * of a cell is fully determined by (cell scenario, seed, r) through the
 * counter-based streams, so results are stored at their (cell, r) index
 * and every summary reads them in index order: the output cannot depend on
 * the number of threads, ranks or shards, nor on the order in which
 * replications finished or whether they came from a checkpoint.
 *
 * Scheduling is replication-major (replication 1 of every cell, then
 * replication 2, ...), so a partial run already covers every cell with the
 * same seeds (common random numbers across cells).
 *
 * Cells may come in groups of consecutive cells that one call computes
 * together (syf_mc_opts.group): the estimators of `diagnose --estimators`,
 * fitted to one simulation of the replication.  A group is scheduled,
 * stored, checkpointed and resumed as a whole; results are still stored
 * per (cell, replication), so the files and summaries do not change.
 *
 * Which replications a process runs: shard i of n (--shard i/n) owns the
 * replications r with (r - 1) mod n == i - 1; within a shard, MPI rank k of
 * K owns those with ((r - 1) div n) mod K == k.  Every cell of a
 * replication runs on the same process.
 *
 * Results files (checkpoints and shard outputs) are text: a header that
 * identifies the run (kind, seed, R, each cell's scenario hash and label,
 * the options that change results, the build), then one line per finished
 * (cell, replication) with the syf_trial_estimate stored bit-exactly (hex
 * of its bytes) and the failure reason.  syf_mc_save() writes atomically
 * (temporary file, fsync, rename).
 */
#ifndef SYFOSIM_MONTECARLO_H
#define SYFOSIM_MONTECARLO_H

#include "syfosim/diagnosands.h"
#include "syfosim/trial.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SYF_MC_REASON 160

/* One replication of one cell. */
typedef struct {
    syf_trial_estimate est;     /* est.status != SYF_OK: the replication failed */
    char reason[SYF_MC_REASON]; /* the error message of a failed one, else "" */
} syf_mc_rep;

/* Runs one replication; returns a status (SYF_ENOMEM aborts the run, any
 * other failure is stored with syf_error_message() as its reason). */
typedef int (*syf_mc_fn)(void *ctx, size_t cell, uint64_t seed, uint64_t rep,
                         syf_trial_estimate *est);

/* Runs replication rep of the n consecutive cells first..first+n-1 at once
 * (one simulation analysed n ways) and fills out[0..n-1], est and reason
 * (out is zeroed before the call); returns SYF_ENOMEM to abort the run,
 * else SYF_OK (each out[k].est.status says whether cell k failed). */
typedef int (*syf_mc_group_fn)(void *ctx, size_t first, size_t n, uint64_t seed, uint64_t rep,
                               syf_mc_rep *out);

/* Most cells a group may have. */
#define SYF_MC_MAX_GROUP 32

typedef struct syf_mc syf_mc;

/* What a results file says about its run (syf_mc_read_info). */
typedef struct {
    char kind[32];
    uint64_t seed, reps;
    unsigned shard_index, shard_count;
    size_t n_cells;
    char args[4096];
    char build[64];
} syf_mc_info;

/* A run of `kind` ("diagnose", "sweep", ...) over n_cells cells and
 * replications 1..reps from `seed`; every cell must then be named with
 * syf_mc_set_cell().  NULL when out of memory or an argument is 0. */
syf_mc *syf_mc_alloc(const char *kind, size_t n_cells, uint64_t reps, uint64_t seed);
void syf_mc_free(syf_mc *mc);

/* Identity of a cell: its scenario hash and a label (no spaces). */
int syf_mc_set_cell(syf_mc *mc, size_t cell, uint64_t scenario_hash, const char *label);
/* Options that change results (e.g. the grid), one line of text. */
int syf_mc_set_args(syf_mc *mc, const char *args);
/* Shard `index` (1-based) of `count`.  SYF_EINPUT unless 1 <= index <= count. */
int syf_mc_set_shard(syf_mc *mc, unsigned index, unsigned count);
/* MPI rank and number of ranks (0 and 1 without MPI). */
void syf_mc_set_rank(syf_mc *mc, int rank, int size);

size_t syf_mc_n_cells(const syf_mc *mc);
uint64_t syf_mc_reps(const syf_mc *mc);
uint64_t syf_mc_seed(const syf_mc *mc);
const char *syf_mc_args(const syf_mc *mc);

/* This process (shard and rank) runs replication rep. */
int syf_mc_owns(const syf_mc *mc, uint64_t rep);
/* The result of (cell, rep), or NULL if it has not been run. */
const syf_mc_rep *syf_mc_get(const syf_mc *mc, size_t cell, uint64_t rep);
/* Finished (cell, rep) pairs, over all replications or only owned ones. */
size_t syf_mc_n_done(const syf_mc *mc, int owned_only);

typedef struct {
    int threads;                 /* OpenMP threads; 0 = the OpenMP default      */
    const char *checkpoint_path; /* NULL: no checkpoints                        */
    double checkpoint_secs;      /* save at most this often (<= 0: after each), */
                                 /* and spend at most 10 % of the time saving   */
    int progress;                /* progress bar with ETA on stderr             */
    const char *progress_label;  /* e.g. "diagnose"                             */
    volatile sig_atomic_t *stop; /* set (by a signal handler) to stop early     */
    syf_mc_fn fn;                /* NULL: syf_trial_replicate(cells[cell], ...) */
    void *ctx;                   /* fn's context; with fn NULL, const syf_scenario *const * */
    /* group > 1: the cells come in groups of `group` consecutive cells (the
     * number of cells must be a multiple of it, at most SYF_MC_MAX_GROUP)
     * that one call computes together: group_fn, or with group_fn NULL
     * syf_trial_replicate_multi(cells + first, group, ...) -- one
     * simulation feeding several estimators; fn is then not used.  A
     * group_fn with group 0 or 1 is called for single cells. */
    size_t group;
    syf_mc_group_fn group_fn;
} syf_mc_opts;

/* Run every owned (cell, rep) not yet done, replication-major, in
 * parallel.  With fn and group_fn NULL, cells (groups) with equal scenario
 * hashes are run once and copied.  When *stop becomes nonzero, replications
 * in flight finish and the rest are skipped (syf_mc_interrupted() then
 * says so); the caller saves the checkpoint.  Returns SYF_ENOMEM if a
 * replication ran out of memory, SYF_ERUNTIME if a checkpoint could not be
 * written, SYF_EINPUT for a bad group, else SYF_OK (failed replications
 * are results, not errors). */
int syf_mc_run(syf_mc *mc, const syf_mc_opts *o);
int syf_mc_interrupted(const syf_mc *mc);

/* Write every finished result to `path` atomically. */
int syf_mc_save(const syf_mc *mc, const char *path);
/* Load a checkpoint of this very run (same identity, shard included);
 * SYF_EINPUT with a message naming the difference otherwise. */
int syf_mc_load(syf_mc *mc, const char *path);
/* Add the results of a shard of this run (identity without the shard);
 * SYF_EINPUT on a different run or a (cell, rep) already present. */
int syf_mc_merge(syf_mc *mc, const char *path);
/* SYF_EINPUT naming the missing replications unless every (cell, rep) is done. */
int syf_mc_check_complete(const syf_mc *mc);
/* Read a results file's header. */
int syf_mc_read_info(const char *path, syf_mc_info *info);

/* The replications of a cell in index order, as the diagnosands module
 * takes them (out has reps entries; missing ones count as failed). */
void syf_mc_results(const syf_mc *mc, size_t cell, syf_rep_result *out);
/* syf_mc_results + syf_diagnosands_compute. */
int syf_mc_diagnose(const syf_mc *mc, size_t cell, double alpha, syf_diagnosis *d);
/* One replicates.csv row per replication of the cell, in index order:
 *   PREFIX,replication,status,estimate,std_error,df,p_value,conf_low,conf_high,
 *   estimand_value,n,clusters,reason
 * (prefix without its trailing comma, e.g. the estimand label). */
int syf_mc_write_replicates(FILE *f, const syf_mc *mc, size_t cell, const char *prefix);

/* The life of a run as the subcommands use it.  Checkpoints live in
 * DIR/.NAME.ckpt (a shard's in DIR/.NAME-shard-I-of-N.ckpt; under MPI each
 * rank K of a multi-rank run writes BASE.rankK).  syf_mc_drive() loads
 * them with `resume` (every rank file too, so a run interrupted under any
 * number of ranks resumes under any other), runs the missing replications
 * with o->run (whose checkpoint_path it sets), and then either saves the
 * checkpoint and sets *interrupted (a stop was requested on any rank), or
 * gathers all ranks' results.  Notes go to stderr as "syfosim NAME: ...".
 * syf_mc_remove_checkpoints() deletes them after the outputs are written. */
typedef struct {
    const char *dir, *name;
    int resume;
    syf_mc_opts run;
} syf_mc_drive_opts;
int syf_mc_drive(syf_mc *mc, const syf_mc_drive_opts *o, int *interrupted);
void syf_mc_remove_checkpoints(const syf_mc *mc, const syf_mc_drive_opts *o);

/* MPI (no-ops returning rank 0 of 1 in a build without SYF_HAVE_MPI).
 * syf_mc_mpi_begin() initialises MPI when the process was started by
 * mpirun (else runs alone); syf_mc_gather() gives every rank every rank's
 * results (collective); syf_mc_mpi_abort() ends all ranks after an error
 * on one; syf_mc_mpi_end() finalises. */
int syf_mc_mpi_begin(int *rank, int *size);
int syf_mc_gather(syf_mc *mc);
int syf_mc_mpi_allsum(long *v);
void syf_mc_mpi_end(void);

#endif
