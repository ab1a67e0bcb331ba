/* test_trial_inference.c — trial.inference = wild / ri for the ols analysis
 * of simulated trials (analysis/trial.c on top of wildboot.h and design.h).
 *
 *   - under the null (pilot.effect_hr = 1) on a small cluster RCT the RI
 *     p-values of 40 replications are roughly uniform (lowest decile at
 *     most 3x its expected count) and never below 1 / (1 + B);
 *   - the wild p-value differs from the analytic one and from RI's, the
 *     estimate and SE stay the OLS ones, and the CI changes;
 *   - the same seed / rep give identical p-values (both methods);
 *   - RI equals a naive re-implementation: re-draw the design with
 *     rep' = rep * 1000003 + b + 1, recompute the arms (and the transition
 *     exclusion) by hand, refit with analytic inference, count |T*| >= |T|;
 *   - the stepped wedge RI runs, with permutation statistics that differ
 *     across draws;
 *   - unsupported combinations fail with SYF_EINPUT.
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syfosim/design.h"
#include "syfosim/error.h"
#include "syfosim/trial.h"
#include "test_util.h"

static void small(syf_scenario *sc, double effect, int design, int inference)
{
    syf_scenario_defaults(sc);
    sc->population.persons = 10000;
    sc->world.offices = 12;
    sc->pilot.type = SYF_PILOT_MSYFO;
    sc->pilot.effect_hr = effect;
    sc->trial.design = design;
    sc->trial.estimator = SYF_ESTIMATOR_OLS;
    sc->trial.inference = inference;
    sc->trial.inference_draws = 99;
}

typedef struct {
    syf_population *pop;
    syf_design d;
    syf_trial_data td;
} trial;

static void trial_make(const syf_scenario *sc, uint64_t seed, uint64_t rep, trial *t)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(syf_population_build(sc, seed, rep, &t->pop), SYF_OK);
    assert_int_equal(syf_design_build(sc, t->pop, seed, rep, &t->d), SYF_OK);
    syf_world w;
    syf_world_init(&w, sc, t->pop, seed, rep);
    w.assign = &t->d.assign;
    assert_int_equal(syf_trial_collect(&w, &t->d, &t->td, NULL, NULL), SYF_OK);
}

static void trial_free(trial *t)
{
    syf_trial_data_free(&t->td);
    syf_design_free(&t->d);
    syf_population_free(t->pop);
}

static void fit_ok(const syf_scenario *sc, const trial *t, syf_trial_estimate *e)
{
    int st = syf_trial_estimate_fit(sc, &t->td, &t->d, e);
    if (st != SYF_OK)
        fprintf(stderr, "%s\n", syf_error_message());
    assert_int_equal(st, SYF_OK);
}

/* RI under the null: roughly uniform p-values; each is a multiple of
 * 1 / (1 + B) no smaller than that. */
static void test_ri_null_uniform(void **state)
{
    (void)state;
    syf_scenario sc;
    small(&sc, 1.0, SYF_DESIGN_CLUSTER_RCT, SYF_INFERENCE_RI);
    const int R = 40;
    int low = 0, below_half = 0;
    for (int r = 1; r <= R; r++) {
        syf_trial_estimate e;
        assert_int_equal(syf_trial_replicate(&sc, 77, (uint64_t)r, &e), SYF_OK);
        assert_int_equal(e.inference_draws, 99);
        assert_true(e.p_value >= 1.0 / 100 - 1e-15 && e.p_value <= 1.0);
        double k = e.p_value * 100.0;
        assert_near(k, round(k), 1e-9);
        low += e.p_value <= 0.1;
        below_half += e.p_value <= 0.5;
    }
    assert_true(low <= 12); /* expected 4 */
    assert_true(below_half >= 10 && below_half <= 30); /* expected 20 */
}

/* wild vs analytic vs ri on one trial; reproducibility of both. */
static void test_wild_and_ri_basics(void **state)
{
    (void)state;
    syf_scenario sc;
    small(&sc, 1.0, SYF_DESIGN_CLUSTER_RCT, SYF_INFERENCE_ANALYTIC);
    trial t;
    trial_make(&sc, 11, 3, &t);
    syf_trial_estimate a, w, w2, r, r2;
    fit_ok(&sc, &t, &a);
    sc.trial.inference = SYF_INFERENCE_WILD;
    fit_ok(&sc, &t, &w);
    fit_ok(&sc, &t, &w2);
    sc.trial.inference = SYF_INFERENCE_RI;
    fit_ok(&sc, &t, &r);
    fit_ok(&sc, &t, &r2);
    assert_string_equal(syf_trial_estimator_name(&sc), "ols_CR2+ri_p");
    sc.trial.inference = SYF_INFERENCE_WILD;
    assert_string_equal(syf_trial_estimator_name(&sc), "ols_CR2+wild");
    /* estimate and SE stay the OLS ones */
    assert_true(w.estimate == a.estimate && w.std_error == a.std_error);
    assert_true(r.estimate == a.estimate && r.std_error == a.std_error);
    assert_true(w.p_value != a.p_value);
    assert_true(r.p_value != a.p_value);
    assert_true(w.conf_low != a.conf_low && w.conf_high != a.conf_high);
    assert_true(w.conf_low < w.estimate && w.estimate < w.conf_high);
    /* ri keeps the analytic interval */
    assert_true(r.conf_low == a.conf_low && r.conf_high == a.conf_high);
    assert_int_equal(w.inference_draws, 99);
    assert_int_equal(a.inference_draws, 0);
    /* same seed / rep: identical results */
    assert_true(w.p_value == w2.p_value && w.conf_low == w2.conf_low &&
                w.conf_high == w2.conf_high);
    assert_true(r.p_value == r2.p_value);
    /* through the replication entry point too */
    syf_trial_estimate x, y;
    assert_int_equal(syf_trial_replicate(&sc, 11, 3, &x), SYF_OK);
    assert_int_equal(syf_trial_replicate(&sc, 11, 3, &y), SYF_OK);
    assert_true(x.p_value == y.p_value && x.p_value == w.p_value);
    /* a different rep gives different draws */
    syf_trial_estimate z;
    assert_int_equal(syf_trial_replicate(&sc, 11, 4, &z), SYF_OK);
    assert_true(z.p_value != x.p_value || z.estimate != x.estimate);
    trial_free(&t);
}

/* RI against a naive re-implementation on top of analytic fits. */
static void check_naive(int design)
{
    syf_scenario sc;
    small(&sc, 1.3, design, SYF_INFERENCE_RI);
    sc.trial.inference_draws = 19;
    sc.trial.transition_days = 14;
    trial t;
    trial_make(&sc, 5, 2, &t);
    syf_trial_estimate r;
    fit_ok(&sc, &t, &r);
    sc.trial.inference = SYF_INFERENCE_ANALYTIC;
    syf_trial_estimate a;
    fit_ok(&sc, &t, &a);
    assert_true(r.statistic == a.statistic);
    const size_t n = t.td.n;
    syf_trial_data td = t.td;
    td.arm = malloc(n);
    td.keep = malloc(n);
    td.group = malloc(n * sizeof *td.group);
    assert_non_null(td.arm);
    assert_non_null(td.keep);
    assert_non_null(td.group);
    size_t hits = 0, used = 0, changed = 0;
    double tmin = INFINITY, tmax = -INFINITY;
    for (size_t b = 0; b < 19; b++) {
        syf_design d;
        assert_int_equal(syf_design_build(&sc, t.pop, 5, 2 * 1000003u + b + 1, &d), SYF_OK);
        for (size_t j = 0; j < n; j++) {
            uint32_t o = t.td.office[j];
            int32_t day = t.td.index_start[j] + (int32_t)sc.pilot.triage_day;
            int z = d.person_treated ? d.person_treated[t.td.person[j]]
                                     : syf_design_office_on(&d, o, day);
            int k = t.td.consent[j];
            if (z && !d.person_treated && day < d.office_start[o] + 14)
                k = 0;
            td.arm[j] = (uint8_t)z;
            td.keep[j] = (uint8_t)k;
            td.group[j] = d.office_group[o];
            changed += td.arm[j] != t.td.arm[j];
        }
        syf_trial_estimate e;
        if (syf_trial_estimate_fit(&sc, &td, &t.d, &e) == SYF_OK) {
            used++;
            hits += fabs(e.statistic) >= fabs(a.statistic) * (1 - 1e-10);
            tmin = fmin(tmin, e.statistic);
            tmax = fmax(tmax, e.statistic);
        }
        syf_design_free(&d);
    }
    assert_true(changed > 0);
    assert_int_equal(r.inference_draws, used);
    assert_near(r.p_value, (1.0 + (double)hits) / (1.0 + (double)used), 1e-15);
    assert_true(r.inference_stat_min == tmin && r.inference_stat_max == tmax);
    assert_true(tmin < tmax); /* the permutation statistics differ */
    free(td.arm);
    free(td.keep);
    free(td.group);
    trial_free(&t);
}

static void test_ri_naive_cluster(void **state)
{
    (void)state;
    check_naive(SYF_DESIGN_CLUSTER_RCT);
}

static void test_ri_naive_stepped_wedge(void **state)
{
    (void)state;
    check_naive(SYF_DESIGN_STEPPED_WEDGE);
}

static void test_ri_naive_stratified_individual(void **state)
{
    (void)state;
    check_naive(SYF_DESIGN_STRATIFIED_CRT);
    check_naive(SYF_DESIGN_INDIVIDUAL_RCT);
}

/* wild on the staggered rollout's absorbed design, the stepped wedge, the
 * individual RCT (each person a cluster) and matched pairs (the WCR p-value
 * can be 0: boottest's convention does not count the original sample). */
static void test_wild_other_designs(void **state)
{
    (void)state;
    const int designs[] = {SYF_DESIGN_STAGGERED, SYF_DESIGN_STEPPED_WEDGE,
                           SYF_DESIGN_INDIVIDUAL_RCT, SYF_DESIGN_MATCHED_CRT};
    for (size_t k = 0; k < sizeof designs / sizeof *designs; k++) {
        syf_scenario sc;
        small(&sc, 1.5, designs[k], SYF_INFERENCE_WILD);
        syf_trial_estimate w, a;
        assert_int_equal(syf_trial_replicate(&sc, 3, 1, &w), SYF_OK);
        sc.trial.inference = SYF_INFERENCE_ANALYTIC;
        assert_int_equal(syf_trial_replicate(&sc, 3, 1, &a), SYF_OK);
        assert_true(w.estimate == a.estimate && w.std_error == a.std_error);
        if (!(w.p_value >= 0 && w.p_value <= 1 && w.p_value != a.p_value))
            fail_msg("design %d: wild p %g analytic p %g", designs[k], w.p_value, a.p_value);
        assert_true(w.inference_stat_min < w.inference_stat_max);
    }
}

static void expect_einput(int estimator, int design, int inference, const char *needle)
{
    syf_scenario sc;
    small(&sc, 1.0, design, inference);
    sc.trial.estimator = estimator;
    if (estimator == SYF_ESTIMATOR_LOGIT)
        sc.trial.outcome = SYF_OUTCOME_WORK_12M;
    assert_int_equal(syf_trial_estimator_check(&sc), SYF_EINPUT);
    if (!strstr(syf_error_message(), needle))
        fail_msg("message '%s' lacks '%s'", syf_error_message(), needle);
    syf_trial_estimate e;
    assert_int_equal(syf_trial_replicate(&sc, 1, 1, &e), SYF_EINPUT);
}

static void test_rejections(void **state)
{
    (void)state;
    const int others[] = {SYF_ESTIMATOR_LMM, SYF_ESTIMATOR_GEE, SYF_ESTIMATOR_LOGIT,
                          SYF_ESTIMATOR_COX, SYF_ESTIMATOR_IPW};
    for (size_t k = 0; k < sizeof others / sizeof *others; k++)
        for (int inf = SYF_INFERENCE_WILD; inf <= SYF_INFERENCE_RI; inf++)
            expect_einput(others[k], SYF_DESIGN_CLUSTER_RCT, inf, "trial.estimator");
    expect_einput(SYF_ESTIMATOR_DID, SYF_DESIGN_STEPPED_WEDGE, SYF_INFERENCE_WILD,
                  "trial.estimator = did");
    expect_einput(SYF_ESTIMATOR_CS, SYF_DESIGN_STEPPED_WEDGE, SYF_INFERENCE_RI,
                  "trial.estimator = cs");
    expect_einput(SYF_ESTIMATOR_OLS, SYF_DESIGN_STAGGERED, SYF_INFERENCE_RI, "staggered");
    expect_einput(SYF_ESTIMATOR_OLS, SYF_DESIGN_SELF_SELECTED, SYF_INFERENCE_RI,
                  "self_selected");
    expect_einput(SYF_ESTIMATOR_DEFAULT, SYF_DESIGN_RD, SYF_INFERENCE_WILD, "rd");
    expect_einput(SYF_ESTIMATOR_DEFAULT, SYF_DESIGN_RD, SYF_INFERENCE_RI, "rd");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ri_null_uniform),
        cmocka_unit_test(test_wild_and_ri_basics),
        cmocka_unit_test(test_ri_naive_cluster),
        cmocka_unit_test(test_ri_naive_stepped_wedge),
        cmocka_unit_test(test_ri_naive_stratified_individual),
        cmocka_unit_test(test_wild_other_designs),
        cmocka_unit_test(test_rejections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
