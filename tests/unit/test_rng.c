/* test_rng.c — Philox streams: known answers, keying, the word layout, and
 * the distributions (uniform; ziggurat normal and exponential: moments,
 * Kolmogorov-Smirnov, tail shares, the tables themselves). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "syfosim/rng.h"
#include "test_util.h"

/* Random123 known-answer vectors for Philox4x64-10 (tests/kat_vectors of
 * the Random123 distribution): the four 64-bit outputs of a block are the
 * stream's first four u64 draws. */
static void test_known_answers(void **state)
{
    (void)state;
    syf_stream s;
    syf_stream_init(&s, 0, 0, 0, 0);
    assert_true(syf_stream_u64(&s) == 0x16554d9eca36314cULL);
    assert_true(syf_stream_u64(&s) == 0xdb20fe9d672d0fdcULL);
    assert_true(syf_stream_u64(&s) == 0xd7e772cee186176bULL);
    assert_true(syf_stream_u64(&s) == 0x7e68b68aec7ba23bULL);
    const uint64_t m = ~0ULL;
    syf_stream_init(&s, m, m, m, m);
    s.ctr[2] = m;
    s.ctr[3] = m;
    assert_true(syf_stream_u64(&s) == 0x87b092c3013fe90bULL);
    assert_true(syf_stream_u64(&s) == 0x438c3c67be8d0224ULL);
    assert_true(syf_stream_u64(&s) == 0x9cc7d7c69cd777b6ULL);
    assert_true(syf_stream_u64(&s) == 0xa09caebf594f0ba0ULL);
}

/* Words: each 64-bit output split low half first; u64 takes two words
 * wherever it starts; a uniform takes one; blocks follow each other. */
static void test_word_layout(void **state)
{
    (void)state;
    syf_stream a, b;
    syf_stream_init(&a, 0, 0, 0, 0);
    assert_true(syf_stream_u32(&a) == 0xca36314cU);
    assert_true(syf_stream_u32(&a) == 0x16554d9eU);
    /* odd position: the high half of word 1 and the low half of word 2 */
    syf_stream_init(&a, 5, 6, 7, 8);
    syf_stream_init(&b, 5, 6, 7, 8);
    uint32_t w[40];
    for (int i = 0; i < 40; i++)
        w[i] = syf_stream_u32(&b);
    (void)syf_stream_u32(&a);
    assert_true(syf_stream_u64(&a) == ((uint64_t)w[2] << 32 | w[1]));
    assert_true(syf_stream_uniform(&a) == ((double)w[3] + 0.5) * 0x1.0p-32);
    /* across the block boundary (words 7 and 8) */
    for (int i = 4; i < 7; i++)
        (void)syf_stream_u32(&a);
    assert_true(syf_stream_u64(&a) == ((uint64_t)w[8] << 32 | w[7]));
    assert_true(syf_stream_uniform53(&a) ==
                ((double)(((uint64_t)w[10] << 32 | w[9]) >> 11) + 0.5) * 0x1.0p-53);
    /* block 1 is Philox of counter (entity, purpose, 1, 0) */
    syf_stream c;
    syf_stream_init(&c, 5, 6, 7, 8);
    c.ctr[2] = 1;
    for (int i = 8; i < 16; i++)
        assert_true(syf_stream_u32(&c) == w[i]);
}

static void test_keying(void **state)
{
    (void)state;
    syf_stream a, b, c;
    syf_stream_init(&a, 7, 3, 1000, SYF_P_SPELL);
    syf_stream_init(&b, 7, 3, 1000, SYF_P_SPELL);
    syf_stream_init(&c, 7, 3, 1001, SYF_P_SPELL);
    int same_c = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = syf_stream_u64(&a), y = syf_stream_u64(&b), z = syf_stream_u64(&c);
        assert_true(x == y);
        same_c += x == z;
    }
    assert_int_equal(same_c, 0);
    /* sub-streams by purpose and sub-index differ */
    assert_true(syf_purpose(SYF_P_SPELL, 1) != syf_purpose(SYF_P_SPELL, 2));
    assert_true(syf_purpose(SYF_P_SPELL, 1) != syf_purpose(SYF_P_ONSET, 1));
    syf_stream_init(&a, 7, 3, 5, syf_purpose(SYF_P_SPELL, 1));
    syf_stream_init(&b, 7, 3, 5, syf_purpose(SYF_P_SPELL, 2));
    assert_true(syf_stream_u64(&a) != syf_stream_u64(&b));
    /* another replication gives another stream */
    syf_stream_init(&a, 7, 3, 5, 1);
    syf_stream_init(&b, 7, 4, 5, 1);
    assert_true(syf_stream_u64(&a) != syf_stream_u64(&b));
    /* draws are a function of the key: the same normals and exponentials
     * (whatever words the rejections took) from equal streams */
    syf_stream_init(&a, 11, 12, 13, 14);
    syf_stream_init(&b, 11, 12, 13, 14);
    for (int i = 0; i < 10000; i++) {
        assert_true(syf_stream_normal(&a) == syf_stream_normal(&b));
        assert_true(syf_stream_exp(&a) == syf_stream_exp(&b));
    }
}

static void test_uniform_moments(void **state)
{
    (void)state;
    syf_stream s;
    syf_stream_init(&s, 1, 0, 0, 0);
    const int n = 200000;
    double sum = 0, sum2 = 0, mn = 1, mx = 0, s53 = 0;
    for (int i = 0; i < n; i++) {
        double u = syf_stream_uniform(&s), v = syf_stream_uniform53(&s);
        assert_true(u > 0.0 && u < 1.0);
        assert_true(v > 0.0 && v < 1.0);
        sum += u;
        sum2 += u * u;
        s53 += v;
        mn = fmin(mn, u);
        mx = fmax(mx, u);
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    /* mean 1/2 with SE sqrt(1/12/n); variance 1/12 */
    assert_true(fabs(mean - 0.5) < 4 * sqrt(1.0 / 12 / n));
    assert_true(fabs(s53 / n - 0.5) < 4 * sqrt(1.0 / 12 / n));
    assert_true(fabs(var - 1.0 / 12) < 0.002);
    assert_true(mn < 1e-4 && mx > 1 - 1e-4);
    /* the extreme words map inside (0, 1) */
    assert_true((0.0 + 0.5) * 0x1.0p-32 > 0.0);
    assert_true((4294967295.0 + 0.5) * 0x1.0p-32 < 1.0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Kolmogorov-Smirnov statistic sqrt(n) D of sorted x against cdf. */
static double ks_stat(double *x, size_t n, double (*cdf)(double))
{
    qsort(x, n, sizeof *x, cmp_double);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double F = cdf(x[i]);
        d = fmax(d, fmax(F - (double)i / (double)n, (double)(i + 1) / (double)n - F));
    }
    return sqrt((double)n) * d;
}

static double exp_cdf(double x) { return x <= 0 ? 0.0 : -expm1(-x); }

/* Ziggurat normal: moments to the fourth, KS on 10^6 draws, the shares in
 * the tail (beyond the base layer's r = 3.654) and beyond 2 and 3 SD. */
static void test_normal(void **state)
{
    (void)state;
    const size_t n = 1000000;
    double *x = malloc(n * sizeof *x);
    assert_non_null(x);
    syf_stream s;
    syf_stream_init(&s, 2, 0, 0, 0);
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
    size_t beyond2 = 0, beyond3 = 0, tail = 0, pos = 0;
    for (size_t i = 0; i < n; i++) {
        double z = syf_stream_normal(&s);
        assert_true(isfinite(z));
        x[i] = z;
        m1 += z;
        m2 += z * z;
        m3 += z * z * z;
        m4 += z * z * z * z;
        beyond2 += fabs(z) > 2;
        beyond3 += fabs(z) > 3;
        tail += fabs(z) > 3.6541528853610088;
        pos += z > 0;
    }
    const double dn = (double)n;
    assert_true(fabs(m1 / dn) < 4 / sqrt(dn));
    assert_true(fabs(m2 / dn - 1.0) < 4 * sqrt(2.0 / dn));
    assert_true(fabs(m3 / dn) < 4 * sqrt(15.0 / dn));
    assert_true(fabs(m4 / dn - 3.0) < 4 * sqrt(96.0 / dn));
    const struct {
        size_t k;
        double p;
    } sh[] = {{beyond2, 2 * gsl_cdf_ugaussian_Q(2)},
              {beyond3, 2 * gsl_cdf_ugaussian_Q(3)},
              {tail, 2 * gsl_cdf_ugaussian_Q(3.6541528853610088)},
              {pos, 0.5}};
    for (size_t j = 0; j < sizeof sh / sizeof sh[0]; j++)
        assert_true(fabs((double)sh[j].k / dn - sh[j].p) < 4 * sqrt(sh[j].p * (1 - sh[j].p) / dn));
    /* sqrt(n) D < 1.95: p > 0.001 */
    double ks = ks_stat(x, n, gsl_cdf_ugaussian_P);
    if (!(ks < 1.95))
        fprintf(stderr, "normal KS sqrt(n) D = %g\n", ks);
    assert_true(ks < 1.95);
    free(x);
}

/* The normal's tail beyond r (2.6e-4 of draws; Marsaglia's rejection
 * method): KS of the |z| > r draws of 10^7 against the truncated normal. */
static const double zig_r = 3.6541528853610088;
static double tail_cdf(double t)
{
    return 1.0 - gsl_cdf_ugaussian_Q(t) / gsl_cdf_ugaussian_Q(zig_r);
}

static void test_normal_tail(void **state)
{
    (void)state;
    const size_t n = 10000000;
    size_t k = 0, cap = 6000;
    double *x = malloc(cap * sizeof *x);
    assert_non_null(x);
    syf_stream s;
    syf_stream_init(&s, 6, 0, 0, 0);
    for (size_t i = 0; i < n; i++) {
        double z = fabs(syf_stream_normal(&s));
        if (z > zig_r && k < cap)
            x[k++] = z;
    }
    /* expected 2 Q(r) n = 2581 */
    const double p = 2 * gsl_cdf_ugaussian_Q(zig_r);
    assert_true(fabs((double)k - p * (double)n) < 4 * sqrt(p * (double)n));
    double ks = ks_stat(x, k, tail_cdf);
    if (!(ks < 1.95))
        fprintf(stderr, "normal tail KS sqrt(n) D = %g (%zu draws)\n", ks, k);
    assert_true(ks < 1.95);
    free(x);
}

static void test_exponential(void **state)
{
    (void)state;
    const size_t n = 1000000;
    double *x = malloc(n * sizeof *x);
    assert_non_null(x);
    syf_stream s;
    syf_stream_init(&s, 3, 0, 0, 0);
    double m1 = 0, m2 = 0, m3 = 0;
    size_t beyond1 = 0, beyond4 = 0, tail = 0;
    for (size_t i = 0; i < n; i++) {
        double e = syf_stream_exp(&s);
        assert_true(e > 0 && isfinite(e));
        x[i] = e;
        m1 += e;
        m2 += e * e;
        m3 += e * e * e;
        beyond1 += e > 1;
        beyond4 += e > 4;
        tail += e > 7.69711747013104972;
    }
    const double dn = (double)n;
    /* moments 1, 2, 6; variances of e, e^2, e^3: 1, 20, 684 */
    assert_true(fabs(m1 / dn - 1.0) < 4 / sqrt(dn));
    assert_true(fabs(m2 / dn - 2.0) < 4 * sqrt(20.0 / dn));
    assert_true(fabs(m3 / dn - 6.0) < 4 * sqrt(684.0 / dn));
    const double p[3] = {exp(-1.0), exp(-4.0), exp(-7.69711747013104972)};
    const size_t k[3] = {beyond1, beyond4, tail};
    for (int j = 0; j < 3; j++)
        assert_true(fabs((double)k[j] / dn - p[j]) < 4 * sqrt(p[j] * (1 - p[j]) / dn));
    double ks = ks_stat(x, n, exp_cdf);
    if (!(ks < 1.95))
        fprintf(stderr, "exponential KS sqrt(n) D = %g\n", ks);
    assert_true(ks < 1.95);
    free(x);
}

/* The ziggurat tables: 256 layers of equal area v (the base layer with
 * its tail), edges decreasing to 0, recomputed in long double. */
static void test_ziggurat_tables(void **state)
{
    (void)state;
    for (int which = 0; which < 2; which++) {
        const double *x = syf_rng_ziggurat_table(which);
        const long double r = which ? 7.69711747013104972L : 3.6541528853610088L;
        const long double v = which ? 0.0039496598225815571993L : 0.00492867323399L;
#define F(t) (which ? expl(-(long double)(t)) : expl(-0.5L * (long double)(t) * (long double)(t)))
        assert_true(x[1] == (double)r);
        assert_true(x[256] == 0.0);
        /* base layer: r f(r) + the tail's area = x[0] f(r) = v */
        const long double sqrt2pi = sqrtl(2.0L * 3.14159265358979323846L);
        const long double tail_area =
            which ? expl(-r) : sqrt2pi * (long double)gsl_cdf_ugaussian_Q((double)r);
        assert_near((double)((long double)x[0] * F(r)), (double)v, 1e-12);
        assert_near((double)(r * F(r) + tail_area), (double)v, 1e-9);
        for (int i = 1; i < 256; i++) {
            assert_true(x[i + 1] < x[i]);
            /* layer i: width x[i], heights f(x[i]) to f(x[i+1]) */
            const long double area = (long double)x[i] * (F(x[i + 1]) - F(x[i]));
            assert_near((double)(area / v), 1.0, i < 255 ? 1e-9 : 1e-6);
        }
#undef F
    }
}

static void test_discrete(void **state)
{
    (void)state;
    syf_stream s;
    syf_stream_init(&s, 5, 0, 0, 0);
    const int n = 200000;
    const double w[3] = {1, 2, 7};
    int cnt[3] = {0, 0, 0};
    for (int i = 0; i < n; i++)
        cnt[syf_stream_discrete(&s, w, 3)]++;
    for (int k = 0; k < 3; k++) {
        double p = w[k] / 10.0;
        assert_true(fabs(cnt[k] / (double)n - p) < 4 * sqrt(p * (1 - p) / n));
    }
}

static void test_gsl_adapter(void **state)
{
    (void)state;
    gsl_rng *r = syf_rng_alloc();
    assert_non_null(r);
    syf_stream_init(syf_rng_stream(r), 9, 1, 2, 3);
    syf_stream ref;
    syf_stream_init(&ref, 9, 1, 2, 3);
    for (int i = 0; i < 10; i++)
        assert_true(gsl_rng_uniform_pos(r) == syf_stream_uniform53(&ref));
    assert_true(gsl_rng_get(r) == syf_stream_u32(&ref));
    /* GSL distributions work on it: gamma(2, 1) has mean 2 */
    double s = 0;
    for (int i = 0; i < 50000; i++)
        s += gsl_ran_gamma(r, 2.0, 1.0);
    assert_true(fabs(s / 50000 - 2.0) < 4 * sqrt(2.0 / 50000));
    gsl_rng_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),    cmocka_unit_test(test_word_layout),
        cmocka_unit_test(test_keying),           cmocka_unit_test(test_uniform_moments),
        cmocka_unit_test(test_normal),           cmocka_unit_test(test_normal_tail),
        cmocka_unit_test(test_exponential),
        cmocka_unit_test(test_ziggurat_tables),
        cmocka_unit_test(test_discrete),         cmocka_unit_test(test_gsl_adapter)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
