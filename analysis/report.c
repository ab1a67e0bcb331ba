/* report.c — statistics and pictures for `syfosim report` (see report.h).
 *
 * The report command reads a run's or diagnosis's CSVs; what it computes
 * from them beyond copying tables lives here: the weekly exit hazard of
 * spells (from spells.csv), daily queue lengths (from services.csv), the
 * histogram of replicate estimates (from replicates.csv) and its plot, and
 * the embedding of gnuplot's SVG output into one HTML document.  Plots go
 * through syf_plot_lines() (plot.c), so gnuplot is driven in one place.
 */
#include "syfosim/report.h"

#include "syfosim/error.h"

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int syf_report_weekly_hazard(size_t n, const double *days, const int *status,
                             size_t n_weeks, size_t *at_risk, size_t *events,
                             double *hazard)
{
    if (n > 0 && (days == NULL || status == NULL))
        return syf_error_set(SYF_EINPUT, "weekly hazard: no data");
    size_t *risk = calloc(n_weeks + 1, sizeof *risk);
    size_t *ev = calloc(n_weeks + 1, sizeof *ev);
    if (risk == NULL || ev == NULL) {
        free(risk);
        free(ev);
        return syf_error_set(SYF_ENOMEM, "weekly hazard: out of memory");
    }
    /* exits[w]: spells whose last day falls in week w (they are at risk in
     * weeks 0..w); risk is the reverse cumulative sum. */
    for (size_t i = 0; i < n; i++) {
        double d = days[i];
        if (!isfinite(d) || d < 0) {
            free(risk);
            free(ev);
            return syf_error_set(SYF_EINPUT, "weekly hazard: spell %zu: duration %g is not a "
                                 "non-negative number of days", i + 1, d);
        }
        if (status[i] < SYF_REPORT_CENSORED || status[i] > SYF_REPORT_COMPETING) {
            free(risk);
            free(ev);
            return syf_error_set(SYF_EINPUT, "weekly hazard: spell %zu: unknown status %d",
                                 i + 1, status[i]);
        }
        if (d <= 0)
            continue; /* never at risk in week 0 */
        double w = ceil(d / 7.0) - 1.0; /* week of the last day */
        size_t wk = w >= (double)n_weeks ? n_weeks : (size_t)w;
        risk[wk]++;
        if (status[i] == SYF_REPORT_EVENT && wk < n_weeks)
            ev[wk]++;
    }
    size_t cum = risk[n_weeks];
    for (size_t w = n_weeks; w-- > 0;) {
        cum += risk[w];
        if (at_risk)
            at_risk[w] = cum;
        if (events)
            events[w] = ev[w];
        if (hazard)
            hazard[w] = cum ? (double)ev[w] / (double)cum : NAN;
    }
    free(risk);
    free(ev);
    return SYF_OK;
}

int syf_report_queue_daily(size_t n, const double *referral, const double *start,
                           const size_t *group, size_t n_groups, size_t n_days,
                           double *queue)
{
    if (n_groups == 0)
        n_groups = 1;
    if ((n > 0 && (referral == NULL || start == NULL)) || (n_days > 0 && queue == NULL))
        return syf_error_set(SYF_EINPUT, "queue: no data");
    /* Difference array: +1 on the referral day, -1 on the start day. */
    double *diff = calloc(n_groups * (n_days + 1), sizeof *diff);
    if (diff == NULL)
        return syf_error_set(SYF_ENOMEM, "queue: out of memory");
    for (size_t i = 0; i < n; i++) {
        double a = referral[i], b = start[i];
        size_t g = group ? group[i] : 0;
        if (!isfinite(a) || !isfinite(b) || b < a || g >= n_groups) {
            free(diff);
            if (g >= n_groups)
                return syf_error_set(SYF_EINPUT, "queue: row %zu: group %zu out of range",
                                     i + 1, g);
            return syf_error_set(SYF_EINPUT, "queue: row %zu: referral day %g, start day %g "
                                 "(start must be a number on or after the referral)",
                                 i + 1, a, b);
        }
        a = ceil(a);
        b = ceil(b);
        if (b <= 0 || a >= (double)n_days || a == b)
            continue;
        size_t lo = a < 0 ? 0 : (size_t)a;
        size_t hi = b > (double)n_days ? n_days : (size_t)b;
        diff[g * (n_days + 1) + lo] += 1;
        diff[g * (n_days + 1) + hi] -= 1;
    }
    for (size_t g = 0; g < n_groups; g++) {
        double run = 0;
        for (size_t d = 0; d < n_days; d++) {
            run += diff[g * (n_days + 1) + d];
            queue[g * n_days + d] = run;
        }
    }
    free(diff);
    return SYF_OK;
}

void syf_report_hist_free(syf_report_hist *h)
{
    if (h == NULL)
        return;
    free(h->counts);
    free(h);
}

int syf_report_hist_fit(size_t n, const double *x, size_t n_bins, syf_report_hist **out)
{
    if (out == NULL)
        return syf_error_set(SYF_EINPUT, "histogram: output pointer is NULL");
    *out = NULL;
    if (n > 0 && x == NULL)
        return syf_error_set(SYF_EINPUT, "histogram: no data");
    double *v = malloc((n ? n : 1) * sizeof *v);
    syf_report_hist *h = calloc(1, sizeof *h);
    if (v == NULL || h == NULL) {
        free(v);
        free(h);
        return syf_error_set(SYF_ENOMEM, "histogram: out of memory");
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[m++] = x[i];
    if (m == 0) {
        free(v);
        free(h);
        return syf_error_set(SYF_EINPUT, "histogram: no finite values");
    }
    gsl_sort(v, 1, m);
    const double lo = v[0], hi = v[m - 1];
    if (n_bins > 100)
        n_bins = 100;
    if (hi - lo <= 0 || !isfinite(hi - lo)) {
        h->n_bins = 1;
        h->lo = lo - 0.5;
        h->width = 1.0;
    } else {
        if (n_bins == 0) {
            double iqr = gsl_stats_quantile_from_sorted_data(v, 1, m, 0.75) -
                         gsl_stats_quantile_from_sorted_data(v, 1, m, 0.25);
            double fd = 2.0 * iqr * pow((double)m, -1.0 / 3.0);
            double k = fd > 0 ? ceil((hi - lo) / fd) : ceil(log2((double)m)) + 1.0;
            n_bins = k < 1 ? 1 : k > 100 ? 100 : (size_t)k;
        }
        h->n_bins = n_bins;
        h->lo = lo;
        h->width = (hi - lo) / (double)n_bins;
    }
    h->counts = calloc(h->n_bins, sizeof *h->counts);
    if (h->counts == NULL) {
        free(v);
        free(h);
        return syf_error_set(SYF_ENOMEM, "histogram: out of memory");
    }
    for (size_t i = 0; i < m; i++) {
        double k = floor((v[i] - h->lo) / h->width);
        size_t b = k < 0 ? 0 : k >= (double)h->n_bins ? h->n_bins - 1 : (size_t)k;
        h->counts[b]++;
    }
    h->n = m;
    free(v);
    *out = h;
    return SYF_OK;
}

int syf_report_plot_hist(const syf_report_hist *h, const char *label, double mark,
                         const char *mark_label, const syf_plot_opts *opts, const char *path)
{
    if (h == NULL || h->n_bins == 0)
        return syf_error_set(SYF_EINPUT, "histogram plot: no histogram");
    /* Each bar as an outline 0 -> top -> top -> 0, the bars joined along the axis. */
    size_t np = 4 * h->n_bins;
    double *x = malloc(np * sizeof *x), *y = malloc(np * sizeof *y);
    if (x == NULL || y == NULL) {
        free(x);
        free(y);
        return syf_error_set(SYF_ENOMEM, "histogram plot: out of memory");
    }
    size_t k = 0;
    double ymax = 0;
    for (size_t b = 0; b < h->n_bins; b++) {
        double c = (double)h->counts[b];
        double a = h->lo + (double)b * h->width, e = h->lo + (double)(b + 1) * h->width;
        x[k] = a, y[k++] = 0;
        x[k] = a, y[k++] = c;
        x[k] = e, y[k++] = c;
        x[k] = e, y[k++] = 0;
        if (c > ymax)
            ymax = c;
    }
    double mx[2] = {mark, mark}, my[2] = {0, ymax * 1.08 + 1};
    syf_plot_series s[2] = {
        {.x = x, .y = y, .n = k, .label = label, .style = SYF_PLOT_LINES, .color = 1},
        {.x = mx, .y = my, .n = isfinite(mark) ? 2 : 0, .label = mark_label,
         .style = SYF_PLOT_LINES, .color = 2, .line_width = 2.5},
    };
    syf_plot_opts o;
    if (opts)
        o = *opts;
    else
        syf_plot_opts_init(&o);
    if (isnan(o.ymin))
        o.ymin = 0;
    if (isnan(o.ymax))
        o.ymax = ymax * 1.15 + 1;
    int rc = syf_plot_lines(s, 2, &o, path);
    free(x);
    free(y);
    return rc;
}

/* Is c a character that can appear in an XML id we rewrite? */
static int id_char(char c)
{
    return c && c != '\'' && c != '"' && c != ')' && c != ' ' && c != '>';
}

int syf_report_svg_embed(FILE *out, const char *svg_path, const char *id_prefix)
{
    FILE *f = fopen(svg_path, "rb");
    if (f == NULL)
        return syf_error_set(SYF_ERUNTIME, "%s: cannot open: %s", svg_path, strerror(errno));
    const size_t cap_max = (size_t)64 << 20;
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap)
            break;
        if (cap >= cap_max) {
            free(buf);
            fclose(f);
            return syf_error_set(SYF_EINPUT, "%s: larger than 64 MB", svg_path);
        }
        cap *= 2;
        char *nb = realloc(buf, cap + 1);
        if (nb == NULL)
            free(buf);
        buf = nb;
    }
    int rerr = ferror(f);
    fclose(f);
    if (buf == NULL)
        return syf_error_set(SYF_ENOMEM, "%s: out of memory", svg_path);
    if (rerr) {
        free(buf);
        return syf_error_set(SYF_ERUNTIME, "%s: read error", svg_path);
    }
    buf[len] = '\0';
    const char *p = strstr(buf, "<svg");
    if (p == NULL) {
        free(buf);
        return syf_error_set(SYF_EINPUT, "%s: no <svg> element", svg_path);
    }
    const char *pre = id_prefix ? id_prefix : "";
    while (*p) {
        /* id="X" or id='X' preceded by white space */
        if ((p[0] == ' ' || p[0] == '\t' || p[0] == '\n') && !strncmp(p + 1, "id=", 3) &&
            (p[4] == '"' || p[4] == '\'')) {
            fprintf(out, "%.5s%s-", p, pre);
            p += 5;
            continue;
        }
        /* references: href="#X", href='#X', url(#X) */
        if ((!strncmp(p, "href=\"#", 7) || !strncmp(p, "href='#", 7)) && id_char(p[7])) {
            fprintf(out, "%.7s%s-", p, pre);
            p += 7;
            continue;
        }
        if (!strncmp(p, "url(#", 5) && id_char(p[5])) {
            fprintf(out, "url(#%s-", pre);
            p += 5;
            continue;
        }
        fputc(*p, out);
        p++;
    }
    free(buf);
    return ferror(out) ? syf_error_set(SYF_ERUNTIME, "writing the SVG failed") : SYF_OK;
}

void syf_report_html_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default:
            if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                fputs("\xef\xbf\xbd", out);
            else
                fputc(c, out);
        }
    }
}
