/* did.c — difference-in-differences regressions: 2x2, TWFE, event study
 * (see did.h).
 *
 * `syfosim estimate --method did` (cli/est_did.c) calls it on a user's
 * panel and Monte Carlo diagnosis on simulated ones.  Each estimator builds
 * a design matrix and hands it to the OLS module (analysis/ols.c), which
 * does the fit and the cluster-robust variance; nothing here duplicates it.
 *
 * Outline of syf_did_fit():
 *   1. Check the codes, count rows per unit and period, bucket the rows by
 *      unit (counting sort, so the within transformation needs O(p) scratch
 *      instead of an n_units x p table).
 *   2. Build the columns: main terms (2x2 cells, D, or relative-period
 *      dummies), period dummies (TWFE/event), covariates.
 *   3. TWFE/event: subtract unit means from y and every column.  A column
 *      whose within-unit sum of squares is below 1e-10 of its raw sum of
 *      squares does not vary within units: it is reported by name (the
 *      scaled collinearity check in OLS would otherwise see rounding noise
 *      as a regular column).
 *   4. OLS fit with clusters (default: units); copy the reported terms.
 */
#include "syfosim/did.h"
#include "linalg.h"
#include "syfosim/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DID_WITHIN_TOL 1e-10
#define DID_NAME_LEN 48

struct syf_did_workspace {
    size_t n_max, nU_max, T_max, k_max, G_max, p_max;
    double *X, *y, *colacc, *raw;  /* n_max x p_max, n_max, p_max + 1, p_max */
    size_t *order, *ustart;        /* n_max, nU_max + 1 */
    size_t *pcount, *pdummy;       /* T_max: rows per period, dummy column or -1 */
    size_t *relcol;                /* 2 T_max + 1: column of relative period r */
    unsigned char *ucount_treated; /* nU_max scratch flags */
    char *names;                   /* p_max x DID_NAME_LEN */
    const char **term;             /* p_max */
    size_t *report;                /* p_max: OLS column of each reported term */
    double *est, *se, *stat, *df, *pv, *lo, *hi;
    syf_ols_workspace *ols;
    size_t ols_p, bad_cluster;
    syf_ols_result ols_res;
};

int syf_did_type_parse(const char *name, syf_did_type *type, int *binned, long *bin_lo,
                       long *bin_hi)
{
    *binned = 0;
    *bin_lo = *bin_hi = 0;
    if (!strcmp(name, "2x2")) {
        *type = SYF_DID_2X2;
        return SYF_OK;
    }
    if (!strcmp(name, "twfe")) {
        *type = SYF_DID_TWFE;
        return SYF_OK;
    }
    if (!strcmp(name, "event")) {
        *type = SYF_DID_EVENT;
        return SYF_OK;
    }
    if (!strncmp(name, "event:", 6)) {
        char *end;
        const char *s = name + 6;
        long lo = strtol(s, &end, 10);
        if (end != s && *end == ':') {
            s = end + 1;
            long hi = strtol(s, &end, 10);
            if (end != s && *end == '\0') {
                if (lo > -2 || hi < 0)
                    return syf_error_set(SYF_EINPUT,
                                         "event-study bins '%s': need LO <= -2 and HI >= 0 so "
                                         "that the reference period -1 stays on its own",
                                         name);
                *type = SYF_DID_EVENT;
                *binned = 1;
                *bin_lo = lo;
                *bin_hi = hi;
                return SYF_OK;
            }
        }
    }
    return syf_error_set(SYF_EINPUT,
                         "unknown aggregate '%s' (choose 2x2, twfe, event or event:LO:HI, "
                         "e.g. event:-4:3 to bin relative periods <= -4 and >= 3)",
                         name);
}

void syf_did_free(syf_did_workspace *w)
{
    if (!w)
        return;
    void *ptrs[] = {w->X,     w->y,      w->colacc, w->raw,  w->order, w->ustart,
                    w->pcount, w->pdummy, w->relcol, w->ucount_treated, w->names,
                    (void *)w->term, w->report, w->est, w->se, w->stat, w->df, w->pv,
                    w->lo,    w->hi};
    for (size_t i = 0; i < sizeof ptrs / sizeof ptrs[0]; i++)
        free(ptrs[i]);
    syf_ols_free(w->ols);
    free(w);
}

syf_did_workspace *syf_did_alloc(size_t n_max, size_t n_units_max, size_t n_periods_max,
                                 size_t k_max, size_t G_max)
{
    syf_did_workspace *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->n_max = n_max;
    w->nU_max = n_units_max;
    w->T_max = n_periods_max;
    w->k_max = k_max;
    w->G_max = G_max;
    /* main terms: at most 4 (2x2) or 2T - 1 relative periods */
    size_t main_max = 2 * n_periods_max + 4;
    w->p_max = main_max + n_periods_max + k_max;
    size_t p = w->p_max;
    int ok = 1;
#define ALLOC(f, cnt) ok = ok && ((w->f = calloc((cnt) > 0 ? (size_t)(cnt) : 1u, sizeof *w->f)) != NULL)
    ALLOC(X, n_max * p); ALLOC(y, n_max); ALLOC(colacc, p + 1); ALLOC(raw, p);
    ALLOC(order, n_max); ALLOC(ustart, n_units_max + 1); ALLOC(pcount, n_periods_max);
    ALLOC(pdummy, n_periods_max); ALLOC(relcol, 2 * n_periods_max + 1);
    ALLOC(ucount_treated, n_units_max); ALLOC(names, p * DID_NAME_LEN); ALLOC(term, p);
    ALLOC(report, p); ALLOC(est, p); ALLOC(se, p); ALLOC(stat, p); ALLOC(df, p); ALLOC(pv, p);
    ALLOC(lo, p); ALLOC(hi, p);
#undef ALLOC
    if (!ok) {
        syf_did_free(w);
        return NULL;
    }
    w->bad_cluster = (size_t)-1;
    return w;
}

size_t syf_did_singular_cluster(const syf_did_workspace *w) { return w->bad_cluster; }

static char *name_slot(syf_did_workspace *w, size_t j) { return w->names + j * DID_NAME_LEN; }

/* Name of design column j (for messages), given the layout. */
static void column_name(const syf_did_workspace *w, const syf_did_data *d, size_t j,
                        size_t n_main, size_t n_pd, char *buf, size_t len)
{
    if (j < n_main)
        snprintf(buf, len, "%s", w->names + j * DID_NAME_LEN);
    else if (j < n_main + n_pd)
        snprintf(buf, len, "period dummy %zu", j - n_main + 1);
    else if (d->x_names)
        snprintf(buf, len, "%s", d->x_names[j - n_main - n_pd]);
    else
        snprintf(buf, len, "x%zu", j - n_main - n_pd + 1);
}

int syf_did_fit(syf_did_workspace *w, const syf_did_data *d, const syf_did_spec *spec,
                syf_did_result *res)
{
    const size_t n = d->n, nU = d->n_units, T = d->n_periods, k = d->k;
    w->bad_cluster = (size_t)-1;
    memset(res, 0, sizeof *res);
    if (n > w->n_max || nU > w->nU_max || T > w->T_max || k > w->k_max ||
        (d->cluster && d->G > w->G_max) || (!d->cluster && nU > w->G_max))
        return syf_error_set(SYF_EINPUT, "did: panel larger than the workspace");
    if (T < 2)
        return syf_error_set(SYF_EINPUT, "did: need at least 2 periods (found %zu)", T);
    if (k && !d->X)
        return syf_error_set(SYF_EINPUT, "did: k = %zu covariates but X is NULL", k);

    /* 1. Codes, counts, rows bucketed by unit. */
    memset(w->pcount, 0, T * sizeof *w->pcount);
    for (size_t i = 0; i < n; i++) {
        if (d->unit[i] >= nU || d->period[i] >= T)
            return syf_error_set(SYF_EINPUT, "did: row %zu: unit or period code out of range",
                                 i);
        if (d->cluster && d->cluster[i] >= d->G)
            return syf_error_set(SYF_EINPUT, "did: row %zu: cluster code out of range", i);
        if (!isfinite(d->y[i]) || (d->treat && !isfinite(d->treat[i])))
            return syf_error_set(SYF_EINPUT, "did: row %zu: outcome or treatment not finite", i);
        for (size_t j = 0; j < k; j++)
            if (!isfinite(d->X[i * k + j]))
                return syf_error_set(SYF_EINPUT, "did: row %zu: covariate %zu not finite", i,
                                     j + 1);
        w->pcount[d->period[i]]++;
    }
    syf_linalg_group(n, d->unit, nU, w->ustart, w->order);
    for (size_t u = 0; u < nU; u++) {
        if (w->ustart[u + 1] == w->ustart[u])
            return syf_error_set(SYF_EINPUT, "did: unit code %zu has no rows", u);
        if (d->adopt[u] != SYF_DID_NEVER && d->adopt[u] >= T)
            return syf_error_set(SYF_EINPUT, "did: adoption period code of unit %zu out of range",
                                 u);
    }
    size_t n_treated = 0, n_never = 0;
    for (size_t u = 0; u < nU; u++) {
        if (d->adopt[u] == SYF_DID_NEVER)
            n_never++;
        else
            n_treated++;
    }

    /* 2. Columns. */
    size_t n_main = 0, n_pd = 0, n_rep_main = 0, a2 = SYF_DID_NEVER;
    const int fe = spec->type != SYF_DID_2X2;
    if (spec->type == SYF_DID_2X2) {
        size_t a = SYF_DID_NEVER;
        for (size_t u = 0; u < nU; u++) {
            if (d->adopt[u] == SYF_DID_NEVER)
                continue;
            if (a == SYF_DID_NEVER)
                a = d->adopt[u];
            else if (d->adopt[u] != a)
                return syf_error_set(SYF_EINPUT,
                                     "did 2x2: treated units adopt in different periods "
                                     "(staggered adoption); use twfe, event or --method cs");
        }
        if (a == SYF_DID_NEVER || n_never == 0)
            return syf_error_set(SYF_EINPUT,
                                 "did 2x2: need both treated and never-treated units (found "
                                 "%zu treated, %zu never treated)",
                                 n_treated, n_never);
        size_t cnt[4] = {0, 0, 0, 0};
        for (size_t i = 0; i < n; i++)
            cnt[2 * (d->adopt[d->unit[i]] != SYF_DID_NEVER) + (d->period[i] >= a)]++;
        if (!cnt[0] || !cnt[1] || !cnt[2] || !cnt[3])
            return syf_error_set(SYF_EINPUT,
                                 "did 2x2: need rows before and after adoption in both groups "
                                 "(control pre %zu, control post %zu, treated pre %zu, treated "
                                 "post %zu)",
                                 cnt[0], cnt[1], cnt[2], cnt[3]);
        a2 = a;
        static const char *const nm[] = {"ATT", "(Intercept)", "treated", "post"};
        for (int j = 0; j < 4; j++)
            snprintf(name_slot(w, j), DID_NAME_LEN, "%s", nm[j]);
        n_main = n_rep_main = 4;
    } else if (spec->type == SYF_DID_TWFE) {
        snprintf(name_slot(w, 0), DID_NAME_LEN, "ATT");
        n_main = n_rep_main = 1;
    } else {
        /* relative periods present (after binning), sorted, -1 left out */
        const long Tl = (long)T;
        for (size_t r = 0; r < 2 * T + 1; r++)
            w->relcol[r] = (size_t)-1;
        for (size_t i = 0; i < n; i++) {
            size_t a = d->adopt[d->unit[i]];
            if (a == SYF_DID_NEVER)
                continue;
            long r = (long)d->period[i] - (long)a;
            if (spec->binned)
                r = r < spec->bin_lo ? spec->bin_lo : r > spec->bin_hi ? spec->bin_hi : r;
            if (r != -1)
                w->relcol[r + Tl] = 0;
        }
        for (long r = -Tl; r <= Tl; r++)
            if (w->relcol[r + Tl] == 0) {
                w->relcol[r + Tl] = n_main;
                const char *op = spec->binned && r == spec->bin_lo   ? "<="
                                 : spec->binned && r == spec->bin_hi ? ">="
                                                                     : "=";
                snprintf(name_slot(w, n_main), DID_NAME_LEN, "e%s%ld", op, r);
                n_main++;
            }
        if (n_main == 0)
            return syf_error_set(SYF_EINPUT, "did event: no treated unit-periods");
        n_rep_main = n_main;
    }
    if (fe) {
        size_t first = (size_t)-1;
        for (size_t t = 0; t < T; t++) {
            w->pdummy[t] = (size_t)-1;
            if (!w->pcount[t])
                continue;
            if (first == (size_t)-1)
                first = t;
            else
                w->pdummy[t] = n_main + n_pd++;
        }
    }
    const size_t p = n_main + n_pd + k;
    if (n <= p)
        return syf_error_set(SYF_EINPUT, "did: %zu rows for %zu regression columns", n, p);

    for (size_t i = 0; i < n; i++) {
        double *xi = w->X + i * p;
        memset(xi, 0, p * sizeof *xi);
        size_t a = d->adopt[d->unit[i]], t = d->period[i];
        if (spec->type == SYF_DID_2X2) {
            xi[1] = 1;
            xi[2] = a != SYF_DID_NEVER;
            xi[3] = t >= a2;
            xi[0] = xi[2] * xi[3];
        } else if (spec->type == SYF_DID_TWFE) {
            xi[0] = d->treat ? d->treat[i] : (a != SYF_DID_NEVER && t >= a);
        } else if (a != SYF_DID_NEVER) {
            long r = (long)t - (long)a;
            if (spec->binned)
                r = r < spec->bin_lo ? spec->bin_lo : r > spec->bin_hi ? spec->bin_hi : r;
            if (r != -1)
                xi[w->relcol[r + (long)T]] = 1;
        }
        if (fe && w->pdummy[t] != (size_t)-1)
            xi[w->pdummy[t]] = 1;
        for (size_t j = 0; j < k; j++)
            xi[n_main + n_pd + j] = d->X[i * k + j];
        w->y[i] = d->y[i];
    }
    /* 3. Within transformation (unit means out). */
    if (fe) {
        for (size_t j = 0; j < p; j++)
            w->raw[j] = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < p; j++)
                w->raw[j] += w->X[i * p + j] * w->X[i * p + j];
        for (size_t u = 0; u < nU; u++) {
            size_t s = w->ustart[u], e = w->ustart[u + 1];
            double m = (double)(e - s);
            for (size_t j = 0; j <= p; j++)
                w->colacc[j] = 0;
            for (size_t r = s; r < e; r++) {
                size_t i = w->order[r];
                for (size_t j = 0; j < p; j++)
                    w->colacc[j] += w->X[i * p + j];
                w->colacc[p] += w->y[i];
            }
            for (size_t j = 0; j <= p; j++)
                w->colacc[j] /= m;
            for (size_t r = s; r < e; r++) {
                size_t i = w->order[r];
                for (size_t j = 0; j < p; j++)
                    w->X[i * p + j] -= w->colacc[j];
                w->y[i] -= w->colacc[p];
            }
        }
        for (size_t j = 0; j < p; j++) {
            double within = 0;
            for (size_t i = 0; i < n; i++)
                within += w->X[i * p + j] * w->X[i * p + j];
            if (!(within > DID_WITHIN_TOL * w->raw[j])) {
                char nm[DID_NAME_LEN + 32];
                column_name(w, d, j, n_main, n_pd, nm, sizeof nm);
                if (spec->type == SYF_DID_TWFE && j == 0)
                    return syf_error_set(SYF_ESINGULAR,
                                         "the treatment does not vary within any unit (no "
                                         "unit changes treatment status), so the unit fixed "
                                         "effects absorb it");
                return syf_error_set(SYF_ESINGULAR,
                                     "'%s' does not vary within units, so the unit fixed "
                                     "effects absorb it",
                                     nm);
            }
        }
    }

    /* 4. OLS. */
    if (!w->ols || w->ols_p != p) {
        syf_ols_free(w->ols);
        w->ols = syf_ols_alloc(w->n_max, p, w->G_max);
        w->ols_p = w->ols ? p : 0;
        if (!w->ols)
            return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    const size_t *cl = d->cluster ? d->cluster : d->unit;
    size_t G = d->cluster ? d->G : nU;
    int st = syf_ols_fit(w->ols, n, w->X, w->y, cl, G, spec->vcov, spec->level, &w->ols_res);
    if (st != SYF_OK) {
        w->bad_cluster = syf_ols_singular_cluster(w->ols);
        return st;
    }
    size_t nrep = 0;
    for (size_t j = 0; j < n_rep_main; j++)
        w->report[nrep++] = j;
    for (size_t j = 0; j < k; j++) {
        size_t col = n_main + n_pd + j;
        if (d->x_names)
            snprintf(name_slot(w, col), DID_NAME_LEN, "%s", d->x_names[j]);
        else
            snprintf(name_slot(w, col), DID_NAME_LEN, "x%zu", j + 1);
        w->report[nrep++] = col;
    }
    const syf_ols_result *o = &w->ols_res;
    for (size_t r = 0; r < nrep; r++) {
        size_t j = w->report[r];
        w->term[r] = name_slot(w, j);
        w->est[r] = o->estimate[j];
        w->se[r] = o->std_error[j];
        w->stat[r] = o->statistic[j];
        w->df[r] = o->df[j];
        w->pv[r] = o->p_value[j];
        w->lo[r] = o->conf_low[j];
        w->hi[r] = o->conf_high[j];
    }
    res->n_terms = nrep;
    res->term = w->term;
    res->estimate = w->est;
    res->std_error = w->se;
    res->statistic = w->stat;
    res->df = w->df;
    res->p_value = w->pv;
    res->conf_low = w->lo;
    res->conf_high = w->hi;
    res->n = n;
    res->n_units = nU;
    res->n_periods = T;
    res->G = G;
    res->p = p;
    res->n_treated_units = n_treated;
    res->n_never_units = n_never;
    res->ols = &w->ols_res;
    return SYF_OK;
}
