-- attestd: roles.  Run once per cluster by a DBA, as a superuser (or a role
-- with CREATEROLE), before `attestd db migrate`:
--
--   psql -v ON_ERROR_STOP=1 -U postgres -f /usr/local/share/attestd/sql/roles.sql
--   createdb -U postgres -O attestd attestd
--
-- attestd          the daemon's login role; owns the database and its objects.
-- attestd_auditor  read-only: the audit schema's views, nothing else.  Give it
--                  to auditors' own login roles with GRANT attestd_auditor TO ...
-- attestd_reviewer an auditor who may also accept or reject review items in
--                  the console (GRANT attestd_reviewer TO a person's role).
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'attestd') THEN
		CREATE ROLE attestd LOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'attestd_auditor') THEN
		CREATE ROLE attestd_auditor LOGIN;
	END IF;
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'attestd_reviewer') THEN
		CREATE ROLE attestd_reviewer NOLOGIN;
	END IF;
	IF NOT pg_has_role('attestd_reviewer', 'attestd_auditor', 'MEMBER') THEN
		GRANT attestd_auditor TO attestd_reviewer;
	END IF;
END
$$;
