/* sc.c — synthetic control with placebo inference (see sc.h).
 *
 * `syfosim estimate --method sc` calls syf_sc_fit() on a long panel that
 * cli/est_sc.c has reshaped to N x T; a simulated staggered pilot could
 * call it per replication, so the workspace is allocated once and a fit
 * allocates nothing.
 *
 * The core is syf_sc_simplex_ls(), an active-set (Lawson–Hanson style)
 * solver for least squares on the probability simplex:
 *   - start from the single best donor;
 *   - outer step: with g = X'(Xw - y) and mu = g averaged over the support
 *     F (all equal there at a subproblem optimum), add the index with the
 *     most negative g_j - mu; stop when none is below -tol;
 *   - inner step: solve min ||y - X_F z|| subject to sum z = 1 by
 *     eliminating one weight (z_r = 1 - sum of the others) and a QR least
 *     squares solve (GSL); if some z_k <= 0, move from w towards z as far as
 *     feasibility allows, drop the indices that hit zero and solve again.
 * An index whose subproblem is numerically singular (it is a combination
 * of the support) is blocked until the support changes.  Each outer step
 * strictly lowers the objective, so the method terminates; an iteration
 * limit turns a pathological case into SYF_ERUNTIME.
 */
#include "syfosim/sc.h"
#include "syfosim/error.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct syf_sc_workspace {
    size_t N_max, T_max;
    double *X;              /* T_max x N_max donor matrix                 */
    double *A, *tau, *b, *sol, *resid; /* QR subproblem                  */
    double *g, *wv, *z;     /* N_max                                      */
    size_t *F, *donor;      /* N_max                                      */
    unsigned char *inF, *blocked;
    double *weights, *gap, *ratios, *wtmp, *gtmp, *pw, *pgap;
};

syf_sc_workspace *syf_sc_alloc(size_t N_max, size_t T_max)
{
    syf_sc_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    size_t N = N_max ? N_max : 1, T = T_max ? T_max : 1;
    w->N_max = N_max;
    w->T_max = T_max;
    w->X = malloc(T * N * sizeof *w->X);
    w->A = malloc(T * N * sizeof *w->A);
    w->tau = malloc(N * sizeof *w->tau);
    w->b = malloc(T * sizeof *w->b);
    w->sol = malloc(N * sizeof *w->sol);
    w->resid = malloc(T * sizeof *w->resid);
    w->g = malloc(N * sizeof *w->g);
    w->wv = malloc(N * sizeof *w->wv);
    w->z = malloc(N * sizeof *w->z);
    w->F = malloc(N * sizeof *w->F);
    w->donor = malloc(N * sizeof *w->donor);
    w->inF = malloc(N);
    w->blocked = malloc(N);
    w->weights = malloc(N * sizeof *w->weights);
    w->gap = malloc(T * sizeof *w->gap);
    w->ratios = malloc(N * sizeof *w->ratios);
    w->wtmp = malloc(N * sizeof *w->wtmp);
    w->gtmp = malloc(T * sizeof *w->gtmp);
    w->pw = malloc(N * sizeof *w->pw);
    w->pgap = malloc(T * sizeof *w->pgap);
    if (!w->X || !w->A || !w->tau || !w->b || !w->sol || !w->resid || !w->g || !w->wv || !w->z ||
        !w->F || !w->donor || !w->inF || !w->blocked || !w->weights || !w->gap || !w->ratios ||
        !w->wtmp || !w->gtmp || !w->pw || !w->pgap) {
        syf_sc_free(w);
        return NULL;
    }
    return w;
}

void syf_sc_free(syf_sc_workspace *w)
{
    if (!w)
        return;
    free(w->X);
    free(w->A);
    free(w->tau);
    free(w->b);
    free(w->sol);
    free(w->resid);
    free(w->g);
    free(w->wv);
    free(w->z);
    free(w->F);
    free(w->donor);
    free(w->inF);
    free(w->blocked);
    free(w->weights);
    free(w->gap);
    free(w->ratios);
    free(w->wtmp);
    free(w->gtmp);
    free(w->pw);
    free(w->pgap);
    free(w);
}

/* min ||y - X_F z||^2 s.t. sum z = 1 on the support F (nF indices), into
 * w->z[0..nF).  Returns 0, or 1 if the reduced system is singular or
 * underdetermined. */
static int eq_ls(syf_sc_workspace *w, size_t T0, const double *X, size_t ldx, const double *y,
                 size_t nF)
{
    const size_t *F = w->F;
    if (nF == 1) {
        w->z[0] = 1;
        return 0;
    }
    size_t m = nF - 1, r = F[0];
    if (m > T0)
        return 1;
    for (size_t t = 0; t < T0; t++) {
        double xr = X[t * ldx + r];
        for (size_t k = 0; k < m; k++)
            w->A[t * m + k] = X[t * ldx + F[k + 1]] - xr;
        w->b[t] = y[t] - xr;
    }
    gsl_matrix_view A = gsl_matrix_view_array(w->A, T0, m);
    gsl_vector_view tau = gsl_vector_view_array(w->tau, m);
    gsl_vector_view b = gsl_vector_view_array(w->b, T0);
    gsl_vector_view x = gsl_vector_view_array(w->sol, m);
    gsl_vector_view res = gsl_vector_view_array(w->resid, T0);
    /* column norms for the rank check */
    double cmax = 0;
    for (size_t k = 0; k < m; k++) {
        double s = 0;
        for (size_t t = 0; t < T0; t++)
            s += w->A[t * m + k] * w->A[t * m + k];
        cmax = s > cmax ? s : cmax;
    }
    if (gsl_linalg_QR_decomp(&A.matrix, &tau.vector) != GSL_SUCCESS)
        return 1;
    for (size_t k = 0; k < m; k++)
        if (!(fabs(w->A[k * m + k]) > 1e-10 * sqrt(cmax)))
            return 1;
    if (gsl_linalg_QR_lssolve(&A.matrix, &tau.vector, &b.vector, &x.vector, &res.vector) !=
        GSL_SUCCESS)
        return 1;
    double s = 0;
    for (size_t k = 0; k < m; k++) {
        w->z[k + 1] = w->sol[k];
        s += w->sol[k];
    }
    w->z[0] = 1 - s;
    return 0;
}

int syf_sc_simplex_ls(syf_sc_workspace *w, size_t T0, size_t J, const double *X, size_t ldx,
                      const double *y, double *weights, size_t *iterations)
{
    if (J == 0 || J > w->N_max || T0 == 0 || T0 > w->T_max || ldx < J)
        return syf_error_set(SYF_EINPUT, "sc: bad problem size (T0 = %zu, J = %zu)", T0, J);
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    /* scale for the optimality tolerance */
    double scale = 0, yy = 0;
    for (size_t t = 0; t < T0; t++)
        yy += y[t] * y[t];
    size_t best = 0;
    double best_ss = INFINITY;
    for (size_t j = 0; j < J; j++) {
        double cc = 0, ss = 0;
        for (size_t t = 0; t < T0; t++) {
            double x = X[t * ldx + j], e = y[t] - x;
            cc += x * x;
            ss += e * e;
        }
        scale = cc > scale ? cc : scale;
        if (ss < best_ss) {
            best_ss = ss;
            best = j;
        }
    }
    const double tol = 1e-11 * (scale + yy + 1e-300);
    memset(w->inF, 0, J);
    memset(w->blocked, 0, J);
    for (size_t j = 0; j < J; j++)
        w->wv[j] = 0;
    w->wv[best] = 1;
    w->F[0] = best;
    w->inF[best] = 1;
    size_t nF = 1, it = 0;
    const size_t maxit = 20 * (J + T0) + 100;
    int st = SYF_OK;
    for (;;) {
        if (++it > maxit) {
            st = syf_error_set(SYF_ERUNTIME,
                               "sc: the weight optimisation did not converge in %zu iterations",
                               maxit);
            break;
        }
        /* gradient g = X'(Xw - y) */
        for (size_t t = 0; t < T0; t++) {
            double f = -y[t];
            for (size_t k = 0; k < nF; k++)
                f += X[t * ldx + w->F[k]] * w->wv[w->F[k]];
            w->gtmp[t] = f;
        }
        for (size_t j = 0; j < J; j++) {
            double s = 0;
            for (size_t t = 0; t < T0; t++)
                s += X[t * ldx + j] * w->gtmp[t];
            w->g[j] = s;
        }
        double mu = 0;
        for (size_t k = 0; k < nF; k++)
            mu += w->g[w->F[k]];
        mu /= (double)nF;
        size_t jadd = J;
        double lmin = -tol;
        for (size_t j = 0; j < J; j++)
            if (!w->inF[j] && !w->blocked[j] && w->g[j] - mu < lmin) {
                lmin = w->g[j] - mu;
                jadd = j;
            }
        if (jadd == J)
            break; /* KKT satisfied */
        w->F[nF++] = jadd;
        w->inF[jadd] = 1;
        int first = 1, changed = 0;
        for (;;) {
            if (eq_ls(w, T0, X, ldx, y, nF)) {
                /* jadd is (numerically) a combination of the support */
                if (first) {
                    nF--;
                    w->inF[jadd] = 0;
                    w->blocked[jadd] = 1;
                    break;
                }
                st = syf_error_set(SYF_ERUNTIME, "sc: singular weight subproblem");
                break;
            }
            int allpos = 1;
            for (size_t k = 0; k < nF; k++)
                if (!(w->z[k] > 0))
                    allpos = 0;
            if (allpos) {
                for (size_t k = 0; k < nF; k++)
                    w->wv[w->F[k]] = w->z[k];
                changed = 1;
                break;
            }
            double alpha = 1;
            for (size_t k = 0; k < nF; k++)
                if (!(w->z[k] > 0)) {
                    double wk = w->wv[w->F[k]], a = wk / (wk - w->z[k]);
                    if (a < alpha)
                        alpha = a;
                }
            if (first && alpha <= 0 && !(w->z[nF - 1] > 0)) {
                /* the new index would enter with a non-positive weight:
                 * rounding made its reduced gradient look negative */
                nF--;
                w->inF[jadd] = 0;
                w->blocked[jadd] = 1;
                break;
            }
            for (size_t k = 0; k < nF; k++) {
                size_t j = w->F[k];
                w->wv[j] += alpha * (w->z[k] - w->wv[j]);
            }
            /* drop indices at (or below) zero; the one that set alpha is
             * among them */
            size_t keep = 0;
            for (size_t k = 0; k < nF; k++) {
                size_t j = w->F[k];
                if (w->wv[j] > 1e-14) {
                    w->F[keep++] = j;
                } else {
                    w->wv[j] = 0;
                    w->inF[j] = 0;
                }
            }
            if (keep == nF) {
                /* alpha hit exactly: remove the argmin explicitly */
                size_t kmin = 0;
                double amin = INFINITY;
                for (size_t k = 0; k < nF; k++)
                    if (!(w->z[k] > 0)) {
                        double wk = w->wv[w->F[k]];
                        if (wk < amin) {
                            amin = wk;
                            kmin = k;
                        }
                    }
                w->wv[w->F[kmin]] = 0;
                w->inF[w->F[kmin]] = 0;
                w->F[kmin] = w->F[--keep];
            }
            nF = keep;
            changed = 1;
            first = 0;
            if (nF == 0) {
                st = syf_error_set(SYF_ERUNTIME, "sc: empty support");
                break;
            }
            /* renormalise against drift */
            double s = 0;
            for (size_t k = 0; k < nF; k++)
                s += w->wv[w->F[k]];
            for (size_t k = 0; k < nF; k++)
                w->wv[w->F[k]] /= s;
        }
        if (st)
            break;
        if (changed)
            memset(w->blocked, 0, J);
    }
    gsl_set_error_handler(old);
    if (st)
        return st;
    for (size_t j = 0; j < J; j++)
        weights[j] = w->inF[j] ? w->wv[j] : 0.0;
    if (iterations)
        *iterations = it;
    return SYF_OK;
}

/* Fit unit u on donors w->donor[0..J) ; gap (T) into out; returns status. */
static int fit_unit(syf_sc_workspace *w, size_t T, size_t T0, const double *Y, size_t u,
                    size_t J, double *wts, double *gap)
{
    for (size_t t = 0; t < T0; t++)
        for (size_t j = 0; j < J; j++)
            w->X[t * J + j] = Y[w->donor[j] * T + t];
    int st = syf_sc_simplex_ls(w, T0, J, w->X, J, Y + u * T, wts, NULL);
    if (st)
        return st;
    for (size_t t = 0; t < T; t++) {
        double s = 0;
        for (size_t j = 0; j < J; j++)
            s += wts[j] * Y[w->donor[j] * T + t];
        gap[t] = Y[u * T + t] - s;
    }
    return SYF_OK;
}

static void rmspe(const double *gap, size_t T, size_t T0, double *pre, double *post)
{
    double a = 0, b = 0;
    for (size_t t = 0; t < T0; t++)
        a += gap[t] * gap[t];
    for (size_t t = T0; t < T; t++)
        b += gap[t] * gap[t];
    *pre = sqrt(a / (double)T0);
    *post = sqrt(b / (double)(T - T0));
}

int syf_sc_fit(syf_sc_workspace *w, size_t N, size_t T, size_t T0, const double *Y,
               size_t treated, int placebo, syf_sc_result *res)
{
    memset(res, 0, sizeof *res);
    if (N < 2)
        return syf_error_set(SYF_EINPUT, "sc: need at least one donor unit besides the treated one");
    if (N > w->N_max || T > w->T_max)
        return syf_error_set(SYF_EINPUT, "sc: panel of %zu x %zu exceeds the workspace", N, T);
    if (T0 < 1 || T0 >= T)
        return syf_error_set(SYF_EINPUT,
                             "sc: need at least one pre-treatment and one post-treatment period "
                             "(T0 = %zu of T = %zu)",
                             T0, T);
    if (treated >= N)
        return syf_error_set(SYF_EINPUT, "sc: treated unit %zu out of range", treated);
    for (size_t i = 0; i < N * T; i++)
        if (!isfinite(Y[i]))
            return syf_error_set(SYF_EINPUT, "sc: non-finite outcome (unit %zu, period %zu)",
                                 i / T + 1, i % T + 1);
    size_t J = 0;
    for (size_t u = 0; u < N; u++)
        if (u != treated)
            w->donor[J++] = u;
    int st = fit_unit(w, T, T0, Y, treated, J, w->wtmp, w->gap);
    if (st)
        return st;
    for (size_t u = 0; u < N; u++)
        w->weights[u] = 0;
    for (size_t j = 0; j < J; j++)
        w->weights[w->donor[j]] = w->wtmp[j];
    double att = 0;
    for (size_t t = T0; t < T; t++)
        att += w->gap[t];
    res->att = att / (double)(T - T0);
    rmspe(w->gap, T, T0, &res->rmspe_pre, &res->rmspe_post);
    res->ratio = res->rmspe_post / res->rmspe_pre;
    res->N = N;
    res->T = T;
    res->T0 = T0;
    res->treated = treated;
    res->weights = w->weights;
    res->gap = w->gap;
    res->ratios = w->ratios;
    res->p_value = NAN;
    for (size_t u = 0; u < N; u++)
        w->ratios[u] = NAN;
    w->ratios[treated] = res->ratio;
    if (placebo && N >= 3) {
        /* donors of a placebo: every unit except itself and the treated one */
        for (size_t u = 0; u < N; u++) {
            if (u == treated)
                continue;
            size_t Jp = 0;
            for (size_t v = 0; v < N; v++)
                if (v != treated && v != u)
                    w->donor[Jp++] = v;
            st = fit_unit(w, T, T0, Y, u, Jp, w->pw, w->pgap);
            if (st)
                return st;
            double pre, post;
            rmspe(w->pgap, T, T0, &pre, &post);
            w->ratios[u] = post / pre;
        }
        size_t rank = 0;
        for (size_t u = 0; u < N; u++)
            if (w->ratios[u] >= res->ratio)
                rank++;
        res->rank = rank;
        res->p_value = (double)rank / (double)N;
    }
    return SYF_OK;
}
