/* est_cs.c — `estimate --method cs`: Callaway & Sant'Anna group-time ATTs
 * (analysis/cs.c) on a balanced long panel.
 *
 * Columns: --outcome, --id (unit), --time (numeric period), --group (the
 * unit's first treated period; 0 or an empty cell = never treated, as in the
 * did package).  --control never|notyet picks the comparison group (default
 * never).  Without --aggregate every ATT(g,t) is printed, one row each named
 * ATT(g=2004,t=2005); --aggregate simple|dynamic|group prints the overall
 * ATT first (row "ATT"), then the components ATT(e=-3) ... or ATT(g=2004).
 * Standard errors are the analytic influence-function ones (normal
 * reference distribution, df empty).  Unbalanced panels are rejected.
 */
#include "estimate.h"
#include "syfosim/cs.h"
#include "syfosim/error.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Append a row with a normal reference distribution. */
static int add_normal(est_table *out, const char *term, double est, double se, double level)
{
    double z = est / se, zc = gsl_cdf_ugaussian_Pinv(0.5 + level / 2);
    double p = isfinite(z) ? 2 * gsl_cdf_ugaussian_Q(fabs(z)) : NAN;
    return est_table_add(out, term, est, se, z, NAN, p, est - zc * se, est + zc * se);
}

/* Is the cell empty (blanks only)? */
static int blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return 0;
    return 1;
}

/* Per-unit first treated period from --group (INFINITY for 0 or empty). */
static int read_groups(const est_opts *o, const syf_dataset *d, const size_t *unit, size_t n_units,
                       const char **ulabels, double *gunit)
{
    size_t col;
    int st = syf_dataset_column_find(d, o->group, &col);
    if (st)
        return st;
    const syf_column *c = &d->cols[col];
    size_t *first_row = malloc(n_units * sizeof *first_row);
    if (!first_row)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    for (size_t u = 0; u < n_units; u++)
        first_row[u] = (size_t)-1;
    for (size_t i = 0; i < d->n_rows && st == SYF_OK; i++) {
        double g = INFINITY;
        if (blank(c->str[i]) || c->num[i] == 0)
            g = INFINITY;
        else if (isfinite(c->num[i]))
            g = c->num[i];
        else
            st = syf_error_set(SYF_EINPUT,
                               "%s:%zu: --group %s: '%s' is not a period (use 0 or an empty "
                               "cell for never-treated units)",
                               o->data, d->line[i], o->group, c->str[i]);
        if (st)
            break;
        size_t u = unit[i];
        if (first_row[u] == (size_t)-1) {
            first_row[u] = i;
            gunit[u] = g;
        } else if (gunit[u] != g) {
            st = syf_error_set(SYF_EINPUT,
                               "%s:%zu: --group %s: unit '%s' has first treated period '%s' "
                               "here but '%s' on line %zu (it must be constant within a unit)",
                               o->data, d->line[i], o->group, ulabels[u], c->str[i],
                               c->str[first_row[u]], d->line[first_row[u]]);
        }
    }
    free(first_row);
    return st;
}

int est_cs(const est_opts *o, const syf_dataset *d, est_table *out)
{
    syf_cs_control control = SYF_CS_NEVER;
    syf_cs_aggregation agg = SYF_CS_SIMPLE;
    int have_agg = o->aggregate != NULL;
    char msg[512];
    if (o->control && syf_cs_control_parse(o->control, &control) != SYF_OK) {
        snprintf(msg, sizeof msg, "%s", syf_error_message()); /* no overlapping copy */
        return syf_error_set(SYF_EINPUT, "--control: %s", msg);
    }
    if (have_agg && syf_cs_aggregation_parse(o->aggregate, &agg) != SYF_OK) {
        snprintf(msg, sizeof msg, "%s", syf_error_message());
        return syf_error_set(SYF_EINPUT, "--aggregate: %s", msg);
    }

    const size_t n = d->n_rows;
    const double *y, *time;
    size_t *unit = NULL, *tcode = NULL, nU = 0, T = 0;
    const char **ulabels = NULL, **tlabels = NULL;
    double *period = NULL, *gunit = NULL, *Y = NULL;
    unsigned char *seen = NULL;
    syf_cs_workspace *w = NULL;
    int st = est_numeric(d, "outcome", o->outcome, &y);
    if (st == SYF_OK)
        st = est_numeric(d, "time", o->time, &time);
    if (st == SYF_OK)
        st = est_factor(d, "id", o->id, &unit, &nU, &ulabels);
    if (st == SYF_OK)
        st = est_factor(d, "time", o->time, &tcode, &T, &tlabels);
    if (st == SYF_OK && n == 0)
        st = syf_error_set(SYF_EINPUT, "%s: no data rows", o->data);
    if (st == SYF_OK) {
        period = malloc(T * sizeof *period);
        gunit = malloc(nU * sizeof *gunit);
        Y = malloc(nU * T * sizeof *Y);
        seen = calloc(nU * T, 1);
        if (!period || !gunit || !Y || !seen)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
    }
    if (st == SYF_OK)
        st = read_groups(o, d, unit, nU, ulabels, gunit);
    /* Balanced panel: every unit exactly once in every period. */
    for (size_t i = 0; i < n && st == SYF_OK; i++) {
        size_t cell = unit[i] * T + tcode[i];
        period[tcode[i]] = time[i];
        if (seen[cell])
            st = syf_error_set(SYF_EINPUT, "%s:%zu: unit '%s' appears twice in period %s",
                               o->data, d->line[i], ulabels[unit[i]], tlabels[tcode[i]]);
        seen[cell] = 1;
        Y[cell] = y[i];
    }
    for (size_t c = 0; c < nU * T && st == SYF_OK; c++)
        if (!seen[c])
            st = syf_error_set(SYF_EINPUT,
                               "%s: --method cs needs a balanced panel, but unit '%s' has no "
                               "row for period %s (unbalanced panels are not supported yet)",
                               o->data, ulabels[c / T], tlabels[c % T]);
    /* first treated periods must be periods (checked here to name the unit) */
    for (size_t u = 0; u < nU && st == SYF_OK; u++) {
        double g = gunit[u];
        if (isfinite(g) && g > period[0] && g <= period[T - 1]) {
            size_t t = 0;
            while (t < T && period[t] != g)
                t++;
            if (t == T)
                st = syf_error_set(SYF_EINPUT,
                                   "%s: --group %s: unit '%s' has first treated period %.10g, "
                                   "which is not one of the periods in --time %s",
                                   o->data, o->group, ulabels[u], g, o->time);
        }
    }
    if (st == SYF_OK && !(w = syf_cs_alloc(nU, T)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    syf_cs_result r;
    if (st == SYF_OK) {
        st = syf_cs_fit(w, nU, T, Y, period, gunit, control, &r);
        if (st != SYF_OK) {
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            st = syf_error_set(st, "%s: %s", o->data, msg);
        }
    }
    if (st == SYF_OK) {
        char buf[160];
        est_table_note(out, "n = %zu units x %zu periods; %zu treated group%s, %zu never-treated "
                            "unit%s",
                       r.n_units, r.n_periods, r.n_groups, r.n_groups == 1 ? "" : "s",
                       r.n_never, r.n_never == 1 ? "" : "s");
        if (r.n_dropped)
            est_table_note(out, "dropped %zu unit%s already treated in the first period",
                           r.n_dropped, r.n_dropped == 1 ? "" : "s");
        if (r.n_late)
            est_table_note(out, "%zu unit%s first treated after the last period count as "
                                "never treated",
                           r.n_late, r.n_late == 1 ? "" : "s");
        if (r.n_periods < T)
            est_table_note(out, "no never-treated units: periods from %s on dropped and the last "
                                "group used as the comparison group (did package rule)",
                           tlabels[r.n_periods]);
        est_table_note(out, "ATT(g,t): DiD of means (Callaway & Sant'Anna 2021; did::att_gt "
                            "est_method=\"reg\", no covariates), varying base period; "
                            "comparison group: %s",
                       control == SYF_CS_NEVER ? "never treated" : "not yet treated");
        est_table_note(out, "standard errors: analytic, from the influence functions (did with "
                            "bstrap=FALSE, not its multiplier bootstrap); normal reference");
        if (isfinite(r.pretest_p))
            est_table_note(out, "pre-test of parallel trends (all %zu pre-treatment ATT(g,t) = "
                                "0): W = %.4f, p = %.5f",
                           r.pretest_df, r.pretest_stat, r.pretest_p);
        if (!have_agg) {
            for (size_t k = 0; k < r.n_gt && st == SYF_OK; k++) {
                snprintf(buf, sizeof buf, "ATT(g=%.10g,t=%.10g)", r.group[k], r.time[k]);
                st = add_normal(out, buf, r.att[k], r.std_error[k], o->level_value);
            }
        } else {
            syf_cs_aggregate_result a;
            memset(&a, 0, sizeof a);
            st = syf_cs_aggregate(w, agg, &a);
            static const char *const what[] = {
                "simple: post-treatment ATT(g,t) weighted by group size",
                "dynamic: by event time e = t - g; ATT = mean over e >= 0",
                "group: mean post-treatment ATT(g,t) by group; ATT = group-size weighted"};
            if (st == SYF_OK) {
                est_table_note(out, "aggregation %s (did::aggte)", what[agg]);
                st = add_normal(out, "ATT", a.overall, a.overall_se, o->level_value);
            }
            for (size_t c = 0; c < a.n && st == SYF_OK; c++) {
                snprintf(buf, sizeof buf, "ATT(%s=%.10g)", agg == SYF_CS_DYNAMIC ? "e" : "g",
                         a.key[c]);
                st = add_normal(out, buf, a.estimate[c], a.std_error[c], o->level_value);
            }
        }
    }
    syf_cs_free(w);
    free(seen);
    free(Y);
    free(gunit);
    free(period);
    free(tlabels);
    free(tcode);
    free(ulabels);
    free(unit);
    return st;
}
