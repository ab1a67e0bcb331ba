/* hazard.c — exit times from piecewise-constant hazards (see hazard.h).
 * Walks the merged sequence of baseline knots and multiplier change
 * points, accumulating h0 * m * length until the target is passed.  The
 * table version (what the simulator uses) steps from change point to
 * change point instead, reading the baseline's cumulative hazard off the
 * table, and inverts it only within the piece where the target is passed. */
#include "syfosim/hazard.h"
#include "syfosim/error.h"

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

int syf_hazard_table_init(syf_hazard_table *tab, const double *h0, const int *knots,
                          size_t npieces)
{
    if (npieces == 0 || npieces > SYF_HAZARD_MAX_PIECES)
        return syf_error_set(SYF_EINPUT, "a hazard table takes 1 to %d pieces, not %zu",
                             SYF_HAZARD_MAX_PIECES, npieces);
    tab->n = npieces;
    for (size_t k = 0; k < npieces; k++) {
        tab->t[k] = k ? (double)knots[k] : 0.0;
        tab->h[k] = h0[k];
        tab->cum[k] = k ? tab->cum[k - 1] + h0[k - 1] * (tab->t[k] - tab->t[k - 1]) : 0.0;
    }
    return SYF_OK;
}

double syf_hazard_table_exit_time(const syf_hazard_table *tab, double m0,
                                  const syf_hr_change *chg, size_t nchg, double E, double tmax)
{
    const size_t n = tab->n;
    double m = m0;
    size_t kc = 0;
    while (kc < nchg && chg[kc].t <= 0.0)
        m = chg[kc++].mult;
    /* segment [a, b) with multiplier m; H: cumulative hazard at a; B: the
     * baseline's at a; k: the piece of a */
    double a = 0.0, H = 0.0, B = 0.0;
    size_t k = 0;
    while (a < tmax) {
        const int last = !(kc < nchg && chg[kc].t < tmax);
        const double b = last ? tmax : chg[kc].t;
        /* the piece j (before b) in which m * (baseline - B) reaches R = E - H,
         * and the time x it does (+inf when it never does: m = 0, or a last
         * piece without hazard); if not before b, j is b's piece or the one
         * before it */
        const double R = E - H;
        size_t j = k;
        while (j + 1 < n && tab->t[j + 1] < b && m * (tab->cum[j + 1] - B) < R)
            j++;
        const double x = tab->t[j] + (R - m * (tab->cum[j] - B)) / (m * tab->h[j]);
        if (x < b)
            return x > a ? x : a;
        if (last)
            break;
        const size_t kb = j + 1 < n && tab->t[j + 1] <= b ? j + 1 : j;
        const double Bb = tab->cum[kb] + tab->h[kb] * (b - tab->t[kb]);
        H += m * (Bb - B);
        B = Bb;
        a = b;
        k = kb;
        while (kc < nchg && chg[kc].t <= a)
            m = chg[kc++].mult;
    }
    return tmax + 1.0;
}
