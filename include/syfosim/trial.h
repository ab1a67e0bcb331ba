/* trial.h — from a simulated world to one trial's data and estimate.
 *
 * syf_trial_collect() simulates every person once under the design's
 * assignment (design.h), hands each person's spells to an optional callback
 * (for register outputs), and builds the trial population: persons whose
 * first spell reaching the triage day does so inside the observation window
 * (the week-8 recruitment of the pilot; defined before any treatment, so it
 * is the same in every version of the world).  For each participant it
 * records the observed outcome and, by re-simulating the person with the
 * same random numbers with the pilot everywhere and nowhere, both potential
 * outcomes: their mean difference is the sample average treatment effect
 * (SATE) of the trial population, the estimand of the diagnosis.  It also
 * records whether the participant was treated (the pilot was running in
 * their office on their triage day), the period, the office's design group
 * (stratum, pair, sequence), and whether they stay in the analysis
 * (consent / attrition, transition periods).
 *
 * syf_trial_estimate_fit() fits OLS of the outcome on the treatment
 * indicator with the design's fixed effects (strata, pairs, periods; office
 * and period for staggered rollout) and cluster-robust standard errors by
 * office (CR2 by default; by person for an individual RCT).
 */
#ifndef SYFOSIM_TRIAL_H
#define SYFOSIM_TRIAL_H

#include "syfosim/design.h"
#include "syfosim/ols.h"
#include "syfosim/population.h"
#include "syfosim/scenario.h"
#include "syfosim/world.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t n, cap;
    uint32_t *person, *office;
    uint8_t *arm;         /* 1 = treated: the pilot ran for them on their triage day */
    uint8_t *keep;        /* 1 = in the analysis (consented, not in a transition period) */
    int16_t *period;      /* period of the triage day (0 without periods) */
    int32_t *group;       /* office's design group (stratum, pair, sequence) or -1 */
    int32_t *index_start; /* absolute day the index spell started */
    int32_t *index_days;  /* length of the index spell (days) */
    uint8_t *index_event; /* 1 = index spell ended (not censored) */
    float *prognosis;     /* index spell's standardised untreated duration index */
    float *score;         /* index spell's risk score (the rd running variable) */
    double *y, *y0, *y1;  /* observed, with the pilot nowhere, with it everywhere */
} syf_trial_data;

typedef struct {
    int status; /* SYF_OK, or why the fit failed */
    double estimate, std_error, df, statistic, p_value, conf_low, conf_high;
    double estimand; /* SATE over all recruited participants */
    double mean_control, mean_pilot; /* observed means among those analysed */
    size_t n_recruited, n, clusters, n_pilot; /* n = analysed */
} syf_trial_estimate;

/* Called with each person's spells under the arm they were assigned. */
typedef void (*syf_person_fn)(void *ctx, const syf_world *w, size_t person, int arm,
                              const syf_spell *spells, size_t n_spells, int32_t exited);

void syf_trial_data_free(syf_trial_data *td);

/* `w->assign` must point at design->assign (or be NULL without a design). */
int syf_trial_collect(const syf_world *w, const syf_design *design, syf_trial_data *td,
                      syf_person_fn fn, void *ctx);

/* Outcome of a person over [start, start + outcome_days) (trial.outcome). */
double syf_trial_outcome(const syf_world *w, const syf_spell *sp, size_t n, int32_t exited,
                         int32_t start);

/* Fit the design's analysis model (allocates its own workspace). */
int syf_trial_estimate_fit(const syf_scenario *sc, const syf_trial_data *td,
                           const syf_design *design, syf_trial_estimate *est);

/* Name of the analysis model, e.g. "ols_CR2+period_fe". */
const char *syf_trial_estimator_name(const syf_scenario *sc);

/* One full replication: population, assignment, collection, estimate. */
int syf_trial_replicate(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                        syf_trial_estimate *est);

#endif
