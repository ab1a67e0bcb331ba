/* logit.c — logistic regression by Newton–Raphson with model-based or
 * cluster-robust variance (see logit.h).
 *
 * Used by `syfosim estimate --method logit` for binary outcomes (back at
 * work at 12 months, entry to AAP) and, through syf_logit_fit(), as the
 * propensity-score model of the IPW estimator (ipw.c), which also reads the
 * fitted probabilities and the inverse information from the result.  It is
 * called inside Monte Carlo loops, so a fit allocates nothing.
 *
 * Outline of syf_logit_fit():
 *   1. Argument checks; X'X scaled to unit diagonal and its spectrum checked
 *      for collinearity (as in ols.c).
 *   2. Newton from b = 0: score U = X'(y - mu) and information
 *      I = X'WX in one pass; the scaled information D I D (D = diag^{-1/2})
 *      is inverted through its eigen-decomposition (GSL, via
 *      syf_linalg_spd_inverse in linalg.c, as in cox.c), which doubles as
 *      the singularity check; step = I^{-1} U, halved while it lowers the
 *      log-likelihood (syf_linalg_newton_*, shared with cox.c).  Stop when every |step_j| <= 1e-10 (1 + |b_j|).
 *   3. A fit that does not converge, or whose information becomes singular,
 *      is diagnosed: if some fitted probabilities are numerically 0 or 1 the
 *      data are (quasi-)separated (SYF_ESINGULAR), otherwise SYF_ERUNTIME.
 *   4. Variance: (X'WX)^{-1} at the estimate, and for the robust types the
 *      sandwich over per-cluster score sums (G x p accumulator).
 */
#include "syfosim/logit.h"
#include "linalg.h"
#include "syfosim/error.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Smallest eigenvalue ratio of a unit-diagonal cross-product accepted. */
#define SYF_LOGIT_COLLINEAR_TOL 1e-12
/* Convergence: every |step_j| <= tol * (1 + |b_j|). */
#define SYF_LOGIT_STEP_TOL 1e-10
/* A fitted probability this close to 0 or 1 counts as "numerically 0/1". */
#define SYF_LOGIT_SEPARATION_EPS 1e-8

struct syf_logit_workspace {
    size_t n_max, p, G_max;
    /* p x p */
    double *info, *tmp, *vmodel, *vcov, *meat;
    /* p */
    double *b, *btry, *step, *U, *se, *stat, *pval, *lo, *hi;
    /* n_max */
    double *mu;
    /* G_max x p */
    double *gscore;
    syf_linalg_spd *spd; /* inverses of the information (and the collinearity check) */
};

void syf_logit_free(syf_logit_workspace *w)
{
    if (!w)
        return;
    double **pp[] = {&w->info, &w->tmp,  &w->vmodel, &w->vcov, &w->meat, &w->b,
                     &w->btry, &w->step, &w->U,      &w->se,   &w->stat, &w->pval,
                     &w->lo,   &w->hi,   &w->mu,     &w->gscore};
    for (size_t i = 0; i < sizeof pp / sizeof pp[0]; i++)
        free(*pp[i]);
    syf_linalg_spd_free(w->spd);
    free(w);
}

syf_logit_workspace *syf_logit_alloc(size_t n_max, size_t p, size_t G_max)
{
    if (p == 0)
        return NULL;
    syf_logit_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->n_max = n_max;
    w->p = p;
    w->G_max = G_max;
    size_t pp = p * p;
    int ok = 1;
#define ALLOC(f, cnt) ok = ok && ((w->f = calloc((cnt) > 0 ? (size_t)(cnt) : 1u, sizeof *w->f)) != NULL)
    ALLOC(info, pp); ALLOC(tmp, pp); ALLOC(vmodel, pp); ALLOC(vcov, pp); ALLOC(meat, pp);
    ALLOC(b, p); ALLOC(btry, p); ALLOC(step, p); ALLOC(U, p);
    ALLOC(se, p); ALLOC(stat, p); ALLOC(pval, p); ALLOC(lo, p); ALLOC(hi, p);
    ALLOC(mu, n_max);
    ALLOC(gscore, G_max * p);
#undef ALLOC
    ok = ok && (w->spd = syf_linalg_spd_alloc(p, SYF_LINALG_VECTORS)) != NULL;
    if (!ok) {
        syf_logit_free(w);
        return NULL;
    }
    return w;
}

/* Invert the symmetric positive (semi)definite p x p matrix A (row-major,
 * upper triangle and diagonal used) into Ainv through the eigen-decomposition
 * of D A D, D = diag(A)^{-1/2}.  Returns 0 if A is numerically singular
 * (a zero diagonal, or an eigenvalue ratio below the tolerance). */
static int spd_inverse(syf_logit_workspace *w, const double *A, double *Ainv)
{
    return syf_linalg_spd_inverse(w->spd, A, SYF_LOGIT_COLLINEAR_TOL, Ainv) == SYF_LINALG_OK;
}

/* log(1 + exp(x)) without overflow. */
static inline double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

/* Log-likelihood at b, filling w->mu. */
static double loglik_at(syf_logit_workspace *w, size_t n, const double *X, const double *y,
                        const double *b)
{
    size_t p = w->p;
    double ll = 0;
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        double eta = 0;
        for (size_t j = 0; j < p; j++)
            eta += x[j] * b[j];
        ll += y[i] * eta - softplus(eta);
        w->mu[i] = eta >= 0 ? 1.0 / (1.0 + exp(-eta)) : exp(eta) / (1.0 + exp(eta));
    }
    return ll;
}

/* loglik_at() as the objective of syf_linalg_newton_step(). */
typedef struct {
    syf_logit_workspace *w;
    size_t n;
    const double *X, *y;
} loglik_ctx;

static double loglik_fn(void *ctx, const double *b)
{
    const loglik_ctx *c = ctx;
    return loglik_at(c->w, c->n, c->X, c->y, b);
}

/* Score and information at the current w->mu. */
static void score_info(syf_logit_workspace *w, size_t n, const double *X, const double *y)
{
    size_t p = w->p;
    memset(w->U, 0, p * sizeof *w->U);
    memset(w->info, 0, p * p * sizeof *w->info);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        double r = y[i] - w->mu[i], wt = w->mu[i] * (1.0 - w->mu[i]);
        for (size_t j = 0; j < p; j++) {
            w->U[j] += r * x[j];
            double wx = wt * x[j];
            for (size_t l = j; l < p; l++)
                w->info[j * p + l] += wx * x[l];
        }
    }
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < j; l++)
            w->info[j * p + l] = w->info[l * p + j];
}

/* Error after a failed Newton iteration: separation or plain failure. */
static int diagnose_failure(syf_logit_workspace *w, size_t n, int singular, int iter)
{
    size_t n01 = 0;
    for (size_t i = 0; i < n; i++)
        if (w->mu[i] < SYF_LOGIT_SEPARATION_EPS || w->mu[i] > 1.0 - SYF_LOGIT_SEPARATION_EPS)
            n01++;
    if (n01 > 0)
        return syf_error_set(SYF_ESINGULAR,
                             "logistic regression: the outcome is perfectly separated by the "
                             "regressors (%zu of %zu fitted probabilities are numerically 0 or 1 "
                             "after %d iterations); the maximum-likelihood estimate does not "
                             "exist (a coefficient is infinite)",
                             n01, n, iter);
    if (singular)
        return syf_error_set(SYF_ESINGULAR,
                             "logistic regression: the information matrix X'WX became singular "
                             "after %d iterations",
                             iter);
    return syf_error_set(SYF_ERUNTIME,
                         "logistic regression did not converge in %d Newton iterations", iter);
}

int syf_logit_fit(syf_logit_workspace *w, size_t n, const double *X, const double *y,
                  const size_t *cluster, size_t G, syf_logit_vcov_type type, double level,
                  syf_logit_result *res)
{
    size_t p = w->p;
    if (level == 0)
        level = 0.95;
    if (!(level > 0 && level < 1))
        return syf_error_set(SYF_EINPUT, "confidence level must be in (0, 1), got %g", level);
    if ((unsigned)type > SYF_LOGIT_VCOV_CR1S)
        return syf_error_set(SYF_EINPUT, "unknown variance type %d", (int)type);
    if (n > w->n_max)
        return syf_error_set(SYF_EINPUT, "%zu rows exceed the workspace size %zu", n, w->n_max);
    if (n <= p)
        return syf_error_set(SYF_EINPUT,
                             "need more rows than coefficients (%zu rows, %zu coefficients)", n, p);
    for (size_t i = 0; i < n; i++) {
        if (y[i] != 0 && y[i] != 1)
            return syf_error_set(SYF_EINPUT, "outcome in row %zu is %g; it must be 0 or 1", i + 1,
                                 y[i]);
        for (size_t j = 0; j < p; j++)
            if (!isfinite(X[i * p + j]))
                return syf_error_set(SYF_EINPUT,
                                     "design matrix is not finite in row %zu, column %zu", i + 1,
                                     j + 1);
    }
    int robust = type != SYF_LOGIT_VCOV_MODEL;
    if (robust && cluster) {
        int st = syf_linalg_check_clusters(n, cluster, G, w->G_max);
        if (st)
            return st;
    } else if (robust) {
        G = n;
    } else {
        G = 0;
    }

    /* 1. Collinearity: X'X (the information at b = 0 up to the factor 1/4). */
    memset(w->info, 0, p * p * sizeof *w->info);
    for (size_t i = 0; i < n; i++)
        syf_linalg_outer_add(w->info, X + i * p, p);
    for (size_t j = 0; j < p; j++)
        if (!(w->info[j * p + j] > 0))
            return syf_error_set(SYF_ESINGULAR,
                                 "design matrix is singular: column %zu is all zeros", j + 1);
    if (!spd_inverse(w, w->info, w->vmodel))
        return syf_error_set(SYF_ESINGULAR,
                             "design matrix is singular (collinear columns?) - e.g. a regressor "
                             "that is a combination of others, or constant like the intercept");

    /* 2. Newton. */
    memset(w->b, 0, p * sizeof *w->b);
    double ll = loglik_at(w, n, X, y, w->b);
    const double ll_null = ll;
    loglik_ctx ctx = {w, n, X, y};
    int iter = 0, converged = 0;
    while (!converged) {
        score_info(w, n, X, y);
        if (!spd_inverse(w, w->info, w->vmodel))
            return diagnose_failure(w, n, 1, iter);
        if (iter == SYF_LOGIT_MAX_ITER)
            return diagnose_failure(w, n, 0, iter);
        iter++;
        double ll_try = syf_linalg_newton_step(p, w->vmodel, w->U, w->b, ll, loglik_fn, &ctx,
                                               w->step, w->btry);
        converged = syf_linalg_newton_accept(p, w->step, w->btry, SYF_LOGIT_STEP_TOL, w->b);
        if (!isfinite(ll_try))
            return diagnose_failure(w, n, 1, iter);
        ll = ll_try;
    }
    /* Information and its inverse at the estimate (w->mu is current). */
    score_info(w, n, X, y);
    if (!spd_inverse(w, w->info, w->vmodel))
        return diagnose_failure(w, n, 1, iter);

    /* 4. Variance. */
    if (!robust) {
        memcpy(w->vcov, w->vmodel, p * p * sizeof *w->vcov);
    } else {
        memset(w->meat, 0, p * p * sizeof *w->meat);
        if (cluster) {
            memset(w->gscore, 0, G * p * sizeof *w->gscore);
            for (size_t i = 0; i < n; i++) {
                const double *x = X + i * p;
                double r = y[i] - w->mu[i], *s = w->gscore + cluster[i] * p;
                for (size_t j = 0; j < p; j++)
                    s[j] += r * x[j];
            }
        }
        for (size_t g = 0; g < G; g++) {
            const double *s = w->gscore + g * p;
            if (!cluster) { /* row g is its own cluster */
                double r = y[g] - w->mu[g];
                for (size_t j = 0; j < p; j++)
                    w->step[j] = r * X[g * p + j];
                s = w->step;
            }
            syf_linalg_outer_add(w->meat, s, p);
        }
        syf_linalg_symmetrise(w->meat, p);
        double factor = 1.0;
        if (type == SYF_LOGIT_VCOV_CR1 || type == SYF_LOGIT_VCOV_CR1S)
            factor = (double)G / (double)(G - 1);
        if (type == SYF_LOGIT_VCOV_CR1S)
            factor *= (double)(n - 1) / (double)(n - p);
        /* vcov = B M B (B = vmodel, M = meat). */
        syf_linalg_sandwich_loops(p, w->vmodel, w->meat, factor, w->tmp, w->vcov);
    }

    double zc = gsl_cdf_ugaussian_Pinv(0.5 + 0.5 * level);
    for (size_t j = 0; j < p; j++) {
        w->se[j] = sqrt(w->vcov[j * p + j]);
        syf_linalg_wald_normal(w->b[j], w->se[j], zc, &w->stat[j], &w->pval[j], &w->lo[j],
                               &w->hi[j]);
    }
    res->n = n;
    res->p = p;
    res->G = G;
    res->type = type;
    res->level = level;
    res->estimate = w->b;
    res->std_error = w->se;
    res->statistic = w->stat;
    res->p_value = w->pval;
    res->conf_low = w->lo;
    res->conf_high = w->hi;
    res->vcov = w->vcov;
    res->vcov_model = w->vmodel;
    res->fitted = w->mu;
    res->loglik = ll;
    res->loglik_null = ll_null;
    res->iterations = iter;
    return SYF_OK;
}
