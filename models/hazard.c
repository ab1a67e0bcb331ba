/* hazard.c — exit times from piecewise-constant hazards (see hazard.h).
 * Walks the merged sequence of baseline knots and multiplier change
 * points, accumulating h0 * m * length until the target is passed. */
#include "syfosim/hazard.h"

#include <math.h>

/* Visit the segments [a, b) on which both h0 and m are constant, calling
 * back with the rate; stop when the callback says so. */
static double walk(const double *h0, const int *knots, size_t np, double m0,
                   const syf_hr_change *chg, size_t nchg, double E, double tmax, int want_time)
{
    double H = 0.0, t = 0.0, m = m0;
    size_t kp = 0, kc = 0;
    while (kc < nchg && chg[kc].t <= 0.0)
        m = chg[kc++].mult;
    while (t < tmax) {
        while (kp + 1 < np && knots[kp + 1] <= t)
            kp++;
        double next = tmax;
        if (kp + 1 < np && knots[kp + 1] < next)
            next = knots[kp + 1];
        if (kc < nchg && chg[kc].t < next)
            next = chg[kc].t;
        double rate = h0[kp] * m;
        double dH = rate * (next - t);
        if (want_time && H + dH >= E)
            return rate > 0 ? t + (E - H) / rate : tmax;
        H += dH;
        t = next;
        while (kc < nchg && chg[kc].t <= t)
            m = chg[kc++].mult;
    }
    return want_time ? tmax + 1.0 : H;
}

double syf_hazard_exit_time(const double *h0, const int *knots, size_t npieces, double m0,
                            const syf_hr_change *chg, size_t nchg, double E, double tmax)
{
    return walk(h0, knots, npieces, m0, chg, nchg, E, tmax, 1);
}

double syf_hazard_cumulative(const double *h0, const int *knots, size_t npieces, double m0,
                             const syf_hr_change *chg, size_t nchg, double t)
{
    return walk(h0, knots, npieces, m0, chg, nchg, INFINITY, t, 0);
}
