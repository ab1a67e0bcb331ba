/* test_office.c — the office event simulation: teams, waiting lists and
 * capacity.  What must hold:
 *  - without teams, an office run is exactly the person-by-person world;
 *  - with more places than referrals, it is exactly the uncongested world
 *    (every referral served on its day);
 *  - places are never over-used; fifo serves in referral order; waits are
 *    never negative; withdrawn persons were back at work before their turn;
 *  - capacity is real: doubling the inflow at fixed FTE raises the mean wait
 *    and lowers the realised effect on sick-leave days per referred person.
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
#include "syfosim/trial.h"
#include "syfosim/office.h"
#include "syfosim/world.h"
#include "test_util.h"

enum { CAP = 256, SVCAP = 64 };

typedef struct {
    syf_spell *sp; /* CAP per person */
    size_t *n;
    int32_t *exited;
    syf_service *sv;
    size_t sv_n, sv_cap;
    size_t persons;
} office_out;

static void keep(void *ctx, const syf_world *w, size_t person, const syf_spell *sp, size_t n,
                 int32_t exited, const syf_service *sv, size_t nsv)
{
    (void)w;
    office_out *o = ctx;
    assert_true(n <= CAP);
    memcpy(o->sp + person * CAP, sp, n * sizeof *sp);
    o->n[person] = n;
    o->exited[person] = exited;
    for (size_t r = 0; r < nsv; r++) {
        assert_int_equal(sv[r].person, person);
        if (o->sv_n == o->sv_cap) {
            o->sv_cap = o->sv_cap ? 2 * o->sv_cap : 1024;
            o->sv = realloc(o->sv, o->sv_cap * sizeof *o->sv);
            assert_non_null(o->sv);
        }
        o->sv[o->sv_n++] = sv[r];
    }
}

static void run_all(const syf_world *w, int arm, office_out *o)
{
    const size_t N = w->pop->n;
    o->persons = N;
    o->sp = malloc(N * CAP * sizeof *o->sp);
    o->n = calloc(N, sizeof *o->n);
    o->exited = calloc(N, sizeof *o->exited);
    o->sv = NULL;
    o->sv_n = o->sv_cap = 0;
    assert_non_null(o->sp);
    syf_office_ws *ws = syf_office_ws_alloc();
    assert_non_null(ws);
    for (size_t of = 0; of < w->pop->n_office; of++)
        assert_int_equal(syf_office_run(w, of, arm, ws, keep, o), SYF_OK);
    syf_office_ws_free(ws);
}

static void out_free(office_out *o)
{
    free(o->sp);
    free(o->n);
    free(o->exited);
    free(o->sv);
}

static void base(syf_scenario *sc, size_t persons, size_t offices)
{
    syf_scenario_defaults(sc);
    sc->population.persons = (long)persons;
    sc->world.offices = (long)offices;
    sc->run.burn_in_days = 365;
}

static void team(syf_scenario *sc, int t, double fte, double hr)
{
    syf_team_params *tp = &sc->team[t];
    tp->fte = fte;
    tp->caseload = 10;
    tp->in_pilot = 0;
    tp->source = SYF_SOURCE_WINDOW;
    tp->refer_day = 28;
    tp->refer_until_day = 84;
    for (int d = 0; d < SYF_N_DIAG; d++)
        tp->hr[d] = hr;
    tp->sessions = 8;
    tp->interval_days = 7;
    tp->session_hours = 1;
    tp->intake_hours = 1;
}

static void assert_same_person(const syf_world *w, const office_out *o, size_t i, int arm)
{
    syf_spell buf[CAP];
    syf_service sv[SVCAP];
    size_t nsv;
    int32_t ex;
    size_t n = syf_world_person_services(w, i, arm, buf, CAP, &ex, sv, SVCAP, &nsv);
    assert_int_equal(n, o->n[i]);
    assert_int_equal(ex, o->exited[i]);
    for (size_t k = 0; k < n; k++) {
        const syf_spell *a = &buf[k], *b = &o->sp[i * CAP + k];
        assert_int_equal(a->start, b->start);
        assert_int_equal(a->days, b->days);
        assert_int_equal(a->reason, b->reason);
        assert_int_equal(a->flags, b->flags);
        assert_int_equal(a->graded_from, b->graded_from);
    }
}

/* No teams: the office run is the person-by-person world, in every arm. */
static void test_no_teams_is_person_world(void **state)
{
    (void)state;
    syf_scenario sc;
    base(&sc, 3000, 3);
    sc.pilot.type = SYF_PILOT_MSYFO;
    sc.pilot.effect_hr = 1.4;
    syf_population *pop;
    assert_int_equal(syf_population_build(&sc, 5, 0, &pop), SYF_OK);
    syf_world w;
    syf_world_init(&w, &sc, pop, 5, 0);
    for (int arm = 0; arm < 2; arm++) {
        office_out o;
        run_all(&w, arm, &o);
        assert_int_equal(o.sv_n, 0);
        for (size_t i = 0; i < pop->n; i++)
            assert_same_person(&w, &o, i, arm);
        out_free(&o);
    }
    syf_population_free(pop);
}

/* More places than anyone could need: the uncongested world exactly, and
 * every referral served on its day. */
static void test_ample_capacity_is_uncongested(void **state)
{
    (void)state;
    syf_scenario sc;
    base(&sc, 3000, 3);
    team(&sc, SYF_TEAM_RPH, 1000, 1.6);
    team(&sc, SYF_TEAM_IPS, 1000, 1.3);
    sc.team[SYF_TEAM_IPS].refer_day = 60;
    sc.team[SYF_TEAM_IPS].refer_until_day = 120;
    syf_population *pop;
    assert_int_equal(syf_population_build(&sc, 6, 0, &pop), SYF_OK);
    syf_world w;
    syf_world_init(&w, &sc, pop, 6, 0);
    office_out o;
    run_all(&w, SYF_ARM_ACTUAL, &o);
    assert_true(o.sv_n > 100);
    for (size_t r = 0; r < o.sv_n; r++) {
        assert_int_equal(o.sv[r].outcome, SYF_SVC_SERVED);
        assert_int_equal(o.sv[r].left, o.sv[r].referred);
        assert_true(o.sv[r].end > o.sv[r].left);
        assert_true(o.sv[r].hours > 0);
    }
    for (size_t i = 0; i < pop->n; i++)
        assert_same_person(&w, &o, i, SYF_ARM_ACTUAL);
    out_free(&o);
    syf_population_free(pop);
}

/* Scarce places: never over-used, fifo order, waits >= 0, withdrawn persons
 * were back at work before their turn. */
static void test_queue_invariants(void **state)
{
    (void)state;
    syf_scenario sc;
    base(&sc, 6000, 2);
    team(&sc, SYF_TEAM_CBT, 0.3, 1.5); /* 3 places per office */
    syf_population *pop;
    assert_int_equal(syf_population_build(&sc, 7, 0, &pop), SYF_OK);
    syf_world w;
    syf_world_init(&w, &sc, pop, 7, 0);
    office_out o;
    run_all(&w, SYF_ARM_ACTUAL, &o);
    size_t served = 0, withdrawn = 0;
    const size_t places = syf_office_team_places(&sc, SYF_TEAM_CBT);
    assert_int_equal(places, 3);
    for (size_t of = 0; of < pop->n_office; of++) {
        int32_t *busy = calloc((size_t)w.end + 2, sizeof *busy);
        for (size_t r = 0; r < o.sv_n; r++) {
            const syf_service *s = &o.sv[r];
            if (pop->office[s->person] != of)
                continue;
            assert_true(s->left >= s->referred);
            if (s->outcome == SYF_SVC_SERVED) {
                served++;
                for (int32_t d = s->left; d < s->end; d++)
                    busy[d]++;
            } else {
                assert_int_equal(s->outcome, SYF_SVC_WITHDRAWN);
                withdrawn++;
            }
        }
        for (int32_t d = 0; d <= w.end; d++)
            assert_true(busy[d] <= (int32_t)places);
        free(busy);
    }
    /* fifo across persons: sort served by referral day; starts non-decreasing */
    for (size_t a = 0; a < o.sv_n; a++)
        for (size_t b = 0; b < o.sv_n; b++) {
            const syf_service *x = &o.sv[a], *y = &o.sv[b];
            if (x->outcome != SYF_SVC_SERVED || y->outcome != SYF_SVC_SERVED ||
                pop->office[x->person] != pop->office[y->person])
                continue;
            if (x->referred < y->referred)
                assert_true(x->left <= y->left);
        }
    assert_true(served > 20);
    assert_true(withdrawn > 20); /* scarce: many recover while waiting */
    /* a withdrawn person's spell ended on the day they left the list */
    for (size_t r = 0; r < o.sv_n; r++) {
        const syf_service *s = &o.sv[r];
        if (s->outcome != SYF_SVC_WITHDRAWN)
            continue;
        const syf_spell *sp = NULL;
        for (size_t k = 0; k < o.n[s->person]; k++)
            if (o.sp[s->person * CAP + k].start <= s->referred &&
                o.sp[s->person * CAP + k].start + o.sp[s->person * CAP + k].days > s->referred)
                sp = &o.sp[s->person * CAP + k];
        assert_non_null(sp);
        assert_int_equal(sp->start + sp->days, s->left);
    }
    out_free(&o);
    syf_population_free(pop);
}

/* Sick-leave days of everyone, per referred person, NEVER minus ALWAYS;
 * and the mean wait of those served. */
static void capacity_effect(double rate, double *effect, double *wait)
{
    syf_scenario sc;
    base(&sc, 8000, 4);
    sc.incidence.rate *= rate;
    team(&sc, SYF_TEAM_RPH, 1.5, 1.8);
    sc.team[SYF_TEAM_RPH].in_pilot = 1;
    syf_population *pop;
    assert_int_equal(syf_population_build(&sc, 8, 0, &pop), SYF_OK);
    syf_world w;
    syf_world_init(&w, &sc, pop, 8, 0);
    office_out o0, o1;
    run_all(&w, SYF_ARM_NEVER, &o0);
    run_all(&w, SYF_ARM_ALWAYS, &o1);
    double d0 = 0, d1 = 0, wsum = 0;
    size_t nserved = 0;
    for (size_t i = 0; i < pop->n; i++) {
        for (size_t k = 0; k < o0.n[i]; k++)
            d0 += syf_spell_days_in(&w, &o0.sp[i * CAP + k], 0, w.obs0, w.obs1);
        for (size_t k = 0; k < o1.n[i]; k++)
            d1 += syf_spell_days_in(&w, &o1.sp[i * CAP + k], 0, w.obs0, w.obs1);
    }
    size_t nref = 0;
    for (size_t r = 0; r < o1.sv_n; r++) {
        nref++;
        if (o1.sv[r].outcome == SYF_SVC_SERVED) {
            wsum += o1.sv[r].left - o1.sv[r].referred;
            nserved++;
        }
    }
    assert_int_equal(o0.sv_n, 0);
    assert_true(nserved > 30);
    *effect = (d0 - d1) / (double)nref;
    *wait = wsum / (double)nserved;
    out_free(&o0);
    out_free(&o1);
    syf_population_free(pop);
}

static void test_capacity_is_real(void **state)
{
    (void)state;
    double e1, w1, e2, w2;
    capacity_effect(1.0, &e1, &w1);
    capacity_effect(2.0, &e2, &w2);
    print_message("inflow x1: effect %.2f days per referral, wait %.1f days\n", e1, w1);
    print_message("inflow x2: effect %.2f days per referral, wait %.1f days\n", e2, w2);
    assert_true(e1 > 0);
    assert_true(w2 > w1 + 3.0);
    assert_true(e2 < 0.8 * e1);
}


/* Spillover: under individual randomisation the team's effect reaches the
 * controls in offices running the pilot (their observed outcome beats the
 * world without the pilot); without spillover the controls are untouched. */
static double control_contamination(double spill, size_t *n_changed)
{
    syf_scenario sc;
    base(&sc, 20000, 4);
    sc.pilot.triage_day = 28;
    team(&sc, SYF_TEAM_NAV, 1000, 1.6);
    sc.team[SYF_TEAM_NAV].in_pilot = 1;
    sc.team[SYF_TEAM_NAV].spillover = spill;
    sc.trial.design = SYF_DESIGN_INDIVIDUAL_RCT;
    syf_population *pop;
    assert_int_equal(syf_population_build(&sc, 9, 0, &pop), SYF_OK);
    syf_design d;
    assert_int_equal(syf_design_build(&sc, pop, 9, 0, &d), SYF_OK);
    syf_world w;
    syf_world_init(&w, &sc, pop, 9, 0);
    w.assign = &d.assign;
    syf_trial_data td;
    memset(&td, 0, sizeof td);
    assert_int_equal(syf_trial_collect(&w, &d, &td, NULL, NULL), SYF_OK);
    double diff = 0;
    size_t nc = 0;
    *n_changed = 0;
    for (size_t j = 0; j < td.n; j++) {
        if (td.arm[j])
            continue;
        diff += td.y[j] - td.y0[j];
        nc++;
        *n_changed += td.y[j] != td.y0[j];
    }
    assert_true(nc > 500);
    syf_trial_data_free(&td);
    syf_design_free(&d);
    syf_population_free(pop);
    return diff / (double)nc;
}

static void test_spillover_reaches_controls(void **state)
{
    (void)state;
    size_t ch0, ch1;
    double d0 = control_contamination(0.0, &ch0);
    double d1 = control_contamination(0.5, &ch1);
    print_message("controls: paid days observed - untreated %.3f (no spillover, %zu changed), "
                  "%.3f (spillover 0.5, %zu changed)\n",
                  d0, ch0, d1, ch1);
    assert_int_equal(ch0, 0);
    assert_near(d0, 0.0, 0);
    assert_true(ch1 > 50);
    assert_true(d1 < -0.5);
}

/* Employer team: employees of served employers get fewer and shorter
 * spells once the team runs (in_pilot = 0: by county and start day). */
static void test_employer_team(void **state)
{
    (void)state;
    syf_scenario sc;
    base(&sc, 40000, 4);
    sc.employer_team.fte = 2;
    sc.employer_team.employers_per_fte = 400;
    sc.employer_team.in_pilot = 0;
    for (int c = 0; c < SYF_N_COUNTY; c++)
        sc.employer_team.counties[c] = 1;
    sc.employer_team.levels[0] = sc.employer_team.levels[1] = sc.employer_team.levels[2] = 1;
    sc.employer_team.min_size_class = 0;
    sc.employer_team.incidence_rr = 0.5;
    sc.employer_team.hr = 1.5;
    syf_population *pop;
    assert_int_equal(syf_population_build(&sc, 10, 0, &pop), SYF_OK);
    size_t served = 0;
    for (size_t e = 0; e < pop->n_employer; e++)
        served += pop->employer_served[e];
    assert_true(served > 0 && served <= 4 * 800);
    syf_world w;
    syf_world_init(&w, &sc, pop, 10, 0);
    syf_scenario sc0 = sc;
    sc0.employer_team.fte = 0;
    syf_world w0;
    syf_world_init(&w0, &sc0, pop, 10, 0);
    double on[2] = {0, 0}, days[2] = {0, 0};
    syf_spell buf[CAP];
    for (size_t i = 0; i < pop->n; i++) {
        if (!pop->employer_served[pop->employer[i]])
            continue;
        for (int v = 0; v < 2; v++) {
            size_t n = syf_world_person(v ? &w : &w0, i, SYF_ARM_NEVER, buf, CAP, NULL);
            for (size_t k = 0; k < n; k++)
                if (buf[k].start >= w.obs0 && buf[k].start < w.obs1) {
                    on[v]++;
                    days[v] += buf[k].days;
                }
        }
    }
    print_message("served employers' employees: %.0f -> %.0f spells, mean %.1f -> %.1f days\n",
                  on[0], on[1], days[0] / on[0], days[1] / on[1]);
    assert_true(on[1] < 0.6 * on[0] && on[1] > 0.4 * on[0]);
    assert_true(days[1] / on[1] < days[0] / on[0]);
    syf_population_free(pop);
}

/* One willingness per spell: with equal uptakes two teams reach the same
 * persons; a team nobody takes up still acts through its spillover. */
static void test_uptake_shared_and_spillover_of_decliners(void **state)
{
    (void)state;
    syf_scenario sc;
    base(&sc, 6000, 2);
    team(&sc, SYF_TEAM_RPH, 1000, 1.5);
    team(&sc, SYF_TEAM_NAV, 1000, 1.2);
    sc.team[SYF_TEAM_RPH].uptake = sc.team[SYF_TEAM_NAV].uptake = 0.4;
    syf_population *pop;
    assert_int_equal(syf_population_build(&sc, 12, 0, &pop), SYF_OK);
    syf_world w;
    syf_world_init(&w, &sc, pop, 12, 0);
    office_out o;
    run_all(&w, SYF_ARM_ACTUAL, &o);
    size_t rph = 0, both = 0;
    for (size_t r = 0; r < o.sv_n; r++) {
        if (o.sv[r].team != SYF_TEAM_RPH)
            continue;
        rph++;
        for (size_t q = 0; q < o.sv_n; q++)
            both += o.sv[q].team == SYF_TEAM_NAV && o.sv[q].person == o.sv[r].person &&
                    o.sv[q].spell == o.sv[r].spell;
    }
    assert_true(rph > 100);
    assert_int_equal(both, rph);
    out_free(&o);
    syf_population_free(pop);

    /* uptake 0 with spillover: shorter spells for the would-be referred */
    syf_scenario s2;
    base(&s2, 6000, 2);
    team(&s2, SYF_TEAM_RPH, 1, 2.0);
    s2.team[SYF_TEAM_RPH].uptake = 0;
    s2.team[SYF_TEAM_RPH].in_pilot = 1;
    double days[2];
    for (int v = 0; v < 2; v++) {
        s2.team[SYF_TEAM_RPH].spillover = v ? 0.5 : 0.0;
        assert_int_equal(syf_population_build(&s2, 13, 0, &pop), SYF_OK);
        syf_world w2;
        syf_world_init(&w2, &s2, pop, 13, 0);
        office_out o2;
        run_all(&w2, SYF_ARM_ALWAYS, &o2);
        assert_int_equal(o2.sv_n, 0);
        days[v] = 0;
        for (size_t i = 0; i < pop->n; i++)
            for (size_t k = 0; k < o2.n[i]; k++)
                days[v] += syf_spell_days_in(&w2, &o2.sp[i * CAP + k], 0, w2.obs0, w2.obs1);
        out_free(&o2);
        syf_population_free(pop);
    }
    print_message("uptake 0: sick days %.0f without, %.0f with spillover 0.5\n", days[0], days[1]);
    assert_true(days[1] < 0.97 * days[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_teams_is_person_world),
        cmocka_unit_test(test_ample_capacity_is_uncongested),
        cmocka_unit_test(test_queue_invariants),
        cmocka_unit_test(test_capacity_is_real),
        cmocka_unit_test(test_spillover_reaches_controls),
        cmocka_unit_test(test_employer_team),
        cmocka_unit_test(test_uptake_shared_and_spillover_of_decliners),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
