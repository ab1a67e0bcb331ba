/* triage.c — the Morgendagens SYFO rule set (MSYFO-2023, version 2) and the
 * risk-score rule; see triage.h for the rules with their digest-003 lines.
 * sim/world.c calls syf_triage_draw() for every spell that reaches the
 * triage day, fills the person's inputs, and applies one of the rules.
 *
 * How the answers and the correlated triggers are generated:
 *
 *   X   = the person's own index: prognosis - w * log_hazard_mult / s
 *         (w = pilot.self_hazard_weight, s = sqrt(prognosis_sd^2 + pi^2/6),
 *         the scale of the standardised prognosis)
 *   e   = sd * (sqrt(k) n_self + sqrt(1 - k) n_own)   (sd = self_noise_sd,
 *         k = self_noise_shared: Q1 and Q3 share part of their error)
 *   Q1  from X + e_1 and q1_cuts;  Q3 from X + e_3 around q3_cut, with a
 *       "don't know" band of width q3_unsure_width centred on the cut
 *   C   = b (X - q3_cut) + n_complex            (b = complexity_slope)
 *   Q2  from l C + sqrt(1 - l^2) n_q2 around q2_cut (l = complexity_loading),
 *       with a "neither" band of width q2_neither_width centred on the cut
 *   g, i  fire with probability Phi((Phi^-1(share) + l C) / sqrt(1 - l^2)),
 *       i.e. a probit latent l C + sqrt(1 - l^2) eps above the share's
 *       quantile: on average over n_complex exactly `share` when b = 0 (or
 *       at X = q3_cut), and more often for those with a longer prognosis
 *       when b > 0.
 *
 * So the employer relation, uncertain eligibility and the signals from the
 * certificate or the follow-up plan are correlated with each other (a
 * workplace conflict or a complex case shows up in all of them) and with
 * the prognosis, as digest-003 L380-382 and L436 describe them.  Non-
 * response (d) and recurrence (h) are left to their own mechanisms: the
 * response draw is independent (no source), and recurrence comes from the
 * world's spell history, which shares the person's latent health.
 *
 * Calibration (scenarios/msyfo-triage.ini; tests/unit/test_triage.c).
 * digest-003 gives two targets: about 40 % of those messaged are mapped
 * (L336), and of those who said "under 26 weeks" and were not mapped for
 * other reasons, 16/376 = 4.3 % overran and needed mapping and 24/376 =
 * 6.4 % overran without needing it (L434).  In the calibrated world 43 % of
 * the spells that reach week 8 last beyond 26 weeks (calibration rows
 * 14-15: 0.08 / 0.18), so both together require a mapped group that is
 * about 94 % overrunners.  That is out of reach: non-response (d, 9 % of
 * those messaged) and recurrence (h, 7 %) map people whatever their
 * prognosis, and the prognosis index read by the self-reports is itself an
 * imperfect predictor of the duration.  Measured (60 x 60,000 persons, SD
 * between populations in brackets): with the shipped values 40.4 % (1.2)
 * are mapped and 25.2 % (1.9) of the L434 group overrun, 10.3 % needing
 * mapping and 14.9 % not (the 16 : 24 split holds: 41 % vs 40 %).  Less
 * self-noise helps little (noise 0.3: 28 %); letting the self-reports read
 * the person's hazard multiplier too (self_hazard_weight = 1, once the
 * world supplies log_hazard_mult) gives 22 %; reaching 10.6 % needs about
 * 56 % mapped (49 % with the multiplier).
 */
#include "syfosim/triage.h"

#include <gsl/gsl_cdf.h>
#include <math.h>

/* Exclusions shared by both rules; sets excluded and message. */
static void exclusions(const syf_scenario *sc, const syf_triage_input *in,
                       syf_triage_result *out)
{
    out->responded = 0;
    out->q1 = out->q2 = out->q3 = -1;
    out->triggers = 0;
    out->mapped = 0;
    out->checkpoint = -1;
    out->tier = SYF_TIER_STANDARD;
    out->excluded = 1;
    /* L334 (disability/position added spring 2023, L274): no greeting */
    if (in->pregnancy || 1.0 - in->u_disability < sc->pilot.disability_share)
        out->message = SYF_MSG_NONE;
    else if (in->serious || in->age >= sc->pilot.exclusion_age) /* L274, L328-332 */
        out->message = SYF_MSG_ADAPTED;
    else {
        out->message = SYF_MSG_STANDARD;
        out->excluded = 0;
    }
}

double syf_triage_self_index(const syf_scenario *sc, const syf_triage_input *in)
{
    const double sz = sc->duration.prognosis_sd;
    const double s = sqrt(sz * sz + 1.6449340668482264); /* pi^2/6: var of log E */
    return in->prognosis - sc->pilot.self_hazard_weight * in->log_hazard_mult / s;
}

void syf_triage_score(const syf_scenario *sc, const syf_triage_input *in, double score,
                      syf_triage_result *out)
{
    exclusions(sc, in, out);
    out->message = SYF_MSG_NONE; /* a register score: no questions are asked */
    if (out->excluded)
        return;
    out->mapped = score >= sc->pilot.score_threshold;
    out->tier = score >= sc->pilot.tier_cuts[1]   ? SYF_TIER_FULL
                : score >= sc->pilot.tier_cuts[0] ? SYF_TIER_SHORT
                                                  : SYF_TIER_STANDARD;
}

/* Three-level answer from a signal around a cut with a middle band of the
 * given width centred on it: below the band `low`, above it `high`, inside
 * `middle`.  Width 0 gives the two-level question (signal >= cut: high). */
static int banded(double signal, double cut, double width, int low, int middle, int high)
{
    if (signal >= cut + 0.5 * width)
        return high;
    if (signal >= cut - 0.5 * width)
        return middle;
    return low;
}

/* Probit event with marginal `share` at C = 0, loading l on the latent C. */
static int probit_event(double u, double share, double l, double C)
{
    if (share <= 0)
        return 0;
    if (share >= 1)
        return 1;
    return u < gsl_cdf_ugaussian_P((gsl_cdf_ugaussian_Pinv(share) + l * C) / sqrt(1.0 - l * l));
}

void syf_triage_msyfo(const syf_scenario *sc, const syf_triage_input *in, syf_triage_result *out)
{
    exclusions(sc, in, out);
    if (out->excluded)
        return;
    const double X = syf_triage_self_index(sc, in);
    const double l = sc->pilot.complexity_loading;
    const double C = sc->pilot.complexity_slope * (X - sc->pilot.q3_cut) + in->n_complex;
    const double degree_min = sc->pilot.degree_min;

    out->responded = in->u_respond < sc->pilot.response_share;
    if (out->responded) {
        const double sd = sc->pilot.self_noise_sd, k = sc->pilot.self_noise_shared;
        const double shared = sqrt(k) * in->n_self, own = sqrt(1.0 - k);
        const double s1 = X + sd * (shared + own * in->n_q1);
        const double s3 = X + sd * (shared + own * in->n_q3);
        const double s2 = l * C + sqrt(1.0 - l * l) * in->n_q2;
        out->q1 = s1 < sc->pilot.q1_cuts[0] ? 0 : s1 < sc->pilot.q1_cuts[1] ? 1 : 2;
        out->q2 = banded(s2, sc->pilot.q2_cut, sc->pilot.q2_neither_width, 0, 2, 1);
        out->q3 = banded(s3, sc->pilot.q3_cut, sc->pilot.q3_unsure_width, 0, 2, 1);
        if (out->q1 >= 1) /* L342 */
            out->triggers |= SYF_TRIG_A_LOW_EXPECTATION;
        if (out->q1 == 0 && out->q2 == 0 && out->q3 == 1) /* L343 */
            out->triggers |= SYF_TRIG_B_LONG_DURATION;
        if (out->q1 == 0 && out->q2 >= 1) /* L344: difficult or neither */
            out->triggers |= SYF_TRIG_C_EMPLOYER;
        if (out->q3 == 2 && in->degree >= degree_min) /* L346 */
            out->triggers |= SYF_TRIG_E_UNSURE_DURATION;
        if (out->q3 == 2 && in->u_unsure_other < sc->pilot.unsure_other_share) /* L347 */
            out->triggers |= SYF_TRIG_F_UNSURE_OTHER;
    } else if (in->degree >= degree_min) { /* L345 */
        out->triggers |= SYF_TRIG_D_NO_RESPONSE;
    }
    if (probit_event(in->u_eligibility, sc->pilot.eligibility_share, l, C)) /* L348 */
        out->triggers |= SYF_TRIG_G_ELIGIBILITY;
    if (in->recurrent_count >= sc->pilot.recurrent_spells) /* L350 */
        out->triggers |= SYF_TRIG_H_RECURRENT;
    if (probit_event(in->u_signal, sc->pilot.signal_share, l, C)) /* L382 */
        out->triggers |= SYF_TRIG_I_SIGNAL;

    /* the veileder's judgement (L297, L436) */
    if (out->triggers)
        out->mapped = in->u_judge_skip >= sc->pilot.judgement_skip_share;
    else
        out->mapped = in->u_judge_map < sc->pilot.judgement_map_share;
    if (out->mapped) {
        out->tier = SYF_TIER_FULL;
        return;
    }
    /* "not relevant now": the safety net of weeks 17, 26, 39 (L380) */
    for (int c = 0; c < 3; c++)
        if (in->u_checkpoint[c] < sc->pilot.checkpoint_map_share) {
            out->checkpoint = c;
            out->tier = SYF_TIER_SHORT;
            break;
        }
}

void syf_triage_draw(syf_stream *ts, syf_triage_input *in)
{
    in->log_hazard_mult = 0;
    in->u_respond = syf_stream_uniform(ts);
    in->n_q1 = syf_stream_normal(ts);
    in->n_q2 = syf_stream_normal(ts);
    in->n_q3 = syf_stream_normal(ts);
    in->u_signal = syf_stream_uniform(ts);
    in->u_eligibility = syf_stream_uniform(ts);
    in->u_judge_map = syf_stream_uniform(ts);
    in->u_judge_skip = syf_stream_uniform(ts);
    for (int c = 0; c < 3; c++)
        in->u_checkpoint[c] = syf_stream_uniform(ts);
    /* version 2: a sibling stream (fourth counter word 1; syf_stream_init
     * leaves it 0), so the words the caller draws after us are unchanged */
    syf_stream x = *ts;
    x.ctr[2] = 0;
    x.ctr[3] = 1;
    x.pos = (unsigned)(sizeof x.buf / sizeof x.buf[0]); /* empty: refill on first draw */
    in->u_disability = syf_stream_uniform(&x);
    in->n_self = syf_stream_normal(&x);
    in->n_complex = syf_stream_normal(&x);
    in->u_unsure_other = syf_stream_uniform(&x);
}
