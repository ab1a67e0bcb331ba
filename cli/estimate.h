/* estimate.h — the `syfosim estimate` front end and its method adapters.
 *
 * cmd_estimate.c parses the options, reads the CSV and prints the result
 * table; each method lives in cli/est_METHOD.c as one function that takes
 * the parsed options and the dataset and fills an est_table (rows of
 * term,estimate,std_error,statistic,df,p_value,conf_low,conf_high, plus
 * free-text notes for --format text).  A method is registered with one
 * line in est_methods[] (cli/est_methods.c) that also names the options it
 * uses; any other option given is rejected with exit 2.
 */
#ifndef SYFOSIM_CLI_ESTIMATE_H
#define SYFOSIM_CLI_ESTIMATE_H

#include "syfosim/dataset.h"

#include <stddef.h>

#define EST_MAX_TERMS 258

typedef struct {
    /* raw option values (NULL when not given) */
    const char *data, *outcome, *method, *treat, *cluster, *covariates, *se, *level, *format;
    const char *time, *id, *group, *event, *ties;
    const char *running, *cutoff, *bandwidth, *control, *aggregate, *inference, *draws,
        *weights, *seed, *unit;
    /* parsed */
    double level_value;       /* --level, default 0.95 */
    size_t n_terms;           /* "(Intercept)", --treat, --covariates ... */
    const char *terms[EST_MAX_TERMS];
} est_opts;

typedef struct {
    char term[128];
    double estimate, std_error, statistic, df, p_value, conf_low, conf_high; /* NAN = empty */
} est_row;

typedef struct {
    size_t n_rows, cap;
    est_row *rows;
    char notes[4096]; /* lines printed above the table with --format text */
} est_table;

/* Append a row (df NAN where the reference distribution is normal). */
int est_table_add(est_table *t, const char *term, double estimate, double std_error,
                  double statistic, double df, double p_value, double conf_low, double conf_high);
/* Append a line to the text-format notes. */
void est_table_note(est_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A method: returns a status (SYF_EINPUT for problems with the data). */
typedef int (*est_method_fn)(const est_opts *o, const syf_dataset *d, est_table *out);

typedef struct {
    const char *name;
    est_method_fn fn;
    const char *options; /* comma-separated optional options it uses, e.g. "treat,cluster,se" */
    const char *required;/* comma-separated options it requires beyond data,outcome,method */
    const char *summary;
} est_method;

extern const est_method est_methods[];
extern const size_t est_n_methods;

/* Helpers for adapters. */
/* Numeric column by option value, with an error naming the option. */
int est_numeric(const syf_dataset *d, const char *opt, const char *col, const double **out);
/* Regressor matrix (row-major n x n_terms) from o->terms; caller frees. */
int est_design_matrix(const est_opts *o, const syf_dataset *d, double **X);
/* Factor codes of a column (cluster, id, ...); caller frees codes and levels. */
int est_factor(const syf_dataset *d, const char *opt, const char *col, size_t **codes,
               size_t *n_levels, const char ***levels);

/* Factor codes of --cluster; at least 2 clusters (SYF_EINPUT otherwise). */
int est_clusters(const est_opts *o, const syf_dataset *d, size_t **codes, size_t *G,
                 const char ***levels);
/* More data rows than coefficients (SYF_EINPUT otherwise). */
int est_check_rows(const est_opts *o, size_t n, size_t p);

int est_ols(const est_opts *o, const syf_dataset *d, est_table *out);
int est_sc(const est_opts *o, const syf_dataset *d, est_table *out), est_rd(const est_opts *o, const syf_dataset *d, est_table *out);
int est_did(const est_opts *o, const syf_dataset *d, est_table *out), est_cs(const est_opts *o, const syf_dataset *d, est_table *out);
int est_lmm(const est_opts *o, const syf_dataset *d, est_table *out), est_gee(const est_opts *o, const syf_dataset *d, est_table *out);
int est_cox(const est_opts *o, const syf_dataset *d, est_table *out), est_logit(const est_opts *o, const syf_dataset *d, est_table *out), est_ipw(const est_opts *o, const syf_dataset *d, est_table *out);

#endif
