#!/usr/bin/env python3
"""Worked example: read the notebooks data and reproduce syfosim's headline numbers.

Run from the repository root (or give the notebooks-data directory):

    python3 notebooks-data/example.py [notebooks-data]

Only the Python standard library is used (csv, math, statistics), so it runs
anywhere.  With pandas the reading is one line per file:
    pandas.read_csv("notebooks-data/trial/trial.csv", comment="#")
and in R:
    read.csv("notebooks-data/trial/trial.csv", comment.char = "#")

What it shows:
  1. the trial's estimate in estimates.csv is the difference in mean outcome
     between pilot and control participants in trial.csv;
  2. its CR2 cluster-robust standard error, recomputed by hand (with the
     treatment constant within offices, CR2 reduces to scaling each office's
     residual sum by (1 - n_g h_g)^(-1/2));
  3. the simulator's truth (SATE) is the mean of outcome_pilot - outcome_control;
  4. the diagnosis' power, bias and coverage are plain summaries of
     replicates.csv;
  5. the sweep's power by number of offices.
Each reproduced number is compared with the file syfosim wrote; the script
exits 1 if any differs by more than 1e-6 (relative).
"""
import csv
import math
import os
import sys

DIR = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)))
failures = 0


def read(path):
    """Rows of a syfosim CSV as dicts (the '# syfosim ...' provenance line skipped)."""
    with open(os.path.join(DIR, path), newline="") as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def compare(what, mine, theirs, tol=1e-6):
    global failures
    ok = abs(mine - theirs) <= tol * max(1.0, abs(theirs))
    failures += not ok
    print(f"  {what:<46} {mine:>14.6f}   file: {theirs:>14.6f}   {'ok' if ok else 'DIFFERS'}")


# --- 1-3: one trial -----------------------------------------------------------
trial = [r for r in read("trial/trial.csv") if r["analysed"] == "1"]
est = read("trial/estimates.csv")[0]
print(f"trial: {len(trial)} analysed participants in "
      f"{len({r['office_id'] for r in trial})} offices; outcome {est['outcome']}, "
      f"design {est['design']}, estimator {est['estimator']}")

y = [float(r["outcome"]) for r in trial]
z = [int(r["treated"]) for r in trial]
n1 = sum(z)
n0 = len(z) - n1
mean1 = sum(yi for yi, zi in zip(y, z) if zi) / n1
mean0 = sum(yi for yi, zi in zip(y, z) if not zi) / n0
compare("mean outcome, control", mean0, float(est["mean_control"]))
compare("mean outcome, pilot", mean1, float(est["mean_pilot"]))
compare("difference in means = estimate", mean1 - mean0, float(est["estimate"]))

# OLS of y on (1, z): residuals, (X'X)^-1, and the CR2 sandwich by office.
resid = [yi - (mean1 if zi else mean0) for yi, zi in zip(y, z)]
n = len(y)
det = n * n1 - n1 * n1                       # X'X = [[n, n1], [n1, n1]]
inv = [[n1 / det, -n1 / det], [-n1 / det, n / det]]
clusters = {}
for r, e in zip(trial, resid):
    c = clusters.setdefault(r["office_id"], {"n": 0, "z": int(r["treated"]), "sum_e": 0.0})
    c["n"] += 1
    c["sum_e"] += e
meat = [[0.0, 0.0], [0.0, 0.0]]
for c in clusters.values():
    x = (1.0, float(c["z"]))
    h = sum(x[a] * inv[a][b] * x[b] for a in range(2) for b in range(2))  # leverage of one row
    s = c["sum_e"] / math.sqrt(1.0 - c["n"] * h)   # (I - H_gg)^(-1/2) applied, summed
    for a in range(2):
        for b in range(2):
            meat[a][b] += x[a] * x[b] * s * s
bread_meat = [[sum(inv[a][k] * meat[k][b] for k in range(2)) for b in range(2)] for a in range(2)]
vcov = [[sum(bread_meat[a][k] * inv[k][b] for k in range(2)) for b in range(2)] for a in range(2)]
compare("CR2 standard error of the estimate", math.sqrt(vcov[1][1]), float(est["std_error"]))

everyone = read("trial/trial.csv")  # the SATE is over all recruited participants
sate = sum(float(r["outcome_pilot"]) - float(r["outcome_control"]) for r in everyone) / len(everyone)
compare("mean(outcome_pilot - outcome_control) = SATE", sate, float(est["estimand_sate"]))

# --- 4: the diagnosis ---------------------------------------------------------
diag = {(r["estimand"], r["diagnosand"]): r for r in read("diagnosis/diagnosis.csv")}
reps = [r for r in read("diagnosis/replicates.csv") if r["estimand"] == "sate" and r["status"] == "ok"]
alpha = 0.05
print(f"diagnosis: {len(reps)} successful replications")
power = sum(float(r["p_value"]) < alpha for r in reps) / len(reps)
compare("share of replications with p < 0.05 = power", power, float(diag[("sate", "power")]["value"]))
bias = sum(float(r["estimate"]) - float(r["estimand_value"]) for r in reps) / len(reps)
compare("mean(estimate - estimand) = bias", bias, float(diag[("sate", "bias")]["value"]))
cover = sum(float(r["conf_low"]) <= float(r["estimand_value"]) <= float(r["conf_high"])
            for r in reps) / len(reps)
compare("share of CIs covering the estimand = coverage", cover, float(diag[("sate", "coverage")]["value"]))
sd = math.sqrt(sum((float(r["estimate"]) - sum(float(q["estimate"]) for q in reps) / len(reps)) ** 2
                   for r in reps) / (len(reps) - 1))
compare("SD of the estimates = sd", sd, float(diag[("sate", "sd")]["value"]))
d = [float(r["estimate"]) - float(r["estimand_value"]) for r in reps]
sd_d = math.sqrt(sum((x - bias) ** 2 for x in d) / (len(d) - 1))
compare("MCSE of the bias = sd(estimate - estimand)/sqrt(n)", sd_d / math.sqrt(len(d)),
        float(diag[("sate", "bias")]["mcse"]))

# --- 5: the sweep -------------------------------------------------------------
print("sweep: power by number of offices and pilot effect (MCSE in brackets)")
for r in read("sweep/sweep.csv"):
    if r["estimand"] == "sate" and r["diagnosand"] == "power":
        print(f"  offices {r['world.offices']:>3}, effect_hr {r['pilot.effect_hr']:<5} "
              f"power {float(r['value']):.3f} ({float(r['mcse']):.3f})")

print("all reproduced" if failures == 0 else f"{failures} numbers differ")
sys.exit(1 if failures else 0)
