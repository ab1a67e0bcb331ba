/* triage.c — Morgendagens SYFO rule set, version 1 (see triage.h).
 * Triggers e and f (uncertain duration) need a three-level Q3 that the
 * week-8 message of digest-003 Figure 1 does not have; they arrive with
 * the full rule set. */
#include "syfosim/triage.h"

void syf_triage_score(const syf_scenario *sc, const syf_triage_input *in, double score,
                      syf_triage_result *out)
{
    out->excluded = in->pregnancy || in->serious || in->age >= sc->pilot.exclusion_age;
    out->responded = 0;
    out->q1 = out->q2 = out->q3 = -1;
    out->triggers = 0;
    out->checkpoint = -1;
    out->mapped = !out->excluded && score >= sc->pilot.score_threshold;
}

void syf_triage_msyfo(const syf_scenario *sc, const syf_triage_input *in, syf_triage_result *out)
{
    const double noise = sc->pilot.self_noise_sd;
    out->excluded = in->pregnancy || in->serious || in->age >= sc->pilot.exclusion_age;
    out->responded = 0;
    out->q1 = out->q2 = out->q3 = -1;
    out->triggers = 0;
    out->mapped = 0;
    out->checkpoint = -1;
    if (out->excluded)
        return;

    out->responded = in->u_respond < sc->pilot.response_share;
    if (out->responded) {
        double s1 = in->prognosis + noise * in->n_q1;
        out->q1 = s1 < sc->pilot.q1_cuts[0] ? 0 : s1 < sc->pilot.q1_cuts[1] ? 1 : 2;
        /* the employer relation is mostly its own latent, partly prognosis */
        out->q2 = 0.3 * in->prognosis + in->n_q2 > sc->pilot.q2_cut;
        out->q3 = in->prognosis + noise * in->n_q3 > sc->pilot.q3_cut;
        if (out->q1 >= 1)
            out->triggers |= SYF_TRIG_A_LOW_EXPECTATION;
        if (out->q1 == 0 && out->q2 == 0 && out->q3 == 1)
            out->triggers |= SYF_TRIG_B_LONG_DURATION;
        if (out->q1 == 0 && out->q2 == 1)
            out->triggers |= SYF_TRIG_C_EMPLOYER;
    } else if (in->degree >= sc->pilot.degree_min) {
        out->triggers |= SYF_TRIG_D_NO_RESPONSE;
    }
    if (in->u_eligibility < sc->pilot.eligibility_share)
        out->triggers |= SYF_TRIG_G_ELIGIBILITY;
    if (in->recurrent_count >= sc->pilot.recurrent_spells)
        out->triggers |= SYF_TRIG_H_RECURRENT;
    if (in->u_signal < sc->pilot.signal_share)
        out->triggers |= SYF_TRIG_I_SIGNAL;

    if (out->triggers)
        out->mapped = in->u_judge_skip >= sc->pilot.judgement_skip_share;
    else
        out->mapped = in->u_judge_map < sc->pilot.judgement_map_share;
    if (!out->mapped)
        for (int c = 0; c < 3; c++)
            if (in->u_checkpoint[c] < sc->pilot.checkpoint_map_share) {
                out->checkpoint = c;
                break;
            }
}

void syf_triage_draw(syf_stream *ts, syf_triage_input *in)
{
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
}
