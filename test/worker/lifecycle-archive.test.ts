/**
 * Archiving: a settled task leaves D1 and its object for the archive (R2), and record-info answers
 * the same data from there, to the same keys, after a restart too. D1 keeps only a mark, the
 * object nothing at all; a late callback is acknowledged and changes nothing.
 */
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { archiveKey } from "../../src/archive/archive";
import {
	api,
	createTask,
	deliver,
	editStoredRecord,
	envelope,
	eventually,
	inspectTask,
	listAllTasks,
	recordInfo,
	setObjectEnv,
	simCallback,
	simHook,
	uniquePrompt,
} from "./helpers";

const stubOf = (taskId: string) => env.TASKS.getByName(taskId);

/** A task whose callback came; then its archive time is now, and its alarm runs. */
async function archivedTask(label: string, extra: Record<string, unknown> = {}) {
	const taskId = await createTask(uniquePrompt(label), extra);
	const callback = await simCallback(taskId);
	expect((await deliver(callback)).status).toBe(200);
	const before = (await recordInfo(taskId)).data;
	await setObjectEnv(taskId, { ARCHIVE_AFTER_SECONDS: "0" });
	expect(await runDurableObjectAlarm(stubOf(taskId))).toBe(true);
	return { taskId, callback, before };
}

describe("archiving a settled task", () => {
	it("moves it to the archive: D1 keeps a mark, the object nothing, and record-info answers the same data", async () => {
		const { taskId, before } = await archivedTask("archived");
		expect(before.status).toBe("SUCCESS");

		const stored = await env.ARCHIVE.get(archiveKey(taskId));
		expect(JSON.parse((await stored?.text()) ?? "null")).toEqual(before);
		expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM tasks WHERE task_id = ?1").bind(taskId).first("n")).toBe(0);
		expect(await env.DB.prepare("SELECT state, owner FROM task_marks WHERE task_id = ?1").bind(taskId).first()).toEqual({
			state: "archived",
			owner: before.owner,
		});
		expect(await stubOf(taskId).storedBytes()).toBe(0);
		expect(await stubOf(taskId).inspect()).toEqual({ state: null, earlyCallbacks: 0 });

		const answer = await recordInfo(taskId);
		expect(answer).toEqual({ code: 200, msg: "success", data: before });
		// A restart of the object (and of anything cached) changes nothing.
		await evictDurableObject(stubOf(taskId));
		expect((await recordInfo(taskId)).data).toEqual(before);
		expect(await stubOf(taskId).storedBytes()).toBe(0);
	});

	it("answers another tenant 404, exactly as an unknown id, and leaves it out of every list", async () => {
		const { taskId } = await archivedTask("archived, private");
		const other = await api(`/api/v1/lyrics/record-info?taskId=${taskId}`, { headers: { authorization: "Bearer test-key-2" } });
		expect(other.status).toBe(404);
		expect((await envelope(other)).msg).toBe(`No task with taskId ${JSON.stringify(taskId)}. Check the id you got from the create call.`);
		expect((await listAllTasks()).map((task) => task.taskId)).not.toContain(taskId);
	});

	it("acknowledges a late callback, changing and counting nothing, and storing nothing in the object", async () => {
		const { taskId, callback, before } = await archivedTask("archived, called again");
		const answer = await deliver(callback);
		expect(answer.status).toBe(200);
		expect(await envelope(answer)).toMatchObject({ data: { taskId, result: "task-archived" } });
		expect(await stubOf(taskId).storedBytes()).toBe(0);
		expect((await recordInfo(taskId)).data).toEqual(before);
	});

	it("waits for a delivery to the client to settle, then archives the task with it", async () => {
		const hook = simHook("archive-after-delivery");
		await hook.behave({ statuses: [500], thenStatus: 200 });
		const taskId = await createTask(uniquePrompt("archived after its delivery"), { callBackUrl: hook.url });
		await setObjectEnv(taskId, { ARCHIVE_AFTER_SECONDS: "0", WEBHOOK_RETRY_SCHEDULE: "600" });
		await deliver(await simCallback(taskId));
		// The first attempt failed, the retry is ten minutes away: not archived meanwhile.
		const pending = await eventually(() => inspectTask(taskId), ({ state }) => state?.delivery?.attempts === 1);
		expect(pending.state?.delivery).toMatchObject({ state: "pending", attempts: 1 });
		await runDurableObjectAlarm(stubOf(taskId));
		expect((await inspectTask(taskId)).state?.delivery?.state).toBe("pending");
		expect(await env.ARCHIVE.head(archiveKey(taskId))).toBeNull();

		// Delivered (as ten minutes later): archived with its delivery's final state.
		await editStoredRecord(taskId, (record) => {
			record.delivery!.nextAttemptAt = Date.now() - 1;
		});
		await runDurableObjectAlarm(stubOf(taskId));
		const archived = await recordInfo(taskId);
		expect(archived.data.delivery).toMatchObject({ state: "delivered", attempts: 2 });
		expect(await env.ARCHIVE.head(archiveKey(taskId))).not.toBeNull();
		expect(await stubOf(taskId).storedBytes()).toBe(0);
	});
});
