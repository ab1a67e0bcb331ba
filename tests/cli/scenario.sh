#!/bin/sh
# scenario.sh — CLI tests of `syfosim check` and `syfosim explain`
# (DESIGN §6: scenario files; exit 0 ok, 2 bad input with FILE:LINE: key).
#
# Run from the repository root:  SYFOSIM=build/syfosim sh tests/cli/scenario.sh

. "$(dirname "$0")/lib/common.sh"
setup scenario

BASE=$(pwd)/scenarios/baseline-norway.ini

# hash_of FILE: the hash printed by `check` ("... hash HEX)"), or nothing.
hash_of() {
    "$SYFOSIM" check "$1" 2>/dev/null | sed -n 's/.*hash \([0-9a-f][0-9a-f]*\).*/\1/p'
}

# --- every shipped scenario is valid; explain --plain round-trips ----------
for sc in scenarios/*.ini; do
    name=$(basename "$sc" .ini)
    syf check "$sc"
    if [ "$RC" -eq 0 ] && [ ! -s "$TMP/err" ] && grep -q "hash [0-9a-f]" "$TMP/out"; then
        pass "check $sc: exit 0: $(one_line "$TMP/out")"
    else
        fail "check $sc: exit $RC, stdout: $(cat "$TMP/out"), stderr: $(cat "$TMP/err")"
    fi

    syf explain "$sc"
    cp "$TMP/out" "$TMP/$name.annotated.ini"
    if [ "$RC" -eq 0 ] && grep -q "accepted" "$TMP/$name.annotated.ini"; then
        pass "explain $sc (annotated): exit 0, names accepted ranges"
    else
        fail "explain $sc (annotated): exit $RC, stderr: $(cat "$TMP/err")"
    fi

    syf explain --plain "$sc"
    cp "$TMP/out" "$TMP/$name.plain.ini"
    if [ "$RC" -eq 0 ] && [ -s "$TMP/$name.plain.ini" ]; then
        pass "explain --plain $sc: exit 0"
    else
        fail "explain --plain $sc: exit $RC, stderr: $(cat "$TMP/err")"
    fi

    syf check "$TMP/$name.plain.ini"
    if [ "$RC" -eq 0 ]; then
        pass "explain --plain $sc passes check"
    else
        fail "explain --plain $sc fails check: exit $RC, stderr: $(cat "$TMP/err")"
    fi

    syf explain --plain "$TMP/$name.plain.ini"
    cp "$TMP/out" "$TMP/$name.plain2.ini"
    sed 1d "$TMP/$name.plain.ini" >"$TMP/a"
    sed 1d "$TMP/$name.plain2.ini" >"$TMP/b"
    if [ "$RC" -eq 0 ] && [ -s "$TMP/a" ] && cmp -s "$TMP/a" "$TMP/b"; then
        pass "explain --plain round trip of $sc: identical after line 1"
    else
        fail "explain --plain round trip of $sc: exit $RC, stderr: $(one_line "$TMP/err"), diff: $(diff "$TMP/a" "$TMP/b" | head -n 4 | tr '\n' ' ')"
    fi

    h1=$(hash_of "$sc")
    h2=$(hash_of "$TMP/$name.plain.ini")
    if [ -n "$h1" ] && [ "$h1" = "$h2" ]; then
        pass "check hash of $sc equals that of its explain --plain ($h1)"
    else
        fail "check hash of $sc '$h1' differs from that of its explain --plain '$h2'"
    fi
    h3=$(hash_of "$TMP/$name.annotated.ini")
    if [ -n "$h1" ] && [ "$h1" = "$h3" ]; then
        pass "annotated explain of $sc passes check with the same hash ($h1)"
    else
        fail "annotated explain of $sc: check hash '$h3', want '$h1': $("$SYFOSIM" check "$TMP/$name.annotated.ini" 2>&1)"
    fi
done

# --- bad scenario files: exit 2, nothing on stdout, FILE:LINE: key accepted -
# bad NAME FILE PATTERN...: `check FILE` must be an input error whose stderr
# names every PATTERN ('a||b' = either).  The file is written beforehand.
bad() {
    _name=$1
    _file=$2
    shift 2
    syf check "$_file"
    expect_input_error "check rejects $_name" "$@"
}

# write NAME LINES...: $TMP/NAME.ini holding the given lines; sets F.
write() {
    F=$TMP/$1.ini
    shift
    printf '%s\n' "$@" >"$F"
}

hdr="[scenario]"
b="base = $BASE"

write unknown_key "$hdr" "$b" "[population]" "femaleshare = 0.5"
bad "unknown key" "$F" "$F:4:" "femaleshare" "accepted"

write unknown_section "$hdr" "$b" "[populaton]" "persons = 5000"
bad "unknown section" "$F" "$F:3:" "populaton" "accepted"

write unknown_empty_section "$hdr" "$b" "[populaton]"
bad "unknown section without keys" "$F" "$F:3:" "populaton" "accepted"

write bad_number "$hdr" "$b" "[incidence]" "; a comment" "rate = 0.4x"
bad "malformed number 0.4x" "$F" "$F:5:" "incidence.rate" "0.4x" "accepted"

write int_fraction "$hdr" "$b" "[population]" "persons = 1.5"
bad "integer key given 1.5" "$F" "$F:4:" "population.persons" "1.5" "accepted"

write out_of_range "$hdr" "$b" "" "[population]" "female_share = 1.2"
bad "female_share = 1.2" "$F" "$F:5:" "population.female_share" "1.2" "accepted"

write list_count "$hdr" "$b" "[population]" "age_shares = 0.5, 0.5"
bad "list with wrong count" "$F" "$F:4:" "population.age_shares" "accepted"

write list_sum "$hdr" "$b" "[duration]" "diagnosis_shares = 0.5, 0.2, 0.2, 0.2"
bad "shares not summing to 1" "$F" "$F:4:" "duration.diagnosis_shares" "accepted"

write enum "$hdr" "$b" "[pilot]" "type = foo"
bad "pilot.type = foo" "$F" "$F:4:" "pilot.type" "foo" "accepted"

write duplicate "$hdr" "$b" "[world]" "offices = 10" "offices = 12"
bad "duplicated key" "$F" "$F:5:" "world.offices"

write base_not_first "$hdr" "name = x" "$b"
bad "base not first key" "$F" "$F:3:" "base" "accepted"

write missing_base "$hdr" "base = $TMP/no-such-base.ini"
bad "missing base file" "$F" "$F:2:" "base" "$TMP/no-such-base.ini"

write relative_missing_base "$hdr" "base = no-such-base.ini"
bad "missing relative base file" "$F" "$F:2:" "base" "no-such-base.ini"

bad "missing scenario file" "$TMP/no-such-file.ini" "$TMP/no-such-file.ini"

printf '\000\001\002' >"$TMP/garbage.ini"
bad "binary garbage (NUL first)" "$TMP/garbage.ini" "$TMP/garbage.ini:1:"

printf '\001\002\003\n' >"$TMP/garbage2.ini"
bad "binary garbage (control bytes)" "$TMP/garbage2.ini" "$TMP/garbage2.ini:1:"

write no_equals "$hdr" "$b" "[world]" "offices 12"
bad "line without '='" "$F" "$F:4:" "accepted"

write cross_key "$hdr" "$b" "[pilot]" "type = none" "[trial]" "design = cluster_rct"
bad "cluster_rct with pilot.type = none" "$F" "$F" "pilot.type||trial.design" "accepted"

write persons_offices "$hdr" "$b" "[world]" "offices = 100" "[population]" "persons = 150"
bad "persons < 2 x offices" "$F" "$F" "$F:6:||$F:4:" "population.persons||world.offices" "accepted"

# A file with a bad base: the error names the base file and its line.
write bad_base "$hdr" "$b" "[population]" "female_share = 2"
write uses_bad_base "$hdr" "base = $TMP/bad_base.ini" "[world]" "offices = 10"
bad "error inside the base file" "$F" "$TMP/bad_base.ini:4:" "population.female_share" "accepted"

# A valid override file passes, and the override shows in explain.
write override "$hdr" "$b" "[world]" "offices = 7"
syf check "$F"
expect_ok "check of a valid override of the baseline"
syf explain --plain "$F"
if [ "$RC" -eq 0 ] && grep -qx "offices = 7" "$TMP/out"; then
    pass "explain --plain shows the override offices = 7"
else
    fail "explain --plain of the override: exit $RC, offices line: $(grep '^offices' "$TMP/out")"
fi

syf check
if [ "$RC" -eq 2 ] && [ ! -s "$TMP/out" ] && [ -s "$TMP/err" ]; then
    pass "check without a file: exit 2"
else
    fail "check without a file: exit $RC (want 2), stderr: $(cat "$TMP/err")"
fi

finish
