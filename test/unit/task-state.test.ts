/** The task's state transitions, as pure steps: what a callback, a poll and held callbacks do to it. */
import { describe, expect, it } from "vitest";
import type { FinalOutcome } from "../../src/domain/task-record";
import { applyCallback, applyPoll, newTaskState, startingState, timedOut } from "../../src/task/task-state";

const T0 = 1_700_000_000_000;
const success: FinalOutcome = {
	final: true,
	status: "SUCCESS",
	items: [{ text: "[Verse]\nla", title: "Song", status: "complete", errorMessage: "" }],
	errorCode: null,
	errorMessage: null,
};
const failure: FinalOutcome = { final: true, status: "GENERATE_LYRICS_FAILED", items: [], errorCode: 500, errorMessage: "failed" };
const notYet = { final: false as const, reason: "upstream status PENDING" };

/** An hour for the upstream's "unfinished", a day whatever the polls said (the defaults). */
const HOUR_DEADLINES = { maxPendingSeconds: 3600, giveUpSeconds: 86_400 };

function task(callbackUrl: string | null = null) {
	return newTaskState({ taskId: "t1", ref: "ref-1", prompt: "a song", callbackUrl, createdAt: T0, owner: "acme" });
}

describe("a callback", () => {
	it("makes a pending task final, once: a later one is a counted duplicate that changes nothing", () => {
		const state = task();
		expect(applyCallback(state, success, T0 + 10)).toBe("applied");
		expect(state.record).toMatchObject({ status: "SUCCESS", resultSource: "callback", completedAt: T0 + 10, callbacksReceived: 1 });
		const decided = structuredClone(state.record);
		expect(applyCallback(state, failure, T0 + 20)).toBe("duplicate");
		expect(state.record).toEqual({ ...decided, callbacksReceived: 2 });
	});

	it("without a result only brings the next poll forward", () => {
		const state = task();
		state.record.nextPollAt = T0 + 60_000;
		expect(applyCallback(state, notYet, T0 + 5)).toBe("not-final");
		expect(state.record).toMatchObject({ status: "PENDING", nextPollAt: T0 + 5, callbacksReceived: 1 });
	});

	it("decides the one delivery when the client gave a callBackUrl, and none without", () => {
		const withUrl = task("https://app.example.com/hook");
		applyCallback(withUrl, success, T0 + 10);
		expect(withUrl.record.delivery).toMatchObject({ webhookId: "msg_t1", state: "pending", attempts: 0 });
		const without = task();
		applyCallback(without, success, T0 + 10);
		expect(without.record.delivery).toBeNull();
	});
});

describe("a poll", () => {
	it("applies a final answer and frees its lease", () => {
		const state = task();
		state.pollLeaseUntil = T0 + 99;
		expect(applyPoll(state, success, HOUR_DEADLINES, T0 + 200_000)).toBe("applied");
		expect(state).toMatchObject({ pollLeaseUntil: 0, record: { status: "SUCCESS", resultSource: "poll", polls: 1 } });
	});

	it("backs off while the task is unfinished, and gives up at the deadline with a 408 only on the upstream's word", () => {
		const state = task();
		expect(applyPoll(state, notYet, HOUR_DEADLINES, T0 + 120_000)).toBe("still-pending");
		// First re-poll near 30 s (±10 %).
		expect(state.record.nextPollAt - (T0 + 120_000)).toBeGreaterThanOrEqual(27_000);
		expect(state.record.nextPollAt - (T0 + 120_000)).toBeLessThanOrEqual(33_000);
		// A poll that failed at the deadline proves nothing: still pending, asked again after a backoff.
		expect(applyPoll(state, null, HOUR_DEADLINES, T0 + 3_600_000)).toBe("still-pending");
		expect(state.record).toMatchObject({ status: "PENDING", resultSource: null, errorCode: null, polls: 2 });
		expect(state.record.nextPollAt).toBeGreaterThan(T0 + 3_600_000);
		expect(applyPoll(state, notYet, HOUR_DEADLINES, T0 + 3_700_000)).toBe("expired");
		expect(state.record).toMatchObject({ status: "GENERATE_LYRICS_FAILED", errorCode: 408, resultSource: "timeout", polls: 3 });
	});

	it("schedules the next poll no later than the deadline", () => {
		const state = task();
		expect(applyPoll(state, notYet, HOUR_DEADLINES, T0 + 3_590_000)).toBe("still-pending");
		expect(state.record.nextPollAt).toBe(T0 + 3_600_000);
	});

	it("lets the upstream's result replace the gateway's timeout, once, as a new delivery", () => {
		const state = task("https://client.example/hook");
		expect(applyPoll(state, notYet, HOUR_DEADLINES, T0 + 3_600_000)).toBe("expired");
		expect(state.record.delivery?.webhookId).toBe("msg_t1");
		expect(applyCallback(state, success, T0 + 3_700_000)).toBe("applied");
		expect(state.record).toMatchObject({ status: "SUCCESS", resultSource: "callback", errorCode: null, errorMessage: null });
		expect(state.record.delivery).toMatchObject({ webhookId: "msg_t1_2", state: "pending", attempts: 0 });
		// A result from the upstream is never replaced, by a callback or by a poll.
		expect(applyCallback(state, failure, T0 + 3_800_000)).toBe("duplicate");
		expect(applyPoll(state, failure, HOUR_DEADLINES, T0 + 3_900_000)).toBe("final");
		expect(state.record).toMatchObject({ status: "SUCCESS", resultSource: "callback" });
		expect(state.record.delivery?.webhookId).toBe("msg_t1_2");
	});

	it("gives up at TASK_GIVE_UP_SECONDS whatever the polls said, and never schedules a poll past it", () => {
		const state = task();
		// The upstream does not know the task (record-info "not found"): every poll fails.
		expect(applyPoll(state, null, HOUR_DEADLINES, T0 + 86_390_000)).toBe("still-pending");
		expect(state.record.nextPollAt).toBe(T0 + 86_400_000);
		expect(applyPoll(state, null, HOUR_DEADLINES, T0 + 86_400_000)).toBe("expired");
		expect(state.record).toMatchObject({ status: "GENERATE_LYRICS_FAILED", errorCode: 408, resultSource: "timeout" });
		expect(state.record.errorMessage).toMatch(/^No result within 24 hours: .*never said the task was done.*replaces this one\.$/);
		// A genuine result after it still replaces it.
		expect(applyCallback(state, success, T0 + 86_500_000)).toBe("applied");
		expect(state.record).toMatchObject({ status: "SUCCESS", resultSource: "callback" });
	});

	it("counts, but does not change, a task a callback finished meanwhile", () => {
		const state = task();
		applyCallback(state, success, T0 + 1);
		expect(applyPoll(state, failure, HOUR_DEADLINES, T0 + 2)).toBe("final");
		expect(state.record).toMatchObject({ status: "SUCCESS", resultSource: "callback", polls: 1 });
	});
});

describe("the first state, with callbacks held before it", () => {
	it("applies the first final callback carrying the task's ref and counts its deliveries, dropping other refs", () => {
		const state = startingState({ taskId: "t1", ref: "ref-1", prompt: "p", callbackUrl: null, createdAt: T0, owner: "acme" }, [
			{ ref: "ref-other", outcome: failure, deliveries: 4, receivedAt: T0 + 1 },
			{ ref: "ref-1", outcome: success, deliveries: 2, receivedAt: T0 + 2 },
		]);
		expect(state.record).toMatchObject({ status: "SUCCESS", callbacksReceived: 2, completedAt: T0 + 2, version: 1 });
	});
});

describe("timedOut", () => {
	it("says how long the gateway waited, in minutes from two minutes on and hours from two hours on", () => {
		expect(timedOut(3600).errorMessage).toMatch(/^No result within 60 minutes/);
		expect(timedOut(90).errorMessage).toMatch(/^No result within 90 seconds/);
		expect(timedOut(86_400, "gave-up").errorMessage).toMatch(/^No result within 24 hours/);
	});

	it("says what is true: a result the upstream delivers later replaces it, so no new task is needed", () => {
		expect(timedOut(3600).errorMessage).not.toMatch(/create a new task/);
		expect(timedOut(3600).errorMessage).toMatch(/replaces this one\.$/);
	});
});
