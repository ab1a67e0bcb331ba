/* rng.c — Philox4x64-10 streams keyed by (seed, rep, entity, purpose).
 * See rng.h.  Random123 supplies the bijection; we add buffering, the
 * conversion to doubles and a GSL generator type on top. */
#include "syfosim/rng.h"

#include <Random123/philox.h>
#include <gsl/gsl_cdf.h>
#include <math.h>
#include <string.h>

void syf_stream_init(syf_stream *s, uint64_t seed, uint64_t rep, uint64_t entity,
                     uint64_t purpose)
{
    s->key[0] = seed;
    s->key[1] = rep;
    s->ctr[0] = entity;
    s->ctr[1] = purpose;
    s->ctr[2] = 0;
    s->ctr[3] = 0;
    s->pos = 4;
}

static void refill(syf_stream *s)
{
    philox4x64_ctr_t c = {{s->ctr[0], s->ctr[1], s->ctr[2], s->ctr[3]}};
    philox4x64_key_t k = {{s->key[0], s->key[1]}};
    philox4x64_ctr_t r = philox4x64(c, k);
    memcpy(s->buf, r.v, sizeof s->buf);
    s->ctr[2]++;
    s->pos = 0;
}

uint64_t syf_stream_u64(syf_stream *s)
{
    if (s->pos >= 4)
        refill(s);
    return s->buf[s->pos++];
}

double syf_stream_uniform(syf_stream *s)
{
    /* 53 bits, shifted by half an ulp: never 0, never 1. */
    return ((double)(syf_stream_u64(s) >> 11) + 0.5) * 0x1.0p-53;
}

double syf_stream_normal(syf_stream *s)
{
    return gsl_cdf_ugaussian_Pinv(syf_stream_uniform(s));
}

double syf_stream_exp(syf_stream *s) { return -log(syf_stream_uniform(s)); }

size_t syf_stream_discrete(syf_stream *s, const double *w, size_t k)
{
    double tot = 0.0;
    for (size_t i = 0; i < k; i++)
        tot += w[i];
    double u = syf_stream_uniform(s) * tot, acc = 0.0;
    for (size_t i = 0; i + 1 < k; i++) {
        acc += w[i];
        if (u < acc)
            return i;
    }
    return k - 1;
}

/* --- GSL generator type ------------------------------------------------ */

static void gsl_set(void *state, unsigned long seed)
{
    syf_stream_init(state, (uint64_t)seed, 0, 0, 0);
}

static unsigned long gsl_get(void *state)
{
    return (unsigned long)(syf_stream_u64(state) >> 32);
}

static double gsl_get_double(void *state)
{
    /* GSL wants [0, 1); ours is (0, 1), which is a subset. */
    return syf_stream_uniform(state);
}

static const gsl_rng_type philox_type = {
    "syf_philox4x64", 0xffffffffUL, 0, sizeof(syf_stream),
    gsl_set,          gsl_get,      gsl_get_double};

const gsl_rng_type *syf_rng_philox = &philox_type;

gsl_rng *syf_rng_alloc(void) { return gsl_rng_alloc(syf_rng_philox); }

syf_stream *syf_rng_stream(gsl_rng *r) { return (syf_stream *)r->state; }
