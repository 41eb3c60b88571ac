SET client_min_messages = warning;
INSERT INTO attestd.centres (approval, name, departement, valid_from)
SELECT 'R24028' || lpad(i::text, 5, '0'), 'Centre ' || i, '28', '2020-01-01' FROM generate_series(1, 100) i;
INSERT INTO attestd.stages (approval, ref, departement, first_day, last_day)
SELECT 'R24028' || lpad((i % 100 + 1)::text, 5, '0'), 'S' || i, '28',
       date '2023-12-01' + (i % 1090), date '2023-12-01' + (i % 1090) + 1
  FROM generate_series(1, 20000) i;
INSERT INTO attestd.submissions (claim_id, inbox_dir, file_name, sha256, kind, approval, stage_id, received_at, status, errors)
SELECT 'c' || i, s.approval, 'f' || i || '.xml', md5(i::text) || md5('x' || i), CASE WHEN i % 2 = 0 THEN 'attestations' ELSE 'signin-sheet' END,
       s.approval, s.id, (s.last_day + (i % 20))::timestamptz + interval '10 hours',
       CASE WHEN i % 50 = 0 THEN 'rejected' ELSE 'accepted' END, CASE WHEN i % 50 = 0 THEN '{bad_file_name}'::text[] ELSE '{}' END
  FROM generate_series(1, 40000) i JOIN attestd.stages s ON s.id = (i + 1) / 2;
INSERT INTO attestd.attestations (submission_id, stage_id, approval, number, stage_case, issued, departement, first_day, last_day,
	licence, surname, given_names, birth_date, received_at, received_on, registration_deadline, decision, points, reasons, flags, decided_at, decided_on)
SELECT sub.id, st.id, st.approval, 'N' || st.id || '-' || k, 1, st.last_day, '28', st.first_day, st.last_day,
       lpad(((st.id * 20 + k) % 200000)::text, 12, '0'), 'NOM', 'Prenom', '1980-01-01', sub.received_at, sub.received_at::date,
       sub.received_at::date + 30, (ARRAY['credited','no_credit','rejected','credited'])[k % 4 + 1], CASE WHEN k % 4 IN (0, 3) THEN 4 ELSE 0 END,
       '{}', CASE WHEN k % 10 = 0 THEN '{late_transmission}'::text[] WHEN k % 17 = 0 THEN '{registration_overdue}'::text[] ELSE '{}' END,
       sub.received_at + interval '1 hour', sub.received_at::date
  FROM attestd.stages st JOIN attestd.submissions sub ON sub.stage_id = st.id AND sub.kind = 'attestations' AND sub.status = 'accepted',
       generate_series(1, 20) k;
INSERT INTO attestd.decision_history (attestation_id, at, actor, cause, decision, points, reasons, flags)
SELECT id, decided_at, 'attestd', 'file', decision, points, reasons, flags FROM attestd.attestations;
ANALYZE;
