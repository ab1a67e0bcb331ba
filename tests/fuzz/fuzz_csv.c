/* fuzz_csv.c — libFuzzer target for the CSV reader (analysis/dataset.c
 * through libcsv): syf_dataset_read() on arbitrary bytes, then every column
 * through the accessors the estimators use (find, numeric, factor), which
 * must either succeed or fail with a message.
 *
 * The reader takes a path, so each input is written to a file in /dev/shm
 * (tmpfs; /tmp if missing) named per process.  Built and run by `make fuzz`
 * (mk/issue6.mk).
 */
#include "syfosim/dataset.h"
#include "syfosim/error.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[256];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(path, sizeof path, "%s/syf-fuzz-csv-%ld.csv", dir, (long)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    syf_dataset *d = NULL;
    int st = syf_dataset_read(path, &d);
    if (st != SYF_OK) {
        if (d != NULL || syf_error_message()[0] == '\0')
            abort();
        unlink(path);
        return 0;
    }
    size_t n = d->n_rows;
    size_t *codes = malloc((n ? n : 1) * sizeof *codes);
    const char **levels = malloc((n ? n : 1) * sizeof *levels);
    if (!codes || !levels)
        abort();
    for (size_t j = 0; j < d->n_cols; j++) {
        size_t idx;
        if (syf_dataset_column_find(d, d->cols[j].name, &idx) != SYF_OK || idx != j)
            abort(); /* header names are unique: find must return this column */
        const double *v = NULL;
        if (syf_dataset_column_numeric(d, d->cols[j].name, &v) == SYF_OK) {
            for (size_t i = 0; i < n; i++)
                if (!isfinite(v[i]))
                    abort(); /* numeric columns are finite by contract */
        }
        size_t G = 0;
        if (syf_dataset_column_factor(d, d->cols[j].name, codes, &G, levels) == SYF_OK) {
            for (size_t i = 0; i < n; i++)
                if (codes[i] >= G)
                    abort();
        }
    }
    for (size_t i = 0; i < n; i++)
        if (d->line[i] < d->header_line || (i > 0 && d->line[i] < d->line[i - 1]))
            abort(); /* rows come after the header, in file order (lines are counted
                        by '\n', so rows ended by a bare CR share a line number) */
    free(codes);
    free(levels);
    syf_dataset_free(d);
    unlink(path);
    return 0;
}
