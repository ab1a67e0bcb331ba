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
 * It also keeps the index spell's length and end in both versions (the cox
 * estimand) and, per office, what an evaluator would know before the pilot
 * (log size; a baseline sick-leave proxy) for the ipw propensity model.
 *
 * syf_trial_estimate_fit() fits the analysis model of trial.estimator.
 * Every model reports the treatment's estimate, SE and CI; a model that
 * cannot be applied to the scenario (syf_trial_estimator_check) or to the
 * data fails with a status and a message naming trial.estimator -- never a
 * silent fallback to another model.
 *
 *   ols (default)  the outcome on the treatment with the design's fixed
 *          effects (strata, pairs, periods; office and period for staggered
 *          rollout), cluster-robust by office (trial.se: CR2 by default; by
 *          person for an individual RCT).  Estimand: the SATE.
 *   lmm, gee  the same mean model with a random office intercept (REML,
 *          Satterthwaite df; Hussey-Hughes with periods) or an exchangeable
 *          working correlation by office (robust SE).  Estimand: the SATE.
 *   logit  trial.outcome = work_12m only: logistic regression with the
 *          design's fixed effects (office dummies under staggered rollout),
 *          cluster-robust by office (CR1, Stata's G/(G-1); CR0 with
 *          trial.se = CR0); reported as the average marginal effect (the
 *          mean over the analysed of p(z=1) - p(z=0): a risk difference)
 *          with a delta-method SE, normal reference (df NAN).  Estimand: the
 *          SATE, which for a 0/1 outcome is a risk difference.
 *   cox    time from the triage day to the end of the index spell
 *          (index_days - triage_day; event = index_event: return to work,
 *          full or graded, job change or maximum reached; censored at the
 *          end of follow-up).  Participants are recruited by reaching the
 *          triage day, so all are at risk until it: starting the clock there
 *          is equivalent to delayed entry at the triage day, which the Cox
 *          module need not support.  The treatment's log hazard ratio with
 *          the design's fixed effects, Efron ties, robust variance by office
 *          (coxph cluster(), no small-sample factor), df NAN; > 0 = faster
 *          return.  Estimand (est->estimand): the log hazard ratio of a Cox
 *          fit (Efron, no covariates) of the stacked counterfactual data --
 *          every recruited participant twice, the index spell of the NEVER
 *          version with z = 0 and of the ALWAYS version with z = 1.  That is
 *          a marginal (population-averaged) log HR: because hazard ratios are
 *          not collapsible, a fit conditional on fixed effects that predict
 *          the outcome (offices under staggered rollout, periods) targets a
 *          somewhat different, conditional HR, and the diagnosis shows it.
 *   did, cs  stepped_wedge and staggered only: the analysed participants'
 *          outcomes averaged in an office x period panel (every cell must
 *          have a participant: else the fit fails, suggesting fewer periods
 *          or larger offices); an office's group is the period its pilot
 *          starts (never-treated: offices that do not start within the
 *          window).  did = two-way fixed effects (office, period) on the
 *          cells, cluster-robust by office with trial.se (CR2 by default,
 *          Satterthwaite df); cs = Callaway-Sant'Anna ATT(g,t), simple
 *          aggregation, compared with never-treated offices if there are
 *          any, else with not-yet-treated ones (the stepped wedge has none:
 *          its last sequence serves as the comparison and the last period is
 *          dropped), influence-function SE, df NAN.  Estimand: the SATE.
 *          Cell means weight offices (and periods) equally, where the SATE
 *          weights participants: with unequal office sizes and effects that
 *          vary by office or period the target differs somewhat from the
 *          SATE, a real bias that the diagnosis reports.
 *   ipw    designs where the treatment is an office's for the whole window
 *          (self_selected; cluster_rct, stratified_crt, matched_crt): a logit
 *          propensity of the participant's office running the pilot given
 *          log office size and the office's baseline sick-leave proxy
 *          (log office onset-rate effect - log office return-hazard effect,
 *          as design.c's baseline strata, observed with 5 % noise: what
 *          pre-period registers would give an evaluator), fitted at
 *          participant level; Hajek-weighted difference in means with the
 *          M-estimation sandwich by office (CR1; CR0 with trial.se = CR0),
 *          df NAN.  Estimand: the SATE.  It removes the selection only as
 *          far as the proxy captures what offices selected on.
 */
/*
 * trial.inference (ols family only: estimator default / ols) replaces the
 * analytic p-value of the treatment coefficient; estimate and std_error
 * stay the OLS ones.
 *   wild  restricted wild cluster bootstrap (wildboot.h: Rademacher,
 *         trial.inference_draws draws, CR1 bootstrap-t) on the same X, y and
 *         clusters as the OLS fit (the office-absorbed design for staggered
 *         rollout; by person for an individual RCT); its CI by test
 *         inversion replaces the analytic one.  Draws are keyed by the
 *         replication's (seed, rep): reproducible, thread-independent.
 *         Any design but rd.  Caution: with pair fixed effects
 *         (matched_crt: two offices per pair) the WCR is anti-conservative
 *         (msyfo-triage, 12 offices, --null --reps 200: type-I error 0.125,
 *         MCSE 0.023, vs 0.040 analytic and 0.030 ri); prefer ri there.
 *   ri    randomization inference that re-runs the design's own assignment
 *         procedure: draw b = 0..B-1 (B = trial.inference_draws) calls
 *         syf_design_build(sc, pop, seed, rep * 1000003 + b + 1), recomputes
 *         each participant's treatment exactly as syf_trial_collect does (the
 *         office's pilot running on their triage day; the person's own
 *         assignment in an individual RCT) and the transition-period
 *         exclusion, refits the same OLS with the same fixed effects and
 *         takes the studentised statistic T* (trial.se variance).  Outcomes
 *         are not re-simulated (sharp null of no effect).  p = (1 + #{|T*| >=
 *         |T|}) / (1 + B'), B' the draws whose fit is not singular.  The CI
 *         stays the analytic one (name suffix "+ri_p").  Random designs only:
 *         cluster_rct, individual_rct, stratified_crt, matched_crt,
 *         stepped_wedge.
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
    /* the index spell in the NEVER and ALWAYS versions (the cox estimand) */
    int32_t *index_days0, *index_days1;
    uint8_t *index_event0, *index_event1;
    /* per office (n_office entries; the ipw propensity model): log office
     * size and the baseline sick-leave proxy (see syf_trial_collect) */
    size_t n_office;
    double *office_log_size, *office_baseline;
    /* set by syf_trial_collect for trial.inference: the replication's keys
     * (seed, rep) of the world, the population it was built on (borrowed:
     * must outlive the fit when trial.inference = ri) and, per participant,
     * 1 = consented and not lost to attrition (keep without the
     * transition-period rule, which depends on the assignment) */
    uint64_t seed, rep;
    const syf_population *pop;
    uint8_t *consent;
} syf_trial_data;

typedef struct {
    int status; /* SYF_OK, or why the fit failed */
    double estimate, std_error, df, statistic, p_value, conf_low, conf_high;
    double estimand; /* SATE over all recruited participants (cox: marginal log HR) */
    double mean_control, mean_pilot; /* observed means among those analysed */
    size_t n_recruited, n, clusters, n_pilot; /* n = analysed */
    /* trial.inference = wild / ri: the draws used (ri: re-drawn assignments
     * whose fit was not singular; 0 with analytic inference) and the range
     * of their statistics (bootstrap t* at H0 / permutation T*) */
    size_t inference_draws;
    double inference_stat_min, inference_stat_max;
} syf_trial_estimate;

/* Called with each person's spells under the arm they were assigned. */
typedef void (*syf_person_fn)(void *ctx, const syf_world *w, size_t person, int arm,
                              const syf_spell *spells, size_t n_spells, int32_t exited,
                              const syf_service *services, size_t n_services);

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

/* SYF_OK if trial.estimator can analyse the scenario's design and outcome,
 * else SYF_EINPUT with a message naming the keys (e.g. logit without
 * trial.outcome = work_12m, did / cs without a period panel, ipw without
 * office-level treatment).  syf_trial_estimate_fit() calls it first; a
 * command can call it before running any replication. */
int syf_trial_estimator_check(const syf_scenario *sc);

/* What the estimand of a replication is, as labelled in diagnosis outputs:
 * "sate" (average effect over the recruited participants), "log_hr" (cox:
 * marginal log hazard ratio of return) or "cutoff_effect" (rd design). */
const char *syf_trial_estimand_name(const syf_scenario *sc);

/* One full replication: population, assignment, collection, estimate. */
int syf_trial_replicate(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                        syf_trial_estimate *est);

/* Several analyses of one replication (`diagnose --estimators`): one
 * simulation (population, assignment, collection, from scs[0]) feeds the
 * fit of every scs[k] -- the same scenario with other trial.estimator /
 * trial.inference values.  est[k] is bit-identical to what
 * syf_trial_replicate(scs[k], seed, rep, &est[k]) gives; est[k].status says
 * whether analysis k succeeded (a failed simulation fails them all), and
 * when reason is not NULL, reason[k] (reason_size bytes) receives the error
 * message of a failed one ("" otherwise).  Returns SYF_ENOMEM when out of
 * memory, else SYF_OK.  The single_site design simulates per analysis. */
int syf_trial_replicate_multi(const syf_scenario *const *scs, size_t n, uint64_t seed,
                              uint64_t rep, syf_trial_estimate *est, char **reason,
                              size_t reason_size);

#endif
