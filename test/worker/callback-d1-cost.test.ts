/**
 * Only a result waits on D1: a duplicate or not-final callback is counted in the task's object,
 * answered without a D1 statement, and reaches D1 with a coalesced write seconds later (the
 * alarm's, for duplicates folded in and for a not-final callback alike).
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { COALESCE_MS } from "../../src/task/d1-books";
import {
	createTask,
	d1CaughtUp,
	deliver,
	eventually,
	expectOnlyArchiveAlarm,
	inspectTask,
	recordInfo,
	setObjectEnv,
	simCallback,
	uniquePrompt,
	withBody,
} from "./helpers";

/** A D1 binding that records each statement and runs it on the real database. */
function passThroughDb() {
	const statements: string[] = [];
	const db = {
		prepare: (sql: string) => {
			statements.push(sql.replace(/\s+/g, " ").trim());
			return env.DB.prepare(sql);
		},
	} as unknown as D1Database;
	return { db, statements };
}

/** Records what the task's object runs on its own storage from now on. */
async function recordObjectStatements(taskId: string): Promise<string[]> {
	const statements: string[] = [];
	await runInDurableObject(env.TASKS.getByName(taskId), (_instance, objectState) => {
		const sql = objectState.storage.sql;
		const exec = sql.exec.bind(sql);
		sql.exec = ((query: string, ...bindings: unknown[]) => {
			statements.push(query.replace(/\s+/g, " ").trim());
			return exec(query, ...(bindings as SqlStorageValue[]));
		}) as typeof sql.exec;
	});
	return statements;
}

/** A D1 binding that records each statement and fails it at once. */
function recordingDb() {
	const statements: string[] = [];
	const fail = () => Promise.reject(new Error("D1_ERROR: not expected here"));
	const db = {
		prepare: (sql: string) => {
			statements.push(sql);
			return { bind: () => ({ run: fail, first: fail, all: fail }) };
		},
	} as unknown as D1Database;
	return { db, statements };
}

describe("what a callback costs in D1", () => {
	it("answers duplicates without a D1 statement, and their count reaches D1 by itself within seconds", async () => {
		const taskId = await createTask(uniquePrompt("a chorus repeated without cost"));
		const callback = await simCallback(taskId);
		expect(await (await deliver(callback)).json()).toMatchObject({ data: { result: "applied" } });
		// The result's own write came before its answer, as always.
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", callbacksReceived: 1 });

		const recorder = recordingDb();
		await setObjectEnv(taskId, { DB: recorder.db });
		const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(callback)));
		await setObjectEnv(taskId, { DB: env.DB });
		for (const answer of answers) {
			expect(answer.status).toBe(200);
			expect(await answer.json()).toMatchObject({ data: { result: "already-final" } });
		}
		expect(recorder.statements).toEqual([]);

		// Nothing here runs the alarm or folds: the fold comes by itself and writes the five counts in one go.
		const counted = await eventually(
			() => recordInfo(taskId),
			(info) => info.data.callbacksReceived === 6,
			15_000,
		);
		expect(counted.data.status).toBe("SUCCESS");
		const { state } = await env.TASKS.getByName(taskId).inspect();
		expect(state).toMatchObject({ callbacksReceived: 6, syncFailures: 0 });
		expect(state!.syncedVersion).toBe(state!.version);
	});

	it("answers a not-final callback without a D1 statement, and D1 learns the earlier poll time within seconds", async () => {
		const taskId = await createTask(uniquePrompt("a success with nothing in it"));
		const request = await simCallback(taskId);
		const empty = withBody(request, { code: 200, msg: "success", data: { callbackType: "complete", task_id: taskId, data: [] } });
		const before = (await env.TASKS.getByName(taskId).inspect()).state!;

		const recorder = recordingDb();
		await setObjectEnv(taskId, { DB: recorder.db });
		const answer = await deliver(empty);
		await setObjectEnv(taskId, { DB: env.DB });
		expect(answer.status).toBe(200);
		expect(await answer.json()).toMatchObject({ data: { result: "still-pending" } });
		expect(recorder.statements).toEqual([]);

		const seen = await eventually(
			() => recordInfo(taskId),
			(info) => info.data.callbacksReceived === 1,
			15_000,
		);
		expect(seen.data.status).toBe("PENDING");
		const row = await env.DB.prepare("SELECT next_poll_at FROM tasks WHERE task_id = ?1").bind(taskId).first<{ next_poll_at: number }>();
		expect(row!.next_poll_at).toBeGreaterThanOrEqual(before.nextPollAt);
		expect(row!.next_poll_at).toBeLessThanOrEqual(Date.now());
	});

	it("sets one alarm for a burst of duplicates, the fold's, without waiting for it to be stored", async () => {
		const taskId = await createTask(uniquePrompt("a burst of copies"));
		const callback = await simCallback(taskId);
		await deliver(callback);
		await d1CaughtUp(taskId);
		// Nothing is due after the result but its archive, a week on.
		await expectOnlyArchiveAlarm(taskId);

		const sets: { at: number; unconfirmed: boolean }[] = [];
		await runInDurableObject(env.TASKS.getByName(taskId), (_instance, objectState) => {
			const storage = objectState.storage as DurableObjectStorage & { setAlarm: DurableObjectStorage["setAlarm"] };
			const setAlarm = storage.setAlarm.bind(storage);
			storage.setAlarm = (at, options) => {
				sets.push({ at: typeof at === "number" ? at : at.getTime(), unconfirmed: options?.allowUnconfirmed === true });
				return setAlarm(at, options);
			};
		});
		const firstSent = Date.now();
		const answers = await Promise.all(Array.from({ length: 20 }, () => deliver(callback)));
		expect(answers.every((answer) => answer.status === 200)).toBe(true);
		// One alarm for all twenty, COALESCE_MS after the first was counted; a restart loses it with the count.
		expect(sets).toHaveLength(1);
		expect(sets[0]!.at).toBeGreaterThanOrEqual(firstSent + COALESCE_MS);
		expect(sets[0]!.at).toBeLessThanOrEqual(Date.now() + COALESCE_MS);
		expect(sets[0]!.unconfirmed).toBe(true);
		// That alarm folds them in and writes D1.
		expect(await runDurableObjectAlarm(env.TASKS.getByName(taskId))).toBe(true);
		await eventually(
			() => recordInfo(taskId),
			(info) => info.data.callbacksReceived === 21,
		);
	});

	it("asks about the alarm for a count's first duplicate only, and again once that count is folded", async () => {
		const taskId = await createTask(uniquePrompt("copies that share one fold"));
		const callback = await simCallback(taskId);
		await deliver(callback);
		await d1CaughtUp(taskId);

		let checks = 0;
		await runInDurableObject(env.TASKS.getByName(taskId), (_instance, objectState) => {
			const storage = objectState.storage;
			const getAlarm = storage.getAlarm.bind(storage);
			storage.getAlarm = (options) => {
				checks += 1;
				return getAlarm(options);
			};
		});
		for (let i = 0; i < 4; i++) expect(await (await deliver(callback)).json()).toMatchObject({ data: { result: "already-final" } });
		expect(checks).toBe(1);

		// The fold starts a new count: its first duplicate asks again, and its alarm is set.
		expect(await runDurableObjectAlarm(env.TASKS.getByName(taskId))).toBe(true);
		const afterFold = checks;
		await deliver(callback);
		await deliver(callback);
		expect(checks).toBe(afterFold + 1);
		await eventually(
			() => recordInfo(taskId),
			(info) => info.data.callbacksReceived === 7,
			15_000,
		);
	});

	it("counts duplicates in the object's memory, touching none of its storage on their way, and folds them in with one write", async () => {
		const taskId = await createTask(uniquePrompt("copies counted in memory"));
		const callback = await simCallback(taskId);
		await deliver(callback);
		await d1CaughtUp(taskId);
		const before = (await inspectTask(taskId)).state!;

		const statements = await recordObjectStatements(taskId);
		const answers = await Promise.all(Array.from({ length: 5 }, () => deliver(callback)));
		for (const answer of answers) expect(await answer.json()).toMatchObject({ data: { result: "already-final" } });
		// Not even a read: the task's row is mirrored in memory.
		expect(statements).toEqual([]);
		// Counted, not yet stored: the record's version (what D1 is owed) has not moved.
		expect((await inspectTask(taskId)).state).toMatchObject({ callbacksReceived: 6, version: before.version });

		await d1CaughtUp(taskId);
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "SUCCESS", callbacksReceived: 6 });
		expect((await inspectTask(taskId)).state).toMatchObject({ callbacksReceived: 6, version: before.version + 1 });
	});

	it("writes only the counters while D1 holds the object's last write, and the whole record when D1 holds something else", async () => {
		const taskId = await createTask(uniquePrompt("a counter-only write"));
		const callback = await simCallback(taskId);
		await deliver(callback);
		await d1CaughtUp(taskId);

		const recorder = passThroughDb();
		await setObjectEnv(taskId, { DB: recorder.db });
		await deliver(callback);
		await d1CaughtUp(taskId);
		expect(recorder.statements).toEqual([expect.stringMatching(/^UPDATE tasks SET callbacks_received = \?1, polls = \?2/)]);
		expect((await recordInfo(taskId)).data).toMatchObject({ callbacksReceived: 2 });

		// D1's row is no longer the object's last write (restored from an older backup, say).
		const { version } = (await inspectTask(taskId)).state!;
		await env.DB.prepare("UPDATE tasks SET items = '[]', version = ?1 WHERE task_id = ?2").bind(version - 1, taskId).run();
		recorder.statements.length = 0;
		await deliver(callback);
		await d1CaughtUp(taskId);
		await setObjectEnv(taskId, { DB: env.DB });
		// The counters alone cannot land on another version; the whole record then does, over D1's row.
		expect(recorder.statements).toEqual([expect.stringMatching(/^UPDATE tasks SET callbacks_received/), expect.stringMatching(/^UPDATE tasks SET prompt = ''/)]);
		const info = (await recordInfo(taskId)).data;
		expect(info).toMatchObject({ callbacksReceived: 3 });
		expect(info.response.data.length).toBeGreaterThan(0);
	});
});
