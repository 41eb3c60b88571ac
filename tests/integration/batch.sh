# batch.sh - batches of signed files and end-state dumps for the crash,
# kill, fault and concurrency tests (sourced after lib.sh and scenario.sh).
#
#   batch_make FILES           about FILES signed files in $WORK/batch, names
#                              prefixed by their drop order (ties of ctime then
#                              sort as dropped); the list in $WORK/batch/ORDER.
#                              Stages of two trainees (and four more on the
#                              sheet), attestations and sheets in both orders,
#                              an absence, a trainee on the attestations only,
#                              stages without their sheet, rejected files,
#                              byte-identical duplicates.
#   batch_env NAME             a fresh database and directories under
#                              $WORK/r/NAME ($R), registries loaded, $CONF and
#                              $ATTESTD_CONFIG pointing there
#   batch_drop [FROM [TO]]     drops files FROM..TO of the order (1-based) into
#                              $R/inbox the way an SFTP client does
#   batch_dump FILE            the normalised end state: database rows without
#                              ids, timestamps or claim ids; archive, quarantine
#                              and outbox listings; receipts' decision content
#   batch_dump_final FILE      what does not depend on the order in which
#                              files were taken (several instances): final
#                              decisions, balances, ledger, archive, quarantine,
#                              statuses per content, one receipt at least per file
#   batch_finished             true once the inbox and spool are empty and every
#                              receipt is written
#   batch_compare NAME REF CUR expect_eq on two dumps, with a diff on failure
#   batch_wait SECONDS CMD...  wait_until (lib.sh): polls CMD, 0 once it succeeds
#   sanitizer_clean NAME LOG   fails NAME when LOG holds a sanitizer report

batch_wait() {
	wait_until "$@"
}

sanitizer_clean() {
	if grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$2"; then
		fail "$1" "$(grep -E -A5 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$2" | head -40)"
	fi
}

# batch_add FILE: appends the next file of the order (already in $WORK/out).
batch_add() {
	B_SEQ=$((B_SEQ + 1))
	printf -v B_LAST 'f%04d-%s' "$B_SEQ" "$1"
	mv "$WORK/out/$1" "$WORK/batch/$B_LAST"
	echo "$B_LAST" >> "$WORK/batch/ORDER"
}

# batch_stage K: the two documents of stage K into $WORK/out (att-K.xml,
# sheet-K.xml), licences and events appended to the registries' CSVs.
batch_stage() {
	local k=$1 l1 l2 l3
	printf -v l1 '1200%06d01' "$k"
	printf -v l2 '1200%06d02' "$k"
	licence "$l1" "NOM$k" "Premier" 1980-01-01
	licence "$l2" "NOM$k" "Second" 1981-02-02
	event "$l1" 2009-06-01 grant 12 "G$l1"
	event "$l1" 2026-03-01 retrait -6 "R$l1"
	event "$l2" 2009-06-01 grant 12 "G$l2"
	event "$l2" 2025-12-01 retrait -3 "R$l2"
	stage "S-$k" 2026-11-13 2026-11-14
	trainee "$l1" "NOM$k" Premier 1980-01-01
	case $((k % 4)) in
	2) ARRIVALS="08:20 - 08:20 12:50" trainee "$l2" "NOM$k" Second 1981-02-02 ;;
	3) trainee "$l2" "NOM$k" Second 1981-02-02
	   printf -v l3 '1200%06d03' "$k"
	   ATT_ONLY=1 trainee "$l3" "NOM$k" Tiers 1982-03-03 ;;
	*) trainee "$l2" "NOM$k" Second 1981-02-02 ;;
	esac
	# A group of six on the sheet (rules.md §3: group_size).
	local i o
	for i in 1 2 3 4; do
		printf -v o '1300%06d%02d' "$k" "$i"
		SHEET_ONLY=1 trainee "$o" AUTRE "Personne" 1970-01-0$i
	done
	attestations_file "att-$k.xml" >/dev/null || return 1
	sheet_file "sheet-$k.xml" >/dev/null || return 1
}

# Even stages send the attestations first, odd ones the sheet; the second
# file of stage k comes after the first of stage k+1; stages 5, 12, 19...
# have no sheet (their attestations stay pending); every 5th stage brings a
# file that is not well-formed, stages 4, 12, 20... a byte-identical copy of
# the last attestations file.
batch_make() {
	local want=$1 k=0 prev_second="" first second last_att=""
	mkdir -p "$WORK/batch"
	rm -f "$WORK/batch/"*
	B_SEQ=0
	while [ "$B_SEQ" -lt "$want" ]; do
		k=$((k + 1))
		batch_stage "$k" || return 1
		if [ $((k % 2)) -eq 0 ]; then first=att-$k.xml second=sheet-$k.xml
		else first=sheet-$k.xml second=att-$k.xml; fi
		[ $((k % 7)) -eq 5 ] && { second=""; first=att-$k.xml; rm -f "$WORK/out/sheet-$k.xml"; }
		batch_add "$first"
		[ "${first#att}" != "$first" ] && last_att=$B_LAST
		if [ -n "$prev_second" ]; then
			batch_add "$prev_second"
			[ "${prev_second#att}" != "$prev_second" ] && last_att=$B_LAST
		fi
		prev_second=$second
		if [ $((k % 5)) -eq 0 ]; then
			printf '<attestations xmlns="urn:ssr:stage:1" version="1"><centre approval="%s"/>' \
				"$APPROVAL" > "$WORK/out/broken-$k.xml"
			batch_add "broken-$k.xml"
		fi
		if [ $((k % 8)) -eq 4 ] && [ -n "$last_att" ]; then
			cp "$WORK/batch/$last_att" "$WORK/out/dup-$k.xml"
			batch_add "dup-$k.xml"
		fi
	done
	[ -n "$prev_second" ] && batch_add "$prev_second"
	B_FILES=$B_SEQ
}

batch_env() {
	local name=$1
	R=$WORK/r/$name
	rm -rf "$R"
	mkdir -p "$R/inbox/$APPROVAL" "$R/outbox" "$R/spool" "$R/archive" "$R/quarantine"
	DB=t_${T_NAME#test_}_$name
	pg_createdb "$DB"
	export PGDATABASE=$DB
	sed -e "s|^inbox = .*|inbox = $R/inbox|" -e "s|^outbox = .*|outbox = $R/outbox|" \
		-e "s|^spool = .*|spool = $R/spool|" -e "s|^archive = .*|archive = $R/archive|" \
		-e "s|^quarantine = .*|quarantine = $R/quarantine|" \
		-e "s|dbname=[^ ]*|dbname=$DB|" "$WORK/attestd.conf" > "$R/attestd.conf"
	CONF=$R/attestd.conf
	export ATTESTD_CONFIG=$CONF
	"$ATTESTD" db migrate >/dev/null &&
	"$ATTESTD" registry import centres "$WORK/csv/centres.csv" >/dev/null &&
	"$ATTESTD" registry import facilitators "$WORK/csv/facilitators.csv" >/dev/null &&
	registries
}

# The files are copied into $R/.drop (the inbox's filesystem) by one cp,
# then renamed into the inbox by one mv, one rename(2) each in the order of
# the list: each file appears whole, in drop order, as an SFTP client's
# rename makes it appear (a cp and an mv per file were 2 processes a file).
batch_drop() {
	local from=${1:-1} to=${2:-$B_FILES} dir=$R/inbox/$APPROVAL stage=$R/.drop f n=0 src=() staged=()
	while IFS= read -r f; do
		n=$((n + 1))
		[ "$n" -lt "$from" ] && continue
		[ "$n" -gt "$to" ] && break
		src+=("$WORK/batch/$f")
		staged+=("$stage/$f")
	done < "$WORK/batch/ORDER"
	[ ${#src[@]} -gt 0 ] || return 0
	[ -d "$stage" ] || mkdir "$stage" || return 1
	cp -- "${src[@]}" "$stage/" && mv -- "${staged[@]}" "$dir/"
}

# The inbox is looked at first, in bash: while it holds files (most polls)
# neither find nor psql runs.
batch_finished() {
	dir_empty "$R/inbox/$APPROVAL" &&
	[ -z "$(find "$R/spool" -type f ! -name '.status.*')" ] &&
	[ "$(sql "SELECT count(*) FROM attestd.receipts WHERE written_at IS NULL")" = 0 ]
}

# A receipt's content without what legitimately differs between runs:
# the times of reception (of the drop) and processing, and the signature.
batch_receipt_text() {
	batch_receipts_text "$1" | sed 's/^[^ ]* //'
}

# batch_receipts_text FILE...: "FILE TEXT" per file, TEXT as above: one awk
# for all the receipts (a tr and a sed per receipt were 3 processes each).
batch_receipts_text() {
	[ $# -gt 0 ] || return 0
	awk 'function out() { sub(/<(ds:)?Signature[ >].*<\/(ds:)?Signature>/, "", t)
			gsub(/ (processed|received|first-received)="[^"]*"/, "", t); print name " " t }
		FNR == 1 { if (NR > 1) out(); name = FILENAME; t = "" }
		{ t = t $0 }
		END { if (NR > 0) out() }' "$@"
}

# batch_archive_dump: the archive with hashes, the quarantine without claim
# ids; from $R.  One sha256sum for the whole archive (it prints "HASH  ./f").
batch_archive_dump() {
	(cd "$R/archive" && find . -type f -print0 | sort -z | xargs -0r sha256sum |
		sed -E 's/^([0-9a-f]{64})  (.*)$/archive \2 \1/')
	(cd "$R/quarantine" && find . \( -type f -o -type l \) | sed -E 's|/[0-9]{11}\.[0-9]{9}-[0-9a-f]{8}[.~]|/CLAIM.|' |
		sort | sed 's/^/quarantine /')
}

# The queries of batch_dump, run by one psql (one connection, one backend):
# 13 psql processes and server backends a dump before.
BATCH_DUMP_SQL=$(cat <<'SQL'
\echo # submissions
COPY (SELECT s.inbox_dir, s.file_name, s.sha256, s.size, s.kind, s.approval, st.ref,
	s.status, s.errors, regexp_replace(array_to_string(s.error_messages, '|'), 'submission [0-9]+', 'submission N', 'g'),
	d.file_name, s.signer_sha256, s.crl_number, s.verifier
	FROM attestd.submissions s LEFT JOIN attestd.stages st ON st.id = s.stage_id
	LEFT JOIN attestd.submissions d ON d.id = s.duplicate_of
	ORDER BY s.file_name, s.status) TO STDOUT;
\echo # stages
COPY (SELECT approval, ref, departement, first_day, last_day, findings
	FROM attestd.stages ORDER BY approval, ref) TO STDOUT;
\echo # signin sheets
COPY (SELECT s.file_name, p.licence, p.arrived, p.signed, p.id_sha256
	FROM attestd.signin_participants p JOIN attestd.submissions s ON s.id = p.submission_id
	ORDER BY s.file_name, p.licence) TO STDOUT;
\echo # attestations
COPY (SELECT a.approval, a.number, s.file_name, a.licence, a.stage_case, a.decision,
	a.points, a.effective_date, a.reasons, a.flags, a.previous_credit_last_day,
	a.received_on, a.registration_deadline, a.decided_on
	FROM attestd.attestations a JOIN attestd.submissions s ON s.id = a.submission_id
	ORDER BY a.approval, a.number) TO STDOUT;
\echo # decision history
COPY (SELECT a.number, h.actor, coalesce(s.file_name, h.cause), h.decision, h.points,
	h.reasons, h.flags
	FROM attestd.decision_history h JOIN attestd.attestations a ON a.id = h.attestation_id
	LEFT JOIN attestd.submissions s ON h.cause ~ 'submission [0-9]+$'
		AND s.id = substring(h.cause from '([0-9]+)$')::bigint
	ORDER BY a.number, h.id) TO STDOUT;
\echo # licence events
COPY (SELECT licence, effective_date, kind, points, ref, source, stage_first_day
	FROM attestd.licence_events ORDER BY ref) TO STDOUT;
\echo # balances
COPY (SELECT licence, balance, ceiling, last_credit_stage_last_day
	FROM attestd.licence_balances ORDER BY licence) TO STDOUT;
\echo # balance history
COPY (SELECT h.licence, h.old_balance, h.new_balance, coalesce(s.file_name, h.cause)
	FROM attestd.balance_history h
	LEFT JOIN attestd.submissions s ON h.cause ~ 'submission [0-9]+$'
		AND s.id = substring(h.cause from '([0-9]+)$')::bigint
	ORDER BY h.licence, h.id) TO STDOUT;
\echo # receipts
COPY (SELECT r.path, r.seq, s.file_name, r.written_at IS NOT NULL
	FROM attestd.receipts r JOIN attestd.submissions s ON s.id = r.submission_id
	ORDER BY r.path) TO STDOUT;
\echo # audit log
COPY (SELECT action, count(*) FROM audit.log GROUP BY action ORDER BY action) TO STDOUT;
\echo # audit chain intact
SELECT coalesce(bool_and(hash = audit.row_hash(prev_hash, seq, at, actor, action, subject, detail)), true) FROM audit.log;
SQL
)

batch_dump() {
	local out=$1 receipts
	{
		# Submission ids, claim ids and times differ between runs; the
		# file name says which file a row is about.
		psql -X -At -v ON_ERROR_STOP=1 -d "$DB" <<<"$BATCH_DUMP_SQL"
		echo "# files: archive (with hashes), quarantine (without claim ids), outbox"
		batch_archive_dump
		(cd "$R/outbox" && find . -type f | sort | sed 's/^/outbox /')
		echo "# left in the inbox and the spool"
		(cd "$R" && find inbox spool -type f ! -name '.status.*' | sort)
		echo "# receipts' content"
		mapfile -t receipts < <(cd "$R/outbox" && find . -type f -name '*.receipt.xml' | sort)
		(cd "$R/outbox" && batch_receipts_text "${receipts[@]}")
	} > "$out" 2>&1
}

# batch_dump_final's queries, one psql as for batch_dump.
BATCH_DUMP_FINAL_SQL=$(cat <<'SQL'
\echo # statuses per content (which of two identical files came first may vary)
COPY (SELECT sha256, kind, string_agg(status || ' ' || errors::text, ',' ORDER BY status), count(*)
	FROM attestd.submissions GROUP BY sha256, kind ORDER BY sha256) TO STDOUT;
\echo # files without exactly one row
COPY (SELECT file_name, count(*) FROM attestd.submissions GROUP BY file_name
	HAVING count(*) <> 1 ORDER BY file_name) TO STDOUT;
\echo # final decisions
COPY (SELECT approval, number, licence, stage_case, decision, points, effective_date,
	reasons, flags, previous_credit_last_day, received_on, registration_deadline, decided_on
	FROM attestd.attestations ORDER BY approval, number) TO STDOUT;
\echo # attestations decided more or less than once
COPY (SELECT a.number, count(h.id) FROM attestd.attestations a
	LEFT JOIN attestd.decision_history h ON h.attestation_id = a.id AND h.decision <> 'pending'
	WHERE a.decision <> 'pending' GROUP BY a.number HAVING count(h.id) <> 1 ORDER BY a.number) TO STDOUT;
\echo # licence events
COPY (SELECT licence, effective_date, kind, points, ref, source, stage_first_day
	FROM attestd.licence_events ORDER BY ref) TO STDOUT;
\echo # balances
COPY (SELECT licence, balance, ceiling, last_credit_stage_last_day
	FROM attestd.licence_balances ORDER BY licence) TO STDOUT;
\echo # balance changes
COPY (SELECT licence, old_balance, new_balance FROM attestd.balance_history
	ORDER BY licence, old_balance, new_balance) TO STDOUT;
\echo # receipts: files without one, receipts not written
COPY (SELECT s.file_name FROM attestd.submissions s WHERE NOT EXISTS
	(SELECT 1 FROM attestd.receipts r WHERE r.submission_id = s.id AND r.seq = 1)
	ORDER BY 1) TO STDOUT;
SELECT count(*) FROM attestd.receipts WHERE written_at IS NULL;
\echo # audit log
COPY (SELECT action, count(*) FROM audit.log GROUP BY action ORDER BY action) TO STDOUT;
SELECT coalesce(bool_and(hash = audit.row_hash(prev_hash, seq, at, actor, action, subject, detail)), true) FROM audit.log;
SQL
)

batch_dump_final() {
	local out=$1
	{
		psql -X -At -v ON_ERROR_STOP=1 -d "$DB" <<<"$BATCH_DUMP_FINAL_SQL"
		echo "# files"
		batch_archive_dump
		(cd "$R/outbox" && find . -type f -name '*.1.receipt.xml' | sort | sed 's/^/outbox /')
		(cd "$R/outbox" && find . -type f ! -name '*.receipt.xml' | sort | sed 's/^/outbox, not a receipt: /')
		echo "# left in the inbox and the spool"
		(cd "$R" && find inbox spool -type f ! -name '.status.*' | sort)
	} > "$out" 2>&1
}

batch_compare() {
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		fail "$1" "$(diff "$2" "$3" | head -30)"
	fi
}
