/* world.h — event-driven sick-leave histories of the population.
 *
 * For each person the engine draws spell onsets (a rate that depends on
 * the person, with a recurrence boost after each return), then for each
 * spell its diagnosis, latent prognosis, grading path, the follow-up
 * regime's milestones, the pilot's triage when the person's office runs
 * the pilot, and the exit time by inverting the cumulative hazard.  Cost
 * grows with the number of spells, not with persons x days.
 *
 * Days are absolute simulation days: day 0 starts the burn-in; the
 * observation window is [obs0, obs1); the simulation ends at day `end`.
 * Day obs0 is a Monday.  Every draw comes from the person's or spell's own
 * Philox stream, so simulating a person again under the other arm reuses
 * the same random numbers (common random numbers).
 */
#ifndef SYFOSIM_WORLD_H
#define SYFOSIM_WORLD_H

#include "syfosim/hazard.h"
#include "syfosim/population.h"
#include "syfosim/scenario.h"

#include <stddef.h>
#include <stdint.h>

enum { SYF_END_WORK, SYF_END_GRADED_WORK, SYF_END_JOB_CHANGE, SYF_END_MAX, SYF_END_CENSORED };
enum { SYF_AFTER_NONE, SYF_AFTER_AAP, SYF_AFTER_WORK, SYF_AFTER_OTHER };
extern const char *const syf_end_names[5];
extern const char *const syf_after_names[4];

enum {
    SYF_SF_PILOT = 1 << 0,      /* triage day fell in the window in a pilot office */
    SYF_SF_TRIAGED = 1 << 1,    /* still sick on the triage day: message sent or excluded */
    SYF_SF_EXCLUDED = 1 << 2,   /* excluded from triage */
    SYF_SF_RESPONDED = 1 << 3,
    SYF_SF_MAPPED = 1 << 4,     /* mapping conversation held */
    SYF_SF_CHECKPOINT = 1 << 5, /* ... after a checkpoint */
    SYF_SF_ACTIVITY = 1 << 6,   /* status-quo activity-requirement check held */
    SYF_SF_DM2 = 1 << 7,        /* dialogue meeting 2 held */
    SYF_SF_PREGNANCY = 1 << 8,
    SYF_SF_SERIOUS = 1 << 9,
    SYF_SF_GRADED_START = 1 << 10
};

typedef struct {
    int32_t start;       /* absolute day of the first sick day */
    int32_t days;        /* sick days (observed days if censored) */
    int32_t graded_from; /* spell day grading starts, -1 never */
    int32_t graded_to;   /* spell day grading ends (exclusive) */
    int32_t map_day;     /* spell day of the mapping conversation, -1 none */
    uint16_t flags;
    uint16_t triggers;
    uint8_t diag, grade, reason, after_max;
    int8_t q1, q2, q3;
    float prognosis; /* standardised untreated duration index (what self-reports read) */
    float score;     /* risk score: prognosis + noise (pilot.score_noise_sd) */
} syf_spell;

/* A referral to a person-level team (scenario sections team_rph, ...). */
enum { SYF_SVC_PENDING, SYF_SVC_SERVED, SYF_SVC_WITHDRAWN, SYF_SVC_EXPIRED };
extern const char *const syf_service_outcome_names[4];
typedef struct {
    uint32_t person;
    uint16_t spell;   /* the person's spell number (onset stream index) */
    uint8_t team;     /* SYF_TEAM_* */
    uint8_t outcome;  /* SYF_SVC_SERVED, _WITHDRAWN (back at work while waiting) or
                         _EXPIRED (waited team.max_wait_days) */
    int32_t referred; /* absolute day the person joined the waiting list */
    int32_t left;     /* absolute day they left it: service start, return or expiry */
    int32_t end;      /* served: absolute day the service ended (dose given or spell
                         over); otherwise -1 */
    float hours;      /* staff hours delivered (served only) */
} syf_service;

/* Who gets the pilot, and from when (built by the trial design). */
typedef struct {
    const int32_t *office_start;   /* per office: absolute day the pilot starts there,
                                      INT32_MAX = never; NULL = no office gets it */
    const uint8_t *person_treated; /* individual randomisation: 1 = pilot from the start of
                                      the window, whatever the office (NULL = not used) */
    const float *office_fidelity;  /* per office: probability that the pilot is actually
                                      delivered to a spell (NULL = always) */
} syf_assignment;

typedef struct {
    const syf_scenario *sc;
    const syf_population *pop;
    const syf_assignment *assign; /* NULL = nobody assigned */
    int trial_only; /* 1: only what a trial's data can read (diagnosis needs participants
                       only; register outputs need all): a person's history stops once
                       they can no longer be recruited, or once every spell that could
                       be their index is past its outcome window (trial.outcome_days);
                       spells triaged outside the window get no risk score (NAN) */
    int32_t outcome_from; /* trial-only mode: also keep the outcome window that starts on
                             this day (a version of the world whose outcome is measured from
                             the observed index spell); INT32_MIN: none */
    int force_map; /* -1: the pilot's rule decides; 0: nobody mapped; 1: every triaged
                      (non-excluded) person mapped -- for counterfactuals of the rd design */
    uint64_t seed, rep;
    int32_t obs0, obs1, end;
    double score_obs_mean, score_obs_sd; /* standardises the register part of a risk score */
    syf_hazard_table hazard; /* sc's baseline recovery hazard (filled by syf_world_init:
                                call it again after changing the scenario's) */
} syf_world;

void syf_world_init(syf_world *w, const syf_scenario *sc, const syf_population *pop,
                    uint64_t seed, uint64_t rep);

/* Which version of the world to simulate a person in. */
enum {
    SYF_ARM_NEVER = 0,  /* nobody gets the pilot (status quo)                         */
    SYF_ARM_ALWAYS = 1, /* every office runs the pilot for the whole window           */
    SYF_ARM_ACTUAL = 2  /* as assigned by w->assign                                   */
};

/* Simulate person i in world version `arm` (SYF_ARM_*).  Writes at most
 * `cap` spells into buf and returns how many were written.  `exited` (may
 * be NULL) receives the absolute day the person left employment (AAP or
 * other after the maximum), or INT32_MAX.  The pilot applies to a spell
 * whose triage day falls in the window on or after the pilot's start. */
size_t syf_world_person(const syf_world *w, size_t i, int arm, syf_spell *buf, size_t cap,
                        int32_t *exited);

/* The same, also writing the person's team services (at most svcap) into
 * sv.  A person simulated alone meets no waiting lists: every referral
 * starts on its day (use syf_office_run for an office with capacity). */
size_t syf_world_person_services(const syf_world *w, size_t i, int arm, syf_spell *buf,
                                 size_t cap, int32_t *exited, syf_service *sv, size_t svcap,
                                 size_t *n_services);

/* Two versions of the world: (wa, arm_a) and (wb, arm_b), SYF_ARM_* in
 * worlds that differ at most in force_map.  Given person i's history
 * sp[0..n) in version a, the number of its leading spells that are the
 * same in version b.  A spell is, given the same spells before it, unless
 * the versions treat it otherwise: the pilot (the spell reaches the gate,
 * the earlier of the triage day and the status-quo activity check, with
 * its triage day in one version's pilot window only, or the versions map
 * otherwise), a pilot team (triage day in one version's window only), or
 * an employer or pilot team that starts on another day in the two versions
 * (the spell not over before the earlier start).  *whole (may be NULL) is
 * set when the whole history, its end included, is the same in version b
 * (the caller checks that it was not cut at a capacity). */
size_t syf_world_shared_prefix(const syf_world *wa, int arm_a, const syf_world *wb, int arm_b,
                               size_t i, const syf_spell *sp, size_t n, int *whole);

/* Continue person i's history in world version arm after the first n0
 * spells, which buf[0..n0) already holds: as written by syf_world_person
 * in any version, when n0 <= syf_world_shared_prefix() of it.  Returns the
 * spells in buf in all (at most cap), the same as syf_world_person(w, i,
 * arm, buf, cap, exited) would write.  The person meets no waiting lists
 * (no services are recorded). */
size_t syf_world_person_from(const syf_world *w, size_t i, int arm, syf_spell *buf, size_t n0,
                             size_t cap, int32_t *exited);

/* Does the scenario have person-level teams, whose waiting lists make the
 * persons of an office interact (then simulate offices with syf_office_run)? */
int syf_world_has_queues(const syf_scenario *sc);

/* Absolute day employer e's employees start getting the employer team's
 * effects in world version arm (INT32_MAX = never). */
int32_t syf_world_employer_open(const syf_world *w, size_t e, int arm);

/* Grade-weighted weekdays of the spell inside absolute days [a, b);
 * with `paid`, only NAV-paid days (after the employer period). */
double syf_spell_days_in(const syf_world *w, const syf_spell *sp, int paid, int32_t a, int32_t b);

/* Grade (percent) on spell day t. */
int syf_spell_grade_on(const syf_spell *sp, int32_t t);

/* Monday = 0 ... Sunday = 6 of an absolute day. */
int syf_world_dow(const syf_world *w, int32_t day);

#endif
