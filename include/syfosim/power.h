/* power.h — analytic power and sample size for cluster-randomised designs.
 *
 * Backs `syfosim power` (cli/cmd_power.c) and lets planners check a design
 * before simulating it (DESIGN §4 "Analytic power").  Everything here is a
 * closed form or a small generalised-least-squares (GLS) calculation; the
 * only iterative parts are root finding (GSL Brent) when solving for the
 * number of clusters or the minimum detectable effect, and the series for
 * the noncentral t distribution, which GSL does not have.
 *
 * Parallel cluster-randomised trial (CRT), k clusters per arm of mean size m
 * (the conventions of R clusterPower 0.7.0 cpa.normal / cpa.binary /
 * cpa.count, which name their sources):
 *   gaussian  Var(diff) = 2 vart VIF / (k m), VIF the design effect;
 *   binary    Var(diff) = (p0(1-p0) + p1(1-p1)) VIF / (k m)  (unpooled), or
 *             2 pbar(1-pbar) VIF / (k m) with pbar = (p0+p1)/2 (pooled);
 *   count     Hayes & Bennett (1999): m = person-time per cluster,
 *             IF = 1 + CVB^2 (r0^2 + r1^2) m / (r0 + r1),
 *             power = Phi(sqrt((k-1)(r1-r0)^2 / ((r0+r1) IF / m)) - z).
 *   VIF with equal cluster sizes is 1 + (m-1) icc.  With coefficient of
 *   variation cv of the cluster sizes:
 *     SYF_POWER_CV_TAYLOR    van Breukelen, Candel & Berger (2007) Taylor
 *                            approximation of the relative efficiency:
 *                            VIF = DEFF / (1 - cv^2 L (1-L)), DEFF = 1+(m-1)icc,
 *                            L = m icc / DEFF  (cpa.normal's default);
 *     SYF_POWER_CV_ELDRIDGE  Eldridge, Ashby & Kerry (2006):
 *                            VIF = 1 + ((cv^2+1) m - 1) icc  (cpa.binary's,
 *                            and cpa.normal's method = "weighted").
 *   Reference distribution: clusterPower uses the noncentral t with
 *   2(k-1) df (gaussian, binary) and counts only the rejections in the
 *   direction of the effect: power = P(T' > t_{1-alpha/2}), T' noncentral t
 *   with ncp = |effect| / SE.  `tdist = 0` gives the normal version
 *   (cpa.binary's tdist = FALSE); counts are always normal with (k-1).
 *
 * Stepped-wedge and other longitudinal cluster designs: a treatment matrix
 * x (sequences x periods; 0 control, 1 treated, a value in (0,1) a partial
 * effect, NAN a cell that is not observed, e.g. a transition period) with
 * c_s clusters in sequence s and m individuals per cluster-period.  The
 * model for a cluster-period mean is (Hussey & Hughes 2007, extended as in
 * R swCRTdesign 4.0 swPwr and Hooper et al. 2016):
 *     ybar_ij = beta_j + theta x_ij + a_i + r_i [x_ij > 0] + g_ij + s_i / m + e_ij
 *   a_i ~ (0, tau2) cluster, r_i ~ (0, eta2) random treatment effect with
 *   cor(a_i, r_i) = rho, g_ij ~ (0, gamma2) cluster-period, zeta2 the
 *   individual random intercept of a closed cohort (its mean over m people
 *   adds zeta2/m to every cell of a cluster), Var(e_ij) = sigma2 / m.
 *   Var(theta_hat) is the theta element of (sum_s c_s Z_s' V_s^{-1} Z_s)^{-1}
 *   with Z_s = [period dummies | x_s] over the observed cells (GLS, as
 *   swPwr's "WLS").  With eta2 = gamma2 = zeta2 = 0 and every cell observed
 *   it equals the Hussey & Hughes closed form
 *     Var = I s2 (s2 + T tau2) / ((I U - W) s2 + (U^2 + I T U - T W - I V) tau2),
 *   s2 = sigma2/m, I clusters, T periods, U = sum of x over clusters and
 *   periods, W = sum of squared period (column) totals, V = sum of squared
 *   cluster (row) totals (syf_power_hh_variance computes it directly).
 *   Outcome variances: gaussian as given; binary pbar(1-pbar) (pooled,
 *   swCRTdesign) or (p0(1-p0) + p1(1-p1))/2 (unpooled, SWSamp HH.binary);
 *   count ((sqrt(r0) + sqrt(r1))/2)^2 (SWSamp HH.count).
 *   The reference distribution is the normal (both packages): power =
 *   Phi(|theta|/SE - z) (+ Phi(-|theta|/SE - z) when far_tail, swPwr's
 *   convention; SWSamp, Hooper / clusterPower cpa.sw.normal omit it).
 *
 * Woertman et al. (2013) design effect as corrected in Baio et al. (2015)
 * (R SWSamp DE.woert): syf_power_woertman.
 *
 * All functions return SYF_OK or SYF_EINPUT (bad argument, with a message
 * naming it and the accepted range), SYF_ESINGULAR (the design does not
 * identify the effect), SYF_ENOMEM; results are written only on success.
 */
#ifndef SYFOSIM_POWER_H
#define SYFOSIM_POWER_H

#include <stddef.h>

typedef enum { SYF_POWER_GAUSSIAN, SYF_POWER_BINARY, SYF_POWER_COUNT } syf_power_outcome;
typedef enum { SYF_POWER_CV_TAYLOR, SYF_POWER_CV_ELDRIDGE } syf_power_cv_method;
/* What syf_power_*_solve fills in; the other two are inputs. */
typedef enum {
    SYF_POWER_SOLVE_POWER,
    SYF_POWER_SOLVE_CLUSTERS,
    SYF_POWER_SOLVE_EFFECT
} syf_power_target;

/* ---- reference distributions ------------------------------------------ */

/* Noncentral t distribution with df > 0 degrees of freedom and
 * noncentrality ncp: P(T <= t) and P(T > t).  Lenth's (1989, AS 243) series
 * in incomplete beta functions (absolute error below about 1e-13; tiny
 * tail probabilities are not accurate relative to their size), switching to
 * Abramowitz & Stegun 26.7.10 for df > 4e5 or ncp^2 > 1400, as R's pt does.
 * NAN for df <= 0 or non-finite arguments. */
double syf_power_nct_P(double t, double df, double ncp);
double syf_power_nct_Q(double t, double df, double ncp);

/* Power of a two-sided level-alpha test whose statistic is N(z, 1)
 * (syf_power_z, z = |effect|/SE) or noncentral t with df and ncp
 * (syf_power_t).  far_tail = 1 adds the rejections on the wrong side. */
double syf_power_z(double z, double alpha, int far_tail);
double syf_power_t(double ncp, double df, double alpha, int far_tail);

/* ---- parallel cluster-randomised trial --------------------------------- */

/* Variance inflation factor for mean cluster size m >= 1, icc in [0, 1),
 * cv >= 0.  SYF_EINPUT when the Taylor approximation breaks down
 * (cv^2 L (1-L) >= 1). */
int syf_power_crt_design_effect(double m, double icc, double cv, syf_power_cv_method method,
                                double *vif);

typedef struct {
    syf_power_outcome outcome;
    double alpha;        /* two-sided level, (0, 1)                              */
    int tdist;           /* gaussian/binary: 1 noncentral t, df 2(k-1); 0 normal  */
    int far_tail;        /* count the wrong-direction rejections too             */
    double clusters;     /* k, clusters per arm (real; > 1)                      */
    double cluster_size; /* m, mean cluster size (count: person-time), >= 1       */
    double cv;           /* coefficient of variation of cluster sizes (>= 0)     */
    syf_power_cv_method cv_method;
    double effect;       /* gaussian: mean difference; binary: p1 - p0;
                            count: r1 - r0 (rates per unit person-time)         */
    double var_total;    /* gaussian: sigma_b^2 + sigma_w^2 > 0                  */
    double icc;          /* gaussian, binary: [0, 1)                             */
    double p0;           /* binary: control proportion (0, 1)                    */
    int pooled;          /* binary: 1 pooled pbar(1-pbar), 0 unpooled             */
    double r0, cvb;      /* count: control rate > 0, between-cluster CV >= 0      */
    double power;        /* result (or target when solving)                     */
    /* filled in by eval/solve */
    double design_effect; /* VIF (gaussian, binary) or IF (count)                */
    double se;            /* SE of the difference                               */
    double df;            /* t df, or INFINITY for the normal                   */
} syf_power_crt;

/* Compute p->power (and design_effect, se, df) from the other fields. */
int syf_power_crt_eval(syf_power_crt *p);

/* Solve for `target` (power, clusters per arm, or the effect) so that the
 * power equals p->power, then evaluate.  When solving the effect, its sign
 * comes from `direction` (+1 an increase over p0/r0, -1 a decrease; the
 * gaussian effect is reported positive).  SYF_EINPUT if no value reaches
 * the target (e.g. a binary effect would need p1 outside (0, 1)). */
int syf_power_crt_solve(syf_power_crt *p, syf_power_target target, int direction);

/* ---- stepped wedge / longitudinal cluster designs ---------------------- */

/* Variance components of the model above, on the individual level. */
typedef struct {
    double sigma2; /* residual (time-varying individual) variance, > 0     */
    double tau2;   /* cluster random intercept, >= 0                        */
    double gamma2; /* cluster-period random effect, >= 0                    */
    double zeta2;  /* individual random intercept (closed cohort), >= 0     */
    double eta2;   /* random treatment effect, >= 0                         */
    double rho;    /* cor(cluster intercept, treatment effect), [-1, 1]     */
} syf_power_vc;

/* A design: x is n_seq x n_per row-major (see above); clusters[s] >= 0 is
 * the number of clusters in sequence s (real values allowed, total > 0);
 * m > 0 is the number of individuals per cluster-period. */
typedef struct {
    size_t n_seq, n_per;
    const double *x;
    const double *clusters;
    double m;
} syf_power_design;

/* Standard stepped wedge: n_seq sequences; sequence s (0-based) is control
 * in periods 0..s, then `transition` excluded (NAN) periods, then treated;
 * n_per >= n_seq + 1 + transition (more periods are extra all-treated
 * periods at the end, swCRTdesign's extra.trt.time).  Writes
 * n_seq * n_per values into x. */
int syf_power_sw_standard(size_t n_seq, size_t n_per, size_t transition, double *x);

typedef struct syf_power_workspace syf_power_workspace;

/* Workspace for designs with up to n_per_max periods (NULL if out of
 * memory or n_per_max == 0). */
syf_power_workspace *syf_power_alloc(size_t n_per_max);
void syf_power_free(syf_power_workspace *w);

/* GLS Var(theta_hat) of a design under the variance components. */
int syf_power_gls_variance(syf_power_workspace *w, const syf_power_design *d,
                           const syf_power_vc *vc, double *var);

/* Hussey & Hughes (2007) closed form (needs every cell observed; the
 * clusters of a sequence are repeated rows of the treatment matrix).
 * Also returns I, U, W, V if the pointers are not NULL. */
int syf_power_hh_variance(const syf_power_design *d, double sigma2, double tau2, double *var,
                          double *I, double *U, double *W, double *V);

/* A stepped-wedge power problem: outcome scale, variance specification and
 * test.  The clusters of sequence s are clusters_scale * d.clusters[s]. */
typedef struct {
    syf_power_design d;
    double clusters_scale; /* > 0; what SYF_POWER_SOLVE_CLUSTERS solves        */
    syf_power_outcome outcome;
    double effect;         /* gaussian: theta; binary p1 - p0; count r1 - r0    */
    double mu0;            /* binary: p0; count: r0                             */
    int pooled;            /* binary: 1 pbar(1-pbar), 0 mean of the variances   */
    double var_within;     /* gaussian: individual-level variance sigma_w^2 > 0  */
    /* Between-cluster variance sigma_b^2 = tau2 + gamma2: either icc in
     * [0, 1) (sigma_b^2 = icc sigma_w^2 / (1 - icc), following the outcome
     * variance when it depends on the effect), or var_between >= 0; the
     * unused one is NAN. */
    double icc, var_between;
    double cac;            /* tau2 / (tau2 + gamma2), (0, 1]; 1 = Hussey–Hughes */
    double iac;            /* zeta2 / sigma_w^2, [0, 1): closed-cohort share    */
    double eta2, rho;      /* random treatment effect variance and correlation  */
    double alpha;
    int far_tail;
    double power;
    /* filled in by eval/solve */
    syf_power_vc vc;       /* the components used                              */
    double var_theta, se;
} syf_power_sw;

/* Compute p->power (and vc, var_theta, se). */
int syf_power_sw_eval(syf_power_workspace *w, syf_power_sw *p);

/* As syf_power_crt_solve; SYF_POWER_SOLVE_CLUSTERS solves clusters_scale. */
int syf_power_sw_solve(syf_power_workspace *w, syf_power_sw *p, syf_power_target target,
                       int direction);

/* ---- Woertman design effect (Baio et al. 2015 correction) -------------- */

typedef struct {
    syf_power_outcome outcome;
    double delta, sd;   /* gaussian: effect and SD                              */
    double p0, p1;      /* binary                                               */
    double r0, r1;      /* count                                                */
    double K;           /* average cluster(-period) size                         */
    double J;           /* steps (time points after baseline)                    */
    double B, T;        /* baseline measurement times, times per step (1, 1)     */
    double icc, alpha, power;
} syf_power_woertman_in;

typedef struct {
    double n_rct;       /* individually randomised total (2 x per-arm, rounded up) */
    double cf;          /* correction factor                                    */
    double design_effect;
    double n_total;     /* n_rct x design effect                                */
    double clusters;    /* ceiling(n_total / (K (J + 1)))                        */
} syf_power_woertman_out;

/* n_rct as R SWSamp DE.woert: power.t.test (noncentral t, two-sample),
 * power.prop.test or the Poisson formula, per arm rounded up, times 2. */
int syf_power_woertman(const syf_power_woertman_in *in, syf_power_woertman_out *out);

#endif
