/* ri.c — randomization inference for a cluster-level treatment in OLS
 * (see ri.h for the test, its conventions and the interval).
 *
 * Inference for few clusters: `syfosim estimate --method ols --inference ri`
 * calls syf_ri_test() for the --treat coefficient.  Every re-drawn
 * assignment is fitted with analysis/ols.c on a copy of X whose treatment
 * column is overwritten, so the statistic is exactly the one of the observed
 * analysis (same variance type, same checks).  Per assignment the workspace
 * keeps five numbers (b_y, b_z, V_yy, V_zz, V_yz), enough to evaluate the
 * statistic under any constant effect tau in O(1): the interval is inverted
 * without refitting.
 */
#include "syfosim/ri.h"
#include "linalg.h"
#include "syfosim/error.h"
#include "syfosim/wildboot.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_roots.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Relative tolerance under which |T(a)| and |T_obs| count as tied. */
#define SYF_RI_TIE 1e-10

struct syf_ri_workspace {
    size_t n_max, p, G_max, B_max;
    syf_ols_workspace *ols;
    gsl_root_fsolver *solver;
    double *Xw, *zobs, *ysum;         /* n_max x p, n_max, n_max             */
    unsigned char *treat, *seen;      /* G_max: current assignment, checks   */
    size_t *cl_stratum;               /* G_max: stratum of each cluster      */
    size_t *members;                  /* G_max: clusters grouped by stratum  */
    size_t *sstart;                   /* G_max + 1                           */
    size_t *ntreat;                   /* G_max: treated clusters per stratum */
    size_t *perm, *combo;             /* G_max scratch                       */
    double *by, *bz, *vyy, *vzz, *vyz, *stat; /* B_max                       */
    /* state of the last test */
    size_t B, S, n_failed, bad_cluster;
    int enumerated, studentized, have_ci;
    double b_obs, v_obs;
};

void syf_ri_free(syf_ri_workspace *w)
{
    if (!w)
        return;
    syf_ols_free(w->ols);
    if (w->solver)
        gsl_root_fsolver_free(w->solver);
    void *pp[] = {w->Xw, w->zobs, w->ysum, w->treat, w->seen, w->cl_stratum, w->members,
                  w->sstart, w->ntreat, w->perm, w->combo, w->by, w->bz, w->vyy, w->vzz,
                  w->vyz, w->stat};
    for (size_t i = 0; i < sizeof pp / sizeof pp[0]; i++)
        free(pp[i]);
    free(w);
}

syf_ri_workspace *syf_ri_alloc(size_t n_max, size_t p, size_t G_max, size_t B_max)
{
    if (p == 0 || B_max == 0)
        return NULL;
    syf_ri_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->n_max = n_max;
    w->bad_cluster = (size_t)-1;
    w->p = p;
    w->G_max = G_max;
    w->B_max = B_max;
    size_t Gm = G_max > n_max ? G_max : n_max; /* cluster == NULL uses G = n */
    int ok = 1;
#define ALLOC(f, cnt) ok = ok && ((w->f = calloc((cnt) > 0 ? (size_t)(cnt) : 1u, sizeof *w->f)) != NULL)
    ALLOC(Xw, n_max * p); ALLOC(zobs, n_max); ALLOC(ysum, n_max);
    ALLOC(treat, Gm); ALLOC(seen, Gm); ALLOC(cl_stratum, Gm); ALLOC(members, Gm);
    ALLOC(sstart, Gm + 1); ALLOC(ntreat, Gm); ALLOC(perm, Gm); ALLOC(combo, Gm);
    ALLOC(by, B_max); ALLOC(bz, B_max); ALLOC(vyy, B_max); ALLOC(vzz, B_max); ALLOC(vyz, B_max);
    ALLOC(stat, B_max);
#undef ALLOC
    ok = ok && (w->ols = syf_ols_alloc(n_max, p, G_max > 1 ? G_max : 1)) != NULL;
    ok = ok && (w->solver = gsl_root_fsolver_alloc(gsl_root_fsolver_brent)) != NULL;
    if (!ok) {
        syf_ri_free(w);
        return NULL;
    }
    return w;
}

/* ------------------------------------------------------------------------ */
/* Assignments. */

/* Number of assignments, prod_s C(G_s, G1_s), if it is at most B; else 0. */
static size_t n_assignments(const syf_ri_workspace *w, size_t B)
{
    double tot = 1;
    for (size_t s = 0; s < w->S; s++) {
        size_t Gs = w->sstart[s + 1] - w->sstart[s], k = w->ntreat[s];
        if (k > Gs - k)
            k = Gs - k;
        for (size_t i = 1; i <= k; i++) {
            tot = tot * (double)(Gs - k + i) / (double)i;
            if (tot > (double)B + 0.5)
                return 0;
        }
    }
    return (size_t)(tot + 0.5);
}

/* Treat the clusters chosen by w->combo (enumeration). */
static void combo_apply(syf_ri_workspace *w, size_t G)
{
    memset(w->treat, 0, G);
    for (size_t s = 0; s < w->S; s++) {
        const size_t *mem = w->members + w->sstart[s], *c = w->combo + w->sstart[s];
        for (size_t k = 0; k < w->ntreat[s]; k++)
            w->treat[mem[c[k]]] = 1;
    }
}

static void combo_first(syf_ri_workspace *w)
{
    for (size_t s = 0; s < w->S; s++)
        for (size_t k = 0; k < w->ntreat[s]; k++)
            w->combo[w->sstart[s] + k] = k;
}

/* Next combination in lexicographic order, stratum 0 fastest (odometer). */
static void combo_next(syf_ri_workspace *w)
{
    for (size_t s = 0; s < w->S; s++) {
        size_t Gs = w->sstart[s + 1] - w->sstart[s], k = w->ntreat[s];
        size_t *c = w->combo + w->sstart[s];
        size_t i = k;
        while (i > 0 && c[i - 1] == Gs - k + i - 1)
            i--;
        if (i > 0) {
            c[i - 1]++;
            for (size_t l = i; l < k; l++)
                c[l] = c[l - 1] + 1;
            return; /* no carry */
        }
        for (size_t l = 0; l < k; l++) /* wrap this stratum, carry on */
            c[l] = l;
    }
}

/* Sampled assignment b: partial Fisher–Yates within each stratum. */
static void draw_assignment(syf_ri_workspace *w, size_t G, uint64_t seed, uint64_t rep, size_t b)
{
    syf_stream st;
    syf_stream_init(&st, seed, rep, b, SYF_PURPOSE_RI);
    memset(w->treat, 0, G);
    for (size_t s = 0; s < w->S; s++) {
        size_t Gs = w->sstart[s + 1] - w->sstart[s];
        size_t *pm = w->perm;
        memcpy(pm, w->members + w->sstart[s], Gs * sizeof *pm);
        for (size_t k = 0; k < w->ntreat[s]; k++) {
            size_t r = k + (size_t)(syf_stream_uniform(&st) * (double)(Gs - k));
            if (r >= Gs)
                r = Gs - 1;
            size_t t = pm[k];
            pm[k] = pm[r];
            pm[r] = t;
            w->treat[pm[k]] = 1;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Statistic under a constant effect tau. */

static double stat_of(const syf_ri_workspace *w, double b, double v)
{
    return w->studentized ? b / sqrt(fmax(v, 0.0)) : b;
}

static double pvalue_at(syf_ri_workspace *w, double tau)
{
    double t0 = fabs(stat_of(w, w->b_obs - tau, w->v_obs));
    double thr = t0 * (1.0 - SYF_RI_TIE);
    size_t count = 0, valid = 0;
    for (size_t b = 0; b < w->B; b++) {
        if (isnan(w->by[b]))
            continue;
        valid++;
        double t;
        if (tau == 0)
            t = w->stat[b];
        else
            t = stat_of(w, w->by[b] - tau * w->bz[b],
                        w->vyy[b] - 2.0 * tau * w->vyz[b] + tau * tau * w->vzz[b]);
        if (fabs(t) >= thr)
            count++;
    }
    if (valid == 0)
        return NAN;
    return w->enumerated ? (double)count / (double)valid
                         : (double)(count + 1) / (double)(valid + 1);
}

size_t syf_ri_bad_cluster(const syf_ri_workspace *w) { return w->bad_cluster; }

double syf_ri_pvalue(syf_ri_workspace *w, double tau)
{
    if (tau != 0 && !w->have_ci)
        return NAN;
    return pvalue_at(w, tau);
}

static double pvalue_cb(double tau, void *params) { return pvalue_at(params, tau); }

/* ------------------------------------------------------------------------ */

int syf_ri_test(syf_ri_workspace *w, size_t n, const double *X, const double *y,
                const size_t *cluster, size_t G, const syf_ri_options *opt, syf_ri_result *res)
{
    size_t p = w->p, j = opt->coef;
    size_t B = opt->draws ? opt->draws : 999;
    double level = opt->level == 0 ? 0.95 : opt->level;
    w->bad_cluster = (size_t)-1;
    if (j >= p)
        return syf_error_set(SYF_EINPUT, "randomization inference: coefficient %zu is not below "
                                         "p = %zu", j, p);
    if (B > w->B_max)
        return syf_error_set(SYF_EINPUT, "randomization inference: %zu draws exceed the "
                                         "workspace size %zu", B, w->B_max);
    if (!(level > 0 && level < 1))
        return syf_error_set(SYF_EINPUT, "confidence level must be in (0, 1), got %g", level);
    if (opt->statistic != SYF_RI_STUDENTIZED && opt->statistic != SYF_RI_COEFFICIENT)
        return syf_error_set(SYF_EINPUT, "unknown randomization statistic %d",
                             (int)opt->statistic);

    if (n > w->n_max)
        return syf_error_set(SYF_EINPUT, "%zu rows exceed the workspace size %zu", n, w->n_max);
    if (!cluster)
        G = n;
    else if (G > w->G_max)
        return syf_error_set(SYF_EINPUT, "%zu clusters exceed the workspace size %zu", G,
                             w->G_max);

    /* Treatment and strata per cluster. */
    size_t S = opt->strata ? opt->n_strata : 1;
    if (S == 0)
        return syf_error_set(SYF_EINPUT, "randomization inference: n_strata is 0");
    memset(w->seen, 0, G);
    for (size_t i = 0; i < n; i++) {
        size_t g = cluster ? cluster[i] : i;
        if (g >= G)
            return syf_error_set(SYF_EINPUT, "cluster code %zu in row %zu is not below G = %zu",
                                 g, i + 1, G);
        double z = X[i * p + j];
        if (z != 0.0 && z != 1.0)
            return syf_error_set(SYF_EINPUT, "randomization inference: the treatment must be "
                                             "0 or 1, found %g in row %zu", z, i + 1);
        size_t s = opt->strata ? opt->strata[i] : 0;
        if (s >= S)
            return syf_error_set(SYF_EINPUT, "randomization inference: stratum code %zu in row "
                                             "%zu is not below %zu", s, i + 1, S);
        if (!w->seen[g]) {
            w->seen[g] = 1;
            w->treat[g] = (unsigned char)(z == 1.0);
            w->cl_stratum[g] = s;
        } else if (w->treat[g] != (z == 1.0)) {
            w->bad_cluster = g;
            return syf_error_set(SYF_EINPUT, "randomization inference: the treatment varies "
                                             "within cluster code %zu (row %zu); it must be "
                                             "assigned at the cluster level", g, i + 1);
        } else if (w->cl_stratum[g] != s) {
            w->bad_cluster = g;
            return syf_error_set(SYF_EINPUT, "randomization inference: the stratum varies "
                                             "within cluster code %zu (row %zu)", g, i + 1);
        }
    }
    if (S > G)
        return syf_error_set(SYF_EINPUT, "randomization inference: more strata (%zu) than "
                                         "clusters (%zu)", S, G);
    /* Group the clusters by stratum (counting sort, clusters in code order). */
    memset(w->ntreat, 0, S * sizeof *w->ntreat);
    size_t G1 = 0;
    for (size_t g = 0; g < G; g++) {
        w->ntreat[w->cl_stratum[g]] += w->treat[g];
        G1 += w->treat[g];
    }
    if (G1 == 0 || G1 == G)
        return syf_error_set(SYF_EINPUT, "randomization inference: %s cluster is %s; need "
                                         "treated and control clusters",
                             G1 == 0 ? "no" : "every", "treated");
    syf_linalg_group(G, w->cl_stratum, S, w->sstart, w->members);
    w->S = S;

    /* The observed analysis (also checks X, y and that every cluster has rows). */
    syf_ols_result fit;
    int st = syf_ols_fit(w->ols, n, X, y, cluster, G, opt->type, level, &fit);
    if (st)
        return st;
    double estimate = fit.estimate[j], se = fit.std_error[j], df = fit.df[j];
    w->b_obs = estimate;
    w->v_obs = fit.vcov[j * p + j];

    size_t E = n_assignments(w, B);
    w->enumerated = E > 0;
    w->B = E ? E : B;
    w->studentized = opt->statistic == SYF_RI_STUDENTIZED;
    w->have_ci = opt->want_ci != 0;
    w->n_failed = 0;

    /* Copies: X (treatment column overwritten per draw), z_obs, y + z_obs. */
    memcpy(w->Xw, X, n * p * sizeof *X);
    for (size_t i = 0; i < n; i++) {
        w->zobs[i] = X[i * p + j];
        w->ysum[i] = y[i] + w->zobs[i];
    }
    /* The coefficient statistic needs no variance: CR0 is the cheapest. */
    syf_vcov_type type = w->studentized ? opt->type : SYF_VCOV_CR0;
    if (w->enumerated)
        combo_first(w);
    for (size_t b = 0; b < w->B; b++) {
        if (w->enumerated) {
            combo_apply(w, G);
            combo_next(w);
        } else {
            draw_assignment(w, G, opt->seed, opt->rep, b);
        }
        for (size_t i = 0; i < n; i++)
            w->Xw[i * p + j] = w->treat[cluster ? cluster[i] : i];
        syf_ols_result r;
        st = syf_ols_fit(w->ols, n, w->Xw, y, cluster, G, type, level, &r);
        if (st == SYF_OK) {
            w->by[b] = r.estimate[j];
            w->vyy[b] = r.vcov[j * p + j];
            w->stat[b] = stat_of(w, w->by[b], w->vyy[b]);
            w->bz[b] = w->vzz[b] = w->vyz[b] = NAN;
        }
        if (st == SYF_OK && w->have_ci) {
            st = syf_ols_fit(w->ols, n, w->Xw, w->zobs, cluster, G, type, level, &r);
            if (st == SYF_OK) {
                w->bz[b] = r.estimate[j];
                w->vzz[b] = r.vcov[j * p + j];
                st = syf_ols_fit(w->ols, n, w->Xw, w->ysum, cluster, G, type, level, &r);
            }
            if (st == SYF_OK)
                w->vyz[b] = 0.5 * (r.vcov[j * p + j] - w->vyy[b] - w->vzz[b]);
        }
        if (st == SYF_ESINGULAR) {
            w->by[b] = w->stat[b] = NAN;
            w->n_failed++;
            st = SYF_OK;
        } else if (st) {
            return st;
        }
    }
    syf_error_clear();

    double pv = pvalue_at(w, 0.0);
    double lo = NAN, hi = NAN;
    if (w->have_ci) {
        double q = isfinite(df) && df > 0 ? gsl_cdf_tdist_Qinv((1 - level) / 2, df)
                                          : gsl_cdf_ugaussian_Qinv((1 - level) / 2);
        st = syf_test_invert(w->solver, pvalue_cb, w, estimate, q * se, 1 - level, &lo, &hi);
        if (st)
            return st;
    }
    *res = (syf_ri_result){
        .n = n, .G = G, .G1 = G1, .coef = j, .estimate = estimate, .std_error = se,
        .statistic = estimate / se, .p_value = pv, .level = level, .conf_low = lo,
        .conf_high = hi, .draws = w->B, .enumerated = w->enumerated,
        .n_failed = w->n_failed, .stat_perm = w->stat,
    };
    return SYF_OK;
}
