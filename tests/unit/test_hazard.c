/* test_hazard.c — exit times invert the piecewise cumulative hazard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "syfosim/hazard.h"
#include "syfosim/rng.h"
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

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_constant),
                                       cmocka_unit_test(test_piecewise_by_hand),
                                       cmocka_unit_test(test_inverse_property)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
