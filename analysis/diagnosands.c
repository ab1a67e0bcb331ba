/* diagnosands.c — Monte Carlo diagnosands and their Monte Carlo SEs.
 *
 * Consumes the per-replication results a diagnosis collects (one row per
 * replication for one design × estimator × estimand) and produces the
 * summary in DESIGN.md §5.  Formulas follow Morris, White & Crowther (2019,
 * Table 6) exactly as rsimsum's perfms() implements them, so results can be
 * checked against rsimsum; see diagnosands.h for the list.  Two passes over
 * the data (means first, then centred sums) keep the variances accurate.
 */
#include "syfosim/diagnosands.h"

#include "syfosim/error.h"

#include <math.h>
#include <string.h>

static int rep_is_ok(const syf_rep_result *x)
{
    return x->failed == 0 && isfinite(x->estimate) && isfinite(x->estimand);
}

static int sign_of(double v) { return (v > 0) - (v < 0); }

/* Share p of n with its binomial MCSE sqrt(p(1-p)/n). */
static syf_diagnosand share(double k, double n)
{
    syf_diagnosand d = {NAN, NAN};
    if (!(n > 0))
        return d;
    d.value = k / n;
    d.mcse = isfinite(d.value) ? sqrt(d.value * (1.0 - d.value) / n) : NAN;
    return d;
}

int syf_diagnosands_compute(const syf_rep_result *r, size_t n, double alpha,
                            syf_diagnosis *out)
{
    if (out == NULL)
        return syf_error_set(SYF_EINPUT, "diagnosands: output is NULL");
    if (r == NULL && n > 0)
        return syf_error_set(SYF_EINPUT, "diagnosands: results are NULL");
    if (!(alpha > 0.0 && alpha < 1.0))
        return syf_error_set(SYF_EINPUT,
                             "diagnosands: alpha must be in (0, 1), got %g",
                             alpha);

    memset(out, 0, sizeof *out);
    out->n_reps = n;
    out->alpha = alpha;
    const syf_diagnosand nan2 = {NAN, NAN};
    out->mean_estimand = out->mean_estimate = out->bias = out->sd = nan2;
    out->mse = out->rmse = out->power = out->coverage = out->type_s = nan2;
    out->mean_ci_width = out->mean_se = out->rel_error_se = nan2;

    /* Pass 1: counts and means. */
    size_t m = 0;
    double s_theta = 0, s_est = 0, s_err = 0, s_err2 = 0, s_width = 0;
    double s_se2 = 0, n_sig = 0, n_wrong = 0, n_signed = 0, n_cover = 0;
    for (size_t i = 0; i < n; i++) {
        const syf_rep_result *x = &r[i];
        if (!rep_is_ok(x)) {
            int k = x->reason;
            if (k < 0 || k >= SYF_DIAG_N_REASONS - 1)
                k = SYF_DIAG_N_REASONS - 1;
            out->n_failed_by_reason[k]++;
            continue;
        }
        m++;
        double e = x->estimate - x->estimand;
        s_theta += x->estimand;
        s_est += x->estimate;
        s_err += e;
        s_err2 += e * e;
        s_width += x->conf_high - x->conf_low;
        s_se2 += x->std_error * x->std_error;
        /* NaN p-values / limits make the comparisons false; count them so
         * the share becomes NaN instead of silently low. */
        if (isnan(x->p_value))
            n_sig = NAN;
        else if (x->p_value < alpha) {
            n_sig += 1;
            /* type S is defined against a signed estimand only */
            if (x->estimand != 0.0) {
                n_signed += 1;
                if (sign_of(x->estimate) != sign_of(x->estimand))
                    n_wrong += 1;
            }
        }
        if (isnan(x->conf_low) || isnan(x->conf_high))
            n_cover = NAN;
        else if (x->conf_low <= x->estimand && x->estimand <= x->conf_high)
            n_cover += 1;
    }
    out->n_ok = m;
    out->n_failed = n - m;
    if (m == 0)
        return SYF_OK;

    const double dm = (double)m;
    const double mean_theta = s_theta / dm, mean_est = s_est / dm;
    const double bias = s_err / dm, mse = s_err2 / dm;
    const double mean_width = s_width / dm, mean_se2 = s_se2 / dm;

    /* Pass 2: centred sums of squares. */
    double ss_theta = 0, ss_est = 0, ss_err = 0, ss_mse = 0, ss_width = 0;
    double ss_se2 = 0;
    for (size_t i = 0; i < n; i++) {
        const syf_rep_result *x = &r[i];
        if (!rep_is_ok(x))
            continue;
        double e = x->estimate - x->estimand;
        double d;
        d = x->estimand - mean_theta;
        ss_theta += d * d;
        d = x->estimate - mean_est;
        ss_est += d * d;
        d = e - bias;
        ss_err += d * d;
        d = e * e - mse;
        ss_mse += d * d;
        d = (x->conf_high - x->conf_low) - mean_width;
        ss_width += d * d;
        d = x->std_error * x->std_error - mean_se2;
        ss_se2 += d * d;
    }

    /* mcse of a mean: sqrt(sum of squares / (m (m-1))); NaN for m < 2. */
    const double mm1 = m > 1 ? dm * (dm - 1.0) : NAN;

    out->mean_estimand.value = mean_theta;
    out->mean_estimand.mcse = sqrt(ss_theta / mm1);
    out->mean_estimate.value = mean_est;
    out->mean_estimate.mcse = sqrt(ss_est / mm1);

    /* Bias: the MCSE uses the spread of θ̂ − θ, which is rsimsum's
     * sd(θ̂)/√n when the estimand is constant. */
    out->bias.value = bias;
    out->bias.mcse = sqrt(ss_err / mm1);

    /* Empirical SE and its MCSE empSE / sqrt(2(n-1)). */
    double sd = m > 1 ? sqrt(ss_est / (dm - 1.0)) : NAN;
    out->sd.value = sd;
    out->sd.mcse = m > 1 ? sd / sqrt(2.0 * (dm - 1.0)) : NAN;

    /* MSE and RMSE (delta method). */
    out->mse.value = mse;
    out->mse.mcse = sqrt(ss_mse / mm1);
    out->rmse.value = sqrt(mse);
    out->rmse.mcse = mse > 0 ? out->mse.mcse / (2.0 * out->rmse.value)
                             : (m > 1 ? 0.0 : NAN);

    out->power = share(n_sig, dm);
    out->coverage = share(n_cover, dm);
    if (isfinite(n_sig)) {
        out->n_significant = (size_t)n_sig;
        /* NaN if no significant replication has a non-zero estimand */
        out->type_s = share(n_wrong, n_signed);
    }

    out->mean_ci_width.value = mean_width;
    out->mean_ci_width.mcse = sqrt(ss_width / mm1);

    /* Model SE as rsimsum: sqrt(mean(SE^2)), MCSE sqrt(var(SE^2)/(4 n
     * modSE^2)), var with divisor n-1. */
    const double var_se2 = m > 1 ? ss_se2 / (dm - 1.0) : NAN;
    const double modse = sqrt(mean_se2);
    out->mean_se.value = modse;
    out->mean_se.mcse = sqrt(var_se2 / (4.0 * dm * mean_se2));

    /* Relative % error in model SE, rsimsum's formula verbatim:
     * 100 (modSE/empSE) sqrt(var(SE^2)/(4 n modSE^4) + 1/(2n - 1)).
     * (Morris et al. print 1/(2(n-1)) in the last term; for n = 1000 the
     * two differ in the sixth significant digit of the MCSE.) */
    out->rel_error_se.value = 100.0 * (modse / sd - 1.0);
    out->rel_error_se.mcse =
        100.0 * (modse / sd) *
        sqrt(var_se2 / (4.0 * dm * mean_se2 * mean_se2) +
             1.0 / (2.0 * dm - 1.0));
    return SYF_OK;
}

/* CSV text field: quoted when it contains a separator, quote or newline. */
static void put_field(FILE *f, const char *s)
{
    if (s == NULL)
        s = "";
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void put_number(FILE *f, double v)
{
    if (!isnan(v))
        fprintf(f, "%.10g", v);
}

int syf_diagnosis_write_csv(FILE *f, int header, const char *design,
                            const char *estimator, const char *estimand,
                            const syf_diagnosis *d)
{
    if (f == NULL || d == NULL)
        return syf_error_set(SYF_EINPUT, "diagnosis csv: NULL argument");
    const struct {
        const char *name;
        const syf_diagnosand *v;
    } rows[] = {
        {"mean_estimand", &d->mean_estimand},
        {"mean_estimate", &d->mean_estimate},
        {"bias", &d->bias},
        {"sd", &d->sd},
        {"rmse", &d->rmse},
        {"power", &d->power},
        {"coverage", &d->coverage},
        {"type_s", &d->type_s},
        {"mean_ci_width", &d->mean_ci_width},
        {"mean_se", &d->mean_se},
        {"rel_error_se", &d->rel_error_se},
    };
    if (header)
        fputs("design,estimator,estimand,diagnosand,value,mcse,n_reps,"
              "n_failed\n",
              f);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        put_field(f, design);
        fputc(',', f);
        put_field(f, estimator);
        fputc(',', f);
        put_field(f, estimand);
        fputc(',', f);
        fputs(rows[i].name, f);
        fputc(',', f);
        put_number(f, rows[i].v->value);
        fputc(',', f);
        put_number(f, rows[i].v->mcse);
        fprintf(f, ",%zu,%zu\n", d->n_reps, d->n_failed);
    }
    if (ferror(f))
        return syf_error_set(SYF_ERUNTIME, "diagnosis csv: write failed");
    return SYF_OK;
}
