/* world.c — per-person event-driven simulation of sick-leave spells.
 * See world.h for the model; the random draws of each spell are made in a
 * fixed order from the spell's own stream (person, spell number), so the
 * control and pilot versions of a person share their randomness.
 */
#include "syfosim/world.h"
#include "world_internal.h"
#include "syfosim/hazard.h"
#include "syfosim/rng.h"
#include "syfosim/triage.h"

#include <limits.h>
#include <math.h>

const char *const syf_end_names[5] = {"work", "graded_work", "job_change", "max_reached",
                                      "censored"};
const char *const syf_after_names[4] = {"", "aap", "work", "other"};
const char *const syf_service_outcome_names[4] = {"pending", "served", "withdrawn", "expired"};

void syf_world_init(syf_world *w, const syf_scenario *sc, const syf_population *pop,
                    uint64_t seed, uint64_t rep)
{
    w->sc = sc;
    w->pop = pop;
    w->assign = NULL;
    w->force_map = -1;
    w->trial_only = 0;
    w->outcome_from = INT32_MIN;
    w->seed = seed;
    w->rep = rep;
    w->obs0 = (int32_t)sc->run.burn_in_days;
    w->obs1 = w->obs0 + (int32_t)sc->run.observation_days;
    w->end = w->obs1 + (int32_t)sc->run.follow_up_days;
    _Static_assert(SYF_N_PIECES <= SYF_HAZARD_MAX_PIECES, "baseline pieces exceed the table");
    syf_hazard_table_init(&w->hazard, sc->duration.baseline_hazard, syf_hazard_knots,
                          SYF_N_PIECES);
    /* mean and SD of the register part of a risk score (score_observed), with
     * diagnosis, age and sex independent at their scenario shares; grading
     * and earlier spells enter unstandardised (their coefficients below are
     * on the same scale) */
    double m = 0, v = 0;
    const double *ds = sc->duration.diagnosis_shares, *as = sc->population.age_shares;
    double md = 0, vd = 0, ma = 0, va = 0;
    for (int d = 0; d < SYF_N_DIAG; d++)
        md += ds[d] * -log(sc->duration.diagnosis_hr[d]);
    for (int d = 0; d < SYF_N_DIAG; d++)
        vd += ds[d] * pow(-log(sc->duration.diagnosis_hr[d]) - md, 2);
    for (int a = 0; a < SYF_N_AGE; a++)
        ma += as[a] * -log(sc->duration.age_hr[a]);
    for (int a = 0; a < SYF_N_AGE; a++)
        va += as[a] * pow(-log(sc->duration.age_hr[a]) - ma, 2);
    const double f = sc->population.female_share, lf = -log(sc->duration.female_hr);
    m = md + ma + f * lf;
    v = vd + va + f * (1 - f) * lf * lf;
    w->score_obs_mean = m;
    w->score_obs_sd = v > 0 ? sqrt(v) : 1.0;
}

/* Register part of a risk score: the standardised expected duration from
 * what NAV observes on the triage day (the hazard ratios of the spell's
 * diagnosis group, the person's age and sex; longer if not graded -- a
 * graded spell recovers faster -- and if earlier spells recur). */
static double score_observed(const syf_world *w, size_t i, const syf_spell *sp, int age,
                             int32_t triage_day, int recurrent_count)
{
    const syf_scenario *sc = w->sc;
    const syf_population *pop = w->pop;
    const int ag = syf_age_group(age > 69 ? 69 : age < 16 ? 16 : age);
    double x = -log(sc->duration.diagnosis_hr[sp->diag]) - log(sc->duration.age_hr[ag]) -
               (pop->sex[i] ? log(sc->duration.female_hr) : 0.0);
    x = (x - w->score_obs_mean) / w->score_obs_sd;
    if (syf_spell_grade_on(sp, triage_day) < 100)
        x -= log(sc->grading.hr) / w->score_obs_sd;
    x += 0.2 * (recurrent_count > 5 ? 5 : recurrent_count); /* judgement */
    return x;
}

int syf_world_dow(const syf_world *w, int32_t day)
{
    int d = (int)((day - w->obs0) % 7);
    return d < 0 ? d + 7 : d;
}

/* Weekdays among absolute days [a, b). */
static int32_t weekdays(const syf_world *w, int32_t a, int32_t b)
{
    /* weekdays among the first r days of a week that starts on day d */
    static const int8_t part[7][7] = {{0, 1, 2, 3, 4, 5, 5}, {0, 1, 2, 3, 4, 4, 4},
                                      {0, 1, 2, 3, 3, 3, 4}, {0, 1, 2, 2, 2, 3, 4},
                                      {0, 1, 1, 1, 2, 3, 4}, {0, 0, 0, 1, 2, 3, 4},
                                      {0, 0, 1, 2, 3, 4, 5}};
    if (b <= a)
        return 0;
    const int32_t n = b - a;
    return n / 7 * 5 + part[syf_world_dow(w, a)][n % 7];
}

/* Absolute day of the n-th weekday (n >= 1) on or after day a. */
static int32_t nth_weekday(const syf_world *w, int32_t a, int32_t n)
{
    int d = syf_world_dow(w, a);
    if (d >= 5) { /* to Monday */
        a += 7 - d;
        d = 0;
    }
    const int32_t q = (n - 1) / 5, r = (n - 1) % 5;
    /* r more weekdays from weekday d cross at most one weekend */
    return a + 7 * q + r + (d + r > 4 ? 2 : 0);
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
    size_t cls = world_discrete(s, shares, 3);
    double u = syf_stream_uniform(s);
    if (cls == 0)
        return 20 + 10 * (int)(u * 3); /* 20, 30, 40 */
    if (cls == 1)
        return 50;
    return 60 + 10 * (int)(u * 4); /* 60 .. 90 */
}

/* ---- teams: presence, referral, effect ------------------------------- */

int syf_world_has_queues(const syf_scenario *sc)
{
    for (int t = 0; t < SYF_N_TEAM; t++)
        if (sc->team[t].fte > 0)
            return 1;
    return 0;
}

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

static int32_t add_days(int32_t a, long d)
{
    return a == INT32_MAX ? INT32_MAX : (int32_t)(a + d);
}

int32_t world_team_open(const syf_world *w, size_t i, int arm, int t)
{
    const syf_team_params *tp = &w->sc->team[t];
    if (!(tp->fte > 0))
        return INT32_MAX;
    if (!tp->in_pilot)
        return (int32_t)tp->start_day;
    return add_days(pilot_start(w, i, arm), tp->start_day);
}

int32_t syf_world_employer_open(const syf_world *w, size_t e, int arm)
{
    const syf_scenario *sc = w->sc;
    const syf_population *pop = w->pop;
    if (!(sc->employer_team.fte > 0) || !pop->employer_served || !pop->employer_served[e])
        return INT32_MAX;
    const uint32_t o = pop->employer_office[e];
    if (!sc->employer_team.in_pilot) {
        const int c = pop->office_county[o];
        if (sc->employer_team.counties[c] < 0.5)
            return INT32_MAX;
        return w->obs0 + (int32_t)sc->employer_team.start_days[c];
    }
    if (arm == SYF_ARM_ALWAYS)
        return w->obs0;
    if (arm != SYF_ARM_ACTUAL || !w->assign || !w->assign->office_start)
        return INT32_MAX;
    return w->assign->office_start[o];
}

double world_service_hours(const syf_scenario *sc, int team, int32_t start, int32_t end)
{
    const syf_team_params *tp = &sc->team[team];
    double held = end > start ? (double)(end - start) : 0.0;
    double sessions = floor(held / (double)tp->interval_days) + 1.0;
    if (sessions > tp->sessions)
        sessions = tp->sessions;
    return tp->intake_hours + sessions * tp->session_hours;
}

/* Spell day the team's spillover reaches this spell: from the referral
 * day, once the team is present in the office -- whoever was assigned:
 * under individual randomisation every office runs the pilot. */
static int32_t spill_from(const syf_world *w, const spell_state *st, int t, int32_t open)
{
    const syf_team_params *tp = &w->sc->team[t];
    int32_t office_open = open;
    if (tp->in_pilot && st->arm == SYF_ARM_ACTUAL && w->assign && w->assign->person_treated)
        office_open = add_days(w->obs0, tp->start_day);
    if (office_open == INT32_MAX)
        return -1;
    const int32_t orel = office_open - st->sp.start;
    const int32_t d = (int32_t)tp->refer_day > orel ? (int32_t)tp->refer_day : orel;
    return d < 0 ? 0 : d;
}

/* The spell's team referrals and spillovers.  Candidates (present,
 * eligible, in the referral window) are known without random draws; the
 * spillover reaches the spells that are not candidates of the team; then
 * the exit time with the spillovers decides whether the spell lasts until
 * a referral, and only then are the uptake and queue draws made. */
static void spell_referrals(const syf_world *w, spell_state *st, int age, int32_t triage_day,
                            int tier, int triaged)
{
    const syf_scenario *sc = w->sc;
    const syf_spell *sp = &st->sp;
    const syf_population *pop = w->pop;
    st->n_ref = 0;
    for (int t = 0; t < SYF_N_TEAM; t++)
        st->spill_day[t] = -1;
    if (!syf_world_has_queues(sc))
        return;
    int32_t cand[SYF_N_TEAM];
    int32_t first = INT32_MAX;
    int spills = 0;
    for (int t = 0; t < SYF_N_TEAM; t++) {
        cand[t] = -1;
        const syf_team_params *tp = &sc->team[t];
        if (!(tp->fte > 0))
            continue;
        const int32_t open = world_team_open(w, st->person, st->arm, t);
        int32_t r = -1;
        if (open != INT32_MAX && age >= tp->age_min && age <= tp->age_max &&
            tp->diagnoses[sp->diag] >= 0.5) {
            int in_pilot_window = 1;
            if (tp->in_pilot) {
                /* a pilot team takes the spells the pilot applies to: those
                 * whose recruitment (triage) day is in the window, on or after
                 * the pilot's start -- earlier histories are the same in every
                 * version of the world */
                const int32_t from = pilot_start(w, st->person, st->arm);
                const int32_t t_abs = sp->start + triage_day;
                in_pilot_window =
                    from != INT32_MAX && t_abs >= from && t_abs >= w->obs0 && t_abs < w->obs1;
            }
            if (in_pilot_window) {
                switch (tp->source) {
                case SYF_SOURCE_TRIAGE:
                    r = st->map_day;
                    break;
                case SYF_SOURCE_TIER:
                    r = triaged && tier >= tp->tier_min ? triage_day : -1;
                    break;
                default:
                    r = (int32_t)tp->refer_day;
                }
            }
            const int32_t open_rel = open - sp->start;
            if (r >= 0 && r < open_rel)
                r = open_rel;
            if (r > tp->refer_until_day)
                r = -1;
        }
        if (r >= 0) {
            r += (int32_t)tp->referral_delay_days;
            cand[t] = r;
            if (r < first)
                first = r;
            /* a candidate not referred (declined) gets the spillover from
             * the day they would have been referred */
            if (tp->spillover > 0) {
                st->spill_day[t] = r;
                spills = 1;
            }
        } else if (tp->spillover > 0) {
            st->spill_day[t] = spill_from(w, st, t, open);
            spills |= st->spill_day[t] >= 0;
        }
    }
    if (spills)
        spell_exit(w, st);
    if (first == INT32_MAX)
        return;
    /* Draws only for spells that last until a possible referral: before the
     * first referral no service has started, so the exit without services
     * decides. */
    if (st->T < first)
        return;
    syf_stream s;
    syf_stream_init(&s, w->seed, w->rep, st->person, syf_purpose(SYF_P_SERVICE, st->k));
    const int coop = pop->gp_cooperates ? pop->gp_cooperates[pop->gp[st->person]] : 1;
    /* one willingness per spell: a person who takes up a team with uptake p
     * also takes up every team with uptake >= p (concurrent follow-up by
     * several teams reaches the same persons, digest-000 L29-35) */
    const double u_take = syf_stream_uniform(&s);
    int dropped = 0;
    for (int t = 0; t < SYF_N_TEAM; t++) {
        const double u_key = syf_stream_uniform(&s);
        if (cand[t] < 0)
            continue;
        const syf_team_params *tp = &sc->team[t];
        const double take = tp->uptake * (coop ? 1.0 : 1.0 - tp->gp_dependence);
        if (!(u_take < take))
            continue;
        if (st->spill_day[t] >= 0) { /* the service replaces the spillover */
            st->spill_day[t] = -1;
            dropped = 1;
        }
        spell_referral *rf = &st->ref[st->n_ref++];
        rf->team = (uint8_t)t;
        rf->day = sp->start + cand[t];
        switch (tp->queue) {
        case SYF_QUEUE_PRIORITY: /* highest risk first: the score, else the prognosis */
            rf->key = -(double)(isnan(sp->score) ? sp->prognosis : sp->score);
            break;
        case SYF_QUEUE_RANDOM:
            rf->key = u_key;
            break;
        default:
            rf->key = (double)rf->day;
        }
    }
    if (dropped) /* changes only from the referral days on */
        spell_exit(w, st);
}

/* ---- the spell ---------------------------------------------------------- */

void spell_begin(const syf_world *w, size_t i, size_t k, int32_t start, int arm,
                 int recurrent_count, spell_state *st)
{
    const syf_scenario *sc = w->sc;
    const syf_population *pop = w->pop;
    syf_spell *sp = &st->sp;
    syf_stream s;
    syf_stream_init(&s, w->seed, w->rep, i, syf_purpose(SYF_P_SPELL, k));
    const int age = pop->age[i] + (int)((start - w->obs0) / 365);
    const int female = pop->sex[i];
    st->person = i;
    st->k = k;
    st->arm = arm;
    st->n_ref = st->n_svc = 0;
    for (int t = 0; t < SYF_N_TEAM; t++)
        st->spill_day[t] = -1;
    st->map_day = st->checkpoint_day = -1;
    st->pilot = 0;

    sp->start = start;
    sp->flags = 0;
    sp->triggers = 0;
    sp->q1 = sp->q2 = sp->q3 = -1;
    sp->map_day = -1;
    sp->after_max = SYF_AFTER_NONE;

    /* 1. diagnosis, pregnancy, serious diagnosis */
    sp->diag = (uint8_t)world_discrete(&s, sc->duration.diagnosis_shares, SYF_N_DIAG);
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
    st->E = syf_stream_exp(&s);
    st->u_job = syf_stream_uniform(&s);
    st->u_after = syf_stream_uniform(&s);
    st->u_dm2 = syf_stream_uniform(&s);
    /* The person's own prognosis: the untreated duration index, i.e. the
     * latent prognosis and the spell's exit draw together (standardised).
     * People predict their own duration well (digest-003 L289, L434), so
     * the self-reports read this, with noise (pilot.self_noise_sd). */
    const double sz = sc->duration.prognosis_sd;
    sp->prognosis =
        (float)((sz * z + log(st->E) + 0.5772156649) / sqrt(sz * sz + 1.6449340668));
    sp->score = NAN;

    /* 5. Does the spell reach the gate, the first day on which the pilot or
     * the status-quo activity check can change anything?  Before it the
     * hazard depends on grading (and the employer team) only, so this is
     * known without the pilot's draws; the spells that end earlier (most of
     * them) make none. */
    st->m0 = pop->hazard_mult[i] * sc->duration.diagnosis_hr[sp->diag] *
             exp(-sc->duration.prognosis_sd * z);
    st->emp_day = -1;
    if (sc->employer_team.fte > 0) {
        const int32_t eo = syf_world_employer_open(w, pop->employer[i], arm);
        if (eo != INT32_MAX)
            st->emp_day = eo - start < 0 ? 0 : eo - start;
    }
    const int32_t triage_day = (int32_t)sc->pilot.triage_day;
    const int32_t gate = triage_day < sc->regime.activity_day ? triage_day
                                                              : (int32_t)sc->regime.activity_day;
    st->pilot = 0;
    st->map_day = st->checkpoint_day = -1;
    st->eff_hr = sc->pilot.effect_hr *
                 (sc->world.allocation == SYF_ALLOC_INDUSTRY ? sc->world.industry_allocation_hr
                                                             : 1.0);
    /* the maximum */
    const int32_t max_abs = nth_weekday(w, start + (int32_t)sc->regime.employer_days,
                                        (int32_t)sc->regime.max_paid_days);
    st->dmax = max_abs - start + 1;
    /* untreated exit before the gate: grading and the employer team only */
    st->pilot = 0;
    spell_exit(w, st); /* no pilot, no activity check before the gate matters */
    const int reaches = st->T >= gate;

    /* 6. pilot: is this spell's triage day inside the window, on or after
     * the pilot started for this person, and is the pilot delivered?  Its
     * draws come from the spell's own triage stream, made only when the
     * spell reaches the gate (the same numbers in every version of the
     * world, so common random numbers hold). */
    const int32_t from = pilot_start(w, i, arm), t_abs = start + triage_day;
    int pilot = reaches && sc->pilot.type != SYF_PILOT_NONE && from != INT32_MAX &&
                t_abs >= w->obs0 && t_abs >= from && t_abs < w->obs1;
    int tier = 0;
    /* trial-only mode: a spell triaged outside the window is neither piloted
     * nor anyone's index spell, so its risk score is never read: no draws */
    if (reaches && (!w->trial_only || (t_abs >= w->obs0 && t_abs < w->obs1))) {
        syf_stream ts;
        syf_stream_init(&ts, w->seed, w->rep, i, syf_purpose(SYF_P_TRIAGE, k));
        syf_triage_input tin;
        syf_triage_draw(&ts, &tin);
        const double u_fidelity = syf_stream_uniform(&ts);
        const double self = sp->prognosis + sc->pilot.score_noise_sd * syf_stream_normal(&ts);
        const double wo = sc->pilot.score_observed_weight;
        sp->score = (float)(wo > 0 ? (1.0 - wo) * self + wo * score_observed(w, i, sp, age, triage_day,
                                                                             recurrent_count)
                                   : self);
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
            tin.log_hazard_mult = log(pop->hazard_mult[i] * sc->duration.diagnosis_hr[sp->diag]);
            syf_triage_result tr;
            if (sc->pilot.type == SYF_PILOT_RISK_SCORE)
                syf_triage_score(sc, &tin, sp->score, &tr);
            else
                syf_triage_msyfo(sc, &tin, &tr);
            if (w->force_map >= 0 && !tr.excluded) { /* counterfactual versions */
                tr.mapped = w->force_map;
                tr.checkpoint = -1;
                tr.tier = tr.mapped ? SYF_TIER_FULL : SYF_TIER_STANDARD;
            }
            tier = tr.tier;
            sp->triggers = (uint16_t)tr.triggers;
            sp->q1 = (int8_t)tr.q1;
            sp->q2 = (int8_t)tr.q2;
            sp->q3 = (int8_t)tr.q3;
            if (tr.excluded)
                sp->flags |= SYF_SF_EXCLUDED;
            if (tr.responded)
                sp->flags |= SYF_SF_RESPONDED;
            if (tr.mapped) {
                st->map_day = triage_day + (int32_t)sc->pilot.mapping_delay_days;
            } else if (tr.checkpoint >= 0) {
                int32_t cd = (int32_t)sc->pilot.checkpoint_days[tr.checkpoint];
                if (cd < triage_day)
                    cd = triage_day;
                st->checkpoint_day = cd;
                st->map_day = cd + (int32_t)sc->pilot.mapping_delay_days;
            }
        }
    }
    st->pilot = pilot;

    /* 7. exit with the pilot and the status-quo regime, no services yet
     * (without the pilot that is the exit already computed at step 5) */
    if (pilot)
        spell_exit(w, st);
    spell_referrals(w, st, age, triage_day, tier, pilot && !(sp->flags & SYF_SF_EXCLUDED));
}

/* A multiplier factor that changes at spell day t. */
typedef struct {
    double t;
    int f;      /* factor index */
    double val; /* its value from t on */
} factor_ev;

enum { F_GRADE, F_ACT, F_MAP, F_EMP, F_SPILL0, F_SVC0 = F_SPILL0 + SYF_N_TEAM,
       F_N = F_SVC0 + SYF_N_TEAM };
_Static_assert(F_N <= 32, "factor set must fit in an unsigned bit mask");
#define MAX_FEV 160

/* Sort by time, then factor (insertion sort: a spell has a handful of
 * events; stable, like the order it replaces). */
static void fev_sort(factor_ev *ev, int n)
{
    for (int a = 1; a < n; a++) {
        const factor_ev x = ev[a];
        int b = a;
        while (b > 0 && (ev[b - 1].t > x.t || (ev[b - 1].t == x.t && ev[b - 1].f > x.f))) {
            ev[b] = ev[b - 1];
            b--;
        }
        ev[b] = x;
    }
}

/* m0 times the factors in index order, skipping those equal to 1 (bits of
 * `on`): the same product, bit for bit, as multiplying by all of them. */
static double fac_product(double m0, const double *fac, unsigned on)
{
    double m = m0;
    while (on) {
        m *= fac[__builtin_ctz(on)];
        on &= on - 1;
    }
    return m;
}

double spell_exit(const syf_world *w, spell_state *st)
{
    const syf_scenario *sc = w->sc;
    const syf_spell *sp = &st->sp;
    factor_ev ev[MAX_FEV];
    int nev = 0;
    /* the factors' current values; only those whose bit is set in `on`
     * differ from 1 (the others are not read) */
    double fac[F_N];
    unsigned on = 0;
    const double ghr = sc->grading.hr;
    if (sp->graded_from == 0) {
        fac[F_GRADE] = ghr;
        on = ghr != 1.0 ? 1u << F_GRADE : 0;
    } else if (sp->graded_from > 0)
        ev[nev++] = (factor_ev){sp->graded_from, F_GRADE, ghr};
    if (sp->graded_from >= 0 && sp->graded_to != INT32_MAX)
        ev[nev++] = (factor_ev){sp->graded_to, F_GRADE, 1.0};
    if (!st->pilot)
        ev[nev++] = (factor_ev){(double)sc->regime.activity_day, F_ACT, sc->regime.activity_hr};
    if (st->map_day >= 0)
        ev[nev++] = (factor_ev){st->map_day, F_MAP, st->eff_hr};
    if (st->emp_day >= 0)
        ev[nev++] = (factor_ev){st->emp_day, F_EMP, sc->employer_team.hr};
    for (int t = 0; t < SYF_N_TEAM; t++)
        if (st->spill_day[t] >= 0) {
            const double lhr = sc->team[t].spillover * log(sc->team[t].hr[sp->diag]);
            ev[nev++] = (factor_ev){st->spill_day[t], F_SPILL0 + t, exp(lhr)};
        }
    for (int j = 0; j < st->n_svc; j++) {
        const spell_service *sv = &st->svc[j];
        const syf_team_params *tp = &sc->team[sv->team];
        double lhr = log(tp->hr[sp->diag]);
        if (tp->wait_weakening_days > 0)
            lhr *= exp(-(double)(sv->start - sv->referred) / tp->wait_weakening_days);
        const double t0 = (double)(sv->start - sp->start);
        const int f = F_SVC0 + sv->team;
        ev[nev++] = (factor_ev){t0, f, exp(lhr)};
        if (tp->half_life_days > 0 && lhr != 0.0) {
            /* the log HR halves every half_life_days: steps of a quarter
             * half-life (at least a week), each at the value of its midpoint,
             * until the effect is under 1 % of its size or the spell's maximum */
            double step = tp->half_life_days / 4.0;
            if (step < 7.0)
                step = 7.0;
            for (int q = 1; nev < MAX_FEV - 1; q++) {
                const double tq = t0 + q * step;
                if (tq >= st->dmax)
                    break;
                const double decay = exp2(-(q + 0.5) * step / tp->half_life_days);
                if (decay < 0.01) {
                    ev[nev++] = (factor_ev){tq, f, 1.0};
                    break;
                }
                ev[nev++] = (factor_ev){tq, f, exp(lhr * decay)};
            }
        }
    }
    fev_sort(ev, nev);
    syf_hr_change chg[MAX_FEV];
    size_t nchg = 0;
    int a = 0;
    /* apply every change at or before time 0, then emit one change point
     * per distinct later time */
    for (; a < nev && ev[a].t <= 0.0; a++) {
        fac[ev[a].f] = ev[a].val;
        on = ev[a].val != 1.0 ? on | 1u << ev[a].f : on & ~(1u << ev[a].f);
    }
    const double m_first = fac_product(st->m0, fac, on);
    for (; a < nev; a++) {
        fac[ev[a].f] = ev[a].val;
        on = ev[a].val != 1.0 ? on | 1u << ev[a].f : on & ~(1u << ev[a].f);
        while (a + 1 < nev && ev[a + 1].t == ev[a].t) {
            a++;
            fac[ev[a].f] = ev[a].val;
            on = ev[a].val != 1.0 ? on | 1u << ev[a].f : on & ~(1u << ev[a].f);
        }
        chg[nchg].t = ev[a].t;
        chg[nchg].mult = fac_product(st->m0, fac, on);
        nchg++;
    }
    st->T = syf_hazard_table_exit_time(&w->hazard, m_first, chg, nchg, st->E, (double)st->dmax);
    return st->T;
}

int32_t spell_exit_day(const syf_world *w, const spell_state *st)
{
    /* 0 <= T < dmax: truncation is the floor */
    int32_t days = st->T >= st->dmax ? st->dmax : (int32_t)st->T + 1;
    int32_t d = st->sp.start + days;
    return d > w->end ? w->end : d;
}

void spell_finish(const syf_world *w, spell_state *st)
{
    const syf_scenario *sc = w->sc;
    syf_spell *sp = &st->sp;
    const int32_t triage_day = (int32_t)sc->pilot.triage_day;
    const double T = st->T;
    const int32_t dmax = st->dmax;
    int32_t days;
    if (T >= dmax) {
        days = dmax;
        sp->reason = SYF_END_MAX;
    } else {
        days = (int32_t)T + 1; /* 0 <= T < dmax: truncation is the floor */
        int graded_at_end = syf_spell_grade_on(sp, days - 1) < 100;
        if (days > sc->regime.employer_days && st->u_job < sc->duration.job_change_share)
            sp->reason = SYF_END_JOB_CHANGE;
        else
            sp->reason = graded_at_end ? SYF_END_GRADED_WORK : SYF_END_WORK;
    }
    if (sp->start + days > w->end) {
        days = w->end - sp->start;
        sp->reason = SYF_END_CENSORED;
    }
    sp->days = days;
    if (sp->graded_from >= days) { /* grading would have started after the end */
        sp->graded_from = sp->graded_to = -1;
        sp->grade = 100;
    }
    if (sp->reason == SYF_END_MAX) {
        const double *sh = sc->regime.after_max_shares;
        const double u = st->u_after * (sh[0] + sh[1] + sh[2]);
        sp->after_max = u < sh[0]           ? SYF_AFTER_AAP
                        : u < sh[0] + sh[1] ? SYF_AFTER_WORK
                                            : SYF_AFTER_OTHER;
    }

    /* what happened while the spell lasted */
    if (st->pilot && days > triage_day)
        sp->flags |= SYF_SF_TRIAGED;
    if (!st->pilot && days > sc->regime.activity_day)
        sp->flags |= SYF_SF_ACTIVITY;
    if (st->map_day >= 0 && days > st->map_day) {
        sp->flags |= SYF_SF_MAPPED;
        sp->map_day = st->map_day;
        if (st->checkpoint_day >= 0)
            sp->flags |= SYF_SF_CHECKPOINT;
    }
    if (days > sc->regime.dm2_day && st->u_dm2 < sc->regime.dm2_share)
        sp->flags |= SYF_SF_DM2;
    if (!(sp->flags & SYF_SF_TRIAGED)) { /* answers only exist if the message went out */
        sp->q1 = sp->q2 = sp->q3 = -1;
        sp->triggers = 0;
        sp->flags &= (uint16_t)~(SYF_SF_RESPONDED | SYF_SF_EXCLUDED);
    }
}

/* ---- onsets ------------------------------------------------------------- */

double world_onset_draw(const syf_world *w, size_t i, size_t k)
{
    syf_stream s;
    syf_stream_init(&s, w->seed, w->rep, i, syf_purpose(SYF_P_ONSET, k));
    return syf_stream_exp(&s);
}

int32_t world_next_onset(const syf_world *w, size_t i, double E, int32_t t, int after_return,
                         int arm)
{
    const syf_scenario *sc = w->sc;
    const double rate = w->pop->onset_rate[i];
    const double boost = sc->incidence.recurrence_rr;
    const double R = (double)sc->incidence.recurrence_days;
    /* the rate is piecewise constant in time since t: boosted for R days
     * after a return; times the employer team's rate ratio from its start */
    double brk[2];
    int nb = 0;
    double emp_from = INFINITY, emp_rr = 1.0;
    if (sc->employer_team.fte > 0 && sc->employer_team.incidence_rr != 1.0) {
        const int32_t eo = syf_world_employer_open(w, w->pop->employer[i], arm);
        if (eo != INT32_MAX) {
            emp_from = (double)(eo - t) > 0 ? (double)(eo - t) : 0.0;
            emp_rr = sc->employer_team.incidence_rr;
        }
    }
    if (after_return)
        brk[nb++] = R;
    if (emp_from > 0 && emp_from < INFINITY)
        brk[nb++] = emp_from;
    if (nb == 2 && brk[1] < brk[0]) {
        double x = brk[0];
        brk[0] = brk[1];
        brk[1] = x;
    }
    double a = 0.0, H = 0.0;
    for (int b = 0; b <= nb; b++) {
        const double mid = a;
        double r = rate * (after_return && mid < R ? boost : 1.0) * (mid >= emp_from ? emp_rr : 1.0);
        const double end = b < nb ? brk[b] : INFINITY;
        if (r > 0 && H + r * (end - a) >= E) {
            const double wait = a + (E - H) / r;
            /* wait > 0: truncation is the floor */
            return wait < (double)(w->end - t) ? t + (int32_t)wait : w->end;
        }
        if (end == INFINITY)
            break;
        H += r * (end - a);
        a = end;
    }
    return w->end;
}

/* ---- a person's history ------------------------------------------------- */

int world_recurrent_count(const syf_world *w, const syf_spell *sp, size_t n, int32_t start)
{
    const int32_t lookback = (int32_t)w->sc->pilot.recurrent_lookback_days;
    int recurrent = 0;
    for (size_t j = n; j-- > 0;) {
        if (sp[j].start < start - lookback)
            break;
        recurrent++;
    }
    return recurrent;
}

int world_after_spell(const syf_world *w, const syf_spell *sp, int32_t *t, int *after_return,
                      int32_t *exited)
{
    if (sp->reason == SYF_END_CENSORED)
        return 0;
    *t = sp->start + sp->days;
    *after_return = 1;
    if (sp->reason == SYF_END_MAX) {
        if (sp->after_max != SYF_AFTER_WORK) {
            if (exited)
                *exited = *t;
            return 0;
        }
        *t += (int32_t)w->sc->regime.requalify_days;
        *after_return = 0;
    }
    return 1;
}

/* ---- a person without waiting lists ------------------------------------- */

/* Start every referral at once, in referral order, if the person is still
 * sick then (no capacity limit). */
static void serve_uncongested(const syf_world *w, spell_state *st, syf_service *sv,
                              size_t *nsv, size_t svcap)
{
    /* referral order: by day, then team */
    int order[SYF_N_TEAM];
    for (int a = 0; a < st->n_ref; a++)
        order[a] = a;
    for (int a = 1; a < st->n_ref; a++)
        for (int b = a; b > 0 && st->ref[order[b]].day < st->ref[order[b - 1]].day; b--) {
            int x = order[b];
            order[b] = order[b - 1];
            order[b - 1] = x;
        }
    int32_t svc_rec[SYF_N_TEAM];
    for (int a = 0; a < st->n_ref; a++) {
        const spell_referral *rf = &st->ref[order[a]];
        if (spell_exit_day(w, st) <= rf->day || rf->day >= w->end)
            continue; /* back at work before the referral */
        st->svc[st->n_svc++] = (spell_service){rf->team, rf->day, rf->day};
        spell_exit(w, st);
        svc_rec[st->n_svc - 1] = -1;
        if (sv && *nsv < svcap) {
            svc_rec[st->n_svc - 1] = (int32_t)*nsv;
            syf_service *r = &sv[(*nsv)++];
            r->person = (uint32_t)st->person;
            r->spell = (uint16_t)st->k;
            r->team = rf->team;
            r->outcome = SYF_SVC_SERVED;
            r->referred = rf->day;
            r->left = rf->day;
        }
    }
    const int32_t back = spell_exit_day(w, st);
    for (int j = 0; j < st->n_svc; j++) {
        if (svc_rec[j] < 0)
            continue;
        syf_service *r = &sv[svc_rec[j]];
        const syf_team_params *tp = &w->sc->team[r->team];
        int32_t end = r->left + (int32_t)ceil(tp->sessions * (double)tp->interval_days);
        if (end > back)
            end = back;
        r->end = end;
        r->hours = (float)world_service_hours(w->sc, r->team, r->left, end);
    }
}

/* Is the spell a trial participant's index candidate (triage day inside
 * the window and still sick on it)? */
static int recruits(const syf_world *w, const syf_spell *sp)
{
    const int32_t tday = (int32_t)w->sc->pilot.triage_day;
    return sp->start + tday >= w->obs0 && sp->start + tday < w->obs1 && sp->days > tday;
}

/* Person i's history after the n spells buf already holds (n = 0: from
 * day 0), up to cap spells in all. */
static size_t person_history(const syf_world *w, size_t i, int arm, syf_spell *buf, size_t n,
                             size_t cap, int32_t *exited, syf_service *sv, size_t svcap,
                             size_t *n_services)
{
    const syf_scenario *sc = w->sc;
    int32_t t = 0; /* at risk from this day */
    int after_return = 0, recruited = 0;
    int32_t last_recruit = 0; /* start of the last spell that could be the index */
    const int32_t tday = (int32_t)sc->pilot.triage_day;
    const int32_t outcome_days = (int32_t)sc->trial.outcome_days;
    size_t nsv = 0;
    if (exited)
        *exited = INT32_MAX;
    if (n_services)
        *n_services = 0;
    for (size_t k = 0; k < n; k++)
        if (recruits(w, &buf[k])) {
            recruited = 1;
            last_recruit = buf[k].start;
        }
    if (n > 0 && !world_after_spell(w, &buf[n - 1], &t, &after_return, exited))
        return n;
    spell_state st;
    double E = world_onset_draw(w, i, n);
    for (size_t k = n; n < cap; k++) { /* spell number k = spells so far */
        int32_t start = world_next_onset(w, i, E, t, after_return, arm);
        if (start >= w->end)
            break;
        /* trial-only mode: a person not recruited by now can no longer be
         * (their next triage day falls after the window) -- nothing later
         * in their history can matter to the trial, unless a version of the
         * world measures an outcome from w->outcome_from (an employer team
         * can leave a participant's counterfactual without a recruiting
         * spell of its own) */
        if (w->trial_only && !recruited && start + tday >= w->obs1 &&
            (w->outcome_from == INT32_MIN || start >= w->outcome_from + outcome_days))
            break;
        /* ... and once recruited, when no later spell can be the index, a
         * spell that starts after the outcome window (trial.outcome_days)
         * of every spell that could be, and of w->outcome_from, is outside
         * every trial outcome */
        if (w->trial_only && recruited && start + tday >= w->obs1 &&
            start >= (last_recruit > w->outcome_from ? last_recruit : w->outcome_from) +
                         outcome_days)
            break;
        /* the next onset's draw first: its random block is then computed
         * alongside this spell's */
        E = world_onset_draw(w, i, k + 1);
        spell_begin(w, i, k, start, arm, world_recurrent_count(w, buf, n, start), &st);
        if (st.n_ref)
            serve_uncongested(w, &st, sv, &nsv, svcap);
        spell_finish(w, &st);
        syf_spell *sp = &buf[n++];
        *sp = st.sp;
        if (recruits(w, sp)) {
            recruited = 1;
            last_recruit = sp->start;
        }
        if (!world_after_spell(w, sp, &t, &after_return, exited))
            break;
    }
    if (n_services)
        *n_services = nsv;
    return n;
}

size_t syf_world_person_services(const syf_world *w, size_t i, int arm, syf_spell *buf,
                                 size_t cap, int32_t *exited, syf_service *sv, size_t svcap,
                                 size_t *n_services)
{
    return person_history(w, i, arm, buf, 0, cap, exited, sv, svcap, n_services);
}

size_t syf_world_person(const syf_world *w, size_t i, int arm, syf_spell *buf, size_t cap,
                        int32_t *exited)
{
    return person_history(w, i, arm, buf, 0, cap, exited, NULL, 0, NULL);
}

size_t syf_world_person_from(const syf_world *w, size_t i, int arm, syf_spell *buf, size_t n0,
                             size_t cap, int32_t *exited)
{
    if (n0 > cap)
        n0 = cap;
    return person_history(w, i, arm, buf, n0, cap, exited, NULL, 0, NULL);
}

/* First day of the pilot's window for person i in version arm: spells
 * triaged from then on (and in the window) are the pilot's -- its teams
 * take them whatever the pilot's type (spell_referrals); INT32_MAX = never. */
static int32_t pilot_window(const syf_world *w, size_t i, int arm)
{
    const int32_t from = pilot_start(w, i, arm);
    if (from == INT32_MAX)
        return INT32_MAX;
    return from > w->obs0 ? from : w->obs0;
}

/* The day pilot team t starts acting on person i in version arm, referral
 * or spillover (spill_from), INT32_MAX = never. */
static int32_t team_act(const syf_world *w, size_t i, int arm, int t)
{
    int32_t open = world_team_open(w, i, arm, t);
    if (arm == SYF_ARM_ACTUAL && w->assign && w->assign->person_treated) {
        const int32_t office_open = add_days(w->obs0, w->sc->team[t].start_day);
        if (office_open < open)
            open = office_open;
    }
    return open;
}

size_t syf_world_shared_prefix(const syf_world *wa, int arm_a, const syf_world *wb, int arm_b,
                               size_t i, const syf_spell *sp, size_t n, int *whole)
{
    const syf_scenario *sc = wa->sc;
    const int32_t tday = (int32_t)sc->pilot.triage_day, obs1 = wa->obs1;
    const int32_t gate = tday < sc->regime.activity_day ? tday : (int32_t)sc->regime.activity_day;
    /* the pilot's windows (none for a pilot of type none), its teams' */
    const int none = sc->pilot.type == SYF_PILOT_NONE;
    const int32_t ta = pilot_window(wa, i, arm_a), tb = pilot_window(wb, i, arm_b);
    const int32_t pa = none ? INT32_MAX : ta, pb = none ? INT32_MAX : tb;
    const int same_map = wa->force_map == wb->force_map;
    /* the day from which the versions may differ whatever the spell: an
     * employer team or a pilot team that starts otherwise in them (onsets
     * and spells from its start); pilot teams also refer spells triaged in
     * the pilot's window, reaching the gate or not */
    int32_t split = INT32_MAX;
    int teams = 0;
    for (int t = 0; t < SYF_N_TEAM; t++) {
        if (!(sc->team[t].fte > 0) || !sc->team[t].in_pilot)
            continue;
        teams = 1;
        const int32_t a = team_act(wa, i, arm_a, t), b = team_act(wb, i, arm_b, t);
        if (a != b && (a < b ? a : b) < split)
            split = a < b ? a : b;
    }
    if (sc->employer_team.fte > 0) {
        const uint32_t e = wa->pop->employer[i];
        const int32_t a = syf_world_employer_open(wa, e, arm_a);
        const int32_t b = syf_world_employer_open(wb, e, arm_b);
        if (a != b && (a < b ? a : b) < split)
            split = a < b ? a : b;
    }
    size_t k = 0;
    for (; k < n; k++) {
        const syf_spell *s = &sp[k];
        const int32_t t_abs = s->start + tday;
        if (s->start + s->days > split)
            break;
        /* the pilot: the same in both versions unless the spell reaches the
         * gate (the status-quo exit decides, the same in both; a censored
         * spell may have) with its triage day in one version's window only,
         * or the versions map otherwise (force_map) */
        if (s->days > gate || s->reason == SYF_END_CENSORED) {
            const int in_a = t_abs >= pa && t_abs < obs1, in_b = t_abs >= pb && t_abs < obs1;
            if (in_a != in_b || (in_a && !same_map))
                break;
        }
        if (teams && (t_abs >= ta && t_abs < obs1) != (t_abs >= tb && t_abs < obs1))
            break;
    }
    if (whole)
        *whole = k == n && split == INT32_MAX;
    return k;
}
