/* est_methods.c — the table of `syfosim estimate --method` methods.
 * One line per method: name, adapter, optional options, required options. */
#include "estimate.h"

const est_method est_methods[] = {
    {"ols", est_ols, "treat,cluster,covariates,se,level,inference,draws,weights,seed", "",
     "OLS with cluster-robust SE (CR0, CR1, CR2 + Satterthwaite df, CR3)"},
    {"cox", est_cox, "treat,covariates,cluster,ties,level", "event", "Cox proportional hazards (Efron or Breslow ties), model-based or cluster-robust SE"},
    {"logit", est_logit, "treat,covariates,cluster,level", "", "logistic regression, model-based or cluster-robust SE (Stata G/(G-1))"},
    {"ipw", est_ipw, "covariates,cluster,level", "treat,covariates", "inverse-probability-weighted ATE, logit propensity score, M-estimation sandwich SE"},
    {"lmm", est_lmm, "treat,covariates,time,level", "cluster", "linear mixed model, random intercept per cluster (REML), Satterthwaite df; --time adds period effects (Hussey-Hughes)"},
    {"gee", est_gee, "treat,covariates,level", "cluster", "Gaussian GEE, exchangeable working correlation, robust (sandwich) SE, Wald z"},
    {"did", est_did, "id,time,group,treat,cluster,covariates,aggregate,se,level,inference,draws,weights,seed", "id,time", "difference in differences: --aggregate twfe (default), 2x2 or event[:LO:HI]; unit FE absorbed, cluster-robust SE (default CR2); --inference wild (twfe ATT)"},
    {"cs", est_cs, "id,time,group,control,aggregate,level", "id,time,group", "Callaway-Sant'Anna group-time ATT(g,t); --control never|notyet, --aggregate simple|dynamic|group; influence-function SE"},
    {"sc", est_sc, "unit,level", "id,time,treat", "synthetic control (ADH 2010, V = I): --treat 0/1 marks the treated unit's post rows; placebo-rank p, gap(t=...) rows, weights in the notes"}, {"rd", est_rd, "bandwidth,covariates,cluster,se,level", "running,cutoff", "sharp RD, local-linear triangular kernel (rdrobust): --bandwidth H[,B] (default mserd), --se nn|hc0..hc3; conventional + robust bias-corrected"},
};
const size_t est_n_methods = sizeof est_methods / sizeof est_methods[0];
