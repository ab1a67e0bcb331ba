/* effect.c — realised effects of a team on work, and the hazard ratio that
 * gives a prior's risk difference (see effect.h).  Persons are simulated
 * one by one (syf_world_person_services: no waiting lists), so the result
 * is the effect of the service itself, not of a congested team. */
#include "syfosim/effect.h"
#include "syfosim/error.h"
#include "syfosim/population.h"
#include "syfosim/world.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { CAP = 512, SVCAP = 64 };

/* At work on absolute day d: not in any spell covering d, not left. */
static int at_work(const syf_spell *sp, size_t n, int32_t exited, int32_t d)
{
    if (exited <= d)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (sp[k].start <= d && d < sp[k].start + sp[k].days)
            return 0;
    return 1;
}

/* The team alone, as a pilot team everywhere from the window's start (arm
 * ALWAYS) against the world without it (arm NEVER): the versions a trial's
 * SATE compares. */
static void team_only(syf_scenario *sc, int team, double hr)
{
    for (int t = 0; t < SYF_N_TEAM; t++)
        if (t != team)
            sc->team[t].fte = 0;
    syf_team_params *tp = &sc->team[team];
    if (!(tp->fte > 0))
        tp->fte = 1;
    tp->in_pilot = 1;
    tp->spillover = 0;
    for (int d = 0; d < SYF_N_DIAG; d++)
        tp->hr[d] = hr;
    sc->pilot.type = SYF_PILOT_NONE;
    sc->trial.design = SYF_DESIGN_NONE;
}

int syf_effect_work_rd(const syf_scenario *sc_in, int team, double hr, long days, uint64_t seed,
                       syf_effect_measure *out)
{
    memset(out, 0, sizeof *out);
    if (team < 0 || team >= SYF_N_TEAM || !(hr > 0) || days < 0)
        return syf_error_set(SYF_EINPUT, "effect: bad team, hazard ratio or horizon");
    syf_scenario s1 = *sc_in;
    team_only(&s1, team, hr);
    if (s1.run.follow_up_days < days) /* the horizon must be simulated */
        s1.run.follow_up_days = days + 1;
    syf_population *pop;
    int st = syf_population_build(&s1, seed, 0, &pop);
    if (st != SYF_OK)
        return st;
    syf_world w1;
    syf_world_init(&w1, &s1, pop, seed, 0);
    syf_spell *a = malloc(2 * CAP * sizeof *a);
    syf_service *va = malloc(2 * SVCAP * sizeof *va);
    if (!a || !va) {
        free(a);
        free(va);
        syf_population_free(pop);
        return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    syf_spell *b = a + CAP;
    syf_service *vb = va + SVCAP;
    double sum = 0, sum2 = 0, base = 0;
    size_t n = 0;
    for (size_t i = 0; i < pop->n; i++) {
        int32_t e0, e1;
        size_t n0, n1, m0, m1;
        m1 = syf_world_person_services(&w1, i, SYF_ARM_ALWAYS, b, CAP, &e1, vb, SVCAP, &n1);
        /* the first referral (common random numbers: the two versions are
         * the same person until their first service starts) */
        if (n1 == 0)
            continue;
        const size_t r = 0;
        m0 = syf_world_person_services(&w1, i, SYF_ARM_NEVER, a, CAP, &e0, va, SVCAP, &n0);
        if (n0 != 0 || m0 == 0) {
            free(a);
            free(va);
            syf_population_free(pop);
            return syf_error_set(SYF_ERUNTIME,
                                 "internal error: a pilot team served in the world without the "
                                 "pilot (person %zu)",
                                 i);
        }
        const int32_t d = vb[r].referred + (int32_t)days;
        const double y1 = at_work(b, m1, e1, d), y0 = at_work(a, m0, e0, d);
        sum += y1 - y0;
        sum2 += (y1 - y0) * (y1 - y0);
        base += y0;
        n++;
    }
    free(a);
    free(va);
    syf_population_free(pop);
    if (n < 2)
        return syf_error_set(SYF_EINPUT,
                             "effect: fewer than 2 persons referred to the team in the window "
                             "(check its eligibility keys)");
    out->referred = n;
    out->rd = sum / (double)n;
    out->work0 = base / (double)n;
    const double var = (sum2 - (double)n * out->rd * out->rd) / (double)(n - 1);
    out->se = sqrt(var > 0 ? var / (double)n : 0.0);
    return SYF_OK;
}

int syf_effect_solve_hr(const syf_scenario *sc, int team, double target_rd, long days,
                        uint64_t seed, double tol, double *hr, syf_effect_measure *achieved)
{
    double lo = log(1.0 / 50.0), hi = log(50.0), mid = 0.0;
    syf_effect_measure m;
    int st = SYF_OK;
    for (int it = 0; it < 40; it++) {
        mid = 0.5 * (lo + hi);
        st = syf_effect_work_rd(sc, team, exp(mid), days, seed, &m);
        if (st != SYF_OK)
            return st;
        if (fabs(m.rd - target_rd) <= tol)
            break;
        if (m.rd < target_rd)
            lo = mid;
        else
            hi = mid;
    }
    *hr = exp(mid);
    if (achieved)
        *achieved = m;
    return SYF_OK;
}
