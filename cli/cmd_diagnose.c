/* cmd_diagnose.c — `syfosim diagnose`: Monte Carlo diagnosis of the
 * scenario's design and estimator.
 *
 * Replication r (1..R) draws its own population, assignment and spells
 * from streams keyed by (seed, r), simulates each participant under both
 * arms (common random numbers) to get the trial's SATE, and fits the
 * estimator.  Replications run in parallel (OpenMP); each result is stored
 * at its index and the diagnosands are computed serially afterwards, so
 * diagnosis.csv is byte-identical for any number of threads.  Replication 0
 * is the one `syfosim run` shows.
 */
#include "cli_util.h"
#include "commands.h"
#include "syfosim/diagnosands.h"
#include "syfosim/error.h"
#include "syfosim/trial.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SETS 64

static void usage(FILE *f)
{
    fprintf(f,
            "usage: syfosim diagnose SCENARIO [--reps N] [--threads T] [--seed N] [--out DIR]\n"
            "                        [--null] [--set SECTION.KEY=VALUE ...]\n\n"
            "Run N replications (default trial.reps) of the scenario's trial and write\n"
            "DIR/diagnosis.csv (default DIR out/NAME): mean estimand (the trial's sample\n"
            "average treatment effect, from the simulator's counterfactuals), mean estimate,\n"
            "bias, SD, RMSE, power, coverage, type-S rate, CI width and model SE, each with\n"
            "its Monte Carlo SE, and the number of failed replications; and\n"
            "DIR/replicates.csv, one row per replication (failed ones included, with the\n"
            "reason; replay one with `syfosim run --seed` is not needed: the row names its\n"
            "replication number). --null adds the same design with pilot.effect_hr = 1 on\n"
            "the same seeds (type-I error). The output does not depend on --threads.\n");
}

typedef struct {
    syf_trial_estimate est;
    char reason[160];
} rep_out;

static int run_reps(const syf_scenario *sc, uint64_t seed, long R, int threads, rep_out *res)
{
    int oom = 0;
    if (threads > 0)
        omp_set_num_threads(threads);
#pragma omp parallel for schedule(dynamic, 1)
    for (long r = 0; r < R; r++) {
        int st = syf_trial_replicate(sc, seed, (uint64_t)(r + 1), &res[r].est);
        res[r].reason[0] = '\0';
        if (st != SYF_OK) {
            snprintf(res[r].reason, sizeof res[r].reason, "%s", syf_error_message());
            if (st == SYF_ENOMEM) {
#pragma omp atomic write
                oom = 1;
            }
        }
    }
    return oom ? syf_error_set(SYF_ENOMEM, "out of memory in a replication") : SYF_OK;
}

static void to_results(const rep_out *res, long R, syf_rep_result *rr)
{
    for (long r = 0; r < R; r++) {
        const syf_trial_estimate *e = &res[r].est;
        rr[r].estimand = e->estimand;
        rr[r].estimate = e->estimate;
        rr[r].std_error = e->std_error;
        rr[r].conf_low = e->conf_low;
        rr[r].conf_high = e->conf_high;
        rr[r].p_value = e->p_value;
        rr[r].failed = e->status != SYF_OK;
        rr[r].reason = e->status;
    }
}

static void write_reps(FILE *f, const char *estimand, const rep_out *res, long R)
{
    for (long r = 0; r < R; r++) {
        const syf_trial_estimate *e = &res[r].est;
        fprintf(f, "%s,%ld,%s,", estimand, r + 1, e->status == SYF_OK ? "ok" : "failed");
        if (e->status == SYF_OK)
            fprintf(f, "%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,", e->estimate, e->std_error, e->df,
                    e->p_value, e->conf_low, e->conf_high);
        else
            fprintf(f, ",,,,,,");
        fprintf(f, "%.10g,%zu,%zu,\"%s\"\n", e->estimand, e->n, e->clusters, res[r].reason);
    }
}

int syf_cmd_diagnose(int argc, char **argv)
{
    const char *path = NULL, *outdir = NULL;
    char *sets[MAX_SETS];
    int nsets = 0, with_null = 0;
    long seed = -1, reps = 0, threads = 0;
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
        } else if (!strcmp(a, "--out") && k + 1 < argc) {
            outdir = argv[++k];
        } else if (!strcmp(a, "--null")) {
            with_null = 1;
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
                           "(accepted: cluster_rct)",
                           path);
    if (st != SYF_OK) {
        free(sc);
        free(sc0);
        return cli_fail("diagnose", st);
    }
    if (!reps)
        reps = sc->trial.reps;
    const uint64_t useed = seed >= 0 ? (uint64_t)seed : (uint64_t)sc->run.seed;
    char dirbuf[1024];
    if (!outdir) {
        snprintf(dirbuf, sizeof dirbuf, "out/%s", sc->name);
        outdir = dirbuf;
    }
    rep_out *res = calloc((size_t)reps, sizeof *res), *res0 = NULL;
    syf_rep_result *rr = calloc((size_t)reps, sizeof *rr);
    cli_outfile od = {0}, orp = {0};
    int od_open = 0, orp_open = 0;
    if (!res || !rr) {
        st = syf_error_set(SYF_ENOMEM, "out of memory");
        goto done;
    }
    if ((st = run_reps(sc, useed, reps, (int)threads, res)) != SYF_OK)
        goto done;
    if (with_null) {
        *sc0 = *sc;
        sc0->pilot.effect_hr = 1.0;
        res0 = calloc((size_t)reps, sizeof *res0);
        if (!res0) {
            st = syf_error_set(SYF_ENOMEM, "out of memory");
            goto done;
        }
        if ((st = run_reps(sc0, useed, reps, (int)threads, res0)) != SYF_OK)
            goto done;
    }
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
    cli_provenance(od.f, sc, useed, what);
    snprintf(what, sizeof what, "replicates.csv reps=%ld", reps);
    cli_provenance(orp.f, sc, useed, what);
    fprintf(orp.f, "estimand,replication,status,estimate,std_error,df,p_value,conf_low,conf_high,"
                   "estimand_value,n,clusters,reason\n");

    static const char *ses[] = {"CR2", "CR1", "CR0", "CR3"};
    char estimator[32];
    snprintf(estimator, sizeof estimator, "ols_%s", ses[sc->trial.se]);
    syf_diagnosis d;
    to_results(res, reps, rr);
    if ((st = syf_diagnosands_compute(rr, (size_t)reps, sc->trial.alpha, &d)) != SYF_OK)
        goto done;
    syf_diagnosis_write_csv(od.f, 1, "cluster_rct", estimator, "sate", &d);
    write_reps(orp.f, "sate", res, reps);
    printf("syfosim diagnose: scenario '%s', %ld replications (seed %llu) -> %s/diagnosis.csv\n",
           sc->name, reps, (unsigned long long)useed, outdir);
    printf("  mean estimand %.3f, mean estimate %.3f, bias %.3f (MCSE %.3f), SD %.3f, RMSE %.3f\n"
           "  power %.3f (MCSE %.3f), coverage %.3f (MCSE %.3f); %zu failed\n",
           d.mean_estimand.value, d.mean_estimate.value, d.bias.value, d.bias.mcse, d.sd.value,
           d.rmse.value, d.power.value, d.power.mcse, d.coverage.value, d.coverage.mcse,
           d.n_failed);
    if (with_null) {
        syf_diagnosis d0;
        to_results(res0, reps, rr);
        if ((st = syf_diagnosands_compute(rr, (size_t)reps, sc->trial.alpha, &d0)) != SYF_OK)
            goto done;
        syf_diagnosis_write_csv(od.f, 0, "cluster_rct", estimator, "null", &d0);
        write_reps(orp.f, "null", res0, reps);
        printf("  null (effect_hr = 1): type-I error %.3f (MCSE %.3f), coverage %.3f\n",
               d0.power.value, d0.power.mcse, d0.coverage.value);
    }
    for (long r = 0; r < reps; r++)
        if (res[r].est.status != SYF_OK) {
            fprintf(stderr, "syfosim diagnose: replication %ld failed: %s\n", r + 1,
                    res[r].reason);
            break;
        }
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
    free(res);
    free(res0);
    free(rr);
    free(sc);
    free(sc0);
    return st == SYF_OK ? 0 : cli_fail("diagnose", st);
}
