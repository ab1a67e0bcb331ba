/* fit_bench.c — benchmark 4 of issue 5 (bench/run.sh): the estimation work
 * of one stepped-wedge replication, timed in-process so that it compares
 * with R's fit times measured inside R (bench/peer/peer.R, system.time of
 * the fit on data already loaded).  Process start and CSV parsing are not
 * part of either figure.
 *
 * Reads the CSV that bench/run.sh extracts from a `syfosim run` of the
 * stepped wedge (y, treated, office_id, p1..p4: the period dummies) and
 * times, per fit, what an analyst's call does: build the design matrix
 * [1, treated, p1..p4] from the columns, allocate the workspace, fit, free:
 *   ols_CR2    OLS with CR2 by office and Bell-McCaffrey/Satterthwaite df
 *              (estimatr::lm_robust(se_type = "CR2"))
 *   lmm_REML   random office intercept, REML, Satterthwaite df
 *              (lme4::lmer, which computes no df at all)
 * Each timing is the mean over enough repetitions to last at least 0.2 s;
 * the figure printed is the median of REPS timings.
 *
 * Usage: fit_bench FILE.csv [REPS]
 * Prints one line per method: NAME median_seconds estimate std_error
 * (the treated coefficient), the format of peer.R.
 */
#include "syfosim/dataset.h"
#include "syfosim/error.h"
#include "syfosim/lmm.h"
#include "syfosim/ols.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { P = 6 };

typedef struct {
    size_t n, G;
    const double *y, *col[P - 1]; /* treated, p1..p4 */
    size_t *cl;
} data;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double *design(const data *d)
{
    double *X = malloc(d->n * P * sizeof *X);
    if (!X)
        return NULL;
    for (size_t i = 0; i < d->n; i++) {
        X[i * P] = 1.0;
        for (int k = 0; k < P - 1; k++)
            X[i * P + 1 + k] = d->col[k][i];
    }
    return X;
}

/* One analyst's call: design, workspace, fit (treated: coefficient 1). */
static int fit_once(const data *d, int lmm, double *est, double *se)
{
    double *X = design(d);
    int st = SYF_ENOMEM;
    if (!X)
        return st;
    if (lmm) {
        syf_lmm_workspace *w = syf_lmm_alloc(d->n, P, d->G);
        syf_lmm_result r;
        if (w && (st = syf_lmm_fit(w, d->n, X, d->y, d->cl, d->G, SYF_LMM_DF_SATTERTHWAITE, 0.95,
                                   &r)) == SYF_OK) {
            *est = r.estimate[1];
            *se = r.std_error[1];
        }
        syf_lmm_free(w);
    } else {
        syf_ols_workspace *w = syf_ols_alloc(d->n, P, d->G);
        syf_ols_result r;
        if (w && (st = syf_ols_fit(w, d->n, X, d->y, d->cl, d->G, SYF_VCOV_CR2, 0.95, &r)) ==
                     SYF_OK) {
            *est = r.estimate[1];
            *se = r.std_error[1];
        }
        syf_ols_free(w);
    }
    free(X);
    return st;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fit_bench FILE.csv [REPS]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (reps < 1 || reps > 1000)
        reps = 5;
    syf_dataset *ds = NULL;
    data d;
    memset(&d, 0, sizeof d);
    static const char *const names[P - 1] = {"treated", "p1", "p2", "p3", "p4"};
    int st = syf_dataset_read(argv[1], &ds);
    if (st == SYF_OK)
        st = syf_dataset_column_numeric(ds, "y", &d.y);
    for (int k = 0; st == SYF_OK && k < P - 1; k++)
        st = syf_dataset_column_numeric(ds, names[k], &d.col[k]);
    if (st == SYF_OK) {
        d.n = ds->n_rows;
        if (!(d.cl = malloc((d.n ? d.n : 1) * sizeof *d.cl)))
            st = syf_error_set(SYF_ENOMEM, "out of memory");
    }
    if (st == SYF_OK)
        st = syf_dataset_column_factor(ds, "office_id", d.cl, &d.G, NULL);
    if (st != SYF_OK) {
        fprintf(stderr, "fit_bench: %s\n", syf_error_message());
        return 1;
    }
    static const char *const label[2] = {"ols_CR2", "lmm_REML"};
    for (int lmm = 0; lmm < 2; lmm++) {
        double est = 0, se = 0, *t = malloc((size_t)reps * sizeof *t);
        if (!t)
            return 1;
        for (int r = 0; r < reps; r++) {
            size_t count = 0;
            double t0 = now(), t1;
            do {
                if ((st = fit_once(&d, lmm, &est, &se)) != SYF_OK) {
                    fprintf(stderr, "fit_bench: %s: %s\n", label[lmm], syf_error_message());
                    return 1;
                }
                count++;
                t1 = now();
            } while (t1 - t0 < 0.2);
            t[r] = (t1 - t0) / (double)count;
        }
        qsort(t, (size_t)reps, sizeof *t, cmp_double);
        printf("%s %.9f %.10g %.10g\n", label[lmm], t[(reps - 1) / 2], est, se);
        free(t);
    }
    free(d.cl);
    syf_dataset_free(ds);
    return 0;
}
