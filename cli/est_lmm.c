/* est_lmm.c — `estimate --method lmm`: linear mixed model with a random
 * intercept per --cluster, fitted by REML (analysis/lmm.c), on the
 * regressors (Intercept), --treat, --covariates.  With --time T the period
 * dummies `period(T=level)` (every level of T but the first) are added: the
 * Hussey & Hughes (2007) stepped-wedge model.  Fixed effects get
 * Satterthwaite df (as lmerTest); the variance components follow as the rows
 * var(CLUSTER) and var(residual) with only the estimate filled (DESIGN §6). */
#include "estimate.h"
#include "syfosim/error.h"
#include "syfosim/lmm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TERM_LEN 128

int est_lmm(const est_opts *o, const syf_dataset *d, est_table *out)
{
    const size_t n = d->n_rows, p0 = o->n_terms;
    const double *y;
    double *X0 = NULL, *X = NULL;
    size_t *codes = NULL, *tcodes = NULL, G = 0, T = 0;
    const char **levels = NULL, **tlevels = NULL;
    char *names = NULL;
    syf_lmm_workspace *w = NULL;
    syf_lmm_result res;
    size_t p = p0;

    int st = est_numeric(d, "outcome", o->outcome, &y);
    if (st == SYF_OK)
        st = est_design_matrix(o, d, &X0);
    if (st == SYF_OK) {
        st = est_factor(d, "cluster", o->cluster, &codes, &G, &levels);
        if (st == SYF_OK && G < 2)
            st = syf_error_set(SYF_EINPUT,
                               "%s: --cluster %s: fewer than 2 clusters (found %zu); a mixed "
                               "model needs at least 2",
                               o->data, o->cluster, G);
    }
    if (st == SYF_OK && o->time) {
        st = est_factor(d, "time", o->time, &tcodes, &T, &tlevels);
        if (st == SYF_OK && T > 1)
            p = p0 + T - 1;
        if (st == SYF_OK && p > EST_MAX_TERMS)
            st = syf_error_set(SYF_EINPUT, "%s: --time %s: %zu periods give %zu coefficients "
                                           "(at most %d)",
                               o->data, o->time, T, p, EST_MAX_TERMS);
    }
    if (st == SYF_OK)
        st = est_check_rows(o, n, p);
    if (st == SYF_OK) {
        X = malloc((n ? n : 1) * p * sizeof *X);
        names = calloc(p, TERM_LEN);
        if (!X || !names)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
    }
    if (st == SYF_OK) {
        for (size_t i = 0; i < n; i++) {
            memcpy(X + i * p, X0 + i * p0, p0 * sizeof *X);
            for (size_t k = 1; k + p0 - 1 < p; k++)
                X[i * p + p0 + k - 1] = tcodes[i] == k ? 1.0 : 0.0;
        }
        for (size_t j = 0; j < p0; j++)
            snprintf(names + j * TERM_LEN, TERM_LEN, "%s", o->terms[j]);
        for (size_t k = 1; k + p0 - 1 < p; k++)
            snprintf(names + (p0 + k - 1) * TERM_LEN, TERM_LEN, "period(%s=%s)", o->time,
                     tlevels[k]);
    }
    if (st == SYF_OK && !(w = syf_lmm_alloc(n, p, G)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        st = syf_lmm_fit(w, n, X, y, codes, G, SYF_LMM_DF_SATTERTHWAITE, o->level_value, &res);
        if (st == SYF_ESINGULAR) {
            /* a singular problem is a property of the data: bad input */
            char msg[1024], list[512] = "";
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            size_t used = 0;
            for (size_t j = 0; j < p && used + 5 < sizeof list; j++) {
                int wr = snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "",
                                  names + j * TERM_LEN);
                used += wr > 0 ? (size_t)wr : 0;
            }
            st = syf_error_set(SYF_EINPUT, "%s: %s; regressors: %s", o->data, msg, list);
        } else if (st != SYF_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            st = syf_error_set(st, "%s: --cluster %s: %s", o->data, o->cluster, msg);
        }
    }
    if (st == SYF_OK) {
        size_t *cnt = calloc(G, sizeof *cnt);
        if (!cnt)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
        else {
            size_t lo = n, hi = 0;
            for (size_t i = 0; i < n; i++)
                cnt[codes[i]]++;
            for (size_t g = 0; g < G; g++) {
                lo = cnt[g] < lo ? cnt[g] : lo;
                hi = cnt[g] > hi ? cnt[g] : hi;
            }
            free(cnt);
            est_table_note(out, "n = %zu, clusters = %zu (%s), cluster sizes %zu to %zu", n, G,
                           o->cluster, lo, hi);
        }
    }
    if (st == SYF_OK) {
        if (o->time)
            est_table_note(out, "Hussey-Hughes model: fixed effects for the %zu periods of %s "
                                "(reference %s)",
                           T, o->time, tlevels[0]);
        est_table_note(out, "REML, random intercept per %s: var(%s) = %.6g, var(residual) = "
                            "%.6g, ICC = %.4g; REML criterion %.10g",
                       o->cluster, o->cluster, res.var_cluster, res.var_residual,
                       res.var_cluster / (res.var_cluster + res.var_residual),
                       res.reml_criterion);
        if (res.boundary)
            est_table_note(out, "var(%s) is estimated at the boundary 0: the fit is OLS and the "
                                "df are n - p = %zu",
                           o->cluster, n - p);
        else
            est_table_note(out, "df: Satterthwaite (as lmerTest), t reference distribution");
        for (size_t j = 0; j < p && st == SYF_OK; j++)
            st = est_table_add(out, names + j * TERM_LEN, res.estimate[j], res.std_error[j],
                               res.statistic[j], res.df[j], res.p_value[j], res.conf_low[j],
                               res.conf_high[j]);
        char term[TERM_LEN];
        snprintf(term, sizeof term, "var(%s)", o->cluster);
        if (st == SYF_OK)
            st = est_table_add(out, term, res.var_cluster, NAN, NAN, NAN, NAN, NAN, NAN);
        if (st == SYF_OK)
            st = est_table_add(out, "var(residual)", res.var_residual, NAN, NAN, NAN, NAN, NAN,
                               NAN);
    }
    syf_lmm_free(w);
    free(names);
    free(X);
    free(X0);
    free(levels);
    free(codes);
    free(tlevels);
    free(tcodes);
    return st;
}
