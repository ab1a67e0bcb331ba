/* est_cox.c — `estimate --method cox`: Cox proportional hazards
 * (analysis/cox.c) of the time in --outcome with the 0/1 indicator in
 * --event, on the regressors --treat and --covariates (no intercept).
 * Efron ties unless --ties breslow; model-based SE, or with --cluster the
 * grouped-dfbeta robust SE of coxph(..., cluster = C). */
#include "estimate.h"
#include "syfosim/cox.h"
#include "syfosim/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every value of the column is 0 or 1; otherwise an error naming the cell. */
static int check_binary(const syf_dataset *d, const char *opt, const char *col,
                        const double *v, const char *what)
{
    size_t idx = 0;
    for (size_t i = 0; i < d->n_rows; i++)
        if (v[i] != 0 && v[i] != 1) {
            syf_dataset_column_find(d, col, &idx);
            return syf_error_set(SYF_EINPUT,
                                 "%s:%zu: --%s %s: '%s' is not 0 or 1 (%s)%s", d->path,
                                 d->line[i], opt, col, d->cols[idx].str[i], what,
                                 v[i] == 2 ? "; for survival's 1 = censored, 2 = event coding, "
                                             "use status - 1"
                                           : "");
        }
    return SYF_OK;
}

int est_cox(const est_opts *o, const syf_dataset *d, est_table *out)
{
    syf_cox_ties ties = SYF_COX_EFRON;
    if (o->ties && syf_cox_ties_parse(o->ties, &ties) != SYF_OK)
        return syf_error_set(SYF_EINPUT,
                             "--ties: unknown tie handling '%s' (choose efron or breslow)",
                             o->ties);
    const size_t n = d->n_rows, p = o->n_terms - 1; /* no intercept */
    if (p == 0)
        return syf_error_set(SYF_EINPUT,
                             "cox needs at least one regressor (--treat and/or --covariates)");
    const double *time, *event;
    double *X1 = NULL, *X = NULL;
    size_t *codes = NULL, G = 0;
    const char **levels = NULL;
    syf_cox_workspace *w = NULL;
    syf_cox_result res;
    int st = est_numeric(d, "outcome", o->outcome, &time);
    if (st == SYF_OK)
        st = est_numeric(d, "event", o->event, &event);
    if (st == SYF_OK)
        st = check_binary(d, "event", o->event, event, "1 = event, 0 = censored");
    for (size_t i = 0; st == SYF_OK && i < n; i++)
        if (!(time[i] >= 0)) {
            size_t idx = 0;
            syf_dataset_column_find(d, o->outcome, &idx);
            st = syf_error_set(SYF_EINPUT,
                               "%s:%zu: --outcome %s: '%s' is a negative duration (accepted: "
                               "times >= 0)",
                               d->path, d->line[i], o->outcome, d->cols[idx].str[i]);
        }
    if (st == SYF_OK)
        st = est_design_matrix(o, d, &X1);
    if (st == SYF_OK && !(X = malloc((n ? n : 1) * p * sizeof *X)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK)
        for (size_t i = 0; i < n; i++)
            memcpy(X + i * p, X1 + i * (p + 1) + 1, p * sizeof *X);
    if (st == SYF_OK && o->cluster)
        st = est_clusters(o, d, &codes, &G, &levels);
    if (st == SYF_OK && !(w = syf_cox_alloc(n, p, o->cluster ? G : 1)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        st = syf_cox_fit(w, n, X, time, event, codes, G, ties,
                         o->cluster ? SYF_COX_VCOV_ROBUST : SYF_COX_VCOV_MODEL, o->level_value,
                         &res);
        if (st != SYF_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            /* a singular problem (constant or collinear regressors) is a
             * property of the data: bad input */
            st = syf_error_set(st == SYF_ESINGULAR ? SYF_EINPUT : st, "%s: %s", o->data, msg);
        }
    }
    if (st == SYF_OK) {
        est_table_note(out, "n = %zu, events = %zu, ties: %s", n, res.n_events,
                       syf_cox_ties_name(ties));
        if (o->cluster)
            est_table_note(out,
                           "standard errors: robust, clustered by %s (%zu clusters; grouped "
                           "dfbeta sandwich, no small-sample factor, as coxph cluster =)",
                           o->cluster, G);
        else
            est_table_note(out, "standard errors: model-based (inverse information)");
        est_table_note(out, "partial log-likelihood %.6f (null %.6f), %d Newton iterations",
                       res.loglik, res.loglik_null, res.iterations);
        est_table_note(out, "estimates are log hazard ratios; hazard ratios exp(coef) [%g%% CI]:",
                       100 * res.level);
        for (size_t j = 0; j < p; j++)
            est_table_note(out, "  %s: %.6g [%.6g, %.6g]", o->terms[j + 1], exp(res.estimate[j]),
                           exp(res.conf_low[j]), exp(res.conf_high[j]));
        for (size_t j = 0; j < p && st == SYF_OK; j++)
            st = est_table_add(out, o->terms[j + 1], res.estimate[j], res.std_error[j],
                               res.statistic[j], NAN, res.p_value[j], res.conf_low[j],
                               res.conf_high[j]);
    }
    syf_cox_free(w);
    free(levels);
    free(codes);
    free(X);
    free(X1);
    return st;
}
