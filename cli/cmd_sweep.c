/* cmd_sweep.c — `syfosim sweep`: a grid of diagnoses.
 *
 * Each `--set SECTION.KEY=V1,V2,...` adds a grid dimension; the grid points
 * are every combination (the last --set varies fastest).  Every point is a
 * cell of one Monte Carlo run (montecarlo.h): replication r of every point
 * uses the same seed, so points differ only by their settings (common
 * random numbers), and the run is replication-major — replication 1 of
 * every point, then replication 2, ... — so an interrupted or partial run
 * already covers the whole grid.  Checkpoints, --resume, --shard with
 * `syfosim merge`, threads and MPI ranks work as in `diagnose`, with the
 * same byte-identity guarantees.
 *
 * Outputs: DIR/sweep.csv (one row per grid point × estimand × diagnosand,
 * the grid keys as the first columns) and DIR/sweep_replicates.csv.
 *
 * --estimators LIST (as in diagnose) fits every estimator of the list to
 * each replication of each point: cell ((p * V) + v) * K + k is estimator k
 * of point p (v = 1: its null), and the engine runs the K cells of a
 * (point, version) from one simulation.
 */
#include "cli_util.h"
#include "commands.h"
#include "syfosim/design.h"
#include "syfosim/diagnosands.h"
#include "syfosim/error.h"
#include "syfosim/montecarlo.h"
#include "syfosim/trial.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_KEYS 16
#define MAX_VALS 256
#define MAX_POINTS 100000

/* Used by cmd_merge.c. */
int syf_sweep_merge(const char *scenario_ini, const syf_mc_info *info, char **files, int nfiles,
                    const char *outdir);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: syfosim sweep SCENARIO --set SECTION.KEY=V1,V2,... [--set ...] [--reps N]\n"
            "                     [--threads T] [--seed N] [--out DIR] [--null]\n"
            "                     [--resume] [--checkpoint-secs S] [--shard I/N]\n"
            "                     [--estimators NAME[+INFERENCE],...]\n\n"
            "Diagnose the scenario's design at every point of a grid: each --set adds a\n"
            "dimension (values separated by commas, or by '|' when a value itself is a\n"
            "list); the points are every combination, the last --set varying fastest.\n"
            "N replications (default trial.reps) per point, with the same seeds at every\n"
            "point (common random numbers), run replication-major so that a partial run\n"
            "already covers the whole grid.\n\n"
            "Writes DIR/sweep.csv (default DIR out/NAME): the grid keys, then\n"
            "design,estimator,estimand,diagnosand,value,mcse,n_reps,n_failed as in\n"
            "diagnosis.csv, for every point; and DIR/sweep_replicates.csv. --null adds\n"
            "each point with pilot.effect_hr = 1 (type-I error).\n\n"
            "--estimators LIST fits several analysis models to the same replications of\n"
            "every point, as in diagnose (e.g. lmm,ols,ols+wild); sweep.csv then has the\n"
            "rows of each and sweep_replicates.csv an estimator column after estimand.\n"
            "trial.estimator and trial.inference cannot also be swept with --set.\n\n"
            "Like diagnose: checkpoints every S seconds (default 5) in DIR/.sweep.ckpt,\n"
            "SIGINT/SIGTERM saves and exits 130, --resume continues; --shard I/N runs the\n"
            "replications r with (r - 1) mod N = I - 1 and `syfosim merge` combines the\n"
            "shards; mpirun -n K splits the replications over ranks. The outputs do not\n"
            "depend on threads, ranks, shards or interruptions.\n");
}

/* ---- the grid -------------------------------------------------------------- */

typedef struct {
    int nkeys;
    char key[MAX_KEYS][128];
    int nval[MAX_KEYS];
    char *val[MAX_KEYS][MAX_VALS];
    char *buf[MAX_KEYS];
    size_t npoints;
} grid;

static void grid_free(grid *g)
{
    for (int k = 0; k < g->nkeys; k++)
        free(g->buf[k]);
    memset(g, 0, sizeof *g);
}

static int grid_parse(grid *g, char **sets, int nsets)
{
    memset(g, 0, sizeof *g);
    g->npoints = 1;
    if (nsets > MAX_KEYS)
        return syf_error_set(SYF_EINPUT, "--set: at most %d grid keys", MAX_KEYS);
    for (int k = 0; k < nsets; k++) {
        const char *eq = strchr(sets[k], '=');
        if (!eq || eq == sets[k] || (size_t)(eq - sets[k]) >= sizeof g->key[0])
            return syf_error_set(SYF_EINPUT, "--set %s: expected SECTION.KEY=V1,V2,...",
                                 sets[k]);
        snprintf(g->key[k], sizeof g->key[k], "%.*s", (int)(eq - sets[k]), sets[k]);
        if (!strcmp(g->key[k], "run.seed") || !strcmp(g->key[k], "trial.reps"))
            return syf_error_set(SYF_EINPUT,
                                 "--set %s: %s cannot be swept (every point uses the same "
                                 "seeds; use --seed and --reps)",
                                 sets[k], g->key[k]);
        for (int j = 0; j < k; j++)
            if (!strcmp(g->key[j], g->key[k]))
                return syf_error_set(SYF_EINPUT, "--set: %s given twice", g->key[k]);
        g->nkeys = k + 1;
        if (!(g->buf[k] = strdup(eq + 1)))
            return syf_error_set(SYF_ENOMEM, "out of memory");
        const char *sep = strchr(g->buf[k], '|') ? "|" : ",";
        char *save = NULL;
        for (char *t = strtok_r(g->buf[k], sep, &save); t; t = strtok_r(NULL, sep, &save)) {
            if (g->nval[k] == MAX_VALS)
                return syf_error_set(SYF_EINPUT, "--set %s: at most %d values", g->key[k],
                                     MAX_VALS);
            g->val[k][g->nval[k]++] = t;
        }
        if (!g->nval[k])
            return syf_error_set(SYF_EINPUT, "--set %s: no values", sets[k]);
        g->npoints *= (size_t)g->nval[k];
        if (g->npoints > MAX_POINTS)
            return syf_error_set(SYF_EINPUT, "--set: the grid has more than %d points",
                                 MAX_POINTS);
    }
    return SYF_OK;
}

/* Value index of each key at point p (mixed radix, last key fastest). */
static void grid_index(const grid *g, size_t p, int *ix)
{
    for (int k = g->nkeys - 1; k >= 0; k--) {
        ix[k] = (int)(p % (size_t)g->nval[k]);
        p /= (size_t)g->nval[k];
    }
}

/* The point's values as CSV fields, each followed by a comma. */
static void grid_fields(const grid *g, size_t p, char *buf, size_t n)
{
    int ix[MAX_KEYS];
    grid_index(g, p, ix);
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < g->nkeys && used < n; k++) {
        const char *v = g->val[k][ix[k]];
        int q = strpbrk(v, ",\"\n") != NULL;
        used += (size_t)snprintf(buf + used, n - used, q ? "\"%s\"," : "%s,", v);
    }
}

/* The point as "KEY=VALUE KEY=VALUE", for messages. */
static void grid_label(const grid *g, size_t p, char *buf, size_t n)
{
    int ix[MAX_KEYS];
    grid_index(g, p, ix);
    size_t used = 0;
    buf[0] = '\0';
    for (int k = 0; k < g->nkeys && used < n; k++)
        used += (size_t)snprintf(buf + used, n - used, "%s%s=%s", k ? " " : "", g->key[k],
                                 g->val[k][ix[k]]);
}

/* The --estimators list of a sweep: K = 0 without it. */
typedef struct {
    size_t K;
    char list[512], buf[512];
    char *tok[SYF_MC_MAX_GROUP];
} estimators;

/* Parse --estimators LIST; the grid must not also sweep the keys it sets. */
static int estimators_parse(estimators *es, const char *list)
{
    memset(es, 0, sizeof *es);
    snprintf(es->list, sizeof es->list, "%s", list);
    return cli_estimators_split(list, es->buf, sizeof es->buf, es->tok, SYF_MC_MAX_GROUP, &es->K);
}

/* Cells per grid point. */
static size_t cells_per_point(const estimators *es, int with_null)
{
    return (size_t)(with_null ? 2 : 1) * (es->K ? es->K : 1);
}

/* Build every cell (point, and its null with --null; with --estimators
 * each of those once per estimator) and name it in mc. */
static int grid_cells(const grid *g, const syf_scenario *base, int with_null,
                      const estimators *es, syf_scenario *store, const syf_scenario **cells,
                      syf_mc *mc)
{
    const size_t V = with_null ? 2 : 1, K = es->K ? es->K : 1;
    int st = SYF_OK;
    for (size_t p = 0; p < g->npoints && st == SYF_OK; p++) {
        int ix[MAX_KEYS];
        grid_index(g, p, ix);
        syf_scenario *s = &store[p * V * K];
        *s = *base;
        for (int k = 0; k < g->nkeys && st == SYF_OK; k++)
            st = syf_scenario_set(s, g->key[k], g->val[k][ix[k]], "--set");
        if (st == SYF_OK && (st = syf_scenario_validate(s)) != SYF_OK) {
            char pt[1024], msg[1024];
            grid_label(g, p, pt, sizeof pt);
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            st = syf_error_set(SYF_EINPUT, "grid point %zu (%s): %s", p + 1, pt, msg);
        }
        if (st == SYF_OK && s->trial.design == SYF_DESIGN_NONE)
            st = syf_error_set(SYF_EINPUT, "grid point %zu: trial.design: no trial design to "
                                           "diagnose",
                               p + 1);
        for (size_t k = 1; st == SYF_OK && k < K; k++)
            s[k] = s[0];
        for (size_t k = 0; st == SYF_OK && es->K && k < K; k++)
            if ((st = cli_estimator_apply(es->tok[k], &s[k])) != SYF_OK) {
                char pt[1024], msg[1024];
                grid_label(g, p, pt, sizeof pt);
                snprintf(msg, sizeof msg, "%s", syf_error_message());
                st = syf_error_set(SYF_EINPUT, "grid point %zu (%s): %s", p + 1, pt, msg);
            }
        for (size_t v = 0; v < V && st == SYF_OK; v++)
            for (size_t k = 0; k < K && st == SYF_OK; k++) {
                const size_t c = (p * V + v) * K + k;
                if (v) {
                    store[c] = s[k];
                    store[c].pilot.effect_hr = 1.0;
                }
                cells[c] = &store[c];
                char lab[64];
                snprintf(lab, sizeof lab, "p%zu%s%s%s", p + 1, v ? ".null" : "", es->K ? ":" : "",
                         es->K ? es->tok[k] : "");
                st = syf_mc_set_cell(mc, c, syf_scenario_hash(&store[c]), lab);
            }
    }
    return st;
}

/* "null=0|1", with --estimators "estimators=LIST", then each --set,
 * separated by tabs: the run's options. */
static int grid_args(char **sets, int nsets, int with_null, const estimators *es, char *buf,
                     size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "null=%d", with_null);
    if (es->K)
        used += (size_t)snprintf(buf + used, n - used, "\testimators=%s", es->list);
    for (int k = 0; k < nsets && used < n; k++) {
        if (strpbrk(sets[k], "\t\r\n"))
            return syf_error_set(SYF_EINPUT, "--set %s: tabs and newlines are not allowed",
                                 sets[k]);
        used += (size_t)snprintf(buf + used, n - used, "\t%s", sets[k]);
    }
    if (used >= n)
        return syf_error_set(SYF_EINPUT, "--set: the grid definition is too long");
    return SYF_OK;
}

/* ---- outputs ------------------------------------------------------------------- */

/* Write syf_diagnosis_write_csv's rows with a prefix on each line. */
static int write_prefixed(FILE *f, const char *prefix, const syf_scenario *s, const char *estimand,
                          const syf_diagnosis *d)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    syf_diagnosis_write_csv(m, 0, syf_design_name(s->trial.design), syf_trial_estimator_name(s),
                            estimand, d);
    fclose(m);
    for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        fprintf(f, "%s%.*s\n", prefix, nl ? (int)(nl - line) : (int)strlen(line), line);
    }
    free(buf);
    return SYF_OK;
}

static int sweep_write(const char *outdir, const syf_scenario *base, uint64_t seed, const grid *g,
                       const syf_mc *mc, const syf_scenario *const *cells, int with_null,
                       const estimators *es)
{
    cli_outfile os = {0}, orp = {0};
    int os_open = 0, orp_open = 0, st;
    const size_t V = with_null ? 2 : 1, K = es->K ? es->K : 1;
    const long reps = (long)syf_mc_reps(mc);
    if ((st = cli_mkdirs(outdir)) != SYF_OK)
        goto done;
    if ((st = cli_out_open(&os, outdir, "sweep.csv")) != SYF_OK)
        goto done;
    os_open = 1;
    if ((st = cli_out_open(&orp, outdir, "sweep_replicates.csv")) != SYF_OK)
        goto done;
    orp_open = 1;
    char what[700];
    snprintf(what, sizeof what, "sweep.csv reps=%ld points=%zu%s%s", reps, g->npoints,
             es->K ? " estimators=" : "", es->list);
    cli_provenance(os.f, base, seed, what);
    snprintf(what, sizeof what, "sweep_replicates.csv reps=%ld points=%zu%s%s", reps, g->npoints,
             es->K ? " estimators=" : "", es->list);
    cli_provenance(orp.f, base, seed, what);
    for (int k = 0; k < g->nkeys; k++) {
        fprintf(os.f, "%s,", g->key[k]);
        fprintf(orp.f, "%s,", g->key[k]);
    }
    fprintf(os.f, "design,estimator,estimand,diagnosand,value,mcse,n_reps,n_failed\n");
    fprintf(orp.f, "estimand,%sreplication,status,estimate,std_error,df,p_value,conf_low,"
                   "conf_high,estimand_value,n,clusters,reason\n",
            es->K ? "estimator," : "");
    printf("syfosim sweep: scenario '%s', %zu grid points x %ld replications (seed %" PRIu64
           ") -> %s/sweep.csv\n",
           base->name, g->npoints, reps, seed, outdir);
    for (size_t p = 0; p < g->npoints; p++) {
        char fields[4096], prefix[4200], label[4096];
        grid_fields(g, p, fields, sizeof fields);
        grid_label(g, p, label, sizeof label);
        for (size_t v = 0; v < V; v++)
            for (size_t k = 0; k < K; k++) {
                const size_t c = (p * V + v) * K + k;
                const char *estimand = v ? "null" : syf_trial_estimand_name(cells[c]);
                syf_diagnosis d;
                if ((st = syf_mc_diagnose(mc, c, cells[c]->trial.alpha, &d)) != SYF_OK)
                    goto done;
                if ((st = write_prefixed(os.f, fields, cells[c], estimand, &d)) != SYF_OK)
                    goto done;
                snprintf(prefix, sizeof prefix, "%s%s%s%s", fields, estimand, es->K ? "," : "",
                         es->K ? syf_trial_estimator_name(cells[c]) : "");
                if ((st = syf_mc_write_replicates(orp.f, mc, c, prefix)) != SYF_OK)
                    goto done;
                char who[4200];
                snprintf(who, sizeof who, "%s%s%s", label, es->K ? " " : "",
                         es->K ? es->tok[k] : "");
                if (!v)
                    printf("  %s: mean estimand %.3f, bias %.3f, power %.3f (MCSE %.3f), "
                           "coverage %.3f; %zu failed\n",
                           who, d.mean_estimand.value, d.bias.value, d.power.value, d.power.mcse,
                           d.coverage.value, d.n_failed);
                else
                    printf("  %s: null: type-I error %.3f (MCSE %.3f)\n", who, d.power.value,
                           d.power.mcse);
            }
    }
    if ((st = cli_out_commit(&os)) != SYF_OK)
        goto done;
    os_open = 0;
    if ((st = cli_out_commit(&orp)) != SYF_OK)
        goto done;
    orp_open = 0;
done:
    if (os_open)
        cli_out_abort(&os);
    if (orp_open)
        cli_out_abort(&orp);
    return st;
}

/* ---- merge ------------------------------------------------------------------------ */

int syf_sweep_merge(const char *scenario_ini, const syf_mc_info *info, char **files, int nfiles,
                    const char *outdir)
{
    char args[sizeof info->args];
    char *sets[MAX_KEYS + 1];
    int nsets = 0, with_null = 0;
    estimators es;
    memset(&es, 0, sizeof es);
    const char *est_list = NULL;
    snprintf(args, sizeof args, "%s", info->args);
    char *save = NULL;
    for (char *t = strtok_r(args, "\t", &save); t; t = strtok_r(NULL, "\t", &save)) {
        if (!strncmp(t, "null=", 5))
            with_null = atoi(t + 5);
        else if (!strncmp(t, "estimators=", 11))
            est_list = t + 11;
        else if (nsets <= MAX_KEYS)
            sets[nsets++] = t;
    }
    grid g;
    syf_scenario *base = malloc(sizeof *base), *store = NULL;
    const syf_scenario **cells = NULL;
    syf_mc *mc = NULL;
    int st = base ? grid_parse(&g, sets, nsets) : syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK && est_list)
        st = estimators_parse(&es, est_list);
    const size_t V = cells_per_point(&es, with_null);
    if (st == SYF_OK)
        st = syf_scenario_load(scenario_ini, base);
    if (st == SYF_OK && g.npoints * V != info->n_cells)
        st = syf_error_set(SYF_EINPUT, "%s: %zu cells, the grid has %zu", files[0], info->n_cells,
                           g.npoints * V);
    if (st == SYF_OK) {
        store = calloc(g.npoints * V, sizeof *store);
        cells = calloc(g.npoints * V, sizeof *cells);
        mc = syf_mc_alloc("sweep", g.npoints * V, info->reps, info->seed);
        if (!store || !cells || !mc)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
    }
    if (st == SYF_OK)
        st = grid_cells(&g, base, with_null, &es, store, cells, mc);
    if (st == SYF_OK)
        st = syf_mc_set_args(mc, info->args);
    for (int k = 0; st == SYF_OK && k < nfiles; k++)
        st = syf_mc_merge(mc, files[k]);
    if (st == SYF_OK)
        st = syf_mc_check_complete(mc);
    if (st == SYF_OK)
        st = sweep_write(outdir, base, info->seed, &g, mc, cells, with_null, &es);
    syf_mc_free(mc);
    free(cells);
    free(store);
    free(base);
    if (base)
        grid_free(&g);
    return st;
}

/* ---- the command --------------------------------------------------------------------- */


int syf_cmd_sweep(int argc, char **argv)
{
    const char *path = NULL, *outdir = NULL, *shard = NULL, *est_list = NULL;
    char *sets[MAX_KEYS + 1];
    int nsets = 0, with_null = 0, resume = 0;
    long seed = -1, reps = 0, threads = 0;
    double ckpt_secs = 5;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--seed") && k + 1 < argc) {
            if (!cli_parse_long("sweep", a, argv[++k], 0, 2147483647L, &seed))
                return 2;
        } else if (!strcmp(a, "--reps") && k + 1 < argc) {
            if (!cli_parse_long("sweep", a, argv[++k], 2, 10000000L, &reps))
                return 2;
        } else if (!strcmp(a, "--threads") && k + 1 < argc) {
            if (!cli_parse_long("sweep", a, argv[++k], 1, 1024, &threads))
                return 2;
        } else if (!strcmp(a, "--out") && k + 1 < argc) {
            outdir = argv[++k];
        } else if (!strcmp(a, "--null")) {
            with_null = 1;
        } else if (!strcmp(a, "--resume")) {
            resume = 1;
        } else if (!strcmp(a, "--checkpoint-secs") && k + 1 < argc) {
            char *end;
            errno = 0;
            ckpt_secs = strtod(argv[++k], &end);
            if (!*argv[k] || *end || errno || !(ckpt_secs >= 0 && ckpt_secs <= 1e6)) {
                fprintf(stderr, "syfosim sweep: --checkpoint-secs: '%s' is not valid (accepted: "
                                "a number from 0 to 1e+06)\n",
                        argv[k]);
                return 2;
            }
        } else if (!strcmp(a, "--shard") && k + 1 < argc) {
            shard = argv[++k];
        } else if (!strcmp(a, "--estimators") && k + 1 < argc) {
            est_list = argv[++k];
        } else if (!strcmp(a, "--set") && k + 1 < argc) {
            if (nsets == MAX_KEYS) {
                fprintf(stderr, "syfosim sweep: --set: at most %d grid keys\n", MAX_KEYS);
                return 2;
            }
            sets[nsets++] = argv[++k];
        } else if (!path && a[0] != '-') {
            path = a;
        } else {
            fprintf(stderr, "syfosim sweep: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!path || !nsets) {
        fprintf(stderr, "syfosim sweep: expected a scenario file and at least one --set "
                        "SECTION.KEY=V1,V2,... (see --help)\n");
        return 2;
    }
    unsigned shard_i = 1, shard_n = 1;
    char tail;
    if (shard && (sscanf(shard, "%u/%u%c", &shard_i, &shard_n, &tail) != 2 || shard_n < 1 ||
                  shard_i < 1 || shard_i > shard_n || shard_n > 100000)) {
        fprintf(stderr, "syfosim sweep: --shard: '%s' is not valid (accepted: I/N with 1 <= I "
                        "<= N <= 100000)\n",
                shard);
        return 2;
    }
    grid g;
    syf_scenario *base = malloc(sizeof *base), *store = NULL;
    const syf_scenario **cells = NULL;
    syf_mc *mc = NULL;
    char args[4096];
    estimators es;
    memset(&es, 0, sizeof es);
    int st = base ? grid_parse(&g, sets, nsets) : syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK && est_list)
        st = estimators_parse(&es, est_list);
    for (int k = 0; st == SYF_OK && es.K && k < g.nkeys; k++)
        if (!strcmp(g.key[k], "trial.estimator") || !strcmp(g.key[k], "trial.inference"))
            st = syf_error_set(SYF_EINPUT, "--set %s: cannot be swept together with --estimators "
                                           "(list the analyses in --estimators)",
                               g.key[k]);
    if (st == SYF_OK)
        st = grid_args(sets, nsets, with_null, &es, args, sizeof args);
    if (st == SYF_OK)
        st = cli_load_scenario(path, NULL, 0, base);
    const size_t V = cells_per_point(&es, with_null);
    uint64_t useed = 0;
    if (st == SYF_OK) {
        if (!reps)
            reps = base->trial.reps < 2 ? 2 : base->trial.reps;
        useed = seed >= 0 ? (uint64_t)seed : (uint64_t)base->run.seed;
        store = calloc(g.npoints * V, sizeof *store);
        cells = calloc(g.npoints * V, sizeof *cells);
        mc = syf_mc_alloc("sweep", g.npoints * V, (uint64_t)reps, useed);
        if (!store || !cells || !mc)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
    }
    if (st == SYF_OK)
        st = grid_cells(&g, base, with_null, &es, store, cells, mc);
    if (st == SYF_OK)
        st = syf_mc_set_args(mc, args);
    if (st == SYF_OK)
        st = syf_mc_set_shard(mc, shard_i, shard_n);
    char dirbuf[1024];
    if (st == SYF_OK && !outdir) {
        snprintf(dirbuf, sizeof dirbuf, "out/%s", base->name);
        outdir = dirbuf;
    }
    int rank = 0, size = 1, interrupted = 0;
    if (st == SYF_OK)
        st = syf_mc_mpi_begin(&rank, &size);
    syf_mc_drive_opts dr = {.dir = outdir,
                            .name = "sweep",
                            .resume = resume,
                            .run = {.threads = (int)threads,
                                    .checkpoint_secs = ckpt_secs,
                                    .progress = rank == 0 && isatty(STDERR_FILENO),
                                    .stop = &cli_stop_signal,
                                    .ctx = (void *)cells,
                                    .group = es.K}};
    if (st == SYF_OK) {
        syf_mc_set_rank(mc, rank, size);
        st = cli_mkdirs(outdir);
    }
    if (st == SYF_OK) {
        cli_stop_signal = 0;
        cli_catch_signals(1);
        st = syf_mc_drive(mc, &dr, &interrupted);
        cli_catch_signals(0);
    }
    if (st == SYF_OK && !interrupted && rank == 0) {
        if (shard) {
            char full[1300];
            snprintf(full, sizeof full, "%s/shard-%u-of-%u.mcr", outdir, shard_i, shard_n);
            cli_outfile os = {0};
            if ((st = cli_out_open(&os, outdir, "scenario.ini")) == SYF_OK) {
                syf_scenario_write(base, os.f, 0);
                st = cli_out_commit(&os);
            }
            if (st == SYF_OK)
                st = syf_mc_save(mc, full);
            if (st == SYF_OK)
                printf("syfosim sweep: shard %u/%u of '%s': %zu grid points x %zu of %ld "
                       "replications (seed %" PRIu64 ") -> %s\n",
                       shard_i, shard_n, base->name, g.npoints,
                       syf_mc_n_done(mc, 0) / syf_mc_n_cells(mc), reps, useed, full);
        } else
            st = sweep_write(outdir, base, useed, &g, mc, cells, with_null, &es);
        if (st == SYF_OK)
            syf_mc_remove_checkpoints(mc, &dr);
    }
    syf_mc_mpi_end();
    syf_mc_free(mc);
    free(cells);
    free(store);
    free(base);
    if (base)
        grid_free(&g);
    if (interrupted)
        return 130;
    return st == SYF_OK ? 0 : cli_fail("sweep", st);
}
