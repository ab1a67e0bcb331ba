/* triage.h — the Morgendagens SYFO week-8 triage (digest-003 section 2.1.4)
 * and the risk-score rule, with the service tiers they send people to.
 *
 * Rule set MSYFO-2023 (version 2), as reconstructed in digest-003 §2.1.4:
 *
 *   no message, excluded   pregnancy-related diagnosis, or 100 % disability
 *                          pension with a position under 50 %   L334, L274
 *   adapted message, excl. age >= pilot.exclusion_age (65) or a serious
 *                          diagnosis (FTL ch. 12)         L274, L328-332
 *   otherwise the week-8 message with three questions (L303-324):
 *     Q1 return to the job?   0 very likely, 1 unsure, 2 unlikely
 *     Q2 employer relation    0 good, 1 difficult, 2 neither (L344; only
 *                             with pilot.q2_neither_width > 0)
 *     Q3 expected duration    0 under 26 weeks, 1 over, 2 don't know
 *                             (L346-347; with pilot.q3_unsure_width > 0)
 *   mapped if ANY of the nine triggers a-i fires (enum below), up to the
 *   veileder's judgement (noise both ways, L297, L436); otherwise "not
 *   relevant now", with re-entry at the checkpoints of weeks 17, 26 and 39
 *   (L380).
 *
 * The answers are noisy self-predictions of the person's own prognosis;
 * the employer relation (Q2), uncertain eligibility (g) and the signals of
 * other actors (i) share a latent "complexity" that rises with the
 * prognosis (see triage.c).  Pure functions of their inputs: the random
 * draws are made by syf_triage_draw() from the spell's own stream.
 *
 * Tiers (syf_triage_result.tier): 0 standard follow-up (not mapped), 1 short
 * measures, 2 full toolbox (digest-003 L394-396, L410-414).  MSYFO: 2 =
 * mapped at the triage, 1 = mapped at a checkpoint, 0 = not mapped.  Risk
 * score: from the two cuts pilot.tier_cuts (see syf_triage_score).
 */
#ifndef SYFOSIM_TRIAGE_H
#define SYFOSIM_TRIAGE_H

#include "syfosim/rng.h"
#include "syfosim/scenario.h"

/* Mapping triggers, named as in digest-003 (L342-L382). */
enum {
    SYF_TRIG_A_LOW_EXPECTATION = 1u << 0, /* Q1 unsure or unlikely                      L342 */
    SYF_TRIG_B_LONG_DURATION = 1u << 1,   /* Q1 very likely, Q2 good, Q3 over 26 w      L343 */
    SYF_TRIG_C_EMPLOYER = 1u << 2,        /* Q1 very likely, Q2 difficult or neither    L344 */
    SYF_TRIG_D_NO_RESPONSE = 1u << 3,     /* no answer and degree >= 30 %               L345 */
    SYF_TRIG_E_UNSURE_DURATION = 1u << 4, /* Q3 don't know and degree >= 30 %           L346 */
    SYF_TRIG_F_UNSURE_OTHER = 1u << 5,    /* Q3 don't know, and not about the outcome of
                                             treatment or rehabilitation               L347 */
    SYF_TRIG_G_ELIGIBILITY = 1u << 6,     /* uncertain entry conditions                 L348 */
    SYF_TRIG_H_RECURRENT = 1u << 7,       /* recurrent absence, whatever the answers    L350 */
    SYF_TRIG_I_SIGNAL = 1u << 8           /* certificate / plan / other NAV unit        L382 */
};
#define SYF_N_TRIGGERS 9

/* The message sent on the triage day (digest-003 L330-334). */
enum {
    SYF_MSG_NONE = 0,    /* no greeting: pregnancy-related, or disability/position (L334) */
    SYF_MSG_ADAPTED = 1, /* "contact us if needed": age >= 65 or serious diagnosis (L332) */
    SYF_MSG_STANDARD = 2 /* the three questions (Figure 1, L303-324) */
};

/* Service tiers. */
enum { SYF_TIER_STANDARD = 0, SYF_TIER_SHORT = 1, SYF_TIER_FULL = 2 };

typedef struct {
    /* --- filled by the caller (sim/world.c) --- */
    double prognosis;       /* standardised untreated duration index (higher = longer) */
    double log_hazard_mult; /* log of the spell's recovery-hazard multiplier other than the
                               prognosis: log(person hazard_mult x duration.diagnosis_hr of
                               the spell's diagnosis).  Read only when pilot.self_hazard_weight
                               > 0 (the person knows their diagnosis and situation); set to 0
                               by syf_triage_draw(), so a caller that does not fill it gets
                               the prognosis alone. */
    int age;
    int pregnancy, serious;
    double degree;       /* sickness degree (%) on the triage day */
    int recurrent_count; /* earlier spells within the look-back */
    /* --- draws from the spell's stream (syf_triage_draw) --- */
    double u_respond, n_q1, n_q2, n_q3, u_signal, u_eligibility, u_judge_map, u_judge_skip;
    double u_checkpoint[3];
    /* version 2 draws (from a sibling stream, see syf_triage_draw) */
    double u_disability;   /* excluded when 1 - u_disability < pilot.disability_share
                              (upper tail: a zeroed input is not excluded) */
    double n_self;         /* self-prediction error shared by Q1 and Q3 */
    double n_complex;      /* the complexity latent's own part */
    double u_unsure_other; /* Q3 don't know: about something other than treatment (f) */
} syf_triage_input;

typedef struct {
    int excluded;    /* no triage: adapted or no message */
    int message;     /* SYF_MSG_*; risk score: SYF_MSG_NONE (no questions) */
    int responded;
    int q1;          /* 0 very likely, 1 unsure, 2 unlikely; -1 not asked/answered */
    int q2;          /* 0 good, 1 difficult, 2 neither; -1 */
    int q3;          /* 0 under 26 weeks, 1 over 26 weeks, 2 don't know; -1 */
    unsigned triggers;
    int mapped;      /* mapped at the triage day */
    int checkpoint;  /* if not mapped: index of the checkpoint that maps, or -1 */
    int tier;        /* SYF_TIER_*: 0 standard, 1 short measures, 2 full toolbox */
} syf_triage_result;

/* Make the triage's random draws (the u_* and n_* fields), in a fixed
 * order, from the spell's triage stream, and set log_hazard_mult to 0.
 * The version-1 draws come from `ts`, as in version 1; the version-2 draws
 * from a sibling stream (same key, entity and purpose, fourth counter word
 * 1), so the caller's later draws from `ts` keep their values. */
void syf_triage_draw(syf_stream *ts, syf_triage_input *in);

/* The MSYFO-2023 rule set (see the top of this file). */
void syf_triage_msyfo(const syf_scenario *sc, const syf_triage_input *in, syf_triage_result *out);

/* Risk-score rule (pilot.type = risk_score): the same exclusions, then
 * mapped if and only if score >= pilot.score_threshold (the rd design's
 * cutoff); no questions, no checkpoints.  Tier: 2 if score >=
 * pilot.tier_cuts[1], 1 if score >= pilot.tier_cuts[0], else 0 (excluded:
 * 0).  With the defaults (tier_cuts 0.5, 1.0; score_threshold 1.0) tier 2
 * is exactly the mapped group and tier 1 the band just below the
 * threshold.  The score is the spell's prognosis measured with error. */
void syf_triage_score(const syf_scenario *sc, const syf_triage_input *in, double score,
                      syf_triage_result *out);

/* The index the self-reports and the complexity latent read: the prognosis,
 * minus pilot.self_hazard_weight times the standardised log hazard
 * multiplier. */
double syf_triage_self_index(const syf_scenario *sc, const syf_triage_input *in);

#endif
