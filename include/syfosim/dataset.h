/* dataset.h — a CSV file read into a column store.
 *
 * syf_dataset_read() loads a whole CSV file (RFC 4180 quoting, via libcsv)
 * into memory.  The first non-comment row is the header; leading lines that
 * start with '#' (the provenance line syfosim writes at the top of its own
 * outputs) and leading blank lines are skipped.  Every cell is kept as a
 * string and, where the whole field parses with strtod (surrounding blanks
 * allowed), as a double; cells that do not parse are NaN in `num`.
 *
 * Estimators do not touch the cells directly: they ask for a numeric column
 * (syf_dataset_column_numeric, which rejects non-numbers, missing values and
 * non-finite values with FILE:LINE messages) or a factor coding of a column
 * (syf_dataset_column_factor, e.g. cluster ids).  All errors are SYF_EINPUT
 * (or SYF_ENOMEM / SYF_ERUNTIME) with the reason in syf_error_message().
 *
 * The dataset is read-only after syf_dataset_read(); all pointers returned by
 * the accessors stay valid until syf_dataset_free().
 */
#ifndef SYFOSIM_DATASET_H
#define SYFOSIM_DATASET_H

#include <stddef.h>

typedef struct {
    char *name;     /* header text                                        */
    char **str;     /* n_rows cells, NUL-terminated, never NULL            */
    double *num;    /* n_rows values; NaN where the cell is not a number   */
    size_t n_bad;   /* cells that did not parse as a finite number          */
} syf_column;

typedef struct {
    char *path;     /* the path given to syf_dataset_read (for messages)   */
    size_t n_rows;  /* data rows (header excluded)                          */
    size_t n_cols;
    syf_column *cols;
    size_t *line;   /* n_rows: 1-based line in the file where each row starts */
    size_t header_line; /* 1-based line of the header row                  */
    char *arena;    /* storage for all cell strings (internal)              */
} syf_dataset;

/* Read `path`.  On success *out owns a new dataset (free it with
 * syf_dataset_free).  Errors (SYF_EINPUT unless noted): file cannot be
 * opened or read (SYF_ERUNTIME for read errors), file empty, no header row
 * (only comments, or a first row made of numbers only), empty or duplicate
 * column names, a data row with a different number of fields than the header
 * (message names the line), malformed quoting. */
int syf_dataset_read(const char *path, syf_dataset **out);

/* Free a dataset (NULL is allowed). */
void syf_dataset_free(syf_dataset *d);

/* Index of the column called `name`.  Error SYF_EINPUT names the file and
 * lists the available columns. */
int syf_dataset_column_find(const syf_dataset *d, const char *name, size_t *index);

/* The column `name` as n_rows finite doubles (pointer into the dataset).
 * Errors name the column and the first offending cell, e.g.
 * "data.csv:12: column 'x': 'abc' is not a number"; empty cells, NA/NaN and
 * infinities are rejected with their own messages. */
int syf_dataset_column_numeric(const syf_dataset *d, const char *name,
                               const double **values);

/* Factor-code the column `name` (any type): codes[i] in 0..G-1 for each row,
 * *n_levels = G.  Levels are sorted (by numeric value if every cell is a
 * finite number, so "2" < "10" and "1" equals "1.0"; otherwise by strcmp),
 * which makes the coding deterministic.  If `levels` is not NULL it must
 * have room for n_rows pointers; levels[k] is set to the cell text of level k
 * (a pointer into the dataset).  Empty cells and "NA" are rejected. */
int syf_dataset_column_factor(const syf_dataset *d, const char *name,
                              size_t *codes, size_t *n_levels,
                              const char **levels);

#endif
