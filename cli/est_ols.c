/* est_ols.c — `estimate --method ols`: OLS with cluster-robust variance
 * (analysis/ols.c) on the regressors (Intercept), --treat, --covariates. */
#include "estimate.h"
#include "syfosim/error.h"
#include "syfosim/ols.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int est_ols(const est_opts *o, const syf_dataset *d, est_table *out)
{
    static const char *const se_desc[] = {
        "CR0 (no small-sample adjustment)",
        "CR1 (Stata: G/(G-1) * (n-1)/(n-p))",
        "CR2 (Bell-McCaffrey, Satterthwaite df)",
        "CR3 ((I - H_gg)^-1, clubSandwich convention)",
    };
    syf_vcov_type type = SYF_VCOV_CR2;
    if (o->se && syf_vcov_type_parse(o->se, &type) != SYF_OK)
        return syf_error_set(SYF_EINPUT,
                             "--se: unknown standard-error type '%s' (choose CR0, CR1, CR2 or CR3)",
                             o->se);
    const size_t n = d->n_rows, p = o->n_terms;
    const double *y;
    double *X = NULL;
    size_t *codes = NULL, G = 0;
    const char **levels = NULL;
    syf_ols_workspace *w = NULL;
    syf_ols_result res;
    int st = est_numeric(d, "outcome", o->outcome, &y);
    if (st == SYF_OK)
        st = est_design_matrix(o, d, &X);
    if (st == SYF_OK && o->cluster) {
        st = est_factor(d, "cluster", o->cluster, &codes, &G, &levels);
        if (st == SYF_OK && G < 2)
            st = syf_error_set(SYF_EINPUT,
                               "%s: --cluster %s: fewer than 2 clusters (found %zu); "
                               "cluster-robust standard errors need at least 2",
                               o->data, o->cluster, G);
    }
    if (st == SYF_OK && n <= p)
        st = syf_error_set(SYF_EINPUT,
                           "%s: %zu data row%s for %zu coefficient%s; need more rows than "
                           "coefficients",
                           o->data, n, n == 1 ? "" : "s", p, p == 1 ? "" : "s");
    if (st == SYF_OK && !(w = syf_ols_alloc(n, p, o->cluster ? G : 1)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        st = syf_ols_fit(w, n, X, y, codes, G, type, o->level_value, &res);
        if (st != SYF_OK) {
            /* a singular problem is a property of the data: bad input */
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            size_t bad = syf_ols_singular_cluster(w);
            if (st == SYF_ESINGULAR && bad != (size_t)-1 && levels) {
                st = syf_error_set(SYF_EINPUT, "%s: --cluster %s: cluster '%s': %s", o->data,
                                   o->cluster, levels[bad], msg);
            } else if (st == SYF_ESINGULAR) {
                char list[512] = "";
                size_t used = 0;
                for (size_t j = 0; j < p && used + 5 < sizeof list; j++) {
                    int wr = snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "",
                                      o->terms[j]);
                    used += wr > 0 ? (size_t)wr : 0;
                }
                st = syf_error_set(SYF_EINPUT, "%s: %s; regressors: %s", o->data, msg, list);
            } else {
                st = syf_error_set(st, "%s: %s", o->data, msg);
            }
        }
    }
    if (st == SYF_OK) {
        if (o->cluster)
            est_table_note(out, "n = %zu, clusters = %zu (%s)", n, G, o->cluster);
        else
            est_table_note(out, "n = %zu, no clusters (each row its own cluster%s)", n,
                           type == SYF_VCOV_CR2 ? "; CR2 = HC2" : "");
        est_table_note(out, "standard errors: %s", se_desc[type]);
        for (size_t j = 0; j < p && st == SYF_OK; j++)
            st = est_table_add(out, o->terms[j], res.estimate[j], res.std_error[j],
                               res.statistic[j], res.df[j], res.p_value[j], res.conf_low[j],
                               res.conf_high[j]);
    }
    syf_ols_free(w);
    free(levels);
    free(codes);
    free(X);
    return st;
}
