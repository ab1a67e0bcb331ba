/* rng.h — counter-based random streams (Random123 Philox4x64-10).
 *
 * A stream is named by (seed, replication, entity, purpose): the Philox key
 * is (seed, replication) and the counter is (entity, purpose, block, 0).
 * Draws for a person's spell therefore depend only on who and what they
 * are for, never on the order or thread in which entities are simulated;
 * re-running a replication as its counterfactual reuses the same numbers
 * (common random numbers).
 *
 * A stream can also be used through GSL's distribution functions:
 * syf_rng_alloc() returns a gsl_rng whose state is a syf_stream, and
 * syf_rng_stream() gives access to it for re-keying.
 */
#ifndef SYFOSIM_RNG_H
#define SYFOSIM_RNG_H

#include <stdint.h>
#include <gsl/gsl_rng.h>

typedef struct {
    uint64_t key[2];
    uint64_t ctr[4];
    uint64_t buf[4];
    unsigned pos; /* next unused word in buf; 4 = empty */
} syf_stream;

/* Purposes: the second word of the counter.  Sub-streams (for instance the
 * k-th spell of a person) are formed with syf_purpose(base, k). */
enum {
    SYF_P_OFFICE = 1,
    SYF_P_EMPLOYER = 2,
    SYF_P_GP = 3,
    SYF_P_PERSON = 4,
    SYF_P_ONSET = 5,
    SYF_P_SPELL = 6,
    SYF_P_TRIAGE = 7,
    SYF_P_DESIGN = 8,
    SYF_P_LAYOUT = 9,
    SYF_P_SERVICE = 10,      /* a spell's team referrals (sub-stream: spell number) */
    SYF_P_EMPLOYER_ATTR = 11 /* an employer's IA level and adaptation capacity */
};

static inline uint64_t syf_purpose(uint64_t base, uint64_t sub)
{
    return (sub << 8) | (base & 0xffu);
}

void syf_stream_init(syf_stream *s, uint64_t seed, uint64_t rep, uint64_t entity,
                     uint64_t purpose);
uint64_t syf_stream_u64(syf_stream *s);
/* Uniform on the open interval (0, 1), 53 random bits. */
double syf_stream_uniform(syf_stream *s);
/* Standard normal by inversion (one uniform per draw). */
double syf_stream_normal(syf_stream *s);
/* Exponential with mean 1 by inversion. */
double syf_stream_exp(syf_stream *s);
/* Index in 0..k-1 drawn with the given (not necessarily normalised)
 * weights, by inversion of one uniform. */
size_t syf_stream_discrete(syf_stream *s, const double *w, size_t k);

/* A gsl_rng whose state is a syf_stream (type "syf_philox4x64"). */
gsl_rng *syf_rng_alloc(void);
syf_stream *syf_rng_stream(gsl_rng *r);
extern const gsl_rng_type *syf_rng_philox;

#endif
