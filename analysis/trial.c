/* trial.c — assignment, trial population, outcomes, counterfactual
 * estimand and the OLS estimate of one replication (see trial.h). */
#include "syfosim/trial.h"
#include "syfosim/error.h"
#include "syfosim/gee.h"
#include "syfosim/lmm.h"
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
            td->keep[j] = 0;
    }
}

int syf_trial_collect(const syf_world *w, const syf_design *design, syf_trial_data *td,
                      syf_person_fn fn, void *ctx)
{
    syf_spell *buf = malloc(2 * SPELL_CAP * sizeof *buf);
    if (!buf)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    syf_spell *cf = buf + SPELL_CAP;
    const syf_scenario *sc = w->sc;
    const syf_population *pop = w->pop;
    const int has_design = sc->trial.design != SYF_DESIGN_NONE && design;
    const int32_t tday = (int32_t)sc->pilot.triage_day;
    int st = SYF_OK;
    for (size_t i = 0; i < pop->n && st == SYF_OK; i++) {
        const uint32_t o = pop->office[i];
        int ever = 0;
        if (has_design)
            ever = design->person_treated ? design->person_treated[i]
                                          : design->office_start[o] != INT32_MAX;
        int32_t exited;
        size_t n = syf_world_person(w, i, has_design ? SYF_ARM_ACTUAL : SYF_ARM_NEVER, buf,
                                    SPELL_CAP, &exited);
        if (fn)
            fn(ctx, w, i, ever, buf, n, exited);
        if (!has_design || !td)
            continue;
        long k = find_index(w, buf, n);
        if (k < 0)
            continue;
        if (td->n == td->cap && (st = td_grow(td)) != SYF_OK)
            break;
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
        const double y = syf_trial_outcome(w, buf, n, exited, s0);
        double yv[2]; /* NEVER, ALWAYS (rd: the pilot everywhere, nobody / everybody mapped) */
        for (int v = 0; v < 2; v++) {
            /* the observed world already is this version when the pilot never
             * ran for the person (NEVER) or ran from the window's start (ALWAYS);
             * in the rd design when the rule's decision was v */
            int same = rd ? z == v
                   : v == 0 ? !ever
                            : ever && (design->person_treated ||
                                       design->office_start[o] <= w->obs0);
            if (same) {
                yv[v] = y;
                continue;
            }
            int32_t cf_exited;
            syf_world wv = *w;
            if (rd)
                wv.force_map = v;
            size_t m = syf_world_person(&wv, i, rd || v ? SYF_ARM_ALWAYS : SYF_ARM_NEVER, cf,
                                        SPELL_CAP, &cf_exited);
            long kc = find_index(w, cf, m);
            if (kc != k || cf[kc].start != s0) {
                st = syf_error_set(SYF_ERUNTIME,
                                   "internal error: trial population differs between versions of "
                                   "the world (person %zu)",
                                   i);
                break;
            }
            yv[v] = syf_trial_outcome(w, cf, m, cf_exited, s0);
        }
        if (st != SYF_OK)
            break;
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
        td->y[j] = y;
        td->y0[j] = yv[0];
        td->y1[j] = yv[1];
    }
    free(buf);
    if (st == SYF_OK && td)
        apply_attrition(w, td);
    return st;
}

const char *syf_trial_estimator_name(const syf_scenario *sc)
{
    static const char *const mixed[2][9] = {
        {"", "lmm", "lmm", "lmm+strata_fe", "lmm+pair_fe", "lmm+period_fe (Hussey-Hughes)",
         "lmm+period_fe", "lmm", ""},
        {"", "gee_exch", "gee_exch", "gee_exch+strata_fe", "gee_exch+pair_fe",
         "gee_exch+period_fe", "gee_exch+period_fe", "gee_exch", ""}};
    if (sc->trial.estimator == SYF_ESTIMATOR_LMM || sc->trial.estimator == SYF_ESTIMATOR_GEE)
        return mixed[sc->trial.estimator - SYF_ESTIMATOR_LMM][sc->trial.design];
    static const char *const names[4][9] = {
        {"", "ols_CR2", "ols_HC2", "ols_CR2+strata_fe", "ols_CR2+pair_fe", "ols_CR2+period_fe",
         "ols_CR2+office_period_fe", "ols_CR2", "local_linear_CR2"},
        {"", "ols_CR1", "ols_HC1", "ols_CR1+strata_fe", "ols_CR1+pair_fe", "ols_CR1+period_fe",
         "ols_CR1+office_period_fe", "ols_CR1", "local_linear_CR1"},
        {"", "ols_CR0", "ols_HC0", "ols_CR0+strata_fe", "ols_CR0+pair_fe", "ols_CR0+period_fe",
         "ols_CR0+office_period_fe", "ols_CR0", "local_linear_CR0"},
        {"", "ols_CR3", "ols_HC3", "ols_CR3+strata_fe", "ols_CR3+pair_fe", "ols_CR3+period_fe",
         "ols_CR3+office_period_fe", "ols_CR3", "local_linear_CR3"}};
    return names[sc->trial.se][sc->trial.design];
}

/* Columns of the design's fixed effects: dummies for levels 1..L-1 of a
 * code (level 0 is the reference), appended to X. */
static size_t count_levels(const int32_t *code, const syf_trial_data *td, int32_t *map,
                           size_t cap)
{
    size_t L = 0;
    for (size_t c = 0; c < cap; c++)
        map[c] = -1;
    for (size_t j = 0; j < td->n; j++)
        if (td->keep[j] && code[j] >= 0 && (size_t)code[j] < cap && map[code[j]] < 0)
            map[code[j]] = 0;
    for (size_t c = 0; c < cap; c++)
        if (map[c] >= 0)
            map[c] = (int32_t)L++;
    return L;
}

/* rd estimand: the average effect at the cutoff, E[y1 - y0 | score = c],
 * by a local-linear fit (triangular kernel, bandwidth h) of the
 * participants' individual effects, which the simulator knows exactly. */
static double rd_estimand(const syf_scenario *sc, const syf_trial_data *td)
{
    double m = 0, v = 0;
    size_t n = 0;
    for (size_t j = 0; j < td->n; j++)
        if (td->keep[j]) {
            m += td->score[j];
            n++;
        }
    if (n < 10)
        return NAN;
    m /= (double)n;
    for (size_t j = 0; j < td->n; j++)
        if (td->keep[j])
            v += (td->score[j] - m) * (td->score[j] - m);
    const double h = 0.25 * sqrt(v / (double)(n - 1)), c = sc->pilot.score_threshold;
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
    double m = 0, v = 0;
    size_t nk = 0;
    for (size_t j = 0; j < td->n; j++)
        if (td->keep[j]) {
            m += td->score[j];
            nk++;
        }
    if (nk < 10)
        return est->status = syf_error_set(SYF_ESINGULAR, "fewer than 10 rd participants");
    m /= (double)nk;
    for (size_t j = 0; j < td->n; j++)
        if (td->keep[j])
            v += (td->score[j] - m) * (td->score[j] - m);
    const double c = sc->pilot.score_threshold;
    const double h = sc->trial.rd_bandwidth > 0 ? sc->trial.rd_bandwidth
                                               : 0.5 * sqrt(v / (double)(nk - 1));
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

int syf_trial_estimate_fit(const syf_scenario *sc, const syf_trial_data *td,
                           const syf_design *design, syf_trial_estimate *est)
{
    memset(est, 0, sizeof *est);
    const size_t K = design->n_office;
    const int dsg = sc->trial.design;
    if (dsg == SYF_DESIGN_RD)
        return rd_fit(sc, td, K, est);
    est->n_recruited = td->n;
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
    est->n = n;
    est->n_pilot = n1;
    est->estimand = td->n ? sum_eff / (double)td->n : NAN;
    est->mean_pilot = n1 ? s1 / (double)n1 : NAN;
    est->mean_control = n > n1 ? s0 / (double)(n - n1) : NAN;

    /* fixed-effect codes by design */
    int32_t *gcode = NULL, *pcode = NULL, *ocode = NULL;
    int32_t *gmap = NULL, *pmap = NULL, *omap = NULL;
    size_t Lg = 0, Lp = 0, Lo = 0;
    const size_t cap_g = design->n_groups + 1, cap_p = 1024, cap_o = K;
    int use_g = dsg == SYF_DESIGN_STRATIFIED_CRT || dsg == SYF_DESIGN_MATCHED_CRT;
    int use_p = dsg == SYF_DESIGN_STEPPED_WEDGE || dsg == SYF_DESIGN_STAGGERED;
    const int kind = sc->trial.estimator;
    const int mixed = kind == SYF_ESTIMATOR_LMM || kind == SYF_ESTIMATOR_GEE;
    /* office fixed effects only for OLS: the lmm / gee model the office by
     * its random intercept / working correlation instead */
    int use_o = dsg == SYF_DESIGN_STAGGERED && !mixed;
    int st = SYF_OK;
    gmap = malloc(cap_g * sizeof *gmap);
    pmap = malloc(cap_p * sizeof *pmap);
    omap = malloc(cap_o * sizeof *omap);
    pcode = malloc((td->n ? td->n : 1) * sizeof *pcode);
    ocode = malloc((td->n ? td->n : 1) * sizeof *ocode);
    if (!gmap || !pmap || !omap || !pcode || !ocode)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        gcode = td->group;
        for (size_t j = 0; j < td->n; j++) {
            pcode[j] = td->period[j];
            ocode[j] = (int32_t)td->office[j];
        }
        if (use_g)
            Lg = count_levels(gcode, td, gmap, cap_g);
        if (use_p)
            Lp = count_levels(pcode, td, pmap, cap_p);
        if (use_o)
            Lo = count_levels(ocode, td, omap, cap_o);
    }
    /* With office fixed effects (staggered rollout) the office dummies are
     * absorbed: y and the other regressors are demeaned within office and
     * the intercept dropped (Frisch-Waugh-Lovell gives the same estimate);
     * CR2 is then computed on the absorbed design, as Pustejovsky & Tipton
     * (2018) and clubSandwich do -- with the dummies in X, I - H_gg would be
     * singular for every office. */
    const size_t c0 = use_o ? 0 : 1; /* column of the treatment indicator */
    const size_t p = c0 + 1 + (Lg ? Lg - 1 : 0) + (Lp ? Lp - 1 : 0);
    (void)Lo;
    double *X = NULL, *y = NULL;
    size_t *cl = NULL, *code = NULL, G = 0;
    syf_ols_workspace *ws = NULL;
    if (st == SYF_OK) {
        X = calloc((n ? n : 1) * p, sizeof *X);
        y = malloc((n ? n : 1) * sizeof *y);
        cl = malloc((n ? n : 1) * sizeof *cl);
        code = malloc(K * sizeof *code);
        if (!X || !y || !cl || !code)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
    }
    if (st == SYF_OK) {
        const int by_person = dsg == SYF_DESIGN_INDIVIDUAL_RCT && !mixed;
        for (size_t o = 0; o < K; o++)
            code[o] = SIZE_MAX;
        size_t r = 0;
        for (size_t j = 0; j < td->n; j++) {
            if (!td->keep[j])
                continue;
            double *x = X + r * p;
            if (c0)
                x[0] = 1.0;
            x[c0] = td->arm[j];
            size_t c = c0 + 1;
            if (Lg) {
                int32_t l = gmap[gcode[j]];
                if (l > 0)
                    x[c + (size_t)l - 1] = 1.0;
                c += Lg - 1;
            }
            if (Lp) {
                int32_t l = pmap[pcode[j]];
                if (l > 0)
                    x[c + (size_t)l - 1] = 1.0;
                c += Lp - 1;
            }
            y[r] = td->y[j];
            if (by_person)
                cl[r] = r;
            else {
                if (code[td->office[j]] == SIZE_MAX)
                    code[td->office[j]] = G++;
                cl[r] = code[td->office[j]];
            }
            r++;
        }
        if (by_person)
            G = n;
        est->clusters = by_person ? K : G;
        if (use_o) { /* absorb office fixed effects: demean within office */
            double *sum = calloc(G * (p + 1), sizeof *sum);
            size_t *cnt = calloc(G, sizeof *cnt);
            if (!sum || !cnt)
                st = syf_error_set(SYF_ENOMEM, "out of memory");
            else {
                for (size_t q = 0; q < n; q++) {
                    cnt[cl[q]]++;
                    for (size_t c = 0; c < p; c++)
                        sum[cl[q] * (p + 1) + c] += X[q * p + c];
                    sum[cl[q] * (p + 1) + p] += y[q];
                }
                for (size_t q = 0; q < n; q++) {
                    double m = (double)cnt[cl[q]];
                    for (size_t c = 0; c < p; c++)
                        X[q * p + c] -= sum[cl[q] * (p + 1) + c] / m;
                    y[q] -= sum[cl[q] * (p + 1) + p] / m;
                }
            }
            free(sum);
            free(cnt);
        }
        if (n1 == 0 || n1 == n)
            st = syf_error_set(SYF_ESINGULAR, "an arm has no analysed participants");
        else if (st != SYF_OK)
            ;
        else if (G < 3)
            st = syf_error_set(SYF_ESINGULAR, "fewer than 3 offices with analysed participants");
        else if (n <= p)
            st = syf_error_set(SYF_ESINGULAR, "fewer participants than coefficients");
    }
    if (st == SYF_OK && kind == SYF_ESTIMATOR_LMM) {
        syf_lmm_workspace *lw = syf_lmm_alloc(n, p, G);
        syf_lmm_result lr;
        st = lw ? syf_lmm_fit(lw, n, X, y, cl, G, SYF_LMM_DF_SATTERTHWAITE,
                              1.0 - sc->trial.alpha, &lr)
                : syf_error_set(SYF_ENOMEM, "out of memory");
        if (st == SYF_OK) {
            est->estimate = lr.estimate[c0];
            est->std_error = lr.std_error[c0];
            est->df = lr.df[c0];
            est->statistic = lr.statistic[c0];
            est->p_value = lr.p_value[c0];
            est->conf_low = lr.conf_low[c0];
            est->conf_high = lr.conf_high[c0];
        }
        syf_lmm_free(lw);
    } else if (st == SYF_OK && kind == SYF_ESTIMATOR_GEE) {
        syf_gee_workspace *gw = syf_gee_alloc(n, p, G);
        syf_gee_result gr;
        st = gw ? syf_gee_fit(gw, n, X, y, cl, G, 1.0 - sc->trial.alpha, &gr)
                : syf_error_set(SYF_ENOMEM, "out of memory");
        if (st == SYF_OK) {
            est->estimate = gr.estimate[c0];
            est->std_error = gr.std_error[c0];
            est->df = NAN; /* Wald z */
            est->statistic = gr.statistic[c0];
            est->p_value = gr.p_value[c0];
            est->conf_low = gr.conf_low[c0];
            est->conf_high = gr.conf_high[c0];
        }
        syf_gee_free(gw);
    } else if (st == SYF_OK && !(ws = syf_ols_alloc(n, p, G)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK && !mixed) {
        static const syf_vcov_type types[] = {SYF_VCOV_CR2, SYF_VCOV_CR1, SYF_VCOV_CR0,
                                              SYF_VCOV_CR3};
        syf_ols_result res;
        st = syf_ols_fit(ws, n, X, y, cl, G, types[sc->trial.se], 1.0 - sc->trial.alpha, &res);
        if (st == SYF_OK) {
            est->estimate = res.estimate[c0];
            est->std_error = res.std_error[c0];
            est->df = res.df[c0];
            est->statistic = res.statistic[c0];
            est->p_value = res.p_value[c0];
            est->conf_low = res.conf_low[c0];
            est->conf_high = res.conf_high[c0];
        }
    }
    syf_ols_free(ws);
    free(X);
    free(y);
    free(cl);
    free(code);
    free(gmap);
    free(pmap);
    free(omap);
    free(pcode);
    free(ocode);
    est->status = st;
    return st;
}

int syf_trial_replicate(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                        syf_trial_estimate *est)
{
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
