/* cmd_run.c — `syfosim run`: one replication of a scenario, written as
 * register-like CSVs (persons, spells, services, summary; with a design
 * also the trial data set and its estimate) and a Kaplan-Meier plot.
 *
 * Every file is written under a temporary name and renamed into place only
 * when the whole run succeeded, so a failed run leaves no partial output.
 * Day numbers in the files count from the first day of the observation
 * window (day 0, a Monday).
 */
#include "cli_util.h"
#include "commands.h"
#include "syfosim/error.h"
#include "syfosim/km.h"
#include "syfosim/plot.h"
#include "syfosim/trial.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SETS 64

enum {
    F_PERSONS, F_SPELLS, F_SERVICES, F_SUMMARY, F_TRIAL, F_ESTIMATES, F_TRIAGE, F_SCENARIO,
    N_FILES
};
static const char *file_names[N_FILES] = {"persons.csv", "spells.csv",    "services.csv",
                                          "summary.csv", "trial.csv",     "estimates.csv",
                                          "triage.csv",  "scenario.ini"};

typedef struct {
    long long persons, spells, aap;
    double sick_days, paid_days, hours;
    long long waits_n;
    double waits_sum;
} office_acc;

typedef struct {
    cli_outfile *out;
    const syf_scenario *sc;
    const syf_design *design;
    office_acc *acc; /* per office */
    /* mapping waits, for percentiles: (office, wait) */
    size_t n_wait, cap_wait;
    uint32_t *wait_office;
    int32_t *wait_days;
    /* KM of all window spells when there is no design */
    size_t n_km, cap_km;
    double *km_time;
    int *km_event;
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

static int push_wait(run_ctx *c, uint32_t office, int32_t wait)
{
    if (c->n_wait == c->cap_wait) {
        size_t nc = c->cap_wait ? 2 * c->cap_wait : 4096;
        void *a = realloc(c->wait_office, nc * sizeof *c->wait_office);
        if (!a)
            return 0;
        c->wait_office = a;
        a = realloc(c->wait_days, nc * sizeof *c->wait_days);
        if (!a)
            return 0;
        c->wait_days = a;
        c->cap_wait = nc;
    }
    c->wait_office[c->n_wait] = office;
    c->wait_days[c->n_wait++] = wait;
    return 1;
}

static int push_km(run_ctx *c, double t, int event)
{
    if (c->n_km == c->cap_km) {
        size_t nc = c->cap_km ? 2 * c->cap_km : 4096;
        void *a = realloc(c->km_time, nc * sizeof *c->km_time);
        if (!a)
            return 0;
        c->km_time = a;
        a = realloc(c->km_event, nc * sizeof *c->km_event);
        if (!a)
            return 0;
        c->km_event = a;
        c->cap_km = nc;
    }
    c->km_time[c->n_km] = t;
    c->km_event[c->n_km++] = event;
    return 1;
}

static void service_row(FILE *f, size_t person, size_t k, uint32_t office, const char *arm,
                        const char *service, int32_t referral, int32_t start, double hours)
{
    fprintf(f, "%zu,%zu,%u,%s,nav_veileder,%s,%d,%d,%d,%.4g\n", person, k, office, arm, service,
            referral, start, start, hours);
}

static void on_person(void *vctx, const syf_world *w, size_t i, int arm, const syf_spell *sp,
                      size_t n, int32_t exited, const syf_service *sv, size_t nsv)
{
    (void)exited;
    (void)sv;
    (void)nsv;
    run_ctx *c = vctx;
    const syf_scenario *sc = w->sc;
    const syf_population *pop = w->pop;
    if (c->status != SYF_OK)
        return;
    const uint32_t o = pop->office[i];
    office_acc *a = &c->acc[o];
    (void)arm;
    FILE *fs = c->out[F_SPELLS].f, *fv = c->out[F_SERVICES].f;
    a->persons++;
    fprintf(c->out[F_PERSONS].f, "%zu,%c,%d,%s,%s,%u,%u,%u\n", i, pop->sex[i] ? 'F' : 'M',
            pop->age[i], syf_county_names[pop->office_county[o]],
            syf_industry_names[pop->industry[i]], pop->employer[i], pop->gp[i], o);
    for (size_t k = 0; k < n; k++) {
        const syf_spell *s = &sp[k];
        /* arm of the spell: was the pilot running for this person on its triage day? */
        const int32_t tabs = s->start + (int32_t)sc->pilot.triage_day;
        const int on = c->design->person_treated ? c->design->person_treated[i]
                                                 : syf_design_office_on(c->design, o, tabs);
        const char *an = arm_name(sc, on);
        a->sick_days += syf_spell_days_in(w, s, 0, w->obs0, w->obs1);
        a->paid_days += syf_spell_days_in(w, s, 1, w->obs0, w->obs1);
        /* services delivered inside the window */
        const int32_t base = s->start - w->obs0;
        if ((s->flags & SYF_SF_ACTIVITY)) {
            int32_t d = s->start + (int32_t)sc->regime.activity_day;
            if (d >= w->obs0 && d < w->obs1) {
                a->hours += sc->regime.activity_hours;
                service_row(fv, i, k, o, an, "activity_check", d - w->obs0, d - w->obs0,
                            sc->regime.activity_hours);
            }
        }
        if ((s->flags & SYF_SF_TRIAGED) && !(s->flags & SYF_SF_EXCLUDED)) {
            int32_t d = base + (int32_t)sc->pilot.triage_day;
            a->hours += sc->pilot.message_hours;
            service_row(fv, i, k, o, an, "triage_message", d, d, sc->pilot.message_hours);
        }
        if (s->flags & SYF_SF_MAPPED) {
            int32_t start = base + s->map_day;
            int32_t referral = start - (int32_t)sc->pilot.mapping_delay_days;
            a->hours += sc->pilot.mapping_hours;
            a->waits_n++;
            a->waits_sum += start - referral;
            if (!push_wait(c, o, start - referral)) {
                c->status = syf_error_set(SYF_ENOMEM, "out of memory");
                return;
            }
            service_row(fv, i, k, o, an, "mapping", referral, start, sc->pilot.mapping_hours);
        }
        if (s->flags & SYF_SF_DM2) {
            int32_t d = s->start + (int32_t)sc->regime.dm2_day;
            if (d >= w->obs0 && d < w->obs1) {
                a->hours += sc->regime.dm2_hours;
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
        if (sc->trial.design == SYF_DESIGN_NONE &&
            !push_km(c, s->days, s->reason != SYF_END_CENSORED)) {
            c->status = syf_error_set(SYF_ENOMEM, "out of memory");
            return;
        }
    }
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* 90th percentile (type 7, as R's default) of the waits of office o (or all
 * offices of arm `arm` if o < 0); NaN if none. */
static double wait_p90(const run_ctx *c, const syf_population *pop, const uint8_t *arms, long o,
                       int arm)
{
    int32_t *v = malloc((c->n_wait ? c->n_wait : 1) * sizeof *v);
    size_t m = 0;
    if (!v)
        return NAN;
    for (size_t j = 0; j < c->n_wait; j++) {
        uint32_t wo = c->wait_office[j];
        if (o >= 0 ? (long)wo == o : (arms[wo] == arm))
            v[m++] = c->wait_days[j];
    }
    double r = NAN;
    if (m) {
        qsort(v, m, sizeof *v, cmp_i32);
        double h = 0.9 * (double)(m - 1);
        size_t lo = (size_t)floor(h);
        size_t hi = lo + 1 < m ? lo + 1 : lo;
        r = v[lo] + (h - (double)lo) * (v[hi] - v[lo]);
    }
    (void)pop;
    free(v);
    return r;
}

static void summary_row(FILE *f, const syf_scenario *sc, const char *office, const char *arm,
                        const office_acc *a, double p90)
{
    double cost = a->paid_days * sc->regime.sick_pay_nok + a->hours * sc->regime.veileder_nok_per_hour;
    fprintf(f, "%s,%s,%lld,%lld,%.1f,%.1f,%lld,%.1f,", office, arm, a->persons, a->spells,
            a->sick_days, a->paid_days, a->aap, a->hours);
    if (a->waits_n)
        fprintf(f, "%.2f,", a->waits_sum / (double)a->waits_n);
    else
        fprintf(f, ",");
    if (!isnan(p90))
        fprintf(f, "%.1f,", p90);
    else
        fprintf(f, ",");
    fprintf(f, "%.0f\n", cost);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: syfosim run SCENARIO [--seed N] [--out DIR] [--set SECTION.KEY=VALUE ...]\n\n"
            "Simulate one replication (replication 0) of the scenario and write to DIR\n"
            "(default out/NAME): persons.csv, spells.csv, services.csv, summary.csv,\n"
            "scenario.ini (resolved), km.png and km.svg; with a trial design also trial.csv\n"
            "(one row per participant) and estimates.csv. Each CSV starts with a provenance\n"
            "line '# syfosim VERSION git=... scenario_hash=... seed=...'. Files are written\n"
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
    char km_png[1100], km_svg[1100];

    if ((st = cli_mkdirs(outdir)) != SYF_OK)
        goto done;
    if ((st = syf_population_build(sc, useed, 0, &pop)) != SYF_OK)
        goto done;
    arms = malloc(pop->n_office);
    c.acc = calloc(pop->n_office, sizeof *c.acc);
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
    c.out = out;
    c.sc = sc;
    {
        syf_world w;
        syf_world_init(&w, sc, pop, useed, 0);
        w.assign = &dsg.assign;
        st = syf_trial_collect(&w, &dsg, design ? &td : NULL, on_person, &c);
        if (st == SYF_OK)
            st = c.status;
        if (st != SYF_OK)
            goto done;
    }

    /* summary per office and per arm */
    {
        FILE *f = out[F_SUMMARY].f;
        fprintf(f, "office_id,arm,persons,spells,sick_days,paid_days,aap_entries,staff_hours_"
                   "veileder,mean_wait_days,p90_wait_days,cost_nok\n");
        office_acc tot[2];
        memset(tot, 0, sizeof tot);
        for (size_t o = 0; o < pop->n_office; o++) {
            char id[32];
            snprintf(id, sizeof id, "%zu", o);
            summary_row(f, sc, id, arm_name(sc, arms[o]), &c.acc[o], wait_p90(&c, pop, arms, (long)o, 0));
            office_acc *t = &tot[arms[o]];
            t->persons += c.acc[o].persons;
            t->spells += c.acc[o].spells;
            t->aap += c.acc[o].aap;
            t->sick_days += c.acc[o].sick_days;
            t->paid_days += c.acc[o].paid_days;
            t->hours += c.acc[o].hours;
            t->waits_n += c.acc[o].waits_n;
            t->waits_sum += c.acc[o].waits_sum;
        }
        for (int a = 0; a < (design ? 2 : 1); a++)
            summary_row(f, sc, "all", arm_name(sc, a), &tot[a], wait_p90(&c, pop, arms, -1, a));
    }

    /* trial data, estimate, KM by arm */
    snprintf(km_png, sizeof km_png, "%s/km.png", outdir);
    snprintf(km_svg, sizeof km_svg, "%s/km.svg", outdir);
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
        st = syf_km_fit(c.n_km, c.km_time, c.km_event, NULL, 1, &km);
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
        printf("  triage: %lld messaged, %.1f %% mapped at triage, %.1f %% at checkpoints; "
               "short-prediction overrun %.1f %%\n",
               msg, msg ? 100.0 * c.tr_mapped / msg : NAN, msg ? 100.0 * c.tr_mapped_cp / msg : NAN,
               c.tr_short_other ? 100.0 * c.tr_short_overran / c.tr_short_other : NAN);
    }
    for (int f = 0; f < N_FILES; f++)
        if (out[f].f && (st = cli_out_commit(&out[f])) != SYF_OK)
            goto done;
    opened = 0;
    {
        static const char *labels2[] = {"control offices", "pilot offices"};
        static const char *labels1[] = {"all spells started in the window"};
        char title[300];
        snprintf(title, sizeof title, "%s: time to return to work%s", sc->name,
                 design ? " (trial participants, from spell start)" : "");
        int pst = syf_plot_km(km, design ? labels2 : labels1, title, km_png);
        if (pst == SYF_OK)
            pst = syf_plot_km(km, design ? labels2 : labels1, title, km_svg);
        if (pst != SYF_OK)
            fprintf(stderr, "syfosim run: warning: no plot: %s\n", syf_error_message());
    }
    printf("syfosim run: scenario '%s', seed %llu: %zu persons in %zu offices -> %s/\n", sc->name,
           (unsigned long long)useed, pop->n, pop->n_office, outdir);
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
    free(c.wait_office);
    free(c.wait_days);
    free(c.km_time);
    free(c.km_event);
    free(arms);
    syf_population_free(pop);
    free(sc);
    return st == SYF_OK ? 0 : cli_fail("run", st);
}
