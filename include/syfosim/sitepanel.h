/* sitepanel.h — a single-site pilot analysed by synthetic control.
 *
 * Design ("single site"): one office starts the pilot at the start of
 * period s = trial.periods / 2 (integer division; periods of length
 * run.observation_days / trial.periods, the last days of the window
 * joining the last period, as for the stepped wedge), every other office
 * never.  The pilot office is the one with the highest selection score,
 * as for self_selected (design.h): selection_strength x standardised
 * office recovery effect + N(0,1) noise from the design's stream.  At
 * trial.selection_strength = 0 it is a uniformly random office, so the
 * placebo-in-space test below is (up to the placebo pools excluding the
 * real pilot office) a randomisation test; at strength > 0 offices whose
 * sick-listed return faster volunteer, as in self_selected.  The design's
 * group is 1 for the pilot office and 0 for the others; n_groups = 2;
 * fidelity as design.c (trial.fidelity_min).
 *
 * Analysis: the analysed participants (trial data `keep`) are averaged
 * in an office x period panel by the period of their triage day.  An
 * office with an empty cell is dropped from the donor pool (counted in the
 * note); the pilot office must have every cell (else SYF_EINPUT,
 * suggesting fewer periods or larger offices); at least two donors must
 * remain.  The panel is fitted by synthetic control (sc.h: pre-period
 * outcomes as predictors, V = I, placebo-in-space inference) with the
 * first s periods as the pre-period.
 *
 * Estimate: the SC ATT, the mean post-period gap of the pilot office
 * (cell means weight periods equally); p_value: the placebo rank p
 * (#{offices with post/pre RMSPE ratio >= the pilot office's} / N, with
 * granularity 1/N over the N offices in the panel: at alpha = 0.05 it can
 * reject only if N >= 20); statistic: the pilot office's RMSPE ratio.
 * Synthetic control has no standard error: std_error, df, conf_low and
 * conf_high are NAN.  With few pre-periods the treated office often lies
 * inside the donors' convex hull and its pre-period fit is exact (RMSPE
 * ~ 1e-14): the ratio is then rounding noise, and the note says so
 * (default trial.periods = 5 gives only 2 pre-periods; use more).
 *
 * Estimand: the ATT of the pilot office -- mean (y1 - y0) over its
 * recruited participants (analysed or not) whose triage day is on or after
 * the start, exact from the simulator's potential outcomes.
 * mean_pilot / mean_control: observed means of the analysed in the pilot
 * office's post-period / everywhere else; n_pilot: analysed in those
 * post-period cells; clusters: offices in the panel.
 */
#ifndef SYFOSIM_SITEPANEL_H
#define SYFOSIM_SITEPANEL_H

#include "syfosim/design.h"
#include "syfosim/population.h"
#include "syfosim/scenario.h"
#include "syfosim/trial.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t office;       /* the pilot office                                  */
    int32_t start;       /* its absolute start day                            */
    size_t T, T0;        /* periods in the panel; pre-periods                 */
    size_t n_units;      /* offices in the panel (pilot + donors kept)        */
    size_t n_dropped;    /* donors dropped for an empty cell                  */
    double rmspe_pre, rmspe_post, ratio;
    size_t rank;         /* offices with ratio >= the pilot office's          */
    char note[1024];     /* "sc weights: office 3 0.412, office 7 0.300, ...; ..." */
} syf_sitepanel_info;

/* The single-site design: exactly one office (see above) starts at
 * run.burn_in_days + (trial.periods / 2) x period_days.  SYF_EINPUT with
 * fewer than 3 offices or trial.periods < 2. */
int syf_sitepanel_design(const syf_scenario *sc, const syf_population *pop, uint64_t seed,
                         uint64_t rep, syf_design *d);

/* Panel and synthetic-control fit of collected trial data under a
 * single-site design `d` (the pilot office: the one office that starts
 * after the window opens).  `info` may be NULL. */
int syf_sitepanel_fit(const syf_scenario *sc, const syf_trial_data *td, const syf_design *d,
                      syf_trial_estimate *est, syf_sitepanel_info *info);

/* One replication: population, single-site design, world (trial_only),
 * collection, fit.  est->status is set; `info` may be NULL. */
int syf_sitepanel_replicate_info(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                                 syf_trial_estimate *est, syf_sitepanel_info *info);

/* The same, with syf_trial_replicate()'s signature (for dispatch). */
int syf_sitepanel_replicate(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                            syf_trial_estimate *est);

#endif
