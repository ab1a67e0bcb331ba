/* office.h — one NAV office simulated as a whole: persons, their spells and
 * the waiting lists of the office's teams.
 *
 * Without teams a person's history depends on their own random numbers
 * only (world.h).  With teams (team_rph, team_cbt, team_ips, team_nav) the
 * persons of an office compete for the teams' places: each team has
 * round(fte x caseload) places; a referred person joins the team's waiting
 * list and starts when a place is free and it is their turn (queue
 * discipline fifo, priority or random); a person who is back at work before
 * their turn leaves the list (withdrawn), and one who waited
 * team.max_wait_days leaves unserved (expired).  A service holds its place
 * for sessions x interval_days, or until the spell ends, and changes the
 * recovery hazard from its start (hazard ratio by diagnosis, optional decay
 * and weakening by the wait).
 *
 * This is an event simulation per office: events are referrals, places
 * freed and spell ends, processed in time order (ties in a fixed order);
 * a person's history is suspended at a spell with referrals and resumed
 * when that spell ends.  A spell's exit time before a service starts does
 * not depend on the service, so it is known when the person joins a list.
 * Cost grows with spells and referrals, not with persons x days.  Offices
 * are independent, so replications and threads give identical results.
 */
#ifndef SYFOSIM_OFFICE_H
#define SYFOSIM_OFFICE_H

#include "syfosim/world.h"

#include <stddef.h>
#include <stdint.h>

typedef struct syf_office_ws syf_office_ws;

/* Called once per person of the office, in person order, with the
 * person's spells and services (referrals, served or not). */
typedef void (*syf_office_fn)(void *ctx, const syf_world *w, size_t person,
                              const syf_spell *spells, size_t n_spells, int32_t exited,
                              const syf_service *services, size_t n_services);

syf_office_ws *syf_office_ws_alloc(void);
void syf_office_ws_free(syf_office_ws *ws);

/* Simulate every person of office o in world version arm (SYF_ARM_*).
 * w->trial_only is ignored: with waiting lists every referral matters.
 * Returns SYF_OK or SYF_ENOMEM. */
int syf_office_run(const syf_world *w, size_t o, int arm, syf_office_ws *ws, syf_office_fn fn,
                   void *ctx);

/* Places of team t in an office (0 when the team does not exist). */
size_t syf_office_team_places(const syf_scenario *sc, int t);

#endif
