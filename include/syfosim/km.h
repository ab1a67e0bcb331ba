/* km.h — Kaplan–Meier product-limit estimator by group.
 *
 * Used for the "share still on sick leave by days since spell start" curves
 * (by arm, diagnosis, ...) in run outputs and reports, and as the
 * time-to-event summary in diagnoses.  Results match R's
 * survival::survfit(Surv(time, event) ~ group): one step point per distinct
 * time (event or censoring) in each group, events counted before
 * censorings at a tied time, Greenwood variance, and the median as
 * print(survfit) reports it.
 */
#ifndef SYFOSIM_KM_H
#define SYFOSIM_KM_H

#include <stddef.h>

/* One step point of a group's curve, as a row of summary(survfit(...),
 * censored = TRUE). */
typedef struct {
    double time;
    size_t n_risk;   /* at risk just before `time` (time_i >= time)        */
    size_t n_event;  /* events at `time`                                   */
    size_t n_censor; /* censorings at `time`                               */
    double surv;     /* S(time), right-continuous                          */
    double std_err;  /* Greenwood SE of S(time) (summary.survfit std.err)  */
    double se_log;   /* SE of -log S(time), survfit's $std.err             */
} syf_km_point;

typedef struct syf_km syf_km;

/* Fit the curves.  time[i] finite (any sign), event[i] 1 = event,
 * 0 = censored; group[i] in 0..K-1, or group == NULL for one curve (then K
 * must be 0 or 1).  Groups without observations give empty curves.
 * O(n log n).  Returns SYF_EINPUT on bad input, SYF_ENOMEM on allocation
 * failure; *out is NULL on failure. */
int syf_km_fit(size_t n, const double *time, const int *event,
               const size_t *group, size_t K, syf_km **out);

void syf_km_free(syf_km *km);

/* Number of groups K (1 when fitted without groups). */
size_t syf_km_n_groups(const syf_km *km);

/* Observations and events in group g (0 if g is out of range). */
size_t syf_km_group_n(const syf_km *km, size_t g);
size_t syf_km_group_events(const syf_km *km, size_t g);

/* The step points of group g, ordered by time; *n_points receives their
 * number (0 and NULL returned for an empty or out-of-range group). */
const syf_km_point *syf_km_points(const syf_km *km, size_t g,
                                  size_t *n_points);

/* S(t) for group g: 1 before the first step point, right-continuous
 * (NaN if g is out of range or the group is empty). */
double syf_km_surv_at(const syf_km *km, size_t g, double t);

/* Median survival time of group g as print(survfit) and
 * summary(survfit)$table report it: the first time S(t) <= 0.5; where S is
 * exactly 0.5 (within sqrt(DBL_EPSILON)) there and drops later, the
 * midpoint between that time and the time of the next drop (if it never
 * drops again, that first time).  NaN if S never reaches 0.5. */
double syf_km_median(const syf_km *km, size_t g);

#endif
