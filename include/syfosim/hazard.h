/* hazard.h — piecewise-constant recovery hazards with time-varying
 * multipliers, solved by inversion of the cumulative hazard.
 *
 * A spell's hazard is h(t) = h0(t) * m(t): h0 piecewise constant on the
 * scenario's knots, m(t) piecewise constant with change points (grading,
 * activity check, mapping conversation, ...).  Given E ~ Exp(1) the exit
 * time is the t with H(t) = E; the cost is O(pieces + changes) per spell,
 * independent of the spell's length in days.
 */
#ifndef SYFOSIM_HAZARD_H
#define SYFOSIM_HAZARD_H

#include <stddef.h>

typedef struct {
    double t;    /* from this time (days since spell start) ...  */
    double mult; /* ... the multiplier is this                    */
} syf_hr_change;

/* Exit time for cumulative hazard target E.  `chg` must be sorted by t and
 * the multiplier before chg[0].t is `m0`.  Returns a value >= tmax when the
 * target is not reached before tmax. */
double syf_hazard_exit_time(const double *h0, const int *knots, size_t npieces, double m0,
                            const syf_hr_change *chg, size_t nchg, double E, double tmax);

/* Cumulative hazard H(t) under the same arguments (for tests). */
double syf_hazard_cumulative(const double *h0, const int *knots, size_t npieces, double m0,
                             const syf_hr_change *chg, size_t nchg, double t);

/* The baseline with its cumulative hazard at the knots, computed once per
 * scenario (syf_world_init keeps one): an exit time then costs a step per
 * multiplier change, not per baseline piece from time 0.  As in the walk
 * above, the first piece starts at time 0 whatever knots[0] says. */
#define SYF_HAZARD_MAX_PIECES 32
typedef struct {
    size_t n;                          /* pieces */
    double t[SYF_HAZARD_MAX_PIECES];   /* start of each piece (t[0] = 0) */
    double h[SYF_HAZARD_MAX_PIECES];   /* baseline hazard on it */
    double cum[SYF_HAZARD_MAX_PIECES]; /* cumulative baseline hazard at t[k] */
} syf_hazard_table;

/* Fill tab from h0 on the given knots (sorted).  Returns SYF_EINPUT when
 * npieces is 0 or exceeds SYF_HAZARD_MAX_PIECES. */
int syf_hazard_table_init(syf_hazard_table *tab, const double *h0, const int *knots,
                          size_t npieces);

/* syf_hazard_exit_time() from a table: the same exit time up to
 * floating-point rounding (the cumulative hazard is summed in another
 * order). */
double syf_hazard_table_exit_time(const syf_hazard_table *tab, double m0,
                                  const syf_hr_change *chg, size_t nchg, double E, double tmax);

#endif
