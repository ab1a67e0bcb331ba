/* cli_util.c — shared helpers of the subcommands (see cli_util.h). */
#include "cli_util.h"
#include "syfosim/error.h"
#include "syfosim/trial.h"
#include "syfosim/version.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_fail(const char *cmd, int status)
{
    fprintf(stderr, "syfosim %s: %s\n", cmd, syf_error_message());
    return syf_error_exit_code(status);
}

int cli_parse_long(const char *cmd, const char *opt, const char *val, long min, long max,
                   long *out)
{
    char *end;
    errno = 0;
    long v = val ? strtol(val, &end, 10) : 0;
    if (!val || !*val || *end || errno || v < min || v > max) {
        fprintf(stderr, "syfosim %s: %s: '%s' is not valid (accepted: an integer from %ld to %ld)\n",
                cmd, opt, val ? val : "", min, max);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_load_scenario(const char *path, char **sets, int nsets, syf_scenario *sc)
{
    int st = syf_scenario_load(path, sc);
    if (st != SYF_OK)
        return st;
    for (int k = 0; k < nsets; k++) {
        char key[256];
        const char *eq = strchr(sets[k], '=');
        if (!eq || (size_t)(eq - sets[k]) >= sizeof key)
            return syf_error_set(SYF_EINPUT, "--set %s: expected SECTION.KEY=VALUE", sets[k]);
        snprintf(key, sizeof key, "%.*s", (int)(eq - sets[k]), sets[k]);
        st = syf_scenario_set(sc, key, eq + 1, "--set");
        if (st != SYF_OK)
            return st;
    }
    st = syf_scenario_validate(sc);
    if (st == SYF_OK) /* estimator and design must fit together (exit 2 up front) */
        st = syf_trial_estimator_check(sc);
    return st;
}

void cli_provenance(FILE *f, const syf_scenario *sc, uint64_t seed, const char *what)
{
    fprintf(f, "# syfosim %s git=%s scenario=%s scenario_hash=%016llx seed=%llu %s\n", SYF_VERSION,
            syf_git_revision(), sc->name, (unsigned long long)syf_scenario_hash(sc),
            (unsigned long long)seed, what);
}

volatile sig_atomic_t cli_stop_signal;

static void on_stop_signal(int sig) { cli_stop_signal = sig; }

void cli_catch_signals(int on)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on ? on_stop_signal : SIG_DFL;
    sa.sa_flags = on ? SA_RESETHAND : 0; /* a second signal ends the process */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_mkdirs(const char *dir)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) && errno != EEXIST)
            return syf_error_set(SYF_ERUNTIME, "%s: cannot create directory: %s", buf,
                                 strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return syf_error_set(SYF_ERUNTIME, "%s: cannot create directory: %s", buf,
                             strerror(errno));
    return SYF_OK;
}

int cli_out_open(cli_outfile *o, const char *dir, const char *name)
{
    snprintf(o->final, sizeof o->final, "%s/%s", dir, name);
    snprintf(o->tmp, sizeof o->tmp, "%s/.%s.tmp.XXXXXX", dir, name);
    int fd = mkstemp(o->tmp);
    if (fd < 0)
        return syf_error_set(SYF_ERUNTIME, "%s: cannot create: %s", o->final, strerror(errno));
    fchmod(fd, 0644);
    o->f = fdopen(fd, "w");
    if (!o->f) {
        close(fd);
        unlink(o->tmp);
        return syf_error_set(SYF_ERUNTIME, "%s: cannot open: %s", o->final, strerror(errno));
    }
    return SYF_OK;
}

int cli_out_commit(cli_outfile *o)
{
    int bad = ferror(o->f);
    if (fclose(o->f) != 0 || bad) {
        unlink(o->tmp);
        return syf_error_set(SYF_ERUNTIME, "%s: write failed", o->final);
    }
    o->f = NULL;
    if (rename(o->tmp, o->final) != 0) {
        unlink(o->tmp);
        return syf_error_set(SYF_ERUNTIME, "%s: cannot rename into place: %s", o->final,
                             strerror(errno));
    }
    return SYF_OK;
}

void cli_out_abort(cli_outfile *o)
{
    if (o->f)
        fclose(o->f);
    o->f = NULL;
    unlink(o->tmp);
}

int cli_estimators_split(const char *list, char *buf, size_t bufsize, char **tokens, size_t max,
                         size_t *n)
{
    *n = 0;
    if (!list || !*list || strlen(list) >= bufsize)
        return syf_error_set(SYF_EINPUT, "--estimators: expected NAME[+INFERENCE],... (e.g. "
                                         "lmm,ols,ols+wild)");
    snprintf(buf, bufsize, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == max)
            return syf_error_set(SYF_EINPUT, "--estimators: at most %zu analyses", max);
        if (strpbrk(t, " \t\r\n:") || strlen(t) > 40)
            return syf_error_set(SYF_EINPUT, "--estimators: '%s' is not NAME[+INFERENCE]", t);
        for (size_t k = 0; k < *n; k++)
            if (!strcmp(tokens[k], t))
                return syf_error_set(SYF_EINPUT, "--estimators: '%s' given twice", t);
        tokens[(*n)++] = t;
    }
    if (!*n || list[0] == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,"))
        return syf_error_set(SYF_EINPUT, "--estimators: '%s': empty entry (expected "
                                         "NAME[+INFERENCE],...)",
                             list);
    return SYF_OK;
}

int cli_estimator_apply(const char *token, syf_scenario *sc)
{
    char name[64];
    const char *plus = strchr(token, '+');
    snprintf(name, sizeof name, "%.*s", plus ? (int)(plus - token) : (int)strlen(token), token);
    /* unknown names: the scenario module's message lists the accepted ones */
    int st = syf_scenario_set(sc, "trial.estimator", name, "--estimators");
    if (st == SYF_OK)
        st = syf_scenario_set(sc, "trial.inference", plus ? plus + 1 : "analytic", "--estimators");
    if (st != SYF_OK)
        return st;
    st = syf_scenario_validate(sc);
    if (st == SYF_OK)
        st = syf_trial_estimator_check(sc);
    if (st != SYF_OK) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", syf_error_message());
        return syf_error_set(st == SYF_ENOMEM ? st : SYF_EINPUT,
                             "--estimators: %s cannot analyse this scenario: %s", token, msg);
    }
    return SYF_OK;
}
