/* test_did.c — difference-in-differences regressions (analysis/did.c).
 *
 * Frozen references on mpdta (tests/data/mpdta.csv), [recomputed] with
 * R 4.2.2, clubSandwich 0.5.8 and sandwich on lm() with factor dummies
 * (fixest is not in Debian 12), printed with sprintf("%.12g"):
 *   - TWFE  lm(lemp ~ D + factor(countyreal) + factor(year)),
 *           D = 1{first.treat > 0 & year >= first.treat}, clusters = county:
 *           clubSandwich CR0 / CR2 + Satterthwaite on the dummy model, CR3 on
 *           the unit-demeaned model (undefined with unit dummies), CR1 as
 *           CR0 * G/(G-1) * (n-1)/(n-K) with K = 1 + 4 period effects.
 *   - event study: dummies for e = year - first.treat in {-4,-3,-2,0,1,2,3}
 *           (reference -1) + the same fixed effects; binned version with
 *           e <= -3 and e >= 2 lumped.
 *   - 2x2:  lm(lemp ~ treated * post) on first.treat in {0, 2006}, post =
 *           year >= 2006; clubSandwich CR0/CR1S/CR2/CR3; and with lpop and
 *           state clusters (countyreal %/% 1000, 19 states).
 * Property tests: absorbed fixed effects against the full dummy-variable
 * regression (OLS module, CR0) on a random unbalanced panel; agreement of
 * 2x2, TWFE and Callaway-Sant'Anna in the two-period case; TWFE's bias under
 * staggered adoption with dynamic effects where Callaway-Sant'Anna is
 * unbiased (noise-free, then a small Monte Carlo); error cases.
 * Run from the repository root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "syfosim/cs.h"
#include "syfosim/dataset.h"
#include "syfosim/did.h"
#include "syfosim/error.h"
#include "syfosim/ols.h"
#define TEST_UTIL_FIXTURES
#include "test_util.h"

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* mpdta in long form (rows as in the file), coded. */

typedef struct {
    size_t n, nU, T;
    double *y, *lpop, *year, *D;
    size_t *unit, *period, *adopt, *state;
    size_t n_states;
} mp;

static void mp_load(mp *m)
{
    syf_dataset *d = test_read("tests/data/mpdta.csv");
    const double *lemp = test_column(d, "lemp"), *year = test_column(d, "year"),
                 *ft = test_column(d, "first.treat"), *lpop = test_column(d, "lpop"),
                 *county = test_column(d, "countyreal");
    size_t n = m->n = d->n_rows;
    m->unit = test_factor(d, "countyreal", &m->nU, NULL);
    m->period = test_factor(d, "year", &m->T, NULL);
    m->state = malloc(n * sizeof *m->state);
    m->y = malloc(n * sizeof *m->y);
    m->lpop = malloc(n * sizeof *m->lpop);
    m->year = malloc(n * sizeof *m->year);
    m->D = malloc(n * sizeof *m->D);
    m->adopt = malloc(m->nU * sizeof *m->adopt);
    /* states: countyreal %/% 1000, coded in order of appearance */
    double seen[64];
    m->n_states = 0;
    for (size_t i = 0; i < n; i++) {
        m->y[i] = lemp[i];
        m->lpop[i] = lpop[i];
        m->year[i] = year[i];
        m->D[i] = ft[i] > 0 && year[i] >= ft[i];
        m->adopt[m->unit[i]] = ft[i] == 0 ? SYF_DID_NEVER : (size_t)(ft[i] - 2003);
        double s = floor(county[i] / 1000);
        size_t k = 0;
        while (k < m->n_states && seen[k] != s)
            k++;
        if (k == m->n_states)
            seen[m->n_states++] = s;
        m->state[i] = k;
    }
    syf_dataset_free(d);
}

static void mp_free(mp *m)
{
    free(m->y);
    free(m->lpop);
    free(m->year);
    free(m->D);
    free(m->unit);
    free(m->period);
    free(m->adopt);
    free(m->state);
}

static syf_did_data mp_data(const mp *m)
{
    syf_did_data d = {m->n, m->y, m->unit, m->nU, m->period, m->T, m->adopt, NULL,
                      NULL, 0,    NULL,    NULL,  0};
    return d;
}

static void test_twfe_mpdta(void **state)
{
    (void)state;
    mp m;
    mp_load(&m);
    assert_int_equal(m.nU, 500);
    syf_did_workspace *w = syf_did_alloc(m.n, m.nU, m.T, 1, m.nU);
    assert_non_null(w);
    syf_did_data d = mp_data(&m);
    syf_did_spec s = {SYF_DID_TWFE, SYF_VCOV_CR2, 0.95, 0, 0, 0};
    syf_did_result r;
    /* [recomputed] see header */
    check_ok(syf_did_fit(w, &d, &s, &r));
    assert_int_equal(r.n_terms, 1);
    assert_string_equal(r.term[0], "ATT");
    assert_int_equal(r.p, 5);
    assert_int_equal(r.G, 500);
    assert_int_equal(r.n_treated_units, 191);
    assert_rel(r.estimate[0], -0.0365489366742, 1e-9);
    assert_rel(r.std_error[0], 0.0132704299803, 1e-8);
    assert_rel(r.df[0], 279.826220097, 1e-8);
    s.vcov = SYF_VCOV_CR0;
    check_ok(syf_did_fit(w, &d, &s, &r));
    assert_rel(r.std_error[0], 0.0132386198103, 1e-8);
    assert_rel(r.df[0], 499, 1e-12);
    s.vcov = SYF_VCOV_CR1;
    check_ok(syf_did_fit(w, &d, &s, &r));
    assert_rel(r.std_error[0], 0.0132624968151, 1e-8);
    s.vcov = SYF_VCOV_CR3;
    check_ok(syf_did_fit(w, &d, &s, &r));
    assert_rel(r.std_error[0], 0.0133023429293, 1e-8);
    /* the same from the treatment indicator instead of adoption periods */
    d.treat = m.D;
    s.vcov = SYF_VCOV_CR2;
    check_ok(syf_did_fit(w, &d, &s, &r));
    assert_rel(r.estimate[0], -0.0365489366742, 1e-9);
    assert_rel(r.std_error[0], 0.0132704299803, 1e-8);
    /* a time-invariant covariate is absorbed by the unit effects */
    static const char *const xn[1] = {"lpop"};
    d.X = m.lpop;
    d.k = 1;
    d.x_names = xn;
    assert_int_equal(syf_did_fit(w, &d, &s, &r), SYF_ESINGULAR);
    assert_non_null(strstr(syf_error_message(), "'lpop' does not vary within units"));
    syf_did_free(w);
    mp_free(&m);
}

static void test_event_mpdta(void **state)
{
    (void)state;
    mp m;
    mp_load(&m);
    syf_did_workspace *w = syf_did_alloc(m.n, m.nU, m.T, 0, m.nU);
    syf_did_data d = mp_data(&m);
    syf_did_spec s = {SYF_DID_EVENT, SYF_VCOV_CR2, 0.95, 0, 0, 0};
    syf_did_result r;
    check_ok(syf_did_fit(w, &d, &s, &r));
    static const char *const names[7] = {"e=-4", "e=-3", "e=-2", "e=0", "e=1", "e=2", "e=3"};
    static const double est[7] = {0.00354932691922, 0.0246235019865, 0.0233548148862,
                                  -0.0181439269668, -0.0434723726287, -0.131794857754,
                                  -0.0922467941817};
    static const double se2[7] = {0.0228245811983, 0.0176754852925, 0.0134318014017,
                                  0.0109784057912, 0.0176460264939, 0.0292907644815,
                                  0.0328441755796};
    static const double df2[7] = {267.538380656, 254.545288212, 216.322462002, 226.401903767,
                                  82.6757492419, 23.5198739188, 25.9981049985};
    static const double se1[7] = {0.0228239950913, 0.017675819315, 0.0134339998896,
                                  0.0109800119086, 0.0175734157142, 0.0288316138375,
                                  0.0323296966903};
    assert_int_equal(r.n_terms, 7);
    assert_int_equal(r.p, 11);
    for (size_t j = 0; j < 7; j++) {
        assert_string_equal(r.term[j], names[j]);
        assert_rel(r.estimate[j], est[j], 1e-8);
        assert_rel(r.std_error[j], se2[j], 1e-8);
        assert_rel(r.df[j], df2[j], 1e-7);
    }
    s.vcov = SYF_VCOV_CR1;
    check_ok(syf_did_fit(w, &d, &s, &r));
    for (size_t j = 0; j < 7; j++)
        assert_rel(r.std_error[j], se1[j], 1e-8);

    /* binned endpoints: e <= -3 and e >= 2 */
    s.vcov = SYF_VCOV_CR2;
    check_ok(syf_did_type_parse("event:-3:2", &s.type, &s.binned, &s.bin_lo, &s.bin_hi));
    check_ok(syf_did_fit(w, &d, &s, &r));
    static const char *const bn[5] = {"e<=-3", "e=-2", "e=0", "e=1", "e>=2"};
    static const double best[5] = {0.0157083262191, 0.0219708965864, -0.0199579404447,
                                   -0.0471859546363, -0.114224325297};
    static const double bse[5] = {0.0184351329689, 0.0134423002301, 0.0109963827772,
                                  0.0178483663057, 0.0277347039831};
    static const double bdf[5] = {300.139609285, 215.478480667, 222.36266057, 80.5999890219,
                                  26.9401406245};
    assert_int_equal(r.n_terms, 5);
    for (size_t j = 0; j < 5; j++) {
        assert_string_equal(r.term[j], bn[j]);
        assert_rel(r.estimate[j], best[j], 1e-8);
        assert_rel(r.std_error[j], bse[j], 1e-8);
        assert_rel(r.df[j], bdf[j], 1e-7);
    }
    syf_did_free(w);
    mp_free(&m);
}

/* mpdta restricted to first.treat in {0, 2006} (and optionally two years). */
typedef struct {
    size_t n;
    double y[2500], lpop[2500];
    size_t unit[2500], period[2500], state[2500];
} sub;

static void mp_subset(const mp *m, sub *s, size_t *adopt, int two_years)
{
    s->n = 0;
    for (size_t u = 0; u < m->nU; u++)
        adopt[u] = m->adopt[u] == 3 ? 1 : SYF_DID_NEVER; /* 2006: code 3 of 2003.. */
    for (size_t i = 0; i < m->n; i++) {
        size_t a = m->adopt[m->unit[i]];
        if (a != SYF_DID_NEVER && a != 3)
            continue;
        if (two_years && m->year[i] != 2005 && m->year[i] != 2006)
            continue;
        s->y[s->n] = m->y[i];
        s->lpop[s->n] = m->lpop[i];
        s->unit[s->n] = m->unit[i];
        s->period[s->n] = two_years ? (size_t)(m->year[i] - 2005) : m->period[i];
        s->state[s->n] = m->state[i];
        s->n++;
    }
    if (!two_years)
        for (size_t u = 0; u < m->nU; u++)
            adopt[u] = adopt[u] == 1 ? 3 : SYF_DID_NEVER;
}

/* Recode units so that every code occurs (the subset drops some). */
static size_t recode(size_t n, size_t *code, size_t n_codes, size_t *adopt_in, size_t *adopt_out)
{
    size_t *map = malloc(n_codes * sizeof *map), m = 0;
    for (size_t u = 0; u < n_codes; u++)
        map[u] = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        if (map[code[i]] == (size_t)-1) {
            map[code[i]] = m;
            if (adopt_out)
                adopt_out[m] = adopt_in[code[i]];
            m++;
        }
        code[i] = map[code[i]];
    }
    free(map);
    return m;
}

static void test_2x2_mpdta(void **state)
{
    (void)state;
    mp m;
    mp_load(&m);
    sub *s = malloc(sizeof *s);
    size_t *adopt0 = malloc(m.nU * sizeof *adopt0), *adopt = malloc(m.nU * sizeof *adopt);
    mp_subset(&m, s, adopt0, 0);
    size_t nU = recode(s->n, s->unit, m.nU, adopt0, adopt);
    size_t nS = recode(s->n, s->state, m.n_states, NULL, NULL);
    assert_int_equal(s->n, 1745);
    assert_int_equal(nU, 349);
    assert_int_equal(nS, 19);
    syf_did_workspace *w = syf_did_alloc(s->n, nU, 5, 1, nU);
    syf_did_data d = {s->n, s->y, s->unit, nU, s->period, 5, adopt, NULL, NULL, 0, NULL, NULL, 0};
    syf_did_spec sp = {SYF_DID_2X2, SYF_VCOV_CR2, 0.95, 0, 0, 0};
    syf_did_result r;
    check_ok(syf_did_fit(w, &d, &sp, &r));
    static const char *const names[4] = {"ATT", "(Intercept)", "treated", "post"};
    static const double est[4] = {-0.0225700476085, 5.61714615147, 0.922793407764,
                                  0.0328682597476};
    static const double se2[4] = {0.020989819793, 0.0849915355568, 0.218267621099,
                                  0.0109042608662};
    static const double df2[4] = {49.6452801624, 308, 49.6452801624, 308};
    static const double se0[4] = {0.0207881214916, 0.0848538973522, 0.215886422378,
                                  0.0108866021326};
    static const double se1[4] = {0.0208358965521, 0.0850489077615, 0.216382570474,
                                  0.0109116216167};
    static const double se3[4] = {0.0211944927413, 0.085129397019, 0.220682001601,
                                  0.0109219482434};
    assert_int_equal(r.n_terms, 4);
    for (size_t j = 0; j < 4; j++) {
        assert_string_equal(r.term[j], names[j]);
        assert_rel(r.estimate[j], est[j], 1e-9);
        assert_rel(r.std_error[j], se2[j], 1e-8);
        assert_rel(r.df[j], df2[j], 1e-6); /* clubSandwich prints 308 (rounded) */
    }
    const double *want[3] = {se0, se1, se3};
    const syf_vcov_type types[3] = {SYF_VCOV_CR0, SYF_VCOV_CR1, SYF_VCOV_CR3};
    for (int t = 0; t < 3; t++) {
        sp.vcov = types[t];
        check_ok(syf_did_fit(w, &d, &sp, &r));
        for (size_t j = 0; j < 4; j++)
            assert_rel(r.std_error[j], want[t][j], 1e-8);
    }
    /* + lpop, clustered by state (19 clusters), CR2 */
    static const char *const xn[1] = {"lpop"};
    d.X = s->lpop;
    d.k = 1;
    d.x_names = xn;
    d.cluster = s->state;
    d.G = nS;
    sp.vcov = SYF_VCOV_CR2;
    check_ok(syf_did_fit(w, &d, &sp, &r));
    static const char *const n5[5] = {"ATT", "(Intercept)", "treated", "post", "lpop"};
    static const double e5[5] = {-0.0225700476085, 2.19279357074, 0.308953045691,
                                 0.0328682597476, 1.075678988};
    static const double s5[5] = {0.0536719995602, 0.189091358441, 0.210717207089,
                                 0.0183792712219, 0.0352550762336};
    static const double d5[5] = {2.47931125645, 10.5076996388, 2.53011293361, 10.9065448255,
                                 11.7782742118};
    assert_int_equal(r.G, 19);
    for (size_t j = 0; j < 5; j++) {
        assert_string_equal(r.term[j], n5[j]);
        assert_rel(r.estimate[j], e5[j], 1e-8);
        assert_rel(r.std_error[j], s5[j], 1e-8);
        assert_rel(r.df[j], d5[j], 1e-7);
    }
    /* staggered adoption is not a 2x2 */
    syf_did_data full = mp_data(&m);
    assert_int_equal(syf_did_fit(w, &full, &sp, &r), SYF_EINPUT); /* too big for w, or staggered */
    syf_did_workspace *w2 = syf_did_alloc(m.n, m.nU, m.T, 0, m.nU);
    assert_int_equal(syf_did_fit(w2, &full, &sp, &r), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "staggered"));
    syf_did_free(w2);
    syf_did_free(w);
    free(adopt0);
    free(adopt);
    free(s);
    mp_free(&m);
}

/* Two periods, two groups: 2x2 ATT = TWFE ATT = Callaway-Sant'Anna
 * ATT(g,t), and the CR0 standard errors (clusters = units) equal the
 * influence-function SE of ATT(g,t). */
static void test_two_period_agreement(void **state)
{
    (void)state;
    mp m;
    mp_load(&m);
    sub *s = malloc(sizeof *s);
    size_t *adopt0 = malloc(m.nU * sizeof *adopt0), *adopt = malloc(m.nU * sizeof *adopt);
    mp_subset(&m, s, adopt0, 1);
    size_t nU = recode(s->n, s->unit, m.nU, adopt0, adopt);
    assert_int_equal(s->n, 698);
    syf_did_workspace *w = syf_did_alloc(s->n, nU, 2, 0, nU);
    syf_did_data d = {s->n, s->y, s->unit, nU, s->period, 2, adopt, NULL, NULL, 0, NULL, NULL, 0};
    syf_did_spec sp = {SYF_DID_2X2, SYF_VCOV_CR0, 0.95, 0, 0, 0};
    syf_did_result r;
    check_ok(syf_did_fit(w, &d, &sp, &r));
    double att2 = r.estimate[0], se2 = r.std_error[0];
    sp.type = SYF_DID_TWFE;
    check_ok(syf_did_fit(w, &d, &sp, &r));
    assert_near(r.estimate[0], att2, 1e-12);
    assert_near(r.std_error[0], se2, 1e-12);
    /* Callaway-Sant'Anna on the same data */
    double *Y = malloc(nU * 2 * sizeof *Y), *g = malloc(nU * sizeof *g), per[2] = {2005, 2006};
    for (size_t i = 0; i < s->n; i++)
        Y[s->unit[i] * 2 + s->period[i]] = s->y[i];
    for (size_t u = 0; u < nU; u++)
        g[u] = adopt[u] == SYF_DID_NEVER ? INFINITY : 2006;
    syf_cs_workspace *cw = syf_cs_alloc(nU, 2);
    syf_cs_result cr;
    check_ok(syf_cs_fit(cw, nU, 2, Y, per, g, SYF_CS_NEVER, &cr));
    assert_int_equal(cr.n_gt, 1);
    assert_near(cr.att[0], att2, 1e-12);
    assert_rel(cr.std_error[0], se2, 1e-10);
    /* = the mpdta ATT(2006,2006) with never-treated controls */
    assert_rel(cr.att[0], -0.00459460695286, 1e-9);
    syf_cs_free(cw);
    free(Y);
    free(g);
    syf_did_free(w);
    free(adopt0);
    free(adopt);
    free(s);
    mp_free(&m);
}

/* ------------------------------------------------------------------------ */
/* Random unbalanced panels. */

typedef struct {
    size_t n, nU, T, k, G;
    double *y, *X, *D;
    size_t *unit, *period, *adopt, *cluster;
} rpanel;

/* nU units over T periods, each unit observed in a random subset of at
 * least 2 periods; staggered adoption; two covariates; offices of 4 units.
 * y = a_i + l_t + tau(e) D + x'b + noise. */
static void rpanel_make(rpanel *p, size_t nU, size_t T, double sd, unsigned long seed,
                        int dynamic)
{
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, seed);
    p->nU = nU;
    p->T = T;
    p->k = 2;
    p->G = (nU + 3) / 4;
    size_t cap = nU * T;
    p->y = malloc(cap * sizeof *p->y);
    p->X = malloc(cap * 2 * sizeof *p->X);
    p->D = malloc(cap * sizeof *p->D);
    p->unit = malloc(cap * sizeof *p->unit);
    p->period = malloc(cap * sizeof *p->period);
    p->cluster = malloc(cap * sizeof *p->cluster);
    p->adopt = malloc(nU * sizeof *p->adopt);
    p->n = 0;
    for (size_t u = 0; u < nU; u++) {
        size_t kind = u % 4;
        p->adopt[u] = kind == 0 ? SYF_DID_NEVER : kind == 1 ? 2 : kind == 2 ? T / 2 : T - 2;
        double a = gsl_ran_gaussian(rng, 1);
        size_t seen = 0;
        for (size_t t = 0; t < T; t++) {
            if (t > 1 && seen >= 2 && gsl_rng_uniform(rng) < 0.25)
                continue; /* missing unit-period */
            size_t i = p->n++;
            seen++;
            p->unit[i] = u;
            p->period[i] = t;
            p->cluster[i] = u / 4;
            double x1 = gsl_ran_gaussian(rng, 1), x2 = gsl_rng_uniform(rng) + 0.1 * (double)t;
            p->X[2 * i] = x1;
            p->X[2 * i + 1] = x2;
            int treated = p->adopt[u] != SYF_DID_NEVER && t >= p->adopt[u];
            double e = treated ? (double)(t - p->adopt[u]) : 0;
            p->D[i] = treated;
            p->y[i] = a + 0.3 * (double)t * (double)t / (double)T + 0.5 * x1 - 0.25 * x2 +
                      (treated ? 1.0 + (dynamic ? 0.4 * e : 0) : 0) +
                      gsl_ran_gaussian(rng, sd);
        }
    }
    gsl_rng_free(rng);
}

static void rpanel_free(rpanel *p)
{
    free(p->y);
    free(p->X);
    free(p->D);
    free(p->unit);
    free(p->period);
    free(p->cluster);
    free(p->adopt);
}

/* Absorbed unit effects = full dummy-variable regression: coefficients and
 * CR0 SEs (by unit and by office clusters) from the OLS module fitted with
 * every dummy written out. */
static void test_absorbed_equals_dummies(void **state)
{
    (void)state;
    rpanel p;
    rpanel_make(&p, 40, 6, 1.0, 11, 1);
    const size_t n = p.n, nU = p.nU, T = p.T;
    syf_did_workspace *w = syf_did_alloc(n, nU, T, 2, nU);
    for (int type = 0; type < 2; type++) {
        /* main columns: TWFE: D; event: e in -4..3 (adoptions 2, 3, 4 of
         * 6 periods give r from -4 to 3), -1 left out */
        long rmin = 0, rmax = 0;
        for (size_t i = 0; i < n; i++)
            if (p.adopt[p.unit[i]] != SYF_DID_NEVER) {
                long r = (long)p.period[i] - (long)p.adopt[p.unit[i]];
                rmin = r < rmin ? r : rmin;
                rmax = r > rmax ? r : rmax;
            }
        size_t nm = type == 0 ? 1 : (size_t)(rmax - rmin); /* without -1 */
        size_t pf = nm + 1 + (nU - 1) + (T - 1) + 2;
        double *X = calloc(n * pf, sizeof *X);
        for (size_t i = 0; i < n; i++) {
            double *xi = X + i * pf;
            size_t a = p.adopt[p.unit[i]];
            if (type == 0) {
                xi[0] = p.D[i];
            } else if (a != SYF_DID_NEVER) {
                long r = (long)p.period[i] - (long)a;
                if (r != -1)
                    xi[r < -1 ? r - rmin : r - rmin - 1] = 1;
            }
            xi[nm] = 1;
            if (p.unit[i] > 0)
                xi[nm + p.unit[i]] = 1;
            if (p.period[i] > 0)
                xi[nm + nU - 1 + p.period[i]] = 1;
            xi[pf - 2] = p.X[2 * i];
            xi[pf - 1] = p.X[2 * i + 1];
        }
        syf_ols_workspace *ow = syf_ols_alloc(n, pf, nU);
        syf_ols_result o;
        syf_did_data d = {n, p.y, p.unit, nU, p.period, T, p.adopt, type == 0 ? p.D : NULL,
                          p.X, 2, NULL, NULL, 0};
        syf_did_spec s = {type == 0 ? SYF_DID_TWFE : SYF_DID_EVENT, SYF_VCOV_CR0, 0.9, 0, 0, 0};
        syf_did_result r;
        for (int cl = 0; cl < 2; cl++) {
            d.cluster = cl ? p.cluster : NULL;
            d.G = cl ? p.G : 0;
            check_ok(syf_did_fit(w, &d, &s, &r));
            check_ok(syf_ols_fit(ow, n, X, p.y, cl ? p.cluster : p.unit, cl ? p.G : nU,
                                 SYF_VCOV_CR0, 0.9, &o));
            assert_int_equal(r.n_terms, nm + 2);
            for (size_t j = 0; j < nm + 2; j++) {
                size_t jf = j < nm ? j : pf - 2 + (j - nm);
                assert_rel(r.estimate[j], o.estimate[jf], 1e-8);
                assert_rel(r.std_error[j], o.std_error[jf], 1e-8);
                assert_rel(r.conf_low[j], o.conf_low[jf], 1e-8);
            }
            assert_string_equal(r.term[nm], "x1");
        }
        syf_ols_free(ow);
        free(X);
    }
    syf_did_free(w);
    rpanel_free(&p);
}

/* ------------------------------------------------------------------------ */
/* The requirement: under staggered adoption with effects that grow
 * with time since adoption, TWFE is biased for the average effect on the
 * treated while Callaway-Sant'Anna is not. */

typedef struct {
    double twfe, cs, truth;
} bias_draw;

/* Balanced panel, T = 8; a few never-treated units; groups adopting at
 * periods 2, 4, 6 (codes); effect 1 + 0.5 e; noise sd. */
static void staggered_draw(size_t nU, double sd, gsl_rng *rng, syf_did_workspace *w,
                           syf_cs_workspace *cw, bias_draw *out)
{
    const size_t T = 8, n = nU * T;
    double *y = malloc(n * sizeof *y), *Y = malloc(n * sizeof *Y), *g = malloc(nU * sizeof *g);
    size_t *unit = malloc(n * sizeof *unit), *per = malloc(n * sizeof *per),
           *adopt = malloc(nU * sizeof *adopt);
    double per_v[8], num = 0, den = 0;
    for (size_t t = 0; t < T; t++)
        per_v[t] = (double)t;
    for (size_t u = 0; u < nU; u++) {
        size_t kind = u % 10; /* 10% never, 30% each group */
        adopt[u] = kind == 0 ? SYF_DID_NEVER : kind <= 3 ? 2 : kind <= 6 ? 4 : 6;
        g[u] = adopt[u] == SYF_DID_NEVER ? INFINITY : (double)adopt[u];
        double a = gsl_ran_gaussian(rng, 1);
        for (size_t t = 0; t < T; t++) {
            size_t i = u * T + t;
            unit[i] = u;
            per[i] = t;
            double tau = adopt[u] != SYF_DID_NEVER && t >= adopt[u]
                             ? 1.0 + 0.5 * (double)(t - adopt[u])
                             : 0;
            if (adopt[u] != SYF_DID_NEVER && t >= adopt[u]) {
                num += tau;
                den += 1;
            }
            y[i] = Y[i] = a + 0.2 * (double)t + tau + (sd > 0 ? gsl_ran_gaussian(rng, sd) : 0);
        }
    }
    syf_did_data d = {n, y, unit, nU, per, T, adopt, NULL, NULL, 0, NULL, NULL, 0};
    syf_did_spec s = {SYF_DID_TWFE, SYF_VCOV_CR1, 0.95, 0, 0, 0};
    syf_did_result r;
    check_ok(syf_did_fit(w, &d, &s, &r));
    syf_cs_result cr;
    syf_cs_aggregate_result a;
    check_ok(syf_cs_fit(cw, nU, T, Y, per_v, g, SYF_CS_NEVER, &cr));
    check_ok(syf_cs_aggregate(cw, SYF_CS_SIMPLE, &a));
    out->twfe = r.estimate[0];
    out->cs = a.overall;
    out->truth = num / den; /* average effect over treated unit-periods */
    free(y);
    free(Y);
    free(g);
    free(unit);
    free(per);
    free(adopt);
}

static void test_twfe_biased_cs_not(void **state)
{
    (void)state;
    const size_t nU = 60;
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(rng, 2021);
    syf_did_workspace *w = syf_did_alloc(nU * 8, nU, 8, 0, nU);
    syf_cs_workspace *cw = syf_cs_alloc(nU, 8);
    bias_draw b;
    /* noise-free: CS exact, TWFE off (by about -0.58 of a true 2.08) */
    staggered_draw(nU, 0, rng, w, cw, &b);
    assert_near(b.cs, b.truth, 1e-10);
    assert_true(fabs(b.twfe - b.truth) > 0.25 * b.truth);
    /* Monte Carlo, 200 draws: mean error and its Monte Carlo SE */
    const int R = 200;
    double st = 0, st2 = 0, sc = 0, sc2 = 0;
    for (int rep = 0; rep < R; rep++) {
        staggered_draw(nU, 1.0, rng, w, cw, &b);
        double et = b.twfe - b.truth, ec = b.cs - b.truth;
        st += et;
        st2 += et * et;
        sc += ec;
        sc2 += ec * ec;
    }
    double mt = st / R, mc = sc / R;
    double mcse_t = sqrt((st2 / R - mt * mt) / (R - 1)), mcse_c = sqrt((sc2 / R - mc * mc) / (R - 1));
    print_message("TWFE bias %.4f (MCSE %.4f), CS bias %.4f (MCSE %.4f), truth %.4f\n", mt, mcse_t,
                  mc, mcse_c, b.truth);
    assert_true(fabs(mc) < 3.5 * mcse_c);
    assert_true(fabs(mt) > 20 * mcse_t);
    gsl_rng_free(rng);
    syf_cs_free(cw);
    syf_did_free(w);
}

/* ------------------------------------------------------------------------ */

static void test_errors_and_parse(void **state)
{
    (void)state;
    syf_did_type t;
    int b;
    long lo, hi;
    check_ok(syf_did_type_parse("twfe", &t, &b, &lo, &hi));
    assert_int_equal(t, SYF_DID_TWFE);
    check_ok(syf_did_type_parse("event:-5:4", &t, &b, &lo, &hi));
    assert_true(t == SYF_DID_EVENT && b == 1 && lo == -5 && hi == 4);
    assert_int_equal(syf_did_type_parse("event:-1:3", &t, &b, &lo, &hi), SYF_EINPUT);
    assert_int_equal(syf_did_type_parse("event:-3:-1", &t, &b, &lo, &hi), SYF_EINPUT);
    assert_int_equal(syf_did_type_parse("event:-3", &t, &b, &lo, &hi), SYF_EINPUT);
    assert_int_equal(syf_did_type_parse("event:a:b", &t, &b, &lo, &hi), SYF_EINPUT);
    assert_int_equal(syf_did_type_parse("dynamic", &t, &b, &lo, &hi), SYF_EINPUT);

    /* event study with no never-treated units and no bins: singular */
    rpanel p;
    rpanel_make(&p, 40, 6, 1.0, 5, 1);
    for (size_t u = 0; u < p.nU; u++)
        if (p.adopt[u] == SYF_DID_NEVER)
            p.adopt[u] = 3;
    syf_did_workspace *w = syf_did_alloc(p.n, p.nU, p.T, 2, p.nU);
    syf_did_data d = {p.n, p.y, p.unit, p.nU, p.period, p.T, p.adopt, NULL,
                      NULL, 0,  NULL,  NULL,  0};
    syf_did_spec s = {SYF_DID_EVENT, SYF_VCOV_CR2, 0.95, 0, 0, 0};
    syf_did_result r;
    assert_int_equal(syf_did_fit(w, &d, &s, &r), SYF_ESINGULAR);
    s.binned = 1;
    s.bin_lo = -3;
    s.bin_hi = 2;
    check_ok(syf_did_fit(w, &d, &s, &r));
    assert_string_equal(r.term[0], "e<=-3");
    /* twfe: repeated fits give identical results (workspace reuse), also
     * after a fit with another number of columns */
    s.type = SYF_DID_TWFE;
    check_ok(syf_did_fit(w, &d, &s, &r));
    double e0 = r.estimate[0], s0 = r.std_error[0];
    s.type = SYF_DID_EVENT;
    check_ok(syf_did_fit(w, &d, &s, &r));
    s.type = SYF_DID_TWFE;
    check_ok(syf_did_fit(w, &d, &s, &r));
    assert_true(r.estimate[0] == e0 && r.std_error[0] == s0);
    /* no unit changes treatment: D absorbed */
    double *D0 = calloc(p.n, sizeof *D0);
    d.treat = D0;
    assert_int_equal(syf_did_fit(w, &d, &s, &r), SYF_ESINGULAR);
    assert_non_null(strstr(syf_error_message(), "no unit changes treatment"));
    d.treat = NULL;
    /* 2x2 without never-treated units */
    s.type = SYF_DID_2X2;
    for (size_t u = 0; u < p.nU; u++)
        p.adopt[u] = 3;
    assert_int_equal(syf_did_fit(w, &d, &s, &r), SYF_EINPUT);
    /* codes out of range, non-finite data, too big for the workspace */
    p.adopt[0] = 99;
    s.type = SYF_DID_TWFE;
    assert_int_equal(syf_did_fit(w, &d, &s, &r), SYF_EINPUT);
    p.adopt[0] = 3;
    p.y[3] = NAN;
    assert_int_equal(syf_did_fit(w, &d, &s, &r), SYF_EINPUT);
    p.y[3] = 0;
    d.n_units = p.nU + 1;
    assert_int_equal(syf_did_fit(w, &d, &s, &r), SYF_EINPUT);
    d.n_units = p.nU;
    free(D0);
    syf_did_free(w);
    syf_did_free(NULL);
    rpanel_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twfe_mpdta),
        cmocka_unit_test(test_event_mpdta),
        cmocka_unit_test(test_2x2_mpdta),
        cmocka_unit_test(test_two_period_agreement),
        cmocka_unit_test(test_absorbed_equals_dummies),
        cmocka_unit_test(test_twfe_biased_cs_not),
        cmocka_unit_test(test_errors_and_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
