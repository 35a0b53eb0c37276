// migrations/0007_task_counts.sql replaces task_rollups (a row per hour, tenant, status, source and
// delivery state) with task_counts (a row per hour and tenant, a count per column): an upgraded
// gateway's figures keep their history exactly, and a task stored before it moves its counts when
// its result or its delivery comes after.
import { env } from "cloudflare:workers";
import { type D1Migration, applyD1Migrations } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import { TASK_STATUSES } from "../../src/domain/task-record";
import { type StoredTaskSpec, storeTask } from "./stats-fixtures";

const { TEST_MIGRATIONS, SCHEMA_CHECK_DB: db } = env as unknown as { TEST_MIGRATIONS: D1Migration[]; SCHEMA_CHECK_DB: D1Database };
const HOUR = 3_600_000;

interface RollupRow {
	hour: number;
	owner: string;
	status: string;
	source: string;
	delivery: string;
	tasks: number;
}

function withoutZeros(columns: Record<string, number>): Record<string, number> {
	return Object.fromEntries(Object.entries(columns).filter(([, n]) => n !== 0));
}

/** What task_counts should hold: task_rollups' rows added up by hour and tenant, a column each (0s left out). */
function countsOf(rollups: RollupRow[]): Record<string, Record<string, number>> {
	const counts: Record<string, Record<string, number>> = {};
	for (const row of rollups) {
		const columns = (counts[`${row.hour}/${row.owner}`] ??= {});
		const add = (column: string) => (columns[column] = (columns[column] ?? 0) + row.tasks);
		add(`status_${row.status.toLowerCase()}`);
		if (row.source !== "") add(`source_${row.source}`);
		if (row.delivery !== "") add(`delivery_${row.delivery}`);
	}
	return Object.fromEntries(Object.entries(counts).map(([key, columns]) => [key, withoutZeros(columns)]));
}

/** task_counts by hour and tenant, the counts that are not 0. */
async function storedCounts(): Promise<Record<string, Record<string, number>>> {
	const { results } = await db.prepare("SELECT * FROM task_counts").all<{ hour: number; owner: string; [column: string]: number | string }>();
	return Object.fromEntries(results.map(({ hour, owner, ...columns }) => [`${hour}/${owner}`, withoutZeros(columns as Record<string, number>)]));
}

describe("upgrading to migration 0007", () => {
	const hour = Math.floor(Date.now() / HOUR) - 5;
	const at = hour * HOUR + 1_000;
	const pending: StoredTaskSpec = { createdAt: at, status: "PENDING", owner: "acme", delivery: null };
	const tasks: Record<string, string> = {};

	let rollupsBefore: RollupRow[] = [];

	/** The database empty again: each test upgrades one of its own (they change what they read). */
	async function wipe(): Promise<void> {
		const { results } = await db
			.prepare("SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'table') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY type DESC")
			.all<{ type: string; name: string }>();
		for (const { type, name } of results) await db.prepare(`DROP ${type.toUpperCase()} IF EXISTS "${name}"`).run();
	}

	beforeEach(async () => {
		await wipe();
		const before = TEST_MIGRATIONS.filter((migration) => migration.name < "0007");
		expect(before.at(-1)?.name).toBe("0006_cost.sql");
		await applyD1Migrations(db, before);
		// Counted by the old triggers: results over pending rows (which leave rows of 0 behind), every
		// status, source and delivery state, tasks before tenants, two hours.
		tasks.pending = await storeTask(pending, db);
		tasks.delivering = await storeTask({ ...pending, owner: "beta", callbackUrl: "https://hooks.example.com/x" }, db);
		const result = { status: "SUCCESS", resultSource: "callback", completedAt: at + 4_000, version: 2 } as const;
		await storeTask({ ...pending, ...result, taskId: await storeTask(pending, db) }, db);
		await storeTask({ ...pending, ...result, taskId: tasks.delivering, owner: "beta", delivery: "pending" }, db);
		await storeTask({ createdAt: at, status: "SUCCESS", resultSource: "poll", completedAt: at + 9_000, owner: "acme", delivery: "failed" }, db);
		await storeTask({ createdAt: at, status: "SUCCESS", resultSource: "callback", completedAt: at + 2_000, delivery: "delivered" }, db);
		for (const status of TASK_STATUSES.filter((s) => s !== "PENDING" && s !== "SUCCESS")) {
			const resultSource = status === "CALLBACK_EXCEPTION" ? "timeout" : "poll";
			await storeTask({ createdAt: at - HOUR, status, resultSource, completedAt: at, owner: "acme" }, db);
		}
		// A task whose row is gone (archived) still counts: the rollups, not the rows, are carried over.
		await db.prepare("DELETE FROM tasks WHERE task_id = ?1").bind(await storeTask({ ...pending, owner: "gone" }, db)).run();
		rollupsBefore = (await db.prepare("SELECT * FROM task_rollups").all<RollupRow>()).results;

		await applyD1Migrations(db, TEST_MIGRATIONS);
	});

	it("carries task_rollups' counts into task_counts exactly, then stops it counting (its triggers dropped, the table kept for the version still running)", async () => {
		// Rows of 0 (results moved off pending rows) are carried too, and read as nothing.
		expect(rollupsBefore.some((row) => row.tasks === 0)).toBe(true);

		expect(await storedCounts()).toEqual(countsOf(rollupsBefore));
		expect(await storedCounts()).toMatchObject({
			[`${hour}/acme`]: { status_pending: 1, status_success: 2, source_callback: 1, source_poll: 1, delivery_failed: 1 },
			[`${hour}/beta`]: { status_success: 1, source_callback: 1, delivery_pending: 1 },
			[`${hour}/`]: { status_success: 1, source_callback: 1, delivery_delivered: 1 },
			[`${hour}/gone`]: { status_pending: 1 },
		});
		const left = await db.prepare("SELECT type, name FROM sqlite_master WHERE name LIKE '%rollup%' ORDER BY name").all();
		expect(left.results).toEqual([
			{ type: "table", name: "delivery_host_rollups" },
			{ type: "table", name: "result_time_rollups" },
			{ type: "table", name: "task_rollups" },
		]);
		// Frozen: a task stored now is counted in task_counts alone.
		const frozen = await db.prepare("SELECT SUM(tasks) AS n FROM task_rollups").first<number>("n");
		await storeTask({ ...pending, owner: "later" }, db);
		expect(await db.prepare("SELECT SUM(tasks) AS n FROM task_rollups").first<number>("n")).toBe(frozen);
	});

	it("has a count for every status the gateway knows", async () => {
		const columns = await db.prepare("SELECT name FROM pragma_table_info('task_counts')").all<{ name: string }>();
		const names = columns.results.map((column) => column.name);
		for (const status of TASK_STATUSES) expect(names).toContain(`status_${status.toLowerCase()}`);
	});

	it("moves an old task's counts, within its one row, when its result and its delivery come after", async () => {
		const counts = async () => (await storedCounts())[`${hour}/acme`];
		const times = async () => db.prepare("SELECT SUM(tasks) AS n FROM result_time_rollups WHERE hour = ?1").bind(hour).first<number>("n");
		const rowsBefore = await db.prepare("SELECT COUNT(*) AS n FROM task_counts").first<number>("n");
		const timesBefore = await times();
		const result = { status: "SUCCESS", resultSource: "poll", completedAt: at + 6_000 } as const;
		const delivered = { ...pending, ...result, taskId: tasks.pending, callbackUrl: "https://hooks.example.com/x" };

		await storeTask({ ...delivered, delivery: "pending", version: 2 }, db);
		expect(await counts()).toEqual({ status_success: 3, source_callback: 1, source_poll: 2, delivery_pending: 1, delivery_failed: 1 });
		expect(await times()).toBe((timesBefore ?? 0) + 1);

		await storeTask({ ...delivered, delivery: "delivered", version: 3 }, db);
		expect(await counts()).toEqual({ status_success: 3, source_callback: 1, source_poll: 2, delivery_delivered: 1, delivery_failed: 1 });
		expect(await times()).toBe((timesBefore ?? 0) + 1);
		expect(await db.prepare("SELECT COUNT(*) AS n FROM task_counts").first<number>("n")).toBe(rowsBefore);
	});

	it("moves a task to its new hour and tenant's row, should either ever change", async () => {
		const before = await storedCounts();
		await db.prepare("UPDATE tasks SET owner = 'moved', created_at = created_at + ?2 WHERE task_id = ?1").bind(tasks.delivering, HOUR).run();
		const after = await storedCounts();
		expect(after[`${hour}/beta`]).toEqual({});
		expect(after[`${hour + 1}/moved`]).toEqual(before[`${hour}/beta`]);
		// And a change of its own after that lands in its new row.
		await db.prepare("UPDATE tasks SET delivery_state = 'failed' WHERE task_id = ?1").bind(tasks.delivering).run();
		expect((await storedCounts())[`${hour + 1}/moved`]).toEqual({ status_success: 1, source_callback: 1, delivery_failed: 1 });
	});
});
