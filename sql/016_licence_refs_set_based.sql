-- 016: the licence a ledger event, a balance or a balance-history row names
-- exists in the licence registry: checked once per statement, set-based,
-- instead of once per row (issue 11, item 2's cost; `make bench-import`).
--
-- A foreign key checks each inserted row with its own query (an index
-- probe and a KEY SHARE lock, through SPI): the first events import of a
-- national registry inserts 3,000,000 events, 1,000,000 balances and
-- 1,000,000 history rows, and those checks were about half the cost of
-- inserting them (perf on the backend; 200,000 rows: 1.0 s of 2.0 s).
-- The same guarantee, taken per statement:
--   * after each INSERT or UPDATE on the three tables, the statement's rows
--     (a transition table) are anti-joined to the registry: one join,
--     whatever the number of rows; a licence missing there makes the
--     statement fail with SQLSTATE 23503 (foreign_key_violation);
--   * a licence still named by one of them cannot be deleted or renumbered
--     (attestd never does either: a registry file upserts; this guards a
--     hand-made change).
-- A foreign key also locks each licence it checked (KEY SHARE) so that a
-- concurrent deletion waits; here the deletion waits instead: its check
-- first takes the three tables in SHARE mode, which waits for every
-- transaction that has written to them to end (and holds off new writers
-- until the deletion ends), then looks with a fresh snapshot.  Deleting a
-- licence, which nothing does, pays for the million rows an import no
-- longer locks one by one.

CREATE FUNCTION attestd.licence_refs_exist() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	missing text;
BEGIN
	-- EXECUTE: planned for this statement's row count (a file's few
	-- licences by their index, an import's millions by a hash anti-join
	-- over the registry), not a plan cached for another size.
	-- min(), not LIMIT 1: the plan is costed for the whole join, the
	-- answer being nearly always that no row is missing.
	EXECUTE 'SELECT min(n.licence) FROM new_rows n WHERE NOT EXISTS'
		' (SELECT FROM attestd.licences l WHERE l.licence = n.licence)'
		INTO missing;
	IF missing IS NOT NULL THEN
		RAISE foreign_key_violation USING
			MESSAGE = format('insert or update on table "%s" names licence %s, which is not in attestd.licences',
					 TG_TABLE_NAME, missing),
			TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
	END IF;
	RETURN NULL;
END
$$;

CREATE FUNCTION attestd.licence_still_named() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	named text;
BEGIN
	IF TG_LEVEL = 'ROW' THEN
		LOCK TABLE attestd.licence_events, attestd.licence_balances,
			attestd.balance_history IN SHARE MODE;
		-- A number changed: does anything still name the old one?
		EXECUTE 'SELECT $1 WHERE EXISTS (SELECT FROM attestd.licence_events e WHERE e.licence = $1)'
			' OR EXISTS (SELECT FROM attestd.licence_balances b WHERE b.licence = $1)'
			' OR EXISTS (SELECT FROM attestd.balance_history h WHERE h.licence = $1)'
			INTO named USING OLD.licence;
	ELSE
	LOCK TABLE attestd.licence_events, attestd.licence_balances, attestd.balance_history
		IN SHARE MODE;
	EXECUTE 'SELECT o.licence FROM old_rows o WHERE NOT EXISTS'
		'  (SELECT FROM attestd.licences l WHERE l.licence = o.licence) AND'
		' (EXISTS (SELECT FROM attestd.licence_events e WHERE e.licence = o.licence)'
		'  OR EXISTS (SELECT FROM attestd.licence_balances b WHERE b.licence = o.licence)'
		'  OR EXISTS (SELECT FROM attestd.balance_history h WHERE h.licence = o.licence))'
		' LIMIT 1'
		INTO named;
	END IF;
	IF named IS NOT NULL THEN
		RAISE foreign_key_violation USING
			MESSAGE = format('licence %s is still named by its events, balance or balance history',
					 named),
			TABLE = TG_TABLE_NAME, SCHEMA = TG_TABLE_SCHEMA;
	END IF;
	RETURN NULL;
END
$$;

ALTER TABLE attestd.licence_events DROP CONSTRAINT licence_events_licence_fkey;
ALTER TABLE attestd.licence_balances DROP CONSTRAINT licence_balances_licence_fkey;
ALTER TABLE attestd.balance_history DROP CONSTRAINT balance_history_licence_fkey;

-- One trigger per event: a transition table is allowed on INSERT or UPDATE
-- alone, and without a column list.
CREATE TRIGGER licence_refs_ins AFTER INSERT ON attestd.licence_events
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION attestd.licence_refs_exist();
CREATE TRIGGER licence_refs_upd AFTER UPDATE ON attestd.licence_events
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION attestd.licence_refs_exist();
CREATE TRIGGER licence_refs_ins AFTER INSERT ON attestd.licence_balances
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION attestd.licence_refs_exist();
CREATE TRIGGER licence_refs_upd AFTER UPDATE ON attestd.licence_balances
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION attestd.licence_refs_exist();
CREATE TRIGGER licence_refs_ins AFTER INSERT ON attestd.balance_history
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION attestd.licence_refs_exist();
CREATE TRIGGER licence_refs_upd AFTER UPDATE ON attestd.balance_history
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
	EXECUTE FUNCTION attestd.licence_refs_exist();
CREATE TRIGGER licence_still_named_del AFTER DELETE ON attestd.licences
	REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
	EXECUTE FUNCTION attestd.licence_still_named();
-- A registry import updates licences by the million but never their number:
-- this one fires only for a statement that sets the number, and checks
-- only a row whose number changed.
CREATE TRIGGER licence_still_named_upd AFTER UPDATE OF licence ON attestd.licences
	FOR EACH ROW WHEN (OLD.licence IS DISTINCT FROM NEW.licence)
	EXECUTE FUNCTION attestd.licence_still_named();
