/* cmd_estimate.c — `syfosim estimate`: run an estimator on any CSV file.
 *
 * This is the door for real data (a register extract) and for checking the
 * estimators against other software: it reads the CSV with the dataset
 * module (analysis/dataset.c), builds the design matrix (intercept, --treat,
 * --covariates in that order), factor-codes --cluster, fits with the
 * estimator's library module (analysis/ols.c for --method ols) and prints one
 * row per term, as the DESIGN §6 contract says:
 *
 *   term,estimate,std_error,statistic,df,p_value,conf_low,conf_high
 *
 * Every check happens before anything is printed, so on error stdout stays
 * empty and stderr carries one "syfosim estimate: ..." line naming the file,
 * line/column and problem.  Exit codes: 0 ok, 2 bad input (including a
 * singular design, which is a property of the data given), 1 otherwise.
 * Methods named in DESIGN but not built yet fail with exit 2.
 */
#include "cli_util.h"
#include "commands.h"
#include "syfosim/dataset.h"
#include "syfosim/error.h"
#include "syfosim/ols.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "estimate"
#define MAX_COVARIATES 256

static void usage(FILE *f)
{
    fprintf(f,
            "usage: syfosim estimate --data FILE.csv --outcome Y --method ols [options]\n"
            "\n"
            "Fit an estimator to a CSV file (header row required; leading '#' lines are\n"
            "skipped) and print one row per term.\n"
            "\n"
            "required:\n"
            "  --data FILE.csv        input data\n"
            "  --outcome Y            outcome column (numeric)\n"
            "  --method M             estimator; available: ols\n"
            "                         (planned: logit, lmm, gee, cox, did, cs, sc, rd, ipw)\n"
            "options:\n"
            "  --treat Z              treatment column (numeric), the first regressor after\n"
            "                         the intercept\n"
            "  --covariates A,B       further numeric regressor columns, comma-separated\n"
            "  --cluster C            cluster column (any type); without it each row is its\n"
            "                         own cluster (CR2 is then HC2)\n"
            "  --se CR0|CR1|CR2|CR3   variance estimator (default CR2):\n"
            "                         CR0 plain sandwich; CR1 Stata G/(G-1)(n-1)/(n-p);\n"
            "                         CR2 Bell-McCaffrey with Satterthwaite df;\n"
            "                         CR3 (I-H_gg)^-1 (clubSandwich). df = G-1 except CR2\n"
            "  --level L              confidence level of conf_low/conf_high (default 0.95)\n"
            "  --format csv|text      output format (default text); csv prints\n"
            "                         term,estimate,std_error,statistic,df,p_value,conf_low,conf_high\n"
            "  --time T, --id I, --group G, --event E, --ties efron|breslow\n"
            "                         for methods not available in this version\n"
            "  -h, --help             this help\n"
            "\n"
            "Exit status: 0 ok, 1 runtime failure, 2 bad input.\n");
}

typedef struct {
    const char *data, *outcome, *method, *treat, *cluster, *covariates, *se, *level, *format;
    const char *time, *id, *group, *event, *ties;
} opts;

static const char *const methods_all[] = {"ols", "logit", "lmm", "gee", "cox",
                                          "did", "cs",    "sc",  "rd",  "ipw"};

/* Store a bad-input message, print it and return exit code 2. */
static int fail_input(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail_input(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return cli_fail(CMD, syf_error_set(SYF_EINPUT, "%s", buf));
}

/* Parse argv into o.  Returns -1 to continue, else an exit code. */
static int parse_args(int argc, char **argv, opts *o)
{
    struct {
        const char *name;
        const char **slot;
    } table[] = {
        {"data", &o->data},       {"outcome", &o->outcome}, {"method", &o->method},
        {"treat", &o->treat},     {"cluster", &o->cluster}, {"covariates", &o->covariates},
        {"se", &o->se},           {"level", &o->level},     {"format", &o->format},
        {"time", &o->time},       {"id", &o->id},           {"group", &o->group},
        {"event", &o->event},     {"ties", &o->ties},
    };
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
            usage(stdout);
            return 0;
        }
    }
    for (int k = 1; k < argc; k++) {
        const char *arg = argv[k];
        if (strncmp(arg, "--", 2) != 0)
            return fail_input("unexpected argument '%s' (options are --name value; see "
                              "syfosim estimate --help)",
                              arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        size_t t;
        for (t = 0; t < sizeof table / sizeof table[0]; t++)
            if (strlen(table[t].name) == len && !strncmp(table[t].name, name, len))
                break;
        if (t == sizeof table / sizeof table[0])
            return fail_input("unknown option '%s' (see syfosim estimate --help)", arg);
        const char *val;
        if (eq)
            val = eq + 1;
        else if (k + 1 < argc)
            val = argv[++k];
        else
            return fail_input("option '--%s' needs a value", table[t].name);
        if (*table[t].slot)
            return fail_input("option '--%s' given twice", table[t].name);
        *table[t].slot = val;
    }
    return -1;
}

/* Write a CSV field, quoting when needed. */
static void put_csv_field(const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    putchar('"');
}

static void put_num(double v)
{
    if (isfinite(v))
        printf(",%.10g", v);
    else
        printf(",");
}

int syf_cmd_estimate(int argc, char **argv)
{
    opts o = {0};
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;

    /* Method first: a planned method fails the same way whatever else is given. */
    if (o.method) {
        int known = 0;
        for (size_t m = 0; m < sizeof methods_all / sizeof methods_all[0]; m++)
            known |= !strcmp(o.method, methods_all[m]);
        if (!known)
            return fail_input("unknown method '%s' (available: ols)", o.method);
        if (strcmp(o.method, "ols") != 0)
            return fail_input("method '%s' is not available in this version (available: ols)",
                              o.method);
    }
    char missing[128] = "";
    if (!o.data)
        strcat(missing, ", --data");
    if (!o.outcome)
        strcat(missing, ", --outcome");
    if (!o.method)
        strcat(missing, ", --method");
    if (missing[0])
        return fail_input("missing required option%s: %s (see syfosim estimate --help)",
                          strchr(missing + 2, ',') ? "s" : "", missing + 2);

    const char *unused[][2] = {{"time", o.time}, {"id", o.id}, {"group", o.group},
                               {"event", o.event}, {"ties", o.ties}};
    for (size_t u = 0; u < sizeof unused / sizeof unused[0]; u++)
        if (unused[u][1])
            return fail_input("option '--%s' is not used by method '%s'", unused[u][0], o.method);

    syf_vcov_type type = SYF_VCOV_CR2;
    if (o.se && syf_vcov_type_parse(o.se, &type) != SYF_OK)
        return fail_input("--se: unknown standard-error type '%s' (choose CR0, CR1, CR2 or CR3)",
                          o.se);
    double level = 0.95;
    if (o.level) {
        char *end;
        level = strtod(o.level, &end);
        if (end == o.level || *end || !(level > 0 && level < 1))
            return fail_input("--level: '%s' is not a number strictly between 0 and 1", o.level);
    }
    int csv = 0;
    if (o.format) {
        if (!strcmp(o.format, "csv"))
            csv = 1;
        else if (strcmp(o.format, "text") != 0)
            return fail_input("--format: unknown format '%s' (choose csv or text)", o.format);
    }

    /* Regressor names: (Intercept), treat, covariates. */
    const char *terms[MAX_COVARIATES + 2];
    char *covbuf = NULL;
    size_t p = 0;
    terms[p++] = "(Intercept)";
    if (o.treat)
        terms[p++] = o.treat;
    if (o.covariates) {
        covbuf = malloc(strlen(o.covariates) + 1);
        if (!covbuf)
            return cli_fail(CMD, syf_error_set(SYF_ENOMEM, "out of memory"));
        strcpy(covbuf, o.covariates);
        char *s = covbuf;
        for (;;) {
            char *comma = strchr(s, ',');
            if (comma)
                *comma = '\0';
            if (!*s) {
                free(covbuf);
                return fail_input("--covariates '%s': empty column name", o.covariates);
            }
            if (p == MAX_COVARIATES + 2) {
                free(covbuf);
                return fail_input("--covariates: more than %d columns", MAX_COVARIATES);
            }
            terms[p++] = s;
            if (!comma)
                break;
            s = comma + 1;
        }
    }
    for (size_t j = 1; j < p; j++) {
        const char *dup = NULL;
        for (size_t l = 1; l < j; l++)
            if (!strcmp(terms[j], terms[l]))
                dup = terms[j];
        if (!dup && !strcmp(terms[j], o.outcome))
            rc = fail_input("column '%s' is the outcome and cannot also be a regressor", terms[j]);
        else if (dup)
            rc = fail_input("column '%s' is given twice among --treat/--covariates", dup);
        if (rc >= 0) {
            free(covbuf);
            return rc;
        }
    }

    syf_dataset *d = NULL;
    double *X = NULL;
    size_t *codes = NULL, G = 0;
    const char **levels = NULL;
    syf_ols_workspace *w = NULL;
    syf_ols_result res;
    const double *y;
    int st = syf_dataset_read(o.data, &d);
    if (st)
        goto done;
    size_t n = d->n_rows;
    st = syf_dataset_column_numeric(d, o.outcome, &y);
    if (st)
        goto done;
    X = malloc((n ? n : 1) * p * sizeof *X);
    if (!X) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        X[i * p] = 1.0;
    for (size_t j = 1; j < p; j++) {
        const double *col;
        st = syf_dataset_column_numeric(d, terms[j], &col);
        if (st)
            goto done;
        for (size_t i = 0; i < n; i++)
            X[i * p + j] = col[i];
    }
    if (o.cluster) {
        codes = malloc((n ? n : 1) * sizeof *codes);
        levels = malloc((n ? n : 1) * sizeof *levels);
        if (!codes || !levels) {
            st = syf_error_set(SYF_ENOMEM, "out of memory");
            goto done;
        }
        st = syf_dataset_column_factor(d, o.cluster, codes, &G, levels);
        if (st)
            goto done;
        if (G < 2) {
            st = syf_error_set(SYF_EINPUT,
                               "%s: --cluster %s: fewer than 2 clusters (found %zu); cluster-robust "
                               "standard errors need at least 2",
                               o.data, o.cluster, G);
            goto done;
        }
    }
    if (n <= p) {
        st = syf_error_set(SYF_EINPUT, "%s: %zu data row%s for %zu coefficient%s; need more rows "
                                       "than coefficients",
                           o.data, n, n == 1 ? "" : "s", p, p == 1 ? "" : "s");
        goto done;
    }
    w = syf_ols_alloc(n, p, o.cluster ? G : 1);
    if (!w) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto done;
    }
    st = syf_ols_fit(w, n, X, y, codes, G, type, level, &res);
    if (st) {
        /* Add the file and the terms or cluster label; a singular problem is
         * a property of the data given, hence bad input (exit 2). */
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", syf_error_message());
        size_t bad = syf_ols_singular_cluster(w);
        if (st == SYF_ESINGULAR && bad != (size_t)-1 && levels) {
            st = syf_error_set(SYF_EINPUT, "%s: --cluster %s: cluster '%s': %s", o.data,
                               o.cluster, levels[bad], msg);
        } else if (st == SYF_ESINGULAR) {
            char list[512] = "";
            size_t used = 0;
            for (size_t j = 0; j < p && used + 5 < sizeof list; j++) {
                int wr = snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", terms[j]);
                used += wr > 0 ? (size_t)wr : 0;
            }
            st = syf_error_set(SYF_EINPUT, "%s: %s; regressors: %s", o.data, msg, list);
        } else {
            st = syf_error_set(st, "%s: %s", o.data, msg);
        }
        goto done;
    }

    /* Output. */
    if (csv) {
        printf("term,estimate,std_error,statistic,df,p_value,conf_low,conf_high\n");
        for (size_t j = 0; j < p; j++) {
            put_csv_field(terms[j]);
            put_num(res.estimate[j]);
            put_num(res.std_error[j]);
            put_num(res.statistic[j]);
            put_num(res.df[j]);
            put_num(res.p_value[j]);
            put_num(res.conf_low[j]);
            put_num(res.conf_high[j]);
            putchar('\n');
        }
    } else {
        static const char *const se_desc[] = {
            "CR0 (no small-sample adjustment)",
            "CR1 (Stata: G/(G-1) * (n-1)/(n-p))",
            "CR2 (Bell-McCaffrey, Satterthwaite df)",
            "CR3 ((I - H_gg)^-1, clubSandwich convention)",
        };
        int width = 11;
        for (size_t j = 0; j < p; j++)
            if ((int)strlen(terms[j]) > width)
                width = (int)strlen(terms[j]);
        printf("OLS  %s ~ ", o.outcome);
        for (size_t j = 1; j < p; j++)
            printf("%s%s", j > 1 ? " + " : "", terms[j]);
        printf("%s   data: %s\n", p == 1 ? "1" : "", o.data);
        if (o.cluster)
            printf("n = %zu, clusters = %zu (%s)\n", n, G, o.cluster);
        else
            printf("n = %zu, no clusters (each row its own cluster%s)\n", n,
                   type == SYF_VCOV_CR2 ? "; CR2 = HC2" : "");
        printf("standard errors: %s\n\n", se_desc[type]);
        char lo[32], hi[32];
        snprintf(lo, sizeof lo, "%g%% low", 100 * level);
        snprintf(hi, sizeof hi, "%g%% high", 100 * level);
        printf("%-*s %12s %12s %10s %9s %10s %12s %12s\n", width, "term", "estimate",
               "std_error", "t", "df", "p_value", lo, hi);
        for (size_t j = 0; j < p; j++)
            printf("%-*s %12.6g %12.6g %10.4g %9.2f %10.4g %12.6g %12.6g\n", width, terms[j],
                   res.estimate[j], res.std_error[j], res.statistic[j], res.df[j], res.p_value[j],
                   res.conf_low[j], res.conf_high[j]);
    }
    if (fflush(stdout) != 0 || ferror(stdout))
        st = syf_error_set(SYF_ERUNTIME, "writing the results to standard output failed");

done:
    syf_ols_free(w);
    free(levels);
    free(codes);
    free(X);
    syf_dataset_free(d);
    free(covbuf);
    return st ? cli_fail(CMD, st) : 0;
}
