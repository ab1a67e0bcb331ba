/* cs.h — Callaway & Sant'Anna (2021) group-time average treatment effects.
 *
 * Staggered adoption on a balanced panel: unit i is first treated in period
 * G_i (a "group", or never).  For every treated group g and every period t
 * after the first, ATT(g,t) is the outcome-regression DiD without covariates
 * (the did package's att_gt(est_method = "reg", xformla = ~1), which without
 * covariates is the plain DiD of means):
 *
 *     ATT(g,t) = mean_{G=g}[Y_t - Y_b] - mean_{C}[Y_t - Y_b]
 *
 * Base period b ("varying", the did package's default): for post-treatment
 * cells (t >= g) b is the last period before g; for pre-treatment cells
 * (t < g) b is the period just before t, so pre-period ATT(g,t) are
 * placebo DiDs between consecutive periods.  Comparison group C:
 *   SYF_CS_NEVER   never-treated units (control_group = "nevertreated");
 *   SYF_CS_NOTYET  never-treated units and units first treated after t,
 *                  other than group g itself ("notyettreated").
 * With SYF_CS_NOTYET and no never-treated unit, the did package's rule is
 * used: periods from the last group's first treatment on are dropped and
 * that last group serves as the never-treated group.
 *
 * Groups: G_i = INFINITY means never treated.  A finite G_i must be one of
 * the periods, or at/before the first period (such units are already treated
 * when the panel starts and are dropped, as the did package does), or after
 * the last period (such units are treated as never treated within the panel;
 * the did package instead keeps them as a group with pre-treatment cells only
 * and leaves them out of the never-treated comparison group).
 *
 * Standard errors are analytic, from the influence functions (the did
 * package's values with bstrap = FALSE; its default multiplier bootstrap
 * estimates the same quantity with simulation noise).  With n units, the
 * influence function of ATT(g,t) for unit i is
 *
 *     psi_i = n [ 1{G_i=g} (dY_i - m1)/N1 - 1{i in C} (dY_i - m0)/N0 ]
 *
 * (dY_i = Y_it - Y_ib, m1, m0 group means, N1, N0 group sizes) and
 * SE = sqrt(sum_i psi_i^2) / n.  Aggregations (did::aggte) are weighted
 * averages of ATT(g,t) whose weights P(G=g) are estimated; their influence
 * functions add the weights' part, as the did package does:
 *   simple   post-treatment cells weighted by group size;
 *   dynamic  by event time e = t - g (in the periods' own units), cells with
 *            the same e weighted by group size; overall = mean over e >= 0;
 *   group    by group, the mean of its post-treatment cells; overall =
 *            group-size weighted mean of those.
 *
 * Pre-test (att_gt's Wald test that all pre-treatment ATT(g,t) are zero):
 * W = n a' V^{-1} a with V = sum_i psi_i psi_i' / n over the pre-treatment
 * cells, chi-square with q = number of such cells; computed when
 * 1 <= q <= SYF_CS_PRETEST_MAX and V is positive definite, NAN otherwise.
 *
 * Errors: SYF_EINPUT with a message for bad arguments (unsorted periods,
 * non-finite outcomes, a group value that is not a period, no never-treated
 * unit with SYF_CS_NEVER, no treated group that has a cell).
 * Cost: O(n (T-1)^2) time per fit and per aggregation; memory O(n + T^2)
 * (plus SYF_CS_PRETEST_MAX^2 doubles at most for the pre-test).
 */
#ifndef SYFOSIM_CS_H
#define SYFOSIM_CS_H

#include <stddef.h>

#define SYF_CS_PRETEST_MAX 400

typedef enum { SYF_CS_NEVER, SYF_CS_NOTYET } syf_cs_control;
typedef enum { SYF_CS_SIMPLE, SYF_CS_DYNAMIC, SYF_CS_GROUP } syf_cs_aggregation;

/* Parse "never"/"notyet" and "simple"/"dynamic"/"group" (SYF_EINPUT with a
 * message listing the choices otherwise). */
int syf_cs_control_parse(const char *name, syf_cs_control *control);
int syf_cs_aggregation_parse(const char *name, syf_cs_aggregation *type);

/* A fit's group-time cells, ordered by group, then period.  Arrays point
 * into the workspace and stay valid until the next fit or syf_cs_free(). */
typedef struct {
    size_t n_units;          /* units used (n above)                        */
    size_t n_periods;        /* periods used                                */
    size_t n_dropped;        /* units dropped: treated by the first period   */
    size_t n_late;           /* units first treated after the last period   */
    size_t n_never;          /* units in the never-treated group            */
    size_t n_groups;         /* treated groups with cells                   */
    size_t n_gt;             /* cells                                       */
    const double *group;     /* n_gt: g                                     */
    const double *time;      /* n_gt: t                                     */
    const double *base;      /* n_gt: base period b                         */
    const int *post;         /* n_gt: 1 if t >= g                           */
    const double *att;       /* n_gt */
    const double *std_error; /* n_gt: analytic, from the influence function */
    const size_t *n_treated; /* n_gt: N1 */
    const size_t *n_control; /* n_gt: N0 */
    size_t pretest_df;       /* q (0 if no pre-treatment cell)              */
    double pretest_stat;     /* W, NAN if not computed                      */
    double pretest_p;        /* P(chi2_q > W), NAN if not computed          */
} syf_cs_result;

/* An aggregation: the overall estimate and its components (event times or
 * groups; none for simple).  Arrays valid until the next call. */
typedef struct {
    syf_cs_aggregation type;
    double overall, overall_se;
    size_t n;                /* components                                  */
    const double *key;       /* n: event time e or group g                  */
    const double *estimate;  /* n */
    const double *std_error; /* n */
} syf_cs_aggregate_result;

typedef struct syf_cs_workspace syf_cs_workspace;

/* A workspace for panels of up to n_units_max units and n_periods_max
 * periods.  NULL if out of memory or a size is 0. */
syf_cs_workspace *syf_cs_alloc(size_t n_units_max, size_t n_periods_max);
void syf_cs_free(syf_cs_workspace *w);

/* Fit.  y is n_units x n_periods row-major (a balanced panel: row i holds
 * unit i's outcomes in period order), period[] the strictly increasing
 * period values, group[i] unit i's first treated period or INFINITY for
 * never treated.  No memory is allocated. */
int syf_cs_fit(syf_cs_workspace *w, size_t n_units, size_t n_periods, const double *y,
               const double *period, const double *group, syf_cs_control control,
               syf_cs_result *res);

/* Aggregate the last fit on w.  No memory is allocated. */
int syf_cs_aggregate(syf_cs_workspace *w, syf_cs_aggregation type,
                     syf_cs_aggregate_result *res);

#endif
