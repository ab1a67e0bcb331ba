/* rd.h — sharp regression discontinuity: local-linear estimate with
 * triangular kernel, robust bias-corrected inference and the MSE-optimal
 * bandwidth, as in rdrobust (Calonico, Cattaneo & Titiunik 2014,
 * Econometrica 82(6); Calonico, Cattaneo, Farrell & Titiunik 2017, Stata
 * Journal 17(2) and 2019, REStat 101(3) for covariates).
 *
 * The treatment switches on at x >= cutoff.  On each side a weighted
 * local-linear regression of y on (1, x - c) with triangular kernel
 * K(u) = (1 - |u|)+ / h gives the conventional estimate
 *     tau = intercept(right) - intercept(left).
 * The bias-corrected estimate subtracts the leading bias estimated with a
 * local quadratic at the pilot bandwidth b; its "robust" standard error
 * accounts for the variability of that correction (CCT 2014).  Rows:
 *     conventional: tau_cl, se_cl;  robust: tau_bc, se_rb.
 * z tests and confidence intervals use the normal distribution.
 *
 * Variance (rdrobust's `vce`):
 *   SYF_RD_NN   nearest-neighbour residuals with 3 matches (rdrobust's
 *               default), ties in x handled as rdrobust does;
 *   SYF_RD_HC0..HC3  plug-in residuals, weighted as in rdrobust (HC1 uses
 *               sqrt(n/(n-k)) with n the fit's observations and k its
 *               coefficients, HC2/HC3 the local leverage).
 * With cluster codes the meat sums scores within clusters and is scaled
 * by (n-1)/(n-k) * G/(G-1) (rdrobust's cluster / nncluster).
 *
 * Covariates Z (CCFT 2019): the same coefficient vector gamma is removed on
 * both sides, y - Z gamma, with gamma from the kernel-weighted within-side
 * regressions (solved with a pseudo-inverse as rdrobust does).
 *
 * Bandwidth when none is given: rdrobust's "mserd" (one common h and b on
 * both sides) with its defaults: p = 1, q = 2, regularisation on,
 * bwrestrict (h, b <= the range of x), masspoints = "adjust" (the pilot
 * bandwidth counts distinct x values and, when 10 % or more of a side are
 * repeated values, no bandwidth is smaller than the 10th distinct value),
 * pilot bandwidth 2.576 * min(sd, IQR/1.349) * M^(-1/5) with the type-2
 * quantile IQR.  Validated against the published rdrobust output on the
 * U.S. Senate data (see tests/unit/test_rd.c).  With only h given, b = h.
 *
 * A fit allocates nothing: the workspace holds sorted copies of the data.
 * Errors: SYF_EINPUT (non-finite data, cutoff outside the interior of x,
 * fewer than 20 observations when a bandwidth must be chosen, a bad
 * bandwidth, a cluster code >= G); SYF_ESINGULAR when a local regression
 * has too few distinct x values within its bandwidth.
 */
#ifndef SYFOSIM_RD_H
#define SYFOSIM_RD_H

#include <stddef.h>

#define SYF_RD_MAX_COVARIATES 63

typedef enum { SYF_RD_NN, SYF_RD_HC0, SYF_RD_HC1, SYF_RD_HC2, SYF_RD_HC3 } syf_rd_vce;

/* "nn", "hc0".."hc3" (case-insensitive); SYF_EINPUT lists the choices. */
int syf_rd_vce_parse(const char *name, syf_rd_vce *vce);
const char *syf_rd_vce_name(syf_rd_vce vce);

typedef struct {
    double cutoff;  /* c (default 0)                                         */
    double h, b;    /* bandwidths; h <= 0 selects mserd; b <= 0 means b = h   */
    syf_rd_vce vce; /* default SYF_RD_NN                                      */
    int masspoints; /* 1 = rdrobust "adjust" (default), 0 = "off"             */
    double level;   /* confidence level in (0,1), default 0.95                */
} syf_rd_options;

void syf_rd_options_default(syf_rd_options *opt);

typedef struct {
    size_t n_left, n_right;    /* observations below / at-or-above the cutoff */
    size_t m_left, m_right;    /* distinct running-variable values            */
    size_t nh_left, nh_right;  /* observations with positive weight at h      */
    size_t nb_left, nb_right;  /* ... at b                                    */
    size_t g_left, g_right;    /* clusters within the estimation windows (0 without) */
    int bw_selected;           /* 1 if h and b were chosen by mserd           */
    double h, b;               /* bandwidths used                             */
    double pilot_c, pilot_d;   /* mserd pilot bandwidths (NAN if not selected) */
    double tau_cl, se_cl, z_cl, p_cl, ci_cl[2]; /* conventional              */
    double tau_bc, se_rb, z_rb, p_rb, ci_rb[2]; /* bias-corrected, robust SE */
} syf_rd_result;

typedef struct syf_rd_workspace syf_rd_workspace;

/* Workspace for up to n_max observations, exactly dz covariates (0 for
 * none) and up to G_max clusters (0 without clustering).  NULL when out of
 * memory. */
syf_rd_workspace *syf_rd_alloc(size_t n_max, size_t dz, size_t G_max);
void syf_rd_free(syf_rd_workspace *w);

/* Fit.  y, x: n values; Z: n x dz row-major (NULL when dz == 0); cluster:
 * n codes in 0..G-1 or NULL.  Results in *res. */
int syf_rd_fit(syf_rd_workspace *w, size_t n, const double *y, const double *x, const double *Z,
               const size_t *cluster, size_t G, const syf_rd_options *opt, syf_rd_result *res);

#endif
