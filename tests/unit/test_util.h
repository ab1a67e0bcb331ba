/* test_util.h — small helpers shared by the cmocka tests. */
#ifndef SYFOSIM_TEST_UTIL_H
#define SYFOSIM_TEST_UTIL_H

#include <math.h>
#include <stdio.h>

/* |a - b| <= eps, printing both values when it fails. */
#define assert_near(a, b, eps)                                                                   \
    do {                                                                                         \
        double a_ = (a), b_ = (b);                                                               \
        if (!(fabs(a_ - b_) <= (eps)))                                                           \
            fprintf(stderr, "assert_near: %.17g vs %.17g (eps %g)\n", a_, b_, (double)(eps));    \
        assert_true(fabs(a_ - b_) <= (eps));                                                     \
    } while (0)

#endif
