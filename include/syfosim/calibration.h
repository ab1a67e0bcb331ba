/* calibration.h — simulated statistics beside the calibration targets of
 * shared/research/calibration.md, each with its tolerance and source.
 *
 * syf_calibration_run() simulates the scenario's population once (no
 * pilot) and measures, on the spells that start in the observation window,
 * incidence, the duration distribution, the diagnosis mix, grading, the
 * female : male ratio and the age profile of sick-leave days.  Accumulators
 * are integers, so the result does not depend on the number of threads.
 */
#ifndef SYFOSIM_CALIBRATION_H
#define SYFOSIM_CALIBRATION_H

#include "syfosim/scenario.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SYF_CALIB_MAX_ROWS 40

typedef struct {
    char name[64];
    double target, tolerance, value;
    int ok;
    char source[64];
} syf_calib_row;

typedef struct {
    size_t n_rows;
    syf_calib_row rows[SYF_CALIB_MAX_ROWS];
    long long persons, spells;
    int all_ok;
} syf_calibration;

int syf_calibration_run(const syf_scenario *sc, uint64_t seed, int threads,
                        syf_calibration *out);
void syf_calibration_print(const syf_calibration *c, FILE *f);

#endif
