/**
 * The lifecycle's share of the cron tick, and RETENTION_SECONDS: what no task's own alarm does.
 * Tasks overdue for their archive are tended (an object whose alarm was lost, or stored before
 * objects archived themselves); a deletion a reset left half done is finished; archived tasks past
 * RETENTION_SECONDS are deleted; marks 720 hours old are dropped, their archived tasks indexed by
 * hour in the archive so retention still finds them.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { archiveKey, indexedTasks } from "../../src/archive/archive";
import { markTask } from "../../src/db/marks";
import { createTask, deliver, editStoredRecord, recordInfo, runCron, setObjectEnv, simCallback, uniquePrompt } from "./helpers";

const HOUR = 3_600_000;
const stubOf = (taskId: string) => env.TASKS.getByName(taskId);
const markOf = (taskId: string) => env.DB.prepare("SELECT state, purge_pending FROM task_marks WHERE task_id = ?1").bind(taskId).first();
const isLive = async (taskId: string) => (await env.DB.prepare("SELECT COUNT(*) AS n FROM tasks WHERE task_id = ?1").bind(taskId).first("n")) === 1;

async function finishedTask(label: string): Promise<string> {
	const taskId = await createTask(uniquePrompt(label));
	await deliver(await simCallback(taskId));
	return taskId;
}

describe("RETENTION_SECONDS", () => {
	it("deletes a live task once it is that old, through its own alarm", async () => {
		const taskId = await finishedTask("retained: live");
		await setObjectEnv(taskId, { RETENTION_SECONDS: "3600" });
		await editStoredRecord(taskId, (record) => {
			record.createdAt -= 2 * HOUR;
		});
		expect(await runDurableObjectAlarm(stubOf(taskId))).toBe(true);
		expect(await markOf(taskId)).toEqual({ state: "deleted", purge_pending: 0 });
		expect(await isLive(taskId)).toBe(false);
		expect(await stubOf(taskId).storedBytes()).toBe(0);
		expect((await recordInfo(taskId)).code).toBe(404);
	});

	it("deletes archived tasks that old from the cron: their archive copies, their marks saying deleted", async () => {
		const taskId = await finishedTask("retained: archived");
		await setObjectEnv(taskId, { ARCHIVE_AFTER_SECONDS: "0" });
		await runDurableObjectAlarm(stubOf(taskId));
		expect(await env.ARCHIVE.head(archiveKey(taskId))).not.toBeNull();
		// A tick two hours on, keeping tasks one hour.
		await runCron(Date.now() + 2 * HOUR, { RETENTION_SECONDS: "3600" });
		expect(await env.ARCHIVE.head(archiveKey(taskId))).toBeNull();
		expect(await markOf(taskId)).toMatchObject({ state: "deleted" });
		expect((await recordInfo(taskId)).code).toBe(404);
	});
});

describe("the cron's lifecycle sweep", () => {
	it("archives a settled task whose own alarm was lost", async () => {
		const taskId = await finishedTask("archived by the sweep");
		await setObjectEnv(taskId, { ARCHIVE_AFTER_SECONDS: "0" });
		await runInDurableObject(stubOf(taskId), (_instance, state) => state.storage.deleteAlarm());
		const before = (await recordInfo(taskId)).data;
		await runCron(Date.now(), { ARCHIVE_AFTER_SECONDS: "0" });
		expect(await isLive(taskId)).toBe(false);
		expect(await markOf(taskId)).toMatchObject({ state: "archived" });
		expect((await recordInfo(taskId)).data).toEqual(before);
		expect(await stubOf(taskId).storedBytes()).toBe(0);
	});

	it("finishes a deletion a reset left half done: the object still held the task", async () => {
		const taskId = await finishedTask("half deleted");
		const { owner, createTime } = (await recordInfo(taskId)).data;
		// Marked deleted, then stopped before its object erased itself.
		await markTask(env.DB, { taskId, owner, createdAt: createTime, state: "deleted" }, Date.now());
		expect(await stubOf(taskId).storedBytes()).toBeGreaterThan(0);
		await runCron(Date.now());
		expect(await stubOf(taskId).storedBytes()).toBe(0);
		expect(await markOf(taskId)).toEqual({ state: "deleted", purge_pending: 0 });
	});

	it("drops marks 720 hours after their tasks' creation, indexing the archived ones by hour, which retention then uses", async () => {
		const hour = Math.floor(Date.now() / HOUR) - 721;
		const createdAt = hour * HOUR + 60_000;
		const [archived, deleted] = [`old-archived-${crypto.randomUUID().slice(0, 8)}`, `old-deleted-${crypto.randomUUID().slice(0, 8)}`];
		await env.ARCHIVE.put(archiveKey(archived), JSON.stringify({ taskId: archived, owner: null }), { customMetadata: { owner: "", createdAt: String(createdAt) } });
		await markTask(env.DB, { taskId: archived, owner: null, createdAt, state: "archived" }, Date.now());
		await markTask(env.DB, { taskId: deleted, owner: null, createdAt, state: "deleted" }, Date.now());
		await env.DB.prepare("UPDATE task_marks SET purge_pending = 0").run();

		await runCron(Date.now());
		expect(await markOf(archived)).toBeNull();
		expect(await markOf(deleted)).toBeNull();
		expect(await indexedTasks(env.ARCHIVE, hour)).toEqual([archived]);
		// Still kept: the archive alone has it now.
		expect(await env.ARCHIVE.head(archiveKey(archived))).not.toBeNull();

		// Keeping tasks 700 hours: the hour's archived tasks go, through the index, and so does the index.
		await runCron(Date.now(), { RETENTION_SECONDS: String(700 * 3600) });
		expect(await env.ARCHIVE.head(archiveKey(archived))).toBeNull();
		expect(await indexedTasks(env.ARCHIVE, hour)).toEqual([]);
	});
});
