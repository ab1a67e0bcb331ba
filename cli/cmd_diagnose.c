/* cmd_diagnose.c — `syfosim diagnose`: Monte Carlo diagnosis of the
 * scenario's design and estimator, with checkpoints, shards, MPI ranks and
 * the MDES search.
 *
 * Replication r (1..R) draws its own population, assignment and spells
 * from streams keyed by (seed, r), simulates each participant under both
 * arms (common random numbers) to get the trial's SATE, and fits the
 * estimator.  The Monte Carlo engine (analysis/montecarlo.c) runs the
 * replications in parallel (OpenMP threads, MPI ranks, --shard) and stores
 * each result at its index; the diagnosands are computed serially
 * afterwards, so diagnosis.csv is byte-identical for any number of threads,
 * ranks or shards, and after an interrupted run is resumed.  Replication 0
 * is the one `syfosim run` shows.  `syfosim merge` (cmd_merge.c) calls
 * syf_diagnose_merge() below to turn shard results into the same outputs.
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
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SETS 64

/* Used by cmd_merge.c. */
int syf_diagnose_merge(const char *scenario_ini, const syf_mc_info *info, char **files,
                       int nfiles, const char *outdir);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: syfosim diagnose SCENARIO [--reps N] [--threads T] [--seed N] [--out DIR]\n"
            "                        [--null] [--set SECTION.KEY=VALUE ...]\n"
            "                        [--resume] [--checkpoint-secs S] [--shard I/N]\n"
            "       syfosim diagnose SCENARIO --mdes [--power P] [--mcse-tol T] [--mdes-max HR] ...\n"
            "       syfosim diagnose SCENARIO --clusters [--power P] [--mcse-tol T] [--clusters-max K]\n"
            "       syfosim diagnose SCENARIO --replay R [--seed N] [--set ...]\n\n"
            "Run N replications (default trial.reps) of the scenario's trial and write\n"
            "DIR/diagnosis.csv (default DIR out/NAME): mean estimand (the trial's sample\n"
            "average treatment effect, from the simulator's counterfactuals), mean estimate,\n"
            "bias, SD, RMSE, power, coverage, type-S rate, CI width and model SE, each with\n"
            "its Monte Carlo SE, and the number of failed replications; and\n"
            "DIR/replicates.csv, one row per replication (failed ones included, with the\n"
            "reason). --null adds the same design with pilot.effect_hr = 1 on the same\n"
            "seeds (type-I error). The output does not depend on --threads, on MPI ranks\n"
            "(mpirun -n K syfosim diagnose ...) or on --shard.\n\n"
            "Checkpoints: every S seconds (default 5) the finished replications are saved\n"
            "to DIR/.diagnose.ckpt; SIGINT or SIGTERM saves them and exits 130. --resume\n"
            "loads the checkpoint (it must be of the same scenario, seed, reps and options,\n"
            "else exit 2) and runs only the missing replications; the outputs are then\n"
            "byte-identical to an uninterrupted run.\n\n"
            "--shard I/N runs only the replications r with (r - 1) mod N = I - 1 (round\n"
            "robin, so every shard covers the whole range) and writes DIR/shard-I-of-N.mcr\n"
            "and DIR/scenario.ini; `syfosim merge DIR... --out DIR` combines the shards\n"
            "into the diagnosis.csv and replicates.csv of a single run.\n\n"
            "--replay R reruns replication R alone (e.g. a failed one) and prints it.\n\n"
            "--mdes searches the minimum detectable effect on the hazard-ratio scale:\n"
            "bisection on pilot.effect_hr over (1, HR] (default HR 2; > 1 = faster return\n"
            "to work), on the geometric mean of the bracket, simulating power with the\n"
            "same seeds at every step, until the power at the bracket's ends differs by at\n"
            "most T (--mcse-tol; default the Monte Carlo SE of power at the target,\n"
            "sqrt(P(1-P)/N); given T without --reps, N = ceil(P(1-P)/T^2)). It reports the\n"
            "upper end (the smallest effect_hr simulated with power >= P, default 0.8) and\n"
            "the SATE there in outcome units (paid days), and writes DIR/mdes.csv.\n\n"
            "--clusters searches the smallest number of offices (world.offices, integer\n"
            "bisection over [4, K], default K 4 x world.offices) with power >= P at the\n"
            "scenario's effect, population.persons scaled to keep persons per office, with\n"
            "the same stopping rule; writes DIR/clusters.csv. Searches keep no checkpoint,\n"
            "and count failed replications as not significant (failure-aware power).\n\n"
            "A progress bar with ETA is drawn on stderr when it is a terminal.\n");
}

/* ---- shared by diagnose and merge --------------------------------------- */

static const char *design_label(const syf_scenario *sc)
{
    return syf_design_name(sc->trial.design);
}

static void estimator_label(const syf_scenario *sc, char *buf, size_t n)
{
    snprintf(buf, n, "%s", syf_trial_estimator_name(sc));
}

/* The cells of a diagnosis: the design, and with --null the same design
 * with pilot.effect_hr = 1.  sc0 must outlive the run. */
static int diagnose_cells(syf_mc *mc, const syf_scenario *sc, syf_scenario *sc0, int with_null,
                          const syf_scenario *cells[2])
{
    int st;
    cells[0] = sc;
    if ((st = syf_mc_set_cell(mc, 0, syf_scenario_hash(sc), syf_trial_estimand_name(sc))) != SYF_OK)
        return st;
    if (with_null) {
        *sc0 = *sc;
        sc0->pilot.effect_hr = 1.0;
        cells[1] = sc0;
        if ((st = syf_mc_set_cell(mc, 1, syf_scenario_hash(sc0), "null")) != SYF_OK)
            return st;
    }
    return syf_mc_set_args(mc, with_null ? "null=1" : "null=0");
}

/* diagnosis.csv and replicates.csv from a complete run, and the summary on
 * stdout. */
static int write_outputs(const char *outdir, const syf_scenario *sc, uint64_t seed,
                         const syf_mc *mc, int with_null)
{
    cli_outfile od = {0}, orp = {0};
    int od_open = 0, orp_open = 0, st;
    const long reps = (long)syf_mc_reps(mc);
    if ((st = cli_mkdirs(outdir)) != SYF_OK)
        goto done;
    if ((st = cli_out_open(&od, outdir, "diagnosis.csv")) != SYF_OK)
        goto done;
    od_open = 1;
    if ((st = cli_out_open(&orp, outdir, "replicates.csv")) != SYF_OK)
        goto done;
    orp_open = 1;
    char what[128];
    snprintf(what, sizeof what, "diagnosis.csv reps=%ld", reps);
    cli_provenance(od.f, sc, seed, what);
    snprintf(what, sizeof what, "replicates.csv reps=%ld", reps);
    cli_provenance(orp.f, sc, seed, what);
    fprintf(orp.f, "estimand,replication,status,estimate,std_error,df,p_value,conf_low,conf_high,"
                   "estimand_value,n,clusters,reason\n");

    char estimator[64];
    estimator_label(sc, estimator, sizeof estimator);
    syf_diagnosis d;
    if ((st = syf_mc_diagnose(mc, 0, sc->trial.alpha, &d)) != SYF_OK)
        goto done;
    syf_diagnosis_write_csv(od.f, 1, design_label(sc), estimator, syf_trial_estimand_name(sc), &d);
    syf_mc_write_replicates(orp.f, mc, 0, syf_trial_estimand_name(sc));
    printf("syfosim diagnose: scenario '%s', %ld replications (seed %" PRIu64
           ") -> %s/diagnosis.csv\n",
           sc->name, reps, seed, outdir);
    printf("  mean estimand %.3f, mean estimate %.3f, bias %.3f (MCSE %.3f), SD %.3f, RMSE %.3f\n"
           "  power %.3f (MCSE %.3f), coverage %.3f (MCSE %.3f); %zu failed\n",
           d.mean_estimand.value, d.mean_estimate.value, d.bias.value, d.bias.mcse, d.sd.value,
           d.rmse.value, d.power.value, d.power.mcse, d.coverage.value, d.coverage.mcse,
           d.n_failed);
    if (with_null) {
        syf_diagnosis d0;
        if ((st = syf_mc_diagnose(mc, 1, sc->trial.alpha, &d0)) != SYF_OK)
            goto done;
        syf_diagnosis_write_csv(od.f, 0, design_label(sc), estimator, "null", &d0);
        syf_mc_write_replicates(orp.f, mc, 1, "null");
        printf("  null (effect_hr = 1): type-I error %.3f (MCSE %.3f), coverage %.3f\n",
               d0.power.value, d0.power.mcse, d0.coverage.value);
    }
    for (size_t c = 0; c < syf_mc_n_cells(mc); c++)
        for (uint64_t r = 1; r <= syf_mc_reps(mc); r++) {
            const syf_mc_rep *x = syf_mc_get(mc, c, r);
            if (x && x->est.status != SYF_OK) {
                fprintf(stderr,
                        "syfosim diagnose: replication %" PRIu64 " failed: %s (replay it with "
                        "--replay %" PRIu64 ")\n",
                        r, x->reason, r);
                goto reported;
            }
        }
reported:
    if ((st = cli_out_commit(&od)) != SYF_OK)
        goto done;
    od_open = 0;
    if ((st = cli_out_commit(&orp)) != SYF_OK)
        goto done;
    orp_open = 0;
done:
    if (od_open)
        cli_out_abort(&od);
    if (orp_open)
        cli_out_abort(&orp);
    return st;
}

int syf_diagnose_merge(const char *scenario_ini, const syf_mc_info *info, char **files,
                       int nfiles, const char *outdir)
{
    syf_scenario *sc = malloc(sizeof *sc), *sc0 = malloc(sizeof *sc0);
    syf_mc *mc = NULL;
    int st = SYF_OK;
    const int with_null = strstr(info->args, "null=1") != NULL;
    if (!sc || !sc0)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK)
        st = syf_scenario_load(scenario_ini, sc);
    if (st == SYF_OK && !(mc = syf_mc_alloc("diagnose", with_null ? 2 : 1, info->reps,
                                            info->seed)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    const syf_scenario *cells[2];
    if (st == SYF_OK)
        st = diagnose_cells(mc, sc, sc0, with_null, cells);
    for (int k = 0; st == SYF_OK && k < nfiles; k++)
        st = syf_mc_merge(mc, files[k]);
    if (st == SYF_OK)
        st = syf_mc_check_complete(mc);
    if (st == SYF_OK)
        st = write_outputs(outdir, sc, info->seed, mc, with_null);
    syf_mc_free(mc);
    free(sc);
    free(sc0);
    return st;
}

/* ---- signals -------------------------------------------------------------- */


/* ---- MDES and number-of-clusters search ------------------------------------ */

typedef struct {
    double x; /* effect_hr, or the number of offices */
    double power, power_mcse, estimand, estimand_mcse;
    size_t n_failed;
} search_point;

typedef struct {
    const syf_scenario *sc;
    uint64_t seed;
    long reps;
    int threads, rank, size, progress;
    int clusters; /* 0: search effect_hr; 1: search world.offices */
} search_ctx;

/* The scenario at x: effect_hr = x, or x offices with population.persons
 * scaled to keep the number of persons per office. */
static int scenario_at(const search_ctx *c, double x, syf_scenario *s)
{
    *s = *c->sc;
    if (!c->clusters) {
        s->pilot.effect_hr = x;
        return SYF_OK;
    }
    s->world.offices = lround(x);
    s->population.persons =
        lround((double)c->sc->population.persons * x / (double)c->sc->world.offices);
    int st = syf_scenario_validate(s);
    if (st != SYF_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", syf_error_message());
        st = syf_error_set(SYF_EINPUT, "--clusters: at %ld offices: %s", s->world.offices, msg);
    }
    return st;
}

/* Simulated power at x, over replications 1..reps (the same seeds at every
 * x), on every thread and rank. */
static int power_at(const search_ctx *c, double x, int step, search_point *pt)
{
    syf_scenario *s = malloc(sizeof *s);
    if (!s)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    int st = scenario_at(c, x, s);
    syf_mc *mc = NULL;
    if (st == SYF_OK && !(mc = syf_mc_alloc("search", 1, (uint64_t)c->reps, c->seed)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK)
        st = syf_mc_set_cell(mc, 0, syf_scenario_hash(s), "search");
    char label[96];
    snprintf(label, sizeof label, "%s step %d, %s %.4g", c->clusters ? "clusters" : "mdes", step,
             c->clusters ? "offices" : "effect_hr", x);
    const syf_scenario *cells[1] = {s};
    syf_mc_opts o = {.threads = c->threads, .progress = c->progress, .progress_label = label,
                     .stop = &cli_stop_signal, .ctx = (void *)cells};
    if (st == SYF_OK) {
        syf_mc_set_rank(mc, c->rank, c->size);
        st = syf_mc_run(mc, &o);
    }
    long bad = st != SYF_OK || (mc && syf_mc_interrupted(mc));
    syf_mc_mpi_allsum(&bad);
    if (st == SYF_OK && bad)
        st = cli_stop_signal ? syf_error_set(SYF_ERUNTIME, "interrupted (searches keep no checkpoint)")
                    : syf_error_set(SYF_ERUNTIME, "a replication failed on another rank");
    if (st == SYF_OK)
        st = syf_mc_gather(mc);
    syf_diagnosis d;
    if (st == SYF_OK)
        st = syf_mc_diagnose(mc, 0, s->trial.alpha, &d);
    if (st == SYF_OK) {
        /* Failure-aware power: a failed replication detects nothing. */
        double p = (double)d.n_significant / (double)c->reps;
        *pt = (search_point){x, p, sqrt(p * (1 - p) / (double)c->reps), d.mean_estimand.value,
                             d.mean_estimand.mcse, d.n_failed};
    }
    syf_mc_free(mc);
    free(s);
    return st;
}

/* Bisection for the smallest x in (lo, hi] with simulated power >= target.
 * Effect: x = effect_hr on (1, hi], midpoints geometric, the lower end is
 * the null (power alpha, not simulated).  Clusters: integer offices on
 * [lo, hi], the lower end simulated too.  Stops when the power at the two
 * ends differs by at most tol (they are then indistinguishable at the
 * Monte Carlo precision of the runs), or the bracket cannot shrink. */
static int run_search(const search_ctx *c, double target, double tol, double lo_x, double hi_x,
                      const char *outdir)
{
    enum { MAX_STEPS = 60 };
    search_point pts[MAX_STEPS], lo, hi;
    int n = 0, st;
    const char *what_x = c->clusters ? "world.offices" : "pilot.effect_hr";
    if (!(tol > 0))
        tol = sqrt(target * (1 - target) / (double)c->reps);
    if ((st = power_at(c, hi_x, n, &pts[n])) != SYF_OK)
        return st;
    hi = pts[n++];
    if (!(hi.power >= target))
        return syf_error_set(SYF_EINPUT,
                             "power at %s = %g is %.3f < %g: raise %s or enlarge the trial",
                             what_x, hi_x, hi.power, target,
                             c->clusters ? "--clusters-max" : "--mdes-max");
    if (c->clusters) {
        if ((st = power_at(c, lo_x, n, &pts[n])) != SYF_OK)
            return st;
        lo = pts[n++];
        if (lo.power >= target)
            hi = lo;
    } else
        lo = (search_point){1.0, c->sc->trial.alpha, NAN, 0.0, NAN, 0};
    while (n < MAX_STEPS && hi.x > lo.x && hi.power - lo.power > tol) {
        double mid = c->clusters ? floor((lo.x + hi.x) / 2) : sqrt(lo.x * hi.x);
        if (c->clusters ? mid <= lo.x : hi.x / lo.x - 1 < 1e-4)
            break;
        if ((st = power_at(c, mid, n, &pts[n])) != SYF_OK)
            return st;
        if (pts[n].power >= target)
            hi = pts[n];
        else
            lo = pts[n];
        n++;
    }
    if (c->rank != 0)
        return SYF_OK;
    const char *name = c->clusters ? "clusters.csv" : "mdes.csv";
    cli_outfile of = {0};
    if ((st = cli_mkdirs(outdir)) != SYF_OK || (st = cli_out_open(&of, outdir, name)) != SYF_OK)
        return st;
    char what[160];
    snprintf(what, sizeof what, "%s reps=%ld power=%g tol=%.6g", name, c->reps, target, tol);
    cli_provenance(of.f, c->sc, c->seed, what);
    fprintf(of.f, "step,%s,power,power_mcse,mean_estimand,mean_estimand_mcse,n_reps,n_failed\n",
            what_x);
    for (int k = 0; k <= n; k++) {
        const search_point *p = k < n ? &pts[k] : &hi;
        if (k < n)
            fprintf(of.f, "%d,", k);
        else
            fprintf(of.f, "%s,", c->clusters ? "min_clusters" : "mdes");
        fprintf(of.f, "%.10g,%.10g,%.10g,%.10g,%.10g,%ld,%zu\n", p->x, p->power, p->power_mcse,
                p->estimand, p->estimand_mcse, c->reps, p->n_failed);
    }
    if ((st = cli_out_commit(&of)) != SYF_OK)
        return st;
    printf("syfosim diagnose --%s: scenario '%s', %ld replications per step (seed %" PRIu64
           "), %d steps -> %s/%s\n",
           c->clusters ? "clusters" : "mdes", c->sc->name, c->reps, c->seed, n, outdir, name);
    if (c->clusters)
        printf("  smallest number of offices with power >= %.2f: %.0f (%ld persons; power %.3f, "
               "MCSE %.3f; %.0f offices: power %.3f; tolerance %.3f)\n",
               target, hi.x,
               lround((double)c->sc->population.persons * hi.x / (double)c->sc->world.offices),
               hi.power, hi.power_mcse, lo.x, lo.power, tol);
    else
        printf("  MDES at power %.2f: effect_hr %.4f (bracket %.4f to %.4f; power %.3f to %.3f, "
               "tolerance %.3f)\n",
               target, hi.x, lo.x, hi.x, lo.power, hi.power, tol);
    printf("  SATE there: %.3f (MCSE %.3f) in outcome units (paid days for trial.outcome = "
           "paid_days)\n",
           hi.estimand, hi.estimand_mcse);
    return SYF_OK;
}

/* ---- the command -------------------------------------------------------------- */

static int parse_shard(const char *s, unsigned *i, unsigned *n)
{
    char tail;
    if (!s || sscanf(s, "%u/%u%c", i, n, &tail) != 2 || *n < 1 || *i < 1 || *i > *n ||
        *n > 100000) {
        fprintf(stderr, "syfosim diagnose: --shard: '%s' is not valid (accepted: I/N with 1 <= "
                        "I <= N <= 100000)\n",
                s ? s : "");
        return 0;
    }
    return 1;
}

static int parse_real(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : NAN;
    if (!s || !*s || *end || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "syfosim diagnose: %s: '%s' is not valid (accepted: a number from %g to %g)\n",
                opt, s ? s : "", lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

static int replay(const syf_scenario *sc, uint64_t seed, long rep)
{
    syf_trial_estimate e;
    memset(&e, 0, sizeof e);
    syf_error_clear();
    int st = syf_trial_replicate(sc, seed, (uint64_t)rep, &e);
    if (st == SYF_ENOMEM)
        return cli_fail("diagnose", st);
    printf("syfosim diagnose: replication %ld of '%s' (seed %" PRIu64 "): %s\n", rep, sc->name,
           seed, st == SYF_OK && e.status == SYF_OK ? "ok" : "failed");
    if (st != SYF_OK || e.status != SYF_OK)
        printf("  reason: %s\n", syf_error_message());
    else
        printf("  estimate %.10g, std_error %.10g, df %.10g, p_value %.10g, CI [%.10g, %.10g]\n",
               e.estimate, e.std_error, e.df, e.p_value, e.conf_low, e.conf_high);
    printf("  estimand (SATE) %.10g, n %zu, clusters %zu\n", e.estimand, e.n, e.clusters);
    return 0;
}

int syf_cmd_diagnose(int argc, char **argv)
{
    const char *path = NULL, *outdir = NULL, *shard = NULL;
    char *sets[MAX_SETS];
    int nsets = 0, with_null = 0, resume = 0, mdes = 0, clusters = 0;
    long seed = -1, reps = 0, threads = 0, replay_rep = 0;
    double ckpt_secs = 5, target = 0.8, tol = 0, hr_max = 2, cl_max = 0;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--seed") && k + 1 < argc) {
            if (!cli_parse_long("diagnose", a, argv[++k], 0, 2147483647L, &seed))
                return 2;
        } else if (!strcmp(a, "--reps") && k + 1 < argc) {
            if (!cli_parse_long("diagnose", a, argv[++k], 2, 10000000L, &reps))
                return 2;
        } else if (!strcmp(a, "--threads") && k + 1 < argc) {
            if (!cli_parse_long("diagnose", a, argv[++k], 1, 1024, &threads))
                return 2;
        } else if (!strcmp(a, "--replay") && k + 1 < argc) {
            if (!cli_parse_long("diagnose", a, argv[++k], 1, 10000000L, &replay_rep))
                return 2;
        } else if (!strcmp(a, "--out") && k + 1 < argc) {
            outdir = argv[++k];
        } else if (!strcmp(a, "--null")) {
            with_null = 1;
        } else if (!strcmp(a, "--resume")) {
            resume = 1;
        } else if (!strcmp(a, "--checkpoint-secs") && k + 1 < argc) {
            if (!parse_real(a, argv[++k], 0, 1e6, &ckpt_secs))
                return 2;
        } else if (!strcmp(a, "--shard") && k + 1 < argc) {
            shard = argv[++k];
        } else if (!strcmp(a, "--mdes")) {
            mdes = 1;
        } else if (!strcmp(a, "--power") && k + 1 < argc) {
            if (!parse_real(a, argv[++k], 0.01, 0.999, &target))
                return 2;
        } else if (!strcmp(a, "--mcse-tol") && k + 1 < argc) {
            if (!parse_real(a, argv[++k], 1e-4, 0.5, &tol))
                return 2;
        } else if (!strcmp(a, "--clusters")) {
            clusters = 1;
        } else if (!strcmp(a, "--clusters-max") && k + 1 < argc) {
            if (!parse_real(a, argv[++k], 3, 100000, &cl_max))
                return 2;
        } else if (!strcmp(a, "--mdes-max") && k + 1 < argc) {
            if (!parse_real(a, argv[++k], 1.0001, 100, &hr_max))
                return 2;
        } else if (!strcmp(a, "--set") && k + 1 < argc && nsets < MAX_SETS) {
            sets[nsets++] = argv[++k];
        } else if (!path && a[0] != '-') {
            path = a;
        } else {
            fprintf(stderr, "syfosim diagnose: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "syfosim diagnose: expected a scenario file (see --help)\n");
        return 2;
    }
    unsigned shard_i = 1, shard_n = 1;
    if (shard && !parse_shard(shard, &shard_i, &shard_n))
        return 2;
    if ((mdes || clusters) && (shard || resume || with_null || mdes == clusters)) {
        fprintf(stderr, "syfosim diagnose: --mdes and --clusters exclude each other and "
                        "--shard, --resume, --null\n");
        return 2;
    }
    syf_scenario *sc = malloc(sizeof *sc), *sc0 = malloc(sizeof *sc0);
    if (!sc || !sc0) {
        free(sc);
        free(sc0);
        return 1;
    }
    int st = cli_load_scenario(path, sets, nsets, sc);
    if (st == SYF_OK && sc->trial.design == SYF_DESIGN_NONE)
        st = syf_error_set(SYF_EINPUT,
                           "%s: trial.design: the scenario has no trial design to diagnose "
                           "(accepted: cluster_rct, individual_rct, stratified_crt, matched_crt, "
                           "stepped_wedge, staggered, self_selected)",
                           path);
    if (st != SYF_OK) {
        free(sc);
        free(sc0);
        return cli_fail("diagnose", st);
    }
    const uint64_t useed = seed >= 0 ? (uint64_t)seed : (uint64_t)sc->run.seed;
    if (replay_rep) {
        int rc = replay(sc, useed, replay_rep);
        free(sc);
        free(sc0);
        return rc;
    }
    if (!reps) {
        reps = sc->trial.reps;
        if ((mdes || clusters) && tol > 0)
            reps = (long)ceil(target * (1 - target) / (tol * tol));
        if (reps < 2)
            reps = 2;
    }
    char dirbuf[1024];
    if (!outdir) {
        snprintf(dirbuf, sizeof dirbuf, "out/%s", sc->name);
        outdir = dirbuf;
    }
    int rank = 0, size = 1;
    if ((st = syf_mc_mpi_begin(&rank, &size)) != SYF_OK) {
        free(sc);
        free(sc0);
        return cli_fail("diagnose", st);
    }
    const int progress = rank == 0 && isatty(STDERR_FILENO);
    cli_stop_signal = 0;
    cli_catch_signals(1);
    if (mdes || clusters) {
        search_ctx c = {sc, useed, reps, (int)threads, rank, size, progress, clusters};
        if (clusters) {
            double hi = cl_max > 0 ? floor(cl_max) : 4.0 * (double)sc->world.offices;
            st = run_search(&c, target, tol, 4, hi, outdir);
        } else
            st = run_search(&c, target, tol, 1, hr_max, outdir);
        cli_catch_signals(0);
        syf_mc_mpi_end();
        free(sc);
        free(sc0);
        if (st != SYF_OK && cli_stop_signal)
            return (void)cli_fail("diagnose", st), 130;
        return st == SYF_OK ? 0 : cli_fail("diagnose", st);
    }

    syf_mc *mc = syf_mc_alloc("diagnose", with_null ? 2 : 1, (uint64_t)reps, useed);
    const syf_scenario *cells[2];
    syf_mc_drive_opts dr = {.dir = outdir,
                            .name = "diagnose",
                            .resume = resume,
                            .run = {.threads = (int)threads,
                                    .checkpoint_secs = ckpt_secs,
                                    .progress = progress,
                                    .stop = &cli_stop_signal,
                                    .ctx = (void *)cells}};
    int interrupted = 0;
    if (!mc)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK)
        st = diagnose_cells(mc, sc, sc0, with_null, cells);
    if (st == SYF_OK)
        st = syf_mc_set_shard(mc, shard_i, shard_n);
    if (st == SYF_OK) {
        syf_mc_set_rank(mc, rank, size);
        st = cli_mkdirs(outdir);
    }
    if (st == SYF_OK)
        st = syf_mc_drive(mc, &dr, &interrupted);
    cli_catch_signals(0);
    if (st == SYF_OK && !interrupted && rank == 0) {
        if (shard) {
            char name[128];
            snprintf(name, sizeof name, "shard-%u-of-%u.mcr", shard_i, shard_n);
            char full[1300];
            snprintf(full, sizeof full, "%s/%s", outdir, name);
            cli_outfile os = {0};
            if ((st = cli_out_open(&os, outdir, "scenario.ini")) == SYF_OK) {
                syf_scenario_write(sc, os.f, 0);
                st = cli_out_commit(&os);
            }
            if (st == SYF_OK)
                st = syf_mc_save(mc, full);
            if (st == SYF_OK)
                printf("syfosim diagnose: shard %u/%u of '%s': %zu of %ld replications (seed "
                       "%" PRIu64 ") -> %s\n",
                       shard_i, shard_n, sc->name, syf_mc_n_done(mc, 0) / syf_mc_n_cells(mc),
                       reps, useed, full);
        } else
            st = write_outputs(outdir, sc, useed, mc, with_null);
        if (st == SYF_OK)
            syf_mc_remove_checkpoints(mc, &dr);
    }
    syf_mc_free(mc);
    syf_mc_mpi_end();
    free(sc);
    free(sc0);
    if (interrupted)
        return 130;
    return st == SYF_OK ? 0 : cli_fail("diagnose", st);
}
