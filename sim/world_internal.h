/* world_internal.h — private: a spell in progress, shared by the person
 * engine (world.c) and the office event simulation (office.c); and
 * world_discrete(), the simulator's categorical draw (population.c too).
 *
 * A spell is simulated in three steps.  spell_begin() makes every random
 * draw of the spell (in a fixed order, from the spell's own streams), runs
 * the pilot's triage and lists the team referrals the spell can make.
 * spell_exit() gives the exit time under the services started so far; it
 * is called again whenever a service starts (a service can only change the
 * hazard from its start on, so the exit time before that is unaffected).
 * spell_finish() writes the final syf_spell.  Without teams the three run
 * back to back; with teams the office simulation interleaves them with the
 * waiting lists of every team in the office.
 */
#ifndef SYFOSIM_WORLD_INTERNAL_H
#define SYFOSIM_WORLD_INTERNAL_H

#include "syfosim/world.h"
#include "syfosim/hazard.h"
#include "syfosim/rng.h"
#include "syfosim/triage.h"

#include <math.h>

typedef struct {
    uint8_t team;
    int32_t day;  /* absolute day the person joins the team's list */
    double key;   /* queue priority key (smaller = served first) */
} spell_referral;

typedef struct {
    uint8_t team;
    int32_t start, referred; /* absolute days */
} spell_service;

typedef struct {
    syf_spell sp;
    size_t person, k;
    int arm;
    double m0, E;         /* hazard multiplier without time-varying factors; exit draw */
    double u_job, u_after, u_dm2;
    int32_t dmax;         /* spell days at the maximum */
    int pilot;
    int32_t map_day, checkpoint_day;
    double eff_hr;        /* the mapping conversation's hazard ratio */
    int32_t emp_day;      /* spell day the employer team's effect starts, -1 none */
    int32_t spill_day[SYF_N_TEAM]; /* spell day a team's spillover starts, -1 none */
    int n_ref, n_svc;
    spell_referral ref[SYF_N_TEAM];
    spell_service svc[SYF_N_TEAM];
    double T;             /* exit time (spell days) under the services started so far */
} spell_state;

/* syf_stream_discrete(s, w, k) without a branch on the outcome (which is
 * random, so the branch is mispredicted half the time): the same index from
 * the same word -- the same running sums, and for weights >= 0 the count of
 * those the scaled uniform reaches is the first one it does not.  tot is
 * world_discrete_total(w, k), which a caller drawing often from the same
 * weights computes once. */
static inline double world_discrete_total(const double *w, size_t k)
{
    double tot = 0.0;
    int ok = 1;
    for (size_t i = 0; i < k; i++) {
        tot += w[i];
        ok &= w[i] >= 0.0;
    }
    return ok ? tot : NAN; /* NAN: a negative weight, leave it to syf_stream_discrete */
}

static inline size_t world_discrete_tot(syf_stream *s, const double *w, size_t k, double tot)
{
    if (isnan(tot))
        return syf_stream_discrete(s, w, k);
    const double u = syf_stream_uniform(s) * tot;
    double acc = 0.0;
    size_t idx = 0;
    for (size_t i = 0; i + 1 < k; i++) {
        acc += w[i];
        idx += u >= acc;
    }
    return idx;
}

static inline size_t world_discrete(syf_stream *s, const double *w, size_t k)
{
    return world_discrete_tot(s, w, k, world_discrete_total(w, k));
}

/* Absolute day team t opens for person i in world version arm (INT32_MAX
 * = never). */
int32_t world_team_open(const syf_world *w, size_t i, int arm, int t);

void spell_begin(const syf_world *w, size_t i, size_t k, int32_t start, int arm,
                 int recurrent_count, spell_state *st);
/* Exit time (spell days) under st->svc; also stores it in st->T. */
double spell_exit(const syf_world *w, spell_state *st);
/* Absolute day the person is back (the first day not sick), or the end of
 * the simulation, under the current st->T. */
int32_t spell_exit_day(const syf_world *w, const spell_state *st);
void spell_finish(const syf_world *w, spell_state *st);

/* The exponential that decides the onset of person i's spell number k
 * (from the spell's own onset stream).  It does not depend on the history
 * before: drawing it early lets its random block be computed while the
 * previous spell is simulated. */
double world_onset_draw(const syf_world *w, size_t i, size_t k);

/* Onset of the person's next spell: given the person is at risk from day t
 * (after_return: within the recurrence period), the start day of the spell
 * whose world_onset_draw() is E, or a value >= w->end when none. */
int32_t world_next_onset(const syf_world *w, size_t i, double E, int32_t t, int after_return,
                         int arm);

/* Earlier spells (the n in sp) within the recurrence look-back of start. */
int world_recurrent_count(const syf_world *w, const syf_spell *sp, size_t n, int32_t start);

/* After spell sp: the day the person is at risk again and whether within
 * the recurrence period; returns 0 when the history ends (censored, or left
 * employment after the maximum: *exited gets the day). */
int world_after_spell(const syf_world *w, const syf_spell *sp, int32_t *t, int *after_return,
                      int32_t *exited);

/* Staff hours of a service that ran over absolute days [start, end). */
double world_service_hours(const syf_scenario *sc, int team, int32_t start, int32_t end);

#endif
