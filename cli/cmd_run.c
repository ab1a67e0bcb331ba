/* cmd_run.c — `syfosim run`: one replication of a scenario, written as
 * register-like CSVs (persons, spells, veileder services, team referrals,
 * summary per office and arm; with a design also the trial data set, its
 * estimate and triage figures), plots (Kaplan-Meier, weekly recovery hazard,
 * waiting lists, cost breakdown) and a per-arm summary on stdout.
 *
 * syf_trial_collect() hands every person's spells and team services to
 * on_person(), which writes the rows and adds each figure to its office and
 * arm: the window is split at the office's pilot start (pilot_split), so an
 * office that switches inside the window (stepped wedge) has a control and a
 * pilot row; spell figures follow the spell's arm as in spells.csv.  Waits,
 * waiting-list intervals and window spells are kept in compact arrays for
 * the percentiles and the plots (syf_report_queue_daily,
 * syf_report_weekly_hazard): cost grows with spells and referrals, never
 * with persons x days.  notebooks-data/README.md documents every column.
 *
 * Every file is written under a temporary name and renamed into place only
 * when the whole run succeeded, so a failed run leaves no partial output;
 * the plots are drawn afterwards (a missing gnuplot is one warning).
 * Day numbers in the files count from the first day of the observation
 * window (day 0, a Monday).
 */
#include "cli_util.h"
#include "commands.h"
#include "syfosim/error.h"
#include "syfosim/km.h"
#include "syfosim/plot.h"
#include "syfosim/report.h"
#include "syfosim/trial.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SETS 64
#define HAZARD_WEEKS 52

enum {
    F_PERSONS, F_SPELLS, F_SERVICES, F_TEAM_SERVICES, F_SUMMARY, F_TRIAL, F_ESTIMATES, F_TRIAGE,
    F_SCENARIO, N_FILES
};
static const char *file_names[N_FILES] = {
    "persons.csv", "spells.csv",    "services.csv", "team_services.csv", "summary.csv",
    "trial.csv",   "estimates.csv", "triage.csv",   "scenario.ini"};

/* Figures of one office and arm (or of all offices of an arm). */
typedef struct {
    long long persons, spells, aap;
    double person_years;                     /* persons x share of the window in the arm */
    long long sick_persons, rtw;             /* persons with a window spell; at work 365 d on */
    double sick_days, paid_days, hours;      /* hours: veileder (services.csv) */
    long long referrals, served, withdrawn, expired; /* team referrals made in the window */
    long long waits_n;                       /* served referrals made in the window */
    double waits_sum;
    double team_hours[SYF_N_TEAM];           /* services started in the window */
    double employer_hours;                   /* employer team */
    double team_paid[SYF_N_TEAM + 1];        /* paid FTE hours in the window: the four
                                                teams, then the employer team */
} office_acc;

/* Paid hours per FTE-year: 37.5 hours x 45.2 working weeks (judgement: the
 * Norwegian standard week less holidays and public holidays). */
#define HOURS_PER_FTE_YEAR 1695.0

/* One served team referral's wait, keyed by office * 2 + arm. */
typedef struct {
    uint32_t key;
    int32_t wait;
} wait_rec;

/* One team referral's time on the waiting list (days of the window). */
typedef struct {
    int32_t referred, left;
    uint32_t group; /* team * 2 + arm */
} queue_rec;

/* One spell started in the window: for the weekly hazard and the KM. */
typedef struct {
    int32_t days;
    uint8_t status; /* SYF_REPORT_* */
    uint8_t arm;    /* spell's arm (as in spells.csv) */
} spell_rec;

typedef struct {
    cli_outfile *out;
    const syf_scenario *sc;
    const syf_design *design;
    office_acc *acc; /* per office and arm: acc[2 * office + arm] */
    wait_rec *waits;
    size_t n_waits, cap_waits;
    queue_rec *queue;
    size_t n_queue, cap_queue;
    spell_rec *spells;
    size_t n_spells, cap_spells;
    /* triage accounting (pilot spells reaching the triage day) */
    long long tr_reached, tr_excluded, tr_responded, tr_mapped, tr_mapped_cp;
    long long tr_short_other, tr_short_overran; /* Q3 < 26 w, no other trigger */
    long long tr_trigger[9];
    int status;
} run_ctx;

static const char *arm_name(const syf_scenario *sc, int arm)
{
    if (sc->trial.design == SYF_DESIGN_NONE)
        return "";
    return arm ? "pilot" : "control";
}

/* Room for one more element of a growing array (*p, n used, *cap).  Returns
 * 0 when out of memory (the array is unchanged). */
static int grow(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 1;
    size_t nc = *cap ? 2 * *cap : 4096;
    void *q = realloc(*p, nc * elem);
    if (!q)
        return 0;
    *p = q;
    *cap = nc;
    return 1;
}
#define PUSH(c, arr, val)                                                                      \
    do {                                                                                       \
        void *p_ = (c)->arr;                                                                   \
        if (!grow(&p_, &(c)->cap_##arr, (c)->n_##arr, sizeof *(c)->arr)) {                     \
            (c)->status = syf_error_set(SYF_ENOMEM, "out of memory");                          \
            return;                                                                            \
        }                                                                                      \
        (c)->arr = p_;                                                                         \
        (c)->arr[(c)->n_##arr++] = (val);                                                      \
    } while (0)

static void service_row(FILE *f, size_t person, size_t k, uint32_t office, const char *arm,
                        const char *service, int32_t referral, int32_t start, double hours)
{
    fprintf(f, "%zu,%zu,%u,%s,nav_veileder,%s,%d,%d,%d,%.4g\n", person, k, office, arm, service,
            referral, start, start, hours);
}

/* First day of the window on which the pilot runs for persons of office o
 * (obs0: the whole window; obs1: never inside it); individual randomisation
 * (person >= 0): the person's arm for the whole window. */
static int32_t pilot_split(const syf_world *w, const syf_design *d, size_t o, long person)
{
    if (w->sc->trial.design == SYF_DESIGN_NONE)
        return w->obs1;
    if (d->person_treated)
        return person >= 0 && d->person_treated[person] ? w->obs0 : w->obs1;
    if (!d->office_start || d->office_start[o] == INT32_MAX || d->office_start[o] >= w->obs1)
        return w->obs1;
    return d->office_start[o] > w->obs0 ? d->office_start[o] : w->obs0;
}

/* Arm of a spell: was the pilot running for the person on its triage day? */
static int spell_arm(const run_ctx *c, size_t i, uint32_t o, const syf_spell *s)
{
    const int32_t tabs = s->start + (int32_t)c->sc->pilot.triage_day;
    return c->design->person_treated ? c->design->person_treated[i] != 0
                                     : syf_design_office_on(c->design, o, tabs);
}

/* At work on absolute day d: not exited and in no spell. */
static int at_work(const syf_spell *sp, size_t n, int32_t exited, int32_t d)
{
    if (exited <= d)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (sp[k].start <= d && d < sp[k].start + sp[k].days)
            return 0;
    return 1;
}

/* The person's team referrals: team_services.csv, summary counts, waits,
 * hours and the waiting-list intervals of the queue plot. */
static void on_services(run_ctx *c, const syf_world *w, size_t i, int32_t split,
                        const syf_service *sv, size_t nsv)
{
    const uint32_t o = w->pop->office[i];
    FILE *f = c->out[F_TEAM_SERVICES].f;
    for (size_t j = 0; j < nsv; j++) {
        const syf_service *r = &sv[j];
        const int32_t left = r->left >= 0 ? r->left : w->end; /* pending: waits to the end */
        int32_t last = left > r->referred ? left : r->referred;
        if (r->outcome == SYF_SVC_SERVED && r->end > last)
            last = r->end;
        if (last < w->obs0)
            continue; /* over before the window */
        const int arm = r->referred >= split; /* the office's arm on the referral day */
        office_acc *a = &c->acc[2 * o + arm];
        fprintf(f, "%zu,%u,%u,%s,%s,%s,%s,%d,", i, (unsigned)r->spell, o,
                arm_name(c->sc, arm), syf_team_names[r->team], syf_team_professions[r->team],
                syf_service_outcome_names[r->outcome], r->referred - w->obs0);
        if (r->left >= 0)
            fprintf(f, "%d,%d,", r->left - w->obs0, r->left - r->referred);
        else
            fprintf(f, ",,");
        if (r->outcome == SYF_SVC_SERVED)
            fprintf(f, "%d,%.6g\n", r->end - w->obs0, (double)r->hours);
        else
            fprintf(f, ",0\n");
        if (r->referred < w->obs1 && left > w->obs0)
            PUSH(c, queue,
                 ((queue_rec){r->referred - w->obs0, left - w->obs0,
                              2u * r->team + (uint32_t)arm}));
        if (r->outcome == SYF_SVC_SERVED && r->left >= w->obs0 && r->left < w->obs1)
            c->acc[2 * o + (r->left >= split)].team_hours[r->team] += r->hours;
        if (r->referred < w->obs0 || r->referred >= w->obs1)
            continue;
        a->referrals++;
        if (r->outcome == SYF_SVC_SERVED) {
            a->served++;
            a->waits_n++;
            a->waits_sum += r->left - r->referred;
            PUSH(c, waits, ((wait_rec){2u * o + (uint32_t)arm, r->left - r->referred}));
        } else if (r->outcome == SYF_SVC_WITHDRAWN || r->outcome == SYF_SVC_EXPIRED) {
            a->withdrawn++;
            a->expired += r->outcome == SYF_SVC_EXPIRED;
        }
    }
}

static void on_person(void *vctx, const syf_world *w, size_t i, int arm, const syf_spell *sp,
                      size_t n, int32_t exited, const syf_service *sv, size_t nsv)
{
    run_ctx *c = vctx;
    const syf_scenario *sc = w->sc;
    const syf_population *pop = w->pop;
    (void)arm; /* the arm is split by day below */
    if (c->status != SYF_OK)
        return;
    const uint32_t o = pop->office[i];
    /* the window splits at the pilot's start: [obs0, split) control, [split, obs1) pilot */
    const int32_t split = pilot_split(w, c->design, o, (long)i);
    office_acc *acc = &c->acc[2 * o];
    FILE *fs = c->out[F_SPELLS].f, *fv = c->out[F_SERVICES].f;
    if (split > w->obs0) {
        acc[0].persons++;
        acc[0].person_years += (double)(split - w->obs0) / 365.0;
    }
    if (split < w->obs1) {
        acc[1].persons++;
        acc[1].person_years += (double)(w->obs1 - split) / 365.0;
    }
    fprintf(c->out[F_PERSONS].f, "%zu,%c,%d,%s,%s,%u,%u,%u\n", i, pop->sex[i] ? 'F' : 'M',
            pop->age[i], syf_county_names[pop->office_county[o]],
            syf_industry_names[pop->industry[i]], pop->employer[i], pop->gp[i], o);
    int first_window = 1;
    for (size_t k = 0; k < n; k++) {
        const syf_spell *s = &sp[k];
        const int on = spell_arm(c, i, o, s);
        const char *an = arm_name(sc, on);
        for (int h = 0; h < 2; h++) {
            const int32_t lo = h ? split : w->obs0, hi = h ? w->obs1 : split;
            if (lo < hi && s->start < hi && s->start + s->days > lo) {
                acc[h].sick_days += syf_spell_days_in(w, s, 0, lo, hi);
                acc[h].paid_days += syf_spell_days_in(w, s, 1, lo, hi);
            }
        }
        /* services delivered inside the window */
        const int32_t base = s->start - w->obs0;
        if ((s->flags & SYF_SF_ACTIVITY)) {
            int32_t d = s->start + (int32_t)sc->regime.activity_day;
            if (d >= w->obs0 && d < w->obs1) {
                acc[d >= split].hours += sc->regime.activity_hours;
                service_row(fv, i, k, o, an, "activity_check", d - w->obs0, d - w->obs0,
                            sc->regime.activity_hours);
            }
        }
        if ((s->flags & SYF_SF_TRIAGED) && !(s->flags & SYF_SF_EXCLUDED)) {
            int32_t d = base + (int32_t)sc->pilot.triage_day;
            acc[d + w->obs0 >= split].hours += sc->pilot.message_hours;
            service_row(fv, i, k, o, an, "triage_message", d, d, sc->pilot.message_hours);
        }
        if (s->flags & SYF_SF_MAPPED) {
            int32_t start = base + s->map_day;
            int32_t referral = start - (int32_t)sc->pilot.mapping_delay_days;
            acc[start + w->obs0 >= split].hours += sc->pilot.mapping_hours;
            service_row(fv, i, k, o, an, "mapping", referral, start, sc->pilot.mapping_hours);
        }
        if (s->flags & SYF_SF_DM2) {
            int32_t d = s->start + (int32_t)sc->regime.dm2_day;
            if (d >= w->obs0 && d < w->obs1) {
                acc[d >= split].hours += sc->regime.dm2_hours;
                service_row(fv, i, k, o, an, "dialogue_meeting_2", d - w->obs0, d - w->obs0,
                            sc->regime.dm2_hours);
            }
        }
        if (s->flags & SYF_SF_TRIAGED) {
            c->tr_reached++;
            c->tr_excluded += (s->flags & SYF_SF_EXCLUDED) != 0;
            c->tr_responded += (s->flags & SYF_SF_RESPONDED) != 0;
            c->tr_mapped += (s->flags & SYF_SF_MAPPED) && !(s->flags & SYF_SF_CHECKPOINT);
            c->tr_mapped_cp += (s->flags & SYF_SF_CHECKPOINT) != 0;
            for (int b = 0; b < 9; b++)
                c->tr_trigger[b] += (s->triggers >> b) & 1;
            /* digest-003 L434: predicted < 26 weeks and not mapped for other reasons */
            if (s->q3 == 0 && s->triggers == 0 && s->reason != SYF_END_CENSORED) {
                c->tr_short_other++;
                c->tr_short_overran += s->days > 182;
            }
        }
        if (s->start < w->obs0 || s->start >= w->obs1)
            continue;
        office_acc *a = &acc[on]; /* spells: the spell's arm, as in spells.csv */
        if (first_window) { /* returns to work 12 months after the first window spell */
            first_window = 0;
            a->sick_persons++;
            a->rtw += at_work(sp, n, exited, s->start + 365);
        }
        a->spells++;
        if (s->reason == SYF_END_MAX && s->after_max == SYF_AFTER_AAP)
            a->aap++;
        double paid = syf_spell_days_in(w, s, 1, INT32_MIN / 2, INT32_MAX / 2);
        fprintf(fs, "%zu,%zu,%u,%s,%s,%d,", i, k, o, an, syf_diag_names[s->diag], base);
        if (s->reason == SYF_END_CENSORED)
            fprintf(fs, ",");
        else
            fprintf(fs, "%d,", base + s->days - 1);
        fprintf(fs, "%.4g,%d,%s,%d,%s,%d,%d,%d\n", paid, s->grade, syf_end_names[s->reason],
                s->days, syf_after_names[s->after_max], s->graded_from,
                (s->flags & SYF_SF_TRIAGED) != 0, (s->flags & SYF_SF_MAPPED) != 0);
        const uint8_t status = s->reason == SYF_END_CENSORED ? SYF_REPORT_CENSORED
                               : s->reason == SYF_END_MAX    ? SYF_REPORT_COMPETING
                                                             : SYF_REPORT_EVENT;
        PUSH(c, spells, ((spell_rec){s->days, status, (uint8_t)on}));
    }
    on_services(c, w, i, split, sv, nsv);
}

static int cmp_wait(const void *a, const void *b)
{
    const wait_rec *x = a, *y = b;
    if (x->key != y->key)
        return (x->key > y->key) - (x->key < y->key);
    return (x->wait > y->wait) - (x->wait < y->wait);
}

/* 90th percentile (type 7, as R's default) of sorted waits; NaN if none. */
static double p90_sorted(const wait_rec *v, size_t m)
{
    if (m == 0)
        return NAN;
    double h = 0.9 * (double)(m - 1);
    size_t lo = (size_t)floor(h);
    size_t hi = lo + 1 < m ? lo + 1 : lo;
    return v[lo].wait + (h - (double)lo) * (v[hi].wait - v[lo].wait);
}

static void acc_add(office_acc *t, const office_acc *a)
{
    t->persons += a->persons;
    t->person_years += a->person_years;
    t->spells += a->spells;
    t->aap += a->aap;
    t->sick_persons += a->sick_persons;
    t->rtw += a->rtw;
    t->sick_days += a->sick_days;
    t->paid_days += a->paid_days;
    t->hours += a->hours;
    t->referrals += a->referrals;
    t->served += a->served;
    t->withdrawn += a->withdrawn;
    t->expired += a->expired;
    t->waits_n += a->waits_n;
    t->waits_sum += a->waits_sum;
    for (int k = 0; k < SYF_N_TEAM; k++)
        t->team_hours[k] += a->team_hours[k];
    for (int k = 0; k <= SYF_N_TEAM; k++)
        t->team_paid[k] += a->team_paid[k];
    t->employer_hours += a->employer_hours;
}

/* Staff cost by profession (NOK): veileder, the four teams, employer team.
 * Veiledere are costed by the hours they spend on the follow-up; teams and
 * the employer team by their paid FTE while present (an idle place costs
 * as much as a used one). */
static double staff_cost(const syf_scenario *sc, const office_acc *a, double *parts)
{
    double p[SYF_N_TEAM + 2];
    p[0] = a->hours * sc->regime.veileder_nok_per_hour;
    for (int k = 0; k < SYF_N_TEAM; k++)
        p[1 + k] = a->team_paid[k] * sc->team[k].cost_per_hour;
    p[SYF_N_TEAM + 1] = a->team_paid[SYF_N_TEAM] * sc->employer_team.cost_per_hour;
    double s = 0;
    for (int k = 0; k < SYF_N_TEAM + 2; k++) {
        s += p[k];
        if (parts)
            parts[k] = p[k];
    }
    return s;
}

static double staff_hours(const office_acc *a)
{
    double h = a->hours + a->employer_hours;
    for (int k = 0; k < SYF_N_TEAM; k++)
        h += a->team_hours[k];
    return h;
}

static void summary_header(FILE *f)
{
    fprintf(f, "office_id,arm,persons,person_years,spells,sick_days,paid_days,aap_entries,sick_persons,"
               "rtw_12m,rtw_12m_share,referrals,served,withdrawn,expired,mean_wait_days,"
               "p90_wait_days,hours_veileder");
    for (int k = 0; k < SYF_N_TEAM; k++)
        fprintf(f, ",hours_%s", syf_team_professions[k]);
    fprintf(f, ",hours_employer_team,paid_team_hours,cost_sick_pay_nok,cost_staff_nok,cost_nok\n");
}

static void summary_row(FILE *f, const syf_scenario *sc, const char *office, const char *arm,
                        const office_acc *a, double p90)
{
    const double sick_pay = a->paid_days * sc->regime.sick_pay_nok;
    const double staff = staff_cost(sc, a, NULL);
    fprintf(f, "%s,%s,%lld,%.1f,%lld,%.1f,%.1f,%lld,%lld,%lld,", office, arm, a->persons,
            a->person_years, a->spells, a->sick_days, a->paid_days, a->aap, a->sick_persons,
            a->rtw);
    if (a->sick_persons)
        fprintf(f, "%.4f,", (double)a->rtw / (double)a->sick_persons);
    else
        fprintf(f, ",");
    fprintf(f, "%lld,%lld,%lld,%lld,", a->referrals, a->served, a->withdrawn, a->expired);
    if (a->waits_n)
        fprintf(f, "%.2f,", a->waits_sum / (double)a->waits_n);
    else
        fprintf(f, ",");
    if (!isnan(p90))
        fprintf(f, "%.1f,", p90);
    else
        fprintf(f, ",");
    fprintf(f, "%.1f", a->hours);
    for (int k = 0; k < SYF_N_TEAM; k++)
        fprintf(f, ",%.1f", a->team_hours[k]);
    double paid = 0;
    for (int k = 0; k <= SYF_N_TEAM; k++)
        paid += a->team_paid[k];
    fprintf(f, ",%.1f,%.1f,%.0f,%.0f,%.0f\n", a->employer_hours, paid, sick_pay, staff,
            sick_pay + staff);
}

/* Paid team hours: each team's FTE while it is present in the office,
 * inside the window, split at the pilot's start like the rest of the row
 * (pilot teams are present from the pilot's start plus their start_day;
 * status-quo teams from their start_day; under individual randomisation
 * every office runs the pilot, on its pilot row). */
static void team_paid_hours(const syf_world *w, const syf_design *d, office_acc *acc)
{
    const syf_scenario *sc = w->sc;
    for (size_t o = 0; o < w->pop->n_office; o++) {
        const int32_t split = d->person_treated ? w->obs0 : pilot_split(w, d, o, -1);
        for (int k = 0; k <= SYF_N_TEAM; k++) {
            const double fte = k < SYF_N_TEAM ? sc->team[k].fte : sc->employer_team.fte;
            if (!(fte > 0))
                continue;
            int32_t from;
            if (k < SYF_N_TEAM) {
                const syf_team_params *tp = &sc->team[k];
                from = tp->in_pilot ? (split < w->obs1 ? split + (int32_t)tp->start_day
                                                       : INT32_MAX)
                                    : (int32_t)tp->start_day;
            } else if (sc->employer_team.in_pilot) {
                from = split < w->obs1 ? split : INT32_MAX;
            } else {
                const int c = w->pop->office_county[o];
                from = sc->employer_team.counties[c] > 0.5
                           ? w->obs0 + (int32_t)sc->employer_team.start_days[c]
                           : INT32_MAX;
            }
            if (from == INT32_MAX)
                continue;
            for (int h = 0; h < 2; h++) {
                int32_t lo = h ? split : w->obs0, hi = h ? w->obs1 : split;
                if (from > lo)
                    lo = from;
                if (lo < hi)
                    acc[2 * o + h].team_paid[k] +=
                        fte * HOURS_PER_FTE_YEAR * (double)(hi - lo) / 365.0;
            }
        }
    }
}

/* Employer-team hours: each served employer's team hours per year for the
 * part of the window the team ran, on the employer's office and its arm. */
static void employer_hours(const syf_world *w, int warm, const syf_design *d, office_acc *acc)
{
    const syf_scenario *sc = w->sc;
    const syf_population *pop = w->pop;
    if (!(sc->employer_team.fte > 0))
        return;
    for (size_t e = 0; e < pop->n_employer; e++) {
        int32_t from = syf_world_employer_open(w, e, warm);
        if (from == INT32_MAX)
            continue;
        if (from < w->obs0)
            from = w->obs0;
        if (from >= w->obs1)
            continue;
        const uint32_t o = pop->employer_office[e];
        const int32_t split = pilot_split(w, d, o, -1);
        for (int h = 0; h < 2; h++) {
            const int32_t lo = h ? (from > split ? from : split) : from;
            const int32_t hi = h ? w->obs1 : split;
            if (lo < hi)
                acc[2 * o + h].employer_hours +=
                    sc->employer_team.hours_per_employer * (double)(hi - lo) / 365.0;
        }
    }
}

/* The figures of one arm on stdout. */
static void print_arm(const syf_scenario *sc, const char *label, size_t offices,
                      const office_acc *a, double p90, int has_teams)
{
    const double per = a->person_years > 0 ? 1000.0 / a->person_years : NAN;
    const double sick_pay = a->paid_days * sc->regime.sick_pay_nok;
    const double staff = staff_cost(sc, a, NULL);
    printf("  %s (%zu offices, %lld employed, %.0f person-years): %.0f sick-leave days per "
           "1,000 employed per year (%.0f NAV-paid)",
           label, offices, a->persons, a->person_years, a->sick_days * per, a->paid_days * per);
    if (a->sick_persons)
        printf(", %.1f %% at work 12 months after a spell's start",
               100.0 * (double)a->rtw / (double)a->sick_persons);
    printf("\n");
    if (a->referrals || has_teams) {
        printf("    teams: %lld referrals, %lld served, %lld withdrawn or expired", a->referrals,
               a->served, a->withdrawn);
        if (a->waits_n)
            printf("; wait mean %.1f days, p90 %.1f", a->waits_sum / (double)a->waits_n, p90);
        else
            printf("; no wait (none served)");
        printf("\n");
    }
    printf("    staff hours %.0f (veileder %.0f", staff_hours(a), a->hours);
    for (int k = 0; k < SYF_N_TEAM; k++)
        if (a->team_hours[k] > 0)
            printf(", %s %.0f", syf_team_professions[k], a->team_hours[k]);
    if (a->employer_hours > 0)
        printf(", employer_team %.0f", a->employer_hours);
    printf(")\n    cost NOK %.2f million (sick pay %.2f, staff %.2f); %.2f million per 1,000 "
           "employed per year\n",
           (sick_pay + staff) / 1e6, sick_pay / 1e6, staff / 1e6, (sick_pay + staff) * per / 1e6);
}

/* Draw one figure into NAME.png and NAME.svg under dir; a failure is a
 * warning (the CSVs are already in place). */
typedef int (*draw_fn)(const void *ctx, const char *path);

static void draw_both(const char *dir, const char *name, draw_fn draw, const void *ctx)
{
    char path[1100];
    static const char *ext[2] = {"png", "svg"};
    for (int e = 0; e < 2; e++) {
        snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext[e]);
        if (draw(ctx, path) != SYF_OK) {
            fprintf(stderr, "syfosim run: warning: no %s.%s: %s\n", name, ext[e],
                    syf_error_message());
            return;
        }
    }
}

typedef struct {
    const syf_km *km;
    const char *const *labels;
    const char *title;
} km_fig;

static int draw_km(const void *vctx, const char *path)
{
    const km_fig *f = vctx;
    return syf_plot_km(f->km, f->labels, f->title, path);
}

typedef struct {
    const syf_plot_series *ser;
    size_t n;
    const syf_plot_opts *o;
} lines_fig;

static int draw_lines(const void *vctx, const char *path)
{
    const lines_fig *f = vctx;
    return syf_plot_lines(f->ser, f->n, f->o, path);
}

typedef struct {
    const char *const *groups, *const *notes;
    size_t n_groups;
    const char *const *parts;
    size_t n_parts;
    const double *values;
    const syf_plot_opts *o;
} bars_fig;

static int draw_bars(const void *vctx, const char *path)
{
    const bars_fig *f = vctx;
    return syf_plot_stacked_bars(f->groups, f->notes, f->n_groups, f->parts, f->n_parts,
                                 f->values, f->o, path);
}

/* Weekly recovery hazard (weeks 1-52) of the window's spells by spell arm. */
static int plot_hazard(const run_ctx *c, const char *dir, int n_arms)
{
    const syf_scenario *sc = c->sc;
    double *days = malloc((c->n_spells ? c->n_spells : 1) * sizeof *days);
    int *status = malloc((c->n_spells ? c->n_spells : 1) * sizeof *status);
    double x[HAZARD_WEEKS], h[2][HAZARD_WEEKS];
    int st = SYF_OK;
    if (!days || !status) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto out;
    }
    static const char *labels2[] = {"control spells (pilot not running on the triage day)",
                                     "pilot spells (pilot running on the triage day)"};
    static const char *labels1[] = {"all spells started in the window"};
    syf_plot_series ser[2];
    size_t ns = 0;
    for (int a = 0; a < n_arms; a++) {
        size_t m = 0;
        for (size_t j = 0; j < c->n_spells; j++)
            if (n_arms == 1 || c->spells[j].arm == a) {
                days[m] = c->spells[j].days;
                status[m++] = c->spells[j].status;
            }
        if (m == 0)
            continue;
        if ((st = syf_report_weekly_hazard(m, days, status, HAZARD_WEEKS, NULL, NULL, h[a])) !=
            SYF_OK)
            goto out;
        ser[ns++] = (syf_plot_series){.x = x, .y = h[a], .n = HAZARD_WEEKS,
                                      .label = n_arms == 2 ? labels2[a] : labels1[0],
                                      .style = SYF_PLOT_LINESPOINTS, .color = a + 1,
                                      .point_type = 7, .line_width = 1.5};
    }
    for (int k = 0; k < HAZARD_WEEKS; k++)
        x[k] = k + 1;
    if (ns == 0)
        goto out; /* no spells: nothing to draw */
    char title[300];
    snprintf(title, sizeof title, "%s: weekly recovery hazard (spells started in the window)",
             sc->name);
    syf_plot_opts o;
    syf_plot_opts_init(&o);
    o.title = title;
    o.xlabel = "Week of the spell";
    o.ylabel = "Returns to work in the week / still sick at its start";
    o.xmin = 0.5;
    o.xmax = HAZARD_WEEKS + 0.5;
    o.ymin = 0;
    lines_fig f = {ser, ns, &o};
    draw_both(dir, "hazard", draw_lines, &f);
out:
    free(days);
    free(status);
    return st;
}

/* Persons waiting on each day of the window, summed over the offices of
 * each arm, one line per team and arm. */
static int plot_queue(const run_ctx *c, const char *dir, int n_arms, int32_t n_days)
{
    const syf_scenario *sc = c->sc;
    const size_t nq = c->n_queue, G = 2 * SYF_N_TEAM, D = (size_t)n_days;
    double *ref = malloc((nq ? nq : 1) * sizeof *ref), *left = malloc((nq ? nq : 1) * sizeof *left);
    size_t *grp = malloc((nq ? nq : 1) * sizeof *grp);
    double *q = malloc(G * D * sizeof *q), *x = malloc(D * sizeof *x);
    int st = SYF_OK;
    if (!ref || !left || !grp || !q || !x) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t j = 0; j < nq; j++) {
        ref[j] = c->queue[j].referred;
        left[j] = c->queue[j].left;
        grp[j] = c->queue[j].group;
    }
    if ((st = syf_report_queue_daily(nq, ref, left, grp, G, D, q)) != SYF_OK)
        goto out;
    for (size_t d = 0; d < D; d++)
        x[d] = (double)d;
    syf_plot_series ser[2 * SYF_N_TEAM];
    char lab[2 * SYF_N_TEAM][96];
    size_t ns = 0;
    for (int t = 0; t < SYF_N_TEAM; t++) {
        if (!(sc->team[t].fte > 0))
            continue;
        for (int a = 0; a < n_arms; a++) {
            snprintf(lab[ns], sizeof lab[ns], "%s%s%s", syf_team_professions[t],
                     n_arms == 2 ? ", " : "", n_arms == 2 ? arm_name(sc, a) : "");
            ser[ns] = (syf_plot_series){.x = x, .y = q + (size_t)(2 * t + a) * D, .n = D,
                                        .label = lab[ns], .style = SYF_PLOT_STEPS,
                                        .color = (int)ns + 1};
            ns++;
        }
    }
    char title[300];
    snprintf(title, sizeof title, "%s: persons on the waiting lists (all offices of an arm)",
             sc->name);
    syf_plot_opts o;
    syf_plot_opts_init(&o);
    o.title = title;
    o.xlabel = "Day of the observation window";
    o.ylabel = "Persons waiting";
    o.xmin = 0;
    o.xmax = (double)D;
    o.ymin = 0;
    o.key = "top left";
    double qmax = 0;
    for (size_t k = 0; k < G * D; k++)
        qmax = q[k] > qmax ? q[k] : qmax;
    if (qmax <= 0)
        o.ymax = 1; /* nobody ever waited: an empty y range otherwise */
    lines_fig f = {ser, ns, &o};
    if (ns)
        draw_both(dir, "queue", draw_lines, &f);
out:
    free(ref);
    free(left);
    free(grp);
    free(q);
    free(x);
    return st;
}

/* Cost per 1,000 employed by arm: sick pay and staff cost by profession. */
static void plot_cost(const syf_scenario *sc, const char *dir, int n_arms,
                      const office_acc *tot)
{
    enum { NP = SYF_N_TEAM + 3 };
    char names[NP][64];
    double all[NP][2] = {{0}}, vals[NP * 2];
    const char *parts[NP];
    for (int a = 0; a < n_arms; a++) {
        double staff[SYF_N_TEAM + 2];
        staff_cost(sc, &tot[a], staff);
        const double per = tot[a].person_years > 0 ? 1000.0 / tot[a].person_years / 1e6 : 0.0;
        all[0][a] = tot[a].paid_days * sc->regime.sick_pay_nok * per;
        for (int k = 0; k < SYF_N_TEAM + 2; k++)
            all[1 + k][a] = staff[k] * per;
    }
    snprintf(names[0], sizeof names[0], "sick pay");
    snprintf(names[1], sizeof names[1], "staff: veileder");
    for (int k = 0; k < SYF_N_TEAM; k++)
        snprintf(names[2 + k], sizeof names[2 + k], "staff: %s", syf_team_professions[k]);
    snprintf(names[NP - 1], sizeof names[NP - 1], "staff: employer_team");
    size_t np = 0;
    for (int p = 0; p < NP; p++) {
        if (p > 0 && all[p][0] <= 0 && all[p][n_arms - 1] <= 0)
            continue; /* a profession without cost in any arm */
        parts[np] = names[p];
        for (int a = 0; a < n_arms; a++)
            vals[np * (size_t)n_arms + (size_t)a] = all[p][a];
        np++;
    }
    static const char *groups2[] = {"control", "pilot"};
    static const char *groups1[] = {"all offices"};
    char title[300];
    snprintf(title, sizeof title, "%s: cost per 1,000 employed per year (observation window)",
             sc->name);
    syf_plot_opts o;
    syf_plot_opts_init(&o);
    o.title = title;
    o.ylabel = "million NOK per 1,000 person-years employed";
    o.key = "outside right top";
    o.width = 1000;
    /* the staff cost is small beside sick pay: say it above each bar */
    char note[2][96];
    const char *notes[2];
    for (int a = 0; a < n_arms; a++) {
        double staff = 0;
        for (int p = 1; p < NP; p++)
            staff += all[p][a];
        snprintf(note[a], sizeof note[a], "%.3g (staff %.2g)", all[0][a] + staff, staff);
        notes[a] = note[a];
    }
    bars_fig f = {n_arms == 2 ? groups2 : groups1, notes, (size_t)n_arms, parts, np, vals, &o};
    draw_both(dir, "cost", draw_bars, &f);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: syfosim run SCENARIO [--seed N] [--out DIR] [--set SECTION.KEY=VALUE ...]\n\n"
            "Simulate one replication (replication 0) of the scenario and write to DIR\n"
            "(default out/NAME): persons.csv, spells.csv, services.csv (veileder services),\n"
            "team_services.csv (one row per team referral), summary.csv (per office and arm:\n"
            "sick-leave and paid days, AAP entries, returns to work at 12 months, referrals,\n"
            "waits, staff hours by profession, cost), scenario.ini (resolved); with a trial\n"
            "design also trial.csv (one row per participant), estimates.csv and triage.csv.\n"
            "Plots (gnuplot, PNG and SVG): km (Kaplan-Meier by arm), hazard (weekly recovery\n"
            "hazard by arm), cost (cost per 1,000 employed by arm) and, with teams, queue\n"
            "(persons waiting per team and arm); without gnuplot the plots are skipped with\n"
            "a warning. Each CSV starts with a provenance line\n"
            "'# syfosim VERSION git=... scenario_hash=... seed=...'. Files are written\n"
            "to temporary names and renamed only when the whole run succeeded.\n");
}

int syf_cmd_run(int argc, char **argv)
{
    const char *path = NULL, *outdir = NULL;
    char *sets[MAX_SETS];
    int nsets = 0;
    long seed = -1;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--seed") && k + 1 < argc) {
            if (!cli_parse_long("run", a, argv[++k], 0, 2147483647L, &seed))
                return 2;
        } else if (!strcmp(a, "--out") && k + 1 < argc) {
            outdir = argv[++k];
        } else if (!strcmp(a, "--set") && k + 1 < argc && nsets < MAX_SETS) {
            sets[nsets++] = argv[++k];
        } else if (!path && a[0] != '-') {
            path = a;
        } else {
            fprintf(stderr, "syfosim run: unexpected argument '%s' (see syfosim run --help)\n", a);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "syfosim run: expected a scenario file (see syfosim run --help)\n");
        return 2;
    }
    syf_scenario *sc = malloc(sizeof *sc);
    if (!sc)
        return 1;
    int st = cli_load_scenario(path, sets, nsets, sc);
    if (st != SYF_OK) {
        free(sc);
        return cli_fail("run", st);
    }
    const uint64_t useed = seed >= 0 ? (uint64_t)seed : (uint64_t)sc->run.seed;
    char dirbuf[1024];
    if (!outdir) {
        snprintf(dirbuf, sizeof dirbuf, "out/%s", sc->name);
        outdir = dirbuf;
    }

    syf_population *pop = NULL;
    uint8_t *arms = NULL;
    syf_design dsg;
    memset(&dsg, 0, sizeof dsg);
    syf_trial_data td;
    memset(&td, 0, sizeof td);
    run_ctx c;
    memset(&c, 0, sizeof c);
    cli_outfile out[N_FILES];
    int opened = 0;
    syf_trial_estimate est;
    memset(&est, 0, sizeof est);
    syf_km *km = NULL;
    const int design = sc->trial.design != SYF_DESIGN_NONE;
    const int n_arms = design ? 2 : 1;
    const int has_teams = syf_world_has_queues(sc);
    office_acc tot[2];
    memset(tot, 0, sizeof tot);
    double tot_p90[2] = {NAN, NAN};
    size_t arm_offices[2] = {0, 0};
    syf_world w;

    if ((st = cli_mkdirs(outdir)) != SYF_OK)
        goto done;
    if ((st = syf_population_build(sc, useed, 0, &pop)) != SYF_OK)
        goto done;
    arms = malloc(pop->n_office);
    c.acc = calloc(2 * pop->n_office, sizeof *c.acc);
    if (!arms || !c.acc) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto done;
    }
    if ((st = syf_design_build(sc, pop, useed, 0, &dsg)) != SYF_OK)
        goto done;
    for (size_t o = 0; o < pop->n_office; o++)
        arms[o] = design && !dsg.person_treated && dsg.office_start[o] != INT32_MAX;
    c.design = &dsg;
    for (int f = 0; f < N_FILES; f++, opened++) {
        if ((f == F_TRIAL || f == F_ESTIMATES || f == F_TRIAGE) && !design) {
            out[f].f = NULL;
            continue;
        }
        if ((st = cli_out_open(&out[f], outdir, file_names[f])) != SYF_OK)
            goto done;
        if (f != F_SCENARIO)
            cli_provenance(out[f].f, sc, useed, file_names[f]);
    }
    syf_scenario_write(sc, out[F_SCENARIO].f, 0);
    fprintf(out[F_PERSONS].f, "person_id,sex,age,county,industry,employer_id,gp_id,office_id\n");
    fprintf(out[F_SPELLS].f, "person_id,spell_id,office_id,arm,diagnosis,start_day,end_day,"
                             "paid_days,grade,end_reason,days,after_max,graded_from_day,"
                             "triaged,mapped\n");
    fprintf(out[F_SERVICES].f, "person_id,spell_id,office_id,arm,team,service,referral_day,"
                               "start_day,end_day,hours\n");
    fprintf(out[F_TEAM_SERVICES].f, "person_id,spell_id,office_id,arm,team,profession,outcome,"
                                    "referral_day,left_day,wait_days,end_day,hours\n");
    c.out = out;
    c.sc = sc;
    syf_world_init(&w, sc, pop, useed, 0);
    w.assign = &dsg.assign;
    st = syf_trial_collect(&w, &dsg, design ? &td : NULL, on_person, &c);
    if (st == SYF_OK)
        st = c.status;
    if (st != SYF_OK)
        goto done;
    employer_hours(&w, design ? SYF_ARM_ACTUAL : SYF_ARM_NEVER, &dsg, c.acc);
    team_paid_hours(&w, &dsg, c.acc);

    /* summary per office and arm, then per arm */
    {
        FILE *f = out[F_SUMMARY].f;
        summary_header(f);
        if (c.n_waits)
            qsort(c.waits, c.n_waits, sizeof *c.waits, cmp_wait);
        size_t wj = 0;
        for (size_t o = 0; o < pop->n_office; o++) {
            char id[32];
            snprintf(id, sizeof id, "%zu", o);
            const int any = c.acc[2 * o].persons > 0 || c.acc[2 * o + 1].persons > 0;
            for (int a = 0; a < 2; a++) {
                const uint32_t key = 2u * (uint32_t)o + (uint32_t)a;
                size_t w0 = wj;
                while (wj < c.n_waits && c.waits[wj].key == key)
                    wj++;
                const office_acc *ac = &c.acc[key];
                if (ac->persons == 0 && (any || a != arms[o]))
                    continue;
                summary_row(f, sc, id, arm_name(sc, a), ac, p90_sorted(c.waits + w0, wj - w0));
                acc_add(&tot[a], ac);
                arm_offices[a]++;
            }
        }
        /* per arm: the waits of the arm, in order */
        wait_rec *v = malloc((c.n_waits ? c.n_waits : 1) * sizeof *v);
        if (!v) {
            st = syf_error_set(SYF_ENOMEM, "out of memory");
            goto done;
        }
        for (int a = 0; a < n_arms; a++) {
            size_t m = 0;
            for (size_t j = 0; j < c.n_waits; j++)
                if ((int)(c.waits[j].key & 1u) == a)
                    v[m++] = (wait_rec){0, c.waits[j].wait};
            qsort(v, m, sizeof *v, cmp_wait);
            tot_p90[a] = p90_sorted(v, m);
            summary_row(f, sc, "all", arm_name(sc, a), &tot[a], tot_p90[a]);
        }
        free(v);
    }

    /* trial data, estimate, KM by arm */
    if (design) {
        FILE *f = out[F_TRIAL].f;
        fprintf(f, "person_id,office_id,arm,treated,period,design_group,analysed,index_start_day,"
                   "index_days,index_ended,outcome,outcome_control,outcome_pilot\n");
        for (size_t j = 0; j < td.n; j++)
            fprintf(f, "%u,%u,%s,%d,%d,%d,%d,%d,%d,%d,%.6g,%.6g,%.6g\n", td.person[j],
                    td.office[j], arm_name(sc, td.arm[j]), td.arm[j], td.period[j], td.group[j],
                    td.keep[j], td.index_start[j] - (int32_t)sc->run.burn_in_days,
                    td.index_days[j], td.index_event[j], td.y[j], td.y0[j], td.y1[j]);
        int fit = syf_trial_estimate_fit(sc, &td, &dsg, &est);
        f = out[F_ESTIMATES].f;
        fprintf(f, "design,estimator,outcome,term,estimate,std_error,statistic,df,p_value,"
                   "conf_low,conf_high,estimand_sate,n_recruited,n,clusters,n_pilot,"
                   "mean_control,mean_pilot,status\n");
        static const char *outcomes[] = {"paid_days", "sick_days", "work_12m"};
        fprintf(f, "%s,%s,%s,treated,", syf_design_name(sc->trial.design),
                syf_trial_estimator_name(sc), outcomes[sc->trial.outcome]);
        if (fit == SYF_OK)
            fprintf(f, "%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,", est.estimate, est.std_error,
                    est.statistic, est.df, est.p_value, est.conf_low, est.conf_high);
        else
            fprintf(f, ",,,,,,,");
        fprintf(f, "%.10g,%zu,%zu,%zu,%zu,%.10g,%.10g,%s\n", est.estimand, est.n_recruited,
                est.n, est.clusters,
                est.n_pilot, est.mean_control, est.mean_pilot,
                fit == SYF_OK ? "ok" : "failed");
        if (fit != SYF_OK)
            fprintf(stderr, "syfosim run: warning: estimate failed: %s\n", syf_error_message());
        double *t = malloc((td.n ? td.n : 1) * sizeof *t);
        int *e = malloc((td.n ? td.n : 1) * sizeof *e);
        size_t *g = malloc((td.n ? td.n : 1) * sizeof *g);
        if (!t || !e || !g) {
            free(t), free(e), free(g);
            st = syf_error_set(SYF_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t j = 0; j < td.n; j++) {
            t[j] = td.index_days[j];
            e[j] = td.index_event[j];
            g[j] = td.arm[j];
        }
        st = syf_km_fit(td.n, t, e, g, 2, &km);
        free(t), free(e), free(g);
    } else {
        double *t = malloc((c.n_spells ? c.n_spells : 1) * sizeof *t);
        int *e = malloc((c.n_spells ? c.n_spells : 1) * sizeof *e);
        if (!t || !e) {
            free(t), free(e);
            st = syf_error_set(SYF_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t j = 0; j < c.n_spells; j++) {
            t[j] = c.spells[j].days;
            e[j] = c.spells[j].status != SYF_REPORT_CENSORED;
        }
        st = syf_km_fit(c.n_spells, t, e, NULL, 1, &km);
        free(t), free(e);
    }
    if (st != SYF_OK)
        goto done;

    if (design) {
        FILE *f = out[F_TRIAGE].f;
        static const char *trig[9] = {"a_low_expectation", "b_long_duration", "c_employer",
                                      "d_no_response", "e_unused", "f_unused",
                                      "g_eligibility", "h_recurrent", "i_signal"};
        long long msg = c.tr_reached - c.tr_excluded;
        fprintf(f, "metric,value,note\n");
        fprintf(f, "reached_triage_day,%lld,spells in pilot offices still sick on the triage day\n",
                c.tr_reached);
        fprintf(f, "excluded,%lld,age/pregnancy/serious diagnosis (digest-003 L274)\n",
                c.tr_excluded);
        fprintf(f, "messaged,%lld,\n", msg);
        fprintf(f, "responded_share,%.4f,of messaged\n", msg ? (double)c.tr_responded / msg : NAN);
        fprintf(f, "mapped_share,%.4f,of messaged; digest-003 L336: about 0.40\n",
                msg ? (double)c.tr_mapped / msg : NAN);
        fprintf(f, "mapped_checkpoint_share,%.4f,of messaged (weeks 17/26/39)\n",
                msg ? (double)c.tr_mapped_cp / msg : NAN);
        for (int b = 0; b < 9; b++)
            if (b != 4 && b != 5)
                fprintf(f, "trigger_%s_share,%.4f,of messaged\n", trig[b],
                        msg ? (double)c.tr_trigger[b] / msg : NAN);
        fprintf(f, "short_prediction_overran_share,%.4f,predicted < 26 w and no trigger: share "
                   "sick > 26 w; digest-003 L434: 40/376 = 0.106\n",
                c.tr_short_other ? (double)c.tr_short_overran / c.tr_short_other : NAN);
    }
    for (int f = 0; f < N_FILES; f++)
        if (out[f].f && (st = cli_out_commit(&out[f])) != SYF_OK)
            goto done;
    opened = 0;

    /* plots: after the data are in place; a missing gnuplot is one warning */
    if (!has_teams) { /* no stale waiting-list plot from an earlier run */
        char stale[1100];
        snprintf(stale, sizeof stale, "%s/queue.png", outdir);
        unlink(stale);
        snprintf(stale, sizeof stale, "%s/queue.svg", outdir);
        unlink(stale);
    }
    if (!syf_plot_available()) {
        fprintf(stderr, "syfosim run: warning: gnuplot is not installed (not found on PATH): "
                        "no plots\n");
    } else {
        static const char *labels2[] = {"control offices", "pilot offices"};
        static const char *labels1[] = {"all spells started in the window"};
        char title[300];
        snprintf(title, sizeof title, "%s: time to return to work%s", sc->name,
                 design ? " (trial participants, from spell start)" : "");
        km_fig kf = {km, design ? labels2 : labels1, title};
        draw_both(outdir, "km", draw_km, &kf);
        if ((st = plot_hazard(&c, outdir, n_arms)) != SYF_OK)
            goto done;
        if (has_teams && (st = plot_queue(&c, outdir, n_arms, w.obs1 - w.obs0)) != SYF_OK)
            goto done;
        plot_cost(sc, outdir, n_arms, tot);
    }

    printf("syfosim run: scenario '%s', seed %llu: %zu persons in %zu offices -> %s/\n", sc->name,
           (unsigned long long)useed, pop->n, pop->n_office, outdir);
    for (int a = 0; a < n_arms; a++) {
        if (tot[a].persons == 0) {
            printf("  %s: no office in this arm during the window\n", a ? "pilot" : "control");
            continue;
        }
        char label[64];
        snprintf(label, sizeof label, "%s", design ? (a ? "pilot" : "control") : "all offices");
        print_arm(sc, label, arm_offices[a], &tot[a], tot_p90[a], has_teams);
    }
    if (design && sc->pilot.type != SYF_PILOT_NONE) {
        long long msg = c.tr_reached - c.tr_excluded;
        printf("  triage: %lld messaged, %.1f %% mapped at triage, %.1f %% at checkpoints; "
               "short-prediction overrun %.1f %%\n",
               msg, msg ? 100.0 * c.tr_mapped / msg : NAN, msg ? 100.0 * c.tr_mapped_cp / msg : NAN,
               c.tr_short_other ? 100.0 * c.tr_short_overran / c.tr_short_other : NAN);
    }
    if (design) {
        printf("  trial (%s): %zu recruited, %zu analysed (%zu treated), %zu clusters\n",
               syf_design_name(sc->trial.design), est.n_recruited, est.n, est.n_pilot,
               est.clusters);
        if (est.status == SYF_OK)
            printf("  estimate %.3f (SE %.3f, df %.1f, 95%% CI %.3f to %.3f, p = %.3g); SATE "
                   "(simulator's truth) %.3f\n",
                   est.estimate, est.std_error, est.df, est.conf_low, est.conf_high, est.p_value,
                   est.estimand);
    }

done:
    for (int f = 0; f < opened; f++)
        if (out[f].f)
            cli_out_abort(&out[f]);
    syf_km_free(km);
    syf_design_free(&dsg);
    syf_trial_data_free(&td);
    free(c.acc);
    free(c.waits);
    free(c.queue);
    free(c.spells);
    free(arms);
    syf_population_free(pop);
    free(sc);
    return st == SYF_OK ? 0 : cli_fail("run", st);
}
