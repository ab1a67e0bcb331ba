/* est_ipw.c — `estimate --method ipw`: inverse-probability-weighted ATE
 * (analysis/ipw.c) of --outcome for the 0/1 --treat, with a logistic
 * propensity score on (Intercept) + --covariates and the stacked
 * M-estimation sandwich (Lunceford & Davidian 2004); with --cluster the
 * sandwich is summed by cluster and multiplied by G/(G-1). */
#include "estimate.h"
#include "syfosim/error.h"
#include "syfosim/ipw.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int est_ipw(const est_opts *o, const syf_dataset *d, est_table *out)
{
    const size_t n = d->n_rows, p = o->n_terms - 1; /* (Intercept) + covariates */
    const double *y, *z;
    double *X1 = NULL, *X = NULL;
    size_t *codes = NULL, G = 0;
    const char **levels = NULL;
    syf_ipw_workspace *w = NULL;
    syf_ipw_result res;
    int st = est_numeric(d, "outcome", o->outcome, &y);
    if (st == SYF_OK)
        st = est_numeric(d, "treat", o->treat, &z);
    for (size_t i = 0; st == SYF_OK && i < n; i++)
        if (z[i] != 0 && z[i] != 1) {
            size_t idx = 0;
            syf_dataset_column_find(d, o->treat, &idx);
            st = syf_error_set(SYF_EINPUT,
                               "%s:%zu: --treat %s: '%s' is not 0 or 1 (ipw needs a binary "
                               "treatment)",
                               d->path, d->line[i], o->treat, d->cols[idx].str[i]);
        }
    if (st == SYF_OK)
        st = est_design_matrix(o, d, &X1);
    if (st == SYF_OK && !(X = malloc((n ? n : 1) * p * sizeof *X)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK)
        for (size_t i = 0; i < n; i++) {
            const double *x1 = X1 + i * (p + 1);
            X[i * p] = x1[0];
            memcpy(X + i * p + 1, x1 + 2, (p - 1) * sizeof *X);
        }
    if (st == SYF_OK && o->cluster)
        st = est_clusters(o, d, &codes, &G, &levels);
    if (st == SYF_OK && n <= p + 2)
        st = syf_error_set(SYF_EINPUT,
                           "%s: %zu data row%s for a propensity model with %zu coefficients "
                           "and two weighted means; need more rows",
                           o->data, n, n == 1 ? "" : "s", p);
    if (st == SYF_OK && !(w = syf_ipw_alloc(n, p, o->cluster ? G : 1)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        st = syf_ipw_fit(w, n, X, z, y, codes, G,
                         o->cluster ? SYF_LOGIT_VCOV_CR1 : SYF_LOGIT_VCOV_CR0, o->level_value,
                         &res);
        if (st != SYF_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            /* no overlap / collinear covariates: properties of the data */
            st = syf_error_set(st == SYF_ESINGULAR ? SYF_EINPUT : st, "%s: %s", o->data, msg);
        }
    }
    if (st == SYF_OK) {
        est_table_note(out, "n = %zu (%zu treated), ATE by inverse-probability weighting "
                            "(Hajek-normalised weights 1/e, 1/(1-e))",
                       n, res.n_treated);
        est_table_note(out, "propensity score: logit of %s on (Intercept)%s%s, range [%.4g, "
                            "%.4g], %d Newton iterations",
                       o->treat, p > 1 ? " + " : "", p > 1 ? o->covariates : "", res.ps_min,
                       res.ps_max, res.ps.iterations);
        est_table_note(out, "weighted means: treated %.6g, control %.6g; effective sample "
                            "sizes %.1f / %.1f",
                       res.mu1, res.mu0, res.ess1, res.ess0);
        if (o->cluster)
            est_table_note(out,
                           "standard error: M-estimation sandwich accounting for the estimated "
                           "propensity score, clustered by %s (%zu clusters) x G/(G-1)",
                           o->cluster, G);
        else
            est_table_note(out, "standard error: M-estimation sandwich accounting for the "
                                "estimated propensity score (Lunceford & Davidian 2004)");
        est_table_note(out, "  (treating the propensity score as known it would be %.6g)",
                       res.std_error_known_ps);
        st = est_table_add(out, o->treat, res.estimate, res.std_error, res.statistic, NAN,
                           res.p_value, res.conf_low, res.conf_high);
    }
    syf_ipw_free(w);
    free(levels);
    free(codes);
    free(X);
    free(X1);
    return st;
}
