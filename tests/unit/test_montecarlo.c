/* test_montecarlo.c — the Monte Carlo engine (montecarlo.h) with a fake,
 * instantaneous replication function: results stored by index whatever the
 * number of threads, replication-major order, shards and ranks partition
 * the replications, bit-exact save/load (NaN, failures, reasons), identity
 * checks on load and merge, gaps and overlaps, stopping and resuming,
 * periodic checkpoints, the drive/remove life cycle, the summaries, and
 * (with the real trial function on a tiny world) cells of equal scenarios
 * run once.  Groups of cells computed by one call (--estimators): the same
 * stored bytes as cell-by-cell calls, for any threads, shards, stops; and
 * syf_trial_replicate_multi() bit-identical to syf_trial_replicate() for
 * every estimator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syfosim/error.h"
#include "syfosim/montecarlo.h"
#include "syfosim/trial.h"
#include "test_util.h"

/* A deterministic fake replication: everything is a function of (cell,
 * seed, rep); replications r with r % 7 == 0 fail with a reason that has
 * characters the results file must survive; rep 5 has a NaN SE. */
static int fake(void *ctx, size_t cell, uint64_t seed, uint64_t rep, syf_trial_estimate *e)
{
    (void)ctx;
    e->estimand = (double)cell - 0.5;
    e->estimate = (double)cell * 1000.0 + (double)rep / 3.0 + (double)seed * 1e-3;
    e->std_error = rep == 5 ? NAN : 1.0 + 1.0 / (double)rep;
    e->df = (double)rep;
    e->p_value = (double)(rep % 10) / 10.0 + 0.01;
    e->conf_low = e->estimate - 2;
    e->conf_high = e->estimate + 2;
    e->n = 100 + rep;
    e->clusters = 6;
    if (rep % 7 == 0) {
        e->status = SYF_ESINGULAR;
        return syf_error_set(SYF_ESINGULAR, "boom \"rep\" %llu,\nsecond line",
                             (unsigned long long)rep);
    }
    e->status = SYF_OK;
    return SYF_OK;
}

/* Records the order of calls (single thread). */
static size_t order[1000][2];
static size_t n_order;
static int recording(void *ctx, size_t cell, uint64_t seed, uint64_t rep, syf_trial_estimate *e)
{
    order[n_order][0] = cell;
    order[n_order][1] = rep;
    n_order++;
    return fake(ctx, cell, seed, rep, e);
}

/* Asks to stop after `after` calls. */
static volatile sig_atomic_t stop_flag;
static int calls, stop_after;
static int stopping(void *ctx, size_t cell, uint64_t seed, uint64_t rep, syf_trial_estimate *e)
{
    int k;
#pragma omp atomic capture
    k = ++calls;
    if (k >= stop_after)
        stop_flag = 1;
    return fake(ctx, cell, seed, rep, e);
}

static int oom(void *ctx, size_t cell, uint64_t seed, uint64_t rep, syf_trial_estimate *e)
{
    if (rep == 3)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    return fake(ctx, cell, seed, rep, e);
}

static syf_mc *make(size_t cells, uint64_t reps, uint64_t seed)
{
    syf_mc *mc = syf_mc_alloc("test", cells, reps, seed);
    assert_non_null(mc);
    for (size_t c = 0; c < cells; c++) {
        char lab[32];
        snprintf(lab, sizeof lab, "c%zu", c);
        assert_int_equal(syf_mc_set_cell(mc, c, 0x1234u + c, lab), SYF_OK);
    }
    assert_int_equal(syf_mc_set_args(mc, "null=1\tx=1,2"), SYF_OK);
    return mc;
}

static void run_all(syf_mc *mc, int threads, syf_mc_fn fn)
{
    syf_mc_opts o = {.threads = threads, .fn = fn};
    assert_int_equal(syf_mc_run(mc, &o), SYF_OK);
    assert_false(syf_mc_interrupted(mc));
}

/* Same stored bytes and reasons for every (cell, rep). */
static void assert_same(const syf_mc *a, const syf_mc *b)
{
    assert_int_equal(syf_mc_n_cells(a), syf_mc_n_cells(b));
    assert_int_equal(syf_mc_reps(a), syf_mc_reps(b));
    for (size_t c = 0; c < syf_mc_n_cells(a); c++)
        for (uint64_t r = 1; r <= syf_mc_reps(a); r++) {
            const syf_mc_rep *x = syf_mc_get(a, c, r), *y = syf_mc_get(b, c, r);
            assert_true((x == NULL) == (y == NULL));
            if (!x)
                continue;
            assert_memory_equal(&x->est, &y->est, sizeof x->est);
            assert_string_equal(x->reason, y->reason);
        }
}

static char *tmpname(const char *stem)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "/tmp/syf_test_mc_%ld_%s", (long)getpid(), stem);
    return p;
}

static void test_threads_identical(void **state)
{
    (void)state;
    syf_mc *a = make(3, 50, 9), *b = make(3, 50, 9);
    run_all(a, 1, fake);
    run_all(b, 4, fake);
    assert_int_equal(syf_mc_n_done(a, 0), 150);
    assert_same(a, b);
    const syf_mc_rep *x = syf_mc_get(a, 2, 14);
    assert_non_null(x);
    assert_int_equal(x->est.status, SYF_ESINGULAR);
    /* the reason is sanitised: no quotes or newlines */
    assert_string_equal(x->reason, "boom 'rep' 14, second line");
    assert_near(syf_mc_get(a, 1, 3)->est.estimate, 1000 + 1.0 + 0.009, 1e-12);
    assert_null(syf_mc_get(a, 3, 1));
    assert_null(syf_mc_get(a, 0, 51));
    syf_mc_free(a);
    syf_mc_free(b);
}

static void test_replication_major(void **state)
{
    (void)state;
    syf_mc *mc = make(4, 5, 1);
    n_order = 0;
    run_all(mc, 1, recording);
    assert_int_equal(n_order, 20);
    for (size_t k = 0; k < n_order; k++) {
        assert_int_equal(order[k][1], k / 4 + 1); /* replication 1 of every cell first */
        assert_int_equal(order[k][0], k % 4);
    }
    syf_mc_free(mc);
}

static void test_ownership_partition(void **state)
{
    (void)state;
    syf_mc *mc = make(1, 97, 1);
    for (unsigned n = 1; n <= 4; n++)
        for (int size = 1; size <= 3; size++)
            for (uint64_t r = 1; r <= 97; r++) {
                int owners = 0;
                for (unsigned i = 1; i <= n; i++)
                    for (int rank = 0; rank < size; rank++) {
                        assert_int_equal(syf_mc_set_shard(mc, i, n), SYF_OK);
                        syf_mc_set_rank(mc, rank, size);
                        if (syf_mc_owns(mc, r)) {
                            owners++;
                            assert_int_equal((r - 1) % n, i - 1); /* documented rule */
                        }
                    }
                assert_int_equal(owners, 1);
            }
    assert_int_equal(syf_mc_set_shard(mc, 0, 3), SYF_EINPUT);
    assert_int_equal(syf_mc_set_shard(mc, 4, 3), SYF_EINPUT);
    syf_mc_free(mc);
}

static void test_shards_merge(void **state)
{
    (void)state;
    syf_mc *full = make(2, 40, 5);
    run_all(full, 2, fake);
    const char *f1 = tmpname("s1"), *f2 = tmpname("s2"), *f3 = tmpname("s3");
    const char *files[3] = {f1, f2, f3};
    for (unsigned i = 1; i <= 3; i++) {
        syf_mc *s = make(2, 40, 5);
        assert_int_equal(syf_mc_set_shard(s, i, 3), SYF_OK);
        run_all(s, 2, fake);
        assert_int_equal(syf_mc_n_done(s, 0), 2 * (i == 1 ? 14 : 13));
        assert_int_equal(syf_mc_save(s, files[i - 1]), SYF_OK);
        syf_mc_info info;
        assert_int_equal(syf_mc_read_info(files[i - 1], &info), SYF_OK);
        assert_string_equal(info.kind, "test");
        assert_int_equal(info.reps, 40);
        assert_int_equal(info.seed, 5);
        assert_int_equal(info.shard_index, i);
        assert_int_equal(info.shard_count, 3);
        assert_int_equal(info.n_cells, 2);
        assert_string_equal(info.args, "null=1\tx=1,2");
        syf_mc_free(s);
    }
    syf_mc *m = make(2, 40, 5);
    assert_int_equal(syf_mc_merge(m, f1), SYF_OK);
    assert_int_equal(syf_mc_merge(m, f3), SYF_OK);
    assert_int_equal(syf_mc_check_complete(m), SYF_EINPUT); /* shard 2 missing */
    assert_non_null(strstr(syf_error_message(), "replication 2 of c0"));
    assert_int_equal(syf_mc_merge(m, f2), SYF_OK);
    assert_int_equal(syf_mc_check_complete(m), SYF_OK);
    assert_same(full, m);
    assert_int_equal(syf_mc_merge(m, f2), SYF_EINPUT); /* overlap */
    assert_non_null(strstr(syf_error_message(), "already in another input"));
    syf_mc_free(m);

    /* a shard of another run */
    syf_mc *other = make(2, 40, 6);
    assert_int_equal(syf_mc_merge(other, f1), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "seed 5"));
    syf_mc_free(other);
    other = make(2, 41, 5);
    assert_int_equal(syf_mc_merge(other, f1), SYF_EINPUT);
    syf_mc_free(other);
    other = make(2, 40, 5);
    assert_int_equal(syf_mc_set_cell(other, 1, 0x9999, "c1"), SYF_OK);
    assert_int_equal(syf_mc_merge(other, f1), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "scenario hash"));
    syf_mc_free(other);
    other = make(2, 40, 5);
    assert_int_equal(syf_mc_set_args(other, "null=0"), SYF_OK);
    assert_int_equal(syf_mc_merge(other, f1), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "options"));
    syf_mc_free(other);
    /* load (a checkpoint) also checks the shard */
    other = make(2, 40, 5);
    assert_int_equal(syf_mc_load(other, f1), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "shard 1/3"));
    syf_mc_free(other);

    unlink(f1);
    unlink(f2);
    unlink(f3);
    syf_mc_free(full);
}

static void test_save_load_exact(void **state)
{
    (void)state;
    syf_mc *a = make(2, 30, 3);
    syf_mc_opts o = {.threads = 2, .fn = fake};
    /* only part of it, so missing ones stay missing */
    stop_flag = 0;
    calls = 0;
    stop_after = 25;
    o.fn = stopping;
    o.stop = &stop_flag;
    assert_int_equal(syf_mc_run(a, &o), SYF_OK);
    assert_true(syf_mc_interrupted(a));
    size_t done = syf_mc_n_done(a, 0);
    assert_true(done >= 25 && done < 60);
    const char *f = tmpname("ckpt");
    assert_int_equal(syf_mc_save(a, f), SYF_OK);
    syf_mc *b = make(2, 30, 3);
    assert_int_equal(syf_mc_load(b, f), SYF_OK);
    assert_same(a, b);
    assert_true(isnan(syf_mc_get(b, 0, 5) ? syf_mc_get(b, 0, 5)->est.std_error : NAN));

    /* resume: the rest, then the same as an uninterrupted run */
    stop_flag = 0;
    syf_mc_opts o2 = {.threads = 3, .fn = fake};
    assert_int_equal(syf_mc_run(b, &o2), SYF_OK);
    syf_mc *full = make(2, 30, 3);
    run_all(full, 1, fake);
    assert_same(full, b);
    unlink(f);
    syf_mc_free(a);
    syf_mc_free(b);
    syf_mc_free(full);
}

static void test_bad_files(void **state)
{
    (void)state;
    const char *f = tmpname("bad");
    syf_mc *mc = make(1, 5, 1);
    FILE *fp = fopen(f, "w");
    assert_non_null(fp);
    fprintf(fp, "not a results file\n");
    fclose(fp);
    assert_int_equal(syf_mc_load(mc, f), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "not a syfosim results file"));

    run_all(mc, 1, fake);
    assert_int_equal(syf_mc_save(mc, f), SYF_OK);
    /* cut the last row short */
    fp = fopen(f, "r+");
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fclose(fp);
    assert_int_equal(truncate(f, len - 40), 0);
    syf_mc *b = make(1, 5, 1);
    assert_int_equal(syf_mc_load(b, f), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "bad record"));
    syf_mc_free(b);
    assert_int_equal(syf_mc_load(mc, "/nonexistent/x.mcr"), SYF_EINPUT);
    unlink(f);
    syf_mc_free(mc);
}

static void test_periodic_checkpoint_and_drive(void **state)
{
    (void)state;
    char dir[256];
    snprintf(dir, sizeof dir, "/tmp/syf_test_mc_%ld_dir", (long)getpid());
    mkdir(dir, 0777);
    char base[400];
    snprintf(base, sizeof base, "%s/.t.ckpt", dir);

    /* interrupted with a checkpoint after every result */
    syf_mc *a = make(2, 20, 4);
    stop_flag = 0;
    calls = 0;
    stop_after = 11;
    syf_mc_drive_opts dr = {.dir = dir,
                            .name = "t",
                            .resume = 0,
                            .run = {.threads = 1, .checkpoint_secs = 0, .stop = &stop_flag,
                                    .fn = stopping}};
    int interrupted = 0;
    assert_int_equal(syf_mc_drive(a, &dr, &interrupted), SYF_OK);
    assert_true(interrupted);
    assert_int_equal(access(base, F_OK), 0);
    assert_int_equal(syf_mc_n_done(a, 0), 11);

    /* a second "rank" file, as an MPI run leaves: resume loads both */
    char rankf[450];
    snprintf(rankf, sizeof rankf, "%s.rank1", base);
    syf_mc *r1 = make(2, 20, 4);
    stop_flag = 0;
    syf_mc_opts o = {.threads = 1, .fn = fake};
    assert_int_equal(syf_mc_run(r1, &o), SYF_OK);
    assert_int_equal(syf_mc_save(r1, rankf), SYF_OK);
    syf_mc_free(r1);

    syf_mc *b = make(2, 20, 4);
    dr.resume = 1;
    dr.run.stop = NULL;
    dr.run.fn = fake;
    assert_int_equal(syf_mc_drive(b, &dr, &interrupted), SYF_OK);
    assert_false(interrupted);
    assert_int_equal(syf_mc_n_done(b, 0), 40);
    syf_mc *full = make(2, 20, 4);
    run_all(full, 2, fake);
    assert_same(full, b);
    syf_mc_remove_checkpoints(b, &dr);
    assert_int_equal(access(base, F_OK), -1);
    assert_int_equal(access(rankf, F_OK), -1);

    /* a resume against another run is refused with a hint */
    assert_int_equal(syf_mc_save(a, base), SYF_OK);
    syf_mc *c = make(2, 21, 4);
    assert_int_equal(syf_mc_drive(c, &dr, &interrupted), SYF_EINPUT);
    assert_non_null(strstr(syf_error_message(), "without --resume"));
    assert_non_null(strstr(syf_error_message(), "21"));
    syf_mc_remove_checkpoints(c, &dr);
    rmdir(dir);
    syf_mc_free(a);
    syf_mc_free(b);
    syf_mc_free(c);
    syf_mc_free(full);
}

static void test_oom_aborts(void **state)
{
    (void)state;
    syf_mc *mc = make(1, 10, 1);
    syf_mc_opts o = {.threads = 2, .fn = oom};
    assert_int_equal(syf_mc_run(mc, &o), SYF_ENOMEM);
    syf_mc_free(mc);
}

static void test_summaries(void **state)
{
    (void)state;
    syf_mc *mc = make(1, 21, 2);
    syf_mc_set_shard(mc, 1, 2); /* odd replications only: the even ones are missing */
    run_all(mc, 2, fake);
    syf_rep_result rr[21];
    syf_mc_results(mc, 0, rr);
    assert_int_equal(rr[1].failed, 1); /* replication 2: not run */
    assert_int_equal(rr[6].failed, 1); /* replication 7: failed */
    assert_int_equal(rr[6].reason, SYF_ESINGULAR);
    assert_int_equal(rr[0].failed, 0);
    assert_near(rr[0].estimate, 1.0 / 3.0 + 0.002, 1e-15);
    syf_diagnosis d;
    assert_int_equal(syf_mc_diagnose(mc, 0, 0.05, &d), SYF_OK);
    /* odd replications 1..21 (11) minus 7 and 21 (failed) */
    assert_int_equal(d.n_ok, 9);
    assert_int_equal(d.n_failed, 12);
    assert_int_equal(d.n_failed_by_reason[SYF_ESINGULAR], 2);
    assert_near(d.mean_estimand.value, -0.5, 1e-15);

    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    assert_int_equal(syf_mc_write_replicates(m, mc, 0, "x,sate"), SYF_OK);
    fclose(m);
    assert_non_null(strstr(buf, "x,sate,1,ok,0.3353333333,2,1,0.11,-1.664666667,2.335333333,-0.5,101,6,\"\"\n"));
    assert_non_null(strstr(buf, "x,sate,2,missing,"));
    assert_non_null(strstr(buf, "x,sate,7,failed,,,,,,,-0.5,107,6,\"boom 'rep' 7, second line\"\n"));
    free(buf);
    syf_mc_free(mc);
}

/* The real trial function: cells with the same scenario are run once and
 * copied, with the same results as a run of that scenario alone. */
static void test_trial_cells_dedup(void **state)
{
    (void)state;
    static syf_scenario a, b;
    assert_int_equal(syf_scenario_load("scenarios/msyfo-triage.ini", &a), SYF_OK);
    assert_int_equal(syf_scenario_set(&a, "population.persons", "2000", "test"), SYF_OK);
    assert_int_equal(syf_scenario_set(&a, "world.offices", "6", "test"), SYF_OK);
    b = a;
    b.pilot.effect_hr = 1.0;
    const syf_scenario *cells[3] = {&a, &b, &a};
    syf_mc *mc = syf_mc_alloc("test", 3, 4, 11), *one = syf_mc_alloc("test", 1, 4, 11);
    assert_non_null(mc);
    assert_non_null(one);
    assert_int_equal(syf_mc_set_cell(mc, 0, syf_scenario_hash(&a), "a"), SYF_OK);
    assert_int_equal(syf_mc_set_cell(mc, 1, syf_scenario_hash(&b), "b"), SYF_OK);
    assert_int_equal(syf_mc_set_cell(mc, 2, syf_scenario_hash(&a), "a2"), SYF_OK);
    assert_int_equal(syf_mc_set_cell(one, 0, syf_scenario_hash(&a), "a"), SYF_OK);
    syf_mc_opts o = {.threads = 2, .ctx = (void *)cells};
    assert_int_equal(syf_mc_run(mc, &o), SYF_OK);
    assert_int_equal(syf_mc_n_done(mc, 0), 12);
    assert_int_equal(syf_mc_run(one, &o), SYF_OK);
    for (uint64_t r = 1; r <= 4; r++) {
        const syf_mc_rep *x = syf_mc_get(mc, 0, r), *y = syf_mc_get(mc, 2, r),
                         *z = syf_mc_get(one, 0, r), *w = syf_mc_get(mc, 1, r);
        assert_non_null(x);
        assert_non_null(y);
        assert_memory_equal(&x->est, &y->est, sizeof x->est);
        assert_memory_equal(&x->est, &z->est, sizeof x->est);
        /* same seed, other effect: the same trial population, estimand 0 */
        assert_int_equal(w->est.n, x->est.n);
        assert_near(w->est.estimand, 0.0, 1e-12);
    }
    syf_mc_free(mc);
    syf_mc_free(one);
}

/* A group function made of fake(): what cell-by-cell calls would store,
 * with the reasons captured per cell. */
static int group_calls;
static int fake_group(void *ctx, size_t first, size_t n, uint64_t seed, uint64_t rep,
                      syf_mc_rep *out)
{
#pragma omp atomic
    group_calls++;
    for (size_t k = 0; k < n; k++) {
        syf_error_clear();
        int st = fake(ctx, first + k, seed, rep, &out[k].est);
        if (st != SYF_OK)
            snprintf(out[k].reason, sizeof out[k].reason, "%s", syf_error_message());
    }
    if (stop_after && ++calls >= stop_after)
        stop_flag = 1;
    return SYF_OK;
}

static void test_groups(void **state)
{
    (void)state;
    syf_mc *ref = make(6, 15, 9);
    run_all(ref, 1, fake);
    for (int threads = 1; threads <= 2; threads++) {
        syf_mc *mc = make(6, 15, 9);
        group_calls = 0;
        syf_mc_opts o = {.threads = threads, .group = 3, .group_fn = fake_group};
        assert_int_equal(syf_mc_run(mc, &o), SYF_OK);
        assert_int_equal(group_calls, 2 * 15); /* one call per group and replication */
        assert_same(ref, mc);
        syf_mc_free(mc);
    }
    /* shards of a grouped run merge into the same results */
    char *p1 = tmpname("g1"), *p2 = tmpname("g2");
    for (unsigned i = 1; i <= 2; i++) {
        syf_mc *sh = make(6, 15, 9);
        assert_int_equal(syf_mc_set_shard(sh, i, 2), SYF_OK);
        syf_mc_opts o = {.threads = 2, .group = 3, .group_fn = fake_group};
        assert_int_equal(syf_mc_run(sh, &o), SYF_OK);
        assert_int_equal(syf_mc_save(sh, i == 1 ? p1 : p2), SYF_OK);
        syf_mc_free(sh);
    }
    syf_mc *m = make(6, 15, 9);
    assert_int_equal(syf_mc_merge(m, p1), SYF_OK);
    assert_int_equal(syf_mc_merge(m, p2), SYF_OK);
    assert_int_equal(syf_mc_check_complete(m), SYF_OK);
    assert_same(ref, m);
    syf_mc_free(m);
    /* stopped, saved, reloaded and finished: the same; whole groups only */
    syf_mc *a = make(6, 15, 9);
    stop_flag = 0;
    calls = 0;
    stop_after = 4;
    syf_mc_opts o = {.threads = 1, .group = 3, .group_fn = fake_group, .stop = &stop_flag};
    assert_int_equal(syf_mc_run(a, &o), SYF_OK);
    assert_true(syf_mc_interrupted(a));
    assert_int_equal(syf_mc_n_done(a, 0) % 3, 0);
    assert_true(syf_mc_n_done(a, 0) < 90);
    assert_int_equal(syf_mc_save(a, p1), SYF_OK);
    syf_mc_free(a);
    stop_after = 0;
    a = make(6, 15, 9);
    assert_int_equal(syf_mc_load(a, p1), SYF_OK);
    o.stop = NULL;
    assert_int_equal(syf_mc_run(a, &o), SYF_OK);
    assert_same(ref, a);
    syf_mc_free(a);
    /* a group known only in part (an edited file) is recomputed whole */
    assert_int_equal(syf_mc_save(ref, p1), SYF_OK);
    FILE *in = fopen(p1, "r"), *out = fopen(p2, "w");
    assert_non_null(in);
    assert_non_null(out);
    char line[4096];
    while (fgets(line, sizeof line, in))
        if (strncmp(line, "1 1 ", 4)) /* drop cell 1 of replication 1 */
            fputs(line, out);
    fclose(in);
    fclose(out);
    a = make(6, 15, 9);
    assert_int_equal(syf_mc_load(a, p2), SYF_OK);
    assert_int_equal(syf_mc_n_done(a, 0), 89);
    group_calls = 0;
    assert_int_equal(syf_mc_run(a, &o), SYF_OK);
    assert_int_equal(group_calls, 1);
    assert_same(ref, a);
    syf_mc_free(a);
    /* bad groups */
    syf_mc *bad = make(5, 3, 1);
    syf_mc_opts ob = {.threads = 1, .group = 3, .group_fn = fake_group};
    assert_int_equal(syf_mc_run(bad, &ob), SYF_EINPUT);
    ob.group = SYF_MC_MAX_GROUP + 1;
    assert_int_equal(syf_mc_run(bad, &ob), SYF_EINPUT);
    syf_mc_free(bad);
    syf_mc_free(ref);
    unlink(p1);
    unlink(p2);
}

/* A tiny stepped wedge analysed by several estimators. */
static const char *const multi_est[][2] = {{"lmm", "analytic"}, {"ols", "analytic"},
                                           {"ols", "wild"},     {"did", "analytic"},
                                           {"cs", "analytic"},  {"gee", "analytic"},
                                           {"cox", "analytic"}, {"ipw", "analytic"}};
enum { N_MULTI = sizeof multi_est / sizeof multi_est[0] };

static void multi_scenarios(syf_scenario *sc)
{
    assert_int_equal(syf_scenario_load("scenarios/msyfo-stepped-wedge.ini", &sc[0]), SYF_OK);
    assert_int_equal(syf_scenario_set(&sc[0], "population.persons", "4000", "test"), SYF_OK);
    assert_int_equal(syf_scenario_set(&sc[0], "world.offices", "8", "test"), SYF_OK);
    assert_int_equal(syf_scenario_set(&sc[0], "trial.inference_draws", "49", "test"), SYF_OK);
    for (size_t k = 1; k < N_MULTI; k++)
        sc[k] = sc[0];
    for (size_t k = 0; k < N_MULTI; k++) {
        assert_int_equal(syf_scenario_set(&sc[k], "trial.estimator", multi_est[k][0], "test"),
                         SYF_OK);
        assert_int_equal(syf_scenario_set(&sc[k], "trial.inference", multi_est[k][1], "test"),
                         SYF_OK);
    }
}

/* One simulation, N fits: each estimate bit-identical to its own
 * replication; ipw cannot analyse a stepped wedge and fails alone, with
 * its reason. */
static void test_trial_multi_identical(void **state)
{
    (void)state;
    static syf_scenario sc[N_MULTI];
    multi_scenarios(sc);
    const syf_scenario *scs[N_MULTI];
    for (size_t k = 0; k < N_MULTI; k++)
        scs[k] = &sc[k];
    for (uint64_t rep = 1; rep <= 2; rep++) {
        syf_trial_estimate multi[N_MULTI];
        char msg[N_MULTI][SYF_MC_REASON], *reason[N_MULTI];
        for (size_t k = 0; k < N_MULTI; k++)
            reason[k] = msg[k];
        assert_int_equal(syf_trial_replicate_multi(scs, N_MULTI, 5, rep, multi, reason,
                                                   SYF_MC_REASON),
                         SYF_OK);
        for (size_t k = 0; k < N_MULTI; k++) {
            syf_trial_estimate one;
            memset(&one, 0, sizeof one);
            syf_error_clear();
            int st = syf_trial_replicate(scs[k], 5, rep, &one);
            assert_int_equal(st, one.status);
            assert_memory_equal(&one, &multi[k], sizeof one);
            if (st != SYF_OK)
                assert_string_equal(msg[k], syf_error_message());
            else
                assert_string_equal(msg[k], "");
        }
        assert_int_equal(multi[N_MULTI - 1].status, SYF_EINPUT); /* ipw */
        assert_non_null(strstr(msg[N_MULTI - 1], "ipw"));
        for (size_t k = 0; k < 5; k++)
            assert_int_equal(multi[k].status, SYF_OK);
        /* the estimators see the same trial: same SATE and participants */
        assert_true(multi[0].estimand == multi[1].estimand);
        assert_int_equal(multi[0].n, multi[1].n);
    }
}

/* The engine's default group function on trial cells: the same bytes as
 * cell-by-cell runs, for 1 and 2 threads, and equal groups run once. */
static void test_trial_groups_engine(void **state)
{
    (void)state;
    static syf_scenario sc[N_MULTI], nul[3];
    multi_scenarios(sc);
    for (size_t k = 0; k < 3; k++) {
        nul[k] = sc[k];
        nul[k].pilot.effect_hr = 1.0;
    }
    /* groups: (lmm, ols, ols+wild) of the design, of its null, of the design again */
    const syf_scenario *cells[9] = {&sc[0],  &sc[1],  &sc[2], &nul[0], &nul[1],
                                    &nul[2], &sc[0],  &sc[1], &sc[2]};
    syf_mc *ref = syf_mc_alloc("test", 9, 3, 5);
    assert_non_null(ref);
    for (size_t c = 0; c < 9; c++) {
        char lab[16];
        snprintf(lab, sizeof lab, "c%zu", c);
        assert_int_equal(syf_mc_set_cell(ref, c, syf_scenario_hash(cells[c]), lab), SYF_OK);
    }
    syf_mc_opts o1 = {.threads = 1, .ctx = (void *)cells};
    assert_int_equal(syf_mc_run(ref, &o1), SYF_OK);
    for (int threads = 1; threads <= 2; threads++) {
        syf_mc *mc = syf_mc_alloc("test", 9, 3, 5);
        assert_non_null(mc);
        for (size_t c = 0; c < 9; c++) {
            char lab[16];
            snprintf(lab, sizeof lab, "c%zu", c);
            assert_int_equal(syf_mc_set_cell(mc, c, syf_scenario_hash(cells[c]), lab), SYF_OK);
        }
        syf_mc_opts o = {.threads = threads, .ctx = (void *)cells, .group = 3};
        assert_int_equal(syf_mc_run(mc, &o), SYF_OK);
        assert_same(ref, mc);
        syf_mc_free(mc);
    }
    syf_mc_free(ref);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    assert_null(syf_mc_alloc("x", 0, 5, 1));
    assert_null(syf_mc_alloc("x", 1, 0, 1));
    syf_mc *mc = make(2, 3, 1);
    assert_int_equal(syf_mc_set_cell(mc, 2, 1, "c2"), SYF_EINPUT);
    assert_int_equal(syf_mc_set_cell(mc, 0, 1, "has space"), SYF_EINPUT);
    assert_int_equal(syf_mc_set_args(mc, "two\nlines"), SYF_EINPUT);
    syf_mc_free(mc);
    syf_mc_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_replication_major),
        cmocka_unit_test(test_ownership_partition),
        cmocka_unit_test(test_shards_merge),
        cmocka_unit_test(test_save_load_exact),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_periodic_checkpoint_and_drive),
        cmocka_unit_test(test_oom_aborts),
        cmocka_unit_test(test_summaries),
        cmocka_unit_test(test_trial_cells_dedup),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_trial_multi_identical),
        cmocka_unit_test(test_trial_groups_engine),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
