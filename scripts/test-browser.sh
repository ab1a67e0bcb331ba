#!/bin/sh
# test-browser.sh — `make test-browser`: does the HTML report render in a real
# browser?  Builds a small run + diagnosis, writes its report, loads it from a
# file in headless Chromium (Debian's `chromium`, fresh profile, no network
# features), takes a screenshot and dumps the DOM, then checks that
#   - the screenshot is a PNG that is not blank (not a single colour, and a
#     reasonable share of non-background pixels);
#   - the page's text contains the headline figures: the estimate and the
#     SATE from estimates.csv, the power from diagnosis.csv;
#   - the page loads nothing from elsewhere (no <script>, no http(s) src/href)
#     and holds the inline SVG plots.
# Installs nothing: without chromium it says what to install and fails.
#
# Usage: sh scripts/test-browser.sh [path/to/syfosim]   (from the repo root)
set -u
BIN=${1:-build/syfosim}
CHROMIUM=${CHROMIUM:-}
if [ -z "$CHROMIUM" ]; then
    for c in chromium chromium-browser google-chrome; do
        if command -v "$c" >/dev/null 2>&1; then CHROMIUM=$c; break; fi
    done
fi
if [ -z "$CHROMIUM" ]; then
    echo "test-browser: FAIL - chromium is not installed (as root: apt-get install -y chromium)"
    exit 1
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "test-browser: FAIL - python3 is needed for the PNG and DOM checks"
    exit 1
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/syf_browser.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT HUP TERM
FAILS=0
pass() { echo "ok - $1"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $1"; }

O=$TMP/out
SMALL="--set population.persons=12000 --set world.offices=6"
# shellcheck disable=SC2086
if ! "$BIN" run scenarios/msyfo-triage.ini --out "$O" $SMALL >"$TMP/log" 2>&1 ||
   ! "$BIN" diagnose scenarios/msyfo-triage.ini --reps 10 --null --out "$O" $SMALL >>"$TMP/log" 2>&1 ||
   ! "$BIN" report "$O" >>"$TMP/log" 2>&1; then
    cat "$TMP/log"
    echo "test-browser: FAIL - could not produce the report"
    exit 1
fi
pass "report written: $O/report.html ($(wc -c <"$O/report.html") bytes)"

# One Chromium invocation per output, each with a fresh profile.
chrome() {
    _prof=$(mktemp -d "$TMP/profile.XXXXXX")
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$_prof" --hide-scrollbars --force-device-scale-factor=1 \
        "$@" 2>>"$TMP/chromium.err"
}
URL="file://$(cd "$O" && pwd)/report.html"
chrome --window-size=1000,1400 --screenshot="$TMP/shot.png" "$URL" >/dev/null
if [ -s "$TMP/shot.png" ]; then
    pass "screenshot taken ($(wc -c <"$TMP/shot.png") bytes)"
else
    fail "no screenshot; chromium said: $(tail -n 5 "$TMP/chromium.err")"
fi
chrome --dump-dom "$URL" >"$TMP/dom.html"
if [ -s "$TMP/dom.html" ]; then
    pass "DOM dumped ($(wc -c <"$TMP/dom.html") bytes)"
else
    fail "no DOM; chromium said: $(tail -n 5 "$TMP/chromium.err")"
fi

# The PNG: decode it with the standard library (zlib + the five PNG filters).
python3 - "$TMP/shot.png" <<'PY' && pass "screenshot is not blank" || fail "screenshot is blank or not a PNG"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("not a PNG")
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, typ = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if typ == b"IHDR":
        w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
    elif typ == b"IDAT":
        idat += body
    pos += 12 + n
if not w or depth != 8 or ctype not in (2, 6) or interlace:
    sys.exit("unexpected PNG format")
bpp = 3 if ctype == 2 else 4
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours, counts = set(), {}
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for i in range(bpp, stride):
            line[i] = (line[i] + line[i - bpp]) & 255
    elif f == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, prev))
    elif f == 3:
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
    elif f == 4:
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pr) & 255
    prev = line
    if y % 4 == 0:  # every 4th row is plenty for the statistics
        for x in range(0, stride, bpp * 2):
            px = bytes(line[x:x + 3])
            counts[px] = counts.get(px, 0) + 1
total = sum(counts.values())
bg = max(counts.values())
share = 1 - bg / total
print(f"  {w}x{h} PNG, {len(counts)} distinct colours sampled, {share:.1%} not background")
if len(counts) < 16 or share < 0.02:
    sys.exit("blank")
PY

# The text of the page: the headline figures must be there.
est=$(awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i } NR == 3 { printf "%.3f", $c["estimate"] }' "$O/estimates.csv")
sate=$(awk -F, 'NR == 2 { for (i = 1; i <= NF; i++) c[$i] = i } NR == 3 { printf "%.3f", $c["estimand_sate"] }' "$O/estimates.csv")
power=$(awk -F, '$3 == "sate" && $4 == "power" { printf "%.3f", $5; exit }' "$O/diagnosis.csv")
python3 - "$TMP/dom.html" "$est" "$sate" "$power" <<'PY' && pass "page text has estimate $est, SATE $sate, power $power" || fail "page text lacks a headline figure (estimate $est, SATE $sate, power $power)"
import html, re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
body = re.sub(r"<svg.*?</svg>", " ", dom, flags=re.S)
text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style.*?</style>", " ", body, flags=re.S)))
text = re.sub(r"\s+", " ", text)
ok = True
for want, label in zip(sys.argv[2:], ("estimate", "SATE", "power")):
    if not want or want not in text:
        print(f"  missing {label} {want!r}")
        ok = False
for want in ("Estimated effect of the pilot", "Kaplan", "Diagnosands with Monte Carlo standard errors"):
    if want not in text:
        print(f"  missing text {want!r}")
        ok = False
sys.exit(0 if ok else 1)
PY
n_svg=$(grep -o '<svg' "$TMP/dom.html" | wc -l)
if [ "$n_svg" -ge 5 ]; then pass "DOM holds $n_svg inline SVG plots"; else fail "DOM holds $n_svg inline SVG plots (want >= 5)"; fi
if grep -qiE '<script|(src|href)="https?:' "$TMP/dom.html"; then
    fail "page has a script or an external resource"
else
    pass "no script, no external resource"
fi
if [ "$FAILS" -eq 0 ]; then
    echo "test-browser: all checks passed"
    exit 0
fi
echo "test-browser: $FAILS checks failed"
exit 1
