/* est_rd.c — `estimate --method rd`: sharp regression discontinuity
 * (analysis/rd.c, rdrobust's local-linear estimator) on --outcome against
 * --running with the threshold --cutoff.
 *
 * Options: --bandwidth H or H,B (default: rdrobust's mserd); --covariates
 * (covariate-adjusted RD); --cluster (cluster-robust); --se nn|hc0|hc1|
 * hc2|hc3 (default nn, rdrobust's default); --level.  Rows, as rdrobust
 * prints them: Conventional (local-linear estimate, its SE), Bias-corrected
 * (same SE), Robust (bias-corrected estimate with the robust SE); normal
 * reference distribution.  Rows with a missing value (empty cell or NA)
 * in a column the fit uses are dropped, as rdrobust does, and counted in
 * the notes; any other non-number is an error.
 */
#include "estimate.h"
#include "syfosim/error.h"
#include "syfosim/rd.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_missing(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return !*s || !strcmp(s, "NA");
}

static int parse_pos(const char *s, char **end, double *v)
{
    errno = 0;
    *v = strtod(s, end);
    return *end != s && errno == 0 && isfinite(*v) && *v > 0;
}

int est_rd(const est_opts *o, const syf_dataset *d, est_table *out)
{
    syf_rd_options opt;
    syf_rd_options_default(&opt);
    opt.level = o->level_value;
    char *end;
    errno = 0;
    opt.cutoff = strtod(o->cutoff, &end);
    if (end == o->cutoff || *end || errno || !isfinite(opt.cutoff))
        return syf_error_set(SYF_EINPUT, "--cutoff: '%s' is not a finite number", o->cutoff);
    if (o->bandwidth) {
        if (!parse_pos(o->bandwidth, &end, &opt.h) ||
            (*end && (*end != ',' || !parse_pos(end + 1, &end, &opt.b) || *end)))
            return syf_error_set(SYF_EINPUT,
                                 "--bandwidth: '%s' is not H or H,B with positive numbers (H the "
                                 "bandwidth of the estimate, B that of the bias correction; B "
                                 "defaults to H)",
                                 o->bandwidth);
    }
    if (o->se && syf_rd_vce_parse(o->se, &opt.vce) != SYF_OK)
        return syf_error_set(SYF_EINPUT, "--se: unknown variance '%s' for rd (choose nn, hc0, hc1, "
                                         "hc2 or hc3)",
                             o->se);
    const size_t N = d->n_rows, dz = o->n_terms - 1;
    if (dz > SYF_RD_MAX_COVARIATES)
        return syf_error_set(SYF_EINPUT, "--covariates: at most %d columns for rd",
                             SYF_RD_MAX_COVARIATES);
    /* columns: outcome, running, covariates */
    size_t ncol = 2 + dz, col[2 + SYF_RD_MAX_COVARIATES];
    const char *names[2 + SYF_RD_MAX_COVARIATES];
    names[0] = o->outcome;
    names[1] = o->running;
    for (size_t m = 0; m < dz; m++)
        names[2 + m] = o->terms[1 + m];
    for (size_t k = 0; k < ncol; k++) {
        int st = syf_dataset_column_find(d, names[k], &col[k]);
        if (st)
            return st;
    }
    double *y = malloc((N ? N : 1) * sizeof *y), *x = malloc((N ? N : 1) * sizeof *x);
    double *Z = malloc((N * dz > 0 ? N * dz : 1) * sizeof *Z);
    size_t *codes = NULL, *cl = NULL, *map = NULL, G = 0;
    const char **levels = NULL;
    syf_rd_workspace *w = NULL;
    int st = (y && x && Z) ? SYF_OK : syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK && o->cluster)
        st = est_factor(d, "cluster", o->cluster, &codes, &G, &levels);
    if (st == SYF_OK && o->cluster) {
        cl = malloc((N ? N : 1) * sizeof *cl);
        map = malloc(G * sizeof *map);
        if (!cl || !map)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
    }
    size_t n = 0, dropped = 0;
    for (size_t i = 0; st == SYF_OK && i < N; i++) {
        int miss = 0;
        for (size_t k = 0; k < ncol && st == SYF_OK; k++) {
            const syf_column *c = &d->cols[col[k]];
            if (is_missing(c->str[i]))
                miss = 1;
            else if (!isfinite(c->num[i]))
                st = syf_error_set(SYF_EINPUT, "%s:%zu: column '%s': '%s' is not a number",
                                   o->data, d->line[i], names[k], c->str[i]);
        }
        if (st)
            break;
        if (miss) {
            dropped++;
            continue;
        }
        y[n] = d->cols[col[0]].num[i];
        x[n] = d->cols[col[1]].num[i];
        for (size_t m = 0; m < dz; m++)
            Z[n * dz + m] = d->cols[col[2 + m]].num[i];
        if (cl)
            cl[n] = codes[i];
        n++;
    }
    size_t Gk = 0;
    if (st == SYF_OK && cl) {
        /* clusters that survive the dropping, recoded 0..Gk-1 */
        for (size_t g = 0; g < G; g++)
            map[g] = (size_t)-1;
        for (size_t i = 0; i < n; i++) {
            if (map[cl[i]] == (size_t)-1)
                map[cl[i]] = Gk++;
            cl[i] = map[cl[i]];
        }
        if (Gk < 2)
            st = syf_error_set(SYF_EINPUT, "%s: --cluster %s: fewer than 2 clusters", o->data,
                               o->cluster);
    }
    if (st == SYF_OK && !(w = syf_rd_alloc(n, dz, cl ? Gk : 0)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    syf_rd_result r;
    if (st == SYF_OK) {
        st = syf_rd_fit(w, n, y, x, dz ? Z : NULL, cl, Gk, &opt, &r);
        if (st) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            /* a singular local fit is a property of the data: bad input */
            st = syf_error_set(st == SYF_ESINGULAR ? SYF_EINPUT : st, "%s: %s", o->data, msg);
        }
    }
    if (st == SYF_OK) {
        est_table_note(out, "sharp RD at %s = %g: local-linear, triangular kernel (rdrobust p = 1, "
                            "q = 2)",
                       o->running, opt.cutoff);
        est_table_note(out, "N = %zu | %zu (left | right of the cutoff), effective N = %zu | %zu at "
                            "h, %zu | %zu at b",
                       r.n_left, r.n_right, r.nh_left, r.nh_right, r.nb_left, r.nb_right);
        if (dropped)
            est_table_note(out, "%zu row%s with a missing value dropped", dropped,
                           dropped == 1 ? "" : "s");
        if (r.bw_selected)
            est_table_note(out, "bandwidths h = %.6g, b = %.6g: MSE-optimal (rdrobust mserd, "
                                "masspoints adjust)",
                           r.h, r.b);
        else
            est_table_note(out, "bandwidths h = %.6g, b = %.6g (given)", r.h, r.b);
        if (cl)
            est_table_note(out, "variance: %s residuals, clustered by %s (%zu | %zu clusters in the "
                                "windows)",
                           syf_rd_vce_name(opt.vce), o->cluster, r.g_left, r.g_right);
        else
            est_table_note(out, "variance: %s%s", syf_rd_vce_name(opt.vce),
                           opt.vce == SYF_RD_NN ? " (3 nearest neighbours)" : "");
        if (dz)
            est_table_note(out, "covariate-adjusted (%zu covariate%s)", dz, dz == 1 ? "" : "s");
        st = est_table_add(out, "Conventional", r.tau_cl, r.se_cl, r.z_cl, NAN, r.p_cl,
                           r.ci_cl[0], r.ci_cl[1]);
        if (st == SYF_OK) {
            double z = r.tau_bc / r.se_cl, zq = (r.ci_cl[1] - r.tau_cl) / r.se_cl;
            st = est_table_add(out, "Bias-corrected", r.tau_bc, r.se_cl, z, NAN,
                               erfc(fabs(z) / sqrt(2.0)),
                               r.tau_bc - zq * r.se_cl, r.tau_bc + zq * r.se_cl);
        }
        if (st == SYF_OK)
            st = est_table_add(out, "Robust", r.tau_bc, r.se_rb, r.z_rb, NAN, r.p_rb, r.ci_rb[0],
                               r.ci_rb[1]);
    }
    syf_rd_free(w);
    free(y);
    free(x);
    free(Z);
    free(codes);
    free(levels);
    free(cl);
    free(map);
    return st;
}
