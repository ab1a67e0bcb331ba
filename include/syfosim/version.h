/* version.h — library version and build provenance. */
#ifndef SYFOSIM_VERSION_H
#define SYFOSIM_VERSION_H

#define SYF_VERSION "0.1.0"

/* Git revision the library was built from ("unknown" outside a checkout). */
const char *syf_git_revision(void);

#endif
