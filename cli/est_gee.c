/* est_gee.c — `estimate --method gee`: Gaussian GEE with an exchangeable
 * working correlation within --cluster and robust (sandwich) standard
 * errors (analysis/gee.c; geepack::geeglm conventions), on the regressors
 * (Intercept), --treat, --covariates.  Wald z with a normal reference, so
 * the df column is empty; the estimated correlation follows as a row
 * `alpha` with only the estimate filled. */
#include "estimate.h"
#include "syfosim/error.h"
#include "syfosim/gee.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int est_gee(const est_opts *o, const syf_dataset *d, est_table *out)
{
    const size_t n = d->n_rows, p = o->n_terms;
    const double *y;
    double *X = NULL;
    size_t *codes = NULL, G = 0;
    const char **levels = NULL;
    syf_gee_workspace *w = NULL;
    syf_gee_result res;
    int st = est_numeric(d, "outcome", o->outcome, &y);
    if (st == SYF_OK)
        st = est_design_matrix(o, d, &X);
    if (st == SYF_OK) {
        st = est_factor(d, "cluster", o->cluster, &codes, &G, &levels);
        if (st == SYF_OK && G < 2)
            st = syf_error_set(SYF_EINPUT,
                               "%s: --cluster %s: fewer than 2 clusters (found %zu); robust "
                               "standard errors need at least 2",
                               o->data, o->cluster, G);
    }
    if (st == SYF_OK)
        st = est_check_rows(o, n, p);
    if (st == SYF_OK && !(w = syf_gee_alloc(n, p, G)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        st = syf_gee_fit(w, n, X, y, codes, G, o->level_value, &res);
        if (st != SYF_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            if (st == SYF_ESINGULAR) { /* a property of the data: bad input */
                char list[512] = "";
                size_t used = 0;
                for (size_t j = 0; j < p && used + 5 < sizeof list; j++) {
                    int wr = snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "",
                                      o->terms[j]);
                    used += wr > 0 ? (size_t)wr : 0;
                }
                st = syf_error_set(SYF_EINPUT, "%s: %s; regressors: %s", o->data, msg, list);
            } else {
                st = syf_error_set(st, "%s: --cluster %s: %s", o->data, o->cluster, msg);
            }
        }
    }
    if (st == SYF_OK) {
        est_table_note(out, "n = %zu, clusters = %zu (%s)", n, G, o->cluster);
        est_table_note(out, "working correlation: exchangeable, alpha = %.6g; scale = %.6g "
                            "(%zu iterations)",
                       res.alpha, res.scale, res.iterations);
        est_table_note(out, "standard errors: robust sandwich (geepack san.se), Wald z, "
                            "normal reference");
        for (size_t j = 0; j < p && st == SYF_OK; j++)
            st = est_table_add(out, o->terms[j], res.estimate[j], res.std_error[j],
                               res.statistic[j], NAN, res.p_value[j], res.conf_low[j],
                               res.conf_high[j]);
        if (st == SYF_OK)
            st = est_table_add(out, "alpha", res.alpha, NAN, NAN, NAN, NAN, NAN, NAN);
    }
    syf_gee_free(w);
    free(levels);
    free(codes);
    free(X);
    return st;
}
