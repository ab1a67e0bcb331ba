library(quadprog)
d <- read.csv("tests/data/sc_smoking.csv", comment.char="#")
Y <- tapply(d$packspercapita, list(d$state, d$year), identity)
pre <- as.numeric(colnames(Y)) < 1989
tr <- "California"; ctrl <- setdiff(rownames(Y), tr)
qp <- function(y1, Y0, eps) { A <- t(Y0[, pre, drop=FALSE]); D <- crossprod(A); J <- ncol(A)
  D <- D + diag(eps * mean(diag(D)), J)
  solve.QP(D, crossprod(A, y1[pre]), cbind(rep(1,J), diag(J)), c(1, rep(0,J)), meq=1)$solution }
for (eps in c(1e-8, 1e-10, 1e-12)) { w <- qp(Y[tr,], Y[ctrl,], eps); gap <- Y[tr,] - as.vector(t(Y[ctrl,]) %*% w); cat(sprintf("eps %g ATT %.12f\n", eps, mean(gap[!pre]))) }
# exact: equality-constrained LS on the support, then KKT check
w <- qp(Y[tr,], Y[ctrl,], 1e-10); S <- which(w > 1e-6)
A <- t(Y[ctrl, pre]); y <- Y[tr, pre]; r <- S[1]; o <- S[-1]
z <- qr.solve(A[, o] - A[, r], y - A[, r]); ws <- rep(0, length(ctrl)); ws[o] <- z; ws[r] <- 1 - sum(z)
g <- as.vector(crossprod(A, A %*% ws - y)); mu <- mean(g[S])
cat(sprintf("support %s\n", paste(ctrl[S], collapse=",")))
cat(sprintf("min weight on support %.3g, max |g-mu| on support %.3g, min g-mu off support %.6g\n", min(ws[S]), max(abs(g[S]-mu)), min(g[-S]-mu)))
gap <- Y[tr,] - as.vector(t(Y[ctrl,]) %*% ws)
cat(sprintf("EXACT ATT %.12g pre-RMSPE %.12g\n", mean(gap[!pre]), sqrt(mean(gap[pre]^2))))
for (k in S) cat(sprintf("  %s %.12g\n", ctrl[k], ws[k]))
cat(sprintf("gaps post: %s\n", paste(sprintf("%.10g", gap[!pre]), collapse=" ")))
