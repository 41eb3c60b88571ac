#!/usr/bin/env bash
# The command line: version, help, usage errors (exit 2 with a one-line
# hint), configuration errors (exit 3), unreachable database (exit 4).
. "$(dirname "$0")/lib.sh"

run_attestd --version
expect_eq "--version exits 0" 0 "$RC"
expect_match "--version prints the version" '^attestd [0-9]+\.[0-9]+\.[0-9]+$' "$OUT"

run_attestd help
expect_eq "help exits 0" 0 "$RC"
expect_match "help lists db migrate" 'attestd db migrate' "$OUT"
expect_match "help lists registry import" 'attestd registry import' "$OUT"

run_attestd help registry
expect_match "help COMMAND shows its usage" '^usage: attestd registry import' "$OUT"

run_attestd
expect_eq "no command: exit 2" 2 "$RC"
expect_match "no command: hint" "try 'attestd help'" "$ERR"

run_attestd frobnicate
expect_eq "unknown command: exit 2" 2 "$RC"
expect_match "unknown command: named" "unknown command 'frobnicate'" "$ERR"

run_attestd db
expect_eq "group without sub-command: exit 2" 2 "$RC"
expect_match "group without sub-command: hint" "'db' needs a sub-command" "$ERR"

run_attestd db migrate --bogus
expect_eq "unknown option: exit 2" 2 "$RC"
expect_match "unknown option: named with usage" 'unknown option --bogus' "$ERR"

run_attestd db migrate --config
expect_eq "option without value: exit 2" 2 "$RC"

run_attestd registry import licences
expect_eq "registry import without file: exit 2" 2 "$RC"

run_attestd registry import people x.csv
expect_eq "unknown registry: exit 2" 2 "$RC"
expect_match "unknown registry: named" "unknown registry 'people'" "$ERR"

run_attestd db status --config "$WORK/nonexistent.conf"
expect_eq "missing configuration: exit 3" 3 "$RC"
expect_match "missing configuration: names the file" 'nonexistent.conf' "$ERR"

printf '[paths]\ninbox = /x\nbogus = 1\n[prefecture]\ndepartements = 28\n' > "$WORK/bad.conf"
run_attestd db status --config "$WORK/bad.conf"
expect_eq "unknown key: exit 3" 3 "$RC"
expect_match "unknown key: file, line and key" 'bad.conf:3:.*bogus' "$ERR"

fresh_db
sed -i "s|^conninfo = .*|conninfo = host=$WORK/no-such-socket dbname=x connect_timeout=2|" "$CONF"
run_attestd db status
expect_eq "unreachable database: exit 4" 4 "$RC"
expect_match "unreachable database: says so" 'cannot connect to the database' "$ERR"

finish
