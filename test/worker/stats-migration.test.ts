// migrations/0003_stats.sql fills the stats' columns of the tasks stored before it, so an upgraded
// gateway's figures count its old deliveries too.
import { env } from "cloudflare:workers";
import { type D1Migration, applyD1Migrations } from "cloudflare:test";
import { expect, it } from "vitest";

const { TEST_MIGRATIONS, SCHEMA_CHECK_DB } = env as unknown as { TEST_MIGRATIONS: D1Migration[]; SCHEMA_CHECK_DB: D1Database };

it("0003 gives old rows their delivery state and callback host, never the URL's credentials or path", async () => {
	const before = TEST_MIGRATIONS.filter((migration) => migration.name < "0003");
	expect(before.map((migration) => migration.name)).toEqual(["0001_initial.sql", "0002_tenants.sql"]);
	await applyD1Migrations(SCHEMA_CHECK_DB, before);
	const insert = SCHEMA_CHECK_DB.prepare(
		`INSERT INTO tasks (task_id, prompt, status, next_poll_at, created_at, updated_at, version, callback_url, delivery)
		VALUES (?1, 'p', 'SUCCESS', 1, 1, 1, 1, ?2, ?3)`,
	);
	await SCHEMA_CHECK_DB.batch([
		insert.bind("with-credentials", "https://user:pw@Hooks.Example.com:8443/path/x?token=t#f", '{"state":"failed"}'),
		insert.bind("plain", "http://app.example.org?token=t", '{"state":"delivered"}'),
		insert.bind("no-url", null, null),
	]);

	await applyD1Migrations(SCHEMA_CHECK_DB, TEST_MIGRATIONS);

	const { results } = await SCHEMA_CHECK_DB.prepare("SELECT task_id, delivery_state, callback_host FROM tasks ORDER BY task_id").all();
	expect(results).toEqual([
		{ task_id: "no-url", delivery_state: null, callback_host: null },
		{ task_id: "plain", delivery_state: "delivered", callback_host: "app.example.org" },
		{ task_id: "with-credentials", delivery_state: "failed", callback_host: "hooks.example.com:8443" },
	]);
});
