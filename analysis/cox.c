/* cox.c — Cox proportional hazards by Newton–Raphson on the partial
 * likelihood, Efron or Breslow ties, model-based and grouped-dfbeta robust
 * variance (see cox.h).
 *
 * Used by `syfosim estimate --method cox` for time-to-event outcomes (days
 * to full return to work, censored at the end of follow-up) and by the
 * diagnosis loops, so a fit allocates nothing: the workspace holds the
 * sorted copy of the data and every scratch array.
 *
 * Outline of syf_cox_fit():
 *   1. Checks; records (time, row, event) sorted by decreasing time (qsort,
 *      once); regressors copied in that order and centred; the centred
 *      cross-product's spectrum is checked for constant or collinear columns.
 *   2. sweep(): one pass from the latest time to the earliest.  Rows tied at
 *      a time enter the running sums S0, S1, S2 together, the tied events'
 *      own sums D0, D1, D2 are formed, and the Efron (or Breslow) terms
 *      k = 0..d-1 add to the log-likelihood, score and information.  O(n p^2).
 *   3. Newton with step halving (syf_linalg_newton_*, shared with logit.c);
 *      the information is inverted through the eigen-decomposition of its
 *      unit-diagonal scaling (GSL, via syf_linalg_spd_inverse in linalg.c),
 *      which is also the singularity check.
 *   4. Score residuals at the estimate, in two passes: backwards (by time)
 *      each tie group gets c1 = sum_k 1/den_k, c2 = sum_k xbar_k/den_k, their
 *      Efron-weighted versions e1, e2 (weights 1 - k/d for the tied events
 *      themselves) and m = mean_k xbar_k; forwards, cumulative C1, C2 over
 *      earlier event times give each row's residual
 *         event:    x - m - r (x e1 - e2) - r (x C1 - C2)
 *         censored: - r (x c1 - c2) [if tied with events] - r (x C1 - C2),
 *      r = exp(x'b), all O(n p).  These are survival's residuals(fit,
 *      "score"); summed by cluster they give the robust sandwich.
 */
#include "syfosim/cox.h"
#include "linalg.h"
#include "syfosim/error.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Smallest eigenvalue ratio of a unit-diagonal information accepted. */
#define SYF_COX_COLLINEAR_TOL 1e-12
/* Convergence: every |step_j| <= tol * (1 + |b_j|). */
#define SYF_COX_STEP_TOL 1e-10

typedef struct {
    double t;
    size_t row;
    int event;
} cox_rec;

struct syf_cox_workspace {
    size_t n_max, p, G_max;
    cox_rec *rec;  /* n_max, by decreasing time */
    double *Xs;    /* n_max x p, sorted and centred */
    double *eta;   /* n_max, sorted order; exp(eta - max) after sweep */
    double *r;     /* n_max */
    /* p */
    double *xbar, *b, *btry, *step, *U, *S1, *D1, *a;
    double *se, *se_model, *se_robust, *stat, *pval, *lo, *hi, *C2, *L;
    /* p x p */
    double *info, *S2, *D2, *vmodel, *vrobust, *meat, *tmp;
    /* per tie group: n_max and n_max x p */
    double *g_c1, *g_e1, *g_c2, *g_e2, *g_m;
    double *resid; /* n_max x p, input row order */
    double *gL;    /* G_max x p */
    syf_linalg_spd *spd; /* inverses of the information (and the collinearity check) */
};

const char *syf_cox_ties_name(syf_cox_ties ties)
{
    return ties == SYF_COX_BRESLOW ? "breslow" : "efron";
}

int syf_cox_ties_parse(const char *name, syf_cox_ties *ties)
{
    if (!strcasecmp(name, "efron"))
        *ties = SYF_COX_EFRON;
    else if (!strcasecmp(name, "breslow"))
        *ties = SYF_COX_BRESLOW;
    else
        return syf_error_set(SYF_EINPUT, "unknown ties method '%s' (choose efron or breslow)",
                             name);
    return SYF_OK;
}

void syf_cox_free(syf_cox_workspace *w)
{
    if (!w)
        return;
    double **pp[] = {&w->Xs,     &w->eta,     &w->r,      &w->xbar,  &w->b,      &w->btry,
                     &w->step,   &w->U,       &w->S1,     &w->D1,    &w->a,      &w->se,
                     &w->se_model, &w->se_robust, &w->stat, &w->pval, &w->lo,    &w->hi,
                     &w->C2,     &w->L,       &w->info,   &w->S2,    &w->D2,     &w->vmodel,
                     &w->vrobust, &w->meat,   &w->tmp,    &w->g_c1,  &w->g_e1,   &w->g_c2,
                     &w->g_e2,   &w->g_m,     &w->resid,  &w->gL};
    for (size_t i = 0; i < sizeof pp / sizeof pp[0]; i++)
        free(*pp[i]);
    free(w->rec);
    syf_linalg_spd_free(w->spd);
    free(w);
}

syf_cox_workspace *syf_cox_alloc(size_t n_max, size_t p, size_t G_max)
{
    if (p == 0)
        return NULL;
    syf_cox_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->n_max = n_max;
    w->p = p;
    w->G_max = G_max;
    size_t pp = p * p, np = n_max * p;
    int ok = 1;
#define ALLOC(f, cnt) ok = ok && ((w->f = calloc((cnt) > 0 ? (size_t)(cnt) : 1u, sizeof *w->f)) != NULL)
    ALLOC(rec, n_max); ALLOC(Xs, np); ALLOC(eta, n_max); ALLOC(r, n_max);
    ALLOC(xbar, p); ALLOC(b, p); ALLOC(btry, p); ALLOC(step, p); ALLOC(U, p);
    ALLOC(S1, p); ALLOC(D1, p); ALLOC(a, p); ALLOC(se, p); ALLOC(se_model, p);
    ALLOC(se_robust, p); ALLOC(stat, p); ALLOC(pval, p); ALLOC(lo, p); ALLOC(hi, p);
    ALLOC(C2, p); ALLOC(L, p);
    ALLOC(info, pp); ALLOC(S2, pp); ALLOC(D2, pp);
    ALLOC(vmodel, pp); ALLOC(vrobust, pp); ALLOC(meat, pp); ALLOC(tmp, pp);
    ALLOC(g_c1, n_max); ALLOC(g_e1, n_max); ALLOC(g_c2, np); ALLOC(g_e2, np); ALLOC(g_m, np);
    ALLOC(resid, np); ALLOC(gL, G_max * p);
#undef ALLOC
    ok = ok && (w->spd = syf_linalg_spd_alloc(p, SYF_LINALG_VECTORS)) != NULL;
    if (!ok) {
        syf_cox_free(w);
        return NULL;
    }
    return w;
}

static int rec_cmp(const void *a, const void *b)
{
    const cox_rec *x = a, *y = b;
    if (x->t != y->t)
        return x->t > y->t ? -1 : 1; /* decreasing time */
    return x->row < y->row ? -1 : x->row > y->row;
}

/* Invert the symmetric positive definite p x p matrix A (upper triangle and
 * diagonal used) through the eigen-decomposition of D A D, D = diag^{-1/2}.
 * Returns 0 if A is numerically singular. */
static int spd_inverse(syf_cox_workspace *w, const double *A, double *Ainv)
{
    return syf_linalg_spd_inverse(w->spd, A, SYF_COX_COLLINEAR_TOL, Ainv) == SYF_LINALG_OK;
}

/* Linear predictors at b (sorted order), shifted by their maximum, and
 * r = exp(eta). */
static void linear_predictor(syf_cox_workspace *w, size_t n, const double *b)
{
    size_t p = w->p;
    double mx = -INFINITY;
    for (size_t k = 0; k < n; k++) {
        const double *x = w->Xs + k * p;
        double e = 0;
        for (size_t j = 0; j < p; j++)
            e += x[j] * b[j];
        w->eta[k] = e;
        mx = fmax(mx, e);
    }
    for (size_t k = 0; k < n; k++) {
        w->eta[k] -= mx;
        w->r[k] = exp(w->eta[k]);
    }
}

/* Partial log-likelihood at b; also score w->U and information w->info. */
static double sweep(syf_cox_workspace *w, size_t n, const double *b, syf_cox_ties ties)
{
    size_t p = w->p, pp = p * p;
    linear_predictor(w, n, b);
    double ll = 0, S0 = 0;
    memset(w->S1, 0, p * sizeof *w->S1);
    memset(w->S2, 0, pp * sizeof *w->S2);
    memset(w->U, 0, p * sizeof *w->U);
    memset(w->info, 0, pp * sizeof *w->info);
    for (size_t k0 = 0; k0 < n;) {
        size_t k1 = k0;
        double t = w->rec[k0].t, D0 = 0;
        size_t d = 0;
        while (k1 < n && w->rec[k1].t == t)
            k1++;
        for (size_t k = k0; k < k1; k++) {
            const double *x = w->Xs + k * p;
            double r = w->r[k];
            S0 += r;
            for (size_t j = 0; j < p; j++) {
                double rx = r * x[j];
                w->S1[j] += rx;
                for (size_t l = j; l < p; l++)
                    w->S2[j * p + l] += rx * x[l];
            }
            if (w->rec[k].event) {
                if (d == 0) {
                    memset(w->D1, 0, p * sizeof *w->D1);
                    memset(w->D2, 0, pp * sizeof *w->D2);
                }
                d++;
                D0 += r;
                ll += w->eta[k];
                for (size_t j = 0; j < p; j++) {
                    double rx = r * x[j];
                    w->U[j] += x[j];
                    w->D1[j] += rx;
                    for (size_t l = j; l < p; l++)
                        w->D2[j * p + l] += rx * x[l];
                }
            }
        }
        if (d > 0) {
            /* Breslow: all d terms are the k = 0 term. */
            size_t nterms = ties == SYF_COX_EFRON ? d : 1;
            double mult = ties == SYF_COX_EFRON ? 1.0 : (double)d;
            for (size_t kk = 0; kk < nterms; kk++) {
                double f = (double)kk / (double)d;
                double den = S0 - f * D0;
                ll -= mult * log(den);
                for (size_t j = 0; j < p; j++)
                    w->a[j] = (w->S1[j] - f * w->D1[j]) / den;
                for (size_t j = 0; j < p; j++) {
                    w->U[j] -= mult * w->a[j];
                    for (size_t l = j; l < p; l++)
                        w->info[j * p + l] +=
                            mult * ((w->S2[j * p + l] - f * w->D2[j * p + l]) / den -
                                    w->a[j] * w->a[l]);
                }
            }
        }
        k0 = k1;
    }
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < j; l++)
            w->info[j * p + l] = w->info[l * p + j];
    return ll;
}

/* sweep() as the objective of syf_linalg_newton_step(). */
typedef struct {
    syf_cox_workspace *w;
    size_t n;
    syf_cox_ties ties;
} sweep_ctx;

static double sweep_fn(void *ctx, const double *b)
{
    const sweep_ctx *c = ctx;
    return sweep(c->w, c->n, b, c->ties);
}

/* Score residuals at b (after the fit), into w->resid in input row order. */
static void score_residuals(syf_cox_workspace *w, size_t n, const double *b, syf_cox_ties ties)
{
    size_t p = w->p;
    linear_predictor(w, n, b);
    /* Backwards in time (forwards in the sorted records): tie-group terms. */
    double S0 = 0;
    memset(w->S1, 0, p * sizeof *w->S1);
    size_t ngroups = 0;
    for (size_t k0 = 0; k0 < n; ngroups++) {
        size_t k1 = k0, d = 0;
        double t = w->rec[k0].t, D0 = 0;
        memset(w->D1, 0, p * sizeof *w->D1);
        while (k1 < n && w->rec[k1].t == t)
            k1++;
        for (size_t k = k0; k < k1; k++) {
            const double *x = w->Xs + k * p;
            double r = w->r[k];
            S0 += r;
            for (size_t j = 0; j < p; j++)
                w->S1[j] += r * x[j];
            if (w->rec[k].event) {
                d++;
                D0 += r;
                for (size_t j = 0; j < p; j++)
                    w->D1[j] += r * x[j];
            }
        }
        double *c2 = w->g_c2 + ngroups * p, *e2 = w->g_e2 + ngroups * p,
               *m = w->g_m + ngroups * p;
        double c1 = 0, e1 = 0;
        memset(c2, 0, p * sizeof *c2);
        memset(e2, 0, p * sizeof *e2);
        memset(m, 0, p * sizeof *m);
        if (d > 0) {
            size_t nterms = ties == SYF_COX_EFRON ? d : 1;
            double mult = ties == SYF_COX_EFRON ? 1.0 : (double)d;
            for (size_t kk = 0; kk < nterms; kk++) {
                double f = (double)kk / (double)d, g = ties == SYF_COX_EFRON ? 1.0 - f : 1.0;
                double den = S0 - f * D0;
                c1 += mult / den;
                e1 += mult * g / den;
                for (size_t j = 0; j < p; j++) {
                    double xb = (w->S1[j] - f * w->D1[j]) / den;
                    c2[j] += mult * xb / den;
                    e2[j] += mult * g * xb / den;
                    m[j] += mult * xb / (double)d;
                }
            }
        }
        w->g_c1[ngroups] = c1;
        w->g_e1[ngroups] = e1;
        k0 = k1;
    }
    /* Forwards in time: cumulative hazard terms over earlier event times. */
    double C1 = 0;
    memset(w->C2, 0, p * sizeof *w->C2);
    size_t grp = ngroups;
    for (size_t k1 = n; k1 > 0;) {
        size_t k0 = k1 - 1;
        double t = w->rec[k0].t;
        while (k0 > 0 && w->rec[k0 - 1].t == t)
            k0--;
        grp--;
        double c1 = w->g_c1[grp], e1 = w->g_e1[grp];
        const double *c2 = w->g_c2 + grp * p, *e2 = w->g_e2 + grp * p, *m = w->g_m + grp * p;
        for (size_t k = k0; k < k1; k++) {
            const double *x = w->Xs + k * p;
            double r = w->r[k], *L = w->resid + w->rec[k].row * p;
            for (size_t j = 0; j < p; j++) {
                double v = -r * (x[j] * C1 - w->C2[j]);
                if (w->rec[k].event)
                    v += x[j] - m[j] - r * (x[j] * e1 - e2[j]);
                else
                    v -= r * (x[j] * c1 - c2[j]);
                L[j] = v;
            }
        }
        C1 += c1;
        for (size_t j = 0; j < p; j++)
            w->C2[j] += c2[j];
        k1 = k0;
    }
}

int syf_cox_fit(syf_cox_workspace *w, size_t n, const double *X, const double *time,
                const double *event, const size_t *cluster, size_t G, syf_cox_ties ties,
                syf_cox_vcov_type type, double level, syf_cox_result *res)
{
    size_t p = w->p;
    if (level == 0)
        level = 0.95;
    if (!(level > 0 && level < 1))
        return syf_error_set(SYF_EINPUT, "confidence level must be in (0, 1), got %g", level);
    if ((unsigned)ties > SYF_COX_BRESLOW)
        return syf_error_set(SYF_EINPUT, "unknown ties method %d", (int)ties);
    if ((unsigned)type > SYF_COX_VCOV_ROBUST)
        return syf_error_set(SYF_EINPUT, "unknown variance type %d", (int)type);
    if (n > w->n_max)
        return syf_error_set(SYF_EINPUT, "%zu rows exceed the workspace size %zu", n, w->n_max);
    if (n < 2)
        return syf_error_set(SYF_EINPUT, "need at least 2 rows, got %zu", n);
    size_t n_events = 0;
    for (size_t i = 0; i < n; i++) {
        if (event[i] != 0 && event[i] != 1)
            return syf_error_set(SYF_EINPUT,
                                 "event indicator in row %zu is %g; it must be 1 (event) or 0 "
                                 "(censored)",
                                 i + 1, event[i]);
        if (!isfinite(time[i]))
            return syf_error_set(SYF_EINPUT, "time is not finite in row %zu", i + 1);
        for (size_t j = 0; j < p; j++)
            if (!isfinite(X[i * p + j]))
                return syf_error_set(SYF_EINPUT, "regressor %zu is not finite in row %zu", j + 1,
                                     i + 1);
        n_events += event[i] == 1;
    }
    if (n_events == 0)
        return syf_error_set(SYF_EINPUT, "no events (every row is censored): the Cox model is "
                                         "not identified");
    if (cluster) {
        int st = syf_linalg_check_clusters(n, cluster, G, w->G_max);
        if (st)
            return st;
    } else {
        G = n;
    }

    /* 1. Sort by decreasing time; centred regressors in that order. */
    for (size_t i = 0; i < n; i++) {
        w->rec[i].t = time[i];
        w->rec[i].row = i;
        w->rec[i].event = event[i] == 1;
    }
    qsort(w->rec, n, sizeof *w->rec, rec_cmp);
    memset(w->xbar, 0, p * sizeof *w->xbar);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < p; j++)
            w->xbar[j] += X[i * p + j];
    for (size_t j = 0; j < p; j++)
        w->xbar[j] /= (double)n;
    for (size_t k = 0; k < n; k++) {
        const double *x = X + w->rec[k].row * p;
        for (size_t j = 0; j < p; j++)
            w->Xs[k * p + j] = x[j] - w->xbar[j];
    }
    memset(w->meat, 0, p * p * sizeof *w->meat);
    for (size_t k = 0; k < n; k++)
        syf_linalg_outer_add(w->meat, w->Xs + k * p, p);
    for (size_t j = 0; j < p; j++)
        if (!(w->meat[j * p + j] > 1e-24 * n * (1 + w->xbar[j] * w->xbar[j])))
            return syf_error_set(SYF_ESINGULAR,
                                 "regressor %zu is constant (a Cox model has no intercept)",
                                 j + 1);
    if (!spd_inverse(w, w->meat, w->vmodel))
        return syf_error_set(SYF_ESINGULAR,
                             "regressors are collinear (one is a combination of others)");

    /* 2–3. Newton–Raphson from b = 0. */
    memset(w->b, 0, p * sizeof *w->b);
    double ll = sweep(w, n, w->b, ties);
    const double ll_null = ll;
    sweep_ctx ctx = {w, n, ties};
    int iter = 0, converged = 0;
    while (!converged) {
        if (!spd_inverse(w, w->info, w->vmodel))
            return syf_error_set(SYF_ESINGULAR,
                                 "Cox model: the information matrix is singular after %d "
                                 "iterations (a coefficient may be infinite: monotone "
                                 "likelihood, e.g. no events in one level of a regressor)",
                                 iter);
        if (iter == SYF_COX_MAX_ITER)
            return syf_error_set(SYF_ERUNTIME,
                                 "Cox model did not converge in %d Newton iterations (a "
                                 "coefficient may be infinite: monotone likelihood, e.g. no "
                                 "events in one level of a regressor)",
                                 iter);
        iter++;
        double ll_try = syf_linalg_newton_step(p, w->vmodel, w->U, w->b, ll, sweep_fn, &ctx,
                                               w->step, w->btry);
        if (!isfinite(ll_try))
            return syf_error_set(SYF_ERUNTIME,
                                 "Cox model: the partial likelihood is not finite after %d "
                                 "iterations",
                                 iter);
        converged = syf_linalg_newton_accept(p, w->step, w->btry, SYF_COX_STEP_TOL, w->b);
        ll = ll_try;
    }
    if (!spd_inverse(w, w->info, w->vmodel))
        return syf_error_set(SYF_ESINGULAR, "Cox model: the information matrix is singular at "
                                            "the estimate");

    /* 4. Robust variance from the score residuals. */
    score_residuals(w, n, w->b, ties);
    memset(w->meat, 0, p * p * sizeof *w->meat);
    if (cluster) {
        memset(w->gL, 0, G * p * sizeof *w->gL);
        for (size_t i = 0; i < n; i++) {
            double *s = w->gL + cluster[i] * p;
            for (size_t j = 0; j < p; j++)
                s[j] += w->resid[i * p + j];
        }
    }
    for (size_t g = 0; g < G; g++)
        syf_linalg_outer_add(w->meat, cluster ? w->gL + g * p : w->resid + g * p, p);
    syf_linalg_symmetrise(w->meat, p);
    syf_linalg_sandwich_loops(p, w->vmodel, w->meat, 1.0, w->tmp, w->vrobust);

    const double *V = type == SYF_COX_VCOV_ROBUST ? w->vrobust : w->vmodel;
    double zc = gsl_cdf_ugaussian_Pinv(0.5 + 0.5 * level);
    for (size_t j = 0; j < p; j++) {
        w->se_model[j] = sqrt(w->vmodel[j * p + j]);
        w->se_robust[j] = sqrt(w->vrobust[j * p + j]);
        w->se[j] = sqrt(V[j * p + j]);
        syf_linalg_wald_normal(w->b[j], w->se[j], zc, &w->stat[j], &w->pval[j], &w->lo[j],
                               &w->hi[j]);
    }
    res->n = n;
    res->p = p;
    res->G = G;
    res->n_events = n_events;
    res->ties = ties;
    res->type = type;
    res->level = level;
    res->estimate = w->b;
    res->std_error = w->se;
    res->statistic = w->stat;
    res->p_value = w->pval;
    res->conf_low = w->lo;
    res->conf_high = w->hi;
    res->vcov = V;
    res->vcov_model = w->vmodel;
    res->vcov_robust = w->vrobust;
    res->std_error_model = w->se_model;
    res->std_error_robust = w->se_robust;
    res->score_residual = w->resid;
    res->loglik_null = ll_null;
    res->loglik = ll;
    res->iterations = iter;
    return SYF_OK;
}
