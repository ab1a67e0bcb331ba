/* wildboot.c — restricted wild cluster bootstrap for one OLS coefficient
 * (see wildboot.h for the method, conventions and algebra).
 *
 * Inference for few clusters: `syfosim estimate --method ols --inference wild`
 * calls syf_wild_test() once for the --treat coefficient, and Monte Carlo
 * diagnosis can call it per replication with a reused workspace.  The OLS
 * fit itself (coefficients, residuals, CR1 standard error and every check of
 * the data) comes from analysis/ols.c; this file adds the per-cluster
 * p-vectors of the bootstrap and the O(G p) loop over draws.  It also holds
 * syf_test_invert(), the confidence-interval-by-test-inversion helper that
 * analysis/ri.c shares.
 *
 * Layout of the workspace after a test (g = cluster, p = columns):
 *   zh[g*p..]  (X'X)^{-1} X_g' u^_g          (unrestricted residuals)
 *   zw[g*p..]  (X'X)^{-1} X_g'X_g a_j        (so z_g(r) = zh_g + k(r) zw_g)
 *   wg[g*p..]  X_g'X_g a_j
 * and codes[b*G + g], the weight index of cluster g in draw b, generated
 * once per test.
 *
 * Each draw's t*(r) is a ratio of a linear and the square root of a
 * quadratic function of k(r) = (b^ - r) / a_jj: with D(v) = sum_g v_g zh_g
 * and E(v) = sum_g v_g zw_g, the numerator is D_j + k E_j and the squared
 * scores sum_g (a_g + k b_g)^2, a_g = v_g zh_gj - w_g'D, b_g = v_g zw_gj -
 * w_g'E.  So the five coefficients (D_j, E_j, sum a^2, sum ab, sum b^2) of
 * every draw (row B: the original sample, v = 1) are computed once per
 * test in O(B G p) (quad[]), and every p(r) of the test inversion costs
 * O(B) instead of O(B G p).
 */
#include "syfosim/wildboot.h"
#include "linalg.h"
#include "syfosim/error.h"
#include "syfosim/ols.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Relative tolerance under which |t*| and |t| count as tied. */
#define SYF_WILD_TIE 1e-9
/* Largest weight cache (one byte per cluster and draw); beyond it the
 * weights are regenerated from the streams at every evaluation of p(r). */
#define SYF_WILD_CACHE_MAX ((size_t)64 << 20)
/* Widening steps (doublings of the half-width) before a limit is infinite. */
#define SYF_INVERT_MAX_DOUBLINGS 40
#define SYF_INVERT_MAX_ITER 200

struct syf_wild_workspace {
    size_t n_max, p, G_max, B_max;
    syf_ols_workspace *ols;
    gsl_root_fsolver *solver;
    /* p x p and p */
    double *A, *Ainv, *D, *aj, *delta, *tmp;
    /* G_max x p */
    double *zh, *zw, *wg;
    /* G_max */
    double *v;
    /* B_max */
    double *tboot;
    /* (B_max + 1) x 5: each draw's t*(r) coefficients (see the top) */
    double *quad;
    /* weight codes of every draw (B x G bytes), grown on demand */
    unsigned char *codes;
    size_t codes_cap;
    int cached;
    /* the state of the last test */
    size_t n, G, j, B;
    int enumerated;
    syf_wild_weights weights;
    uint64_t seed, rep;
    double factor, bhat, ajj;
};

static const double webb_values[6] = {-1.2247448713915890491, -1.0, -0.70710678118654752440,
                                      0.70710678118654752440, 1.0, 1.2247448713915890491};

const char *syf_wild_weights_name(syf_wild_weights weights)
{
    return weights == SYF_WILD_WEBB ? "webb" : "rademacher";
}

int syf_wild_weights_parse(const char *name, syf_wild_weights *weights)
{
    if (!strcasecmp(name, "rademacher")) {
        *weights = SYF_WILD_RADEMACHER;
        return SYF_OK;
    }
    if (!strcasecmp(name, "webb")) {
        *weights = SYF_WILD_WEBB;
        return SYF_OK;
    }
    return syf_error_set(SYF_EINPUT, "unknown bootstrap weights '%s' (choose rademacher or webb)",
                         name);
}

void syf_wild_free(syf_wild_workspace *w)
{
    if (!w)
        return;
    syf_ols_free(w->ols);
    if (w->solver)
        gsl_root_fsolver_free(w->solver);
    double **pp[] = {&w->A, &w->Ainv, &w->D, &w->aj, &w->delta, &w->tmp, &w->zh,
                     &w->zw, &w->wg,  &w->v,  &w->tboot, &w->quad};
    for (size_t i = 0; i < sizeof pp / sizeof pp[0]; i++)
        free(*pp[i]);
    free(w->codes);
    free(w);
}

syf_wild_workspace *syf_wild_alloc(size_t n_max, size_t p, size_t G_max, size_t B_max)
{
    if (p == 0 || B_max == 0)
        return NULL;
    syf_wild_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->n_max = n_max;
    w->p = p;
    w->G_max = G_max;
    w->B_max = B_max;
    size_t Gm = G_max > n_max ? G_max : n_max; /* cluster == NULL uses G = n */
    int ok = 1;
#define ALLOC(f, cnt) ok = ok && ((w->f = calloc((cnt) > 0 ? (size_t)(cnt) : 1u, sizeof *w->f)) != NULL)
    ALLOC(A, p * p); ALLOC(Ainv, p * p); ALLOC(D, p); ALLOC(aj, p); ALLOC(delta, p);
    ALLOC(tmp, p); ALLOC(zh, Gm * p); ALLOC(zw, Gm * p); ALLOC(wg, Gm * p);
    ALLOC(v, Gm); ALLOC(tboot, B_max); ALLOC(quad, (B_max + 1) * 5);
#undef ALLOC
    ok = ok && (w->ols = syf_ols_alloc(n_max, p, G_max > 1 ? G_max : 1)) != NULL;
    ok = ok && (w->solver = gsl_root_fsolver_alloc(gsl_root_fsolver_brent)) != NULL;
    if (!ok) {
        syf_wild_free(w);
        return NULL;
    }
    return w;
}

/* ------------------------------------------------------------------------ */
/* Draws. */

/* Number of distinct weight vectors k^G if it is at most B, else 0. */
static size_t enumeration_size(size_t k, size_t G, size_t B)
{
    size_t tot = 1;
    for (size_t g = 0; g < G; g++) {
        if (tot > B / k)
            return 0;
        tot *= k;
    }
    return tot;
}

static const double rademacher_values[2] = {1.0, -1.0};

/* The weight codes of draw b (index into rademacher_values / webb_values). */
static void draw_codes(const syf_wild_workspace *w, size_t b, unsigned char *c)
{
    size_t G = w->G;
    if (w->enumerated) {
        size_t k = w->weights == SYF_WILD_WEBB ? 6 : 2;
        for (size_t g = 0; g < G; g++) {
            c[g] = (unsigned char)(b % k);
            b /= k;
        }
        return;
    }
    syf_stream s;
    syf_stream_init(&s, w->seed, w->rep, b, SYF_PURPOSE_WILD);
    if (w->weights == SYF_WILD_RADEMACHER) {
        uint64_t bits = 0;
        for (size_t g = 0; g < G; g++) {
            if (g % 64 == 0)
                bits = syf_stream_u64(&s);
            c[g] = (unsigned char)((bits >> (g % 64)) & 1u);
        }
    } else {
        for (size_t g = 0; g < G; g++) {
            uint64_t u = syf_stream_u64(&s) >> 32; /* 32 bits; index = floor(6 u / 2^32) */
            c[g] = (unsigned char)((u * 6u) >> 32);
        }
    }
}

/* The weights of draw b into w->v (from the cache when there is one). */
static void draw_weights(syf_wild_workspace *w, size_t b)
{
    size_t G = w->G;
    const double *val = w->weights == SYF_WILD_WEBB ? webb_values : rademacher_values;
    const unsigned char *c = w->codes + (w->cached ? b * G : 0);
    if (!w->cached)
        draw_codes(w, b, w->codes);
    for (size_t g = 0; g < G; g++)
        w->v[g] = val[c[g]];
}

/* Fill the cache with every draw's codes if it fits (grown on demand, so a
 * reused workspace stops allocating); otherwise keep room for one draw. */
static int fill_cache(syf_wild_workspace *w)
{
    size_t G = w->G, need = w->B * G;
    w->cached = w->B <= SYF_WILD_CACHE_MAX / (G ? G : 1);
    if (!w->cached)
        need = G;
    if (need > w->codes_cap) {
        unsigned char *c = realloc(w->codes, need);
        if (!c && w->cached) { /* no room for the cache: regenerate instead */
            w->cached = 0;
            need = G;
            c = need <= w->codes_cap ? w->codes : realloc(w->codes, need);
        }
        if (!c)
            return syf_error_set(SYF_ENOMEM, "out of memory (wild bootstrap weights)");
        w->codes = c;
        w->codes_cap = need > w->codes_cap ? need : w->codes_cap;
    }
    if (w->cached)
        for (size_t b = 0; b < w->B; b++)
            draw_codes(w, b, w->codes + b * G);
    return SYF_OK;
}

/* The t*(r) coefficients of the weights v (NULL: all ones, the original
 * sample) into q[0..4] (see the top of the file). */
static void quad_coef(syf_wild_workspace *w, const double *v, double *q)
{
    size_t p = w->p, G = w->G, j = w->j;
    double *D = w->delta, *E = w->tmp;
    memset(D, 0, p * sizeof *D);
    memset(E, 0, p * sizeof *E);
    for (size_t g = 0; g < G; g++) {
        const double *zh = w->zh + g * p, *zw = w->zw + g * p;
        double vg = v ? v[g] : 1.0;
        for (size_t l = 0; l < p; l++) {
            D[l] += vg * zh[l];
            E[l] += vg * zw[l];
        }
    }
    double aa = 0, ab = 0, bb = 0;
    for (size_t g = 0; g < G; g++) {
        const double *wgg = w->wg + g * p;
        double vg = v ? v[g] : 1.0;
        double a = vg * w->zh[g * p + j], b = vg * w->zw[g * p + j];
        for (size_t l = 0; l < p; l++) {
            a -= wgg[l] * D[l];
            b -= wgg[l] * E[l];
        }
        aa += a * a;
        ab += a * b;
        bb += b * b;
    }
    q[0] = D[j];
    q[1] = E[j];
    q[2] = aa;
    q[3] = ab;
    q[4] = bb;
}

/* Every draw's coefficients, and the original sample's in row B. */
static void fill_quad(syf_wild_workspace *w)
{
    for (size_t b = 0; b < w->B; b++) {
        draw_weights(w, b);
        quad_coef(w, w->v, w->quad + 5 * b);
    }
    quad_coef(w, NULL, w->quad + 5 * w->B);
}

/* t*(r) of the draw with coefficients q, at k = k(r). */
static double quad_t(const syf_wild_workspace *w, const double *q, double k)
{
    double den = q[2] + k * (2.0 * q[3] + k * q[4]);
    return (q[0] + k * q[1]) / sqrt(w->factor * fmax(den, 0.0));
}

/* p(r); with `store`, the t*_b go to w->tboot. */
static double pvalue_at(syf_wild_workspace *w, double r, int store)
{
    const double k = (w->bhat - r) / w->ajj;
    double t0 = fabs(quad_t(w, w->quad + 5 * w->B, k));
    double thr = t0 * (1.0 + SYF_WILD_TIE);
    size_t count = 0;
    for (size_t b = 0; b < w->B; b++) {
        double t = quad_t(w, w->quad + 5 * b, k);
        if (store)
            w->tboot[b] = t;
        if (fabs(t) > thr)
            count++;
    }
    return (double)count / (double)w->B;
}

double syf_wild_pvalue(syf_wild_workspace *w, double r) { return pvalue_at(w, r, 0); }

static double pvalue_cb(double r, void *params) { return pvalue_at(params, r, 0); }

/* ------------------------------------------------------------------------ */
/* Test inversion. */

typedef struct {
    double (*pfun)(double, void *);
    void *params;
    double alpha;
} invert_params;

/* p - alpha, never exactly 0 (p == alpha is a rejection: negative). */
static double invert_f(double r, void *vp)
{
    const invert_params *ip = vp;
    double d = ip->pfun(r, ip->params) - ip->alpha;
    return d > 0 ? d : fmin(d, -1e-12);
}

static int invert_side(gsl_root_fsolver *solver, invert_params *ip, double center,
                       double half_width, double dir, double *limit)
{
    double inner = center, h = half_width, outer = center + dir * h;
    int k = 0;
    while (ip->pfun(outer, ip->params) > ip->alpha) {
        inner = outer;
        if (++k > SYF_INVERT_MAX_DOUBLINGS) {
            *limit = dir * INFINITY;
            return SYF_OK;
        }
        h *= 2;
        outer = center + dir * h;
    }
    /* f(inner) > 0 > f(outer) and f is finite, so GSL raises no error here
     * (the error handler is left alone: changing it is not thread-safe). */
    gsl_function F = {invert_f, ip};
    double lo = fmin(inner, outer), hi = fmax(inner, outer);
    int st = gsl_root_fsolver_set(solver, &F, lo, hi);
    for (int it = 0; st == GSL_SUCCESS && it < SYF_INVERT_MAX_ITER; it++) {
        st = gsl_root_fsolver_iterate(solver);
        lo = gsl_root_fsolver_x_lower(solver);
        hi = gsl_root_fsolver_x_upper(solver);
        if (st == GSL_SUCCESS &&
            gsl_root_test_interval(lo, hi, 1e-13 * half_width, 1e-10) == GSL_SUCCESS)
            break;
    }
    if (st != GSL_SUCCESS)
        return syf_error_set(SYF_ERUNTIME, "confidence interval by test inversion: root "
                                           "finding failed (%s)", gsl_strerror(st));
    *limit = 0.5 * (lo + hi);
    return SYF_OK;
}

int syf_test_invert(gsl_root_fsolver *solver, double (*pfun)(double r, void *params),
                    void *params, double center, double half_width, double alpha,
                    double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (!(isfinite(center) && alpha > 0 && alpha < 1))
        return syf_error_set(SYF_EINPUT, "test inversion: bad center %g or alpha %g", center,
                             alpha);
    if (!(half_width > 0 && isfinite(half_width)))
        half_width = fmax(fabs(center), 1.0) * 1e-3;
    invert_params ip = {pfun, params, alpha};
    if (!(pfun(center, params) > alpha))
        return SYF_OK; /* not even the center is accepted: no interval */
    int st = invert_side(solver, &ip, center, half_width, -1.0, lo);
    if (st == SYF_OK)
        st = invert_side(solver, &ip, center, half_width, 1.0, hi);
    return st;
}

/* ------------------------------------------------------------------------ */

/* (X'X)^{-1} into w->Ainv from w->A (scaled to unit diagonal first). */
static int invert_xtx(syf_wild_workspace *w)
{
    size_t p = w->p;
    if (syf_linalg_unit_diag(p, w->A, w->D, NULL) == SYF_LINALG_ZERO_DIAG)
        return syf_error_set(SYF_ESINGULAR, "design matrix is singular");
    syf_linalg_scale(p, w->A, w->D, SYF_LINALG_FULL, w->Ainv);
    /* Positive definite: syf_ols_fit has checked the spectrum of this same
     * unit-diagonal matrix, so the Cholesky factorisation cannot fail. */
    gsl_matrix_view S = gsl_matrix_view_array(w->Ainv, p, p);
    int st = gsl_linalg_cholesky_decomp1(&S.matrix);
    if (st == GSL_SUCCESS)
        st = syf_linalg_chol_inverse_scaled(p, w->Ainv, w->D, 1.0, w->Ainv);
    if (st != GSL_SUCCESS)
        return syf_error_set(SYF_ESINGULAR, "design matrix is singular (collinear columns?)");
    return SYF_OK;
}

int syf_wild_test(syf_wild_workspace *w, size_t n, const double *X, const double *y,
                  const size_t *cluster, size_t G, const syf_wild_options *opt,
                  syf_wild_result *res)
{
    size_t p = w->p, j = opt->coef;
    size_t B = opt->draws ? opt->draws : 999;
    double level = opt->level == 0 ? 0.95 : opt->level;
    if (j >= p)
        return syf_error_set(SYF_EINPUT, "wild bootstrap: coefficient %zu is not below p = %zu",
                             j, p);
    if (B > w->B_max)
        return syf_error_set(SYF_EINPUT, "wild bootstrap: %zu draws exceed the workspace size %zu",
                             B, w->B_max);
    if (!(level > 0 && level < 1))
        return syf_error_set(SYF_EINPUT, "confidence level must be in (0, 1), got %g", level);
    if (opt->weights != SYF_WILD_RADEMACHER && opt->weights != SYF_WILD_WEBB)
        return syf_error_set(SYF_EINPUT, "unknown bootstrap weights %d", (int)opt->weights);

    syf_ols_result fit;
    int st = syf_ols_fit(w->ols, n, X, y, cluster, G, SYF_VCOV_CR1, level, &fit);
    if (st)
        return st;
    G = fit.G;

    /* X'X and its inverse. */
    double *A = w->A;
    memset(A, 0, p * p * sizeof *A);
    for (size_t i = 0; i < n; i++)
        syf_linalg_outer_add(A, X + i * p, p);
    syf_linalg_symmetrise(A, p);
    if ((st = invert_xtx(w)))
        return st;
    for (size_t l = 0; l < p; l++)
        w->aj[l] = w->Ainv[l * p + j];

    /* Per cluster: s_g = X_g'u^_g (into zh) and w_g = X_g'X_g a_j. */
    memset(w->zh, 0, G * p * sizeof *w->zh);
    memset(w->wg, 0, G * p * sizeof *w->wg);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        size_t g = cluster ? cluster[i] : i;
        double e = fit.residual[i], xa = 0;
        for (size_t l = 0; l < p; l++)
            xa += x[l] * w->aj[l];
        double *s = w->zh + g * p, *wv = w->wg + g * p;
        for (size_t l = 0; l < p; l++) {
            s[l] += x[l] * e;
            wv[l] += x[l] * xa;
        }
    }
    /* zh_g = Ainv s_g, zw_g = Ainv w_g. */
    for (size_t g = 0; g < G; g++) {
        double *s = w->zh + g * p, *wv = w->wg + g * p, *zw = w->zw + g * p;
        memcpy(w->tmp, s, p * sizeof *s);
        for (size_t l = 0; l < p; l++) {
            double a = 0, c = 0;
            for (size_t m = 0; m < p; m++) {
                a += w->Ainv[l * p + m] * w->tmp[m];
                c += w->Ainv[l * p + m] * wv[m];
            }
            s[l] = a;
            zw[l] = c;
        }
    }

    w->n = n;
    w->G = G;
    w->j = j;
    w->weights = opt->weights;
    w->seed = opt->seed;
    w->rep = opt->rep;
    w->factor = (double)G / (double)(G - 1) * (double)(n - 1) / (double)(n - p);
    w->bhat = fit.estimate[j];
    w->ajj = w->aj[j];
    size_t E = enumeration_size(opt->weights == SYF_WILD_WEBB ? 6 : 2, G, B);
    w->enumerated = E > 0;
    w->B = E ? E : B;
    if ((st = fill_cache(w)))
        return st;
    fill_quad(w);

    double r = opt->null_value;
    double pv = pvalue_at(w, r, 1);
    double lo = NAN, hi = NAN;
    if (opt->want_ci) {
        double q = gsl_cdf_tdist_Qinv((1.0 - level) / 2, (double)(G - 1));
        st = syf_test_invert(w->solver, pvalue_cb, w, w->bhat, q * fit.std_error[j], 1.0 - level,
                             &lo, &hi);
        if (st)
            return st;
    }
    *res = (syf_wild_result){
        .n = n, .G = G, .coef = j, .estimate = w->bhat, .std_error = fit.std_error[j],
        .statistic = (w->bhat - r) / fit.std_error[j], .null_value = r, .p_value = pv,
        .level = level, .conf_low = lo, .conf_high = hi, .draws = w->B,
        .enumerated = w->enumerated, .weights = w->weights, .t_boot = w->tboot,
    };
    return SYF_OK;
}
