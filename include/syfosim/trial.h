/* trial.h — from a simulated world to one trial's data and estimate.
 *
 * syf_design_assign() draws the assignment (cluster RCT by NAV office:
 * complete randomisation of round(treated_share x offices) offices).
 *
 * syf_trial_collect() simulates every person once under their office's
 * arm, hands each person's spells to an optional callback (for register
 * outputs), and builds the trial population: persons whose first spell
 * reaching the triage day does so inside the observation window (the
 * week-8 recruitment of the pilot; defined before any treatment, so it is
 * the same under both arms).  For each participant it records the outcome
 * observed under their arm and, by re-simulating the person under the
 * other arm with the same random numbers, the counterfactual outcome: the
 * mean difference is the sample average treatment effect (SATE) of this
 * trial population, the estimand of the diagnosis.
 *
 * syf_trial_estimate() fits OLS of the outcome on the pilot indicator with
 * cluster-robust (CR2 by default) standard errors by office.
 */
#ifndef SYFOSIM_TRIAL_H
#define SYFOSIM_TRIAL_H

#include "syfosim/ols.h"
#include "syfosim/population.h"
#include "syfosim/scenario.h"
#include "syfosim/world.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t n, cap;
    uint32_t *person, *office;
    uint8_t *arm;         /* 1 = pilot office */
    int32_t *index_start; /* absolute day the index spell started */
    int32_t *index_days;  /* length of the index spell (days) */
    uint8_t *index_event; /* 1 = index spell ended (not censored) */
    double *y, *y0, *y1;  /* observed, under control, under pilot */
} syf_trial_data;

typedef struct {
    int status; /* SYF_OK, or why the fit failed */
    double estimate, std_error, df, statistic, p_value, conf_low, conf_high;
    double estimand; /* SATE over the participants */
    double mean_control, mean_pilot;
    size_t n, clusters, n_pilot;
} syf_trial_estimate;

/* Called with each person's spells under the arm they were assigned. */
typedef void (*syf_person_fn)(void *ctx, const syf_world *w, size_t person, int arm,
                              const syf_spell *spells, size_t n_spells, int32_t exited);

void syf_trial_data_free(syf_trial_data *td);

int syf_design_assign(const syf_scenario *sc, uint64_t seed, uint64_t rep, size_t n_office,
                      uint8_t *arm);

int syf_trial_collect(const syf_world *w, const uint8_t *office_arm, syf_trial_data *td,
                      syf_person_fn fn, void *ctx);

/* Outcome of a person over [start, start + outcome_days) (trial.outcome). */
double syf_trial_outcome(const syf_world *w, const syf_spell *sp, size_t n, int32_t exited,
                         int32_t start);

/* Fit; `ws` must come from syf_ols_alloc(n >= td->n, 2, G >= offices). */
int syf_trial_estimate_fit(const syf_scenario *sc, const syf_trial_data *td, size_t n_office,
                           syf_ols_workspace *ws, syf_trial_estimate *est);

/* One full replication: population, assignment, collection, estimate. */
int syf_trial_replicate(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                        syf_trial_estimate *est);

#endif
