/* diagnosands.h — Monte Carlo diagnosands with Monte Carlo standard errors.
 *
 * A diagnosis (DESIGN.md §5) runs R replications of design × estimator and
 * keeps one syf_rep_result per replication.  syf_diagnosands_compute()
 * summarises them into bias, SD, RMSE, power, coverage, type-S rate, mean CI
 * width and model-SE accuracy, each with its Monte Carlo standard error
 * (Morris, White & Crowther 2019, Stat Med 38:2074, Table 6, as implemented
 * in rsimsum's perfms()).  syf_diagnosis_write_csv() writes the tidy rows of
 * `diagnosis.csv`.
 */
#ifndef SYFOSIM_DIAGNOSANDS_H
#define SYFOSIM_DIAGNOSANDS_H

#include <stddef.h>
#include <stdio.h>

/* One replication's result for one estimator and one estimand. */
typedef struct {
    double estimand;  /* true value in this replication                   */
    double estimate;  /* point estimate                                   */
    double std_error; /* model-based standard error                       */
    double conf_low;  /* confidence interval limits                       */
    double conf_high;
    double p_value;   /* two-sided p-value of H0: effect = 0              */
    int failed;       /* nonzero: the fit failed (estimate unusable)      */
    int reason;       /* failure reason code (caller-defined, >= 0)       */
} syf_rep_result;

/* A diagnosand and its Monte Carlo standard error (NaN where undefined). */
typedef struct {
    double value;
    double mcse;
} syf_diagnosand;

/* Failure reason codes 0..SYF_DIAG_N_REASONS-2 are counted individually;
 * any other code is counted in the last slot. */
#define SYF_DIAG_N_REASONS 16

typedef struct {
    size_t n_reps;        /* replications passed in                          */
    size_t n_ok;          /* used: not failed, finite estimate and estimand  */
    size_t n_failed;      /* n_reps - n_ok                                   */
    size_t n_failed_by_reason[SYF_DIAG_N_REASONS];
    size_t n_significant; /* ok replications with p_value < alpha            */
    double alpha;

    syf_diagnosand mean_estimand; /* mean(θ), mcse sd(θ)/√n                    */
    syf_diagnosand mean_estimate; /* mean(θ̂), mcse sd(θ̂)/√n                    */
    syf_diagnosand bias;          /* mean(θ̂−θ), mcse sd(θ̂−θ)/√n                */
    syf_diagnosand sd;            /* empirical SE sd(θ̂), mcse sd/√(2(n−1))     */
    syf_diagnosand mse;           /* mean((θ̂−θ)²) (not written to CSV)        */
    syf_diagnosand rmse;          /* √MSE, mcse mcse(MSE)/(2·RMSE)            */
    syf_diagnosand power;         /* share p < alpha, mcse √(p(1−p)/n)        */
    syf_diagnosand coverage;      /* share conf_low ≤ θ ≤ conf_high           */
    syf_diagnosand type_s;        /* among significant: sign(θ̂) ≠ sign(θ)     */
    syf_diagnosand mean_ci_width; /* mean(conf_high − conf_low)               */
    syf_diagnosand mean_se;       /* model SE √mean(SE²) as rsimsum          */
    syf_diagnosand rel_error_se;  /* 100·(mean_se/sd − 1), as rsimsum        */
} syf_diagnosis;

/* Compute every diagnosand over the replications that did not fail.
 *
 * A replication is used when failed == 0 and its estimate and estimand are
 * finite; every other one is counted in n_failed (and by reason; a
 * replication with failed == 0 but a non-finite estimate counts under its
 * `reason`).  NaN in std_error, conf_low/high or p_value of a used
 * replication propagates to the diagnosands that need them.  With n_ok == 0
 * every diagnosand is NaN; MCSEs that need n_ok ≥ 2 are NaN below that.
 * Returns SYF_EINPUT if r is NULL with n > 0, out is NULL or alpha is not
 * in (0, 1). */
int syf_diagnosands_compute(const syf_rep_result *r, size_t n, double alpha,
                            syf_diagnosis *out);

/* Write the tidy rows of one diagnosis:
 *   design,estimator,estimand,diagnosand,value,mcse,n_reps,n_failed
 * one per diagnosand (mean_estimand, mean_estimate, bias, sd, rmse, power,
 * coverage, type_s, mean_ci_width, mean_se, rel_error_se), preceded by the
 * header line if `header` is nonzero.  Numbers use %.10g; NaN is written as
 * an empty field.  Text fields are quoted when they contain a comma, quote
 * or newline.  Returns SYF_ERUNTIME on a write error. */
int syf_diagnosis_write_csv(FILE *f, int header, const char *design,
                            const char *estimator, const char *estimand,
                            const syf_diagnosis *d);

#endif
