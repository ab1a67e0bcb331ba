/* test_hazard.c — exit times invert the piecewise cumulative hazard; the
 * table version (syf_hazard_table_exit_time, what the simulator uses) agrees
 * with the walk over every piece. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "syfosim/error.h"
#include "syfosim/hazard.h"
#include "syfosim/rng.h"
#include "syfosim/scenario.h"
#include "test_util.h"

static void test_constant(void **state)
{
    (void)state;
    const double h0[1] = {0.05};
    const int knots[1] = {0};
    /* exponential: T = E / (h m) */
    assert_near(syf_hazard_exit_time(h0, knots, 1, 2.0, NULL, 0, 1.0, 1e9), 10.0, 1e-12);
    assert_near(syf_hazard_cumulative(h0, knots, 1, 2.0, NULL, 0, 10.0), 1.0, 1e-12);
    /* not reached before tmax */
    assert_true(syf_hazard_exit_time(h0, knots, 1, 2.0, NULL, 0, 1.0, 5.0) >= 5.0);
}

static void test_piecewise_by_hand(void **state)
{
    (void)state;
    const double h0[3] = {0.2, 0.1, 0.05};
    const int knots[3] = {0, 5, 10};
    /* H(5) = 1, H(10) = 1.5; with a multiplier 2 from t = 7: H(10) = 1 + 0.2 + 0.6 = 1.8 */
    const syf_hr_change chg[1] = {{7.0, 2.0}};
    assert_near(syf_hazard_cumulative(h0, knots, 3, 1.0, chg, 1, 10.0), 1.8, 1e-12);
    /* E = 1.5: 1 by day 5, 0.2 by day 7, then 0.2 per day -> T = 8.5 */
    assert_near(syf_hazard_exit_time(h0, knots, 3, 1.0, chg, 1, 1.5, 400), 8.5, 1e-12);
    /* past the last knot the last piece continues: E = 2.3 -> 1.8 + 0.1 * 5 at t = 15 */
    assert_near(syf_hazard_exit_time(h0, knots, 3, 1.0, chg, 1, 2.3, 400), 15.0, 1e-9);
}

/* Property: for random schedules, H(T) == E. */
static void test_inverse_property(void **state)
{
    (void)state;
    const double h0[6] = {0.3, 0.1, 0.05, 0.02, 0.01, 0.03};
    const int knots[6] = {0, 3, 16, 56, 182, 300};
    syf_stream s;
    syf_stream_init(&s, 5, 0, 0, 0);
    for (int it = 0; it < 2000; it++) {
        syf_hr_change chg[3];
        double t = 0;
        for (int k = 0; k < 3; k++) {
            t += 100 * syf_stream_uniform(&s);
            chg[k].t = t;
            chg[k].mult = 0.2 + 2 * syf_stream_uniform(&s);
        }
        double m0 = 0.5 + syf_stream_uniform(&s), E = syf_stream_exp(&s);
        double T = syf_hazard_exit_time(h0, knots, 6, m0, chg, 3, E, 1e6);
        double H = syf_hazard_cumulative(h0, knots, 6, m0, chg, 3, T);
        assert_true(fabs(H - E) < 1e-9 * (1 + E));
    }
}

/* The table's exit time against the walk's, on random baselines (the
 * scenario's magnitudes: 0.005 to 0.3 a day, some knots past tmax) and
 * random multiplier schedules (changes before and at 0, ties, steps down to
 * 0.1 and up to 3): the same to 1e-12 relative, the same side of tmax. */
static void test_table_matches_walk(void **state)
{
    (void)state;
    syf_stream s;
    syf_stream_init(&s, 17, 0, 0, 0);
    size_t crossed = 0, late = 0;
    for (int it = 0; it < 20000; it++) {
        double h0[SYF_HAZARD_MAX_PIECES];
        int knots[SYF_HAZARD_MAX_PIECES];
        const size_t np = 1 + (size_t)(syf_stream_uniform(&s) * 20);
        knots[0] = it % 3 ? 0 : 2; /* the first piece starts at 0 whatever it says */
        for (size_t k = 0; k < np; k++) {
            if (k)
                knots[k] = knots[k - 1] + 1 + (int)(syf_stream_uniform(&s) * 40);
            h0[k] = 0.005 + 0.3 * syf_stream_uniform(&s);
        }
        syf_hr_change chg[12];
        const size_t nchg = (size_t)(syf_stream_uniform(&s) * 12);
        double t = -5;
        for (size_t k = 0; k < nchg; k++) {
            if (syf_stream_uniform(&s) > 0.2) /* else a tie with the one before */
                t += (syf_stream_uniform(&s) < 0.5 ? floor(60 * syf_stream_uniform(&s))
                                                   : 60 * syf_stream_uniform(&s));
            chg[k].t = t;
            chg[k].mult = 0.1 + 2.9 * syf_stream_uniform(&s);
        }
        const double m0 = 0.1 + 2.9 * syf_stream_uniform(&s);
        const double E = it % 4 ? syf_stream_exp(&s) : 30 * syf_stream_exp(&s);
        const double tmax = it % 5 ? 400 : 5 + 100 * syf_stream_uniform(&s);
        syf_hazard_table tab;
        assert_int_equal(syf_hazard_table_init(&tab, h0, knots, np), SYF_OK);
        const double a = syf_hazard_exit_time(h0, knots, np, m0, chg, nchg, E, tmax);
        const double b = syf_hazard_table_exit_time(&tab, m0, chg, nchg, E, tmax);
        if (a < tmax) {
            assert_true(fabs(a - b) <= 1e-12 * (a > 1 ? a : 1));
            crossed++;
        } else {
            assert_true(b >= tmax);
            late++;
        }
    }
    assert_true(crossed > 10000 && late > 1000);
}

/* The scenario's own baseline, multipliers as in a spell (grading from a
 * day, the activity check, a mapping conversation): H(T) = E. */
static void test_table_default_baseline(void **state)
{
    (void)state;
    syf_scenario sc;
    syf_scenario_defaults(&sc);
    syf_hazard_table tab;
    assert_int_equal(syf_hazard_table_init(&tab, sc.duration.baseline_hazard, syf_hazard_knots,
                                           SYF_N_PIECES),
                     SYF_OK);
    syf_stream s;
    syf_stream_init(&s, 18, 0, 0, 0);
    for (int it = 0; it < 5000; it++) {
        const double g = floor(17 + 40 * syf_stream_uniform(&s));
        const syf_hr_change chg[3] = {{g, 1.4}, {56, 1.4 * 1.1}, {60 + g, 1.1}};
        const double m0 = exp(0.8 * syf_stream_normal(&s)), E = syf_stream_exp(&s);
        const double T = syf_hazard_table_exit_time(&tab, m0, chg, 3, E, 364);
        if (T >= 364)
            continue;
        const double H = syf_hazard_cumulative(sc.duration.baseline_hazard, syf_hazard_knots,
                                               SYF_N_PIECES, m0, chg, 3, T);
        assert_true(fabs(H - E) < 1e-12 * (1 + E));
    }
}

/* Edges: one piece (exponential), pieces without hazard, a multiplier 0
 * (never reached), changes at or before time 0, and the table's limits. */
static void test_table_edges(void **state)
{
    (void)state;
    syf_hazard_table tab;
    const double h1[1] = {0.05};
    const int k1[1] = {0};
    assert_int_equal(syf_hazard_table_init(&tab, h1, k1, 1), SYF_OK);
    assert_near(syf_hazard_table_exit_time(&tab, 2.0, NULL, 0, 1.0, 1e9), 10.0, 1e-12);
    assert_true(syf_hazard_table_exit_time(&tab, 2.0, NULL, 0, 1.0, 5.0) > 5.0);
    /* a change at 0 (and one before) applies from the start */
    const syf_hr_change c0[2] = {{-3.0, 7.0}, {0.0, 4.0}};
    assert_near(syf_hazard_table_exit_time(&tab, 1.0, c0, 2, 1.0, 1e9), 5.0, 1e-12);

    /* a flat piece in the middle is skipped; a flat last piece never ends */
    const double h3[3] = {0.1, 0.0, 0.2};
    const int k3[3] = {0, 10, 20};
    assert_int_equal(syf_hazard_table_init(&tab, h3, k3, 3), SYF_OK);
    assert_near(syf_hazard_table_exit_time(&tab, 1.0, NULL, 0, 1.5, 400), 22.5, 1e-12);
    assert_near(syf_hazard_table_exit_time(&tab, 1.0, NULL, 0, 0.5, 400), 5.0, 1e-12);
    const double h2[2] = {0.1, 0.0};
    const int k2[2] = {0, 10};
    assert_int_equal(syf_hazard_table_init(&tab, h2, k2, 2), SYF_OK);
    assert_true(syf_hazard_table_exit_time(&tab, 1.0, NULL, 0, 1.5, 400) > 400);

    /* multiplier 0 from day 4: E above H(4) is never reached */
    assert_int_equal(syf_hazard_table_init(&tab, h3, k3, 3), SYF_OK);
    const syf_hr_change stop[1] = {{4.0, 0.0}};
    assert_true(syf_hazard_table_exit_time(&tab, 1.0, stop, 1, 0.5, 400) > 400);
    assert_near(syf_hazard_table_exit_time(&tab, 1.0, stop, 1, 0.3, 400), 3.0, 1e-12);
    /* ... and restarting at 15: 0.4 by day 4, nothing until the baseline
     * resumes at 20, then 0.2 a day -> 20.5 */
    const syf_hr_change pause[2] = {{4.0, 0.0}, {15.0, 1.0}};
    assert_near(syf_hazard_table_exit_time(&tab, 1.0, pause, 2, 0.5, 400), 20.5, 1e-12);
    assert_near(syf_hazard_exit_time(h3, k3, 3, 1.0, pause, 2, 0.5, 400), 20.5, 1e-12);

    /* limits */
    double hmany[SYF_HAZARD_MAX_PIECES + 1];
    int kmany[SYF_HAZARD_MAX_PIECES + 1];
    for (int k = 0; k <= SYF_HAZARD_MAX_PIECES; k++) {
        hmany[k] = 0.1;
        kmany[k] = k;
    }
    assert_int_equal(syf_hazard_table_init(&tab, hmany, kmany, SYF_HAZARD_MAX_PIECES), SYF_OK);
    assert_int_equal(syf_hazard_table_init(&tab, hmany, kmany, SYF_HAZARD_MAX_PIECES + 1),
                     SYF_EINPUT);
    assert_int_equal(syf_hazard_table_init(&tab, hmany, kmany, 0), SYF_EINPUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_constant),
                                       cmocka_unit_test(test_piecewise_by_hand),
                                       cmocka_unit_test(test_inverse_property),
                                       cmocka_unit_test(test_table_matches_walk),
                                       cmocka_unit_test(test_table_default_baseline),
                                       cmocka_unit_test(test_table_edges)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
