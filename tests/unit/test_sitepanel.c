/* test_sitepanel.c — the single-site design analysed by synthetic control
 * (analysis/sitepanel.c).
 *
 *   - design: exactly one office starts, at burn_in + (periods / 2) x
 *     period_days; it is the office self_selected would pick with one
 *     treated office (same stream, same score); bad inputs fail;
 *   - constructed trial data: the fit equals syf_sc_fit() on the hand-made
 *     office x period cell means, a donor with an empty cell is dropped, an
 *     incomplete pilot office fails, the estimand is the mean y1 - y0 of
 *     the pilot office's participants triaged on or after the start;
 *   - simulated (at most 200,000 persons per replication): no effect gives
 *     an estimand of exactly 0 and a placebo p in (0, 1]; a strong effect
 *     (effect_hr = 3) gives negative estimates close to the estimand over a
 *     few replications; the same seed gives identical results.
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "syfosim/design.h"
#include "syfosim/error.h"
#include "syfosim/rng.h"
#include "syfosim/sc.h"
#include "syfosim/sitepanel.h"
#include "test_util.h"

static void scenario(syf_scenario *sc, long persons, long offices, long periods, double hr)
{
    syf_scenario_defaults(sc);
    sc->population.persons = persons;
    sc->world.offices = offices;
    sc->pilot.type = SYF_PILOT_MSYFO;
    sc->pilot.effect_hr = hr;
    sc->trial.design = SYF_DESIGN_STAGGERED; /* office-level collection */
    sc->trial.periods = periods;
    sc->trial.selection_strength = 0;
}

static void check(int st)
{
    if (st != SYF_OK)
        fprintf(stderr, "%s\n", syf_error_message());
    assert_int_equal(st, SYF_OK);
}

static void test_design(void **state)
{
    (void)state;
    syf_scenario sc;
    scenario(&sc, 20000, 12, 5, 1.15);
    sc.trial.selection_strength = 1.0;
    syf_population *pop = NULL;
    check(syf_population_build(&sc, 7, 3, &pop));
    for (uint64_t rep = 0; rep < 4; rep++) {
        syf_design d;
        check(syf_sitepanel_design(&sc, pop, 7, rep, &d));
        const int32_t pd = (int32_t)(sc.run.observation_days / 5);
        assert_int_equal(d.period_days, pd);
        assert_int_equal(d.n_office, 12);
        assert_int_equal(d.n_groups, 2);
        size_t n_on = 0, pilot = 0;
        for (size_t o = 0; o < d.n_office; o++)
            if (d.office_start[o] != INT32_MAX) {
                n_on++;
                pilot = o;
                assert_int_equal(d.office_group[o], 1);
            } else
                assert_int_equal(d.office_group[o], 0);
        assert_int_equal(n_on, 1);
        assert_int_equal(d.office_start[pilot], (int32_t)sc.run.burn_in_days + 2 * pd);
        assert_ptr_equal(d.assign.office_start, d.office_start);
        assert_null(d.assign.person_treated);
        assert_null(d.office_fidelity);
        /* the office self_selected picks first (one treated office) */
        syf_scenario ss = sc;
        ss.trial.design = SYF_DESIGN_SELF_SELECTED;
        ss.trial.treated_share = 1.0 / 12;
        syf_design ds;
        check(syf_design_build(&ss, pop, 7, rep, &ds));
        for (size_t o = 0; o < ds.n_office; o++)
            assert_int_equal(ds.office_start[o] != INT32_MAX, o == pilot);
        syf_design_free(&ds);
        syf_design_free(&d);
    }
    /* fidelity as design.c */
    sc.trial.fidelity_min = 0.5;
    syf_design d;
    check(syf_sitepanel_design(&sc, pop, 7, 0, &d));
    assert_non_null(d.office_fidelity);
    assert_ptr_equal(d.assign.office_fidelity, d.office_fidelity);
    for (size_t o = 0; o < d.n_office; o++)
        assert_true(d.office_fidelity[o] >= 0.5f && d.office_fidelity[o] <= 1.0f);
    syf_design_free(&d);
    sc.trial.fidelity_min = 1.0;
    /* bad inputs */
    sc.trial.periods = 1;
    assert_int_equal(syf_sitepanel_design(&sc, pop, 7, 0, &d), SYF_EINPUT);
    assert_null(d.office_start);
    syf_population_free(pop);
    scenario(&sc, 2000, 2, 5, 1.15);
    check(syf_population_build(&sc, 7, 0, &pop));
    assert_int_equal(syf_sitepanel_design(&sc, pop, 7, 0, &d), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "offices"));
    syf_population_free(pop);
}

/* Constructed trial data: 5 offices, 4 periods of 10 days, office 2 starts
 * at period 2; office 4 has no participant in period 1. */
static void test_constructed(void **state)
{
    (void)state;
    syf_scenario sc;
    scenario(&sc, 1000, 5, 4, 1.0);
    sc.run.burn_in_days = 100;
    sc.pilot.triage_day = 56;
    const size_t K = 5, T = 4, pilot = 2;
    const int32_t obs0 = 100, pd = 10, start = obs0 + 2 * pd;
    int32_t office_start[5] = {INT32_MAX, INT32_MAX, start, INT32_MAX, INT32_MAX};
    int32_t group[5] = {0, 0, 1, 0, 0};
    syf_design d;
    memset(&d, 0, sizeof d);
    d.n_office = K;
    d.office_start = office_start;
    d.office_group = group;
    d.n_groups = 2;
    d.period_days = pd;

    enum { CAP = 64 };
    uint32_t office[CAP];
    uint8_t keep[CAP];
    int16_t period[CAP];
    int32_t index_start[CAP];
    double y[CAP], y0[CAP], y1[CAP];
    syf_trial_data td;
    memset(&td, 0, sizeof td);
    td.office = office;
    td.keep = keep;
    td.period = period;
    td.index_start = index_start;
    td.y = y;
    td.y0 = y0;
    td.y1 = y1;
    double sum[5][4] = {{0}}, eff = 0;
    size_t cnt[5][4] = {{0}}, n_eff = 0;
    syf_stream s;
    syf_stream_init(&s, 1, 2, 3, 4);
    for (size_t o = 0; o < K; o++)
        for (size_t t = 0; t < T; t++) {
            if (o == 4 && t == 1)
                continue;
            for (int k = 0; k < 3; k++) {
                size_t j = td.n++;
                office[j] = (uint32_t)o;
                period[j] = (int16_t)t;
                /* a not-analysed participant (k = 2 in odd offices) */
                keep[j] = !(k == 2 && o % 2);
                index_start[j] = obs0 + (int32_t)t * pd + k - 56;
                y0[j] = 10 * (double)o + 3 * (double)t + syf_stream_normal(&s);
                y1[j] = y0[j] - 2 + syf_stream_normal(&s);
                const int z = o == pilot && t >= 2;
                y[j] = z ? y1[j] : y0[j];
                if (keep[j]) {
                    sum[o][t] += y[j];
                    cnt[o][t]++;
                }
                if (o == pilot && index_start[j] + 56 >= start) {
                    eff += y1[j] - y0[j];
                    n_eff++;
                }
            }
        }
    syf_trial_estimate e;
    syf_sitepanel_info info;
    check(syf_sitepanel_fit(&sc, &td, &d, &e, &info));
    assert_int_equal(e.status, SYF_OK);
    assert_int_equal(info.office, pilot);
    assert_int_equal(info.T0, 2);
    assert_int_equal(info.n_units, 4);
    assert_int_equal(info.n_dropped, 1);
    assert_int_equal(e.clusters, 4);
    assert_int_equal(n_eff, 6);
    assert_near(e.estimand, eff / (double)n_eff, 1e-12);
    assert_true(isnan(e.std_error) && isnan(e.df) && isnan(e.conf_low) && isnan(e.conf_high));
    /* direct fit of the cell means of offices 0-3 */
    double Y[4 * 4];
    for (size_t o = 0; o < 4; o++)
        for (size_t t = 0; t < T; t++)
            Y[o * T + t] = sum[o][t] / (double)cnt[o][t];
    syf_sc_workspace *w = syf_sc_alloc(4, T);
    syf_sc_result r;
    check(syf_sc_fit(w, 4, T, 2, Y, pilot, 1, &r));
    assert_near(e.estimate, r.att, 1e-12);
    assert_near(e.p_value, r.p_value, 1e-15);
    if (isinf(r.ratio)) /* an exact pre-period fit: the ratio is infinite on both sides */
        assert_true(isinf(e.statistic) && (e.statistic > 0) == (r.ratio > 0));
    else
        assert_near(e.statistic, r.ratio, 1e-9 * fabs(r.ratio));
    assert_near(info.rmspe_pre, r.rmspe_pre, 1e-12);
    assert_non_null(strstr(info.note, "sc weights:"));
    assert_non_null(strstr(info.note, "1 donors dropped"));
    syf_sc_free(w);

    /* the pilot office incomplete: fails, naming it */
    for (size_t j = 0; j < td.n; j++)
        if (office[j] == pilot && period[j] == 3)
            keep[j] = 0;
    assert_int_equal(syf_sitepanel_fit(&sc, &td, &d, &e, NULL), SYF_EINPUT);
    assert_int_equal(e.status, SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "pilot office 2"));

    /* not a single-site design */
    office_start[1] = start;
    assert_int_equal(syf_sitepanel_fit(&sc, &td, &d, &e, NULL), SYF_EINPUT);
}

static void test_null(void **state)
{
    (void)state;
    syf_scenario sc;
    scenario(&sc, 60000, 20, 4, 1.0);
    syf_trial_estimate e;
    syf_sitepanel_info info;
    check(syf_sitepanel_replicate_info(&sc, 11, 0, &e, &info));
    assert_true(e.estimand == 0.0); /* exactly: y1 == y0 for everybody */
    assert_true(e.p_value > 0 && e.p_value <= 1);
    assert_near(e.p_value * (double)info.n_units, (double)info.rank, 1e-9);
    assert_true(isfinite(e.estimate));
    assert_true(isnan(e.std_error));
    assert_true(e.n_pilot > 0 && e.n <= e.n_recruited && e.clusters == info.n_units);
    assert_int_equal(info.n_units + info.n_dropped, 20);
}

static void test_effect(void **state)
{
    (void)state;
    syf_scenario sc;
    scenario(&sc, 200000, 20, 6, 3.0);
    const int R = 5;
    double d = 0, sum_est = 0;
    for (int r = 0; r < R; r++) {
        syf_trial_estimate e;
        check(syf_sitepanel_replicate(&sc, 2026, (uint64_t)r, &e));
        assert_true(e.estimand < 0);
        sum_est += e.estimate;
        d += e.estimate - e.estimand;
    }
    /* paid days fall; the estimate's SD per replication is about 5 days
     * (measured over 20 replications), so the mean error of 5 is within
     * 4.5 of its SDs when below 10 */
    assert_true(sum_est / R < 0);
    assert_true(fabs(d / R) < 10);
}

static void test_reproducible(void **state)
{
    (void)state;
    syf_scenario sc;
    scenario(&sc, 40000, 10, 4, 2.0);
    syf_trial_estimate a, b;
    syf_sitepanel_info ia, ib;
    check(syf_sitepanel_replicate_info(&sc, 5, 1, &a, &ia));
    check(syf_sitepanel_replicate_info(&sc, 5, 1, &b, &ib));
    assert_memory_equal(&a, &b, sizeof a);
    assert_string_equal(ia.note, ib.note);
    assert_int_equal(ia.office, ib.office);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_design),     cmocka_unit_test(test_constructed),
        cmocka_unit_test(test_null),       cmocka_unit_test(test_effect),
        cmocka_unit_test(test_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
