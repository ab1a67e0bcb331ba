/* cmd_scenario.c — `check`, `explain` and `calibrate`: commands that read
 * a scenario and report on it without writing files. */
#include "cli_util.h"
#include "commands.h"
#include "syfosim/calibration.h"
#include "syfosim/effect.h"
#include "syfosim/error.h"
#include "syfosim/trial.h"

#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SETS 64

int syf_cmd_check(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: syfosim check SCENARIO\n\nValidate a scenario file (and its bases). Exit 0 "
               "if valid, 2 with FILE:LINE: key: problem otherwise.\n");
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "syfosim check: expected one scenario file (see syfosim check --help)\n");
        return 2;
    }
    syf_scenario *sc = malloc(sizeof *sc);
    int st = sc ? syf_scenario_load(argv[1], sc) : syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK)
        st = syf_trial_estimator_check(sc);
    if (st == SYF_OK)
        printf("%s: ok (scenario '%s', hash %016llx)\n", argv[1], sc->name,
               (unsigned long long)syf_scenario_hash(sc));
    free(sc);
    return st == SYF_OK ? 0 : cli_fail("check", st);
}

int syf_cmd_explain(int argc, char **argv)
{
    int annotate = 1;
    const char *path = NULL;
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h")) {
            printf("usage: syfosim explain [--plain] SCENARIO\n       syfosim explain --reference\n\n"
                   "Print the fully resolved scenario, every key with its value; annotated with\n"
                   "meaning, accepted range, default, where it was set and its source unless\n"
                   "--plain. --reference prints the key reference (docs/scenarios.md).\n");
            return 0;
        } else if (!strcmp(argv[k], "--plain"))
            annotate = 0;
        else if (!strcmp(argv[k], "--reference")) {
            syf_scenario_write_reference(stdout);
            return 0;
        } else if (!path && argv[k][0] != '-')
            path = argv[k];
        else {
            fprintf(stderr, "syfosim explain: unexpected argument '%s'\n", argv[k]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "syfosim explain: expected a scenario file\n");
        return 2;
    }
    syf_scenario *sc = malloc(sizeof *sc);
    int st = sc ? syf_scenario_load(path, sc) : syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK) {
        printf("; resolved scenario %s, hash %016llx\n", path,
               (unsigned long long)syf_scenario_hash(sc));
        syf_scenario_write(sc, stdout, annotate);
    }
    free(sc);
    return st == SYF_OK ? 0 : cli_fail("explain", st);
}

static int calibrate_effect(const char *path, char **sets, int nsets, long persons, long seed,
                            int team, double target, long days)
{
    syf_scenario *sc = malloc(sizeof *sc);
    int st = sc ? cli_load_scenario(path, sets, nsets, sc)
                : syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK && persons)
        sc->population.persons = persons;
    double hr = NAN;
    syf_effect_measure m;
    const uint64_t sd = seed >= 0 ? (uint64_t)seed : (uint64_t)(sc ? sc->run.seed : 0);
    if (st == SYF_OK)
        st = syf_effect_solve_hr(sc, team, target, days, sd, 0.001, &hr, &m);
    if (st != SYF_OK) {
        free(sc);
        return cli_fail("calibrate", st);
    }
    printf("# effect calibration of %s (scenario '%s', seed %llu), team_%s\n", path, sc->name,
           (unsigned long long)sd, syf_team_names[team]);
    printf("hazard ratio %.4f gives %+.4f (SE %.4f) in work %ld days after referral "
           "(target %+.4f)\n",
           hr, m.rd, m.se, days, target);
    printf("persons referred %zu; at work without the team %.4f\n", m.referred, m.work0);
    printf("set: team_%s.hr = %.4f, %.4f, %.4f, %.4f\n", syf_team_names[team], hr, hr, hr, hr);
    free(sc);
    return fabs(m.rd - target) <= 3 * m.se + 0.001 ? 0 : 1;
}

int syf_cmd_calibrate(int argc, char **argv)
{
    const char *path = NULL;
    char *sets[MAX_SETS];
    int nsets = 0;
    long seed = -1, threads = 0, persons = 0, days = 365;
    int team = -1;
    double target = NAN;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: syfosim calibrate SCENARIO [--persons N] [--seed N] [--threads T] "
                   "[--set SECTION.KEY=VALUE ...]\n"
                   "       syfosim calibrate SCENARIO --effect TEAM --target RD [--days D] "
                   "[--persons N] [--seed N]\n\n"
                   "Simulate the scenario's status quo and print each calibration target of\n"
                   "shared/research/calibration.md beside the simulated value and its tolerance.\n"
                   "Exit 0 if all are within tolerance, 1 if any is outside, 2 on bad input.\n\n"
                   "With --effect (rph, cbt, ips or nav): find the team's recovery hazard ratio\n"
                   "(the same for every diagnosis) whose effect on being at work D days after\n"
                   "the referral (default 365) is the risk difference RD -- an effect prior such\n"
                   "as calibration row 57's +7 points at 12 months is --target 0.07 -- with the\n"
                   "team's eligibility and dose as in the scenario and no capacity limit.\n");
            return 0;
        } else if (!strcmp(a, "--effect") && k + 1 < argc) {
            const char *v = argv[++k];
            if (!strncmp(v, "team_", 5))
                v += 5;
            for (int t = 0; t < SYF_N_TEAM; t++)
                if (!strcmp(v, syf_team_names[t]))
                    team = t;
            if (team < 0) {
                fprintf(stderr, "syfosim calibrate: --effect: unknown team '%s' (accepted: rph, "
                                "cbt, ips, nav)\n",
                        argv[k]);
                return 2;
            }
        } else if (!strcmp(a, "--target") && k + 1 < argc) {
            char *end;
            target = strtod(argv[++k], &end);
            if (*end || !(target > -1 && target < 1)) {
                fprintf(stderr, "syfosim calibrate: --target: '%s' is not a risk difference "
                                "(accepted: a number between -1 and 1)\n",
                        argv[k]);
                return 2;
            }
        } else if (!strcmp(a, "--days") && k + 1 < argc) {
            if (!cli_parse_long("calibrate", a, argv[++k], 1, 3650, &days))
                return 2;
        } else if (!strcmp(a, "--seed") && k + 1 < argc) {
            if (!cli_parse_long("calibrate", a, argv[++k], 0, 2147483647L, &seed))
                return 2;
        } else if (!strcmp(a, "--threads") && k + 1 < argc) {
            if (!cli_parse_long("calibrate", a, argv[++k], 1, 1024, &threads))
                return 2;
        } else if (!strcmp(a, "--persons") && k + 1 < argc) {
            if (!cli_parse_long("calibrate", a, argv[++k], 100, 20000000, &persons))
                return 2;
        } else if (!strcmp(a, "--set") && k + 1 < argc && nsets < MAX_SETS) {
            sets[nsets++] = argv[++k];
        } else if (!path && a[0] != '-') {
            path = a;
        } else {
            fprintf(stderr, "syfosim calibrate: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "syfosim calibrate: expected a scenario file\n");
        return 2;
    }
    if ((team >= 0) != !isnan(target)) {
        fprintf(stderr, "syfosim calibrate: --effect and --target go together\n");
        return 2;
    }
    if (team >= 0)
        return calibrate_effect(path, sets, nsets, persons, seed, team, target, days);
    syf_scenario *sc = malloc(sizeof *sc);
    syf_calibration *cal = malloc(sizeof *cal);
    int st = (sc && cal) ? cli_load_scenario(path, sets, nsets, sc)
                         : syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK && persons)
        sc->population.persons = persons;
    if (st == SYF_OK)
        st = syf_scenario_validate(sc);
    if (st == SYF_OK)
        st = syf_calibration_run(sc, seed >= 0 ? (uint64_t)seed : (uint64_t)sc->run.seed,
                                 (int)threads, cal);
    int rc;
    if (st != SYF_OK)
        rc = cli_fail("calibrate", st);
    else {
        printf("# calibration of %s (scenario '%s', seed %ld)\n", path, sc->name,
               seed >= 0 ? seed : sc->run.seed);
        syf_calibration_print(cal, stdout);
        rc = cal->all_ok ? 0 : 1;
    }
    free(sc);
    free(cal);
    return rc;
}
