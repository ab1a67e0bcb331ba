/* cmd_merge.c — `syfosim merge`: combine the results of `--shard I/N` runs
 * of `diagnose` or `sweep` (for job-array schedulers) into the outputs of
 * a single run.
 *
 * Each shard wrote DIR/shard-I-of-N.mcr (the Monte Carlo engine's results
 * file, see montecarlo.h) and DIR/scenario.ini (the resolved scenario).
 * The merge reloads the scenario, rebuilds the run's cells exactly as the
 * subcommand does, and checks every shard against them (scenario hashes,
 * seed, replications, options, build); replications present twice
 * (overlapping shards) or missing (a shard not given or unfinished) are
 * errors.  The outputs are then written by the subcommand's own writer, so
 * they are byte-identical to an unsharded run.
 */
#include "cli_util.h"
#include "commands.h"
#include "syfosim/error.h"
#include "syfosim/montecarlo.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Defined in cmd_diagnose.c and cmd_sweep.c. */
int syf_diagnose_merge(const char *scenario_ini, const syf_mc_info *info, char **files,
                       int nfiles, const char *outdir);
int syf_sweep_merge(const char *scenario_ini, const syf_mc_info *info, char **files, int nfiles,
                    const char *outdir);

#define MAX_FILES 4096

static void usage(FILE *f)
{
    fprintf(f,
            "usage: syfosim merge DIR|FILE.mcr ... --out DIR\n\n"
            "Combine the shard results written by `syfosim diagnose|sweep --shard I/N`\n"
            "(DIR/shard-I-of-N.mcr, next to DIR/scenario.ini) into the outputs of one run:\n"
            "diagnosis.csv and replicates.csv for diagnose, sweep.csv and\n"
            "sweep_replicates.csv for sweep, byte-identical to an unsharded run.  A DIR\n"
            "argument stands for every shard-*.mcr in it.  The shards must come from the\n"
            "same scenario, seed, replications, options and syfosim build, and together\n"
            "hold every replication exactly once (exit 2 otherwise).\n");
}

static int is_dir(const char *p)
{
    struct stat s;
    return stat(p, &s) == 0 && S_ISDIR(s.st_mode);
}

int syf_cmd_merge(int argc, char **argv)
{
    const char *outdir = NULL;
    char *files[MAX_FILES];
    int nfiles = 0, nargs = 0, st = SYF_OK;
    glob_t globs[64];
    int nglob = 0;
    for (int k = 1; k < argc && st == SYF_OK; k++) {
        const char *a = argv[k];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--out") && k + 1 < argc) {
            outdir = argv[++k];
        } else if (a[0] == '-') {
            fprintf(stderr, "syfosim merge: unexpected argument '%s' (see --help)\n", a);
            st = SYF_EINPUT;
        } else if (is_dir(a)) {
            nargs++;
            char pat[1200];
            snprintf(pat, sizeof pat, "%s/shard-*.mcr", a);
            if (nglob == 64) {
                fprintf(stderr, "syfosim merge: too many directories (at most 64)\n");
                st = SYF_EINPUT;
                break;
            }
            glob_t *g = &globs[nglob];
            if (glob(pat, 0, NULL, g) != 0) {
                fprintf(stderr, "syfosim merge: %s: no shard-*.mcr results in the directory\n",
                        a);
                st = SYF_EINPUT;
                break;
            }
            nglob++;
            for (size_t j = 0; j < g->gl_pathc && nfiles < MAX_FILES; j++)
                files[nfiles++] = g->gl_pathv[j];
        } else if (nfiles < MAX_FILES) {
            nargs++;
            files[nfiles++] = argv[k];
        }
    }
    if (st == SYF_OK && (!nargs || !outdir)) {
        fprintf(stderr, "syfosim merge: expected shard directories or files and --out DIR (see "
                        "--help)\n");
        st = SYF_EINPUT;
    }
    if (st == SYF_OK && nfiles >= MAX_FILES) {
        fprintf(stderr, "syfosim merge: too many shard files (at most %d)\n", MAX_FILES - 1);
        st = SYF_EINPUT;
    }
    int rc = st == SYF_OK ? 0 : 2;
    if (st == SYF_OK) {
        syf_mc_info info;
        char ini[1200];
        const char *slash = strrchr(files[0], '/');
        if (slash)
            snprintf(ini, sizeof ini, "%.*s/scenario.ini", (int)(slash - files[0]), files[0]);
        else
            snprintf(ini, sizeof ini, "scenario.ini");
        st = syf_mc_read_info(files[0], &info);
        if (st == SYF_OK) {
            if (!strcmp(info.kind, "diagnose"))
                st = syf_diagnose_merge(ini, &info, files, nfiles, outdir);
            else if (!strcmp(info.kind, "sweep"))
                st = syf_sweep_merge(ini, &info, files, nfiles, outdir);
            else
                st = syf_error_set(SYF_EINPUT, "%s: results of `%s` cannot be merged", files[0],
                                   info.kind);
        }
        if (st == SYF_OK)
            fprintf(stderr, "syfosim merge: %d shard file%s merged into %s\n", nfiles,
                    nfiles == 1 ? "" : "s", outdir);
        rc = st == SYF_OK ? 0 : cli_fail("merge", st);
    }
    for (int g = 0; g < nglob; g++)
        globfree(&globs[g]);
    return rc;
}
