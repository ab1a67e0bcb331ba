/* did.h — difference-in-differences regressions on panel data.
 *
 * Three estimators on a long panel (rows = unit-periods, any balance), all
 * OLS with cluster-robust variance from the OLS module (ols.h: CR0-CR3,
 * Satterthwaite df for CR2), clustered by unit unless other clusters are
 * given:
 *
 *   SYF_DID_2X2    two groups x two phases: y ~ 1 + treated + post +
 *                  treated:post (+ covariates).  treated = ever treated,
 *                  post = period >= the common adoption period; the
 *                  treated:post coefficient ("ATT") is the DiD of the four
 *                  cell means when there are no covariates.  Needs a single
 *                  adoption period (staggered adoption is rejected).
 *   SYF_DID_TWFE   two-way fixed effects: y_it = a_i + l_t + b D_it (+ x'c).
 *                  D_it is the treatment indicator given, or 1{t >= adoption}.
 *   SYF_DID_EVENT  event study: TWFE with one dummy per relative period
 *                  r = t - adoption (in period steps) of treated units,
 *                  reference r = -1 left out; optionally binned endpoints
 *                  (all r <= lo in one dummy, all r >= hi in another).
 *                  Never-treated units have all dummies 0.
 *
 * Fixed effects.  Unit effects are absorbed by the within transformation
 * (subtract unit means of y and every regressor, exact for unbalanced
 * panels too, Frisch-Waugh-Lovell); period effects are n_periods - 1 dummy
 * columns.  So p = (main terms) + n_periods - 1 + k and a fit costs
 * O(n p^2 + G p^3): fine for hundreds of periods and any number of units.
 * With unit effects absorbed and units nested within clusters, CR2 and its
 * Satterthwaite df equal those of the full dummy-variable regression with a
 * pseudo-inverse adjustment (Pustejovsky & Tipton 2018, JBES 36(4), on
 * absorbed fixed effects nested within clusters; checked against
 * clubSandwich on mpdta to 1e-9); CR1 uses
 * G/(G-1)*(n-1)/(n-p) with p excluding the absorbed unit effects (the
 * fixest / reghdfe convention for fixed effects nested in clusters); CR3 is
 * computed on the absorbed design (with unit dummies it is undefined: each
 * unit's I - H_gg is singular).
 *
 * TWFE under staggered adoption with effects that change over time is a
 * weighted average of 2x2 comparisons some of which use already-treated
 * units as controls (Goodman-Bacon 2021) and can be far from any ATT; use
 * the Callaway & Sant'Anna estimator (cs.h) there.
 *
 * Errors: SYF_EINPUT for bad arguments (codes out of range, non-finite data,
 * staggered adoption for 2x2, no pre or post period, too few rows, bins that
 * do not straddle -1); SYF_ESINGULAR from the OLS fit (e.g. a covariate
 * constant within units, absorbed by the unit effects, or an event study
 * with no never-treated units and no binning).
 */
#ifndef SYFOSIM_DID_H
#define SYFOSIM_DID_H

#include "syfosim/ols.h"

#include <stddef.h>

#define SYF_DID_NEVER ((size_t)-1)

typedef enum { SYF_DID_2X2, SYF_DID_TWFE, SYF_DID_EVENT } syf_did_type;

/* Parse "2x2", "twfe", "event" or "event:LO:HI" (LO <= -2, HI >= 0). */
int syf_did_type_parse(const char *name, syf_did_type *type, int *binned, long *bin_lo,
                       long *bin_hi);

/* A long panel, coded.  Periods are coded 0..n_periods-1 in time order. */
typedef struct {
    size_t n;                 /* rows                                         */
    const double *y;          /* n outcomes                                   */
    const size_t *unit;       /* n unit codes < n_units                       */
    size_t n_units;
    const size_t *period;     /* n period codes < n_periods                   */
    size_t n_periods;
    const size_t *adopt;      /* n_units: period code of first treatment, or
                                 SYF_DID_NEVER (units treated after the panel
                                 ends are SYF_DID_NEVER too)                 */
    const double *treat;      /* n: D_it for TWFE, or NULL to use adopt       */
    const double *X;          /* n x k covariates, row-major, or NULL         */
    size_t k;
    const char *const *x_names; /* k names for the result, or NULL ("x1", ...) */
    const size_t *cluster;    /* n cluster codes < G, or NULL: by unit        */
    size_t G;
} syf_did_data;

typedef struct {
    syf_did_type type;
    syf_vcov_type vcov;
    double level;             /* confidence level (0 means 0.95)              */
    int binned;               /* event study: bin the endpoints               */
    long bin_lo, bin_hi;      /* r <= bin_lo and r >= bin_hi are lumped       */
} syf_did_spec;

/* Results: the reported terms, in order.  2x2: ATT, (Intercept), treated,
 * post, covariates.  TWFE: ATT, covariates.  Event: e=R for each relative
 * period (e<=LO / e>=HI for binned endpoints), covariates.  Period dummies
 * are not reported.  Arrays point into the workspace. */
typedef struct {
    size_t n_terms;
    const char *const *term;
    const double *estimate, *std_error, *statistic, *df, *p_value, *conf_low, *conf_high;
    size_t n, n_units, n_periods, G, p; /* rows, units, periods, clusters, OLS columns */
    size_t n_treated_units, n_never_units;
    const syf_ols_result *ols;          /* the underlying fit (all p columns)  */
} syf_did_result;

typedef struct syf_did_workspace syf_did_workspace;

/* A workspace for panels of up to n_max rows, n_units_max units,
 * n_periods_max periods, k_max covariates and G_max clusters.  The OLS
 * workspace inside is allocated on the first fit and again only when the
 * number of columns changes, so repeated fits of one design allocate
 * nothing.  NULL if out of memory. */
syf_did_workspace *syf_did_alloc(size_t n_max, size_t n_units_max, size_t n_periods_max,
                                 size_t k_max, size_t G_max);
void syf_did_free(syf_did_workspace *w);

int syf_did_fit(syf_did_workspace *w, const syf_did_data *data, const syf_did_spec *spec,
                syf_did_result *res);

/* After SYF_ESINGULAR from a CR2/CR3 fit: the cluster code whose I - H_gg
 * was singular, else (size_t)-1. */
size_t syf_did_singular_cluster(const syf_did_workspace *w);

#endif
