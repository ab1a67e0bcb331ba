/* main.c — the `syfosim` program: dispatches to one subcommand. */
#include "commands.h"
#include "syfosim/version.h"

#include <gsl/gsl_errno.h>

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} commands[] = {
    {"run", syf_cmd_run, "simulate one replication and write register-like CSVs"},
    {"diagnose", syf_cmd_diagnose, "Monte Carlo diagnosis of the scenario's design"},
    {"sweep", syf_cmd_sweep, "diagnose the design over a grid of scenario settings"},
    {"merge", syf_cmd_merge, "combine --shard results of diagnose or sweep"},
    {"calibrate", syf_cmd_calibrate, "compare simulated statistics with calibration targets"},
    {"check", syf_cmd_check, "validate a scenario file"},
    {"explain", syf_cmd_explain, "print a scenario with every default filled in"},
    {"estimate", syf_cmd_estimate, "run an estimator on any CSV file"},
    {"power", syf_cmd_power, "analytic power and sample size (crt, stepped wedge)"},
    {"report", syf_cmd_report, "write a self-contained HTML report of a run or diagnosis"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: syfosim SUBCOMMAND [options]   (syfosim SUBCOMMAND --help)\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nsyfosim %s (git %s)\n", SYF_VERSION, syf_git_revision());
}

int main(int argc, char **argv)
{
    /* Library code checks GSL's return codes; GSL must not abort the
     * program (and per-call toggling of the handler would race between
     * OpenMP threads). */
    gsl_set_error_handler_off();
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("syfosim %s (git %s)\n", SYF_VERSION, syf_git_revision());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "syfosim: unknown subcommand '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
