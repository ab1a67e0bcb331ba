/* population.c — synthesis of offices, employers, GPs and persons.
 *
 * Offices are spread over counties in proportion to employment (every
 * county gets one if there are enough offices); catchment sizes within a
 * county are log-normal.  Each office's persons are filled into
 * establishments drawn from the establishment-size distribution; the
 * employer's industry is the persons' industry.  GPs are per office, one
 * list per `employed_per_gp` persons.  Random effects (office, employer,
 * GP) are log-normal with mean 1 on the rate scale.
 */
#include "syfosim/population.h"
#include "syfosim/error.h"
#include "syfosim/rng.h"
#include "world_internal.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int syf_age_group(int age)
{
    if (age < 20)
        return 0;
    int g = 1 + (age - 20) / 5;
    return g >= SYF_N_AGE ? SYF_N_AGE - 1 : g;
}

static const int age_lo[SYF_N_AGE] = {16, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65};
static const int age_hi[SYF_N_AGE] = {19, 24, 29, 34, 39, 44, 49, 54, 59, 64, 69};
static const int size_lo[SYF_N_SIZE] = {1, 5, 10, 20, 50, 100, 250};
static const int size_hi[SYF_N_SIZE] = {4, 9, 19, 49, 99, 249, 250};

int syf_size_class(size_t employees)
{
    int c = 0;
    while (c + 1 < SYF_N_SIZE && (int)employees >= size_lo[c + 1])
        c++;
    return c;
}

/* Employers followed by the employer team: in each office, those of a served
 * IA level and size class, strategic partners first, then the largest, up to
 * round(fte x employers_per_fte). */
typedef struct {
    uint32_t e;
    uint8_t ia;
    uint32_t size;
} emp_rank;

static int emp_rank_cmp(const void *pa, const void *pb)
{
    const emp_rank *a = pa, *b = pb;
    if (a->ia != b->ia)
        return a->ia > b->ia ? -1 : 1;
    if (a->size != b->size)
        return a->size > b->size ? -1 : 1;
    return a->e < b->e ? -1 : a->e > b->e;
}

static int serve_employers(const syf_scenario *sc, syf_population *p)
{
    const double cap_d = sc->employer_team.fte * sc->employer_team.employers_per_fte;
    if (!(sc->employer_team.fte > 0) || p->n_employer == 0)
        return SYF_OK;
    const size_t cap = (size_t)llround(cap_d);
    emp_rank *r = malloc(p->n_employer * sizeof *r);
    if (!r)
        return SYF_ENOMEM;
    size_t e0 = 0;
    while (e0 < p->n_employer) {
        size_t e1 = e0;
        while (e1 < p->n_employer && p->employer_office[e1] == p->employer_office[e0])
            e1++;
        size_t m = 0;
        for (size_t e = e0; e < e1; e++)
            if (sc->employer_team.levels[p->employer_ia[e]] > 0.5 &&
                syf_size_class(p->employer_size[e]) >= sc->employer_team.min_size_class)
                r[m++] = (emp_rank){(uint32_t)e, p->employer_ia[e], p->employer_size[e]};
        qsort(r, m, sizeof *r, emp_rank_cmp);
        for (size_t j = 0; j < m && j < cap; j++)
            p->employer_served[r[j].e] = 1;
        e0 = e1;
    }
    free(r);
    return SYF_OK;
}

void syf_population_free(syf_population *p)
{
    if (!p)
        return;
    free(p->office_county);
    free(p->office_first);
    free(p->office_re_hazard);
    free(p->office_re_incidence);
    free(p->employer_office);
    free(p->employer_size);
    free(p->employer_industry);
    free(p->employer_re_incidence);
    free(p->employer_ia);
    free(p->employer_served);
    free(p->employer_re_hazard);
    free(p->gp_cooperates);
    free(p->office_veileders);
    free(p->gp_office);
    free(p->gp_re_hazard);
    free(p->gp_re_grading);
    free(p->sex);
    free(p->age);
    free(p->age_group);
    free(p->industry);
    free(p->office);
    free(p->employer);
    free(p->gp);
    free(p->health);
    free(p->onset_rate);
    free(p->hazard_mult);
    free(p);
}

/* Largest-remainder apportionment of `total` units by weights, each part at
 * least `min_each` (requires total >= k * min_each). */
static void apportion(const double *w, size_t k, size_t total, size_t min_each, size_t *out)
{
    double sw = 0.0;
    for (size_t i = 0; i < k; i++)
        sw += w[i];
    size_t rest = total - k * min_each, used = 0;
    double *frac = malloc(k * sizeof *frac);
    for (size_t i = 0; i < k; i++) {
        double q = sw > 0 ? w[i] / sw * (double)rest : (double)rest / (double)k;
        out[i] = (size_t)floor(q);
        frac[i] = q - floor(q);
        used += out[i];
    }
    while (used < rest) { /* deterministic: largest fraction, lowest index */
        size_t best = 0;
        for (size_t i = 1; i < k; i++)
            if (frac[i] > frac[best])
                best = i;
        out[best]++;
        frac[best] = -1.0;
        used++;
    }
    for (size_t i = 0; i < k; i++)
        out[i] += min_each;
    free(frac);
}

static double share_mean(const double *share, const double *rr, size_t k)
{
    double m = 0.0, tot = 0.0;
    for (size_t i = 0; i < k; i++) {
        m += share[i] * rr[i];
        tot += share[i];
    }
    return m / tot;
}

#define ALLOC(ptr, count)                                                                        \
    do {                                                                                         \
        (ptr) = calloc((count) ? (count) : 1, sizeof *(ptr));                                    \
        if (!(ptr))                                                                              \
            goto nomem;                                                                          \
    } while (0)

int syf_population_build(const syf_scenario *sc, uint64_t seed, uint64_t rep,
                         syf_population **out)
{
    syf_population *p = calloc(1, sizeof *p);
    if (!p)
        return syf_error_set(SYF_ENOMEM, "out of memory building the population");
    const size_t K = (size_t)sc->world.offices;
    const size_t N = (size_t)sc->population.persons;
    syf_stream s;

    /* --- offices to counties ------------------------------------------ */
    p->n_office = K;
    ALLOC(p->office_county, K);
    ALLOC(p->office_first, K + 1);
    ALLOC(p->office_re_hazard, K);
    ALLOC(p->office_re_incidence, K);
    size_t per_county[SYF_N_COUNTY];
    double cshare[SYF_N_COUNTY];
    memcpy(cshare, sc->population.county_shares, sizeof cshare);
    if (K >= SYF_N_COUNTY) {
        apportion(cshare, SYF_N_COUNTY, K, 1, per_county);
    } else { /* fewer offices than counties: the K largest counties */
        int used[SYF_N_COUNTY] = {0};
        memset(per_county, 0, sizeof per_county);
        for (size_t j = 0; j < K; j++) {
            int best = -1;
            for (int c = 0; c < SYF_N_COUNTY; c++)
                if (!used[c] && (best < 0 || cshare[c] > cshare[best]))
                    best = c;
            used[best] = 1;
            per_county[best] = 1;
        }
        for (int c = 0; c < SYF_N_COUNTY; c++)
            if (!used[c])
                cshare[c] = 0.0;
    }
    /* office catchment weights (log-normal with the given CV) */
    double *ow = malloc(K * sizeof *ow);
    size_t *osize = malloc(K * sizeof *osize);
    if (!ow || !osize) {
        free(ow);
        free(osize);
        goto nomem;
    }
    const double sl = sqrt(log1p(sc->world.office_size_cv * sc->world.office_size_cv));
    const double sdh = sc->world.office_sd_hazard, sdi = sc->world.office_sd_incidence;
    {
        size_t o = 0;
        for (int c = 0; c < SYF_N_COUNTY; c++)
            for (size_t j = 0; j < per_county[c]; j++, o++) {
                syf_stream_init(&s, seed, rep, o, SYF_P_OFFICE);
                p->office_county[o] = (uint8_t)c;
                ow[o] = exp(sl * syf_stream_normal(&s) - 0.5 * sl * sl);
                p->office_re_hazard[o] = (float)exp(sdh * syf_stream_normal(&s) - 0.5 * sdh * sdh);
                p->office_re_incidence[o] =
                    (float)exp(sdi * syf_stream_normal(&s) - 0.5 * sdi * sdi);
            }
    }
    /* persons to counties, then to offices within the county */
    {
        size_t pc[SYF_N_COUNTY];
        apportion(cshare, SYF_N_COUNTY, N, 0, pc);
        size_t o = 0;
        for (int c = 0; c < SYF_N_COUNTY; c++) {
            size_t k = per_county[c];
            if (!k)
                continue;
            if (pc[c] < k) /* tiny populations: move persons from the largest county */
                pc[c] = k;
            apportion(ow + o, k, pc[c], 1, osize + o);
            o += k;
        }
        /* fix the total to exactly N after the minimums */
        size_t tot = 0;
        for (size_t j = 0; j < K; j++)
            tot += osize[j];
        while (tot > N) {
            size_t big = 0;
            for (size_t j = 1; j < K; j++)
                if (osize[j] > osize[big])
                    big = j;
            osize[big]--;
            tot--;
        }
        while (tot < N) {
            size_t big = 0;
            for (size_t j = 1; j < K; j++)
                if (osize[j] > osize[big])
                    big = j;
            osize[big]++;
            tot++;
        }
    }
    p->office_first[0] = 0;
    for (size_t j = 0; j < K; j++)
        p->office_first[j + 1] = p->office_first[j] + osize[j];
    free(ow);
    free(osize);

    /* --- persons ------------------------------------------------------ */
    p->n = N;
    ALLOC(p->sex, N);
    ALLOC(p->age, N);
    ALLOC(p->age_group, N);
    ALLOC(p->industry, N);
    ALLOC(p->office, N);
    ALLOC(p->employer, N);
    ALLOC(p->gp, N);
    ALLOC(p->health, N);
    ALLOC(p->onset_rate, N);
    ALLOC(p->hazard_mult, N);

    /* --- employers and GPs, office by office --------------------------- */
    size_t emp_cap = N / 4 + K + 16, gp_cap = 0;
    for (size_t o = 0; o < K; o++) {
        size_t n_o = p->office_first[o + 1] - p->office_first[o];
        size_t g = (size_t)lround((double)n_o / sc->world.employed_per_gp);
        gp_cap += g ? g : 1;
    }
    ALLOC(p->employer_office, emp_cap);
    ALLOC(p->employer_size, emp_cap);
    ALLOC(p->employer_industry, emp_cap);
    ALLOC(p->employer_re_incidence, emp_cap);
    ALLOC(p->gp_office, gp_cap);
    ALLOC(p->gp_re_hazard, gp_cap);
    ALLOC(p->gp_re_grading, gp_cap);
    ALLOC(p->gp_cooperates, gp_cap);
    ALLOC(p->office_veileders, K);

    const double sde = sc->world.employer_sd_incidence, sdg = sc->world.gp_sd_hazard,
                 sdgr = sc->world.gp_sd_grading;
    const double size_tot = world_discrete_total(sc->world.employer_size_shares, SYF_N_SIZE);
    const double ind_tot = world_discrete_total(sc->population.industry_shares, SYF_N_INDUSTRY);
    const double age_tot = world_discrete_total(sc->population.age_shares, SYF_N_AGE);
    size_t ne = 0, ng = 0;
    for (size_t o = 0; o < K; o++) {
        size_t first = p->office_first[o], last = p->office_first[o + 1];
        /* GPs */
        size_t g = (size_t)lround((double)(last - first) / sc->world.employed_per_gp);
        if (!g)
            g = 1;
        size_t gp0 = ng;
        for (size_t j = 0; j < g; j++, ng++) {
            syf_stream_init(&s, seed, rep, ng, SYF_P_GP);
            p->gp_office[ng] = (uint32_t)o;
            p->gp_re_hazard[ng] = (float)exp(sdg * syf_stream_normal(&s) - 0.5 * sdg * sdg);
            p->gp_re_grading[ng] = (float)(sdgr * syf_stream_normal(&s));
            p->gp_cooperates[ng] = syf_stream_uniform(&s) < sc->world.gp_cooperation_share;
        }
        /* employers: fill persons in order */
        syf_stream_init(&s, seed, rep, o, SYF_P_EMPLOYER);
        size_t i = first;
        while (i < last) {
            if (ne == emp_cap) {
                size_t nc = emp_cap * 2;
                void *a = realloc(p->employer_office, nc * sizeof *p->employer_office);
                if (!a)
                    goto nomem;
                p->employer_office = a;
                a = realloc(p->employer_size, nc * sizeof *p->employer_size);
                if (!a)
                    goto nomem;
                p->employer_size = a;
                a = realloc(p->employer_industry, nc * sizeof *p->employer_industry);
                if (!a)
                    goto nomem;
                p->employer_industry = a;
                a = realloc(p->employer_re_incidence, nc * sizeof *p->employer_re_incidence);
                if (!a)
                    goto nomem;
                p->employer_re_incidence = a;
                emp_cap = nc;
            }
            size_t cls =
                world_discrete_tot(&s, sc->world.employer_size_shares, SYF_N_SIZE, size_tot);
            double u = syf_stream_uniform(&s);
            size_t size;
            if (cls == SYF_N_SIZE - 1) /* 250+: Pareto tail, shape 1.5 (judgement) */
                size = (size_t)(250.0 * pow(u, -1.0 / 1.5));
            else
                size = (size_t)size_lo[cls] +
                       (size_t)(u * (double)(size_hi[cls] - size_lo[cls] + 1));
            if (size > 20000)
                size = 20000;
            size_t ind = world_discrete_tot(&s, sc->population.industry_shares, SYF_N_INDUSTRY,
                                            ind_tot);
            double re = exp(sde * syf_stream_normal(&s) - 0.5 * sde * sde);
            if (size > last - i)
                size = last - i;
            p->employer_office[ne] = (uint32_t)o;
            p->employer_size[ne] = (uint32_t)size;
            p->employer_industry[ne] = (uint8_t)ind;
            p->employer_re_incidence[ne] = (float)re;
            for (size_t j = 0; j < size; j++, i++) {
                p->employer[i] = (uint32_t)ne;
                p->industry[i] = (uint8_t)ind;
            }
            ne++;
        }
        /* persons of this office */
        for (i = first; i < last; i++) {
            syf_stream_init(&s, seed, rep, i, SYF_P_PERSON);
            p->office[i] = (uint32_t)o;
            p->sex[i] = syf_stream_uniform(&s) < sc->population.female_share;
            int ag = (int)world_discrete_tot(&s, sc->population.age_shares, SYF_N_AGE, age_tot);
            int span = age_hi[ag] - age_lo[ag] + 1;
            p->age[i] = (uint8_t)(age_lo[ag] + (int)(syf_stream_uniform(&s) * span));
            p->age_group[i] = (uint8_t)ag;
            p->health[i] = (float)syf_stream_normal(&s);
            p->gp[i] = (uint32_t)(gp0 + (size_t)(syf_stream_uniform(&s) * (double)g));
        }
    }
    p->n_employer = ne;
    p->n_gp = ng;

    /* --- employer attributes: IA service level and adaptation capacity --
     * The level is a threshold of a latent that rises with the size class
     * (partners are mostly the larger establishments, digest-004 section
     * 2.4), so the shares hold for an employer of typical size. */
    ALLOC(p->employer_ia, ne);
    ALLOC(p->employer_re_hazard, ne);
    ALLOC(p->employer_served, ne);
    {
        const double *ia = sc->world.ia_level_shares;
        const double t2 = ia[2] > 0 ? gsl_cdf_ugaussian_Qinv(ia[2]) : INFINITY;
        const double t1 = ia[1] + ia[2] > 0 ? gsl_cdf_ugaussian_Qinv(ia[1] + ia[2]) : INFINITY;
        const double sda = sc->world.employer_sd_adaptation;
        for (size_t e = 0; e < ne; e++) {
            syf_stream_init(&s, seed, rep, e, SYF_P_EMPLOYER_ATTR);
            const size_t sz = p->employer_size[e];
            const double zs = (log((double)sz) - 1.2) / 1.1; /* log size, centred (judgement) */
            const double lat = 0.6 * zs + 0.8 * syf_stream_normal(&s);
            p->employer_ia[e] = lat > t2 ? SYF_IA_STRATEGIC : lat > t1 ? SYF_IA_PARTNER
                                                                       : SYF_IA_SELF_SERVICE;
            p->employer_re_hazard[e] =
                (float)exp(sda * syf_stream_normal(&s) - 0.5 * sda * sda);
        }
    }
    if (serve_employers(sc, p) != SYF_OK)
        goto nomem;
    /* veileder FTE per office: expected concurrent sick-leave cases past the
     * employer period (about 5 % of the employed at any time) over the caseload */
    for (size_t o = 0; o < K; o++)
        p->office_veileders[o] =
            (float)(0.05 * (double)(p->office_first[o + 1] - p->office_first[o]) /
                    sc->world.veileder_caseload);

    /* --- rates: multipliers normalised to mean 1 over the scenario ------ */
    {
        const double fs = sc->population.female_share;
        const double m_sex = (1 - fs) + fs * sc->incidence.female_rr;
        const double m_age = share_mean(sc->population.age_shares, sc->incidence.age_rr, SYF_N_AGE);
        const double m_ind = share_mean(sc->population.industry_shares, sc->incidence.industry_rr,
                                        SYF_N_INDUSTRY);
        const double m_cty = share_mean(sc->population.county_shares, sc->incidence.county_rr,
                                        SYF_N_COUNTY);
        const double base = sc->incidence.rate / 365.25 / (m_sex * m_age * m_ind * m_cty);
        const double sh = sc->incidence.health_sd;
        for (size_t i = 0; i < N; i++) {
            double r = base * (p->sex[i] ? sc->incidence.female_rr : 1.0) *
                       sc->incidence.age_rr[p->age_group[i]] *
                       sc->incidence.industry_rr[p->industry[i]] *
                       sc->incidence.county_rr[p->office_county[p->office[i]]] *
                       p->office_re_incidence[p->office[i]] *
                       p->employer_re_incidence[p->employer[i]] *
                       exp(sh * p->health[i] - 0.5 * sh * sh);
            p->onset_rate[i] = (float)r;
            p->hazard_mult[i] = (float)((p->sex[i] ? sc->duration.female_hr : 1.0) *
                                        sc->duration.age_hr[p->age_group[i]] *
                                        p->office_re_hazard[p->office[i]] *
                                        p->gp_re_hazard[p->gp[i]] *
                                        p->employer_re_hazard[p->employer[i]]);
        }
    }
    *out = p;
    return SYF_OK;

nomem:
    syf_population_free(p);
    return syf_error_set(SYF_ENOMEM, "out of memory building a population of %zu persons", N);
}
