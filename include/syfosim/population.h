/* population.h — the synthetic world's entities: NAV offices, employers,
 * GPs and employed persons, stored as structure-of-arrays.
 *
 * A population is built from a scenario for one (seed, replication): each
 * entity's attributes come from its own random stream, so a person's
 * attributes do not depend on how many other persons there are in other
 * offices or on build order.  Persons are stored contiguously by office
 * (office o owns persons office_first[o] .. office_first[o+1]-1).
 */
#ifndef SYFOSIM_POPULATION_H
#define SYFOSIM_POPULATION_H

#include "syfosim/scenario.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    /* offices */
    size_t n_office;
    uint8_t *office_county;
    size_t *office_first; /* n_office + 1 entries */
    float *office_re_hazard, *office_re_incidence;

    /* employers */
    size_t n_employer;
    uint32_t *employer_office;
    uint32_t *employer_size;
    uint8_t *employer_industry;
    float *employer_re_incidence;
    uint8_t *employer_ia;         /* IA service level (SYF_IA_*) */
    uint8_t *employer_served;     /* 1: followed by the office's employer team where and
                                     when that team runs (employer_team.*) */
    float *employer_re_hazard;    /* adaptation capacity / follow-up-plan quality, on the
                                     recovery hazard of its employees' spells */

    /* GPs */
    size_t n_gp;
    uint32_t *gp_office;
    float *gp_re_hazard, *gp_re_grading;
    uint8_t *gp_cooperates;       /* 1: exchanges information with NAV (consent-based) */

    /* offices (derived) */
    float *office_veileders;      /* veileder FTE: expected concurrent follow-up cases over
                                     world.veileder_caseload */

    /* persons */
    size_t n;
    uint8_t *sex; /* 0 man, 1 woman */
    uint8_t *age; /* years on the first day of the observation window */
    uint8_t *age_group;
    uint8_t *industry;
    uint32_t *office, *employer, *gp;
    float *health;     /* latent health, N(0,1); higher = more and longer spells */
    float *onset_rate; /* spells per day at risk, all multipliers applied */
    float *hazard_mult;/* person-level recovery hazard multiplier */
} syf_population;

/* Establishment size class (0 = 1-4 employees ... 6 = 250+) of a size. */
int syf_size_class(size_t employees);

int syf_population_build(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                         syf_population **out);
void syf_population_free(syf_population *p);

/* Age group index (0..SYF_N_AGE-1) of an age in years (16..69). */
int syf_age_group(int age);

#endif
