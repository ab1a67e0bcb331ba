/* dataset.c — read a CSV file into a column store (see dataset.h).
 *
 * This is the entry point for user data: `syfosim estimate` reads a register
 * extract (or one of our own output CSVs) with syf_dataset_read() and then
 * asks for numeric columns and factor codings to build a design matrix for
 * the estimators in analysis/.
 *
 * How it works: the file is slurped into one buffer, which becomes the
 * dataset's arena.  Leading '#' comment lines and blank lines are skipped
 * and the rest is read one physical line at a time so that every row can be
 * tagged with the line it starts on.  A line that starts a row and holds no
 * quote, blank, tab or stray CR is split in place (each delimiter becomes
 * the cell's NUL), which is exactly what libcsv would deliver for it; any
 * other line goes through libcsv (quoted fields may span lines), whose
 * fields are copied into the second half of the buffer, reserved for that
 * (a field never takes more bytes than its input, so that half cannot
 * overflow).  Cells go straight into per-column arrays sized from the count
 * of line ends, and each is parsed as a number as soon as it is stored: a
 * plain decimal with at most 19 digits whose mantissa is exact in a double
 * and whose power of ten is at most 10^22 is converted with one correctly
 * rounded multiplication or division (Clinger's fast path, so the result is
 * the bits strtod would give); everything else goes to strtod.
 */
#define _DEFAULT_SOURCE /* MADV_HUGEPAGE */
#include "syfosim/dataset.h"
#include "syfosim/error.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ------------------------------------------------------------------------ */
/* Reader state shared with the libcsv callbacks. */

typedef struct {
    const char *path;
    int status;          /* first error (SYF_OK while fine)               */

    char *slow;          /* where libcsv's fields are copied (in the buffer) */
    size_t slow_len, slow_cap;

    char **hdr;          /* header cells                                   */
    size_t n_hdr, cap_hdr;

    syf_column *cols;    /* n_cols columns of max_rows cells once the header is known */
    size_t *lines;       /* start line of each data row                    */
    size_t max_rows;     /* bound on the number of data rows                */
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

/* malloc, asking Linux to back big blocks with huge pages: the arrays of a
 * large file are touched once, page by page, and 4 KB page faults would
 * otherwise cost about a quarter of the reading time. */
static void *big_malloc(size_t size)
{
    void *p = malloc(size);
#ifdef MADV_HUGEPAGE
    const size_t huge = (size_t)2 << 20;
    if (p && size >= 4 * huge) {
        uintptr_t a = ((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1);
        uintptr_t e = ((uintptr_t)p + size) & ~(uintptr_t)(huge - 1);
        if (e > a)
            (void)madvise((void *)a, e - a, MADV_HUGEPAGE); /* a hint only */
    }
#endif
    return p;
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

/* Exact powers of ten as doubles (10^22 is the largest exact one). */
static const double pow10_exact[23] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The NUL-terminated cell `s` if it is a plain decimal ([+-]digits[.digits],
 * at least one digit, nothing else) that converts exactly: 1 and *v, which
 * then equals strtod's correctly rounded result because both the mantissa
 * (< 2^53) and 10^e (e <= 22) are exact doubles and IEEE division rounds
 * once.  0 means "ask strtod" (not a failure). */
static inline int fast_number(const char *s, double *v)
{
    int neg = 0;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    uint64_t m = 0;
    int nd = 0, frac = 0;
    const char *p = s;
    while ((unsigned)(*p - '0') < 10) {
        m = m * 10 + (uint64_t)(*p++ - '0');
        nd++;
    }
    if (*p == '.') {
        const char *q = ++p;
        while ((unsigned)(*p - '0') < 10) {
            m = m * 10 + (uint64_t)(*p++ - '0');
            nd++;
        }
        frac = (int)(p - q);
    }
    if (*p || nd == 0 || nd > 19 || m > (UINT64_C(1) << 53) || frac > 22)
        return 0;
    double x = (double)m;
    if (frac)
        x /= pow10_exact[frac];
    *v = neg ? -x : x;
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
/* Storing cells. */

static void set_nomem(reader *r)
{
    r->status = syf_error_set(SYF_ENOMEM, "%s: out of memory reading CSV", r->path);
}

/* Store the NUL-terminated cell `s` (which stays where it is) as the next
 * field of the current row. */
static inline void put_field(reader *r, char *s)
{
    if (!r->in_row) {
        r->in_row = 1;
        r->row_line = r->feed_line;
    }
    size_t j = r->cur_fields++;
    if (r->n_cols == 0) {
        if (grow((void **)&r->hdr, &r->cap_hdr, r->n_hdr + 1, sizeof *r->hdr)) {
            set_nomem(r);
            return;
        }
        r->hdr[r->n_hdr++] = s;
        return;
    }
    if (j >= r->n_cols) /* too many fields: counted, reported at the row's end */
        return;
    syf_column *c = &r->cols[j];
    size_t i = r->n_rows;
    double v;
    c->str[i] = s;
    if (fast_number(s, &v) || (parse_number(s, &v) && isfinite(v))) {
        c->num[i] = v;
    } else {
        c->num[i] = NAN;
        c->n_bad++;
    }
}

/* The header row is complete: size the column arrays. */
static void start_columns(reader *r)
{
    size_t k = r->n_hdr, n = r->max_rows ? r->max_rows : 1;
    r->cols = calloc(k, sizeof *r->cols);
    r->lines = big_malloc(n * sizeof *r->lines);
    if (!r->cols || !r->lines) {
        set_nomem(r);
        return;
    }
    for (size_t j = 0; j < k; j++) {
        r->cols[j].name = r->hdr[j];
        r->cols[j].str = big_malloc(n * sizeof *r->cols[j].str);
        r->cols[j].num = big_malloc(n * sizeof *r->cols[j].num);
        if (!r->cols[j].str || !r->cols[j].num) {
            set_nomem(r);
            return;
        }
    }
}

static void end_row(reader *r)
{
    if (r->status)
        return;
    if (!r->in_row) /* a row end without fields: nothing to record */
        return;
    if (r->n_cols == 0) {
        r->header_line = r->row_line;
        start_columns(r);
        if (r->status)
            return;
        r->n_cols = r->cur_fields;
    } else {
        if (r->cur_fields != r->n_cols) {
            r->status = syf_error_set(SYF_EINPUT,
                                      "%s:%zu: row has %zu field%s but the header has %zu",
                                      r->path, r->row_line, r->cur_fields,
                                      r->cur_fields == 1 ? "" : "s", r->n_cols);
            return;
        }
        if (r->n_rows >= r->max_rows) { /* cannot happen: max_rows counts row ends */
            r->status = syf_error_set(SYF_ERUNTIME, "%s: internal error: row bound", r->path);
            return;
        }
        r->lines[r->n_rows++] = r->row_line;
    }
    r->in_row = 0;
    r->cur_fields = 0;
}

/* libcsv callbacks: the field is copied into the reserved half. */
static void on_field(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->status)
        return;
    if (r->slow_len + len + 1 > r->slow_cap) { /* cannot happen (see the top) */
        set_nomem(r);
        return;
    }
    char *dst = r->slow + r->slow_len;
    if (len)
        memcpy(dst, s, len);
    dst[len] = '\0';
    r->slow_len += len + 1;
    put_field(r, dst);
}

static void on_row(int c, void *data)
{
    (void)c;
    end_row(data);
}

/* Byte classes for the in-place fast path. */
enum { C_PLAIN = 0, C_COMMA, C_NL, C_SPECIAL };
static const unsigned char byte_class[256] = {
    [','] = C_COMMA, ['\n'] = C_NL, ['"'] = C_SPECIAL, [' '] = C_SPECIAL,
    ['\t'] = C_SPECIAL, ['\r'] = C_SPECIAL, ['\0'] = C_SPECIAL};

/* If the line at `s` (inside the NUL-terminated buffer) ends with '\n' (or
 * "\r\n") and holds no quote, blank, tab, other CR or NUL, split it in place,
 * store its fields and end the row; return the length consumed including the
 * '\n'.  Otherwise change nothing and return 0. */
static size_t fast_line(reader *r, char *s)
{
    char *q = s;
    unsigned char cl;
    while ((cl = byte_class[(unsigned char)*q]) < C_NL)
        q++;
    char *end = q; /* first byte after the last field */
    if (cl != C_NL) {
        if (!(*q == '\r' && q[1] == '\n'))
            return 0;
        q++;
    }
    if (end == s) /* blank line: libcsv skips it */
        return 0;
    *end = '\0';
    char *f = s;
    for (;;) {
        char *c = f;
        while (*c != ',' && *c != '\0')
            c++;
        int last = *c == '\0';
        *c = '\0';
        put_field(r, f);
        if (last)
            break;
        f = c + 1;
    }
    end_row(r);
    return (size_t)(q - s) + 1;
}

/* ------------------------------------------------------------------------ */

/* Read the file into *buf with room for `len + 1` more bytes after its NUL
 * (the reserved half). */
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
    struct stat fs;
    if (fstat(fileno(f), &fs) == 0 && S_ISREG(fs.st_mode) && fs.st_size > 0 &&
        (uintmax_t)fs.st_size < SIZE_MAX / 4) {
        cap = (size_t)fs.st_size + 2; /* +1 for the NUL, +1 to see EOF at once */
        b = big_malloc(cap);
        if (!b)
            cap = 0;
    }
    for (;;) {
        if (n + 1 >= cap && grow((void **)&b, &cap, n + 65536 + 1, 1)) {
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
    char *b2 = n < SIZE_MAX / 2 - 4 ? realloc(b, 2 * n + 3) : NULL;
    if (!b2) {
        free(b);
        return syf_error_set(SYF_ENOMEM, "%s: out of memory reading file", path);
    }
    b2[n] = '\0';
    *buf = b2;
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

/* Check the header; the columns were filled while reading. */
static int build(syf_dataset *d)
{
    size_t k = d->n_cols;
    size_t n_numeric_header = 0;
    for (size_t j = 0; j < k; j++) {
        syf_column *c = &d->cols[j];
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
    return SYF_OK;
}

/* 1 if buf[0..len) holds a byte below 32 other than tab, CR and LF; *n_term
 * gets the number of CR and LF bytes (a bound on the number of rows). */
static int scan_bytes(const char *buf, size_t len, size_t *n_term)
{
    size_t i = 0, nt = 0;
    int bad = 0;
#ifdef __SSE2__
    const __m128i c31 = _mm_set1_epi8(31), tab = _mm_set1_epi8('\t'),
                  cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    __m128i acc = _mm_setzero_si128();
    while (i + 16 <= len) {
        /* Count terminators per byte lane (at most 255 blocks), then add
         * the lanes up with a sum of absolute differences. */
        __m128i cnt = _mm_setzero_si128();
        size_t stop = len - i >= 255 * 16 ? i + 255 * 16 : i + (len - i) / 16 * 16;
        for (; i < stop; i += 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(buf + i));
            __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, c31), v); /* v <= 31 */
            __m128i term = _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf));
            __m128i ok = _mm_or_si128(term, _mm_cmpeq_epi8(v, tab));
            acc = _mm_or_si128(acc, _mm_andnot_si128(ok, ctl));
            cnt = _mm_sub_epi8(cnt, term); /* term lanes are -1 */
        }
        __m128i sum = _mm_sad_epu8(cnt, _mm_setzero_si128());
        nt += (size_t)_mm_cvtsi128_si32(sum) + (size_t)_mm_cvtsi128_si32(_mm_srli_si128(sum, 8));
    }
    bad = _mm_movemask_epi8(acc) != 0;
#endif
    for (; i < len; i++) {
        unsigned char ch = (unsigned char)buf[i];
        bad |= (ch < 32) & (ch != '\t') & (ch != '\r') & (ch != '\n');
        nt += (ch == '\n') | (ch == '\r');
    }
    *n_term = nt;
    return bad;
}

/* First line (1-based) holding a byte that is not allowed in a text CSV, or 0. */
static size_t find_control(const char *buf, size_t len, unsigned char *byte)
{
    for (size_t i = 0, line = 1; i < len; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch == '\n')
            line++;
        else if (ch < 32 && ch != '\t' && ch != '\r') {
            *byte = ch;
            return line;
        }
    }
    return 0;
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
     * cell short).  The same pass counts the possible row ends. */
    size_t n_term = 0;
    {
        int bad = scan_bytes(buf, len, &n_term);
        unsigned char ch = 0;
        size_t bad_line = bad ? find_control(buf, len, &ch) : 0;
        if (bad_line) {
            free(buf);
            return syf_error_set(SYF_EINPUT,
                                 "%s:%zu: binary or control character (byte 0x%02x) (accepted: "
                                 "a text CSV file)",
                                 path, bad_line, ch);
        }
    }
    if (is_blank(buf)) {
        free(buf);
        return syf_error_set(SYF_EINPUT, "%s: file is empty", path);
    }

    reader r = {.path = path, .slow = buf + len + 1, .slow_cap = len + 2,
                .max_rows = n_term + 1};
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
        if (p.pstate == 0 /* libcsv ROW_NOT_BEGUN: a new row starts here */) {
            r.feed_line = line;
            size_t used = fast_line(&r, buf + pos);
            if (used) {
                pos += used;
                line++;
                continue;
            }
        }
        char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) + 1 : len;
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

    syf_dataset *d = NULL;
    if (!r.status && r.n_cols == 0)
        r.status = syf_error_set(SYF_EINPUT,
                                 "%s: no header row (the file has only comment or blank lines)", path);
    if (!r.status) {
        d = calloc(1, sizeof *d);
        if (!d || !(d->path = malloc(strlen(path) + 1))) {
            free(d);
            d = NULL;
            r.status = syf_error_set(SYF_ENOMEM, "%s: out of memory", path);
        } else {
            strcpy(d->path, path);
            d->n_rows = r.n_rows;
            d->n_cols = r.n_cols;
            d->cols = r.cols;
            d->line = r.lines;
            d->header_line = r.header_line;
            d->arena = buf;
            r.cols = NULL;
            r.lines = NULL;
            buf = NULL;
            r.status = build(d);
        }
    }
    if (r.cols) {
        for (size_t j = 0; j < r.n_hdr; j++) {
            free(r.cols[j].str);
            free(r.cols[j].num);
        }
        free(r.cols);
    }
    free(r.lines);
    free(r.hdr);
    free(buf);
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

/* Factor coding.  Rows are hashed to their distinct levels (provisional ids
 * in order of first appearance, kept in `codes`), only the distinct levels
 * are sorted, and the provisional ids are then mapped to ranks.  This gives
 * the same codes as sorting all rows by (value or text, row) and numbering
 * the runs, and each level keeps the text of its first row in file order. */

typedef struct {
    double v;        /* numeric key (-0 folded into +0)                     */
    const char *s;   /* the level's first cell                              */
    size_t row;      /* its first row                                       */
    size_t id;       /* provisional id                                      */
} flevel;

static int cmp_level_num(const void *a, const void *b)
{
    const flevel *x = a, *y = b;
    return (x->v > y->v) - (x->v < y->v);
}

static int cmp_level_str(const void *a, const void *b)
{
    const flevel *x = a, *y = b;
    return strcmp(x->s, y->s);
}

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return mix64(h);
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

    /* Open addressing: slot holds provisional id + 1 (0 = empty); the table
     * is kept at most half full. */
    size_t cap = 1024, n_lev = 0, cap_lev = 256;
    size_t *slot = calloc(cap, sizeof *slot);
    flevel *lev = malloc(cap_lev * sizeof *lev);
    if (!slot || !lev) {
        free(slot);
        free(lev);
        return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        double v = 0;
        uint64_t h;
        if (numeric) {
            v = c->num[i] == 0 ? 0.0 : c->num[i]; /* -0 and +0 are one level */
            uint64_t bits;
            memcpy(&bits, &v, sizeof bits);
            h = mix64(bits);
        } else {
            h = hash_str(c->str[i]);
        }
        size_t mask = cap - 1, at = (size_t)h & mask, id;
        for (;;) {
            size_t e = slot[at];
            if (e == 0) {
                id = n_lev;
                if ((n_lev + 1) * 2 > cap || n_lev == cap_lev) {
                    /* Grow whatever is full, then redo this row. */
                    if (n_lev == cap_lev &&
                        grow((void **)&lev, &cap_lev, n_lev + 1, sizeof *lev))
                        goto nomem;
                    if ((n_lev + 1) * 2 > cap) {
                        size_t ncap = cap * 2, *ns = calloc(ncap, sizeof *ns);
                        if (!ns)
                            goto nomem;
                        for (size_t k = 0; k < n_lev; k++) {
                            uint64_t hk;
                            if (numeric) {
                                uint64_t b;
                                memcpy(&b, &lev[k].v, sizeof b);
                                hk = mix64(b);
                            } else {
                                hk = hash_str(lev[k].s);
                            }
                            size_t a = (size_t)hk & (ncap - 1);
                            while (ns[a])
                                a = (a + 1) & (ncap - 1);
                            ns[a] = k + 1;
                        }
                        free(slot);
                        slot = ns;
                        cap = ncap;
                        mask = cap - 1;
                        at = (size_t)h & mask;
                        continue;
                    }
                }
                slot[at] = id + 1;
                lev[n_lev++] = (flevel){.v = v, .s = c->str[i], .row = i, .id = id};
                break;
            }
            const flevel *L = &lev[e - 1];
            if (numeric ? L->v == v : !strcmp(L->s, c->str[i])) {
                id = e - 1;
                break;
            }
            at = (at + 1) & mask;
        }
        codes[i] = id;
    }
    free(slot);
    slot = NULL;

    qsort(lev, n_lev, sizeof *lev, numeric ? cmp_level_num : cmp_level_str);
    size_t *rank = malloc(n_lev * sizeof *rank);
    if (!rank)
        goto nomem;
    for (size_t g = 0; g < n_lev; g++) {
        rank[lev[g].id] = g;
        if (levels)
            levels[g] = lev[g].s; /* the level's first occurrence in file order */
    }
    for (size_t i = 0; i < n; i++)
        codes[i] = rank[codes[i]];
    free(rank);
    free(lev);
    *n_levels = n_lev;
    return SYF_OK;

nomem:
    free(slot);
    free(lev);
    return syf_error_set(SYF_ENOMEM, "out of memory");
}
