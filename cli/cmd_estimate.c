/* cmd_estimate.c — `syfosim estimate`: run an estimator on any CSV file.
 *
 * This is the door for real data (a register extract) and for checking the
 * estimators against other software.  This file is the front end: it parses
 * the options, checks them against what the chosen method uses (the table in
 * est_methods.c), reads the CSV with the dataset module, calls the method's
 * adapter (cli/est_METHOD.c) and prints one row per term, as DESIGN §6 says:
 *
 *   term,estimate,std_error,statistic,df,p_value,conf_low,conf_high
 *
 * (`df` empty where the reference distribution is normal).  Every check
 * happens before anything is printed, so on error stdout stays empty and
 * stderr carries one "syfosim estimate: ..." line naming the file,
 * line/column and problem.  Exit codes: 0 ok, 2 bad input (including a
 * singular design, which is a property of the data given), 1 otherwise.
 */
#include "cli_util.h"
#include "commands.h"
#include "estimate.h"
#include "syfosim/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "estimate"

/* Methods named in DESIGN §4 that are not built yet. */
static const char *const methods_planned[] = {"logit", "lmm", "gee", "cox", "did",
                                              "cs",    "sc",  "rd",  "ipw"};

typedef struct {
    const char *name;
    size_t offset;
    const char *help;
} opt_def;

#define OPT(n, f, h) {n, offsetof(est_opts, f), h}
static const opt_def opt_defs[] = {
    OPT("data", data, "FILE.csv   input data (header row; leading '#' lines skipped)"),
    OPT("outcome", outcome, "Y          outcome column"),
    OPT("method", method, "M          estimator (see the list below)"),
    OPT("treat", treat, "Z          treatment column, the first regressor after the intercept"),
    OPT("cluster", cluster, "C          cluster column (any type)"),
    OPT("covariates", covariates, "A,B        further regressor columns"),
    OPT("se", se, "TYPE       variance estimator (ols: CR0|CR1|CR2|CR3, default CR2)"),
    OPT("level", level, "L          confidence level (default 0.95)"),
    OPT("format", format, "csv|text   output format (default text)"),
    OPT("time", time, "T          time / period column"),
    OPT("id", id, "I          unit id column"),
    OPT("group", group, "G          group column (e.g. first treated period)"),
    OPT("event", event, "E          event indicator column (1 = event, 0 = censored)"),
    OPT("ties", ties, "efron|breslow  tie handling (cox)"),
    OPT("running", running, "R          running variable (rd)"),
    OPT("cutoff", cutoff, "C          threshold of the running variable (rd)"),
    OPT("bandwidth", bandwidth, "H          bandwidth (rd; default data-driven)"),
    OPT("control", control, "never|notyet  comparison group (cs)"),
    OPT("aggregate", aggregate, "simple|dynamic|group  aggregation (cs, did)"),
    OPT("inference", inference, "analytic|wild|ri  inference (default analytic)"),
    OPT("draws", draws, "B          bootstrap / permutation draws"),
    OPT("weights", weights, "rademacher|webb  wild bootstrap weights"),
    OPT("seed", seed, "S          seed of bootstrap / permutation draws"),
    OPT("unit", unit, "U          treated unit label (sc)"),
};
#undef OPT
static const size_t n_opt_defs = sizeof opt_defs / sizeof opt_defs[0];

static const char **opt_slot(est_opts *o, size_t k)
{
    return (const char **)((char *)o + opt_defs[k].offset);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: syfosim estimate --data FILE.csv --outcome Y --method M [options]\n\n"
               "Fit an estimator to a CSV file and print one row per term.\n\noptions:\n");
    for (size_t k = 0; k < n_opt_defs; k++)
        fprintf(f, "  --%-11s %s\n", opt_defs[k].name, opt_defs[k].help);
    fprintf(f, "  -h, --help     this help\n\nmethods (and the options each uses):\n");
    for (size_t m = 0; m < est_n_methods; m++)
        fprintf(f, "  %-6s %s\n         options: %s%s%s\n", est_methods[m].name,
                est_methods[m].summary, est_methods[m].options,
                est_methods[m].required[0] ? "; required: " : "", est_methods[m].required);
    fprintf(f, "\n--format csv prints term,estimate,std_error,statistic,df,p_value,conf_low,"
               "conf_high\n(df empty where the reference distribution is normal).\n"
               "Exit status: 0 ok, 1 runtime failure, 2 bad input.\n");
}

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
static int parse_args(int argc, char **argv, est_opts *o)
{
    for (int k = 1; k < argc; k++)
        if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
            usage(stdout);
            return 0;
        }
    for (int k = 1; k < argc; k++) {
        const char *arg = argv[k];
        if (strncmp(arg, "--", 2) != 0)
            return fail_input("unexpected argument '%s' (options are --name value; see "
                              "syfosim estimate --help)",
                              arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name), t;
        for (t = 0; t < n_opt_defs; t++)
            if (strlen(opt_defs[t].name) == len && !strncmp(opt_defs[t].name, name, len))
                break;
        if (t == n_opt_defs)
            return fail_input("unknown option '%s' (see syfosim estimate --help)", arg);
        const char *val;
        if (eq)
            val = eq + 1;
        else if (k + 1 < argc)
            val = argv[++k];
        else
            return fail_input("option '--%s' needs a value", opt_defs[t].name);
        const char **slot = opt_slot(o, t);
        if (*slot)
            return fail_input("option '--%s' given twice", opt_defs[t].name);
        *slot = val;
    }
    return -1;
}

/* Is `name` in the comma-separated list? */
static int in_list(const char *list, const char *name)
{
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l == len && !strncmp(p, name, len))
            return 1;
        if (!c)
            break;
        p = c + 1;
    }
    return 0;
}

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

/* A right-aligned number in the text table, or blanks of the same width. */
static void put_text(const char *fmt, double v)
{
    char buf[64];
    int wdt = snprintf(buf, sizeof buf, fmt, 0.0);
    if (isfinite(v))
        printf(fmt, v);
    else
        printf("%*s", wdt, "");
}

static void put_num(double v)
{
    if (isfinite(v))
        printf(",%.10g", v);
    else
        printf(",");
}

int est_table_add(est_table *t, const char *term, double estimate, double std_error,
                  double statistic, double df, double p_value, double conf_low, double conf_high)
{
    if (t->n_rows == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 16;
        est_row *r = realloc(t->rows, nc * sizeof *r);
        if (!r)
            return syf_error_set(SYF_ENOMEM, "out of memory");
        t->rows = r;
        t->cap = nc;
    }
    est_row *r = &t->rows[t->n_rows++];
    snprintf(r->term, sizeof r->term, "%s", term);
    r->estimate = estimate;
    r->std_error = std_error;
    r->statistic = statistic;
    r->df = df;
    r->p_value = p_value;
    r->conf_low = conf_low;
    r->conf_high = conf_high;
    return SYF_OK;
}

void est_table_note(est_table *t, const char *fmt, ...)
{
    size_t used = strlen(t->notes);
    if (used + 2 >= sizeof t->notes)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->notes + used, sizeof t->notes - used - 1, fmt, ap);
    va_end(ap);
    used = strlen(t->notes);
    t->notes[used] = '\n';
    t->notes[used + 1] = '\0';
}

int est_numeric(const syf_dataset *d, const char *opt, const char *col, const double **out)
{
    (void)opt;
    return syf_dataset_column_numeric(d, col, out);
}

int est_design_matrix(const est_opts *o, const syf_dataset *d, double **Xout)
{
    const size_t n = d->n_rows, p = o->n_terms;
    double *X = malloc((n ? n : 1) * p * sizeof *X);
    if (!X)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        X[i * p] = 1.0;
    for (size_t j = 1; j < p; j++) {
        const double *col;
        int st = syf_dataset_column_numeric(d, o->terms[j], &col);
        if (st) {
            free(X);
            return st;
        }
        for (size_t i = 0; i < n; i++)
            X[i * p + j] = col[i];
    }
    *Xout = X;
    return SYF_OK;
}

int est_factor(const syf_dataset *d, const char *opt, const char *col, size_t **codes,
               size_t *n_levels, const char ***levels)
{
    (void)opt;
    size_t n = d->n_rows;
    *codes = malloc((n ? n : 1) * sizeof **codes);
    *levels = malloc((n ? n : 1) * sizeof **levels);
    if (!*codes || !*levels) {
        free(*codes);
        free(*levels);
        *codes = NULL;
        *levels = NULL;
        return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    int st = syf_dataset_column_factor(d, col, *codes, n_levels, *levels);
    if (st) {
        free(*codes);
        free(*levels);
        *codes = NULL;
        *levels = NULL;
    }
    return st;
}

int est_clusters(const est_opts *o, const syf_dataset *d, size_t **codes, size_t *G,
                 const char ***levels)
{
    int st = est_factor(d, "cluster", o->cluster, codes, G, levels);
    if (st == SYF_OK && *G < 2)
        st = syf_error_set(SYF_EINPUT,
                           "%s: --cluster %s: fewer than 2 clusters (found %zu); "
                           "cluster-robust standard errors need at least 2",
                           o->data, o->cluster, *G);
    return st;
}

int est_check_rows(const est_opts *o, size_t n, size_t p)
{
    if (n > p)
        return SYF_OK;
    return syf_error_set(SYF_EINPUT,
                         "%s: %zu data row%s for %zu coefficient%s; need more rows than "
                         "coefficients",
                         o->data, n, n == 1 ? "" : "s", p, p == 1 ? "" : "s");
}

int syf_cmd_estimate(int argc, char **argv)
{
    est_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;

    /* Method first: a planned method fails the same way whatever else is given. */
    const est_method *m = NULL;
    char avail[256] = "";
    for (size_t k = 0; k < est_n_methods; k++) {
        snprintf(avail + strlen(avail), sizeof avail - strlen(avail), "%s%s", k ? ", " : "",
                 est_methods[k].name);
        if (o.method && !strcmp(o.method, est_methods[k].name))
            m = &est_methods[k];
    }
    if (o.method && !m) {
        for (size_t k = 0; k < sizeof methods_planned / sizeof methods_planned[0]; k++)
            if (!strcmp(o.method, methods_planned[k]))
                return fail_input("method '%s' is not available in this version (available: %s)",
                                  o.method, avail);
        return fail_input("unknown method '%s' (available: %s)", o.method, avail);
    }
    char missing[256] = "";
    if (!o.data)
        strcat(missing, ", --data");
    if (!o.outcome)
        strcat(missing, ", --outcome");
    if (!o.method)
        strcat(missing, ", --method");
    for (size_t k = 0; m && k < n_opt_defs; k++)
        if (in_list(m->required, opt_defs[k].name) && !*opt_slot(&o, k) &&
            strlen(missing) + 20 < sizeof missing) {
            strcat(missing, ", --");
            strcat(missing, opt_defs[k].name);
        }
    if (missing[0])
        return fail_input("missing required option%s: %s (see syfosim estimate --help)",
                          strchr(missing + 2, ',') ? "s" : "", missing + 2);
    static const char *const always[] = {"data", "outcome", "method", "format", "level"};
    for (size_t k = 0; k < n_opt_defs; k++) {
        if (!*opt_slot(&o, k))
            continue;
        int ok = in_list(m->options, opt_defs[k].name) || in_list(m->required, opt_defs[k].name);
        for (size_t a = 0; a < sizeof always / sizeof always[0]; a++)
            ok |= !strcmp(always[a], opt_defs[k].name);
        if (!ok)
            return fail_input("option '--%s' is not used by method '%s' (it uses: %s)",
                              opt_defs[k].name, o.method, m->options);
    }
    o.level_value = 0.95;
    if (o.level) {
        char *end;
        o.level_value = strtod(o.level, &end);
        if (end == o.level || *end || !(o.level_value > 0 && o.level_value < 1))
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
    char *covbuf = NULL;
    o.terms[o.n_terms++] = "(Intercept)";
    if (o.treat)
        o.terms[o.n_terms++] = o.treat;
    if (o.covariates) {
        covbuf = malloc(strlen(o.covariates) + 1);
        if (!covbuf)
            return cli_fail(CMD, syf_error_set(SYF_ENOMEM, "out of memory"));
        strcpy(covbuf, o.covariates);
        for (char *s = covbuf;;) {
            char *comma = strchr(s, ',');
            if (comma)
                *comma = '\0';
            if (!*s) {
                free(covbuf);
                return fail_input("--covariates '%s': empty column name", o.covariates);
            }
            if (o.n_terms == EST_MAX_TERMS) {
                free(covbuf);
                return fail_input("--covariates: more than %d columns", EST_MAX_TERMS - 2);
            }
            o.terms[o.n_terms++] = s;
            if (!comma)
                break;
            s = comma + 1;
        }
    }
    for (size_t j = 1; j < o.n_terms; j++) {
        const char *dup = NULL;
        for (size_t l = 1; l < j; l++)
            if (!strcmp(o.terms[j], o.terms[l]))
                dup = o.terms[j];
        if (!dup && !strcmp(o.terms[j], o.outcome))
            rc = fail_input("column '%s' is the outcome and cannot also be a regressor",
                            o.terms[j]);
        else if (dup)
            rc = fail_input("column '%s' is given twice among --treat/--covariates", dup);
        if (rc >= 0) {
            free(covbuf);
            return rc;
        }
    }

    syf_dataset *d = NULL;
    est_table t;
    memset(&t, 0, sizeof t);
    int st = syf_dataset_read(o.data, &d);
    if (st == SYF_OK)
        st = m->fn(&o, d, &t);
    if (st == SYF_OK) {
        if (csv) {
            printf("term,estimate,std_error,statistic,df,p_value,conf_low,conf_high\n");
            for (size_t j = 0; j < t.n_rows; j++) {
                const est_row *r = &t.rows[j];
                put_csv_field(r->term);
                put_num(r->estimate);
                put_num(r->std_error);
                put_num(r->statistic);
                put_num(r->df);
                put_num(r->p_value);
                put_num(r->conf_low);
                put_num(r->conf_high);
                putchar('\n');
            }
        } else {
            int width = 11;
            for (size_t j = 0; j < t.n_rows; j++)
                if ((int)strlen(t.rows[j].term) > width)
                    width = (int)strlen(t.rows[j].term);
            printf("%s  %s ~ ", o.method, o.outcome);
            for (size_t j = 1; j < o.n_terms; j++)
                printf("%s%s", j > 1 ? " + " : "", o.terms[j]);
            printf("%s   data: %s\n%s\n", o.n_terms == 1 ? "1" : "", o.data, t.notes);
            char lo[32], hi[32];
            snprintf(lo, sizeof lo, "%g%% low", 100 * o.level_value);
            snprintf(hi, sizeof hi, "%g%% high", 100 * o.level_value);
            printf("%-*s %12s %12s %10s %9s %10s %12s %12s\n", width, "term", "estimate",
                   "std_error", "statistic", "df", "p_value", lo, hi);
            for (size_t j = 0; j < t.n_rows; j++) {
                const est_row *r = &t.rows[j];
                /* empty cells (NaN) print blank; no df = not a t reference (normal,
                 * bootstrap or randomization: the notes above the table say which) */
                printf("%-*s", width, r->term);
                put_text(" %12.6g", r->estimate);
                put_text(" %12.6g", r->std_error);
                put_text(" %10.4g", r->statistic);
                if (isfinite(r->df))
                    printf(" %9.2f", r->df);
                else
                    printf(" %9s", isfinite(r->statistic) ? "-" : "");
                put_text(" %10.4g", r->p_value);
                put_text(" %12.6g", r->conf_low);
                put_text(" %12.6g", r->conf_high);
                putchar('\n');
            }
        }
        if (fflush(stdout) != 0 || ferror(stdout))
            st = syf_error_set(SYF_ERUNTIME, "writing the results to standard output failed");
    }
    free(t.rows);
    syf_dataset_free(d);
    free(covbuf);
    return st ? cli_fail(CMD, st) : 0;
}
