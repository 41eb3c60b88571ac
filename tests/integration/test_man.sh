#!/usr/bin/env bash
# The manual pages cannot drift from the code: mandoc -T lint finds nothing
# (warnings and worse), every command and option `attestd help` prints is in
# attestd(8), every key of the configuration reader's table (daemon/config.c)
# is in attestd.conf(5) under its section, every command and option of
# attestd-centre is in attestd-centre(8).  The lists come from the code, so
# a key or command added without its documentation fails here.
. "$(dirname "$0")/lib.sh"

MAN=$TOP/man
command -v mandoc >/dev/null || { fail "mandoc is missing (make deps: mandoc)"; finish; exit 1; }

for page in attestd.8 attestd.conf.5 attestd-centre.8; do
	[ -f "$MAN/$page" ] || { fail "$page exists"; continue; }
	out=$(mandoc -T lint -W warning "$MAN/$page" 2>&1)
	expect_eq "$page: mandoc -T lint -W warning has nothing to say" "" "$out"
	# Rendered as man(1) would: a NAME section and no raw macro left over.
	text=$(mandoc -T ascii "$MAN/$page" 2>&1 | col -b)
	expect_match "$page: renders with its NAME" '^NAME' "$text"
	expect_no_match "$page: no raw macro in the rendering" '^\.[A-Z][a-z] ' "$text"
done

# --- attestd(8) against `attestd help` ---------------------------------------------

run_attestd help
help=$OUT
# The command words of each usage line: after "attestd", up to the first
# argument, option or placeholder.
commands=$(printf '%s\n' "$help" | sed -n 's/^  attestd \([a-z].*\)/\1/p' |
	awk '{ c = $1; for (i = 2; i <= NF; i++) { if ($i !~ /^[a-z][a-z-]*$/) break; c = c " " $i } print c }' |
	sort -u)
expect_match "help lists commands (the list is not empty)" 'config check' "$commands"
# man_commands PAGE: the commands the page documents (".It Nm Cm WORDS ...").
man_commands() {
	sed -n 's/^\.It Nm Cm \([a-z][a-z -]*\).*/\1/p' "$1" |
		awk '{ c = $1; for (i = 2; i <= NF; i++) { if ($i !~ /^[a-z][a-z-]*$/) break; c = c " " $i } print c }' |
		sort -u
}
missing=$(comm -23 <(printf '%s\n' "$commands") <(man_commands "$MAN/attestd.8"))
expect_eq "every command of attestd help is in attestd(8)" "" "$missing"
options=$(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z-]*' | sort -u)
missing=$(for o in $options; do grep -qE -- "Fl -${o#--}( |$)" "$MAN/attestd.8" || echo "$o"; done)
expect_eq "every option of attestd help is in attestd(8)" "" "$missing"
formats=$(printf '%s\n' "$help" | grep -oE -- '--format [a-z|]+' | sed 's/--format //' | tr '|' '\n' | sort -u)
missing=$(for f in $formats; do grep -qE "Cm ($f|.*\| $f)" "$MAN/attestd.8" || echo "$f"; done)
expect_eq "every --format value is in attestd(8)" "" "$missing"
for sec in SIGNALS ENVIRONMENT FILES 'EXIT STATUS' EXAMPLES; do
	expect_match "attestd(8) has $sec" "^\.Sh $sec\$" "$(cat "$MAN/attestd.8")"
done
for code in 0 1 2 3 4 5; do
	expect_match "attestd(8) explains exit $code" "^\.It $code\$" "$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh/p' "$MAN/attestd.8")"
done
expect_match "attestd(8) names ATTESTD_CONFIG" '^\.It Ev ATTESTD_CONFIG$' "$(cat "$MAN/attestd.8")"

# --- attestd.conf(5) against the configuration reader's table -----------------------

# config_keys FILE: "section key" for every row of the table in config.c.
config_keys() {
	sed -n '/^static const struct config_key config_keys\[\] = {/,/^};/p' "$1" |
		sed -n 's/^[[:space:]]*{ *"\([a-z_]*\)", *"\([a-z_]*\)",.*/\1 \2/p' | sort -u
}
# page_keys FILE: "section key" for every ".It Cm key" under ".Ss [section]".
page_keys() {
	awk '/^\.Ss \[/ { s = $2; gsub(/[][]/, "", s); next }
	     /^\.Sh / { s = "" }
	     s != "" && /^\.It Cm [a-z_]+$/ { print s, $3 }' "$1" | sort -u
}
# conf_drift CONFIG.C: the table's keys the page leaves out.
conf_drift() { comm -23 <(config_keys "$1") <(page_keys "$MAN/attestd.conf.5"); }
keys=$(config_keys "$TOP/daemon/config.c")
expect_match "the key table is read (paths inbox)" '^paths inbox$' "$keys"
expect_match "the key table is read (limits min_free_space)" '^limits min_free_space$' "$keys"
expect_eq "every key of daemon/config.c is in attestd.conf(5), in its section" "" \
	"$(conf_drift "$TOP/daemon/config.c")"
# The check can fail: a key added to a copy of the table is found missing.
sed 's/^\(\t{ "limits", "max_file_size",.*\)$/\t{ "limits", "undocumented_key", CT_SIZE, 0, "1B", 0, 0, 1 },\n\1/' \
	"$TOP/daemon/config.c" > "$WORK/config.c"
expect_eq "a key added to the table without its page is found" "limits undocumented_key" \
	"$(conf_drift "$WORK/config.c")"
# The example file documents every key too (commented out or set).
missing=$(while read -r s k; do
	awk -v s="[$s]" -v k="$k" '$0 == s { in_s = 1; next } /^\[/ { in_s = 0 }
		in_s && $0 ~ "^;? *" k " *=" { found = 1 } END { exit !found }' "$TOP/attestd.conf.example" ||
		echo "$s $k"; done <<< "$keys")
expect_eq "every key of daemon/config.c is in attestd.conf.example" "" "$missing"

# --- attestd-centre(8) against the script ----------------------------------------------

script=$TOP/contrib/sftp/attestd-centre
ccmds=$(sed -n 's/^case \$cmd in \([a-z|]*)\).*/\1/p' "$script" | tr -d ')' | tr '|' '\n')
expect_match "attestd-centre's commands are read" '^remove$' "$ccmds"
missing=$(for c in $ccmds; do grep -qE "^\.It Cm $c( |$)" "$MAN/attestd-centre.8" || echo "$c"; done)
expect_eq "every command of attestd-centre is in attestd-centre(8)" "" "$missing"
copts=$(grep -oE '^[[:space:]]*--[a-z-]+\)' "$script" | tr -d ' \t)' | sort -u)
expect_match "attestd-centre's options are read" '^--delete-dirs$' "$copts"
missing=$(for o in $copts; do grep -qE -- "^\.It Fl -${o#--}( |$)" "$MAN/attestd-centre.8" || echo "$o"; done)
expect_eq "every option of attestd-centre is in attestd-centre(8)" "" "$missing"

finish
