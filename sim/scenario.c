/* scenario.c — the scenario key table, INI parsing (libinih), validation,
 * `explain` output and the scenario hash.  See scenario.h.
 *
 * Every key lives in syf_keys[] below with its default, range, meaning and
 * source.  Parsing goes through ini_parse_stream() with our own line reader
 * so that every error can name FILE:LINE.
 */
#include "syfosim/scenario.h"
#include "syfosim/error.h"
#include "scenario_keys.h"

#include <errno.h>
#include <sys/types.h>
#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const syf_age_labels[SYF_N_AGE] = {"16-19", "20-24", "25-29", "30-34",
                                               "35-39", "40-44", "45-49", "50-54",
                                               "55-59", "60-64", "65-69"};
const char *const syf_county_names[SYF_N_COUNTY] = {
    "Oslo",     "Vestland", "Akershus", "Rogaland",        "Trondelag",
    "Innlandet", "Agder",   "More og Romsdal", "Ostfold", "Buskerud",
    "Nordland", "Vestfold", "Troms",    "Telemark",        "Finnmark"};
const char *const syf_industry_names[SYF_N_INDUSTRY] = {
    "health_social", "retail",   "construction", "manufacturing", "education",
    "transport",     "public_admin", "knowledge", "other"};
const char *const syf_diag_names[SYF_N_DIAG] = {"L", "P", "R", "other"};
const char *const syf_team_names[SYF_N_TEAM] = {"rph", "cbt", "ips", "nav"};
const char *const syf_team_professions[SYF_N_TEAM] = {"rph_therapist", "cognitive_therapist",
                                                      "job_specialist", "nav_veileder"};
const int syf_hazard_knots[SYF_N_PIECES] = {0,  3,  7,   11,  16,  21,  28,  42,
                                            56, 84, 119, 182, 238, 273, 322, 350};

#define OFF(f) offsetof(syf_scenario, f)
#define KINT(s, k, f, d, lo, hi, doc, src) {s, k, SYF_KT_INT, OFF(f), 1, d, lo, hi, NULL, 0, doc, src}
#define KREAL(s, k, f, d, lo, hi, doc, src) {s, k, SYF_KT_REAL, OFF(f), 1, d, lo, hi, NULL, 0, doc, src}
#define KLIST(s, k, f, n, d, lo, hi, fl, doc, src) {s, k, SYF_KT_LIST, OFF(f), n, d, lo, hi, NULL, fl, doc, src}
#define KENUM(s, k, f, ch, d, doc, src) {s, k, SYF_KT_ENUM, OFF(f), 1, d, 0, 0, ch, 0, doc, src}
#define KSTR(s, k, f, d, doc) {s, k, SYF_KT_STR, OFF(f), sizeof(((syf_scenario *)0)->f), d, 0, 0, NULL, 0, doc, ""}

#define TEAM_KEYS(S, T, WHO)                                                                      \
    KREAL(S, "fte", team[T].fte, "0", 0, 1000, "FTE of " WHO " per office where the team is present (0 = no such team).", "digest-000 L83, L622 (one FTE per pilot)"), \
    KREAL(S, "caseload", team[T].caseload, "10", 0.1, 1000, "Clients one FTE serves at the same time; the team has round(fte x caseload) places, at least one.", "judgement (digest-000 L841: about 25 users in 6-7 months per job specialist)"), \
    KINT(S, "in_pilot", team[T].in_pilot, "1", 0, 1, "1: present only where and from when the pilot runs (the design's assignment); 0: a status-quo service present in every office from day 0.", ""), \
    KINT(S, "start_day", team[T].start_day, "0", 0, 3650, "Days after the pilot starts in the office (or after day 0 when in_pilot = 0) before the team takes referrals (late hiring).", "digest-000 L2182-2184"), \
    KENUM(S, "source", team[T].source, "triage|tier|window", "window", "Referral route: triage (persons mapped by the pilot's triage, on the mapping day), tier (triage tier at least tier_min, on the triage day) or window (every spell still sick on spell day refer_day).", "digest-000 L176-177, L238-239, L2178-2184"), \
    KINT(S, "refer_day", team[T].refer_day, "28", 0, 365, "window route: spell day of the referral (28 = week 4, 56 = week 8).", "digest-000 L176-177"), \
    KINT(S, "refer_until_day", team[T].refer_until_day, "84", 0, 400, "Latest spell day a referral is taken: spells already longer when the team opens, or mapped later, are not referred.", "digest-000 L620 (under 12 weeks), L1619 (0-8 weeks)"), \
    KINT(S, "tier_min", team[T].tier_min, "2", 0, 2, "tier route: lowest triage tier referred (0 standard, 1 short measures, 2 full toolbox).", ""), \
    KINT(S, "age_min", team[T].age_min, "16", 16, 70, "Youngest age eligible.", "digest-000 L1432, L1618"), \
    KINT(S, "age_max", team[T].age_max, "70", 16, 70, "Oldest age eligible.", "digest-000 L429, L1618"), \
    KLIST(S, "diagnoses", team[T].diagnoses, SYF_N_DIAG, "1, 1, 1, 1", 0, 1, 0, "Eligible diagnosis groups L, P, R, other (1 = eligible).", "digest-000 L2162-2165"), \
    KREAL(S, "uptake", team[T].uptake, "1", 0, 1, "Share of eligible, still sick-listed persons who are referred and accept.", "judgement (digest-000 L2295-2296: consent near 1)"), \
    KREAL(S, "gp_dependence", team[T].gp_dependence, "0", 0, 1, "Referral runs through the GP: uptake is multiplied by (1 - gp_dependence) when the person's GP does not cooperate with NAV.", "digest-000 L2181-2184"), \
    KINT(S, "referral_delay_days", team[T].referral_delay_days, "0", 0, 365, "Days from the referral trigger to joining the waiting list.", "digest-000 L1195"), \
    KENUM(S, "queue", team[T].queue, "fifo|priority|random", "fifo", "Queue discipline: first come first served, highest risk score first, or random order.", "judgement"), \
    KINT(S, "max_wait_days", team[T].max_wait_days, "0", 0, 3650, "A person still waiting this many days leaves the list unserved (0 = no limit).", "judgement"), \
    KREAL(S, "sessions", team[T].sessions, "8", 0, 1000, "Sessions (dose) per client.", "digest-000 L1117-1120"), \
    KREAL(S, "session_hours", team[T].session_hours, "1", 0, 100, "Staff hours per session.", "digest-000 L1117-1120, L1450"), \
    KINT(S, "interval_days", team[T].interval_days, "7", 1, 365, "Days between sessions; the service lasts sessions x interval_days, or until the spell ends.", "digest-000 L1117-1120"), \
    KREAL(S, "intake_hours", team[T].intake_hours, "1", 0, 100, "Staff hours per client for intake, mapping and joint meetings.", "judgement (digest-000 L1195-1199)"), \
    KLIST(S, "hr", team[T].hr, SYF_N_DIAG, "1, 1, 1, 1", 0.01, 100, 0, "Recovery hazard ratio from the service start, by diagnosis group L, P, R, other.", "priors: calibration rows 57-62"), \
    KREAL(S, "half_life_days", team[T].half_life_days, "0", 0, 3650, "Half-life of the log hazard ratio from the service start (0 = no decay).", "calibration row 62 (IPS effect decays)"), \
    KREAL(S, "wait_weakening_days", team[T].wait_weakening_days, "0", 0, 3650, "The effect's log hazard ratio is multiplied by exp(-wait / this) (0 = waiting only delays the effect).", "judgement"), \
    KREAL(S, "cost_per_hour", team[T].cost_per_hour, "0", 0, 100000, "NOK per staff hour.", "calibration rows 69-70"), \
    KREAL(S, "spillover", team[T].spillover, "0", 0, 1, "Share of the log hazard ratio reaching sick-listed persons in the same office not served by the team, from spell day refer_day, while the team is present (shared staff, office-wide training).", "digest-000 L2134-2140 (judgement)")

/* clang-format off */
const syf_keydef syf_keys[] = {
    KSTR("scenario", "name", name, "unnamed", "Short name used in outputs and reports."),
    KSTR("scenario", "description", description, "", "Free text describing the scenario."),

    KINT("run", "seed", run.seed, "1", 0, 9007199254740992.0, "Master seed of the counter-based random streams.", ""),
    KINT("run", "burn_in_days", run.burn_in_days, "730", 0, 3650, "Days simulated before the observation window so that recurrence history and prevalence reach steady state.", "judgement"),
    KINT("run", "observation_days", run.observation_days, "365", 28, 3650, "Length of the observation (recruitment) window in days; spells starting here are reported.", ""),
    KINT("run", "follow_up_days", run.follow_up_days, "400", 0, 3650, "Days simulated after the window so that spells and outcomes can finish.", ""),

    KINT("population", "persons", population.persons, "200000", 100, 20000000, "Employed persons simulated (national: 2,860,000).", "calibration row 1"),
    KREAL("population", "female_share", population.female_share, "0.474", 0, 1, "Share of women among the employed.", "calibration row 2 (A1)"),
    KLIST("population", "age_shares", population.age_shares, SYF_N_AGE, "0.045, 0.085, 0.105, 0.115, 0.115, 0.110, 0.110, 0.105, 0.095, 0.075, 0.040", 0, 1, SYF_KF_SIMPLEX, "Age distribution of the employed, groups 16-19, 20-24, ..., 65-69.", "judgement (shape of SSB LFS)"),
    KLIST("population", "county_shares", population.county_shares, SYF_N_COUNTY, "0.1880, 0.1175, 0.1113, 0.0934, 0.0870, 0.0612, 0.0520, 0.0468, 0.0447, 0.0443, 0.0417, 0.0397, 0.0315, 0.0276, 0.0133", 0, 1, SYF_KF_SIMPLEX, "Employed by county (Oslo, Vestland, Akershus, Rogaland, Trondelag, Innlandet, Agder, More og Romsdal, Ostfold, Buskerud, Nordland, Vestfold, Troms, Telemark, Finnmark).", "calibration A1 (SSB Q4 2024)"),
    KLIST("population", "industry_shares", population.industry_shares, SYF_N_INDUSTRY, "0.226, 0.124, 0.083, 0.076, 0.080, 0.050, 0.060, 0.130, 0.171", 0, 1, SYF_KF_SIMPLEX, "Employed by industry (health_social, retail, construction, manufacturing, education, transport, public_admin, knowledge, other).", "calibration A1, A2; education/transport/public_admin/knowledge judgement"),

    KINT("world", "offices", world.offices, "300", 2, 5000, "NAV offices (the natural cluster).", "calibration row 45 (G14)"),
    KREAL("world", "office_size_cv", world.office_size_cv, "0.8", 0, 3, "Coefficient of variation of office catchment sizes within a county (log-normal).", "judgement"),
    KREAL("world", "employed_per_gp", world.employed_per_gp, "550", 50, 5000, "Employed persons per GP list (2.86 M employed / 5,200 GPs).", "calibration row 47 (G15), derived"),
    KLIST("world", "employer_size_shares", world.employer_size_shares, SYF_N_SIZE, "0.5016, 0.2016, 0.1462, 0.1021, 0.0310, 0.0135, 0.0041", 0, 1, SYF_KF_SIMPLEX, "Establishments with employees by size class 1-4, 5-9, 10-19, 20-49, 50-99, 100-249, 250+.", "calibration row 51 (G17)"),
    KREAL("world", "office_sd_hazard", world.office_sd_hazard, "0.12", 0, 2, "SD of the office random effect on the log return-to-work hazard.", "calibration row 50 (county CV of mean duration 0.12)"),
    KREAL("world", "office_sd_incidence", world.office_sd_incidence, "0.08", 0, 2, "SD of the office random effect on the log onset rate.", "judgement (A30 municipal spread)"),
    KREAL("world", "employer_sd_incidence", world.employer_sd_incidence, "0.25", 0, 2, "SD of the employer random effect on the log onset rate.", "judgement (G6, G12)"),
    KREAL("world", "gp_sd_hazard", world.gp_sd_hazard, "0.08", 0, 2, "SD of the GP random effect (certification leniency) on the log return hazard.", "calibration row 48 (G7, G8)"),
    KREAL("world", "gp_sd_grading", world.gp_sd_grading, "0.5", 0, 3, "SD of the GP graded-leave habit on the logit of grading.", "judgement (gap 15)"),
    KLIST("world", "ia_level_shares", world.ia_level_shares, SYF_N_IA, "0.85, 0.12, 0.03", 0, 1, SYF_KF_SIMPLEX, "Employers by IA service level: self-service, collaboration partner, strategic partner (larger employers are more often partners: the level is drawn with odds rising with the size class).", "judgement (digest-004 L158-176)"),
    KREAL("world", "employer_sd_adaptation", world.employer_sd_adaptation, "0.10", 0, 2, "SD of the employer's adaptation capacity and follow-up-plan quality on the log recovery hazard of its employees' spells.", "judgement (digest-000 L1063-1067, L1612)"),
    KREAL("world", "gp_cooperation_share", world.gp_cooperation_share, "0.7", 0, 1, "Share of GPs willing to exchange information with NAV (consent-based); teams with gp_dependence > 0 refer fewer patients of the others.", "judgement (digest-000 L1402-1403, L2182-2184)"),
    KREAL("world", "veileder_caseload", world.veileder_caseload, "100", 1, 10000, "Sick-leave follow-up cases per NAV veileder: the office's veileder count is its expected concurrent cases over this.", "judgement (digest-003 L801)"),
    KENUM("world", "allocation", world.allocation, "birthdate|industry", "birthdate", "Case-allocation rule of NAV offices: by the person's birth date, or by the employer's industry (veiledere who know the employers).", "digest-003 (allocation rules), judgement"),
    KREAL("world", "industry_allocation_hr", world.industry_allocation_hr, "1.0", 0.01, 100, "Multiplier on the pilot's mapping-conversation hazard ratio in offices allocating by industry.", "judgement"),

    KREAL("incidence", "rate", incidence.rate, "0.49", 0, 10, "Baseline spell onset rate per person-year at risk, before multipliers (each multiplier set is normalised to mean 1 over the population).", "calibration row 4 (A5); tuned"),
    KREAL("incidence", "female_rr", incidence.female_rr, "1.6", 0.1, 10, "Onset rate ratio women : men.", "calibration row 9; tuned with duration.female_hr to the days ratio 1.7"),
    KLIST("incidence", "age_rr", incidence.age_rr, SYF_N_AGE, "0.39, 0.74, 0.95, 1.02, 1.00, 1.00, 1.03, 1.04, 1.07, 1.17, 0.90", 0.01, 10, 0, "Onset rate ratios by age group (combined with duration.age_hr they give the days gradient of calibration row 10).", "calibration row 10 (A23); tuned"),
    KLIST("incidence", "industry_rr", incidence.industry_rr, SYF_N_INDUSTRY, "1.43, 0.90, 0.90, 0.90, 1.00, 1.10, 0.97, 0.63, 1.00", 0.01, 10, 0, "Onset rate ratios by industry.", "calibration row 11 (A24)"),
    KLIST("incidence", "county_rr", incidence.county_rr, SYF_N_COUNTY, "0.81, 1.02, 1.06, 0.92, 1.05, 1.11, 1.08, 1.06, 1.06, 1.06, 1.20, 1.06, 1.16, 1.06, 1.16", 0.01, 10, 0, "Onset rate ratios by county.", "calibration row 12 (A26 Q4 2020 / 6.4)"),
    KREAL("incidence", "health_sd", incidence.health_sd, "0.6", 0, 3, "SD of the person's latent health on the log onset rate (drives recurrence and between-person variation).", "judgement (B14, B18)"),
    KREAL("incidence", "recurrence_rr", incidence.recurrence_rr, "1.5", 1, 10, "Onset rate ratio during the first recurrence_days after a return to work.", "judgement"),
    KINT("incidence", "recurrence_days", incidence.recurrence_days, "90", 0, 3650, "Length of the elevated-recurrence period after a return.", "judgement"),

    KLIST("duration", "baseline_hazard", duration.baseline_hazard, SYF_N_PIECES, "0.26257, 0.079566, 0.039783, 0.027848, 0.090689, 0.061833, 0.039573, 0.028294, 0.024749, 0.024629, 0.021291, 0.017801, 0.017083, 0.021317, 0.029171, 0.067318", 0, 5, 0, "Baseline recovery hazard per day on the pieces starting at days 0, 3, 7, 11, 16, 21, 28, 42, 56, 84, 119, 182, 238, 273, 322, 350 of the spell.", "calibration rows 13-19 (B1-B6, B5 shape); tuned"),
    KLIST("duration", "diagnosis_shares", duration.diagnosis_shares, SYF_N_DIAG, "0.36, 0.15, 0.13, 0.36", 0, 1, SYF_KF_SIMPLEX, "Diagnosis mix of spells: L, P, R, other.", "calibration row 22 (C1)"),
    KLIST("duration", "diagnosis_hr", duration.diagnosis_hr, SYF_N_DIAG, "0.87, 0.77, 2.5, 1.0", 0.01, 100, 0, "Recovery hazard ratios by diagnosis (inverse of relative mean durations L 1.15, P 1.3, R 0.4).", "calibration row 24 (C1, C2)"),
    KREAL("duration", "female_hr", duration.female_hr, "0.85", 0.01, 100, "Recovery hazard ratio women : men.", "tuned to calibration row 9"),
    KLIST("duration", "age_hr", duration.age_hr, SYF_N_AGE, "1.35, 1.25, 1.15, 1.08, 1.03, 1.00, 0.97, 0.93, 0.88, 0.84, 0.84", 0.01, 100, 0, "Recovery hazard ratios by age group (hazard falls with age).", "calibration row 20 (B5), judgement"),
    KREAL("duration", "prognosis_sd", duration.prognosis_sd, "1.0", 0, 3, "SD of the spell's latent prognosis on the log recovery hazard (the true prognosis that self-reports are noisy signals of).", "judgement; tuned to rows 13-17"),
    KREAL("duration", "health_weight", duration.health_weight, "0.5", 0, 1, "Correlation between the person's latent health and each spell's prognosis.", "judgement"),
    KREAL("duration", "job_change_share", duration.job_change_share, "0.05", 0, 1, "Share of returns after more than 16 days that are to a new job.", "judgement"),
    KREAL("duration", "pregnancy_share", duration.pregnancy_share, "0.12", 0, 1, "Share of spells of women aged 20-44 that are pregnancy-related (4.6 % of all spells).", "calibration C1 (20,115 / 432,727), derived"),
    KREAL("duration", "serious_share", duration.serious_share, "0.01", 0, 1, "Share of spells with a serious diagnosis (FTL ch. 12).", "judgement (digest-003 L274)"),

    KREAL("grading", "start_logit", grading.start_logit, "-6.5", -20, 20, "Logit of starting graded for a spell of average prognosis.", "tuned to calibration rows 25-27"),
    KREAL("grading", "start_slope", grading.start_slope, "4.0", -10, 10, "Change in that logit per SD of worse prognosis.", "tuned"),
    KREAL("grading", "convert_logit", grading.convert_logit, "0.25", -20, 20, "Logit of converting to graded between days 17 and 56 for a full-time spell.", "tuned"),
    KREAL("grading", "convert_slope", grading.convert_slope, "0.5", -10, 10, "Change in that logit per SD of worse prognosis.", "tuned"),
    KREAL("grading", "degrade_share", grading.degrade_share, "0.25", 0, 1, "Share of graded spells that go back to full sick leave.", "calibration row 29 (D1)"),
    KREAL("grading", "hr", grading.hr, "1.2", 0.01, 100, "Causal recovery hazard ratio while graded.", "calibration row 30 (D5-D8)"),
    KLIST("grading", "grade_shares", grading.grade_shares, 3, "0.27, 0.52, 0.21", 0, 1, SYF_KF_SIMPLEX, "Grade among graded spells: 20-49 %, 50 %, 51-99 %.", "calibration row 28 (D1, D2)"),

    KINT("regime", "employer_days", regime.employer_days, "16", 0, 60, "Employer period in calendar days (NAV pays from the next day).", "calibration row 31 (F1)"),
    KINT("regime", "max_paid_days", regime.max_paid_days, "248", 1, 1000, "Maximum NAV-paid sick-pay days (weekdays).", "calibration row 38 (F5)"),
    KINT("regime", "requalify_days", regime.requalify_days, "182", 0, 3650, "Days back at work before a person who reached the maximum can get sick pay again.", "calibration row 38"),
    KINT("regime", "activity_day", regime.activity_day, "56", 1, 365, "Activity-requirement check (week 8).", "calibration row 34 (F2); digest-003 L160"),
    KREAL("regime", "activity_hours", regime.activity_hours, "0.5", 0, 100, "Veileder hours per activity-requirement assessment.", "judgement (digest-003 L801: about 10 % of SYFO person-years)"),
    KREAL("regime", "activity_hr", regime.activity_hr, "1.0", 0.01, 100, "Recovery hazard ratio after the status-quo activity check and warning (most warnings end in exemptions).", "calibration row 53; digest-003 L299, L805"),
    KINT("regime", "dm2_day", regime.dm2_day, "182", 1, 365, "Dialogue meeting 2 (week 26).", "calibration row 36"),
    KREAL("regime", "dm2_share", regime.dm2_share, "0.19", 0, 1, "Share of spells reaching week 26 that get dialogue meeting 2.", "calibration row 37 (G13)"),
    KREAL("regime", "dm2_hours", regime.dm2_hours, "2.0", 0, 100, "Veileder hours per dialogue meeting 2.", "judgement"),
    KLIST("regime", "after_max_shares", regime.after_max_shares, 3, "0.5, 0.3, 0.2", 0, 1, SYF_KF_SIMPLEX, "After the maximum: AAP, work, other (leaves employment).", "calibration row 40 (judgement)"),
    KREAL("regime", "sick_pay_nok", regime.sick_pay_nok, "1250", 0, 100000, "NAV sick pay per paid day (NOK).", "calibration row 65"),
    KREAL("regime", "veileder_nok_per_hour", regime.veileder_nok_per_hour, "460", 0, 100000, "NAV veileder cost per hour (NOK, wage only).", "calibration row 70"),

    KENUM("pilot", "type", pilot.type, "none|msyfo|risk_score", "none", "Pilot follow-up model in treated offices: none, the Morgendagens SYFO triage (three questions, nine triggers), or a risk-score rule (mapped when the score reaches pilot.score_threshold).", "digest-003 section 2.1, L860-862"),
    KINT("pilot", "triage_day", pilot.triage_day, "56", 1, 365, "Day of the spell the triage message is sent (week 8; Sunnfjord variant week 6).", "digest-003 L297, L811"),
    KINT("pilot", "exclusion_age", pilot.exclusion_age, "65", 16, 100, "Persons this old or older get the adapted message and are not triaged.", "digest-003 L274"),
    KREAL("pilot", "disability_share", pilot.disability_share, "0.005", 0, 1, "Share of those reaching the triage day who have a 100 % disability pension and a position under 50 %: no greeting, excluded (drawn in the triage; 0 = the protocol before spring 2023).", "rule digest-003 L274, L334; share judgement (absent in digest-003)"),
    KREAL("pilot", "response_share", pilot.response_share, "0.9", 0, 1, "Share answering the week-8 message.", "judgement (absent in digest-003)"),
    KREAL("pilot", "self_noise_sd", pilot.self_noise_sd, "0.1", 0, 10, "SD of the noise in the person's self-prediction of their (standardised) untreated duration index (read by Q1 and Q3; the week-8 population spreads about 0.4 on this index).", "tuned to digest-003 L434 (less noise, fewer overruns; 0.1 is the smallest judged credible, L436)"),
    KREAL("pilot", "self_noise_shared", pilot.self_noise_shared, "0.5", 0, 1, "Share of the self-prediction noise variance common to Q1 and Q3 (a person's optimism or pessimism shows in both answers).", "judgement"),
    KREAL("pilot", "self_hazard_weight", pilot.self_hazard_weight, "0", 0, 1, "Weight of the spell's own hazard multiplier (person and diagnosis) in the index the self-reports read: 0 = the latent prognosis only, 1 = the full untreated duration index (needs the world to pass the multiplier to the triage).", "judgement (digest-003 L289, L819: people know their own situation)"),
    KLIST("pilot", "q1_cuts", pilot.q1_cuts, 2, "2.02, 2.52", -10, 10, 0, "Q1 (return likely?): self-signal below the first cut = very likely, below the second = unsure, else unlikely (the signal is the standardised duration index plus noise).", "tuned with q3_cut to about 40 % mapped (digest-003 L336); second cut judgement"),
    KREAL("pilot", "q2_cut", pilot.q2_cut, "1.4", -10, 10, "Q2: employer relation reported difficult when its signal (the complexity latent with loading complexity_loading, plus noise; about N(0,1)) exceeds this.", "judgement (about 6 % of answers difficult)"),
    KREAL("pilot", "q2_neither_width", pilot.q2_neither_width, "0", 0, 10, "Q2: width of the 'neither good nor difficult' band centred on q2_cut (0 = the two answers of the week-8 message).", "digest-003 L344 (criterion c names 'verken eller'; Figure 1 has two answers)"),
    KREAL("pilot", "q3_cut", pilot.q3_cut, "1.77", -10, 10, "Q3: expected duration over 26 weeks when the self-signal exceeds this (plus half of q3_unsure_width); also the centre of the complexity latent.", "tuned to about 40 % mapped (digest-003 L336) with the fewest overruns (L434)"),
    KREAL("pilot", "q3_unsure_width", pilot.q3_unsure_width, "0.3", 0, 10, "Q3: width of the 'don't know' band of the self-signal centred on q3_cut (triggers e and f; 0 = the two answers of Figure 1).", "answer digest-003 L346-347; width judgement (about 12 % of answers)"),
    KREAL("pilot", "unsure_other_share", pilot.unsure_other_share, "0.3", 0, 1, "Share of 'don't know' answers to Q3 where the uncertainty is about something other than the outcome of treatment or rehabilitation (trigger f, whatever the sickness degree).", "rule digest-003 L347; share judgement (absent)"),
    KREAL("pilot", "degree_min", pilot.degree_min, "30", 0, 100, "Sickness degree (%) at or above which non-response (trigger d) and a 'don't know' duration (trigger e) map.", "digest-003 L345, L346"),
    KINT("pilot", "recurrent_spells", pilot.recurrent_spells, "3", 1, 100, "Earlier spells within the look-back that count as recurrent absence (trigger h).", "judgement (digest-003: absent)"),
    KINT("pilot", "recurrent_lookback_days", pilot.recurrent_lookback_days, "365", 1, 3650, "Look-back for recurrent absence.", "judgement"),
    KREAL("pilot", "signal_share", pilot.signal_share, "0.03", 0, 1, "Share with a signal from certificate, follow-up plan or other NAV units (trigger i).", "judgement (digest-003 L382)"),
    KREAL("pilot", "eligibility_share", pilot.eligibility_share, "0.02", 0, 1, "Share with uncertain eligibility (trigger g).", "judgement (digest-003 L348)"),
    KREAL("pilot", "complexity_slope", pilot.complexity_slope, "1.0", 0, 10, "Slope of the latent case complexity (read by Q2 and triggers g and i) on the self-prediction index, measured from q3_cut (0 = independent of the prognosis).", "judgement (digest-003 L380-382, L436)"),
    KREAL("pilot", "complexity_loading", pilot.complexity_loading, "0.6", 0, 0.95, "Loading of the Q2 signal and of triggers g and i on the complexity latent (0 = independent; g and i keep their shares at the 26-week boundary).", "judgement"),
    KREAL("pilot", "judgement_map_share", pilot.judgement_map_share, "0.03", 0, 1, "Veileder judgement: share mapped although no trigger fired.", "judgement (digest-003 L297, L436)"),
    KREAL("pilot", "judgement_skip_share", pilot.judgement_skip_share, "0.05", 0, 1, "Veileder judgement: share not mapped although a trigger fired.", "judgement"),
    KLIST("pilot", "checkpoint_days", pilot.checkpoint_days, 3, "119, 182, 273", 1, 400, 0, "Safety-net checkpoints (weeks 17, 26, 39) for those screened out.", "digest-003 L380"),
    KREAL("pilot", "checkpoint_map_share", pilot.checkpoint_map_share, "0.2", 0, 1, "Share of screened-out, still sick-listed persons mapped at each checkpoint.", "tuned to digest-003 L434: 16 of the 40 who said under 26 weeks and overran needed mapping"),
    KINT("pilot", "mapping_delay_days", pilot.mapping_delay_days, "10", 0, 365, "Days from triage to the mapping conversation.", "judgement"),
    KREAL("pilot", "effect_hr", pilot.effect_hr, "1.0", 0.01, 100, "Recovery hazard ratio for mapped persons from the mapping conversation on.", "judgement (not effect-evaluated, digest-003 L426; priors calibration rows 52-60)"),
    KREAL("pilot", "score_observed_weight", pilot.score_observed_weight, "0", 0, 1, "Risk-score rule: weight of the register part of the score -- the standardised expected duration from what NAV observes (diagnosis group, age, sex, graded or not on the triage day, earlier spells in the look-back) -- against the self-reported part (the prognosis with score_noise_sd error); 0 = self-report only, 1 = register data only.", "judgement (digest-003 L860-862: a risk model from register data)"),
    KREAL("pilot", "score_noise_sd", pilot.score_noise_sd, "0.5", 0, 10, "Risk-score rule: SD of the score's error as a measure of the standardised prognosis (0 = a perfect score).", "judgement"),
    KREAL("pilot", "score_threshold", pilot.score_threshold, "1.0", -10, 10, "Risk-score rule: persons whose score is at least this are mapped (the cutoff of the rd design).", "judgement"),
    KLIST("pilot", "tier_cuts", pilot.tier_cuts, 2, "0.5, 1.0", -10, 10, 0, "Risk-score rule: score cuts for tier 1 (short measures) and tier 2 (full toolbox); the default second cut equals the default score_threshold, so tier 2 is the mapped group and tier 1 the band below it.", "judgement; tiers digest-003 L394-396, L410-414"),
    KREAL("pilot", "message_hours", pilot.message_hours, "0.25", 0, 100, "Veileder hours per week-8 message and triage decision.", "judgement"),
    KREAL("pilot", "mapping_hours", pilot.mapping_hours, "1.5", 0, 100, "Veileder hours per mapping conversation.", "judgement"),

    TEAM_KEYS("team_rph", SYF_TEAM_RPH, "RPH therapists (municipal rapid mental health help, job-focused CBT)"),
    TEAM_KEYS("team_cbt", SYF_TEAM_CBT, "cognitive therapists at GP offices"),
    TEAM_KEYS("team_ips", SYF_TEAM_IPS, "job specialists (IPS / supported employment)"),
    TEAM_KEYS("team_nav", SYF_TEAM_NAV, "NAV veiledere in work-oriented follow-up"),

    KREAL("employer_team", "fte", employer_team.fte, "0", 0, 1000, "FTE of the employer team (IA advisers, market contacts, follow-up staff) per office where it is present (0 = none).", "digest-004 section 3.3"),
    KREAL("employer_team", "employers_per_fte", employer_team.employers_per_fte, "20", 0, 10000, "Employers one FTE follows at a time.", "judgement (digest-004 section 2.4)"),
    KINT("employer_team", "in_pilot", employer_team.in_pilot, "1", 0, 1, "1: the team runs where and from when the design's assignment says; 0: in the counties listed in counties, from start_days.", ""),
    KLIST("employer_team", "counties", employer_team.counties, SYF_N_COUNTY, "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0", 0, 1, 0, "in_pilot = 0: counties with an employer team (1), in the order of population.county_shares.", "digest-004 section 3.3 (4 counties)"),
    KLIST("employer_team", "start_days", employer_team.start_days, SYF_N_COUNTY, "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0", 0, 3650, 0, "in_pilot = 0: days after the start of the observation window each county's team starts.", "digest-004 section 3.1"),
    KLIST("employer_team", "levels", employer_team.levels, SYF_N_IA, "0, 0, 1", 0, 1, 0, "IA service levels served (1): self-service, collaboration partner, strategic partner.", "digest-004 L158-176"),
    KINT("employer_team", "min_size_class", employer_team.min_size_class, "3", 0, 6, "Smallest establishment size class served (0 = 1-4 employees, ..., 6 = 250+).", "digest-004 section 2.4"),
    KREAL("employer_team", "incidence_rr", employer_team.incidence_rr, "1", 0.01, 10, "Onset rate ratio for employees of a served employer.", "calibration row 63 (RR 0.93)"),
    KREAL("employer_team", "hr", employer_team.hr, "1", 0.01, 100, "Recovery hazard ratio of spells of employees of a served employer.", "judgement"),
    KREAL("employer_team", "hours_per_employer", employer_team.hours_per_employer, "40", 0, 10000, "Staff hours per served employer per year.", "judgement"),
    KREAL("employer_team", "cost_per_hour", employer_team.cost_per_hour, "0", 0, 100000, "NOK per staff hour.", "calibration row 70"),

    KENUM("trial", "design", trial.design, "none|cluster_rct|individual_rct|stratified_crt|matched_crt|stepped_wedge|staggered|self_selected|rd|single_site", "none", "Assignment mechanism (include/syfosim/design.h): none (everyone control), cluster RCT by NAV office, individual RCT, stratified or pair-matched cluster RCT, stepped wedge, staggered non-random rollout, self-selected pilot offices, regression discontinuity at the risk-score threshold (all offices run a risk_score pilot), or a single (self-selected) site starting mid-window, analysed by synthetic control (include/syfosim/sitepanel.h).", "digest-003 L870; DESIGN section 4"),
    KREAL("trial", "treated_share", trial.treated_share, "0.5", 0, 1, "Share of offices (persons, for individual_rct) assigned to the pilot.", ""),
    KENUM("trial", "strata_by", trial.strata_by, "size|baseline", "size", "Office characteristic for strata, pairs and staggered order: employed persons, or baseline sick leave (the office's expected sick-leave days from its random effects, observed with noise).", ""),
    KINT("trial", "strata", trial.strata, "2", 1, 100, "Number of strata (stratified_crt), equal-count groups of offices.", ""),
    KINT("trial", "sequences", trial.sequences, "4", 1, 100, "Stepped wedge / staggered: number of sequences (groups of offices starting together).", ""),
    KINT("trial", "periods", trial.periods, "5", 2, 100, "Stepped wedge / staggered: periods the observation window is cut into; sequence s starts at period s (needs periods > sequences).", ""),
    KSTR("trial", "sequence_sizes", trial.sequence_sizes, "", "Offices per sequence as comma-separated counts summing to world.offices (empty = as equal as possible)."),
    KINT("trial", "transition_days", trial.transition_days, "0", 0, 365, "Stepped wedge / staggered: participants triaged within this many days after their office started are left out of the analysis (transition period).", ""),
    KREAL("trial", "selection_strength", trial.selection_strength, "1.0", 0, 10, "Self-selected sites and staggered order: weight of the office's standardised recovery effect against N(0,1) noise in the selection score.", "digest-003 L785, L870 (judgement)"),
    KREAL("trial", "consent_share", trial.consent_share, "1.0", 0.01, 1, "Share of recruited participants who consent and stay in the analysis (non-consent / attrition).", "digest-003 L872-874"),
    KREAL("trial", "attrition_slope", trial.attrition_slope, "0", -10, 10, "Log-odds of dropping out per SD of worse prognosis (0 = at random).", "judgement"),
    KREAL("trial", "rd_bandwidth", trial.rd_bandwidth, "0", 0, 100, "rd design: bandwidth of the local-linear estimator in score units (0 = data-driven).", ""),
    KREAL("trial", "fidelity_min", trial.fidelity_min, "1.0", 0, 1, "Implementation fidelity: each pilot office delivers the pilot to a spell with probability drawn uniformly between this and 1.", "digest-003 L876 (judgement)"),
    KENUM("trial", "population", trial.population, "all|team_eligible", "all", "Trial population: every spell still sick on pilot.triage_day in the window (all), or only those a pilot team could take by age and diagnosis group (team_eligible: the recruitment of a team pilot such as Modell 1 or 2, without diluting the effect over persons the teams never see).", "digest-000 L2162-2165, L1618"),
    KENUM("trial", "outcome", trial.outcome, "paid_days|sick_days|work_12m", "paid_days", "Outcome per trial participant: NAV-paid days, grade-weighted sick-leave working days, or at work at the end of the outcome window.", "digest-003 L878"),
    KINT("trial", "outcome_days", trial.outcome_days, "365", 28, 3650, "Outcome window from the start of the index spell.", "digest-003 L878"),
    KREAL("trial", "alpha", trial.alpha, "0.05", 0.0001, 0.5, "Two-sided significance level.", ""),
    KENUM("trial", "estimator", trial.estimator, "default|ols|lmm|gee|logit|cox|did|cs|ipw|sc", "default", "Analysis model of the trial data: default (ols, or local-linear for rd), ols with the design's fixed effects and cluster-robust SE (trial.se), lmm (random office intercept, REML, Satterthwaite df; with period effects this is the Hussey-Hughes stepped-wedge model), gee (exchangeable by office, robust SE), logit (binary outcome: average marginal effect), cox (time to return of the index spell: log hazard ratio), did / cs (office-by-period panel: two-way fixed effects / Callaway-Sant'Anna), ipw (propensity of the office's pilot from office characteristics), sc (single_site design: synthetic control of the office-by-period panel with placebo inference).", "DESIGN section 4"),
    KENUM("trial", "se", trial.se, "CR2|CR1|CR0|CR3", "CR2", "Cluster-robust variance of the OLS estimator (CR2 with Bell-McCaffrey/Satterthwaite df).", ""),
    KENUM("trial", "inference", trial.inference, "analytic|wild|ri", "analytic", "P-value of the OLS treatment coefficient (estimator default/ols): analytic (trial.se with its df), wild (restricted wild cluster bootstrap, Rademacher weights, CR1 bootstrap-t; CI by test inversion) or ri (randomization inference: the design's assignment re-drawn trial.inference_draws times, outcomes held fixed, studentised with trial.se; CI stays analytic). wild: any design but rd; ri: designs with a random assignment.", ""),
    KINT("trial", "inference_draws", trial.inference_draws, "199", 19, 100000, "Bootstrap draws (wild) or re-drawn assignments (ri) per replication.", ""),
    KINT("trial", "reps", trial.reps, "200", 1, 1000000, "Default number of replications for diagnose.", ""),
};
/* clang-format on */
const size_t syf_n_keys = sizeof syf_keys / sizeof syf_keys[0];

/* ------------------------------------------------------------------ */

static const syf_keydef *find_key(const char *section, const char *key, size_t *idx)
{
    for (size_t i = 0; i < syf_n_keys; i++)
        if (!strcmp(syf_keys[i].section, section) && !strcmp(syf_keys[i].key, key)) {
            if (idx)
                *idx = i;
            return &syf_keys[i];
        }
    return NULL;
}

static int section_exists(const char *section)
{
    for (size_t i = 0; i < syf_n_keys; i++)
        if (!strcmp(syf_keys[i].section, section))
            return 1;
    return !strcmp(section, "scenario");
}

/* Comma-separated list of the keys accepted in a section. */
static void section_keys(const char *section, char *buf, size_t n)
{
    buf[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < syf_n_keys; i++) {
        if (strcmp(syf_keys[i].section, section))
            continue;
        int w = snprintf(buf + used, n - used, "%s%s", used ? ", " : "", syf_keys[i].key);
        if (w < 0 || (size_t)w >= n - used)
            break;
        used += (size_t)w;
    }
}

static void range_text(const syf_keydef *k, char *buf, size_t n)
{
    switch (k->type) {
    case SYF_KT_INT:
        snprintf(buf, n, "an integer from %.0f to %.0f", k->min, k->max);
        break;
    case SYF_KT_REAL:
        snprintf(buf, n, "a number from %g to %g", k->min, k->max);
        break;
    case SYF_KT_LIST:
        snprintf(buf, n, "%zu comma-separated numbers from %g to %g%s", k->len, k->min, k->max,
                 (k->flags & SYF_KF_SIMPLEX) ? " summing to 1" : "");
        break;
    case SYF_KT_ENUM:
        snprintf(buf, n, "one of %s", k->choices);
        break;
    case SYF_KT_STR:
        snprintf(buf, n, "text of at most %zu characters", k->len - 1);
        break;
    }
}

static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return 0;
    double v = strtod(s, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end || errno == ERANGE || !isfinite(v))
        return 0;
    *out = v;
    return 1;
}

/* Parse `value` into the scenario field of key k.  On failure writes the
 * problem (without location) into err. */
static int key_assign(syf_scenario *sc, const syf_keydef *k, const char *value, char *err,
                      size_t errn)
{
    char *base = (char *)sc + k->offset;
    char rng[160];
    range_text(k, rng, sizeof rng);
    switch (k->type) {
    case SYF_KT_INT: {
        double v;
        if (!parse_number(value, &v) || v != floor(v)) {
            snprintf(err, errn, "'%s' is not an integer (accepted: %s)", value, rng);
            return 0;
        }
        if (v < k->min || v > k->max) {
            snprintf(err, errn, "%s is out of range (accepted: %s)", value, rng);
            return 0;
        }
        *(long *)base = (long)v;
        return 1;
    }
    case SYF_KT_REAL: {
        double v;
        if (!parse_number(value, &v)) {
            snprintf(err, errn, "'%s' is not a number (accepted: %s)", value, rng);
            return 0;
        }
        if (v < k->min || v > k->max) {
            snprintf(err, errn, "%s is out of range (accepted: %s)", value, rng);
            return 0;
        }
        *(double *)base = v;
        return 1;
    }
    case SYF_KT_LIST: {
        double vals[64];
        size_t n = 0;
        const char *p = value;
        char item[128];
        for (;;) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            if (len >= sizeof item || n >= 64) {
                snprintf(err, errn, "malformed list (accepted: %s)", rng);
                return 0;
            }
            memcpy(item, p, len);
            item[len] = '\0';
            if (n < 64 && !parse_number(item, &vals[n])) {
                snprintf(err, errn, "item %zu '%s' is not a number (accepted: %s)", n + 1, item,
                         rng);
                return 0;
            }
            n++;
            if (!c)
                break;
            p = c + 1;
        }
        if (n != k->len) {
            snprintf(err, errn, "%zu values given (accepted: %s)", n, rng);
            return 0;
        }
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) {
            if (vals[i] < k->min || vals[i] > k->max) {
                snprintf(err, errn, "item %zu (%g) is out of range (accepted: %s)", i + 1, vals[i],
                         rng);
                return 0;
            }
            sum += vals[i];
        }
        if ((k->flags & SYF_KF_SIMPLEX) && fabs(sum - 1.0) > 0.005) {
            snprintf(err, errn, "shares sum to %g (accepted: %s)", sum, rng);
            return 0;
        }
        /* Shares are stored as given (within 0.005 of summing to 1); every
         * consumer normalises its weights. */
        for (size_t i = 0; i < n; i++)
            ((double *)base)[i] = vals[i];
        return 1;
    }
    case SYF_KT_ENUM: {
        const char *p = k->choices;
        int idx = 0;
        size_t vl = strlen(value);
        while (*p) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            if (len == vl && !strncmp(p, value, len)) {
                *(int *)base = idx;
                return 1;
            }
            idx++;
            if (!bar)
                break;
            p = bar + 1;
        }
        snprintf(err, errn, "'%s' is not accepted (accepted: %s)", value, rng);
        return 0;
    }
    case SYF_KT_STR:
        if (strlen(value) >= k->len) {
            snprintf(err, errn, "text too long (accepted: %s)", rng);
            return 0;
        }
        strcpy(base, value);
        return 1;
    }
    return 0;
}

void syf_scenario_defaults(syf_scenario *sc)
{
    memset(sc, 0, sizeof *sc);
    char err[256];
    for (size_t i = 0; i < syf_n_keys; i++) {
        if (!key_assign(sc, &syf_keys[i], syf_keys[i].def, err, sizeof err)) {
            /* A bad built-in default is a programming error. */
            fprintf(stderr, "syfosim: internal error: default of %s.%s: %s\n",
                    syf_keys[i].section, syf_keys[i].key, err);
            abort();
        }
        sc->meta.origin_file[i] = -1;
        sc->meta.origin_line[i] = 0;
    }
}

/* --- parsing ----------------------------------------------------------- */

typedef struct {
    syf_scenario *sc;
    FILE *f;
    const char *path;
    int file_idx;
    int line;
    int depth;
    int keys_seen;
    int status;
    int seen[SYF_MAX_KEYS]; /* line where set in this file, 0 = not */
} parse_ctx;

static int load_file(syf_scenario *sc, const char *path, int depth);

/* ini_reader: one physical line per call, so ctx->line is exact.  Reads
 * with getline() so that NUL bytes are seen, and checks section headers
 * here, where their own line number is known (libinih reports sections
 * only with their keys). */
static char *read_line(char *str, int num, void *stream)
{
    parse_ctx *c = stream;
    if (c->status != SYF_OK)
        return NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len = getline(&line, &cap, c->f);
    if (len < 0) {
        free(line);
        return NULL;
    }
    c->line++;
    for (ssize_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)line[i];
        if (ch < 32 && ch != '\t' && ch != '\n' && ch != '\r') {
            c->status = syf_error_set(SYF_EINPUT,
                                      "%s:%d: binary or control character in a text file "
                                      "(accepted: a text INI file)",
                                      c->path, c->line);
            free(line);
            return NULL;
        }
    }
    if (len > num - 2) {
        c->status = syf_error_set(SYF_EINPUT,
                                  "%s:%d: line too long (accepted: at most %d characters)",
                                  c->path, c->line, num - 2);
        free(line);
        return NULL;
    }
    /* section header? */
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '[') {
        const char *q = strchr(p, ']');
        if (q) {
            char name[128];
            snprintf(name, sizeof name, "%.*s", (int)(q - p - 1), p + 1);
            if (!section_exists(name)) {
                c->status = syf_error_set(SYF_EINPUT,
                                          "%s:%d: [%s]: unknown section (accepted: scenario, run, "
                                          "population, world, incidence, duration, grading, "
                                          "regime, pilot, trial)",
                                          c->path, c->line, name);
                free(line);
                return NULL;
            }
        }
    }
    memcpy(str, line, (size_t)len + 1);
    free(line);
    return str;
}

static void dirname_of(const char *path, char *out, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, n, ".");
    else
        snprintf(out, n, "%.*s", (int)(slash - path), path);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_ctx *c = user;
    if (c->status != SYF_OK)
        return 0;
    if (!strcmp(section, "scenario") && !strcmp(name, "base")) {
        if (c->keys_seen > 0) {
            c->status = syf_error_set(SYF_EINPUT,
                                      "%s:%d: scenario.base: must be the first key of the file "
                                      "(accepted: a scenario file path, first in [scenario])",
                                      c->path, c->line);
            return 0;
        }
        c->keys_seen++;
        char dir[512], full[1100];
        dirname_of(c->path, dir, sizeof dir);
        if (value[0] == '/')
            snprintf(full, sizeof full, "%s", value);
        else
            snprintf(full, sizeof full, "%s/%s", dir, value);
        if (c->depth >= SYF_MAX_FILES - 1) {
            c->status = syf_error_set(SYF_EINPUT,
                                      "%s:%d: scenario.base: bases nested too deeply or in a cycle "
                                      "(accepted: at most %d levels)",
                                      c->path, c->line, SYF_MAX_FILES - 1);
            return 0;
        }
        int st = load_file(c->sc, full, c->depth + 1);
        if (st != SYF_OK) {
            char inner[900];
            snprintf(inner, sizeof inner, "%s", syf_error_message());
            c->status = syf_error_set(st, "%s:%d: scenario.base: %s", c->path, c->line, inner);
            return 0;
        }
        return 1;
    }
    c->keys_seen++;
    size_t idx;
    const syf_keydef *k = find_key(section, name, &idx);
    if (!k) {
        char list[1200];
        if (!section_exists(section)) {
            c->status = syf_error_set(SYF_EINPUT,
                                      "%s:%d: [%s]: unknown section (accepted: scenario, run, "
                                      "population, world, incidence, duration, grading, regime, "
                                      "pilot, trial)",
                                      c->path, c->line, section);
            return 0;
        }
        section_keys(section, list, sizeof list);
        if (!strcmp(section, "scenario"))
            strncat(list, list[0] ? ", base" : "base", sizeof list - strlen(list) - 1);
        c->status = syf_error_set(SYF_EINPUT, "%s:%d: %s.%s: unknown key (accepted in [%s]: %s)",
                                  c->path, c->line, section, name, section, list);
        return 0;
    }
    if (c->seen[idx]) {
        c->status = syf_error_set(SYF_EINPUT,
                                  "%s:%d: %s.%s: set twice in the same file (first at line %d)",
                                  c->path, c->line, section, name, c->seen[idx]);
        return 0;
    }
    char err[512];
    if (!key_assign(c->sc, k, value, err, sizeof err)) {
        c->status =
            syf_error_set(SYF_EINPUT, "%s:%d: %s.%s: %s", c->path, c->line, section, name, err);
        return 0;
    }
    c->seen[idx] = c->line;
    c->sc->meta.origin_file[idx] = (signed char)c->file_idx;
    c->sc->meta.origin_line[idx] = c->line;
    return 1;
}

static int load_file(syf_scenario *sc, const char *path, int depth)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return syf_error_set(SYF_EINPUT, "%s: cannot open scenario file: %s", path,
                             strerror(errno));
    parse_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        fclose(f);
        return syf_error_set(SYF_ENOMEM, "out of memory");
    }
    c->sc = sc;
    c->f = f;
    c->path = path;
    c->depth = depth;
    c->status = SYF_OK;
    if (sc->meta.n_files < SYF_MAX_FILES) {
        c->file_idx = sc->meta.n_files++;
        snprintf(sc->meta.files[c->file_idx], sizeof sc->meta.files[0], "%s", path);
    } else {
        c->file_idx = SYF_MAX_FILES - 1;
    }
    int rc = ini_parse_stream(read_line, c, handler, c);
    int st = c->status;
    if (st == SYF_OK && rc != 0) {
        if (rc < 0)
            st = syf_error_set(SYF_EINPUT, "%s: cannot read scenario file", path);
        else
            st = syf_error_set(SYF_EINPUT,
                               "%s:%d: malformed line (accepted: [section], key = value, or a "
                               "comment starting with ;)",
                               path, rc);
    }
    if (st == SYF_OK && ferror(f))
        st = syf_error_set(SYF_EINPUT, "%s: read error", path);
    fclose(f);
    free(c);
    return st;
}

int syf_scenario_load(const char *path, syf_scenario *sc)
{
    syf_scenario_defaults(sc);
    int st = load_file(sc, path, 0);
    if (st != SYF_OK)
        return st;
    return syf_scenario_validate(sc);
}

int syf_scenario_set(syf_scenario *sc, const char *dotted, const char *value, const char *where)
{
    const char *dot = strchr(dotted, '.');
    char section[64];
    if (!dot || (size_t)(dot - dotted) >= sizeof section)
        return syf_error_set(SYF_EINPUT, "%s: '%s': expected SECTION.KEY", where, dotted);
    snprintf(section, sizeof section, "%.*s", (int)(dot - dotted), dotted);
    size_t idx;
    const syf_keydef *k = find_key(section, dot + 1, &idx);
    if (!k)
        return syf_error_set(SYF_EINPUT, "%s: %s: unknown key", where, dotted);
    char err[512];
    if (!key_assign(sc, k, value, err, sizeof err))
        return syf_error_set(SYF_EINPUT, "%s: %s: %s", where, dotted, err);
    sc->meta.origin_file[idx] = -1;
    sc->meta.origin_line[idx] = -1; /* set on the command line */
    return SYF_OK;
}

/* Location of a key's value for cross-key error messages. */
static void key_where(const syf_scenario *sc, const char *section, const char *key, char *buf,
                      size_t n)
{
    size_t idx;
    if (!find_key(section, key, &idx)) {
        snprintf(buf, n, "?");
        return;
    }
    int fi = sc->meta.origin_file[idx];
    if (fi >= 0)
        snprintf(buf, n, "%s:%d", sc->meta.files[fi], sc->meta.origin_line[idx]);
    else if (sc->meta.origin_line[idx] < 0)
        snprintf(buf, n, "command line");
    else
        snprintf(buf, n, "%s", sc->meta.n_files ? sc->meta.files[0] : "defaults");
}

int syf_scenario_validate(const syf_scenario *sc)
{
    char w[600];
    if (sc->trial.design != SYF_DESIGN_NONE &&
        sc->run.follow_up_days < sc->trial.outcome_days) {
        key_where(sc, "run", "follow_up_days", w, sizeof w);
        return syf_error_set(SYF_EINPUT,
                             "%s: run.follow_up_days: %ld is shorter than trial.outcome_days %ld "
                             "(accepted: at least trial.outcome_days so outcomes are observed)",
                             w, sc->run.follow_up_days, sc->trial.outcome_days);
    }
    const int d = sc->trial.design;
    int pilot_teams = sc->employer_team.fte > 0 && sc->employer_team.in_pilot;
    for (int t = 0; t < SYF_N_TEAM; t++)
        pilot_teams |= sc->team[t].fte > 0 && sc->team[t].in_pilot;
    if (d != SYF_DESIGN_NONE && sc->pilot.type == SYF_PILOT_NONE && !pilot_teams) {
        key_where(sc, "pilot", "type", w, sizeof w);
        return syf_error_set(SYF_EINPUT,
                             "%s: pilot.type: a %s design needs a pilot to assign "
                             "(accepted: msyfo or risk_score, or a team with fte > 0 and "
                             "in_pilot = 1)",
                             w, d == SYF_DESIGN_CLUSTER_RCT ? "cluster_rct" : "trial");
    }
    int person_pilot_teams = 0;
    for (int t = 0; t < SYF_N_TEAM; t++)
        person_pilot_teams |= sc->team[t].fte > 0 && sc->team[t].in_pilot;
    if (d != SYF_DESIGN_NONE && sc->trial.population == SYF_POPULATION_TEAM_ELIGIBLE &&
        !person_pilot_teams) {
        key_where(sc, "trial", "population", w, sizeof w);
        return syf_error_set(SYF_EINPUT,
                             "%s: trial.population: team_eligible needs a team with fte > 0 and "
                             "in_pilot = 1 (accepted: all)",
                             w);
    }
    /* the trial population is recruited on spell day pilot.triage_day: a
     * pilot team referring earlier would treat before recruitment */
    for (int t = 0; t < SYF_N_TEAM && d != SYF_DESIGN_NONE; t++) {
        const syf_team_params *tp = &sc->team[t];
        if (tp->fte > 0 && tp->in_pilot && tp->source == SYF_SOURCE_WINDOW &&
            tp->refer_day + tp->referral_delay_days < sc->pilot.triage_day) {
            char sec[32];
            snprintf(sec, sizeof sec, "team_%s", syf_team_names[t]);
            key_where(sc, sec, "refer_day", w, sizeof w);
            return syf_error_set(SYF_EINPUT,
                                 "%s: %s.refer_day: %ld is before pilot.triage_day %ld, the "
                                 "day the trial population is recruited (accepted: refer_day "
                                 "at least pilot.triage_day; lower pilot.triage_day)",
                                 w, sec, tp->refer_day, sc->pilot.triage_day);
        }
        if (tp->fte > 0 && tp->age_min > tp->age_max) {
            char sec[32];
            snprintf(sec, sizeof sec, "team_%s", syf_team_names[t]);
            key_where(sc, sec, "age_min", w, sizeof w);
            return syf_error_set(SYF_EINPUT,
                                 "%s: %s.age_min: %ld is above age_max %ld (accepted: "
                                 "age_min <= age_max)",
                                 w, sec, tp->age_min, tp->age_max);
        }
    }
    if (d == SYF_DESIGN_STEPPED_WEDGE || d == SYF_DESIGN_STAGGERED) {
        if (sc->trial.periods <= sc->trial.sequences) {
            key_where(sc, "trial", "periods", w, sizeof w);
            return syf_error_set(SYF_EINPUT,
                                 "%s: trial.periods: %ld periods for %ld sequences (accepted: "
                                 "more periods than sequences)",
                                 w, sc->trial.periods, sc->trial.sequences);
        }
        if (sc->trial.sequences > sc->world.offices) {
            key_where(sc, "trial", "sequences", w, sizeof w);
            return syf_error_set(SYF_EINPUT,
                                 "%s: trial.sequences: %ld sequences for %ld offices (accepted: "
                                 "at most one sequence per office)",
                                 w, sc->trial.sequences, sc->world.offices);
        }
        if (sc->run.observation_days / sc->trial.periods < 7) {
            key_where(sc, "trial", "periods", w, sizeof w);
            return syf_error_set(SYF_EINPUT,
                                 "%s: trial.periods: periods shorter than a week (accepted: at "
                                 "most run.observation_days / 7 periods)",
                                 w);
        }
        if (sc->trial.sequence_sizes[0]) {
            long sum = 0, n = 0;
            const char *p = sc->trial.sequence_sizes;
            key_where(sc, "trial", "sequence_sizes", w, sizeof w);
            for (;;) {
                char *end;
                long v = strtol(p, &end, 10);
                while (*end == ' ')
                    end++;
                if (end == p || v < 1 || (*end && *end != ','))
                    return syf_error_set(SYF_EINPUT,
                                         "%s: trial.sequence_sizes: '%s' (accepted: "
                                         "comma-separated positive counts)",
                                         w, sc->trial.sequence_sizes);
                sum += v;
                n++;
                if (!*end)
                    break;
                p = end + 1;
            }
            if (n != sc->trial.sequences || sum != sc->world.offices)
                return syf_error_set(SYF_EINPUT,
                                     "%s: trial.sequence_sizes: %ld counts summing to %ld "
                                     "(accepted: trial.sequences = %ld counts summing to "
                                     "world.offices = %ld)",
                                     w, n, sum, sc->trial.sequences, sc->world.offices);
        }
    }
    if (d == SYF_DESIGN_SINGLE_SITE && sc->world.offices < 3) {
        key_where(sc, "world", "offices", w, sizeof w);
        return syf_error_set(SYF_EINPUT,
                             "%s: world.offices: the single_site design needs donors (accepted: "
                             "at least 3 offices)",
                             w);
    }
    if (d == SYF_DESIGN_RD && sc->pilot.type != SYF_PILOT_RISK_SCORE) {
        key_where(sc, "pilot", "type", w, sizeof w);
        return syf_error_set(SYF_EINPUT,
                             "%s: pilot.type: the rd design needs a threshold rule (accepted: "
                             "risk_score)",
                             w);
    }
    if (d == SYF_DESIGN_RD && sc->trial.estimator > SYF_ESTIMATOR_OLS) {
        key_where(sc, "trial", "estimator", w, sizeof w);
        return syf_error_set(SYF_EINPUT,
                             "%s: trial.estimator: the rd design is analysed by local-linear "
                             "regression (accepted: default or ols)",
                             w);
    }
    if (d == SYF_DESIGN_STRATIFIED_CRT && sc->trial.strata * 2 > sc->world.offices) {
        key_where(sc, "trial", "strata", w, sizeof w);
        return syf_error_set(SYF_EINPUT,
                             "%s: trial.strata: %ld strata for %ld offices (accepted: at least "
                             "2 offices per stratum)",
                             w, sc->trial.strata, sc->world.offices);
    }
    if (d == SYF_DESIGN_CLUSTER_RCT || d == SYF_DESIGN_SELF_SELECTED ||
        d == SYF_DESIGN_STRATIFIED_CRT) {
        long nt = lround(sc->trial.treated_share * (double)sc->world.offices);
        if (nt < 1 || nt > sc->world.offices - 1) {
            key_where(sc, "trial", "treated_share", w, sizeof w);
            return syf_error_set(SYF_EINPUT,
                                 "%s: trial.treated_share: %g of %ld offices leaves an arm empty "
                                 "(accepted: at least one office in each arm)",
                                 w, sc->trial.treated_share, sc->world.offices);
        }
    }
    if (sc->population.persons < 2 * sc->world.offices) {
        key_where(sc, "population", "persons", w, sizeof w);
        return syf_error_set(SYF_EINPUT,
                             "%s: population.persons: %ld persons for %ld offices (accepted: at "
                             "least 2 persons per office)",
                             w, sc->population.persons, sc->world.offices);
    }
    if (sc->pilot.q1_cuts[0] > sc->pilot.q1_cuts[1]) {
        key_where(sc, "pilot", "q1_cuts", w, sizeof w);
        return syf_error_set(SYF_EINPUT,
                             "%s: pilot.q1_cuts: cuts must be increasing (accepted: two numbers, "
                             "first <= second)",
                             w);
    }
    if (sc->pilot.tier_cuts[0] > sc->pilot.tier_cuts[1]) {
        key_where(sc, "pilot", "tier_cuts", w, sizeof w);
        return syf_error_set(SYF_EINPUT,
                             "%s: pilot.tier_cuts: cuts must be increasing (accepted: two "
                             "numbers, first <= second)",
                             w);
    }
    return SYF_OK;
}

/* --- output ---------------------------------------------------------- */

static void value_text(const syf_scenario *sc, const syf_keydef *k, char *buf, size_t n)
{
    const char *base = (const char *)sc + k->offset;
    switch (k->type) {
    case SYF_KT_INT:
        snprintf(buf, n, "%ld", *(const long *)base);
        break;
    case SYF_KT_REAL:
        snprintf(buf, n, "%.17g", *(const double *)base);
        /* shortest text that reads back to the same double */
        for (int prec = 1; prec <= 17; prec++) {
            char tmp[64];
            snprintf(tmp, sizeof tmp, "%.*g", prec, *(const double *)base);
            if (strtod(tmp, NULL) == *(const double *)base) {
                snprintf(buf, n, "%s", tmp);
                break;
            }
        }
        break;
    case SYF_KT_LIST: {
        size_t used = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < k->len; i++) {
            double v = ((const double *)base)[i];
            char tmp[64];
            for (int prec = 1; prec <= 17; prec++) {
                snprintf(tmp, sizeof tmp, "%.*g", prec, v);
                if (strtod(tmp, NULL) == v)
                    break;
            }
            int wr = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", tmp);
            if (wr < 0 || (size_t)wr >= n - used)
                break;
            used += (size_t)wr;
        }
        break;
    }
    case SYF_KT_ENUM: {
        int idx = *(const int *)base, i = 0;
        const char *p = k->choices;
        while (i < idx && (p = strchr(p, '|')))
            p++, i++;
        size_t len = strcspn(p, "|");
        snprintf(buf, n, "%.*s", (int)len, p);
        break;
    }
    case SYF_KT_STR:
        snprintf(buf, n, "%s", base);
        break;
    }
}

/* Write text as '; ' comment lines of at most about 100 characters (the
 * INI reader's line limit is 198). */
static void comment_wrapped(FILE *f, const char *text)
{
    const size_t width = 96;
    while (*text) {
        size_t len = strlen(text);
        size_t cut = len;
        if (len > width) {
            cut = width;
            while (cut > 20 && text[cut] != ' ')
                cut--;
            if (cut <= 20)
                cut = width;
        }
        fprintf(f, "; %.*s\n", (int)cut, text);
        text += cut;
        while (*text == ' ')
            text++;
    }
}

void syf_scenario_write(const syf_scenario *sc, FILE *f, int annotate)
{
    const char *cur = "";
    char val[1024], rng[200];
    for (size_t i = 0; i < syf_n_keys; i++) {
        const syf_keydef *k = &syf_keys[i];
        if (strcmp(cur, k->section)) {
            fprintf(f, "%s[%s]\n", i ? "\n" : "", k->section);
            cur = k->section;
        }
        value_text(sc, k, val, sizeof val);
        if (annotate) {
            char note[1600];
            range_text(k, rng, sizeof rng);
            int fi = sc->meta.origin_file[i];
            comment_wrapped(f, k->doc);
            snprintf(note, sizeof note, "accepted: %s; default: %s", rng, k->def);
            comment_wrapped(f, note);
            if (fi >= 0) {
                snprintf(note, sizeof note, "set at %s:%d", sc->meta.files[fi],
                         sc->meta.origin_line[i]);
                comment_wrapped(f, note);
            } else if (sc->meta.origin_line[i] < 0)
                comment_wrapped(f, "set on the command line");
            if (k->source && k->source[0]) {
                snprintf(note, sizeof note, "source: %s", k->source);
                comment_wrapped(f, note);
            }
        }
        fprintf(f, "%s = %s\n", k->key, val);
    }
}

uint64_t syf_scenario_hash(const syf_scenario *sc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    uint64_t h = 1469598103934665603ULL;
    if (!m)
        return 0;
    syf_scenario_write(sc, m, 0);
    fclose(m);
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)buf[i];
        h *= 1099511628211ULL;
    }
    free(buf);
    return h;
}

void syf_scenario_write_reference(FILE *f)
{
    const char *cur = "";
    char rng[200];
    for (size_t i = 0; i < syf_n_keys; i++) {
        const syf_keydef *k = &syf_keys[i];
        if (strcmp(cur, k->section)) {
            fprintf(f, "\n## [%s]\n\n| key | default | accepted | meaning | source |\n|---|---|---|---|---|\n",
                    k->section);
            cur = k->section;
        }
        range_text(k, rng, sizeof rng);
        fprintf(f, "| `%s` | `%s` | %s | %s | %s |\n", k->key, k->def[0] ? k->def : "(empty)", rng,
                k->doc, k->source && k->source[0] ? k->source : "");
    }
    fprintf(f, "\n## [scenario] base\n\n`base = FILE.ini` (first key of the file, path relative "
               "to the file) reads another scenario first; this file then overrides it.\n");
}

_Static_assert(sizeof syf_keys / sizeof syf_keys[0] <= SYF_MAX_KEYS, "raise SYF_MAX_KEYS");
