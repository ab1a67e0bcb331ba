/* test_oracle.c — oracle individual RCTs inside the simulator recover the
 * effect they were given, within Monte Carlo error.
 *
 * The effect priors are risk differences in work (calibration.md): work-
 * focused CBT + job support, +7 points in work at 12 months (row 57, H12);
 * IPS / supported employment, +10 points at 18-24 months, decaying (row 62,
 * H20-H22).  The engine acts through recovery hazard ratios, so the test
 * (1) solves for the hazard ratio that gives the prior on one seed
 * (syf_effect_solve_hr), then (2) runs an individual RCT of referral to
 * the team on other seeds -- every participant recruited at week 8 and
 * referred there if randomised to the team, places ample -- and checks
 * that the simulator's truth (the SATE, exact by common random numbers) is
 * the prior and that the trial's estimate recovers it: the mean over
 * replications within 3 Monte Carlo SEs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "syfosim/effect.h"
#include "syfosim/error.h"
#include "syfosim/trial.h"
#include "test_util.h"

static void oracle_scenario(syf_scenario *sc, int team, long days, double half_life)
{
    syf_scenario_defaults(sc);
    sc->population.persons = 60000;
    sc->world.offices = 6;
    sc->run.burn_in_days = 365;
    sc->pilot.triage_day = 56; /* recruited and referred at week 8 */
    syf_team_params *tp = &sc->team[team];
    tp->fte = 1000; /* ample places: the effect of the service, not of a queue */
    tp->caseload = 10;
    tp->in_pilot = 1;
    tp->source = SYF_SOURCE_WINDOW;
    tp->refer_day = 56;
    tp->refer_until_day = 84;
    tp->half_life_days = half_life;
    sc->trial.design = SYF_DESIGN_INDIVIDUAL_RCT;
    sc->trial.treated_share = 0.5;
    sc->trial.outcome = SYF_OUTCOME_WORK_12M;
    sc->trial.outcome_days = 56 + days; /* from the spell's start: `days` after referral */
    sc->run.follow_up_days = sc->trial.outcome_days + 10;
    sc->trial.estimator = SYF_ESTIMATOR_OLS;
}

static void oracle(int team, double target, long days, double half_life, double *hr_out)
{
    syf_scenario sc;
    oracle_scenario(&sc, team, days, half_life);
    double hr;
    syf_effect_measure m;
    assert_int_equal(syf_effect_solve_hr(&sc, team, target, days, 101, 0.002, &hr, &m), SYF_OK);
    print_message("team %d: hr %.4f gives %+.4f (SE %.4f) in work %ld days after referral, "
                  "%zu referred, %.3f at work without\n",
                  team, hr, m.rd, m.se, days, m.referred, m.work0);
    assert_near(m.rd, target, 0.002);
    for (int d = 0; d < SYF_N_DIAG; d++)
        sc.team[team].hr[d] = hr;
    enum { R = 12 };
    double est = 0, est2 = 0, sate = 0;
    for (int r = 0; r < R; r++) {
        syf_trial_estimate e;
        assert_int_equal(syf_trial_replicate(&sc, 500, (uint64_t)r, &e), SYF_OK);
        est += e.estimate;
        est2 += e.estimate * e.estimate;
        sate += e.estimand;
    }
    est /= R;
    sate /= R;
    const double sd = sqrt((est2 - R * est * est) / (R - 1));
    const double mcse = sd / sqrt((double)R);
    print_message("  RCT: mean SATE %+.4f, mean estimate %+.4f (MCSE %.4f)\n", sate, est, mcse);
    /* the truth on new seeds is the prior (the solve's seed-to-seed error is
     * about its SE, 0.004) */
    assert_true(fabs(sate - target) < 0.015);
    /* the trial recovers the truth and the prior */
    assert_true(fabs(est - sate) < 3 * mcse + 0.002);
    assert_true(fabs(est - target) < 3 * mcse + 0.015);
    *hr_out = hr;
}

/* Work-focused CBT + job support: +7 points in work at 12 months (row 57). */
static void test_oracle_cbt_row57(void **state)
{
    (void)state;
    double hr;
    oracle(SYF_TEAM_CBT, 0.07, 365, 0, &hr);
    assert_true(hr > 1.0);
}

/* IPS: +10 points in work at 18 months (row 62).  Row 62's decay to 0 by
 * 36 months cannot be met by a recovery-hazard effect: returns that avoid
 * the maximum (and the exits to AAP after it) are permanent, so the work
 * difference does not shrink.  What the decay key does do is tested: for
 * the same hazard ratio a decaying effect gives less work at 18 months. */
static void test_oracle_ips_row62(void **state)
{
    (void)state;
    double hr;
    oracle(SYF_TEAM_IPS, 0.10, 548, 0, &hr);
    syf_scenario sc;
    oracle_scenario(&sc, SYF_TEAM_IPS, 1095, 0);
    syf_effect_measure m18, m36, d18;
    assert_int_equal(syf_effect_work_rd(&sc, SYF_TEAM_IPS, hr, 548, 101, &m18), SYF_OK);
    assert_int_equal(syf_effect_work_rd(&sc, SYF_TEAM_IPS, hr, 1095, 101, &m36), SYF_OK);
    sc.team[SYF_TEAM_IPS].half_life_days = 90;
    assert_int_equal(syf_effect_work_rd(&sc, SYF_TEAM_IPS, hr, 548, 101, &d18), SYF_OK);
    print_message("IPS: %+.4f at 18 months, %+.4f at 36 months; with a 90-day half-life "
                  "%+.4f at 18 months\n",
                  m18.rd, m36.rd, d18.rd);
    assert_true(d18.rd < m18.rd - 3 * m18.se);
    assert_true(d18.rd > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle_cbt_row57),
        cmocka_unit_test(test_oracle_ips_row62),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
