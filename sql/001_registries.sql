-- 001: the registries the prefecture loads from CSV (interfaces.md):
-- centres and their signing certificates, facilitators, licences, and the
-- licences' ledger events.  Tables live in schema attestd; auditors read the
-- audit schema only (later migrations).

CREATE SCHEMA IF NOT EXISTS attestd;
REVOKE ALL ON SCHEMA attestd FROM PUBLIC;

-- A strict calendar date check usable in set-based validation (a cast would
-- abort the whole statement on the first bad value).
CREATE FUNCTION attestd.is_date(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT t ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$'
	   AND substr(t, 9, 2)::int <= extract(day FROM
		make_date(substr(t, 1, 4)::int, substr(t, 6, 2)::int, 1)
		+ interval '1 month' - interval '1 day')
	   AND substr(t, 1, 4)::int BETWEEN 1900 AND 2200
$$;

CREATE FUNCTION attestd.is_departement(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT t ~ '^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$'
$$;

-- How a registry value is quoted in an import error message.
CREATE FUNCTION attestd.show(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT coalesce('"' || left(t, 60) || CASE WHEN length(t) > 60 THEN '…"' ELSE '"' END,
			'empty')
$$;

-- The département of an approval number: R24 028 00010 -> 28, 02A -> 2A, 971 -> 971.
CREATE FUNCTION attestd.approval_departement(approval text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN substr(approval, 4, 1) = '0' THEN substr(approval, 5, 2)
		    ELSE substr(approval, 4, 3) END
$$;

CREATE TABLE attestd.centres (
	approval	text PRIMARY KEY
		CHECK (approval ~ '^R[0-9]{2}(0(0[1-9]|[1-8][0-9]|9[0-5])|02A|02B|97[1-6])[0-9]{5}$'),
	name		text NOT NULL CHECK (name <> ''),
	departement	text NOT NULL CHECK (attestd.is_departement(departement)),
	valid_from	date NOT NULL,
	valid_to	date CHECK (valid_to >= valid_from),	-- inclusive; NULL = open-ended
	updated_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attestd.centre_certificates (
	approval	text NOT NULL REFERENCES attestd.centres ON DELETE CASCADE,
	cert_sha256	text NOT NULL CHECK (cert_sha256 ~ '^[0-9a-f]{64}$'),
	PRIMARY KEY (approval, cert_sha256)
);
CREATE INDEX ON attestd.centre_certificates (cert_sha256);

CREATE TABLE attestd.facilitators (
	authorisation	text PRIMARY KEY CHECK (authorisation ~ '^[A-Za-z0-9_./-]{1,64}$'),
	role		text NOT NULL CHECK (role IN ('psychologist', 'road-safety-expert')),
	surname		text NOT NULL CHECK (surname <> ''),
	given_names	text NOT NULL CHECK (given_names <> ''),
	valid_from	date NOT NULL,
	valid_to	date CHECK (valid_to >= valid_from),
	updated_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attestd.licences (
	licence		text PRIMARY KEY CHECK (licence ~ '^[0-9A-Z]{9,15}$'),
	surname		text NOT NULL CHECK (surname <> ''),
	given_names	text NOT NULL CHECK (given_names <> ''),
	birth_date	date NOT NULL,
	issued		date NOT NULL,
	probation_end	date,				-- NULL: not probationary
	status		text NOT NULL CHECK (status IN ('valid', 'suspended', 'invalidated', 'cancelled')),
	status_date	date,				-- when that status was notified
	updated_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (status = 'valid' OR status_date IS NOT NULL)
);

-- The ledger: a licence's balance is the replay of these (rules.md §6).
-- Immutable: a reference is never reused with other content.
CREATE TABLE attestd.licence_events (
	id		bigserial PRIMARY KEY,
	licence		text NOT NULL REFERENCES attestd.licences,
	effective_date	date NOT NULL,
	kind		text NOT NULL CHECK (kind IN ('grant', 'retrait', 'recovery',
					'probation_increment', 'stage_credit')),
	points		integer NOT NULL,
	ref		text NOT NULL UNIQUE CHECK (ref <> ''),
	source		text NOT NULL DEFAULT 'registry' CHECK (source IN ('registry', 'stage')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	CHECK (CASE kind WHEN 'grant' THEN points BETWEEN 1 AND 12
			 WHEN 'retrait' THEN points BETWEEN -12 AND -1
			 WHEN 'stage_credit' THEN points BETWEEN 1 AND 4
			 ELSE points BETWEEN 1 AND 12 END)
);
CREATE INDEX ON attestd.licence_events (licence, effective_date);
