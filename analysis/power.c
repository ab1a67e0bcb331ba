/* power.c — analytic power and sample size for cluster designs (see power.h).
 *
 * The library side of `syfosim power`: parallel cluster-randomised trials
 * with the design effects clusterPower uses, stepped-wedge and other
 * longitudinal cluster designs by generalised least squares (which is the
 * Hussey & Hughes closed form in their model, kept as a separate function
 * and tested equal), and the Woertman design effect.  Planners use it before
 * simulating; the Monte Carlo diagnosis (diagnose) is the check on it.
 *
 * Outline:
 *   - reference distributions: the noncentral t series (GSL has no
 *     noncentral t) and the power of a two-sided z or t test;
 *   - root finding: one Brent helper (gsl_root_fsolver_brent) with a
 *     bracketing step that only ever hands GSL a straddling interval, so the
 *     default GSL error handler is never reached;
 *   - CRT: eval computes the SE and power; solve brackets the unknown;
 *   - longitudinal designs: per sequence, V_s (observed cells only) is
 *     inverted by Cholesky and c_s Z_s' V_s^{-1} Z_s added to the (T+1)^2
 *     information matrix; its theta element of the inverse comes from an
 *     eigen-decomposition of the unit-diagonal scaled matrix, which also
 *     detects a design that does not identify theta.  Var(theta_hat) is
 *     exactly proportional to 1 / clusters_scale, so solving for clusters
 *     needs one GLS evaluation; solving a binary or count effect re-runs it
 *     (the outcome variance moves with the effect) in the workspace.
 */
#include "syfosim/power.h"
#include "syfosim/error.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Series truncation (absolute error bound) and length limit. */
#define NCT_ERRMAX 1e-15
#define NCT_ITRMAX 20000
/* Smallest eigenvalue ratio of the scaled information matrix accepted. */
#define GLS_SINGULAR_TOL 1e-12

/* ------------------------------------------------------------------------ */
/* Noncentral t                                                              */

/* P(T <= t) for t >= 0 (Lenth 1989, AS 243):
 *   F = Phi(-d) + 1/2 sum_j [P_j I_x(j+1/2, df/2) + Q_j I_x(j+1, df/2)],
 *   x = t^2/(t^2+df), P_j = e^{-l} l^j / j!, Q_j = d e^{-l} l^j / (sqrt2 G(j+3/2)),
 *   l = d^2/2.  The incomplete betas follow from one GSL call each and the
 *   recurrence I_x(a+1,b) = I_x(a,b) - g_a, g_a = x^a (1-x)^b G(a+b)/(G(a+1)G(b)).
 *   The tail left after term j is at most 1/2 (1-sum P) (1+|d|) I_x(j+3/2, b). */
static double nct_lower_nonneg(double t, double df, double d)
{
    if (df > 4e5 || d * d > 1400) {
        /* Abramowitz & Stegun 26.7.10 */
        double s = 1.0 / (4.0 * df);
        return gsl_cdf_ugaussian_P((t * (1.0 - s) - d) / sqrt(1.0 + t * t * 2.0 * s));
    }
    double sum = 0.0;
    if (t > 0) {
        double x = t * t / (t * t + df), c = df / (t * t + df), lc = log(c);
        double lam = 0.5 * d * d, b = 0.5 * df;
        double ao = 0.5, Io = gsl_sf_beta_inc(0.5, b, x);
        double go = exp(gsl_sf_lngamma(0.5 + b) - gsl_sf_lngamma(1.5) - gsl_sf_lngamma(b) +
                        0.5 * log(x) + b * lc);
        double ae = 1.0, Ie = -expm1(b * lc);
        double ge = b * x * exp(b * lc);
        double P = exp(-lam), Q = d * exp(-lam) * M_SQRT2 / M_SQRTPI;
        double rem = -expm1(-lam);
        for (int j = 0; j < NCT_ITRMAX; j++) {
            sum += P * Io + Q * Ie;
            Io -= go;
            go *= x * (ao + b) / (ao + 1.0);
            ao += 1.0;
            Ie -= ge;
            ge *= x * (ae + b) / (ae + 1.0);
            ae += 1.0;
            P *= lam / (j + 1.0);
            Q *= lam / (j + 1.5);
            if (j + 1.0 > lam) {
                double bound = 0.5 * rem * (1.0 + fabs(d)) * fmax(Io, 0.0);
                if (rem <= 0 || bound < NCT_ERRMAX)
                    break;
            }
            rem -= P;
        }
        sum *= 0.5;
    }
    return gsl_cdf_ugaussian_P(-d) + sum;
}

static double clamp01(double p)
{
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

double syf_power_nct_P(double t, double df, double ncp)
{
    if (!(df > 0) || isnan(t) || !isfinite(df) || !isfinite(ncp))
        return NAN;
    if (isinf(t))
        return t > 0 ? 1.0 : 0.0;
    if (ncp == 0)
        return gsl_cdf_tdist_P(t, df);
    return clamp01(t >= 0 ? nct_lower_nonneg(t, df, ncp) : 1.0 - nct_lower_nonneg(-t, df, -ncp));
}

double syf_power_nct_Q(double t, double df, double ncp)
{
    if (!(df > 0) || isnan(t) || !isfinite(df) || !isfinite(ncp))
        return NAN;
    if (isinf(t))
        return t > 0 ? 0.0 : 1.0;
    if (ncp == 0)
        return gsl_cdf_tdist_Q(t, df);
    return clamp01(t >= 0 ? 1.0 - nct_lower_nonneg(t, df, ncp) : nct_lower_nonneg(-t, df, -ncp));
}

double syf_power_z(double z, double alpha, int far_tail)
{
    double zc = gsl_cdf_ugaussian_Qinv(alpha / 2.0), az = fabs(z);
    double p = gsl_cdf_ugaussian_P(az - zc);
    if (far_tail)
        p += gsl_cdf_ugaussian_P(-az - zc);
    return p;
}

double syf_power_t(double ncp, double df, double alpha, int far_tail)
{
    double tc = gsl_cdf_tdist_Qinv(alpha / 2.0, df), a = fabs(ncp);
    double p = syf_power_nct_Q(tc, df, a);
    if (far_tail)
        p += syf_power_nct_P(-tc, df, a);
    return p;
}

/* ------------------------------------------------------------------------ */
/* Root finding                                                              */

typedef double (*root_fn)(double, void *);

/* Brent on [lo, hi], where f(lo) < 0 < f(hi) or f(lo) > 0 > f(hi) (checked
 * by the callers through bracket()).  Relative tolerance 1e-13. */
static int brent(root_fn f, void *ctx, double lo, double hi, double *root)
{
    gsl_function F = {f, ctx};
    gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
    if (!s)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    gsl_root_fsolver_set(s, &F, lo, hi);
    int st = GSL_CONTINUE;
    for (int it = 0; it < 300 && st == GSL_CONTINUE; it++) {
        st = gsl_root_fsolver_iterate(s);
        if (st)
            break;
        lo = gsl_root_fsolver_x_lower(s);
        hi = gsl_root_fsolver_x_upper(s);
        st = gsl_root_test_interval(lo, hi, 0.0, 1e-13);
    }
    *root = gsl_root_fsolver_root(s);
    gsl_root_fsolver_free(s);
    if (st != GSL_SUCCESS)
        return syf_error_set(SYF_ERUNTIME, "root finding did not converge");
    return SYF_OK;
}

/* Find a root of the increasing function f on (lo_min, hi_max): start from
 * `start`, halve towards lo_min until f < 0, double until f > 0 (f is the
 * power minus the target `want`, used in messages).  Returns
 * SYF_EINPUT with a message built from `what` when the target is out of
 * reach on that interval. */
static int solve_increasing(root_fn f, void *ctx, double want, double lo_min, double hi_max,
                            double start, const char *what, double *root)
{
    double lo = start, hi = start, flo = f(lo, ctx), fhi = flo;
    if (!isfinite(flo))
        return syf_error_set(SYF_EINPUT, "%s: power is not finite at %g", what, start);
    for (int k = 0; k < 200 && flo > 0; k++) {
        hi = lo;
        fhi = flo;
        lo = lo_min + (lo - lo_min) / 2.0;
        flo = f(lo, ctx);
        if (lo - lo_min < 1e-12 * fmax(1.0, fabs(lo_min)))
            break;
    }
    if (!(flo < 0)) {
        if (flo == 0) {
            *root = lo;
            return SYF_OK;
        }
        return syf_error_set(SYF_EINPUT,
                             "%s: the target power is already exceeded at the lower limit %g",
                             what, lo);
    }
    for (int k = 0; k < 200 && !(fhi > 0); k++) {
        lo = hi;
        flo = fhi;
        if (hi >= hi_max)
            break;
        hi = fmin(hi * 2.0, hi_max);
        fhi = f(hi, ctx);
    }
    if (!(fhi > 0)) {
        if (fhi == 0) {
            *root = hi;
            return SYF_OK;
        }
        return syf_error_set(SYF_EINPUT,
                             "%s: the target power cannot be reached with values up to %g "
                             "(power there %.6g)",
                             what, hi, fhi + want);
    }
    return brent(f, ctx, lo, hi, root);
}

static int check_alpha_power(double alpha, double power, int need_power)
{
    if (!(alpha > 0 && alpha < 1))
        return syf_error_set(SYF_EINPUT, "alpha = %g is out of range (accepted: 0 < alpha < 1)",
                             alpha);
    if (need_power && !(power > alpha / 2 && power < 1))
        return syf_error_set(SYF_EINPUT,
                             "power = %g is out of range (accepted: alpha/2 < power < 1)", power);
    return SYF_OK;
}

/* ------------------------------------------------------------------------ */
/* Parallel cluster-randomised trial                                         */

int syf_power_crt_design_effect(double m, double icc, double cv, syf_power_cv_method method,
                                double *vif)
{
    if (!(m >= 1) || !isfinite(m))
        return syf_error_set(SYF_EINPUT, "cluster size = %g is out of range (accepted: >= 1)", m);
    if (!(icc >= 0 && icc < 1))
        return syf_error_set(SYF_EINPUT, "icc = %g is out of range (accepted: 0 <= icc < 1)",
                             icc);
    if (!(cv >= 0) || !isfinite(cv))
        return syf_error_set(SYF_EINPUT, "cv = %g is out of range (accepted: >= 0)", cv);
    double deff = 1.0 + (m - 1.0) * icc;
    if (method == SYF_POWER_CV_ELDRIDGE) {
        *vif = 1.0 + ((cv * cv + 1.0) * m - 1.0) * icc;
        return SYF_OK;
    }
    double L = m * icc / deff, den = 1.0 - cv * cv * L * (1.0 - L);
    if (!(den > 0))
        return syf_error_set(SYF_EINPUT,
                             "cv = %g is too large for the Taylor approximation (needs cv^2 L(1-L) "
                             "< 1, L = m icc / (1 + (m-1) icc) = %g); use the Eldridge method",
                             cv, L);
    *vif = deff / den;
    return SYF_OK;
}

int syf_power_crt_eval(syf_power_crt *p)
{
    int st = check_alpha_power(p->alpha, 0, 0);
    if (st)
        return st;
    double k = p->clusters, m = p->cluster_size, e = p->effect;
    int need_k1 = p->outcome == SYF_POWER_COUNT || p->tdist;
    if (!isfinite(k) || !(need_k1 ? k > 1 : k > 0))
        return syf_error_set(SYF_EINPUT, "clusters per arm = %g is out of range (accepted: %s)",
                             k, need_k1 ? "> 1" : "> 0");
    if (!isfinite(e))
        return syf_error_set(SYF_EINPUT, "effect = %g is not a finite number", e);
    double var, vif;
    switch (p->outcome) {
    case SYF_POWER_GAUSSIAN:
        if (!(p->var_total > 0) || !isfinite(p->var_total))
            return syf_error_set(SYF_EINPUT, "total variance = %g is out of range (accepted: > 0)",
                                 p->var_total);
        if ((st = syf_power_crt_design_effect(m, p->icc, p->cv, p->cv_method, &vif)))
            return st;
        var = 2.0 * p->var_total * vif / (k * m);
        break;
    case SYF_POWER_BINARY: {
        double p0 = p->p0, p1 = p->p0 + e;
        if (!(p0 > 0 && p0 < 1))
            return syf_error_set(SYF_EINPUT, "p0 = %g is out of range (accepted: 0 < p0 < 1)", p0);
        if (!(p1 > 0 && p1 < 1))
            return syf_error_set(SYF_EINPUT, "p1 = %g is out of range (accepted: 0 < p1 < 1)", p1);
        if ((st = syf_power_crt_design_effect(m, p->icc, p->cv, p->cv_method, &vif)))
            return st;
        double pb = 0.5 * (p0 + p1);
        double v = p->pooled ? 2.0 * pb * (1.0 - pb) : p0 * (1.0 - p0) + p1 * (1.0 - p1);
        var = v * vif / (k * m);
        break;
    }
    case SYF_POWER_COUNT: {
        double r0 = p->r0, r1 = p->r0 + e;
        if (!(r0 > 0) || !isfinite(r0))
            return syf_error_set(SYF_EINPUT, "r0 = %g is out of range (accepted: > 0)", r0);
        if (!(r1 > 0) || !isfinite(r1))
            return syf_error_set(SYF_EINPUT, "r1 = %g is out of range (accepted: > 0)", r1);
        if (!(m > 0) || !isfinite(m))
            return syf_error_set(SYF_EINPUT, "cluster size = %g is out of range (accepted: > 0)",
                                 m);
        if (!(p->cvb >= 0) || !isfinite(p->cvb))
            return syf_error_set(SYF_EINPUT, "cvb = %g is out of range (accepted: >= 0)", p->cvb);
        vif = 1.0 + p->cvb * p->cvb * (r0 * r0 + r1 * r1) * m / (r0 + r1);
        var = (r0 + r1) * vif / m / (k - 1.0);
        break;
    }
    default:
        return syf_error_set(SYF_EINPUT, "unknown outcome type %d", (int)p->outcome);
    }
    p->design_effect = vif;
    p->se = sqrt(var);
    if (p->tdist && p->outcome != SYF_POWER_COUNT) {
        p->df = 2.0 * (k - 1.0);
        p->power = syf_power_t(e / p->se, p->df, p->alpha, p->far_tail);
    } else {
        p->df = INFINITY;
        p->power = syf_power_z(e / p->se, p->alpha, p->far_tail);
    }
    return SYF_OK;
}

typedef struct {
    syf_power_crt *p;
    syf_power_target target;
    double sign, want;
    int status;
} crt_ctx;

static double crt_fn(double v, void *vctx)
{
    crt_ctx *c = vctx;
    syf_power_crt q = *c->p;
    if (c->target == SYF_POWER_SOLVE_CLUSTERS)
        q.clusters = v;
    else
        q.effect = c->sign * v;
    int st = syf_power_crt_eval(&q);
    if (st) {
        c->status = st;
        return NAN;
    }
    return q.power - c->want;
}

int syf_power_crt_solve(syf_power_crt *p, syf_power_target target, int direction)
{
    if (target == SYF_POWER_SOLVE_POWER)
        return syf_power_crt_eval(p);
    int st = check_alpha_power(p->alpha, p->power, 1);
    if (st)
        return st;
    crt_ctx c = {p, target, direction < 0 ? -1.0 : 1.0, p->power, SYF_OK};
    double root, lo_min, hi_max, start;
    const char *what;
    if (target == SYF_POWER_SOLVE_CLUSTERS) {
        int need_k1 = p->outcome == SYF_POWER_COUNT || p->tdist;
        lo_min = need_k1 ? 1.0 : 0.0;
        /* t with df < 0.02 is numerically meaningless: stop there. */
        if (p->tdist && p->outcome != SYF_POWER_COUNT)
            lo_min = 1.01;
        hi_max = 1e9;
        start = lo_min + 2.0;
        what = "clusters per arm";
    } else {
        lo_min = 0.0;
        start = 1.0;
        hi_max = 1e12;
        what = "effect";
        if (p->outcome == SYF_POWER_BINARY) {
            hi_max = c.sign > 0 ? 1.0 - p->p0 : p->p0;
            hi_max *= 1.0 - 1e-12;
            start = hi_max / 2.0;
            what = c.sign > 0 ? "effect p1 - p0 (p1 above p0)" : "effect p0 - p1 (p1 below p0)";
        } else if (p->outcome == SYF_POWER_COUNT) {
            if (c.sign < 0)
                hi_max = p->r0 * (1.0 - 1e-12);
            start = c.sign < 0 ? hi_max / 2.0 : p->r0;
            what = c.sign > 0 ? "effect r1 - r0 (r1 above r0)" : "effect r0 - r1 (r1 below r0)";
        } else {
            syf_power_crt q = *p;
            q.effect = 1.0;
            if ((st = syf_power_crt_eval(&q)))
                return st;
            start = 3.0 * q.se;
        }
    }
    /* Validate the fixed inputs once, at the starting point. */
    (void)crt_fn(start, &c);
    if (c.status)
        return c.status;
    st = solve_increasing(crt_fn, &c, p->power, lo_min, hi_max, start, what, &root);
    if (st)
        return st;
    if (c.status)
        return c.status;
    double want = p->power;
    if (target == SYF_POWER_SOLVE_CLUSTERS)
        p->clusters = root;
    else
        p->effect = c.sign * root;
    st = syf_power_crt_eval(p);
    if (st == SYF_OK && fabs(p->power - want) > 1e-9)
        return syf_error_set(SYF_ERUNTIME, "solving %s: power %.12g, wanted %.12g", what,
                             p->power, want);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Longitudinal cluster designs                                              */

struct syf_power_workspace {
    size_t n_per_max;
    double *V;   /* n_per_max^2: V_s over observed cells                   */
    double *u;   /* n_per_max: V_s^{-1} x                                   */
    double *xs;  /* n_per_max: observed x                                   */
    size_t *idx; /* n_per_max: observed periods                             */
    double *M;   /* (n_per_max+1)^2 information matrix                      */
    double *D;   /* n_per_max+1 scaling                                     */
    gsl_vector *eval;
    gsl_matrix *evec;
    gsl_eigen_symmv_workspace *eig; /* sized eig_n (GSL needs an exact match) */
    size_t eig_n;
};

syf_power_workspace *syf_power_alloc(size_t n_per_max)
{
    if (n_per_max == 0)
        return NULL;
    size_t p = n_per_max + 1;
    syf_power_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->n_per_max = n_per_max;
    w->V = malloc(n_per_max * n_per_max * sizeof *w->V);
    w->u = malloc(n_per_max * sizeof *w->u);
    w->xs = malloc(n_per_max * sizeof *w->xs);
    w->idx = malloc(n_per_max * sizeof *w->idx);
    w->M = malloc(p * p * sizeof *w->M);
    w->D = malloc(p * sizeof *w->D);
    w->eval = gsl_vector_alloc(p);
    w->evec = gsl_matrix_alloc(p, p);
    w->eig = gsl_eigen_symmv_alloc(p);
    w->eig_n = p;
    if (!w->V || !w->u || !w->xs || !w->idx || !w->M || !w->D || !w->eval || !w->evec ||
        !w->eig) {
        syf_power_free(w);
        return NULL;
    }
    return w;
}

void syf_power_free(syf_power_workspace *w)
{
    if (!w)
        return;
    free(w->V);
    free(w->u);
    free(w->xs);
    free(w->idx);
    free(w->M);
    free(w->D);
    if (w->eval)
        gsl_vector_free(w->eval);
    if (w->evec)
        gsl_matrix_free(w->evec);
    if (w->eig)
        gsl_eigen_symmv_free(w->eig);
    free(w);
}

int syf_power_sw_standard(size_t n_seq, size_t n_per, size_t transition, double *x)
{
    if (n_seq == 0)
        return syf_error_set(SYF_EINPUT, "sequences = 0 (accepted: >= 1)");
    if (n_per < n_seq + 1 + transition)
        return syf_error_set(SYF_EINPUT,
                             "periods = %zu is too few (accepted: >= sequences + 1 + transition "
                             "= %zu)",
                             n_per, n_seq + 1 + transition);
    for (size_t s = 0; s < n_seq; s++)
        for (size_t j = 0; j < n_per; j++)
            x[s * n_per + j] = j <= s ? 0.0 : j <= s + transition ? NAN : 1.0;
    return SYF_OK;
}

static int check_design(const syf_power_design *d, size_t n_per_max)
{
    if (d->n_seq == 0 || d->n_per == 0)
        return syf_error_set(SYF_EINPUT, "the design has no %s (accepted: >= 1)",
                             d->n_seq == 0 ? "sequences" : "periods");
    if (n_per_max && d->n_per > n_per_max)
        return syf_error_set(SYF_EINPUT, "the design has %zu periods, the workspace %zu",
                             d->n_per, n_per_max);
    if (!(d->m > 0) || !isfinite(d->m))
        return syf_error_set(SYF_EINPUT,
                             "cluster-period size = %g is out of range (accepted: > 0)", d->m);
    double total = 0;
    for (size_t s = 0; s < d->n_seq; s++) {
        double c = d->clusters[s];
        if (!(c >= 0) || !isfinite(c))
            return syf_error_set(SYF_EINPUT,
                                 "clusters in sequence %zu = %g is out of range (accepted: >= 0)",
                                 s + 1, c);
        total += c;
        for (size_t j = 0; j < d->n_per; j++) {
            double v = d->x[s * d->n_per + j];
            if (!isnan(v) && !(v >= 0 && v <= 1))
                return syf_error_set(SYF_EINPUT,
                                     "treatment in sequence %zu, period %zu = %g is out of range "
                                     "(accepted: 0 to 1, or NAN for an unobserved cell)",
                                     s + 1, j + 1, v);
        }
    }
    if (!(total > 0))
        return syf_error_set(SYF_EINPUT, "the design has no clusters (accepted: total > 0)");
    return SYF_OK;
}

static int check_vc(const syf_power_vc *vc)
{
    if (!(vc->sigma2 > 0) || !isfinite(vc->sigma2))
        return syf_error_set(SYF_EINPUT,
                             "residual variance = %g is out of range (accepted: > 0)", vc->sigma2);
    const double v[] = {vc->tau2, vc->gamma2, vc->zeta2, vc->eta2};
    const char *n[] = {"cluster variance tau^2", "cluster-period variance gamma^2",
                       "individual variance zeta^2", "treatment-effect variance eta^2"};
    for (int k = 0; k < 4; k++)
        if (!(v[k] >= 0) || !isfinite(v[k]))
            return syf_error_set(SYF_EINPUT, "%s = %g is out of range (accepted: >= 0)", n[k],
                                 v[k]);
    if (!(vc->rho >= -1 && vc->rho <= 1))
        return syf_error_set(SYF_EINPUT,
                             "correlation rho = %g is out of range (accepted: -1 to 1)", vc->rho);
    return SYF_OK;
}

int syf_power_gls_variance(syf_power_workspace *w, const syf_power_design *d,
                           const syf_power_vc *vc, double *var)
{
    int st = check_design(d, w->n_per_max);
    if (st || (st = check_vc(vc)))
        return st;
    const size_t T = d->n_per, p = T + 1;
    double *M = w->M;
    memset(M, 0, p * p * sizeof *M);
    const double m = d->m, base = vc->tau2 + vc->zeta2 / m, diag = vc->sigma2 / m + vc->gamma2;
    const double cross = vc->rho * sqrt(vc->eta2 * vc->tau2);
    for (size_t s = 0; s < d->n_seq; s++) {
        double c = d->clusters[s];
        if (c == 0)
            continue;
        const double *x = d->x + s * T;
        size_t q = 0;
        for (size_t j = 0; j < T; j++)
            if (!isnan(x[j])) {
                w->idx[q] = j;
                w->xs[q++] = x[j];
            }
        if (q == 0)
            continue;
        for (size_t a = 0; a < q; a++) {
            double ba = w->xs[a] > 0;
            for (size_t b = 0; b < q; b++) {
                double bb = w->xs[b] > 0;
                w->V[a * q + b] = base + (a == b ? diag : 0.0) + vc->eta2 * ba * bb +
                                  cross * (ba + bb);
            }
        }
        gsl_matrix_view Vv = gsl_matrix_view_array(w->V, q, q);
        /* V = D + [1 b] C [1 b]' with D > 0 and C psd (|rho| <= 1): p.d. */
        if (gsl_linalg_cholesky_decomp1(&Vv.matrix) != GSL_SUCCESS)
            return syf_error_set(SYF_ESINGULAR, "cluster covariance matrix is not positive "
                                                "definite");
        gsl_linalg_cholesky_invert(&Vv.matrix);
        double xux = 0;
        for (size_t a = 0; a < q; a++) {
            double ua = 0;
            for (size_t b = 0; b < q; b++)
                ua += w->V[a * q + b] * w->xs[b];
            w->u[a] = ua;
            xux += w->xs[a] * ua;
        }
        for (size_t a = 0; a < q; a++) {
            size_t ja = w->idx[a];
            for (size_t b = 0; b < q; b++)
                M[ja * p + w->idx[b]] += c * w->V[a * q + b];
            M[ja * p + T] += c * w->u[a];
            M[T * p + ja] += c * w->u[a];
        }
        M[T * p + T] += c * xux;
    }
    for (size_t j = 0; j < T; j++)
        if (!(M[j * p + j] > 0))
            return syf_error_set(SYF_ESINGULAR,
                                 "period %zu has no observed cell: its period effect is not "
                                 "identified",
                                 j + 1);
    if (!(M[T * p + T] > 0))
        return syf_error_set(SYF_ESINGULAR, "no cluster-period is treated: the design does not "
                                            "identify the treatment effect");
    for (size_t j = 0; j < p; j++)
        w->D[j] = 1.0 / sqrt(M[j * p + j]);
    for (size_t a = 0; a < p; a++)
        for (size_t b = 0; b < p; b++)
            M[a * p + b] *= w->D[a] * w->D[b];
    gsl_matrix_view Mv = gsl_matrix_view_array(M, p, p);
    gsl_vector_view ev = gsl_vector_subvector(w->eval, 0, p);
    gsl_matrix_view Ev = gsl_matrix_submatrix(w->evec, 0, 0, p, p);
    if (w->eig_n != p) {
        /* Resized once per design size (a solve keeps one design). */
        gsl_eigen_symmv_free(w->eig);
        w->eig = gsl_eigen_symmv_alloc(p);
        w->eig_n = w->eig ? p : 0;
        if (!w->eig)
            return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    gsl_eigen_symmv(&Mv.matrix, &ev.vector, &Ev.matrix, w->eig);
    double lmin = gsl_vector_get(&ev.vector, 0), lmax = lmin;
    for (size_t k = 1; k < p; k++) {
        lmin = fmin(lmin, gsl_vector_get(&ev.vector, k));
        lmax = fmax(lmax, gsl_vector_get(&ev.vector, k));
    }
    if (!(lmin > GLS_SINGULAR_TOL * lmax))
        return syf_error_set(SYF_ESINGULAR,
                             "the design does not identify the treatment effect separately from "
                             "the period effects (e.g. every sequence has the same treatment "
                             "pattern)");
    double s = 0;
    for (size_t k = 0; k < p; k++) {
        double v = gsl_matrix_get(&Ev.matrix, T, k);
        s += v * v / gsl_vector_get(&ev.vector, k);
    }
    *var = s * w->D[T] * w->D[T];
    return SYF_OK;
}

int syf_power_hh_variance(const syf_power_design *d, double sigma2, double tau2, double *var,
                          double *Iout, double *Uout, double *Wout, double *Vout)
{
    int st = check_design(d, 0);
    if (st)
        return st;
    if (!(sigma2 > 0) || !isfinite(sigma2))
        return syf_error_set(SYF_EINPUT, "residual variance = %g is out of range (accepted: > 0)",
                             sigma2);
    if (!(tau2 >= 0) || !isfinite(tau2))
        return syf_error_set(SYF_EINPUT, "tau^2 = %g is out of range (accepted: >= 0)", tau2);
    const size_t T = d->n_per;
    double I = 0, U = 0, W = 0, V = 0;
    for (size_t s = 0; s < d->n_seq; s++) {
        double c = d->clusters[s], row = 0;
        for (size_t j = 0; j < T; j++) {
            double x = d->x[s * T + j];
            if (isnan(x))
                return syf_error_set(SYF_EINPUT, "the Hussey-Hughes closed form needs every cell "
                                                 "observed (use the GLS variance)");
            row += x;
        }
        I += c;
        U += c * row;
        V += c * row * row;
    }
    for (size_t j = 0; j < T; j++) {
        double col = 0;
        for (size_t s = 0; s < d->n_seq; s++)
            col += d->clusters[s] * d->x[s * T + j];
        W += col * col;
    }
    double s2 = sigma2 / d->m, t = (double)T;
    double den = (I * U - W) * s2 + (U * U + I * t * U - t * W - I * V) * tau2;
    if (!(den > 1e-12 * (I * U * s2 + U * U * tau2)))
        return syf_error_set(SYF_ESINGULAR, "the design does not identify the treatment effect");
    *var = I * s2 * (s2 + t * tau2) / den;
    if (Iout)
        *Iout = I;
    if (Uout)
        *Uout = U;
    if (Wout)
        *Wout = W;
    if (Vout)
        *Vout = V;
    return SYF_OK;
}

/* Outcome-level variance and components of a stepped-wedge problem. */
static int sw_components(const syf_power_sw *p, syf_power_vc *vc)
{
    double w, e = p->effect;
    if (!isfinite(e))
        return syf_error_set(SYF_EINPUT, "effect = %g is not a finite number", e);
    switch (p->outcome) {
    case SYF_POWER_GAUSSIAN:
        w = p->var_within;
        if (!(w > 0) || !isfinite(w))
            return syf_error_set(SYF_EINPUT,
                                 "within-cluster variance = %g is out of range (accepted: > 0)", w);
        break;
    case SYF_POWER_BINARY: {
        double p0 = p->mu0, p1 = p->mu0 + e;
        if (!(p0 > 0 && p0 < 1))
            return syf_error_set(SYF_EINPUT, "p0 = %g is out of range (accepted: 0 < p0 < 1)", p0);
        if (!(p1 > 0 && p1 < 1))
            return syf_error_set(SYF_EINPUT, "p1 = %g is out of range (accepted: 0 < p1 < 1)", p1);
        double pb = 0.5 * (p0 + p1);
        w = p->pooled ? pb * (1.0 - pb) : 0.5 * (p0 * (1.0 - p0) + p1 * (1.0 - p1));
        break;
    }
    case SYF_POWER_COUNT: {
        double r0 = p->mu0, r1 = p->mu0 + e;
        if (!(r0 > 0) || !isfinite(r0))
            return syf_error_set(SYF_EINPUT, "r0 = %g is out of range (accepted: > 0)", r0);
        if (!(r1 > 0) || !isfinite(r1))
            return syf_error_set(SYF_EINPUT, "r1 = %g is out of range (accepted: > 0)", r1);
        double sd = 0.5 * (sqrt(r0) + sqrt(r1));
        w = sd * sd;
        break;
    }
    default:
        return syf_error_set(SYF_EINPUT, "unknown outcome type %d", (int)p->outcome);
    }
    double b;
    if (!isnan(p->icc)) {
        if (!(p->icc >= 0 && p->icc < 1))
            return syf_error_set(SYF_EINPUT, "icc = %g is out of range (accepted: 0 <= icc < 1)",
                                 p->icc);
        b = p->icc * w / (1.0 - p->icc);
    } else {
        b = p->var_between;
        if (!(b >= 0) || !isfinite(b))
            return syf_error_set(SYF_EINPUT,
                                 "between-cluster variance = %g is out of range (accepted: >= 0)",
                                 b);
    }
    if (!(p->cac > 0 && p->cac <= 1))
        return syf_error_set(SYF_EINPUT, "cac = %g is out of range (accepted: 0 < cac <= 1)",
                             p->cac);
    if (!(p->iac >= 0 && p->iac < 1))
        return syf_error_set(SYF_EINPUT, "iac = %g is out of range (accepted: 0 <= iac < 1)",
                             p->iac);
    vc->tau2 = p->cac * b;
    vc->gamma2 = (1.0 - p->cac) * b;
    vc->zeta2 = p->iac * w;
    vc->sigma2 = (1.0 - p->iac) * w;
    vc->eta2 = p->eta2;
    vc->rho = p->rho;
    return SYF_OK;
}

/* Var(theta_hat) at clusters_scale = 1. */
static int sw_unit_variance(syf_power_workspace *w, const syf_power_sw *p, syf_power_vc *vc,
                            double *var1)
{
    int st = sw_components(p, vc);
    if (st)
        return st;
    return syf_power_gls_variance(w, &p->d, vc, var1);
}

static int sw_finish(syf_power_sw *p, const syf_power_vc *vc, double var1)
{
    if (!(p->clusters_scale > 0) || !isfinite(p->clusters_scale))
        return syf_error_set(SYF_EINPUT, "clusters scale = %g is out of range (accepted: > 0)",
                             p->clusters_scale);
    p->vc = *vc;
    p->var_theta = var1 / p->clusters_scale;
    p->se = sqrt(p->var_theta);
    p->power = syf_power_z(p->effect / p->se, p->alpha, p->far_tail);
    return SYF_OK;
}

int syf_power_sw_eval(syf_power_workspace *w, syf_power_sw *p)
{
    int st = check_alpha_power(p->alpha, 0, 0);
    if (st)
        return st;
    syf_power_vc vc;
    double var1;
    if ((st = sw_unit_variance(w, p, &vc, &var1)))
        return st;
    return sw_finish(p, &vc, var1);
}

typedef struct {
    syf_power_workspace *w;
    const syf_power_sw *p;
    syf_power_target target;
    double sign, want, var1;
    int status;
} sw_ctx;

static double sw_fn(double v, void *vctx)
{
    sw_ctx *c = vctx;
    if (c->target == SYF_POWER_SOLVE_CLUSTERS) {
        double se = sqrt(c->var1 / v);
        return syf_power_z(c->p->effect / se, c->p->alpha, c->p->far_tail) - c->want;
    }
    syf_power_sw q = *c->p;
    q.effect = c->sign * v;
    int st = syf_power_sw_eval(c->w, &q);
    if (st) {
        c->status = st;
        return NAN;
    }
    return q.power - c->want;
}

int syf_power_sw_solve(syf_power_workspace *w, syf_power_sw *p, syf_power_target target,
                       int direction)
{
    if (target == SYF_POWER_SOLVE_POWER)
        return syf_power_sw_eval(w, p);
    int st = check_alpha_power(p->alpha, p->power, 1);
    if (st)
        return st;
    sw_ctx c = {w, p, target, direction < 0 ? -1.0 : 1.0, p->power, 0, SYF_OK};
    double lo_min = 0, hi_max, start, root, want = p->power;
    const char *what;
    syf_power_vc vc;
    if (target == SYF_POWER_SOLVE_CLUSTERS) {
        if ((st = sw_unit_variance(w, p, &vc, &c.var1)))
            return st;
        if (p->effect == 0)
            return syf_error_set(SYF_EINPUT, "effect = 0: no number of clusters has power");
        hi_max = 1e12;
        start = 1.0;
        what = "clusters";
    } else {
        hi_max = 1e12;
        what = "effect";
        if (p->outcome == SYF_POWER_BINARY) {
            hi_max = (c.sign > 0 ? 1.0 - p->mu0 : p->mu0) * (1.0 - 1e-12);
            start = hi_max / 2.0;
            what = c.sign > 0 ? "effect p1 - p0 (p1 above p0)" : "effect p0 - p1 (p1 below p0)";
        } else if (p->outcome == SYF_POWER_COUNT) {
            if (c.sign < 0)
                hi_max = p->mu0 * (1.0 - 1e-12);
            start = c.sign < 0 ? hi_max / 2.0 : p->mu0;
            what = c.sign > 0 ? "effect r1 - r0 (r1 above r0)" : "effect r0 - r1 (r1 below r0)";
        } else {
            syf_power_sw q = *p;
            q.effect = 1.0;
            if ((st = syf_power_sw_eval(w, &q)))
                return st;
            start = 3.0 * q.se;
        }
        (void)sw_fn(start, &c);
        if (c.status)
            return c.status;
    }
    st = solve_increasing(sw_fn, &c, p->power, lo_min, hi_max, start, what, &root);
    if (st)
        return st;
    if (c.status)
        return c.status;
    if (target == SYF_POWER_SOLVE_CLUSTERS)
        p->clusters_scale = root;
    else
        p->effect = c.sign * root;
    st = syf_power_sw_eval(w, p);
    if (st == SYF_OK && fabs(p->power - want) > 1e-9)
        return syf_error_set(SYF_ERUNTIME, "solving %s: power %.12g, wanted %.12g", what,
                             p->power, want);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Woertman design effect                                                    */

typedef struct {
    double delta_sd, alpha, want;
} ttest_ctx;

/* power.t.test, two-sample, two-sided, strict = FALSE, n per group. */
static double ttest_fn(double n, void *vctx)
{
    ttest_ctx *c = vctx;
    double df = 2.0 * (n - 1.0);
    return syf_power_t(sqrt(n / 2.0) * c->delta_sd, df, c->alpha, 0) - c->want;
}

int syf_power_woertman(const syf_power_woertman_in *in, syf_power_woertman_out *out)
{
    int st = check_alpha_power(in->alpha, in->power, 1);
    if (st)
        return st;
    if (!(in->K >= 1) || !(in->J >= 2) || !(in->B >= 0) || !(in->T >= 1) || !isfinite(in->K) ||
        !isfinite(in->J))
        return syf_error_set(SYF_EINPUT, "Woertman: need K >= 1, J >= 2, B >= 0, T >= 1");
    if (!(in->icc >= 0 && in->icc < 1))
        return syf_error_set(SYF_EINPUT, "icc = %g is out of range (accepted: 0 <= icc < 1)",
                             in->icc);
    double za = gsl_cdf_ugaussian_Qinv(in->alpha / 2.0), zb = gsl_cdf_ugaussian_Pinv(in->power);
    double n_arm;
    switch (in->outcome) {
    case SYF_POWER_GAUSSIAN: {
        if (!(in->sd > 0) || !(fabs(in->delta) > 0) || !isfinite(in->delta))
            return syf_error_set(SYF_EINPUT, "Woertman: need sd > 0 and a non-zero delta");
        ttest_ctx c = {fabs(in->delta) / in->sd, in->alpha, in->power};
        if ((st = solve_increasing(ttest_fn, &c, in->power, 1.5, 1e12, 2.0, "n per arm", &n_arm)))
            return st;
        break;
    }
    case SYF_POWER_BINARY: {
        double p1 = in->p0, p2 = in->p1;
        if (!(p1 > 0 && p1 < 1 && p2 > 0 && p2 < 1 && p1 != p2))
            return syf_error_set(SYF_EINPUT, "Woertman: need 0 < p0, p1 < 1 and p0 != p1");
        /* power.prop.test: sqrt(n)|p1-p2| = za sqrt((p1+p2)(1-pbar)) + zb sqrt(v1+v2) */
        double r = (za * sqrt((p1 + p2) * (1.0 - (p1 + p2) / 2.0)) +
                    zb * sqrt(p1 * (1.0 - p1) + p2 * (1.0 - p2))) /
                   fabs(p1 - p2);
        n_arm = r * r;
        break;
    }
    case SYF_POWER_COUNT: {
        double r1 = in->r0, r2 = in->r1;
        if (!(r1 > 0 && r2 > 0 && r1 != r2) || !isfinite(r1) || !isfinite(r2))
            return syf_error_set(SYF_EINPUT, "Woertman: need r0, r1 > 0 and r0 != r1");
        n_arm = (r1 + r2) * (za + zb) * (za + zb) / ((r1 - r2) * (r1 - r2));
        break;
    }
    default:
        return syf_error_set(SYF_EINPUT, "unknown outcome type %d", (int)in->outcome);
    }
    double rho = in->icc, K = in->K, J = in->J, B = in->B, T = in->T;
    out->n_rct = 2.0 * ceil(n_arm);
    out->cf = (1.0 + rho * (J * T * K + B * K - 1.0)) / (1.0 + rho * (0.5 * J * T * K + B * K - 1.0)) *
              (3.0 * (1.0 - rho)) / (2.0 * T * (J - 1.0 / J));
    out->design_effect = (B + J * T) * out->cf;
    out->n_total = out->n_rct * out->design_effect;
    out->clusters = ceil(out->n_total / (K * (J + 1.0)));
    return SYF_OK;
}
