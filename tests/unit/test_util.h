/* test_util.h — small helpers shared by the cmocka tests (header-only: each
 * tests/unit/test_*.c is a program of its own).  Include it after <cmocka.h>.
 *
 * Always: assert_near(a, b, eps).
 *
 * With TEST_UTIL_FIXTURES defined before the include (the estimator tests;
 * opt-in because some other tests define check_ok/assert_rel themselves):
 *   check_ok(st)                 fail, printing the library's message, unless
 *                                st == SYF_OK;
 *   assert_rel(got, want, tol)   |got - want| <= tol |want| (tol if want == 0);
 *   test_read(path)              a dataset from tests/data/...;
 *   test_column(d, name)         a numeric column;
 *   test_factor(d, name, &G, levels)  its factor codes (malloc'd, free them);
 *   test_design(d, intercept, cols, ncols, time, &p)
 *                                a malloc'd n x p design matrix: [1,] the
 *                                numeric columns, then a dummy for each level
 *                                of the factor `time` but the first (NULL:
 *                                none);
 *   test_fixture_load()/_free()  y, X = [1, columns, time dummies] and
 *                                cluster codes from one CSV file;
 *   test_cldata                  X, y and cluster codes of a clustered
 *                                regression; test_cldata_make() draws random
 *                                unbalanced ones with a random intercept.
 * Every reader fails the test (check_ok) if a file or column is missing.
 */
#ifndef SYFOSIM_TEST_UTIL_H
#define SYFOSIM_TEST_UTIL_H

#include <math.h>
#include <stdio.h>

/* |a - b| <= eps, printing both values when it fails. */
#define assert_near(a, b, eps)                                                                   \
    do {                                                                                         \
        double a_ = (a), b_ = (b);                                                               \
        if (!(fabs(a_ - b_) <= (eps)))                                                           \
            fprintf(stderr, "assert_near: %.17g vs %.17g (eps %g)\n", a_, b_, (double)(eps));    \
        assert_true(fabs(a_ - b_) <= (eps));                                                     \
    } while (0)

#ifdef TEST_UTIL_FIXTURES

#include "syfosim/dataset.h"
#include "syfosim/error.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdlib.h>

static inline void check_ok(int st)
{
    if (st != SYF_OK) {
        print_error("status %d: %s\n", st, syf_error_message());
        fail();
    }
}

/* |got - want| <= tol * |want| (or <= tol when want == 0). */
#define assert_rel(got, want, tol) assert_rel_(got, want, tol, #got, __FILE__, __LINE__)
static inline void assert_rel_(double got, double want, double tol, const char *expr,
                               const char *file, int line)
{
    double scale = want != 0 ? fabs(want) : 1.0;
    if (!(fabs(got - want) <= tol * scale)) {
        print_error("%s:%d: %s = %.17g, want %.17g (rel. error %.3g > %.3g)\n", file, line, expr,
                    got, want, fabs(got - want) / scale, tol);
        fail();
    }
}

static inline syf_dataset *test_read(const char *path)
{
    syf_dataset *d = NULL;
    check_ok(syf_dataset_read(path, &d));
    return d;
}

static inline const double *test_column(const syf_dataset *d, const char *name)
{
    const double *c = NULL;
    check_ok(syf_dataset_column_numeric(d, name, &c));
    return c;
}

static inline size_t *test_factor(const syf_dataset *d, const char *name, size_t *n_levels,
                                  const char **levels)
{
    size_t *codes = malloc((d->n_rows ? d->n_rows : 1) * sizeof *codes);
    check_ok(syf_dataset_column_factor(d, name, codes, n_levels, levels));
    return codes;
}

static inline double *test_design(const syf_dataset *d, int intercept, const char *const *cols,
                                  size_t ncols, const char *time, size_t *p_out)
{
    size_t n = d->n_rows, T = 1, *tc = time ? test_factor(d, time, &T, NULL) : NULL;
    size_t off = intercept ? 1 : 0, p = off + ncols + (T - 1);
    double *X = calloc(n * p > 0 ? n * p : 1, sizeof *X);
    if (intercept)
        for (size_t i = 0; i < n; i++)
            X[i * p] = 1;
    for (size_t j = 0; j < ncols; j++) {
        const double *c = test_column(d, cols[j]);
        for (size_t i = 0; i < n; i++)
            X[i * p + off + j] = c[i];
    }
    if (time)
        for (size_t i = 0; i < n; i++)
            if (tc[i] > 0)
                X[i * p + off + ncols + tc[i] - 1] = 1;
    free(tc);
    *p_out = p;
    return X;
}

/* A CSV file as y, X = [1, cols..., dummies of `time` (NULL: none)] and the
 * factor codes of `cluster`. */
typedef struct {
    syf_dataset *d;
    size_t n, p, G;
    double *X;
    const double *y;
    size_t *cl;
} test_fixture;

static inline void test_fixture_load(test_fixture *f, const char *path, const char *yname,
                                     const char *const *cols, size_t ncols, const char *cluster,
                                     const char *time)
{
    f->d = test_read(path);
    f->n = f->d->n_rows;
    f->y = test_column(f->d, yname);
    f->cl = test_factor(f->d, cluster, &f->G, NULL);
    f->X = test_design(f->d, 1, cols, ncols, time, &f->p);
}

static inline void test_fixture_free(test_fixture *f)
{
    free(f->X);
    free(f->cl);
    syf_dataset_free(f->d);
}

/* A data set for a clustered regression: X (n x p, row-major), y and the
 * cluster codes cl (below G); test_cldata_free() frees the arrays.
 *
 * test_cldata_make(): G clusters of sizes drawn from 1..maxsize (cluster 0
 * has at least 2 rows), columns 1, x (within: N(0,1) + z/2) and z (cluster
 * level: N(0,1)); y = 1 + x/2 - 0.3 z + u_g + e, u_g ~ N(0, su),
 * e ~ N(0, (sqrt(se) + het |x|)^2).  The rows are then shuffled,
 * interleaving the clusters: an estimator must not rely on row order. */
typedef struct {
    size_t n, p, G;
    double *X, *y;
    size_t *cl;
} test_cldata;

static inline void test_cldata_make(test_cldata *d, gsl_rng *rng, size_t G, size_t maxsize,
                                    double su, double se, double het)
{
    size_t *sz = malloc(G * sizeof *sz), n = 0;
    for (size_t g = 0; g < G; g++) {
        sz[g] = 1 + gsl_rng_uniform_int(rng, maxsize);
        n += sz[g];
    }
    if (sz[0] < 2) {
        n += 2 - sz[0];
        sz[0] = 2;
    }
    d->n = n;
    d->p = 3;
    d->G = G;
    d->X = malloc(n * 3 * sizeof *d->X);
    d->y = malloc(n * sizeof *d->y);
    d->cl = malloc(n * sizeof *d->cl);
    size_t i = 0;
    for (size_t g = 0; g < G; g++) {
        double z = gsl_ran_gaussian(rng, 1.0), u = gsl_ran_gaussian(rng, sqrt(su));
        for (size_t k = 0; k < sz[g]; k++, i++) {
            double x = gsl_ran_gaussian(rng, 1.0) + 0.5 * z;
            d->X[3 * i] = 1;
            d->X[3 * i + 1] = x;
            d->X[3 * i + 2] = z;
            d->y[i] = 1 + 0.5 * x - 0.3 * z + u + gsl_ran_gaussian(rng, sqrt(se) + het * fabs(x));
            d->cl[i] = g;
        }
    }
    for (size_t a = n - 1; a > 0; a--) {
        size_t b = gsl_rng_uniform_int(rng, a + 1);
        for (size_t j = 0; j < 3; j++) {
            double t = d->X[3 * a + j];
            d->X[3 * a + j] = d->X[3 * b + j];
            d->X[3 * b + j] = t;
        }
        double t = d->y[a];
        d->y[a] = d->y[b];
        d->y[b] = t;
        size_t c = d->cl[a];
        d->cl[a] = d->cl[b];
        d->cl[b] = c;
    }
    free(sz);
}

static inline void test_cldata_free(test_cldata *d)
{
    free(d->X);
    free(d->y);
    free(d->cl);
}

#endif /* TEST_UTIL_FIXTURES */

#endif
