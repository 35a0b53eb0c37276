/**
 * Upgrading a gateway that already holds tasks: migration 0004 counts the rows stored before it
 * into the rollups (the figures keep their history) and leaves them readable as they are (prompt
 * and lyrics in their old columns), and the cron archives the settled ones, whose objects never
 * set an archive alarm, within its budget.
 */
import { env } from "cloudflare:workers";
import { type D1Migration, applyD1Migrations } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getTask } from "../../src/db/tasks";
import { envelope, gateway, recordInfoAsAdmin, runCron } from "./helpers";

const { TEST_MIGRATIONS, SCHEMA_CHECK_DB } = env as unknown as { TEST_MIGRATIONS: D1Migration[]; SCHEMA_CHECK_DB: D1Database };
const HOUR = 3_600_000;
const ITEMS = JSON.stringify([{ text: "[Verse]\nold lyrics", title: "Old", status: "complete", errorMessage: "" }]);

/** A row as the previous release wrote it: prompt and lyrics in their own columns, no payload. */
function oldRow(db: D1Database, task: { id: string; status: string; source: string | null; createdAt: number; completedAt: number | null; owner: string; delivery?: string }) {
	return db
		.prepare(
			`INSERT INTO tasks (task_id, prompt, callback_url, status, items, result_source, next_poll_at, created_at, updated_at,
				completed_at, version, callback_ref, owner, delivery, delivery_state, callback_host)
			VALUES (?1, 'an old prompt', ?2, ?3, ?4, ?5, ?6, ?6, ?6, ?7, 2, ?8, ?9, ?10, json_extract(?10, '$.state'), ?11)`,
		)
		.bind(
			task.id,
			task.delivery ? "https://hooks.example.com/old" : null,
			task.status,
			task.status === "SUCCESS" ? ITEMS : "[]",
			task.source,
			task.createdAt,
			task.completedAt,
			`${task.id.replace(/[^0-9a-f]/g, "0").padEnd(32, "0").slice(0, 32)}`,
			task.owner,
			task.delivery ?? null,
			task.delivery ? "hooks.example.com" : null,
		);
}

describe("upgrading to migration 0004", () => {
	it("counts the rows stored before it into the rollups, and leaves them readable", async () => {
		const before = TEST_MIGRATIONS.filter((migration) => migration.name < "0004");
		expect(before.map((migration) => migration.name)).toEqual(["0001_initial.sql", "0002_tenants.sql", "0003_stats.sql"]);
		await applyD1Migrations(SCHEMA_CHECK_DB, before);
		const hour = Math.floor(Date.now() / HOUR) - 3;
		const at = hour * HOUR + 1000;
		const failedDelivery = JSON.stringify({ webhookId: "msg_x", state: "failed", attempts: 8, lastStatus: 500, lastError: "HTTP 500", lastAttemptAt: at, nextAttemptAt: null, deliveredAt: null });
		await SCHEMA_CHECK_DB.batch([
			oldRow(SCHEMA_CHECK_DB, { id: "old-success", status: "SUCCESS", source: "callback", createdAt: at, completedAt: at + 4_000, owner: "acme" }),
			oldRow(SCHEMA_CHECK_DB, { id: "old-failed-delivery", status: "SUCCESS", source: "poll", createdAt: at, completedAt: at + 9_000, owner: "acme", delivery: failedDelivery }),
			oldRow(SCHEMA_CHECK_DB, { id: "old-pending", status: "PENDING", source: null, createdAt: at, completedAt: null, owner: "beta" }),
		]);

		await applyD1Migrations(SCHEMA_CHECK_DB, TEST_MIGRATIONS);

		// Counted into task_rollups by 0004, carried into task_counts (a row per hour and tenant) by 0007.
		const counts = await SCHEMA_CHECK_DB.prepare(
			"SELECT owner, status_pending, status_success, source_callback, source_poll, delivery_failed FROM task_counts WHERE hour = ?1 ORDER BY owner",
		)
			.bind(hour)
			.all();
		expect(counts.results).toEqual([
			{ owner: "acme", status_pending: 0, status_success: 2, source_callback: 1, source_poll: 1, delivery_failed: 1 },
			{ owner: "beta", status_pending: 1, status_success: 0, source_callback: 0, source_poll: 0, delivery_failed: 0 },
		]);
		expect(await SCHEMA_CHECK_DB.prepare("SELECT SUM(tasks) AS n FROM result_time_rollups WHERE hour = ?1").bind(hour).first("n")).toBe(2);
		expect(await SCHEMA_CHECK_DB.prepare("SELECT host, failed, retried FROM delivery_host_rollups").first()).toEqual({ host: "hooks.example.com", failed: 1, retried: 1 });
		const kept = await getTask(SCHEMA_CHECK_DB, "old-success");
		expect(kept).toMatchObject({ prompt: "an old prompt", items: JSON.parse(ITEMS), status: "SUCCESS" });
	});

	it("archives a settled task stored by the previous release from the cron, answering the same record-info after", async () => {
		const taskId = "0f".repeat(16);
		const at = Date.now() - 10 * 24 * HOUR;
		await oldRow(env.DB, { id: taskId, status: "SUCCESS", source: "callback", createdAt: at, completedAt: at + 4_000, owner: "acme" }).run();
		const before = (await recordInfoAsAdmin(taskId)).data;
		expect(before).toMatchObject({ status: "SUCCESS", response: { data: JSON.parse(ITEMS) } });

		await runCron(Date.now());
		expect(await env.DB.prepare("SELECT state FROM task_marks WHERE task_id = ?1").bind(taskId).first("state")).toBe("archived");
		expect((await recordInfoAsAdmin(taskId)).data).toEqual(before);
		expect(await env.TASKS.getByName(taskId).storedBytes()).toBe(0);
		// The stats still count it (as the rollups did when it was first written).
		const stats = await envelope<any>(await gateway("/api/v1/stats?hours=720", { headers: { authorization: "Bearer upgrade-admin" } }, { ADMIN_API_KEYS: "ops:upgrade-admin" }));
		expect(stats.data.tasks.byStatus.SUCCESS).toBeGreaterThanOrEqual(1);
	});
});
