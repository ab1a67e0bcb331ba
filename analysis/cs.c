/* cs.c — Callaway & Sant'Anna group-time ATTs and aggregations (see cs.h).
 *
 * `syfosim estimate --method cs` (cli/est_cs.c) and Monte Carlo diagnosis of
 * staggered designs call it; the conventions are those of the did package
 * (att_gt with est_method = "reg" and no covariates, aggte), so results can
 * be compared with it cell by cell.
 *
 * syf_cs_fit() classifies the units (group index, never treated, dropped),
 * then for each cell (g,t) makes two passes over the units: group means of
 * dY = Y_t - Y_b, then the sums of squares that give the analytic SE.  The
 * influence functions are never stored (that would be n x cells doubles):
 * the pre-test and every aggregation recompute each unit's row of influence
 * values on the fly from the outcomes and the per-cell means, so memory is
 * O(n + T^2) and a call costs O(n T^2).  The caller's y, period and group
 * arrays are read again by syf_cs_aggregate(), so they must stay unchanged
 * between a fit and its aggregations.
 *
 * The aggregation's influence function for a component c (a set K of cells
 * with weights pg_k / S, S = sum_K pg_k, pg_k = N_{g_k}/n) is
 *     sum_K (pg_k/S) psi_ik + (1/S) sum_{k in K, g_k = G_i} (att_k - theta_c).
 * The second term is did's wif(K) %*% att[K] (the effect of estimating the
 * weights): its two parts, sum_K att_k (1{G_i=g_k} - pg_k)/S and
 * -theta_c sum_K (1{G_i=g_k} - pg_k)/S, add up to the expression above.
 */
#include "syfosim/cs.h"
#include "syfosim/error.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NEVER ((size_t)-1)
#define DROPPED ((size_t)-2)
/* Smallest eigenvalue ratio of the pre-test covariance accepted (did uses
 * rcond(preV) > machine epsilon). */
#define CS_PRETEST_TOL 1e-12

struct syf_cs_workspace {
    size_t n_max, T_max, gt_max, g_max, comp_max, q_max;
    /* per unit */
    size_t *gidx;  /* group index, NEVER or DROPPED */
    double *gval;  /* first treated period, INFINITY if never (or recoded) */
    double *psi;   /* comp_max: one unit's component influence values */
    /* per group */
    double *glist;
    size_t *gpos;   /* period index of each group */
    size_t *gcount; /* units in each group */
    /* per cell */
    double *cg, *ct, *cb, *att, *se, *m1, *m0;
    int *post;
    size_t *cgi, *cti, *cbi, *N1, *N0;
    double *ifrow; /* one unit's influence values, all cells */
    /* aggregation */
    int *comp;      /* component of each cell, -1 if none */
    double *wt;     /* weight of each cell in its component */
    double *key, *est, *cse, *ssq, *theta, *S;
    double *h;      /* comp_max x g_max: wif table */
    /* pre-test */
    size_t *pre;
    double *V, *evec, *eval, *a;
    /* last fit */
    const double *y;
    size_t N;     /* units passed (dropped included) */
    size_t n;     /* units used */
    size_t T;     /* periods used */
    size_t Tfull; /* periods passed (row length of y) */
    size_t n_gt, nG;
    syf_cs_control control;
    int fitted;
};

int syf_cs_control_parse(const char *name, syf_cs_control *control)
{
    if (!strcmp(name, "never")) {
        *control = SYF_CS_NEVER;
        return SYF_OK;
    }
    if (!strcmp(name, "notyet")) {
        *control = SYF_CS_NOTYET;
        return SYF_OK;
    }
    return syf_error_set(SYF_EINPUT, "unknown comparison group '%s' (choose never or notyet)",
                         name);
}

int syf_cs_aggregation_parse(const char *name, syf_cs_aggregation *type)
{
    static const char *const names[] = {"simple", "dynamic", "group"};
    for (int k = 0; k < 3; k++)
        if (!strcmp(name, names[k])) {
            *type = (syf_cs_aggregation)k;
            return SYF_OK;
        }
    return syf_error_set(SYF_EINPUT,
                         "unknown aggregation '%s' (choose simple, dynamic or group)", name);
}

void syf_cs_free(syf_cs_workspace *w)
{
    if (!w)
        return;
    void *ptrs[] = {w->gidx, w->gval,  w->psi, w->glist, w->gpos, w->gcount, w->cg,
                    w->ct,   w->cb,    w->att, w->se,    w->m1,   w->m0,     w->post,
                    w->cgi,  w->cti,   w->cbi, w->N1,    w->N0,   w->ifrow,  w->comp,
                    w->wt,   w->key,   w->est, w->cse,   w->ssq,  w->theta,  w->S,
                    w->h,    w->pre,   w->V,   w->evec,  w->eval, w->a};
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
        free(ptrs[i]);
    free(w);
}

syf_cs_workspace *syf_cs_alloc(size_t n_units_max, size_t n_periods_max)
{
    if (n_units_max == 0 || n_periods_max == 0)
        return NULL;
    syf_cs_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    size_t T = n_periods_max;
    w->n_max = n_units_max;
    w->T_max = T;
    w->g_max = T;
    w->gt_max = T * T;
    w->comp_max = 2 * T + 1;
    size_t npre = T > 2 ? (T - 1) * (T - 2) / 2 : 1;
    w->q_max = npre < SYF_CS_PRETEST_MAX ? npre : SYF_CS_PRETEST_MAX;
    int ok = 1;
#define ALLOC(f, cnt) ok = ok && ((w->f = calloc((cnt) > 0 ? (size_t)(cnt) : 1u, sizeof *w->f)) != NULL)
    ALLOC(gidx, w->n_max); ALLOC(gval, w->n_max); ALLOC(psi, w->comp_max);
    ALLOC(glist, w->g_max); ALLOC(gpos, w->g_max); ALLOC(gcount, w->g_max);
    ALLOC(cg, w->gt_max); ALLOC(ct, w->gt_max); ALLOC(cb, w->gt_max); ALLOC(att, w->gt_max);
    ALLOC(se, w->gt_max); ALLOC(m1, w->gt_max); ALLOC(m0, w->gt_max); ALLOC(post, w->gt_max);
    ALLOC(cgi, w->gt_max); ALLOC(cti, w->gt_max); ALLOC(cbi, w->gt_max); ALLOC(N1, w->gt_max);
    ALLOC(N0, w->gt_max); ALLOC(ifrow, w->gt_max); ALLOC(comp, w->gt_max); ALLOC(wt, w->gt_max);
    ALLOC(key, w->comp_max); ALLOC(est, w->comp_max); ALLOC(cse, w->comp_max);
    ALLOC(ssq, w->comp_max + 1); ALLOC(theta, w->comp_max); ALLOC(S, w->comp_max);
    ALLOC(h, w->comp_max * w->g_max);
    ALLOC(pre, w->q_max); ALLOC(V, w->q_max * w->q_max); ALLOC(evec, w->q_max * w->q_max);
    ALLOC(eval, w->q_max); ALLOC(a, w->q_max);
#undef ALLOC
    if (!ok) {
        syf_cs_free(w);
        return NULL;
    }
    return w;
}

/* Index of value v in the sorted periods[0..T-1], or (size_t)-1. */
static size_t period_index(const double *period, size_t T, double v)
{
    size_t lo = 0, hi = T;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (period[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < T && period[lo] == v ? lo : (size_t)-1;
}

/* Is unit i in the comparison group of cell k? */
static int is_control(const syf_cs_workspace *w, size_t i, size_t k)
{
    if (w->gidx[i] == NEVER)
        return 1;
    if (w->control == SYF_CS_NEVER || w->gidx[i] == DROPPED)
        return 0;
    return w->gval[i] > w->ct[k] && w->gidx[i] != w->cgi[k];
}

/* Unit i's influence values for every cell, into w->ifrow. */
static void unit_ifrow(syf_cs_workspace *w, size_t i)
{
    const double *yi = w->y + i * w->Tfull;
    const double n = (double)w->n;
    for (size_t k = 0; k < w->n_gt; k++) {
        double v = 0;
        if (w->gidx[i] == w->cgi[k])
            v = n * ((yi[w->cti[k]] - yi[w->cbi[k]]) - w->m1[k]) / (double)w->N1[k];
        else if (is_control(w, i, k))
            v = -n * ((yi[w->cti[k]] - yi[w->cbi[k]]) - w->m0[k]) / (double)w->N0[k];
        w->ifrow[k] = v;
    }
}

/* Pre-test: W = n^2 a' (sum_i psi_i psi_i')^{-1} a over the pre cells. */
static void pretest(syf_cs_workspace *w, syf_cs_result *res)
{
    size_t q = 0;
    for (size_t k = 0; k < w->n_gt; k++)
        q += !w->post[k];
    res->pretest_df = q;
    res->pretest_stat = NAN;
    res->pretest_p = NAN;
    if (q == 0 || q > w->q_max)
        return;
    q = 0;
    for (size_t k = 0; k < w->n_gt; k++)
        if (!w->post[k]) {
            w->pre[q] = k;
            w->a[q] = w->att[k];
            q++;
        }
    memset(w->V, 0, q * q * sizeof *w->V);
    for (size_t i = 0; i < w->N; i++) {
        if (w->gidx[i] == DROPPED)
            continue;
        unit_ifrow(w, i);
        for (size_t r = 0; r < q; r++) {
            double pr = w->ifrow[w->pre[r]];
            if (pr == 0)
                continue;
            for (size_t c = 0; c <= r; c++)
                w->V[r * q + c] += pr * w->ifrow[w->pre[c]];
        }
    }
    for (size_t r = 0; r < q; r++)
        for (size_t c = 0; c < r; c++)
            w->V[c * q + r] = w->V[r * q + c];
    /* V is symmetric positive semi-definite: its SVD is its eigen-
     * decomposition, and the one-sided Jacobi SVD works in place on views
     * of the workspace (no allocation, no GSL error on a singular V). */
    gsl_matrix_view Vm = gsl_matrix_view_array(w->V, q, q);
    gsl_matrix_view Qm = gsl_matrix_view_array(w->evec, q, q);
    gsl_vector_view sv = gsl_vector_view_array(w->eval, q);
    if (gsl_linalg_SV_decomp_jacobi(&Vm.matrix, &Qm.matrix, &sv.vector) != GSL_SUCCESS)
        return;
    double smax = w->eval[0], smin = w->eval[q - 1]; /* sorted decreasing */
    if (!(smax > 0) || !(smin > CS_PRETEST_TOL * smax))
        return;
    double W = 0;
    for (size_t j = 0; j < q; j++) {
        double z = 0;
        for (size_t r = 0; r < q; r++)
            z += w->evec[r * q + j] * w->a[r];
        W += z * z / w->eval[j];
    }
    W *= (double)w->n * (double)w->n;
    res->pretest_stat = W;
    res->pretest_p = gsl_cdf_chisq_Q(W, (double)q);
}

int syf_cs_fit(syf_cs_workspace *w, size_t n_units, size_t n_periods, const double *y,
               const double *period, const double *group, syf_cs_control control,
               syf_cs_result *res)
{
    w->fitted = 0;
    if (n_units > w->n_max || n_periods > w->T_max)
        return syf_error_set(SYF_EINPUT,
                             "cs: panel of %zu units x %zu periods exceeds the workspace "
                             "(%zu x %zu)",
                             n_units, n_periods, w->n_max, w->T_max);
    if (n_periods < 2)
        return syf_error_set(SYF_EINPUT, "cs: need at least 2 periods (found %zu)", n_periods);
    for (size_t t = 0; t < n_periods; t++)
        if (!isfinite(period[t]) || (t > 0 && !(period[t] > period[t - 1])))
            return syf_error_set(SYF_EINPUT,
                                 "cs: periods must be finite and strictly increasing");
    for (size_t i = 0; i < n_units * n_periods; i++)
        if (!isfinite(y[i]))
            return syf_error_set(SYF_EINPUT, "cs: outcome of unit %zu is not finite",
                                 i / n_periods);
    w->y = y;
    w->N = n_units;
    w->Tfull = n_periods;
    w->T = n_periods;
    w->control = control;
    memset(res, 0, sizeof *res);

    /* Classify the units. */
    size_t n_never = 0, n_late = 0, n_dropped = 0;
    const double first = period[0], last = period[n_periods - 1];
    for (size_t i = 0; i < n_units; i++) {
        double g = group[i];
        if (isnan(g) || g == -INFINITY)
            return syf_error_set(SYF_EINPUT, "cs: group of unit %zu is not a number", i);
        w->gval[i] = g;
        if (g == INFINITY || g > last) {
            w->gidx[i] = NEVER;
            w->gval[i] = INFINITY;
            n_never++;
            n_late += g != INFINITY;
        } else if (g <= first) {
            w->gidx[i] = DROPPED;
            n_dropped++;
        } else if (period_index(period, n_periods, g) == (size_t)-1) {
            return syf_error_set(SYF_EINPUT,
                                 "cs: first treated period %g of unit %zu is not one of the "
                                 "periods",
                                 g, i);
        } else {
            w->gidx[i] = 0; /* group index assigned below */
        }
    }
    w->n = n_units - n_dropped;
    if (w->n == 0)
        return syf_error_set(SYF_EINPUT, "cs: every unit is treated by the first period");

    /* No never-treated units: none to compare with, or (not yet treated)
     * the did package's rule: drop the periods from the last group's start
     * on and let that group be the never-treated group. */
    if (n_never == 0) {
        if (control == SYF_CS_NEVER)
            return syf_error_set(SYF_EINPUT,
                                 "cs: no never-treated units to compare with (use the "
                                 "not-yet-treated comparison group)");
        double gmax = -INFINITY;
        for (size_t i = 0; i < n_units; i++)
            if (w->gidx[i] != DROPPED)
                gmax = fmax(gmax, w->gval[i]);
        for (size_t i = 0; i < n_units; i++)
            if (w->gidx[i] != DROPPED && w->gval[i] == gmax) {
                w->gidx[i] = NEVER;
                w->gval[i] = INFINITY;
                n_never++;
            }
        w->T = period_index(period, n_periods, gmax);
        if (w->T < 2)
            return syf_error_set(SYF_EINPUT,
                                 "cs: no never-treated units and fewer than 2 periods before "
                                 "the last group's first treatment (%g)",
                                 gmax);
    }

    /* Treated groups, sorted. */
    size_t nG = 0;
    for (size_t t = 1; t < w->T; t++) {
        size_t cnt = 0;
        for (size_t i = 0; i < n_units; i++)
            if (w->gidx[i] != NEVER && w->gidx[i] != DROPPED && w->gval[i] == period[t])
                cnt++;
        if (cnt) {
            w->glist[nG] = period[t];
            w->gpos[nG] = t;
            w->gcount[nG] = cnt;
            nG++;
        }
    }
    if (nG == 0)
        return syf_error_set(SYF_EINPUT,
                             "cs: no treated group: every unit is never treated, or treated "
                             "by the first period");
    for (size_t i = 0; i < n_units; i++)
        if (w->gidx[i] != NEVER && w->gidx[i] != DROPPED) {
            size_t gi = 0;
            while (w->glist[gi] != w->gval[i])
                gi++;
            w->gidx[i] = gi;
        }
    w->nG = nG;

    /* Cells. */
    size_t k = 0;
    for (size_t gi = 0; gi < nG; gi++) {
        for (size_t t = 1; t < w->T; t++, k++) {
            w->cg[k] = w->glist[gi];
            w->ct[k] = period[t];
            w->cgi[k] = gi;
            w->cti[k] = t;
            w->post[k] = w->glist[gi] <= period[t];
            w->cbi[k] = w->post[k] ? w->gpos[gi] - 1 : t - 1;
            w->cb[k] = period[w->cbi[k]];
        }
    }
    w->n_gt = k;
    for (k = 0; k < w->n_gt; k++) {
        double s1 = 0, s0 = 0;
        size_t n1 = 0, n0 = 0;
        for (size_t i = 0; i < n_units; i++) {
            const double *yi = y + i * n_periods;
            double dy = yi[w->cti[k]] - yi[w->cbi[k]];
            if (w->gidx[i] == w->cgi[k]) {
                s1 += dy;
                n1++;
            } else if (is_control(w, i, k)) {
                s0 += dy;
                n0++;
            }
        }
        if (n0 == 0)
            return syf_error_set(SYF_EINPUT, "cs: no comparison units for ATT(g=%g,t=%g)",
                                 w->cg[k], w->ct[k]);
        w->N1[k] = n1;
        w->N0[k] = n0;
        w->m1[k] = s1 / (double)n1;
        w->m0[k] = s0 / (double)n0;
        w->att[k] = w->m1[k] - w->m0[k];
        double q1 = 0, q0 = 0;
        for (size_t i = 0; i < n_units; i++) {
            const double *yi = y + i * n_periods;
            double dy = yi[w->cti[k]] - yi[w->cbi[k]];
            if (w->gidx[i] == w->cgi[k])
                q1 += (dy - w->m1[k]) * (dy - w->m1[k]);
            else if (is_control(w, i, k))
                q0 += (dy - w->m0[k]) * (dy - w->m0[k]);
        }
        w->se[k] = sqrt(q1 / ((double)n1 * (double)n1) + q0 / ((double)n0 * (double)n0));
    }

    res->n_units = w->n;
    res->n_periods = w->T;
    res->n_dropped = n_dropped;
    res->n_late = n_late;
    res->n_never = n_never;
    res->n_groups = nG;
    res->n_gt = w->n_gt;
    res->group = w->cg;
    res->time = w->ct;
    res->base = w->cb;
    res->post = w->post;
    res->att = w->att;
    res->std_error = w->se;
    res->n_treated = w->N1;
    res->n_control = w->N0;
    pretest(w, res);
    w->fitted = 1;
    return SYF_OK;
}

/* Fill component c's wif table row: h[c][g] = sum_{k in c, g_k = g}
 * (att_k - theta_c) / S_c. */
static void wif_table(syf_cs_workspace *w, size_t c)
{
    double *hc = w->h + c * w->g_max;
    for (size_t g = 0; g < w->nG; g++)
        hc[g] = 0;
    for (size_t k = 0; k < w->n_gt; k++)
        if (w->comp[k] == (int)c)
            hc[w->cgi[k]] += (w->att[k] - w->theta[c]) / w->S[c];
}

int syf_cs_aggregate(syf_cs_workspace *w, syf_cs_aggregation type, syf_cs_aggregate_result *res)
{
    if (!w->fitted)
        return syf_error_set(SYF_EINPUT, "cs: aggregate called before a successful fit");
    const double n = (double)w->n;
    size_t nc = 0;
    /* Components: cell -> component and weight; pg_k = N_{g_k} / n. */
    for (size_t k = 0; k < w->n_gt; k++)
        w->comp[k] = -1;
    if (type == SYF_CS_SIMPLE) {
        nc = 1;
        for (size_t k = 0; k < w->n_gt; k++)
            if (w->post[k])
                w->comp[k] = 0;
    } else if (type == SYF_CS_DYNAMIC) {
        /* event times e = t - g, sorted; at most 2T - 1 distinct */
        for (size_t k = 0; k < w->n_gt; k++) {
            double e = w->ct[k] - w->cg[k];
            size_t c = 0;
            while (c < nc && w->key[c] != e)
                c++;
            if (c == nc)
                w->key[nc++] = e;
        }
        for (size_t a = 1; a < nc; a++) /* insertion sort */
            for (size_t b = a; b > 0 && w->key[b - 1] > w->key[b]; b--) {
                double tmp = w->key[b];
                w->key[b] = w->key[b - 1];
                w->key[b - 1] = tmp;
            }
        for (size_t k = 0; k < w->n_gt; k++) {
            double e = w->ct[k] - w->cg[k];
            size_t c = 0;
            while (w->key[c] != e)
                c++;
            w->comp[k] = (int)c;
        }
    } else {
        nc = w->nG;
        for (size_t k = 0; k < w->n_gt; k++)
            if (w->post[k])
                w->comp[k] = (int)w->cgi[k];
        for (size_t g = 0; g < nc; g++)
            w->key[g] = w->glist[g];
    }
    for (size_t c = 0; c < nc; c++) {
        w->S[c] = 0;
        w->theta[c] = 0;
    }
    for (size_t k = 0; k < w->n_gt; k++)
        if (w->comp[k] >= 0)
            w->S[w->comp[k]] += (double)w->gcount[w->cgi[k]] / n;
    for (size_t k = 0; k < w->n_gt; k++)
        if (w->comp[k] >= 0) {
            w->wt[k] = (double)w->gcount[w->cgi[k]] / n / w->S[w->comp[k]];
            w->theta[w->comp[k]] += w->wt[k] * w->att[k];
        }
    /* The weights' part of the influence function: simple and dynamic
     * components estimate their weights; group components (one group each)
     * do not. */
    int comp_wif = type != SYF_CS_GROUP;
    for (size_t c = 0; c < nc && comp_wif; c++)
        wif_table(w, c);

    /* Overall estimate. */
    double overall = 0, Sg = 0;
    size_t n_pos = 0;
    if (type == SYF_CS_SIMPLE) {
        overall = w->theta[0];
    } else if (type == SYF_CS_DYNAMIC) {
        for (size_t c = 0; c < nc; c++)
            if (w->key[c] >= 0) {
                overall += w->theta[c];
                n_pos++;
            }
        overall = n_pos ? overall / (double)n_pos : NAN;
    } else {
        for (size_t g = 0; g < nc; g++) {
            Sg += (double)w->gcount[g] / n;
            overall += (double)w->gcount[g] / n * w->theta[g];
        }
        overall /= Sg;
    }

    /* One pass over the units: component and overall influence values. */
    for (size_t c = 0; c <= nc; c++)
        w->ssq[c] = 0;
    for (size_t i = 0; i < w->N; i++) {
        if (w->gidx[i] == DROPPED)
            continue;
        unit_ifrow(w, i);
        for (size_t c = 0; c < nc; c++)
            w->psi[c] = 0;
        for (size_t k = 0; k < w->n_gt; k++)
            if (w->comp[k] >= 0)
                w->psi[w->comp[k]] += w->wt[k] * w->ifrow[k];
        int treated = w->gidx[i] != NEVER;
        if (comp_wif && treated)
            for (size_t c = 0; c < nc; c++)
                w->psi[c] += w->h[c * w->g_max + w->gidx[i]];
        double po = 0;
        if (type == SYF_CS_SIMPLE) {
            po = w->psi[0];
        } else if (type == SYF_CS_DYNAMIC) {
            for (size_t c = 0; c < nc; c++)
                if (w->key[c] >= 0)
                    po += w->psi[c];
            po = n_pos ? po / (double)n_pos : 0;
        } else {
            for (size_t g = 0; g < nc; g++)
                po += (double)w->gcount[g] / n / Sg * w->psi[g];
            if (treated)
                po += (w->theta[w->gidx[i]] - overall) / Sg;
        }
        for (size_t c = 0; c < nc; c++)
            w->ssq[c] += w->psi[c] * w->psi[c];
        w->ssq[nc] += po * po;
    }
    for (size_t c = 0; c < nc; c++) {
        w->est[c] = w->theta[c];
        w->cse[c] = sqrt(w->ssq[c]) / n;
    }
    res->type = type;
    res->overall = overall;
    res->overall_se = sqrt(w->ssq[nc]) / n;
    res->n = type == SYF_CS_SIMPLE ? 0 : nc;
    res->key = w->key;
    res->estimate = w->est;
    res->std_error = w->cse;
    return SYF_OK;
}
