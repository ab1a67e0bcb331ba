/* test_ri.c — randomization inference for a cluster-level treatment
 * (analysis/ri.c).
 *
 * References: ri2 and ritest are not available, so
 *   - a hand-coded R computation on the first 8 firms of the Petersen
 *     (2009) data with firms 2, 3, 5, 7 "treated": all C(8,4) = 70
 *     assignments, lm + clubSandwich::vcovCR(type = "CR2") t statistic (and
 *     the coefficient), p = mean(|T*| >= |T| (1 - 1e-10)), the interval by
 *     bisection of p(tau) with y - tau z (the script is in the comment at
 *     the fixture);
 *   - naive enumerations and re-draws written here (bit masks of treated
 *     clusters, the documented Fisher–Yates rule), each assignment refitted
 *     from scratch, including y - tau z_obs refits that check the O(1)
 *     evaluation of p(tau);
 *   - exactness: over every possible observed assignment, #{p <= k/N} <= k;
 *   - equivariance of the interval, strata, and the error cases.
 * Run from the repository root (reads tests/data/petersen.csv).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "syfosim/dataset.h"
#include "syfosim/error.h"
#include "syfosim/ols.h"
#include "syfosim/ri.h"
#include "syfosim/rng.h"
#define TEST_UTIL_FIXTURES
#include "test_util.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* n x p design X, outcome y and cluster codes (test_util.h). */
typedef test_cldata data;

/* Column 1 of X := the treatment of each row's cluster from `mask`. */
static void set_treat(data *d, uint64_t mask)
{
    for (size_t i = 0; i < d->n; i++)
        d->X[i * d->p + 1] = (mask >> d->cl[i]) & 1u ? 1.0 : 0.0;
}

static size_t gcd(size_t a, size_t b) { return b ? gcd(b, a % b) : a; }

/* Unbalanced clusters: intercept, treatment (from mask), a covariate. */
static data random_data(size_t G, uint64_t mask, unsigned long seed, size_t p)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    data d = {0, p, G, NULL, NULL, NULL};
    size_t ng[64];
    for (size_t g = 0; g < G; g++) {
        ng[g] = 3 + gsl_rng_uniform_int(r, 10);
        d.n += ng[g];
    }
    d.X = malloc(d.n * p * sizeof *d.X);
    d.y = malloc(d.n * sizeof *d.y);
    d.cl = malloc(d.n * sizeof *d.cl);
    size_t i = 0, mult = 3; /* cluster codes: g -> g * mult mod G, a permutation */
    while (gcd(mult, G) != 1)
        mult++;
    for (size_t g = 0; g < G; g++) {
        double a = gsl_ran_gaussian(r, 0.7);
        for (size_t k = 0; k < ng[g]; k++, i++) {
            double x = gsl_ran_gaussian(r, 1.0);
            d.X[i * p] = 1;
            if (p > 2)
                d.X[i * p + 2] = x;
            d.y[i] = 1 + 0.4 * x + a + gsl_ran_gaussian(r, 0.3 + 0.4 * fabs(x));
            d.cl[i] = (g * mult) % G;
        }
    }
    set_treat(&d, mask);
    gsl_rng_free(r);
    return d;
}

static syf_ri_result run(syf_ri_workspace *w, const data *d, syf_ri_statistic s, size_t B,
                         uint64_t seed, int ci, const size_t *strata, size_t S)
{
    syf_ri_options o = {.coef = 1, .strata = strata, .n_strata = S, .statistic = s,
                        .type = SYF_VCOV_CR2, .draws = B, .seed = seed, .want_ci = ci};
    syf_ri_result res;
    check_ok(syf_ri_test(w, d->n, d->X, d->y, d->cl, d->G, &o, &res));
    return res;
}

/* The statistic of one assignment, from scratch (outcome yy). */
static double naive_stat(data *d, const double *yy, uint64_t mask, syf_ri_statistic s)
{
    double *X0 = malloc(d->n * d->p * sizeof *X0);
    memcpy(X0, d->X, d->n * d->p * sizeof *X0);
    set_treat(d, mask);
    syf_ols_workspace *o = syf_ols_alloc(d->n, d->p, d->G);
    syf_ols_result r;
    check_ok(syf_ols_fit(o, d->n, d->X, yy, d->cl, d->G, SYF_VCOV_CR2, 0.95, &r));
    double t = s == SYF_RI_STUDENTIZED ? r.statistic[1] : r.estimate[1];
    syf_ols_free(o);
    memcpy(d->X, X0, d->n * d->p * sizeof *X0);
    free(X0);
    return t;
}

static int popcount(uint64_t m)
{
    int c = 0;
    for (; m; m &= m - 1)
        c++;
    return c;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Naive p(tau) over the masks accepted by `ok`: refit y - tau z_obs. */
static double naive_p(data *d, uint64_t obs, double tau, syf_ri_statistic s,
                      int (*ok)(uint64_t, size_t), double *stats, size_t *count_out)
{
    double *ya = malloc(d->n * sizeof *ya);
    for (size_t i = 0; i < d->n; i++)
        ya[i] = d->y[i] - tau * d->X[i * d->p + 1];
    double t0 = fabs(naive_stat(d, ya, obs, s));
    size_t N = 0, c = 0;
    for (uint64_t m = 0; m < (1ull << d->G); m++) {
        if (!ok(m, d->G))
            continue;
        double t = naive_stat(d, ya, m, s);
        if (stats)
            stats[N] = t;
        N++;
        if (fabs(t) >= t0 * (1 - 1e-10))
            c++;
    }
    free(ya);
    if (count_out)
        *count_out = N;
    return (double)c / (double)N;
}

static size_t want_G1;
static int ok_complete(uint64_t m, size_t G)
{
    (void)G;
    return (size_t)popcount(m) == want_G1;
}
/* strata: cluster code parity; 2 treated in each */
static int ok_strata(uint64_t m, size_t G)
{
    uint64_t even = 0;
    for (size_t g = 0; g < G; g += 2)
        even |= 1ull << g;
    return popcount(m & even) == 2 && popcount(m & ~even) == 2;
}

/* ------------------------------------------------------------------------ */

/* Hand-coded R (R 4.2.2, clubSandwich 0.5.8), Petersen firms 1-8, z = 1 for
 * firms 2, 3, 5, 7.  The script:
 *   library(clubSandwich); d <- read.csv("tests/data/petersen.csv")
 *   d <- d[d$firm <= 8, ]; obs <- c(2, 3, 5, 7); d$z <- d$firm %in% obs
 *   combs <- combn(8, 4)
 *   stat <- function(yy, tr, stud) {
 *     z <- as.numeric(d$firm %in% tr); m <- lm(yy ~ z)
 *     if (!stud) return(unname(coef(m)[2]))
 *     V <- vcovCR(m, cluster = d$firm, type = "CR2")
 *     unname(coef(m)[2] / sqrt(V[2, 2])) }
 *   pv <- function(tau, stud) {
 *     ya <- d$y - tau * d$z; t0 <- stat(ya, obs, stud)
 *     ts <- apply(combs, 2, function(cc) stat(ya, cc, stud))
 *     mean(abs(ts) >= abs(t0) * (1 - 1e-10)) }
 *   interval: bisection of pv(tau) from b^ (accepted) and a rejected point
 *   found on a grid, to |outer - inner| <= 1e-11 max(1, |tau|)
 * [recomputed with R 4.2.2 + clubSandwich 0.5.8, hand-coded RI] */
static void test_petersen8_reference(void **state)
{
    (void)state;
    syf_dataset *ds = test_read("tests/data/petersen.csv");
    const double *firm = test_column(ds, "firm"), *y = test_column(ds, "y");
    data d = {0, 2, 8, malloc(160 * sizeof(double)), malloc(80 * sizeof(double)),
              malloc(80 * sizeof(size_t))};
    for (size_t i = 0; i < ds->n_rows; i++)
        if (firm[i] <= 8) {
            d.X[2 * d.n] = 1;
            d.y[d.n] = y[i];
            d.cl[d.n] = (size_t)firm[i] - 1;
            d.n++;
        }
    syf_dataset_free(ds);
    assert_int_equal(d.n, 80);
    set_treat(&d, (1u << 1) | (1u << 2) | (1u << 4) | (1u << 6));

    syf_ri_workspace *w = syf_ri_alloc(d.n, 2, 8, 999);
    syf_ri_result r = run(w, &d, SYF_RI_STUDENTIZED, 999, 1, 1, NULL, 0);
    assert_int_equal(r.draws, 70);
    assert_true(r.enumerated);
    assert_int_equal(r.G1, 4);
    assert_int_equal(r.n_failed, 0);
    assert_rel(r.estimate, 1.45043927357, 1e-10);
    assert_rel(r.std_error, 1.45362801233, 1e-10);
    assert_rel(r.statistic, 0.997806358478, 1e-10);
    assert_near(r.p_value, 22.0 / 70, 1e-15); /* 0.314285714286 */
    assert_near(syf_ri_pvalue(w, 0.5), 0.6, 1e-15);
    assert_near(syf_ri_pvalue(w, -1.0), 10.0 / 70, 1e-15);
    assert_rel(r.conf_low, -3.0343652222, 1e-8);
    assert_rel(r.conf_high, 5.73286642467, 1e-8);

    syf_ri_result c = run(w, &d, SYF_RI_COEFFICIENT, 999, 1, 1, NULL, 0);
    assert_near(c.p_value, 22.0 / 70, 1e-15);
    assert_near(syf_ri_pvalue(w, 0.5), 0.6, 1e-15);
    assert_near(syf_ri_pvalue(w, -1.0), 10.0 / 70, 1e-15);
    assert_rel(c.conf_low, -3.03436522275, 1e-8);
    assert_rel(c.conf_high, 5.73286642517, 1e-8);
    syf_ri_free(w);
    test_cldata_free(&d);
}

/* Enumeration against bit masks, with a covariate, at several tau. */
static void test_naive_enumerated(void **state)
{
    (void)state;
    for (unsigned long seed = 1; seed <= 2; seed++) {
        uint64_t obs = 0x15; /* clusters 0, 2, 4 of 7 */
        data d = random_data(7, obs, seed, 3);
        want_G1 = 3;
        syf_ri_workspace *w = syf_ri_alloc(d.n, 3, 7, 999);
        for (int s = 0; s < 2; s++) {
            syf_ri_statistic st = s ? SYF_RI_COEFFICIENT : SYF_RI_STUDENTIZED;
            syf_ri_result r = run(w, &d, st, 999, 3, 1, NULL, 0);
            assert_int_equal(r.draws, 35);
            double stats[35], mine[35];
            size_t N;
            double p = naive_p(&d, obs, 0.0, st, ok_complete, stats, &N);
            assert_int_equal(N, 35);
            assert_true(r.p_value == p);
            memcpy(mine, r.stat_perm, sizeof mine);
            qsort(stats, 35, sizeof *stats, cmp_double);
            qsort(mine, 35, sizeof *mine, cmp_double);
            for (size_t k = 0; k < 35; k++)
                assert_rel(mine[k], stats[k], 1e-9);
            const double taus[] = {-0.9, 0.25, 1.3, r.conf_low * 0.9, r.conf_high * 1.05};
            for (size_t k = 0; k < sizeof taus / sizeof taus[0]; k++)
                assert_near(syf_ri_pvalue(w, taus[k]),
                            naive_p(&d, obs, taus[k], st, ok_complete, NULL, NULL), 1e-15);
        }
        syf_ri_free(w);
        test_cldata_free(&d);
    }
}

/* Strata (code parity), 2 treated of 4 in each: 36 assignments. */
static void test_strata(void **state)
{
    (void)state;
    uint64_t obs = 0x33; /* 0,1,4,5: evens 0,4; odds 1,5 */
    data d = random_data(8, obs, 5, 3);
    size_t *strata = malloc(d.n * sizeof *strata);
    for (size_t i = 0; i < d.n; i++)
        strata[i] = d.cl[i] % 2;
    syf_ri_workspace *w = syf_ri_alloc(d.n, 3, 8, 999);
    syf_ri_result r = run(w, &d, SYF_RI_STUDENTIZED, 999, 3, 0, strata, 2);
    assert_int_equal(r.draws, 36);
    assert_true(r.enumerated);
    double stats[36], mine[36];
    size_t N;
    double p = naive_p(&d, obs, 0.0, SYF_RI_STUDENTIZED, ok_strata, stats, &N);
    assert_int_equal(N, 36);
    assert_true(r.p_value == p);
    memcpy(mine, r.stat_perm, sizeof mine);
    qsort(stats, 36, sizeof *stats, cmp_double);
    qsort(mine, 36, sizeof *mine, cmp_double);
    for (size_t k = 0; k < 36; k++)
        assert_rel(mine[k], stats[k], 1e-9);
    /* without want_ci only tau = 0 is available */
    assert_true(isnan(syf_ri_pvalue(w, 0.5)));
    assert_true(isnan(r.conf_low));

    /* sampled (B < 36): every draw respects the strata -> its statistic is
     * one of the 36 */
    syf_ri_result s = run(w, &d, SYF_RI_STUDENTIZED, 30, 8, 0, strata, 2);
    assert_false(s.enumerated);
    for (size_t b = 0; b < 30; b++) {
        int found = 0;
        for (size_t k = 0; k < 36; k++)
            found |= fabs(s.stat_perm[b] - stats[k]) <= 1e-9 * fabs(stats[k]);
        assert_true(found);
    }
    free(strata);
    syf_ri_free(w);
    test_cldata_free(&d);
}

/* Sampled assignments follow the documented rule (regenerated here). */
static void test_sampled_rule(void **state)
{
    (void)state;
    uint64_t obs = 0x2a5a; /* 7 of 14 */
    data d = random_data(14, obs, 9, 3);
    syf_ri_workspace *w = syf_ri_alloc(d.n, 3, 14, 3432);
    const size_t B = 99;
    syf_ri_result r = run(w, &d, SYF_RI_STUDENTIZED, B, 123, 0, NULL, 0);
    assert_false(r.enumerated);
    assert_int_equal(r.draws, B);
    size_t count = 0;
    for (size_t b = 0; b < B; b++) {
        syf_stream st;
        syf_stream_init(&st, 123, 0, b, syf_purpose(SYF_P_DESIGN, 101));
        size_t perm[14];
        for (size_t g = 0; g < 14; g++)
            perm[g] = g;
        uint64_t mask = 0;
        for (size_t k = 0; k < 7; k++) {
            size_t j = k + (size_t)(syf_stream_uniform(&st) * (double)(14 - k));
            size_t t = perm[k];
            perm[k] = perm[j];
            perm[j] = t;
            mask |= 1ull << perm[k];
        }
        double t = naive_stat(&d, d.y, mask, SYF_RI_STUDENTIZED);
        assert_rel(r.stat_perm[b], t, 1e-9);
        if (fabs(t) >= fabs(r.statistic) * (1 - 1e-10))
            count++;
    }
    assert_near(r.p_value, (1.0 + (double)count) / (1.0 + (double)B), 1e-15);
    /* reproducible; another seed, other draws; B = C(14,7) enumerates */
    syf_ri_result r2 = run(w, &d, SYF_RI_STUDENTIZED, B, 123, 0, NULL, 0);
    assert_true(r2.p_value == r.p_value);
    double first[99];
    memcpy(first, r2.stat_perm, sizeof first);
    syf_ri_result r3 = run(w, &d, SYF_RI_STUDENTIZED, B, 124, 0, NULL, 0);
    int differ = 0;
    for (size_t b = 0; b < B; b++)
        differ |= r3.stat_perm[b] != first[b];
    assert_true(differ);
    syf_ri_result e = run(w, &d, SYF_RI_COEFFICIENT, 3432, 1, 0, NULL, 0);
    assert_true(e.enumerated);
    assert_int_equal(e.draws, 3432);
    syf_ri_free(w);
    test_cldata_free(&d);
}

/* Exactness: over all 35 possible observed assignments (y fixed: the sharp
 * null), #{p <= k/35} <= k for every k. */
static void test_exact_level(void **state)
{
    (void)state;
    data d = random_data(7, 0x7, 21, 3);
    syf_ri_workspace *w = syf_ri_alloc(d.n, 3, 7, 999);
    for (int s = 0; s < 2; s++) {
        size_t hist[36] = {0};
        for (uint64_t m = 0; m < 128; m++) {
            if (popcount(m) != 3)
                continue;
            set_treat(&d, m);
            syf_ri_result r = run(w, &d, s ? SYF_RI_COEFFICIENT : SYF_RI_STUDENTIZED, 999, 1, 0,
                                  NULL, 0);
            size_t k = (size_t)llround(r.p_value * 35);
            assert_near(r.p_value * 35, (double)k, 1e-9);
            assert_true(k >= 1 && k <= 35);
            hist[k]++;
        }
        size_t cum = 0;
        for (size_t k = 1; k <= 35; k++) {
            cum += hist[k];
            assert_true(cum <= k);
        }
        assert_int_equal(cum, 35);
    }
    syf_ri_free(w);
    test_cldata_free(&d);
}

/* The interval moves with y + c z; p crosses alpha at the limits. */
static void test_equivariance(void **state)
{
    (void)state;
    data d = random_data(10, 0x155, 4, 3);
    syf_ri_workspace *w = syf_ri_alloc(d.n, 3, 10, 999);
    syf_ri_result r = run(w, &d, SYF_RI_STUDENTIZED, 199, 5, 1, NULL, 0);
    assert_false(r.enumerated);
    double lo = r.conf_low, hi = r.conf_high, eps = 1e-7 * (hi - lo);
    assert_true(isfinite(lo) && isfinite(hi) && lo < r.estimate && r.estimate < hi);
    assert_true(syf_ri_pvalue(w, lo + eps) > 0.05 && syf_ri_pvalue(w, lo - eps) <= 0.05);
    assert_true(syf_ri_pvalue(w, hi - eps) > 0.05 && syf_ri_pvalue(w, hi + eps) <= 0.05);
    for (size_t i = 0; i < d.n; i++)
        d.y[i] += 2.5 * d.X[i * 3 + 1];
    syf_ri_result s = run(w, &d, SYF_RI_STUDENTIZED, 199, 5, 1, NULL, 0);
    assert_rel(s.conf_low, lo + 2.5, 1e-8);
    assert_rel(s.conf_high, hi + 2.5, 1e-8);
    syf_ri_free(w);
    test_cldata_free(&d);
}

/* An assignment collinear with a covariate is left out and counted. */
static void test_failed_draws(void **state)
{
    (void)state;
    data d = random_data(6, 0x7, 2, 3);
    for (size_t i = 0; i < d.n; i++) /* covariate = indicator of clusters 3,4,5 */
        d.X[i * 3 + 2] = d.cl[i] >= 3 ? 1.0 : 0.0;
    /* observed 0,1,2 is collinear too; use 0,1,3 */
    set_treat(&d, 0xb);
    syf_ri_workspace *w = syf_ri_alloc(d.n, 3, 6, 999);
    syf_ri_result r = run(w, &d, SYF_RI_COEFFICIENT, 999, 1, 0, NULL, 0);
    assert_int_equal(r.draws, 20);
    assert_int_equal(r.n_failed, 2); /* {0,1,2} and {3,4,5} */
    size_t nan = 0;
    for (size_t b = 0; b < 20; b++)
        nan += isnan(r.stat_perm[b]);
    assert_int_equal(nan, 2);
    syf_ri_free(w);
    test_cldata_free(&d);
}

static void test_errors(void **state)
{
    (void)state;
    data d = random_data(6, 0x7, 3, 3);
    syf_ri_workspace *w = syf_ri_alloc(d.n, 3, 6, 100);
    syf_ri_options o = {.coef = 1, .draws = 99, .type = SYF_VCOV_CR2};
    syf_ri_result r;
    o.draws = 101;
    assert_int_equal(syf_ri_test(w, d.n, d.X, d.y, d.cl, d.G, &o, &r), SYF_EINPUT);
    o.draws = 99;
    o.coef = 3;
    assert_int_equal(syf_ri_test(w, d.n, d.X, d.y, d.cl, d.G, &o, &r), SYF_EINPUT);
    o.coef = 2; /* the covariate is not 0/1 */
    assert_int_equal(syf_ri_test(w, d.n, d.X, d.y, d.cl, d.G, &o, &r), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "0 or 1"));
    o.coef = 1;
    d.X[1] = 1 - d.X[1]; /* row 0 differs from its cluster */
    assert_int_equal(syf_ri_test(w, d.n, d.X, d.y, d.cl, d.G, &o, &r), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "varies within cluster"));
    assert_int_equal(syf_ri_bad_cluster(w), d.cl[0]);
    set_treat(&d, 0x3f);
    assert_int_equal(syf_ri_test(w, d.n, d.X, d.y, d.cl, d.G, &o, &r), SYF_EINPUT);
    assert_int_equal(syf_ri_bad_cluster(w), (size_t)-1);
    assert_int_equal(syf_ri_test(w, d.n, d.X, d.y, d.cl, d.G, &o, &r), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "treated and control"));
    set_treat(&d, 0x7);
    size_t *strata = calloc(d.n, sizeof *strata);
    strata[0] = 1;
    o.strata = strata;
    o.n_strata = 2;
    assert_int_equal(syf_ri_test(w, d.n, d.X, d.y, d.cl, d.G, &o, &r), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "stratum varies"));
    o.n_strata = 1;
    assert_int_equal(syf_ri_test(w, d.n, d.X, d.y, d.cl, d.G, &o, &r), SYF_EINPUT);
    free(strata);
    assert_null(syf_ri_alloc(10, 0, 2, 10));
    assert_null(syf_ri_alloc(10, 2, 2, 0));
    syf_ri_free(w);
    test_cldata_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_petersen8_reference), cmocka_unit_test(test_naive_enumerated),
        cmocka_unit_test(test_strata),              cmocka_unit_test(test_sampled_rule),
        cmocka_unit_test(test_exact_level),         cmocka_unit_test(test_equivariance),
        cmocka_unit_test(test_failed_draws),        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
