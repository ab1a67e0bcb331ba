/* cmd_power.c — `syfosim power crt|sw`: analytic power and sample size.
 *
 * The planner's door to analysis/power.c (DESIGN §4 "Analytic power"):
 * parallel cluster-randomised trials (`crt`) with clusterPower's design
 * effects, and stepped-wedge or any other sequences x periods design (`sw`)
 * in the Hussey & Hughes model (GLS, as swCRTdesign's swPwr).  Whichever of
 * --power, the number of clusters and the effect is left out is solved for.
 *
 * Every option is checked before anything is printed: bad input gives exit
 * 2 and one "syfosim power: --OPTION: ... (accepted: ...)" line on stderr
 * and nothing on stdout.  Output is a table of "name value" rows (inputs,
 * derived quantities, the result marked "solved"), or with --format csv one
 * header line and one row with a fixed set of columns per design kind
 * (empty where a column does not apply).
 */
#include "cli_util.h"
#include "commands.h"
#include "syfosim/error.h"
#include "syfosim/power.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "power"
#define MAX_SEQ 1000
#define MAX_PER 500

enum { K_CRT = 1, K_SW = 2, K_BOTH = 3 };

typedef struct {
    const char *name, *arg, *help;
    int kinds;
} opt_def;

enum {
    O_OUTCOME, O_ALPHA, O_POWER, O_EFFECT, O_FORMAT, O_FAR_TAIL, O_DIRECTION,
    O_SD, O_VAR_TOTAL, O_ICC, O_VAR_BETWEEN, O_TAU, O_P0, O_P1, O_POOLED, O_R0, O_R1,
    O_CLUSTERS_PER_ARM, O_CLUSTER_SIZE, O_CV, O_CV_METHOD, O_DIST, O_CVB,
    O_SEQUENCES, O_PERIODS, O_EXTRA_PERIODS, O_TRANSITION, O_DESIGN, O_CLUSTERS_PER_SEQ,
    O_CLUSTER_PERIOD_SIZE, O_CAC, O_IAC, O_TX_SD, O_TX_COR,
    N_OPTS
};

static const opt_def opts[N_OPTS] = {
    [O_OUTCOME] = {"outcome", "gaussian|binary|count", "outcome type (default gaussian)", K_BOTH},
    [O_ALPHA] = {"alpha", "A", "two-sided significance level (default 0.05)", K_BOTH},
    [O_POWER] = {"power", "P", "power; leave out to solve for it", K_BOTH},
    [O_EFFECT] = {"effect", "D", "effect: difference in means (gaussian), p1 - p0 (binary), "
                                 "r1 - r0 (count); leave out (and --p1/--r1) to solve for the "
                                 "minimum detectable effect", K_BOTH},
    [O_FORMAT] = {"format", "text|csv", "output format (default text)", K_BOTH},
    [O_FAR_TAIL] = {"far-tail", "yes|no", "also count rejections in the wrong direction (default: "
                                          "no for crt as clusterPower, yes for sw as swCRTdesign)",
                    K_BOTH},
    [O_DIRECTION] = {"direction", "increase|decrease", "binary/count effect solved above or below "
                                                       "p0/r0 (default increase)", K_BOTH},
    [O_SD] = {"sd", "S", "within-cluster (individual-level) SD sigma_w", K_BOTH},
    [O_VAR_TOTAL] = {"var-total", "V", "total variance sigma_b^2 + sigma_w^2", K_BOTH},
    [O_ICC] = {"icc", "R", "intracluster correlation sigma_b^2 / (sigma_b^2 + sigma_w^2)", K_BOTH},
    [O_VAR_BETWEEN] = {"var-between", "B", "between-cluster variance sigma_b^2", K_BOTH},
    [O_TAU] = {"tau", "T", "between-cluster SD (--var-between T^2; swCRTdesign's tau when "
                           "--cac 1)", K_SW},
    [O_P0] = {"p0", "P", "binary: control proportion", K_BOTH},
    [O_P1] = {"p1", "P", "binary: treated proportion", K_BOTH},
    [O_POOLED] = {"pooled", "yes|no", "binary variance pbar(1-pbar) (yes) or mean of p(1-p) (no); "
                                      "default no for crt (clusterPower), yes for sw (swCRTdesign)",
                  K_BOTH},
    [O_R0] = {"r0", "R", "count: control rate per unit person-time", K_BOTH},
    [O_R1] = {"r1", "R", "count: treated rate", K_BOTH},
    [O_CLUSTERS_PER_ARM] = {"clusters-per-arm", "K", "clusters per arm; leave out to solve", K_CRT},
    [O_CLUSTER_SIZE] = {"cluster-size", "M", "mean cluster size (count: person-time per cluster)",
                        K_CRT},
    [O_CV] = {"cv", "C", "coefficient of variation of cluster sizes (default 0)", K_CRT},
    [O_CV_METHOD] = {"cv-method", "taylor|eldridge", "design effect with unequal sizes (default: "
                                                     "taylor for gaussian as cpa.normal, eldridge "
                                                     "for binary as cpa.binary)", K_CRT},
    [O_DIST] = {"dist", "t|normal", "reference distribution (default t: noncentral t with "
                                    "2(k-1) df; count is always normal)", K_CRT},
    [O_CVB] = {"cvb", "C", "count: between-cluster coefficient of variation of the rates",
               K_CRT},
    [O_SEQUENCES] = {"sequences", "S", "standard stepped wedge with S sequences", K_SW},
    [O_PERIODS] = {"periods", "T", "periods (default S + 1 + transition + extra periods)", K_SW},
    [O_EXTRA_PERIODS] = {"extra-periods", "N", "all-treated periods added at the end (default 0)",
                         K_SW},
    [O_TRANSITION] = {"transition", "N", "periods after the switch that are neither control nor "
                                         "treated and are excluded (default 0)", K_SW},
    [O_DESIGN] = {"design", "ROWS", "any design instead of --sequences: rows of 0 (control), 1 "
                                    "(treated), . (excluded), e.g. 0111,0011,0001", K_SW},
    [O_CLUSTERS_PER_SEQ] = {"clusters-per-sequence", "C|C1,C2,..",
                            "clusters in each sequence; leave out to solve", K_SW},
    [O_CLUSTER_PERIOD_SIZE] = {"cluster-period-size", "M", "individuals per cluster-period", K_SW},
    [O_CAC] = {"cac", "R", "cluster autocorrelation tau^2 / sigma_b^2 (default 1)", K_SW},
    [O_IAC] = {"iac", "R", "closed cohort: individual share zeta^2 / sigma_w^2 (default 0)", K_SW},
    [O_TX_SD] = {"tx-sd", "E", "SD of a random treatment effect across clusters (default 0)", K_SW},
    [O_TX_COR] = {"tx-cor", "R", "its correlation with the cluster effect (default 0)", K_SW},
};

static void usage(FILE *f, int kind)
{
    fprintf(f,
            "usage: syfosim power crt [options]   parallel cluster-randomised trial\n"
            "       syfosim power sw  [options]   stepped wedge (or any sequences x periods "
            "design)\n\n"
            "Analytic power.  Of --power, the number of clusters (--clusters-per-arm or\n"
            "--clusters-per-sequence) and the effect (--effect, or --p1 / --r1), leave out\n"
            "exactly one: it is solved for (numbers of clusters are solved as real numbers\n"
            "and also rounded up, with the power at the rounded-up number).\n\noptions:\n");
    for (int k = 0; k < N_OPTS; k++) {
        if (!(opts[k].kinds & kind))
            continue;
        char head[80], help[400];
        snprintf(head, sizeof head, "--%s %s", opts[k].name, opts[k].arg);
        snprintf(help, sizeof help, "%s%s", opts[k].help,
                 opts[k].kinds == K_BOTH || kind != K_BOTH ? ""
                 : opts[k].kinds == K_CRT                  ? " [crt]"
                                                           : " [sw]");
        /* name column of 34, help wrapped at 46 columns */
        fprintf(f, "  %-34s", head);
        if (strlen(head) > 34)
            fprintf(f, "\n  %-34s", "");
        const char *p = help;
        while (*p) {
            size_t len = strlen(p), cut = len;
            if (len > 46) {
                cut = 46;
                while (cut > 0 && p[cut] != ' ')
                    cut--;
                if (cut == 0)
                    cut = 46;
            }
            fprintf(f, " %.*s\n", (int)cut, p);
            p += cut;
            while (*p == ' ')
                p++;
            if (*p)
                fprintf(f, "  %-34s", "");
        }
    }
    fprintf(f, "  -h, --help\n");
    fprintf(
        f,
        "\nVariances: gaussian outcomes take exactly two of --sd, --var-total, --icc,\n"
        "--var-between (sw also --tau).  Binary outcomes take the Bernoulli variance\n"
        "(--pooled) and one of --icc or --var-between / --tau (crt: --icc); count\n"
        "outcomes: crt --cvb (Hayes & Bennett 1999), sw --icc or --var-between with\n"
        "sigma_w = (sqrt(r0) + sqrt(r1)) / 2 (SWSamp HH.count).\n"
        "\ncrt (clusterPower 0.7.0 cpa.normal / cpa.binary / cpa.count conventions):\n"
        "  Var(diff) = 2 var_total VIF / (k m); VIF = 1 + (m-1) icc with equal sizes;\n"
        "  --cv > 0: taylor VIF = DEFF / (1 - cv^2 L(1-L)), L = m icc / DEFF (van\n"
        "  Breukelen et al. 2007), eldridge VIF = 1 + ((cv^2+1) m - 1) icc (Eldridge et\n"
        "  al. 2006).  Power = P(T' > t_{1-alpha/2, 2(k-1)}), T' noncentral t with\n"
        "  ncp |effect|/SE (--dist normal: the normal).\n"
        "sw (Hussey & Hughes 2007; swCRTdesign 4.0 swPwr): cluster-period means with\n"
        "  period effects, cluster effect tau^2 = cac sigma_b^2, cluster-period effect\n"
        "  gamma^2 = (1-cac) sigma_b^2, closed-cohort individual effect zeta^2 =\n"
        "  iac sigma_w^2, residual (1-iac) sigma_w^2, optional random treatment effect;\n"
        "  Var(effect) by generalised least squares (the Hussey & Hughes closed form\n"
        "  when cac = 1, iac = 0, no excluded cells).  Normal reference:\n"
        "  power = Phi(|effect|/SE - z_{1-alpha/2}) + Phi(-|effect|/SE - z_{1-alpha/2})\n"
        "  (the second term only with --far-tail yes).  Sequence s (1-based) of the\n"
        "  standard design is control in periods 1..s.  swCRTdesign's sigma and iac\n"
        "  are --sd sigma/sqrt(1-iac) --iac iac here (its binary iac adds zeta^2 on top\n"
        "  of pbar(1-pbar); here the Bernoulli variance is split).  SWSamp's HH.*:\n"
        "  --far-tail no, --pooled no.  cpa.sw.normal (Hooper 2016): --var-total,\n"
        "  --icc, --cac rho_c, --iac rho_s, --far-tail no.\n"
        "\nExamples:\n"
        "  syfosim power crt --clusters-per-arm 16 --cluster-size 10 --effect 1 \\\n"
        "      --var-total 5 --icc 0.1\n"
        "  syfosim power sw --sequences 4 --clusters-per-sequence 6 --cluster-period-size 120 \\\n"
        "      --outcome binary --p0 0.05 --p1 0.035 --tau 0.01\n"
        "\n--format csv prints one header line and one row.  Exit status: 0 ok,\n"
        "1 runtime failure, 2 bad input.\n");
}

/* ------------------------------------------------------------------------ */
/* Option values                                                              */

typedef struct {
    const char *v[N_OPTS];
    int kind;
} args;

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

static int parse_args(int argc, char **argv, args *a)
{
    for (int k = 1; k < argc; k++)
        if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
            int kind = K_BOTH;
            if (argc > 1 && !strcmp(argv[1], "crt"))
                kind = K_CRT;
            else if (argc > 1 && !strcmp(argv[1], "sw"))
                kind = K_SW;
            usage(stdout, kind);
            return 0;
        }
    if (argc < 2)
        return fail_input("expected a design kind: crt or sw (see syfosim power --help)");
    if (!strcmp(argv[1], "crt"))
        a->kind = K_CRT;
    else if (!strcmp(argv[1], "sw"))
        a->kind = K_SW;
    else
        return fail_input("unknown design kind '%s' (accepted: crt, sw)", argv[1]);
    for (int k = 2; k < argc; k++) {
        const char *arg = argv[k];
        if (strncmp(arg, "--", 2) != 0)
            return fail_input("unexpected argument '%s' (options are --name value; see syfosim "
                              "power --help)",
                              arg);
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int t;
        for (t = 0; t < N_OPTS; t++)
            if (strlen(opts[t].name) == len && !strncmp(opts[t].name, name, len))
                break;
        if (t == N_OPTS)
            return fail_input("unknown option '%s' (see syfosim power --help)", arg);
        if (!(opts[t].kinds & a->kind))
            return fail_input("option '--%s' is only for 'syfosim power %s'", opts[t].name,
                              a->kind == K_CRT ? "sw" : "crt");
        const char *val;
        if (eq)
            val = eq + 1;
        else if (k + 1 < argc)
            val = argv[++k];
        else
            return fail_input("option '--%s' needs a value", opts[t].name);
        if (a->v[t])
            return fail_input("option '--%s' given twice", opts[t].name);
        a->v[t] = val;
    }
    return -1;
}

/* Number-range description for messages: "a number from 0 to 1, 1 excluded". */
static void range_text(char *buf, size_t n, double lo, double hi, int lo_open, int hi_open)
{
    if (isinf(hi))
        snprintf(buf, n, "a number %s %g", lo_open ? ">" : ">=", lo);
    else if (lo_open || hi_open)
        snprintf(buf, n, "a number %s %g and %s %g", lo_open ? ">" : ">=", lo, hi_open ? "<" : "<=",
                 hi);
    else
        snprintf(buf, n, "a number from %g to %g", lo, hi);
}

static int parse_num(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* Parse option k as a number in the range; on error prints, returns 0. */
static int get_num(const args *a, int k, double lo, double hi, int lo_open, int hi_open,
                   double *out, int *rc)
{
    double v;
    if (parse_num(a->v[k], &v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi)) {
        *out = v;
        return 1;
    }
    char r[128];
    range_text(r, sizeof r, lo, hi, lo_open, hi_open);
    *rc = fail_input("--%s: '%s' is not valid (accepted: %s)", opts[k].name, a->v[k], r);
    return 0;
}

static int get_long(const args *a, int k, long lo, long hi, long *out, int *rc)
{
    char *end;
    errno = 0;
    long v = strtol(a->v[k], &end, 10);
    if (*a->v[k] && !*end && !errno && v >= lo && v <= hi) {
        *out = v;
        return 1;
    }
    *rc = fail_input("--%s: '%s' is not valid (accepted: an integer from %ld to %ld)",
                     opts[k].name, a->v[k], lo, hi);
    return 0;
}

/* Parse option k as one of the words (separated by '|'); returns the index. */
static int get_word(const args *a, int k, const char *words, int *out, int *rc)
{
    int idx = 0;
    const char *p = words, *s = a->v[k];
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (strlen(s) == l && !strncmp(s, p, l)) {
            *out = idx;
            return 1;
        }
        if (!bar)
            break;
        p = bar + 1;
        idx++;
    }
    char list[160];
    size_t used = 0;
    for (const char *c = words; *c && used + 3 < sizeof list; c++) {
        if (*c == '|') {
            list[used++] = ',';
            list[used++] = ' ';
        } else
            list[used++] = *c;
    }
    list[used] = '\0';
    *rc = fail_input("--%s: '%s' is not valid (accepted: %s)", opts[k].name, s, list);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Output rows                                                               */

typedef struct {
    const char *name;
    char value[1024];
    int set;
} out_row;

typedef struct {
    out_row r[48];
    int n;
    const char *solved;
} out_table;

static void col(out_table *t, const char *name)
{
    t->r[t->n].name = name;
    t->r[t->n].value[0] = '\0';
    t->r[t->n].set = 0;
    t->n++;
}

static void put(out_table *t, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void put(out_table *t, const char *name, const char *fmt, ...)
{
    for (int k = 0; k < t->n; k++)
        if (!strcmp(t->r[k].name, name)) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(t->r[k].value, sizeof t->r[k].value, fmt, ap);
            va_end(ap);
            t->r[k].set = 1;
            return;
        }
}

static void putnum(out_table *t, const char *name, double v)
{
    if (isfinite(v))
        put(t, name, "%.10g", v);
}

static void print_table(const out_table *t, int csv, const char *title)
{
    if (csv) {
        for (int k = 0; k < t->n; k++)
            printf("%s%s", k ? "," : "", t->r[k].name);
        printf("\n");
        for (int k = 0; k < t->n; k++)
            printf("%s%s", k ? "," : "", t->r[k].value);
        printf("\n");
        return;
    }
    printf("%s\n", title);
    for (int k = 0; k < t->n; k++)
        if (t->r[k].set && strcmp(t->r[k].name, "solved") && strcmp(t->r[k].name, "design"))
            printf("  %-30s %s%s\n", t->r[k].name, t->r[k].value,
                   t->solved && !strcmp(t->r[k].name, t->solved) ? "   <- solved" : "");
}

/* ------------------------------------------------------------------------ */
/* Shared pieces                                                             */

typedef struct {
    int outcome, csv, far_tail, direction, pooled;
    double alpha, power, effect, mu0;
    int have_power, have_effect;
    /* gaussian */
    double vw, vb;
    /* binary/count between spec: icc or vb (NAN when unused) */
    double icc;
} common;

static const char *outcome_names = "gaussian|binary|count";

static int parse_common(const args *a, common *c, int *rc)
{
    memset(c, 0, sizeof *c);
    c->outcome = SYF_POWER_GAUSSIAN;
    c->alpha = 0.05;
    c->far_tail = a->kind == K_SW;
    c->direction = 1;
    c->pooled = a->kind == K_SW;
    c->icc = c->vb = c->vw = c->mu0 = NAN;
    int w;
    if (a->v[O_OUTCOME] && !get_word(a, O_OUTCOME, outcome_names, &c->outcome, rc))
        return 0;
    if (a->v[O_FORMAT]) {
        if (!get_word(a, O_FORMAT, "text|csv", &w, rc))
            return 0;
        c->csv = w == 1;
    }
    if (a->v[O_FAR_TAIL]) {
        if (!get_word(a, O_FAR_TAIL, "yes|no", &w, rc))
            return 0;
        c->far_tail = w == 0;
    }
    if (a->v[O_DIRECTION]) {
        if (!get_word(a, O_DIRECTION, "increase|decrease", &w, rc))
            return 0;
        c->direction = w == 0 ? 1 : -1;
    }
    if (a->v[O_ALPHA] && !get_num(a, O_ALPHA, 0, 1, 1, 1, &c->alpha, rc))
        return 0;
    if (a->v[O_POWER]) {
        if (!get_num(a, O_POWER, 0, 1, 1, 1, &c->power, rc))
            return 0;
        if (!(c->power > c->alpha / 2)) {
            *rc = fail_input("--power: '%s' is not valid (accepted: a number > alpha/2 = %g and "
                             "< 1)",
                             a->v[O_POWER], c->alpha / 2);
            return 0;
        }
        c->have_power = 1;
    }

    /* Options that belong to another outcome. */
    static const int g_only[] = {O_SD, O_VAR_TOTAL};
    static const int b_only[] = {O_P0, O_P1, O_POOLED};
    static const int c_only[] = {O_R0, O_R1, O_CVB};
    for (size_t k = 0; k < 2; k++)
        if (a->v[g_only[k]] && c->outcome != SYF_POWER_GAUSSIAN) {
            *rc = fail_input("--%s is only for --outcome gaussian", opts[g_only[k]].name);
            return 0;
        }
    for (size_t k = 0; k < 3; k++)
        if (a->v[b_only[k]] && c->outcome != SYF_POWER_BINARY) {
            *rc = fail_input("--%s is only for --outcome binary", opts[b_only[k]].name);
            return 0;
        }
    for (size_t k = 0; k < 3; k++)
        if (a->v[c_only[k]] && c->outcome != SYF_POWER_COUNT) {
            *rc = fail_input("--%s is only for --outcome count", opts[c_only[k]].name);
            return 0;
        }

    /* Effect. */
    if (c->outcome == SYF_POWER_GAUSSIAN) {
        if (a->v[O_EFFECT]) {
            if (!get_num(a, O_EFFECT, -INFINITY, INFINITY, 0, 0, &c->effect, rc))
                return 0;
            if (c->effect == 0) {
                *rc = fail_input("--effect: '%s' is not valid (accepted: a non-zero number)",
                                 a->v[O_EFFECT]);
                return 0;
            }
            c->have_effect = 1;
        }
    } else {
        int k0 = c->outcome == SYF_POWER_BINARY ? O_P0 : O_R0;
        int k1 = c->outcome == SYF_POWER_BINARY ? O_P1 : O_R1;
        int bin = c->outcome == SYF_POWER_BINARY;
        if (!a->v[k0]) {
            *rc = fail_input("missing --%s (the control %s)", opts[k0].name,
                             bin ? "proportion" : "rate");
            return 0;
        }
        if (!get_num(a, k0, 0, bin ? 1 : INFINITY, 1, 1, &c->mu0, rc))
            return 0;
        if (a->v[k1] && a->v[O_EFFECT]) {
            *rc = fail_input("give --%s or --effect, not both", opts[k1].name);
            return 0;
        }
        double v1 = NAN;
        if (a->v[k1]) {
            if (!get_num(a, k1, 0, bin ? 1 : INFINITY, 1, 1, &v1, rc))
                return 0;
        } else if (a->v[O_EFFECT]) {
            double e;
            if (!get_num(a, O_EFFECT, -INFINITY, INFINITY, 0, 0, &e, rc))
                return 0;
            v1 = c->mu0 + e;
            if (!(v1 > 0 && (!bin || v1 < 1))) {
                *rc = fail_input("--effect: '%s' is not valid (accepted: %s0 + effect %s)",
                                 a->v[O_EFFECT], bin ? "p" : "r",
                                 bin ? "strictly between 0 and 1" : "> 0");
                return 0;
            }
        }
        if (!isnan(v1)) {
            if (v1 == c->mu0) {
                *rc = fail_input("--%s: '%s' is not valid (accepted: different from --%s)",
                                 opts[a->v[k1] ? k1 : O_EFFECT].name,
                                 a->v[a->v[k1] ? k1 : O_EFFECT], opts[k0].name);
                return 0;
            }
            c->effect = v1 - c->mu0;
            c->have_effect = 1;
        }
        if (a->v[O_POOLED]) {
            if (!get_word(a, O_POOLED, "yes|no", &w, rc))
                return 0;
            c->pooled = w == 0;
        }
    }

    /* Variance specification. */
    double sd = NAN, vt = NAN, icc = NAN, vb = NAN;
    int n = 0;
    if (a->v[O_SD] && (n++, !get_num(a, O_SD, 0, INFINITY, 1, 0, &sd, rc)))
        return 0;
    if (a->v[O_VAR_TOTAL] && (n++, !get_num(a, O_VAR_TOTAL, 0, INFINITY, 1, 0, &vt, rc)))
        return 0;
    if (a->v[O_ICC] && (n++, !get_num(a, O_ICC, 0, 1, 0, 1, &icc, rc)))
        return 0;
    if (a->v[O_VAR_BETWEEN] && (n++, !get_num(a, O_VAR_BETWEEN, 0, INFINITY, 0, 0, &vb, rc)))
        return 0;
    if (a->v[O_TAU]) {
        double tau;
        if (a->v[O_VAR_BETWEEN]) {
            *rc = fail_input("give --tau or --var-between, not both");
            return 0;
        }
        n++;
        if (!get_num(a, O_TAU, 0, INFINITY, 0, 0, &tau, rc))
            return 0;
        vb = tau * tau;
    }
    const char *bopt = a->v[O_TAU] ? "--tau" : "--var-between";
    if (c->outcome == SYF_POWER_GAUSSIAN) {
        if (n != 2) {
            *rc = fail_input("give exactly two of --sd, --var-total, --icc, --var-between%s "
                             "(gaussian outcome; %d given)",
                             a->kind == K_SW ? ", --tau" : "", n);
            return 0;
        }
        double vw = NAN;
        if (!isnan(sd)) {
            vw = sd * sd;
            if (!isnan(vt)) {
                vb = vt - vw;
                if (!(vb >= 0)) {
                    *rc = fail_input("--var-total: '%s' is not valid (accepted: >= --sd squared "
                                     "= %g)",
                                     a->v[O_VAR_TOTAL], vw);
                    return 0;
                }
            } else if (!isnan(icc))
                vb = icc * vw / (1.0 - icc);
        } else if (!isnan(vt)) {
            if (!isnan(icc))
                vb = icc * vt;
            else if (!(vb < vt)) {
                *rc = fail_input("%s: '%s' is not valid (accepted: < --var-total = %g)", bopt,
                                 a->v[a->v[O_TAU] ? O_TAU : O_VAR_BETWEEN], vt);
                return 0;
            }
            vw = vt - vb;
        } else {
            if (!(icc > 0) || !(vb > 0)) {
                *rc = fail_input("--icc with %s needs both > 0 (else give --sd or --var-total)",
                                 bopt);
                return 0;
            }
            vw = vb * (1.0 - icc) / icc;
        }
        c->vw = vw;
        c->vb = vb;
    } else {
        if (a->kind == K_CRT && c->outcome == SYF_POWER_COUNT) {
            if (n) {
                *rc = fail_input("--outcome count (crt) takes --cvb, not --icc or --var-between");
                return 0;
            }
        } else if (a->kind == K_CRT) {
            if (!a->v[O_ICC] || n != 1) {
                *rc = fail_input("--outcome binary (crt) takes --icc (and no --var-between)");
                return 0;
            }
            c->icc = icc;
        } else {
            if (n != 1) {
                *rc = fail_input("--outcome %s takes one of --icc, --var-between, --tau (%d given)",
                                 c->outcome == SYF_POWER_BINARY ? "binary" : "count", n);
                return 0;
            }
            c->icc = icc;
            c->vb = vb;
        }
    }
    return 1;
}

/* ------------------------------------------------------------------------ */
/* crt                                                                        */

static int run_crt(const args *a)
{
    int rc = 2;
    common c;
    if (!parse_common(a, &c, &rc))
        return rc;
    syf_power_crt p;
    memset(&p, 0, sizeof p);
    p.outcome = c.outcome;
    p.alpha = c.alpha;
    p.far_tail = c.far_tail;
    p.tdist = 1;
    p.cv_method = c.outcome == SYF_POWER_BINARY ? SYF_POWER_CV_ELDRIDGE : SYF_POWER_CV_TAYLOR;
    p.effect = c.effect;
    p.power = c.power;
    int w;
    if (a->v[O_DIST]) {
        if (!get_word(a, O_DIST, "t|normal", &w, &rc))
            return rc;
        if (c.outcome == SYF_POWER_COUNT && w == 0)
            return fail_input("--dist: 't' is not valid for --outcome count (accepted: normal)");
        p.tdist = w == 0;
    }
    if (c.outcome == SYF_POWER_COUNT)
        p.tdist = 0;
    if (a->v[O_CV_METHOD]) {
        if (!get_word(a, O_CV_METHOD, "taylor|eldridge", &w, &rc))
            return rc;
        p.cv_method = w == 0 ? SYF_POWER_CV_TAYLOR : SYF_POWER_CV_ELDRIDGE;
    }
    if (!a->v[O_CLUSTER_SIZE])
        return fail_input("missing --cluster-size");
    if (c.outcome == SYF_POWER_COUNT) {
        if (!get_num(a, O_CLUSTER_SIZE, 0, INFINITY, 1, 0, &p.cluster_size, &rc))
            return rc;
    } else if (!get_num(a, O_CLUSTER_SIZE, 1, INFINITY, 0, 0, &p.cluster_size, &rc))
        return rc;
    if (a->v[O_CV]) {
        if (c.outcome == SYF_POWER_COUNT)
            return fail_input("--cv is not used with --outcome count");
        if (!get_num(a, O_CV, 0, INFINITY, 0, 0, &p.cv, &rc))
            return rc;
    }
    if (c.outcome == SYF_POWER_COUNT) {
        if (!a->v[O_CVB])
            return fail_input("missing --cvb (count outcome)");
        if (!get_num(a, O_CVB, 0, INFINITY, 0, 0, &p.cvb, &rc))
            return rc;
        p.r0 = c.mu0;
    } else if (c.outcome == SYF_POWER_BINARY) {
        p.p0 = c.mu0;
        p.pooled = c.pooled;
        p.icc = c.icc;
    } else {
        p.var_total = c.vw + c.vb;
        p.icc = c.vb / p.var_total;
    }
    int need_k1 = p.tdist || c.outcome == SYF_POWER_COUNT;
    int have_k = a->v[O_CLUSTERS_PER_ARM] != NULL;
    if (have_k && !get_num(a, O_CLUSTERS_PER_ARM, need_k1 ? 1 : 0, INFINITY, 1, 0, &p.clusters,
                           &rc))
        return rc;
    int missing = !c.have_power + !have_k + !c.have_effect;
    const char *eff_opt = c.outcome == SYF_POWER_GAUSSIAN ? "--effect"
                          : c.outcome == SYF_POWER_BINARY ? "--p1 (or --effect)"
                                                          : "--r1 (or --effect)";
    if (missing != 1)
        return fail_input("leave out exactly one of --power, --clusters-per-arm, %s: it is "
                          "solved for (%d left out)",
                          eff_opt, missing);
    syf_power_target target = !c.have_power ? SYF_POWER_SOLVE_POWER
                              : !have_k     ? SYF_POWER_SOLVE_CLUSTERS
                                            : SYF_POWER_SOLVE_EFFECT;
    int st = syf_power_crt_solve(&p, target, c.direction);
    if (st)
        return cli_fail(CMD, st);
    double k_int = NAN, pow_int = NAN;
    if (target == SYF_POWER_SOLVE_CLUSTERS) {
        syf_power_crt q = p;
        q.clusters = ceil(p.clusters - 1e-9);
        if ((st = syf_power_crt_eval(&q)))
            return cli_fail(CMD, st);
        k_int = q.clusters;
        pow_int = q.power;
    }

    out_table t = {.n = 0};
    static const char *cols[] = {
        "design",        "outcome",          "solved",       "alpha",       "power",
        "clusters_per_arm", "cluster_size",  "cv",           "cv_method",   "effect",
        "p0",            "p1",               "r0",           "r1",          "cvb",
        "var_total",     "var_between",      "var_within",   "icc",         "pooled",
        "dist",          "df",               "far_tail",     "design_effect", "se",
        "clusters_per_arm_needed", "power_at_needed"};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
        col(&t, cols[k]);
    static const char *onames[] = {"gaussian", "binary", "count"};
    put(&t, "design", "crt");
    put(&t, "outcome", "%s", onames[p.outcome]);
    t.solved = target == SYF_POWER_SOLVE_POWER      ? "power"
               : target == SYF_POWER_SOLVE_CLUSTERS ? "clusters_per_arm"
               : p.outcome == SYF_POWER_GAUSSIAN    ? "effect"
               : p.outcome == SYF_POWER_BINARY      ? "p1"
                                                    : "r1";
    put(&t, "solved", "%s", t.solved);
    putnum(&t, "alpha", p.alpha);
    putnum(&t, "power", p.power);
    putnum(&t, "clusters_per_arm", p.clusters);
    putnum(&t, "cluster_size", p.cluster_size);
    putnum(&t, "effect", p.effect);
    if (p.outcome != SYF_POWER_COUNT) {
        putnum(&t, "cv", p.cv);
        put(&t, "cv_method", "%s", p.cv_method == SYF_POWER_CV_TAYLOR ? "taylor" : "eldridge");
        putnum(&t, "icc", p.icc);
        put(&t, "dist", "%s", p.tdist ? "t" : "normal");
    } else
        put(&t, "dist", "normal");
    if (p.outcome == SYF_POWER_GAUSSIAN) {
        putnum(&t, "var_total", p.var_total);
        putnum(&t, "var_between", p.icc * p.var_total);
        putnum(&t, "var_within", (1.0 - p.icc) * p.var_total);
    } else if (p.outcome == SYF_POWER_BINARY) {
        putnum(&t, "p0", p.p0);
        putnum(&t, "p1", p.p0 + p.effect);
        put(&t, "pooled", "%s", p.pooled ? "yes" : "no");
    } else {
        putnum(&t, "r0", p.r0);
        putnum(&t, "r1", p.r0 + p.effect);
        putnum(&t, "cvb", p.cvb);
    }
    putnum(&t, "df", p.df);
    put(&t, "far_tail", "%s", p.far_tail ? "yes" : "no");
    putnum(&t, "design_effect", p.design_effect);
    putnum(&t, "se", p.se);
    putnum(&t, "clusters_per_arm_needed", k_int);
    putnum(&t, "power_at_needed", pow_int);
    char title[160];
    snprintf(title, sizeof title,
             "syfosim power crt: parallel cluster-randomised trial, %s outcome (%s reference%s)",
             onames[p.outcome], p.tdist ? "noncentral t, df 2(k-1)" : "normal",
             p.outcome == SYF_POWER_COUNT ? ", Hayes & Bennett with k-1" : "");
    print_table(&t, c.csv, title);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* sw                                                                         */

/* Parse "0111,0011" ('.' excluded); rows separated by ',' or ';'. */
static int parse_design(const char *s, size_t *n_seq, size_t *n_per, double **x, int *rc)
{
    size_t rows = 0, cols = 0, cur = 0;
    for (const char *p = s;; p++) {
        if (*p == ',' || *p == ';' || *p == '\0') {
            if (cur == 0) {
                *rc = fail_input("--design: '%s' is not valid: row %zu is empty (accepted: rows "
                                 "of 0, 1 and . separated by commas, e.g. 0111,0011,0001)",
                                 s, rows + 1);
                return 0;
            }
            if (rows == 0)
                cols = cur;
            else if (cur != cols) {
                *rc = fail_input("--design: row %zu has %zu periods, row 1 has %zu (accepted: "
                                 "rows of equal length)",
                                 rows + 1, cur, cols);
                return 0;
            }
            rows++;
            cur = 0;
            if (!*p)
                break;
        } else if (*p == '0' || *p == '1' || *p == '.') {
            cur++;
        } else {
            *rc = fail_input("--design: character '%c' in '%s' is not valid (accepted: 0 "
                             "control, 1 treated, . excluded; rows separated by commas)",
                             *p, s);
            return 0;
        }
    }
    if (rows > MAX_SEQ || cols > MAX_PER) {
        *rc = fail_input("--design: %zu x %zu is too large (accepted: up to %d sequences and %d "
                         "periods)",
                         rows, cols, MAX_SEQ, MAX_PER);
        return 0;
    }
    *x = malloc(rows * cols * sizeof **x);
    if (!*x) {
        *rc = cli_fail(CMD, syf_error_set(SYF_ENOMEM, "out of memory"));
        return 0;
    }
    size_t i = 0;
    for (const char *p = s; *p; p++)
        if (*p == '0' || *p == '1' || *p == '.')
            (*x)[i++] = *p == '.' ? NAN : *p - '0';
    *n_seq = rows;
    *n_per = cols;
    return 1;
}

static void design_string(char *buf, size_t n, const syf_power_design *d)
{
    size_t used = 0;
    for (size_t s = 0; s < d->n_seq && used + d->n_per + 2 < n; s++) {
        if (s)
            buf[used++] = ';';
        for (size_t j = 0; j < d->n_per; j++) {
            double v = d->x[s * d->n_per + j];
            buf[used++] = isnan(v) ? '.' : v > 0 ? '1' : '0';
        }
    }
    buf[used] = '\0';
}

static int run_sw(const args *a)
{
    int rc = 2;
    common c;
    double *x = NULL, *cl = NULL;
    syf_power_workspace *w = NULL;
    if (!parse_common(a, &c, &rc))
        return rc;
    size_t n_seq, n_per;
    if (a->v[O_DESIGN]) {
        static const int excl[] = {O_SEQUENCES, O_PERIODS, O_EXTRA_PERIODS, O_TRANSITION};
        for (size_t k = 0; k < 4; k++)
            if (a->v[excl[k]])
                return fail_input("give --design or --%s, not both", opts[excl[k]].name);
        if (!parse_design(a->v[O_DESIGN], &n_seq, &n_per, &x, &rc))
            return rc;
    } else {
        if (!a->v[O_SEQUENCES])
            return fail_input("missing --sequences (or --design)");
        long S, T = 0, E = 0, P;
        if (!get_long(a, O_SEQUENCES, 1, MAX_SEQ, &S, &rc))
            return rc;
        if (a->v[O_TRANSITION] && !get_long(a, O_TRANSITION, 0, 100, &T, &rc))
            return rc;
        if (a->v[O_EXTRA_PERIODS] && !get_long(a, O_EXTRA_PERIODS, 0, MAX_PER, &E, &rc))
            return rc;
        P = S + 1 + T + E;
        if (a->v[O_PERIODS]) {
            long Pg;
            if (!get_long(a, O_PERIODS, S + 1 + T, MAX_PER, &Pg, &rc))
                return rc;
            if (a->v[O_EXTRA_PERIODS] && Pg != P)
                return fail_input("--periods: '%s' is not valid (accepted: %ld = sequences + 1 "
                                  "+ transition + extra periods, or leave one out)",
                                  a->v[O_PERIODS], P);
            P = Pg;
        }
        if (P > MAX_PER)
            return fail_input("--sequences: %ld sequences need %ld periods (accepted: up to %d)",
                              S, P, MAX_PER);
        n_seq = (size_t)S;
        n_per = (size_t)P;
        x = malloc(n_seq * n_per * sizeof *x);
        if (!x)
            return cli_fail(CMD, syf_error_set(SYF_ENOMEM, "out of memory"));
        int st = syf_power_sw_standard(n_seq, n_per, (size_t)T, x);
        if (st) {
            free(x);
            return cli_fail(CMD, st);
        }
    }
    cl = malloc(n_seq * sizeof *cl);
    if (!cl) {
        free(x);
        return cli_fail(CMD, syf_error_set(SYF_ENOMEM, "out of memory"));
    }
    syf_power_sw p;
    memset(&p, 0, sizeof p);
    p.d.n_seq = n_seq;
    p.d.n_per = n_per;
    p.d.x = x;
    p.d.clusters = cl;
    p.clusters_scale = 1.0;
    p.outcome = c.outcome;
    p.effect = c.effect;
    p.mu0 = c.mu0;
    p.pooled = c.pooled;
    p.alpha = c.alpha;
    p.far_tail = c.far_tail;
    p.power = c.power;
    p.cac = 1.0;
    p.iac = 0.0;
    p.icc = NAN;
    p.var_between = NAN;
    if (c.outcome == SYF_POWER_GAUSSIAN) {
        p.var_within = c.vw;
        p.var_between = c.vb;
    } else {
        p.icc = c.icc;
        p.var_between = c.vb;
    }
    int have_k = a->v[O_CLUSTERS_PER_SEQ] != NULL, equal = 1;
#define BAIL(expr)                                                                                \
    do {                                                                                          \
        rc = (expr);                                                                              \
        goto done;                                                                                \
    } while (0)
    if (have_k) {
        const char *s = a->v[O_CLUSTERS_PER_SEQ];
        size_t k = 0;
        char buf[64];
        for (const char *p0 = s;;) {
            const char *comma = strchr(p0, ',');
            size_t l = comma ? (size_t)(comma - p0) : strlen(p0);
            double v;
            snprintf(buf, sizeof buf, "%.*s", (int)(l < 63 ? l : 63), p0);
            if (l >= 63 || !parse_num(buf, &v) || !(v >= 0) || k >= n_seq)
                BAIL(fail_input("--clusters-per-sequence: '%s' is not valid (accepted: one number "
                                "> 0, or %zu numbers >= 0 separated by commas)",
                                s, n_seq));
            cl[k++] = v;
            if (!comma)
                break;
            p0 = comma + 1;
        }
        if (k == 1) {
            if (!(cl[0] > 0))
                BAIL(fail_input("--clusters-per-sequence: '%s' is not valid (accepted: > 0)", s));
            for (size_t j = 1; j < n_seq; j++)
                cl[j] = cl[0];
        } else if (k != n_seq)
            BAIL(fail_input("--clusters-per-sequence: %zu numbers for %zu sequences (accepted: "
                            "one number, or one per sequence)",
                            k, n_seq));
        for (size_t j = 1; j < n_seq; j++)
            equal &= cl[j] == cl[0];
        double tot = 0;
        for (size_t j = 0; j < n_seq; j++)
            tot += cl[j];
        if (!(tot > 0))
            BAIL(fail_input("--clusters-per-sequence: '%s' is not valid (accepted: a positive "
                            "total)",
                            s));
    } else
        for (size_t j = 0; j < n_seq; j++)
            cl[j] = 1.0;
    if (!a->v[O_CLUSTER_PERIOD_SIZE])
        BAIL(fail_input("missing --cluster-period-size"));
    if (!get_num(a, O_CLUSTER_PERIOD_SIZE, 0, INFINITY, 1, 0, &p.d.m, &rc))
        goto done;
    if (a->v[O_CAC] && !get_num(a, O_CAC, 0, 1, 1, 0, &p.cac, &rc))
        goto done;
    if (a->v[O_IAC] && !get_num(a, O_IAC, 0, 1, 0, 1, &p.iac, &rc))
        goto done;
    double txsd = 0, txcor = 0;
    if (a->v[O_TX_SD] && !get_num(a, O_TX_SD, 0, INFINITY, 0, 0, &txsd, &rc))
        goto done;
    if (a->v[O_TX_COR]) {
        if (!get_num(a, O_TX_COR, -1, 1, 0, 0, &txcor, &rc))
            goto done;
        if (txcor != 0 && !(txsd > 0))
            BAIL(fail_input("--tx-cor needs --tx-sd > 0"));
    }
    p.eta2 = txsd * txsd;
    p.rho = txcor;
    int missing = !c.have_power + !have_k + !c.have_effect;
    const char *eff_opt = c.outcome == SYF_POWER_GAUSSIAN ? "--effect"
                          : c.outcome == SYF_POWER_BINARY ? "--p1 (or --effect)"
                                                          : "--r1 (or --effect)";
    if (missing != 1)
        BAIL(fail_input("leave out exactly one of --power, --clusters-per-sequence, %s: it is "
                        "solved for (%d left out)",
                        eff_opt, missing));
    syf_power_target target = !c.have_power ? SYF_POWER_SOLVE_POWER
                              : !have_k     ? SYF_POWER_SOLVE_CLUSTERS
                                            : SYF_POWER_SOLVE_EFFECT;
    w = syf_power_alloc(n_per);
    if (!w)
        BAIL(cli_fail(CMD, syf_error_set(SYF_ENOMEM, "out of memory")));
    int st = syf_power_sw_solve(w, &p, target, c.direction);
    if (st)
        BAIL(cli_fail(CMD, st));
    double k_int = NAN, pow_int = NAN;
    if (target == SYF_POWER_SOLVE_CLUSTERS) {
        syf_power_sw q = p;
        q.clusters_scale = ceil(p.clusters_scale - 1e-9);
        if ((st = syf_power_sw_eval(w, &q)))
            BAIL(cli_fail(CMD, st));
        k_int = q.clusters_scale;
        pow_int = q.power;
    }

    out_table t = {.n = 0};
    static const char *cols[] = {
        "design",      "outcome",      "solved",     "alpha",      "power",
        "sequences",   "periods",      "clusters_per_sequence",    "clusters_total",
        "cluster_period_size",         "effect",     "p0",         "p1",
        "r0",          "r1",           "pooled",     "var_within", "var_between",
        "icc",         "cac",          "iac",        "tx_sd",      "tx_cor",
        "tau2",        "gamma2",       "zeta2",      "sigma2",     "far_tail",
        "var_effect",  "se",           "clusters_per_sequence_needed", "power_at_needed",
        "treatment"};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
        col(&t, cols[k]);
    static const char *onames[] = {"gaussian", "binary", "count"};
    put(&t, "design", "sw");
    put(&t, "outcome", "%s", onames[p.outcome]);
    t.solved = target == SYF_POWER_SOLVE_POWER      ? "power"
               : target == SYF_POWER_SOLVE_CLUSTERS ? "clusters_per_sequence"
               : p.outcome == SYF_POWER_GAUSSIAN    ? "effect"
               : p.outcome == SYF_POWER_BINARY      ? "p1"
                                                    : "r1";
    put(&t, "solved", "%s", t.solved);
    putnum(&t, "alpha", p.alpha);
    putnum(&t, "power", p.power);
    put(&t, "sequences", "%zu", n_seq);
    put(&t, "periods", "%zu", n_per);
    double tot = 0;
    for (size_t j = 0; j < n_seq; j++)
        tot += p.clusters_scale * cl[j];
    if (equal)
        putnum(&t, "clusters_per_sequence", p.clusters_scale * cl[0]);
    else {
        char buf[1024];
        size_t used = 0;
        for (size_t j = 0; j < n_seq && used + 24 < sizeof buf; j++)
            used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%.10g", j ? ";" : "",
                                     cl[j]);
        put(&t, "clusters_per_sequence", "%s", buf);
    }
    putnum(&t, "clusters_total", tot);
    putnum(&t, "cluster_period_size", p.d.m);
    putnum(&t, "effect", p.effect);
    double w_var = p.vc.sigma2 + p.vc.zeta2, b_var = p.vc.tau2 + p.vc.gamma2;
    if (p.outcome == SYF_POWER_BINARY) {
        putnum(&t, "p0", p.mu0);
        putnum(&t, "p1", p.mu0 + p.effect);
        put(&t, "pooled", "%s", p.pooled ? "yes" : "no");
    } else if (p.outcome == SYF_POWER_COUNT) {
        putnum(&t, "r0", p.mu0);
        putnum(&t, "r1", p.mu0 + p.effect);
    }
    putnum(&t, "var_within", w_var);
    putnum(&t, "var_between", b_var);
    putnum(&t, "icc", b_var / (b_var + w_var));
    putnum(&t, "cac", p.cac);
    putnum(&t, "iac", p.iac);
    putnum(&t, "tx_sd", sqrt(p.eta2));
    putnum(&t, "tx_cor", p.rho);
    putnum(&t, "tau2", p.vc.tau2);
    putnum(&t, "gamma2", p.vc.gamma2);
    putnum(&t, "zeta2", p.vc.zeta2);
    putnum(&t, "sigma2", p.vc.sigma2);
    put(&t, "far_tail", "%s", p.far_tail ? "yes" : "no");
    putnum(&t, "var_effect", p.var_theta);
    putnum(&t, "se", p.se);
    putnum(&t, "clusters_per_sequence_needed", k_int);
    putnum(&t, "power_at_needed", pow_int);
    char dbuf[1024];
    design_string(dbuf, sizeof dbuf, &p.d);
    put(&t, "treatment", "%s", dbuf);
    char title[200];
    snprintf(title, sizeof title,
             "syfosim power sw: %zu sequences x %zu periods, %s outcome (Hussey & Hughes model, "
             "GLS; normal reference)",
             n_seq, n_per, onames[p.outcome]);
    print_table(&t, c.csv, title);
    rc = 0;
done:
#undef BAIL
    syf_power_free(w);
    free(x);
    free(cl);
    return rc;
}

int syf_cmd_power(int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0)
        return rc;
    return a.kind == K_CRT ? run_crt(&a) : run_sw(&a);
}
