# Independent R transcription of rdrobust's sharp local-linear RD (p=1, q=2, triangular),
# for reference values only (not shipped).  MASS::ginv for the covariate system as rdrobust.
library(MASS)
kw <- function(X, c, h) { u <- (X - c)/h; ((1 - abs(u)) * (abs(u) <= 1))/h }
vander <- function(u, p) { out <- matrix(1, length(u), p + 1); if (p >= 1) for (j in 2:(p+1)) out[, j] <- out[, j-1]*u; out }
XXinv <- function(x) chol2inv(chol(crossprod(x)))
nnres <- function(X, D, dups, dupsid, matches = 3) {
  n <- length(X); res <- matrix(NA, n, ncol(D)); eps <- sqrt(.Machine$double.eps)
  for (pos in 1:n) {
    rpos <- dups[pos] - dupsid[pos]; lpos <- dupsid[pos] - 1
    while (lpos + rpos < min(matches, n - 1)) {
      if (pos - lpos - 1 <= 0) rpos <- rpos + dups[pos + rpos + 1]
      else if (pos + rpos + 1 > n) lpos <- lpos + dups[pos - lpos - 1]
      else {
        dl <- X[pos] - X[pos - lpos - 1]; dr <- X[pos + rpos + 1] - X[pos]; tol <- max(dl, dr)*eps
        if (dl - dr > tol) rpos <- rpos + dups[pos + rpos + 1]
        else if (dr - dl > tol) lpos <- lpos + dups[pos - lpos - 1]
        else { rpos <- rpos + dups[pos + rpos + 1]; lpos <- lpos + dups[pos - lpos - 1] }
      }
    }
    J <- max(1, pos - lpos):min(n, pos + rpos); Ji <- length(J) - 1
    for (k in 1:ncol(D)) res[pos, k] <- sqrt(Ji/(Ji + 1)) * (D[pos, k] - (sum(D[J, k]) - D[pos, k])/Ji)
  }
  res
}
resid_fn <- function(X, D, pred, hii, vce, dups, dupsid, d) {
  if (vce == "nn") return(nnres(X, D, dups, dupsid))
  n <- nrow(D)
  w <- switch(vce, hc0 = 1, hc1 = sqrt(n/(n - d)), hc2 = sqrt(1/pmax(1 - hii, 1e-8)), hc3 = 1/pmax(1 - hii, 1e-8))
  w * (D - pred)
}
meat <- function(s, RX, res, C) {
  r <- as.vector(res %*% s)
  if (is.null(C)) return(crossprod(r * RX))
  k <- ncol(RX); n <- length(C); g <- length(unique(C))
  M <- matrix(0, k, k)
  for (cl in unique(C)) { i <- which(C == cl); sv <- colSums(RX[i, , drop = FALSE] * r[i]); M <- M + tcrossprod(sv) }
  ((n - 1)/(n - k)) * (g/(g - 1)) * M
}
bwfun <- function(Y, X, Z, C, c, o, nu, oB, hV, hB, scale, vce, dups, dupsid) {
  D <- cbind(Y, Z)
  w <- kw(X, c, hV); i <- w > 0; eX <- X[i]; eW <- w[i]; eD <- D[i, , drop = FALSE]
  R <- vander(eX - c, o); iG <- XXinv(R * sqrt(eW)); s <- 1
  if (!is.null(Z)) {
    dZ <- ncol(Z); cz <- 2:(1 + dZ)
    U <- crossprod(R * eW, eD); ZWD <- crossprod(eD[, cz, drop = FALSE] * eW, eD)
    UiGU <- crossprod(U[, cz, drop = FALSE], iG %*% U)
    ZWZ <- ZWD[, cz, drop = FALSE] - UiGU[, cz, drop = FALSE]; ZWY <- ZWD[, 1] - UiGU[, 1]
    s <- c(1, -(ginv(ZWZ, tol = 1e-20) %*% ZWY))
  }
  beta <- iG %*% crossprod(R * eW, eD)
  hii <- if (vce %in% c("hc2","hc3")) rowSums((R %*% iG) * (R * eW)) else 0
  res <- resid_fn(eX, eD, R %*% beta, hii, vce, dups[i], dupsid[i], o + 1)
  VV <- (iG %*% meat(s, R * eW, res, if (is.null(C)) NULL else C[i]) %*% iG)[nu + 1, nu + 1]
  v <- crossprod(R * eW, ((eX - c)/hV)^(o + 1)); BConst <- (hV^(0:o) * (iG %*% v))[nu + 1]
  w <- kw(X, c, hB); i <- w > 0; eX <- X[i]; eW <- w[i]; eD <- D[i, , drop = FALSE]
  R <- vander(eX - c, oB); iG <- XXinv(R * sqrt(eW)); beta <- iG %*% crossprod(R * eW, eD)
  BWreg <- 0
  if (scale > 0) {
    hii <- if (vce %in% c("hc2","hc3")) rowSums((R %*% iG) * (R * eW)) else 0
    res <- resid_fn(eX, eD, R %*% beta, hii, vce, dups[i], dupsid[i], oB + 1)
    VB <- (iG %*% meat(s, R * eW, res, if (is.null(C)) NULL else C[i]) %*% iG)[o + 2, o + 2]
    BWreg <- 3 * BConst^2 * VB
  }
  list(V = (2*nu + 1) * hV^(2*nu + 1) * VV, B = sqrt(2*(o + 1 - nu)) * BConst * sum(s * beta[o + 2, ]),
       R = scale * 2 * (o + 1 - nu) * BWreg, rate = 1/(2*o + 3))
}
rdref <- function(y, x, c = 0, Z = NULL, C = NULL, h = NULL, b = NULL, vce = "nn", masspoints = TRUE, level = 95) {
  ok <- complete.cases(x, y); if (!is.null(Z)) ok <- ok & complete.cases(Z); if (!is.null(C)) ok <- ok & !is.na(C)
  x <- x[ok]; y <- y[ok]; if (!is.null(Z)) Z <- as.matrix(Z)[ok, , drop = FALSE]; if (!is.null(C)) C <- C[ok]
  o <- order(x); x <- x[o]; y <- y[o]; if (!is.null(Z)) Z <- Z[o, , drop = FALSE]; if (!is.null(C)) C <- C[o]
  L <- x < c; Rr <- !L
  side <- function(k) list(X = x[k], Y = y[k], Z = if (is.null(Z)) NULL else Z[k, , drop = FALSE], C = if (is.null(C)) NULL else C[k],
    dups = ave(rep(1, sum(k)), x[k], FUN = sum), dupsid = ave(rep(1, sum(k)), x[k], FUN = cumsum))
  sl <- side(L); sr <- side(Rr); N <- length(x)
  out <- list(N = c(sum(L), sum(Rr)))
  if (is.null(h)) {
    iq <- quantile(x, .75, type = 2) - quantile(x, .25, type = 2); BWp <- min(sd(x), iq/1.349)
    Ml <- length(unique(sl$X)); Mr <- length(unique(sr$X)); out$M <- c(Ml, Mr)
    cbw <- 2.576 * BWp * (if (masspoints) (Ml + Mr) else N)^(-1/5)
    bwmax <- max(abs(c - min(x)), abs(c - max(x))); cbw <- min(cbw, bwmax)
    bwmin <- NULL
    if (masspoints && (1 - Ml/out$N[1] >= .1 || 1 - Mr/out$N[2] >= .1)) {
      ul <- sort(unique(sl$X), decreasing = TRUE); ur <- sort(unique(sr$X))
      bwmin <- c(abs(ul - c)[min(10, Ml)] + 1e-8, abs(ur - c)[min(10, Mr)] + 1e-8); cbw <- max(cbw, bwmin)
    }
    f <- function(s, o, nu, oB, hB, sc) bwfun(s$Y, s$X, s$Z, s$C, c, o, nu, oB, cbw, hB, sc, vce, s$dups, s$dupsid)
    dl <- f(sl, 3, 3, 4, abs(c - min(x)), 0); dr <- f(sr, 3, 3, 4, abs(c - max(x)), 0)
    d <- min(((dl$V + dr$V)/(dr$B - dl$B)^2)^dl$rate, bwmax); if (!is.null(bwmin)) d <- max(d, bwmin)
    bl <- f(sl, 2, 2, 3, d, 1); br <- f(sr, 2, 2, 3, d, 1)
    b <- min(((bl$V + br$V)/((br$B - bl$B)^2 + br$R + bl$R))^bl$rate, bwmax)
    hl <- f(sl, 1, 0, 2, b, 1); hr <- f(sr, 1, 0, 2, b, 1)
    h <- min(((hl$V + hr$V)/((hr$B - hl$B)^2 + hr$R + hl$R))^hl$rate, bwmax)
    out$pilot <- c(cbw, d)
  } else if (is.null(b)) b <- h
  out$h <- h; out$b <- b
  est <- function(s) {
    whA <- kw(s$X, c, h); wbA <- kw(s$X, c, b); i <- if (h > b) whA > 0 else wbA > 0
    Nh <- sum(whA > 0); Nb <- sum(wbA > 0)
    eX <- s$X[i]; Wh <- whA[i]; Wb <- wbA[i]; D <- cbind(s$Y, s$Z)[i, , drop = FALSE]
    Rq <- vander(eX - c, 2); Rp <- Rq[, 1:2]; u <- (eX - c)/h
    Lv <- crossprod(Rp * Wh, u^2); iGq <- XXinv(sqrt(Wb) * Rq); iGp <- XXinv(sqrt(Wh) * Rp)
    Q <- Rp * Wh - h^2 * as.vector((Rq %*% iGq)[, 3] * Wb) %*% t(Lv)
    bp <- iGp %*% crossprod(Rp * Wh, D); bq <- iGq %*% crossprod(Rq * Wb, D); bbc <- iGp %*% crossprod(Q, D)
    list(D = D, eX = eX, Wh = Wh, Wb = Wb, Rp = Rp, Rq = Rq, Q = Q, iGp = iGp, iGq = iGq, bp = bp, bq = bq, bbc = bbc,
         Nh = Nh, Nb = Nb, n = sum(i), dups = s$dups[i], dupsid = s$dupsid[i], C = if (is.null(s$C)) NULL else s$C[i])
  }
  el <- est(sl); er <- est(sr)
  sY <- 1
  if (!is.null(Z)) {
    dZ <- ncol(Z); cz <- 2:(1 + dZ)
    zz <- function(e) { U <- crossprod(e$Rp * e$Wh, e$D); ZWD <- crossprod(e$D[, cz, drop = FALSE] * e$Wh, e$D)
      UiGU <- crossprod(U[, cz, drop = FALSE], e$iGp %*% U); ZWD - UiGU }
    A <- zz(el) + zz(er); sY <- c(1, -(ginv(A[, cz, drop = FALSE], tol = 1e-20) %*% A[, 1])); if (exists("DBG")) { print(sY, digits=15); print(c(1, -solve(A[, cz, drop = FALSE], A[, 1])), digits=15); Ds <- diag(1/sqrt(diag(A[,cz]))); print(c(1, -(Ds %*% solve(Ds %*% A[,cz] %*% Ds, Ds %*% A[,1]))), digits=15) }
  }
  tau_cl <- sum(sY * (er$bp[1, ] - el$bp[1, ])); tau_bc <- sum(sY * (er$bbc[1, ] - el$bbc[1, ]))
  V <- function(e) {
    hii <- if (vce %in% c("hc2","hc3")) rowSums((e$Rp %*% e$iGp) * (e$Rp * e$Wh)) else 0
    rh <- resid_fn(e$eX, e$D, e$Rp %*% e$bp, hii, vce, e$dups, e$dupsid, 2)
    rb <- if (vce == "nn") rh else resid_fn(e$eX, e$D, e$Rq %*% e$bq, hii, vce, e$dups, e$dupsid, 3)
    c(cl = (e$iGp %*% meat(sY, e$Rp * e$Wh, rh, e$C) %*% e$iGp)[1, 1], rb = (e$iGp %*% meat(sY, e$Q, rb, e$C) %*% e$iGp)[1, 1])
  }
  v <- V(el) + V(er); z <- -qnorm((1 - level/100)/2)
  c(out, list(N_h = c(el$Nh, er$Nh), N_b = c(el$Nb, er$Nb), tau_cl = tau_cl, tau_bc = tau_bc, se_cl = sqrt(v[["cl"]]), se_rb = sqrt(v[["rb"]]),
    ci_cl = tau_cl + c(-1, 1) * z * sqrt(v[["cl"]]), ci_rb = tau_bc + c(-1, 1) * z * sqrt(v[["rb"]])))
}
pr <- function(r) { for (k in names(r)) cat(sprintf("%-7s %s\n", k, paste(sprintf("%.12g", r[[k]]), collapse = " "))); cat("\n") }
