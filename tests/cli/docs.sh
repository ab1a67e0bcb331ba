#!/bin/sh
# docs.sh — docs/scenarios.md matches the key table compiled into syfosim,
# and every subcommand answers --help with exit 0.
set -u
BIN=${SYFOSIM:-build/syfosim}
fail=0
ok() { echo "ok - $1"; }
bad() { echo "FAIL - $1"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh scripts/gen-docs.sh "$BIN" "$tmp/scenarios.md"
if [ -f "$tmp/scenarios.md" ] && cmp -s "$tmp/scenarios.md" docs/scenarios.md; then
    ok "docs/scenarios.md is up to date (make docs)"
else
    bad "docs/scenarios.md differs from syfosim explain --reference: run make docs"
fi
for c in run diagnose calibrate check explain estimate; do
    if "$BIN" "$c" --help > "$tmp/h" 2>&1 && grep -q "usage: syfosim $c" "$tmp/h"; then
        ok "$c --help"
    else
        bad "$c --help"
    fi
done
"$BIN" --help > /dev/null 2>&1 && ok "syfosim --help" || bad "syfosim --help"
"$BIN" nosuchcommand > /dev/null 2>&1; [ $? -eq 2 ] && ok "unknown subcommand exits 2" || bad "unknown subcommand exits 2"
exit $fail
