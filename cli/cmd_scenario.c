/* cmd_scenario.c — `check`, `explain` and `calibrate`: commands that read
 * a scenario and report on it without writing files. */
#include "cli_util.h"
#include "commands.h"
#include "syfosim/calibration.h"
#include "syfosim/error.h"
#include "syfosim/trial.h"

#include <stdio.h>
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

int syf_cmd_calibrate(int argc, char **argv)
{
    const char *path = NULL;
    char *sets[MAX_SETS];
    int nsets = 0;
    long seed = -1, threads = 0, persons = 0;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: syfosim calibrate SCENARIO [--persons N] [--seed N] [--threads T] "
                   "[--set SECTION.KEY=VALUE ...]\n\n"
                   "Simulate the scenario's status quo and print each calibration target of\n"
                   "shared/research/calibration.md beside the simulated value and its tolerance.\n"
                   "Exit 0 if all are within tolerance, 1 if any is outside, 2 on bad input.\n");
            return 0;
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
