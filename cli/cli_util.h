/* cli_util.h — small shared pieces of the subcommands: option parsing,
 * scenario loading with --set overrides, error printing, and atomic output
 * files (written to a temporary name, renamed into place on success). */
#ifndef SYFOSIM_CLI_UTIL_H
#define SYFOSIM_CLI_UTIL_H

#include "syfosim/scenario.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>

/* Print "syfosim CMD: message" for a failed status and return its exit code. */
int cli_fail(const char *cmd, int status);

/* Parse a non-negative integer option value; on error prints and returns 0. */
int cli_parse_long(const char *cmd, const char *opt, const char *val, long min, long max,
                   long *out);

/* Load a scenario and apply KEY=VALUE overrides.  Returns a status. */
int cli_load_scenario(const char *path, char **sets, int nsets, syf_scenario *sc);

/* Provenance line written at the top of every output file. */
void cli_provenance(FILE *f, const syf_scenario *sc, uint64_t seed, const char *what);

/* Atomic output: open DIR/NAME.tmp.XXXXXX; commit renames it to DIR/NAME. */
typedef struct {
    FILE *f;
    char tmp[1100];
    char final[1100];
} cli_outfile;
int cli_out_open(cli_outfile *o, const char *dir, const char *name);
int cli_out_commit(cli_outfile *o);
void cli_out_abort(cli_outfile *o);

/* SIGINT and SIGTERM set cli_stop_signal (the signal number) so long runs
 * can save a checkpoint and stop; a second signal ends the process.
 * cli_catch_signals(0) restores the default handlers. */
extern volatile sig_atomic_t cli_stop_signal;
void cli_catch_signals(int on);

/* Create directory (and parents) if missing. */
int cli_mkdirs(const char *dir);

/* --estimators LIST (diagnose, sweep): comma-separated analyses, each
 * NAME or NAME+INFERENCE with NAME a trial.estimator value and INFERENCE a
 * trial.inference value (lmm, ols, ols+wild, ols+ri, did, ...).
 * cli_estimators_split() copies LIST into buf and points tokens[0..*n-1]
 * at its entries (SYF_EINPUT if empty, duplicated, malformed or more than
 * max).  cli_estimator_apply() sets trial.estimator and trial.inference of
 * sc from one entry (analytic without a suffix) and checks with
 * syf_trial_estimator_check() that it can analyse the scenario; SYF_EINPUT
 * naming the entry otherwise. */
int cli_estimators_split(const char *list, char *buf, size_t bufsize, char **tokens, size_t max,
                         size_t *n);
int cli_estimator_apply(const char *token, syf_scenario *sc);

#endif
