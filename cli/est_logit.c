/* est_logit.c — `estimate --method logit`: logistic regression
 * (analysis/logit.c) of a 0/1 --outcome on (Intercept), --treat,
 * --covariates.  Model-based SE, or with --cluster the cluster-robust
 * sandwich with Stata's G/(G-1) factor (logit ..., vce(cluster C); equals
 * sandwich::vcovCL(type = "HC0")). */
#include "estimate.h"
#include "syfosim/error.h"
#include "syfosim/logit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int est_logit(const est_opts *o, const syf_dataset *d, est_table *out)
{
    const size_t n = d->n_rows, p = o->n_terms;
    const double *y;
    double *X = NULL;
    size_t *codes = NULL, G = 0;
    const char **levels = NULL;
    syf_logit_workspace *w = NULL;
    syf_logit_result res;
    int st = est_numeric(d, "outcome", o->outcome, &y);
    for (size_t i = 0; st == SYF_OK && i < n; i++)
        if (y[i] != 0 && y[i] != 1) {
            size_t idx = 0;
            syf_dataset_column_find(d, o->outcome, &idx);
            st = syf_error_set(SYF_EINPUT,
                               "%s:%zu: --outcome %s: '%s' is not 0 or 1 (logit needs a binary "
                               "outcome)",
                               d->path, d->line[i], o->outcome, d->cols[idx].str[i]);
        }
    if (st == SYF_OK)
        st = est_design_matrix(o, d, &X);
    if (st == SYF_OK && o->cluster)
        st = est_clusters(o, d, &codes, &G, &levels);
    if (st == SYF_OK)
        st = est_check_rows(o, n, p);
    if (st == SYF_OK && !(w = syf_logit_alloc(n, p, o->cluster ? G : 1)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        st = syf_logit_fit(w, n, X, y, codes, G,
                           o->cluster ? SYF_LOGIT_VCOV_CR1 : SYF_LOGIT_VCOV_MODEL,
                           o->level_value, &res);
        if (st != SYF_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            /* collinearity and separation are properties of the data */
            st = syf_error_set(st == SYF_ESINGULAR ? SYF_EINPUT : st, "%s: %s", o->data, msg);
        }
    }
    if (st == SYF_OK) {
        size_t n1 = 0;
        for (size_t i = 0; i < n; i++)
            n1 += y[i] == 1;
        est_table_note(out, "n = %zu (%zu with %s = 1)%s", n, n1, o->outcome,
                       o->cluster ? "" : ", no clusters");
        if (o->cluster)
            est_table_note(out,
                           "standard errors: cluster-robust by %s (%zu clusters), sandwich x "
                           "G/(G-1) (Stata vce(cluster))",
                           o->cluster, G);
        else
            est_table_note(out, "standard errors: model-based (inverse Fisher information)");
        est_table_note(out, "log-likelihood %.6f, %d Newton iterations", res.loglik,
                       res.iterations);
        est_table_note(out, "estimates are log odds ratios; odds ratios exp(coef) [%g%% CI]:",
                       100 * res.level);
        for (size_t j = 1; j < p; j++)
            est_table_note(out, "  %s: %.6g [%.6g, %.6g]", o->terms[j], exp(res.estimate[j]),
                           exp(res.conf_low[j]), exp(res.conf_high[j]));
        for (size_t j = 0; j < p && st == SYF_OK; j++)
            st = est_table_add(out, o->terms[j], res.estimate[j], res.std_error[j],
                               res.statistic[j], NAN, res.p_value[j], res.conf_low[j],
                               res.conf_high[j]);
    }
    syf_logit_free(w);
    free(levels);
    free(codes);
    free(X);
    return st;
}
