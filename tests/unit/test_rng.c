/* test_rng.c — Philox streams: known answers, keying, distributions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <gsl/gsl_randist.h>
#include <math.h>

#include "syfosim/rng.h"

/* Random123 known-answer vectors for Philox4x64-10 (tests/kat_vectors of
 * the Random123 distribution). */
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
}

static void test_uniform_moments(void **state)
{
    (void)state;
    syf_stream s;
    syf_stream_init(&s, 1, 0, 0, 0);
    const int n = 200000;
    double sum = 0, sum2 = 0, mn = 1, mx = 0;
    for (int i = 0; i < n; i++) {
        double u = syf_stream_uniform(&s);
        assert_true(u > 0.0 && u < 1.0);
        sum += u;
        sum2 += u * u;
        mn = fmin(mn, u);
        mx = fmax(mx, u);
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    /* mean 1/2 with SE sqrt(1/12/n); variance 1/12 */
    assert_true(fabs(mean - 0.5) < 4 * sqrt(1.0 / 12 / n));
    assert_true(fabs(var - 1.0 / 12) < 0.002);
    assert_true(mn < 1e-4 && mx > 1 - 1e-4);
}

static void test_normal_exp_discrete(void **state)
{
    (void)state;
    syf_stream s;
    syf_stream_init(&s, 2, 0, 0, 0);
    const int n = 200000;
    double sn = 0, sn2 = 0, se = 0;
    for (int i = 0; i < n; i++) {
        double z = syf_stream_normal(&s);
        sn += z;
        sn2 += z * z;
        se += syf_stream_exp(&s);
    }
    assert_true(fabs(sn / n) < 4 / sqrt(n));
    assert_true(fabs(sn2 / n - 1.0) < 4 * sqrt(2.0 / n));
    assert_true(fabs(se / n - 1.0) < 4 / sqrt(n));
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
        assert_true(gsl_rng_uniform_pos(r) == syf_stream_uniform(&ref));
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
        cmocka_unit_test(test_known_answers), cmocka_unit_test(test_keying),
        cmocka_unit_test(test_uniform_moments), cmocka_unit_test(test_normal_exp_discrete),
        cmocka_unit_test(test_gsl_adapter)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
