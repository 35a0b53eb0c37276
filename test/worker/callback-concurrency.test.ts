/**
 * The callback route is idempotent under concurrency: any number of deliveries of one task's
 * callback, at once or one after another, store exactly one result, and once a task is final
 * its result never changes (later callbacks are acknowledged and counted, not applied).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	type CallbackRequest,
	type RecordInfo,
	callbackBody,
	createTask,
	d1CaughtUp,
	deliver,
	inspectTask,
	recordInfo,
	simCallback,
	uniquePrompt,
} from "./helpers";

/** What a final result is made of: everything record-info shows except the counters. */
function result(data: RecordInfo & { completeTime?: unknown }) {
	return {
		status: data.status,
		response: data.response,
		errorCode: data.errorCode,
		errorMessage: data.errorMessage,
		resultSource: data.resultSource,
		completeTime: data.completeTime,
	};
}

async function deliverAll(requests: CallbackRequest[]) {
	const responses = await Promise.all(requests.map((request) => deliver(request)));
	return Promise.all(
		responses.map(async (response) => ({
			status: response.status,
			body: (await response.json()) as { code: number; data: { taskId: string; result: string } | null },
		})),
	);
}

async function d1Row(taskId: string) {
	return env.DB.prepare("SELECT status, callbacks_received, version FROM tasks WHERE task_id = ?1")
		.bind(taskId)
		.first<{ status: string; callbacks_received: number; version: number }>();
}

describe("concurrent callbacks", () => {
	it("stores one result from 50 concurrent deliveries of the same callback", async () => {
		const taskId = await createTask(uniquePrompt("fifty identical echoes"));
		const callback = await simCallback(taskId);
		const sent = callbackBody(callback);
		expect(sent.data.data?.length).toBeGreaterThanOrEqual(2);

		const answers = await deliverAll(Array.from({ length: 50 }, () => callback));

		for (const answer of answers) {
			expect(answer.status).toBe(200);
			expect(answer.body.code).toBe(200);
			expect(answer.body.data?.taskId).toBe(taskId);
		}
		const results = answers.map((answer) => answer.body.data?.result);
		expect(results.filter((r) => r === "applied")).toHaveLength(1);
		expect(results.filter((r) => r === "already-final")).toHaveLength(49);

		await d1CaughtUp(taskId); // counts reach D1 with the object's coalesced write, seconds later
		const done = await recordInfo(taskId);
		expect(done.code).toBe(200);
		expect(done.data.status).toBe("SUCCESS");
		expect(done.data.resultSource).toBe("callback");
		expect(done.data.callbacksReceived).toBe(50);
		expect(done.data.errorCode).toBeNull();
		expect(done.data.errorMessage).toBeNull();
		expect(done.data.response.data.map((item) => [item.title, item.text])).toEqual(
			(sent.data.data ?? []).map((item) => [item.title, item.text]),
		);

		// The object counted every delivery and D1 holds exactly its latest state: three versions,
		// register's, the result's, and one for the 49 duplicates counted in together.
		const { state, earlyCallbacks } = await inspectTask(taskId);
		expect(earlyCallbacks).toBe(0);
		expect(state?.status).toBe("SUCCESS");
		expect(state?.callbacksReceived).toBe(50);
		expect(state?.version).toBe(3);
		expect(state?.syncedVersion).toBe(3);
		expect(await d1Row(taskId)).toEqual({ status: "SUCCESS", callbacks_received: 50, version: 3 });
	});

	it("lets exactly one of 50 concurrent success and failure callbacks win, for good", async () => {
		const taskId = await createTask(uniquePrompt("a coin tossed fifty times"));
		const success = await simCallback(taskId);
		const failure = await simCallback(taskId, "?fail=1");
		expect(failure.body).not.toBe(success.body);
		expect(failure.url).toBe(success.url);

		const answers = await deliverAll(Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? success : failure)));
		expect(answers.every((answer) => answer.status === 200)).toBe(true);
		const results = answers.map((answer) => answer.body.data?.result);
		expect(results.filter((r) => r === "applied")).toHaveLength(1);
		expect(results.filter((r) => r === "already-final")).toHaveLength(49);

		await d1CaughtUp(taskId); // counts reach D1 with the object's coalesced write, seconds later
		const first = await recordInfo(taskId);
		expect(first.data.callbacksReceived).toBe(50);
		expect(first.data.resultSource).toBe("callback");
		// The stored result is one of the two bodies whole, never a mix of them.
		const winnerWasSuccess = results.indexOf("applied") % 2 === 0;
		if (winnerWasSuccess) {
			expect(first.data.status).toBe("SUCCESS");
			expect(first.data.errorCode).toBeNull();
			expect(first.data.errorMessage).toBeNull();
			expect(first.data.response.data.map((item) => item.text)).toEqual(
				(callbackBody(success).data.data ?? []).map((item) => item.text),
			);
		} else {
			const sentFailure = callbackBody(failure);
			expect(first.data.status).toBe("GENERATE_LYRICS_FAILED");
			expect(first.data.errorCode).toBe(sentFailure.code);
			expect(first.data.errorMessage).toBe(sentFailure.msg);
			expect(first.data.response.data).toEqual([]);
		}

		// More of both, concurrently and one by one: the result never moves.
		const more = await deliverAll(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? failure : success)));
		expect(more.map((answer) => answer.body.data?.result)).toEqual(Array(10).fill("already-final"));
		for (const request of [success, failure, success, failure]) {
			const answer = await deliver(request);
			expect(answer.status).toBe(200);
			const later = await recordInfo(taskId);
			expect(result(later.data)).toEqual(result(first.data));
		}
		await d1CaughtUp(taskId); // counts reach D1 with the object's coalesced write, seconds later
		const last = await recordInfo(taskId);
		expect(last.data.callbacksReceived).toBe(64);
		expect(result(last.data)).toEqual(result(first.data));
	});

	it("acknowledges sequential duplicates after the task is final without changing its result", async () => {
		const taskId = await createTask(uniquePrompt("a chorus sung twice"));
		const callback = await simCallback(taskId);
		const firstAnswer = await deliver(callback);
		expect(await firstAnswer.json()).toMatchObject({ code: 200, data: { taskId, result: "applied" } });
		const applied = await recordInfo(taskId);
		expect(applied.data.status).toBe("SUCCESS");
		const appliedState = (await inspectTask(taskId)).state;

		for (let i = 1; i <= 3; i++) {
			const answer = await deliver(callback);
			expect(answer.status).toBe(200);
			expect(await answer.json()).toEqual({
				code: 200,
				msg: "success",
				data: { taskId, result: "already-final" },
			});
			await d1CaughtUp(taskId); // counts reach D1 with the object's coalesced write, seconds later
			const now = await recordInfo(taskId);
			expect(result(now.data)).toEqual(result(applied.data));
			expect(now.data.callbacksReceived).toBe(1 + i);
		}

		// Counted (a new version each time, so D1 sees the count) but not applied.
		const { state } = await inspectTask(taskId);
		expect(state?.version).toBe((appliedState?.version ?? 0) + 3);
		expect(state?.completedAt).toBe(appliedState?.completedAt);
		expect(state?.items).toEqual(appliedState?.items);
		expect((await d1Row(taskId))?.version).toBe(state?.version);
	});

	it("keeps SUCCESS when a failure callback arrives after the success", async () => {
		const taskId = await createTask(uniquePrompt("a late storm after sunshine"));
		expect(await (await deliver(await simCallback(taskId))).json()).toMatchObject({ data: { result: "applied" } });
		const success = await recordInfo(taskId);
		expect(success.data.status).toBe("SUCCESS");

		for (const query of ["?fail=1", "?variant=error-type", "?fail=1&variant=camel"]) {
			const late = await deliver(await simCallback(taskId, query));
			expect(late.status).toBe(200);
			expect(await late.json()).toMatchObject({ code: 200, data: { taskId, result: "already-final" } });
		}
		await d1CaughtUp(taskId); // counts reach D1 with the object's coalesced write, seconds later
		const after = await recordInfo(taskId);
		expect(after.data.status).toBe("SUCCESS");
		expect(after.data.errorCode).toBeNull();
		expect(after.data.errorMessage).toBeNull();
		expect(result(after.data)).toEqual(result(success.data));
		expect(after.data.callbacksReceived).toBe(4);
	});

	it("keeps a failure when a success callback arrives after it", async () => {
		const taskId = await createTask(uniquePrompt("a door that stayed shut"));
		expect(await (await deliver(await simCallback(taskId, "?fail=1"))).json()).toMatchObject({
			data: { result: "applied" },
		});
		const failed = await recordInfo(taskId);
		expect(failed.data.status).toBe("GENERATE_LYRICS_FAILED");

		const late = await deliver(await simCallback(taskId));
		expect(await late.json()).toMatchObject({ code: 200, data: { result: "already-final" } });
		await d1CaughtUp(taskId); // counts reach D1 with the object's coalesced write, seconds later
		const after = await recordInfo(taskId);
		expect(result(after.data)).toEqual(result(failed.data));
		expect(after.data.response.data).toEqual([]);
		expect(after.data.callbacksReceived).toBe(2);
	});
});
