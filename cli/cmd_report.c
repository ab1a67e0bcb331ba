/* cmd_report.c — `syfosim report DIR`: one self-contained HTML page of what
 * a run and/or a diagnosis wrote into DIR.
 *
 * The page is for people who do not read CSV: the scenario, the headline
 * estimate beside the simulator's truth, the tables per arm and office, the
 * cost breakdown, Kaplan–Meier curves by arm, the weekly exit hazard, queue
 * lengths, and for a diagnosis the diagnosand table with Monte Carlo SEs
 * and the sampling distribution of the estimates.  Only the files present
 * are used; every file that is present is validated (a malformed one is bad
 * input, exit 2, FILE:LINE: problem).  Plots are gnuplot SVG (through the
 * plot module and analysis/report.c) copied inline; styles are inline CSS;
 * the page needs no network and no JavaScript.  report.html is written to a
 * temporary name and renamed into place only when it is complete.
 */
#include "cli_util.h"
#include "commands.h"
#include "syfosim/dataset.h"
#include "syfosim/error.h"
#include "syfosim/km.h"
#include "syfosim/plot.h"
#include "syfosim/report.h"
#include "syfosim/version.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* input files                                                          */

enum {
    R_SCENARIO, R_PERSONS, R_SPELLS, R_SERVICES, R_SUMMARY, R_TRIAL, R_ESTIMATES, R_TRIAGE,
    R_DIAGNOSIS, R_REPLICATES, R_SWEEP, R_SWEEP_REPS, R_MDES, R_CLUSTERS, R_N
};
static const char *const rfile[R_N] = {
    "scenario.ini", "persons.csv", "spells.csv",    "services.csv", "summary.csv",
    "trial.csv",    "estimates.csv", "triage.csv", "diagnosis.csv", "replicates.csv",
    "sweep.csv",    "sweep_replicates.csv", "mdes.csv", "clusters.csv"};
/* CSVs read into memory (persons.csv is only listed: it can be large and
 * summary.csv already counts the persons). */
static const int rread[R_N] = {0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1};

typedef struct {
    char section[64], key[64];
    char *value;
} ini_kv;

typedef struct {
    const char *dir;
    char path[R_N][1100];
    int present[R_N];
    long long size[R_N];
    char prov[R_N][512];     /* provenance line, without "# " and newline */
    syf_dataset *ds[R_N];
    ini_kv *kv;
    size_t n_kv, cap_kv;
    FILE *f;                 /* the HTML being written */
    int plots;               /* 0: --no-plots */
    char tmpdir[1100];       /* for gnuplot's SVG files; "" = not created */
    int n_plot;
    int plot_failed;
} report;

static int exists_file(const char *p, long long *size)
{
    struct stat st;
    if (stat(p, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    *size = (long long)st.st_size;
    return 1;
}

static int on_ini(void *user, const char *section, const char *name, const char *value)
{
    report *r = user;
    if (r->n_kv == r->cap_kv) {
        size_t nc = r->cap_kv ? 2 * r->cap_kv : 64;
        ini_kv *a = realloc(r->kv, nc * sizeof *a);
        if (a == NULL)
            return 0;
        r->kv = a;
        r->cap_kv = nc;
    }
    ini_kv *e = &r->kv[r->n_kv];
    snprintf(e->section, sizeof e->section, "%s", section);
    snprintf(e->key, sizeof e->key, "%s", name);
    e->value = strdup(value);
    if (e->value == NULL)
        return 0;
    r->n_kv++;
    return 1;
}

static const char *ini_get(const report *r, const char *section, const char *key)
{
    for (size_t i = 0; i < r->n_kv; i++)
        if (!strcmp(r->kv[i].section, section) && !strcmp(r->kv[i].key, key))
            return r->kv[i].value;
    return NULL;
}

/* First line of a CSV if it is a syfosim provenance line. */
static void read_provenance(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[512];
    if (fgets(line, sizeof line, f) && !strncmp(line, "# syfosim ", 10)) {
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(out, cap, "%s", line + 2);
    }
    fclose(f);
}

/* Value of "key=" in a provenance line ("" if absent). */
static void prov_field(const char *prov, const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    size_t k = strlen(key);
    for (const char *p = prov; (p = strstr(p, key)) != NULL; p++) {
        if ((p == prov || p[-1] == ' ') && p[k] == '=') {
            size_t n = strcspn(p + k + 1, " ");
            snprintf(out, cap, "%.*s", (int)n, p + k + 1);
            return;
        }
    }
}

static int col(const report *r, int f, const char *name, size_t *j)
{
    return syf_dataset_column_find(r->ds[f], name, j);
}

/* Cell of column j, row i, parsed as a finite number; an error names the
 * file, line and column. */
static int cell_num(const report *r, int f, size_t j, size_t i, int allow_empty, double *v)
{
    const syf_dataset *d = r->ds[f];
    const char *s = d->cols[j].str[i];
    if (allow_empty && s[strspn(s, " ")] == '\0') {
        *v = NAN;
        return SYF_OK;
    }
    if (!isfinite(d->cols[j].num[i]))
        return syf_error_set(SYF_EINPUT, "%s:%zu: column '%s': '%s' is not a finite number",
                             d->path, d->line[i], d->cols[j].name, s);
    *v = d->cols[j].num[i];
    return SYF_OK;
}

static int bad_cell(const report *r, int f, size_t j, size_t i, const char *what)
{
    const syf_dataset *d = r->ds[f];
    return syf_error_set(SYF_EINPUT, "%s:%zu: column '%s': '%s' %s", d->path, d->line[i],
                         d->cols[j].name, d->cols[j].str[i], what);
}

/* Require columns; returns the first error. */
static int need_cols(const report *r, int f, const char *const *names, size_t *idx)
{
    for (size_t k = 0; names[k]; k++) {
        int st = col(r, f, names[k], &idx[k]);
        if (st != SYF_OK)
            return st;
    }
    return SYF_OK;
}

/* Rows must be unique by the columns k1 (and k2 if not NULL): e.g. one row
 * per trial participant.  The error names the second occurrence. */
static const syf_column *uniq_c1, *uniq_c2;

static int uniq_cmp(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(uniq_c1->str[i], uniq_c1->str[j]);
    if (c == 0 && uniq_c2)
        c = strcmp(uniq_c2->str[i], uniq_c2->str[j]);
    return c ? c : (i > j) - (i < j);
}

static int unique_rows(const report *r, int f, const char *k1, const char *k2)
{
    const syf_dataset *d = r->ds[f];
    size_t j1, j2 = 0;
    int st = col(r, f, k1, &j1);
    if (st == SYF_OK && k2)
        st = col(r, f, k2, &j2);
    if (st != SYF_OK)
        return st;
    size_t *ix = malloc((d->n_rows ? d->n_rows : 1) * sizeof *ix);
    if (!ix)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->n_rows; i++)
        ix[i] = i;
    uniq_c1 = &d->cols[j1];
    uniq_c2 = k2 ? &d->cols[j2] : NULL;
    qsort(ix, d->n_rows, sizeof *ix, uniq_cmp);
    for (size_t q = 1; q < d->n_rows; q++) {
        size_t a = ix[q - 1], b = ix[q];
        if (strcmp(d->cols[j1].str[a], d->cols[j1].str[b]) ||
            (k2 && strcmp(d->cols[j2].str[a], d->cols[j2].str[b])))
            continue;
        if (k2)
            st = syf_error_set(SYF_EINPUT, "%s:%zu: duplicate row: %s '%s' with %s '%s' is "
                               "already at line %zu", d->path, d->line[b], k1,
                               d->cols[j1].str[b], k2, d->cols[j2].str[b], d->line[a]);
        else
            st = syf_error_set(SYF_EINPUT, "%s:%zu: duplicate id: %s '%s' is already at "
                               "line %zu", d->path, d->line[b], k1, d->cols[j1].str[b],
                               d->line[a]);
        break;
    }
    free(ix);
    return st;
}

/* ------------------------------------------------------------------ */
/* HTML helpers                                                         */

static void esc(report *r, const char *s) { syf_report_html_escape(r->f, s); }

/* A number for a table cell: integers as they are, large values without
 * decimals, the rest with 4 significant digits. */
static void fmt_num(char *buf, size_t cap, double x)
{
    if (!isfinite(x))
        snprintf(buf, cap, "%s", isnan(x) ? "" : x > 0 ? "inf" : "-inf");
    else if (x == floor(x) && fabs(x) < 1e15)
        snprintf(buf, cap, "%.0f", x);
    else if (fabs(x) >= 1000)
        snprintf(buf, cap, "%.0f", x);
    else
        snprintf(buf, cap, "%.4g", x);
}

/* Write one CSV cell: numbers right-aligned and formatted. */
static void td_cell(report *r, const syf_dataset *d, size_t j, size_t i)
{
    const char *s = d->cols[j].str[i];
    double v = d->cols[j].num[i];
    if (isfinite(v)) {
        char b[64];
        fmt_num(b, sizeof b, v);
        fprintf(r->f, "<td class=\"n\">%s</td>", b);
    } else {
        fputs("<td>", r->f);
        esc(r, s);
        fputs("</td>", r->f);
    }
}

/* A whole CSV as a table; rows with keep == NULL or keep[i] nonzero. */
static void csv_table(report *r, const syf_dataset *d, const unsigned char *keep,
                      const char *cls)
{
    fprintf(r->f, "<div class=\"scroll\"><table class=\"%s\"><thead><tr>", cls ? cls : "data");
    for (size_t j = 0; j < d->n_cols; j++) {
        fputs("<th>", r->f);
        esc(r, d->cols[j].name);
        fputs("</th>", r->f);
    }
    fputs("</tr></thead><tbody>\n", r->f);
    for (size_t i = 0; i < d->n_rows; i++) {
        if (keep && !keep[i])
            continue;
        fputs("<tr>", r->f);
        for (size_t j = 0; j < d->n_cols; j++)
            td_cell(r, d, j, i);
        fputs("</tr>\n", r->f);
    }
    fputs("</tbody></table></div>\n", r->f);
}

/* A CSV with few rows as a table with one row per column (wide tables such
 * as estimates.csv read better that way). */
static void csv_table_t(report *r, const syf_dataset *d)
{
    fputs("<div class=\"scroll\"><table class=\"data\"><tbody>\n", r->f);
    for (size_t j = 0; j < d->n_cols; j++) {
        fputs("<tr><th>", r->f);
        esc(r, d->cols[j].name);
        fputs("</th>", r->f);
        for (size_t i = 0; i < d->n_rows; i++)
            td_cell(r, d, j, i);
        fputs("</tr>\n", r->f);
    }
    fputs("</tbody></table></div>\n", r->f);
}

/* A paragraph: class "note" (a warning) or "expl" (an explanation). */
static void para(report *r, const char *cls, const char *fmt, const char *a)
{
    fprintf(r->f, "<p class=\"%s\">", cls);
    char b[512];
    snprintf(b, sizeof b, fmt, a ? a : "");
    esc(r, b);
    fputs("</p>\n", r->f);
}
#define note(r, fmt, a) para(r, "note", fmt, a)
#define expl(r, fmt, a) para(r, "expl", fmt, a)

/* Draw with `draw` into a temporary SVG and copy it inline as a figure. */
typedef int (*draw_fn)(const void *ctx, const char *path);

static int figure(report *r, draw_fn draw, const void *ctx, const char *caption)
{
    fputs("<figure>", r->f);
    int st = SYF_ERUNTIME;
    char msg[512] = "plots are off (--no-plots)";
    if (r->plots && r->tmpdir[0] == '\0') {
        const char *t = getenv("TMPDIR");
        snprintf(r->tmpdir, sizeof r->tmpdir, "%s/syfosim-report.XXXXXX", t && *t ? t : "/tmp");
        if (mkdtemp(r->tmpdir) == NULL) {
            snprintf(msg, sizeof msg, "cannot create a temporary directory: %s",
                     strerror(errno));
            r->tmpdir[0] = '\0';
            r->plots = 0;
            r->plot_failed = 1;
        }
    }
    if (r->plots) {
        char path[1200], id[32];
        snprintf(path, sizeof path, "%s/p%d.svg", r->tmpdir, r->n_plot);
        snprintf(id, sizeof id, "p%d", r->n_plot);
        r->n_plot++;
        st = draw(ctx, path);
        if (st == SYF_OK)
            st = syf_report_svg_embed(r->f, path, id);
        unlink(path);
        if (st != SYF_OK) {
            snprintf(msg, sizeof msg, "plot not drawn: %s", syf_error_message());
            if (!r->plot_failed)
                fprintf(stderr, "syfosim report: warning: %s\n", syf_error_message());
            r->plot_failed = 1;
        }
    }
    if (st != SYF_OK) {
        fputs("<p class=\"note\">", r->f);
        esc(r, msg);
        fputs("</p>", r->f);
    }
    fputs("<figcaption>", r->f);
    esc(r, caption);
    fputs("</figcaption></figure>\n", r->f);
    return SYF_OK;
}

static const char css[] =
    "body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;margin:0;"
    "color:#1d2430;background:#f6f7f9;line-height:1.45}\n"
    "main{max-width:1080px;margin:0 auto;padding:1.5em 1.5em 4em;background:#fff}\n"
    "h1{font-size:1.7em;margin:.2em 0 .1em}h2{font-size:1.3em;border-bottom:2px solid #c9d3e0;"
    "padding-bottom:.2em;margin-top:2em}h3{font-size:1.05em;margin-top:1.4em}\n"
    ".sub{color:#566070;margin:0 0 1em}\n"
    ".headline{background:#eef4fb;border-left:5px solid #2c6fbb;padding:.8em 1.2em;"
    "margin:1em 0;font-size:1.08em}\n"
    ".headline b{font-size:1.15em}\n"
    "table{border-collapse:collapse;margin:.6em 0;font-size:.88em}\n"
    "th,td{border:1px solid #d4dae3;padding:.25em .55em;text-align:left;vertical-align:top}\n"
    "th{background:#eef1f5}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "tr.total td{font-weight:bold;background:#f7f9fc}\n"
    ".scroll{overflow-x:auto;max-width:100%}\n"
    "figure{margin:1em 0}figure svg{max-width:100%;height:auto;border:1px solid #e3e7ee}\n"
    "figcaption{color:#566070;font-size:.9em}\n"
    ".note{color:#7a5a00;background:#fff8e1;padding:.3em .6em;font-size:.9em}\n"
    ".expl{color:#566070;font-size:.9em}\n"
    "pre{background:#f3f5f8;padding:.8em;overflow-x:auto;font-size:.82em}\n"
    "nav a{margin-right:1em}code{font-size:.92em}\n"
    "footer{color:#566070;font-size:.85em;margin-top:3em}\n";

/* ------------------------------------------------------------------ */
/* sections                                                             */

static void section_scenario(report *r, const char *name)
{
    fputs("<h2 id=\"scenario\">Scenario</h2>\n", r->f);
    if (!r->present[R_SCENARIO]) {
        note(r, "scenario.ini is not in the directory; the scenario name comes from the "
                "provenance lines%s", "");
        return;
    }
    static const char *const keys[][3] = {
        {"scenario", "name", "scenario"},
        {"scenario", "description", "description"},
        {"run", "seed", "seed"},
        {"run", "observation_days", "observation window (days)"},
        {"run", "follow_up_days", "follow-up after the window (days)"},
        {"population", "persons", "persons (employed)"},
        {"world", "offices", "NAV offices"},
        {"pilot", "type", "pilot"},
        {"pilot", "triage_day", "triage on spell day"},
        {"pilot", "effect_hr", "pilot effect (hazard ratio of return, mapped spells)"},
        {"pilot", "mapping_delay_days", "wait for the mapping conversation (days)"},
        {"trial", "design", "trial design"},
        {"trial", "treated_share", "share of offices treated"},
        {"trial", "outcome", "outcome"},
        {"trial", "outcome_days", "outcome window (days)"},
        {"trial", "se", "standard errors"},
        {"trial", "alpha", "significance level"},
        {"trial", "reps", "replications (diagnose default)"},
        {"regime", "sick_pay_nok", "sick pay per paid day (NOK)"},
        {"regime", "veileder_nok_per_hour", "veileder cost per hour (NOK)"},
    };
    (void)name;
    fputs("<table class=\"kv\"><tbody>\n", r->f);
    const char *ptype = ini_get(r, "pilot", "type"), *design = ini_get(r, "trial", "design");
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const char *v = ini_get(r, keys[k][0], keys[k][1]);
        if (!v)
            continue;
        /* without a pilot or a design their other keys do not apply */
        if ((!strcmp(keys[k][0], "pilot") && strcmp(keys[k][1], "type") && ptype &&
             !strcmp(ptype, "none")) ||
            (!strcmp(keys[k][0], "trial") && strcmp(keys[k][1], "design") && design &&
             !strcmp(design, "none")))
            continue;
        fputs("<tr><th>", r->f);
        esc(r, keys[k][2]);
        fputs("</th><td>", r->f);
        esc(r, v);
        fprintf(r->f, "</td><td><code>%s.%s</code></td></tr>\n", keys[k][0], keys[k][1]);
    }
    fputs("</tbody></table>\n<details><summary>The fully resolved scenario "
          "(scenario.ini)</summary><pre>", r->f);
    FILE *in = fopen(r->path[R_SCENARIO], "r");
    if (in) {
        char line[4096];
        while (fgets(line, sizeof line, in))
            esc(r, line);
        fclose(in);
    }
    fputs("</pre></details>\n", r->f);
}

static void section_provenance(report *r)
{
    fputs("<h2 id=\"provenance\">Files and provenance</h2>\n<div class=\"scroll\"><table>"
          "<thead><tr><th>file</th><th>bytes</th><th>version</th><th>git</th><th>scenario</th>"
          "<th>scenario hash</th><th>seed</th><th>provenance line</th></tr></thead><tbody>\n",
          r->f);
    char hash0[64] = "", seed0[64] = "";
    int mixed_hash = 0, mixed_seed = 0;
    for (int k = 0; k < R_N; k++) {
        if (!r->present[k])
            continue;
        char ver[64] = "", git[64] = "", scn[128] = "", hash[64] = "", seed[64] = "";
        if (r->prov[k][0]) {
            sscanf(r->prov[k], "syfosim %63s", ver);
            prov_field(r->prov[k], "git", git, sizeof git);
            prov_field(r->prov[k], "scenario", scn, sizeof scn);
            prov_field(r->prov[k], "scenario_hash", hash, sizeof hash);
            prov_field(r->prov[k], "seed", seed, sizeof seed);
            if (hash[0] && hash0[0] && strcmp(hash, hash0))
                mixed_hash = 1;
            if (seed[0] && seed0[0] && strcmp(seed, seed0))
                mixed_seed = 1;
            if (!hash0[0])
                snprintf(hash0, sizeof hash0, "%s", hash);
            if (!seed0[0])
                snprintf(seed0, sizeof seed0, "%s", seed);
        }
        fputs("<tr><td>", r->f);
        esc(r, rfile[k]);
        fprintf(r->f, "</td><td class=\"n\">%lld</td><td>", r->size[k]);
        esc(r, ver);
        fputs("</td><td>", r->f);
        esc(r, git);
        fputs("</td><td>", r->f);
        esc(r, scn);
        fputs("</td><td><code>", r->f);
        esc(r, hash);
        fputs("</code></td><td>", r->f);
        esc(r, seed);
        fputs("</td><td><code>", r->f);
        esc(r, r->prov[k][0] ? r->prov[k] : (k == R_SCENARIO ? "(resolved scenario)" : "(none)"));
        fputs("</code></td></tr>\n", r->f);
    }
    fputs("</tbody></table></div>\n", r->f);
    if (mixed_hash)
        note(r, "The files come from different scenarios (their scenario hashes differ): "
                "the tables below may not describe the same experiment.%s", "");
    if (mixed_seed)
        note(r, "The files were written with different seeds (e.g. a run and a diagnosis "
                "with another --seed).%s", "");
}

/* estimates.csv: the headline sentence and the table. */
static int headline(report *r)
{
    fputs("<div class=\"headline\" id=\"headline\">", r->f);
    int any = 0;
    if (r->present[R_ESTIMATES]) {
        const syf_dataset *d = r->ds[R_ESTIMATES];
        static const char *const need[] = {"estimate", "std_error", "conf_low", "conf_high",
                                           "p_value", "estimand_sate", "status", "outcome",
                                           "estimator", "df", NULL};
        size_t j[10];
        int st = need_cols(r, R_ESTIMATES, need, j);
        if (st != SYF_OK)
            return st;
        for (size_t i = 0; i < d->n_rows; i++) {
            const char *status = d->cols[j[6]].str[i];
            double est, se, lo, hi, p, sate, df;
            if ((st = cell_num(r, R_ESTIMATES, j[5], i, 1, &sate)) != SYF_OK)
                return st;
            fputs("<p>", r->f);
            if (!strcmp(status, "ok")) {
                if ((st = cell_num(r, R_ESTIMATES, j[0], i, 0, &est)) != SYF_OK ||
                    (st = cell_num(r, R_ESTIMATES, j[1], i, 0, &se)) != SYF_OK ||
                    (st = cell_num(r, R_ESTIMATES, j[2], i, 0, &lo)) != SYF_OK ||
                    (st = cell_num(r, R_ESTIMATES, j[3], i, 0, &hi)) != SYF_OK ||
                    (st = cell_num(r, R_ESTIMATES, j[4], i, 0, &p)) != SYF_OK ||
                    (st = cell_num(r, R_ESTIMATES, j[9], i, 1, &df)) != SYF_OK)
                    return st;
                fputs("Estimated effect of the pilot on <b>", r->f);
                esc(r, d->cols[j[7]].str[i]);
                fprintf(r->f, "</b>: <b class=\"estimate\">%.3f</b> (95%% CI %.3f to %.3f; "
                              "SE %.3f", est, lo, hi, se);
                if (isfinite(df))
                    fprintf(r->f, ", df %.1f", df);
                fprintf(r->f, "; p = %.3g; ", p);
                esc(r, d->cols[j[8]].str[i]);
                fputs(").", r->f);
            } else {
                fputs("The estimator (", r->f);
                esc(r, d->cols[j[8]].str[i]);
                fputs(") <b>failed</b> in this run (status ", r->f);
                esc(r, status);
                fputs(").", r->f);
            }
            if (isfinite(sate))
                fprintf(r->f, " The simulator's truth for this trial population "
                              "(sample average treatment effect): <b class=\"sate\">%.3f</b>.",
                        sate);
            fputs("</p>\n", r->f);
            any = 1;
        }
    }
    if (r->present[R_DIAGNOSIS]) {
        const syf_dataset *d = r->ds[R_DIAGNOSIS];
        size_t j[5];
        static const char *const need[] = {"estimand", "diagnosand", "value", "mcse", "n_reps",
                                           NULL};
        int st = need_cols(r, R_DIAGNOSIS, need, j);
        if (st != SYF_OK)
            return st;
        double power = NAN, power_se = NAN, cov = NAN, cov_se = NAN, bias = NAN, bias_se = NAN,
               t1 = NAN, t1_se = NAN, reps = NAN;
        for (size_t i = 0; i < d->n_rows; i++) {
            const char *e = d->cols[j[0]].str[i], *g = d->cols[j[1]].str[i];
            double v, s;
            if ((st = cell_num(r, R_DIAGNOSIS, j[2], i, 1, &v)) != SYF_OK ||
                (st = cell_num(r, R_DIAGNOSIS, j[3], i, 1, &s)) != SYF_OK)
                return st;
            int is_null = !strcmp(e, "null");
            if (!is_null && isnan(reps))
                cell_num(r, R_DIAGNOSIS, j[4], i, 1, &reps);
            if (is_null && !strcmp(g, "power"))
                t1 = v, t1_se = s;
            else if (!is_null && !strcmp(g, "power") && isnan(power))
                power = v, power_se = s;
            else if (!is_null && !strcmp(g, "coverage") && isnan(cov))
                cov = v, cov_se = s;
            else if (!is_null && !strcmp(g, "bias") && isnan(bias))
                bias = v, bias_se = s;
        }
        fputs("<p>Diagnosis", r->f);
        if (isfinite(reps))
            fprintf(r->f, " over %.0f replications", reps);
        fputs(":", r->f);
        if (isfinite(power))
            fprintf(r->f, " power <b class=\"power\">%.3f</b> (MCSE %.3f);", power, power_se);
        if (isfinite(cov))
            fprintf(r->f, " coverage of the 95%% CI <b>%.3f</b> (MCSE %.3f);", cov, cov_se);
        if (isfinite(bias))
            fprintf(r->f, " bias <b>%.3f</b> (MCSE %.3f);", bias, bias_se);
        if (isfinite(t1))
            fprintf(r->f, " type-I error under no effect <b>%.3f</b> (MCSE %.3f);", t1, t1_se);
        fputs(" see <a href=\"#diagnosis\">Diagnosis</a>.</p>\n", r->f);
        any = 1;
    }
    if (r->present[R_SWEEP]) {
        fputs("<p>A sweep of the design over a grid of settings: see <a href=\"#sweep\">"
              "Sweep</a> for the power at every grid point and the power curve.</p>\n", r->f);
        any = 1;
    }
    if (r->present[R_MDES] || r->present[R_CLUSTERS]) {
        fprintf(r->f, "<p>A search by simulation for the %s: see <a href=\"#%s\">below</a>.</p>\n",
                r->present[R_MDES] ? "minimum detectable effect" : "number of offices needed",
                r->present[R_MDES] ? "mdes" : "clusters");
        any = 1;
    }
    if (!any)
        fputs("<p>This directory holds a run without a trial design: there is no effect "
              "estimate. The tables and plots describe the simulated sick leave.</p>\n",
              r->f);
    fputs("</div>\n", r->f);
    return SYF_OK;
}

static int section_estimates(report *r)
{
    if (!r->present[R_ESTIMATES])
        return SYF_OK;
    fputs("<h3>The trial's estimate (estimates.csv)</h3>\n", r->f);
    if (r->ds[R_ESTIMATES]->n_rows <= 4)
        csv_table_t(r, r->ds[R_ESTIMATES]);
    else
        csv_table(r, r->ds[R_ESTIMATES], NULL, "data");
    return SYF_OK;
}

/* summary.csv: the arm totals, the cost breakdown and the per-office table. */
static int section_summary(report *r)
{
    if (!r->present[R_SUMMARY])
        return SYF_OK;
    const syf_dataset *d = r->ds[R_SUMMARY];
    static const char *const need[] = {"office_id", "arm", "persons", "spells", "sick_days",
                                       "paid_days", "cost_nok", NULL};
    size_t j[7];
    int st = need_cols(r, R_SUMMARY, need, j);
    if (st != SYF_OK)
        return st;
    /* cost columns of syfosim run (older outputs: veileder hours only) */
    size_t jh = 0, jcs = 0, jct = 0, jpy = 0;
    int have_hours = col(r, R_SUMMARY, "staff_hours_veileder", &jh) == SYF_OK;
    int have_costs = col(r, R_SUMMARY, "cost_sick_pay_nok", &jcs) == SYF_OK &&
                     col(r, R_SUMMARY, "cost_staff_nok", &jct) == SYF_OK;
    int have_py = col(r, R_SUMMARY, "person_years", &jpy) == SYF_OK;
    syf_error_clear();
    unsigned char *tot = calloc(d->n_rows + 1, 1), *off = calloc(d->n_rows + 1, 1);
    if (!tot || !off) {
        free(tot);
        free(off);
        return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    size_t n_tot = 0;
    for (size_t i = 0; i < d->n_rows; i++) {
        for (int k = 2; k < 7; k++) {
            double v;
            if ((st = cell_num(r, R_SUMMARY, j[k], i, 0, &v)) != SYF_OK)
                goto out;
            if (v < 0) {
                st = bad_cell(r, R_SUMMARY, j[k], i, "is negative");
                goto out;
            }
        }
        tot[i] = !strcmp(d->cols[j[0]].str[i], "all");
        off[i] = !tot[i];
        n_tot += tot[i];
    }
    fputs("<h2 id=\"summary\">Headline figures per arm and office</h2>\n", r->f);
    if (n_tot) {
        fputs("<h3>Per arm (all offices)</h3>\n", r->f);
        csv_table(r, d, tot, "data");
        /* cost breakdown */
        const char *sp = ini_get(r, "regime", "sick_pay_nok");
        const char *vh = ini_get(r, "regime", "veileder_nok_per_hour");
        fprintf(r->f,
                "<h3 id=\"cost\">Cost breakdown</h3>\n<table><thead><tr><th>arm</th>"
                "<th>persons</th><th>sick pay (NOK)</th><th>staff time (NOK)</th>"
                "<th>total (NOK)</th><th>per %s (NOK)</th><th>paid days per %s</th>"
                "</tr></thead><tbody>\n",
                have_py ? "person-year" : "person", have_py ? "person-year" : "person");
        for (size_t i = 0; i < d->n_rows; i++) {
            if (!tot[i])
                continue;
            double persons = d->cols[j[2]].num[i], paid = d->cols[j[5]].num[i];
            double cost = d->cols[j[6]].num[i];
            double hours = have_hours ? d->cols[jh].num[i] : NAN;
            double spn = sp ? strtod(sp, NULL) : NAN, vhn = vh ? strtod(vh, NULL) : NAN;
            double c_sick = paid * spn, c_staff = hours * vhn;
            if (have_costs) {
                c_sick = d->cols[jcs].num[i];
                c_staff = d->cols[jct].num[i];
            }
            const double denom = have_py ? d->cols[jpy].num[i] : persons;
            char a[64], b[64], c[64], e[64], g[64], h[64];
            fmt_num(a, sizeof a, persons);
            fmt_num(b, sizeof b, c_sick);
            fmt_num(c, sizeof c, c_staff);
            fmt_num(e, sizeof e, cost);
            fmt_num(g, sizeof g, denom > 0 ? cost / denom : NAN);
            fmt_num(h, sizeof h, denom > 0 ? paid / denom : NAN);
            fputs("<tr><td>", r->f);
            esc(r, d->cols[j[1]].str[i][0] ? d->cols[j[1]].str[i] : "all");
            fprintf(r->f, "</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                          "<td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
                          "<td class=\"n\">%s</td></tr>\n", a, b, c, e, g, h);
        }
        fputs("</tbody></table>\n", r->f);
        if (have_costs)
            expl(r, "Sick pay = NAV-paid days (grade-weighted, after the 16-day employer "
                    "period) x regime.sick_pay_nok; staff time = the hours of each profession "
                    "(veiledere, team therapists, job specialists, employer teams) x its cost "
                    "per hour (summary.csv cost_staff_nok)%s.",
                 "");
        else
            expl(r, "Sick pay = NAV-paid days (grade-weighted, after the 16-day employer period) x "
                    "regime.sick_pay_nok; staff time = veileder hours x "
                    "regime.veileder_nok_per_hour%s.",
                 sp && vh ? "" : " (not shown: scenario.ini is missing)");
    }
    fputs("<h3>Per office</h3>\n", r->f);
    csv_table(r, d, off, "data");
out:
    free(tot);
    free(off);
    return st;
}

static int section_triage(report *r)
{
    if (!r->present[R_TRIAGE])
        return SYF_OK;
    size_t j;
    int st = col(r, R_TRIAGE, "metric", &j);
    if (st == SYF_OK)
        st = col(r, R_TRIAGE, "value", &j);
    if (st != SYF_OK)
        return st;
    fputs("<h2 id=\"triage\">Triage (pilot offices)</h2>\n", r->f);
    csv_table(r, r->ds[R_TRIAGE], NULL, "data");
    return SYF_OK;
}

/* Groups by the text of an arm column: codes and labels. */
typedef struct {
    size_t n, K;
    size_t *code;
    const char *label[8];
} arm_groups;

static int arm_group(report *r, int f, size_t jarm, arm_groups *g)
{
    const syf_dataset *d = r->ds[f];
    g->n = d->n_rows;
    g->K = 0;
    g->code = malloc((g->n ? g->n : 1) * sizeof *g->code);
    if (!g->code)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    for (size_t i = 0; i < g->n; i++) {
        const char *s = d->cols[jarm].str[i];
        size_t k = 0;
        while (k < g->K && strcmp(g->label[k], s))
            k++;
        if (k == g->K) {
            if (g->K == 8) {
                free(g->code);
                g->code = NULL;
                return bad_cell(r, f, jarm, i, "is a ninth arm (at most 8 are shown)");
            }
            g->label[g->K++] = s;
        }
        g->code[i] = k;
    }
    /* order the labels (control before pilot): sort K <= 8 by strcmp */
    size_t perm[8], inv[8];
    for (size_t k = 0; k < g->K; k++)
        perm[k] = k;
    for (size_t a = 1; a < g->K; a++)
        for (size_t b = a; b > 0 && strcmp(g->label[perm[b - 1]], g->label[perm[b]]) > 0; b--) {
            size_t t = perm[b];
            perm[b] = perm[b - 1];
            perm[b - 1] = t;
        }
    const char *lab[8];
    for (size_t k = 0; k < g->K; k++) {
        inv[perm[k]] = k;
        lab[k] = g->label[perm[k]];
    }
    for (size_t k = 0; k < g->K; k++)
        g->label[k] = lab[k][0] ? lab[k] : "all";
    for (size_t i = 0; i < g->n; i++)
        g->code[i] = inv[g->code[i]];
    return SYF_OK;
}

typedef struct {
    const syf_km *km;
    const char *const *labels;
    const char *title;
} km_ctx;

static int draw_km(const void *vctx, const char *path)
{
    const km_ctx *c = vctx;
    return syf_plot_km(c->km, c->labels, c->title, path);
}

static int section_km(report *r)
{
    int f = r->present[R_TRIAL] ? R_TRIAL : r->present[R_SPELLS] ? R_SPELLS : -1;
    if (f < 0)
        return SYF_OK;
    const syf_dataset *d = r->ds[f];
    size_t jt, je, ja;
    int st;
    if ((st = col(r, f, f == R_TRIAL ? "index_days" : "days", &jt)) != SYF_OK ||
        (st = col(r, f, f == R_TRIAL ? "index_ended" : "end_reason", &je)) != SYF_OK ||
        (st = col(r, f, "arm", &ja)) != SYF_OK)
        return st;
    size_t n = d->n_rows;
    double *t = malloc((n ? n : 1) * sizeof *t);
    int *e = malloc((n ? n : 1) * sizeof *e);
    arm_groups g = {0};
    syf_km *km = NULL;
    if (!t || !e) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if ((st = cell_num(r, f, jt, i, 0, &t[i])) != SYF_OK)
            goto out;
        if (t[i] < 0) {
            st = bad_cell(r, f, jt, i, "is a negative duration");
            goto out;
        }
        if (f == R_TRIAL) {
            double v = d->cols[je].num[i];
            if (v != 0 && v != 1) {
                st = bad_cell(r, f, je, i, "is not 0 or 1");
                goto out;
            }
            e[i] = v == 1;
        } else {
            e[i] = strcmp(d->cols[je].str[i], "censored") != 0;
        }
    }
    if ((st = arm_group(r, f, ja, &g)) != SYF_OK)
        goto out;
    if ((st = syf_km_fit(n, t, e, g.code, g.K, &km)) != SYF_OK)
        goto out;
    fputs("<h2 id=\"km\">Time to return to work (Kaplan–Meier)</h2>\n", r->f);
    char cap[512];
    snprintf(cap, sizeof cap,
             "Share still on sick leave by days since the spell started, by arm; + marks "
             "censored spells. Recomputed from %s (%s).",
             rfile[f],
             f == R_TRIAL ? "trial participants' index spells: index_days, index_ended"
                          : "every spell started in the window: days, end_reason");
    const char *labels[8];
    for (size_t k = 0; k < g.K; k++)
        labels[k] = g.label[k];
    km_ctx kc = {km, labels, NULL};
    figure(r, draw_km, &kc, cap);
    fputs("<table><thead><tr><th>arm</th><th>n</th><th>events</th><th>median days</th>"
          "<th>still sick at 8 weeks</th><th>at 26 weeks</th><th>at 52 weeks</th></tr>"
          "</thead><tbody>\n", r->f);
    for (size_t k = 0; k < g.K; k++) {
        double med = syf_km_median(km, k);
        char m[64];
        fmt_num(m, sizeof m, med);
        fputs("<tr><td>", r->f);
        esc(r, g.label[k]);
        fprintf(r->f, "</td><td class=\"n\">%zu</td><td class=\"n\">%zu</td>"
                      "<td class=\"n\">%s</td><td class=\"n\">%.3f</td><td class=\"n\">%.3f</td>"
                      "<td class=\"n\">%.3f</td></tr>\n",
                syf_km_group_n(km, k), syf_km_group_events(km, k), isfinite(med) ? m : "not reached",
                syf_km_surv_at(km, k, 56), syf_km_surv_at(km, k, 182), syf_km_surv_at(km, k, 364));
    }
    fputs("</tbody></table>\n", r->f);
out:
    syf_km_free(km);
    free(g.code);
    free(t);
    free(e);
    return st;
}

typedef struct {
    const syf_plot_series *s;
    size_t n;
    const syf_plot_opts *o;
} lines_ctx;

static int draw_lines(const void *vctx, const char *path)
{
    const lines_ctx *c = vctx;
    return syf_plot_lines(c->s, c->n, c->o, path);
}

#define HAZ_WEEKS 60
#define HAZ_MIN_RISK 20

static int section_hazard(report *r)
{
    if (!r->present[R_SPELLS])
        return SYF_OK;
    const int f = R_SPELLS;
    const syf_dataset *d = r->ds[f];
    size_t jd, je, ja, js, jn;
    int st;
    if ((st = col(r, f, "days", &jd)) != SYF_OK || (st = col(r, f, "end_reason", &je)) != SYF_OK ||
        (st = col(r, f, "arm", &ja)) != SYF_OK || (st = col(r, f, "start_day", &js)) != SYF_OK ||
        (st = col(r, f, "end_day", &jn)) != SYF_OK)
        return st;
    size_t n = d->n_rows;
    arm_groups g = {0};
    double *days = malloc((n ? n : 1) * sizeof *days);
    int *status = malloc((n ? n : 1) * sizeof *status);
    double *x = malloc(HAZ_WEEKS * sizeof *x), *haz = malloc(8 * HAZ_WEEKS * sizeof *haz);
    size_t *risk = malloc(HAZ_WEEKS * sizeof *risk);
    double *gd = malloc((n ? n : 1) * sizeof *gd);
    int *gs = malloc((n ? n : 1) * sizeof *gs);
    if (!days || !status || !x || !haz || !risk || !gd || !gs) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if ((st = cell_num(r, f, jd, i, 0, &days[i])) != SYF_OK)
            goto out;
        if (days[i] < 0) {
            st = bad_cell(r, f, jd, i, "is a negative duration");
            goto out;
        }
        double s0, s1;
        if ((st = cell_num(r, f, js, i, 0, &s0)) != SYF_OK ||
            (st = cell_num(r, f, jn, i, 1, &s1)) != SYF_OK)
            goto out;
        if (s1 < s0) {
            st = bad_cell(r, f, jn, i, "is before the spell's start_day");
            goto out;
        }
        const char *er = d->cols[je].str[i];
        if (isnan(s1) != !strcmp(er, "censored")) {
            st = bad_cell(r, f, jn, i, isnan(s1) ? "is empty but the spell is not censored"
                                                 : "is given but the spell is censored");
            goto out;
        }
        if (!strcmp(er, "work") || !strcmp(er, "graded_work") || !strcmp(er, "job_change"))
            status[i] = SYF_REPORT_EVENT;
        else if (!strcmp(er, "max_reached"))
            status[i] = SYF_REPORT_COMPETING;
        else if (!strcmp(er, "censored"))
            status[i] = SYF_REPORT_CENSORED;
        else {
            st = bad_cell(r, f, je, i, "is not an end reason (accepted: work, graded_work, "
                                       "job_change, max_reached, censored)");
            goto out;
        }
    }
    if ((st = arm_group(r, f, ja, &g)) != SYF_OK)
        goto out;
    syf_plot_series ser[8];
    for (size_t w = 0; w < HAZ_WEEKS; w++)
        x[w] = (double)(w + 1);
    for (size_t k = 0; k < g.K; k++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (g.code[i] == k) {
                gd[m] = days[i];
                gs[m++] = status[i];
            }
        double *h = haz + k * HAZ_WEEKS;
        if ((st = syf_report_weekly_hazard(m, gd, gs, HAZ_WEEKS, risk, NULL, h)) != SYF_OK)
            goto out;
        for (size_t w = 0; w < HAZ_WEEKS; w++)
            if (risk[w] < HAZ_MIN_RISK)
                h[w] = NAN;
        ser[k] = (syf_plot_series){.x = x, .y = h, .n = HAZ_WEEKS, .label = g.label[k],
                                   .style = SYF_PLOT_LINESPOINTS, .color = (int)k + 1};
    }
    fputs("<h2 id=\"hazard\">Return-to-work hazard by week</h2>\n", r->f);
    syf_plot_opts o;
    syf_plot_opts_init(&o);
    o.xlabel = "Week of the spell (week 1 = days 1-7)";
    o.ylabel = "Share of those still sick who return that week";
    o.xmin = 0;
    o.xmax = HAZ_WEEKS + 1;
    o.ymin = 0;
    lines_ctx lc = {ser, g.K, &o};
    figure(r, draw_lines, &lc,
           "Weekly hazard of returning to work (end_reason work, graded_work or job_change) "
           "among spells still running at the start of the week, from spells.csv; reaching "
           "the maximum counts as a competing exit, censored spells leave the risk set. "
           "Weeks with fewer than 20 spells at risk are not drawn.");
out:
    free(g.code);
    free(days);
    free(status);
    free(x);
    free(haz);
    free(risk);
    free(gd);
    free(gs);
    return st;
}

static int section_queue(report *r)
{
    if (!r->present[R_SERVICES])
        return SYF_OK;
    const int f = R_SERVICES;
    const syf_dataset *d = r->ds[f];
    size_t j[5];
    static const char *const need[] = {"arm", "service", "referral_day", "start_day", "end_day",
                                       NULL};
    int st = need_cols(r, f, need, j);
    if (st != SYF_OK)
        return st;
    size_t n = d->n_rows, m = 0;
    double *ref = malloc((n ? n : 1) * sizeof *ref), *sta = malloc((n ? n : 1) * sizeof *sta);
    double *q = NULL, *wq = NULL, *wx = NULL;
    arm_groups g = {0};
    size_t *code = malloc((n ? n : 1) * sizeof *code);
    if (!ref || !sta || !code) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto out;
    }
    double last = 0;
    for (size_t i = 0; i < n; i++) {
        double a, b, c;
        if ((st = cell_num(r, f, j[2], i, 0, &a)) != SYF_OK ||
            (st = cell_num(r, f, j[3], i, 0, &b)) != SYF_OK ||
            (st = cell_num(r, f, j[4], i, 0, &c)) != SYF_OK)
            goto out;
        if (b < a) {
            st = bad_cell(r, f, j[3], i, "is before the referral day");
            goto out;
        }
        if (c < b) {
            st = bad_cell(r, f, j[4], i, "is before the start day");
            goto out;
        }
        if (fabs(a) > 1e6 || fabs(b) > 1e6) {
            st = bad_cell(r, f, j[3], i, "is out of range (days must be within +-1000000)");
            goto out;
        }
        if (b > a) {
            ref[m] = a;
            sta[m] = b;
            code[m++] = i;
            if (b > last)
                last = b;
        }
    }
    if ((st = arm_group(r, f, j[0], &g)) != SYF_OK)
        goto out;
    fputs("<h2 id=\"queue\">Queue lengths</h2>\n", r->f);
    if (m == 0) {
        note(r, "No service in services.csv had a wait (start day after referral day)%s.", "");
        goto out;
    }
    for (size_t k = 0; k < m; k++)
        code[k] = g.code[code[k]];
    size_t n_days = (size_t)last + 1, n_weeks = (n_days + 6) / 7;
    q = malloc(g.K * n_days * sizeof *q);
    wq = malloc(g.K * n_weeks * sizeof *wq);
    wx = malloc(n_weeks * sizeof *wx);
    if (!q || !wq || !wx) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto out;
    }
    if ((st = syf_report_queue_daily(m, ref, sta, code, g.K, n_days, q)) != SYF_OK)
        goto out;
    syf_plot_series ser[8];
    for (size_t w = 0; w < n_weeks; w++)
        wx[w] = (double)w;
    for (size_t k = 0; k < g.K; k++) {
        for (size_t w = 0; w < n_weeks; w++) {
            double s = 0;
            size_t c = 0;
            for (size_t dd = 7 * w; dd < 7 * w + 7 && dd < n_days; dd++, c++)
                s += q[k * n_days + dd];
            wq[k * n_weeks + w] = c ? s / (double)c : NAN;
        }
        ser[k] = (syf_plot_series){.x = wx, .y = wq + k * n_weeks, .n = n_weeks,
                                   .label = g.label[k], .style = SYF_PLOT_STEPS,
                                   .color = (int)k + 1};
    }
    syf_plot_opts o;
    syf_plot_opts_init(&o);
    o.xlabel = "Week of the observation window (week 0 starts on day 0)";
    o.ylabel = "People waiting (mean over the week)";
    o.ymin = 0;
    lines_ctx lc = {ser, g.K, &o};
    figure(r, draw_lines, &lc,
           "People referred to a service and not yet served (referral_day <= day < "
           "start_day in services.csv), summed over the offices of each arm.");
out:
    free(ref);
    free(sta);
    free(code);
    free(q);
    free(wq);
    free(wx);
    free(g.code);
    return st;
}

typedef struct {
    const syf_report_hist *h;
    double mark;
    const char *title;
} hist_ctx;

static int draw_hist(const void *vctx, const char *path)
{
    const hist_ctx *c = vctx;
    syf_plot_opts o;
    syf_plot_opts_init(&o);
    o.title = c->title;
    o.xlabel = "Estimate";
    o.ylabel = "Replications";
    return syf_report_plot_hist(c->h, "estimates", c->mark, "mean estimand", &o, path);
}

static int section_diagnosis(report *r)
{
    if (!r->present[R_DIAGNOSIS] && !r->present[R_REPLICATES])
        return SYF_OK;
    fputs("<h2 id=\"diagnosis\">Diagnosis</h2>\n", r->f);
    int st = SYF_OK;
    if (r->present[R_DIAGNOSIS]) {
        const syf_dataset *d = r->ds[R_DIAGNOSIS];
        size_t j[8];
        static const char *const need[] = {"design", "estimator", "estimand", "diagnosand",
                                           "value", "mcse", "n_reps", "n_failed", NULL};
        if ((st = need_cols(r, R_DIAGNOSIS, need, j)) != SYF_OK)
            return st;
        /* pivot: one row per diagnosand, a value/MCSE column pair per
         * (design, estimator, estimand); at most 16 groups. */
        size_t G = 0, gi[16], D = 0, di[64];
        size_t *gof = malloc((d->n_rows ? d->n_rows : 1) * sizeof *gof);
        size_t *dof = malloc((d->n_rows ? d->n_rows : 1) * sizeof *dof);
        if (!gof || !dof) {
            free(gof);
            free(dof);
            return syf_error_set(SYF_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < d->n_rows && st == SYF_OK; i++) {
            double v;
            if ((st = cell_num(r, R_DIAGNOSIS, j[4], i, 1, &v)) != SYF_OK ||
                (st = cell_num(r, R_DIAGNOSIS, j[5], i, 1, &v)) != SYF_OK ||
                (st = cell_num(r, R_DIAGNOSIS, j[6], i, 0, &v)) != SYF_OK ||
                (st = cell_num(r, R_DIAGNOSIS, j[7], i, 0, &v)) != SYF_OK)
                break;
            size_t k = 0;
            for (; k < G; k++) {
                size_t a = gi[k];
                if (!strcmp(d->cols[j[0]].str[a], d->cols[j[0]].str[i]) &&
                    !strcmp(d->cols[j[1]].str[a], d->cols[j[1]].str[i]) &&
                    !strcmp(d->cols[j[2]].str[a], d->cols[j[2]].str[i]))
                    break;
            }
            if (k == G) {
                if (G == 16) {
                    st = bad_cell(r, R_DIAGNOSIS, j[2], i, "starts a 17th design/estimator/"
                                                          "estimand group (at most 16 are shown)");
                    break;
                }
                gi[G++] = i;
            }
            gof[i] = k;
            size_t q = 0;
            for (; q < D; q++)
                if (!strcmp(d->cols[j[3]].str[di[q]], d->cols[j[3]].str[i]))
                    break;
            if (q == D) {
                if (D == 64) {
                    st = bad_cell(r, R_DIAGNOSIS, j[3], i, "is a 65th diagnosand");
                    break;
                }
                di[D++] = i;
            }
            dof[i] = q;
        }
        if (st == SYF_OK) {
            fputs("<h3>Diagnosands with Monte Carlo standard errors (diagnosis.csv)</h3>\n"
                  "<div class=\"scroll\"><table id=\"diagnosands\"><thead><tr><th rowspan=\"2\">"
                  "diagnosand</th>", r->f);
            for (size_t k = 0; k < G; k++) {
                size_t a = gi[k];
                fputs("<th colspan=\"2\">", r->f);
                esc(r, d->cols[j[0]].str[a]);
                fputs(" / ", r->f);
                esc(r, d->cols[j[1]].str[a]);
                fputs(" / ", r->f);
                esc(r, d->cols[j[2]].str[a]);
                fprintf(r->f, "<br>%s replications, %s failed</th>", d->cols[j[6]].str[a],
                        d->cols[j[7]].str[a]);
            }
            fputs("</tr><tr>", r->f);
            for (size_t k = 0; k < G; k++)
                fputs("<th>value</th><th>MCSE</th>", r->f);
            fputs("</tr></thead><tbody>\n", r->f);
            for (size_t q = 0; q < D; q++) {
                fputs("<tr><td>", r->f);
                esc(r, d->cols[j[3]].str[di[q]]);
                fputs("</td>", r->f);
                for (size_t k = 0; k < G; k++) {
                    size_t row = (size_t)-1;
                    for (size_t i = 0; i < d->n_rows; i++)
                        if (gof[i] == k && dof[i] == q)
                            row = i;
                    if (row == (size_t)-1)
                        fputs("<td></td><td></td>", r->f);
                    else {
                        td_cell(r, d, j[4], row);
                        td_cell(r, d, j[5], row);
                    }
                }
                fputs("</tr>\n", r->f);
            }
            fputs("</tbody></table></div>\n", r->f);
            expl(r, "Monte Carlo standard errors as in Morris, White & Crowther (2019) and "
                    "rsimsum. Power under the null estimand is the type-I error. An empty "
                    "value is undefined (e.g. type-S rate with no significant replication)%s.",
                 "");
        }
        free(gof);
        free(dof);
        if (st != SYF_OK)
            return st;
    }
    if (r->present[R_REPLICATES]) {
        const int f = R_REPLICATES;
        const syf_dataset *d = r->ds[f];
        size_t j[5];
        static const char *const need[] = {"estimand", "status", "estimate", "estimand_value",
                                           "reason", NULL};
        if ((st = need_cols(r, f, need, j)) != SYF_OK)
            return st;
        /* with diagnose --estimators: one group per estimand and estimator */
        size_t jest = 0;
        const int by_estimator = col(r, f, "estimator", &jest) == SYF_OK;
        syf_error_clear();
        size_t n = d->n_rows;
        double *est = malloc((n ? n : 1) * sizeof *est);
        const char *names[8];
        char name_buf[8][160];
        size_t K = 0, n_failed[8] = {0}, n_ok[8] = {0};
        double sum_estimand[8] = {0};
        size_t *code = malloc((n ? n : 1) * sizeof *code);
        if (!est || !code) {
            free(est);
            free(code);
            return syf_error_set(SYF_ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            const char *e = d->cols[j[0]].str[i], *s = d->cols[j[1]].str[i];
            char key[160];
            if (by_estimator)
                snprintf(key, sizeof key, "%s, estimator %s", e, d->cols[jest].str[i]);
            else
                snprintf(key, sizeof key, "%s", e);
            size_t k = 0;
            while (k < K && strcmp(names[k], key))
                k++;
            if (k == K) {
                if (K == 8) {
                    st = bad_cell(r, f, j[0], i,
                                  "is a ninth estimand or estimator (at most 8 are shown)");
                    break;
                }
                snprintf(name_buf[K], sizeof name_buf[K], "%s", key);
                names[K] = name_buf[K];
                K++;
            }
            code[i] = k;
            if (!strcmp(s, "ok")) {
                double v;
                if ((st = cell_num(r, f, j[2], i, 0, &est[i])) != SYF_OK ||
                    (st = cell_num(r, f, j[3], i, 0, &v)) != SYF_OK)
                    break;
                n_ok[k]++;
                sum_estimand[k] += v;
            } else if (!strcmp(s, "failed")) {
                est[i] = NAN;
                n_failed[k]++;
            } else {
                st = bad_cell(r, f, j[1], i, "is not a replication status (accepted: ok, "
                                             "failed)");
                break;
            }
        }
        double *x = malloc((n ? n : 1) * sizeof *x);
        if (st == SYF_OK && !x)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
        for (size_t k = 0; k < K && st == SYF_OK; k++) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (code[i] == k && isfinite(est[i]))
                    x[m++] = est[i];
            char title[200], cap[600];
            snprintf(title, sizeof title, "Sampling distribution of the estimate (estimand: %s)",
                     names[k]);
            fputs("<h3>", r->f);
            esc(r, title);
            fputs("</h3>\n", r->f);
            if (m == 0) {
                note(r, "Every replication failed for estimand %s.", names[k]);
            } else {
                syf_report_hist *h = NULL;
                if ((st = syf_report_hist_fit(m, x, 0, &h)) != SYF_OK)
                    break;
                double mean_estimand = sum_estimand[k] / (double)n_ok[k];
                hist_ctx hc = {h, mean_estimand, NULL};
                snprintf(cap, sizeof cap,
                         "Estimates of the %zu successful replications (replicates.csv) in %zu "
                         "bins of width %.4g; the vertical line is the mean estimand %.4g.",
                         m, h->n_bins, h->width, mean_estimand);
                figure(r, draw_hist, &hc, cap);
                syf_report_hist_free(h);
            }
            if (n_failed[k]) {
                fprintf(r->f, "<p>%zu replications failed; reasons:</p><ul>", n_failed[k]);
                size_t shown = 0;
                for (size_t i = 0; i < n && shown < 10; i++)
                    if (code[i] == k && !isfinite(est[i])) {
                        fputs("<li>", r->f);
                        esc(r, d->cols[j[4]].str[i]);
                        fputs("</li>", r->f);
                        shown++;
                    }
                fputs("</ul>\n", r->f);
            }
        }
        free(x);
        free(est);
        free(code);
    }
    return st;
}

/* sweep.csv: power (and type-I error) over the grid, as a table and a
 * power curve against the numeric grid key with the most values. */
#define SWEEP_MAX_POINTS 2000

typedef struct {
    size_t row;                 /* first row of the point */
    double power, power_se, t1, t1_se, cov, bias, estimand;
} sweep_point;

static int same_keys(const syf_dataset *d, size_t nk, size_t a, size_t b)
{
    for (size_t j = 0; j < nk; j++)
        if (strcmp(d->cols[j].str[a], d->cols[j].str[b]))
            return 0;
    return 1;
}

static int section_sweep(report *r)
{
    if (!r->present[R_SWEEP])
        return SYF_OK;
    const int f = R_SWEEP;
    const syf_dataset *d = r->ds[f];
    size_t j[5], nk;
    static const char *const need[] = {"design", "estimand", "diagnosand", "value", "mcse", NULL};
    int st = need_cols(r, f, need, j);
    if (st != SYF_OK)
        return st;
    nk = j[0]; /* the grid keys are the columns before design */
    sweep_point *pt = malloc(SWEEP_MAX_POINTS * sizeof *pt);
    size_t np = 0;
    double *xs = NULL, *ys = NULL;
    if (!pt)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->n_rows; i++) {
        double v, se;
        if ((st = cell_num(r, f, j[3], i, 1, &v)) != SYF_OK ||
            (st = cell_num(r, f, j[4], i, 1, &se)) != SYF_OK)
            goto out;
        size_t k = np;
        if (np > 0 && same_keys(d, nk, pt[np - 1].row, i))
            k = np - 1;
        else
            for (k = 0; k < np && !same_keys(d, nk, pt[k].row, i); k++)
                ;
        if (k == np) {
            if (np == SWEEP_MAX_POINTS) {
                st = bad_cell(r, f, 0, i, "starts a grid point beyond the 2000 shown");
                goto out;
            }
            pt[np++] = (sweep_point){i, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
        }
        const char *e = d->cols[j[1]].str[i], *g = d->cols[j[2]].str[i];
        sweep_point *p = &pt[k];
        if (!strcmp(e, "null")) {
            if (!strcmp(g, "power"))
                p->t1 = v, p->t1_se = se;
        } else if (!strcmp(g, "power"))
            p->power = v, p->power_se = se;
        else if (!strcmp(g, "coverage"))
            p->cov = v;
        else if (!strcmp(g, "bias"))
            p->bias = v;
        else if (!strcmp(g, "mean_estimand"))
            p->estimand = v;
    }
    fputs("<h2 id=\"sweep\">Sweep: power over the grid</h2>\n<div class=\"scroll\">"
          "<table><thead><tr>", r->f);
    for (size_t c = 0; c < nk; c++) {
        fputs("<th>", r->f);
        esc(r, d->cols[c].name);
        fputs("</th>", r->f);
    }
    fputs("<th>mean estimand</th><th>bias</th><th>power</th><th>MCSE</th><th>coverage</th>"
          "<th>type-I error</th><th>MCSE</th></tr></thead><tbody>\n", r->f);
    for (size_t k = 0; k < np; k++) {
        fputs("<tr>", r->f);
        for (size_t c = 0; c < nk; c++)
            td_cell(r, d, c, pt[k].row);
        double vals[7] = {pt[k].estimand, pt[k].bias, pt[k].power, pt[k].power_se, pt[k].cov,
                          pt[k].t1, pt[k].t1_se};
        for (int q = 0; q < 7; q++) {
            char b[64];
            fmt_num(b, sizeof b, vals[q]);
            fprintf(r->f, "<td class=\"n\">%s</td>", b);
        }
        fputs("</tr>\n", r->f);
    }
    fputs("</tbody></table></div>\n", r->f);

    /* x: the numeric key with the most distinct values (> 1) */
    size_t xk = (size_t)-1, best = 1;
    for (size_t c = 0; c < nk; c++) {
        if (d->cols[c].n_bad)
            continue;
        size_t distinct = 0;
        for (size_t k = 0; k < np; k++) {
            size_t q = 0;
            while (q < k && d->cols[c].num[pt[q].row] != d->cols[c].num[pt[k].row])
                q++;
            distinct += q == k;
        }
        if (distinct > best)
            best = distinct, xk = c;
    }
    if (xk == (size_t)-1) {
        expl(r, "No numeric grid key takes more than one value: no power curve%s.", "");
        goto out;
    }
    /* series: points with the same other keys */
    size_t series_of[SWEEP_MAX_POINTS], ns = 0, first[8];
    for (size_t k = 0; k < np; k++) {
        size_t q = 0;
        for (; q < ns; q++) {
            int same = 1;
            for (size_t c = 0; c < nk && same; c++)
                if (c != xk && strcmp(d->cols[c].str[pt[first[q]].row], d->cols[c].str[pt[k].row]))
                    same = 0;
            if (same)
                break;
        }
        if (q == ns) {
            if (ns == 8) {
                expl(r, "More than 8 combinations of the other grid keys: no power curve%s.", "");
                goto out;
            }
            first[ns++] = k;
        }
        series_of[k] = q;
    }
    int with_null = ns == 1 && isfinite(pt[0].t1);
    size_t nser = ns + (size_t)with_null;
    xs = malloc((nser + 1) * np * sizeof *xs);
    ys = malloc((nser + 1) * np * sizeof *ys);
    if (!xs || !ys) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto out;
    }
    syf_plot_series ser[10];
    char labels[9][200];
    for (size_t q = 0; q < nser; q++) {
        int null_series = q == ns;
        size_t sq = null_series ? 0 : q, m = 0;
        double *x = xs + q * np, *y = ys + q * np;
        for (size_t k = 0; k < np; k++)
            if (series_of[k] == sq) {
                /* insertion by x */
                double xv = d->cols[xk].num[pt[k].row], yv = null_series ? pt[k].t1 : pt[k].power;
                size_t a = m++;
                while (a > 0 && x[a - 1] > xv) {
                    x[a] = x[a - 1];
                    y[a] = y[a - 1];
                    a--;
                }
                x[a] = xv;
                y[a] = yv;
            }
        size_t len = 0;
        labels[q][0] = '\0';
        if (null_series)
            len = (size_t)snprintf(labels[q], sizeof labels[q], "type-I error (no effect)");
        for (size_t c = 0; c < nk && !null_series; c++) {
            if (c == xk || len >= sizeof labels[q])
                continue;
            /* only keys that vary */
            int varies = 0;
            for (size_t k = 1; k < np && !varies; k++)
                varies = strcmp(d->cols[c].str[pt[k].row], d->cols[c].str[pt[0].row]) != 0;
            if (varies)
                len += (size_t)snprintf(labels[q] + len, sizeof labels[q] - len, "%s%s=%s",
                                        len ? ", " : "", d->cols[c].name,
                                        d->cols[c].str[pt[first[q]].row]);
        }
        if (!labels[q][0])
            snprintf(labels[q], sizeof labels[q], "power");
        ser[q] = (syf_plot_series){.x = x, .y = y, .n = m, .label = labels[q],
                                   .style = SYF_PLOT_LINESPOINTS, .color = (int)q + 1};
    }
    double rx[2] = {d->cols[xk].num[pt[0].row], d->cols[xk].num[pt[0].row]}, ry[2] = {0.8, 0.8};
    for (size_t k = 0; k < np; k++) {
        double v = d->cols[xk].num[pt[k].row];
        rx[0] = v < rx[0] ? v : rx[0];
        rx[1] = v > rx[1] ? v : rx[1];
    }
    ser[nser] = (syf_plot_series){.x = rx, .y = ry, .n = 2, .label = "80 %",
                                  .style = SYF_PLOT_LINES, .color = 8, .line_width = 1};
    syf_plot_opts o;
    syf_plot_opts_init(&o);
    o.xlabel = d->cols[xk].name;
    o.ylabel = "Power (share of replications with p < alpha)";
    o.ymin = 0;
    o.ymax = 1;
    o.key = "bottom right";
    lines_ctx lc = {ser, nser + 1, &o};
    char cap[400];
    snprintf(cap, sizeof cap, "Power curve: simulated power at each grid point of sweep.csv "
             "against %s (Monte Carlo SEs in the table above).", d->cols[xk].name);
    figure(r, draw_lines, &lc, cap);
out:
    free(pt);
    free(xs);
    free(ys);
    return st;
}

/* mdes.csv / clusters.csv of `diagnose --mdes|--clusters`: the bisection
 * steps (power at each simulated effect or number of offices) as a table and
 * as a power curve. */
static int section_search(report *r, int f)
{
    if (!r->present[f])
        return SYF_OK;
    const syf_dataset *d = r->ds[f];
    size_t js, jp;
    int st;
    if ((st = col(r, f, "step", &js)) != SYF_OK || (st = col(r, f, "power", &jp)) != SYF_OK)
        return st;
    if (d->n_cols < 2 || js != 0)
        return syf_error_set(SYF_EINPUT, "%s:%zu: expected the columns step,X,power,...",
                             d->path, d->header_line);
    const size_t jx = 1; /* effect_hr or offices */
    size_t n = d->n_rows, m = 0;
    double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
    if (!x || !y) {
        free(x);
        free(y);
        return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n && st == SYF_OK; i++) {
        double xv, yv;
        if ((st = cell_num(r, f, jx, i, 0, &xv)) != SYF_OK ||
            (st = cell_num(r, f, jp, i, 0, &yv)) != SYF_OK)
            break;
        if (!isfinite(d->cols[js].num[i]))
            continue; /* the final row repeats the answer */
        size_t a = m++;
        while (a > 0 && x[a - 1] > xv) {
            x[a] = x[a - 1];
            y[a] = y[a - 1];
            a--;
        }
        x[a] = xv;
        y[a] = yv;
    }
    if (st == SYF_OK) {
        const int mdes = f == R_MDES;
        fprintf(r->f, "<h2 id=\"%s\">%s</h2>\n", mdes ? "mdes" : "clusters",
                mdes ? "Minimum detectable effect (diagnose --mdes)"
                     : "Number of offices needed (diagnose --clusters)");
        csv_table(r, d, NULL, "data");
        if (m > 0) {
            double rx[2] = {x[0], x[m - 1]}, ry[2] = {0.8, 0.8};
            syf_plot_series ser[2] = {
                {.x = x, .y = y, .n = m, .label = "simulated power", .style = SYF_PLOT_LINESPOINTS,
                 .color = 1},
                {.x = rx, .y = ry, .n = 2, .label = "80 %", .style = SYF_PLOT_LINES, .color = 8,
                 .line_width = 1}};
            syf_plot_opts o;
            syf_plot_opts_init(&o);
            o.xlabel = d->cols[jx].name;
            o.ylabel = "Power";
            o.ymin = 0;
            o.ymax = 1;
            o.key = "bottom right";
            lines_ctx lc = {ser, 2, &o};
            figure(r, draw_lines, &lc,
                   mdes ? "Power at each effect (hazard ratio of return for the mapped) the "
                          "bisection simulated, with the same seeds at every step."
                        : "Power at each number of offices the bisection simulated (persons per "
                          "office kept), with the same seeds at every step.");
        }
    }
    free(x);
    free(y);
    return st;
}

/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: syfosim report DIR [--out FILE] [--no-plots]\n\n"
            "Write DIR/report.html (or FILE): one self-contained HTML page (inline SVG plots\n"
            "drawn by gnuplot, inline CSS, no network, no JavaScript) of the outputs of\n"
            "`syfosim run` and/or `syfosim diagnose` in DIR: the resolved scenario, the\n"
            "provenance of every file, the headline estimate beside the simulator's truth,\n"
            "the summary per arm and office with the cost breakdown, triage figures,\n"
            "Kaplan-Meier curves by arm, the weekly return-to-work hazard, queue lengths,\n"
            "and for a diagnosis the diagnosands with Monte Carlo SEs and the sampling\n"
            "distribution of the estimates against the mean estimand; for a sweep\n"
            "(sweep.csv) the power over the grid and the power curve, and the searches\n"
            "of diagnose --mdes / --clusters (mdes.csv, clusters.csv). Only the files\n"
            "present are used; each one present is checked.\n\n"
            "options:\n"
            "  --out FILE   write the page to FILE instead of DIR/report.html\n"
            "  --no-plots   tables only (gnuplot not needed)\n\n"
            "The page is written to a temporary name and renamed into place when complete.\n"
            "Exit status: 0 ok, 1 runtime failure, 2 bad input (no syfosim outputs in DIR,\n"
            "or a malformed file: FILE:LINE: column: problem).\n");
}

static void report_free(report *r)
{
    for (int k = 0; k < R_N; k++)
        syf_dataset_free(r->ds[k]);
    for (size_t i = 0; i < r->n_kv; i++)
        free(r->kv[i].value);
    free(r->kv);
    if (r->tmpdir[0])
        rmdir(r->tmpdir);
}

int syf_cmd_report(int argc, char **argv)
{
    const char *dir = NULL, *outpath = NULL;
    int plots = 1;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--out") && k + 1 < argc) {
            outpath = argv[++k];
        } else if (!strcmp(a, "--no-plots")) {
            plots = 0;
        } else if (!dir && a[0] != '-') {
            dir = a;
        } else {
            fprintf(stderr, "syfosim report: unexpected argument '%s' (see syfosim report "
                            "--help)\n", a);
            return 2;
        }
    }
    if (!dir) {
        fprintf(stderr, "syfosim report: expected a directory (see syfosim report --help)\n");
        return 2;
    }
    struct stat st_dir;
    if (stat(dir, &st_dir) != 0 || !S_ISDIR(st_dir.st_mode)) {
        fprintf(stderr, "syfosim report: %s: %s\n", dir,
                stat(dir, &st_dir) != 0 ? "no such directory" : "not a directory");
        return 2;
    }
    report r;
    memset(&r, 0, sizeof r);
    r.dir = dir;
    r.plots = plots;
    int n_present = 0, st = SYF_OK;
    for (int k = 0; k < R_N; k++) {
        int n = snprintf(r.path[k], sizeof r.path[k], "%s/%s", dir, rfile[k]);
        if (n < 0 || (size_t)n >= sizeof r.path[k]) {
            fprintf(stderr, "syfosim report: %s: path too long\n", dir);
            return 2;
        }
        r.present[k] = exists_file(r.path[k], &r.size[k]);
        n_present += r.present[k];
    }
    if (n_present == 0) {
        fprintf(stderr,
                "syfosim report: %s: no syfosim outputs (expected files written by `syfosim "
                "run` or `syfosim diagnose`: scenario.ini, summary.csv, spells.csv, trial.csv, "
                "estimates.csv, diagnosis.csv, replicates.csv, sweep.csv, ...)\n",
                dir);
        return 2;
    }
    /* read and check everything before writing anything */
    if (r.present[R_SCENARIO]) {
        int line = ini_parse(r.path[R_SCENARIO], on_ini, &r);
        if (line != 0) {
            if (line > 0)
                st = syf_error_set(SYF_EINPUT, "%s:%d: not a valid INI line (expected "
                                   "[section] or key = value)", r.path[R_SCENARIO], line);
            else
                st = syf_error_set(line == -2 ? SYF_ENOMEM : SYF_ERUNTIME, "%s: cannot read",
                                   r.path[R_SCENARIO]);
            goto done;
        }
    }
    for (int k = 0; k < R_N; k++) {
        if (!r.present[k] || k == R_SCENARIO)
            continue;
        read_provenance(r.path[k], r.prov[k], sizeof r.prov[k]);
        if (rread[k] && (st = syf_dataset_read(r.path[k], &r.ds[k])) != SYF_OK)
            goto done;
    }
    if ((r.present[R_TRIAL] && (st = unique_rows(&r, R_TRIAL, "person_id", NULL)) != SYF_OK) ||
        (r.present[R_SPELLS] &&
         (st = unique_rows(&r, R_SPELLS, "person_id", "spell_id")) != SYF_OK))
        goto done;

    cli_outfile out;
    char odir[1100], oname[256];
    if (outpath) {
        const char *sl = strrchr(outpath, '/');
        if (sl) {
            snprintf(odir, sizeof odir, "%.*s", (int)(sl - outpath), outpath);
            if (!odir[0])
                snprintf(odir, sizeof odir, "/");
            snprintf(oname, sizeof oname, "%s", sl + 1);
        } else {
            snprintf(odir, sizeof odir, ".");
            snprintf(oname, sizeof oname, "%s", outpath);
        }
        if (!oname[0]) {
            st = syf_error_set(SYF_EINPUT, "--out %s: expected a file name", outpath);
            goto done;
        }
    } else {
        snprintf(odir, sizeof odir, "%s", dir);
        snprintf(oname, sizeof oname, "report.html");
    }
    if ((st = cli_out_open(&out, odir, oname)) != SYF_OK)
        goto done;
    r.f = out.f;

    char name[256] = "";
    const char *ini_name = ini_get(&r, "scenario", "name");
    if (ini_name)
        snprintf(name, sizeof name, "%s", ini_name);
    for (int k = 0; k < R_N && !name[0]; k++)
        prov_field(r.prov[k], "scenario", name, sizeof name);
    if (!name[0])
        snprintf(name, sizeof name, "(unnamed)");
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta name=\"generator\" content=\"syfosim " SYF_VERSION "\">\n<title>syfosim report: ",
          r.f);
    esc(&r, name);
    fprintf(r.f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<main>\n<h1>syfosim report: ",
            css);
    esc(&r, name);
    fputs("</h1>\n<p class=\"sub\">", r.f);
    const char *desc = ini_get(&r, "scenario", "description");
    if (desc) {
        esc(&r, desc);
        fputs(". ", r.f);
    }
    fputs("Outputs in <code>", r.f);
    esc(&r, dir);
    fputs("</code>.</p>\n<nav>", r.f);
    fputs("<a href=\"#scenario\">Scenario</a><a href=\"#provenance\">Provenance</a>", r.f);
    if (r.present[R_SUMMARY])
        fputs("<a href=\"#summary\">Per arm and office</a><a href=\"#cost\">Cost</a>", r.f);
    if (r.present[R_TRIAGE])
        fputs("<a href=\"#triage\">Triage</a>", r.f);
    if (r.present[R_TRIAL] || r.present[R_SPELLS])
        fputs("<a href=\"#km\">Kaplan–Meier</a>", r.f);
    if (r.present[R_SPELLS])
        fputs("<a href=\"#hazard\">Hazard</a>", r.f);
    if (r.present[R_SERVICES])
        fputs("<a href=\"#queue\">Queues</a>", r.f);
    if (r.present[R_DIAGNOSIS] || r.present[R_REPLICATES])
        fputs("<a href=\"#diagnosis\">Diagnosis</a>", r.f);
    if (r.present[R_SWEEP])
        fputs("<a href=\"#sweep\">Sweep</a>", r.f);
    if (r.present[R_MDES])
        fputs("<a href=\"#mdes\">MDES</a>", r.f);
    if (r.present[R_CLUSTERS])
        fputs("<a href=\"#clusters\">Offices needed</a>", r.f);
    fputs("</nav>\n", r.f);

    if ((st = headline(&r)) != SYF_OK || (st = section_estimates(&r)) != SYF_OK)
        goto abort;
    section_scenario(&r, name);
    if ((st = section_summary(&r)) != SYF_OK || (st = section_triage(&r)) != SYF_OK ||
        (st = section_km(&r)) != SYF_OK || (st = section_hazard(&r)) != SYF_OK ||
        (st = section_queue(&r)) != SYF_OK || (st = section_diagnosis(&r)) != SYF_OK ||
        (st = section_sweep(&r)) != SYF_OK || (st = section_search(&r, R_MDES)) != SYF_OK ||
        (st = section_search(&r, R_CLUSTERS)) != SYF_OK)
        goto abort;
    section_provenance(&r);
    fprintf(r.f, "<footer>Written by syfosim %s (git %s) from the files in <code>", SYF_VERSION,
            syf_git_revision());
    esc(&r, dir);
    fputs("</code>. Days count from the first day of the observation window (a Monday). "
          "Column meanings: notebooks-data/README.md; methods: docs/methods.md.</footer>\n"
          "</main>\n</body>\n</html>\n", r.f);
    if ((st = cli_out_commit(&out)) != SYF_OK)
        goto done;
    printf("%s/%s\n", odir, oname);
    goto done;
abort:
    cli_out_abort(&out);
done:
    report_free(&r);
    return st == SYF_OK ? 0 : cli_fail("report", st);
}
