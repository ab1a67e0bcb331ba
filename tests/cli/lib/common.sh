# common.sh — helpers sourced by the tests/cli/*.sh scripts (not a test itself:
# run-all.sh only runs tests/cli/*.sh, not this subdirectory).
#
# Usage, at the top of a test script run from the repository root:
#     . "$(dirname "$0")/lib/common.sh"
#     setup NAME          # checks $SYFOSIM, makes $TMP (removed on exit)
#     ...checks...
#     finish              # prints the tally, exits 1 if any check failed
#
# Every check prints exactly one line, `ok - ...` or `FAIL - ...`.

SYFOSIM=${SYFOSIM:-build/syfosim}
CHECKS=0
FAILS=0
TMP=

pass() { CHECKS=$((CHECKS + 1)); echo "ok - $1"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL - $1"; }

# check NAME COMMAND...: pass if COMMAND succeeds.
check() {
    _name=$1
    shift
    if "$@"; then pass "$_name"; else fail "$_name"; fi
}

# setup NAME: verify the binary and create the temporary directory.
setup() {
    TEST_NAME=$1
    if [ ! -x "$SYFOSIM" ]; then
        echo "FAIL - $SYFOSIM is not an executable (set SYFOSIM=...)"
        exit 1
    fi
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/syf_$1.XXXXXX") || exit 1
    trap 'rm -rf "$TMP"' EXIT
    trap 'exit 130' INT HUP TERM
}

# finish: print the tally and exit with the status.
finish() {
    echo "$TEST_NAME: $CHECKS checks, $FAILS failed"
    [ "$FAILS" -eq 0 ] && exit 0
    exit 1
}

# syf ARGS...: run syfosim, leaving $TMP/out, $TMP/err and $RC.
syf() {
    "$SYFOSIM" "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}

# one_line FILE: the first line of FILE, for messages.
one_line() { head -n 1 "$1" 2>/dev/null; }

# has_all FILE PATTERN...: FILE contains every PATTERN (fixed strings); a
# PATTERN of the form 'a||b' is satisfied by either alternative.  Sets
# MISSING to the patterns not found.
has_all() {
    _f=$1
    shift
    MISSING=
    for _p in "$@"; do
        _found=0
        _rest=$_p
        while :; do
            _alt=${_rest%%||*}
            if grep -qF -- "$_alt" "$_f"; then
                _found=1
                break
            fi
            [ "$_alt" = "$_rest" ] && break
            _rest=${_rest#*||}
        done
        [ $_found -eq 1 ] || MISSING="$MISSING [$_p]"
    done
    [ -z "$MISSING" ]
}

# expect_ok NAME: last syf exited 0.
expect_ok() {
    if [ "$RC" -eq 0 ]; then
        pass "$1: exit 0"
    else
        fail "$1: exit $RC (want 0), stderr: $(cat "$TMP/err")"
    fi
}

# expect_input_error NAME PATTERN...: last syf exited 2, printed nothing on
# stdout, and stderr contains every PATTERN (see has_all).
expect_input_error() {
    _n=$1
    shift
    _ok=1
    _why=
    if [ "$RC" -ne 2 ]; then _ok=0; _why="$_why exit $RC (want 2);"; fi
    if [ -s "$TMP/out" ]; then _ok=0; _why="$_why $(wc -c <"$TMP/out") bytes on stdout;"; fi
    if ! has_all "$TMP/err" "$@"; then _ok=0; _why="$_why stderr lacks$MISSING;"; fi
    if [ $_ok -eq 1 ]; then
        pass "$_n: exit 2: $(one_line "$TMP/err")"
    else
        fail "$_n:$_why stderr: $(cat "$TMP/err")"
    fi
}

# csv_col FILE NAME: the values of column NAME (header on line 2, after the
# provenance line), one per line; nothing if there is no such column.
csv_col() {
    awk -F, -v name="$2" '
        NR == 2 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
        NR > 2 && c { print $c }' "$1" 2>/dev/null
}

# line_of FILE N: line N of FILE (nothing if FILE is missing).
line_of() { sed -n "$2p" "$1" 2>/dev/null; }

# data_rows FILE: number of lines after the provenance and header lines.
data_rows() {
    if [ -f "$1" ]; then awk 'NR > 2 { n++ } END { print n + 0 }' "$1"; else echo 0; fi
}

# dir_is_empty DIR: DIR does not exist or holds no entries (hidden included).
dir_is_empty() {
    [ ! -e "$1" ] || [ -z "$(ls -A "$1" 2>/dev/null)" ]
}

# same_nonempty A B: A and B are equal and not empty.
same_nonempty() { [ -n "$1" ] && [ "$1" = "$2" ]; }

# files_differ A B: both exist and their contents differ.
files_differ() { [ -f "$1" ] && [ -f "$2" ] && ! cmp -s "$1" "$2"; }
