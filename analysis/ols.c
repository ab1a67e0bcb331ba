/* ols.c — OLS with cluster-robust variance CR0/CR1/CR2/CR3 (see ols.h).
 *
 * The workhorse estimator: `syfosim estimate --method ols` calls it once on a
 * user's CSV, and Monte Carlo diagnosis calls it thousands of times per
 * thread on simulated trials, so a fit allocates nothing and never forms an
 * n_g x n_g matrix.
 *
 * Outline of syf_ols_fit():
 *   1. X'X and X'y in one pass over the rows.  X'X is scaled to unit diagonal
 *      (S = D X'X D) and its eigenvalues checked for (near) collinearity
 *      (syf_linalg_spd_*, linalg.c); then Cholesky of S gives b, (X'X)^{-1}
 *      and L = D^{-1} chol(S), the Cholesky factor of X'X itself.
 *   2. Residuals, then the rows are bucketed by cluster (counting sort).
 *   3. Per cluster: B_g = X_g'X_g and s_g = X_g'e_g.  For CR2/CR3, the
 *      eigen-decomposition of M_g = L^{-1} B_g L^{-T} (p x p, eigenvalues in
 *      [0,1) are the nonzero eigenvalues of H_gg) gives T_g with
 *      A_g X_g = X_g T_g, so the score is u_g = X_g' A_g e_g = T_g' s_g.
 *      One-row clusters skip the eigen-decomposition (T_g = alpha I).
 *   4. For CR2 the Satterthwaite df for each coefficient j (a = column j of
 *      (X'X)^{-1}) needs, per cluster, d_g = v'B_g v and k_g = L^{-1} B_g v
 *      with v = T_g a; then with Omega = diag(d) - K'K,
 *        tr Omega = sum d_g - sum |k_g|^2,
 *        |Omega|_F^2 = sum d_g^2 - 2 sum d_g |k_g|^2 + |sum k_g k_g'|_F^2,
 *      which is O(G p^2) per coefficient instead of O(G^2) or O(n^2).
 */
#include "syfosim/ols.h"
#include "linalg.h"
#include "syfosim/error.h"

#include <gsl/gsl_blas.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Smallest eigenvalue ratio of the unit-diagonal X'X accepted as regular. */
#define SYF_OLS_COLLINEAR_TOL 1e-12
/* 1 - (largest eigenvalue of H_gg) below this means I - H_gg is singular. */
#define SYF_OLS_LEVERAGE_TOL 1e-10

struct syf_ols_workspace {
    size_t n_max, p, G_max;
    size_t bad_cluster;

    /* p x p */
    double *A, *Schol, *L, *Ainv, *meat, *vcov;
    double *B, *C, *M, *Q, *F, *T;
    /* p */
    double *b, *Xty, *lambda, *s, *u, *v, *wv, *k;
    double *se, *stat, *df, *pval, *lo, *hi;
    /* Satterthwaite accumulators, p each and p x p x p for sum k k' */
    double *sum_d, *sum_k2, *sum_d2, *sum_dk2, *KK;
    /* n_max, G_max + 1 */
    double *e;
    size_t *order, *start;

    gsl_eigen_symmv_workspace *eig;
    syf_linalg_spd *spd; /* the collinearity check of X'X; spd->D scales it */
};

const char *syf_vcov_type_name(syf_vcov_type type)
{
    switch (type) {
    case SYF_VCOV_CR0: return "CR0";
    case SYF_VCOV_CR1: return "CR1";
    case SYF_VCOV_CR2: return "CR2";
    case SYF_VCOV_CR3: return "CR3";
    }
    return "?";
}

int syf_vcov_type_parse(const char *name, syf_vcov_type *type)
{
    static const syf_vcov_type all[] = {SYF_VCOV_CR0, SYF_VCOV_CR1, SYF_VCOV_CR2, SYF_VCOV_CR3};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (!strcasecmp(name, syf_vcov_type_name(all[i]))) {
            *type = all[i];
            return SYF_OK;
        }
    return syf_error_set(SYF_EINPUT, "unknown standard-error type '%s' (choose CR0, CR1, CR2 or CR3)",
                         name);
}

void syf_ols_free(syf_ols_workspace *w)
{
    if (!w)
        return;
    double **pp[] = {&w->A,  &w->Schol, &w->L,     &w->Ainv,   &w->meat,    &w->vcov, &w->B,
                     &w->C,  &w->M,     &w->Q,     &w->F,      &w->T,       &w->b,    &w->Xty,
                     &w->lambda, &w->s, &w->u,     &w->v,      &w->wv,      &w->k,    &w->se,
                     &w->stat, &w->df,  &w->pval,  &w->lo,     &w->hi,      &w->sum_d,
                     &w->sum_k2, &w->sum_d2, &w->sum_dk2, &w->KK, &w->e};
    for (size_t i = 0; i < sizeof pp / sizeof pp[0]; i++)
        free(*pp[i]);
    free(w->order);
    free(w->start);
    if (w->eig)
        gsl_eigen_symmv_free(w->eig);
    syf_linalg_spd_free(w->spd);
    free(w);
}

syf_ols_workspace *syf_ols_alloc(size_t n_max, size_t p, size_t G_max)
{
    if (p == 0)
        return NULL;
    syf_ols_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->n_max = n_max;
    w->p = p;
    w->G_max = G_max;
    w->bad_cluster = (size_t)-1;
    size_t pp = p * p;
    int ok = 1;
#define ALLOC(f, cnt) ok = ok && ((w->f = calloc((cnt) > 0 ? (size_t)(cnt) : 1u, sizeof *w->f)) != NULL)
    ALLOC(A, pp); ALLOC(Schol, pp); ALLOC(L, pp); ALLOC(Ainv, pp);
    ALLOC(meat, pp); ALLOC(vcov, pp); ALLOC(B, pp); ALLOC(C, pp); ALLOC(M, pp);
    ALLOC(Q, pp); ALLOC(F, pp); ALLOC(T, pp);
    ALLOC(b, p); ALLOC(Xty, p); ALLOC(lambda, p); ALLOC(s, p); ALLOC(u, p);
    ALLOC(v, p); ALLOC(wv, p); ALLOC(k, p); ALLOC(se, p); ALLOC(stat, p); ALLOC(df, p);
    ALLOC(pval, p); ALLOC(lo, p); ALLOC(hi, p);
    ALLOC(sum_d, p); ALLOC(sum_k2, p); ALLOC(sum_d2, p); ALLOC(sum_dk2, p); ALLOC(KK, pp * p);
    ALLOC(e, n_max); ALLOC(order, n_max); ALLOC(start, G_max + 1);
#undef ALLOC
    ok = ok && (w->eig = gsl_eigen_symmv_alloc(p)) != NULL;
    ok = ok && (w->spd = syf_linalg_spd_alloc(p, SYF_LINALG_VECTORS)) != NULL;
    if (!ok) {
        syf_ols_free(w);
        return NULL;
    }
    return w;
}

size_t syf_ols_singular_cluster(const syf_ols_workspace *w) { return w->bad_cluster; }

/* ------------------------------------------------------------------------ */
/* Small dense helpers on row-major p x p arrays. */

static inline gsl_matrix_view mat(double *a, size_t p) { return gsl_matrix_view_array(a, p, p); }
static inline gsl_vector_view vec(double *a, size_t p) { return gsl_vector_view_array(a, p); }

/* Symmetric eigen-decomposition of the p x p matrix a (destroyed): values in
 * lambda, vectors as the columns of vecs. */
static void eigen(syf_ols_workspace *w, double *a, double *lambda, double *vecs)
{
    size_t p = w->p;
    gsl_matrix_view A = mat(a, p), V = mat(vecs, p);
    gsl_vector_view l = vec(lambda, p);
    gsl_eigen_symmv(&A.matrix, &l.vector, &V.matrix, w->eig);
}

/* Step 1: X'X, its factorisation, the coefficients and (X'X)^{-1}. */
static int factor_xtx(syf_ols_workspace *w, size_t n, const double *X, const double *y)
{
    size_t p = w->p;
    double *A = w->A;
    memset(A, 0, p * p * sizeof *A);
    memset(w->Xty, 0, p * sizeof *w->Xty);
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        for (size_t j = 0; j < p; j++)
            w->Xty[j] += x[j] * y[i];
        syf_linalg_outer_add(A, x, p);
    }
    syf_linalg_symmetrise(A, p);

    /* S = D A D (unit diagonal) into Schol; check its spectrum.  An infinite
     * diagonal (SYF_LINALG_NONFINITE_DIAG) goes on to that check. */
    size_t bad = 0;
    if (syf_linalg_spd_scale(w->spd, A, SYF_LINALG_FULL, &bad) == SYF_LINALG_ZERO_DIAG)
        return syf_error_set(SYF_ESINGULAR,
                             "design matrix is singular: column %zu is all zeros", bad + 1);
    const double *D = w->spd->D;
    memcpy(w->Schol, w->spd->S, p * p * sizeof *w->Schol);
    if (syf_linalg_spd_check(w->spd, SYF_OLS_COLLINEAR_TOL, 0.0) != SYF_LINALG_OK)
        return syf_error_set(SYF_ESINGULAR,
                             "design matrix is singular (collinear columns?) - e.g. a regressor "
                             "that is a combination of others, or constant like the intercept");

    gsl_matrix_view S = mat(w->Schol, p);
    if (gsl_linalg_cholesky_decomp1(&S.matrix) != GSL_SUCCESS)
        return syf_error_set(SYF_ESINGULAR, "design matrix is singular (collinear columns?)");

    /* b: S (D^{-1} b) = D X'y. */
    syf_linalg_chol_solve_scaled(p, w->Schol, D, w->Xty, w->b);

    /* L = D^{-1} chol(S) (lower), the Cholesky factor of X'X. */
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < p; l++)
            w->L[j * p + l] = l <= j ? w->Schol[j * p + l] / D[j] : 0.0;

    /* (X'X)^{-1} = D S^{-1} D. */
    syf_linalg_chol_inverse_scaled(p, w->Schol, D, 1.0, w->Ainv);
    return SYF_OK;
}

/* Step 3 for one cluster with rows `rows[0..ng)`: fill w->B (= X_g'X_g) and
 * w->s (= X_g'e_g), and for CR2/CR3 w->T with A_g X_g = X_g T_g.  Returns
 * SYF_ESINGULAR if I - H_gg is singular. */
static int cluster_terms(syf_ols_workspace *w, const double *X, const size_t *rows, size_t ng,
                         syf_vcov_type type, size_t g)
{
    size_t p = w->p;
    double *B = w->B, *s = w->s;
    memset(B, 0, p * p * sizeof *B);
    memset(s, 0, p * sizeof *s);
    for (size_t r = 0; r < ng; r++) {
        size_t i = rows[r];
        const double *x = X + i * p;
        double ei = w->e[i];
        for (size_t j = 0; j < p; j++)
            s[j] += x[j] * ei;
        syf_linalg_outer_add(B, x, p);
    }
    syf_linalg_symmetrise(B, p);

    if (type != SYF_VCOV_CR2 && type != SYF_VCOV_CR3)
        return SYF_OK;

    gsl_matrix_view Lm = mat(w->L, p);
    double *T = w->T;
    if (ng == 1) {
        /* H_gg is the scalar leverage h = |L^{-1} x|^2; A_g = alpha. */
        const double *x = X + rows[0] * p;
        memcpy(w->k, x, p * sizeof *x);
        gsl_vector_view kv = vec(w->k, p);
        gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, &Lm.matrix, &kv.vector);
        double h = 0;
        for (size_t j = 0; j < p; j++)
            h += w->k[j] * w->k[j];
        double one_h = 1.0 - h;
        if (!(one_h > SYF_OLS_LEVERAGE_TOL))
            goto singular;
        double alpha = type == SYF_VCOV_CR2 ? 1.0 / sqrt(one_h) : 1.0 / one_h;
        memset(T, 0, p * p * sizeof *T);
        for (size_t j = 0; j < p; j++)
            T[j * p + j] = alpha;
        return SYF_OK;
    }

    /* M = L^{-1} B L^{-T} = L^{-1} (L^{-1} B)'  (B symmetric). */
    memcpy(w->C, B, p * p * sizeof *B);
    gsl_matrix_view Cm = mat(w->C, p), Mm = mat(w->M, p);
    gsl_blas_dtrsm(CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, 1.0, &Lm.matrix, &Cm.matrix);
    gsl_matrix_transpose_memcpy(&Mm.matrix, &Cm.matrix);
    gsl_blas_dtrsm(CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, 1.0, &Lm.matrix, &Mm.matrix);
    for (size_t j = 0; j < p; j++)
        for (size_t l = 0; l < j; l++) {
            double a = 0.5 * (w->M[j * p + l] + w->M[l * p + j]);
            w->M[j * p + l] = w->M[l * p + j] = a;
        }
    eigen(w, w->M, w->lambda, w->Q); /* Q holds V */

    /* Q = L^{-T} V, scaled column-wise by sqrt(phi(lambda)) so F = Q Q'. */
    gsl_matrix_view Qm = mat(w->Q, p);
    gsl_blas_dtrsm(CblasLeft, CblasLower, CblasTrans, CblasNonUnit, 1.0, &Lm.matrix, &Qm.matrix);
    for (size_t j = 0; j < p; j++) {
        double lam = w->lambda[j];
        if (lam < 0)
            lam = 0; /* rounding below the true 0 */
        double one_l = 1.0 - lam;
        if (!(one_l > SYF_OLS_LEVERAGE_TOL))
            goto singular;
        double sq = sqrt(one_l);
        /* ((1-l)^{-1/2} - 1)/l = 1/(s(1+s)), s = sqrt(1-l): no cancellation. */
        double phi = type == SYF_VCOV_CR2 ? 1.0 / (sq * (1.0 + sq)) : 1.0 / one_l;
        double r = sqrt(phi);
        for (size_t l = 0; l < p; l++)
            w->Q[l * p + j] *= r;
    }
    gsl_matrix_view Fm = mat(w->F, p), Bm = mat(B, p), Tm = mat(T, p);
    gsl_blas_dgemm(CblasNoTrans, CblasTrans, 1.0, &Qm.matrix, &Qm.matrix, 0.0, &Fm.matrix);
    gsl_matrix_set_identity(&Tm.matrix);
    gsl_blas_dgemm(CblasNoTrans, CblasNoTrans, 1.0, &Fm.matrix, &Bm.matrix, 1.0, &Tm.matrix);
    return SYF_OK;

singular:
    w->bad_cluster = g;
    return syf_error_set(SYF_ESINGULAR,
                         "%s is undefined: I - H_gg is singular for cluster code %zu "
                         "(leverage 1, e.g. a one-row cluster with its own dummy column); "
                         "use CR1 or drop that cluster",
                         syf_vcov_type_name(type), g);
}

/* Step 4: add this cluster's Satterthwaite terms for every coefficient. */
static void satterthwaite_add(syf_ols_workspace *w)
{
    size_t p = w->p;
    gsl_matrix_view Tm = mat(w->T, p), Bm = mat(w->B, p), Lm = mat(w->L, p);
    gsl_vector_view vv = vec(w->v, p), wvv = vec(w->wv, p), kv = vec(w->k, p);
    for (size_t j = 0; j < p; j++) {
        gsl_vector_view a = gsl_vector_view_array(w->Ainv + j * p, p); /* row j = column j */
        gsl_blas_dgemv(CblasNoTrans, 1.0, &Tm.matrix, &a.vector, 0.0, &vv.vector);
        gsl_blas_dgemv(CblasNoTrans, 1.0, &Bm.matrix, &vv.vector, 0.0, &wvv.vector);
        double d;
        gsl_blas_ddot(&vv.vector, &wvv.vector, &d);
        memcpy(w->k, w->wv, p * sizeof *w->k);
        gsl_blas_dtrsv(CblasLower, CblasNoTrans, CblasNonUnit, &Lm.matrix, &kv.vector);
        double k2 = 0;
        for (size_t l = 0; l < p; l++)
            k2 += w->k[l] * w->k[l];
        w->sum_d[j] += d;
        w->sum_k2[j] += k2;
        w->sum_d2[j] += d * d;
        w->sum_dk2[j] += d * k2;
        double *KK = w->KK + j * p * p;
        for (size_t l = 0; l < p; l++)
            for (size_t m = l; m < p; m++)
                KK[l * p + m] += w->k[l] * w->k[m];
    }
}

int syf_ols_fit(syf_ols_workspace *w, size_t n, const double *X, const double *y,
                const size_t *cluster, size_t G, syf_vcov_type type, double level,
                syf_ols_result *res)
{
    size_t p = w->p;
    w->bad_cluster = (size_t)-1;
    if (level == 0)
        level = 0.95;
    if (!(level > 0 && level < 1))
        return syf_error_set(SYF_EINPUT, "confidence level must be in (0, 1), got %g", level);
    if ((unsigned)type > SYF_VCOV_CR3)
        return syf_error_set(SYF_EINPUT, "unknown variance type %d", (int)type);
    if (n > w->n_max)
        return syf_error_set(SYF_EINPUT, "%zu rows exceed the workspace size %zu", n, w->n_max);
    if (n <= p)
        return syf_error_set(SYF_EINPUT, "need more rows than coefficients (%zu rows, %zu coefficients)",
                             n, p);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]))
            return syf_error_set(SYF_EINPUT, "outcome is not finite in row %zu", i + 1);
        for (size_t j = 0; j < p; j++)
            if (!isfinite(X[i * p + j]))
                return syf_error_set(SYF_EINPUT, "design matrix is not finite in row %zu, column %zu",
                                     i + 1, j + 1);
    }

    /* Clusters: bucket the rows (counting sort, stable). */
    if (cluster) {
        int st = syf_linalg_check_clusters(n, cluster, G, w->G_max);
        if (st)
            return st;
        syf_linalg_group(n, cluster, G, w->start, w->order);
        for (size_t g = 0; g < G; g++)
            if (w->start[g + 1] == w->start[g])
                return syf_error_set(SYF_EINPUT, "cluster code %zu has no rows", g);
    } else {
        G = n;
    }

    int st = factor_xtx(w, n, X, y);
    if (st)
        return st;

    double rss = 0;
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        double fit = 0;
        for (size_t j = 0; j < p; j++)
            fit += x[j] * w->b[j];
        w->e[i] = y[i] - fit;
        rss += w->e[i] * w->e[i];
    }

    int want_df = type == SYF_VCOV_CR2;
    memset(w->meat, 0, p * p * sizeof *w->meat);
    if (want_df) {
        memset(w->sum_d, 0, p * sizeof *w->sum_d);
        memset(w->sum_k2, 0, p * sizeof *w->sum_k2);
        memset(w->sum_d2, 0, p * sizeof *w->sum_d2);
        memset(w->sum_dk2, 0, p * sizeof *w->sum_dk2);
        memset(w->KK, 0, p * p * p * sizeof *w->KK);
    }
    int adjusted = type == SYF_VCOV_CR2 || type == SYF_VCOV_CR3;
    for (size_t g = 0; g < G; g++) {
        size_t one = g, ng = 1;
        const size_t *rows = &one;
        if (cluster) {
            rows = w->order + w->start[g];
            ng = w->start[g + 1] - w->start[g];
        }
        st = cluster_terms(w, X, rows, ng, type, g);
        if (st)
            return st;
        const double *u = w->s;
        if (adjusted) { /* u = T' s */
            for (size_t j = 0; j < p; j++) {
                double a = 0;
                for (size_t l = 0; l < p; l++)
                    a += w->T[l * p + j] * w->s[l];
                w->u[j] = a;
            }
            u = w->u;
        }
        syf_linalg_outer_add(w->meat, u, p);
        if (want_df)
            satterthwaite_add(w);
    }
    syf_linalg_symmetrise(w->meat, p);

    /* V = Ainv meat Ainv (times the CR1 factor). */
    double factor = 1.0;
    if (type == SYF_VCOV_CR1)
        factor = (double)G / (double)(G - 1) * (double)(n - 1) / (double)(n - p);
    syf_linalg_sandwich_blas(p, w->Ainv, w->meat, factor, w->C, w->vcov);

    double alpha = 1.0 - level;
    for (size_t j = 0; j < p; j++) {
        double se = sqrt(w->vcov[j * p + j]);
        double df = (double)(G - 1);
        if (want_df) {
            const double *KK = w->KK + j * p * p;
            double kk = 0;
            for (size_t l = 0; l < p; l++)
                for (size_t m = 0; m < p; m++) {
                    double a = l <= m ? KK[l * p + m] : KK[m * p + l];
                    kk += a * a;
                }
            double tr = w->sum_d[j] - w->sum_k2[j];
            double fro = w->sum_d2[j] - 2.0 * w->sum_dk2[j] + kk;
            df = tr * tr / fro;
        }
        double t = w->b[j] / se;
        w->se[j] = se;
        w->stat[j] = t;
        w->df[j] = df;
        if (isfinite(df) && df > 0 && isfinite(se)) {
            syf_linalg_wald_t(w->b[j], se, df, alpha, &w->pval[j], &w->lo[j], &w->hi[j]);
        } else { /* degenerate (e.g. a perfect fit): no reference distribution */
            w->pval[j] = w->lo[j] = w->hi[j] = NAN;
        }
    }

    *res = (syf_ols_result){
        .n = n, .p = p, .G = G, .type = type, .level = level,
        .estimate = w->b, .std_error = w->se, .statistic = w->stat, .df = w->df,
        .p_value = w->pval, .conf_low = w->lo, .conf_high = w->hi, .vcov = w->vcov,
        .residual = w->e, .rss = rss,
    };
    return SYF_OK;
}
