/* report.h — the computations and pictures behind `syfosim report`.
 *
 * The report (cli/cmd_report.c) reads the CSVs a run or diagnosis wrote and
 * turns them into one self-contained HTML page.  The pieces that are
 * statistics or pictures rather than HTML live here so they can be tested:
 *
 *   - syf_report_weekly_hazard(): the discrete-time hazard of leaving sick
 *     leave by week since the spell started (life-table style, with
 *     censoring and competing exits removed from the risk set);
 *   - syf_report_queue_daily(): how many people wait for a service on each
 *     day, from referral and start days;
 *   - syf_report_hist_*: a histogram with automatic bins (Freedman–Diaconis,
 *     Sturges where the IQR is zero), and its gnuplot plot with a marked
 *     value (the mean estimand against the sampling distribution);
 *   - syf_report_svg_embed(): copies a gnuplot SVG file into an HTML page,
 *     without the XML prolog and with every id made unique to the plot, so
 *     that several plots can live inline in one document.
 */
#ifndef SYFOSIM_REPORT_H
#define SYFOSIM_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "syfosim/plot.h"

/* Status of a spell for the weekly hazard. */
enum {
    SYF_REPORT_CENSORED = 0,  /* still sick when observation ended        */
    SYF_REPORT_EVENT = 1,     /* the exit whose hazard is wanted           */
    SYF_REPORT_COMPETING = 2  /* another kind of exit (leaves the risk set) */
};

/* Weekly hazard.  Spell i lasted days[i] sick days (finite, >= 0) and ended
 * with status[i] (SYF_REPORT_*).  Week w (0-based) covers spell days
 * 7w+1 .. 7w+7.  at_risk[w] counts spells with days > 7w (sick at the start
 * of week w); events[w] those with status EVENT and 7w < days <= 7w + 7;
 * hazard[w] = events[w] / at_risk[w] (NaN if nobody is at risk).  Any of
 * the three output arrays (n_weeks each) may be NULL.  SYF_EINPUT on a
 * negative or non-finite duration or an unknown status. */
int syf_report_weekly_hazard(size_t n, const double *days, const int *status,
                             size_t n_weeks, size_t *at_risk, size_t *events,
                             double *hazard);

/* Queue lengths.  Person i was referred on day referral[i] and served from
 * day start[i]; they wait on days d with referral[i] <= d < start[i].
 * group[i] in 0..n_groups-1 (group may be NULL: one group).  queue is
 * n_groups × n_days, row-major: queue[g * n_days + d] = number waiting on
 * day d (days outside 0..n_days-1 are ignored).  SYF_EINPUT on non-finite
 * days, start before referral or a bad group. */
int syf_report_queue_daily(size_t n, const double *referral, const double *start,
                           const size_t *group, size_t n_groups, size_t n_days,
                           double *queue);

/* Histogram of the finite values of x. */
typedef struct {
    size_t n;        /* finite values counted                         */
    size_t n_bins;
    double lo;       /* left edge of the first bin                    */
    double width;    /* bin width (> 0)                               */
    size_t *counts;  /* n_bins; bin k is [lo + k w, lo + (k+1) w), the
                        last one closed on the right                  */
} syf_report_hist;

/* Fit a histogram.  n_bins = 0 chooses Freedman–Diaconis bins
 * (width 2 IQR n^(-1/3)), Sturges' ceil(log2 n) + 1 where the IQR is 0,
 * clamped to 1..100 bins; a constant sample gets one bin of width 1
 * centred on the value.  SYF_EINPUT if no value is finite. */
int syf_report_hist_fit(size_t n, const double *x, size_t n_bins,
                        syf_report_hist **out);
void syf_report_hist_free(syf_report_hist *h);

/* Plot the histogram as bars (outline) into `path` (.svg or .png), with a
 * vertical line at `mark` (if finite) labelled mark_label in the key.
 * opts may be NULL (defaults).  Errors as syf_plot_lines(). */
int syf_report_plot_hist(const syf_report_hist *h, const char *label, double mark,
                         const char *mark_label, const syf_plot_opts *opts,
                         const char *path);

/* Copy the SVG file at svg_path to `out` for inline use in HTML: from the
 * first "<svg" on (the XML prolog and doctype are dropped), every id="X" /
 * id='X' becomes id_prefix-X and every "#X" reference (href, url()) follows.
 * SYF_ERUNTIME if the file cannot be read, SYF_EINPUT if it holds no <svg>
 * element or is larger than 64 MB. */
int syf_report_svg_embed(FILE *out, const char *svg_path, const char *id_prefix);

/* Write s to `out` with &, <, >, " and ' escaped for HTML text and
 * attribute values; control characters other than tab and newline become
 * U+FFFD. */
void syf_report_html_escape(FILE *out, const char *s);

#endif
