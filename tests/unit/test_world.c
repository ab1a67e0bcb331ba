/* test_world.c — spells, the maximum, common random numbers, triage rules,
 * assignment, the trial's counterfactual estimand, and the shortcuts of the
 * counterfactual versions (shared history prefixes, trial-only mode). */
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
#include "syfosim/trial.h"
#include "syfosim/triage.h"
#include "syfosim/world.h"
#include "test_util.h"

#include "../../sim/world_internal.h" /* world_discrete */

/* Brute force: grade-weighted weekdays of a spell inside [a, b). */
static double brute_days(const syf_world *w, const syf_spell *sp, int paid, int32_t a, int32_t b)
{
    double s = 0;
    for (int32_t t = 0; t < sp->days; t++) {
        int32_t d = sp->start + t;
        if (d < a || d >= b || (paid && t < w->sc->regime.employer_days))
            continue;
        if (syf_world_dow(w, d) >= 5)
            continue;
        s += syf_spell_grade_on(sp, t) / 100.0;
    }
    return s;
}

static void test_days_in_matches_brute_force(void **state)
{
    (void)state;
    syf_scenario sc;
    syf_scenario_defaults(&sc);
    syf_world w;
    syf_world_init(&w, &sc, NULL, 1, 0);
    syf_stream s;
    syf_stream_init(&s, 3, 0, 0, 0);
    assert_int_equal(syf_world_dow(&w, w.obs0), 0);
    assert_int_equal(syf_world_dow(&w, w.obs0 - 1), 6);
    for (int it = 0; it < 3000; it++) {
        syf_spell sp;
        memset(&sp, 0, sizeof sp);
        sp.start = w.obs0 - 400 + (int32_t)(900 * syf_stream_uniform(&s));
        sp.days = 1 + (int32_t)(380 * syf_stream_uniform(&s));
        sp.graded_from = -1;
        sp.grade = 100;
        if (syf_stream_uniform(&s) < 0.6) {
            sp.graded_from = (int32_t)(60 * syf_stream_uniform(&s));
            sp.graded_to = syf_stream_uniform(&s) < 0.5
                               ? INT32_MAX
                               : sp.graded_from + 1 + (int32_t)(100 * syf_stream_uniform(&s));
            sp.grade = (uint8_t)(20 + 10 * (int)(8 * syf_stream_uniform(&s)));
        }
        int32_t a = w.obs0 - 500 + (int32_t)(1000 * syf_stream_uniform(&s));
        int32_t b = a + (int32_t)(500 * syf_stream_uniform(&s));
        for (int paid = 0; paid < 2; paid++)
            assert_near(syf_spell_days_in(&w, &sp, paid, a, b), brute_days(&w, &sp, paid, a, b),
                        1e-9);
    }
}

static syf_population *small_pop(syf_scenario *sc, uint64_t seed)
{
    syf_population *p;
    assert_int_equal(syf_population_build(sc, seed, 0, &p), SYF_OK);
    return p;
}

/* With (almost) no recovery every spell reaches the maximum: 248 NAV-paid
 * weekdays after the 16-day employer period, about 52 weeks. */
static void test_maximum(void **state)
{
    (void)state;
    syf_scenario sc;
    syf_scenario_defaults(&sc);
    sc.population.persons = 300;
    sc.world.offices = 3;
    for (int k = 0; k < SYF_N_PIECES; k++)
        sc.duration.baseline_hazard[k] = 1e-9;
    sc.grading.start_logit = sc.grading.convert_logit = -30;
    sc.regime.after_max_shares[0] = 0; /* everyone back to work after the maximum */
    sc.regime.after_max_shares[1] = 1;
    sc.regime.after_max_shares[2] = 0;
    syf_population *pop = small_pop(&sc, 4);
    syf_world w;
    syf_world_init(&w, &sc, pop, 4, 0);
    syf_spell buf[64];
    int maxed = 0;
    for (size_t i = 0; i < pop->n; i++) {
        int32_t exited;
        size_t n = syf_world_person(&w, i, 0, buf, 64, &exited);
        assert_true(exited == INT32_MAX);
        for (size_t k = 0; k < n; k++) {
            if (buf[k].reason == SYF_END_CENSORED)
                continue;
            assert_int_equal(buf[k].reason, SYF_END_MAX);
            assert_near(syf_spell_days_in(&w, &buf[k], 1, INT32_MIN / 2, INT32_MAX / 2), 248.0, 0);
            assert_true(buf[k].days >= 360 && buf[k].days <= 366);
            /* requalification: the next spell starts at least 182 days later */
            if (k + 1 < n)
                assert_true(buf[k + 1].start >= buf[k].start + buf[k].days + 182);
            maxed++;
        }
    }
    assert_true(maxed > 50);
    syf_population_free(pop);
}

static void msyfo(syf_scenario *sc, double effect)
{
    syf_scenario_defaults(sc);
    sc->population.persons = 6000;
    sc->world.offices = 6;
    sc->pilot.type = SYF_PILOT_MSYFO;
    sc->pilot.effect_hr = effect;
    sc->trial.design = SYF_DESIGN_CLUSTER_RCT;
}

/* Common random numbers: a person's history is identical in both arms up
 * to the first triage; with no effect anywhere, identical throughout. */
static void test_common_random_numbers(void **state)
{
    (void)state;
    syf_scenario sc;
    msyfo(&sc, 1.0);
    syf_population *pop = small_pop(&sc, 9);
    syf_world w;
    syf_world_init(&w, &sc, pop, 9, 0);
    syf_spell a[256], b[256];
    size_t triaged = 0;
    for (size_t i = 0; i < pop->n; i++) {
        size_t na = syf_world_person(&w, i, 0, a, 256, NULL);
        size_t nb = syf_world_person(&w, i, 1, b, 256, NULL);
        assert_int_equal(na, nb);
        for (size_t k = 0; k < na; k++) {
            assert_int_equal(a[k].start, b[k].start);
            assert_int_equal(a[k].days, b[k].days);
            assert_int_equal(a[k].diag, b[k].diag);
            triaged += (b[k].flags & SYF_SF_TRIAGED) != 0;
            assert_true(!(a[k].flags & SYF_SF_TRIAGED)); /* control never triaged */
        }
    }
    assert_true(triaged > 100);
    syf_population_free(pop);

    msyfo(&sc, 2.0);
    pop = small_pop(&sc, 9);
    syf_world_init(&w, &sc, pop, 9, 0);
    size_t shorter = 0, longer = 0;
    for (size_t i = 0; i < pop->n; i++) {
        size_t na = syf_world_person(&w, i, 0, a, 256, NULL);
        size_t nb = syf_world_person(&w, i, 1, b, 256, NULL);
        for (size_t k = 0; k < na && k < nb; k++) {
            if (b[k].flags & SYF_SF_PILOT) { /* from here on the arms may differ */
                shorter += b[k].days < a[k].days;
                longer += b[k].days > a[k].days;
                break;
            }
            assert_int_equal(a[k].start, b[k].start);
            assert_int_equal(a[k].days, b[k].days);
        }
    }
    /* a hazard ratio of 2 after mapping only ever shortens the first pilot spell */
    assert_true(shorter > 50);
    assert_int_equal(longer, 0);
    syf_population_free(pop);
}

static void test_triage_rules(void **state)
{
    (void)state;
    syf_scenario sc;
    syf_scenario_defaults(&sc);
    syf_triage_input in;
    memset(&in, 0, sizeof in);
    in.age = 40;
    in.degree = 100;
    in.u_respond = 0.0; /* responds */
    in.u_signal = in.u_eligibility = in.u_judge_map = in.u_judge_skip = 0.99;
    for (int c = 0; c < 3; c++)
        in.u_checkpoint[c] = 0.99;
    syf_triage_result r;
    /* good prognosis, good relation, short: screened out, no checkpoint */
    in.prognosis = -2;
    syf_triage_msyfo(&sc, &in, &r);
    assert_false(r.excluded);
    assert_int_equal(r.q1, 0);
    assert_int_equal(r.q2, 0);
    assert_int_equal(r.q3, 0);
    assert_int_equal(r.triggers, 0);
    assert_false(r.mapped);
    assert_int_equal(r.checkpoint, -1);
    /* checkpoint 2 (week 26) maps */
    in.u_checkpoint[1] = 0.0;
    syf_triage_msyfo(&sc, &in, &r);
    assert_int_equal(r.checkpoint, 1);
    in.u_checkpoint[1] = 0.99;
    /* poor prognosis: unlikely to return (trigger a) */
    in.prognosis = 5;
    syf_triage_msyfo(&sc, &in, &r);
    assert_int_equal(r.q1, 2);
    assert_true(r.triggers & SYF_TRIG_A_LOW_EXPECTATION);
    assert_true(r.mapped);
    /* ... unless the veileder judges otherwise */
    in.u_judge_skip = 0.0;
    syf_triage_msyfo(&sc, &in, &r);
    assert_false(r.mapped);
    in.u_judge_skip = 0.99;
    /* difficult employer relation with high expectations (trigger c) */
    in.prognosis = -2;
    in.n_q2 = 10;
    syf_triage_msyfo(&sc, &in, &r);
    assert_int_equal(r.triggers, SYF_TRIG_C_EMPLOYER);
    in.n_q2 = 0;
    /* no response: maps only at degree >= 30 % (trigger d, digest-003 L345) */
    in.u_respond = 0.999;
    in.degree = 20;
    syf_triage_msyfo(&sc, &in, &r);
    assert_false(r.responded);
    assert_int_equal(r.triggers, 0);
    in.degree = 30;
    syf_triage_msyfo(&sc, &in, &r);
    assert_int_equal(r.triggers, SYF_TRIG_D_NO_RESPONSE);
    /* recurrent absence maps regardless of answers (trigger h) */
    in.u_respond = 0.0;
    in.recurrent_count = 3;
    syf_triage_msyfo(&sc, &in, &r);
    assert_true(r.triggers & SYF_TRIG_H_RECURRENT);
    assert_true(r.mapped);
    /* exclusions: age 65, pregnancy, serious diagnosis */
    in.age = 65;
    syf_triage_msyfo(&sc, &in, &r);
    assert_true(r.excluded);
    assert_false(r.mapped);
    in.age = 40;
    in.pregnancy = 1;
    syf_triage_msyfo(&sc, &in, &r);
    assert_true(r.excluded);
}

static size_t count_treated(const syf_design *d)
{
    size_t n = 0;
    for (size_t o = 0; o < d->n_office; o++)
        n += d->office_start[o] != INT32_MAX;
    return n;
}

static void test_design_assign(void **state)
{
    (void)state;
    syf_scenario sc;
    msyfo(&sc, 1.0);
    sc.world.offices = 20;
    syf_population *pop = small_pop(&sc, 1);
    syf_design a, b, c;
    assert_int_equal(syf_design_build(&sc, pop, 1, 1, &a), SYF_OK);
    assert_int_equal(syf_design_build(&sc, pop, 1, 1, &b), SYF_OK);
    assert_int_equal(syf_design_build(&sc, pop, 1, 2, &c), SYF_OK);
    assert_int_equal(count_treated(&a), 10);
    assert_memory_equal(a.office_start, b.office_start, 20 * sizeof(int32_t));
    assert_memory_not_equal(a.office_start, c.office_start, 20 * sizeof(int32_t));
    syf_design_free(&a);
    syf_design_free(&b);
    syf_design_free(&c);
    sc.trial.treated_share = 0.3;
    assert_int_equal(syf_design_build(&sc, pop, 1, 1, &a), SYF_OK);
    assert_int_equal(count_treated(&a), 6);
    syf_design_free(&a);

    /* stratified: in each of 4 strata of office size, half the offices */
    sc.trial.treated_share = 0.5;
    sc.trial.design = SYF_DESIGN_STRATIFIED_CRT;
    sc.trial.strata = 4;
    assert_int_equal(syf_design_build(&sc, pop, 1, 1, &a), SYF_OK);
    size_t per[4] = {0}, tr[4] = {0};
    for (size_t o = 0; o < 20; o++) {
        per[a.office_group[o]]++;
        tr[a.office_group[o]] += a.office_start[o] != INT32_MAX;
    }
    for (int g = 0; g < 4; g++) {
        assert_int_equal(per[g], 5);
        assert_true(tr[g] == 2 || tr[g] == 3);
    }
    /* strata are groups of consecutive office sizes */
    for (size_t o = 0; o < 20; o++)
        for (size_t q = 0; q < 20; q++)
            if (a.office_group[o] < a.office_group[q])
                assert_true(pop->office_first[o + 1] - pop->office_first[o] <=
                            pop->office_first[q + 1] - pop->office_first[q]);
    syf_design_free(&a);

    /* matched pairs: exactly one treated office per pair */
    sc.trial.design = SYF_DESIGN_MATCHED_CRT;
    assert_int_equal(syf_design_build(&sc, pop, 1, 1, &a), SYF_OK);
    assert_int_equal(a.n_groups, 10);
    size_t pt[10] = {0};
    for (size_t o = 0; o < 20; o++)
        pt[a.office_group[o]] += a.office_start[o] != INT32_MAX;
    for (int g = 0; g < 10; g++)
        assert_int_equal(pt[g], 1);
    syf_design_free(&a);

    /* stepped wedge: 4 sequences of 5 offices start at periods 1..4 of 5 */
    sc.trial.design = SYF_DESIGN_STEPPED_WEDGE;
    assert_int_equal(syf_design_build(&sc, pop, 1, 1, &a), SYF_OK);
    int32_t obs0 = (int32_t)sc.run.burn_in_days, pd = (int32_t)(sc.run.observation_days / 5);
    assert_int_equal(a.period_days, pd);
    size_t seq[5] = {0};
    for (size_t o = 0; o < 20; o++) {
        int32_t g = a.office_group[o];
        assert_true(g >= 1 && g <= 4);
        seq[g]++;
        assert_int_equal(a.office_start[o], obs0 + g * pd);
        assert_false(syf_design_office_on(&a, o, obs0 + g * pd - 1));
        assert_true(syf_design_office_on(&a, o, obs0 + g * pd));
    }
    for (int g = 1; g <= 4; g++)
        assert_int_equal(seq[g], 5);
    syf_design_free(&a);
    snprintf(sc.trial.sequence_sizes, sizeof sc.trial.sequence_sizes, "2,8,4,6");
    assert_int_equal(syf_design_build(&sc, pop, 1, 1, &a), SYF_OK);
    memset(seq, 0, sizeof seq);
    for (size_t o = 0; o < 20; o++)
        seq[a.office_group[o]]++;
    assert_int_equal(seq[1], 2);
    assert_int_equal(seq[2], 8);
    assert_int_equal(seq[3], 4);
    assert_int_equal(seq[4], 6);
    syf_design_free(&a);
    sc.trial.sequence_sizes[0] = '\0';

    /* self-selected with a strong selection: the chosen offices return faster */
    sc.trial.design = SYF_DESIGN_SELF_SELECTED;
    sc.trial.selection_strength = 10;
    assert_int_equal(syf_design_build(&sc, pop, 1, 1, &a), SYF_OK);
    double in = 0, out = 0;
    for (size_t o = 0; o < 20; o++)
        if (a.office_start[o] != INT32_MAX)
            in += pop->office_re_hazard[o] / 10;
        else
            out += pop->office_re_hazard[o] / 10;
    assert_int_equal(count_treated(&a), 10);
    assert_true(in > out);
    syf_design_free(&a);
    syf_population_free(pop);
}

/* Each design runs end to end and its SATE is the same population's. */
static void test_designs_replicate(void **state)
{
    (void)state;
    static const int designs[] = {SYF_DESIGN_CLUSTER_RCT,    SYF_DESIGN_INDIVIDUAL_RCT,
                                  SYF_DESIGN_STRATIFIED_CRT, SYF_DESIGN_MATCHED_CRT,
                                  SYF_DESIGN_STEPPED_WEDGE,  SYF_DESIGN_STAGGERED,
                                  SYF_DESIGN_SELF_SELECTED};
    double sate0 = NAN;
    for (size_t k = 0; k < sizeof designs / sizeof designs[0]; k++) {
        syf_scenario sc;
        msyfo(&sc, 1.5);
        sc.population.persons = 12000;
        sc.world.offices = 12;
        sc.trial.design = designs[k];
        sc.trial.sequences = 3;
        sc.trial.periods = 4;
        syf_trial_estimate est;
        int st = syf_trial_replicate(&sc, 5, 1, &est);
        if (st != SYF_OK)
            fprintf(stderr, "design %s: %s\n", syf_design_name(designs[k]), syf_error_message());
        assert_int_equal(st, SYF_OK);
        assert_true(est.n > 300 && est.n == est.n_recruited);
        assert_true(isfinite(est.estimate) && est.std_error > 0);
        /* the estimand does not depend on the design: same people, same worlds */
        if (isnan(sate0))
            sate0 = est.estimand;
        assert_near(est.estimand, sate0, 1e-9);
        assert_true(est.estimand < 0);
    }
}

/* The mixed-model analyses run on a stepped wedge and agree with OLS on
 * the sign of a clear effect; same estimand whatever the estimator. */
static void test_estimators(void **state)
{
    (void)state;
    double sate = NAN;
    for (int e = SYF_ESTIMATOR_OLS; e <= SYF_ESTIMATOR_GEE; e++) {
        syf_scenario sc;
        msyfo(&sc, 2.0);
        sc.population.persons = 16000;
        sc.world.offices = 8;
        sc.trial.design = SYF_DESIGN_STEPPED_WEDGE;
        sc.trial.sequences = 4;
        sc.trial.periods = 5;
        sc.trial.estimator = e;
        syf_trial_estimate est;
        int st = syf_trial_replicate(&sc, 8, 3, &est);
        if (st != SYF_OK)
            fprintf(stderr, "estimator %d: %s\n", e, syf_error_message());
        assert_int_equal(st, SYF_OK);
        assert_true(est.estimate < 0 && est.std_error > 0);
        assert_true(e == SYF_ESTIMATOR_GEE ? isnan(est.df) : est.df > 0);
        assert_true(est.conf_low < est.estimate && est.estimate < est.conf_high);
        if (isnan(sate))
            sate = est.estimand;
        assert_near(est.estimand, sate, 0);
    }
}

/* Attrition that depends on prognosis drops the long spells. */
static void test_attrition(void **state)
{
    (void)state;
    syf_scenario sc;
    msyfo(&sc, 1.0);
    sc.trial.consent_share = 0.6;
    sc.trial.attrition_slope = 2.0;
    syf_population *pop = small_pop(&sc, 3);
    syf_design d;
    assert_int_equal(syf_design_build(&sc, pop, 3, 0, &d), SYF_OK);
    syf_world w;
    syf_world_init(&w, &sc, pop, 3, 0);
    w.assign = &d.assign;
    syf_trial_data td;
    memset(&td, 0, sizeof td);
    assert_int_equal(syf_trial_collect(&w, &d, &td, NULL, NULL), SYF_OK);
    double kept = 0, dk = 0, dd = 0;
    size_t nk = 0;
    for (size_t j = 0; j < td.n; j++) {
        kept += td.keep[j];
        if (td.keep[j]) {
            dk += td.index_days[j];
            nk++;
        } else
            dd += td.index_days[j];
    }
    double share = kept / (double)td.n;
    assert_true(share > 0.4 && share < 0.8);
    assert_true(dd / (double)(td.n - nk) > dk / (double)nk); /* dropouts had longer spells */
    syf_trial_data_free(&td);
    syf_design_free(&d);
    syf_population_free(pop);
}

static void test_outcomes(void **state)
{
    (void)state;
    syf_scenario sc;
    msyfo(&sc, 1.0);
    syf_world w;
    syf_world_init(&w, &sc, NULL, 1, 0);
    syf_spell sp[2];
    memset(sp, 0, sizeof sp);
    sp[0].start = w.obs0; /* a Monday */
    sp[0].days = 30;
    sp[0].graded_from = -1;
    sp[0].grade = 100;
    sp[1] = sp[0];
    sp[1].start = w.obs0 + 350;
    sp[1].days = 40; /* covers day obs0 + 364 */
    sc.trial.outcome = SYF_OUTCOME_WORK_12M;
    assert_near(syf_trial_outcome(&w, sp, 2, INT32_MAX, w.obs0), 0.0, 0);
    assert_near(syf_trial_outcome(&w, sp, 1, INT32_MAX, w.obs0), 1.0, 0);
    assert_near(syf_trial_outcome(&w, sp, 1, w.obs0 + 100, w.obs0), 0.0, 0);
    sc.trial.outcome = SYF_OUTCOME_PAID_DAYS;
    /* spell 1: days 16..29 paid: 30 days from Monday -> weekdays in days 16..29 = 10;
     * spell 2 inside the window up to day 364: days 350..364 minus its first 16 = none */
    assert_near(syf_trial_outcome(&w, sp, 2, INT32_MAX, w.obs0), 10.0, 0);
    sc.trial.outcome = SYF_OUTCOME_SICK_DAYS;
    /* 22 weekdays in 30 days from Monday + 11 in days 350..364 (a Saturday start) */
    assert_near(syf_trial_outcome(&w, sp, 2, INT32_MAX, w.obs0),
                brute_days(&w, &sp[0], 0, w.obs0, w.obs0 + 365) +
                    brute_days(&w, &sp[1], 0, w.obs0, w.obs0 + 365),
                1e-12);
}

/* With no effect the counterfactual outcomes are identical (CRN) and the
 * SATE is exactly zero; with an effect the pilot reduces paid days. */
static void test_trial_estimand(void **state)
{
    (void)state;
    for (int pass = 0; pass < 2; pass++) {
        syf_scenario sc;
        msyfo(&sc, pass ? 1.5 : 1.0);
        syf_population *pop = small_pop(&sc, 11);
        syf_design d;
        assert_int_equal(syf_design_build(&sc, pop, 11, 0, &d), SYF_OK);
        syf_world w;
        syf_world_init(&w, &sc, pop, 11, 0);
        w.assign = &d.assign;
        syf_trial_data td;
        memset(&td, 0, sizeof td);
        assert_int_equal(syf_trial_collect(&w, &d, &td, NULL, NULL), SYF_OK);
        assert_true(td.n > 200);
        syf_trial_estimate est;
        assert_int_equal(syf_trial_estimate_fit(&sc, &td, &d, &est), SYF_OK);
        for (size_t j = 0; j < td.n; j++) /* observed = the potential outcome of the arm */
            assert_true(td.y[j] == (td.arm[j] ? td.y1[j] : td.y0[j]));
        if (!pass) {
            for (size_t j = 0; j < td.n; j++)
                assert_true(td.y0[j] == td.y1[j]);
            assert_near(est.estimand, 0.0, 0);
        } else {
            assert_true(est.estimand < -1.0);
        }
        /* the estimate is the difference in means (OLS on a binary regressor) */
        assert_near(est.estimate, est.mean_pilot - est.mean_control, 1e-9);
        assert_int_equal(est.clusters, 6);
        assert_true(est.df > 0 && est.df < 6);
        syf_trial_data_free(&td);
        syf_design_free(&d);
        syf_population_free(pop);
    }
}

/* rd design: treated exactly when the score reaches the threshold among
 * the analysed; observed outcome = the potential outcome of the decision. */
static void test_rd_data(void **state)
{
    (void)state;
    syf_scenario sc;
    msyfo(&sc, 1.5);
    sc.pilot.type = SYF_PILOT_RISK_SCORE;
    sc.trial.design = SYF_DESIGN_RD;
    syf_population *pop = small_pop(&sc, 21);
    syf_design d;
    assert_int_equal(syf_design_build(&sc, pop, 21, 0, &d), SYF_OK);
    syf_world w;
    syf_world_init(&w, &sc, pop, 21, 0);
    w.assign = &d.assign;
    syf_trial_data td;
    memset(&td, 0, sizeof td);
    assert_int_equal(syf_trial_collect(&w, &d, &td, NULL, NULL), SYF_OK);
    size_t above = 0, below = 0, better = 0, worse = 0;
    for (size_t j = 0; j < td.n; j++) {
        assert_true(td.y[j] == (td.arm[j] ? td.y1[j] : td.y0[j]));
        if (!td.keep[j])
            continue;
        assert_int_equal(td.arm[j], td.score[j] >= sc.pilot.score_threshold);
        above += td.arm[j];
        below += !td.arm[j];
        better += td.y1[j] < td.y0[j];
        worse += td.y1[j] > td.y0[j];
    }
    assert_true(above > 50 && below > 50);
    /* a hazard ratio of 1.5 from the mapping day: paid days never rise for
     * the mapped version of the index spell, and often fall */
    assert_true(better > 100);
    assert_true(worse < better / 10);
    syf_trial_data_free(&td);
    syf_design_free(&d);
    syf_population_free(pop);
}

/* A risk score from register data only (score_observed_weight = 1) is a
 * function of what NAV observes: spells alike in diagnosis group, age
 * group, sex, grading on the triage day and recurrence get the same score,
 * whatever their prognosis; longer-lasting diagnosis groups score higher. */
static void test_register_score(void **state)
{
    (void)state;
    syf_scenario sc;
    syf_scenario_defaults(&sc);
    sc.population.persons = 12000;
    sc.world.offices = 4;
    sc.pilot.type = SYF_PILOT_RISK_SCORE;
    sc.pilot.score_observed_weight = 1.0;
    sc.pilot.score_noise_sd = 3.0;
    syf_population *pop = small_pop(&sc, 31);
    syf_world w;
    syf_world_init(&w, &sc, pop, 31, 0);
    syf_spell buf[256];
    size_t seen = 0, pairs = 0;
    double sum_p = 0, sum_l = 0;
    size_t n_p = 0, n_l = 0;
    float key_score[2][SYF_N_DIAG][SYF_N_AGE];
    int have[2][SYF_N_DIAG][SYF_N_AGE];
    memset(have, 0, sizeof have);
    for (size_t i = 0; i < pop->n; i++) {
        size_t n = syf_world_person(&w, i, SYF_ARM_ALWAYS, buf, 256, NULL);
        for (size_t k = 0; k < n; k++) {
            const syf_spell *sp = &buf[k];
            if (isnan(sp->score))
                continue;
            seen++;
            if (sp->diag == SYF_DIAG_P) {
                sum_p += sp->score;
                n_p++;
            } else if (sp->diag == SYF_DIAG_L) {
                sum_l += sp->score;
                n_l++;
            }
            /* alike: not graded at triage, no earlier spell in the look-back
             * (censored spells can lose a grading that began after the end) */
            if (syf_spell_grade_on(sp, (int32_t)sc.pilot.triage_day) < 100 || k > 0 ||
                sp->reason == SYF_END_CENSORED)
                continue;
            const int age = pop->age[i] + (int)((sp->start - w.obs0) / 365);
            const int ag = syf_age_group(age > 69 ? 69 : age);
            int *h = &have[pop->sex[i]][sp->diag][ag];
            float *ks = &key_score[pop->sex[i]][sp->diag][ag];
            if (buf[0].start < sp->start - (int32_t)sc.pilot.recurrent_lookback_days || k == 0) {
                if (*h) {
                    assert_near(sp->score, *ks, 1e-6);
                    pairs++;
                } else {
                    *h = 1;
                    *ks = sp->score;
                }
            }
        }
    }
    assert_true(seen > 300);
    assert_true(pairs > 50);
    assert_true(sum_p / (double)n_p > sum_l / (double)n_l); /* P spells last longer */
    syf_population_free(pop);
}

/* Two spells alike in every field (a score may be NaN in both). */
static int spell_same(const syf_spell *a, const syf_spell *b)
{
    return a->start == b->start && a->days == b->days && a->graded_from == b->graded_from &&
           a->graded_to == b->graded_to && a->map_day == b->map_day && a->flags == b->flags &&
           a->triggers == b->triggers && a->diag == b->diag && a->grade == b->grade &&
           a->reason == b->reason && a->after_max == b->after_max && a->q1 == b->q1 &&
           a->q2 == b->q2 && a->q3 == b->q3 && a->prognosis == b->prognosis &&
           (a->score == b->score || (isnan(a->score) && isnan(b->score)));
}

static int history_same(const syf_spell *a, size_t na, const syf_spell *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t k = 0; k < na; k++)
        if (!spell_same(&a[k], &b[k]))
            return 0;
    return 1;
}

typedef struct {
    size_t partial, whole, differ; /* 0 < prefix < history; the same; not the same */
} prefix_stats;

/* Every person's history in version a, its prefix shared with version b,
 * and the history continued from it in version b: the prefix is version
 * b's, the continuation is version b's whole history, and a history said
 * to be whole is version b's. */
static void prefix_case(const syf_world *wa, int arm_a, const syf_world *wb, int arm_b,
                        prefix_stats *ps)
{
    static syf_spell a[256], b[256], c[256];
    for (size_t i = 0; i < wa->pop->n; i++) {
        int32_t ea, eb, ec;
        const size_t na = syf_world_person(wa, i, arm_a, a, 256, &ea);
        const size_t nb = syf_world_person(wb, i, arm_b, b, 256, &eb);
        int whole = -1;
        const size_t n0 = syf_world_shared_prefix(wa, arm_a, wb, arm_b, i, a, na, &whole);
        assert_true(whole == 0 || whole == 1);
        assert_true(n0 <= na && n0 <= nb);
        assert_true(history_same(a, n0, b, n0));
        memcpy(c, a, n0 * sizeof *c);
        const size_t nc = syf_world_person_from(wb, i, arm_b, c, n0, 256, &ec);
        assert_true(history_same(c, nc, b, nb));
        assert_int_equal(ec, eb);
        if (whole) {
            assert_true(history_same(a, na, b, nb));
            assert_int_equal(ea, eb);
        }
        ps->partial += n0 > 0 && n0 < na;
        ps->whole += whole;
        ps->differ += !history_same(a, na, b, nb);
    }
}

/* All pairs of versions of one world (and the rd design's forced mapping). */
static void prefix_all(syf_world *w, prefix_stats *ps)
{
    static const int arms[3] = {SYF_ARM_NEVER, SYF_ARM_ALWAYS, SYF_ARM_ACTUAL};
    for (int x = 0; x < 3; x++)
        for (int y = 0; y < 3; y++)
            prefix_case(w, arms[x], w, arms[y], ps);
    syf_world wf = *w;
    for (int f = 0; f < 2; f++) {
        wf.force_map = f;
        prefix_case(w, SYF_ARM_ACTUAL, &wf, SYF_ARM_ALWAYS, ps);
        prefix_case(&wf, SYF_ARM_ALWAYS, w, SYF_ARM_ACTUAL, ps);
    }
}

static void prefix_scenario(syf_scenario *sc, uint64_t seed, int trial_only, prefix_stats *ps)
{
    syf_population *pop = small_pop(sc, seed);
    syf_design d;
    assert_int_equal(syf_design_build(sc, pop, seed, 1, &d), SYF_OK);
    syf_world w;
    syf_world_init(&w, sc, pop, seed, 1);
    w.assign = &d.assign;
    w.trial_only = trial_only;
    if (trial_only) /* as for a counterfactual version: a later outcome window */
        w.outcome_from = w.obs1 - 30;
    prefix_all(&w, ps);
    syf_design_free(&d);
    syf_population_free(pop);
}

/* syf_world_shared_prefix and syf_world_person_from in the situations
 * where versions of the world part: a stepped-wedge pilot (the gate at the
 * triage day, or earlier at the activity check; partial fidelity), the rd
 * design's forced mapping, an employer team that is part of the pilot
 * (onsets and spells change from its start), pilot teams taking spells in
 * the window before the gate (persons simulated alone; under individual
 * randomisation the team is in every office from the same day in every
 * version, its window is not), and the trial-only mode. */
static void test_shared_prefix(void **state)
{
    (void)state;
    for (int c = 0; c < 7; c++) {
        syf_scenario sc;
        msyfo(&sc, 1.6);
        sc.population.persons = 2400;
        sc.world.offices = 8;
        sc.trial.design = SYF_DESIGN_STEPPED_WEDGE;
        sc.trial.sequences = 4;
        sc.trial.periods = 5;
        if (c == 1)
            sc.regime.activity_day = 40; /* gate before the triage day */
        if (c == 2)
            sc.trial.fidelity_min = 0.4;
        if (c == 3) {
            assert_int_equal(
                syf_scenario_load("scenarios/ia-employer-teams-staggered.ini", &sc), SYF_OK);
            sc.population.persons = 2400;
            sc.world.offices = 8;
        }
        if (c == 4 || c == 6) { /* the team refers on day 7, before the gate (21) */
            assert_int_equal(syf_scenario_load("scenarios/nav-rph.ini", &sc), SYF_OK);
            sc.population.persons = 2400;
            sc.world.offices = 4;
            sc.team[0].refer_day = 7;
            sc.team[0].uptake = 0.8;
            sc.team[0].hr[SYF_DIAG_P] = 2.0;
            if (c == 4) {
                sc.pilot.type = SYF_PILOT_MSYFO;
                sc.pilot.effect_hr = 1.6;
            } else { /* individual randomisation: the team is in every office */
                sc.trial.design = SYF_DESIGN_INDIVIDUAL_RCT;
            }
        }
        prefix_stats ps = {0, 0, 0};
        prefix_scenario(&sc, 40 + (uint64_t)c, c == 5, &ps);
        assert_true(ps.partial > 100);
        assert_true(ps.whole > 1000);
        assert_true(ps.differ > 100);
    }
    /* rd: the forced mapping parts the versions from the first pilot spell */
    syf_scenario sc;
    msyfo(&sc, 1.6);
    sc.population.persons = 2400;
    sc.pilot.type = SYF_PILOT_RISK_SCORE;
    sc.trial.design = SYF_DESIGN_RD;
    prefix_stats ps = {0, 0, 0};
    prefix_scenario(&sc, 47, 0, &ps);
    assert_true(ps.partial > 100 && ps.whole > 1000 && ps.differ > 100);
}

static void td_same(const syf_trial_data *a, const syf_trial_data *b)
{
    assert_int_equal(a->n, b->n);
    const size_t n = a->n;
    assert_memory_equal(a->person, b->person, n * sizeof *a->person);
    assert_memory_equal(a->office, b->office, n * sizeof *a->office);
    assert_memory_equal(a->arm, b->arm, n * sizeof *a->arm);
    assert_memory_equal(a->keep, b->keep, n * sizeof *a->keep);
    assert_memory_equal(a->consent, b->consent, n * sizeof *a->consent);
    assert_memory_equal(a->period, b->period, n * sizeof *a->period);
    assert_memory_equal(a->group, b->group, n * sizeof *a->group);
    assert_memory_equal(a->index_start, b->index_start, n * sizeof *a->index_start);
    assert_memory_equal(a->index_days, b->index_days, n * sizeof *a->index_days);
    assert_memory_equal(a->index_event, b->index_event, n * sizeof *a->index_event);
    assert_memory_equal(a->index_days0, b->index_days0, n * sizeof *a->index_days0);
    assert_memory_equal(a->index_days1, b->index_days1, n * sizeof *a->index_days1);
    assert_memory_equal(a->index_event0, b->index_event0, n * sizeof *a->index_event0);
    assert_memory_equal(a->index_event1, b->index_event1, n * sizeof *a->index_event1);
    assert_memory_equal(a->prognosis, b->prognosis, n * sizeof *a->prognosis);
    assert_memory_equal(a->score, b->score, n * sizeof *a->score);
    assert_memory_equal(a->y, b->y, n * sizeof *a->y);
    assert_memory_equal(a->y0, b->y0, n * sizeof *a->y0);
    assert_memory_equal(a->y1, b->y1, n * sizeof *a->y1);
}

/* Trial-only mode (histories cut where nothing later can reach the trial's
 * data, no risk scores outside the window) collects the same trial as the
 * full simulation: stepped wedge with the outcomes measured over a year or
 * 12 months at work, and the rd design. */
static void test_trial_only_same_data(void **state)
{
    (void)state;
    for (int c = 0; c < 4; c++) {
        syf_scenario sc;
        msyfo(&sc, 1.6);
        sc.population.persons = 6000;
        sc.world.offices = 8;
        sc.trial.design = SYF_DESIGN_STEPPED_WEDGE;
        sc.trial.sequences = 4;
        sc.trial.periods = 5;
        if (c == 1) {
            sc.trial.outcome = SYF_OUTCOME_WORK_12M;
            sc.regime.activity_day = 40;
        }
        if (c == 2) {
            sc.pilot.type = SYF_PILOT_RISK_SCORE;
            sc.trial.design = SYF_DESIGN_RD;
        }
        if (c == 3) { /* an employer team in the pilot: fewer spells where it runs, so a
                         participant's counterfactual can have no recruiting spell */
            sc.pilot.type = SYF_PILOT_NONE;
            sc.pilot.triage_day = 16;
            sc.employer_team.fte = 5;
            sc.employer_team.employers_per_fte = 200;
            sc.employer_team.levels[0] = sc.employer_team.levels[1] = 1;
            sc.employer_team.min_size_class = 0;
            sc.employer_team.incidence_rr = 0.3;
            sc.employer_team.hr = 2.0;
        }
        syf_population *pop = small_pop(&sc, 50 + (uint64_t)c);
        syf_design d;
        assert_int_equal(syf_design_build(&sc, pop, 50, 1, &d), SYF_OK);
        syf_trial_data td[2];
        for (int t = 0; t < 2; t++) {
            syf_world w;
            syf_world_init(&w, &sc, pop, 50, 1);
            w.assign = &d.assign;
            w.trial_only = t;
            memset(&td[t], 0, sizeof td[t]);
            assert_int_equal(syf_trial_collect(&w, &d, &td[t], NULL, NULL), SYF_OK);
        }
        assert_true(td[0].n > 300);
        td_same(&td[0], &td[1]);
        size_t differ = 0;
        for (size_t j = 0; j < td[0].n; j++)
            differ += td[0].y0[j] != td[0].y1[j];
        assert_true(differ > (c == 1 ? 10u : 50u)); /* work_12m: 0 or 1 */
        syf_trial_data_free(&td[0]);
        syf_trial_data_free(&td[1]);
        syf_design_free(&d);
        syf_population_free(pop);
    }
}

/* world_discrete is syf_stream_discrete: the same index from the same
 * words, on random weights with zeros (and, through its fallback, with a
 * negative weight). */
static void test_discrete_is_stream_discrete(void **state)
{
    (void)state;
    syf_stream ws;
    syf_stream_init(&ws, 60, 0, 0, 0);
    size_t hits[12] = {0};
    for (int it = 0; it < 200000; it++) {
        double w[12];
        const size_t k = 1 + (size_t)(syf_stream_uniform(&ws) * 12);
        for (size_t i = 0; i < k; i++)
            w[i] = syf_stream_uniform(&ws) < 0.2 ? 0.0 : syf_stream_uniform(&ws);
        if (it % 1000 == 0)
            w[k / 2] = -0.1;
        syf_stream a, b;
        syf_stream_init(&a, 61, (uint64_t)it, 0, 0);
        b = a;
        for (int d = 0; d < 3; d++) {
            const size_t x = world_discrete(&a, w, k), y = syf_stream_discrete(&b, w, k);
            assert_int_equal(x, y);
            hits[x]++;
        }
        assert_int_equal(a.pos, b.pos);
    }
    for (size_t i = 0; i < 12; i++)
        assert_true(hits[i] > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_score),
        cmocka_unit_test(test_days_in_matches_brute_force), cmocka_unit_test(test_maximum),
        cmocka_unit_test(test_common_random_numbers), cmocka_unit_test(test_triage_rules),
        cmocka_unit_test(test_design_assign), cmocka_unit_test(test_designs_replicate),
        cmocka_unit_test(test_attrition), cmocka_unit_test(test_rd_data),
        cmocka_unit_test(test_estimators),
        cmocka_unit_test(test_outcomes),
        cmocka_unit_test(test_trial_estimand),
        cmocka_unit_test(test_discrete_is_stream_discrete),
        cmocka_unit_test(test_shared_prefix),
        cmocka_unit_test(test_trial_only_same_data)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
