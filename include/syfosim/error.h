/* error.h — status codes and the per-thread error message.
 *
 * Every library function that can fail returns an int status (SYF_OK on
 * success), GSL style.  The human-readable reason is stored per thread with
 * syf_error_set() and read back with syf_error_message().  The CLI maps the
 * status to its exit code: SYF_EINPUT -> 2 (bad input), anything else -> 1.
 *
 * GSL: library code checks the return codes of the GSL routines it calls
 * and reports failures through these codes.  GSL's default error handler
 * aborts the process instead, so a program embedding libsyfosim should
 * call gsl_set_error_handler_off() once at start-up (the syfosim program
 * does), in particular before running fits on several threads.
 */
#ifndef SYFOSIM_ERROR_H
#define SYFOSIM_ERROR_H

enum {
    SYF_OK = 0,
    SYF_ERUNTIME = 1, /* runtime failure: I/O, non-convergence, ...   */
    SYF_EINPUT = 2,   /* bad input: file, key, value, column, ...     */
    SYF_ENOMEM = 3,   /* allocation failed                            */
    SYF_ESINGULAR = 4 /* numerically singular problem (e.g. X'X)      */
};

/* Store a formatted message and return `code` (so callers can write
 * `return syf_error_set(SYF_EINPUT, "...")`). */
int syf_error_set(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The last message stored on this thread ("" if none). */
const char *syf_error_message(void);

/* Clear the message on this thread. */
void syf_error_clear(void);

/* Exit code the CLI uses for a status: 0, 1 or 2. */
int syf_error_exit_code(int status);

#endif
