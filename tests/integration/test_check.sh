#!/usr/bin/env bash
# `attestd check` through the binary: a throwaway PKI (tests/fixtures/pki.sh),
# files signed by the xmlsec1 command-line tool (another implementation
# than ours), a configuration whose [trust] names the PKI.  Good files give
# exit 0 and an OK line; bad ones exit 1 and one line per problem,
# FILE:LINE: code: message; trust files that cannot be used exit 4; no
# file exits 2.  No database is used.
. "$(dirname "$0")/lib.sh"

PKI=$WORK/pki
test_pki "$PKI" || { fail "tests/fixtures/pki.sh"; finish; exit 1; }
DOCS=$TOP/tests/fixtures/docs
F=$WORK/files
mkdir -p "$F"

# conf NAME [KEY=VALUE lines for [limits]] - a configuration without a database.
conf() {
	local c=$WORK/$1.conf
	printf '[trust]\ncentres_ca = %s\n%s\n[prefecture]\ndepartements = 28\n[limits]\n%s\n' \
		"${CA:-$PKI/ca-bundle.pem}" "${CRL-crl = $PKI/crl.pem}" "${2:-}" > "$c"
	echo "$c"
}

# sign WHO IN OUT: IN (whose last line closes the root) signed by `xmlsec1 --sign`
# with WHO.key / WHO.pem under the profile of exchange-format.md §5.
sign() {
	local alg=http://www.w3.org/2001/04/xmldsig-more#rsa-sha256
	openssl pkey -in "$PKI/$1.key" -noout -text 2>/dev/null | grep -q 'ASN1 OID' &&
		alg=http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256
	{
		head -n -1 "$2"
		cat <<TMPL
  <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
    <ds:SignedInfo>
      <ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
      <ds:SignatureMethod Algorithm="$alg"/>
      <ds:Reference URI="">
        <ds:Transforms>
          <ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
          <ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
        </ds:Transforms>
        <ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>
        <ds:DigestValue/>
      </ds:Reference>
    </ds:SignedInfo>
    <ds:SignatureValue/>
    <ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo>
  </ds:Signature>
TMPL
		tail -n 1 "$2"
	} > "$WORK/tmpl.xml"
	xmlsec1 --sign --privkey-pem "$PKI/$1.key,$PKI/$1.pem" --output "$3" "$WORK/tmpl.xml" \
		2>"$WORK/xmlsec1.err" || fail "xmlsec1 --sign $1 $2" "$(<"$WORK/xmlsec1.err")"
}

# fingerprint CERT: SHA-256 of the DER, lower-case hex, as centres.csv wants it.
fingerprint() {
	openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1
}

ATT=$DOCS/valid/attestations-example.xml
SHEET=$DOCS/valid/signin-sheet-example.xml
CONF=$(conf main 'max_file_size = 1MiB')

# --- good files ----------------------------------------------------------------

sign centre-rsa "$ATT" "$F/att-rsa.xml"
sign centre-ec "$SHEET" "$F/sheet-ec.xml"
RSA_FP=$(fingerprint "$PKI/centre-rsa.pem")
EC_FP=$(fingerprint "$PKI/centre-ec.pem")

run_attestd check --config "$CONF" "$F/att-rsa.xml" "$F/sheet-ec.xml"
expect_eq "valid files: exit 0" 0 "$RC"
expect_match "valid attestations: OK line with kind, centre, stage, count, fingerprint" \
	"^$F/att-rsa.xml: OK: attestations of centre R2402800010, stage CH-2026-1113, 5 attestations, .*fingerprint $RSA_FP" "$OUT"
expect_match "valid signin-sheet: OK line with its participants and EC fingerprint" \
	"^$F/sheet-ec.xml: OK: signin-sheet of centre R2402800010, stage CH-2026-1113, 3 participants, .*fingerprint $EC_FP" "$OUT"
expect_eq "valid files: one line each" 2 "$(printf '%s\n' "$OUT" | wc -l)"
expect_eq "valid files: nothing on stderr" "" "$ERR"

# Without a CRL configured, revocation is not checked but the rest is.
run_attestd check --config "$(CRL='' conf nocrl)" "$F/att-rsa.xml"
expect_eq "no CRL configured: exit 0" 0 "$RC"

# --- bad files: one line per problem, FILE:LINE: code: message ------------------

# A schema error, signed properly: the line of the offending element.
sed 's/licence="120575300042"/licence="120575300042x"/' "$ATT" > "$WORK/bad-licence.xml"
sign centre-rsa "$WORK/bad-licence.xml" "$F/bad-licence.xml"
# Signed, then changed.
sed 's/surname="MARTIN"/surname="DUPONT"/' "$F/att-rsa.xml" > "$F/tampered.xml"
# Signed, then a comment slipped into the venue (line 5).
sed 's/<venue>Salle Jean Moulin/<venue>Salle Jean<!-- -->Moulin/' "$F/sheet-ec.xml" > "$F/comment.xml"
# A DOCTYPE on line 2.
sed '1a <!DOCTYPE attestations>' "$F/att-rsa.xml" > "$F/doctype.xml"
# Unsigned: the root's line.
cp "$ATT" "$F/unsigned.xml"
# Cut short.
head -n 8 "$F/att-rsa.xml" > "$F/truncated.xml"
# Certificates that the wall refuses.
sign other "$ATT" "$F/untrusted.xml"
sign expired "$ATT" "$F/expired.xml"
sign revoked "$SHEET" "$F/revoked.xml"
sign rsa1024 "$ATT" "$F/rsa1024.xml"
sign keyusage "$ATT" "$F/keyusage.xml"

run_attestd check --config "$CONF" "$F/bad-licence.xml"
expect_eq "schema error: exit 1" 1 "$RC"
expect_match "schema error: its line and attribute" \
	"^$F/bad-licence.xml:6: schema_invalid: .*licence.*; correct the element or attribute" "$OUT"
expect_eq "schema error: one line" 1 "$(printf '%s\n' "$OUT" | wc -l)"

run_attestd check --config "$CONF" "$F/tampered.xml" "$F/comment.xml" "$F/doctype.xml" \
	"$F/unsigned.xml" "$F/truncated.xml" "$F/untrusted.xml" "$F/expired.xml" \
	"$F/revoked.xml" "$F/rsa1024.xml" "$F/keyusage.xml" "$F/att-rsa.xml"
expect_eq "bad files: exit 1" 1 "$RC"
expect_eq "bad files: one line per file" 11 "$(printf '%s\n' "$OUT" | wc -l)"
expect_match "tampered: signature_invalid, what to do" \
	"^$F/tampered.xml(:[0-9]+)?: signature_invalid: .*; the file changed after it was signed" "$OUT"
expect_match "comment after signing: line 5" \
	"^$F/comment.xml:5: xml_construct_forbidden: .*comment" "$OUT"
expect_match "DOCTYPE: line 2" "^$F/doctype.xml:2: doctype_forbidden: " "$OUT"
expect_match "unsigned: the root's line" "^$F/unsigned.xml:2: signature_missing: .*; sign the file" "$OUT"
expect_match "truncated: not_well_formed with a line" "^$F/truncated.xml:[0-9]+: not_well_formed: " "$OUT"
expect_match "other CA: cert_untrusted" "^$F/untrusted.xml(:[0-9]+)?: cert_untrusted: " "$OUT"
expect_match "expired: cert_expired" "^$F/expired.xml(:[0-9]+)?: cert_expired: .*; renew" "$OUT"
expect_match "revoked: cert_revoked" "^$F/revoked.xml(:[0-9]+)?: cert_revoked: " "$OUT"
expect_match "RSA-1024: cert_policy" "^$F/rsa1024.xml(:[0-9]+)?: cert_policy: " "$OUT"
expect_match "key encipherment only: cert_policy" "^$F/keyusage.xml(:[0-9]+)?: cert_policy: " "$OUT"
expect_match "the good file among them still OK" "^$F/att-rsa.xml: OK: " "$OUT"
expect_match "summary on stderr" "10 of 11 files did not pass" "$ERR"
expect_no_match "no problem line without its form" '^[^:]+: [a-z_]+$' "$OUT"

# --- the name and the kind of file -------------------------------------------------

cp "$F/att-rsa.xml" "$F/bad name.xml"
run_attestd check --config "$CONF" "$F/bad name.xml"
expect_eq "bad name: exit 1" 1 "$RC"
expect_match "bad name: bad_file_name" "^$F/bad name.xml: bad_file_name: .*; rename the file" "$OUT"
expect_no_match "bad name: no OK line" ': OK: ' "$OUT"

ln -s "$F/att-rsa.xml" "$F/link.xml"
run_attestd check --config "$CONF" "$F/link.xml"
expect_eq "symlink to a valid file: exit 1" 1 "$RC"
expect_match "symlink: not_regular_file, never followed" \
	"^$F/link.xml: not_regular_file: a symbolic link \\(never followed\\)" "$OUT"

ln "$F/sheet-ec.xml" "$F/hardlink.xml"
run_attestd check --config "$CONF" "$F/hardlink.xml"
expect_match "second hard link: not_regular_file" "^$F/hardlink.xml: not_regular_file: a file with 2 hard links" "$OUT"
rm -f "$F/hardlink.xml"

run_attestd check --config "$CONF" "$F/no-such-file.xml"
expect_eq "missing file: exit 1" 1 "$RC"
expect_match "missing file: says why" "^$F/no-such-file.xml: io_error: cannot read the file: No such file or directory" "$OUT"

SMALL=$(conf small 'max_file_size = 1KiB')
SIZE=$(stat -c %s "$F/att-rsa.xml")
run_attestd check --config "$SMALL" "$F/att-rsa.xml"
expect_eq "over max_file_size: exit 1" 1 "$RC"
expect_match "over max_file_size: too_large with both sizes" \
	"^$F/att-rsa.xml: too_large: the file has $SIZE bytes, more than the limit of 1024 \\(\\[limits\\] max_file_size" "$OUT"

# --- trust files ----------------------------------------------------------------------

STALE=$(CRL="crl = $PKI/crl-stale.pem" conf stale)
run_attestd check --config "$STALE" "$F/att-rsa.xml"
expect_eq "stale CRL: exit 1" 1 "$RC"
expect_match "stale CRL: crl_stale, the setup's problem" \
	"^$F/att-rsa.xml(:[0-9]+)?: crl_stale: .*\\[trust\\] crl in $STALE: a problem of this machine's setup" "$OUT"

NOCA=$(CA="$WORK/no-such-ca.pem" conf noca)
run_attestd check --config "$NOCA" "$F/att-rsa.xml"
expect_eq "missing CA file: exit 4 (this machine's setup, not a bug)" 4 "$RC"
expect_match "missing CA file: names [trust] and the configuration" \
	"trust_unavailable: .*check \\[trust\\] centres_ca and crl in $NOCA" "$ERR"
expect_eq "missing CA file: nothing on stdout" "" "$OUT"

echo "not a certificate" > "$WORK/garbage.pem"
GARBAGE=$(CA="$WORK/garbage.pem" conf garbage)
run_attestd check --config "$GARBAGE" "$F/att-rsa.xml"
expect_eq "unusable CA file: exit 4 (this machine's setup, not a bug)" 4 "$RC"
expect_match "unusable CA file: names [trust]" '\[trust\]' "$ERR"

BADCRL=$(CRL="crl = $PKI/centre-ec.key" conf badcrl)
run_attestd check --config "$BADCRL" "$F/att-rsa.xml"
expect_eq "unusable CRL file: exit 4 (this machine's setup, not a bug)" 4 "$RC"

# --- usage ------------------------------------------------------------------------------

run_attestd check --config "$CONF"
expect_eq "no files: exit 2" 2 "$RC"
expect_match "no files: says so" 'check needs at least one file' "$ERR"

finish
