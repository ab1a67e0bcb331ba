/* triage.h — the Morgendagens SYFO week-8 triage (digest-003 section 2.1.4).
 *
 * Version 1 of the rule set: exclusions (age >= exclusion_age, pregnancy-
 * related or serious diagnosis), three questions answered from noisy
 * self-predictions of the true prognosis, the OR-ed mapping triggers,
 * veileder judgement as noise, and the safety-net checkpoints for those
 * screened out as "not relevant now".  Pure function of its inputs: the
 * random draws are made by the caller from the spell's own stream.
 */
#ifndef SYFOSIM_TRIAGE_H
#define SYFOSIM_TRIAGE_H

#include "syfosim/rng.h"
#include "syfosim/scenario.h"

/* Mapping triggers, named as in digest-003 (L342-L382). */
enum {
    SYF_TRIG_A_LOW_EXPECTATION = 1u << 0, /* Q1 unsure or unlikely            L342 */
    SYF_TRIG_B_LONG_DURATION = 1u << 1,   /* Q1 likely, Q2 good, Q3 > 26 w   L343 */
    SYF_TRIG_C_EMPLOYER = 1u << 2,        /* Q1 likely, Q2 difficult         L344 */
    SYF_TRIG_D_NO_RESPONSE = 1u << 3,     /* no answer and degree >= 30 %    L345 */
    SYF_TRIG_G_ELIGIBILITY = 1u << 6,     /* uncertain entry conditions      L348 */
    SYF_TRIG_H_RECURRENT = 1u << 7,       /* recurrent absence               L350 */
    SYF_TRIG_I_SIGNAL = 1u << 8           /* certificate / plan / other unit L382 */
};

typedef struct {
    double prognosis;   /* standardised untreated duration index (higher = longer) */
    int age;
    int pregnancy, serious;
    double degree;      /* sickness degree (%) on the triage day */
    int recurrent_count;/* earlier spells within the look-back */
    /* draws from the spell's stream */
    double u_respond, n_q1, n_q2, n_q3, u_signal, u_eligibility, u_judge_map, u_judge_skip;
    double u_checkpoint[3];
} syf_triage_input;

typedef struct {
    int excluded;    /* no triage: adapted or no message */
    int responded;
    int q1;          /* 0 very likely, 1 unsure, 2 unlikely */
    int q2;          /* 0 good, 1 difficult */
    int q3;          /* 0 under 26 weeks, 1 over */
    unsigned triggers;
    int mapped;      /* mapped at the triage day */
    int checkpoint;  /* if not mapped: index of the checkpoint that maps, or -1 */
} syf_triage_result;

/* Make the triage's random draws (the u_* and n_* fields), in a fixed
 * order, from the spell's triage stream. */
void syf_triage_draw(syf_stream *ts, syf_triage_input *in);

void syf_triage_msyfo(const syf_scenario *sc, const syf_triage_input *in, syf_triage_result *out);

/* Risk-score rule (pilot.type = risk_score): the same exclusions, then
 * mapped if and only if score >= pilot.score_threshold; no questions, no
 * checkpoints.  The score is the spell's prognosis measured with error. */
void syf_triage_score(const syf_scenario *sc, const syf_triage_input *in, double score,
                      syf_triage_result *out);

#endif
