/* scenario_keys.h — private: the table of scenario keys (scenario.c).
 * Kept apart so that docs and tests can walk the same table. */
#ifndef SYFOSIM_SCENARIO_KEYS_H
#define SYFOSIM_SCENARIO_KEYS_H

#include <stddef.h>

typedef enum { SYF_KT_INT, SYF_KT_REAL, SYF_KT_LIST, SYF_KT_ENUM, SYF_KT_STR } syf_key_type;

enum { SYF_KF_SIMPLEX = 1 }; /* list of shares that must sum to 1 */

typedef struct {
    const char *section, *key;
    syf_key_type type;
    size_t offset; /* into syf_scenario */
    size_t len;    /* LIST: number of values; STR: buffer size */
    const char *def; /* default, as text (parsed like a file value) */
    double min, max; /* accepted range (INT, REAL, each LIST value) */
    const char *choices; /* ENUM: "a|b|c", index 0 first */
    int flags;
    const char *doc;
    const char *source; /* seed line / calibration row, or "judgement" */
} syf_keydef;

extern const syf_keydef syf_keys[];
extern const size_t syf_n_keys;

#endif
