/* scenario.h — everything a user varies, read from one INI file.
 *
 * A scenario is a plain struct filled from a table of keys (scenario.c):
 * each key has a section, a type, a default, an accepted range, a one-line
 * description and, where it comes from a seed report or a calibration row,
 * its source.  The same table drives parsing, validation, `syfosim
 * explain` and docs/scenarios.md, so a key cannot exist in one place and
 * not another.
 *
 * A file may start with `[scenario] base = OTHER.ini` (path relative to
 * the file): the base is read first and the file overrides it.
 */
#ifndef SYFOSIM_SCENARIO_H
#define SYFOSIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SYF_N_AGE 11      /* 16-19, 20-24, ..., 60-64, 65-69          */
#define SYF_N_COUNTY 15   /* SSB 2024 counties, calibration row A1     */
#define SYF_N_INDUSTRY 9  /* see syf_industry_names                    */
#define SYF_N_DIAG 4      /* L, P, R, other (ICPC-2 chapters)          */
#define SYF_N_SIZE 7      /* establishment size classes 1-4 ... 250+   */
#define SYF_N_PIECES 16   /* pieces of the baseline recovery hazard    */
#define SYF_MAX_KEYS 320
#define SYF_MAX_FILES 8

#define SYF_N_TEAM 4      /* person-level teams: RPH, CBT, IPS, NAV      */
#define SYF_N_IA 3        /* IA service levels                         */

enum { SYF_DIAG_L, SYF_DIAG_P, SYF_DIAG_R, SYF_DIAG_OTHER };
enum { SYF_TEAM_RPH, SYF_TEAM_CBT, SYF_TEAM_IPS, SYF_TEAM_NAV };
enum { SYF_SOURCE_TRIAGE, SYF_SOURCE_TIER, SYF_SOURCE_WINDOW };
enum { SYF_QUEUE_FIFO, SYF_QUEUE_PRIORITY, SYF_QUEUE_RANDOM };
enum { SYF_ALLOC_BIRTHDATE, SYF_ALLOC_INDUSTRY };
enum { SYF_IA_SELF_SERVICE, SYF_IA_PARTNER, SYF_IA_STRATEGIC };
enum { SYF_PILOT_NONE, SYF_PILOT_MSYFO, SYF_PILOT_RISK_SCORE };
enum {
    SYF_DESIGN_NONE,
    SYF_DESIGN_CLUSTER_RCT,
    SYF_DESIGN_INDIVIDUAL_RCT,
    SYF_DESIGN_STRATIFIED_CRT,
    SYF_DESIGN_MATCHED_CRT,
    SYF_DESIGN_STEPPED_WEDGE,
    SYF_DESIGN_STAGGERED,
    SYF_DESIGN_SELF_SELECTED,
    SYF_DESIGN_RD,
    SYF_DESIGN_SINGLE_SITE
};
enum { SYF_STRATA_SIZE, SYF_STRATA_BASELINE };
enum {
    SYF_ESTIMATOR_DEFAULT,
    SYF_ESTIMATOR_OLS,
    SYF_ESTIMATOR_LMM,
    SYF_ESTIMATOR_GEE,
    SYF_ESTIMATOR_LOGIT,
    SYF_ESTIMATOR_COX,
    SYF_ESTIMATOR_DID,
    SYF_ESTIMATOR_CS,
    SYF_ESTIMATOR_IPW,
    SYF_ESTIMATOR_SC
};
enum { SYF_OUTCOME_PAID_DAYS, SYF_OUTCOME_SICK_DAYS, SYF_OUTCOME_WORK_12M };
enum { SYF_POPULATION_ALL, SYF_POPULATION_TEAM_ELIGIBLE };
enum { SYF_SE_CR2, SYF_SE_CR1, SYF_SE_CR0, SYF_SE_CR3 };
enum { SYF_INFERENCE_ANALYTIC, SYF_INFERENCE_WILD, SYF_INFERENCE_RI };

extern const char *const syf_age_labels[SYF_N_AGE];
extern const char *const syf_county_names[SYF_N_COUNTY];
extern const char *const syf_industry_names[SYF_N_INDUSTRY];
extern const char *const syf_diag_names[SYF_N_DIAG];
extern const char *const syf_team_names[SYF_N_TEAM];   /* "rph", "cbt", "ips", "nav" */
extern const char *const syf_team_professions[SYF_N_TEAM];

/* One person-level team (section team_rph, team_cbt, team_ips, team_nav):
 * see models/teams.h for how the keys act. */
typedef struct {
    double fte, caseload;
    long in_pilot, start_day;
    int source;
    long refer_day, refer_until_day, tier_min, age_min, age_max;
    double diagnoses[SYF_N_DIAG];
    double uptake, gp_dependence;
    long referral_delay_days;
    int queue;
    long max_wait_days;
    double sessions, session_hours;
    long interval_days;
    double intake_hours;
    double hr[SYF_N_DIAG];
    double half_life_days, wait_weakening_days, cost_per_hour, spillover;
} syf_team_params;
/* Left ends (days since spell start) of the baseline hazard pieces. */
extern const int syf_hazard_knots[SYF_N_PIECES];

typedef struct {
    char name[128];
    char description[512];

    struct {
        long seed, burn_in_days, observation_days, follow_up_days;
    } run;

    struct {
        long persons;
        double female_share;
        double age_shares[SYF_N_AGE];
        double county_shares[SYF_N_COUNTY];
        double industry_shares[SYF_N_INDUSTRY];
    } population;

    struct {
        long offices;
        double office_size_cv, employed_per_gp;
        double employer_size_shares[SYF_N_SIZE];
        double office_sd_hazard, office_sd_incidence;
        double employer_sd_incidence, gp_sd_hazard, gp_sd_grading;
        double ia_level_shares[SYF_N_IA];
        double employer_sd_adaptation, gp_cooperation_share, veileder_caseload;
        int allocation;
        double industry_allocation_hr;
    } world;

    struct {
        double rate, female_rr;
        double age_rr[SYF_N_AGE];
        double industry_rr[SYF_N_INDUSTRY];
        double county_rr[SYF_N_COUNTY];
        double health_sd, recurrence_rr;
        long recurrence_days;
    } incidence;

    struct {
        double baseline_hazard[SYF_N_PIECES];
        double diagnosis_shares[SYF_N_DIAG];
        double diagnosis_hr[SYF_N_DIAG];
        double female_hr;
        double age_hr[SYF_N_AGE];
        double prognosis_sd, health_weight;
        double job_change_share, pregnancy_share, serious_share;
    } duration;

    struct {
        double start_logit, start_slope, convert_logit, convert_slope;
        double degrade_share, hr;
        double grade_shares[3]; /* 20-49 %, 50 %, 51-99 % */
    } grading;

    struct {
        long employer_days, max_paid_days, requalify_days;
        long activity_day;
        double activity_hours, activity_hr;
        long dm2_day;
        double dm2_share, dm2_hours;
        double after_max_shares[3]; /* AAP, work, other */
        double sick_pay_nok, veileder_nok_per_hour;
    } regime;

    struct {
        int type;
        long triage_day, exclusion_age;
        double response_share, self_noise_sd;
        double q1_cuts[2];
        double q2_cut, q3_cut, degree_min;
        long recurrent_spells, recurrent_lookback_days;
        double signal_share, eligibility_share;
        double judgement_map_share, judgement_skip_share;
        double checkpoint_days[3];
        double checkpoint_map_share;
        long mapping_delay_days;
        double effect_hr;
        double message_hours, mapping_hours;
        double score_noise_sd, score_threshold, score_observed_weight;
        /* triage rule set version 2 (models/triage.c) */
        double disability_share;
        double self_noise_shared, self_hazard_weight;
        double q2_neither_width, q3_unsure_width, unsure_other_share;
        double complexity_slope, complexity_loading;
        double tier_cuts[2];
    } pilot;

    syf_team_params team[SYF_N_TEAM];

    struct {
        double fte, employers_per_fte;
        long in_pilot;
        double counties[SYF_N_COUNTY], start_days[SYF_N_COUNTY];
        double levels[SYF_N_IA];
        long min_size_class;
        double incidence_rr, hr, hours_per_employer, cost_per_hour;
    } employer_team;

    struct {
        int design;
        double treated_share;
        int strata_by;
        long strata, sequences, periods;
        char sequence_sizes[256];
        long transition_days;
        double selection_strength;
        double consent_share, attrition_slope, fidelity_min;
        double rd_bandwidth;
        int outcome;
        int population; /* SYF_POPULATION_* */
        long outcome_days;
        double alpha;
        int estimator;
        int se;
        long reps;
        int inference;
        long inference_draws;
    } trial;

    /* Where each key's value came from (0 = built-in default). */
    struct {
        int n_files;
        char files[SYF_MAX_FILES][512];
        signed char origin_file[SYF_MAX_KEYS]; /* -1 = default */
        int origin_line[SYF_MAX_KEYS];
    } meta;
} syf_scenario;

/* Fill every key with its documented default. */
void syf_scenario_defaults(syf_scenario *sc);

/* Defaults, then the file (and its bases).  On bad input returns
 * SYF_EINPUT with a message "FILE:LINE: section.key: problem (accepted:
 * ...)".  Cross-key checks (syf_scenario_validate) are included. */
int syf_scenario_load(const char *path, syf_scenario *sc);

/* Set one key from text, as `--set section.key=value` does.  `where` names
 * the origin in error messages. */
int syf_scenario_set(syf_scenario *sc, const char *dotted_key, const char *value,
                     const char *where);

/* Cross-key consistency (windows long enough, shares sum to 1, ...). */
int syf_scenario_validate(const syf_scenario *sc);

/* Write the fully resolved scenario as INI.  With `annotate`, each key is
 * followed by a comment with its range and origin. */
void syf_scenario_write(const syf_scenario *sc, FILE *f, int annotate);

/* 64-bit FNV-1a hash of the resolved scenario (syf_scenario_write without
 * annotations): identifies the scenario in provenance lines. */
uint64_t syf_scenario_hash(const syf_scenario *sc);

/* Write the key reference (markdown) used for docs/scenarios.md. */
void syf_scenario_write_reference(FILE *f);

#endif
