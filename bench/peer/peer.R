# bench/peer/peer.R — benchmark 4 of issue 5: the estimation work of one
# stepped-wedge replication done the way researchers do it in R today, on
# the same CSV that bench/run.sh gives bench/fit_bench (syfosim's fits timed
# in-process):
#   estimatr::lm_robust(y ~ treated + factor(period), clusters = office_id, se_type = "CR2")
#   lme4::lmer(y ~ treated + factor(period) + (1 | office_id))  (REML; Hussey-Hughes)
#   clubSandwich CR2 + Satterthwaite (only with PEER_CLUBSANDWICH=1: about 10 s a fit)
# Each timing is system.time() of the fit alone (data already loaded), the
# mean over enough repetitions to last at least 0.2 s; the figure is the
# median of REPS timings, as in fit_bench.
# Usage: Rscript bench/peer/peer.R FILE.csv [REPS]
# Prints one line per method: NAME median_seconds estimate std_error
suppressPackageStartupMessages({
    library(estimatr)
    library(lme4)
})
args <- commandArgs(trailingOnly = TRUE)
file <- args[1]
reps <- if (length(args) > 1) as.integer(args[2]) else 5L
d <- read.csv(file, comment.char = "#")
d$period <- factor(d$period)

timed <- function(name, fit, coef_se) {
    t <- numeric(reps)
    for (i in seq_len(reps)) {
        k <- 0L
        el <- 0
        while (el < 0.2) {
            el <- el + system.time(m <- fit())[["elapsed"]]
            k <- k + 1L
        }
        t[i] <- el / k
    }
    cs <- coef_se(m)
    cat(sprintf("%s %.6f %.10g %.10g\n", name, median(t), cs[1], cs[2]))
}

timed("lm_robust_CR2",
      function() lm_robust(y ~ treated + period, data = d, clusters = office_id, se_type = "CR2"),
      function(m) c(coef(m)[["treated"]], m$std.error[["treated"]]))
timed("lmer_REML",
      function() lmer(y ~ treated + period + (1 | office_id), data = d, REML = TRUE),
      function(m) c(fixef(m)[["treated"]], sqrt(vcov(m)["treated", "treated"])))
if (Sys.getenv("PEER_CLUBSANDWICH") == "1") {
    suppressPackageStartupMessages(library(clubSandwich))
    reps <- 1L
    timed("clubSandwich_CR2_Satterthwaite",
          function() {
              m <- lm(y ~ treated + period, data = d)
              coef_test(m, vcov = "CR2", cluster = d$office_id, test = "Satterthwaite")
          },
          function(ct) c(ct$beta[2], ct$SE[2]))
}
