/* test_dataset.c — unit tests for the CSV column store (analysis/dataset.c).
 *
 * Each test writes a small CSV to a temporary file, reads it and checks the
 * cells, the numeric and factor accessors, and the exact wording (file and
 * line) of every input error the reader promises.  Run from the repository
 * root (tests/data/petersen.csv is read as a real-size file).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "syfosim/dataset.h"
#include "syfosim/error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write `text` to a new temporary file; its path goes to `path` (>= 32). */
static void write_tmp(char *path, const char *text)
{
    strcpy(path, "/tmp/syf_dataset_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
}

/* Read `text` as a CSV; returns the status and leaves the dataset in *d. */
static int read_text(const char *text, char *path, syf_dataset **d)
{
    write_tmp(path, text);
    int st = syf_dataset_read(path, d);
    return st;
}

/* Assert that reading `text` fails with SYF_EINPUT and a message containing
 * `want` with "@" replaced by the temporary file's path. */
static void expect_read_error(const char *text, const char *want)
{
    char path[64], expect[256];
    syf_dataset *d = (syf_dataset *)1;
    int st = read_text(text, path, &d);
    const char *at = strchr(want, '@');
    if (at)
        snprintf(expect, sizeof expect, "%.*s%s%s", (int)(at - want), want, path, at + 1);
    else
        snprintf(expect, sizeof expect, "%s", want);
    unlink(path);
    if (st != SYF_EINPUT || !strstr(syf_error_message(), expect)) {
        print_error("status %d, message \"%s\"; wanted \"%s\"\n", st, syf_error_message(), expect);
        fail();
    }
    assert_null(d);
}

static void expect_message(const char *want_fmt_path, const char *path)
{
    char expect[256];
    const char *at = strchr(want_fmt_path, '@');
    if (at)
        snprintf(expect, sizeof expect, "%.*s%s%s", (int)(at - want_fmt_path), want_fmt_path, path,
                 at + 1);
    else
        snprintf(expect, sizeof expect, "%s", want_fmt_path);
    if (!strstr(syf_error_message(), expect)) {
        print_error("message \"%s\"; wanted \"%s\"\n", syf_error_message(), expect);
        fail();
    }
}

static void test_basic_and_quoting(void **state)
{
    (void)state;
    char path[64];
    syf_dataset *d = NULL;
    const char *text = "# syfosim 0.1.0 (git abc) provenance line\n"
                       "#second comment\n"
                       "\n"
                       "id,\"name, quoted\",value\r\n"
                       "1,\"Smith, J\",2.5\r\n"
                       "2,\"line1\nline2\",-3e2\r\n"
                       "3,\"say \"\"hi\"\"\", 7 \r\n"
                       "4,plain,\n";
    assert_int_equal(read_text(text, path, &d), SYF_OK);
    unlink(path);
    assert_int_equal(d->n_cols, 3);
    assert_int_equal(d->n_rows, 4);
    assert_int_equal(d->header_line, 4);
    assert_string_equal(d->cols[1].name, "name, quoted");
    assert_string_equal(d->cols[1].str[0], "Smith, J");
    assert_string_equal(d->cols[1].str[1], "line1\nline2");
    assert_string_equal(d->cols[1].str[2], "say \"hi\"");
    assert_int_equal(d->line[0], 5);
    assert_int_equal(d->line[1], 6);
    assert_int_equal(d->line[2], 8); /* the quoted newline moved it on */
    assert_int_equal(d->line[3], 9);
    assert_true(d->cols[2].num[0] == 2.5);
    assert_true(d->cols[2].num[1] == -300.0);
    assert_true(d->cols[2].num[2] == 7.0);
    assert_true(isnan(d->cols[2].num[3]));
    assert_int_equal(d->cols[2].n_bad, 1);
    assert_int_equal(d->cols[1].n_bad, 4);

    size_t j = 99;
    assert_int_equal(syf_dataset_column_find(d, "value", &j), SYF_OK);
    assert_int_equal(j, 2);
    const double *v = NULL;
    assert_int_equal(syf_dataset_column_numeric(d, "id", &v), SYF_OK);
    assert_true(v[3] == 4.0);

    /* The empty cell on line 9 is reported with its line. */
    assert_int_equal(syf_dataset_column_numeric(d, "value", &v), SYF_EINPUT);
    expect_message("@:9: column 'value': empty cell", path);

    /* Unknown column: names the file and lists what there is. */
    assert_int_equal(syf_dataset_column_find(d, "nope", &j), SYF_EINPUT);
    expect_message("@: no column named 'nope' (available: id, name, quoted, value)", path);
    syf_dataset_free(d);
}

static void test_bom_no_trailing_newline(void **state)
{
    (void)state;
    char path[64];
    syf_dataset *d = NULL;
    assert_int_equal(read_text("\xEF\xBB\xBF" "a,b\n1,2\n3,4", path, &d), SYF_OK);
    unlink(path);
    assert_string_equal(d->cols[0].name, "a");
    assert_int_equal(d->n_rows, 2);
    assert_true(d->cols[1].num[1] == 4.0);
    syf_dataset_free(d);

    /* Header only: a valid, empty dataset. */
    assert_int_equal(read_text("a,b\n", path, &d), SYF_OK);
    unlink(path);
    assert_int_equal(d->n_rows, 0);
    assert_int_equal(d->n_cols, 2);
    syf_dataset_free(d);
}

static void test_numeric_errors(void **state)
{
    (void)state;
    char path[64];
    syf_dataset *d = NULL;
    const char *text = "#c\n"
                       "x,na,inf,nan,hex\n"
                       "1,1,1,1,1\n"
                       "2.5e-3,2,2,2,0x10\n"
                       "abc,NA,-inf,NaN,3\n"
                       "4,4,4,4,4\n";
    assert_int_equal(read_text(text, path, &d), SYF_OK);
    unlink(path);
    const double *v;
    assert_int_equal(syf_dataset_column_numeric(d, "x", &v), SYF_EINPUT);
    expect_message("@:5: column 'x': 'abc' is not a number", path);
    assert_int_equal(syf_dataset_column_numeric(d, "na", &v), SYF_EINPUT);
    expect_message("@:5: column 'na': missing value 'NA'", path);
    assert_int_equal(syf_dataset_column_numeric(d, "inf", &v), SYF_EINPUT);
    expect_message("@:5: column 'inf': '-inf' is not a finite number", path);
    assert_int_equal(syf_dataset_column_numeric(d, "nan", &v), SYF_EINPUT);
    expect_message("@:5: column 'nan': missing value 'NaN'", path);
    assert_int_equal(syf_dataset_column_numeric(d, "hex", &v), SYF_OK); /* strtod syntax */
    assert_true(v[1] == 16.0);
    assert_int_equal(syf_dataset_column_numeric(d, "missing", &v), SYF_EINPUT);
    expect_message("no column named 'missing'", path);
    syf_dataset_free(d);
}

static void test_read_errors(void **state)
{
    (void)state;
    syf_dataset *d = (syf_dataset *)1;
    assert_int_equal(syf_dataset_read("/nonexistent/dir/data.csv", &d), SYF_EINPUT);
    assert_null(d);
    assert_non_null(strstr(syf_error_message(), "cannot open data file '/nonexistent/dir/data.csv'"));

    expect_read_error("", "@: file is empty");
    expect_read_error("  \n\n", "@: file is empty");
    expect_read_error("# only a comment\n\n# and another\n", "@: no header row");
    expect_read_error("#c\n1,2,3\n4,5,6\n", "@:2: no header row");
    expect_read_error("a,b,c\n1,2,3\n4,5\n", "@:3: row has 2 fields but the header has 3");
    expect_read_error("a,b\n1,2\n3,4,5\n", "@:3: row has 3 fields but the header has 2");
    expect_read_error("a,b,a\n1,2,3\n", "@:1: duplicate column name 'a' (columns 1 and 3)");
    expect_read_error("a,,c\n1,2,3\n", "@:1: column 2 has an empty name");
    expect_read_error("a,b\n1,\"open\n", "unterminated quoted field");
    expect_read_error("a,b\n1,x\"y\"\n", "@:2: malformed CSV");
}

static void test_factor(void **state)
{
    (void)state;
    char path[64];
    syf_dataset *d = NULL;
    const char *text = "num,str,mixed\n"
                       "10,b,10\n"
                       "2,a,x\n"
                       "1.0,c,2\n"
                       "1,a,10\n"
                       "2,b,x\n";
    assert_int_equal(read_text(text, path, &d), SYF_OK);
    unlink(path);
    size_t codes[5], G = 0;
    const char *levels[5];

    /* All numeric: numeric order, "1.0" and "1" are one level. */
    assert_int_equal(syf_dataset_column_factor(d, "num", codes, &G, levels), SYF_OK);
    assert_int_equal(G, 3);
    size_t want_num[] = {2, 1, 0, 0, 1};
    for (int i = 0; i < 5; i++)
        assert_int_equal(codes[i], want_num[i]);
    assert_string_equal(levels[0], "1.0"); /* first occurrence in file order */
    assert_string_equal(levels[1], "2");
    assert_string_equal(levels[2], "10");

    assert_int_equal(syf_dataset_column_factor(d, "str", codes, &G, NULL), SYF_OK);
    assert_int_equal(G, 3);
    size_t want_str[] = {1, 0, 2, 0, 1};
    for (int i = 0; i < 5; i++)
        assert_int_equal(codes[i], want_str[i]);

    /* Not all numeric: strcmp order, so "10" < "2" < "x". */
    assert_int_equal(syf_dataset_column_factor(d, "mixed", codes, &G, levels), SYF_OK);
    assert_int_equal(G, 3);
    size_t want_mixed[] = {0, 2, 1, 0, 2};
    for (int i = 0; i < 5; i++)
        assert_int_equal(codes[i], want_mixed[i]);
    assert_string_equal(levels[0], "10");
    assert_string_equal(levels[2], "x");
    syf_dataset_free(d);

    /* Missing cluster ids are errors. */
    assert_int_equal(read_text("g,y\na,1\n,2\n", path, &d), SYF_OK);
    unlink(path);
    assert_int_equal(syf_dataset_column_factor(d, "g", codes, &G, NULL), SYF_EINPUT);
    expect_message("@:3: column 'g': empty cell", path);
    assert_int_equal(syf_dataset_column_factor(d, "h", codes, &G, NULL), SYF_EINPUT);
    expect_message("no column named 'h'", path);
    syf_dataset_free(d);
}

static void test_petersen(void **state)
{
    (void)state;
    syf_dataset *d = NULL;
    int st = syf_dataset_read("tests/data/petersen.csv", &d);
    if (st) {
        print_error("%s\n", syf_error_message());
        fail();
    }
    assert_int_equal(d->n_rows, 5000);
    assert_int_equal(d->n_cols, 4);
    assert_string_equal(d->cols[0].name, "firm");
    const double *x;
    assert_int_equal(syf_dataset_column_numeric(d, "x", &x), SYF_OK);
    assert_true(x[0] == -1.11397266387939);
    size_t *codes = malloc(d->n_rows * sizeof *codes), G = 0;
    assert_int_equal(syf_dataset_column_factor(d, "firm", codes, &G, NULL), SYF_OK);
    assert_int_equal(G, 500);
    assert_int_equal(codes[0], 0);
    assert_int_equal(codes[4999], 499);
    free(codes);
    syf_dataset_free(d);
    syf_dataset_free(NULL);
}

/* The reader converts plain decimals on a fast path; every value must be
 * bit-identical to strtod on the same text, whatever the path taken. */
static void test_numbers_match_strtod(void **state)
{
    (void)state;
    char path[] = "/tmp/syf_test_numbers_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    enum { N = 20000 };
    static char text[N][40];
    uint64_t x = 88172645463325252ULL; /* xorshift64 */
    fprintf(f, "v\n");
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int kind = (int)(x % 8), digits = 1 + (int)((x >> 8) % 19), point = (int)((x >> 16) % 21);
        char *t = text[i];
        size_t k = 0;
        if ((x >> 24) & 1)
            t[k++] = '-';
        for (int d = 0; d < digits; d++) {
            if (d == point)
                t[k++] = '.';
            t[k++] = (char)('0' + (x >> (28 + (d % 30))) % 10);
        }
        if (kind == 0) /* exponent: the slow path */
            k += (size_t)sprintf(t + k, "e%d", (int)((x >> 40) % 40) - 20);
        else if (kind == 1 && point >= digits) /* trailing point, none inside */
            t[k++] = '.';
        t[k] = '\0';
        fprintf(f, "%s\n", t);
    }
    fclose(f);
    syf_dataset *d;
    int st = syf_dataset_read(path, &d);
    if (st != SYF_OK)
        fprintf(stderr, "%s\n", syf_error_message());
    assert_int_equal(st, SYF_OK);
    const double *v;
    st = syf_dataset_column_numeric(d, "v", &v);
    if (st != SYF_OK)
        fprintf(stderr, "%s\n", syf_error_message());
    assert_int_equal(st, SYF_OK);
    for (int i = 0; i < N; i++) {
        double want = strtod(text[i], NULL);
        if (memcmp(&want, &v[i], sizeof want) != 0)
            fprintf(stderr, "'%s': %a vs strtod %a\n", text[i], v[i], want);
        assert_memory_equal(&want, &v[i], sizeof want);
    }
    syf_dataset_free(d);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_and_quoting),
        cmocka_unit_test(test_bom_no_trailing_newline),
        cmocka_unit_test(test_numeric_errors),
        cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_factor),
        cmocka_unit_test(test_petersen),
        cmocka_unit_test(test_numbers_match_strtod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
