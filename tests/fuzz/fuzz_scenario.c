/* fuzz_scenario.c — libFuzzer target for the scenario reader (sim/scenario.c
 * through libinih): syf_scenario_load() on arbitrary bytes, then, when the
 * file was accepted, the functions that run on every loaded scenario
 * (validate, hash, write with and without annotations) and a --set override.
 *
 * The library has no in-memory entry point, so each input is written to a
 * file in a per-process directory in /dev/shm (tmpfs; /tmp if missing).  A
 * `base =` line resolves relative to that directory, which holds a copy of
 * scenarios/baseline-norway.ini (when run from the repository root) so that
 * base merging is reached too.  Built and run by `make fuzz` (see
 * mk/issue6.mk); any crash, sanitizer report or hang is a bug: bad input must
 * come back as SYF_EINPUT with a message.
 */
#include "syfosim/error.h"
#include "syfosim/scenario.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[200], path[256], base[256];
static FILE *devnull;
static syf_scenario *sc;

static void cleanup(void)
{
    unlink(path);
    unlink(base);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof dir, "%s/syf-fuzz-scenario-%ld",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/input.ini", dir);
    snprintf(base, sizeof base, "%s/baseline-norway.ini", dir);
    FILE *in = fopen("scenarios/baseline-norway.ini", "rb"), *out = fopen(base, "wb");
    if (in && out) {
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0)
            fwrite(buf, 1, n, out);
    }
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    atexit(cleanup);
    devnull = fopen("/dev/null", "w");
    sc = malloc(sizeof *sc);
    return devnull && sc ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    int st = syf_scenario_load(path, sc);
    if (st == SYF_OK) {
        (void)syf_scenario_validate(sc);
        (void)syf_scenario_hash(sc);
        syf_scenario_write(sc, devnull, 0);
        syf_scenario_write(sc, devnull, 1);
        (void)syf_scenario_set(sc, "world.offices", "7", "--set");
    } else if (syf_error_message()[0] == '\0') {
        /* every failure must say why */
        abort();
    }
    return 0;
}
