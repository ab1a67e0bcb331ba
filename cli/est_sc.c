/* est_sc.c — `estimate --method sc`: synthetic control (analysis/sc.c) on a
 * long, balanced panel.
 *
 * --id names the unit column, --time the period column (periods ordered
 * numerically when they are numbers), --outcome the outcome and --treat a
 * 0/1 column that is 1 exactly on the treated unit's post-treatment rows
 * (the layout of synthdid's california_prop99.csv): it gives both the
 * treated unit and the first treated period.  --unit LABEL, if given, must
 * name that unit (a check against a mislabelled column).  Every unit must
 * have exactly one row per period.
 *
 * Rows: `att` (mean post-period gap, p_value = placebo rank / number of
 * units, ADH 2010; no standard error) and `gap(t=PERIOD)` for each
 * post-treatment period.  The notes list the pre-period fit, the placebo
 * rank and the donor weights.
 */
#include "estimate.h"
#include "syfosim/error.h"
#include "syfosim/sc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same label?  Exact text, or the same number ("1" and "1.0"). */
static int same_label(const char *a, const char *b)
{
    if (!strcmp(a, b))
        return 1;
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    return ea != a && eb != b && !*ea && !*eb && x == y;
}

int est_sc(const est_opts *o, const syf_dataset *d, est_table *out)
{
    const size_t n = d->n_rows;
    const double *y = NULL, *tr = NULL;
    size_t *uc = NULL, *tc = NULL, N = 0, T = 0;
    const char **ul = NULL, **tl = NULL;
    double *Y = NULL;
    size_t *seen = NULL;
    syf_sc_workspace *w = NULL;
    int st = est_numeric(d, "outcome", o->outcome, &y);
    if (st == SYF_OK)
        st = est_numeric(d, "treat", o->treat, &tr);
    if (st == SYF_OK)
        st = est_factor(d, "id", o->id, &uc, &N, &ul);
    if (st == SYF_OK)
        st = est_factor(d, "time", o->time, &tc, &T, &tl);
    if (st == SYF_OK && (N < 2 || T < 2))
        st = syf_error_set(SYF_EINPUT, "%s: synthetic control needs at least 2 units and 2 periods "
                                       "(found %zu and %zu)",
                           o->data, N, T);
    if (st == SYF_OK) {
        Y = malloc(N * T * sizeof *Y);
        seen = calloc(N * T, sizeof *seen);
        if (!Y || !seen)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
    }
    /* reshape, checking balance and the treatment column */
    size_t treated = (size_t)-1;
    for (size_t i = 0; st == SYF_OK && i < n; i++) {
        size_t k = uc[i] * T + tc[i];
        if (seen[k])
            st = syf_error_set(SYF_EINPUT, "%s:%zu: unit '%s' has a second row for %s '%s' (line %zu)",
                               o->data, d->line[i], ul[uc[i]], o->time, tl[tc[i]], seen[k]);
        else if (tr[i] != 0 && tr[i] != 1)
            st = syf_error_set(SYF_EINPUT, "%s:%zu: column '%s' must be 0 or 1 (found %g)", o->data,
                               d->line[i], o->treat, tr[i]);
        else if (tr[i] == 1 && treated != (size_t)-1 && treated != uc[i])
            st = syf_error_set(SYF_EINPUT,
                               "%s:%zu: column '%s' marks two units as treated ('%s' and '%s'); "
                               "synthetic control needs exactly one",
                               o->data, d->line[i], o->treat, ul[treated], ul[uc[i]]);
        if (st)
            break;
        seen[k] = d->line[i];
        Y[k] = y[i];
        if (tr[i] == 1)
            treated = uc[i];
    }
    for (size_t k = 0; st == SYF_OK && k < N * T; k++)
        if (!seen[k])
            st = syf_error_set(SYF_EINPUT,
                               "%s: unit '%s' has no row for %s '%s' (the panel must be balanced)",
                               o->data, ul[k / T], o->time, tl[k % T]);
    if (st == SYF_OK && treated == (size_t)-1)
        st = syf_error_set(SYF_EINPUT, "%s: column '%s' is 0 on every row: no treated unit",
                           o->data, o->treat);
    size_t T0 = 0;
    if (st == SYF_OK) {
        /* the treated rows must be a suffix of the periods */
        double *trm = malloc(N * T * sizeof *trm);
        if (!trm)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
        for (size_t i = 0; st == SYF_OK && i < n; i++)
            trm[uc[i] * T + tc[i]] = tr[i];
        if (st == SYF_OK) {
            T0 = T;
            for (size_t t = 0; t < T; t++)
                if (trm[treated * T + t] == 1) {
                    T0 = t;
                    break;
                }
            for (size_t t = T0; t < T && st == SYF_OK; t++)
                if (trm[treated * T + t] != 1)
                    st = syf_error_set(SYF_EINPUT,
                                       "%s: unit '%s' is treated from %s '%s' but column '%s' is 0 "
                                       "at '%s': treatment must continue to the last period",
                                       o->data, ul[treated], o->time, tl[T0], o->treat, tl[t]);
            if (st == SYF_OK && T0 == 0)
                st = syf_error_set(SYF_EINPUT,
                                   "%s: unit '%s' is treated in the first period '%s': no "
                                   "pre-treatment periods to fit",
                                   o->data, ul[treated], tl[0]);
        }
        free(trm);
    }
    if (st == SYF_OK && o->unit && !same_label(o->unit, ul[treated]))
        st = syf_error_set(SYF_EINPUT, "--unit '%s': column '%s' marks unit '%s' as treated",
                           o->unit, o->treat, ul[treated]);
    if (st == SYF_OK && !(w = syf_sc_alloc(N, T)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    syf_sc_result r;
    if (st == SYF_OK) {
        st = syf_sc_fit(w, N, T, T0, Y, treated, 1, &r);
        if (st) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            st = syf_error_set(st, "%s: %s", o->data, msg);
        }
    }
    if (st == SYF_OK) {
        est_table_note(out, "synthetic control (Abadie, Diamond & Hainmueller 2010); predictors: "
                            "the pre-period outcomes, equally weighted (V = I)");
        est_table_note(out, "treated unit '%s'; %zu donors; pre-periods %s..%s (%zu), post-periods "
                            "%s..%s (%zu)",
                       ul[treated], N - 1, tl[0], tl[T0 - 1], T0, tl[T0], tl[T - 1], T - T0);
        if (isnan(r.p_value))
            est_table_note(out, "pre-period RMSPE %.6g, post/pre RMSPE ratio %.6g; no placebo "
                                "inference with a single donor",
                           r.rmspe_pre, r.ratio);
        else
            est_table_note(out, "pre-period RMSPE %.6g, post/pre RMSPE ratio %.6g; placebo rank %zu "
                                "of %zu: p = %.6g",
                           r.rmspe_pre, r.ratio, r.rank, N, r.p_value);
        /* weights, largest first, in one or more note lines */
        char line[512];
        size_t used = (size_t)snprintf(line, sizeof line, "weights:");
        size_t shown = 0, nz = 0;
        for (size_t u = 0; u < N; u++)
            nz += r.weights[u] > 0;
        unsigned char *done = calloc(N, 1);
        for (size_t s = 0; done && s < nz; s++) {
            size_t best = N;
            for (size_t u = 0; u < N; u++)
                if (!done[u] && r.weights[u] > 0 && (best == N || r.weights[u] > r.weights[best]))
                    best = u;
            done[best] = 1;
            char item[160];
            int len = snprintf(item, sizeof item, " %s %.6f", ul[best], r.weights[best]);
            if (len < 0)
                break;
            if (used + (size_t)len + 1 >= 100) {
                est_table_note(out, "%s", line);
                used = (size_t)snprintf(line, sizeof line, "        ");
            }
            snprintf(line + used, sizeof line - used, "%s", item);
            used += (size_t)len;
            shown++;
        }
        free(done);
        est_table_note(out, "%s%s", line, shown ? "" : " (none)");
        est_table_note(out, "%zu donor%s with zero weight", N - 1 - nz, N - 1 - nz == 1 ? "" : "s");
        st = est_table_add(out, "att", r.att, NAN, NAN, NAN, r.p_value, NAN, NAN);
        for (size_t t = T0; t < T && st == SYF_OK; t++) {
            char term[128];
            snprintf(term, sizeof term, "gap(t=%s)", tl[t]);
            st = est_table_add(out, term, r.gap[t], NAN, NAN, NAN, NAN, NAN, NAN);
        }
    }
    syf_sc_free(w);
    free(Y);
    free(seen);
    free(uc);
    free(tc);
    free(ul);
    free(tl);
    return st;
}
