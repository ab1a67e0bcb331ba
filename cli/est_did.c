/* est_did.c — `estimate --method did`: difference in differences on a long
 * panel (analysis/did.c) — 2x2, two-way fixed effects or event study.
 *
 * Columns: --outcome, --id (unit), --time (numeric period), and exactly one
 * of --treat (0/1 indicator: 1 in treated unit-periods, i.e. after adoption)
 * or --group (the unit's first treated period; 0 or an empty cell = never
 * treated, as in the did package and --method cs; a period after the last
 * one also counts as never treated within the panel).  --aggregate picks
 * the estimator: twfe (default), 2x2, event, or event:LO:HI with binned
 * endpoints.  For 2x2 and event, --treat must be absorbing (once 1, always
 * 1).  --covariates are time-varying regressors; --cluster defaults to
 * --id; --se CR0|CR1|CR2|CR3 (default CR2, Satterthwaite df).
 *
 * --inference wild (twfe only; --draws B default 999, --weights
 * rademacher|webb, --seed default 1) replaces the ATT's p-value and interval
 * by the restricted wild cluster bootstrap (analysis/wildboot.c) of the
 * same regression: y and the regressors (treatment, period dummies,
 * covariates) demeaned within unit, no intercept, clustered as the fit;
 * the ATT of that regression is checked against did's to 1e-10.
 */
#include "estimate.h"
#include "syfosim/did.h"
#include "syfosim/error.h"
#include "syfosim/wildboot.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return 0;
    return 1;
}

/* Period code of value v among sorted pv[0..T-1], or (size_t)-1. */
static size_t find_period(const double *pv, size_t T, double v)
{
    size_t lo = 0, hi = T;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (pv[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < T && pv[lo] == v ? lo : (size_t)-1;
}

/* adopt[] from --group (first treated period; 0/empty = never). */
static int adopt_from_group(const est_opts *o, const syf_dataset *d, const size_t *unit,
                            const char **ulabels, const double *pv, size_t T, size_t *adopt,
                            size_t *first_row)
{
    size_t col;
    int st = syf_dataset_column_find(d, o->group, &col);
    if (st)
        return st;
    const syf_column *c = &d->cols[col];
    for (size_t i = 0; i < d->n_rows; i++) {
        size_t a;
        if (blank(c->str[i]) || c->num[i] == 0)
            a = SYF_DID_NEVER;
        else if (!isfinite(c->num[i]))
            return syf_error_set(SYF_EINPUT,
                                 "%s:%zu: --group %s: '%s' is not a period (use 0 or an empty "
                                 "cell for never-treated units)",
                                 o->data, d->line[i], o->group, c->str[i]);
        else if (c->num[i] > pv[T - 1])
            a = SYF_DID_NEVER; /* treated after the panel ends */
        else if ((a = find_period(pv, T, c->num[i])) == (size_t)-1)
            return syf_error_set(SYF_EINPUT,
                                 "%s:%zu: --group %s: '%s' is not one of the periods in --time "
                                 "%s",
                                 o->data, d->line[i], o->group, c->str[i], o->time);
        size_t u = unit[i];
        if (first_row[u] == (size_t)-1) {
            first_row[u] = i;
            adopt[u] = a;
        } else if (adopt[u] != a) {
            return syf_error_set(SYF_EINPUT,
                                 "%s:%zu: --group %s: unit '%s' has first treated period '%s' "
                                 "here but '%s' on line %zu (it must be constant within a unit)",
                                 o->data, d->line[i], o->group, ulabels[u], c->str[i],
                                 c->str[first_row[u]], d->line[first_row[u]]);
        }
    }
    return SYF_OK;
}

/* adopt[] from --treat: the first period with D = 1; `absorbing` checks that
 * D = 1{t >= adoption} in every row. */
static int adopt_from_treat(const est_opts *o, const syf_dataset *d, const double *D,
                            const size_t *unit, const size_t *tcode, size_t nU,
                            const char **ulabels, const char **tlabels, int absorbing,
                            size_t *adopt)
{
    for (size_t u = 0; u < nU; u++)
        adopt[u] = SYF_DID_NEVER;
    for (size_t i = 0; i < d->n_rows; i++) {
        if (D[i] != 0 && D[i] != 1)
            return syf_error_set(SYF_EINPUT, "%s:%zu: --treat %s: %g is not 0 or 1", o->data,
                                 d->line[i], o->treat, D[i]);
        if (D[i] == 1 && (adopt[unit[i]] == SYF_DID_NEVER || tcode[i] < adopt[unit[i]]))
            adopt[unit[i]] = tcode[i];
    }
    for (size_t i = 0; i < d->n_rows && absorbing; i++) {
        size_t a = adopt[unit[i]];
        if (a != SYF_DID_NEVER && tcode[i] > a && D[i] == 0)
            return syf_error_set(SYF_EINPUT,
                                 "%s:%zu: --treat %s: unit '%s' is untreated in period %s after "
                                 "being treated in %s; 2x2 and event studies need a treatment "
                                 "that stays on (use --aggregate twfe, or --group)",
                                 o->data, d->line[i], o->treat, ulabels[unit[i]],
                                 tlabels[tcode[i]], tlabels[a]);
    }
    return SYF_OK;
}

/* --inference analytic|wild with --draws, --weights, --seed (wild: twfe
 * only).  *wild = 0 for analytic inference. */
static int parse_wild(const est_opts *o, syf_did_type type, int *wild, size_t *draws,
                      syf_wild_weights *weights, uint64_t *seed)
{
    *wild = 0;
    *draws = 999;
    *weights = SYF_WILD_RADEMACHER;
    *seed = 1;
    if (o->inference && !strcmp(o->inference, "wild"))
        *wild = 1;
    else if (o->inference && strcmp(o->inference, "analytic") != 0)
        return syf_error_set(SYF_EINPUT,
                             "--inference: '%s' is not available for --method did (choose "
                             "analytic or wild)",
                             o->inference);
    if (!*wild) {
        const char *bad = o->draws ? "draws" : o->weights ? "weights" : o->seed ? "seed" : NULL;
        if (bad)
            return syf_error_set(SYF_EINPUT, "--%s is used only with --inference wild", bad);
        return SYF_OK;
    }
    if (type != SYF_DID_TWFE)
        return syf_error_set(SYF_EINPUT, "--inference wild tests the ATT of --aggregate twfe "
                                         "only");
    if (o->weights && syf_wild_weights_parse(o->weights, weights) != SYF_OK)
        return syf_error_set(SYF_EINPUT, "--weights: unknown weights '%s' (choose rademacher "
                                         "or webb)", o->weights);
    if (o->draws) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(o->draws, &end, 10);
        if (end == o->draws || *end || errno || o->draws[0] == '-' || v < 1 || v > 10000000ULL)
            return syf_error_set(SYF_EINPUT, "--draws: '%s' is not a whole number from 1 to "
                                             "10000000", o->draws);
        *draws = (size_t)v;
    }
    if (o->seed) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(o->seed, &end, 10);
        if (end == o->seed || *end || errno || o->seed[0] == '-')
            return syf_error_set(SYF_EINPUT, "--seed: '%s' is not a non-negative whole number",
                                 o->seed);
        *seed = (uint64_t)v;
    }
    return SYF_OK;
}

/* The TWFE regression with unit effects absorbed: columns D_it, the
 * dummies of periods 1..T-1 and the k covariates, each (and y) minus its
 * unit mean; then the wild bootstrap of column 0.  Checks that the OLS ATT
 * equals did's `att`. */
static int did_wild(size_t n, const double *y, const size_t *unit, size_t nU,
                    const size_t *tcode, size_t T, const size_t *adopt, const double *D,
                    const double *X, size_t k, const size_t *cl, size_t G, double att,
                    const syf_wild_options *wo, syf_wild_result *res, syf_wild_workspace **wsp)
{
    const size_t P = 1 + (T - 1) + k;
    double *Z = calloc(n * P, sizeof *Z), *yz = malloc(n * sizeof *yz);
    double *sum = calloc(nU * (P + 1), sizeof *sum);
    size_t *cnt = calloc(nU, sizeof *cnt);
    int st = SYF_OK;
    if (!Z || !yz || !sum || !cnt)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        for (size_t i = 0; i < n; i++) {
            double *z = Z + i * P;
            z[0] = D ? D[i] : adopt[unit[i]] != SYF_DID_NEVER && tcode[i] >= adopt[unit[i]];
            if (tcode[i] > 0)
                z[tcode[i]] = 1.0;
            for (size_t j = 0; j < k; j++)
                z[T + j] = X[i * k + j];
            yz[i] = y[i];
            double *s = sum + unit[i] * (P + 1);
            for (size_t c = 0; c < P; c++)
                s[c] += z[c];
            s[P] += y[i];
            cnt[unit[i]]++;
        }
        for (size_t i = 0; i < n; i++) {
            const double *s = sum + unit[i] * (P + 1);
            const double m = (double)cnt[unit[i]];
            for (size_t c = 0; c < P; c++)
                Z[i * P + c] -= s[c] / m;
            yz[i] -= s[P] / m;
        }
        *wsp = syf_wild_alloc(n, P, cl ? G : nU, wo->draws);
        if (!*wsp)
            st = syf_error_set(SYF_ENOMEM, "out of memory (wild bootstrap with %zu draws)",
                               wo->draws);
    }
    if (st == SYF_OK)
        st = syf_wild_test(*wsp, n, Z, yz, cl ? cl : unit, cl ? G : nU, wo, res);
    if (st == SYF_OK && !(fabs(res->estimate - att) <= 1e-10 * fmax(1.0, fabs(att))))
        st = syf_error_set(SYF_ERUNTIME,
                           "internal error: the demeaned regression's ATT %.12g differs from "
                           "did's %.12g",
                           res->estimate, att);
    free(Z);
    free(yz);
    free(sum);
    free(cnt);
    return st;
}

int est_did(const est_opts *o, const syf_dataset *d, est_table *out)
{
    syf_did_spec spec = {SYF_DID_TWFE, SYF_VCOV_CR2, o->level_value, 0, 0, 0};
    if (o->aggregate && syf_did_type_parse(o->aggregate, &spec.type, &spec.binned, &spec.bin_lo,
                                           &spec.bin_hi) != SYF_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", syf_error_message()); /* no overlapping copy */
        return syf_error_set(SYF_EINPUT, "--aggregate: %s", msg);
    }
    if (o->se && syf_vcov_type_parse(o->se, &spec.vcov) != SYF_OK)
        return syf_error_set(SYF_EINPUT,
                             "--se: unknown standard-error type '%s' (choose CR0, CR1, CR2 or "
                             "CR3)",
                             o->se);
    if (!o->treat == !o->group)
        return syf_error_set(SYF_EINPUT,
                             "--method did needs exactly one of --treat (0/1, 1 in treated "
                             "unit-periods) or --group (first treated period, 0 or empty = "
                             "never treated)");
    int wild;
    size_t draws;
    syf_wild_weights weights;
    uint64_t seed;
    int wst = parse_wild(o, spec.type, &wild, &draws, &weights, &seed);
    if (wst != SYF_OK)
        return wst;

    const size_t n = d->n_rows;
    const size_t first_cov = o->treat ? 2 : 1, k = o->n_terms - first_cov;
    const double *y, *time, *D = NULL;
    size_t *unit = NULL, *tcode = NULL, *cl = NULL, nU = 0, T = 0, G = 0;
    const char **ulabels = NULL, **tlabels = NULL, **clabels = NULL;
    double *pv = NULL, *X = NULL;
    size_t *adopt = NULL, *first_row = NULL, *last = NULL, *order = NULL, *ustart = NULL;
    syf_did_workspace *w = NULL;
    syf_wild_workspace *ww = NULL;
    syf_wild_result wr;
    int st = est_numeric(d, "outcome", o->outcome, &y);
    if (st == SYF_OK)
        st = est_numeric(d, "time", o->time, &time);
    if (st == SYF_OK && o->treat)
        st = est_numeric(d, "treat", o->treat, &D);
    if (st == SYF_OK)
        st = est_factor(d, "id", o->id, &unit, &nU, &ulabels);
    if (st == SYF_OK)
        st = est_factor(d, "time", o->time, &tcode, &T, &tlabels);
    if (st == SYF_OK && o->cluster)
        st = est_factor(d, "cluster", o->cluster, &cl, &G, &clabels);
    if (st == SYF_OK && n == 0)
        st = syf_error_set(SYF_EINPUT, "%s: no data rows", o->data);
    if (st == SYF_OK) {
        pv = malloc(T * sizeof *pv);
        adopt = malloc(nU * sizeof *adopt);
        first_row = malloc(nU * sizeof *first_row);
        last = malloc(T * sizeof *last);
        order = malloc(n * sizeof *order);
        ustart = calloc(nU + 1, sizeof *ustart);
        X = malloc((k ? n * k : 1) * sizeof *X);
        if (!pv || !adopt || !first_row || !last || !order || !ustart || !X)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
    }
    if (st == SYF_OK) {
        for (size_t i = 0; i < n; i++) {
            pv[tcode[i]] = time[i];
            ustart[unit[i] + 1]++;
        }
        for (size_t u = 0; u < nU; u++) {
            ustart[u + 1] += ustart[u];
            first_row[u] = (size_t)-1;
        }
        for (size_t i = 0; i < n; i++)
            order[ustart[unit[i]]++] = i; /* ustart[u] now ends unit u */
        for (size_t t = 0; t < T; t++)
            last[t] = (size_t)-1;
        /* at most one row per unit and period */
        for (size_t r = 0; r < n && st == SYF_OK; r++) {
            size_t i = order[r];
            if (last[tcode[i]] == unit[i])
                st = syf_error_set(SYF_EINPUT, "%s:%zu: unit '%s' appears twice in period %s",
                                   o->data, d->line[i], ulabels[unit[i]], tlabels[tcode[i]]);
            last[tcode[i]] = unit[i];
        }
    }
    if (st == SYF_OK && o->group)
        st = adopt_from_group(o, d, unit, ulabels, pv, T, adopt, first_row);
    if (st == SYF_OK && o->treat)
        st = adopt_from_treat(o, d, D, unit, tcode, nU, ulabels, tlabels,
                              spec.type != SYF_DID_TWFE, adopt);
    for (size_t j = 0; j < k && st == SYF_OK; j++) {
        const double *col;
        st = est_numeric(d, "covariates", o->terms[first_cov + j], &col);
        for (size_t i = 0; i < n && st == SYF_OK; i++)
            X[i * k + j] = col[i];
    }
    if (st == SYF_OK && o->cluster && G < 2)
        st = syf_error_set(SYF_EINPUT,
                           "%s: --cluster %s: fewer than 2 clusters (found %zu); "
                           "cluster-robust standard errors need at least 2",
                           o->data, o->cluster, G);
    if (st == SYF_OK && !o->cluster && nU < 2)
        st = syf_error_set(SYF_EINPUT, "%s: --id %s: fewer than 2 units", o->data, o->id);
    if (st == SYF_OK && !(w = syf_did_alloc(n, nU, T, k, o->cluster ? G : nU)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    syf_did_result r;
    if (st == SYF_OK) {
        syf_did_data dd = {n,     y,  unit, nU,        tcode,          T,  adopt,
                           o->treat && spec.type == SYF_DID_TWFE ? D : NULL,
                           k ? X : NULL, k, o->terms + first_cov, cl, G};
        st = syf_did_fit(w, &dd, &spec, &r);
        if (st != SYF_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            size_t bad = syf_did_singular_cluster(w);
            size_t never = 0;
            for (size_t u = 0; u < nU; u++)
                never += adopt[u] == SYF_DID_NEVER;
            if (st == SYF_ESINGULAR && bad != (size_t)-1)
                st = syf_error_set(SYF_EINPUT, "%s: %s '%s': %s", o->data,
                                   o->cluster ? "--cluster: cluster" : "--id: unit",
                                   o->cluster ? clabels[bad] : ulabels[bad], msg);
            else if (st == SYF_ESINGULAR && spec.type == SYF_DID_EVENT && never == 0 &&
                     !spec.binned)
                st = syf_error_set(SYF_EINPUT,
                                   "%s: %s; with no never-treated units an event study needs "
                                   "binned endpoints (--aggregate event:LO:HI)",
                                   o->data, msg);
            else if (st == SYF_ESINGULAR || st == SYF_EINPUT)
                st = syf_error_set(SYF_EINPUT, "%s: %s", o->data, msg);
            else
                st = syf_error_set(st, "%s: %s", o->data, msg);
        }
    }
    if (st == SYF_OK && wild) {
        syf_wild_options wo = {.coef = 0, .null_value = 0, .draws = draws, .weights = weights,
                               .seed = seed, .rep = 0, .level = o->level_value, .want_ci = 1};
        st = did_wild(n, y, unit, nU, tcode, T, adopt,
                      o->treat && spec.type == SYF_DID_TWFE ? D : NULL, X, k, cl, G,
                      r.estimate[0], &wo, &wr, &ww);
    }
    if (st == SYF_OK) {
        static const char *const se_desc[] = {
            "CR0 (no small-sample adjustment)",
            "CR1 (G/(G-1) * (n-1)/(n-p), p without the absorbed unit effects)",
            "CR2 (Bell-McCaffrey, Satterthwaite df)",
            "CR3 ((I - H_gg)^-1 on the absorbed design)",
        };
        size_t n_adopt = 0;
        for (size_t t = 0; t < T; t++)
            last[t] = 0;
        for (size_t u = 0; u < nU; u++)
            if (adopt[u] != SYF_DID_NEVER && !last[adopt[u]]++)
                n_adopt++;
        est_table_note(out, "n = %zu rows, %zu units x %zu periods; %zu treated unit%s "
                            "(%zu adoption period%s), %zu never treated",
                       r.n, r.n_units, r.n_periods, r.n_treated_units,
                       r.n_treated_units == 1 ? "" : "s", n_adopt, n_adopt == 1 ? "" : "s",
                       r.n_never_units);
        est_table_note(out, "clusters = %zu (%s)", r.G, o->cluster ? o->cluster : o->id);
        if (spec.type == SYF_DID_2X2)
            est_table_note(out, "2x2: y ~ treated * post; ATT = treated:post (DiD of the four "
                                "cell means without covariates)");
        else
            est_table_note(out, "%s with unit effects absorbed (within) and %zu period dummies%s",
                           spec.type == SYF_DID_TWFE ? "two-way fixed effects"
                                                     : "event study (reference e=-1)",
                           r.p - r.n_terms,
                           spec.type == SYF_DID_TWFE ? "; ATT = coefficient of the treatment"
                                                     : "");
        if (spec.type != SYF_DID_2X2 && n_adopt > 1)
            est_table_note(out, "staggered adoption: TWFE coefficients mix comparisons with "
                                "already-treated units and are biased when effects change over "
                                "time (Goodman-Bacon 2021); see --method cs");
        est_table_note(out, "standard errors: %s", se_desc[spec.vcov]);
        if (wild) {
            est_table_note(out, "inference for ATT: wild cluster bootstrap, restricted (WCR: H0 "
                                "ATT = 0 imposed) on the unit-demeaned regression, bootstrap-t "
                                "with CR1, symmetric p-value, interval by test inversion");
            if (wr.enumerated)
                est_table_note(out, "  %s weights, all %zu = %d^%zu weight vectors enumerated "
                                    "(deterministic; --seed not used)",
                               syf_wild_weights_name(weights), wr.draws,
                               weights == SYF_WILD_WEBB ? 6 : 2, wr.G);
            else
                est_table_note(out, "  %s weights, B = %zu draws, seed %llu",
                               syf_wild_weights_name(weights), wr.draws,
                               (unsigned long long)seed);
            est_table_note(out, "  ATT: p_value, conf_low, conf_high from the bootstrap (df "
                                "empty); estimate, std_error and statistic analytic; CR1 t = "
                                "%.6g",
                           wr.statistic);
        }
        for (size_t j = 0; j < r.n_terms && st == SYF_OK; j++) {
            if (wild && j == 0)
                st = est_table_add(out, r.term[j], r.estimate[j], r.std_error[j],
                                   r.statistic[j], NAN, wr.p_value, wr.conf_low, wr.conf_high);
            else
                st = est_table_add(out, r.term[j], r.estimate[j], r.std_error[j],
                                   r.statistic[j], r.df[j], r.p_value[j], r.conf_low[j],
                                   r.conf_high[j]);
        }
    }
    syf_wild_free(ww);
    syf_did_free(w);
    free(X);
    free(ustart);
    free(order);
    free(last);
    free(first_row);
    free(adopt);
    free(pv);
    free(clabels);
    free(cl);
    free(tlabels);
    free(tcode);
    free(ulabels);
    free(unit);
    return st;
}
