/* test_km.c — Kaplan–Meier estimator against hand computations and R.
 *
 * Hand examples check the product limit, ties (events before censorings),
 * Greenwood SEs and survfit's median rule; the lung data (tests/data/
 * lung.csv, the 227 complete cases of survival::lung) are checked against
 * survfit(Surv(time, status == 2) ~ sex) [recomputed with survival 3.5.3].
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "syfosim/error.h"
#include "syfosim/km.h"

#define CLOSE(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* times 1,2,2,3,4,4 with events 1,1,0,1,1,1 (censoring tied with an event
 * at t = 2; all remaining die at t = 4):
 *   t=1: n=6 d=1      S = 5/6            G = 1/(6*5)        = 1/30
 *   t=2: n=5 d=1 c=1  S = 5/6*4/5 = 2/3  G = 1/30 + 1/(5*4)  = 1/12
 *   t=3: n=3 d=1      S = 2/3*2/3 = 4/9  G = 1/12 + 1/(3*2)  = 1/4
 *   t=4: n=2 d=2      S = 0              G = Inf, std.err NaN (as R)
 * std_err = S sqrt(G): 0.152145..., 0.192450..., 0.222222...
 * median: first S <= 0.5 is 4/9 at t = 3 (R prints 3). */
static void test_hand_ties(void **state)
{
    (void)state;
    const double t[] = {2, 1, 4, 2, 3, 4}; /* deliberately unsorted */
    const int e[] = {0, 1, 1, 1, 1, 1};
    syf_km *km = NULL;
    assert_int_equal(syf_km_fit(6, t, e, NULL, 1, &km), SYF_OK);
    assert_int_equal(syf_km_n_groups(km), 1);
    assert_int_equal(syf_km_group_n(km, 0), 6);
    assert_int_equal(syf_km_group_events(km, 0), 5);
    size_t m;
    const syf_km_point *p = syf_km_points(km, 0, &m);
    assert_int_equal(m, 4);
    const double tt[] = {1, 2, 3, 4}, S[] = {5.0 / 6, 2.0 / 3, 4.0 / 9, 0};
    const size_t nr[] = {6, 5, 3, 2}, nd[] = {1, 1, 1, 2}, nc[] = {0, 1, 0, 0};
    const double G[] = {1.0 / 30, 1.0 / 12, 0.25};
    for (size_t i = 0; i < 4; i++) {
        CLOSE(p[i].time, tt[i], 0);
        assert_int_equal(p[i].n_risk, nr[i]);
        assert_int_equal(p[i].n_event, nd[i]);
        assert_int_equal(p[i].n_censor, nc[i]);
        CLOSE(p[i].surv, S[i], 1e-15);
        if (i < 3) {
            CLOSE(p[i].se_log, sqrt(G[i]), 1e-15);
            CLOSE(p[i].std_err, S[i] * sqrt(G[i]), 1e-15);
        }
    }
    CLOSE(p[0].std_err, 0.1521452, 1e-7); /* summary(survfit) in R */
    CLOSE(p[1].std_err, 0.1924501, 1e-7);
    CLOSE(p[2].std_err, 0.2222222, 1e-7);
    assert_true(isinf(p[3].se_log));
    assert_true(isnan(p[3].std_err));
    CLOSE(syf_km_median(km, 0), 3.0, 0);
    CLOSE(syf_km_surv_at(km, 0, 0.5), 1.0, 0);
    CLOSE(syf_km_surv_at(km, 0, 2.0), 2.0 / 3, 1e-15);
    CLOSE(syf_km_surv_at(km, 0, 2.9), 2.0 / 3, 1e-15);
    CLOSE(syf_km_surv_at(km, 0, 100), 0.0, 0);
    syf_km_free(km);
}

/* survfit's median rule when S is exactly 0.5 on a flat stretch:
 *   1,2,3,4 all events: S = .75 .5 .25 0 -> midpoint (2+3)/2 = 2.5;
 *   1..6 events 1,1,1,0,1,0: S = 5/6 4/6 .5 .5 .25 .25, the flat 0.5
 *     stretch runs from 3 to the next drop at 5 -> 4;
 *   1,2,3,4 events 1,1,0,0: S stays 0.5 from t=2 to the end -> 2;
 *   one event in four: S never reaches 0.5 -> NaN.
 * (All four printed by print(survfit(...)) in R, survival 3.5.3.) */
static void test_median_rule(void **state)
{
    (void)state;
    syf_km *km = NULL;
    const double t4[] = {1, 2, 3, 4}, t6[] = {1, 2, 3, 4, 5, 6};
    const int e_all[] = {1, 1, 1, 1}, e6[] = {1, 1, 1, 0, 1, 0};
    const int e_flat[] = {1, 1, 0, 0}, e_one[] = {1, 0, 0, 0};

    assert_int_equal(syf_km_fit(4, t4, e_all, NULL, 0, &km), SYF_OK);
    CLOSE(syf_km_median(km, 0), 2.5, 0);
    syf_km_free(km);
    assert_int_equal(syf_km_fit(6, t6, e6, NULL, 1, &km), SYF_OK);
    CLOSE(syf_km_median(km, 0), 4.0, 0);
    syf_km_free(km);
    assert_int_equal(syf_km_fit(4, t4, e_flat, NULL, 1, &km), SYF_OK);
    CLOSE(syf_km_median(km, 0), 2.0, 0);
    syf_km_free(km);
    assert_int_equal(syf_km_fit(4, t4, e_one, NULL, 1, &km), SYF_OK);
    assert_true(isnan(syf_km_median(km, 0)));
    syf_km_free(km);
}

static void test_groups_and_errors(void **state)
{
    (void)state;
    const double t[] = {5, 1, 3, 2};
    const int e[] = {1, 1, 0, 1};
    const size_t grp[] = {2, 0, 2, 0};
    syf_km *km = NULL;
    assert_int_equal(syf_km_fit(4, t, e, grp, 3, &km), SYF_OK);
    size_t m;
    assert_int_equal(syf_km_n_groups(km), 3);
    assert_null(syf_km_points(km, 1, &m)); /* empty group */
    assert_int_equal(m, 0);
    assert_true(isnan(syf_km_median(km, 1)));
    assert_true(isnan(syf_km_surv_at(km, 1, 1.0)));
    const syf_km_point *p = syf_km_points(km, 2, &m);
    assert_int_equal(m, 2);
    CLOSE(p[0].time, 3, 0);
    CLOSE(p[0].surv, 1.0, 0);
    CLOSE(p[1].surv, 0.0, 0);
    /* group 0 = {1, 2}, both events: S(1) = 0.5 exactly, 0 at t = 2, so
     * the midpoint rule gives 1.5; group 2: S(5) = 0 -> 5 */
    CLOSE(syf_km_median(km, 0), 1.5, 0);
    CLOSE(syf_km_median(km, 2), 5.0, 0);
    assert_null(syf_km_points(km, 7, &m));
    assert_int_equal(syf_km_group_n(km, 7), 0);
    syf_km_free(km);

    const int bad_e[] = {1, 2, 0, 1};
    const double bad_t[] = {1, NAN, 2, 3};
    const size_t bad_g[] = {0, 1, 3, 0};
    assert_int_equal(syf_km_fit(4, t, bad_e, NULL, 1, &km), SYF_EINPUT);
    assert_null(km);
    assert_int_equal(syf_km_fit(4, bad_t, e, NULL, 1, &km), SYF_EINPUT);
    assert_int_equal(syf_km_fit(4, t, e, bad_g, 3, &km), SYF_EINPUT);
    assert_int_equal(syf_km_fit(4, t, e, NULL, 2, &km), SYF_EINPUT);
    assert_int_equal(syf_km_fit(4, t, e, grp, 0, &km), SYF_EINPUT);
    assert_int_equal(syf_km_fit(0, NULL, NULL, NULL, 1, &km), SYF_OK);
    assert_int_equal(syf_km_group_n(km, 0), 0);
    syf_km_free(km);
    syf_km_free(NULL);
}

/* Read tests/data/lung.csv: time,status,age,sex,inst (header skipped). */
static size_t read_lung(double *time, int *event, size_t *sex, size_t cap)
{
    FILE *f = fopen("tests/data/lung.csv", "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    size_t n = 0;
    double t, age, s, inst;
    int status;
    while (n < cap && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lf,%d,%lf,%lf,%lf", &t, &status, &age, &s,
                   &inst) != 5)
            continue;
        time[n] = t;
        event[n] = status == 2;
        sex[n] = (size_t)s - 1;
        n++;
    }
    fclose(f);
    return n;
}

/* survfit(Surv(time, status == 2) ~ sex, data = read.csv("tests/data/
 * lung.csv")) [recomputed with survival 3.5.3]: 227 rows (137 men, 111
 * events; 90 women, 53 events); medians 269 and 426 (R's 270 is for the
 * full 228-row lung data); 118 and 87 step points; and
 * summary(fit, times = ...)$surv / $std.err: */
static void test_lung_vs_survfit(void **state)
{
    (void)state;
    double time[300];
    int event[300];
    size_t sex[300];
    size_t n = read_lung(time, event, sex, 300);
    assert_int_equal(n, 227);
    syf_km *km = NULL;
    assert_int_equal(syf_km_fit(n, time, event, sex, 2, &km), SYF_OK);
    assert_int_equal(syf_km_group_n(km, 0), 137);
    assert_int_equal(syf_km_group_n(km, 1), 90);
    assert_int_equal(syf_km_group_events(km, 0), 111);
    assert_int_equal(syf_km_group_events(km, 1), 53);
    CLOSE(syf_km_median(km, 0), 269, 0);
    CLOSE(syf_km_median(km, 1), 426, 0);

    static const struct {
        size_t g;
        double t;
        double surv, se;
    } ref[] = {
        {0, 100, 0.824817518248175, 0.0324761091120703},
        {0, 200, 0.604424836724367, 0.0418929796026323},
        {0, 300, 0.43667513069455, 0.0440866191625401},
        {0, 365, 0.34014037339493, 0.0436601329782531},
        {0, 500, 0.2259031703357, 0.0405149671047077},
        {0, 750, 0.0790661096174948, 0.0279565899292281},
        {1, 100, 0.922088353413655, 0.0282794136527423},
        {1, 200, 0.794593489487731, 0.0432473071898873},
        {1, 300, 0.674202586048924, 0.0522880818522217},
        {1, 365, 0.526463030185906, 0.0597368539904425},
        {1, 500, 0.411046135106688, 0.0625843689164016},
        {1, 750, 0.124821665270037, 0.0548685642231336},
    };
    for (size_t i = 0; i < sizeof ref / sizeof ref[0]; i++) {
        size_t m;
        const syf_km_point *p = syf_km_points(km, ref[i].g, &m);
        CLOSE(syf_km_surv_at(km, ref[i].g, ref[i].t), ref[i].surv, 1e-12);
        /* the SE at t is the one of the last step point <= t */
        size_t k = 0;
        while (k + 1 < m && p[k + 1].time <= ref[i].t)
            k++;
        CLOSE(p[k].std_err, ref[i].se, 1e-12);
    }

    size_t m0, m1;
    const syf_km_point *p0 = syf_km_points(km, 0, &m0);
    const syf_km_point *p1 = syf_km_points(km, 1, &m1);
    assert_int_equal(m0, 118);
    assert_int_equal(m1, 87);
    /* first rows of summary(fit, censored = TRUE) for sex = 1 */
    CLOSE(p0[0].time, 11, 0);
    assert_int_equal(p0[0].n_risk, 137);
    assert_int_equal(p0[0].n_event, 3);
    CLOSE(p0[0].surv, 0.978102189781022, 1e-14);
    CLOSE(p0[0].std_err, 0.0125035166225877, 1e-14);
    CLOSE(p0[2].surv, 0.956204379562044, 1e-14);
    CLOSE(p0[2].std_err, 0.0174835823026743, 1e-14);
    /* last rows for sex = 2: 765 (3 at risk, 1 event), 821 and 965
     * censored; S = 0.0832144435133582, std.err 0.0499212744378468 */
    CLOSE(p1[m1 - 3].time, 765, 0);
    assert_int_equal(p1[m1 - 3].n_risk, 3);
    assert_int_equal(p1[m1 - 3].n_event, 1);
    assert_int_equal(p1[m1 - 1].n_censor, 1);
    CLOSE(p1[m1 - 1].time, 965, 0);
    CLOSE(p1[m1 - 1].surv, 0.0832144435133582, 1e-14);
    CLOSE(p1[m1 - 1].std_err, 0.0499212744378468, 1e-14);
    syf_km_free(km);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_ties),
        cmocka_unit_test(test_median_rule),
        cmocka_unit_test(test_groups_and_errors),
        cmocka_unit_test(test_lung_vs_survfit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
