/* montecarlo.c — the Monte Carlo engine (see montecarlo.h): stores each
 * (cell, replication) result at its index, runs the missing ones in
 * parallel in replication-major order, checkpoints and reloads them
 * bit-exactly, merges shards, gathers MPI ranks, and draws the progress
 * bar.  The subcommands (cli/cmd_diagnose.c, cmd_sweep.c, cmd_merge.c)
 * decide what the cells are and what to write; this file knows nothing
 * about scenarios beyond their hash.
 *
 * Thread safety: a worker stores its result before entering the one
 * critical section, where the done flag is set, the progress bar drawn and
 * the checkpoint written; the checkpoint writer reads only results whose
 * flag is set, so it never sees a half-written record.
 */
#include "syfosim/montecarlo.h"

#include "syfosim/error.h"
#include "syfosim/version.h"

#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef SYF_HAVE_MPI
#include <mpi.h>
#endif

#define MC_MAGIC "syfosim-mc 1"

struct syf_mc {
    char kind[32];
    size_t n_cells;
    uint64_t reps, seed;
    unsigned shard_i, shard_n;
    int rank, size;
    uint64_t *hash;
    char (*label)[64];
    char *args;
    syf_mc_rep *res;     /* [(rep - 1) * n_cells + cell] */
    unsigned char *done; /* same index */
    int interrupted;
};

static size_t idx(const syf_mc *mc, size_t cell, uint64_t rep)
{
    return (size_t)(rep - 1) * mc->n_cells + cell;
}

syf_mc *syf_mc_alloc(const char *kind, size_t n_cells, uint64_t reps, uint64_t seed)
{
    if (!kind || !n_cells || !reps || n_cells > SIZE_MAX / 4 / sizeof(syf_mc_rep) / reps)
        return NULL;
    syf_mc *mc = calloc(1, sizeof *mc);
    if (!mc)
        return NULL;
    snprintf(mc->kind, sizeof mc->kind, "%s", kind);
    mc->n_cells = n_cells;
    mc->reps = reps;
    mc->seed = seed;
    mc->shard_i = mc->shard_n = 1;
    mc->rank = 0;
    mc->size = 1;
    mc->hash = calloc(n_cells, sizeof *mc->hash);
    mc->label = calloc(n_cells, sizeof *mc->label);
    mc->args = calloc(1, 1);
    mc->res = calloc(n_cells * (size_t)reps, sizeof *mc->res);
    mc->done = calloc(n_cells * (size_t)reps, 1);
    if (!mc->hash || !mc->label || !mc->args || !mc->res || !mc->done) {
        syf_mc_free(mc);
        return NULL;
    }
    for (size_t c = 0; c < n_cells; c++)
        snprintf(mc->label[c], sizeof mc->label[c], "cell%zu", c);
    return mc;
}

void syf_mc_free(syf_mc *mc)
{
    if (!mc)
        return;
    free(mc->hash);
    free(mc->label);
    free(mc->args);
    free(mc->res);
    free(mc->done);
    free(mc);
}

int syf_mc_set_cell(syf_mc *mc, size_t cell, uint64_t scenario_hash, const char *label)
{
    if (cell >= mc->n_cells || !label || !*label || strlen(label) >= sizeof mc->label[0] ||
        strpbrk(label, " \t\r\n"))
        return syf_error_set(SYF_EINPUT, "montecarlo: bad cell %zu or label", cell);
    mc->hash[cell] = scenario_hash;
    snprintf(mc->label[cell], sizeof mc->label[cell], "%s", label);
    return SYF_OK;
}

int syf_mc_set_args(syf_mc *mc, const char *args)
{
    if (!args || strpbrk(args, "\r\n"))
        return syf_error_set(SYF_EINPUT, "montecarlo: arguments must be one line");
    char *a = strdup(args);
    if (!a)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    free(mc->args);
    mc->args = a;
    return SYF_OK;
}

int syf_mc_set_shard(syf_mc *mc, unsigned index, unsigned count)
{
    if (count < 1 || index < 1 || index > count)
        return syf_error_set(SYF_EINPUT, "--shard %u/%u: expected I/N with 1 <= I <= N", index,
                             count);
    mc->shard_i = index;
    mc->shard_n = count;
    return SYF_OK;
}

void syf_mc_set_rank(syf_mc *mc, int rank, int size)
{
    mc->rank = rank;
    mc->size = size > 0 ? size : 1;
}

size_t syf_mc_n_cells(const syf_mc *mc) { return mc->n_cells; }
uint64_t syf_mc_reps(const syf_mc *mc) { return mc->reps; }
uint64_t syf_mc_seed(const syf_mc *mc) { return mc->seed; }
const char *syf_mc_args(const syf_mc *mc) { return mc->args; }
int syf_mc_interrupted(const syf_mc *mc) { return mc->interrupted; }

int syf_mc_owns(const syf_mc *mc, uint64_t rep)
{
    uint64_t k = rep - 1;
    if (k % mc->shard_n != mc->shard_i - 1)
        return 0;
    return (k / mc->shard_n) % (uint64_t)mc->size == (uint64_t)mc->rank;
}

const syf_mc_rep *syf_mc_get(const syf_mc *mc, size_t cell, uint64_t rep)
{
    if (cell >= mc->n_cells || rep < 1 || rep > mc->reps)
        return NULL;
    size_t i = idx(mc, cell, rep);
    return mc->done[i] ? &mc->res[i] : NULL;
}

size_t syf_mc_n_done(const syf_mc *mc, int owned_only)
{
    size_t n = 0;
    for (uint64_t r = 1; r <= mc->reps; r++) {
        if (owned_only && !syf_mc_owns(mc, r))
            continue;
        for (size_t c = 0; c < mc->n_cells; c++)
            n += mc->done[idx(mc, c, r)];
    }
    return n;
}

/* ---- running --------------------------------------------------------- */

static double now_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fmt_secs(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, n, "--:--");
        return;
    }
    long t = lround(s);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void draw_progress(const char *label, size_t done, size_t total, double elapsed, int last)
{
    enum { W = 28 };
    char bar[W + 1], el[32], eta[32];
    size_t fill = total ? done * W / total : W;
    for (size_t k = 0; k < W; k++)
        bar[k] = k < fill ? '#' : '.';
    bar[W] = '\0';
    fmt_secs(el, sizeof el, elapsed);
    fmt_secs(eta, sizeof eta, done ? elapsed / (double)done * (double)(total - done) : NAN);
    fprintf(stderr, "\r%s [%s] %zu/%zu %3d%% %s elapsed, ETA %s ", label ? label : "syfosim",
            bar, done, total, total ? (int)(100 * done / total) : 100, el, eta);
    if (last)
        fputc('\n', stderr);
    fflush(stderr);
}

/* A reason is one line without quotes (it ends a CSV row and a results
 * file row). */
static void clean_reason(char *dst)
{
    dst[SYF_MC_REASON - 1] = '\0';
    for (char *p = dst; *p; p++)
        if (*p == '"' || *p == '\n' || *p == '\r' || *p == '\t')
            *p = *p == '"' ? '\'' : ' ';
}

static void set_reason(char *dst, const char *msg)
{
    snprintf(dst, SYF_MC_REASON, "%s", msg ? msg : "");
    clean_reason(dst);
}

static int trial_fn(void *ctx, size_t cell, uint64_t seed, uint64_t rep, syf_trial_estimate *est)
{
    const syf_scenario *const *cells = ctx;
    return syf_trial_replicate(cells[cell], seed, rep, est);
}

static int trial_group_fn(void *ctx, size_t first, size_t n, uint64_t seed, uint64_t rep,
                          syf_mc_rep *out)
{
    const syf_scenario *const *cells = ctx;
    syf_trial_estimate est[SYF_MC_MAX_GROUP];
    char *reason[SYF_MC_MAX_GROUP];
    for (size_t k = 0; k < n; k++)
        reason[k] = out[k].reason;
    int st = syf_trial_replicate_multi(cells + first, n, seed, rep, est, reason, SYF_MC_REASON);
    for (size_t k = 0; k < n; k++) /* bytes: the padding stays as zeroed */
        memcpy(&out[k].est, &est[k], sizeof est[k]);
    return st;
}

/* One task: replication rep of the group of cells first..first+G-1 into
 * out[0..G-1] (zeroed here: records are stored as bytes, padding too).
 * Returns SYF_ENOMEM to abort the run. */
static int run_task(const syf_mc_opts *o, size_t first, size_t G, uint64_t seed, uint64_t rep,
                    syf_mc_rep *out)
{
    memset(out, 0, G * sizeof *out);
    if (G > 1 || o->group_fn) {
        syf_error_clear();
        int st = (o->group_fn ? o->group_fn : trial_group_fn)(o->ctx, first, G, seed, rep, out);
        for (size_t k = 0; k < G; k++) {
            clean_reason(out[k].reason);
            if (out[k].est.status != SYF_OK && !out[k].reason[0])
                set_reason(out[k].reason, "failed (no message)");
        }
        return st == SYF_ENOMEM ? st : SYF_OK;
    }
    syf_error_clear();
    int st = (o->fn ? o->fn : trial_fn)(o->ctx, first, seed, rep, &out->est);
    if (st != SYF_OK) {
        out->est.status = st;
        set_reason(out->reason, syf_error_message());
        if (st == SYF_ENOMEM)
            return st;
    } else if (out->est.status != SYF_OK)
        set_reason(out->reason, syf_error_message());
    return SYF_OK;
}

int syf_mc_run(syf_mc *mc, const syf_mc_opts *o)
{
    const size_t G = o->group > 1 ? o->group : 1;
    if (G > SYF_MC_MAX_GROUP || mc->n_cells % G)
        return syf_error_set(SYF_EINPUT, "montecarlo: %zu cells cannot form groups of %zu",
                             mc->n_cells, G);
    const size_t NG = mc->n_cells / G; /* groups of a replication */
    mc->interrupted = 0;
    /* With the trial function a replication depends only on the cell's
     * scenario: groups whose cells have the same scenario hashes (a null
     * cell equal to a grid point at effect_hr = 1, the null cells of a
     * sweep over the effect) are run once, at their first group, and
     * copied. */
    const int dedupe = !o->fn && !o->group_fn;
    size_t *canon = malloc(NG * sizeof *canon);
    if (!canon)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    for (size_t g = 0; g < NG; g++) {
        canon[g] = g;
        for (size_t b = 0; dedupe && b < g; b++) {
            if (canon[b] != b)
                continue;
            size_t k = 0;
            while (k < G && mc->hash[b * G + k] == mc->hash[g * G + k])
                k++;
            if (k == G) {
                canon[g] = b;
                break;
            }
        }
    }
    /* A group is done when all its cells are (a checkpoint holds whole
     * groups; one edited by hand is recomputed whole). */
#define GROUP_DONE(gg, rr, res)                                                                 \
    do {                                                                                        \
        res = 1;                                                                                \
        for (size_t k_ = 0; k_ < G; k_++)                                                       \
            res &= mc->done[idx(mc, (gg) * G + k_, rr)];                                       \
    } while (0)
    size_t total = 0;
    for (uint64_t r = 1; r <= mc->reps; r++)
        if (syf_mc_owns(mc, r))
            for (size_t g = 0; g < NG; g++) {
                int here, there;
                GROUP_DONE(g, r, here);
                GROUP_DONE(canon[g], r, there);
                if (!here && there) /* e.g. loaded from a checkpoint */
                    for (size_t k = 0; k < G; k++) {
                        mc->res[idx(mc, g * G + k, r)] = mc->res[idx(mc, canon[g] * G + k, r)];
                        mc->done[idx(mc, g * G + k, r)] = 1;
                    }
                total += canon[g] == g && !here;
            }
    size_t *task = malloc((total ? total : 1) * sizeof *task);
    if (!task) {
        free(canon);
        return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    size_t nt = 0;
    for (uint64_t r = 1; r <= mc->reps; r++) /* replication-major */
        if (syf_mc_owns(mc, r))
            for (size_t g = 0; g < NG; g++) {
                int here;
                GROUP_DONE(g, r, here);
                if (canon[g] == g && !here)
                    task[nt++] = idx(mc, g * G, r);
            }
#undef GROUP_DONE

    const double t0 = now_secs();
    double last_save = t0, last_draw = -1e300, save_cost = 0;
    size_t completed = 0;
    int fatal = 0, save_failed = 0;
    char save_msg[512] = "";
    if (o->progress && total)
        draw_progress(o->progress_label, 0, total, 0.0, 0);
#pragma omp parallel for schedule(dynamic, 1) num_threads(o->threads > 0 ? o->threads : omp_get_max_threads())
    for (size_t t = 0; t < nt; t++) {
        int stop_now;
#pragma omp atomic read
        stop_now = fatal;
        if (stop_now || (o->stop && *o->stop))
            continue;
        const size_t i = task[t];
        const size_t first = i % mc->n_cells, g = first / G;
        const uint64_t rep = (uint64_t)(i / mc->n_cells) + 1;
        syf_mc_rep out[SYF_MC_MAX_GROUP];
        if (run_task(o, first, G, mc->seed, rep, out) == SYF_ENOMEM) {
#pragma omp atomic write
            fatal = 1;
            continue;
        }
        for (size_t h = g; h < NG; h++)
            if (canon[h] == g)
                for (size_t k = 0; k < G; k++)
                    mc->res[idx(mc, h * G + k, rep)] = out[k];
#pragma omp critical(syf_mc_done)
        {
            for (size_t h = g; h < NG; h++)
                if (canon[h] == g)
                    for (size_t k = 0; k < G; k++)
                        mc->done[idx(mc, h * G + k, rep)] = 1;
            completed++;
            double tn = now_secs();
            if (o->progress && (tn - last_draw >= 0.2 || completed == total)) {
                draw_progress(o->progress_label, completed, total, tn - t0, 0);
                last_draw = tn;
            }
            /* at most every checkpoint_secs, and at most 10 % of the time
             * in saving (a save rewrites every result so far) */
            if (o->checkpoint_path && !save_failed && completed < total &&
                (o->checkpoint_secs <= 0 || tn - last_save >= o->checkpoint_secs) &&
                tn - last_save >= 10 * save_cost) {
                if (syf_mc_save(mc, o->checkpoint_path) != SYF_OK) {
                    save_failed = 1;
                    snprintf(save_msg, sizeof save_msg, "%s", syf_error_message());
                }
                last_save = now_secs();
                save_cost = last_save - tn;
            }
        }
    }
    free(task);
    free(canon);
    if (o->progress && total)
        draw_progress(o->progress_label, completed, total, now_secs() - t0, 1);
    if (fatal)
        return syf_error_set(SYF_ENOMEM, "out of memory in a replication");
    if (save_failed)
        return syf_error_set(SYF_ERUNTIME, "checkpoint: %s", save_msg);
    mc->interrupted = completed < total;
    return SYF_OK;
}

/* ---- results files ----------------------------------------------------- */

static const char hexd[] = "0123456789abcdef";

static void write_row(FILE *f, const syf_mc *mc, size_t i)
{
    const unsigned char *b = (const unsigned char *)&mc->res[i].est;
    fprintf(f, "%zu %" PRIu64 " ", i % mc->n_cells, (uint64_t)(i / mc->n_cells) + 1);
    for (size_t k = 0; k < sizeof mc->res[i].est; k++) {
        fputc(hexd[b[k] >> 4], f);
        fputc(hexd[b[k] & 15], f);
    }
    if (mc->res[i].reason[0])
        fprintf(f, " %s", mc->res[i].reason);
    fputc('\n', f);
}

static void endian_tag(char out[9])
{
    uint32_t v = 0x01020304u;
    const unsigned char *b = (const unsigned char *)&v;
    for (int k = 0; k < 4; k++) {
        out[2 * k] = hexd[b[k] >> 4];
        out[2 * k + 1] = hexd[b[k] & 15];
    }
    out[8] = '\0';
}

static void build_tag(char *buf, size_t n)
{
    char e[9];
    endian_tag(e);
    snprintf(buf, n, "%s/%zu/%s", syf_git_revision(), sizeof(syf_trial_estimate), e);
}

static void write_header(FILE *f, const syf_mc *mc)
{
    char b[64];
    build_tag(b, sizeof b);
    fprintf(f, "# syfosim Monte Carlo results, read by --resume and `syfosim merge` (do not edit)\n");
    fprintf(f, MC_MAGIC "\nbuild %s\nkind %s\nseed %" PRIu64 "\nreps %" PRIu64
                        "\nshard %u/%u\ncells %zu\n",
            b, mc->kind, mc->seed, mc->reps, mc->shard_i, mc->shard_n, mc->n_cells);
    for (size_t c = 0; c < mc->n_cells; c++)
        fprintf(f, "cell %zu %016" PRIx64 " %s\n", c, mc->hash[c], mc->label[c]);
    fprintf(f, "args %s\nrows\n", mc->args);
}

int syf_mc_save(const syf_mc *mc, const char *path)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp)
        return syf_error_set(SYF_EINPUT, "%s: path too long", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return syf_error_set(SYF_ERUNTIME, "%s: cannot create: %s", path, strerror(errno));
    fchmod(fd, 0644);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return syf_error_set(SYF_ERUNTIME, "%s: cannot open: %s", path, strerror(errno));
    }
    write_header(f, mc);
    for (size_t i = 0; i < mc->n_cells * (size_t)mc->reps; i++)
        if (mc->done[i])
            write_row(f, mc, i);
    int bad = fflush(f) != 0 || ferror(f) || fsync(fd) != 0;
    if (fclose(f) != 0 || bad) {
        unlink(tmp);
        return syf_error_set(SYF_ERUNTIME, "%s: write failed", path);
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return syf_error_set(SYF_ERUNTIME, "%s: cannot rename into place: %s", path, strerror(e));
    }
    return SYF_OK;
}

/* A parsed header: the run it describes (a syf_mc without results) and
 * its build tag. */
typedef struct {
    syf_mc *mc;
    char build[64];
} header;

static char *chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int bad_file(const char *path, long line, const char *what)
{
    return syf_error_set(SYF_EINPUT, "%s:%ld: not a syfosim results file (%s)", path, line, what);
}

/* Read the header up to and including the `rows` line. */
static int read_header(FILE *f, const char *path, header *h, long *lineno)
{
    char *line = NULL;
    size_t cap = 0;
    int st = SYF_OK;
    char kind[32] = "";
    uint64_t seed = 0, reps = 0;
    unsigned si = 0, sn = 0;
    size_t ncell = 0, got_cells = 0;
    int stage = 0; /* 0 magic, 1 fields, 2 cells, 3 args, 4 rows */
    memset(h, 0, sizeof *h);
    while (st == SYF_OK && stage < 5 && getline(&line, &cap, f) >= 0) {
        ++*lineno;
        chomp(line);
        if (line[0] == '#')
            continue;
        if (stage == 0) {
            if (strcmp(line, MC_MAGIC))
                st = bad_file(path, *lineno, "expected '" MC_MAGIC "'");
            stage = 1;
        } else if (stage == 1) {
            if (!strncmp(line, "build ", 6))
                snprintf(h->build, sizeof h->build, "%s", line + 6);
            else if (!strncmp(line, "kind ", 5))
                snprintf(kind, sizeof kind, "%s", line + 5);
            else if (sscanf(line, "seed %" SCNu64, &seed) == 1 ||
                     sscanf(line, "reps %" SCNu64, &reps) == 1 ||
                     sscanf(line, "shard %u/%u", &si, &sn) == 2)
                ;
            else if (sscanf(line, "cells %zu", &ncell) == 1) {
                h->mc = syf_mc_alloc(kind[0] ? kind : "?", ncell, reps, seed);
                if (!h->mc)
                    st = ncell && reps ? syf_error_set(SYF_ENOMEM, "out of memory")
                                       : bad_file(path, *lineno, "no cells or replications");
                else if (syf_mc_set_shard(h->mc, si, sn) != SYF_OK)
                    st = bad_file(path, *lineno, "bad shard");
                stage = ncell ? 2 : 3;
            } else
                st = bad_file(path, *lineno, "unexpected header line");
        } else if (stage == 2) {
            size_t c;
            uint64_t hs;
            char lab[64];
            if (sscanf(line, "cell %zu %" SCNx64 " %63s", &c, &hs, lab) != 3 || c != got_cells ||
                syf_mc_set_cell(h->mc, c, hs, lab) != SYF_OK)
                st = bad_file(path, *lineno, "bad cell line");
            else if (++got_cells == ncell)
                stage = 3;
        } else if (stage == 3) {
            if (strncmp(line, "args ", 5) && strcmp(line, "args"))
                st = bad_file(path, *lineno, "expected args");
            else
                st = syf_mc_set_args(h->mc, line[4] ? line + 5 : "");
            stage = 4;
        } else {
            if (strcmp(line, "rows"))
                st = bad_file(path, *lineno, "expected rows");
            stage = 5;
        }
    }
    free(line);
    if (st == SYF_OK && stage < 5)
        st = bad_file(path, *lineno, "truncated header");
    if (st != SYF_OK) {
        syf_mc_free(h->mc);
        h->mc = NULL;
    }
    return st;
}

static int open_results(const char *path, FILE **f)
{
    *f = fopen(path, "r");
    if (!*f)
        return syf_error_set(errno == ENOENT ? SYF_EINPUT : SYF_ERUNTIME, "%s: cannot open: %s",
                             path, strerror(errno));
    return SYF_OK;
}

int syf_mc_read_info(const char *path, syf_mc_info *info)
{
    FILE *f;
    int st = open_results(path, &f);
    if (st != SYF_OK)
        return st;
    header h;
    long ln = 0;
    st = read_header(f, path, &h, &ln);
    fclose(f);
    if (st != SYF_OK)
        return st;
    memset(info, 0, sizeof *info);
    snprintf(info->kind, sizeof info->kind, "%s", h.mc->kind);
    info->seed = h.mc->seed;
    info->reps = h.mc->reps;
    info->shard_index = h.mc->shard_i;
    info->shard_count = h.mc->shard_n;
    info->n_cells = h.mc->n_cells;
    snprintf(info->args, sizeof info->args, "%s", h.mc->args);
    snprintf(info->build, sizeof info->build, "%s", h.build);
    syf_mc_free(h.mc);
    return SYF_OK;
}

/* The header's run must be this run (shard included if check_shard). */
static int same_run(const syf_mc *mc, const header *h, const char *path, int check_shard)
{
    const syf_mc *o = h->mc;
    char b[64];
    build_tag(b, sizeof b);
    const char *what = check_shard ? "checkpoint" : "results";
    if (strcmp(o->kind, mc->kind))
        return syf_error_set(SYF_EINPUT, "%s: %s of `%s`, not of `%s`", path, what, o->kind,
                             mc->kind);
    if (strcmp(h->build, b))
        return syf_error_set(SYF_EINPUT,
                             "%s: written by another syfosim build (%s; this one is %s)", path,
                             h->build, b);
    if (o->seed != mc->seed)
        return syf_error_set(SYF_EINPUT, "%s: %s of seed %" PRIu64 ", this run has seed %" PRIu64,
                             path, what, o->seed, mc->seed);
    if (o->reps != mc->reps)
        return syf_error_set(SYF_EINPUT,
                             "%s: %s of %" PRIu64 " replications, this run has %" PRIu64, path,
                             what, o->reps, mc->reps);
    if (strcmp(o->args, mc->args))
        return syf_error_set(SYF_EINPUT, "%s: %s of options '%s', this run has '%s'", path, what,
                             o->args, mc->args);
    if (o->n_cells != mc->n_cells)
        return syf_error_set(SYF_EINPUT, "%s: %s of %zu cells, this run has %zu", path, what,
                             o->n_cells, mc->n_cells);
    for (size_t c = 0; c < mc->n_cells; c++)
        if (o->hash[c] != mc->hash[c] || strcmp(o->label[c], mc->label[c]))
            return syf_error_set(SYF_EINPUT,
                                 "%s: %s of scenario hash %016" PRIx64 " (%s), this run has "
                                 "%016" PRIx64 " (%s): the scenario or its --set values differ",
                                 path, what, o->hash[c], o->label[c], mc->hash[c], mc->label[c]);
    if (check_shard && (o->shard_i != mc->shard_i || o->shard_n != mc->shard_n))
        return syf_error_set(SYF_EINPUT, "%s: %s of shard %u/%u, this run is shard %u/%u", path,
                             what, o->shard_i, o->shard_n, mc->shard_i, mc->shard_n);
    return SYF_OK;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Read the rows into mc; with `merge`, a row already present is an error. */
static int read_rows(FILE *f, const char *path, long ln, syf_mc *mc, int merge)
{
    char *line = NULL;
    size_t cap = 0;
    int st = SYF_OK;
    const size_t nb = sizeof(syf_trial_estimate);
    while (st == SYF_OK && getline(&line, &cap, f) >= 0) {
        ln++;
        chomp(line);
        size_t c;
        uint64_t r;
        int pos = 0;
        if (sscanf(line, "%zu %" SCNu64 " %n", &c, &r, &pos) != 2 || c >= mc->n_cells || r < 1 ||
            r > mc->reps) {
            st = bad_file(path, ln, "bad row");
            break;
        }
        const char *p = line + pos;
        if (strlen(p) < 2 * nb || (p[2 * nb] && p[2 * nb] != ' ')) {
            st = bad_file(path, ln, "bad record");
            break;
        }
        syf_mc_rep rec;
        memset(&rec, 0, sizeof rec);
        unsigned char *b = (unsigned char *)&rec.est;
        for (size_t k = 0; k < nb; k++) {
            int hi = hexval(p[2 * k]), lo = hexval(p[2 * k + 1]);
            if (hi < 0 || lo < 0) {
                st = bad_file(path, ln, "bad record");
                break;
            }
            b[k] = (unsigned char)(hi << 4 | lo);
        }
        if (st != SYF_OK)
            break;
        set_reason(rec.reason, p[2 * nb] ? p + 2 * nb + 1 : "");
        size_t i = idx(mc, c, r);
        if (merge && mc->done[i]) {
            st = syf_error_set(SYF_EINPUT,
                               "%s:%ld: replication %" PRIu64 " of %s is already in another "
                               "input (overlapping shards)",
                               path, ln, r, mc->label[c]);
            break;
        }
        mc->res[i] = rec;
        mc->done[i] = 1;
    }
    free(line);
    if (st == SYF_OK && ferror(f))
        st = syf_error_set(SYF_ERUNTIME, "%s: read error", path);
    return st;
}

static int load_file(syf_mc *mc, const char *path, int merge)
{
    FILE *f;
    int st = open_results(path, &f);
    if (st != SYF_OK)
        return st;
    header h;
    long ln = 0;
    st = read_header(f, path, &h, &ln);
    if (st == SYF_OK)
        st = same_run(mc, &h, path, !merge);
    if (st == SYF_OK)
        st = read_rows(f, path, ln, mc, merge);
    syf_mc_free(h.mc);
    fclose(f);
    return st;
}

int syf_mc_load(syf_mc *mc, const char *path) { return load_file(mc, path, 0); }
int syf_mc_merge(syf_mc *mc, const char *path) { return load_file(mc, path, 1); }

int syf_mc_check_complete(const syf_mc *mc)
{
    size_t missing = 0, first = SIZE_MAX;
    for (size_t i = 0; i < mc->n_cells * (size_t)mc->reps; i++)
        if (!mc->done[i]) {
            missing++;
            if (first == SIZE_MAX)
                first = i;
        }
    if (!missing)
        return SYF_OK;
    return syf_error_set(SYF_EINPUT,
                         "%zu of %zu results (%zu cells x %" PRIu64 " replications) missing, "
                         "the first is replication %" PRIu64 " of %s (a shard is missing or "
                         "incomplete)",
                         missing, mc->n_cells * (size_t)mc->reps, mc->n_cells, mc->reps,
                         (uint64_t)(first / mc->n_cells) + 1, mc->label[first % mc->n_cells]);
}

/* ---- summaries ----------------------------------------------------------- */

void syf_mc_results(const syf_mc *mc, size_t cell, syf_rep_result *out)
{
    for (uint64_t r = 1; r <= mc->reps; r++) {
        syf_rep_result *x = &out[r - 1];
        size_t i = idx(mc, cell, r);
        if (!mc->done[i]) {
            *x = (syf_rep_result){NAN, NAN, NAN, NAN, NAN, NAN, 1, SYF_ERUNTIME};
            continue;
        }
        const syf_trial_estimate *e = &mc->res[i].est;
        x->estimand = e->estimand;
        x->estimate = e->estimate;
        x->std_error = e->std_error;
        x->conf_low = e->conf_low;
        x->conf_high = e->conf_high;
        x->p_value = e->p_value;
        x->failed = e->status != SYF_OK;
        x->reason = e->status;
    }
}

int syf_mc_diagnose(const syf_mc *mc, size_t cell, double alpha, syf_diagnosis *d)
{
    syf_rep_result *rr = malloc((size_t)mc->reps * sizeof *rr);
    if (!rr)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    syf_mc_results(mc, cell, rr);
    int st = syf_diagnosands_compute(rr, (size_t)mc->reps, alpha, d);
    free(rr);
    return st;
}

int syf_mc_write_replicates(FILE *f, const syf_mc *mc, size_t cell, const char *prefix)
{
    for (uint64_t r = 1; r <= mc->reps; r++) {
        size_t i = idx(mc, cell, r);
        if (!mc->done[i]) {
            fprintf(f, "%s,%" PRIu64 ",missing,,,,,,,,,,\"not run\"\n", prefix, r);
            continue;
        }
        const syf_trial_estimate *e = &mc->res[i].est;
        fprintf(f, "%s,%" PRIu64 ",%s,", prefix, r, e->status == SYF_OK ? "ok" : "failed");
        if (e->status == SYF_OK)
            fprintf(f, "%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,", e->estimate, e->std_error, e->df,
                    e->p_value, e->conf_low, e->conf_high);
        else
            fprintf(f, ",,,,,,");
        fprintf(f, "%.10g,%zu,%zu,\"%s\"\n", e->estimand, e->n, e->clusters, mc->res[i].reason);
    }
    return ferror(f) ? syf_error_set(SYF_ERUNTIME, "write error") : SYF_OK;
}

/* ---- driving a run ------------------------------------------------------- */

static void checkpoint_base(const syf_mc *mc, const syf_mc_drive_opts *o, char *buf, size_t n)
{
    if (mc->shard_n > 1)
        snprintf(buf, n, "%s/.%s-shard-%u-of-%u.ckpt", o->dir, o->name, mc->shard_i,
                 mc->shard_n);
    else
        snprintf(buf, n, "%s/.%s.ckpt", o->dir, o->name);
}

/* Load BASE and BASE.rank* if present; *found counts the files. */
static int load_checkpoints(syf_mc *mc, const char *base, int *found)
{
    int st = SYF_OK;
    *found = 0;
    if (access(base, F_OK) == 0) {
        if ((st = syf_mc_load(mc, base)) != SYF_OK)
            return st;
        ++*found;
    }
    char pat[4200];
    snprintf(pat, sizeof pat, "%s.rank*", base);
    glob_t g;
    if (glob(pat, 0, NULL, &g) == 0) {
        for (size_t k = 0; st == SYF_OK && k < g.gl_pathc; k++) {
            if (strstr(g.gl_pathv[k], ".tmp."))
                continue; /* a save that was itself interrupted */
            st = syf_mc_load(mc, g.gl_pathv[k]);
            ++*found;
        }
        globfree(&g);
    }
    return st;
}

void syf_mc_remove_checkpoints(const syf_mc *mc, const syf_mc_drive_opts *o)
{
    char base[4096], pat[4200];
    checkpoint_base(mc, o, base, sizeof base);
    unlink(base);
    for (int k = 0; k < 2; k++) { /* rank files, and saves cut short by kill -9 */
        snprintf(pat, sizeof pat, k ? "%s.tmp.*" : "%s.rank*", base);
        glob_t g;
        if (glob(pat, 0, NULL, &g) == 0) {
            for (size_t j = 0; j < g.gl_pathc; j++)
                unlink(g.gl_pathv[j]);
            globfree(&g);
        }
    }
}

int syf_mc_drive(syf_mc *mc, const syf_mc_drive_opts *o, int *interrupted)
{
    char base[4096], path[4200];
    int st = SYF_OK;
    *interrupted = 0;
    checkpoint_base(mc, o, base, sizeof base);
    if (mc->size > 1)
        snprintf(path, sizeof path, "%s.rank%d", base, mc->rank);
    else
        snprintf(path, sizeof path, "%s", base);
    if (o->resume) {
        int found;
        st = load_checkpoints(mc, base, &found);
        if (st == SYF_EINPUT) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", syf_error_message());
            st = syf_error_set(SYF_EINPUT, "%s (run without --resume to start over)", msg);
        }
        if (st != SYF_OK)
            return st;
        if (mc->rank == 0) {
            if (found)
                fprintf(stderr, "syfosim %s: resuming: %zu of %zu replications already done\n",
                        o->name, syf_mc_n_done(mc, 0), mc->n_cells * (size_t)mc->reps);
            else
                fprintf(stderr, "syfosim %s: --resume: no checkpoint %s, starting from the "
                                "beginning\n",
                        o->name, base);
        }
    }
    syf_mc_opts ro = o->run;
    ro.checkpoint_path = path;
    if (!ro.progress_label)
        ro.progress_label = o->name;
    st = syf_mc_run(mc, &ro);
    long stopped = st == SYF_OK && mc->interrupted, failed = st != SYF_OK;
    syf_mc_mpi_allsum(&stopped);
    syf_mc_mpi_allsum(&failed);
    if (st != SYF_OK)
        return st;
    if (failed)
        return syf_error_set(SYF_ERUNTIME, "a replication failed on another MPI rank");
    if (stopped) {
        *interrupted = 1;
        if ((st = syf_mc_save(mc, path)) != SYF_OK)
            return st;
        long done = (long)syf_mc_n_done(mc, 1);
        syf_mc_mpi_allsum(&done);
        if (mc->rank == 0)
            fprintf(stderr,
                    "syfosim %s: interrupted after %ld of %zu replications; checkpoint %s%s; "
                    "continue with --resume\n",
                    o->name, done,
                    mc->n_cells * (size_t)mc->reps, base, mc->size > 1 ? ".rank*" : "");
        return SYF_OK;
    }
    return syf_mc_gather(mc);
}

/* ---- MPI ------------------------------------------------------------------ */

#ifdef SYF_HAVE_MPI
static int mpi_started;

int syf_mc_mpi_begin(int *rank, int *size)
{
    *rank = 0;
    *size = 1;
    /* Only when launched by mpirun: a plain run stays a plain process. */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMI_SIZE") && !getenv("PMIX_RANK"))
        return SYF_OK;
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        int provided;
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return syf_error_set(SYF_ERUNTIME, "MPI_Init failed");
        mpi_started = 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return SYF_OK;
}

void syf_mc_mpi_end(void)
{
    if (mpi_started) {
        MPI_Finalize();
        mpi_started = 0;
    }
}

int syf_mc_mpi_allsum(long *v)
{
    if (!mpi_started)
        return SYF_OK;
    long in = *v;
    return MPI_Allreduce(&in, v, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD) == MPI_SUCCESS
               ? SYF_OK
               : syf_error_set(SYF_ERUNTIME, "MPI_Allreduce failed");
}

/* Every rank sends the rows it owns, as text (the results-file rows), and
 * reads everyone else's. */
int syf_mc_gather(syf_mc *mc)
{
    if (!mpi_started || mc->size < 2)
        return SYF_OK;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return syf_error_set(SYF_ENOMEM, "out of memory");
    for (size_t i = 0; i < mc->n_cells * (size_t)mc->reps; i++)
        if (mc->done[i] && syf_mc_owns(mc, (uint64_t)(i / mc->n_cells) + 1))
            write_row(m, mc, i);
    fclose(m);
    int st = SYF_OK;
    int *counts = calloc((size_t)mc->size, sizeof *counts);
    int *displs = calloc((size_t)mc->size, sizeof *displs);
    char *all = NULL;
    if (!counts || !displs)
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK && len > (size_t)INT32_MAX)
        st = syf_error_set(SYF_ERUNTIME, "MPI gather: results too large");
    int n = (int)len;
    if (st == SYF_OK &&
        MPI_Allgather(&n, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD) != MPI_SUCCESS)
        st = syf_error_set(SYF_ERUNTIME, "MPI_Allgather failed");
    size_t tot = 0;
    if (st == SYF_OK) {
        for (int k = 0; k < mc->size; k++) {
            displs[k] = (int)tot;
            tot += (size_t)counts[k];
        }
        if (tot > (size_t)INT32_MAX)
            st = syf_error_set(SYF_ERUNTIME, "MPI gather: results too large");
    }
    if (st == SYF_OK && !(all = malloc(tot + 1)))
        st = syf_error_set(SYF_ENOMEM, "out of memory");
    if (st == SYF_OK && MPI_Allgatherv(buf, n, MPI_CHAR, all, counts, displs, MPI_CHAR,
                                       MPI_COMM_WORLD) != MPI_SUCCESS)
        st = syf_error_set(SYF_ERUNTIME, "MPI_Allgatherv failed");
    if (st == SYF_OK) {
        FILE *in = fmemopen(all, tot ? tot : 1, "r");
        if (!in)
            st = syf_error_set(SYF_ENOMEM, "out of memory");
        else {
            if (tot)
                st = read_rows(in, "MPI gather", 0, mc, 0);
            fclose(in);
        }
    }
    free(all);
    free(counts);
    free(displs);
    free(buf);
    return st;
}
#else
int syf_mc_mpi_begin(int *rank, int *size)
{
    *rank = 0;
    *size = 1;
    return SYF_OK;
}
void syf_mc_mpi_end(void) {}
int syf_mc_mpi_allsum(long *v)
{
    (void)v;
    return SYF_OK;
}
int syf_mc_gather(syf_mc *mc)
{
    (void)mc;
    return SYF_OK;
}
#endif
