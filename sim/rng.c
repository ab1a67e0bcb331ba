/* rng.c — Philox4x64-10 streams keyed by (seed, rep, entity, purpose).
 * See rng.h.  Random123 supplies the bijection; we add the buffering of
 * 32-bit words, the ziggurat normal and exponential, the discrete draw and
 * a GSL generator type on top (the per-word fast paths are inline in
 * rng.h).
 *
 * Speed: the simulator opens a stream for every spell, triage and onset
 * and most use a dozen words or fewer, so the cost is dominated by the
 * Philox evaluations (about 20 ns a block).  A block yields eight 32-bit
 * words, and a uniform takes one word, so a spell's draws cost two blocks.
 * The normal and the exponential are Marsaglia and Tsang's ziggurat (256
 * layers, the layer index and the value from disjoint bits of one word as
 * Doornik 2005 advises): one word, one table look-up and one comparison in
 * about 99 % of draws, against a rational approximation or a logarithm
 * for inversion.  So a spell's fifteen draws take two blocks.
 *
 * The ziggurat tables are built once per process (pthread_once) by the
 * recurrence of Marsaglia and Tsang (2000) from the published (r, v) of
 * the 256-layer ziggurats; tests/unit/test_rng.c checks them.
 */
#include "syfosim/rng.h"

#include <Random123/philox.h>
#include <math.h>
#include <pthread.h>
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
    s->pos = SYF_STREAM_WORDS;
}

void syf_stream_refill(syf_stream *s)
{
    const philox4x64_key_t k = {{s->key[0], s->key[1]}};
    const philox4x64_ctr_t c = {{s->ctr[0], s->ctr[1], s->ctr[2], s->ctr[3]}};
    const philox4x64_ctr_t r = philox4x64(c, k);
    for (int j = 0; j < 4; j++) {
        s->buf[2 * j] = (uint32_t)r.v[j];
        s->buf[2 * j + 1] = (uint32_t)(r.v[j] >> 32);
    }
    s->ctr[2]++;
    s->pos = 0;
}

double syf_stream_uniform53(syf_stream *s)
{
    return ((double)(syf_stream_u64(s) >> 11) + 0.5) * 0x1.0p-53;
}

/* ---- ziggurats ------------------------------------------------------------
 * For a decreasing density f on [0, inf) cut into C layers of equal area v:
 * x[0] = v / f(r) (the base layer's width, its tail included), x[1] = r,
 * x[i+1] = f^-1(v / x[i] + f(x[i])), x[C] = 0; layer i covers [0, x[i]]
 * between the heights f(x[i]) and f(x[i+1]), and ratio[i] = x[i+1] / x[i]
 * is the share of it that lies under the curve whatever the height. */

#define ZIG_C 256
#define ZIG_NORM_R 3.6541528853610088
#define ZIG_NORM_V 0.00492867323399
#define ZIG_EXP_R 7.69711747013104972
#define ZIG_EXP_V 0.0039496598225815571993

static double norm_x[ZIG_C + 1], norm_ratio[ZIG_C];
static double exp_x[ZIG_C + 1], exp_ratio[ZIG_C];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;
static int zig_ready; /* set (release) once the tables are built */

static void zig_init(void)
{
    double f = exp(-0.5 * ZIG_NORM_R * ZIG_NORM_R);
    norm_x[0] = ZIG_NORM_V / f;
    norm_x[1] = ZIG_NORM_R;
    for (int i = 2; i < ZIG_C; i++) {
        norm_x[i] = sqrt(-2.0 * log(ZIG_NORM_V / norm_x[i - 1] + f));
        f = exp(-0.5 * norm_x[i] * norm_x[i]);
    }
    norm_x[ZIG_C] = 0.0;
    f = exp(-ZIG_EXP_R);
    exp_x[0] = ZIG_EXP_V / f;
    exp_x[1] = ZIG_EXP_R;
    for (int i = 2; i < ZIG_C; i++) {
        exp_x[i] = -log(ZIG_EXP_V / exp_x[i - 1] + f);
        f = exp(-exp_x[i]);
    }
    exp_x[ZIG_C] = 0.0;
    for (int i = 0; i < ZIG_C; i++) {
        norm_ratio[i] = norm_x[i + 1] / norm_x[i];
        exp_ratio[i] = exp_x[i + 1] / exp_x[i];
    }
    __atomic_store_n(&zig_ready, 1, __ATOMIC_RELEASE);
}

/* pthread_once behind an inline acquire load: the draws are hot. */
static inline void zig_tables(void)
{
    if (!__atomic_load_n(&zig_ready, __ATOMIC_ACQUIRE))
        pthread_once(&zig_once, zig_init);
}

const double *syf_rng_ziggurat_table(int which)
{
    zig_tables();
    return which ? exp_x : norm_x;
}

/* Fast paths take one word: bits 0-7 pick the layer, bits 8-31 give the
 * value (24 bits, disjoint from the layer's, as Doornik 2005 advises);
 * the rare tail and wedge draws use 53-bit uniforms. */
double syf_stream_normal(syf_stream *s)
{
    zig_tables();
    for (;;) {
        const uint32_t b = syf_stream_u32(s);
        const unsigned i = b & (ZIG_C - 1);
        const double u = ((double)(b >> 8) + 0.5) * 0x1.0p-23 - 1.0; /* (-1, 1) */
        if (fabs(u) < norm_ratio[i])
            return u * norm_x[i];
        if (i == 0) { /* the tail beyond r (Marsaglia 1964) */
            double x, y;
            do {
                x = -log(syf_stream_uniform53(s)) / ZIG_NORM_R;
                y = -log(syf_stream_uniform53(s));
            } while (2.0 * y < x * x);
            return u < 0 ? -(ZIG_NORM_R + x) : ZIG_NORM_R + x;
        }
        /* the wedge: is a uniform height in the layer under f(x)? */
        const double x = u * norm_x[i];
        const double f0 = exp(-0.5 * (norm_x[i] * norm_x[i] - x * x));
        const double f1 = exp(-0.5 * (norm_x[i + 1] * norm_x[i + 1] - x * x));
        if (f1 + syf_stream_uniform53(s) * (f0 - f1) < 1.0)
            return x;
    }
}

double syf_stream_exp(syf_stream *s)
{
    zig_tables();
    for (;;) {
        const uint32_t b = syf_stream_u32(s);
        const unsigned i = b & (ZIG_C - 1);
        const double u = ((double)(b >> 8) + 0.5) * 0x1.0p-24; /* (0, 1) */
        if (u < exp_ratio[i])
            return u * exp_x[i];
        if (i == 0) /* the tail beyond r: r plus an exponential (memoryless) */
            return ZIG_EXP_R - log(syf_stream_uniform53(s));
        const double x = u * exp_x[i];
        const double f0 = exp(-(exp_x[i] - x)), f1 = exp(-(exp_x[i + 1] - x));
        if (f1 + syf_stream_uniform53(s) * (f0 - f1) < 1.0)
            return x;
    }
}

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

static unsigned long gsl_get(void *state) { return (unsigned long)syf_stream_u32(state); }

static double gsl_get_double(void *state)
{
    /* GSL wants [0, 1); ours is (0, 1), which is a subset.  53 bits: GSL's
     * distributions may transform the uniform steeply. */
    return syf_stream_uniform53(state);
}

static const gsl_rng_type philox_type = {
    "syf_philox4x64", 0xffffffffUL, 0, sizeof(syf_stream),
    gsl_set,          gsl_get,      gsl_get_double};

const gsl_rng_type *syf_rng_philox = &philox_type;

gsl_rng *syf_rng_alloc(void) { return gsl_rng_alloc(syf_rng_philox); }

syf_stream *syf_rng_stream(gsl_rng *r) { return (syf_stream *)r->state; }
