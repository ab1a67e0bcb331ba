/* design.h — assignment mechanisms: who gets the pilot, and from when.
 *
 * syf_design_build() turns the scenario's [trial] design into a per-office
 * pilot start day (or a per-person assignment for an individual RCT), the
 * office's implementation fidelity, and the office's design group
 * (stratum, pair or stepped-wedge sequence) used by the analysis:
 *
 *   cluster_rct     complete randomisation of round(treated_share x K) offices
 *   individual_rct  each person randomised with probability treated_share
 *   stratified_crt  complete randomisation within strata of office size or
 *                   baseline sick leave (trial.strata_by, trial.strata)
 *   matched_crt     offices paired on the same variable, one of each pair
 *                   randomised to the pilot (an odd office out is randomised)
 *   stepped_wedge   offices randomised to trial.sequences sequences; the
 *                   window is cut into trial.periods periods and sequence s
 *                   (1..S) starts the pilot at the start of period s
 *   staggered       as stepped_wedge, but the order is not random: offices
 *                   with the highest selection score start first
 *   self_selected   the round(treated_share x K) offices with the highest
 *                   selection score run the pilot (score = selection_strength
 *                   x standardised office recovery effect + N(0,1) noise: at
 *                   strength > 0, offices whose sick-listed return faster
 *                   volunteer, so a naive comparison flatters the pilot)
 *   rd              every office runs a risk-score pilot; the treatment is
 *                   being mapped, i.e. score >= pilot.score_threshold
 *
 * All draws come from the design's own stream (seed, rep).
 */
#ifndef SYFOSIM_DESIGN_H
#define SYFOSIM_DESIGN_H

#include "syfosim/population.h"
#include "syfosim/rng.h"
#include "syfosim/scenario.h"
#include "syfosim/world.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t n_office;
    int32_t *office_start;   /* absolute day, INT32_MAX = never */
    uint8_t *person_treated; /* individual_rct only, else NULL */
    float *office_fidelity;  /* NULL when trial.fidelity_min = 1 */
    int32_t *office_group;   /* stratum / pair / sequence (0 = control sequence), or -1 */
    size_t n_groups;
    int32_t period_days;     /* stepped_wedge / staggered: length of a period */
    syf_assignment assign;   /* the view the world reads */
} syf_design;

int syf_design_build(const syf_scenario *sc, const syf_population *pop, uint64_t seed,
                     uint64_t rep, syf_design *d);
void syf_design_free(syf_design *d);

/* Office selection score (self_selected, staggered order, single_site):
 * trial.selection_strength x the office's standardised log recovery effect
 * + one N(0,1) draw per office from `s`, in office order.  Higher = the
 * office volunteers / starts earlier.  score has n_office entries. */
void syf_design_selection_score(const syf_scenario *sc, const syf_population *pop,
                                syf_stream *s, double *score);

/* Office fidelity (trial.fidelity_min < 1): each office's delivery
 * probability, uniform on [fidelity_min, 1] from its own stream; sets
 * d->office_fidelity (left NULL when fidelity_min = 1). */
int syf_design_set_fidelity(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                            syf_design *d);

/* The design's name as in the scenario file ("cluster_rct", ...). */
const char *syf_design_name(int design);

/* Office o is in the pilot on absolute day t (individual_rct: never true). */
int syf_design_office_on(const syf_design *d, size_t o, int32_t t);

#endif
