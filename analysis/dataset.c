/* dataset.c — read a CSV file into a column store (see dataset.h).
 *
 * This is the entry point for user data: `syfosim estimate` reads a register
 * extract (or one of our own output CSVs) with syf_dataset_read() and then
 * asks for numeric columns and factor codings to build a design matrix for
 * the estimators in analysis/.
 *
 * How it works: the file is slurped into memory, leading '#' comment lines
 * and blank lines are skipped, and the rest is fed to libcsv one physical
 * line at a time so that every row can be tagged with the line it starts on
 * (quoted fields may span lines).  Field bytes are appended to one growing
 * arena (NUL-terminated) and their offsets to one growing array; when the
 * file is done the offsets become per-column string pointers and every cell
 * is parsed once with strtod.
 */
#include "syfosim/dataset.h"
#include "syfosim/error.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Reader state shared with the libcsv callbacks. */

typedef struct {
    const char *path;
    int status;          /* first error (SYF_OK while fine)               */

    char *arena;         /* all fields, each NUL-terminated                */
    size_t arena_len, arena_cap;
    size_t *off;         /* arena offset of each field, row-major          */
    size_t n_off, cap_off;

    size_t *lines;       /* start line of each data row                    */
    size_t cap_lines;
    size_t n_rows;       /* complete data rows                             */

    size_t n_cols;       /* 0 until the header row is complete             */
    size_t header_line;
    size_t cur_fields;   /* fields seen in the row being parsed            */
    int in_row;
    size_t row_line;     /* line where the row being parsed started        */
    size_t feed_line;    /* line where the current row would start          */
} reader;

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return -1;
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static void on_field(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->status)
        return;
    if (!r->in_row) {
        r->in_row = 1;
        r->row_line = r->feed_line;
    }
    if (grow((void **)&r->arena, &r->arena_cap, r->arena_len + len + 1, 1) ||
        grow((void **)&r->off, &r->cap_off, r->n_off + 1, sizeof *r->off)) {
        r->status = syf_error_set(SYF_ENOMEM, "%s: out of memory reading CSV", r->path);
        return;
    }
    if (len)
        memcpy(r->arena + r->arena_len, s, len);
    r->arena[r->arena_len + len] = '\0';
    r->off[r->n_off++] = r->arena_len;
    r->arena_len += len + 1;
    r->cur_fields++;
}

static void on_row(int c, void *data)
{
    (void)c;
    reader *r = data;
    if (r->status)
        return;
    if (!r->in_row) /* a row end without fields: nothing to record */
        return;
    if (r->n_cols == 0) {
        r->n_cols = r->cur_fields;
        r->header_line = r->row_line;
    } else {
        if (r->cur_fields != r->n_cols) {
            r->status = syf_error_set(SYF_EINPUT,
                                      "%s:%zu: row has %zu field%s but the header has %zu",
                                      r->path, r->row_line, r->cur_fields,
                                      r->cur_fields == 1 ? "" : "s", r->n_cols);
            return;
        }
        if (grow((void **)&r->lines, &r->cap_lines, r->n_rows + 1, sizeof *r->lines)) {
            r->status = syf_error_set(SYF_ENOMEM, "%s: out of memory reading CSV", r->path);
            return;
        }
        r->lines[r->n_rows++] = r->row_line;
    }
    r->in_row = 0;
    r->cur_fields = 0;
}

/* ------------------------------------------------------------------------ */
/* Cell parsing. */

/* 1 if `s` (surrounding blanks allowed) is entirely a number; *v gets it
 * (possibly non-finite: the caller decides). */
static int parse_number(const char *s, double *v)
{
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 0;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s)
        return 0;
    while (isspace((unsigned char)*end))
        end++;
    if (*end)
        return 0;
    *v = x;
    return 1;
}

static int is_blank(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

/* Spellings of a missing value that we name as such in messages. */
static int is_na(const char *s)
{
    static const char *const na[] = {"NA", "N/A", "NaN", "nan", "NAN", "na", ".", "NULL", "null"};
    while (isspace((unsigned char)*s))
        s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    for (size_t i = 0; i < sizeof na / sizeof na[0]; i++)
        if (strlen(na[i]) == len && !strncmp(s, na[i], len))
            return 1;
    return 0;
}

/* ------------------------------------------------------------------------ */

static int slurp(const char *path, char **buf, size_t *len)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return syf_error_set(SYF_EINPUT, "%s: is a directory (accepted: a CSV file)", path);
    FILE *f = fopen(path, "rb");
    if (!f)
        return syf_error_set(SYF_EINPUT, "cannot open data file '%s': %s", path, strerror(errno));
    size_t cap = 0, n = 0;
    char *b = NULL;
    for (;;) {
        if (grow((void **)&b, &cap, n + 65536 + 1, 1)) {
            free(b);
            fclose(f);
            return syf_error_set(SYF_ENOMEM, "%s: out of memory reading file", path);
        }
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(b);
        return syf_error_set(SYF_ERUNTIME, "%s: read error", path);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return SYF_OK;
}

void syf_dataset_free(syf_dataset *d)
{
    if (!d)
        return;
    if (d->cols) {
        for (size_t j = 0; j < d->n_cols; j++) {
            free(d->cols[j].str);
            free(d->cols[j].num);
        }
        free(d->cols);
    }
    free(d->line);
    free(d->arena);
    free(d->path);
    free(d);
}

/* Turn the reader's flat field list into columns and check the header. */
static int build(reader *r, syf_dataset *d)
{
    size_t k = r->n_cols;
    d->n_cols = k;
    d->n_rows = r->n_rows;
    d->header_line = r->header_line;
    d->arena = r->arena;
    r->arena = NULL;
    d->line = r->lines;
    r->lines = NULL;
    d->cols = calloc(k, sizeof *d->cols);
    if (!d->cols)
        return syf_error_set(SYF_ENOMEM, "%s: out of memory", d->path);

    size_t n_numeric_header = 0;
    for (size_t j = 0; j < k; j++) {
        syf_column *c = &d->cols[j];
        c->name = d->arena + r->off[j];
        if (is_blank(c->name))
            return syf_error_set(SYF_EINPUT, "%s:%zu: column %zu has an empty name in the header",
                                 d->path, d->header_line, j + 1);
        double v;
        if (parse_number(c->name, &v))
            n_numeric_header++;
        for (size_t i = 0; i < j; i++)
            if (!strcmp(d->cols[i].name, c->name))
                return syf_error_set(SYF_EINPUT,
                                     "%s:%zu: duplicate column name '%s' (columns %zu and %zu)",
                                     d->path, d->header_line, c->name, i + 1, j + 1);
    }
    if (n_numeric_header == k)
        return syf_error_set(SYF_EINPUT,
                             "%s:%zu: no header row (the first row '%s%s' is all numbers; "
                             "the first line must name the columns)",
                             d->path, d->header_line, d->cols[0].name, k > 1 ? ",..." : "");

    size_t n = d->n_rows;
    for (size_t j = 0; j < k; j++) {
        syf_column *c = &d->cols[j];
        c->str = malloc((n ? n : 1) * sizeof *c->str);
        c->num = malloc((n ? n : 1) * sizeof *c->num);
        if (!c->str || !c->num)
            return syf_error_set(SYF_ENOMEM, "%s: out of memory", d->path);
        for (size_t i = 0; i < n; i++) {
            char *s = d->arena + r->off[(i + 1) * k + j];
            double v;
            c->str[i] = s;
            if (parse_number(s, &v) && isfinite(v)) {
                c->num[i] = v;
            } else {
                c->num[i] = NAN;
                c->n_bad++;
            }
        }
    }
    return SYF_OK;
}

int syf_dataset_read(const char *path, syf_dataset **out)
{
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    int st = slurp(path, &buf, &len);
    if (st)
        return st;

    /* A text CSV has no NUL or control bytes other than tab, CR and LF:
     * anything else is binary or corrupt (and a NUL would silently cut a
     * cell short). */
    for (size_t i = 0, line = 1; i < len; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch == '\n')
            line++;
        else if (ch < 32 && ch != '\t' && ch != '\r') {
            free(buf);
            return syf_error_set(SYF_EINPUT,
                                 "%s:%zu: binary or control character (byte 0x%02x) (accepted: "
                                 "a text CSV file)",
                                 path, line, ch);
        }
    }
    if (is_blank(buf)) {
        free(buf);
        return syf_error_set(SYF_EINPUT, "%s: file is empty", path);
    }

    reader r = {.path = path};
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI)) {
        free(buf);
        return syf_error_set(SYF_ENOMEM, "%s: cannot initialise the CSV parser", path);
    }

    size_t pos = 0, line = 1;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) /* UTF-8 byte-order mark */
        pos = 3;

    /* Leading comment and blank lines. */
    while (pos < len) {
        char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) + 1 : len;
        size_t i = pos;
        while (i < end && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
            i++;
        if (i < end && buf[i] != '#')
            break;
        pos = end;
        line++;
    }

    /* The rest, one physical line at a time. */
    while (pos < len && !r.status) {
        char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) + 1 : len;
        if (p.pstate == 0 /* libcsv ROW_NOT_BEGUN: a new row starts here */)
            r.feed_line = line;
        if (csv_parse(&p, buf + pos, end - pos, on_field, on_row, &r) != end - pos) {
            if (!r.status)
                r.status = syf_error_set(SYF_EINPUT, "%s:%zu: malformed CSV: %s", path, line,
                                         csv_strerror(csv_error(&p)));
            break;
        }
        pos = end;
        line++;
    }
    if (!r.status && csv_fini(&p, on_field, on_row, &r) != 0 && !r.status)
        r.status = syf_error_set(SYF_EINPUT, "%s:%zu: malformed CSV at end of file: %s "
                                 "(unterminated quoted field?)",
                                 path, r.in_row ? r.row_line : line, csv_strerror(csv_error(&p)));
    csv_free(&p);
    free(buf);

    syf_dataset *d = NULL;
    if (!r.status && r.n_cols == 0)
        r.status = syf_error_set(SYF_EINPUT,
                                 "%s: no header row (the file has only comment or blank lines)", path);
    if (!r.status) {
        d = calloc(1, sizeof *d);
        if (!d || !(d->path = malloc(strlen(path) + 1)))
            r.status = syf_error_set(SYF_ENOMEM, "%s: out of memory", path);
        else {
            strcpy(d->path, path);
            r.status = build(&r, d);
        }
    }
    free(r.arena);
    free(r.off);
    free(r.lines);
    if (r.status) {
        syf_dataset_free(d);
        return r.status;
    }
    *out = d;
    return SYF_OK;
}

/* ------------------------------------------------------------------------ */
/* Accessors. */

int syf_dataset_column_find(const syf_dataset *d, const char *name, size_t *index)
{
    for (size_t j = 0; j < d->n_cols; j++)
        if (!strcmp(d->cols[j].name, name)) {
            *index = j;
            return SYF_OK;
        }
    /* List the available columns, truncated if there are very many. */
    char list[600];
    size_t used = 0;
    list[0] = '\0';
    for (size_t j = 0; j < d->n_cols; j++) {
        size_t need = strlen(d->cols[j].name) + 2;
        if (used + need + 5 >= sizeof list) {
            strcpy(list + used, ", ...");
            break;
        }
        used += (size_t)sprintf(list + used, "%s%s", j ? ", " : "", d->cols[j].name);
    }
    return syf_error_set(SYF_EINPUT, "%s: no column named '%s' (available: %s)", d->path, name,
                         list);
}

int syf_dataset_column_numeric(const syf_dataset *d, const char *name, const double **values)
{
    size_t j = 0;
    int st = syf_dataset_column_find(d, name, &j);
    if (st)
        return st;
    const syf_column *c = &d->cols[j];
    if (c->n_bad) {
        for (size_t i = 0; i < d->n_rows; i++) {
            if (!isnan(c->num[i]))
                continue;
            const char *s = c->str[i];
            double v;
            if (is_blank(s))
                return syf_error_set(SYF_EINPUT,
                                     "%s:%zu: column '%s': empty cell (missing values are not "
                                     "supported; drop or impute the row)",
                                     d->path, d->line[i], name);
            if (parse_number(s, &v) && isinf(v))
                return syf_error_set(SYF_EINPUT, "%s:%zu: column '%s': '%s' is not a finite number",
                                     d->path, d->line[i], name, s);
            if (is_na(s))
                return syf_error_set(SYF_EINPUT,
                                     "%s:%zu: column '%s': missing value '%s' (missing values are "
                                     "not supported; drop or impute the row)",
                                     d->path, d->line[i], name, s);
            return syf_error_set(SYF_EINPUT, "%s:%zu: column '%s': '%s' is not a number", d->path,
                                 d->line[i], name, s);
        }
    }
    *values = c->num;
    return SYF_OK;
}

typedef struct {
    double v;
    const char *s;
    size_t row;
} fkey;

static int cmp_num(const void *a, const void *b)
{
    const fkey *x = a, *y = b;
    if (x->v < y->v)
        return -1;
    if (x->v > y->v)
        return 1;
    return (x->row > y->row) - (x->row < y->row);
}

static int cmp_str(const void *a, const void *b)
{
    const fkey *x = a, *y = b;
    int c = strcmp(x->s, y->s);
    if (c)
        return c;
    return (x->row > y->row) - (x->row < y->row);
}

int syf_dataset_column_factor(const syf_dataset *d, const char *name, size_t *codes,
                              size_t *n_levels, const char **levels)
{
    size_t j = 0;
    int st = syf_dataset_column_find(d, name, &j);
    if (st)
        return st;
    const syf_column *c = &d->cols[j];
    size_t n = d->n_rows;
    *n_levels = 0;
    if (n == 0)
        return SYF_OK;
    int numeric = c->n_bad == 0;
    if (!numeric)
        for (size_t i = 0; i < n; i++) {
            if (is_blank(c->str[i]))
                return syf_error_set(SYF_EINPUT,
                                     "%s:%zu: column '%s': empty cell (missing values are not "
                                     "supported)",
                                     d->path, d->line[i], name);
            if (!strcmp(c->str[i], "NA"))
                return syf_error_set(SYF_EINPUT,
                                     "%s:%zu: column '%s': missing value 'NA' (missing values "
                                     "are not supported)",
                                     d->path, d->line[i], name);
        }
    fkey *k = malloc(n * sizeof *k);
    if (!k)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        k[i] = (fkey){.v = c->num[i], .s = c->str[i], .row = i};
    qsort(k, n, sizeof *k, numeric ? cmp_num : cmp_str);
    size_t g = 0;
    for (size_t i = 0; i < n; i++) {
        int new_level = i == 0;
        if (i > 0 && (numeric ? k[i].v != k[i - 1].v : strcmp(k[i].s, k[i - 1].s) != 0)) {
            g++;
            new_level = 1;
        }
        if (new_level && levels)
            levels[g] = k[i].s; /* the level's first occurrence in file order */
        codes[k[i].row] = g;
    }
    free(k);
    *n_levels = g + 1;
    return SYF_OK;
}
