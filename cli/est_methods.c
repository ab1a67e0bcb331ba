/* est_methods.c — the table of `syfosim estimate --method` methods.
 * One line per method: name, adapter, optional options, required options. */
#include "estimate.h"

const est_method est_methods[] = {
    {"ols", est_ols, "treat,cluster,covariates,se,level", "",
     "OLS with cluster-robust SE (CR0, CR1, CR2 + Satterthwaite df, CR3)"},
};
const size_t est_n_methods = sizeof est_methods / sizeof est_methods[0];
