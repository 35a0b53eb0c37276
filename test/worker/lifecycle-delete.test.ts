/**
 * DELETE /api/v1/lyrics/tasks/{taskId}: the owner's key or an admin key deletes a task, pending or
 * final, live or archived; then record-info answers 404, lists omit it, its delivery is never
 * made, a late callback is acknowledged and stores nothing, and nothing holds its prompt or lyrics.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { archiveKey } from "../../src/archive/archive";
import { api, createTask, deliver, envelope, expectErrorEnvelope, listAllTasks, recordInfo, setObjectEnv, simCallback, simHook, uniquePrompt } from "./helpers";

const stubOf = (taskId: string) => env.TASKS.getByName(taskId);
const ADMIN = { ADMIN_API_KEYS: "ops:delete-admin-key" } satisfies Partial<Env>;

function deleteAs(taskId: string, key: string, overrides: Partial<Env> = {}) {
	return api(`/api/v1/lyrics/tasks/${encodeURIComponent(taskId)}`, { method: "DELETE", headers: { authorization: `Bearer ${key}` } }, overrides);
}

/** Nothing the gateway stores holds the task: no D1 row, no object storage, no archive copy; a mark says deleted. */
async function expectGoneEverywhere(taskId: string): Promise<void> {
	expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM tasks WHERE task_id = ?1").bind(taskId).first("n")).toBe(0);
	expect(await env.DB.prepare("SELECT state, purge_pending FROM task_marks WHERE task_id = ?1").bind(taskId).first()).toEqual({ state: "deleted", purge_pending: 0 });
	expect(await stubOf(taskId).storedBytes()).toBe(0);
	expect(await env.ARCHIVE.head(archiveKey(taskId))).toBeNull();
}

describe("deleting a task", () => {
	it("by its owner: 200 with its taskId, then 404 for record-info and a second DELETE, and no list holds it", async () => {
		const taskId = await createTask(uniquePrompt("deleted by its owner"));
		await deliver(await simCallback(taskId));
		const answer = await deleteAs(taskId, "test-key-1");
		expect(answer.status).toBe(200);
		expect(await envelope(answer)).toEqual({ code: 200, msg: "success", data: { taskId } });
		await expectGoneEverywhere(taskId);
		expect((await recordInfo(taskId)).code).toBe(404);
		expect((await listAllTasks()).map((task) => task.taskId)).not.toContain(taskId);
		await expectErrorEnvelope(await deleteAs(taskId, "test-key-1"), 404);
	});

	it("answers another tenant 404, exactly as an unknown id, and deletes nothing; an admin key may delete it", async () => {
		const taskId = await createTask(uniquePrompt("deleted by an admin"));
		const refused = await expectErrorEnvelope(await deleteAs(taskId, "test-key-2"), 404);
		const unknown = await expectErrorEnvelope(await deleteAs("0123456789abcdef0123456789abcdef", "test-key-2"), 404);
		expect(refused.msg).toBe(unknown.msg);
		expect((await recordInfo(taskId)).data.status).toBe("PENDING");
		expect((await deleteAs(taskId, "delete-admin-key", ADMIN)).status).toBe(200);
		await expectGoneEverywhere(taskId);
	});

	it("of a pending task: its later callback is acknowledged and stored nowhere, and its delivery is never made", async () => {
		const hook = simHook("deleted-before-result");
		const taskId = await createTask(uniquePrompt("deleted while pending"), { callBackUrl: hook.url });
		expect((await deleteAs(taskId, "test-key-1")).status).toBe(200);
		const late = await deliver(await simCallback(taskId));
		expect(late.status).toBe(200);
		expect(await envelope(late)).toMatchObject({ data: { taskId, result: "task-deleted" } });
		await expectGoneEverywhere(taskId);
		expect(await runDurableObjectAlarm(stubOf(taskId))).toBe(false);
		expect(await hook.deliveries()).toEqual([]);
		expect((await recordInfo(taskId)).code).toBe(404);
	});

	it("of an archived task: its archive copy goes too", async () => {
		const taskId = await createTask(uniquePrompt("deleted after its archive"));
		await deliver(await simCallback(taskId));
		await setObjectEnv(taskId, { ARCHIVE_AFTER_SECONDS: "0" });
		await runDurableObjectAlarm(stubOf(taskId));
		expect(await env.ARCHIVE.head(archiveKey(taskId))).not.toBeNull();
		expect((await deleteAs(taskId, "test-key-1")).status).toBe(200);
		await expectGoneEverywhere(taskId);
		expect((await recordInfo(taskId)).code).toBe(404);
	});

	it("keeps its Idempotency-Key: a replay within the key's 24 hours answers the same taskId, and creates nothing", async () => {
		const key = `delete-replay-${crypto.randomUUID()}`;
		const prompt = uniquePrompt("deleted, then replayed");
		const create = () =>
			api("/api/v1/lyrics", { method: "POST", headers: { "content-type": "application/json", "idempotency-key": key }, body: JSON.stringify({ prompt }) });
		const { taskId } = (await envelope<{ taskId: string }>(await create())).data;
		expect((await deleteAs(taskId, "test-key-1")).status).toBe(200);
		const replay = await create();
		expect(replay.headers.get("idempotent-replayed")).toBe("true");
		expect((await envelope<{ taskId: string }>(replay)).data.taskId).toBe(taskId);
		expect((await recordInfo(taskId)).code).toBe(404);
	});

	it("answers 404 for an id no task could have, and refuses other methods with Allow", async () => {
		await expectErrorEnvelope(await deleteAs("../../etc", "test-key-1"), 404);
		await expectErrorEnvelope(await deleteAs("x".repeat(5000), "test-key-1"), 404);
		const put = await api("/api/v1/lyrics/tasks/abc", { method: "PUT" });
		expect(put.status).toBe(405);
		expect(put.headers.get("allow")).toBe("DELETE");
	});
});
