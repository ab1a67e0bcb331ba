/* rd.c — sharp regression discontinuity, rdrobust's local-linear estimator
 * with robust bias-corrected inference and mserd bandwidth (see rd.h).
 *
 * `syfosim estimate --method rd` calls syf_rd_fit() once; simulated RD
 * designs (triage thresholds) may call it per replication, so a fit works
 * in a preallocated workspace.  The algorithm follows rdrobust (R package,
 * rdrobust.R and functions.R) step by step, because its published numbers
 * are the validation targets:
 *
 *   1. Complete data are sorted by x (stable) and split at the cutoff; per
 *      side, `dups` / `dupsid` count tied x values (used by the
 *      nearest-neighbour residuals and the mass-point rule).
 *   2. Without a bandwidth, mserd: pilot c_bw = 2.576 min(sd, IQR/1.349)
 *      M^(-1/5); d from a local-cubic MSE for the 3rd derivative
 *      (bandwidth range for the bias), b from a local-quadratic MSE for
 *      the 2nd derivative, h from the local-linear MSE for the level, each
 *      as (V_l + V_r) / ((B_r - B_l)^2 + R_l + R_r) to the power 1/(2o+3)
 *      (R the regularisation term), each capped at the range of x.
 *   3. Estimation on the window of the larger of h, b: local-linear fit at
 *      h, local-quadratic at b; the bias-corrected intercept uses the
 *      score matrix Q = W_h R_p - h^2 (W_b R_q G_q^{-1} e_2) L'; variances
 *      G_p^{-1} (sum of scores' outer products) G_p^{-1} with the chosen
 *      residuals, summed over the two sides.
 *
 * Local fits are at most quartic (5 coefficients), so every Gram matrix is
 * at most 5 x 5 and lives on the stack; the n-sized scratch arrays live in
 * the workspace.
 */
#include "syfosim/rd.h"
#include "syfosim/error.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KMAX 5       /* coefficients of the largest local fit (quartic)   */
#define NNMATCH 3    /* rdrobust's default nnmatch                         */
#define C_TRI 2.576  /* rdrobust's pilot constant for the triangular kernel */
#define RD_NDMAX 64  /* outcome + covariates (SYF_RD_MAX_COVARIATES + 1)    */

typedef struct {
    size_t n;            /* observations on this side                  */
    const double *x;     /* n, ascending                               */
    const double *D;     /* n x nd: y, Z                               */
    const size_t *cl;    /* n cluster codes or NULL                    */
    const size_t *dups, *dupsid;
} side_t;

struct syf_rd_workspace {
    size_t n_max, dz, nd, G_max;
    size_t *idx, *cls, *dups, *dupsid, *seen;
    double *xs, *Ds, *wa, *wb, *res, *rx, *rq, *rc, *clacc;
    double *A, *Zi, *evec, *eval;
    gsl_eigen_symmv_workspace *eig;
};

const char *syf_rd_vce_name(syf_rd_vce vce)
{
    static const char *const names[] = {"nn", "hc0", "hc1", "hc2", "hc3"};
    return (unsigned)vce < 5 ? names[vce] : "?";
}

int syf_rd_vce_parse(const char *name, syf_rd_vce *vce)
{
    for (int k = 0; k < 5; k++)
        if (!strcasecmp(name, syf_rd_vce_name((syf_rd_vce)k))) {
            *vce = (syf_rd_vce)k;
            return SYF_OK;
        }
    return syf_error_set(SYF_EINPUT, "unknown RD variance '%s' (choose nn, hc0, hc1, hc2 or hc3)",
                         name);
}

void syf_rd_options_default(syf_rd_options *opt)
{
    opt->cutoff = 0;
    opt->h = opt->b = 0;
    opt->vce = SYF_RD_NN;
    opt->masspoints = 1;
    opt->level = 0.95;
}

syf_rd_workspace *syf_rd_alloc(size_t n_max, size_t dz, size_t G_max)
{
    syf_rd_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    size_t n = n_max ? n_max : 1, nd = dz + 1, g = G_max ? G_max : 1;
    w->n_max = n_max;
    w->dz = dz;
    w->nd = nd;
    w->G_max = G_max;
    w->idx = malloc(n * sizeof *w->idx);
    w->cls = malloc(n * sizeof *w->cls);
    w->dups = malloc(n * sizeof *w->dups);
    w->dupsid = malloc(n * sizeof *w->dupsid);
    w->seen = malloc(g * sizeof *w->seen);
    w->xs = malloc(n * sizeof *w->xs);
    w->Ds = malloc(n * nd * sizeof *w->Ds);
    w->wa = malloc(n * sizeof *w->wa);
    w->wb = malloc(n * sizeof *w->wb);
    w->res = malloc(n * nd * sizeof *w->res);
    w->rx = malloc(n * KMAX * sizeof *w->rx);
    w->rc = malloc(n * sizeof *w->rc);
    w->rq = malloc(n * KMAX * sizeof *w->rq);
    w->clacc = malloc(g * KMAX * sizeof *w->clacc);
    w->A = malloc(dz * nd * sizeof *w->A + 1);
    w->Zi = malloc(dz * dz * sizeof *w->Zi + 1);
    w->evec = malloc(dz * dz * sizeof *w->evec + 1);
    w->eval = malloc(2 * dz * sizeof *w->eval + 1);
    if (dz)
        w->eig = gsl_eigen_symmv_alloc(dz);
    if (!w->idx || !w->cls || !w->dups || !w->dupsid || !w->seen || !w->xs || !w->Ds || !w->wa ||
        !w->wb || !w->res || !w->rx || !w->rc || !w->rq || !w->clacc || !w->A || !w->Zi ||
        !w->evec || !w->eval || (dz && !w->eig)) {
        syf_rd_free(w);
        return NULL;
    }
    return w;
}

void syf_rd_free(syf_rd_workspace *w)
{
    if (!w)
        return;
    free(w->idx);
    free(w->cls);
    free(w->dups);
    free(w->dupsid);
    free(w->seen);
    free(w->xs);
    free(w->Ds);
    free(w->wa);
    free(w->wb);
    free(w->res);
    free(w->rx);
    free(w->rc);
    free(w->rq);
    free(w->clacc);
    free(w->A);
    free(w->Zi);
    free(w->evec);
    free(w->eval);
    if (w->eig)
        gsl_eigen_symmv_free(w->eig);
    free(w);
}

/* ---- small helpers ------------------------------------------------------ */

/* Triangular kernel weight, exactly as rdrobust_kweight. */
static double kweight(double x, double c, double h)
{
    double u = (x - c) / h, a = fabs(u);
    return a <= 1 ? (1 - a) / h : 0.0;
}

/* Powers 1, t, ..., t^o into r. */
static void powers(double t, int o, double *r)
{
    r[0] = 1;
    for (int j = 1; j <= o; j++)
        r[j] = r[j - 1] * t;
}

/* Inverse of the k x k SPD matrix G (in place) by Cholesky. */
static int spd_inverse(double *G, int k)
{
    gsl_matrix_view m = gsl_matrix_view_array(G, (size_t)k, (size_t)k);
    if (gsl_linalg_cholesky_decomp1(&m.matrix) != GSL_SUCCESS)
        return syf_error_set(SYF_ESINGULAR,
                             "a local polynomial fit has too few distinct running-variable values "
                             "within its bandwidth");
    gsl_linalg_cholesky_invert(&m.matrix);
    return SYF_OK;
}

/* Window [lo, hi) of the rows with positive kernel weight at bandwidth h
 * (contiguous because x is sorted within a side). */
static void window(const side_t *s, double c, double h, size_t *lo, size_t *hi)
{
    size_t a = s->n, b = 0;
    for (size_t i = 0; i < s->n; i++)
        if (kweight(s->x[i], c, h) > 0) {
            if (i < a)
                a = i;
            b = i + 1;
        }
    if (a > b)
        a = b = 0;
    *lo = a;
    *hi = b;
}

/* Weighted local polynomial fit of order o on rows [lo, hi) with weights
 * wt (indexed from lo): iG = (R'WR)^{-1} (k x k), beta = iG R'W D
 * (k x nd).  rx receives the rows W_i R_i (n x k, row stride KMAX). */
static int local_fit(const syf_rd_workspace *w, const side_t *s, size_t lo, size_t hi,
                     const double *wt, double c, int o, double *iG, double *beta, double *rx)
{
    const int k = o + 1;
    const size_t nd = w->nd;
    double acc[KMAX * RD_NDMAX];
    memset(iG, 0, sizeof(double) * (size_t)(k * k));
    memset(acc, 0, sizeof(double) * (size_t)k * nd);
    double r[KMAX];
    for (size_t i = lo; i < hi; i++) {
        double wi = wt[i - lo];
        powers(s->x[i] - c, o, r);
        double *ri = rx + (i - lo) * KMAX;
        for (int a = 0; a < k; a++) {
            ri[a] = wi * r[a];
            for (int b = 0; b <= a; b++)
                iG[a * k + b] += ri[a] * r[b];
            for (size_t l = 0; l < nd; l++)
                acc[a * nd + l] += ri[a] * s->D[i * nd + l];
        }
    }
    for (int a = 0; a < k; a++)
        for (int b = 0; b < a; b++)
            iG[b * k + a] = iG[a * k + b];
    int st = spd_inverse(iG, k);
    if (st)
        return st;
    for (int a = 0; a < k; a++)
        for (size_t l = 0; l < nd; l++) {
            double v = 0;
            for (int b = 0; b < k; b++)
                v += iG[a * k + b] * acc[b * nd + l];
            beta[a * nd + l] = v;
        }
    return SYF_OK;
}

/* Residuals on rows [lo, hi) into w->res ((hi-lo) x nd), rdrobust_res:
 * nearest neighbours (nn), or plug-in residuals y - R beta of the fit of
 * order o (o + 1 coefficients: the d of HC1) weighted for hc0..hc3; HC2/HC3
 * take the leverage w_i r_i' iGl r_i of the fit of order ol with weights
 * wt (rdrobust uses the local-linear leverage also for the quadratic
 * residuals of the robust variance). */
static void residuals(syf_rd_workspace *w, const side_t *s, size_t lo, size_t hi, syf_rd_vce vce,
                      double c, int o, const double *beta, const double *wt, int ol,
                      const double *iGl)
{
    const size_t nd = w->nd, n = hi - lo;
    double *res = w->res;
    if (vce == SYF_RD_NN) {
        const double *X = s->x + lo;
        const size_t *dups = s->dups + lo, *dupsid = s->dupsid + lo;
        const double eps = sqrt(2.220446049250313e-16);
        const size_t target = n - 1 < NNMATCH ? n - 1 : NNMATCH;
        for (size_t pos = 0; pos < n; pos++) {
            size_t rpos = dups[pos] - dupsid[pos], lpos = dupsid[pos] - 1;
            while (lpos + rpos < target) {
                if (pos < lpos + 1)
                    rpos += dups[pos + rpos + 1];
                else if (pos + rpos + 1 > n - 1)
                    lpos += dups[pos - lpos - 1];
                else {
                    double dl = X[pos] - X[pos - lpos - 1], dr = X[pos + rpos + 1] - X[pos];
                    double tol = (dl > dr ? dl : dr) * eps;
                    if (dl - dr > tol)
                        rpos += dups[pos + rpos + 1];
                    else if (dr - dl > tol)
                        lpos += dups[pos - lpos - 1];
                    else {
                        rpos += dups[pos + rpos + 1];
                        lpos += dups[pos - lpos - 1];
                    }
                }
            }
            size_t a = pos - lpos, b = pos + rpos; /* inclusive, within [0, n) */
            double Ji = (double)(b - a);
            double f = sqrt(Ji / (Ji + 1));
            for (size_t l = 0; l < nd; l++) {
                double sum = 0;
                for (size_t j = a; j <= b; j++)
                    sum += s->D[(lo + j) * nd + l];
                double own = s->D[(lo + pos) * nd + l];
                res[pos * nd + l] = f * (own - (sum - own) / Ji);
            }
        }
        return;
    }
    const int k = o + 1, kl = ol + 1;
    double r[KMAX], rl[KMAX];
    for (size_t i = 0; i < n; i++) {
        powers(s->x[lo + i] - c, o, r);
        double f = 1;
        if (vce == SYF_RD_HC1)
            f = sqrt((double)n / (double)(n - (size_t)k));
        else if (vce == SYF_RD_HC2 || vce == SYF_RD_HC3) {
            powers(s->x[lo + i] - c, ol, rl);
            double hii = 0;
            for (int a = 0; a < kl; a++)
                for (int b = 0; b < kl; b++)
                    hii += rl[a] * iGl[a * kl + b] * rl[b];
            hii *= wt[i];
            double one = 1 - hii > 1e-8 ? 1 - hii : 1e-8;
            f = vce == SYF_RD_HC2 ? sqrt(1 / one) : 1 / one;
        }
        for (size_t l = 0; l < nd; l++) {
            double p = 0;
            for (int a = 0; a < k; a++)
                p += r[a] * beta[a * nd + l];
            res[i * nd + l] = f * (s->D[(lo + i) * nd + l] - p);
        }
    }
}

/* Meat sum_i (r_i s)^2 RX_i RX_i' (or clustered) for rows RX (stride KMAX,
 * k columns) and residuals w->res combined with sY; M is k x k. */
static void meat(syf_rd_workspace *w, const side_t *s, size_t lo, size_t hi, const double *rx,
                 int k, const double *sY, double *M, size_t *n_clusters)
{
    const size_t nd = w->nd, n = hi - lo;
    memset(M, 0, sizeof(double) * (size_t)(k * k));
    for (size_t i = 0; i < n; i++) {
        double v = 0;
        for (size_t l = 0; l < nd; l++)
            v += sY[l] * w->res[i * nd + l];
        w->rc[i] = v;
    }
    if (!s->cl) {
        for (size_t i = 0; i < n; i++) {
            const double *ri = rx + i * KMAX;
            double r2 = w->rc[i] * w->rc[i];
            for (int a = 0; a < k; a++)
                for (int b = 0; b <= a; b++)
                    M[a * k + b] += r2 * ri[a] * ri[b];
        }
        if (n_clusters)
            *n_clusters = 0;
    } else {
        size_t g = 0;
        for (size_t i = 0; i < n; i++) {
            size_t code = s->cl[lo + i];
            w->seen[code] = 0;
        }
        for (size_t i = 0; i < n; i++) {
            size_t code = s->cl[lo + i];
            double *acc = w->clacc + code * KMAX;
            if (!w->seen[code]) {
                w->seen[code] = 1;
                g++;
                for (int a = 0; a < k; a++)
                    acc[a] = 0;
            }
            for (int a = 0; a < k; a++)
                acc[a] += rx[i * KMAX + a] * w->rc[i];
        }
        for (size_t i = 0; i < n; i++) {
            size_t code = s->cl[lo + i];
            if (w->seen[code] != 1)
                continue;
            w->seen[code] = 2;
            const double *acc = w->clacc + code * KMAX;
            for (int a = 0; a < k; a++)
                for (int b = 0; b <= a; b++)
                    M[a * k + b] += acc[a] * acc[b];
        }
        double f = g > 1 ? ((double)n - 1) / ((double)n - k) * ((double)g / ((double)g - 1)) : NAN;
        for (int a = 0; a < k * k; a++)
            M[a] *= f;
        if (n_clusters)
            *n_clusters = g;
    }
    for (int a = 0; a < k; a++)
        for (int b = 0; b < a; b++)
            M[b * k + a] = M[a * k + b];
}

/* (iG M iG)[j, j]. */
static double sandwich_jj(const double *iG, const double *M, int k, int j)
{
    double v = 0;
    for (int a = 0; a < k; a++)
        for (int b = 0; b < k; b++)
            v += iG[j * k + a] * M[a * k + b] * iG[b * k + j];
    return v;
}

/* Adds the within-side covariate system of rdrobust to w->A (dz x nd):
 * Z'W D - U_Z' iG U with U = R'W D, for rows with RX rows rx. */
static void covariate_system(syf_rd_workspace *w, const side_t *s, size_t lo, size_t hi,
                             const double *wt, const double *rx, int k, const double *iG)
{
    const size_t nd = w->nd, dz = w->dz;
    double Uu[KMAX * RD_NDMAX];
    /* U = R'W D (k x nd) */
    for (size_t l = 0; l < nd; l++) {
        double col[KMAX] = {0};
        for (size_t i = lo; i < hi; i++)
            for (int a = 0; a < k; a++)
                col[a] += rx[(i - lo) * KMAX + a] * s->D[i * nd + l];
        for (int a = 0; a < k; a++)
            Uu[a * nd + l] = col[a];
    }
    for (size_t m = 0; m < dz; m++)
        for (size_t l = 0; l < nd; l++) {
            double v = 0;
            for (size_t i = lo; i < hi; i++)
                v += wt[i - lo] * s->D[i * nd + 1 + m] * s->D[i * nd + l];
            double q = 0;
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++)
                    q += Uu[a * nd + 1 + m] * iG[a * k + b] * Uu[b * nd + l];
            w->A[m * nd + l] += v - q;
        }
}

/* sY = (1, -gamma), gamma = A_Z^+ A_y from w->A (A_Z symmetric PSD).
 * rdrobust uses MASS::ginv after dropping collinear covariates; here A_Z is
 * first scaled to unit diagonal (covariates on very different scales, e.g.
 * population next to counts, would otherwise lose digits in the
 * eigen-decomposition), then pseudo-inverted with eigenvalues below 1e-10
 * of the largest treated as zero (collinear covariates get no weight, as
 * when rdrobust drops them). */
static void covariate_solve(syf_rd_workspace *w, double *sY)
{
    const size_t dz = w->dz, nd = w->nd;
    sY[0] = 1;
    if (!dz)
        return;
    double *dsc = w->eval + dz; /* dz scale factors after the dz eigenvalues */
    for (size_t a = 0; a < dz; a++) {
        double v = w->A[a * nd + 1 + a];
        dsc[a] = v > 0 ? 1 / sqrt(v) : 0;
    }
    for (size_t a = 0; a < dz; a++)
        for (size_t b = 0; b < dz; b++)
            w->Zi[a * dz + b] =
                0.5 * (w->A[a * nd + 1 + b] + w->A[b * nd + 1 + a]) * dsc[a] * dsc[b];
    gsl_matrix_view Zm = gsl_matrix_view_array(w->Zi, dz, dz);
    gsl_matrix_view Em = gsl_matrix_view_array(w->evec, dz, dz);
    gsl_vector_view ev = gsl_vector_view_array(w->eval, dz);
    gsl_eigen_symmv(&Zm.matrix, &ev.vector, &Em.matrix, w->eig);
    double mx = 0;
    for (size_t a = 0; a < dz; a++)
        if (fabs(w->eval[a]) > mx)
            mx = fabs(w->eval[a]);
    for (size_t a = 0; a < dz; a++) {
        double g = 0;
        for (size_t j = 0; j < dz; j++) {
            if (!(w->eval[j] > 1e-10 * mx))
                continue;
            double vy = 0;
            for (size_t b = 0; b < dz; b++)
                vy += w->evec[b * dz + j] * dsc[b] * w->A[b * nd];
            g += w->evec[a * dz + j] * vy / w->eval[j];
        }
        sY[1 + a] = -g * dsc[a];
    }
}

typedef struct {
    double V, B, R, rate;
} bw_const;

/* rdrobust_bw on one side: V from a fit of order o at h_V (derivative nu),
 * B and the regularisation R from a fit of order o_B at h_B. */
static int bw_side(syf_rd_workspace *w, const side_t *s, double c, int o, int nu, int oB,
                   double hV, double hB, int scale, syf_rd_vce vce, bw_const *out)
{
    size_t lo, hi;
    const size_t nd = w->nd;
    double iG[KMAX * KMAX], bt[KMAX * RD_NDMAX], M[KMAX * KMAX], sY[RD_NDMAX];
    int k = o + 1, st;
    window(s, c, hV, &lo, &hi);
    for (size_t i = lo; i < hi; i++)
        w->wa[i - lo] = kweight(s->x[i], c, hV);
    if ((st = local_fit(w, s, lo, hi, w->wa, c, o, iG, bt, w->rx)))
        return st;
    if (w->dz) {
        memset(w->A, 0, w->dz * nd * sizeof *w->A);
        covariate_system(w, s, lo, hi, w->wa, w->rx, k, iG);
        covariate_solve(w, sY);
    } else
        sY[0] = 1;
    residuals(w, s, lo, hi, vce, c, o, bt, w->wa, o, iG);
    meat(w, s, lo, hi, w->rx, k, sY, M, NULL);
    double VV = sandwich_jj(iG, M, k, nu);
    double v[KMAX] = {0};
    for (size_t i = lo; i < hi; i++) {
        double u = (s->x[i] - c) / hV, up = pow(u, o + 1);
        for (int a = 0; a < k; a++)
            v[a] += w->rx[(i - lo) * KMAX + a] * up;
    }
    double bconst = 0;
    for (int b = 0; b < k; b++)
        bconst += iG[nu * k + b] * v[b];
    bconst *= pow(hV, nu);

    int kB = oB + 1;
    double iGB[KMAX * KMAX];
    window(s, c, hB, &lo, &hi);
    for (size_t i = lo; i < hi; i++)
        w->wa[i - lo] = kweight(s->x[i], c, hB);
    if ((st = local_fit(w, s, lo, hi, w->wa, c, oB, iGB, bt, w->rx)))
        return st;
    double reg = 0;
    if (scale > 0) {
        residuals(w, s, lo, hi, vce, c, oB, bt, w->wa, oB, iGB);
        meat(w, s, lo, hi, w->rx, kB, sY, M, NULL);
        reg = 3 * bconst * bconst * sandwich_jj(iGB, M, kB, o + 1);
    }
    double sb = 0;
    for (size_t l = 0; l < nd; l++)
        sb += sY[l] * bt[(size_t)(o + 1) * nd + l];
    out->B = sqrt(2.0 * (o + 1 - nu)) * bconst * sb;
    out->V = (2 * nu + 1) * pow(hV, 2 * nu + 1) * VV;
    out->R = scale * 2.0 * (o + 1 - nu) * reg;
    out->rate = 1.0 / (2 * o + 3);
    return SYF_OK;
}

/* ---- estimation ---------------------------------------------------------- */

typedef struct {
    size_t lo, hi, nh, nb, g;
    double iGp[4], iGq[9], bp[2 * RD_NDMAX], bq[3 * RD_NDMAX], bbc[2 * RD_NDMAX];
} side_fit;

/* Fits at h (linear) and b (quadratic) on the window of the larger one;
 * Q rows go to rxq (stride KMAX), W_h R_p rows to rxp. */
static int est_side(syf_rd_workspace *w, const side_t *s, double c, double h, double b,
                    side_fit *f, double *rxp, double *rxq)
{
    const size_t nd = w->nd;
    size_t lo_h, hi_h, lo_b, hi_b;
    window(s, c, h, &lo_h, &hi_h);
    window(s, c, b, &lo_b, &hi_b);
    f->nh = hi_h - lo_h;
    f->nb = hi_b - lo_b;
    if (h > b) {
        f->lo = lo_h;
        f->hi = hi_h;
    } else {
        f->lo = lo_b;
        f->hi = hi_b;
    }
    size_t lo = f->lo, hi = f->hi;
    for (size_t i = lo; i < hi; i++) {
        w->wa[i - lo] = kweight(s->x[i], c, h);
        w->wb[i - lo] = kweight(s->x[i], c, b);
    }
    int st;
    /* quadratic at b: rows W_b R_q into rxq temporarily */
    if ((st = local_fit(w, s, lo, hi, w->wb, c, 2, f->iGq, f->bq, rxq)))
        return st;
    if ((st = local_fit(w, s, lo, hi, w->wa, c, 1, f->iGp, f->bp, rxp)))
        return st;
    /* L = sum W_h R_p u^2, u = (x - c)/h */
    double L[2] = {0, 0};
    for (size_t i = lo; i < hi; i++) {
        double u = (s->x[i] - c) / h;
        L[0] += rxp[(i - lo) * KMAX] * u * u;
        L[1] += rxp[(i - lo) * KMAX + 1] * u * u;
    }
    /* Q_i = W_h R_p,i - h^2 W_b (R_q,i' iGq e_2) L */
    for (size_t i = lo; i < hi; i++) {
        double r[3];
        powers(s->x[i] - c, 2, r);
        double g = 0;
        for (int a = 0; a < 3; a++)
            g += r[a] * f->iGq[a * 3 + 2];
        g *= w->wb[i - lo] * h * h;
        double *q = rxq + (i - lo) * KMAX;
        q[0] = rxp[(i - lo) * KMAX] - g * L[0];
        q[1] = rxp[(i - lo) * KMAX + 1] - g * L[1];
    }
    /* beta_bc = iGp Q'D */
    for (size_t l = 0; l < nd; l++) {
        double t0 = 0, t1 = 0;
        for (size_t i = lo; i < hi; i++) {
            t0 += rxq[(i - lo) * KMAX] * s->D[i * nd + l];
            t1 += rxq[(i - lo) * KMAX + 1] * s->D[i * nd + l];
        }
        f->bbc[l] = f->iGp[0] * t0 + f->iGp[1] * t1;
        f->bbc[nd + l] = f->iGp[2] * t0 + f->iGp[3] * t1;
    }
    return SYF_OK;
}

/* Variances (conventional, robust) of one side's intercept contrast. */
static int var_side(syf_rd_workspace *w, const side_t *s, double c, syf_rd_vce vce,
                    const side_fit *f, const double *sY, double *rxp, double *rxq, double *v_cl,
                    double *v_rb, size_t *g)
{
    double M[4];
    size_t lo = f->lo, hi = f->hi;
    /* rxq currently holds Q; rxp holds W_h R_p.  Conventional first. */
    residuals(w, s, lo, hi, vce, c, 1, f->bp, w->wa, 1, f->iGp);
    meat(w, s, lo, hi, rxp, 2, sY, M, g);
    *v_cl = sandwich_jj(f->iGp, M, 2, 0);
    if (vce != SYF_RD_NN) /* rdrobust: quadratic residuals, local-linear leverage */
        residuals(w, s, lo, hi, vce, c, 2, f->bq, w->wa, 1, f->iGp);
    meat(w, s, lo, hi, rxq, 2, sY, M, NULL);
    *v_rb = sandwich_jj(f->iGp, M, 2, 0);
    return SYF_OK;
}

/* Stable sort by x: qsort on (x, original index) pairs. */
typedef struct {
    double x;
    size_t i;
} key_t_;

static int cmp_key(const void *a, const void *b)
{
    const key_t_ *p = a, *q = b;
    if (p->x < q->x)
        return -1;
    if (p->x > q->x)
        return 1;
    return (p->i > q->i) - (p->i < q->i);
}

/* |x - c| + 1e-8 at the k-th distinct value of the sorted x[0..n) counted
 * outwards from the cutoff: from the end (left side) or from the start
 * (right side); 0 if there are fewer than k. */
static double kth_distinct_distance(const double *x, size_t n, int from_end, size_t k, double c)
{
    size_t cnt = 0;
    for (size_t t = 0; t < n; t++) {
        size_t i = from_end ? n - 1 - t : t;
        if (t == 0 || x[i] != x[from_end ? i + 1 : i - 1])
            if (++cnt == k)
                return fabs(x[i] - c) + 1e-8;
    }
    return 0;
}

static double quantile_type2(const double *xs, size_t n, double p)
{
    double np = (double)n * p;
    double j = floor(np);
    size_t jj = (size_t)j;
    if (np - j > 1e-12 * (np > 1 ? np : 1)) /* not an integer */
        return xs[jj];                          /* x_(ceil(np)) in 1-based terms */
    if (jj == 0)
        return xs[0];
    if (jj >= n)
        return xs[n - 1];
    return 0.5 * (xs[jj - 1] + xs[jj]);
}

int syf_rd_fit(syf_rd_workspace *w, size_t n, const double *y, const double *x, const double *Z,
               const size_t *cluster, size_t G, const syf_rd_options *opt, syf_rd_result *res)
{
    syf_rd_options def;
    if (!opt) {
        syf_rd_options_default(&def);
        opt = &def;
    }
    const double c = opt->cutoff;
    const size_t nd = w->nd, dz = w->dz;
    memset(res, 0, sizeof *res);
    if (n > w->n_max)
        return syf_error_set(SYF_EINPUT, "rd: %zu observations for a workspace of %zu", n,
                             w->n_max);
    if (dz && !Z)
        return syf_error_set(SYF_EINPUT, "rd: covariates missing");
    if (dz > SYF_RD_MAX_COVARIATES)
        return syf_error_set(SYF_EINPUT, "rd: %zu covariates (at most %d)", dz,
                             SYF_RD_MAX_COVARIATES);
    if (cluster && (G > w->G_max || G < 2))
        return syf_error_set(SYF_EINPUT, "rd: %zu clusters (need 2 to %zu)", G, w->G_max);
    if (!isfinite(c))
        return syf_error_set(SYF_EINPUT, "rd: the cutoff is not a finite number");
    if (!(opt->level > 0 && opt->level < 1))
        return syf_error_set(SYF_EINPUT, "rd: confidence level must be in (0, 1)");
    double xmin = INFINITY, xmax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i]))
            return syf_error_set(SYF_EINPUT, "rd: observation %zu is not finite", i + 1);
        for (size_t m = 0; m < dz; m++)
            if (!isfinite(Z[i * dz + m]))
                return syf_error_set(SYF_EINPUT, "rd: covariate %zu of observation %zu is not finite",
                                     m + 1, i + 1);
        if (cluster && cluster[i] >= G)
            return syf_error_set(SYF_EINPUT, "rd: cluster code %zu >= %zu", cluster[i], G);
        xmin = x[i] < xmin ? x[i] : xmin;
        xmax = x[i] > xmax ? x[i] : xmax;
    }
    if (!(c > xmin && c < xmax))
        return syf_error_set(SYF_EINPUT,
                             "rd: the cutoff %g must lie strictly inside the range of the running "
                             "variable [%g, %g]",
                             c, xmin, xmax);
    int manual = opt->h > 0;
    if (!manual && !(opt->h <= 0 || isnan(opt->h)))
        return syf_error_set(SYF_EINPUT, "rd: bad bandwidth");
    if (manual && !isfinite(opt->h))
        return syf_error_set(SYF_EINPUT, "rd: the bandwidth must be a positive finite number");
    if (!manual && n < 20)
        return syf_error_set(SYF_EINPUT,
                             "rd: %zu observations are too few to choose a bandwidth (need 20); "
                             "give one",
                             n);

    /* 1. sort by x (stable); the (x, index) keys borrow w->rx, which holds
     * n * KMAX >= 2n doubles and is not needed until the fits */
    key_t_ *keys = (key_t_ *)w->rx;
    for (size_t i = 0; i < n; i++) {
        keys[i].x = x[i];
        keys[i].i = i;
    }
    qsort(keys, n, sizeof *keys, cmp_key);
    for (size_t i = 0; i < n; i++)
        w->idx[i] = keys[i].i;
    for (size_t r = 0; r < n; r++) {
        size_t i = w->idx[r];
        w->xs[r] = x[i];
        w->Ds[r * nd] = y[i];
        for (size_t m = 0; m < dz; m++)
            w->Ds[r * nd + 1 + m] = Z[i * dz + m];
        if (cluster)
            w->cls[r] = cluster[i];
    }
    size_t nl = 0;
    while (nl < n && w->xs[nl] < c)
        nl++;
    side_t L = {nl, w->xs, w->Ds, cluster ? w->cls : NULL, w->dups, w->dupsid};
    side_t R = {n - nl, w->xs + nl, w->Ds + nl * nd, cluster ? w->cls + nl : NULL, w->dups + nl,
                w->dupsid + nl};
    /* dups / dupsid within each side, and distinct counts */
    size_t M_side[2] = {0, 0};
    for (int sd = 0; sd < 2; sd++) {
        side_t *s = sd ? &R : &L;
        size_t *dups = (size_t *)s->dups, *dupsid = (size_t *)s->dupsid;
        for (size_t i = 0; i < s->n;) {
            size_t j = i;
            while (j < s->n && s->x[j] == s->x[i])
                j++;
            for (size_t t = i; t < j; t++) {
                dups[t] = j - i;
                dupsid[t] = t - i + 1;
            }
            M_side[sd]++;
            i = j;
        }
    }
    res->n_left = L.n;
    res->n_right = R.n;
    res->m_left = M_side[0];
    res->m_right = M_side[1];
    res->pilot_c = res->pilot_d = NAN;

    gsl_error_handler_t *old = gsl_set_error_handler_off();
    int st = SYF_OK;
    double h = 0, b = 0;
    if (manual) {
        h = opt->h;
        b = opt->b > 0 ? opt->b : h;
        if (!isfinite(b))
            st = syf_error_set(SYF_EINPUT, "rd: the bias bandwidth must be a positive finite number");
    } else {
        /* 2. mserd */
        double mean = 0, ss = 0;
        for (size_t i = 0; i < n; i++)
            mean += w->xs[i];
        mean /= (double)n;
        for (size_t i = 0; i < n; i++)
            ss += (w->xs[i] - mean) * (w->xs[i] - mean);
        double sdx = sqrt(ss / ((double)n - 1));
        double iqr = quantile_type2(w->xs, n, 0.75) - quantile_type2(w->xs, n, 0.25);
        double BWp = sdx < iqr / 1.349 ? sdx : iqr / 1.349;
        double Mtot = opt->masspoints ? (double)(M_side[0] + M_side[1]) : (double)n;
        double cbw = C_TRI * BWp * pow(Mtot, -0.2);
        double range_l = fabs(c - xmin), range_r = fabs(c - xmax);
        double bw_max = range_l > range_r ? range_l : range_r;
        cbw = cbw < bw_max ? cbw : bw_max;
        int bwcheck = 0;
        double bw_min = 0;
        if (opt->masspoints &&
            (1 - (double)M_side[0] / (double)L.n >= 0.1 || 1 - (double)M_side[1] / (double)R.n >= 0.1)) {
            /* 10th distinct value from the cutoff on each side */
            bwcheck = 1;
            double dl = kth_distinct_distance(L.x, L.n, 1, M_side[0] < 10 ? M_side[0] : 10, c);
            double dr = kth_distinct_distance(R.x, R.n, 0, M_side[1] < 10 ? M_side[1] : 10, c);
            bw_min = dl > dr ? dl : dr;
            cbw = cbw > bw_min ? cbw : bw_min;
        }
        bw_const dL, dR, bL, bR, hL, hR;
        if (!st)
            st = bw_side(w, &L, c, 3, 3, 4, cbw, range_l, 0, opt->vce, &dL);
        if (!st)
            st = bw_side(w, &R, c, 3, 3, 4, cbw, range_r, 0, opt->vce, &dR);
        double d = 0;
        if (!st) {
            d = pow((dL.V + dR.V) / ((dR.B - dL.B) * (dR.B - dL.B)), dL.rate);
            d = d < bw_max ? d : bw_max;
            if (bwcheck)
                d = d > bw_min ? d : bw_min;
            st = bw_side(w, &L, c, 2, 2, 3, cbw, d, 1, opt->vce, &bL);
        }
        if (!st)
            st = bw_side(w, &R, c, 2, 2, 3, cbw, d, 1, opt->vce, &bR);
        if (!st) {
            b = pow((bL.V + bR.V) / ((bR.B - bL.B) * (bR.B - bL.B) + bR.R + bL.R), bL.rate);
            b = b < bw_max ? b : bw_max;
            st = bw_side(w, &L, c, 1, 0, 2, cbw, b, 1, opt->vce, &hL);
        }
        if (!st)
            st = bw_side(w, &R, c, 1, 0, 2, cbw, b, 1, opt->vce, &hR);
        if (!st) {
            h = pow((hL.V + hR.V) / ((hR.B - hL.B) * (hR.B - hL.B) + hR.R + hL.R), hL.rate);
            h = h < bw_max ? h : bw_max;
            if (!(isfinite(h) && h > 0 && isfinite(b) && b > 0))
                st = syf_error_set(SYF_ESINGULAR,
                                   "rd: not enough variability in the running variable to choose "
                                   "a bandwidth");
        }
        res->pilot_c = cbw;
        res->pilot_d = d;
        res->bw_selected = 1;
    }
    if (st) {
        gsl_set_error_handler(old);
        return st;
    }
    res->h = h;
    res->b = b;

    /* 3. estimation.  With covariates gamma needs both sides' systems before
     * any variance, so the sides are fitted twice (the fits are cheap): pass
     * 0 accumulates the system, pass 1 takes the variances.  w->rx holds the
     * W_h R_p rows and w->rq the Q rows of the side being processed. */
    side_fit fl, fr;
    double sY[RD_NDMAX], vcl = 0, vrb = 0;
    size_t gl = 0, gr = 0;
    if (dz)
        memset(w->A, 0, dz * nd * sizeof *w->A);
    for (int pass = dz ? 0 : 1; pass < 2 && !st; pass++) {
        if (pass == 1)
            covariate_solve(w, sY);
        for (int sd = 0; sd < 2 && !st; sd++) {
            side_t *s = sd ? &R : &L;
            side_fit *f = sd ? &fr : &fl;
            st = est_side(w, s, c, h, b, f, w->rx, w->rq);
            if (st)
                break;
            if (pass == 0) {
                covariate_system(w, s, f->lo, f->hi, w->wa, w->rx, 2, f->iGp);
                continue;
            }
            double a, bb;
            var_side(w, s, c, opt->vce, f, sY, w->rx, w->rq, &a, &bb, sd ? &gr : &gl);
            vcl += a;
            vrb += bb;
        }
    }
    gsl_set_error_handler(old);
    if (st)
        return st;
    double tcl = 0, tbc = 0;
    for (size_t l = 0; l < nd; l++) {
        tcl += sY[l] * (fr.bp[l] - fl.bp[l]);
        tbc += sY[l] * (fr.bbc[l] - fl.bbc[l]);
    }
    res->nh_left = fl.nh;
    res->nh_right = fr.nh;
    res->nb_left = fl.nb;
    res->nb_right = fr.nb;
    res->g_left = gl;
    res->g_right = gr;
    double z = gsl_cdf_ugaussian_Pinv(1 - (1 - opt->level) / 2);
    res->tau_cl = tcl;
    res->se_cl = sqrt(vcl);
    res->z_cl = tcl / res->se_cl;
    res->p_cl = 2 * gsl_cdf_ugaussian_P(-fabs(res->z_cl));
    res->ci_cl[0] = tcl - z * res->se_cl;
    res->ci_cl[1] = tcl + z * res->se_cl;
    res->tau_bc = tbc;
    res->se_rb = sqrt(vrb);
    res->z_rb = tbc / res->se_rb;
    res->p_rb = 2 * gsl_cdf_ugaussian_P(-fabs(res->z_rb));
    res->ci_rb[0] = tbc - z * res->se_rb;
    res->ci_rb[1] = tbc + z * res->se_rb;
    if (!(isfinite(res->se_cl) && isfinite(res->se_rb)))
        return syf_error_set(SYF_ESINGULAR, "rd: the variance could not be estimated");
    return SYF_OK;
}
