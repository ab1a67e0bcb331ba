/* plot.h — PNG and SVG plots drawn by gnuplot through a pipe.
 *
 * syf_plot_lines() draws any number of x/y series (lines, steps or points)
 * into one PNG (pngcairo) or SVG file chosen by the path's extension; the
 * data go to gnuplot as inline datablocks, never as temporary data files.
 * The picture is written to a temporary file beside `path` and renamed over
 * it only when gnuplot succeeds, so a failed plot leaves no partial file.
 * syf_plot_km() builds the Kaplan–Meier plot on top of it;
 * syf_plot_stacked_bars() draws one stacked bar per group (e.g. the cost
 * breakdown of each arm) the same way.
 *
 * gnuplot is looked up on PATH; if it is missing the functions return
 * SYF_ERUNTIME with a message saying so.
 */
#ifndef SYFOSIM_PLOT_H
#define SYFOSIM_PLOT_H

#include <stddef.h>

#include "syfosim/km.h"

enum {
    SYF_PLOT_LINES = 0,  /* straight segments between points             */
    SYF_PLOT_STEPS,      /* horizontal then vertical (a step function)    */
    SYF_PLOT_POINTS,     /* markers only                                  */
    SYF_PLOT_LINESPOINTS /* segments and markers                          */
};

typedef struct {
    const double *x;    /* n values each; non-finite values are gaps     */
    const double *y;
    size_t n;
    const char *label;  /* key entry; NULL or "" = not in the key         */
    int style;          /* SYF_PLOT_LINES, ...                            */
    int color;          /* 1-based index into the palette; 0 = next one   */
    int point_type;     /* gnuplot point type for markers; 0 = default    */
    double line_width;  /* 0 = 2                                          */
} syf_plot_series;

typedef struct {
    const char *title;  /* NULL = none                                    */
    const char *xlabel;
    const char *ylabel;
    double xmin, xmax;  /* NaN = automatic                                */
    double ymin, ymax;
    int width, height;  /* pixels; 0 = 900 × 600                          */
    const char *key;    /* gnuplot key position, e.g. "top right"; NULL =
                           "top right", "off" = no key                    */
    int grid;           /* nonzero: draw a background grid                */
} syf_plot_opts;

/* Defaults: no titles, automatic ranges, 900 × 600, key top right, grid. */
void syf_plot_opts_init(syf_plot_opts *opts);

/* Draw the series into `path` (".png" or ".svg", case-insensitive).
 * Returns SYF_EINPUT for a bad extension or series, SYF_ERUNTIME if gnuplot
 * is missing or fails or the file cannot be written. */
int syf_plot_lines(const syf_plot_series *series, size_t n_series,
                   const syf_plot_opts *opts, const char *path);

/* Nonzero if gnuplot is on PATH (callers can skip plots with one notice). */
int syf_plot_available(void);

/* Stacked bars: one bar per group, labelled group_labels[k] on the x axis
 * (may be NULL: unlabelled) and annotated with group_notes[k] just above
 * the bar (may be NULL; NULL or "" = no note), made of n_parts segments
 * stacked bottom-up in
 * part order, segment p coloured with palette entry p + 1 and named
 * part_labels[p] in the key (NULL or "" = not in the key).
 * values[p * n_groups + k] is part p of bar k; every value must be finite
 * and >= 0.  opts: title, axis labels, size, key, grid (horizontal lines)
 * and the y range (ymin NaN = 0; ymax NaN = 1.12 x the tallest bar, room
 * for the notes); xmin/xmax are ignored.  Returns
 * SYF_EINPUT for no bars or parts, a bad value, extension or key,
 * SYF_ERUNTIME as syf_plot_lines(). */
int syf_plot_stacked_bars(const char *const *group_labels,
                          const char *const *group_notes, size_t n_groups,
                          const char *const *part_labels, size_t n_parts,
                          const double *values, const syf_plot_opts *opts,
                          const char *path);

/* Kaplan–Meier step plot of every group of `km`: x = days since spell
 * start, y = share still on sick leave, censorings marked with "+".
 * group_labels (may be NULL) names each group in the key; missing labels
 * read "group 1", "group 2", ....  title may be NULL. */
int syf_plot_km(const syf_km *km, const char *const *group_labels,
                const char *title, const char *path);

#endif
