/* design.c — assignment mechanisms (see design.h).  Produces per-office
 * pilot start days, fidelity and design groups from the design's own
 * random stream; the world and the trial layer only read the result. */
#include "syfosim/design.h"
#include "syfosim/error.h"
#include "syfosim/rng.h"
#include "syfosim/sitepanel.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void syf_design_free(syf_design *d)
{
    free(d->office_start);
    free(d->person_treated);
    free(d->office_fidelity);
    free(d->office_group);
    memset(d, 0, sizeof *d);
}

const char *syf_design_name(int design)
{
    static const char *const names[] = {"none",          "cluster_rct",   "individual_rct",
                                        "stratified_crt", "matched_crt",  "stepped_wedge",
                                        "staggered",     "self_selected", "rd",
                                        "single_site"};
    return design >= 0 && design < (int)(sizeof names / sizeof names[0]) ? names[design] : "?";
}

int syf_design_office_on(const syf_design *d, size_t o, int32_t t)
{
    return d->office_start && d->office_start[o] != INT32_MAX && t >= d->office_start[o];
}

/* Fisher-Yates shuffle of idx[0..n) */
static void shuffle(syf_stream *s, size_t *idx, size_t n)
{
    for (size_t k = n; k-- > 1;) {
        size_t j = (size_t)(syf_stream_uniform(s) * (double)(k + 1));
        size_t t = idx[k];
        idx[k] = idx[j];
        idx[j] = t;
    }
}

typedef struct {
    double key;
    size_t office;
} keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->office > y->office) - (x->office < y->office);
}

/* Office characteristic for strata, pairs and order (higher = larger or
 * more sick leave). */
static double office_char(const syf_scenario *sc, const syf_population *pop, size_t o,
                          syf_stream *s)
{
    if (sc->trial.strata_by == SYF_STRATA_SIZE)
        return (double)(pop->office_first[o + 1] - pop->office_first[o]);
    /* baseline sick leave: expected days scale with incidence / recovery,
     * observed with 5 % noise as a register-based baseline would be */
    return log(pop->office_re_incidence[o]) - log(pop->office_re_hazard[o]) +
           0.05 * syf_stream_normal(s);
}

/* Split the K offices in `order` into S sequences of the given sizes. */
static int sequence_sizes(const syf_scenario *sc, size_t K, size_t S, size_t *size)
{
    if (sc->trial.sequence_sizes[0]) {
        const char *p = sc->trial.sequence_sizes;
        size_t sum = 0;
        for (size_t k = 0; k < S; k++) {
            char *end;
            long v = strtol(p, &end, 10);
            if (v < 1)
                return syf_error_set(SYF_EINPUT, "trial.sequence_sizes: bad count");
            size[k] = (size_t)v;
            sum += size[k];
            p = *end ? end + 1 : end;
        }
        if (sum != K)
            return syf_error_set(SYF_EINPUT, "trial.sequence_sizes: counts do not sum to %zu", K);
        return SYF_OK;
    }
    for (size_t k = 0; k < S; k++)
        size[k] = K / S + (k < K % S);
    return SYF_OK;
}

void syf_design_selection_score(const syf_scenario *sc, const syf_population *pop,
                                syf_stream *s, double *score)
{
    const size_t K = pop->n_office;
    double mu = 0, var = 0;
    for (size_t o = 0; o < K; o++)
        mu += log(pop->office_re_hazard[o]) / (double)K;
    for (size_t o = 0; o < K; o++)
        var += pow(log(pop->office_re_hazard[o]) - mu, 2) / (double)K;
    const double sd = var > 0 ? sqrt(var) : 1;
    for (size_t o = 0; o < K; o++)
        score[o] = sc->trial.selection_strength * (log(pop->office_re_hazard[o]) - mu) / sd +
                   syf_stream_normal(s);
}

int syf_design_set_fidelity(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                            syf_design *d)
{
    if (sc->trial.fidelity_min >= 1.0)
        return SYF_OK;
    d->office_fidelity = malloc(d->n_office * sizeof *d->office_fidelity);
    if (!d->office_fidelity)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    for (size_t o = 0; o < d->n_office; o++) {
        syf_stream fs;
        syf_stream_init(&fs, seed, rep, o, syf_purpose(SYF_P_DESIGN, 2));
        d->office_fidelity[o] = (float)(sc->trial.fidelity_min +
                                        (1.0 - sc->trial.fidelity_min) * syf_stream_uniform(&fs));
    }
    return SYF_OK;
}

/* Offices in descending selection score (ties: lower office first). */
static void selection_order(const syf_scenario *sc, const syf_population *pop, syf_stream *s,
                            keyed *kv)
{
    const size_t K = pop->n_office;
    double *score = malloc(K * sizeof *score);
    if (!score) { /* fall back to office order; the caller's allocations were larger */
        for (size_t o = 0; o < K; o++)
            kv[o] = (keyed){(double)o, o};
        return;
    }
    syf_design_selection_score(sc, pop, s, score);
    for (size_t o = 0; o < K; o++)
        kv[o] = (keyed){-score[o], o};
    free(score);
    qsort(kv, K, sizeof *kv, cmp_keyed);
}

int syf_design_build(const syf_scenario *sc, const syf_population *pop, uint64_t seed,
                     uint64_t rep, syf_design *d)
{
    if (sc->trial.design == SYF_DESIGN_SINGLE_SITE)
        return syf_sitepanel_design(sc, pop, seed, rep, d);
    memset(d, 0, sizeof *d);
    const size_t K = pop->n_office;
    const int design = sc->trial.design;
    const int32_t obs0 = (int32_t)sc->run.burn_in_days;
    d->n_office = K;
    d->office_start = malloc(K * sizeof *d->office_start);
    d->office_group = malloc(K * sizeof *d->office_group);
    size_t *idx = malloc(K * sizeof *idx);
    keyed *kv = malloc(K * sizeof *kv);
    if (!d->office_start || !d->office_group || !idx || !kv) {
        free(idx);
        free(kv);
        syf_design_free(d);
        return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    for (size_t o = 0; o < K; o++) {
        d->office_start[o] = INT32_MAX;
        d->office_group[o] = -1;
        idx[o] = o;
    }
    syf_stream s;
    syf_stream_init(&s, seed, rep, 0, SYF_P_DESIGN);
    const size_t nt = (size_t)lround(sc->trial.treated_share * (double)K);
    int st = SYF_OK;

    switch (design) {
    case SYF_DESIGN_NONE:
        break;
    case SYF_DESIGN_CLUSTER_RCT:
        shuffle(&s, idx, K);
        for (size_t k = 0; k < nt; k++)
            d->office_start[idx[k]] = obs0;
        break;
    case SYF_DESIGN_INDIVIDUAL_RCT:
        d->person_treated = malloc(pop->n ? pop->n : 1);
        if (!d->person_treated) {
            st = syf_error_set(SYF_ENOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < pop->n; i++) {
            syf_stream ps;
            syf_stream_init(&ps, seed, rep, i, syf_purpose(SYF_P_DESIGN, 1));
            d->person_treated[i] = syf_stream_uniform(&ps) < sc->trial.treated_share;
        }
        break;
    case SYF_DESIGN_STRATIFIED_CRT:
    case SYF_DESIGN_MATCHED_CRT: {
        for (size_t o = 0; o < K; o++) {
            kv[o].key = office_char(sc, pop, o, &s);
            kv[o].office = o;
        }
        qsort(kv, K, sizeof *kv, cmp_keyed);
        size_t G = design == SYF_DESIGN_MATCHED_CRT ? K / 2 : (size_t)sc->trial.strata;
        if (G < 1)
            G = 1;
        /* groups of consecutive offices in the sorted order; with pairs an odd
         * office joins the last pair (a triplet) */
        for (size_t g = 0, pos = 0; g < G; g++) {
            size_t size = K / G + (design == SYF_DESIGN_MATCHED_CRT ? (g == G - 1) * (K % G)
                                                                    : (g < K % G));
            for (size_t k = 0; k < size; k++)
                idx[k] = kv[pos + k].office;
            shuffle(&s, idx, size);
            /* treated within the group: the treated share of the group, with
             * the rounding remainder randomised */
            double want = sc->trial.treated_share * (double)size;
            size_t n1 = (size_t)floor(want);
            if (syf_stream_uniform(&s) < want - floor(want))
                n1++;
            if (design == SYF_DESIGN_MATCHED_CRT && size == 2)
                n1 = 1;
            for (size_t k = 0; k < size; k++) {
                d->office_group[idx[k]] = (int32_t)g;
                if (k < n1)
                    d->office_start[idx[k]] = obs0;
            }
            pos += size;
        }
        d->n_groups = G;
        break;
    }
    case SYF_DESIGN_STEPPED_WEDGE:
    case SYF_DESIGN_STAGGERED: {
        const size_t S = (size_t)sc->trial.sequences;
        size_t *size = malloc(S * sizeof *size);
        if (!size) {
            st = syf_error_set(SYF_ENOMEM, "out of memory");
            break;
        }
        if ((st = sequence_sizes(sc, K, S, size)) != SYF_OK) {
            free(size);
            break;
        }
        if (design == SYF_DESIGN_STEPPED_WEDGE) {
            shuffle(&s, idx, K);
        } else { /* highest selection score first */
            selection_order(sc, pop, &s, kv);
            for (size_t o = 0; o < K; o++)
                idx[o] = kv[o].office;
        }
        d->period_days = (int32_t)(sc->run.observation_days / sc->trial.periods);
        for (size_t q = 0, pos = 0; q < S; q++) {
            for (size_t k = 0; k < size[q]; k++) {
                d->office_group[idx[pos + k]] = (int32_t)(q + 1);
                d->office_start[idx[pos + k]] = obs0 + (int32_t)(q + 1) * d->period_days;
            }
            pos += size[q];
        }
        d->n_groups = S + 1;
        free(size);
        break;
    }
    case SYF_DESIGN_SELF_SELECTED: {
        selection_order(sc, pop, &s, kv);
        for (size_t k = 0; k < nt; k++)
            d->office_start[kv[k].office] = obs0;
        break;
    }
    case SYF_DESIGN_RD: /* every office runs the threshold rule from the start */
        for (size_t o = 0; o < K; o++)
            d->office_start[o] = obs0;
        break;
    default:
        st = syf_error_set(SYF_EINPUT, "trial.design: unknown design %d", design);
    }

    if (st == SYF_OK)
        st = syf_design_set_fidelity(sc, seed, rep, d);
    free(idx);
    free(kv);
    if (st != SYF_OK) {
        syf_design_free(d);
        return st;
    }
    d->assign.office_start = d->office_start;
    d->assign.person_treated = d->person_treated;
    d->assign.office_fidelity = d->office_fidelity;
    return SYF_OK;
}
