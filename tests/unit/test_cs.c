/* test_cs.c — Callaway & Sant'Anna group-time ATTs (analysis/cs.c).
 *
 * Frozen references on mpdta (tests/data/mpdta.csv, the did package's
 * minimum-wage panel: 500 counties x 2003-2007):
 *   - /work/shared/validation/README.md §4: the did README's att_gt(...,
 *     xformla = ~1, est_method = "reg") ATT(g,t), aggte dynamic and group
 *     point estimates (4 digits printed) and the pre-test p = 0.16812 (which
 *     comes from the analytic influence-function covariance, so it checks
 *     our influence functions independently); the reference SEs are
 *     multiplier-bootstrap ones and are compared loosely (15%).
 *   - [recomputed]: the same estimators written out by hand in R 4.2.2 (the
 *     did package is not in Debian 12): ATT(g,t) as DiD of means between
 *     g-1 (or t-1 before treatment) and t, influence functions
 *     n[1{G=g}(dY-m1)/N1 - 1{C}(dY-m0)/N0], aggregation influence functions
 *     with did's wif() term, printed with sprintf("%.12g").
 * Property tests: exact recovery of the true ATT(g,t) in noise-free
 * simulated staggered panels, invariances (unit and period shifts, scale,
 * unit order), dropped/late units, the no-never-treated rule, errors.
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "syfosim/cs.h"
#include "syfosim/dataset.h"
#include "syfosim/error.h"
#define TEST_UTIL_FIXTURES
#include "test_util.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* mpdta as a balanced matrix. */

typedef struct {
    size_t n, T;
    double *Y, *period, *group;
} panel;

static void mpdta_load(panel *p)
{
    syf_dataset *d = test_read("tests/data/mpdta.csv");
    const double *lemp = test_column(d, "lemp"), *year = test_column(d, "year"),
                 *ft = test_column(d, "first.treat");
    size_t *unit = test_factor(d, "countyreal", &p->n, NULL),
           *tc = test_factor(d, "year", &p->T, NULL);
    assert_int_equal(p->n, 500);
    assert_int_equal(p->T, 5);
    p->Y = malloc(p->n * p->T * sizeof *p->Y);
    p->period = malloc(p->T * sizeof *p->period);
    p->group = malloc(p->n * sizeof *p->group);
    for (size_t i = 0; i < d->n_rows; i++) {
        p->Y[unit[i] * p->T + tc[i]] = lemp[i];
        p->period[tc[i]] = year[i];
        p->group[unit[i]] = ft[i] == 0 ? INFINITY : ft[i];
    }
    free(unit);
    free(tc);
    syf_dataset_free(d);
}

static void panel_free(panel *p)
{
    free(p->Y);
    free(p->period);
    free(p->group);
}

/* [recomputed] R 4.2.2, by hand (see header), never-treated comparison. */
static const double ref_never_att[12] = {
    -0.010503246221,   -0.0704231581031,  -0.137258738889,  -0.100811363085,
    0.00652011242423,  -0.00275081875052, -0.00459460695286, -0.0412244715462,
    0.0305066555833,   -0.00272589288612, -0.0310871193897, -0.0260544107192};
static const double ref_never_se[12] = {
    0.0232510363682, 0.0309847667573, 0.0364356642877, 0.0343592258347,
    0.0233268051418, 0.0195585610359, 0.0177551966593, 0.0202291807041,
    0.0150335602801, 0.0163958328955, 0.0178775113133, 0.0166554353493};
/* /work/shared/validation/README.md §4 (did README), 4 digits. */
static const double readme_att[12] = {-0.0105, -0.0704, -0.1373, -0.1008, 0.0065, -0.0028,
                                      -0.0046, -0.0412, 0.0305,  -0.0027, -0.0311, -0.0261};

static void test_mpdta_never(void **state)
{
    (void)state;
    panel p;
    mpdta_load(&p);
    syf_cs_workspace *w = syf_cs_alloc(p.n, p.T);
    assert_non_null(w);
    syf_cs_result r;
    check_ok(syf_cs_fit(w, p.n, p.T, p.Y, p.period, p.group, SYF_CS_NEVER, &r));
    assert_int_equal(r.n_units, 500);
    assert_int_equal(r.n_periods, 5);
    assert_int_equal(r.n_groups, 3);
    assert_int_equal(r.n_never, 309);
    assert_int_equal(r.n_dropped, 0);
    assert_int_equal(r.n_gt, 12);
    static const double g[3] = {2004, 2006, 2007};
    for (size_t k = 0; k < 12; k++) {
        assert_true(r.group[k] == g[k / 4]);
        assert_true(r.time[k] == 2004 + (double)(k % 4));
        assert_rel(r.att[k], ref_never_att[k], 1e-9);
        assert_rel(r.std_error[k], ref_never_se[k], 1e-9);
        assert_near(r.att[k], readme_att[k], 0.5e-4 + 1e-12);
        assert_int_equal(r.n_control[k], 309);
    }
    /* base periods: varying before treatment, g-1 after */
    assert_true(r.base[4] == 2003 && r.base[5] == 2004 && r.base[6] == 2005 && r.base[7] == 2005);
    assert_int_equal(r.post[5], 0);
    assert_int_equal(r.post[6], 1);
    assert_int_equal(r.n_treated[0], 20);
    assert_int_equal(r.n_treated[4], 40);
    assert_int_equal(r.n_treated[8], 131);
    /* pre-test: README 0.16812 (5 digits); [recomputed] W 7.7912366272,
     * p 0.168122494924 */
    assert_int_equal(r.pretest_df, 5);
    assert_rel(r.pretest_stat, 7.7912366272, 1e-9);
    assert_rel(r.pretest_p, 0.168122494924, 1e-9);
    assert_near(r.pretest_p, 0.16812, 0.5e-5);

    syf_cs_aggregate_result a;
    /* simple [recomputed] */
    check_ok(syf_cs_aggregate(w, SYF_CS_SIMPLE, &a));
    assert_int_equal(a.n, 0);
    assert_rel(a.overall, -0.0399512751552, 1e-9);
    assert_rel(a.overall_se, 0.0120340127702, 1e-9);

    /* dynamic: README overall -0.0772 (bootstrap SE 0.0219) and e = -3..3 */
    static const double dyn_readme[7] = {0.0305, -0.0006, -0.0245, -0.0199,
                                         -0.0510, -0.1373, -0.1008};
    static const double dyn_est[7] = {0.0305066555833, -0.000563084626385, -0.0244587449712,
                                      -0.0199318167893, -0.0509573670652, -0.137258738889,
                                      -0.100811363085};
    static const double dyn_se[7] = {0.0150335602801, 0.0132916447365, 0.0142364022105,
                                     0.0118263640581, 0.0168934762687, 0.0364356642877,
                                     0.0343592258347};
    check_ok(syf_cs_aggregate(w, SYF_CS_DYNAMIC, &a));
    assert_int_equal(a.n, 7);
    assert_rel(a.overall, -0.0772398214573, 1e-9);
    assert_rel(a.overall_se, 0.0199649890618, 1e-9);
    assert_near(a.overall, -0.0772, 0.5e-4);
    assert_rel(a.overall_se, 0.0219, 0.15);
    for (size_t c = 0; c < 7; c++) {
        assert_true(a.key[c] == (double)c - 3);
        assert_rel(a.estimate[c], dyn_est[c], 1e-9);
        assert_rel(a.std_error[c], dyn_se[c], 1e-9);
        assert_near(a.estimate[c], dyn_readme[c], 0.5e-4 + 1e-12);
    }

    /* group: README overall -0.031 (bootstrap SE 0.0126); by group */
    static const double grp_readme[3] = {-0.0797, -0.0229, -0.0261};
    static const double grp_est[3] = {-0.0797491265747, -0.0229095392495, -0.0260544107192};
    static const double grp_se[3] = {0.026367799435, 0.0167033302552, 0.0166554353493};
    check_ok(syf_cs_aggregate(w, SYF_CS_GROUP, &a));
    assert_int_equal(a.n, 3);
    assert_rel(a.overall, -0.0310182822287, 1e-9);
    assert_rel(a.overall_se, 0.012446059321, 1e-9);
    assert_near(a.overall, -0.031, 0.5e-3);
    assert_rel(a.overall_se, 0.0126, 0.15);
    for (size_t c = 0; c < 3; c++) {
        assert_true(a.key[c] == g[c]);
        assert_rel(a.estimate[c], grp_est[c], 1e-9);
        assert_rel(a.std_error[c], grp_se[c], 1e-9);
        assert_near(a.estimate[c], grp_readme[c], 0.5e-4 + 1e-12);
    }
    syf_cs_free(w);
    panel_free(&p);
}

static void test_mpdta_notyet(void **state)
{
    (void)state;
    panel p;
    mpdta_load(&p);
    syf_cs_workspace *w = syf_cs_alloc(p.n, p.T);
    syf_cs_result r;
    check_ok(syf_cs_fit(w, p.n, p.T, p.Y, p.period, p.group, SYF_CS_NOTYET, &r));
    /* [recomputed] R 4.2.2 by hand, not-yet-treated comparison */
    static const double att[12] = {
        -0.0193723636759,  -0.0783190990621,  -0.136274346329,  -0.100811363085,
        -0.00256255094261, -0.00193924609579, 0.00466087631998, -0.0412244715462,
        0.029759364761,    -0.0024106128001,  -0.0310871193897, -0.0260544107192};
    static const double se[12] = {
        0.0223101128837, 0.0303902285434, 0.0354033849689, 0.0343592258347,
        0.0225302351453, 0.0190421586058, 0.0163355842468, 0.0202291807041,
        0.0145335416387, 0.0160312963755, 0.0178775113133, 0.0166554353493};
    static const size_t n0[12] = {480, 480, 440, 309, 440, 440, 440, 309, 349, 349, 309, 309};
    for (size_t k = 0; k < 12; k++) {
        assert_rel(r.att[k], att[k], 1e-9);
        assert_rel(r.std_error[k], se[k], 1e-9);
        assert_int_equal(r.n_control[k], n0[k]);
    }
    assert_rel(r.pretest_stat, 7.79092771883, 1e-9);
    assert_rel(r.pretest_p, 0.168140658576, 1e-9);
    syf_cs_aggregate_result a;
    check_ok(syf_cs_aggregate(w, SYF_CS_SIMPLE, &a));
    assert_rel(a.overall, -0.039763625623, 1e-9);
    assert_rel(a.overall_se, 0.0120524247873, 1e-9);
    check_ok(syf_cs_aggregate(w, SYF_CS_DYNAMIC, &a));
    assert_rel(a.overall, -0.0773993139706, 1e-9);
    assert_rel(a.overall_se, 0.0195601769464, 1e-9);
    static const double dyn[7] = {0.029759364761, -0.00244615388607, -0.0242689034145,
                                  -0.0189221990834, -0.0535893473848, -0.136274346329,
                                  -0.100811363085};
    static const double dse[7] = {0.0145335416387, 0.0131203504343, 0.0144636816758,
                                  0.0120445686893, 0.0169463855391, 0.0354033849689,
                                  0.0343592258347};
    for (size_t c = 0; c < 7; c++) {
        assert_rel(a.estimate[c], dyn[c], 1e-9);
        assert_rel(a.std_error[c], dse[c], 1e-9);
    }
    check_ok(syf_cs_aggregate(w, SYF_CS_GROUP, &a));
    assert_rel(a.overall, -0.0304622281126, 1e-9);
    assert_rel(a.overall_se, 0.0125751201317, 1e-9);
    static const double grp[3] = {-0.083694293038, -0.0182817976131, -0.0260544107192};
    static const double gse[3] = {0.025701599768, 0.0159222358245, 0.0166554353493};
    for (size_t c = 0; c < 3; c++) {
        assert_rel(a.estimate[c], grp[c], 1e-9);
        assert_rel(a.std_error[c], gse[c], 1e-9);
    }
    syf_cs_free(w);
    panel_free(&p);
}

/* No never-treated units, not-yet-treated comparison: the did package drops
 * the periods from the last group's start (2007) on and uses that group as
 * the comparison group.  mpdta without its never-treated counties. */
static void test_no_never_treated(void **state)
{
    (void)state;
    panel p;
    mpdta_load(&p);
    size_t m = 0;
    for (size_t i = 0; i < p.n; i++)
        if (isfinite(p.group[i])) {
            memmove(p.Y + m * p.T, p.Y + i * p.T, p.T * sizeof *p.Y);
            p.group[m++] = p.group[i];
        }
    assert_int_equal(m, 191);
    syf_cs_workspace *w = syf_cs_alloc(m, p.T);
    syf_cs_result r;
    assert_int_equal(syf_cs_fit(w, m, p.T, p.Y, p.period, p.group, SYF_CS_NEVER, &r), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "never-treated"));
    check_ok(syf_cs_fit(w, m, p.T, p.Y, p.period, p.group, SYF_CS_NOTYET, &r));
    assert_int_equal(r.n_periods, 4);
    assert_int_equal(r.n_groups, 2);
    assert_int_equal(r.n_never, 131);
    assert_int_equal(r.n_gt, 6);
    /* [recomputed] R 4.2.2 by hand (2007 recoded to never, years < 2007) */
    static const double att[6] = {-0.0353990145156, -0.0925872029001, -0.133952382197,
                                  -0.0239865431591, -2.49258644026e-05, 0.0264925124368};
    static const double se[6] = {0.0233767705435, 0.0325760704195, 0.038708457863,
                                 0.0240558316172, 0.0224579722099, 0.0193805129667};
    for (size_t k = 0; k < 6; k++) {
        assert_rel(r.att[k], att[k], 1e-9);
        assert_rel(r.std_error[k], se[k], 1e-9);
    }
    syf_cs_aggregate_result a;
    check_ok(syf_cs_aggregate(w, SYF_CS_SIMPLE, &a));
    assert_rel(a.overall, -0.0417907149478, 1e-9);
    assert_rel(a.overall_se, 0.0204543150729, 1e-9);
    syf_cs_free(w);
    panel_free(&p);
}

/* ------------------------------------------------------------------------ */
/* Simulated staggered panels. */

/* y_it = a_i + l_t + effect(g, t) + sd * noise; groups cycle over gvals
 * (INFINITY = never). */
static double effect(double g, double t) { return t >= g ? 0.5 + 0.3 * (t - g) + 0.01 * g : 0; }

static void simulate(panel *p, size_t n, size_t T, const double *gvals, size_t nG, double sd,
                     unsigned long seed)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    p->n = n;
    p->T = T;
    p->Y = malloc(n * T * sizeof *p->Y);
    p->period = malloc(T * sizeof *p->period);
    p->group = malloc(n * sizeof *p->group);
    for (size_t t = 0; t < T; t++)
        p->period[t] = (double)t + 1;
    for (size_t i = 0; i < n; i++) {
        p->group[i] = gvals[i % nG];
        double a = gsl_ran_gaussian(rng, 1.0);
        for (size_t t = 0; t < T; t++)
            p->Y[i * T + t] = a + sin((double)t) + effect(p->group[i], p->period[t]) +
                              (sd > 0 ? gsl_ran_gaussian(rng, sd) : 0);
    }
    gsl_rng_free(rng);
}

static void test_noise_free_recovery(void **state)
{
    (void)state;
    static const double gv[4] = {3, 5, 6, INFINITY};
    panel p;
    simulate(&p, 40, 8, gv, 4, 0, 1);
    syf_cs_workspace *w = syf_cs_alloc(p.n, p.T);
    for (int ctl = 0; ctl < 2; ctl++) {
        syf_cs_result r;
        check_ok(syf_cs_fit(w, p.n, p.T, p.Y, p.period, p.group, (syf_cs_control)ctl, &r));
        assert_int_equal(r.n_gt, 3 * 7);
        double num = 0, den = 0;
        for (size_t k = 0; k < r.n_gt; k++) {
            assert_near(r.att[k], effect(r.group[k], r.time[k]), 1e-12);
            assert_near(r.std_error[k], 0, 1e-12);
            if (r.post[k]) {
                num += 10 * effect(r.group[k], r.time[k]);
                den += 10;
            }
        }
        syf_cs_aggregate_result a;
        check_ok(syf_cs_aggregate(w, SYF_CS_SIMPLE, &a));
        assert_near(a.overall, num / den, 1e-12);
        check_ok(syf_cs_aggregate(w, SYF_CS_DYNAMIC, &a));
        for (size_t c = 0; c < a.n; c++) {
            double e = a.key[c];
            /* equal group sizes: mean of the groups' effects at e */
            double s = 0;
            int cnt = 0;
            for (size_t g = 0; g < 3; g++)
                if (gv[g] + e >= 2 && gv[g] + e <= 8) {
                    s += effect(gv[g], gv[g] + e);
                    cnt++;
                }
            assert_near(a.estimate[c], s / cnt, 1e-12);
        }
        check_ok(syf_cs_aggregate(w, SYF_CS_GROUP, &a));
        for (size_t g = 0; g < 3; g++) {
            double s = 0;
            for (double t = gv[g]; t <= 8; t++)
                s += effect(gv[g], t);
            assert_near(a.estimate[g], s / (9 - gv[g]), 1e-12);
        }
    }
    syf_cs_free(w);
    panel_free(&p);
}

/* Unit and period shifts leave everything unchanged; scaling y by c scales
 * estimates by c and SEs by |c|; reordering units changes nothing. */
static void test_invariances(void **state)
{
    (void)state;
    static const double gv[4] = {3, 5, 6, INFINITY};
    panel p;
    simulate(&p, 60, 7, gv, 4, 1.0, 7);
    size_t n = p.n, T = p.T;
    syf_cs_workspace *w = syf_cs_alloc(n, T), *w2 = syf_cs_alloc(n, T);
    syf_cs_result r, r2;
    check_ok(syf_cs_fit(w, n, T, p.Y, p.period, p.group, SYF_CS_NOTYET, &r));
    syf_cs_aggregate_result a, a2;
    check_ok(syf_cs_aggregate(w, SYF_CS_DYNAMIC, &a));

    double *Y2 = malloc(n * T * sizeof *Y2), *g2 = malloc(n * sizeof *g2);
    for (int variant = 0; variant < 3; variant++) {
        double c = variant == 1 ? -2.5 : 1;
        for (size_t i = 0; i < n; i++) {
            size_t src = variant == 2 ? n - 1 - i : i; /* reversed unit order */
            g2[i] = p.group[src];
            for (size_t t = 0; t < T; t++)
                Y2[i * T + t] = variant == 0 ? p.Y[src * T + t] + 3.0 * (double)i + 10.0 * (double)(t * t)
                                             : c * p.Y[src * T + t];
        }
        check_ok(syf_cs_fit(w2, n, T, Y2, p.period, g2, SYF_CS_NOTYET, &r2));
        assert_int_equal(r2.n_gt, r.n_gt);
        for (size_t k = 0; k < r.n_gt; k++) {
            assert_near(r2.att[k], c * r.att[k], 1e-9);
            assert_near(r2.std_error[k], fabs(c) * r.std_error[k], 1e-9);
        }
        if (variant != 1)
            assert_near(r2.pretest_stat, r.pretest_stat, 1e-6 * r.pretest_stat);
        check_ok(syf_cs_aggregate(w2, SYF_CS_DYNAMIC, &a2));
        assert_near(a2.overall, c * a.overall, 1e-9);
        assert_near(a2.overall_se, fabs(c) * a.overall_se, 1e-9);
        for (size_t e = 0; e < a.n; e++)
            assert_near(a2.std_error[e], fabs(c) * a.std_error[e], 1e-9);
    }
    free(Y2);
    free(g2);
    syf_cs_free(w);
    syf_cs_free(w2);
    panel_free(&p);
}

/* Units treated by the first period are dropped; units treated after the
 * last period count as never treated; neither changes the cells of a
 * never-treated comparison except through the control set. */
static void test_dropped_and_late_units(void **state)
{
    (void)state;
    static const double gv[3] = {3, 5, INFINITY};
    panel p;
    simulate(&p, 30, 6, gv, 3, 1.0, 3);
    syf_cs_workspace *w = syf_cs_alloc(40, 6);
    syf_cs_result r, r2;
    check_ok(syf_cs_fit(w, p.n, p.T, p.Y, p.period, p.group, SYF_CS_NEVER, &r));
    double att[16];
    size_t ngt = r.n_gt;
    memcpy(att, r.att, ngt * sizeof *att);
    /* add two units treated at period 1 (and before it): dropped */
    double *Y = malloc(32 * 6 * sizeof *Y), *g = malloc(32 * sizeof *g);
    memcpy(Y, p.Y, 30 * 6 * sizeof *Y);
    memcpy(g, p.group, 30 * sizeof *g);
    for (size_t t = 0; t < 6; t++)
        Y[30 * 6 + t] = Y[31 * 6 + t] = 100.0 * (double)t;
    g[30] = 1;
    g[31] = -4;
    check_ok(syf_cs_fit(w, 32, 6, Y, p.period, g, SYF_CS_NEVER, &r2));
    assert_int_equal(r2.n_dropped, 2);
    assert_int_equal(r2.n_units, 30);
    for (size_t k = 0; k < ngt; k++)
        assert_near(r2.att[k], att[k], 1e-12);
    /* a unit treated after the panel ends is never treated: same as INFINITY */
    g[30] = 99;
    g[31] = INFINITY;
    check_ok(syf_cs_fit(w, 32, 6, Y, p.period, g, SYF_CS_NEVER, &r2));
    assert_int_equal(r2.n_late, 1);
    assert_int_equal(r2.n_never, 12);
    double att99[16];
    memcpy(att99, r2.att, ngt * sizeof *att);
    g[30] = INFINITY;
    check_ok(syf_cs_fit(w, 32, 6, Y, p.period, g, SYF_CS_NEVER, &r2));
    for (size_t k = 0; k < ngt; k++)
        assert_near(r2.att[k], att99[k], 1e-12);
    free(Y);
    free(g);
    syf_cs_free(w);
    panel_free(&p);
}

static void test_errors(void **state)
{
    (void)state;
    static const double gv[3] = {3, 5, INFINITY};
    panel p;
    simulate(&p, 12, 5, gv, 3, 1.0, 5);
    syf_cs_workspace *w = syf_cs_alloc(12, 5);
    syf_cs_result r;
    syf_cs_aggregate_result a;
    assert_int_equal(syf_cs_aggregate(w, SYF_CS_SIMPLE, &a), SYF_EINPUT); /* before a fit */
    p.group[0] = 3.5; /* not a period */
    assert_int_equal(syf_cs_fit(w, 12, 5, p.Y, p.period, p.group, SYF_CS_NEVER, &r), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "not one of the periods"));
    assert_int_equal(syf_cs_aggregate(w, SYF_CS_SIMPLE, &a), SYF_EINPUT); /* failed fit */
    p.group[0] = NAN;
    assert_int_equal(syf_cs_fit(w, 12, 5, p.Y, p.period, p.group, SYF_CS_NEVER, &r), SYF_EINPUT);
    for (size_t i = 0; i < 12; i++)
        p.group[i] = INFINITY; /* nobody treated */
    assert_int_equal(syf_cs_fit(w, 12, 5, p.Y, p.period, p.group, SYF_CS_NEVER, &r), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "no treated group"));
    p.group[0] = 3;
    p.Y[7] = NAN;
    assert_int_equal(syf_cs_fit(w, 12, 5, p.Y, p.period, p.group, SYF_CS_NEVER, &r), SYF_EINPUT);
    p.Y[7] = 0;
    p.period[2] = p.period[1];
    assert_int_equal(syf_cs_fit(w, 12, 5, p.Y, p.period, p.group, SYF_CS_NEVER, &r), SYF_EINPUT);
    p.period[2] = 3;
    assert_int_equal(syf_cs_fit(w, 13, 5, p.Y, p.period, p.group, SYF_CS_NEVER, &r), SYF_EINPUT);
    check_ok(syf_cs_fit(w, 12, 5, p.Y, p.period, p.group, SYF_CS_NEVER, &r));
    /* one treated unit, group 3: cells t = 2..5 */
    assert_int_equal(r.n_gt, 4);
    syf_cs_control c;
    syf_cs_aggregation g;
    assert_int_equal(syf_cs_control_parse("nevertreated", &c), SYF_EINPUT);
    assert_int_equal(syf_cs_aggregation_parse("calendar", &g), SYF_EINPUT);
    check_ok(syf_cs_aggregation_parse("group", &g));
    assert_int_equal(g, SYF_CS_GROUP);
    assert_null(syf_cs_alloc(0, 5));
    syf_cs_free(NULL);
    syf_cs_free(w);
    panel_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpdta_never),
        cmocka_unit_test(test_mpdta_notyet),
        cmocka_unit_test(test_no_never_treated),
        cmocka_unit_test(test_noise_free_recovery),
        cmocka_unit_test(test_invariances),
        cmocka_unit_test(test_dropped_and_late_units),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
