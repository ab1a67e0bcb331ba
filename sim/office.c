/* office.c — event simulation of one office with team waiting lists (see
 * office.h).  The spell mechanics live in world.c (world_internal.h); this
 * file owns the order in which spells of different persons meet the
 * teams: a heap of events (spell ends, places freed, referrals) and one
 * waiting list (a heap on the queue key) per team.
 *
 * Storage is a workspace reused across offices: persons who never meet a
 * team are simulated in one go and their spells appended to an arena;
 * a person suspended at a spell with referrals gets a block of spells of
 * their own.  Nothing is allocated per event once the arrays have grown.
 */
#include "syfosim/office.h"
#include "syfosim/error.h"
#include "world_internal.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK_SPELLS = 256 };
enum { EV_SPELL_END = 0, EV_SLOT_FREE = 1, EV_REFERRAL = 2 };

typedef struct {
    int32_t day;
    uint8_t type;
    uint32_t a;   /* person (local index) or service record */
    uint32_t b;   /* referral index, or record version */
    uint32_t ver; /* spell version (spell end), spell number (referral) */
    uint64_t seq;
} event;

typedef struct {
    double key;
    uint64_t seq;
    uint32_t rec;
} waiter;

typedef struct {
    int32_t t, exited;
    uint32_t k;        /* next spell number */
    uint32_t n;        /* spells so far */
    uint32_t block;    /* UINT32_MAX: spells in the arena at arena_first */
    uint32_t arena_first;
    uint32_t active;   /* index into ws->act, UINT32_MAX none */
    uint32_t ver;      /* version of the active spell's end event */
    uint8_t after_return, done;
} person_rt;

typedef struct {
    spell_state st;
    int32_t rec[SYF_N_TEAM]; /* record of each referral, -1 none yet */
    uint32_t j;
} active_spell;

typedef struct {
    syf_service s;
    uint32_t j, slot_ver;
    uint32_t act; /* active spell while pending or served */
} record;

typedef struct {
    waiter *h;
    size_t n, cap;
    size_t places, busy;
} team_rt;

struct syf_office_ws {
    person_rt *pr;
    size_t pr_cap;
    syf_spell *arena, *blocks, *scratch;
    size_t arena_n, arena_cap, blocks_n, blocks_cap;
    active_spell *act;
    uint32_t *act_free;
    size_t act_n, act_cap, act_free_n;
    event *ev;
    size_t ev_n, ev_cap;
    record *rec;
    size_t rec_n, rec_cap;
    syf_service *out;
    size_t *out_first;
    size_t out_cap, out_first_cap;
    team_rt team[SYF_N_TEAM];
    uint64_t seq;
    int failed;
};

#define GROW(ptr, cap, need)                                                                     \
    do {                                                                                         \
        if ((need) > (cap)) {                                                                    \
            size_t nc_ = (cap) ? (cap) : 64;                                                     \
            while (nc_ < (need))                                                                 \
                nc_ *= 2;                                                                        \
            void *p_ = realloc((ptr), nc_ * sizeof *(ptr));                                      \
            if (!p_) {                                                                           \
                ws->failed = 1;                                                                  \
                return;                                                                          \
            }                                                                                    \
            (ptr) = p_;                                                                          \
            (cap) = nc_;                                                                         \
        }                                                                                        \
    } while (0)

syf_office_ws *syf_office_ws_alloc(void)
{
    syf_office_ws *ws = calloc(1, sizeof *ws);
    if (ws && !(ws->scratch = malloc(BLOCK_SPELLS * sizeof *ws->scratch))) {
        free(ws);
        ws = NULL;
    }
    return ws;
}

void syf_office_ws_free(syf_office_ws *ws)
{
    if (!ws)
        return;
    free(ws->pr);
    free(ws->arena);
    free(ws->blocks);
    free(ws->scratch);
    free(ws->act);
    free(ws->act_free);
    free(ws->ev);
    free(ws->rec);
    free(ws->out);
    free(ws->out_first);
    for (int t = 0; t < SYF_N_TEAM; t++)
        free(ws->team[t].h);
    free(ws);
}

size_t syf_office_team_places(const syf_scenario *sc, int t)
{
    const syf_team_params *tp = &sc->team[t];
    if (!(tp->fte > 0))
        return 0;
    long p = lround(tp->fte * tp->caseload);
    return p < 1 ? 1 : (size_t)p;
}

/* ---- heaps ---------------------------------------------------------------- */

static int ev_less(const event *a, const event *b)
{
    if (a->day != b->day)
        return a->day < b->day;
    if (a->type != b->type)
        return a->type < b->type;
    return a->seq < b->seq;
}

static void ev_push(syf_office_ws *ws, event e)
{
    GROW(ws->ev, ws->ev_cap, ws->ev_n + 1);
    e.seq = ws->seq++;
    size_t i = ws->ev_n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!ev_less(&e, &ws->ev[p]))
            break;
        ws->ev[i] = ws->ev[p];
        i = p;
    }
    ws->ev[i] = e;
}

static event ev_pop(syf_office_ws *ws)
{
    event top = ws->ev[0], last = ws->ev[--ws->ev_n];
    size_t i = 0, n = ws->ev_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && ev_less(&ws->ev[c + 1], &ws->ev[c]))
            c++;
        if (!ev_less(&ws->ev[c], &last))
            break;
        ws->ev[i] = ws->ev[c];
        i = c;
    }
    if (n)
        ws->ev[i] = last;
    return top;
}

static int w_less(const waiter *a, const waiter *b)
{
    if (a->key != b->key)
        return a->key < b->key;
    return a->seq < b->seq;
}

static void w_push(syf_office_ws *ws, team_rt *tm, waiter x)
{
    GROW(tm->h, tm->cap, tm->n + 1);
    x.seq = ws->seq++;
    size_t i = tm->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!w_less(&x, &tm->h[p]))
            break;
        tm->h[i] = tm->h[p];
        i = p;
    }
    tm->h[i] = x;
}

static waiter w_pop(team_rt *tm)
{
    waiter top = tm->h[0], last = tm->h[--tm->n];
    size_t i = 0, n = tm->n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && w_less(&tm->h[c + 1], &tm->h[c]))
            c++;
        if (!w_less(&tm->h[c], &last))
            break;
        tm->h[i] = tm->h[c];
        i = c;
    }
    if (n)
        tm->h[i] = last;
    return top;
}

/* ---- persons ---------------------------------------------------------- */

typedef struct {
    const syf_world *w;
    size_t first; /* first person of the office */
    int arm;
    syf_office_ws *ws;
} office_ctx;

static syf_spell *person_spells(syf_office_ws *ws, const person_rt *p)
{
    if (p->block != UINT32_MAX)
        return ws->blocks + (size_t)p->block * BLOCK_SPELLS;
    return ws->scratch;
}

static void advance(office_ctx *c, uint32_t j);

/* Give person j a block of their own (copying what is in the scratch). */
static void suspend_storage(office_ctx *c, person_rt *p)
{
    syf_office_ws *ws = c->ws;
    if (p->block != UINT32_MAX)
        return;
    GROW(ws->blocks, ws->blocks_cap, (ws->blocks_n + 1) * BLOCK_SPELLS);
    p->block = (uint32_t)ws->blocks_n++;
    memcpy(ws->blocks + (size_t)p->block * BLOCK_SPELLS, ws->scratch, p->n * sizeof *ws->scratch);
}

static uint32_t act_alloc(syf_office_ws *ws)
{
    if (ws->act_free_n)
        return ws->act_free[--ws->act_free_n];
    if (ws->act_n == ws->act_cap) {
        size_t nc = ws->act_cap ? 2 * ws->act_cap : 64;
        void *a = realloc(ws->act, nc * sizeof *ws->act);
        void *b = a ? realloc(ws->act_free, nc * sizeof *ws->act_free) : NULL;
        if (a)
            ws->act = a;
        if (!a || !b) {
            ws->failed = 1;
            return UINT32_MAX;
        }
        ws->act_free = b;
        ws->act_cap = nc;
    }
    return (uint32_t)ws->act_n++;
}

/* The spell is over: settle its referrals and append it. */
static void spell_done(office_ctx *c, uint32_t j, int32_t day)
{
    syf_office_ws *ws = c->ws;
    const syf_world *w = c->w;
    person_rt *p = &ws->pr[j];
    active_spell *as = &ws->act[p->active];
    spell_state *st = &as->st;
    for (int r = 0; r < st->n_ref; r++) {
        if (as->rec[r] < 0)
            continue;
        record *rc = &ws->rec[as->rec[r]];
        const syf_team_params *tp = &w->sc->team[rc->s.team];
        if (rc->s.outcome == SYF_SVC_PENDING) {
            if (tp->max_wait_days > 0 && day - rc->s.referred > tp->max_wait_days) {
                rc->s.outcome = SYF_SVC_EXPIRED;
                rc->s.left = rc->s.referred + (int32_t)tp->max_wait_days;
            } else {
                rc->s.outcome = SYF_SVC_WITHDRAWN;
                rc->s.left = day;
            }
        } else if (rc->s.outcome == SYF_SVC_SERVED) {
            rc->s.hours = (float)world_service_hours(w->sc, rc->s.team, rc->s.left, rc->s.end);
        }
    }
    spell_finish(w, st);
    syf_spell *sp = person_spells(ws, p);
    sp[p->n++] = st->sp;
    ws->act_free[ws->act_free_n++] = p->active;
    p->active = UINT32_MAX;
    int after = p->after_return;
    if (!world_after_spell(w, &st->sp, &p->t, &after, &p->exited))
        p->done = 1;
    p->after_return = (uint8_t)after;
}

/* Simulate person j forward until a spell with referrals, or the end. */
static void advance(office_ctx *c, uint32_t j)
{
    syf_office_ws *ws = c->ws;
    const syf_world *w = c->w;
    person_rt *p = &ws->pr[j];
    const size_t i = c->first + j;
    while (!p->done && !ws->failed) {
        if (p->n >= BLOCK_SPELLS) {
            p->done = 1;
            break;
        }
        const int32_t start = world_next_onset(w, i, world_onset_draw(w, i, p->k), p->t,
                                               p->after_return, c->arm);
        if (start >= w->end) {
            p->done = 1;
            break;
        }
        syf_spell *sp = person_spells(ws, p);
        uint32_t a = act_alloc(ws);
        if (a == UINT32_MAX)
            return;
        active_spell *as = &ws->act[a];
        spell_begin(w, i, p->k, start, c->arm, world_recurrent_count(w, sp, p->n, start),
                    &as->st);
        p->k++;
        p->active = a;
        if (as->st.n_ref == 0) {
            spell_done(c, j, 0);
            continue;
        }
        /* suspend at this spell */
        suspend_storage(c, p);
        as->j = j;
        for (int r = 0; r < as->st.n_ref; r++) {
            as->rec[r] = -1;
            if (as->st.ref[r].day < w->end)
                ev_push(ws, (event){as->st.ref[r].day, EV_REFERRAL, j, (uint32_t)r,
                                    (uint32_t)(p->k - 1), 0});
        }
        p->ver++;
        ev_push(ws, (event){spell_exit_day(w, &as->st), EV_SPELL_END, j, 0, p->ver, 0});
        return;
    }
    if (p->block == UINT32_MAX && !ws->failed && p->n > 0) { /* never suspended: to the arena */
        GROW(ws->arena, ws->arena_cap, ws->arena_n + p->n);
        memcpy(ws->arena + ws->arena_n, ws->scratch, p->n * sizeof *ws->scratch);
        p->arena_first = (uint32_t)ws->arena_n;
        ws->arena_n += p->n;
    } else if (p->block == UINT32_MAX) {
        p->arena_first = (uint32_t)ws->arena_n;
    }
}

/* Start services of team t on day d while places are free. */
static void try_start(office_ctx *c, int t, int32_t d)
{
    syf_office_ws *ws = c->ws;
    const syf_world *w = c->w;
    team_rt *tm = &ws->team[t];
    const syf_team_params *tp = &w->sc->team[t];
    while (tm->busy < tm->places && tm->n > 0 && !ws->failed) {
        waiter x = w_pop(tm);
        record *rc = &ws->rec[x.rec];
        if (rc->s.outcome != SYF_SVC_PENDING)
            continue;
        if (tp->max_wait_days > 0 && d - rc->s.referred > tp->max_wait_days) {
            rc->s.outcome = SYF_SVC_EXPIRED;
            rc->s.left = rc->s.referred + (int32_t)tp->max_wait_days;
            continue;
        }
        active_spell *as = &ws->act[rc->act];
        spell_state *st = &as->st;
        rc->s.outcome = SYF_SVC_SERVED;
        rc->s.left = d;
        st->svc[st->n_svc++] = (spell_service){(uint8_t)t, d, rc->s.referred};
        spell_exit(w, st);
        const int32_t back = spell_exit_day(w, st);
        tm->busy++;
        /* the spell's served services hold their places until min(dose, end) */
        for (int r = 0; r < st->n_ref; r++) {
            if (as->rec[r] < 0)
                continue;
            record *q = &ws->rec[as->rec[r]];
            if (q->s.outcome != SYF_SVC_SERVED)
                continue;
            const syf_team_params *qp = &w->sc->team[q->s.team];
            int32_t end = q->s.left + (int32_t)ceil(qp->sessions * (double)qp->interval_days);
            if (end > back)
                end = back;
            if (end <= q->s.left)
                end = q->s.left + 1;
            if (q == rc || end != q->s.end) {
                if (q != rc && q->s.end <= d)
                    continue; /* already over */
                q->s.end = end;
                q->slot_ver++;
                ev_push(ws, (event){end, EV_SLOT_FREE, as->rec[r], q->slot_ver, 0, 0});
            }
        }
        ws->pr[as->j].ver++;
        ev_push(ws, (event){back, EV_SPELL_END, as->j, 0, ws->pr[as->j].ver, 0});
    }
}

static void on_referral(office_ctx *c, const event *e)
{
    syf_office_ws *ws = c->ws;
    person_rt *p = &ws->pr[e->a];
    if (p->active == UINT32_MAX || p->k - 1 != e->ver)
        return; /* that spell is over */
    active_spell *as = &ws->act[p->active];
    if (spell_exit_day(c->w, &as->st) <= e->day)
        return; /* back at work before the referral */
    const spell_referral *rf = &as->st.ref[e->b];
    GROW(ws->rec, ws->rec_cap, ws->rec_n + 1);
    record *rc = &ws->rec[ws->rec_n];
    memset(rc, 0, sizeof *rc);
    rc->s.person = (uint32_t)(c->first + e->a);
    rc->s.spell = (uint16_t)(p->k - 1);
    rc->s.team = rf->team;
    rc->s.outcome = SYF_SVC_PENDING;
    rc->s.referred = e->day;
    rc->s.left = -1;
    rc->s.end = -1;
    rc->j = e->a;
    rc->act = p->active;
    as->rec[e->b] = (int32_t)ws->rec_n;
    ws->rec_n++;
    w_push(ws, &ws->team[rf->team], (waiter){rf->key, 0, (uint32_t)(ws->rec_n - 1)});
    try_start(c, rf->team, e->day);
}

int syf_office_run(const syf_world *w, size_t o, int arm, syf_office_ws *ws, syf_office_fn fn,
                   void *ctx)
{
    const syf_population *pop = w->pop;
    const size_t first = pop->office_first[o], n = pop->office_first[o + 1] - first;
    office_ctx c = {w, first, arm, ws};
    syf_world wl = *w;
    wl.trial_only = 0;
    c.w = &wl;
    ws->failed = 0;
    ws->arena_n = ws->blocks_n = ws->act_n = ws->act_free_n = ws->ev_n = ws->rec_n = 0;
    ws->seq = 0;
    for (int t = 0; t < SYF_N_TEAM; t++) {
        ws->team[t].n = ws->team[t].busy = 0;
        ws->team[t].places = syf_office_team_places(w->sc, t);
    }
    if (n > ws->pr_cap) {
        void *a = realloc(ws->pr, n * sizeof *ws->pr);
        if (!a)
            return syf_error_set(SYF_ENOMEM, "out of memory simulating office %zu", o);
        ws->pr = a;
        ws->pr_cap = n;
    }
    for (size_t j = 0; j < n; j++) {
        person_rt *p = &ws->pr[j];
        memset(p, 0, sizeof *p);
        p->exited = INT32_MAX;
        p->block = UINT32_MAX;
        p->active = UINT32_MAX;
        advance(&c, (uint32_t)j);
    }
    while (ws->ev_n > 0 && !ws->failed) {
        event e = ev_pop(ws);
        switch (e.type) {
        case EV_SPELL_END: {
            person_rt *p = &ws->pr[e.a];
            if (p->active == UINT32_MAX || e.ver != p->ver)
                break;
            spell_done(&c, e.a, e.day);
            advance(&c, e.a);
            break;
        }
        case EV_SLOT_FREE: {
            record *rc = &ws->rec[e.a];
            if (e.b != rc->slot_ver)
                break;
            rc->slot_ver++; /* freed once */
            ws->team[rc->s.team].busy--;
            try_start(&c, rc->s.team, e.day);
            break;
        }
        default:
            on_referral(&c, &e);
        }
    }
    if (ws->failed)
        return syf_error_set(SYF_ENOMEM, "out of memory simulating office %zu", o);

    /* services grouped by person (stable: in referral order) */
    if (ws->rec_n > ws->out_cap) {
        void *a = realloc(ws->out, ws->rec_n * sizeof *ws->out);
        if (!a)
            return syf_error_set(SYF_ENOMEM, "out of memory simulating office %zu", o);
        ws->out = a;
        ws->out_cap = ws->rec_n;
    }
    if (n + 1 > ws->out_first_cap) {
        void *a = realloc(ws->out_first, (n + 1) * sizeof *ws->out_first);
        if (!a)
            return syf_error_set(SYF_ENOMEM, "out of memory simulating office %zu", o);
        ws->out_first = a;
        ws->out_first_cap = n + 1;
    }
    memset(ws->out_first, 0, (n + 1) * sizeof *ws->out_first);
    for (size_t r = 0; r < ws->rec_n; r++)
        ws->out_first[ws->rec[r].j + 1]++;
    for (size_t j = 0; j < n; j++)
        ws->out_first[j + 1] += ws->out_first[j];
    for (size_t r = 0; r < ws->rec_n; r++) {
        const record *rc = &ws->rec[r];
        ws->out[ws->out_first[rc->j]++] = rc->s;
    }
    for (size_t j = n; j > 0; j--)
        ws->out_first[j] = ws->out_first[j - 1];
    ws->out_first[0] = 0;

    if (fn)
        for (size_t j = 0; j < n; j++) {
            const person_rt *p = &ws->pr[j];
            const syf_spell *sp = p->block != UINT32_MAX
                                      ? ws->blocks + (size_t)p->block * BLOCK_SPELLS
                                  : ws->arena ? ws->arena + p->arena_first
                                              : ws->scratch;
            const size_t nsv = ws->out_first[j + 1] - ws->out_first[j];
            fn(ctx, w, first + j, sp, p->n, p->exited, nsv ? ws->out + ws->out_first[j] : NULL,
               nsv);
        }
    return SYF_OK;
}
