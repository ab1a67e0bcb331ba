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
 *
 * --estimators LIST analyses every replication several ways: the cells of
 * the run are (design, then its null) x estimator, and the engine computes
 * the K estimator cells of a design cell in one call
 * (syf_trial_replicate_multi: one simulation, K fits), so the estimators
 * are compared on the very same replications.
 */
#include "cli_util.h"
#include "commands.h"
#include "syfosim/design.h"
#include "syfosim/diagnosands.h"
#include "syfosim/error.h"
#include "syfosim/montecarlo.h"
#include "syfosim/trial.h"

#include <errno.h>
#include <glob.h>
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
            "                        [--estimators NAME[+INFERENCE],...]\n"
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
            "--estimators LIST fits several analysis models to the same replications (one\n"
            "simulation per replication feeds them all) instead of the scenario's\n"
            "trial.estimator: entries are trial.estimator values (ols, lmm, gee, logit,\n"
            "cox, did, cs, ipw, default), each optionally with +wild or +ri for\n"
            "trial.inference (else analytic), e.g. --estimators lmm,ols,ols+wild. Each must\n"
            "suit the design (else exit 2). diagnosis.csv then has the rows of every\n"
            "estimator (and of its null with --null), and replicates.csv an estimator\n"
            "column after estimand.\n\n"
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
            "the same stopping rule; writes DIR/clusters.csv. Searches count failed\n"
            "replications as not significant (failure-aware power) and take at most one\n"
            "--estimators entry. They checkpoint like a diagnosis, one file per step\n"
            "(DIR/.mdes-step-K.ckpt or DIR/.clusters-step-K.ckpt, removed at the end):\n"
            "--resume replays the finished steps from them and continues the interrupted\n"
            "one, ending with the output of an uninterrupted search.\n\n"
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

/* The analyses of a diagnosis: the scenario's own trial.estimator (K = 0,
 * the single-estimator outputs), or the K entries of --estimators, each a
 * copy of the scenario with its trial.estimator / trial.inference (est[k]),
 * followed with --null by their null versions (est[K + k]). */
typedef struct {
    size_t K;
    char list[512], buf[512];
    char *tok[SYF_MC_MAX_GROUP];
    syf_scenario *est;
} analyses;

static void analyses_free(analyses *an)
{
    free(an->est);
    an->est = NULL;
}

/* Parse LIST (NULL: none) and build the scenarios; exit-2 errors name the
 * entry. */
static int analyses_build(analyses *an, const char *list, const syf_scenario *sc, int with_null)
{
    memset(an, 0, sizeof *an);
    if (!list)
        return SYF_OK;
    snprintf(an->list, sizeof an->list, "%s", list);
    int st = cli_estimators_split(list, an->buf, sizeof an->buf, an->tok, SYF_MC_MAX_GROUP, &an->K);
    if (st != SYF_OK)
        return st;
    const size_t V = with_null ? 2 : 1;
    if (!(an->est = malloc(V * an->K * sizeof *an->est)))
        return syf_error_set(SYF_ENOMEM, "out of memory");
    for (size_t k = 0; k < an->K && st == SYF_OK; k++) {
        an->est[k] = *sc;
        st = cli_estimator_apply(an->tok[k], &an->est[k]);
        if (st == SYF_OK && with_null) {
            an->est[an->K + k] = an->est[k];
            an->est[an->K + k].pilot.effect_hr = 1.0;
        }
    }
    return st;
}

static size_t n_cells(const analyses *an, int with_null)
{
    return (size_t)(with_null ? 2 : 1) * (an->K ? an->K : 1);
}

/* The cells of a diagnosis.  K = 0: the design, and with --null the same
 * design with pilot.effect_hr = 1 (sc0, which must outlive the run).
 * K > 0: cell v * K + k is estimator k of the design (v = 0) or of its
 * null (v = 1); the engine runs them in groups of K. */
static int diagnose_cells(syf_mc *mc, const syf_scenario *sc, syf_scenario *sc0, int with_null,
                          const analyses *an, const syf_scenario **cells)
{
    int st;
    if (an->K) {
        const size_t V = with_null ? 2 : 1;
        for (size_t v = 0; v < V; v++)
            for (size_t k = 0; k < an->K; k++) {
                const syf_scenario *s = &an->est[v * an->K + k];
                char lab[64];
                snprintf(lab, sizeof lab, "%s:%s", v ? "null" : syf_trial_estimand_name(s),
                         an->tok[k]);
                cells[v * an->K + k] = s;
                if ((st = syf_mc_set_cell(mc, v * an->K + k, syf_scenario_hash(s), lab)) !=
                    SYF_OK)
                    return st;
            }
        char args[700];
        snprintf(args, sizeof args, "null=%d estimators=%s", with_null, an->list);
        return syf_mc_set_args(mc, args);
    }
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

/* The --estimators list in a results file's options ("" if none). */
static void args_estimators(const char *args, char *out, size_t n)
{
    const char *p = strstr(args, "estimators=");
    out[0] = '\0';
    if (p) {
        p += strlen("estimators=");
        snprintf(out, n, "%.*s", (int)strcspn(p, " \t"), p);
    }
}

/* diagnosis.csv and replicates.csv from a complete run, and the summary on
 * stdout.  Without --estimators, the single-estimator format; with it, the
 * rows of each estimator (its null's after them) and replicates.csv with
 * an estimator column. */
static int write_outputs(const char *outdir, const syf_scenario *sc, uint64_t seed,
                         const syf_mc *mc, int with_null, const analyses *an)
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
    char what[700];
    snprintf(what, sizeof what, "diagnosis.csv reps=%ld%s%s", reps, an->K ? " estimators=" : "",
             an->list);
    cli_provenance(od.f, sc, seed, what);
    snprintf(what, sizeof what, "replicates.csv reps=%ld%s%s", reps, an->K ? " estimators=" : "",
             an->list);
    cli_provenance(orp.f, sc, seed, what);
    fprintf(orp.f, "estimand,%sreplication,status,estimate,std_error,df,p_value,conf_low,"
                   "conf_high,estimand_value,n,clusters,reason\n",
            an->K ? "estimator," : "");
    printf("syfosim diagnose: scenario '%s', %ld replications (seed %" PRIu64
           ") -> %s/diagnosis.csv\n",
           sc->name, reps, seed, outdir);
    const size_t K = an->K ? an->K : 1;
    for (size_t k = 0; k < K; k++) {
        const syf_scenario *s = an->K ? &an->est[k] : sc;
        char estimator[128], prefix[300];
        estimator_label(s, estimator, sizeof estimator);
        syf_diagnosis d;
        if ((st = syf_mc_diagnose(mc, k, s->trial.alpha, &d)) != SYF_OK)
            goto done;
        syf_diagnosis_write_csv(od.f, k == 0, design_label(s), estimator,
                                syf_trial_estimand_name(s), &d);
        snprintf(prefix, sizeof prefix, "%s%s%s", syf_trial_estimand_name(s), an->K ? "," : "",
                 an->K ? estimator : "");
        syf_mc_write_replicates(orp.f, mc, k, prefix);
        if (an->K)
            printf("  %s: %s\n", an->tok[k], estimator);
        printf("  mean estimand %.3f, mean estimate %.3f, bias %.3f (MCSE %.3f), SD %.3f, RMSE "
               "%.3f\n"
               "  power %.3f (MCSE %.3f), coverage %.3f (MCSE %.3f); %zu failed\n",
               d.mean_estimand.value, d.mean_estimate.value, d.bias.value, d.bias.mcse, d.sd.value,
               d.rmse.value, d.power.value, d.power.mcse, d.coverage.value, d.coverage.mcse,
               d.n_failed);
        if (with_null) {
            const size_t c0 = an->K ? an->K + k : 1;
            syf_diagnosis d0;
            if ((st = syf_mc_diagnose(mc, c0, s->trial.alpha, &d0)) != SYF_OK)
                goto done;
            syf_diagnosis_write_csv(od.f, 0, design_label(s), estimator, "null", &d0);
            snprintf(prefix, sizeof prefix, "null%s%s", an->K ? "," : "", an->K ? estimator : "");
            syf_mc_write_replicates(orp.f, mc, c0, prefix);
            printf("  null (effect_hr = 1): type-I error %.3f (MCSE %.3f), coverage %.3f\n",
                   d0.power.value, d0.power.mcse, d0.coverage.value);
        }
    }
    for (size_t c = 0; c < syf_mc_n_cells(mc); c++)
        for (uint64_t r = 1; r <= syf_mc_reps(mc); r++) {
            const syf_mc_rep *x = syf_mc_get(mc, c, r);
            if (x && x->est.status != SYF_OK) {
                char which[128] = "";
                if (an->K)
                    snprintf(which, sizeof which, " (estimator %s)", an->tok[c % an->K]);
                fprintf(stderr,
                        "syfosim diagnose: replication %" PRIu64 "%s failed: %s (replay it with "
                        "--replay %" PRIu64 ")\n",
                        r, which, x->reason, r);
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
    analyses an;
    memset(&an, 0, sizeof an);
    const syf_scenario **cells = NULL;
    int st = SYF_OK;
    const int with_null = strstr(info->args, "null=1") != NULL;
    char list[512];
    args_estimators(info->args, list, sizeof list);
    if (!sc || !sc0)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK)
        st = syf_scenario_load(scenario_ini, sc);
    if (st == SYF_OK)
        st = analyses_build(&an, list[0] ? list : NULL, sc, with_null);
    if (st == SYF_OK &&
        (!(mc = syf_mc_alloc("diagnose", n_cells(&an, with_null), info->reps, info->seed)) ||
         !(cells = calloc(n_cells(&an, with_null), sizeof *cells))))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK)
        st = diagnose_cells(mc, sc, sc0, with_null, &an, cells);
    for (int k = 0; st == SYF_OK && k < nfiles; k++)
        st = syf_mc_merge(mc, files[k]);
    if (st == SYF_OK)
        st = syf_mc_check_complete(mc);
    if (st == SYF_OK)
        st = write_outputs(outdir, sc, info->seed, mc, with_null, &an);
    syf_mc_free(mc);
    free(cells);
    analyses_free(&an);
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
    const char *outdir;
    int resume;
    double ckpt_secs;
    int interrupted; /* set when a step stopped on a signal (checkpoint saved) */
} search_ctx;

/* Step k's checkpoint is DIR/.mdes-step-K.ckpt (or clusters-step-K): the
 * Monte Carlo engine's checkpoint of that step's run, written while it
 * runs and whole when it ends.  A resumed search replays the finished
 * steps from their files (same results, so the same bisection path) and
 * continues the interrupted one. */
static void step_name(const search_ctx *c, int step, char *buf, size_t n)
{
    snprintf(buf, n, "%s-step-%d", c->clusters ? "clusters" : "mdes", step);
}

static int step_checkpoint_exists(const char *dir, const char *name)
{
    char pat[1300];
    snprintf(pat, sizeof pat, "%s/.%s.ckpt*", dir, name);
    glob_t g;
    int found = glob(pat, 0, NULL, &g) == 0;
    if (found)
        globfree(&g);
    return found;
}

static void remove_step_checkpoints(const search_ctx *c)
{
    char pat[1300];
    snprintf(pat, sizeof pat, "%s/.%s-step-*.ckpt*", c->outdir, c->clusters ? "clusters" : "mdes");
    glob_t g;
    if (glob(pat, 0, NULL, &g) == 0) {
        for (size_t k = 0; k < g.gl_pathc; k++)
            unlink(g.gl_pathv[k]);
        globfree(&g);
    }
}

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
 * x), on every thread and rank, with the step's checkpoint.  On a stop
 * signal: saves it, sets c->interrupted and returns SYF_OK. */
static int power_at(search_ctx *c, double x, int step, search_point *pt)
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
    if (st == SYF_OK)
        st = syf_mc_set_args(mc, c->clusters ? "search=clusters" : "search=mdes");
    char label[96], name[64];
    snprintf(label, sizeof label, "%s step %d, %s %.4g", c->clusters ? "clusters" : "mdes", step,
             c->clusters ? "offices" : "effect_hr", x);
    step_name(c, step, name, sizeof name);
    const syf_scenario *cells[1] = {s};
    syf_mc_drive_opts dr = {.dir = c->outdir,
                            .name = name,
                            .resume = c->resume && step_checkpoint_exists(c->outdir, name),
                            .run = {.threads = c->threads,
                                    .checkpoint_secs = c->ckpt_secs,
                                    .progress = c->progress,
                                    .progress_label = label,
                                    .stop = &cli_stop_signal,
                                    .ctx = (void *)cells}};
    int interrupted = 0;
    if (st == SYF_OK) {
        syf_mc_set_rank(mc, c->rank, c->size);
        st = syf_mc_drive(mc, &dr, &interrupted);
    }
    if (st == SYF_OK && interrupted)
        c->interrupted = 1;
    syf_diagnosis d;
    if (st == SYF_OK && !interrupted)
        st = syf_mc_diagnose(mc, 0, s->trial.alpha, &d);
    if (st == SYF_OK && !interrupted) {
        /* Failure-aware power: a failed replication detects nothing. */
        double p = (double)d.n_significant / (double)c->reps;
        *pt = (search_point){x, p, sqrt(p * (1 - p) / (double)c->reps), d.mean_estimand.value,
                             d.mean_estimand.mcse, d.n_failed};
        if (c->rank == 0) { /* the whole step, for a resumed search */
            char path[1300];
            snprintf(path, sizeof path, "%s/.%s.ckpt", c->outdir, name);
            st = syf_mc_save(mc, path);
        }
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
 * Monte Carlo precision of the runs), or the bracket cannot shrink.  An
 * interrupted step returns SYF_OK with c->interrupted set. */
static int run_search(search_ctx *c, double target, double tol, double lo_x, double hi_x)
{
    enum { MAX_STEPS = 60 };
    search_point pts[MAX_STEPS], lo, hi;
    int n = 0, st;
    const char *outdir = c->outdir;
    const char *what_x = c->clusters ? "world.offices" : "pilot.effect_hr";
    if (!(tol > 0))
        tol = sqrt(target * (1 - target) / (double)c->reps);
    if ((st = power_at(c, hi_x, n, &pts[n])) != SYF_OK || c->interrupted)
        return st;
    hi = pts[n++];
    if (!(hi.power >= target))
        return syf_error_set(SYF_EINPUT,
                             "power at %s = %g is %.3f < %g: raise %s or enlarge the trial",
                             what_x, hi_x, hi.power, target,
                             c->clusters ? "--clusters-max" : "--mdes-max");
    if (c->clusters) {
        if ((st = power_at(c, lo_x, n, &pts[n])) != SYF_OK || c->interrupted)
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
        if ((st = power_at(c, mid, n, &pts[n])) != SYF_OK || c->interrupted)
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

static void replay_print(const syf_trial_estimate *e, int ok, const char *reason)
{
    if (!ok)
        printf("  reason: %s\n", reason);
    else
        printf("  estimate %.10g, std_error %.10g, df %.10g, p_value %.10g, CI [%.10g, %.10g]\n",
               e->estimate, e->std_error, e->df, e->p_value, e->conf_low, e->conf_high);
    printf("  estimand (SATE) %.10g, n %zu, clusters %zu\n", e->estimand, e->n, e->clusters);
}

static int replay(const syf_scenario *sc, const analyses *an, uint64_t seed, long rep)
{
    syf_trial_estimate e[SYF_MC_MAX_GROUP];
    memset(e, 0, sizeof e);
    syf_error_clear();
    if (an->K) {
        char msg[SYF_MC_MAX_GROUP][SYF_MC_REASON], *reason[SYF_MC_MAX_GROUP];
        const syf_scenario *scs[SYF_MC_MAX_GROUP];
        for (size_t k = 0; k < an->K; k++) {
            reason[k] = msg[k];
            scs[k] = &an->est[k];
        }
        int st = syf_trial_replicate_multi(scs, an->K, seed, (uint64_t)rep, e, reason,
                                           SYF_MC_REASON);
        if (st == SYF_ENOMEM)
            return cli_fail("diagnose", st);
        printf("syfosim diagnose: replication %ld of '%s' (seed %" PRIu64 "), %zu estimators\n",
               rep, sc->name, seed, an->K);
        for (size_t k = 0; k < an->K; k++) {
            printf("  %s (%s): %s\n", an->tok[k], syf_trial_estimator_name(scs[k]),
                   e[k].status == SYF_OK ? "ok" : "failed");
            replay_print(&e[k], e[k].status == SYF_OK, msg[k]);
        }
        return 0;
    }
    int st = syf_trial_replicate(sc, seed, (uint64_t)rep, &e[0]);
    if (st == SYF_ENOMEM)
        return cli_fail("diagnose", st);
    printf("syfosim diagnose: replication %ld of '%s' (seed %" PRIu64 "): %s\n", rep, sc->name,
           seed, st == SYF_OK && e[0].status == SYF_OK ? "ok" : "failed");
    replay_print(&e[0], st == SYF_OK && e[0].status == SYF_OK, syf_error_message());
    return 0;
}

int syf_cmd_diagnose(int argc, char **argv)
{
    const char *path = NULL, *outdir = NULL, *shard = NULL, *est_list = NULL;
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
        } else if (!strcmp(a, "--estimators") && k + 1 < argc) {
            est_list = argv[++k];
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
    if ((mdes || clusters) && (shard || with_null || mdes == clusters)) {
        fprintf(stderr, "syfosim diagnose: --mdes and --clusters exclude each other and "
                        "--shard, --null\n");
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
    analyses an;
    memset(&an, 0, sizeof an);
    if (st == SYF_OK)
        st = analyses_build(&an, est_list, sc, with_null && !(mdes || clusters));
    if (st == SYF_OK && (mdes || clusters) && an.K) { /* a search follows one estimator */
        if (an.K > 1)
            st = syf_error_set(SYF_EINPUT, "--estimators: --%s searches one estimator, not %zu",
                               mdes ? "mdes" : "clusters", an.K);
        else
            *sc = an.est[0];
        analyses_free(&an);
        an.K = 0;
    }
    if (st != SYF_OK) {
        analyses_free(&an);
        free(sc);
        free(sc0);
        return cli_fail("diagnose", st);
    }
    const uint64_t useed = seed >= 0 ? (uint64_t)seed : (uint64_t)sc->run.seed;
    if (replay_rep) {
        int rc = replay(sc, &an, useed, replay_rep);
        analyses_free(&an);
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
        analyses_free(&an);
        free(sc);
        free(sc0);
        return cli_fail("diagnose", st);
    }
    const int progress = rank == 0 && isatty(STDERR_FILENO);
    cli_stop_signal = 0;
    cli_catch_signals(1);
    if (mdes || clusters) {
        search_ctx c = {.sc = sc,
                        .seed = useed,
                        .reps = reps,
                        .threads = (int)threads,
                        .rank = rank,
                        .size = size,
                        .progress = progress,
                        .clusters = clusters,
                        .outdir = outdir,
                        .resume = resume,
                        .ckpt_secs = ckpt_secs};
        st = cli_mkdirs(outdir);
        if (st == SYF_OK && clusters) {
            double hi = cl_max > 0 ? floor(cl_max) : 4.0 * (double)sc->world.offices;
            st = run_search(&c, target, tol, 4, hi);
        } else if (st == SYF_OK)
            st = run_search(&c, target, tol, 1, hr_max);
        cli_catch_signals(0);
        if (!c.interrupted && rank == 0)
            remove_step_checkpoints(&c);
        syf_mc_mpi_end();
        free(sc);
        free(sc0);
        if (c.interrupted)
            return 130;
        return st == SYF_OK ? 0 : cli_fail("diagnose", st);
    }

    const size_t ncell = n_cells(&an, with_null);
    syf_mc *mc = syf_mc_alloc("diagnose", ncell, (uint64_t)reps, useed);
    const syf_scenario **cells = calloc(ncell, sizeof *cells);
    syf_mc_drive_opts dr = {.dir = outdir,
                            .name = "diagnose",
                            .resume = resume,
                            .run = {.threads = (int)threads,
                                    .checkpoint_secs = ckpt_secs,
                                    .progress = progress,
                                    .stop = &cli_stop_signal,
                                    .ctx = (void *)cells,
                                    .group = an.K}};
    int interrupted = 0;
    if (!mc || !cells)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK)
        st = diagnose_cells(mc, sc, sc0, with_null, &an, cells);
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
            st = write_outputs(outdir, sc, useed, mc, with_null, &an);
        if (st == SYF_OK)
            syf_mc_remove_checkpoints(mc, &dr);
    }
    syf_mc_free(mc);
    syf_mc_mpi_end();
    free(cells);
    analyses_free(&an);
    free(sc);
    free(sc0);
    if (interrupted)
        return 130;
    return st == SYF_OK ? 0 : cli_fail("diagnose", st);
}
