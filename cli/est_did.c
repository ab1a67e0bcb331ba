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
 */
#include "estimate.h"
#include "syfosim/did.h"
#include "syfosim/error.h"

#include <math.h>
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

    const size_t n = d->n_rows;
    const size_t first_cov = o->treat ? 2 : 1, k = o->n_terms - first_cov;
    const double *y, *time, *D = NULL;
    size_t *unit = NULL, *tcode = NULL, *cl = NULL, nU = 0, T = 0, G = 0;
    const char **ulabels = NULL, **tlabels = NULL, **clabels = NULL;
    double *pv = NULL, *X = NULL;
    size_t *adopt = NULL, *first_row = NULL, *last = NULL, *order = NULL, *ustart = NULL;
    syf_did_workspace *w = NULL;
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
        for (size_t j = 0; j < r.n_terms && st == SYF_OK; j++)
            st = est_table_add(out, r.term[j], r.estimate[j], r.std_error[j], r.statistic[j],
                               r.df[j], r.p_value[j], r.conf_low[j], r.conf_high[j]);
    }
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
