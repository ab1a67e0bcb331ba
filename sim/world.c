/* world.c — per-person event-driven simulation of sick-leave spells.
 * See world.h for the model; the random draws of each spell are made in a
 * fixed order from the spell's own stream (person, spell number), so the
 * control and pilot versions of a person share their randomness.
 */
#include "syfosim/world.h"
#include "syfosim/hazard.h"
#include "syfosim/rng.h"
#include "syfosim/triage.h"

#include <limits.h>
#include <math.h>

const char *const syf_end_names[5] = {"work", "graded_work", "job_change", "max_reached",
                                      "censored"};
const char *const syf_after_names[4] = {"", "aap", "work", "other"};

void syf_world_init(syf_world *w, const syf_scenario *sc, const syf_population *pop,
                    uint64_t seed, uint64_t rep)
{
    w->sc = sc;
    w->pop = pop;
    w->assign = NULL;
    w->force_map = -1;
    w->trial_only = 0;
    w->seed = seed;
    w->rep = rep;
    w->obs0 = (int32_t)sc->run.burn_in_days;
    w->obs1 = w->obs0 + (int32_t)sc->run.observation_days;
    w->end = w->obs1 + (int32_t)sc->run.follow_up_days;
}

int syf_world_dow(const syf_world *w, int32_t day)
{
    int d = (int)((day - w->obs0) % 7);
    return d < 0 ? d + 7 : d;
}

/* Weekdays among absolute days [a, b). */
static int32_t weekdays(const syf_world *w, int32_t a, int32_t b)
{
    if (b <= a)
        return 0;
    int32_t n = b - a, full = n / 7, rem = n % 7, count = full * 5;
    int d = syf_world_dow(w, a);
    for (int32_t k = 0; k < rem; k++, d = (d + 1) % 7)
        count += d < 5;
    return count;
}

/* Absolute day of the n-th weekday (n >= 1) on or after day a. */
static int32_t nth_weekday(const syf_world *w, int32_t a, int32_t n)
{
    while (syf_world_dow(w, a) >= 5)
        a++;
    int32_t q = (n - 1) / 5, r = (n - 1) % 5;
    a += 7 * q;
    while (r > 0) {
        a++;
        if (syf_world_dow(w, a) < 5)
            r--;
    }
    return a;
}

int syf_spell_grade_on(const syf_spell *sp, int32_t t)
{
    if (sp->graded_from >= 0 && t >= sp->graded_from && t < sp->graded_to)
        return sp->grade;
    return 100;
}

double syf_spell_days_in(const syf_world *w, const syf_spell *sp, int paid, int32_t a, int32_t b)
{
    /* spell days [lo, hi) intersected with absolute [a, b) */
    int32_t lo = paid ? (int32_t)w->sc->regime.employer_days : 0, hi = sp->days;
    if (a - sp->start > lo)
        lo = a - sp->start;
    if (b - sp->start < hi)
        hi = b - sp->start;
    if (hi <= lo)
        return 0.0;
    /* segments with constant grade: [lo, gf), [gf, gt), [gt, hi) */
    double total = weekdays(w, sp->start + lo, sp->start + hi);
    if (sp->graded_from >= 0) {
        int32_t g0 = sp->graded_from > lo ? sp->graded_from : lo;
        int32_t g1 = sp->graded_to < hi ? sp->graded_to : hi;
        if (g1 > g0)
            total -= weekdays(w, sp->start + g0, sp->start + g1) * (1.0 - sp->grade / 100.0);
    }
    return total;
}

static double logistic(double x) { return 1.0 / (1.0 + exp(-x)); }

static int draw_grade(syf_stream *s, const double *shares)
{
    size_t cls = syf_stream_discrete(s, shares, 3);
    double u = syf_stream_uniform(s);
    if (cls == 0)
        return 20 + 10 * (int)(u * 3); /* 20, 30, 40 */
    if (cls == 1)
        return 50;
    return 60 + 10 * (int)(u * 4); /* 60 .. 90 */
}

struct hr_event {
    double t;
    int what; /* 0 grade on, 1 grade off, 2 activity, 3 mapping */
};

/* Simulate spell k of person i starting on absolute day `start`. */
/* Absolute day the pilot starts for person i in world version `arm`. */
static int32_t pilot_start(const syf_world *w, size_t i, int arm)
{
    if (arm == SYF_ARM_ALWAYS)
        return w->obs0;
    if (arm != SYF_ARM_ACTUAL || !w->assign)
        return INT32_MAX;
    if (w->assign->person_treated)
        return w->assign->person_treated[i] ? w->obs0 : INT32_MAX;
    if (w->assign->office_start)
        return w->assign->office_start[w->pop->office[i]];
    return INT32_MAX;
}

static void simulate_spell(const syf_world *w, size_t i, size_t k, int32_t start, int arm,
                           int recurrent_count, syf_spell *sp)
{
    const syf_scenario *sc = w->sc;
    const syf_population *pop = w->pop;
    syf_stream s;
    syf_stream_init(&s, w->seed, w->rep, i, syf_purpose(SYF_P_SPELL, k));
    const int age = pop->age[i] + (int)((start - w->obs0) / 365);
    const int female = pop->sex[i];

    sp->start = start;
    sp->flags = 0;
    sp->triggers = 0;
    sp->q1 = sp->q2 = sp->q3 = -1;
    sp->map_day = -1;
    sp->after_max = SYF_AFTER_NONE;

    /* 1. diagnosis, pregnancy, serious diagnosis */
    sp->diag = (uint8_t)syf_stream_discrete(&s, sc->duration.diagnosis_shares, SYF_N_DIAG);
    double u_preg = syf_stream_uniform(&s);
    if (female && age >= 20 && age <= 44 && u_preg < sc->duration.pregnancy_share) {
        sp->diag = SYF_DIAG_OTHER;
        sp->flags |= SYF_SF_PREGNANCY;
    }
    if (syf_stream_uniform(&s) < sc->duration.serious_share)
        sp->flags |= SYF_SF_SERIOUS;

    /* 2. latent prognosis: part person health, part this spell */
    const double rho = sc->duration.health_weight;
    const double z = rho * pop->health[i] + sqrt(1.0 - rho * rho) * syf_stream_normal(&s);

    /* 3. grading path */
    const double gp_habit = pop->gp_re_grading[pop->gp[i]];
    double u_start = syf_stream_uniform(&s), u_conv = syf_stream_uniform(&s);
    double u_cday = syf_stream_uniform(&s);
    int grade = draw_grade(&s, sc->grading.grade_shares);
    double u_deg = syf_stream_uniform(&s), u_degday = syf_stream_uniform(&s);
    sp->graded_from = -1;
    sp->graded_to = -1;
    sp->grade = 100;
    if (u_start < logistic(sc->grading.start_logit + sc->grading.start_slope * z + gp_habit)) {
        sp->graded_from = 0;
        sp->flags |= SYF_SF_GRADED_START;
    } else if (u_conv <
               logistic(sc->grading.convert_logit + sc->grading.convert_slope * z + gp_habit)) {
        sp->graded_from = 17 + (int32_t)(u_cday * 40.0); /* days 17..56 */
    }
    if (sp->graded_from >= 0) {
        sp->grade = (uint8_t)grade;
        sp->graded_to = INT32_MAX;
        if (u_deg < sc->grading.degrade_share)
            sp->graded_to = sp->graded_from + 14 + (int32_t)(u_degday * 70.0);
    }

    /* 4. the remaining draws, always made, in a fixed order */
    const double E = syf_stream_exp(&s);
    const double u_job = syf_stream_uniform(&s);
    const double u_after = syf_stream_uniform(&s);
    const double u_dm2 = syf_stream_uniform(&s);
    /* The person's own prognosis: the untreated duration index, i.e. the
     * latent prognosis and the spell's exit draw together (standardised).
     * People predict their own duration well (digest-003 L289, L434), so
     * the self-reports read this, with noise (pilot.self_noise_sd). */
    const double sz = sc->duration.prognosis_sd;
    sp->prognosis = (float)((sz * z + log(E) + 0.5772156649) / sqrt(sz * sz + 1.6449340668));
    sp->score = NAN;

    /* 5. Does the spell reach the gate, the first day on which the pilot or
     * the status-quo activity check can change anything?  Before it the
     * hazard depends on grading only, so this is known without the pilot's
     * draws; the spells that end earlier (most of them) make none. */
    const double m0 = pop->hazard_mult[i] * sc->duration.diagnosis_hr[sp->diag] *
                      exp(-sc->duration.prognosis_sd * z);
    const double m_first = m0 * (sp->graded_from == 0 ? sc->grading.hr : 1.0);
    const int32_t triage_day = (int32_t)sc->pilot.triage_day;
    const int32_t gate = triage_day < sc->regime.activity_day ? triage_day
                                                              : (int32_t)sc->regime.activity_day;
    syf_hr_change gchg[2];
    size_t ng = 0;
    if (sp->graded_from > 0)
        gchg[ng++] = (syf_hr_change){sp->graded_from, m0 * sc->grading.hr};
    if (sp->graded_from >= 0 && sp->graded_to != INT32_MAX)
        gchg[ng++] = (syf_hr_change){sp->graded_to, m0};
    const int reaches = E >= syf_hazard_cumulative(sc->duration.baseline_hazard,
                                                   syf_hazard_knots, SYF_N_PIECES, m_first,
                                                   gchg, ng, gate);

    /* 6. pilot: is this spell's triage day inside the window, on or after
     * the pilot started for this person, and is the pilot delivered?  Its
     * draws come from the spell's own triage stream, made only when the
     * spell reaches the gate (the same numbers in every version of the
     * world, so common random numbers hold). */
    const int32_t from = pilot_start(w, i, arm), t_abs = start + triage_day;
    int pilot = reaches && sc->pilot.type != SYF_PILOT_NONE && from != INT32_MAX &&
                t_abs >= w->obs0 && t_abs >= from && t_abs < w->obs1;
    int32_t map_day = -1, checkpoint_day = -1;
    if (reaches) {
        syf_stream ts;
        syf_stream_init(&ts, w->seed, w->rep, i, syf_purpose(SYF_P_TRIAGE, k));
        syf_triage_input tin;
        syf_triage_draw(&ts, &tin);
        const double u_fidelity = syf_stream_uniform(&ts);
        sp->score = (float)(sp->prognosis + sc->pilot.score_noise_sd * syf_stream_normal(&ts));
        if (pilot && w->assign && w->assign->office_fidelity)
            pilot = u_fidelity < w->assign->office_fidelity[pop->office[i]];
        if (pilot) {
            sp->flags |= SYF_SF_PILOT;
            tin.prognosis = sp->prognosis;
            tin.age = age;
            tin.pregnancy = (sp->flags & SYF_SF_PREGNANCY) != 0;
            tin.serious = (sp->flags & SYF_SF_SERIOUS) != 0;
            tin.degree = syf_spell_grade_on(sp, triage_day);
            tin.recurrent_count = recurrent_count;
            syf_triage_result tr;
            if (sc->pilot.type == SYF_PILOT_RISK_SCORE)
                syf_triage_score(sc, &tin, sp->score, &tr);
            else
                syf_triage_msyfo(sc, &tin, &tr);
            if (w->force_map >= 0 && !tr.excluded) { /* counterfactual versions */
                tr.mapped = w->force_map;
                tr.checkpoint = -1;
            }
            sp->triggers = (uint16_t)tr.triggers;
            sp->q1 = (int8_t)tr.q1;
            sp->q2 = (int8_t)tr.q2;
            sp->q3 = (int8_t)tr.q3;
            if (tr.excluded)
                sp->flags |= SYF_SF_EXCLUDED;
            if (tr.responded)
                sp->flags |= SYF_SF_RESPONDED;
            if (tr.mapped)
                map_day = triage_day + (int32_t)sc->pilot.mapping_delay_days;
            else if (tr.checkpoint >= 0) {
                checkpoint_day = (int32_t)sc->pilot.checkpoint_days[tr.checkpoint];
                if (checkpoint_day < triage_day)
                    checkpoint_day = triage_day;
                map_day = checkpoint_day + (int32_t)sc->pilot.mapping_delay_days;
            }
        }
    }

    /* 7. hazard multiplier schedule */
    double grade_f = 1.0, act_f = 1.0, eff_f = 1.0;
    struct hr_event ev[4];
    int nev = 0;
    if (sp->graded_from > 0)
        ev[nev++] = (struct hr_event){sp->graded_from, 0};
    else if (sp->graded_from == 0)
        grade_f = sc->grading.hr;
    if (sp->graded_from >= 0 && sp->graded_to != INT32_MAX)
        ev[nev++] = (struct hr_event){sp->graded_to, 1};
    if (!pilot)
        ev[nev++] = (struct hr_event){(double)sc->regime.activity_day, 2};
    if (map_day >= 0)
        ev[nev++] = (struct hr_event){map_day, 3};
    for (int a = 1; a < nev; a++) /* insertion sort, at most 4 */
        for (int b = a; b > 0 && ev[b].t < ev[b - 1].t; b--) {
            struct hr_event tmp = ev[b];
            ev[b] = ev[b - 1];
            ev[b - 1] = tmp;
        }
    syf_hr_change chg[4];
    for (int a = 0; a < nev; a++) {
        switch (ev[a].what) {
        case 0: grade_f = sc->grading.hr; break;
        case 1: grade_f = 1.0; break;
        case 2: act_f = sc->regime.activity_hr; break;
        default: eff_f = sc->pilot.effect_hr; break;
        }
        chg[a].t = ev[a].t;
        chg[a].mult = m0 * grade_f * act_f * eff_f;
    }

    /* 8. exit time, the maximum and censoring */
    const int32_t max_abs = nth_weekday(w, start + (int32_t)sc->regime.employer_days,
                                        (int32_t)sc->regime.max_paid_days);
    const int32_t dmax = max_abs - start + 1; /* spell days at the maximum */
    const double T = syf_hazard_exit_time(sc->duration.baseline_hazard, syf_hazard_knots,
                                          SYF_N_PIECES, m_first, chg, (size_t)nev, E, dmax);
    int32_t days;
    if (T >= dmax) {
        days = dmax;
        sp->reason = SYF_END_MAX;
    } else {
        days = (int32_t)floor(T) + 1;
        int graded_at_end = syf_spell_grade_on(sp, days - 1) < 100;
        if (days > sc->regime.employer_days && u_job < sc->duration.job_change_share)
            sp->reason = SYF_END_JOB_CHANGE;
        else
            sp->reason = graded_at_end ? SYF_END_GRADED_WORK : SYF_END_WORK;
    }
    if (start + days > w->end) {
        days = w->end - start;
        sp->reason = SYF_END_CENSORED;
    }
    sp->days = days;
    if (sp->graded_from >= days) { /* grading would have started after the end */
        sp->graded_from = sp->graded_to = -1;
        sp->grade = 100;
    }
    if (sp->reason == SYF_END_MAX) {
        const double *sh = sc->regime.after_max_shares;
        const double u = u_after * (sh[0] + sh[1] + sh[2]);
        sp->after_max = u < sh[0]           ? SYF_AFTER_AAP
                        : u < sh[0] + sh[1] ? SYF_AFTER_WORK
                                            : SYF_AFTER_OTHER;
    }

    /* 9. what happened while the spell lasted */
    if (pilot && days > triage_day)
        sp->flags |= SYF_SF_TRIAGED;
    if (!pilot && days > sc->regime.activity_day)
        sp->flags |= SYF_SF_ACTIVITY;
    if (map_day >= 0 && days > map_day) {
        sp->flags |= SYF_SF_MAPPED;
        sp->map_day = map_day;
        if (checkpoint_day >= 0)
            sp->flags |= SYF_SF_CHECKPOINT;
    }
    if (days > sc->regime.dm2_day && u_dm2 < sc->regime.dm2_share)
        sp->flags |= SYF_SF_DM2;
    if (!(sp->flags & SYF_SF_TRIAGED)) { /* answers only exist if the message went out */
        sp->q1 = sp->q2 = sp->q3 = -1;
        sp->triggers = 0;
        sp->flags &= (uint16_t)~(SYF_SF_RESPONDED | SYF_SF_EXCLUDED);
    }
}

size_t syf_world_person(const syf_world *w, size_t i, int arm, syf_spell *buf, size_t cap,
                        int32_t *exited)
{
    const syf_scenario *sc = w->sc;
    const double rate = w->pop->onset_rate[i];
    const double boost = sc->incidence.recurrence_rr;
    const double R = (double)sc->incidence.recurrence_days;
    const int32_t lookback = (int32_t)sc->pilot.recurrent_lookback_days;
    int32_t t = 0; /* at risk from this day */
    int after_return = 0, recruited = 0;
    const int32_t tday = (int32_t)sc->pilot.triage_day;
    size_t n = 0;
    if (exited)
        *exited = INT32_MAX;
    for (size_t k = 0; n < cap; k++) {
        syf_stream s;
        syf_stream_init(&s, w->seed, w->rep, i, syf_purpose(SYF_P_ONSET, k));
        double E = syf_stream_exp(&s), wait;
        if (after_return && E < rate * boost * R)
            wait = E / (rate * boost);
        else if (after_return)
            wait = R + (E - rate * boost * R) / rate;
        else
            wait = E / rate;
        if (!(wait < (double)(w->end - t)))
            break;
        int32_t start = t + (int32_t)floor(wait);
        /* trial-only mode: a person not recruited by now can no longer be
         * (their next triage day falls after the window) -- nothing later
         * in their history can matter to the trial */
        if (w->trial_only && !recruited && start + tday >= w->obs1)
            break;
        int recurrent = 0;
        for (size_t j = n; j-- > 0;) {
            if (buf[j].start < start - lookback)
                break;
            recurrent++;
        }
        syf_spell *sp = &buf[n++];
        simulate_spell(w, i, k, start, arm, recurrent, sp);
        if (start + tday >= w->obs0 && start + tday < w->obs1 && sp->days > tday)
            recruited = 1;
        if (sp->reason == SYF_END_CENSORED)
            break;
        t = start + sp->days;
        after_return = 1;
        if (sp->reason == SYF_END_MAX) {
            if (sp->after_max != SYF_AFTER_WORK) {
                if (exited)
                    *exited = t;
                break;
            }
            t += (int32_t)sc->regime.requalify_days;
            after_return = 0;
        }
    }
    return n;
}
