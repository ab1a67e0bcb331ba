/* rng.h — counter-based random streams (Random123 Philox4x64-10).
 *
 * A stream is named by (seed, replication, entity, purpose): the Philox key
 * is (seed, replication) and the counter is (entity, purpose, block, 0).
 * Draws for a person's spell therefore depend only on who and what they
 * are for, never on the order or thread in which entities are simulated;
 * re-running a replication as its counterfactual reuses the same numbers
 * (common random numbers).
 *
 * A stream is a sequence of 32-bit words: the four 64-bit outputs of
 * block 0, each split low half first, then those of block 1, and so on
 * (eight words per Philox evaluation).  A uniform takes one word; u64 two
 * (at an even position these are the block's 64-bit outputs, so the
 * Random123 known answers hold); the normal and exponential generators
 * (ziggurats) usually one.  The per-word fast paths are inline.
 *
 * A stream can also be used through GSL's distribution functions:
 * syf_rng_alloc() returns a gsl_rng whose state is a syf_stream, and
 * syf_rng_stream() gives access to it for re-keying.
 */
#ifndef SYFOSIM_RNG_H
#define SYFOSIM_RNG_H

#include <stddef.h>
#include <stdint.h>
#include <gsl/gsl_rng.h>

/* 32-bit words buffered per refill: one Philox4x64 block. */
#define SYF_STREAM_WORDS 8

typedef struct {
    uint64_t key[2];
    uint64_t ctr[4]; /* ctr[2] = the next block to compute */
    uint32_t buf[SYF_STREAM_WORDS];
    unsigned pos; /* next unused word in buf; SYF_STREAM_WORDS = empty */
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
/* Compute the next block into buf (used by the inline draws). */
void syf_stream_refill(syf_stream *s);

static inline uint32_t syf_stream_u32(syf_stream *s)
{
    if (s->pos >= SYF_STREAM_WORDS)
        syf_stream_refill(s);
    return s->buf[s->pos++];
}

/* Two words, the first in the low half: at an even position, the block's
 * 64-bit outputs in order. */
static inline uint64_t syf_stream_u64(syf_stream *s)
{
    const uint64_t lo = syf_stream_u32(s);
    return lo | (uint64_t)syf_stream_u32(s) << 32;
}

/* Uniform on the open interval (0, 1) from one word (32 random bits, shifted
 * by half a step: never 0, never 1). */
static inline double syf_stream_uniform(syf_stream *s)
{
    return ((double)syf_stream_u32(s) + 0.5) * 0x1.0p-32;
}

/* Uniform on (0, 1) from two words (53 random bits), for transformations
 * that need the resolution. */
double syf_stream_uniform53(syf_stream *s);

/* Standard normal and exponential (mean 1): ziggurat (Marsaglia and Tsang
 * 2000, 256 layers): one word in about 99 % of draws (the value has 24
 * random bits within its layer), more when a draw is rejected -- the
 * number of words a draw takes varies, but the draws of a stream are still
 * a fixed function of its key. */
double syf_stream_normal(syf_stream *s);
double syf_stream_exp(syf_stream *s);

/* The ziggurat layer edges x[0..256] (which 0: normal, 1: exponential),
 * for tests. */
const double *syf_rng_ziggurat_table(int which);

/* Index in 0..k-1 drawn with the given (not necessarily normalised)
 * weights, by inversion of one uniform. */
size_t syf_stream_discrete(syf_stream *s, const double *w, size_t k);

/* A gsl_rng whose state is a syf_stream (type "syf_philox4x64"). */
gsl_rng *syf_rng_alloc(void);
syf_stream *syf_rng_stream(gsl_rng *r);
extern const gsl_rng_type *syf_rng_philox;

#endif
