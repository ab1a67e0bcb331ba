/* linalg.h — private numeric helpers shared by the estimators in analysis/
 * (not installed, not part of the API: include it as "linalg.h" from a file
 * in analysis/).
 *
 * What the regression modules (ols.c, gee.c, lmm.c, cox.c, logit.c, ipw.c,
 * wildboot.c, ri.c, did.c) had each written for themselves:
 *   - the scaled symmetric positive-definite check and inverse: D =
 *     diag(A)^{-1/2}, the eigen-decomposition of the unit-diagonal D A D
 *     (GSL), its smallest/largest eigenvalue ratio against a tolerance, and
 *     the inverse from the eigenvectors, rescaled (syf_linalg_spd_*);
 *   - Cholesky solves and inverses of a unit-diagonal scaled matrix;
 *   - rank-one (meat) updates, mirroring a triangle, the two sandwich
 *     products B M B (BLAS, and plain loops);
 *   - Wald statistics, p-values and intervals (normal and t);
 *   - a damped Newton step and its convergence test (cox.c, logit.c);
 *   - cluster codes: their checks and the rows grouped by code;
 *   - the per-cluster sufficient statistics of a clustered linear model
 *     pooled by cluster size, with its OLS start (gee.c and lmm.c).
 * Each helper keeps the exact floating-point operations of the code it
 * replaces, so results are bit-for-bit those of before.  Matrices are
 * row-major p x p arrays.  Nothing here allocates except the *_alloc
 * functions, which the modules call from their own alloc.
 *
 * The SPD helpers return a code (SYF_LINALG_*), never set an error message:
 * each caller keeps its own tolerance and maps the code to its own message.
 * The cluster-code and cluster-statistics helpers set the messages the
 * modules shared word for word and return SYF_* status codes.
 */
#ifndef SYFOSIM_ANALYSIS_LINALG_H
#define SYFOSIM_ANALYSIS_LINALG_H

#include <gsl/gsl_eigen.h>
#include <stddef.h>

/* Codes of the SPD helpers. */
enum {
    SYF_LINALG_OK = 0,
    SYF_LINALG_ZERO_DIAG,       /* a diagonal entry is not > 0 (*bad: its index) */
    SYF_LINALG_NONFINITE_DIAG,  /* a diagonal entry is +inf; D and S are still
                                   filled, so a caller may go on as it always did */
    SYF_LINALG_ILL_CONDITIONED  /* !(lmin > tol * lmax && lmin > min_eig)     */
};

/* How a scaled matrix S = D A D is formed.  GSL's eigen and Cholesky
 * routines read the lower triangle, and (a D_j) D_l need not equal
 * (a D_l) D_j to the last bit, so each module keeps the form it used. */
typedef enum {
    SYF_LINALG_FULL,  /* S_jl = A_jl D_j D_l for every j, l (A symmetric)     */
    SYF_LINALG_UPPER  /* S_jl = S_lj = A_jl D_j D_l for j <= l: only A's upper
                         triangle and diagonal are read                       */
} syf_linalg_uplo;

/* Which GSL eigensolver a workspace uses: values only (gsl_eigen_symm) or
 * values and vectors (gsl_eigen_symmv, needed for the eigen inverse). */
typedef enum { SYF_LINALG_VALUES, SYF_LINALG_VECTORS } syf_linalg_eigen;

typedef struct {
    size_t p;
    syf_linalg_eigen mode;
    double *D;        /* p: diag(A)^{-1/2} of the last syf_linalg_spd_scale() */
    double *S;        /* p x p: D A D, destroyed by the eigen-decomposition   */
    double *Q;        /* p x p eigenvectors (VECTORS), or NULL                */
    double *lambda;   /* p eigenvalues                                        */
    double lmin, lmax; /* of the last syf_linalg_spd_check()                  */
    gsl_eigen_symm_workspace *eig;   /* VALUES  */
    gsl_eigen_symmv_workspace *eigv; /* VECTORS */
} syf_linalg_spd;

/* ---- scaled SPD check and inverse --------------------------------------- */

syf_linalg_spd *syf_linalg_spd_alloc(size_t p, syf_linalg_eigen mode);
void syf_linalg_spd_free(syf_linalg_spd *s);

/* D_j = 1 / sqrt(A_jj).  SYF_LINALG_ZERO_DIAG at the first A_jj not > 0
 * (*bad = j, D partly filled), else SYF_LINALG_NONFINITE_DIAG if some A_jj
 * is +inf (D_j = 0 there), else SYF_LINALG_OK. */
int syf_linalg_unit_diag(size_t p, const double *A, double *D, size_t *bad);

/* S = D A D in the given form (S may not alias A). */
void syf_linalg_scale(size_t p, const double *A, const double *D, syf_linalg_uplo uplo,
                      double *S);

/* s->D and s->S = D A D (syf_linalg_unit_diag + syf_linalg_scale); S is not
 * formed after SYF_LINALG_ZERO_DIAG. */
int syf_linalg_spd_scale(syf_linalg_spd *s, const double *A, syf_linalg_uplo uplo, size_t *bad);

/* Eigen-decompose s->S (destroying it) into s->lambda (and s->Q), set
 * s->lmin, s->lmax; SYF_LINALG_ILL_CONDITIONED unless lmin > tol * lmax and
 * lmin > min_eig (min_eig = 0 adds nothing: the ratio test implies it). */
int syf_linalg_spd_check(syf_linalg_spd *s, double tol, double min_eig);

/* After a successful check on a VECTORS workspace: A^{-1} = D Q diag(1 /
 * lambda) Q' D, both triangles. */
void syf_linalg_spd_eigen_inverse(const syf_linalg_spd *s, double *Ainv);

/* The three steps above with the UPPER form and no eigenvalue floor: A^{-1}
 * of the symmetric A (upper triangle and diagonal read) into Ainv, or a
 * nonzero SYF_LINALG_* code if a diagonal entry is not positive and finite
 * or the eigenvalue ratio is below tol (VECTORS workspace). */
int syf_linalg_spd_inverse(syf_linalg_spd *s, const double *A, double tol, double *Ainv);

/* Smallest eigenvalue of the symmetric S (already scaled by the caller),
 * through a copy in s->S. */
double syf_linalg_spd_min_eigen(syf_linalg_spd *s, const double *S);

/* ---- Cholesky of a unit-diagonal scaled matrix -------------------------- */

/* With chol the Cholesky factor (gsl_linalg_cholesky_decomp1) of S = D A D:
 * x = A^{-1} rhs = D S^{-1} D rhs (x may alias rhs). */
void syf_linalg_chol_solve_scaled(size_t p, const double *chol, const double *D,
                                  const double *rhs, double *x);

/* out = c A^{-1} = c D S^{-1} D, entries scaled as out_jl *= c D_j D_l (c = 1
 * for the plain inverse); out may alias chol.  Returns the GSL status of
 * gsl_linalg_cholesky_invert. */
int syf_linalg_chol_inverse_scaled(size_t p, const double *chol, const double *D, double c,
                                   double *out);

/* ---- products ----------------------------------------------------------- */

/* M_jl += u_j u_l for j <= l (upper triangle; mirror it when done). */
void syf_linalg_outer_add(double *M, const double *u, size_t p);

/* Copy the upper triangle into the lower one. */
void syf_linalg_symmetrise(double *A, size_t p);

/* x' A y. */
double syf_linalg_quad(const double *A, const double *x, const double *y, size_t p);

/* V = factor B M B for symmetric B, M, with V_jl = V_lj = (V_jl + V_lj) / 2
 * afterwards; tmp is p x p scratch.  _blas: gsl_blas_dsymm (B's upper
 * triangle) then gsl_blas_dgemm, factor applied while symmetrising (ols.c,
 * gee.c).  _loops: tmp = M B and V = factor (B tmp) by plain triple loops
 * (cox.c, logit.c).  The two differ in summation order only.  (gee.c used
 * to leave the diagonal as computed; 0.5 (v + v) is v exactly unless v
 * overflows.) */
void syf_linalg_sandwich_blas(size_t p, const double *B, const double *M, double factor,
                              double *tmp, double *V);
void syf_linalg_sandwich_loops(size_t p, const double *B, const double *M, double factor,
                               double *tmp, double *V);

/* ---- Wald inference ----------------------------------------------------- */

/* stat = b / se, p = 2 Q_N(|stat|), lo/hi = b -/+ q se (q the normal
 * quantile, computed once by the caller). */
void syf_linalg_wald_normal(double b, double se, double q, double *stat, double *p, double *lo,
                            double *hi);

/* t = b / se on df degrees of freedom: p = 2 Q_t(|t|; df) (NAN if t is
 * NAN), lo/hi = b -/+ t_{1-alpha/2}(df) se.  The caller checks that df and
 * se make a reference distribution. */
void syf_linalg_wald_t(double b, double se, double df, double alpha, double *p, double *lo,
                       double *hi);

/* ---- Newton iteration (cox.c, logit.c) ---------------------------------- */

/* One damped Newton step for maximising f from b, with f(b) = fb: step =
 * Vinv U (Vinv the inverse information, U the score), halved up to 40
 * times while f(b + step) < fb - 1e-12 |fb|.  Leaves btry = b + step and
 * returns f(btry); f is called with ctx and the point. */
double syf_linalg_newton_step(size_t p, const double *Vinv, const double *U, const double *b,
                              double fb, double (*f)(void *ctx, const double *b), void *ctx,
                              double *step, double *btry);

/* Accept the step: b = btry; 1 if every |step_j| <= tol (1 + |btry_j|). */
int syf_linalg_newton_accept(size_t p, const double *step, const double *btry, double tol,
                             double *b);

/* ---- cluster codes ------------------------------------------------------ */

/* The checks of a cluster-robust fit: 2 <= G <= G_max and every code below
 * G (SYF_EINPUT with the message set, else SYF_OK). */
int syf_linalg_check_clusters(size_t n, const size_t *cluster, size_t G, size_t G_max);

/* Items grouped by code (counting sort, stable): order[start[g] ..
 * start[g+1]) are the i with code[i] == g in increasing order; start has
 * G + 1 entries.  Every code must be below G; an empty group has
 * start[g] == start[g + 1]. */
void syf_linalg_group(size_t n, const size_t *code, size_t G, size_t *start, size_t *order);

/* ---- clustered linear model: sufficient statistics (gee.c, lmm.c) ------- */

/* a_g = X_g'1, t_g = 1'e0_g (e0 the OLS residuals); clusters of equal size
 * share one size class s with K_s = sum a_g a_g', k_s = sum a_g t_g,
 * tau_s = sum t_g^2. */
typedef struct {
    size_t n_max, p, G_max, S_max;
    size_t S;                       /* size classes of the last fit          */
    double *A, *Xty, *Xte, *b0;     /* X'X (p x p), X'y, X'e0, OLS b0        */
    double rss0, yy, nbig, lmin;    /* e0'e0, y'y, largest cluster, smallest
                                       eigenvalue of the scaled X'X          */
    double *a, *t;                  /* G_max x p, G_max                      */
    size_t *ng;                     /* G_max: rows per cluster               */
    size_t *cls;                    /* n_max + 1: size class of a size       */
    size_t *cls_size;               /* S_max */
    double *cls_cnt, *K, *k, *tau;  /* S_max, S_max p^2, S_max p, S_max      */
    syf_linalg_spd *spd;            /* D = spd->D scales X'X (VALUES)        */
} syf_linalg_clstats;

syf_linalg_clstats *syf_linalg_clstats_alloc(size_t n_max, size_t p, size_t G_max);
void syf_linalg_clstats_free(syf_linalg_clstats *c);

/* First pass over the rows: checks (cluster codes, finite y and X, no empty
 * cluster), X'X, X'y, y'y, n_g, a_g and the largest cluster. */
int syf_linalg_clstats_rows(syf_linalg_clstats *c, size_t n, const double *X, const double *y,
                            const size_t *cluster, size_t G);

/* Then: X'X scaled to unit diagonal and its spectrum checked (collinear_tol
 * on the eigenvalue ratio, pd_tol on the smallest), its Cholesky factor
 * into L (p x p), the OLS b0; a second pass for e0'e0 (an exact fit below
 * exact_tol y'y is SYF_ESINGULAR), X'e0 and t_g; the size classes. */
int syf_linalg_clstats_ols(syf_linalg_clstats *c, size_t n, const double *X, const double *y,
                           const size_t *cluster, size_t G, double *L, double collinear_tol,
                           double pd_tol, double exact_tol);

#endif
