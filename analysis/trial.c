/* trial.c — one replication of a trial: the trial population, outcomes
 * and counterfactual estimands (syf_trial_collect), and the analysis model
 * chosen by trial.estimator (syf_trial_estimate_fit), one small function
 * per estimator on top of the library's estimators (ols, lmm, gee, logit,
 * cox, did, cs, ipw modules).  See trial.h for what each one targets. */
#include "syfosim/trial.h"
#include "syfosim/cox.h"
#include "syfosim/cs.h"
#include "syfosim/did.h"
#include "syfosim/error.h"
#include "syfosim/gee.h"
#include "syfosim/ipw.h"
#include "syfosim/lmm.h"
#include "syfosim/logit.h"
#include "syfosim/office.h"
#include "syfosim/rng.h"
#include "syfosim/sitepanel.h"
#include "syfosim/wildboot.h"

#include <gsl/gsl_cdf.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SPELL_CAP = 1024 };

void syf_trial_data_free(syf_trial_data *td)
{
    free(td->person);
    free(td->office);
    free(td->arm);
    free(td->keep);
    free(td->period);
    free(td->group);
    free(td->index_start);
    free(td->index_days);
    free(td->index_event);
    free(td->prognosis);
    free(td->score);
    free(td->y);
    free(td->y0);
    free(td->y1);
    free(td->index_days0);
    free(td->index_days1);
    free(td->index_event0);
    free(td->index_event1);
    free(td->office_log_size);
    free(td->office_baseline);
    free(td->consent);
    memset(td, 0, sizeof *td);
}

static int td_grow(syf_trial_data *td)
{
    size_t nc = td->cap ? 2 * td->cap : 1024;
#define GROW(f)                                                                                  \
    do {                                                                                         \
        void *p = realloc(td->f, nc * sizeof *td->f);                                            \
        if (!p)                                                                                  \
            return syf_error_set(SYF_ENOMEM, "out of memory collecting trial data");             \
        td->f = p;                                                                               \
    } while (0)
    GROW(person);
    GROW(office);
    GROW(arm);
    GROW(keep);
    GROW(period);
    GROW(group);
    GROW(index_start);
    GROW(index_days);
    GROW(index_event);
    GROW(prognosis);
    GROW(score);
    GROW(y);
    GROW(y0);
    GROW(y1);
    GROW(index_days0);
    GROW(index_days1);
    GROW(index_event0);
    GROW(index_event1);
    GROW(consent);
#undef GROW
    td->cap = nc;
    return SYF_OK;
}

double syf_trial_outcome(const syf_world *w, const syf_spell *sp, size_t n, int32_t exited,
                         int32_t start)
{
    const syf_scenario *sc = w->sc;
    const int32_t end = start + (int32_t)sc->trial.outcome_days;
    if (sc->trial.outcome == SYF_OUTCOME_WORK_12M) {
        const int32_t day = end - 1;
        if (exited <= day)
            return 0.0;
        for (size_t k = 0; k < n; k++)
            if (sp[k].start <= day && day < sp[k].start + sp[k].days)
                return 0.0;
        return 1.0;
    }
    const int paid = sc->trial.outcome == SYF_OUTCOME_PAID_DAYS;
    double y = 0.0;
    for (size_t k = 0; k < n; k++)
        if (sp[k].start < end && sp[k].start + sp[k].days > start)
            y += syf_spell_days_in(w, &sp[k], paid, start, end);
    return y;
}

/* With trial.population = team_eligible: could a pilot team take this
 * spell by the person's age and the spell's diagnosis group? */
static int team_eligible(const syf_world *w, size_t i, const syf_spell *sp)
{
    const syf_scenario *sc = w->sc;
    if (sc->trial.population != SYF_POPULATION_TEAM_ELIGIBLE)
        return 1;
    const int age = w->pop->age[i] + (int)((sp->start - w->obs0) / 365);
    for (int t = 0; t < SYF_N_TEAM; t++) {
        const syf_team_params *tp = &sc->team[t];
        if (tp->fte > 0 && tp->in_pilot && age >= tp->age_min && age <= tp->age_max &&
            tp->diagnoses[sp->diag] >= 0.5)
            return 1;
    }
    return 0;
}

/* Index spell: the first spell whose triage day is inside the window and
 * that is still running on it (and, with trial.population = team_eligible,
 * that a pilot team could take).  Returns its position or -1. */
static long find_index(const syf_world *w, size_t i, const syf_spell *sp, size_t n)
{
    const int32_t td = (int32_t)w->sc->pilot.triage_day;
    for (size_t k = 0; k < n; k++) {
        int32_t t = sp[k].start + td;
        if (t >= w->obs1)
            break;
        if (t >= w->obs0 && sp[k].days > td && team_eligible(w, i, &sp[k]))
            return (long)k;
    }
    return -1;
}

static double expit(double x) { return 1.0 / (1.0 + exp(-x)); }

/* Non-consent / attrition: each participant drops out with probability
 * expit(a + slope * prognosis), a solved so that the expected kept share is
 * trial.consent_share (bisection; the mean is monotone in a).  The draw
 * comes from the participant's own stream. */
static void apply_attrition(const syf_world *w, syf_trial_data *td)
{
    const syf_scenario *sc = w->sc;
    if (sc->trial.consent_share >= 1.0 || td->n == 0)
        return;
    const double target = 1.0 - sc->trial.consent_share, b = sc->trial.attrition_slope;
    double lo = -50, hi = 50;
    for (int it = 0; it < 100; it++) {
        double a = 0.5 * (lo + hi), m = 0;
        for (size_t j = 0; j < td->n; j++)
            m += expit(a + b * td->prognosis[j]);
        if (m / (double)td->n < target)
            lo = a;
        else
            hi = a;
    }
    const double a = 0.5 * (lo + hi);
    for (size_t j = 0; j < td->n; j++) {
        syf_stream cs;
        syf_stream_init(&cs, w->seed, w->rep, td->person[j], syf_purpose(SYF_P_DESIGN, 3));
        if (syf_stream_uniform(&cs) < expit(a + b * td->prognosis[j]))
            td->keep[j] = td->consent[j] = 0;
    }
}

/* What an evaluator knows about each office before the pilot (the ipw
 * propensity model): log office size (employed persons) and a baseline
 * sick-leave proxy, defined as design.c's office characteristic for
 * trial.strata_by = baseline -- log(office onset-rate effect) - log(office
 * return-hazard effect), i.e. expected sick-leave days per employee, which
 * pre-period registers would give -- read with 5 % noise from the office's
 * own stream (as a register-based baseline would be measured). */
static int office_characteristics(const syf_world *w, syf_trial_data *td)
{
    const syf_population *pop = w->pop;
    const size_t K = pop->n_office;
    free(td->office_log_size);
    free(td->office_baseline);
    td->office_log_size = malloc((K ? K : 1) * sizeof *td->office_log_size);
    td->office_baseline = malloc((K ? K : 1) * sizeof *td->office_baseline);
    if (!td->office_log_size || !td->office_baseline)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    td->n_office = K;
    for (size_t o = 0; o < K; o++) {
        size_t size = pop->office_first[o + 1] - pop->office_first[o];
        syf_stream s;
        syf_stream_init(&s, w->seed, w->rep, o, syf_purpose(SYF_P_DESIGN, 4));
        td->office_log_size[o] = log(size ? (double)size : 1.0);
        td->office_baseline[o] = log(pop->office_re_incidence[o]) -
                                 log(pop->office_re_hazard[o]) + 0.05 * syf_stream_normal(&s);
    }
    return SYF_OK;
}

/* ---- the trial population ------------------------------------------------ */

/* Append person i's row (observed world) if they are recruited.  Returns
 * the row, -1 if not recruited, -2 on failure. */
static long add_row(const syf_world *w, const syf_design *design, syf_trial_data *td, size_t i,
                    const syf_spell *buf, size_t n, int32_t exited)
{
    const syf_scenario *sc = w->sc;
    const int32_t tday = (int32_t)sc->pilot.triage_day;
    const uint32_t o = w->pop->office[i];
    long k = find_index(w, i, buf, n);
    if (k < 0)
        return -1;
    if (td->n == td->cap && td_grow(td) != SYF_OK)
        return -2;
    const int32_t s0 = buf[k].start, t_abs = s0 + tday;
    const int rd = sc->trial.design == SYF_DESIGN_RD;
    int z;
    if (rd) /* treated = mapped by the threshold rule */
        z = (buf[k].flags & SYF_SF_PILOT) && !(buf[k].flags & SYF_SF_EXCLUDED) &&
            buf[k].score >= sc->pilot.score_threshold;
    else if (design->person_treated)
        z = design->person_treated[i];
    else
        z = syf_design_office_on(design, o, t_abs);
    /* rd: only persons the rule applies to (not excluded) are analysed */
    int keep = !rd || ((buf[k].flags & SYF_SF_PILOT) && !(buf[k].flags & SYF_SF_EXCLUDED));
    if (z && design->office_start && !design->person_treated &&
        t_abs < design->office_start[o] + (int32_t)sc->trial.transition_days)
        keep = 0;
    size_t j = td->n++;
    td->person[j] = (uint32_t)i;
    td->office[j] = o;
    td->arm[j] = (uint8_t)z;
    td->keep[j] = (uint8_t)keep;
    td->consent[j] = 1;
    int32_t per = 0;
    if (design->period_days > 0) { /* the window's last days join the last period */
        per = (t_abs - w->obs0) / design->period_days;
        if (per > (int32_t)sc->trial.periods - 1)
            per = (int32_t)sc->trial.periods - 1;
    }
    td->period[j] = (int16_t)per;
    td->group[j] = design->office_group[o];
    td->index_start[j] = s0;
    td->index_days[j] = buf[k].days;
    td->index_event[j] = buf[k].reason != SYF_END_CENSORED;
    td->prognosis[j] = buf[k].prognosis;
    td->score[j] = buf[k].score;
    td->y[j] = syf_trial_outcome(w, buf, n, exited, s0);
    return (long)j;
}

/* Row j in version v (0 NEVER, 1 ALWAYS) of the world. */
static int set_version(const syf_world *w, syf_trial_data *td, size_t j, int v,
                       const syf_spell *buf, size_t n, int32_t exited, int queues)
{
    long kc = find_index(w, td->person[j], buf, n);
    if (kc < 0 || buf[kc].start != td->index_start[j]) {
        if (!queues)
            return syf_error_set(SYF_ERUNTIME,
                                 "internal error: trial population differs between versions of "
                                 "the world (person %u)",
                                 (unsigned)td->person[j]);
        /* Waiting lists (a status-quo team's queue shortens when pilot teams
         * take people off it) and employer teams (fewer, shorter spells at
         * served employers) let the pilot reach a participant's history
         * before recruitment; the participant stays defined by the observed
         * world, and the outcome is measured from the same day. */
        kc = -1;
        for (size_t k = 0; k < n; k++)
            if (buf[k].start <= td->index_start[j] &&
                td->index_start[j] < buf[k].start + buf[k].days)
                kc = (long)k;
    }
    const double y = syf_trial_outcome(w, buf, n, exited, td->index_start[j]);
    const int32_t days = kc >= 0 ? buf[kc].days - (td->index_start[j] - buf[kc].start) : 0;
    const uint8_t ev = kc < 0 || buf[kc].reason != SYF_END_CENSORED;
    if (v) {
        td->y1[j] = y;
        td->index_days1[j] = days;
        td->index_event1[j] = ev;
    } else {
        td->y0[j] = y;
        td->index_days0[j] = days;
        td->index_event0[j] = ev;
    }
    return SYF_OK;
}

static void copy_observed(syf_trial_data *td, size_t j, int v)
{
    if (v) {
        td->y1[j] = td->y[j];
        td->index_days1[j] = td->index_days[j];
        td->index_event1[j] = td->index_event[j];
    } else {
        td->y0[j] = td->y[j];
        td->index_days0[j] = td->index_days[j];
        td->index_event0[j] = td->index_event[j];
    }
}

static int person_ever(const syf_design *design, int has_design, size_t i, uint32_t o)
{
    if (!has_design)
        return 0;
    return design->person_treated ? design->person_treated[i]
                                  : design->office_start[o] != INT32_MAX;
}

/* Persons one by one: without waiting lists a person's history depends on
 * their own draws only, so only participants are re-simulated in the
 * versions of the world that differ from the observed one. */
static int collect_persons(const syf_world *w, const syf_design *design, syf_trial_data *td,
                           syf_person_fn fn, void *ctx)
{
    syf_spell *buf = malloc(2 * SPELL_CAP * sizeof *buf);
    if (!buf)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    syf_spell *cf = buf + SPELL_CAP;
    syf_service sv[64];
    const syf_scenario *sc = w->sc;
    const syf_population *pop = w->pop;
    const int has_design = sc->trial.design != SYF_DESIGN_NONE && design;
    const int rd = sc->trial.design == SYF_DESIGN_RD;
    /* an employer team changes onsets and spells from its start, so a pilot
     * office's history before recruitment differs between versions: the
     * participants are those of the observed world (see set_version) */
    const int relaxed = sc->employer_team.fte > 0;
    syf_world wv = *w; /* a version of the world (fields set per participant) */
    int st = SYF_OK;
    for (size_t i = 0; i < pop->n && st == SYF_OK; i++) {
        const uint32_t o = pop->office[i];
        const int ever = person_ever(design, has_design, i, o);
        int32_t exited;
        size_t nsv = 0;
        size_t n = syf_world_person_services(w, i, has_design ? SYF_ARM_ACTUAL : SYF_ARM_NEVER,
                                             buf, SPELL_CAP, &exited, sv, 64, &nsv);
        if (fn)
            fn(ctx, w, i, ever, buf, n, exited, sv, nsv);
        if (!has_design || !td)
            continue;
        long j = add_row(w, design, td, i, buf, n, exited);
        if (j == -2)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
        if (j < 0)
            continue;
        const int z = td->arm[j];
        for (int v = 0; v < 2 && st == SYF_OK; v++) {
            /* the observed world already is this version when the pilot never
             * ran for the person (NEVER) or ran from the window's start (ALWAYS);
             * in the rd design when the rule's decision was v */
            int same = rd ? z == v
                   : v == 0 ? !ever
                            : ever && (design->person_treated ||
                                       design->office_start[o] <= w->obs0);
            if (same) {
                copy_observed(td, (size_t)j, v);
                continue;
            }
            /* the version's world (rd: mapping by force) shares the observed
             * history until either treats the person otherwise than the
             * other: simulate it from there, if at all */
            wv.force_map = rd ? v : w->force_map;
            wv.outcome_from = w->outcome_from;
            const int arm = rd || v ? SYF_ARM_ALWAYS : SYF_ARM_NEVER;
            int whole = 0;
            const size_t n0 =
                syf_world_shared_prefix(w, SYF_ARM_ACTUAL, &wv, arm, i, buf, n, &whole);
            if (whole && n < SPELL_CAP) {
                copy_observed(td, (size_t)j, v);
                continue;
            }
            /* its outcome is measured from the observed index spell
             * (set_version): trial-only mode keeps that window */
            wv.outcome_from = td->index_start[j];
            int32_t cf_exited;
            memcpy(cf, buf, n0 * sizeof *cf);
            size_t m = syf_world_person_from(&wv, i, arm, cf, n0, SPELL_CAP, &cf_exited);
            st = set_version(w, td, (size_t)j, v, cf, m, cf_exited, relaxed);
        }
    }
    free(buf);
    return st;
}

/* Offices as wholes: with waiting lists persons of an office interact, so
 * a version of the world that differs for anyone in the office is
 * simulated for the whole office. */
typedef struct {
    const syf_design *design;
    syf_trial_data *td;
    syf_person_fn fn;
    void *ctx;
    int has_design, v, st;
    size_t first;
    long *row; /* per person of the office: its trial row, -1 none */
} office_collect;

static void office_observed(void *vctx, const syf_world *w, size_t i, const syf_spell *sp,
                            size_t n, int32_t exited, const syf_service *sv, size_t nsv)
{
    office_collect *c = vctx;
    const uint32_t o = w->pop->office[i];
    if (c->fn)
        c->fn(c->ctx, w, i, person_ever(c->design, c->has_design, i, o), sp, n, exited, sv, nsv);
    c->row[i - c->first] = -1;
    if (!c->has_design || !c->td || c->st != SYF_OK)
        return;
    long j = add_row(w, c->design, c->td, i, sp, n, exited);
    if (j == -2)
        c->st = syf_error_set(SYF_ENOMEM, "out of memory");
    c->row[i - c->first] = j;
}

static void office_version(void *vctx, const syf_world *w, size_t i, const syf_spell *sp,
                           size_t n, int32_t exited, const syf_service *sv, size_t nsv)
{
    (void)sv;
    (void)nsv;
    office_collect *c = vctx;
    long j = c->row[i - c->first];
    if (j < 0 || c->st != SYF_OK)
        return;
    c->st = set_version(w, c->td, (size_t)j, c->v, sp, n, exited, 1);
}

static int collect_offices(const syf_world *w, const syf_design *design, syf_trial_data *td,
                           syf_person_fn fn, void *ctx)
{
    const syf_scenario *sc = w->sc;
    const syf_population *pop = w->pop;
    const int has_design = sc->trial.design != SYF_DESIGN_NONE && design;
    const int rd = sc->trial.design == SYF_DESIGN_RD;
    syf_office_ws *ws = syf_office_ws_alloc();
    size_t maxn = 0;
    for (size_t o = 0; o < pop->n_office; o++)
        if (pop->office_first[o + 1] - pop->office_first[o] > maxn)
            maxn = pop->office_first[o + 1] - pop->office_first[o];
    long *row = malloc((maxn ? maxn : 1) * sizeof *row);
    if (!ws || !row) {
        syf_office_ws_free(ws);
        free(row);
        return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    office_collect c = {design, td, fn, ctx, has_design, 0, SYF_OK, 0, row};
    int st = SYF_OK;
    for (size_t o = 0; o < pop->n_office && st == SYF_OK; o++) {
        c.first = pop->office_first[o];
        const size_t n_o = pop->office_first[o + 1] - c.first;
        st = syf_office_run(w, o, has_design ? SYF_ARM_ACTUAL : SYF_ARM_NEVER, ws,
                            office_observed, &c);
        if (st == SYF_OK)
            st = c.st;
        if (st != SYF_OK || !has_design || !td)
            continue;
        /* is the observed world already the NEVER / ALWAYS version of this office? */
        int same[2] = {!rd, !rd};
        if (!rd) {
            if (design->person_treated) {
                int any = 0, all = 1;
                for (size_t j = 0; j < n_o; j++) {
                    any |= design->person_treated[c.first + j] != 0;
                    all &= design->person_treated[c.first + j] != 0;
                }
                same[0] = !any;
                same[1] = all;
            } else {
                same[0] = design->office_start[o] == INT32_MAX;
                same[1] = design->office_start[o] <= w->obs0;
            }
        }
        for (int v = 0; v < 2 && st == SYF_OK; v++) {
            if (same[v]) {
                for (size_t j = 0; j < n_o; j++)
                    if (row[j] >= 0)
                        copy_observed(td, (size_t)row[j], v);
                continue;
            }
            syf_world wv = *w;
            if (rd)
                wv.force_map = v;
            c.v = v;
            st = syf_office_run(&wv, o, rd || v ? SYF_ARM_ALWAYS : SYF_ARM_NEVER, ws,
                                office_version, &c);
            if (st == SYF_OK)
                st = c.st;
        }
    }
    syf_office_ws_free(ws);
    free(row);
    return st;
}

int syf_trial_collect(const syf_world *w, const syf_design *design, syf_trial_data *td,
                      syf_person_fn fn, void *ctx)
{
    const syf_scenario *sc = w->sc;
    const int has_design = sc->trial.design != SYF_DESIGN_NONE && design;
    int st = syf_world_has_queues(sc) ? collect_offices(w, design, td, fn, ctx)
                                      : collect_persons(w, design, td, fn, ctx);
    if (td && has_design) {
        td->seed = w->seed;
        td->rep = w->rep;
        td->pop = w->pop;
    }
    if (st == SYF_OK && td && has_design)
        st = office_characteristics(w, td);
    if (st == SYF_OK && td)
        apply_attrition(w, td);
    return st;
}

/* ---- analysis models: names and applicability ------------------------- */

static const char *const estimator_keys[] = {"default", "ols", "lmm", "gee", "logit",
                                             "cox",     "did", "cs",  "ipw", "sc"};
static const char *const outcome_keys[] = {"paid_days", "sick_days", "work_12m"};

/* The estimator actually fitted (default = ols; the rd design is always
 * analysed by the local-linear fit). */
static int estimator_kind(const syf_scenario *sc)
{
    return sc->trial.estimator == SYF_ESTIMATOR_DEFAULT ? SYF_ESTIMATOR_OLS : sc->trial.estimator;
}

/* Logit-based fits (logit, ipw) have no CR2/CR3: they use CR0 when trial.se
 * says so and otherwise Stata's G/(G-1) convention (CR1). */
static syf_logit_vcov_type logit_vcov(const syf_scenario *sc)
{
    return sc->trial.se == SYF_SE_CR0 ? SYF_LOGIT_VCOV_CR0 : SYF_LOGIT_VCOV_CR1;
}

static const syf_vcov_type ols_vcov[] = {SYF_VCOV_CR2, SYF_VCOV_CR1, SYF_VCOV_CR0,
                                         SYF_VCOV_CR3};

const char *syf_trial_estimator_name(const syf_scenario *sc)
{
    const int d = sc->trial.design;
    if (d == SYF_DESIGN_SINGLE_SITE)
        return "sc_placebo";
    if (d < SYF_DESIGN_NONE || d > SYF_DESIGN_RD)
        return "?";
    /* names by design: none, cluster_rct, individual_rct, stratified_crt,
     * matched_crt, stepped_wedge, staggered, self_selected, rd */
    static const char *const mixed[2][9] = {
        {"", "lmm", "lmm", "lmm+strata_fe", "lmm+pair_fe", "lmm+period_fe (Hussey-Hughes)",
         "lmm+period_fe", "lmm", ""},
        {"", "gee_exch", "gee_exch", "gee_exch+strata_fe", "gee_exch+pair_fe",
         "gee_exch+period_fe", "gee_exch+period_fe", "gee_exch", ""}};
    static const char *const logit[2][9] = {
        {"", "logit_AME_CR1", "logit_AME_HC1", "logit_AME_CR1+strata_fe",
         "logit_AME_CR1+pair_fe", "logit_AME_CR1+period_fe", "logit_AME_CR1+office_period_fe",
         "logit_AME_CR1", ""},
        {"", "logit_AME_CR0", "logit_AME_HC0", "logit_AME_CR0+strata_fe",
         "logit_AME_CR0+pair_fe", "logit_AME_CR0+period_fe", "logit_AME_CR0+office_period_fe",
         "logit_AME_CR0", ""}};
    static const char *const cox[9] = {
        "", "cox_efron_CR0", "cox_efron_HC0", "cox_efron_CR0+strata_fe", "cox_efron_CR0+pair_fe",
        "cox_efron_CR0+period_fe", "cox_efron_CR0+office_period_fe", "cox_efron_CR0", ""};
    static const char *const did[4] = {"did_twfe_cells_CR2", "did_twfe_cells_CR1",
                                       "did_twfe_cells_CR0", "did_twfe_cells_CR3"};
    /* [inference][se][design]: analytic, wild (p and CI), ri (p only) */
#define OLS_NAMES(k, suf)                                                                        \
    {"", "ols_CR" k suf, "ols_HC" k suf, "ols_CR" k "+strata_fe" suf,                            \
     "ols_CR" k "+pair_fe" suf, "ols_CR" k "+period_fe" suf, "ols_CR" k "+office_period_fe" suf, \
     "ols_CR" k suf, "local_linear_CR" k}
#define OLS_SE(suf) {OLS_NAMES("2", suf), OLS_NAMES("1", suf), OLS_NAMES("0", suf), OLS_NAMES("3", suf)}
    static const char *const ols[3][4][9] = {OLS_SE(""), OLS_SE("+wild"), OLS_SE("+ri_p")};
#undef OLS_SE
#undef OLS_NAMES
    const int se = sc->trial.se >= SYF_SE_CR2 && sc->trial.se <= SYF_SE_CR3 ? sc->trial.se : 0;
    switch (sc->trial.estimator) {
    case SYF_ESTIMATOR_LMM:
    case SYF_ESTIMATOR_GEE:
        return mixed[sc->trial.estimator - SYF_ESTIMATOR_LMM][d];
    case SYF_ESTIMATOR_LOGIT:
        return logit[sc->trial.se == SYF_SE_CR0][d];
    case SYF_ESTIMATOR_COX:
        return cox[d];
    case SYF_ESTIMATOR_DID:
        return did[se];
    case SYF_ESTIMATOR_CS: /* sequence s starts in period s: never-treated offices
                              exist only when a sequence starts after the window */
        return sc->trial.sequences >= sc->trial.periods ? "cs_simple_never" : "cs_simple_notyet";
    case SYF_ESTIMATOR_IPW:
        return sc->trial.se == SYF_SE_CR0 ? "ipw_logit_ps_CR0" : "ipw_logit_ps_CR1";
    default:
        return ols[sc->trial.inference >= SYF_INFERENCE_ANALYTIC &&
                           sc->trial.inference <= SYF_INFERENCE_RI
                       ? sc->trial.inference
                       : 0][se][d];
    }
}

const char *syf_trial_estimand_name(const syf_scenario *sc)
{
    if (sc->trial.design == SYF_DESIGN_SINGLE_SITE)
        return "att_pilot_office";
    if (sc->trial.design == SYF_DESIGN_RD)
        return "cutoff_effect";
    if (sc->trial.estimator == SYF_ESTIMATOR_COX)
        return "log_hr";
    return "sate";
}

int syf_trial_estimator_check(const syf_scenario *sc)
{
    const int e = sc->trial.estimator, d = sc->trial.design, o = sc->trial.outcome;
    if (e < SYF_ESTIMATOR_DEFAULT || e > SYF_ESTIMATOR_SC)
        return syf_error_set(SYF_EINPUT, "trial.estimator: unknown estimator %d", e);
    const char *en = estimator_keys[e], *dn = syf_design_name(d);
    if ((d == SYF_DESIGN_SINGLE_SITE) != (e == SYF_ESTIMATOR_SC) &&
        !(d == SYF_DESIGN_SINGLE_SITE && e == SYF_ESTIMATOR_DEFAULT))
        return syf_error_set(SYF_EINPUT,
                             "trial.estimator = %s with trial.design = %s: synthetic control "
                             "analyses exactly the single_site design (accepted: "
                             "single_site with default or sc)",
                             en, dn);
    if (d == SYF_DESIGN_SINGLE_SITE && sc->trial.inference != SYF_INFERENCE_ANALYTIC)
        return syf_error_set(SYF_EINPUT,
                             "trial.inference: the single_site design uses placebo inference "
                             "(accepted: analytic)");
    if (d == SYF_DESIGN_SINGLE_SITE)
        return SYF_OK;
    if (d == SYF_DESIGN_RD && e > SYF_ESTIMATOR_OLS)
        return syf_error_set(SYF_EINPUT,
                             "trial.estimator = %s cannot analyse trial.design = rd (accepted: "
                             "default or ols, the local-linear fit)",
                             en);
    static const char *const inference_keys[] = {"analytic", "wild", "ri"};
    const int inf = sc->trial.inference;
    if (inf < SYF_INFERENCE_ANALYTIC || inf > SYF_INFERENCE_RI)
        return syf_error_set(SYF_EINPUT, "trial.inference: unknown value %d", inf);
    if (inf != SYF_INFERENCE_ANALYTIC) {
        const char *in = inference_keys[inf];
        if (e != SYF_ESTIMATOR_DEFAULT && e != SYF_ESTIMATOR_OLS)
            return syf_error_set(SYF_EINPUT,
                                 "trial.inference = %s applies to the ols treatment coefficient "
                                 "only, not trial.estimator = %s (accepted: default, ols; or "
                                 "trial.inference = analytic)",
                                 in, en);
        if (d == SYF_DESIGN_RD || d == SYF_DESIGN_NONE)
            return syf_error_set(SYF_EINPUT,
                                 "trial.inference = %s cannot be used with trial.design = %s "
                                 "(accepted: any trial design except rd)",
                                 in, dn);
        if (inf == SYF_INFERENCE_RI &&
            (d == SYF_DESIGN_STAGGERED || d == SYF_DESIGN_SELF_SELECTED))
            return syf_error_set(SYF_EINPUT,
                                 "trial.inference = ri re-runs a random assignment, but "
                                 "trial.design = %s is not randomised (accepted: cluster_rct, "
                                 "individual_rct, stratified_crt, matched_crt, stepped_wedge; or "
                                 "trial.inference = wild)",
                                 dn);
        if (sc->trial.inference_draws < 1)
            return syf_error_set(SYF_EINPUT, "trial.inference_draws must be positive");
    }
    switch (e) {
    case SYF_ESTIMATOR_LOGIT:
        if (o != SYF_OUTCOME_WORK_12M)
            return syf_error_set(SYF_EINPUT,
                                 "trial.estimator = logit needs a binary outcome, not "
                                 "trial.outcome = %s (accepted: work_12m)",
                                 o >= 0 && o <= SYF_OUTCOME_WORK_12M ? outcome_keys[o] : "?");
        break;
    case SYF_ESTIMATOR_DID:
    case SYF_ESTIMATOR_CS:
        if (d != SYF_DESIGN_STEPPED_WEDGE && d != SYF_DESIGN_STAGGERED)
            return syf_error_set(SYF_EINPUT,
                                 "trial.estimator = %s needs an office-by-period panel with "
                                 "pre-pilot periods, not trial.design = %s (accepted: "
                                 "stepped_wedge, staggered)",
                                 en, dn);
        break;
    case SYF_ESTIMATOR_IPW:
        if (d != SYF_DESIGN_CLUSTER_RCT && d != SYF_DESIGN_STRATIFIED_CRT &&
            d != SYF_DESIGN_MATCHED_CRT && d != SYF_DESIGN_SELF_SELECTED)
            return syf_error_set(SYF_EINPUT,
                                 "trial.estimator = ipw needs treatment by office, not "
                                 "trial.design = %s (accepted: self_selected, cluster_rct, "
                                 "stratified_crt, matched_crt)",
                                 dn);
        break;
    default:
        break;
    }
    return SYF_OK;
}

/* Prefix the pending error message with the estimator's key. */
static int prefix_error(int st, const syf_scenario *sc)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s", syf_error_message());
    return syf_error_set(st, "trial.estimator = %s: %s", estimator_keys[sc->trial.estimator],
                         msg);
}

/* rd estimand: the average effect at the cutoff, E[y1 - y0 | score = c],
 * by a local-linear fit (triangular kernel, bandwidth h) of the
 * participants' individual effects, which the simulator knows exactly. */
/* Number of analysed participants and the SD of their risk score. */
static size_t rd_score_sd(const syf_trial_data *td, double *sd)
{
    double m = 0, v = 0;
    size_t n = 0;
    for (size_t j = 0; j < td->n; j++)
        if (td->keep[j]) {
            m += td->score[j];
            n++;
        }
    if (n < 2) {
        *sd = NAN;
        return n;
    }
    m /= (double)n;
    for (size_t j = 0; j < td->n; j++)
        if (td->keep[j])
            v += (td->score[j] - m) * (td->score[j] - m);
    *sd = sqrt(v / (double)(n - 1));
    return n;
}

static double rd_estimand(const syf_scenario *sc, const syf_trial_data *td)
{
    double sd;
    if (rd_score_sd(td, &sd) < 10)
        return NAN;
    const double h = 0.25 * sd, c = sc->pilot.score_threshold;
    double S0 = 0, S1 = 0, S2 = 0, T0 = 0, T1 = 0;
    for (size_t j = 0; j < td->n; j++) {
        if (!td->keep[j])
            continue;
        double x = td->score[j] - c, k = 1.0 - fabs(x) / h;
        if (k <= 0)
            continue;
        double d = td->y1[j] - td->y0[j];
        S0 += k, S1 += k * x, S2 += k * x * x, T0 += k * d, T1 += k * x * d;
    }
    double det = S0 * S2 - S1 * S1;
    return det > 0 ? (S2 * T0 - S1 * T1) / det : NAN;
}

/* rd analysis: local-linear regression on each side of the cutoff with a
 * triangular kernel, i.e. weighted least squares of y on (1, D, x, D x),
 * x = score - c, weights 1 - |x|/h within the bandwidth; CR2 standard
 * errors by office (participants share offices).  Bandwidth
 * trial.rd_bandwidth, or 0.5 SD of the score when it is 0. */
static int rd_fit(const syf_scenario *sc, const syf_trial_data *td, size_t K,
                  syf_trial_estimate *est)
{
    est->n_recruited = td->n;
    est->estimand = rd_estimand(sc, td);
    double sd;
    const size_t nk = rd_score_sd(td, &sd);
    if (nk < 10)
        return est->status = syf_error_set(SYF_ESINGULAR, "fewer than 10 rd participants");
    const double c = sc->pilot.score_threshold;
    const double h = sc->trial.rd_bandwidth > 0 ? sc->trial.rd_bandwidth : 0.5 * sd;
    double *X = malloc(4 * nk * sizeof *X), *y = malloc(nk * sizeof *y);
    size_t *cl = malloc(nk * sizeof *cl), *code = malloc(K * sizeof *code);
    int st = (X && y && cl && code) ? SYF_OK : syf_error_set(SYF_ENOMEM, "out of memory");
    size_t n = 0, n1 = 0, G = 0;
    double s0 = 0, s1 = 0;
    if (st == SYF_OK) {
        for (size_t o = 0; o < K; o++)
            code[o] = SIZE_MAX;
        for (size_t j = 0; j < td->n; j++) {
            double x = td->score[j] - c, k = 1.0 - fabs(x) / h;
            if (!td->keep[j] || k <= 0)
                continue;
            double r = sqrt(k), D = td->arm[j];
            X[4 * n] = r;
            X[4 * n + 1] = r * D;
            X[4 * n + 2] = r * x;
            X[4 * n + 3] = r * D * x;
            y[n] = r * td->y[j];
            if (code[td->office[j]] == SIZE_MAX)
                code[td->office[j]] = G++;
            cl[n++] = code[td->office[j]];
            if (D) {
                n1++;
                s1 += td->y[j];
            } else
                s0 += td->y[j];
        }
        est->n = n;
        est->n_pilot = n1;
        est->clusters = G;
        est->mean_pilot = n1 ? s1 / (double)n1 : NAN;
        est->mean_control = n > n1 ? s0 / (double)(n - n1) : NAN;
        if (n1 < 5 || n - n1 < 5)
            st = syf_error_set(SYF_ESINGULAR, "fewer than 5 rd participants on a side of the cutoff "
                                              "within the bandwidth %g",
                               h);
        else if (G < 3)
            st = syf_error_set(SYF_ESINGULAR, "fewer than 3 offices within the rd bandwidth");
    }
    syf_ols_workspace *ws = NULL;
    if (st == SYF_OK && !(ws = syf_ols_alloc(n, 4, G)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        static const syf_vcov_type types[] = {SYF_VCOV_CR2, SYF_VCOV_CR1, SYF_VCOV_CR0,
                                              SYF_VCOV_CR3};
        syf_ols_result res;
        st = syf_ols_fit(ws, n, X, y, cl, G, types[sc->trial.se], 1.0 - sc->trial.alpha, &res);
        if (st == SYF_OK) {
            est->estimate = res.estimate[1];
            est->std_error = res.std_error[1];
            est->df = res.df[1];
            est->statistic = res.statistic[1];
            est->p_value = res.p_value[1];
            est->conf_low = res.conf_low[1];
            est->conf_high = res.conf_high[1];
        }
    }
    syf_ols_free(ws);
    free(X);
    free(y);
    free(cl);
    free(code);
    est->status = st;
    return st;
}

/* ---- participant-level models: ols, lmm, gee, logit, cox --------------- */

/* The analysed participants as a regression: rows, design columns, the
 * outcome and cluster codes. */
typedef struct {
    size_t n, p, c0, G; /* rows, columns, column of the treatment, clusters */
    double *X, *y;      /* n x p row-major, n */
    size_t *cl;         /* n cluster codes < G */
    size_t *row;        /* n: the row's index in the trial data */
    int by_person;      /* each row its own cluster (cl[r] = r, G = n) */
} model_data;

enum {
    MD_INTERCEPT = 1,      /* a column of ones */
    MD_OFFICE_ABSORB = 2,  /* staggered: office effects absorbed by demeaning (ols) */
    MD_OFFICE_DUMMIES = 4, /* staggered: office effects as dummy columns (logit, cox) */
    MD_BY_PERSON = 8       /* individual RCT: heteroskedasticity-robust, not clustered */
};

enum { CODE_GROUP, CODE_PERIOD, CODE_OFFICE };

static int32_t code_of(const syf_trial_data *td, size_t j, int which)
{
    return which == CODE_GROUP ? td->group[j]
           : which == CODE_PERIOD ? (int32_t)td->period[j]
                                  : (int32_t)td->office[j];
}

/* Levels of a code among the analysed: map[c] = 0..L-1 in code order (-1
 * unused).  Columns are dummies for levels 1..L-1 (level 0 the reference). */
static size_t count_levels(const syf_trial_data *td, int which, int32_t *map, size_t cap)
{
    size_t L = 0;
    for (size_t c = 0; c < cap; c++)
        map[c] = -1;
    for (size_t j = 0; j < td->n; j++) {
        int32_t c = code_of(td, j, which);
        if (td->keep[j] && c >= 0 && (size_t)c < cap && map[c] < 0)
            map[c] = 0;
    }
    for (size_t c = 0; c < cap; c++)
        if (map[c] >= 0)
            map[c] = (int32_t)L++;
    return L;
}

static void model_free(model_data *m)
{
    free(m->X);
    free(m->y);
    free(m->cl);
    free(m->row);
    memset(m, 0, sizeof *m);
}

/* Subtract each cluster's (office's) mean from y and every column. */
static int absorb_clusters(model_data *m)
{
    const size_t n = m->n, p = m->p, G = m->G;
    double *sum = calloc(G * (p + 1), sizeof *sum);
    size_t *cnt = calloc(G, sizeof *cnt);
    if (!sum || !cnt) {
        free(sum);
        free(cnt);
        return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    for (size_t q = 0; q < n; q++) {
        cnt[m->cl[q]]++;
        for (size_t c = 0; c < p; c++)
            sum[m->cl[q] * (p + 1) + c] += m->X[q * p + c];
        sum[m->cl[q] * (p + 1) + p] += m->y[q];
    }
    for (size_t q = 0; q < n; q++) {
        double k = (double)cnt[m->cl[q]];
        for (size_t c = 0; c < p; c++)
            m->X[q * p + c] -= sum[m->cl[q] * (p + 1) + c] / k;
        m->y[q] -= sum[m->cl[q] * (p + 1) + p] / k;
    }
    free(sum);
    free(cnt);
    return SYF_OK;
}

/* The design's regression of the analysed participants: the treatment, the
 * design's fixed effects (strata or pairs; periods for stepped wedge and
 * staggered rollout; offices for staggered rollout, as `flags` say), and
 * clusters by office (by person with MD_BY_PERSON).  With office effects
 * absorbed, y and the regressors are demeaned within office and the
 * intercept dropped (Frisch-Waugh-Lovell gives the same estimate); CR2 is
 * then computed on the absorbed design, as Pustejovsky & Tipton (2018) and
 * clubSandwich do -- with the dummies in X, I - H_gg would be singular for
 * every office.  Sets est->clusters. */
static int model_build(const syf_scenario *sc, const syf_trial_data *td, const syf_design *design,
                       unsigned flags, model_data *m, syf_trial_estimate *est)
{
    memset(m, 0, sizeof *m);
    const int dsg = sc->trial.design;
    const size_t K = design->n_office;
    const int use_g = dsg == SYF_DESIGN_STRATIFIED_CRT || dsg == SYF_DESIGN_MATCHED_CRT;
    const int use_p = dsg == SYF_DESIGN_STEPPED_WEDGE || dsg == SYF_DESIGN_STAGGERED;
    const int use_o =
        dsg == SYF_DESIGN_STAGGERED && (flags & (MD_OFFICE_ABSORB | MD_OFFICE_DUMMIES));
    const int dummies_o = use_o && (flags & MD_OFFICE_DUMMIES);
    const size_t cap_g = design->n_groups + 1, cap_p = 1024, cap_o = K ? K : 1;
    int32_t *gmap = malloc(cap_g * sizeof *gmap), *pmap = malloc(cap_p * sizeof *pmap);
    int32_t *omap = malloc(cap_o * sizeof *omap);
    size_t *code = malloc(cap_o * sizeof *code);
    int st = SYF_OK;
    if (!gmap || !pmap || !omap || !code)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    size_t Lg = 0, Lp = 0, Lo = 0, n = 0, n1 = 0;
    if (st == SYF_OK) {
        if (use_g)
            Lg = count_levels(td, CODE_GROUP, gmap, cap_g);
        if (use_p)
            Lp = count_levels(td, CODE_PERIOD, pmap, cap_p);
        if (dummies_o)
            Lo = count_levels(td, CODE_OFFICE, omap, cap_o);
        for (size_t j = 0; j < td->n; j++)
            if (td->keep[j]) {
                n++;
                n1 += td->arm[j];
            }
        m->c0 = (flags & MD_INTERCEPT) ? 1 : 0;
        m->p = m->c0 + 1 + (Lg ? Lg - 1 : 0) + (Lp ? Lp - 1 : 0) + (Lo ? Lo - 1 : 0);
        m->n = n;
        m->by_person = (flags & MD_BY_PERSON) != 0;
        const size_t nn = n ? n : 1;
        m->X = calloc(nn * m->p, sizeof *m->X);
        m->y = malloc(nn * sizeof *m->y);
        m->cl = malloc(nn * sizeof *m->cl);
        m->row = malloc(nn * sizeof *m->row);
        if (!m->X || !m->y || !m->cl || !m->row)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
    }
    if (st == SYF_OK) {
        const size_t p = m->p;
        for (size_t o = 0; o < K; o++)
            code[o] = SIZE_MAX;
        size_t r = 0, G = 0;
        for (size_t j = 0; j < td->n; j++) {
            if (!td->keep[j])
                continue;
            double *x = m->X + r * p;
            if (m->c0)
                x[0] = 1.0;
            x[m->c0] = td->arm[j];
            size_t c = m->c0 + 1;
            const size_t L[3] = {Lg, Lp, Lo};
            const int32_t *map[3] = {gmap, pmap, omap};
            for (int f = 0; f < 3; f++) {
                if (!L[f])
                    continue;
                int32_t l = map[f][code_of(td, j, f)];
                if (l > 0)
                    x[c + (size_t)l - 1] = 1.0;
                c += L[f] - 1;
            }
            m->y[r] = td->y[j];
            m->row[r] = j;
            if (m->by_person)
                m->cl[r] = r;
            else {
                if (code[td->office[j]] == SIZE_MAX)
                    code[td->office[j]] = G++;
                m->cl[r] = code[td->office[j]];
            }
            r++;
        }
        m->G = m->by_person ? n : G;
        est->clusters = m->by_person ? K : G;
        if (use_o && !dummies_o)
            st = absorb_clusters(m);
    }
    if (st == SYF_OK) {
        if (n1 == 0 || n1 == n)
            st = syf_error_set(SYF_ESINGULAR, "an arm has no analysed participants");
        else if (m->G < 3)
            st = syf_error_set(SYF_ESINGULAR, "fewer than 3 offices with analysed participants");
        else if (n <= m->p)
            st = syf_error_set(SYF_ESINGULAR, "fewer participants than coefficients");
    }
    free(gmap);
    free(pmap);
    free(omap);
    free(code);
    if (st != SYF_OK)
        model_free(m);
    return st;
}

static void set_coef(syf_trial_estimate *est, double estimate, double se, double df, double stat,
                     double p, double lo, double hi)
{
    est->estimate = estimate;
    est->std_error = se;
    est->df = df;
    est->statistic = stat;
    est->p_value = p;
    est->conf_low = lo;
    est->conf_high = hi;
}

/* Wald z inference from an estimate and its standard error. */
static void set_normal(syf_trial_estimate *est, double estimate, double se, double level)
{
    const double q = gsl_cdf_ugaussian_Pinv(0.5 + 0.5 * level), z = estimate / se;
    set_coef(est, estimate, se, NAN, z, 2.0 * gsl_cdf_ugaussian_Q(fabs(z)), estimate - q * se,
             estimate + q * se);
}

/* ---- trial.inference: wild cluster bootstrap and randomization ------- */

/* wild: the restricted wild cluster bootstrap of the treatment coefficient
 * on the OLS fit's own design; replaces the p-value and the interval. */
static int wild_inference(const syf_scenario *sc, const syf_trial_data *td, const model_data *m,
                          syf_trial_estimate *est)
{
    const size_t B = (size_t)sc->trial.inference_draws;
    syf_wild_workspace *ww = syf_wild_alloc(m->n, m->p, m->G, B);
    if (!ww)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    syf_wild_options o = {.coef = m->c0,
                          .null_value = 0.0,
                          .draws = B,
                          .weights = SYF_WILD_RADEMACHER,
                          .seed = td->seed,
                          .rep = td->rep,
                          .level = 1.0 - sc->trial.alpha,
                          .want_ci = 1};
    syf_wild_result r;
    int st = syf_wild_test(ww, m->n, m->X, m->y, m->cl, m->G, &o, &r);
    if (st == SYF_OK) {
        est->p_value = r.p_value;
        est->conf_low = r.conf_low;
        est->conf_high = r.conf_high;
        est->inference_draws = r.draws;
        est->inference_stat_min = INFINITY;
        est->inference_stat_max = -INFINITY;
        for (size_t b = 0; b < r.draws; b++) {
            est->inference_stat_min = fmin(est->inference_stat_min, r.t_boot[b]);
            est->inference_stat_max = fmax(est->inference_stat_max, r.t_boot[b]);
        }
    }
    syf_wild_free(ww);
    return st;
}

/* The replication key of re-drawn assignment b (documented in trial.h). */
static uint64_t ri_rep(uint64_t rep, size_t b) { return rep * 1000003u + (uint64_t)b + 1u; }

/* ri: re-run the design's assignment B times with the outcomes fixed,
 * recompute each participant's treatment (and transition exclusion) as
 * syf_trial_collect does, refit the same OLS and compare the studentised
 * statistic with the observed t_obs.  Sets est->p_value. */
static int ri_inference(const syf_scenario *sc, const syf_trial_data *td,
                        const syf_design *design, double t_obs, syf_trial_estimate *est)
{
    if (!td->pop || !td->consent)
        return syf_error_set(SYF_EINPUT, "trial.inference = ri needs the population the trial "
                                         "data were collected from (syf_trial_collect)");
    const size_t n = td->n, B = (size_t)sc->trial.inference_draws;
    const int32_t tday = (int32_t)sc->pilot.triage_day;
    const int32_t trans = (int32_t)sc->trial.transition_days;
    const int dsg = sc->trial.design;
    unsigned flags = MD_INTERCEPT;
    if (dsg == SYF_DESIGN_INDIVIDUAL_RCT)
        flags |= MD_BY_PERSON;
    syf_trial_data t2 = *td; /* shallow: arm, keep and group replaced per draw */
    uint8_t *arm = malloc((n ? n : 1) * sizeof *arm), *keep = malloc((n ? n : 1) * sizeof *keep);
    int32_t *group = malloc((n ? n : 1) * sizeof *group);
    syf_ols_workspace *ws = NULL;
    size_t ws_p = 0;
    int st = SYF_OK;
    if (!arm || !keep || !group)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    t2.arm = arm;
    t2.keep = keep;
    t2.group = group;
    size_t used = 0, hits = 0;
    double tmin = INFINITY, tmax = -INFINITY;
    const double thr = fabs(t_obs) * (1.0 - 1e-10);
    for (size_t b = 0; b < B && st == SYF_OK; b++) {
        syf_design d2;
        memset(&d2, 0, sizeof d2);
        st = syf_design_build(sc, td->pop, td->seed, ri_rep(td->rep, b), &d2);
        if (st != SYF_OK)
            break;
        for (size_t j = 0; j < n; j++) {
            const uint32_t o = td->office[j];
            const int32_t t_abs = td->index_start[j] + tday;
            const int z = d2.person_treated ? d2.person_treated[td->person[j]]
                                            : syf_design_office_on(&d2, o, t_abs);
            int k = td->consent[j];
            if (z && d2.office_start && !d2.person_treated && t_abs < d2.office_start[o] + trans)
                k = 0;
            arm[j] = (uint8_t)z;
            keep[j] = (uint8_t)k;
            group[j] = d2.office_group[o];
        }
        syf_design_free(&d2);
        model_data m;
        syf_trial_estimate dummy;
        int bs = model_build(sc, &t2, design, flags, &m, &dummy);
        if (bs == SYF_ENOMEM) {
            st = bs;
            break;
        }
        if (bs != SYF_OK) /* an arm without participants: left out */
            continue;
        if (ws && ws_p != m.p) {
            syf_ols_free(ws);
            ws = NULL;
        }
        if (!ws) {
            ws = syf_ols_alloc(n, m.p, m.by_person ? n : design->n_office);
            ws_p = m.p;
        }
        if (!ws) {
            model_free(&m);
            st = syf_error_set(SYF_ENOMEM, "out of memory");
            break;
        }
        syf_ols_result r;
        bs = syf_ols_fit(ws, m.n, m.X, m.y, m.cl, m.G, ols_vcov[sc->trial.se],
                         1.0 - sc->trial.alpha, &r);
        if (bs == SYF_OK && isfinite(r.statistic[m.c0])) {
            used++;
            hits += fabs(r.statistic[m.c0]) >= thr;
            tmin = fmin(tmin, r.statistic[m.c0]);
            tmax = fmax(tmax, r.statistic[m.c0]);
        } else if (bs == SYF_ENOMEM)
            st = bs;
        model_free(&m);
    }
    if (st == SYF_OK) {
        est->p_value = (1.0 + (double)hits) / (1.0 + (double)used);
        est->inference_draws = used;
        est->inference_stat_min = tmin;
        est->inference_stat_max = tmax;
    }
    syf_ols_free(ws);
    free(arm);
    free(keep);
    free(group);
    return st;
}

/* ols (trial.se variance), lmm (random office intercept, REML,
 * Satterthwaite df; Hussey-Hughes with period effects) or gee
 * (exchangeable by office, robust SE): the treatment's coefficient. */
static int fit_linear(const syf_scenario *sc, const syf_trial_data *td, const syf_design *design,
                      int kind, syf_trial_estimate *est)
{
    const int dsg = sc->trial.design;
    const int mixed = kind == SYF_ESTIMATOR_LMM || kind == SYF_ESTIMATOR_GEE;
    /* office fixed effects only for OLS: the lmm / gee model the office by
     * its random intercept / working correlation instead */
    unsigned flags = dsg == SYF_DESIGN_STAGGERED && !mixed ? MD_OFFICE_ABSORB : MD_INTERCEPT;
    if (dsg == SYF_DESIGN_INDIVIDUAL_RCT && !mixed)
        flags |= MD_BY_PERSON;
    model_data m;
    int st = model_build(sc, td, design, flags, &m, est);
    if (st != SYF_OK)
        return st;
    const double level = 1.0 - sc->trial.alpha;
    const size_t c = m.c0;
    if (kind == SYF_ESTIMATOR_LMM) {
        syf_lmm_workspace *lw = syf_lmm_alloc(m.n, m.p, m.G);
        syf_lmm_result r;
        st = lw ? syf_lmm_fit(lw, m.n, m.X, m.y, m.cl, m.G, SYF_LMM_DF_SATTERTHWAITE, level, &r)
                : syf_error_set(SYF_ENOMEM, "out of memory");
        if (st == SYF_OK)
            set_coef(est, r.estimate[c], r.std_error[c], r.df[c], r.statistic[c], r.p_value[c],
                     r.conf_low[c], r.conf_high[c]);
        syf_lmm_free(lw);
    } else if (kind == SYF_ESTIMATOR_GEE) {
        syf_gee_workspace *gw = syf_gee_alloc(m.n, m.p, m.G);
        syf_gee_result r;
        st = gw ? syf_gee_fit(gw, m.n, m.X, m.y, m.cl, m.G, level, &r)
                : syf_error_set(SYF_ENOMEM, "out of memory");
        if (st == SYF_OK) /* Wald z: df NAN */
            set_coef(est, r.estimate[c], r.std_error[c], NAN, r.statistic[c], r.p_value[c],
                     r.conf_low[c], r.conf_high[c]);
        syf_gee_free(gw);
    } else {
        syf_ols_workspace *ws = syf_ols_alloc(m.n, m.p, m.G);
        syf_ols_result r;
        st = ws ? syf_ols_fit(ws, m.n, m.X, m.y, m.cl, m.G, ols_vcov[sc->trial.se], level, &r)
                : syf_error_set(SYF_ENOMEM, "out of memory");
        if (st == SYF_OK)
            set_coef(est, r.estimate[c], r.std_error[c], r.df[c], r.statistic[c], r.p_value[c],
                     r.conf_low[c], r.conf_high[c]);
        syf_ols_free(ws);
        if (st == SYF_OK && sc->trial.inference == SYF_INFERENCE_WILD)
            st = wild_inference(sc, td, &m, est);
        else if (st == SYF_OK && sc->trial.inference == SYF_INFERENCE_RI)
            st = ri_inference(sc, td, design, est->statistic, est);
    }
    model_free(&m);
    return st;
}

/* logit: y on the treatment and the design's fixed effects (office
 * effects as dummies under staggered rollout), cluster-robust by office
 * (CR1, or CR0 with trial.se = CR0).  Reported: the average marginal effect
 *   AME = (1/n) sum_i [F(x_i1'b) - F(x_i0'b)],
 * x_i1 / x_i0 = row i with the treatment set to 1 / 0, F the logistic
 * function -- a risk difference, like the SATE of a 0/1 outcome -- with the
 * delta-method variance g' V g, g = (1/n) sum_i [F'(x_i1'b) x_i1 -
 * F'(x_i0'b) x_i0], V the cluster-robust variance of b; Wald z. */
static int fit_logit(const syf_scenario *sc, const syf_trial_data *td, const syf_design *design,
                     syf_trial_estimate *est)
{
    const int dsg = sc->trial.design;
    unsigned flags = MD_INTERCEPT | (dsg == SYF_DESIGN_STAGGERED ? MD_OFFICE_DUMMIES : 0) |
                     (dsg == SYF_DESIGN_INDIVIDUAL_RCT ? MD_BY_PERSON : 0);
    model_data m;
    int st = model_build(sc, td, design, flags, &m, est);
    if (st != SYF_OK)
        return st;
    const size_t n = m.n, p = m.p, c0 = m.c0;
    syf_logit_workspace *lw = syf_logit_alloc(n, p, m.by_person ? 1 : m.G);
    double *g = calloc(p, sizeof *g);
    syf_logit_result r;
    if (!lw || !g)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    else
        st = syf_logit_fit(lw, n, m.X, m.y, m.by_person ? NULL : m.cl, m.G, logit_vcov(sc),
                           1.0 - sc->trial.alpha, &r);
    if (st == SYF_OK) {
        const double *b = r.estimate;
        double ame = 0;
        for (size_t i = 0; i < n; i++) {
            const double *x = m.X + i * p;
            double eta = 0;
            for (size_t k = 0; k < p; k++)
                eta += x[k] * b[k];
            const double e1 = eta + b[c0] * (1.0 - x[c0]), e0 = eta - b[c0] * x[c0];
            const double p1 = expit(e1), p0 = expit(e0);
            const double d1 = p1 * (1.0 - p1), d0 = p0 * (1.0 - p0);
            ame += p1 - p0;
            for (size_t k = 0; k < p; k++)
                g[k] += k == c0 ? d1 : (d1 - d0) * x[k];
        }
        ame /= (double)n;
        double var = 0;
        for (size_t k = 0; k < p; k++)
            for (size_t l = 0; l < p; l++)
                var += g[k] * r.vcov[k * p + l] * g[l];
        var /= (double)n * (double)n;
        if (!(var > 0))
            st = syf_error_set(SYF_ESINGULAR, "the average marginal effect has no variance");
        else
            set_normal(est, ame, sqrt(var), 1.0 - sc->trial.alpha);
    }
    free(g);
    syf_logit_free(lw);
    model_free(&m);
    return st;
}

/* Cox estimand: the log hazard ratio of a Cox fit (Efron) of the stacked
 * counterfactual data -- every recruited participant twice, with the index
 * spell of the NEVER version (z = 0) and of the ALWAYS version (z = 1),
 * time from the triage day.  It is marginal (population-averaged): no
 * covariates, so it is the hazard ratio that a perfectly randomised
 * comparison of the two versions would estimate, not a conditional one. */
static int cox_estimand(const syf_scenario *sc, const syf_trial_data *td, double *out)
{
    *out = NAN;
    if (!td->index_days0 || !td->index_days1 || !td->index_event0 || !td->index_event1)
        return syf_error_set(SYF_EINPUT, "the trial data have no counterfactual index spells");
    const size_t n = td->n;
    const double tday = (double)sc->pilot.triage_day;
    int same = 1;
    for (size_t j = 0; j < n && same; j++)
        same = td->index_days0[j] == td->index_days1[j] &&
               td->index_event0[j] == td->index_event1[j];
    if (same) { /* no effect on any index spell: exactly 0 (the fit would give ~1e-17) */
        *out = 0.0;
        return SYF_OK;
    }
    double *x = malloc(2 * n * sizeof *x), *t = malloc(2 * n * sizeof *t);
    double *ev = malloc(2 * n * sizeof *ev);
    syf_cox_workspace *cw = syf_cox_alloc(2 * n, 1, 1);
    int st = x && t && ev && cw ? SYF_OK : syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        for (size_t j = 0; j < n; j++) {
            x[j] = 0.0;
            t[j] = td->index_days0[j] - tday;
            ev[j] = td->index_event0[j];
            x[n + j] = 1.0;
            t[n + j] = td->index_days1[j] - tday;
            ev[n + j] = td->index_event1[j];
        }
        syf_cox_result r;
        st = syf_cox_fit(cw, 2 * n, x, t, ev, NULL, 0, SYF_COX_EFRON, SYF_COX_VCOV_MODEL, 0.95,
                         &r);
        if (st == SYF_OK)
            *out = r.estimate[0];
    }
    syf_cox_free(cw);
    free(x);
    free(t);
    free(ev);
    return st;
}

/* cox: time from the triage day to the end of the index spell (return to
 * work, full or graded, a job change or the maximum; censored at the end of
 * follow-up), i.e. index_days - triage_day.  Recruitment requires the
 * spell to reach the triage day, so every participant is at risk until it:
 * measuring time from there is the same as entering the risk sets at the
 * triage day (delayed entry) with time from the spell's start.  Log hazard
 * ratio of the treatment with the design's fixed effects (office effects as
 * dummies under staggered rollout), Efron ties, grouped-dfbeta robust
 * variance by office (coxph's cluster(), no small-sample factor); Wald z.
 * > 0 means a faster return. */
static int fit_cox(const syf_scenario *sc, const syf_trial_data *td, const syf_design *design,
                   syf_trial_estimate *est)
{
    const int dsg = sc->trial.design;
    int st = cox_estimand(sc, td, &est->estimand);
    if (st != SYF_OK)
        return st;
    unsigned flags = (dsg == SYF_DESIGN_STAGGERED ? MD_OFFICE_DUMMIES : 0) |
                     (dsg == SYF_DESIGN_INDIVIDUAL_RCT ? MD_BY_PERSON : 0);
    model_data m;
    if ((st = model_build(sc, td, design, flags, &m, est)) != SYF_OK)
        return st;
    const double tday = (double)sc->pilot.triage_day;
    double *t = malloc(m.n * sizeof *t), *ev = malloc(m.n * sizeof *ev);
    syf_cox_workspace *cw = syf_cox_alloc(m.n, m.p, m.by_person ? 1 : m.G);
    if (!t || !ev || !cw)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        for (size_t i = 0; i < m.n; i++) {
            t[i] = td->index_days[m.row[i]] - tday;
            ev[i] = td->index_event[m.row[i]];
        }
        syf_cox_result r;
        st = syf_cox_fit(cw, m.n, m.X, t, ev, m.by_person ? NULL : m.cl, m.G, SYF_COX_EFRON,
                         SYF_COX_VCOV_ROBUST, 1.0 - sc->trial.alpha, &r);
        if (st == SYF_OK)
            set_coef(est, r.estimate[m.c0], r.std_error[m.c0], NAN, r.statistic[m.c0],
                     r.p_value[m.c0], r.conf_low[m.c0], r.conf_high[m.c0]);
    }
    syf_cox_free(cw);
    free(t);
    free(ev);
    model_free(&m);
    return st;
}

/* ---- office-level models: did, cs, ipw -------------------------------- */

/* The office x period panel of mean outcomes among the analysed. */
typedef struct {
    size_t K, T;
    double *mean;   /* K x T row-major */
    size_t *adopt;  /* K: period of the office's pilot start, SYF_DID_NEVER if none in the window */
    size_t n_never; /* offices that never start within the window */
} panel_data;

static void panel_free(panel_data *pn)
{
    free(pn->mean);
    free(pn->adopt);
    memset(pn, 0, sizeof *pn);
}

static int panel_build(const syf_scenario *sc, const syf_trial_data *td, const syf_design *design,
                       panel_data *pn)
{
    memset(pn, 0, sizeof *pn);
    const size_t K = design->n_office, T = (size_t)sc->trial.periods;
    const int32_t obs0 = (int32_t)sc->run.burn_in_days;
    if (design->period_days <= 0 || !design->office_start || K < 2 || T < 2)
        return syf_error_set(SYF_EINPUT, "the design has no office-by-period panel");
    pn->K = K;
    pn->T = T;
    pn->mean = calloc(K * T, sizeof *pn->mean);
    pn->adopt = malloc(K * sizeof *pn->adopt);
    size_t *cnt = calloc(K * T, sizeof *cnt);
    int st = SYF_OK;
    if (!pn->mean || !pn->adopt || !cnt)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        for (size_t j = 0; j < td->n; j++) {
            if (!td->keep[j] || td->period[j] < 0 || (size_t)td->period[j] >= T)
                continue;
            size_t c = (size_t)td->office[j] * T + (size_t)td->period[j];
            pn->mean[c] += td->y[j];
            cnt[c]++;
        }
        for (size_t c = 0; c < K * T && st == SYF_OK; c++) {
            if (!cnt[c])
                st = syf_error_set(SYF_ESINGULAR,
                                   "office %zu has no analysed participant in period %zu "
                                   "(unbalanced panel: use fewer trial.periods or larger offices)",
                                   c / T, c % T);
            else
                pn->mean[c] /= (double)cnt[c];
        }
        for (size_t o = 0; o < K; o++) {
            const int32_t s = design->office_start[o];
            size_t a = SYF_DID_NEVER;
            if (s != INT32_MAX) {
                int32_t q = s <= obs0 ? 0 : (s - obs0) / design->period_days;
                if ((size_t)q < T)
                    a = (size_t)q;
            }
            pn->adopt[o] = a;
            pn->n_never += a == SYF_DID_NEVER;
        }
    }
    free(cnt);
    if (st != SYF_OK)
        panel_free(pn);
    return st;
}

/* did: two-way fixed effects on the office x period means (office effects
 * absorbed, period dummies), D = 1 from the office's start period on,
 * cluster-robust by office with trial.se (CR2: Satterthwaite df). */
static int fit_did(const syf_scenario *sc, const syf_trial_data *td, const syf_design *design,
                   syf_trial_estimate *est)
{
    panel_data pn;
    int st = panel_build(sc, td, design, &pn);
    if (st != SYF_OK)
        return st;
    const size_t K = pn.K, T = pn.T, N = K * T;
    size_t *unit = malloc(N * sizeof *unit), *per = malloc(N * sizeof *per);
    syf_did_workspace *dw = syf_did_alloc(N, K, T, 0, K);
    if (!unit || !per || !dw)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        for (size_t c = 0; c < N; c++) {
            unit[c] = c / T;
            per[c] = c % T;
        }
        syf_did_data dd = {.n = N, .y = pn.mean, .unit = unit, .n_units = K, .period = per,
                           .n_periods = T, .adopt = pn.adopt};
        syf_did_spec spec = {.type = SYF_DID_TWFE, .vcov = ols_vcov[sc->trial.se],
                             .level = 1.0 - sc->trial.alpha};
        syf_did_result r;
        est->clusters = K;
        st = syf_did_fit(dw, &dd, &spec, &r);
        if (st == SYF_OK)
            set_coef(est, r.estimate[0], r.std_error[0], r.df[0], r.statistic[0], r.p_value[0],
                     r.conf_low[0], r.conf_high[0]);
    }
    syf_did_free(dw);
    free(unit);
    free(per);
    panel_free(&pn);
    return st;
}

/* cs: Callaway-Sant'Anna ATT(g,t) on the office x period means, group =
 * the office's start period, compared with never-treated offices when
 * there are any, else with not-yet-treated ones; the simple aggregation
 * (post-treatment cells weighted by group size) with its influence-function
 * SE; Wald z. */
static int fit_cs(const syf_scenario *sc, const syf_trial_data *td, const syf_design *design,
                  syf_trial_estimate *est)
{
    panel_data pn;
    int st = panel_build(sc, td, design, &pn);
    if (st != SYF_OK)
        return st;
    const size_t K = pn.K, T = pn.T;
    double *per = malloc(T * sizeof *per), *grp = malloc(K * sizeof *grp);
    syf_cs_workspace *cw = syf_cs_alloc(K, T);
    if (!per || !grp || !cw)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        for (size_t t = 0; t < T; t++)
            per[t] = (double)t;
        for (size_t o = 0; o < K; o++)
            grp[o] = pn.adopt[o] == SYF_DID_NEVER ? INFINITY : (double)pn.adopt[o];
        syf_cs_result r;
        syf_cs_aggregate_result a;
        est->clusters = K;
        st = syf_cs_fit(cw, K, T, pn.mean, per, grp, pn.n_never ? SYF_CS_NEVER : SYF_CS_NOTYET,
                        &r);
        if (st == SYF_OK)
            st = syf_cs_aggregate(cw, SYF_CS_SIMPLE, &a);
        if (st == SYF_OK) {
            if (!(a.overall_se > 0))
                st = syf_error_set(SYF_ESINGULAR, "the aggregated ATT has no variance");
            else
                set_normal(est, a.overall, a.overall_se, 1.0 - sc->trial.alpha);
        }
    }
    syf_cs_free(cw);
    free(per);
    free(grp);
    panel_free(&pn);
    return st;
}

/* ipw: propensity of the participant's office being in the pilot from what
 * an evaluator knows of the office beforehand (intercept, log office size,
 * baseline sick-leave proxy: syf_trial_collect), a logit at participant
 * level; Hajek-weighted difference in means with the M-estimation sandwich
 * by office (CR1, or CR0 with trial.se = CR0), accounting for the
 * estimated score; Wald z. */
static int fit_ipw(const syf_scenario *sc, const syf_trial_data *td, const syf_design *design,
                   syf_trial_estimate *est)
{
    if (!td->office_log_size || !td->office_baseline || td->n_office < design->n_office)
        return syf_error_set(SYF_EINPUT, "the trial data have no office characteristics");
    model_data m; /* for the rows and office clusters; X is replaced */
    int st = model_build(sc, td, design, MD_INTERCEPT, &m, est);
    if (st != SYF_OK)
        return st;
    const size_t n = m.n;
    double *X = malloc(3 * n * sizeof *X), *z = malloc(n * sizeof *z);
    syf_ipw_workspace *iw = syf_ipw_alloc(n, 3, m.G);
    if (!X || !z || !iw)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        for (size_t i = 0; i < n; i++) {
            const size_t j = m.row[i], o = td->office[j];
            X[3 * i] = 1.0;
            X[3 * i + 1] = td->office_log_size[o];
            X[3 * i + 2] = td->office_baseline[o];
            z[i] = td->arm[j];
        }
        syf_ipw_result r;
        st = syf_ipw_fit(iw, n, X, z, m.y, m.cl, m.G, logit_vcov(sc), 1.0 - sc->trial.alpha, &r);
        if (st == SYF_OK)
            set_coef(est, r.estimate, r.std_error, NAN, r.statistic, r.p_value, r.conf_low,
                     r.conf_high);
    }
    syf_ipw_free(iw);
    free(X);
    free(z);
    model_free(&m);
    return st;
}

/* Sample sizes, observed means and the SATE (all recruited). */
static void summarise(const syf_trial_data *td, syf_trial_estimate *est)
{
    double sum_eff = 0, s0 = 0, s1 = 0;
    size_t n1 = 0, n = 0;
    for (size_t j = 0; j < td->n; j++) {
        sum_eff += td->y1[j] - td->y0[j];
        if (!td->keep[j])
            continue;
        n++;
        if (td->arm[j]) {
            s1 += td->y[j];
            n1++;
        } else
            s0 += td->y[j];
    }
    est->n_recruited = td->n;
    est->n = n;
    est->n_pilot = n1;
    est->estimand = td->n ? sum_eff / (double)td->n : NAN;
    est->mean_pilot = n1 ? s1 / (double)n1 : NAN;
    est->mean_control = n > n1 ? s0 / (double)(n - n1) : NAN;
}

int syf_trial_estimate_fit(const syf_scenario *sc, const syf_trial_data *td,
                           const syf_design *design, syf_trial_estimate *est)
{
    memset(est, 0, sizeof *est);
    int st = syf_trial_estimator_check(sc);
    if (st == SYF_OK && sc->trial.design == SYF_DESIGN_SINGLE_SITE)
        return syf_sitepanel_fit(sc, td, design, est, NULL);
    if (st == SYF_OK && sc->trial.design == SYF_DESIGN_RD)
        return rd_fit(sc, td, design->n_office, est);
    summarise(td, est);
    if (st == SYF_OK) {
        switch (estimator_kind(sc)) {
        case SYF_ESTIMATOR_LOGIT:
            st = fit_logit(sc, td, design, est);
            break;
        case SYF_ESTIMATOR_COX:
            st = fit_cox(sc, td, design, est);
            break;
        case SYF_ESTIMATOR_DID:
            st = fit_did(sc, td, design, est);
            break;
        case SYF_ESTIMATOR_CS:
            st = fit_cs(sc, td, design, est);
            break;
        case SYF_ESTIMATOR_IPW:
            st = fit_ipw(sc, td, design, est);
            break;
        default: /* ols, lmm, gee */
            st = fit_linear(sc, td, design, estimator_kind(sc), est);
        }
        if (st != SYF_OK && st != SYF_ENOMEM)
            st = prefix_error(st, sc);
    }
    est->status = st;
    return st;
}

int syf_trial_replicate(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                        syf_trial_estimate *est)
{
    if (sc->trial.design == SYF_DESIGN_SINGLE_SITE)
        return syf_sitepanel_replicate(sc, seed, rep, est);
    syf_population *pop = NULL;
    syf_design design;
    memset(&design, 0, sizeof design);
    syf_trial_data td;
    memset(&td, 0, sizeof td);
    int st = syf_population_build(sc, seed, rep, &pop);
    if (st == SYF_OK)
        st = syf_design_build(sc, pop, seed, rep, &design);
    if (st == SYF_OK) {
        syf_world w;
        syf_world_init(&w, sc, pop, seed, rep);
        w.assign = &design.assign;
        w.trial_only = 1; /* no callback: only participants' histories matter */
        st = syf_trial_collect(&w, &design, &td, NULL, NULL);
    }
    if (st == SYF_OK) {
        st = syf_trial_estimate_fit(sc, &td, &design, est);
    } else {
        memset(est, 0, sizeof *est);
        est->status = st;
    }
    syf_trial_data_free(&td);
    syf_design_free(&design);
    syf_population_free(pop);
    return st;
}

/* ---- several analyses of one replication ------------------------------------
 * (issue 5: `diagnose --estimators`).  The simulation below must stay the
 * one of syf_trial_replicate(); tests/unit/test_montecarlo.c checks that
 * every est[k] is bit-identical to syf_trial_replicate(scs[k], ...). */

static void multi_reason(char **reason, size_t reason_size, size_t k)
{
    if (reason && reason[k] && reason_size)
        snprintf(reason[k], reason_size, "%s", syf_error_message());
}

int syf_trial_replicate_multi(const syf_scenario *const *scs, size_t n, uint64_t seed,
                              uint64_t rep, syf_trial_estimate *est, char **reason,
                              size_t reason_size)
{
    for (size_t k = 0; k < n; k++) {
        memset(&est[k], 0, sizeof est[k]);
        if (reason && reason[k] && reason_size)
            reason[k][0] = '\0';
    }
    if (!n)
        return SYF_OK;
    const syf_scenario *sc = scs[0];
    if (sc->trial.design == SYF_DESIGN_SINGLE_SITE) { /* its own simulation per analysis */
        for (size_t k = 0; k < n; k++) {
            syf_error_clear();
            int st = syf_sitepanel_replicate(scs[k], seed, rep, &est[k]);
            if (st != SYF_OK) {
                est[k].status = st;
                multi_reason(reason, reason_size, k);
                if (st == SYF_ENOMEM)
                    return st;
            }
        }
        return SYF_OK;
    }
    syf_population *pop = NULL;
    syf_design design;
    memset(&design, 0, sizeof design);
    syf_trial_data td;
    memset(&td, 0, sizeof td);
    syf_error_clear();
    int st = syf_population_build(sc, seed, rep, &pop);
    if (st == SYF_OK)
        st = syf_design_build(sc, pop, seed, rep, &design);
    if (st == SYF_OK) {
        syf_world w;
        syf_world_init(&w, sc, pop, seed, rep);
        w.assign = &design.assign;
        w.trial_only = 1;
        st = syf_trial_collect(&w, &design, &td, NULL, NULL);
    }
    int ret = SYF_OK;
    if (st != SYF_OK) { /* the simulation failed: every analysis with it */
        for (size_t k = 0; k < n; k++) {
            est[k].status = st;
            multi_reason(reason, reason_size, k);
        }
        ret = st == SYF_ENOMEM ? st : SYF_OK;
    } else
        for (size_t k = 0; k < n && ret == SYF_OK; k++) {
            syf_error_clear();
            int fs = syf_trial_estimate_fit(scs[k], &td, &design, &est[k]);
            if (fs != SYF_OK)
                multi_reason(reason, reason_size, k);
            if (fs == SYF_ENOMEM)
                ret = fs;
        }
    syf_trial_data_free(&td);
    syf_design_free(&design);
    syf_population_free(pop);
    return ret;
}
