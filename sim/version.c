/* version.c — build provenance baked in by the Makefile (-DSYF_GIT_REV). */
#include "syfosim/version.h"
#include "git_rev.h"

#ifndef SYF_GIT_REV
#define SYF_GIT_REV "unknown"
#endif

const char *syf_git_revision(void) { return SYF_GIT_REV; }
