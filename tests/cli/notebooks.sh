#!/bin/sh
# notebooks.sh — notebooks-data/ is reproducible, and the documentation
# matches the program.  notebooks-data/ is reproducible: regenerate it into a
# temporary directory with scripts/notebooks-data.sh and fail if any file
# differs from what is committed (the provenance lines carry the fixed marker
# git=notebooks instead of the revision, so only real drift shows up); then
# the worked example reproduces the headline numbers from the committed files,
# and the data dictionary names every column of every file; the man page
# names every subcommand and option of every --help, and docs/methods.md has
# a section for every estimate method.
#
# After a change to the simulator or the estimators, regenerate with
# `make notebooks-data` and commit the result.
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/notebooks.sh

. "$(dirname "$0")/lib/common.sh"
setup notebooks

NB=notebooks-data
if ! "$SYFOSIM" --help | grep -q '^  sweep'; then
    fail "syfosim has no sweep subcommand (needed for $NB/sweep)"
    finish
fi
if sh scripts/notebooks-data.sh "$SYFOSIM" "$TMP/nb" >"$TMP/log" 2>&1; then
    pass "scripts/notebooks-data.sh regenerates the data"
else
    fail "scripts/notebooks-data.sh failed: $(tail -n 5 "$TMP/log")"
fi
for f in $(cd "$TMP/nb" && find . -type f | sort); do
    if [ ! -f "$NB/$f" ]; then
        fail "$NB/$f is not committed (run make notebooks-data)"
    elif cmp -s "$TMP/nb/$f" "$NB/$f"; then
        pass "$NB/$f is up to date"
    else
        fail "$NB/$f drifted from what the code writes (first difference: $(diff "$NB/$f" "$TMP/nb/$f" | sed -n 2p | cut -c 1-120)); run make notebooks-data"
    fi
done
for f in $(cd "$NB" && find . -name '*.csv' | sort); do
    [ -f "$TMP/nb/$f" ] || fail "$NB/$f is committed but no longer generated"
done

# every CSV column is in the data dictionary
for f in $(cd "$NB" && find . -name '*.csv' | sort); do
    miss=
    for c in $(sed -n 2p "$NB/$f" | tr ',' ' '); do
        grep -qF "\`$c\`" "$NB/README.md" || miss="$miss $c"
    done
    check "$NB/README.md documents every column of $f (missing:$miss)" [ -z "$miss" ]
done

if command -v python3 >/dev/null 2>&1; then
    if python3 "$NB/example.py" "$NB" >"$TMP/ex" 2>&1; then
        pass "worked example reproduces the headline numbers: $(grep -c ' ok$' "$TMP/ex") numbers"
    else
        fail "worked example: $(grep -E 'DIFFERS|Error|error' "$TMP/ex" | head -n 3)"
    fi
else
    pass "python3 not installed: worked example not run"
fi

# --- documentation matches the program ---------------------------------------
# docs/syfosim.1 names every subcommand and every option of its --help;
# docs/methods.md has a section for every estimate --method.
MAN=$TMP/man.txt
sed 's/\\-/-/g' docs/syfosim.1 >"$MAN"
for c in $("$SYFOSIM" --help | awk '/^  [a-z]/ { print $1 }'); do
    miss=
    for o in $("$SYFOSIM" "$c" --help | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
        grep -qF -- "$o" "$MAN" || miss="$miss $o"
    done
    grep -qE "^\.BI \"$c " "$MAN" || miss="$miss (no entry for the subcommand)"
    check "docs/syfosim.1 documents syfosim $c and its options (missing:$miss)" [ -z "$miss" ]
done
miss=
for m in $("$SYFOSIM" estimate --help | awk '/^methods/ { on = 1; next } on && /^  [a-z]/ { print $1 }'); do
    grep -qF "(\`$m\`)" docs/methods.md || miss="$miss $m"
done
check "docs/methods.md has a section for every estimate method (missing:$miss)" [ -z "$miss" ]

finish
