/* effect.h — a team's effect on work, measured and solved for.
 *
 * Effect priors come as risk differences in work (calibration rows 57-62:
 * "+7 points in work at 12 months"), the engine acts through recovery
 * hazard ratios.  syf_effect_work_rd() measures the realised difference:
 * the population is simulated twice with common random numbers, with the
 * team as a pilot in every office from the window's start (no capacity
 * limit), hazard ratio `hr` for every diagnosis, and without it -- the two
 * versions a trial's SATE compares; among persons referred (their first
 * referral, in the window) it compares being at work `days` after the
 * referral (not sick-listed, not left employment).  syf_effect_solve_hr() finds the
 * hazard ratio whose realised difference is the target, by bisection on
 * log hr (the difference rises with hr on common random numbers).
 */
#ifndef SYFOSIM_EFFECT_H
#define SYFOSIM_EFFECT_H

#include "syfosim/scenario.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double rd;        /* mean difference in work (0/1), team minus none */
    double se;        /* its standard error over referred persons */
    double work0;     /* share at work without the team's effect */
    size_t referred;  /* persons referred in the window */
} syf_effect_measure;

int syf_effect_work_rd(const syf_scenario *sc, int team, double hr, long days, uint64_t seed,
                       syf_effect_measure *out);

/* Hazard ratio in [1/50, 50] whose difference is target_rd (within
 * `tol`, or the bracket's end); `achieved` (may be NULL) gets the
 * measurement at the returned ratio. */
int syf_effect_solve_hr(const syf_scenario *sc, int team, double target_rd, long days,
                        uint64_t seed, double tol, double *hr, syf_effect_measure *achieved);

#endif
