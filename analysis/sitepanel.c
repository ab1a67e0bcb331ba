/* sitepanel.c — a single-site pilot analysed by synthetic control (see
 * sitepanel.h).
 *
 * Sits beside trial.c: it builds its own design (one office starts the
 * pilot mid-window, design.h's syf_design filled as design.c does), reuses
 * syf_trial_collect() for the participants and their potential outcomes,
 * averages the analysed participants in an office x period panel and hands
 * it to the synthetic-control module (sc.h) with placebo inference.  A
 * scenario reaches it through trial.design = single_site (dispatch in
 * syf_trial_replicate) or trial.estimator = sc on collected data
 * (syf_sitepanel_fit). */
#include "syfosim/sitepanel.h"
#include "syfosim/error.h"
#include "syfosim/rng.h"
#include "syfosim/sc.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int syf_sitepanel_design(const syf_scenario *sc, const syf_population *pop, uint64_t seed,
                         uint64_t rep, syf_design *d)
{
    memset(d, 0, sizeof *d);
    const size_t K = pop->n_office;
    if (K < 3)
        return syf_error_set(SYF_EINPUT,
                             "single-site design: %zu offices (accepted: at least 3, so that "
                             "synthetic control has two donors)",
                             K);
    if (sc->trial.periods < 2)
        return syf_error_set(SYF_EINPUT,
                             "single-site design: trial.periods = %ld (accepted: at least 2)",
                             sc->trial.periods);
    const int32_t period_days = (int32_t)(sc->run.observation_days / sc->trial.periods);
    if (period_days < 1)
        return syf_error_set(SYF_EINPUT, "single-site design: trial.periods longer than the "
                                         "observation window");
    d->n_office = K;
    d->office_start = malloc(K * sizeof *d->office_start);
    d->office_group = malloc(K * sizeof *d->office_group);
    if (!d->office_start || !d->office_group) {
        syf_design_free(d);
        return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    /* the office self_selected would pick first: the same stream and draws */
    syf_stream s;
    syf_stream_init(&s, seed, rep, 0, SYF_P_DESIGN);
    double *score = malloc(K * sizeof *score);
    if (!score) {
        syf_design_free(d);
        return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    syf_design_selection_score(sc, pop, &s, score);
    size_t best = 0;
    for (size_t o = 1; o < K; o++) /* ties: the lowest office, as design.c's sort */
        if (score[o] > score[best])
            best = o;
    free(score);
    d->period_days = period_days;
    for (size_t o = 0; o < K; o++) {
        d->office_start[o] = INT32_MAX;
        d->office_group[o] = 0;
    }
    d->office_start[best] =
        (int32_t)sc->run.burn_in_days + (int32_t)(sc->trial.periods / 2) * period_days;
    d->office_group[best] = 1;
    d->n_groups = 2;
    int st = syf_design_set_fidelity(sc, seed, rep, d);
    if (st != SYF_OK) {
        syf_design_free(d);
        return st;
    }
    d->assign.office_start = d->office_start;
    d->assign.person_treated = NULL;
    d->assign.office_fidelity = d->office_fidelity;
    return SYF_OK;
}

typedef struct {
    size_t unit;
    double weight;
} unit_weight;

static int cmp_weight_desc(const void *a, const void *b)
{
    const unit_weight *x = a, *y = b;
    if (x->weight != y->weight)
        return x->weight > y->weight ? -1 : 1;
    return (x->unit > y->unit) - (x->unit < y->unit);
}

/* "sc weights: office 3 0.412, office 7 0.300 (2 of 19 donors > 0); ..." */
static void write_note(syf_sitepanel_info *info, const syf_sc_result *r, const size_t *office,
                       size_t N, size_t treated, int exact)
{
    unit_weight *uw = malloc(N * sizeof *uw);
    size_t n = 0;
    if (uw)
        for (size_t u = 0; u < N; u++)
            if (u != treated && r->weights[u] > 1e-9)
                uw[n++] = (unit_weight){u, r->weights[u]};
    char *p = info->note;
    size_t left = sizeof info->note;
    int k = snprintf(p, left, "sc weights:");
    if (uw) {
        qsort(uw, n, sizeof *uw, cmp_weight_desc);
        for (size_t j = 0; j < n && k >= 0 && (size_t)k < left; j++) {
            p += k;
            left -= (size_t)k;
            k = snprintf(p, left, "%s office %zu %.3f", j ? "," : "", office[uw[j].unit],
                         uw[j].weight);
        }
    }
    if (k >= 0 && (size_t)k < left) {
        p += k;
        left -= (size_t)k;
        snprintf(p, left,
                 " (%zu of %zu donors > 0); %zu donors dropped (empty cell); pre-RMSPE %.4g, "
                 "post/pre RMSPE ratio %.4g, placebo rank %zu of %zu",
                 n, N - 1, info->n_dropped, r->rmspe_pre, r->ratio, r->rank, N);
    }
    size_t used = strlen(info->note);
    if (exact && used + 1 < sizeof info->note)
        snprintf(info->note + used, sizeof info->note - used,
                 "; the pre-period fit is exact (%zu pre-periods, %zu donors): the RMSPE "
                 "ratio and the placebo p are not informative, use more trial.periods",
                 r->T0, N - 1);
    free(uw);
}

int syf_sitepanel_fit(const syf_scenario *sc, const syf_trial_data *td, const syf_design *d,
                      syf_trial_estimate *est, syf_sitepanel_info *info)
{
    memset(est, 0, sizeof *est);
    est->estimate = est->std_error = est->df = est->statistic = est->p_value = NAN;
    est->conf_low = est->conf_high = est->estimand = NAN;
    est->mean_control = est->mean_pilot = NAN;
    syf_sitepanel_info local;
    if (!info)
        info = &local;
    memset(info, 0, sizeof *info);

    const int32_t obs0 = (int32_t)sc->run.burn_in_days;
    const size_t K = d->n_office;
    size_t pilot = K, n_start = 0;
    for (size_t o = 0; d->office_start && o < K; o++)
        if (d->office_start[o] != INT32_MAX) {
            n_start++;
            pilot = o;
        }
    if (n_start != 1 || d->period_days < 1 || d->office_start[pilot] <= obs0 || K < 3)
        return est->status = syf_error_set(
                   SYF_EINPUT, "synthetic control: needs a single-site design (one office "
                               "starting at a period boundary inside the window, the others "
                               "never; at least 3 offices)");
    const int32_t start = d->office_start[pilot];
    const size_t T = (size_t)sc->trial.periods;
    const size_t T0 = (size_t)((start - obs0) / d->period_days);
    if (T < 2 || T0 < 1 || T0 >= T)
        return est->status = syf_error_set(SYF_EINPUT,
                                           "synthetic control: the pilot starts in period %zu of "
                                           "%zu (accepted: 1 .. periods - 1)",
                                           T0, T);
    info->office = pilot;
    info->start = start;
    info->T = T;
    info->T0 = T0;

    double *sum = calloc(K * T, sizeof *sum), *Y = malloc(K * T * sizeof *Y);
    size_t *cnt = calloc(K * T, sizeof *cnt), *office = malloc(K * sizeof *office);
    syf_sc_workspace *w = NULL;
    int st = SYF_OK;
    if (!sum || !Y || !cnt || !office) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto done;
    }

    /* estimand: every recruited participant of the pilot office triaged on
     * or after its start; observed means of the analysed */
    const int32_t tday = (int32_t)sc->pilot.triage_day;
    double eff = 0, s1 = 0, s0 = 0;
    size_t n_eff = 0, n1 = 0, n0 = 0;
    for (size_t j = 0; j < td->n; j++) {
        const size_t o = td->office[j];
        if (o >= K)
            continue;
        if (o == pilot && td->index_start[j] + tday >= start) {
            eff += td->y1[j] - td->y0[j];
            n_eff++;
        }
        if (!td->keep[j])
            continue;
        size_t t = td->period[j] < 0 ? 0 : (size_t)td->period[j];
        if (t >= T)
            t = T - 1;
        sum[o * T + t] += td->y[j];
        cnt[o * T + t]++;
        if (o == pilot && t >= T0) {
            s1 += td->y[j];
            n1++;
        } else {
            s0 += td->y[j];
            n0++;
        }
    }
    est->n_recruited = td->n;
    est->estimand = n_eff ? eff / (double)n_eff : NAN;
    est->mean_pilot = n1 ? s1 / (double)n1 : NAN;
    est->mean_control = n0 ? s0 / (double)n0 : NAN;
    est->n_pilot = n1;

    /* panel: the pilot office (must be complete) and every complete donor */
    for (size_t t = 0; t < T; t++)
        if (!cnt[pilot * T + t]) {
            st = syf_error_set(SYF_EINPUT,
                               "synthetic control: the pilot office %zu has no analysed "
                               "participant in period %zu (use fewer trial.periods or larger "
                               "offices)",
                               pilot, t);
            goto done;
        }
    size_t N = 0, treated = 0, n_analysed = 0;
    for (size_t o = 0; o < K; o++) {
        int complete = 1;
        for (size_t t = 0; t < T; t++)
            complete &= cnt[o * T + t] > 0;
        if (!complete) {
            info->n_dropped++;
            continue;
        }
        if (o == pilot)
            treated = N;
        for (size_t t = 0; t < T; t++) {
            Y[N * T + t] = sum[o * T + t] / (double)cnt[o * T + t];
            n_analysed += cnt[o * T + t];
        }
        office[N++] = o;
    }
    if (N < 3) {
        st = syf_error_set(SYF_EINPUT,
                           "synthetic control: %zu donor offices with a participant in every "
                           "period (accepted: at least 2; use fewer trial.periods or larger "
                           "offices)",
                           N - 1);
        goto done;
    }
    est->n = n_analysed;
    est->clusters = N;
    info->n_units = N;

    w = syf_sc_alloc(N, T);
    if (!w) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto done;
    }
    syf_sc_result r;
    if ((st = syf_sc_fit(w, N, T, T0, Y, treated, 1, &r)) != SYF_OK)
        goto done;
    est->estimate = r.att;
    est->statistic = r.ratio;
    est->p_value = r.p_value;
    info->rmspe_pre = r.rmspe_pre;
    info->rmspe_post = r.rmspe_post;
    info->ratio = r.ratio;
    info->rank = r.rank;
    /* an exact pre-period fit (treated unit inside the donors' convex hull
     * with few pre-periods) makes the RMSPE ratio 0/0-like noise */
    double scale = 0;
    for (size_t t = 0; t < T0; t++)
        scale += fabs(Y[treated * T + t]) / (double)T0;
    write_note(info, &r, office, N, treated, r.rmspe_pre <= 1e-9 * (1.0 + scale));

done:
    syf_sc_free(w);
    free(sum);
    free(Y);
    free(cnt);
    free(office);
    est->status = st;
    return st;
}

int syf_sitepanel_replicate_info(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                                 syf_trial_estimate *est, syf_sitepanel_info *info)
{
    syf_population *pop = NULL;
    syf_design design;
    memset(&design, 0, sizeof design);
    syf_trial_data td;
    memset(&td, 0, sizeof td);
    /* syf_trial_collect() collects nothing without a design and treats rd
     * specially: collect under an office-level design name (the world and
     * the collection read only the assignment otherwise) */
    syf_scenario scc = *sc;
    if (scc.trial.design == SYF_DESIGN_NONE || scc.trial.design == SYF_DESIGN_RD)
        scc.trial.design = SYF_DESIGN_STAGGERED;
    int st = syf_population_build(&scc, seed, rep, &pop);
    if (st == SYF_OK)
        st = syf_sitepanel_design(&scc, pop, seed, rep, &design);
    if (st == SYF_OK) {
        syf_world w;
        syf_world_init(&w, &scc, pop, seed, rep);
        w.assign = &design.assign;
        w.trial_only = 1;
        st = syf_trial_collect(&w, &design, &td, NULL, NULL);
    }
    if (st == SYF_OK) {
        st = syf_sitepanel_fit(&scc, &td, &design, est, info);
    } else {
        memset(est, 0, sizeof *est);
        est->status = st;
        if (info)
            memset(info, 0, sizeof *info);
    }
    syf_trial_data_free(&td);
    syf_design_free(&design);
    syf_population_free(pop);
    return st;
}

int syf_sitepanel_replicate(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                            syf_trial_estimate *est)
{
    return syf_sitepanel_replicate_info(sc, seed, rep, est, NULL);
}
