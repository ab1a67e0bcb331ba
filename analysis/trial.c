/* trial.c — assignment, trial population, outcomes, counterfactual
 * estimand and the OLS estimate of one replication (see trial.h). */
#include "syfosim/trial.h"
#include "syfosim/error.h"
#include "syfosim/rng.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SPELL_CAP = 1024 };

void syf_trial_data_free(syf_trial_data *td)
{
    free(td->person);
    free(td->office);
    free(td->arm);
    free(td->index_start);
    free(td->index_days);
    free(td->index_event);
    free(td->y);
    free(td->y0);
    free(td->y1);
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
    GROW(index_start);
    GROW(index_days);
    GROW(index_event);
    GROW(y);
    GROW(y0);
    GROW(y1);
#undef GROW
    td->cap = nc;
    return SYF_OK;
}

int syf_design_assign(const syf_scenario *sc, uint64_t seed, uint64_t rep, size_t K,
                      uint8_t *arm)
{
    memset(arm, 0, K);
    if (sc->trial.design == SYF_DESIGN_NONE)
        return SYF_OK;
    size_t nt = (size_t)lround(sc->trial.treated_share * (double)K);
    if (nt < 1 || nt >= K)
        return syf_error_set(SYF_EINPUT,
                             "trial.treated_share %g of %zu offices leaves an arm empty",
                             sc->trial.treated_share, K);
    size_t *perm = malloc(K * sizeof *perm);
    if (!perm)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    for (size_t o = 0; o < K; o++)
        perm[o] = o;
    syf_stream s;
    syf_stream_init(&s, seed, rep, 0, SYF_P_DESIGN);
    for (size_t o = K - 1; o > 0; o--) { /* Fisher-Yates */
        size_t j = (size_t)(syf_stream_uniform(&s) * (double)(o + 1));
        size_t t = perm[o];
        perm[o] = perm[j];
        perm[j] = t;
    }
    for (size_t o = 0; o < nt; o++)
        arm[perm[o]] = 1;
    free(perm);
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

/* Index spell: the first spell whose triage day is inside the window and
 * that is still running on it.  Returns its position or -1. */
static long find_index(const syf_world *w, const syf_spell *sp, size_t n)
{
    const int32_t td = (int32_t)w->sc->pilot.triage_day;
    for (size_t k = 0; k < n; k++) {
        int32_t t = sp[k].start + td;
        if (t >= w->obs1)
            break;
        if (t >= w->obs0 && sp[k].days > td)
            return (long)k;
    }
    return -1;
}

int syf_trial_collect(const syf_world *w, const uint8_t *office_arm, syf_trial_data *td,
                      syf_person_fn fn, void *ctx)
{
    syf_spell *buf = malloc(2 * SPELL_CAP * sizeof *buf);
    if (!buf)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    syf_spell *cf = buf + SPELL_CAP;
    const syf_population *pop = w->pop;
    const int has_design = w->sc->trial.design != SYF_DESIGN_NONE;
    int st = SYF_OK;
    for (size_t i = 0; i < pop->n && st == SYF_OK; i++) {
        int arm = office_arm ? office_arm[pop->office[i]] : 0;
        int32_t exited, cf_exited;
        size_t n = syf_world_person(w, i, arm, buf, SPELL_CAP, &exited);
        if (fn)
            fn(ctx, w, i, arm, buf, n, exited);
        if (!has_design || !td)
            continue;
        long k = find_index(w, buf, n);
        if (k < 0)
            continue;
        if (td->n == td->cap && (st = td_grow(td)) != SYF_OK)
            break;
        size_t m = syf_world_person(w, i, !arm, cf, SPELL_CAP, &cf_exited);
        long kc = find_index(w, cf, m);
        if (kc != k || cf[kc].start != buf[k].start) {
            st = syf_error_set(SYF_ERUNTIME,
                               "internal error: trial population differs between arms (person %zu)",
                               i);
            break;
        }
        int32_t s0 = buf[k].start;
        double y = syf_trial_outcome(w, buf, n, exited, s0);
        double yc = syf_trial_outcome(w, cf, m, cf_exited, s0);
        size_t j = td->n++;
        td->person[j] = (uint32_t)i;
        td->office[j] = pop->office[i];
        td->arm[j] = (uint8_t)arm;
        td->index_start[j] = s0;
        td->index_days[j] = buf[k].days;
        td->index_event[j] = buf[k].reason != SYF_END_CENSORED;
        td->y[j] = y;
        td->y1[j] = arm ? y : yc;
        td->y0[j] = arm ? yc : y;
    }
    free(buf);
    return st;
}

int syf_trial_estimate_fit(const syf_scenario *sc, const syf_trial_data *td, size_t K,
                           syf_ols_workspace *ws, syf_trial_estimate *est)
{
    memset(est, 0, sizeof *est);
    est->status = SYF_OK;
    est->n = td->n;
    double sum_eff = 0, s0 = 0, s1 = 0;
    size_t n1 = 0;
    for (size_t j = 0; j < td->n; j++) {
        sum_eff += td->y1[j] - td->y0[j];
        if (td->arm[j]) {
            s1 += td->y[j];
            n1++;
        } else
            s0 += td->y[j];
    }
    est->n_pilot = n1;
    est->estimand = td->n ? sum_eff / (double)td->n : NAN;
    est->mean_pilot = n1 ? s1 / (double)n1 : NAN;
    est->mean_control = td->n > n1 ? s0 / (double)(td->n - n1) : NAN;

    /* contiguous cluster codes over offices that have participants */
    size_t *code = malloc(K * sizeof *code), G = 0;
    double *X = malloc(2 * (td->n ? td->n : 1) * sizeof *X);
    size_t *cl = malloc((td->n ? td->n : 1) * sizeof *cl);
    int st = SYF_OK;
    if (!code || !X || !cl)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        for (size_t o = 0; o < K; o++)
            code[o] = SIZE_MAX;
        for (size_t j = 0; j < td->n; j++) {
            if (code[td->office[j]] == SIZE_MAX)
                code[td->office[j]] = G++;
            cl[j] = code[td->office[j]];
            X[2 * j] = 1.0;
            X[2 * j + 1] = td->arm[j];
        }
        est->clusters = G;
        if (n1 == 0 || n1 == td->n)
            st = syf_error_set(SYF_ESINGULAR, "an arm has no trial participants");
        else if (G < 3)
            st = syf_error_set(SYF_ESINGULAR, "fewer than 3 offices with participants");
    }
    if (st == SYF_OK) {
        static const syf_vcov_type types[] = {SYF_VCOV_CR2, SYF_VCOV_CR1, SYF_VCOV_CR0,
                                              SYF_VCOV_CR3};
        syf_ols_result r;
        st = syf_ols_fit(ws, td->n, X, td->y, cl, G, types[sc->trial.se], 1.0 - sc->trial.alpha,
                         &r);
        if (st == SYF_OK) {
            est->estimate = r.estimate[1];
            est->std_error = r.std_error[1];
            est->df = r.df[1];
            est->statistic = r.statistic[1];
            est->p_value = r.p_value[1];
            est->conf_low = r.conf_low[1];
            est->conf_high = r.conf_high[1];
        }
    }
    free(code);
    free(X);
    free(cl);
    est->status = st;
    return st;
}

int syf_trial_replicate(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                        syf_trial_estimate *est)
{
    syf_population *pop = NULL;
    uint8_t *arm = NULL;
    syf_trial_data td;
    memset(&td, 0, sizeof td);
    syf_ols_workspace *ws = NULL;
    int st = syf_population_build(sc, seed, rep, &pop);
    if (st == SYF_OK) {
        arm = malloc(pop->n_office);
        st = arm ? syf_design_assign(sc, seed, rep, pop->n_office, arm)
                 : syf_error_set(SYF_ENOMEM, "out of memory");
    }
    if (st == SYF_OK) {
        syf_world w;
        syf_world_init(&w, sc, pop, seed, rep);
        st = syf_trial_collect(&w, arm, &td, NULL, NULL);
    }
    if (st == SYF_OK) {
        ws = syf_ols_alloc(td.n ? td.n : 1, 2, pop->n_office);
        st = ws ? syf_trial_estimate_fit(sc, &td, pop->n_office, ws, est)
                : syf_error_set(SYF_ENOMEM, "out of memory");
    } else {
        memset(est, 0, sizeof *est);
        est->status = st;
    }
    syf_ols_free(ws);
    syf_trial_data_free(&td);
    free(arm);
    syf_population_free(pop);
    return st;
}
