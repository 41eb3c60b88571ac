// run.mjs - the console seen by a person in a browser: Debian's chromium,
// headless, driven by puppeteer-core (which never downloads a browser).
//
// Started by tests/integration/test_browser.sh, which gives it a console on
// the demo's data and the database to compare with (environment):
//   CONSOLE_URL  http://127.0.0.1:PORT          DB, PGHOST...  psql's
//   AUDITOR, REVIEWER, PASSWORD                 the people's roles
//   ATTESTD, ATTESTD_CONFIG                     for `attestd audit licence`
//   CONSOLE_NOW  the console's clock            SHOTS  where screenshots go
//   CHROMIUM     the browser (default /usr/bin/chromium)
// Prints "  ok    CHECK" or "  FAIL  CHECK" and details per check, then
// "browser: N passed, N failed"; exits 1 on any failure (also when the
// browser cannot start: nothing is skipped).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const env = (name) => {
	const v = process.env[name];
	if (!v) { console.log(`  FAIL  environment: ${name} is not set`); process.exit(1); }
	return v;
};
const URL_ = env('CONSOLE_URL');
const AUDITOR = env('AUDITOR'), REVIEWER = env('REVIEWER'), PASSWORD = env('PASSWORD');
const SHOTS = env('SHOTS');
const NOW = env('CONSOLE_NOW');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

let passed = 0, failed = 0;
function ok(name) { passed++; console.log(`  ok    ${name}`); }
function bad(name, ...details) {
	failed++;
	console.log(`  FAIL  ${name}`);
	for (const d of details) console.log(`        ${String(d).replace(/\n/g, '\n        ')}`);
}
function check(name, cond, ...details) { cond ? ok(name) : bad(name, ...details); }
function eq(name, expected, actual) {
	const e = JSON.stringify(expected), a = JSON.stringify(actual);
	e === a ? ok(name) : bad(name, `expected: ${e}`, `actual:   ${a}`);
}

// psql as the service role (trusted on the test cluster's socket).
function sql(q) {
	return execFileSync('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-d', env('DB'), '-c', q],
		{ encoding: 'utf8' }).trim();
}
const digest = () => sql(`SELECT md5(string_agg(t, E'\\n' ORDER BY t)) FROM (
	SELECT 'a ' || a::text AS t FROM attestd.attestations a
	UNION ALL SELECT 'h ' || h::text FROM attestd.decision_history h
	UNION ALL SELECT 'e ' || e::text FROM attestd.licence_events e
	UNION ALL SELECT 'b ' || b::text FROM attestd.licence_balances b
	UNION ALL SELECT 'bh ' || bh::text FROM attestd.balance_history bh
	UNION ALL SELECT 'r ' || r::text FROM attestd.receipts r
	UNION ALL SELECT 'l ' || l::text FROM audit.log l) x`);

if (!existsSync(CHROMIUM)) {
	bad(`chromium is installed at ${CHROMIUM}`, 'install Debian\'s chromium: make deps');
	console.log(`browser: ${passed} passed, ${failed} failed`);
	process.exit(1);
}

const profile = mkdtempSync(join(tmpdir(), 'attestd-chromium-'));
let browser;
try {
	browser = await puppeteer.launch({
		executablePath: CHROMIUM,
		headless: true,
		userDataDir: profile,
		// As root (CI) chromium refuses to start without --no-sandbox.
		args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
			'--no-default-browser-check', '--disable-extensions', '--proxy-server=direct://',
			'--proxy-bypass-list=*'],
		protocolTimeout: 180000,
	});
} catch (e) {
	bad('chromium starts headless', e.message);
	console.log(`browser: ${passed} passed, ${failed} failed`);
	rmSync(profile, { recursive: true, force: true });
	process.exit(1);
}

// A person's tab: their own browser context (cookies: their session).
async function personPage(user) {
	const ctx = await browser.createBrowserContext();
	const page = await ctx.newPage();
	page.setDefaultTimeout(120000);
	page.setDefaultNavigationTimeout(120000);
	await page.authenticate({ username: user, password: PASSWORD });
	await page.setViewport({ width: 1280, height: 900 });
	return page;
}

async function run(name, fn) {
	try { await fn(); } catch (e) { bad(`${name}: ran to the end`, e.stack || e.message); }
}

const today = NOW.slice(0, 10);
const ymd = (d) => d.toISOString().slice(0, 10);
// The item the demo sends to review for an identity that does not match
// the registry (birth date 12 February on the documents, 21 in the registry).
const LIC = '170296300012';
const itemId = sql(`SELECT id FROM attestd.attestations WHERE licence = '${LIC}' AND decision = 'review'
	AND 'identity_mismatch' = ANY (reasons)`);

const auditor = await personPage(AUDITOR);
const reviewer = await personPage(REVIEWER);

await run('sign in', async () => {
	for (const [who, page] of [['auditor', auditor], ['reviewer', reviewer]]) {
		const r = await page.goto(`${URL_}/`, { waitUntil: 'load' });
		eq(`sign in as ${who} (HTTP Basic): the dashboard answers 200`, 200, r.status());
		eq(`dashboard as ${who}: lang="fr"`, 'fr', await page.$eval('html', (h) => h.lang));
		const cookie = (await page.cookies()).find((c) => c.name === 'attestd_session');
		check(`dashboard as ${who}: session cookie attestd_session, HttpOnly, SameSite=Strict`,
			cookie && cookie.httpOnly && cookie.sameSite === 'Strict', JSON.stringify(cookie));
	}
});

await run('dashboard', async () => {
	await auditor.goto(`${URL_}/`, { waitUntil: 'load' });
	const keys = await auditor.$$eval('svg.chart[data-chart="files-per-day"] g.bar',
		(gs) => gs.map((g) => g.getAttribute('data-key')));
	// Days with files in the 30 days up to today (the console's clock),
	// in the prefecture's time zone.
	const days = sql(`SELECT string_agg(d::text, ',' ORDER BY d) FROM (SELECT DISTINCT
		(received_at AT TIME ZONE 'Europe/Paris')::date AS d FROM audit.submissions) x
		WHERE d > date '${today}' - 30 AND d <= date '${today}'`).split(',').filter(Boolean);
	check('dashboard: the demo has files on some day of the last 30 (the check can fail)', days.length > 0);
	eq('dashboard: files-per-day has one bar per day with files (psql count)', days.length, keys.length);
	eq('dashboard: the bars are those days', days, [...keys].sort());
	const title = await auditor.$eval('svg.chart[data-chart="files-per-day"]',
		(s) => [s.getAttribute('role'), (s.querySelector('title') || {}).textContent || '']);
	check('dashboard: the chart is role="img" with a <title>', title[0] === 'img' && title[1].trim() !== '',
		JSON.stringify(title));
	const rects = await auditor.$$eval('svg.chart[data-chart="files-per-day"] g.bar',
		(gs) => gs.map((g) => g.querySelectorAll('rect').length));
	check('dashboard: every bar has at least one segment', rects.every((n) => n > 0), JSON.stringify(rects));
	check('dashboard: the numbers beside the chart (table files-per-day)',
		(await auditor.$('table[data-table="files-per-day"]')) !== null);
	check('dashboard: decisions-per-month chart', (await auditor.$('svg.chart[data-chart="decisions-per-month"]')) !== null);
});

await run('review item', async () => {
	check(`review: the demo's identity mismatch is in review (id ${itemId})`, /^[0-9]+$/.test(itemId), itemId);
	const r = await reviewer.goto(`${URL_}/review/${itemId}`, { waitUntil: 'load' });
	eq('review item as reviewer: 200', 200, r.status());
	const scans = await reviewer.$$eval('img.scan', (imgs) => imgs.map((i) =>
		({ src: i.getAttribute('src'), alt: i.alt, complete: i.complete, w: i.naturalWidth })));
	check('review item: identity scans shown as images', scans.length > 0, JSON.stringify(scans));
	check('review item: every scan loads (naturalWidth > 0)', scans.length > 0 && scans.every((s) => s.complete && s.w > 0),
		JSON.stringify(scans));
	const shas = sql(`SELECT string_agg(p.id_sha256, ',' ORDER BY p.id_sha256) FROM attestd.signin_participants p
		JOIN attestd.attestations a ON a.licence = p.licence JOIN attestd.submissions s ON s.id = p.submission_id
		WHERE a.id = ${itemId} AND s.stage_id = a.stage_id AND p.id_sha256 IS NOT NULL`);
	eq('review item: the scans are this trainee\'s (sha256 from the sheet)', shas,
		scans.map((s) => (s.src.match(/\/scans\/([0-9a-f]{64})$/) || [])[1]).sort().join(','));
	check('review item: scans have an alt text', scans.every((s) => s.alt && s.alt.trim() !== ''));
	const ident = await reviewer.$$eval('table[data-table="identities"] tr', (trs) => trs.map((tr) =>
		[...tr.children].map((c) => ({ text: c.textContent.trim(), diff: c.classList.contains('diff') }))));
	check('review item: the identities table', ident.length >= 4, JSON.stringify(ident));
	const head = (ident[0] || []).map((c) => c.text.toLowerCase()).join('|');
	check('review item: a column per source (attestation, sheet, registry)',
		/attestation/.test(head) && /(feuille|émargement|sheet)/.test(head) && /(registre|fichier|registry)/.test(head), head);
	let rowsWithDiff = 0, wrong = [];
	for (const row of ident.slice(1)) {
		const cells = row.slice(1);
		if (cells.length < 3) continue;
		const values = cells.map((c) => c.text.replace(/[≠\s]+/g, ' ').trim());
		const differ = new Set(values).size > 1;
		const marked = cells.some((c) => c.diff);
		if (differ) rowsWithDiff++;
		if (differ !== marked) wrong.push(`${row[0].text}: ${values.join(' / ')} marked=${marked}`);
		if (marked && !cells.filter((c) => c.diff).every((c) => /≠/.test(c.text)))
			wrong.push(`${row[0].text}: a class="diff" cell without a visible mark`);
	}
	check('review item: a field differs (the birth date)', rowsWithDiff >= 1, JSON.stringify(ident));
	check('review item: exactly the differing fields are marked (class diff and ≠)', wrong.length === 0, ...wrong);
	const birthRow = ident.find((row) => /naissance|birth/i.test(row[0]?.text || ''));
	check('review item: the birth dates as sent and as registered',
		birthRow && birthRow.some((c) => /1976-02-12|12\/02\/1976/.test(c.text)) &&
		birthRow.some((c) => /1976-02-21|21\/02\/1976/.test(c.text)), JSON.stringify(birthRow));
	check('review item: the reason with its code in <code>',
		(await reviewer.$$eval('code', (cs) => cs.map((c) => c.textContent.trim()))).includes('identity_mismatch'));
	await reviewer.screenshot({ path: join(SHOTS, 'console-review.png'), fullPage: true });
	ok('review item: screenshot saved');
});

// A POST from the person's own tab, through the page's form: the decision
// chosen (radio buttons or one button per decision), the note written,
// the form submitted as a click would.  When the page shows the form
// disabled (an auditor's), it is enabled first: the same request a person
// sends by editing the page, which the server must refuse on its own.
// When the page has no such form at all, one is built in the tab with
// whatever token the page carries.
async function submitDecision(page, decision, note) {
	const r = await page.goto(`${URL_}/review/${itemId}`, { waitUntil: 'load' });
	if (r.status() !== 200) throw new Error(`GET /review/${itemId}: ${r.status()}`);
	const how = await page.evaluate((id, decision, note) => {
		let f = [...document.querySelectorAll('form')].find((x) =>
			x.method.toLowerCase() === 'post' && x.querySelector('[name="decision"]'));
		let how = 'the page\'s form';
		if (!f) {
			how = 'no form shown: the same form built in the tab';
			f = document.createElement('form');
			f.method = 'post'; f.action = `/review/${id}`;
			const tok = document.querySelector('input[name="csrf"]');
			for (const [n, v] of [['csrf', tok ? tok.value : ''], ['note', ''], ['decision', decision]]) {
				const i = document.createElement('input'); i.type = 'hidden'; i.name = n; i.value = v; f.appendChild(i);
			}
			document.body.appendChild(f);
		}
		const disabled = f.querySelectorAll('fieldset[disabled], [disabled]');
		if (disabled.length) how += ' (shown disabled, enabled in the tab)';
		disabled.forEach((e) => e.removeAttribute('disabled'));
		f.setAttribute('data-test', 'decision');
		const note_ = f.querySelector('[name="note"]');
		note_.value = note;
		const radio = f.querySelector(`input[type="radio"][name="decision"][value="${decision}"]`);
		if (radio) radio.checked = true;
		return how;
	}, itemId, decision, note);
	const submit = await page.$(`form[data-test] button[name="decision"][value="${decision}"]`) ||
		await page.$('form[data-test] button[type="submit"], form[data-test] input[type="submit"], form[data-test] button:not([type])');
	const [resp] = await Promise.all([
		page.waitForNavigation({ waitUntil: 'load' }),
		submit ? submit.click() : page.$eval('form[data-test]', (f) => f.submit()),
	]);
	return { resp, how, hasForm: how.startsWith('the page') };
}

await run('auditor refused', async () => {
	const before = digest();
	const { resp, how } = await submitDecision(auditor, 'accept', 'essai par une auditrice');
	eq(`accept as an auditor (${how}): 403`, 403, resp.status());
	eq('accept as an auditor: nothing changed in the database', before, digest());
	eq('accept as an auditor: still in review', 'review', sql(`SELECT decision FROM attestd.attestations WHERE id = ${itemId}`));
});

await run('reviewer accepts', async () => {
	const bal0 = Number(sql(`SELECT balance FROM attestd.licence_balances WHERE licence = '${LIC}'`));
	const receipts0 = Number(sql(`SELECT count(*) FROM attestd.receipts r JOIN attestd.attestations a
		ON a.submission_id = r.submission_id WHERE a.id = ${itemId}`));
	const seq0 = Number(sql('SELECT coalesce(max(seq), 0) FROM audit.log'));
	const outbox0 = execFileSync('find', [env('OUTBOX'), '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
	const { resp, how } = await submitDecision(reviewer, 'accept', 'Date de naissance vérifiée sur la carte');
	check('accept as a reviewer: the page has the form, enabled', how === 'the page\'s form', how);
	eq('accept as a reviewer: 303 then the item again (200)', 200, resp.status());
	const chain = resp.request().redirectChain();
	check('accept as a reviewer: answered 303 See Other to /review/{id}',
		chain.length === 1 && chain[0].response()?.status() === 303 && new URL(resp.url()).pathname === `/review/${itemId}`,
		JSON.stringify(chain.map((c) => [c.url(), c.response()?.status()])), resp.url());
	const [decision, points] = sql(`SELECT decision, points FROM attestd.attestations WHERE id = ${itemId}`).split('|');
	eq('accept: the decision is credited', 'credited', decision);
	const bal1 = Number(sql(`SELECT balance FROM attestd.licence_balances WHERE licence = '${LIC}'`));
	eq('accept: the balance rose by the points credited (5 + 4)', [5, 9, 4], [bal0, bal1, Number(points)]);
	eq('accept: decision history names the reviewer\'s role',
		`${REVIEWER}|credited|Date de naissance vérifiée sur la carte`,
		sql(`SELECT actor || '|' || decision || '|' || coalesce(note, '') FROM audit.decision_history
			WHERE attestation_number = (SELECT number FROM attestd.attestations WHERE id = ${itemId}) ORDER BY seq DESC LIMIT 1`));
	const receipts1 = Number(sql(`SELECT count(*) FROM attestd.receipts r JOIN attestd.attestations a
		ON a.submission_id = r.submission_id WHERE a.id = ${itemId}`));
	const outbox1 = execFileSync('find', [env('OUTBOX'), '-type', 'f'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
	check('accept: a new receipt (a queued receipt row, or a file in the outbox)',
		receipts1 === receipts0 + 1 || outbox1 === outbox0 + 1,
		`receipt rows ${receipts0} -> ${receipts1}, outbox files ${outbox0} -> ${outbox1}`);
	const audit = sql(`SELECT string_agg(actor || ' ' || action || ' ' || coalesce(detail, ''), E'\\n') FROM audit.log WHERE seq > ${seq0}`);
	check('accept: an audit row naming the reviewer\'s role', audit.split('\n').some((l) => l.includes(REVIEWER)), audit);
	check('accept: the audit chain still holds', sql(`SELECT bool_and(hash = audit.row_hash(prev_hash, seq, at, actor, action, subject, detail)) FROM audit.log`) === 't');
	const shown = await reviewer.$$eval('code', (cs) => cs.map((c) => c.textContent.trim()));
	check('accept: the page shows the item decided (credited)',
		/crédit|credited/i.test(await reviewer.$eval('body', (b) => b.innerText)), shown.join(' '));
});

await run('licence as of', async () => {
	// An independent replay from the audit views: events by date, the balance
	// kept between 0 and the ceiling of 12 (no probation for this licence).
	const events = sql(`SELECT effective_date || ' ' || points FROM audit.licence_events WHERE licence = '${LIC}'
		ORDER BY effective_date, ref`).split('\n').map((l) => l.split(' '));
	const replay = (d) => {
		const upto = events.filter(([e]) => e <= d);
		return upto.length === 0 ? null : upto.reduce((b, [, p]) => Math.min(12, Math.max(0, b + Number(p))), 0);
	};
	for (const d of ['2026-03-01', '2026-11-01', '2011-01-01', today]) {
		const r = await auditor.goto(`${URL_}/licences/${LIC}?as_of=${d}`, { waitUntil: 'load' });
		eq(`licence ${LIC} as of ${d}: 200`, 200, r.status());
		const page = await auditor.$$eval('[data-field]', (els) =>
			Object.fromEntries(els.map((e) => [e.getAttribute('data-field'), e.textContent.trim()])));
		eq(`licence as of ${d}: data-field as-of`, d, page['as-of']);
		let cli = '';
		try {
			cli = execFileSync(env('ATTESTD'), ['audit', 'licence', LIC, '--as-of', d, '--format', 'csv'],
				{ encoding: 'utf8', env: { ...process.env, ATTESTD_TEST_NOW: NOW } });
		} catch (e) { cli = `exit ${e.status}: ${e.stderr}`; }
		// The CSV's first table: licence,as_of,balance,ceiling,status.
		const m = cli.match(/^licence,as_of,balance,[^\n]*\n[^,\n]*,[^,\n]*,([^,\n]*),/m);
		const want = replay(d);
		if (want === null) {
			check(`licence as of ${d}, before its first event: no balance on the page nor from attestd audit licence`,
				!/^[0-9]+$/.test(page.balance || '') && m && m[1] === '', `page: ${page.balance}`, `cli: ${cli.trim()}`);
		} else {
			eq(`licence as of ${d}: the page's balance = attestd audit licence --as-of = a replay of audit.licence_events`,
				[String(want), String(want)], [page.balance, m ? m[1] : `(no balance in: ${cli.trim()})`]);
		}
		eq(`licence as of ${d}: ceiling 12`, '12', page.ceiling);
	}
	// The past: 12 - 3 (5 January) - 2 (13 February) = 7 on 1 March.
	await auditor.goto(`${URL_}/licences/${LIC}?as_of=2026-03-01`, { waitUntil: 'load' });
	eq('licence as of 2026-03-01: 7 points (the worked figure)', '7', await auditor.$eval('[data-field="balance"]', (e) => e.textContent.trim()));
	await auditor.goto(`${URL_}/licences/${LIC}`, { waitUntil: 'load' });
	check('licence: the balance step chart with the stage credit marked',
		(await auditor.$$('svg.chart[data-chart="balance"] path.step')).length > 0 &&
		(await auditor.$$('svg.chart[data-chart="balance"] circle.credit')).length > 0);
});

// The report of the demo's month (its files) and of the month its
// decisions were made: the month of their local date as the daemon recorded
// it (decided_on, which migration 014's monthly counts follow; the demo's
// clock, where decided_at is the database's: see FINDINGS.md).
const decisionMonth = sql(`SELECT to_char(max(decided_on), 'YYYY-MM') FROM attestd.attestations`);
for (const month of [...new Set([today.slice(0, 7), decisionMonth])]) {
	await run(`monthly report ${month}`, async () => {
		const r = await auditor.goto(`${URL_}/reports/monthly?month=${month}`, { waitUntil: 'load' });
		eq(`monthly report ${month}: 200`, 200, r.status());
		const pdfPath = join(SHOTS, `console-report-${month}.pdf`);
		const pdf = await auditor.pdf({ format: 'A4', printBackground: true });
		writeFileSync(pdfPath, pdf);
		const info = execFileSync('pdfinfo', [pdfPath], { encoding: 'utf8' });
		check(`monthly report ${month}: printed to an A4 PDF (pdfinfo)`, /Page size:\s+595(\.\d+)? x 841|Page size:.*\(A4\)/.test(info),
			info.split('\n').filter((l) => /Page size|Pages/.test(l)).join(' '));
		const text = execFileSync('pdftotext', ['-layout', pdfPath, '-'], { encoding: 'utf8' });
		const pdfTokens = new Set(text.split(/[\s\u00a0\u202f|]+/).flatMap((t) => t.match(/[0-9]+(?:[.,][0-9]+)*/g) || []));
		// Every figure the page shows: the tables and the single values.
		const figures = await auditor.$$eval('table td, table th, [data-field]', (els) =>
			[...new Set(els.flatMap((e) => e.textContent.match(/[0-9]+(?:[.,][0-9]+)*/g) || []))]);
		check(`monthly report ${month}: the page shows figures`, figures.length > 0);
		const missing = figures.filter((f) => !pdfTokens.has(f));
		check(`monthly report ${month}: pdftotext holds every figure the page shows (${figures.length})`, missing.length === 0,
			`missing: ${missing.join(' ')}`);
		const tables = await auditor.$$eval('table[data-table]', (ts) => ts.map((t) => t.getAttribute('data-table')));
		check(`monthly report ${month}: its tables (data-table)`, tables.length >= 3, tables.join(' '));
		const links = await auditor.$$eval('a[href*="monthly.csv"]', (as) => as.map((a) => a.getAttribute('href')));
		check(`monthly report ${month}: a CSV link per table`, tables.every((t) => links.some((h) => h.includes(`table=${t}`))),
			`tables: ${tables.join(' ')}`, `links: ${links.join(' ')}`);
		if (month === today.slice(0, 7)) {
			await auditor.screenshot({ path: join(SHOTS, 'console-report.png'), fullPage: true });
			ok(`monthly report ${month}: screenshot saved`);
		}
	});
}

await browser.close();
rmSync(profile, { recursive: true, force: true });
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
