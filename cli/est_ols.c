/* est_ols.c — `estimate --method ols`: OLS with cluster-robust variance
 * (analysis/ols.c) on the regressors (Intercept), --treat, --covariates.
 *
 * --inference analytic|wild|ri chooses the inference for the --treat
 * coefficient (the one of interest): analytic (default) is the t test of
 * the --se variance; wild is the restricted wild cluster bootstrap
 * (analysis/wildboot.c, --weights rademacher|webb) and ri re-runs the
 * cluster randomisation (analysis/ri.c, statistic: the --se t statistic).
 * With wild/ri the --treat row keeps the --se estimate, standard error and
 * t statistic, df is empty (the p-value and interval come from the
 * bootstrap / randomization distribution, not from a t distribution), and
 * p_value, conf_low, conf_high are replaced; the other rows stay analytic.
 * --draws (default 999) and --seed (default 1) apply to wild/ri only.
 */
#include "estimate.h"
#include "syfosim/error.h"
#include "syfosim/ols.h"
#include "syfosim/ri.h"
#include "syfosim/wildboot.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { INF_ANALYTIC, INF_WILD, INF_RI } inference_kind;

/* Most draws accepted on the command line (the workspaces hold B numbers). */
#define EST_MAX_DRAWS 10000000UL

/* Parse --inference, --draws, --weights, --seed. */
static int parse_inference(const est_opts *o, inference_kind *kind, size_t *draws,
                           syf_wild_weights *weights, uint64_t *seed)
{
    *kind = INF_ANALYTIC;
    *draws = 999;
    *weights = SYF_WILD_RADEMACHER;
    *seed = 1;
    if (o->inference) {
        if (!strcmp(o->inference, "wild"))
            *kind = INF_WILD;
        else if (!strcmp(o->inference, "ri"))
            *kind = INF_RI;
        else if (strcmp(o->inference, "analytic") != 0)
            return syf_error_set(SYF_EINPUT, "--inference: unknown inference '%s' (choose "
                                             "analytic, wild or ri)", o->inference);
    }
    if (*kind == INF_ANALYTIC) {
        const char *bad = o->draws ? "draws" : o->weights ? "weights" : o->seed ? "seed" : NULL;
        if (bad)
            return syf_error_set(SYF_EINPUT, "--%s is used only with --inference wild or ri",
                                 bad);
        return SYF_OK;
    }
    if (!o->treat)
        return syf_error_set(SYF_EINPUT, "--inference %s needs --treat (the coefficient it "
                                         "tests)", o->inference);
    if (o->weights && *kind != INF_WILD)
        return syf_error_set(SYF_EINPUT, "--weights is used only with --inference wild");
    if (o->weights && syf_wild_weights_parse(o->weights, weights) != SYF_OK)
        return syf_error_set(SYF_EINPUT, "--weights: unknown weights '%s' (choose rademacher "
                                         "or webb)", o->weights);
    if (o->draws) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(o->draws, &end, 10);
        if (end == o->draws || *end || errno || o->draws[0] == '-' || v < 1 ||
            v > EST_MAX_DRAWS)
            return syf_error_set(SYF_EINPUT, "--draws: '%s' is not a whole number from 1 to %lu",
                                 o->draws, EST_MAX_DRAWS);
        *draws = (size_t)v;
    }
    if (o->seed) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(o->seed, &end, 10);
        if (end == o->seed || *end || errno || o->seed[0] == '-')
            return syf_error_set(SYF_EINPUT, "--seed: '%s' is not a non-negative whole number",
                                 o->seed);
        *seed = (uint64_t)v;
    }
    return SYF_OK;
}

/* Bootstrap / randomization inference for coefficient 1 (--treat): fills
 * p, lo, hi and adds the notes. */
static int treat_inference(const est_opts *o, inference_kind kind, size_t draws,
                           syf_wild_weights weights, uint64_t seed, syf_vcov_type type,
                           size_t n, const double *X, const double *y, const size_t *codes,
                           size_t G, const char **levels, est_table *out, double *p, double *lo,
                           double *hi)
{
    static const char *const se_name[] = {"CR0", "CR1", "CR2", "CR3"};
    size_t P = o->n_terms;
    size_t Gn = codes ? G : n;
    int st;
    size_t bad = (size_t)-1;
    if (kind == INF_WILD) {
        syf_wild_workspace *w = syf_wild_alloc(n, P, Gn, draws);
        if (!w)
            return syf_error_set(SYF_ENOMEM, "out of memory (wild bootstrap with %zu draws)",
                                 draws);
        syf_wild_options wo = {.coef = 1, .null_value = 0, .draws = draws, .weights = weights,
                               .seed = seed, .rep = 0, .level = o->level_value, .want_ci = 1};
        syf_wild_result r;
        st = syf_wild_test(w, n, X, y, codes, G, &wo, &r);
        if (st == SYF_OK) {
            *p = r.p_value;
            *lo = r.conf_low;
            *hi = r.conf_high;
            est_table_note(out, "inference for %s: wild cluster bootstrap, restricted (WCR: H0 "
                                "%s = 0 imposed), bootstrap-t with CR1, symmetric p-value, "
                                "interval by test inversion",
                           o->treat, o->treat);
            if (r.enumerated)
                est_table_note(out, "  %s weights, all %zu = %d^%zu weight vectors enumerated "
                                    "(deterministic; --seed not used)",
                               syf_wild_weights_name(weights), r.draws,
                               weights == SYF_WILD_WEBB ? 6 : 2, r.G);
            else
                est_table_note(out, "  %s weights, B = %zu draws, seed %llu",
                               syf_wild_weights_name(weights), r.draws,
                               (unsigned long long)seed);
            if (weights == SYF_WILD_RADEMACHER && r.G < 12)
                est_table_note(out, "  with %zu clusters Rademacher weights give only %zu "
                                    "distinct |t*|: p moves in coarse steps; Webb weights "
                                    "(--weights webb) are recommended below 12 clusters",
                               r.G, r.enumerated ? r.draws / 2 : (size_t)1 << (r.G - 1));
            est_table_note(out, "  %s: p_value, conf_low, conf_high from the bootstrap (df "
                                "empty); estimate, std_error and statistic analytic (%s); CR1 "
                                "t = %.6g",
                           o->treat, se_name[type], r.statistic);
        }
        syf_wild_free(w);
    } else {
        syf_ri_workspace *w = syf_ri_alloc(n, P, Gn, draws);
        if (!w)
            return syf_error_set(SYF_ENOMEM, "out of memory (randomization inference with %zu "
                                             "draws)", draws);
        syf_ri_options ro = {.coef = 1, .statistic = SYF_RI_STUDENTIZED, .type = type,
                             .draws = draws, .seed = seed, .rep = 0, .level = o->level_value,
                             .want_ci = 1};
        syf_ri_result r;
        st = syf_ri_test(w, n, X, y, codes, G, &ro, &r);
        bad = syf_ri_bad_cluster(w);
        if (st == SYF_OK) {
            *p = r.p_value;
            *lo = r.conf_low;
            *hi = r.conf_high;
            est_table_note(out, "inference for %s: randomization inference, complete "
                                "randomisation of %zu of %zu %s re-run; statistic: the %s t "
                                "statistic; p = share of |t*| >= |t|, counting the observed "
                                "assignment",
                           o->treat, r.G1, r.G, codes ? "clusters" : "rows (no --cluster)",
                           se_name[type]);
            if (r.enumerated)
                est_table_note(out, "  all %zu assignments enumerated (exact; --seed not used)",
                               r.draws);
            else
                est_table_note(out, "  %zu random assignments, seed %llu, p = (1 + count) / "
                                    "(1 + %zu)",
                               r.draws, (unsigned long long)seed, r.draws);
            if (r.n_failed)
                est_table_note(out, "  %zu assignment%s left out: treatment collinear with the "
                                    "covariates",
                               r.n_failed, r.n_failed == 1 ? "" : "s");
            est_table_note(out, "  interval by test inversion under a constant additive effect; "
                                "%s: p_value, conf_low, conf_high from the randomization "
                                "distribution (df empty)",
                           o->treat);
        }
        syf_ri_free(w);
    }
    if (st == SYF_OK && (isinf(*lo) || isinf(*hi)))
        est_table_note(out, "  the interval is unbounded %s (printed empty)",
                       isinf(*lo) && isinf(*hi) ? "on both sides" : isinf(*lo) ? "below" : "above");
    if (st != SYF_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", syf_error_message());
        if (bad != (size_t)-1 && levels)
            st = syf_error_set(SYF_EINPUT, "%s: --inference %s: --cluster %s: cluster '%s': %s",
                               o->data, o->inference, o->cluster, levels[bad], msg);
        else
            st = syf_error_set(st == SYF_ESINGULAR ? SYF_EINPUT : st, "%s: --inference %s: %s",
                               o->data, o->inference, msg);
    }
    return st;
}

int est_ols(const est_opts *o, const syf_dataset *d, est_table *out)
{
    static const char *const se_desc[] = {
        "CR0 (no small-sample adjustment)",
        "CR1 (Stata: G/(G-1) * (n-1)/(n-p))",
        "CR2 (Bell-McCaffrey, Satterthwaite df)",
        "CR3 ((I - H_gg)^-1, clubSandwich convention)",
    };
    syf_vcov_type type = SYF_VCOV_CR2;
    if (o->se && syf_vcov_type_parse(o->se, &type) != SYF_OK)
        return syf_error_set(SYF_EINPUT,
                             "--se: unknown standard-error type '%s' (choose CR0, CR1, CR2 or CR3)",
                             o->se);
    inference_kind kind;
    size_t draws;
    syf_wild_weights weights;
    uint64_t seed;
    int ist = parse_inference(o, &kind, &draws, &weights, &seed);
    if (ist != SYF_OK)
        return ist;
    const size_t n = d->n_rows, p = o->n_terms;
    const double *y;
    double *X = NULL;
    size_t *codes = NULL, G = 0;
    const char **levels = NULL;
    syf_ols_workspace *w = NULL;
    syf_ols_result res;
    int st = est_numeric(d, "outcome", o->outcome, &y);
    if (st == SYF_OK)
        st = est_design_matrix(o, d, &X);
    if (st == SYF_OK && o->cluster)
        st = est_clusters(o, d, &codes, &G, &levels);
    if (st == SYF_OK)
        st = est_check_rows(o, n, p);
    if (st == SYF_OK && !(w = syf_ols_alloc(n, p, o->cluster ? G : 1)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        st = syf_ols_fit(w, n, X, y, codes, G, type, o->level_value, &res);
        if (st != SYF_OK) {
            /* a singular problem is a property of the data: bad input */
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            size_t bad = syf_ols_singular_cluster(w);
            if (st == SYF_ESINGULAR && bad != (size_t)-1 && levels) {
                st = syf_error_set(SYF_EINPUT, "%s: --cluster %s: cluster '%s': %s", o->data,
                                   o->cluster, levels[bad], msg);
            } else if (st == SYF_ESINGULAR) {
                char list[512] = "";
                size_t used = 0;
                for (size_t j = 0; j < p && used + 5 < sizeof list; j++) {
                    int wr = snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "",
                                      o->terms[j]);
                    used += wr > 0 ? (size_t)wr : 0;
                }
                st = syf_error_set(SYF_EINPUT, "%s: %s; regressors: %s", o->data, msg, list);
            } else {
                st = syf_error_set(st, "%s: %s", o->data, msg);
            }
        }
    }
    if (st == SYF_OK) {
        if (o->cluster)
            est_table_note(out, "n = %zu, clusters = %zu (%s)", n, G, o->cluster);
        else
            est_table_note(out, "n = %zu, no clusters (each row its own cluster%s)", n,
                           type == SYF_VCOV_CR2 ? "; CR2 = HC2" : "");
        est_table_note(out, "standard errors: %s", se_desc[type]);
        double tp = NAN, tlo = NAN, thi = NAN;
        if (kind != INF_ANALYTIC) {
            st = treat_inference(o, kind, draws, weights, seed, type, n, X, y, codes, G, levels,
                                 out, &tp, &tlo, &thi);
            if (st == SYF_OK)
                est_table_note(out, "other rows: analytic inference (%s)",
                               syf_vcov_type_name(type));
        }
        for (size_t j = 0; j < p && st == SYF_OK; j++) {
            if (j == 1 && kind != INF_ANALYTIC)
                st = est_table_add(out, o->terms[j], res.estimate[j], res.std_error[j],
                                   res.statistic[j], NAN, tp, tlo, thi);
            else
                st = est_table_add(out, o->terms[j], res.estimate[j], res.std_error[j],
                                   res.statistic[j], res.df[j], res.p_value[j], res.conf_low[j],
                                   res.conf_high[j]);
        }
    }
    syf_ols_free(w);
    free(levels);
    free(codes);
    free(X);
    return st;
}
