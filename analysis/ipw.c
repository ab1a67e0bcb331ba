/* ipw.c — inverse-probability-weighted ATE with an estimated propensity
 * score and its stacked M-estimation sandwich (see ipw.h).
 *
 * Used by `syfosim estimate --method ipw` for designs where assignment
 * depends on observed characteristics (self-selected pilot sites, staggered
 * non-random rollout).  The propensity model is the project's one logistic
 * regression (logit.c, model-based variance: only its fitted values and
 * inverse information are needed here); this file adds the weighting, the
 * influence terms and the (cluster-)robust sum.  Nothing is allocated per
 * fit.
 *
 * Outline of syf_ipw_fit():
 *   1. Checks; logit of z on X -> e_i, I^{-1}.
 *   2. a1, a0, mu1, mu0 in one pass; h1, h0 (p-vectors) in a second.
 *   3. g = I^{-1} (h1/a1 - h0/a0); per row phi_i (and the known-score
 *      version) summed by cluster; Var = c * sum_g (sum phi)^2.
 */
#include "syfosim/ipw.h"
#include "linalg.h"
#include "syfosim/error.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct syf_ipw_workspace {
    size_t n_max, p, G_max;
    syf_logit_workspace *lw;
    double *h1, *h0, *g; /* p */
    double *gphi, *gphi0; /* G_max: cluster sums of phi and of the known-PS phi */
};

void syf_ipw_free(syf_ipw_workspace *w)
{
    if (!w)
        return;
    syf_logit_free(w->lw);
    free(w->h1);
    free(w->h0);
    free(w->g);
    free(w->gphi);
    free(w->gphi0);
    free(w);
}

syf_ipw_workspace *syf_ipw_alloc(size_t n_max, size_t p, size_t G_max)
{
    if (p == 0)
        return NULL;
    syf_ipw_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->n_max = n_max;
    w->p = p;
    w->G_max = G_max;
    size_t gm = G_max > n_max ? G_max : n_max; /* no cluster: one per row */
    w->lw = syf_logit_alloc(n_max, p, 1);
    w->h1 = calloc(p, sizeof *w->h1);
    w->h0 = calloc(p, sizeof *w->h0);
    w->g = calloc(p, sizeof *w->g);
    w->gphi = calloc(gm ? gm : 1, sizeof *w->gphi);
    w->gphi0 = calloc(gm ? gm : 1, sizeof *w->gphi0);
    if (!w->lw || !w->h1 || !w->h0 || !w->g || !w->gphi || !w->gphi0) {
        syf_ipw_free(w);
        return NULL;
    }
    return w;
}

int syf_ipw_fit(syf_ipw_workspace *w, size_t n, const double *X, const double *z,
                const double *y, const size_t *cluster, size_t G, syf_logit_vcov_type type,
                double level, syf_ipw_result *res)
{
    size_t p = w->p;
    if (level == 0)
        level = 0.95;
    if (!(level > 0 && level < 1))
        return syf_error_set(SYF_EINPUT, "confidence level must be in (0, 1), got %g", level);
    if (type != SYF_LOGIT_VCOV_CR0 && type != SYF_LOGIT_VCOV_CR1 && type != SYF_LOGIT_VCOV_CR1S)
        return syf_error_set(SYF_EINPUT, "IPW variance type must be CR0, CR1 or CR1S");
    if (n > w->n_max)
        return syf_error_set(SYF_EINPUT, "%zu rows exceed the workspace size %zu", n, w->n_max);
    size_t n1 = 0;
    for (size_t i = 0; i < n; i++) {
        if (z[i] != 0 && z[i] != 1)
            return syf_error_set(SYF_EINPUT, "treatment in row %zu is %g; it must be 0 or 1",
                                 i + 1, z[i]);
        if (!isfinite(y[i]))
            return syf_error_set(SYF_EINPUT, "outcome is not finite in row %zu", i + 1);
        n1 += z[i] == 1;
    }
    if (n1 == 0 || n1 == n)
        return syf_error_set(SYF_EINPUT,
                             "IPW needs treated and untreated rows (found %zu treated of %zu)", n1,
                             n);
    if (cluster) {
        int st = syf_linalg_check_clusters(n, cluster, G, w->G_max);
        if (st)
            return st;
    } else {
        G = n;
    }

    /* 1. Propensity model. */
    syf_logit_result ps;
    int st = syf_logit_fit(w->lw, n, X, z, NULL, 0, SYF_LOGIT_VCOV_MODEL, level, &ps);
    if (st != SYF_OK) {
        if (st == SYF_ESINGULAR) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            if (strstr(msg, "separated"))
                return syf_error_set(st,
                                     "propensity-score model: the treatment is perfectly "
                                     "predicted by the covariates, so the arms do not overlap "
                                     "and inverse-probability weights are not defined (%s)",
                                     msg);
            return syf_error_set(st, "propensity-score model: %s", msg);
        }
        return st;
    }
    const double *e = ps.fitted;

    /* 2. Weighted means. */
    double a1 = 0, a0 = 0, s1 = 0, s0 = 0, q1 = 0, q0 = 0;
    double emin = 1, emax = 0;
    for (size_t i = 0; i < n; i++) {
        emin = fmin(emin, e[i]);
        emax = fmax(emax, e[i]);
        if (z[i] == 1) {
            double wt = 1.0 / e[i];
            a1 += wt;
            s1 += wt * y[i];
            q1 += wt * wt;
        } else {
            double wt = 1.0 / (1.0 - e[i]);
            a0 += wt;
            s0 += wt * y[i];
            q0 += wt * wt;
        }
    }
    double mu1 = s1 / a1, mu0 = s0 / a0;
    memset(w->h1, 0, p * sizeof *w->h1);
    memset(w->h0, 0, p * sizeof *w->h0);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        if (z[i] == 1) {
            double c = (y[i] - mu1) * (1.0 - e[i]) / e[i];
            for (size_t j = 0; j < p; j++)
                w->h1[j] += c * x[j];
        } else {
            double c = -(y[i] - mu0) * e[i] / (1.0 - e[i]);
            for (size_t j = 0; j < p; j++)
                w->h0[j] += c * x[j];
        }
    }

    /* 3. Influence terms and their cluster sums. */
    for (size_t j = 0; j < p; j++) {
        double s = 0;
        for (size_t l = 0; l < p; l++)
            s += ps.vcov_model[j * p + l] * (w->h1[l] / a1 - w->h0[l] / a0);
        w->g[j] = s;
    }
    memset(w->gphi, 0, G * sizeof *w->gphi);
    memset(w->gphi0, 0, G * sizeof *w->gphi0);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        double known = z[i] == 1 ? (y[i] - mu1) / e[i] / a1 : -(y[i] - mu0) / (1.0 - e[i]) / a0;
        double gx = 0;
        for (size_t j = 0; j < p; j++)
            gx += w->g[j] * x[j];
        double phi = known - gx * (z[i] - e[i]);
        size_t c = cluster ? cluster[i] : i;
        w->gphi[c] += phi;
        w->gphi0[c] += known;
    }
    double v = 0, v0 = 0;
    for (size_t c = 0; c < G; c++) {
        v += w->gphi[c] * w->gphi[c];
        v0 += w->gphi0[c] * w->gphi0[c];
    }
    double factor = 1.0;
    if (type != SYF_LOGIT_VCOV_CR0)
        factor = (double)G / (double)(G - 1);
    if (type == SYF_LOGIT_VCOV_CR1S) {
        size_t q = p + 2;
        if (n <= q)
            return syf_error_set(SYF_EINPUT, "CR1S needs more than %zu rows", q);
        factor *= (double)(n - 1) / (double)(n - q);
    }

    double ate = mu1 - mu0, se = sqrt(factor * v);
    double zc = gsl_cdf_ugaussian_Pinv(0.5 + 0.5 * level);
    res->n = n;
    res->p = p;
    res->G = G;
    res->n_treated = n1;
    res->type = type;
    res->level = level;
    res->estimate = ate;
    res->std_error = se;
    syf_linalg_wald_normal(ate, se, zc, &res->statistic, &res->p_value, &res->conf_low,
                           &res->conf_high);
    res->std_error_known_ps = sqrt(factor * v0);
    res->mu1 = mu1;
    res->mu0 = mu0;
    res->ps_min = emin;
    res->ps_max = emax;
    res->ess1 = a1 * a1 / q1;
    res->ess0 = a0 * a0 / q0;
    res->ps = ps;
    return SYF_OK;
}
