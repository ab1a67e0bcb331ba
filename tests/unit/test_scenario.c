/* test_scenario.c — defaults, parsing, bases, errors, round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syfosim/error.h"
#include "syfosim/scenario.h"
#include "test_util.h"

static char dir[] = "/tmp/syf_test_scenario_XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[8][512];
    static int k = 0;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void test_defaults_valid(void **state)
{
    (void)state;
    syf_scenario sc;
    syf_scenario_defaults(&sc);
    assert_int_equal(syf_scenario_validate(&sc), SYF_OK);
    assert_int_equal(sc.regime.employer_days, 16);      /* calibration row 31 */
    assert_int_equal(sc.regime.max_paid_days, 248);     /* row 38 */
    assert_near(sc.duration.diagnosis_shares[SYF_DIAG_L], 0.36, 1e-12); /* row 22 */
    double s = 0;
    for (int i = 0; i < SYF_N_COUNTY; i++)
        s += sc.population.county_shares[i];
    assert_near(s, 1.0, 1e-12); /* simplex lists are normalised */
}

static void test_shipped_scenarios(void **state)
{
    (void)state;
    syf_scenario sc;
    assert_int_equal(syf_scenario_load("scenarios/baseline-norway.ini", &sc), SYF_OK);
    assert_string_equal(sc.name, "baseline-norway");
    assert_int_equal(syf_scenario_load("scenarios/msyfo-triage.ini", &sc), SYF_OK);
    assert_string_equal(sc.name, "msyfo-triage");
    assert_int_equal(sc.pilot.type, SYF_PILOT_MSYFO);
    assert_int_equal(sc.trial.design, SYF_DESIGN_CLUSTER_RCT);
    assert_int_equal(sc.world.offices, 12);
    assert_int_equal(sc.run.seed, 20261122); /* inherited from the base */
}

static void test_base_and_override(void **state)
{
    (void)state;
    write_file("b.ini", "[scenario]\nname = b\n[world]\noffices = 40\n[run]\nseed = 5\n");
    const char *c = write_file("c.ini", "[scenario]\nbase = b.ini\nname = c\n[world]\noffices = 41\n");
    syf_scenario sc;
    assert_int_equal(syf_scenario_load(c, &sc), SYF_OK);
    assert_int_equal(sc.world.offices, 41);
    assert_int_equal(sc.run.seed, 5);
    assert_string_equal(sc.name, "c");
}

static void expect_error(const char *name, const char *text, const char *needle1,
                         const char *needle2)
{
    const char *p = write_file(name, text);
    syf_scenario sc;
    int st = syf_scenario_load(p, &sc);
    if (st != SYF_EINPUT || !strstr(syf_error_message(), needle1) ||
        (needle2 && !strstr(syf_error_message(), needle2)))
        fprintf(stderr, "case %s: status %d, message: %s\n", name, st, syf_error_message());
    assert_int_equal(st, SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), needle1));
    if (needle2)
        assert_non_null(strstr(syf_error_message(), needle2));
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("e1.ini", "[world]\nofficez = 3\n", "e1.ini:2: world.officez: unknown key", "offices");
    expect_error("e2.ini", "[wrld]\noffices = 3\n", "e2.ini:1: [wrld]: unknown section", NULL);
    expect_error("e3.ini", "[population]\nfemale_share = 0.4x\n", "e3.ini:2: population.female_share", "not a number");
    expect_error("e4.ini", "[population]\n\n\nfemale_share = 1.2\n", "e4.ini:4:", "accepted: a number from 0 to 1");
    expect_error("e5.ini", "[world]\noffices = 2.5\n", "e5.ini:2: world.offices", "not an integer");
    expect_error("e6.ini", "[duration]\ndiagnosis_shares = 0.5, 0.5\n", "e6.ini:2:", "2 values given");
    expect_error("e7.ini", "[duration]\ndiagnosis_shares = 0.5, 0.5, 0.5, 0.5\n", "e7.ini:2:", "sum to 2");
    expect_error("e8.ini", "[pilot]\ntype = foo\n", "e8.ini:2: pilot.type", "accepted: one of none|msyfo");
    expect_error("e9.ini", "[world]\noffices = 3\noffices = 4\n", "e9.ini:3:", "set twice");
    expect_error("e10.ini", "[world]\noffices = 30\n[scenario]\nbase = x.ini\n", "e10.ini:4: scenario.base", "first key");
    expect_error("e11.ini", "[scenario]\nbase = missing.ini\n", "e11.ini:2: scenario.base", "cannot open");
    expect_error("e12.ini", "[world]\nthis line has no equals sign\n", "e12.ini:2: malformed line", NULL);
    expect_error("e13.ini", "[trial]\ndesign = cluster_rct\n", "pilot.type", "needs a pilot");
    expect_error("e14.ini", "[world]\noffices = 100\n[population]\npersons = 150\n", "population.persons", "at least 2 persons per office");
    expect_error("e15.ini", "\001\002\003\n", "e15.ini:1:", "binary");
    syf_scenario sc;
    assert_int_equal(syf_scenario_load("/nonexistent/x.ini", &sc), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "/nonexistent/x.ini: cannot open"));
}

static void test_round_trip_and_hash(void **state)
{
    (void)state;
    syf_scenario a, b;
    assert_int_equal(syf_scenario_load("scenarios/msyfo-triage.ini", &a), SYF_OK);
    char path[600];
    snprintf(path, sizeof path, "%s/rt.ini", dir);
    FILE *f = fopen(path, "w");
    syf_scenario_write(&a, f, 1); /* annotated: comments must parse too */
    fclose(f);
    assert_int_equal(syf_scenario_load(path, &b), SYF_OK);
    assert_true(syf_scenario_hash(&a) == syf_scenario_hash(&b));
    /* any change changes the hash */
    assert_int_equal(syf_scenario_set(&b, "pilot.effect_hr", "1.2", "test"), SYF_OK);
    assert_true(syf_scenario_hash(&a) != syf_scenario_hash(&b));
    assert_near(b.pilot.effect_hr, 1.2, 0);
    assert_int_equal(syf_scenario_set(&b, "pilot.effect_hr", "-1", "test"), SYF_EINPUT);
    assert_int_equal(syf_scenario_set(&b, "pilot.nokey", "1", "test"), SYF_EINPUT);
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_valid), cmocka_unit_test(test_shipped_scenarios),
        cmocka_unit_test(test_base_and_override), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_round_trip_and_hash)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
