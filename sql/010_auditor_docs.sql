-- 010: a database an auditor can read (issue 18 §4).  The reason codes with
-- their French labels and the rules they apply, and a comment on every view,
-- table and column of the audit schema, so that `\d+ audit.…` in psql (or a
-- spreadsheet's ODBC catalogue) explains itself.  Comments are in French,
-- the auditors' language; codes and column names stay as the spec has them.

-- Filled by `attestd db migrate` from the binary's own table (daemon/
-- reason.def), never by hand: the database and the daemon cannot disagree.
CREATE TABLE audit.reason_codes (
	code		text PRIMARY KEY,
	label_fr	text NOT NULL,
	rule		text NOT NULL,
	class		text NOT NULL CHECK (class IN ('permanent', 'temporary')),
	level		text NOT NULL CHECK (level IN ('document', 'stage', 'attestation', 'flag', 'environment')),
	description	text NOT NULL,
	retired		boolean NOT NULL DEFAULT false
);
GRANT SELECT ON audit.reason_codes TO attestd_auditor;

COMMENT ON SCHEMA audit IS
	'Vues en lecture seule pour les auditeurs (rôle attestd_auditor) : fichiers reçus, décisions, soldes, journal d''audit chaîné.';

COMMENT ON TABLE audit.reason_codes IS
	'Les codes motifs que le démon écrit (dans errors, reasons, flags et les accusés de réception), avec leur libellé et la règle appliquée ; rempli par « attestd db migrate » depuis la table du programme (daemon/reason.def).';
COMMENT ON COLUMN audit.reason_codes.code IS 'Code motif, tel qu''il figure dans les accusés, le journal et les colonnes errors, reasons et flags.';
COMMENT ON COLUMN audit.reason_codes.label_fr IS 'Libellé court en français.';
COMMENT ON COLUMN audit.reason_codes.rule IS 'Règle appliquée : section de rules.md ou exchange-format.md, et article du Code de la route ou de l''arrêté du 26 juin 2012 ; vide pour un incident de notre environnement.';
COMMENT ON COLUMN audit.reason_codes.class IS 'permanent : faute du centre, le fichier ou l''attestation est rejeté ou décidé avec ce code ; temporary : incident de notre environnement, le fichier est conservé et retraité, rien n''est rejeté.';
COMMENT ON COLUMN audit.reason_codes.level IS 'Portée : document (fichier entier rejeté), stage (toutes les attestations du stage), attestation (une attestation), flag (signalement sans effet sur la décision), environment (notre environnement).';
COMMENT ON COLUMN audit.reason_codes.description IS 'Ce que le code signifie et ce qu''il faut faire (en anglais, comme dans le journal).';
COMMENT ON COLUMN audit.reason_codes.retired IS 'Vrai pour un code que la version installée du démon n''écrit plus (il peut figurer dans des lignes anciennes).';

COMMENT ON TABLE audit.log_head IS 'Tête du journal d''audit : dernier numéro et son empreinte (une seule ligne).';
COMMENT ON COLUMN audit.log_head.one IS 'Toujours vrai : garantit une ligne unique.';
COMMENT ON COLUMN audit.log_head.seq IS 'Numéro de la dernière ligne du journal.';
COMMENT ON COLUMN audit.log_head.hash IS 'Empreinte SHA-256 (hexadécimal) de la dernière ligne du journal.';

COMMENT ON TABLE audit.log_entries IS 'Lignes du journal d''audit (lire plutôt la vue audit.log) ; ajout seul, ni modification ni suppression.';
COMMENT ON VIEW audit.log IS 'Journal d''audit en ajout seul : chaque ligne porte l''empreinte de la précédente ; « attestd audit verify-log » vérifie la chaîne.';
COMMENT ON COLUMN audit.log_entries.seq IS 'Numéro de la ligne, sans trou.';
COMMENT ON COLUMN audit.log.seq IS 'Numéro de la ligne, sans trou.';
COMMENT ON COLUMN audit.log_entries.at IS 'Date et heure de l''inscription.';
COMMENT ON COLUMN audit.log.at IS 'Date et heure de l''inscription.';
COMMENT ON COLUMN audit.log_entries.actor IS 'Qui a agi : attestd (le démon) ou l''agent (rôle de connexion) qui a fait une révision, un import ou une purge.';
COMMENT ON COLUMN audit.log.actor IS 'Qui a agi : attestd (le démon) ou l''agent (rôle de connexion) qui a fait une révision, un import ou une purge.';
COMMENT ON COLUMN audit.log_entries.action IS 'Action inscrite (file.accepted, file.rejected, review.accept, registry.import, purge…).';
COMMENT ON COLUMN audit.log.action IS 'Action inscrite (file.accepted, file.rejected, review.accept, registry.import, purge…).';
COMMENT ON COLUMN audit.log_entries.subject IS 'Objet de l''action (fichier, attestation, registre…).';
COMMENT ON COLUMN audit.log.subject IS 'Objet de l''action (fichier, attestation, registre…).';
COMMENT ON COLUMN audit.log_entries.detail IS 'Détail de l''action, en clé=valeur ; jamais de donnée personnelle.';
COMMENT ON COLUMN audit.log.detail IS 'Détail de l''action, en clé=valeur ; jamais de donnée personnelle.';
COMMENT ON COLUMN audit.log_entries.prev_hash IS 'Empreinte de la ligne précédente (64 zéros pour la première).';
COMMENT ON COLUMN audit.log.prev_hash IS 'Empreinte de la ligne précédente (64 zéros pour la première).';
COMMENT ON COLUMN audit.log_entries.hash IS 'Empreinte SHA-256 de cette ligne, calculée par audit.row_hash sur la précédente et les champs de celle-ci.';
COMMENT ON COLUMN audit.log.hash IS 'Empreinte SHA-256 de cette ligne, calculée par audit.row_hash sur la précédente et les champs de celle-ci.';

COMMENT ON VIEW audit.submissions IS 'Un fichier reçu par ligne (attestations, feuille d''émargement ou illisible), avec son issue.';
COMMENT ON COLUMN audit.submissions.id IS 'Identifiant du dépôt.';
COMMENT ON COLUMN audit.submissions.approval IS 'Agrément du centre (ou, si le fichier ne le dit pas, le répertoire de dépôt).';
COMMENT ON COLUMN audit.submissions.file_name IS 'Nom du fichier déposé.';
COMMENT ON COLUMN audit.submissions.sha256 IS 'Empreinte SHA-256 (hexadécimal) du fichier tel que reçu ; l''original archivé porte ce nom.';
COMMENT ON COLUMN audit.submissions.kind IS 'attestations, signin-sheet (feuille d''émargement) ou unknown (illisible).';
COMMENT ON COLUMN audit.submissions.received_at IS 'Réception : quand le fichier a pris son nom définitif dans le répertoire de dépôt (rules.md §7).';
COMMENT ON COLUMN audit.submissions.processed_at IS 'Quand le démon a fini de le traiter.';
COMMENT ON COLUMN audit.submissions.status IS 'accepted (accepté), rejected (rejeté en entier) ou duplicate (copie identique d''un fichier déjà reçu).';
COMMENT ON COLUMN audit.submissions.errors IS 'Codes motifs du rejet (libellés : audit.reason_codes).';

COMMENT ON VIEW audit.attestation_decisions IS 'Décision actuelle de chaque attestation de stage (rules.md §1) ; l''historique est dans audit.decision_history.';
COMMENT ON COLUMN audit.attestation_decisions.approval IS 'Agrément du centre qui a organisé le stage.';
COMMENT ON COLUMN audit.attestation_decisions.stage_ref IS 'Référence du stage donnée par le centre.';
COMMENT ON COLUMN audit.attestation_decisions.attestation_number IS 'Numéro de l''attestation, unique par centre.';
COMMENT ON COLUMN audit.attestation_decisions.licence IS 'Numéro du permis de conduire du stagiaire.';
COMMENT ON COLUMN audit.attestation_decisions.stage_case IS 'Cas du stage : 1 volontaire, 2 obligatoire (permis probatoire, lettre 48N), 3 et 4 judiciaires (sans points).';
COMMENT ON COLUMN audit.attestation_decisions.first_day IS 'Premier jour du stage.';
COMMENT ON COLUMN audit.attestation_decisions.last_day IS 'Dernier jour du stage.';
COMMENT ON COLUMN audit.attestation_decisions.decision IS 'credited (points ajoutés), no_credit (conforme, sans points), rejected (rejetée), pending (en attente), review (à examiner par un agent).';
COMMENT ON COLUMN audit.attestation_decisions.points IS 'Points ajoutés au permis (1 à 4 si credited, 0 sinon).';
COMMENT ON COLUMN audit.attestation_decisions.effective_date IS 'Date d''effet : lendemain du dernier jour du stage (R223-8).';
COMMENT ON COLUMN audit.attestation_decisions.reasons IS 'Codes motifs de la décision (libellés : audit.reason_codes).';
COMMENT ON COLUMN audit.attestation_decisions.flags IS 'Signalements sans effet sur la décision (late_transmission, registration_overdue…; libellés : audit.reason_codes).';
COMMENT ON COLUMN audit.attestation_decisions.received_at IS 'Réception du fichier des attestations.';
COMMENT ON COLUMN audit.attestation_decisions.decided_at IS 'Quand la décision actuelle a été prise (vide tant qu''elle est en attente).';
COMMENT ON COLUMN audit.attestation_decisions.registration_deadline IS 'Date limite d''enregistrement : réception + 1 mois (R223-8 III).';

COMMENT ON VIEW audit.licence_balances IS 'Solde de points de chaque permis, recalculé à partir de ses événements (rules.md §6).';
COMMENT ON COLUMN audit.licence_balances.licence IS 'Numéro du permis de conduire.';
COMMENT ON COLUMN audit.licence_balances.balance IS 'Solde de points actuel.';
COMMENT ON COLUMN audit.licence_balances.ceiling IS 'Plafond actuel : 12, ou 6 plus les majorations pendant la période probatoire.';
COMMENT ON COLUMN audit.licence_balances.status IS 'Statut au registre : valid, suspended, invalidated (48SI notifiée) ou cancelled (annulé).';
COMMENT ON COLUMN audit.licence_balances.last_credit_stage_last_day IS 'Dernier jour du dernier stage qui a rapporté des points (règle d''un stage par an).';

COMMENT ON VIEW audit.balance_history IS 'Chaque changement du solde d''un permis, avec sa cause.';
COMMENT ON COLUMN audit.balance_history.licence IS 'Numéro du permis de conduire.';
COMMENT ON COLUMN audit.balance_history.changed_at IS 'Quand le solde a changé.';
COMMENT ON COLUMN audit.balance_history.old_balance IS 'Solde avant le changement.';
COMMENT ON COLUMN audit.balance_history.new_balance IS 'Solde après le changement.';
COMMENT ON COLUMN audit.balance_history.cause IS 'Cause : le dépôt (submission N), l''import de registre ou la révision qui l''a provoqué.';

COMMENT ON VIEW audit.registrations_overdue IS 'Attestations non décidées dans le mois suivant leur réception (R223-8 III, rules.md §7).';
COMMENT ON COLUMN audit.registrations_overdue.approval IS 'Agrément du centre.';
COMMENT ON COLUMN audit.registrations_overdue.stage_ref IS 'Référence du stage.';
COMMENT ON COLUMN audit.registrations_overdue.attestation_number IS 'Numéro de l''attestation.';
COMMENT ON COLUMN audit.registrations_overdue.licence IS 'Numéro du permis de conduire.';
COMMENT ON COLUMN audit.registrations_overdue.decision IS 'Décision actuelle (voir audit.attestation_decisions.decision).';
COMMENT ON COLUMN audit.registrations_overdue.received_at IS 'Réception du fichier des attestations.';
COMMENT ON COLUMN audit.registrations_overdue.registration_deadline IS 'Date limite d''enregistrement (réception + 1 mois).';
COMMENT ON COLUMN audit.registrations_overdue.decided_at IS 'Quand elle a été décidée (vide si toujours en attente ou à examiner).';
COMMENT ON COLUMN audit.registrations_overdue.days_overdue IS 'Jours de retard sur la date limite, jusqu''à la décision ou jusqu''à aujourd''hui.';

COMMENT ON VIEW audit.late_transmissions IS 'Fichiers reçus plus de 15 jours après le dernier jour du stage (arrêté du 26 juin 2012, art. 15).';
COMMENT ON COLUMN audit.late_transmissions.approval IS 'Agrément du centre.';
COMMENT ON COLUMN audit.late_transmissions.stage_ref IS 'Référence du stage.';
COMMENT ON COLUMN audit.late_transmissions.submission_id IS 'Identifiant du dépôt (audit.submissions.id).';
COMMENT ON COLUMN audit.late_transmissions.last_day IS 'Dernier jour du stage.';
COMMENT ON COLUMN audit.late_transmissions.received_at IS 'Réception du fichier.';
COMMENT ON COLUMN audit.late_transmissions.days_after_last_day IS 'Jours écoulés entre le dernier jour du stage et la réception.';

COMMENT ON VIEW audit.licence_events IS 'Événements du permis, rejoués pour calculer le solde (rules.md §6) : ce qui explique un solde.';
COMMENT ON COLUMN audit.licence_events.licence IS 'Numéro du permis de conduire.';
COMMENT ON COLUMN audit.licence_events.effective_date IS 'Date de valeur.';
COMMENT ON COLUMN audit.licence_events.kind IS 'grant (attribution), retrait, recovery (restitution), probation_increment (majoration probatoire), stage_credit (stage).';
COMMENT ON COLUMN audit.licence_events.points IS 'Points, signés (négatifs pour un retrait).';
COMMENT ON COLUMN audit.licence_events.ref IS 'Référence unique de l''événement (un réimport ne le duplique pas).';
COMMENT ON COLUMN audit.licence_events.source IS 'Origine : le registre importé ou la décision du démon.';
COMMENT ON COLUMN audit.licence_events.stage_first_day IS 'Pour un stage : son premier jour.';
COMMENT ON COLUMN audit.licence_events.created_at IS 'Quand l''événement a été enregistré.';

COMMENT ON VIEW audit.decision_history IS 'Toutes les décisions successives de chaque attestation et qui les a prises (attestd, ou l''agent qui a révisé).';
COMMENT ON COLUMN audit.decision_history.approval IS 'Agrément du centre.';
COMMENT ON COLUMN audit.decision_history.stage_ref IS 'Référence du stage.';
COMMENT ON COLUMN audit.decision_history.attestation_number IS 'Numéro de l''attestation.';
COMMENT ON COLUMN audit.decision_history.licence IS 'Numéro du permis de conduire.';
COMMENT ON COLUMN audit.decision_history.at IS 'Quand cette décision a été prise.';
COMMENT ON COLUMN audit.decision_history.actor IS 'Qui l''a prise : attestd, ou l''agent qui a révisé.';
COMMENT ON COLUMN audit.decision_history.cause IS 'Ce qui l''a provoquée : le dépôt, un import de registre, une révision.';
COMMENT ON COLUMN audit.decision_history.decision IS 'Décision (voir audit.attestation_decisions.decision).';
COMMENT ON COLUMN audit.decision_history.points IS 'Points accordés par cette décision.';
COMMENT ON COLUMN audit.decision_history.reasons IS 'Codes motifs (libellés : audit.reason_codes).';
COMMENT ON COLUMN audit.decision_history.flags IS 'Signalements (libellés : audit.reason_codes).';
COMMENT ON COLUMN audit.decision_history.note IS 'Note de l''agent qui a révisé.';
COMMENT ON COLUMN audit.decision_history.seq IS 'Ordre des décisions (croissant).';

COMMENT ON VIEW audit.archived_files IS 'Fichiers que l''archive doit contenir (archive/ab/cd/<sha256>) : originaux acceptés et pièces d''identité des feuilles d''émargement ; « attestd audit verify-archive » les vérifie.';
COMMENT ON COLUMN audit.archived_files.sha256 IS 'Empreinte SHA-256 du fichier archivé (c''est son nom dans l''archive).';
COMMENT ON COLUMN audit.archived_files.kind IS 'original (fichier déposé) ou identity-scan (pièce d''identité d''une feuille d''émargement).';
COMMENT ON COLUMN audit.archived_files.submission_id IS 'Identifiant du dépôt (audit.submissions.id).';
COMMENT ON COLUMN audit.archived_files.approval IS 'Agrément du centre.';
COMMENT ON COLUMN audit.archived_files.file_name IS 'Nom du fichier déposé.';
COMMENT ON COLUMN audit.archived_files.received_at IS 'Réception du fichier.';
