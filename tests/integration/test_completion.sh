#!/usr/bin/env bash
# Bash completion (contrib/bash-completion): the commands, a group's
# sub-commands, a command's options, --format values and registry kinds come
# from the binary's own `attestd help`; attestd-centre's from its script.
# Run in a bash without the bash-completion package (the scripts fall back
# to plain compgen), with the binary under test first on PATH.
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/bin"
ln -s "$ATTESTD" "$WORK/bin/attestd"
ln -s "$TOP/contrib/sftp/attestd-centre" "$WORK/bin/attestd-centre"
# complete WORDS...: what bash would offer for the last word.
complete_words() {
	PATH=$WORK/bin:$PATH bash --norc --noprofile -c '
		. "$1"; . "$2"; shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		fn=$(complete -p "$1" | sed -E "s/.*-F ([^ ]+) .*/\1/")
		"$fn" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ \$//"' _ \
		"$TOP/contrib/bash-completion/attestd" "$TOP/contrib/bash-completion/attestd-centre" "$@" 2>&1
}

expect_match "commands: config among them" '(^| )config( |$)' "$(complete_words attestd '')"
expect_eq "commands starting with re" "registry review" "$(complete_words attestd re)"
expect_eq "config's sub-command" "check" "$(complete_words attestd config '')"
expect_eq "db's sub-commands" "migrate status" "$(complete_words attestd db '')"
expect_match "audit's sub-commands" '^attestations centre licence log overdue report verify-archive verify-log$' \
	"$(complete_words attestd audit '')"
expect_eq "registry import kinds" "centres events facilitators licences" \
	"$(complete_words attestd registry import '')"
expect_eq "run's options" "--config --foreground --once" "$(complete_words attestd run --)"
expect_eq "purge's options" "--config --dry-run" "$(complete_words attestd purge --)"
expect_eq "--format values" "csv json table" "$(complete_words attestd review list --format '')"
expect_eq "help COMMAND" "check config console" "$(complete_words attestd help c)"
touch "$WORK/some.conf"
expect_eq "--config completes files" "$WORK/some.conf" "$(complete_words attestd status --config "$WORK/so")"
expect_eq "attestd-centre commands" "add key remove" "$(complete_words attestd-centre '')"
expect_eq "attestd-centre options" "--delete-dirs" "$(complete_words attestd-centre remove R2402800010 --del)"

finish
