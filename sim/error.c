/* error.c — per-thread error message store (see error.h). */
#include "syfosim/error.h"

#include <stdarg.h>
#include <stdio.h>

static _Thread_local char syf_errbuf[1024];

int syf_error_set(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(syf_errbuf, sizeof syf_errbuf, fmt, ap);
    va_end(ap);
    return code;
}

const char *syf_error_message(void) { return syf_errbuf; }

void syf_error_clear(void) { syf_errbuf[0] = '\0'; }

int syf_error_exit_code(int status)
{
    if (status == SYF_OK)
        return 0;
    return status == SYF_EINPUT ? 2 : 1;
}
