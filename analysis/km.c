/* km.c — Kaplan–Meier product-limit estimator by group (see km.h).
 *
 * The observations are copied into (group, time, event) records and sorted
 * once (O(n log n)); each group is then a contiguous run, swept forward:
 * the number at risk starts at the group size and falls by the events and
 * censorings at each distinct time, so censorings tied with events are
 * still at risk at that time (survfit's convention).  Greenwood's sum
 * d / (n (n - d)) accumulates alongside the product.  The fitted curves feed
 * the KM plots (plot.c) and summaries of time-to-return outcomes.
 */
#include "syfosim/km.h"

#include "syfosim/error.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

struct syf_km {
    size_t K;
    size_t *offset;   /* K + 1: group g's points are [offset[g], offset[g+1]) */
    size_t *n_obs;    /* K */
    size_t *n_events; /* K */
    syf_km_point *pts;
};

typedef struct {
    size_t group;
    double time;
    int event;
} km_rec;

static int rec_cmp(const void *a, const void *b)
{
    const km_rec *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return 0;
}

void syf_km_free(syf_km *km)
{
    if (km == NULL)
        return;
    free(km->offset);
    free(km->n_obs);
    free(km->n_events);
    free(km->pts);
    free(km);
}

int syf_km_fit(size_t n, const double *time, const int *event,
               const size_t *group, size_t K, syf_km **out)
{
    if (out == NULL)
        return syf_error_set(SYF_EINPUT, "km: output pointer is NULL");
    *out = NULL;
    if (n > 0 && (time == NULL || event == NULL))
        return syf_error_set(SYF_EINPUT, "km: time or event is NULL");
    if (group == NULL) {
        if (K > 1)
            return syf_error_set(SYF_EINPUT,
                                 "km: %zu groups requested but no group codes",
                                 K);
        K = 1;
    } else if (K == 0) {
        return syf_error_set(SYF_EINPUT, "km: number of groups is 0");
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(time[i]))
            return syf_error_set(SYF_EINPUT,
                                 "km: time of observation %zu is not finite",
                                 i + 1);
        if (event[i] != 0 && event[i] != 1)
            return syf_error_set(SYF_EINPUT,
                                 "km: event of observation %zu is %d, "
                                 "expected 0 or 1",
                                 i + 1, event[i]);
        if (group != NULL && group[i] >= K)
            return syf_error_set(SYF_EINPUT,
                                 "km: group of observation %zu is %zu, "
                                 "expected 0..%zu",
                                 i + 1, group[i], K - 1);
    }

    syf_km *km = calloc(1, sizeof *km);
    km_rec *rec = malloc((n ? n : 1) * sizeof *rec);
    if (km == NULL || rec == NULL)
        goto nomem;
    km->K = K;
    km->offset = calloc(K + 1, sizeof *km->offset);
    km->n_obs = calloc(K, sizeof *km->n_obs);
    km->n_events = calloc(K, sizeof *km->n_events);
    km->pts = malloc((n ? n : 1) * sizeof *km->pts);
    if (!km->offset || !km->n_obs || !km->n_events || !km->pts)
        goto nomem;

    for (size_t i = 0; i < n; i++) {
        rec[i].group = group ? group[i] : 0;
        rec[i].time = time[i];
        rec[i].event = event[i];
        km->n_obs[rec[i].group]++;
        km->n_events[rec[i].group] += (size_t)event[i];
    }
    qsort(rec, n, sizeof *rec, rec_cmp);

    size_t np = 0, i = 0;
    for (size_t g = 0; g < K; g++) {
        km->offset[g] = np;
        size_t at_risk = km->n_obs[g];
        double surv = 1.0, gw = 0.0;
        while (i < n && rec[i].group == g) {
            double t = rec[i].time;
            size_t d = 0, c = 0;
            for (; i < n && rec[i].group == g && rec[i].time == t; i++) {
                if (rec[i].event)
                    d++;
                else
                    c++;
            }
            if (d > 0) {
                surv *= (double)(at_risk - d) / (double)at_risk;
                gw += d < at_risk ? (double)d / ((double)at_risk *
                                                 (double)(at_risk - d))
                                  : INFINITY;
            }
            syf_km_point *p = &km->pts[np++];
            p->time = t;
            p->n_risk = at_risk;
            p->n_event = d;
            p->n_censor = c;
            p->surv = surv;
            p->se_log = sqrt(gw);
            /* 0 * Inf is NaN, as summary.survfit reports once S hits 0. */
            p->std_err = surv * p->se_log;
            at_risk -= d + c;
        }
    }
    km->offset[K] = np;
    free(rec);
    *out = km;
    return SYF_OK;

nomem:
    free(rec);
    syf_km_free(km);
    return syf_error_set(SYF_ENOMEM, "km: out of memory for %zu observations",
                         n);
}

size_t syf_km_n_groups(const syf_km *km) { return km ? km->K : 0; }

size_t syf_km_group_n(const syf_km *km, size_t g)
{
    return km && g < km->K ? km->n_obs[g] : 0;
}

size_t syf_km_group_events(const syf_km *km, size_t g)
{
    return km && g < km->K ? km->n_events[g] : 0;
}

const syf_km_point *syf_km_points(const syf_km *km, size_t g,
                                  size_t *n_points)
{
    size_t m = 0;
    const syf_km_point *p = NULL;
    if (km && g < km->K) {
        m = km->offset[g + 1] - km->offset[g];
        p = m ? km->pts + km->offset[g] : NULL;
    }
    if (n_points)
        *n_points = m;
    return p;
}

double syf_km_surv_at(const syf_km *km, size_t g, double t)
{
    size_t m;
    const syf_km_point *p = syf_km_points(km, g, &m);
    if (m == 0 || isnan(t))
        return NAN;
    /* Last point with time <= t, by bisection. */
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].time <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 1.0 : p[lo - 1].surv;
}

double syf_km_median(const syf_km *km, size_t g)
{
    size_t m;
    const syf_km_point *p = syf_km_points(km, g, &m);
    const double tol = sqrt(DBL_EPSILON);
    size_t i = 0;
    while (i < m && !(p[i].surv < 0.5 + tol))
        i++;
    if (i == m)
        return NAN;
    if (fabs(p[i].surv - 0.5) < tol) {
        for (size_t j = i + 1; j < m; j++)
            if (p[j].surv < p[i].surv)
                return 0.5 * (p[i].time + p[j].time);
    }
    return p[i].time;
}
