/* plot.c — PNG/SVG plots through a pipe to gnuplot (see plot.h).
 *
 * Every plot in run outputs, diagnoses and reports goes through
 * syf_plot_lines() (x/y series) or syf_plot_stacked_bars() (one stacked
 * bar per group, e.g. the cost breakdown by arm of `syfosim run`): each
 * writes one gnuplot 5 script to popen("gnuplot") (run_gnuplot()),
 * with the data as inline datablocks ($S0 << EOD ... EOD), the terminal
 * chosen from the file extension, and the output set to a fresh temporary
 * file next to the target.  Only when gnuplot exits 0 and the file is non-empty
 * is it renamed onto the target, so readers never see a half-written plot.
 * SIGPIPE (gnuplot dying mid-script) is blocked on the calling thread while
 * writing and any pending one is consumed afterwards, so the library never
 * changes the process-wide signal disposition.
 */
#include "syfosim/plot.h"

#include "syfosim/error.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void syf_plot_opts_init(syf_plot_opts *opts)
{
    if (opts == NULL)
        return;
    memset(opts, 0, sizeof *opts);
    opts->xmin = opts->xmax = opts->ymin = opts->ymax = NAN;
    opts->width = 900;
    opts->height = 600;
    opts->key = "top right";
    opts->grid = 1;
}

/* Is an executable `gnuplot` on PATH (as /bin/sh would find it)? */
static int gnuplot_on_path(void)
{
    const char *path = getenv("PATH");
    if (path == NULL)
        path = "/usr/bin:/bin";
    char buf[4096];
    while (1) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        int k = len == 0 ? snprintf(buf, sizeof buf, "./gnuplot")
                         : snprintf(buf, sizeof buf, "%.*s/gnuplot",
                                    (int)len, path);
        struct stat st;
        if (k > 0 && (size_t)k < sizeof buf && stat(buf, &st) == 0 &&
            S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
            return 1;
        if (end == NULL)
            return 0;
        path = end + 1;
    }
}

/* A gnuplot single-quoted string: no escapes except '' for '; control
 * characters become spaces. */
static void put_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\'')
            fputs("''", f);
        else if (c < 0x20 || c == 0x7f)
            fputc(' ', f);
        else
            fputc(c, f);
    }
    fputc('\'', f);
}

static void put_range(FILE *f, const char *axis, double lo, double hi)
{
    fprintf(f, "set %srange [", axis);
    if (isfinite(lo))
        fprintf(f, "%.10g", lo);
    else
        fputc('*', f);
    fputc(':', f);
    if (isfinite(hi))
        fprintf(f, "%.10g", hi);
    else
        fputc('*', f);
    fputs("]\n", f);
}

static int ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static int key_is_valid(const char *key)
{
    for (const char *p = key; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || *p == ' '))
            return 0;
    return 1;
}

/* Create `path`.tmp.XXXXXX exclusively (mode 0666 less the umask, unlike
 * mkstemp's 0600, so the renamed plot gets ordinary permissions). */
static int create_temp(const char *path, char **out)
{
    static _Atomic unsigned counter;
    size_t len = strlen(path) + sizeof ".tmp.XXXXXX";
    char *tmp = malloc(len);
    if (tmp == NULL)
        return syf_error_set(SYF_ENOMEM, "plot: out of memory");
    for (int attempt = 0; attempt < 100; attempt++) {
        unsigned k = (unsigned)getpid() * 2654435761u ^
                     (unsigned)time(NULL) * 40503u ^ (counter++ * 69069u);
        snprintf(tmp, len, "%s.tmp.%06x", path, k & 0xffffffu);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0) {
            close(fd);
            *out = tmp;
            return SYF_OK;
        }
        if (errno != EEXIST)
            break;
    }
    int e = errno;
    free(tmp);
    return syf_error_set(SYF_ERUNTIME, "plot: cannot write %s: %s", path,
                         strerror(e));
}

/* The terminal and output lines every script starts with. */
static void put_terminal(FILE *g, int svg, int w, int h, const char *tmp_path)
{
    if (w <= 0)
        w = 900;
    if (h <= 0)
        h = 600;
    if (svg)
        fprintf(g, "set terminal svg size %d,%d noenhanced "
                   "font 'sans,12' background rgb 'white'\n",
                w, h);
    else
        fprintf(g, "set terminal pngcairo size %d,%d noenhanced "
                   "font 'sans,11'\n",
                w, h);
    fputs("set encoding utf8\nset output ", g);
    put_str(g, tmp_path);
    fputc('\n', g);
}

/* Titles, axis labels, key and grid of the options. */
static void put_decor(FILE *g, const syf_plot_opts *o)
{
    if (o->title && *o->title) {
        fputs("set title ", g);
        put_str(g, o->title);
        fputc('\n', g);
    }
    if (o->xlabel && *o->xlabel) {
        fputs("set xlabel ", g);
        put_str(g, o->xlabel);
        fputc('\n', g);
    }
    if (o->ylabel && *o->ylabel) {
        fputs("set ylabel ", g);
        put_str(g, o->ylabel);
        fputc('\n', g);
    }
    const char *key = o->key ? o->key : "top right";
    if (strcmp(key, "off") == 0)
        fputs("unset key\n", g);
    else
        fprintf(g, "set key %s\n", key);
}

typedef struct {
    const syf_plot_series *series;
    size_t n_series;
    const syf_plot_opts *o;
} lines_script;

/* Write the whole line-plot script.  Returns nonzero if a write failed. */
static int write_lines_script(FILE *g, int svg, const char *tmp_path, const void *vctx)
{
    const lines_script *c = vctx;
    const syf_plot_series *series = c->series;
    const size_t n_series = c->n_series;
    const syf_plot_opts *o = c->o;
    put_terminal(g, svg, o->width, o->height, tmp_path);

    for (size_t s = 0; s < n_series; s++) {
        fprintf(g, "$S%zu << EOD\n", s);
        const syf_plot_series *p = &series[s];
        for (size_t i = 0; i < p->n; i++) {
            if (isfinite(p->x[i]) && isfinite(p->y[i]))
                fprintf(g, "%.10g %.10g\n", p->x[i], p->y[i]);
            else
                fputc('\n', g); /* a blank line breaks the line */
        }
        fputs("EOD\n", g);
    }

    put_decor(g, o);
    if (o->grid)
        fputs("set grid lc rgb '#d0d0d0'\n", g);
    put_range(g, "x", o->xmin, o->xmax);
    put_range(g, "y", o->ymin, o->ymax);
    fputs("set border 3\nset tics nomirror\n", g);

    fputs("plot ", g);
    int next_color = 1, first = 1;
    for (size_t s = 0; s < n_series; s++) {
        const syf_plot_series *p = &series[s];
        int color = p->color > 0 ? p->color : next_color++;
        if (p->n == 0)
            continue; /* gnuplot rejects empty data */
        double lw = p->line_width > 0 ? p->line_width : 2.0;
        if (!first)
            fputs(", \\\n     ", g);
        first = 0;
        fprintf(g, "$S%zu using 1:2 with ", s);
        switch (p->style) {
        case SYF_PLOT_STEPS:
            fprintf(g, "steps lw %g", lw);
            break;
        case SYF_PLOT_POINTS:
            fprintf(g, "points pt %d", p->point_type > 0 ? p->point_type : 7);
            break;
        case SYF_PLOT_LINESPOINTS:
            fprintf(g, "linespoints lw %g pt %d", lw,
                    p->point_type > 0 ? p->point_type : 7);
            break;
        default:
            fprintf(g, "lines lw %g", lw);
            break;
        }
        fprintf(g, " lc %d ", color);
        if (p->label && *p->label) {
            fputs("title ", g);
            put_str(g, p->label);
        } else {
            fputs("notitle", g);
        }
    }
    fputs("\nunset output\nexit\n", g);
    return fflush(g) != 0 || ferror(g);
}

/* Which terminal a path asks for: 1 SVG, 0 PNG, -1 neither (error set). */
static int path_terminal(const char *path)
{
    if (path == NULL || *path == '\0') {
        syf_error_set(SYF_EINPUT, "plot: no output path");
        return -1;
    }
    if (ends_with_ci(path, ".svg"))
        return 1;
    if (ends_with_ci(path, ".png"))
        return 0;
    syf_error_set(SYF_EINPUT, "plot: %s: extension must be .png or .svg", path);
    return -1;
}

typedef int (*script_fn)(FILE *g, int svg, const char *tmp_path, const void *ctx);

/* Pipe the script written by `emit` to gnuplot, drawing into a temporary
 * file next to `path`, and rename it onto `path` when gnuplot succeeded. */
static int run_gnuplot(const char *path, int svg, script_fn emit, const void *ctx)
{
    if (!gnuplot_on_path())
        return syf_error_set(SYF_ERUNTIME,
                             "plot: gnuplot is not installed (not found on "
                             "PATH); cannot write %s",
                             path);

    char *tmp = NULL;
    int rc = create_temp(path, &tmp);
    if (rc != SYF_OK)
        return rc;

    /* Block SIGPIPE on this thread while talking to gnuplot. */
    sigset_t pipe_set, old_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);

    fflush(NULL); /* do not let the child inherit unflushed buffers */
    FILE *g = popen("gnuplot", "w");
    if (g == NULL) {
        rc = syf_error_set(SYF_ERUNTIME, "plot: cannot start gnuplot: %s",
                           strerror(errno));
    } else {
        int werr = emit(g, svg, tmp, ctx);
        int status = pclose(g);
        if (status == -1)
            rc = syf_error_set(SYF_ERUNTIME, "plot: waiting for gnuplot: %s",
                               strerror(errno));
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            rc = syf_error_set(SYF_ERUNTIME,
                               "plot: gnuplot failed writing %s (%s %d)",
                               path,
                               WIFEXITED(status) ? "exit status" : "signal",
                               WIFEXITED(status) ? WEXITSTATUS(status)
                                                 : WTERMSIG(status));
        else if (werr)
            rc = syf_error_set(SYF_ERUNTIME,
                               "plot: writing the script to gnuplot failed");
    }

    /* Consume a SIGPIPE raised while blocked, unless it was already
     * blocked (and so perhaps pending) before we came in. */
    if (!sigismember(&old_set, SIGPIPE)) {
        sigset_t pending;
        if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
            const struct timespec zero = {0, 0};
            sigtimedwait(&pipe_set, NULL, &zero);
        }
    }
    pthread_sigmask(SIG_SETMASK, &old_set, NULL);

    if (rc == SYF_OK) {
        struct stat st;
        if (stat(tmp, &st) != 0 || st.st_size == 0)
            rc = syf_error_set(SYF_ERUNTIME,
                               "plot: gnuplot wrote nothing for %s", path);
        else if (rename(tmp, path) != 0)
            rc = syf_error_set(SYF_ERUNTIME, "plot: cannot rename onto %s: %s",
                               path, strerror(errno));
    }
    if (rc != SYF_OK)
        unlink(tmp);
    free(tmp);
    return rc;
}

int syf_plot_available(void) { return gnuplot_on_path(); }

int syf_plot_lines(const syf_plot_series *series, size_t n_series,
                   const syf_plot_opts *opts, const char *path)
{
    const int svg = path_terminal(path);
    if (svg < 0)
        return SYF_EINPUT;
    if (series == NULL && n_series > 0)
        return syf_error_set(SYF_EINPUT, "plot: series is NULL");
    size_t n_data = 0;
    for (size_t s = 0; s < n_series; s++) {
        if (series[s].n > 0 && (series[s].x == NULL || series[s].y == NULL))
            return syf_error_set(SYF_EINPUT,
                                 "plot: series %zu has no x or y values",
                                 s + 1);
        n_data += series[s].n;
    }
    if (n_data == 0)
        return syf_error_set(SYF_EINPUT, "plot: %s: nothing to plot", path);
    syf_plot_opts o;
    if (opts)
        o = *opts;
    else
        syf_plot_opts_init(&o);
    if (o.key && !key_is_valid(o.key))
        return syf_error_set(SYF_EINPUT, "plot: invalid key position '%s'",
                             o.key);
    const lines_script ctx = {series, n_series, &o};
    return run_gnuplot(path, svg, write_lines_script, &ctx);
}

/* A label as one field of a tab-separated gnuplot data line: tabs, control
 * characters and double quotes (gnuplot's string quotes in data) become
 * spaces and single quotes; an empty label becomes "-". */
static void put_field(FILE *f, const char *s)
{
    fputc('"', f);
    if (s == NULL || *s == '\0')
        fputc('-', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"')
            fputc('\'', f);
        else if (c < 0x20 || c == 0x7f)
            fputc(' ', f);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

typedef struct {
    const char *const *groups, *const *notes;
    size_t n_groups;
    const char *const *parts;
    size_t n_parts;
    const double *values;
    const syf_plot_opts *o;
} bars_script;

static int write_bars_script(FILE *g, int svg, const char *tmp_path, const void *vctx)
{
    const bars_script *c = vctx;
    const syf_plot_opts *o = c->o;
    put_terminal(g, svg, o->width, o->height, tmp_path);
    /* one line per bar: its label, then its parts bottom-up */
    fputs("set datafile separator \"\\t\"\n$B << EOD\n", g);
    for (size_t k = 0; k < c->n_groups; k++) {
        put_field(g, c->groups ? c->groups[k] : NULL);
        for (size_t p = 0; p < c->n_parts; p++)
            fprintf(g, "\t%.10g", c->values[p * c->n_groups + k]);
        fputc('\n', g);
    }
    fputs("EOD\n", g);
    put_decor(g, o);
    if (o->grid)
        fputs("set grid ytics lc rgb '#d0d0d0'\n", g);
    /* notes above the bars (bar k stands at x = k) */
    double top = 0;
    for (size_t k = 0; k < c->n_groups; k++) {
        double t = 0;
        for (size_t p = 0; p < c->n_parts; p++)
            t += c->values[p * c->n_groups + k];
        if (t > top)
            top = t;
        if (c->notes && c->notes[k] && *c->notes[k]) {
            fprintf(g, "set label %zu ", k + 1);
            put_str(g, c->notes[k]);
            fprintf(g, " at %zu,%.10g center offset 0,0.9\n", k, t);
        }
    }
    fputs("set style data histograms\nset style histogram rowstacked\n"
          "set style fill solid 0.85 border rgb '#404040'\nset boxwidth 0.6 relative\n"
          "set border 3\nset tics nomirror\nset xtics scale 0\n",
          g);
    put_range(g, "y", isfinite(o->ymin) ? o->ymin : 0.0,
              isfinite(o->ymax) ? o->ymax : top > 0 ? 1.12 * top : NAN);
    fputs("plot ", g);
    for (size_t p = 0; p < c->n_parts; p++) {
        if (p)
            fputs(", \\\n     ", g);
        fprintf(g, "$B using %zu%s lc %zu ", p + 2, p == 0 ? ":xtic(1)" : "", p + 1);
        const char *lab = c->parts ? c->parts[p] : NULL;
        if (lab && *lab) {
            fputs("title ", g);
            put_str(g, lab);
        } else {
            fputs("notitle", g);
        }
    }
    fputs("\nunset output\nexit\n", g);
    return fflush(g) != 0 || ferror(g);
}

int syf_plot_stacked_bars(const char *const *group_labels,
                          const char *const *group_notes, size_t n_groups,
                          const char *const *part_labels, size_t n_parts,
                          const double *values, const syf_plot_opts *opts,
                          const char *path)
{
    const int svg = path_terminal(path);
    if (svg < 0)
        return SYF_EINPUT;
    if (n_groups == 0 || n_parts == 0)
        return syf_error_set(SYF_EINPUT, "plot: %s: nothing to plot (%zu bars, %zu parts)",
                             path, n_groups, n_parts);
    if (values == NULL)
        return syf_error_set(SYF_EINPUT, "plot: bar values are NULL");
    for (size_t p = 0; p < n_parts; p++)
        for (size_t k = 0; k < n_groups; k++) {
            double v = values[p * n_groups + k];
            if (!isfinite(v) || v < 0)
                return syf_error_set(SYF_EINPUT,
                                     "plot: bar %zu, part %zu: value %g (stacked bars need "
                                     "finite values >= 0)",
                                     k + 1, p + 1, v);
        }
    syf_plot_opts o;
    if (opts)
        o = *opts;
    else
        syf_plot_opts_init(&o);
    if (o.key && !key_is_valid(o.key))
        return syf_error_set(SYF_EINPUT, "plot: invalid key position '%s'",
                             o.key);
    const bars_script ctx = {group_labels, group_notes, n_groups, part_labels, n_parts, values,
                             &o};
    return run_gnuplot(path, svg, write_bars_script, &ctx);
}

int syf_plot_km(const syf_km *km, const char *const *group_labels,
                const char *title, const char *path)
{
    if (km == NULL)
        return syf_error_set(SYF_EINPUT, "plot km: no curves");
    size_t K = syf_km_n_groups(km);
    size_t total = 0;
    for (size_t g = 0; g < K; g++) {
        size_t m;
        syf_km_points(km, g, &m);
        total += m;
    }
    /* Per group: a step curve (start point + m points) and the censoring
     * marks (at most m points). */
    syf_plot_series *ser = calloc(2 * K, sizeof *ser);
    double *buf = malloc((4 * total + 2 * K + 1) * sizeof *buf);
    char *labels = malloc(K * 160 + 1);
    if (ser == NULL || buf == NULL || labels == NULL) {
        free(ser);
        free(buf);
        free(labels);
        return syf_error_set(SYF_ENOMEM, "plot km: out of memory");
    }

    double *b = buf, xmin = 0.0;
    for (size_t g = 0; g < K; g++) {
        size_t m;
        const syf_km_point *p = syf_km_points(km, g, &m);
        if (m > 0 && p[0].time < xmin)
            xmin = p[0].time;
    }
    for (size_t g = 0; g < K; g++) {
        size_t m;
        const syf_km_point *p = syf_km_points(km, g, &m);
        char *lab = labels + g * 160;
        const char *name =
            group_labels && group_labels[g] ? group_labels[g] : NULL;
        if (name)
            snprintf(lab, 160, "%s (n = %zu)", name, syf_km_group_n(km, g));
        else
            snprintf(lab, 160, "group %zu (n = %zu)", g + 1,
                     syf_km_group_n(km, g));

        syf_plot_series *curve = &ser[2 * g], *cens = &ser[2 * g + 1];
        double *cx = b, *cy = b + m + 1;
        b += 2 * (m + 1);
        size_t k = 0;
        if (m > 0) {
            cx[k] = xmin;
            cy[k++] = 1.0;
        }
        for (size_t i = 0; i < m; i++) {
            cx[k] = p[i].time;
            cy[k++] = p[i].surv;
        }
        *curve = (syf_plot_series){.x = cx, .y = cy, .n = k, .label = lab,
                                   .style = SYF_PLOT_STEPS,
                                   .color = (int)g + 1};

        double *mx = b, *my = b + m;
        b += 2 * m;
        size_t c = 0;
        for (size_t i = 0; i < m; i++)
            if (p[i].n_censor > 0) {
                mx[c] = p[i].time;
                my[c++] = p[i].surv;
            }
        *cens = (syf_plot_series){.x = mx, .y = my, .n = c, .label = NULL,
                                  .style = SYF_PLOT_POINTS,
                                  .color = (int)g + 1, .point_type = 1};
    }

    syf_plot_opts o;
    syf_plot_opts_init(&o);
    o.title = title;
    o.xlabel = "Days since spell start";
    o.ylabel = "Share still on sick leave";
    o.xmin = xmin;
    o.ymin = 0.0;
    o.ymax = 1.0;
    int rc = syf_plot_lines(ser, 2 * K, &o, path);
    free(ser);
    free(buf);
    free(labels);
    return rc;
}
