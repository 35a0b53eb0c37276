/** A task object's state, and the steps that build and change it (no storage, no I/O). */
import type { StoredTask } from "../db/tasks";
import { newDelivery } from "../domain/delivery";
import type { FinalOutcome, Outcome, ResultSource, TaskRecord } from "../domain/task-record";
import { logEvent } from "../lib/log";
import { pollDelayMs } from "./backoff";
import type { HeldCallback } from "../early-callbacks/held-callbacks";

/**
 * What the object decides on: the public record readers see (D1's row), plus the two facts
 * only the decisions need. The bookkeeping of its collaborators (D1 sync, delivery lease,
 * key adoption) lives apart, each in its own table.
 */
export interface TaskState {
	record: TaskRecord;
	/** The callback ref this task was created with; callbacks carrying another are refused. */
	ref: string;
	/** A poll is under way until this time (unix ms); another poll meanwhile is skipped. */
	pollLeaseUntil: number;
}

/** What the create route tells the object when the upstream has named a task. */
export interface NewTask {
	taskId: string;
	ref: string;
	prompt: string;
	callbackUrl: string | null;
	createdAt: number;
	/** The tenant whose key sent the create. */
	owner: string | null;
}

export function newTaskState(input: NewTask): TaskState {
	return {
		record: {
			taskId: input.taskId,
			prompt: input.prompt,
			callbackUrl: input.callbackUrl,
			status: "PENDING",
			items: [],
			errorCode: null,
			errorMessage: null,
			resultSource: null,
			callbacksReceived: 0,
			polls: 0,
			// Due as soon as POLL_GRACE_SECONDS have passed (the cron checks the age).
			nextPollAt: input.createdAt,
			createdAt: input.createdAt,
			updatedAt: input.createdAt,
			completedAt: null,
			delivery: null,
			version: 1,
			owner: input.owner,
		},
		ref: input.ref,
		pollLeaseUntil: 0,
	};
}

/**
 * The task's first state, given the callbacks that came before it: the first final one that
 * carries this task's ref applies, the rest are dropped (they were minted for some other create).
 */
export function startingState(input: NewTask, held: HeldCallback[]): TaskState {
	const state = newTaskState(input);
	for (const callback of held) {
		if (callback.ref !== input.ref) {
			logEvent("warn", "early_callback_dropped", { taskId: input.taskId, reason: "wrong-ref" });
			continue;
		}
		state.record.callbacksReceived += callback.deliveries;
		if (callback.outcome.final && state.record.status === "PENDING") finalizeAndLog(state, callback.outcome, "callback", callback.receivedAt);
	}
	return state;
}

/**
 * Stores `outcome` as the task's result; whether it replaced the gateway's own timeout. Not
 * logged here: a callback's result is told on its request's line, the others by finalizeAndLog.
 */
function finalize(state: TaskState, outcome: FinalOutcome, source: ResultSource, at: number): boolean {
	const record = state.record;
	const replacesTimeout = replacesOwnTimeout(record, source);
	record.status = outcome.status;
	record.items = outcome.items;
	record.errorCode = outcome.errorCode;
	record.errorMessage = outcome.errorMessage;
	record.resultSource = source;
	record.completedAt = at;
	record.updatedAt = at;
	state.pollLeaseUntil = 0;
	// Decided in the same step as the result, so however many reports arrive there is one delivery.
	// Its first attempt is due now by the wall clock, whatever clock judged the result (a cron
	// tick judges by its scheduled time).
	if (record.callbackUrl && (!record.delivery || replacesTimeout)) {
		record.delivery = newDelivery(record.taskId, Date.now(), replacesTimeout ? "replacement" : "first");
	}
	return replacesTimeout;
}

/**
 * Whether a result from `source` would replace the gateway's own timeout: the one result an
 * upstream result may replace, and news to a client who got the timeout's delivery, so it is a
 * delivery of its own.
 */
export function replacesOwnTimeout(record: Pick<TaskRecord, "resultSource">, source: ResultSource): boolean {
	return record.resultSource === "timeout" && source !== "timeout";
}

/** The `task_final` (or `timeout_replaced`) line for a result no request's line tells of. */
function finalizeAndLog(state: TaskState, outcome: FinalOutcome, source: ResultSource, at: number): void {
	const replacedTimeout = finalize(state, outcome, source, at);
	const record = state.record;
	logEvent("info", replacedTimeout ? "timeout_replaced" : "task_final", {
		taskId: record.taskId,
		status: outcome.status,
		source,
		// From create to result, the latency a client saw.
		ms: at - record.createdAt,
		...(outcome.errorCode !== null ? { upstreamCode: outcome.errorCode } : {}),
	});
}

/** How long a pending task is waited for: until the upstream says it is unfinished past the first, whatever it says past the second. */
export interface PollDeadlines {
	maxPendingSeconds: number;
	giveUpSeconds: number;
}

/**
 * The gateway's own timeout, `why` it stopped waiting: the upstream still said unfinished past
 * TASK_MAX_PENDING_SECONDS, or nothing usable came by TASK_GIVE_UP_SECONDS.
 */
export function timedOut(seconds: number, why: "unfinished" | "gave-up" = "unfinished"): FinalOutcome {
	const bound = seconds >= 7200 ? `${Math.round(seconds / 3600)} hours` : seconds >= 120 ? `${Math.round(seconds / 60)} minutes` : `${seconds} seconds`;
	const cause =
		why === "unfinished"
			? "no callback arrived and the upstream still reported the task unfinished"
			: "no callback arrived and the upstream never said the task was done (its answers failed, or it did not know the task)";
	return {
		final: true,
		status: "GENERATE_LYRICS_FAILED",
		items: [],
		errorCode: 408,
		errorMessage: `No result within ${bound}: ${cause}. The gateway stopped waiting; should the upstream deliver the result after all, it replaces this one.`,
	};
}

/** A state rebuilt from D1's row, for an object that lost its own storage. */
export function stateFromStoredRow(stored: StoredTask): TaskState {
	const { seq: _seq, callbackRef, ...record } = stored;
	// Without its ref no callback can prove itself; the poller still finishes the task.
	return { record, ref: callbackRef ?? "", pollLeaseUntil: 0 };
}

export type AppliedCallback = "applied" | "duplicate" | "not-final";
export type AppliedPoll = "final" | "applied" | "expired" | "still-pending";

/**
 * Whether `outcome` may be stored now: while pending, or over the gateway's own timeout (the
 * upstream's result came after all). A result from the upstream is never replaced.
 */
export function mayApply(record: Pick<TaskRecord, "status" | "resultSource">, outcome: Outcome | null): outcome is FinalOutcome {
	return outcome !== null && mayTakeFinal(record, outcome);
}

/** The rule of mayApply, from whether the outcome is final alone. */
function mayTakeFinal(record: Pick<TaskRecord, "status" | "resultSource">, outcome: Pick<Outcome, "final">): boolean {
	return outcome.final && (record.status === "PENDING" || record.resultSource === "timeout");
}

/**
 * A callback carrying this task's ref: the first final result from the upstream wins and never
 * changes (it may only replace the gateway's own timeout).
 */
export function applyCallback(state: TaskState, outcome: Outcome, now: number): AppliedCallback {
	const record = state.record;
	record.callbacksReceived += 1;
	const effect = callbackEffect(record, outcome);
	if (effect === "applied" && mayApply(record, outcome)) finalize(state, outcome, "callback", now);
	// Nothing usable yet: have the poller look soon instead of waiting out its backoff.
	else if (effect === "not-final") record.nextPollAt = Math.min(record.nextPollAt, now);
	return effect;
}

/**
 * What a callback does to a task, judged from its status alone: "duplicate" changes nothing but
 * the count, so the object can tell it without reading the whole record.
 */
export function callbackEffect(task: Pick<TaskRecord, "status" | "resultSource">, outcome: Pick<Outcome, "final">): AppliedCallback {
	if (mayTakeFinal(task, outcome)) return "applied";
	return task.status === "PENDING" ? "not-final" : "duplicate";
}

/** Whether a tick at `tickTime` should have this task polled: pending and its backoff over (past its deadline too). */
export function pollDue(state: TaskState, tickTime: number): "due" | "final" | "not-due" {
	if (state.record.status !== "PENDING") return "final";
	return tickTime < state.record.nextPollAt ? "not-due" : "due";
}

/**
 * A poll's answer (`outcome`, or null when the upstream could not be asked), judged at `now`.
 * Before TASK_GIVE_UP_SECONDS, only the upstream's own word that the task is unfinished ends it as
 * a timeout: a poll that failed proves nothing, so the task stays pending and is asked again after
 * its backoff. Past TASK_GIVE_UP_SECONDS it ends whatever the poll said, so no task waits forever.
 */
export function applyPoll(state: TaskState, outcome: Outcome | null, deadlines: PollDeadlines, now: number): AppliedPoll {
	const record = state.record;
	state.pollLeaseUntil = 0;
	record.polls += 1;
	if (mayApply(record, outcome)) {
		finalizeAndLog(state, outcome, "poll", now);
		return "applied";
	}
	// A callback won the race while we were asking; its result stands, the poll is counted.
	if (record.status !== "PENDING") return "final";
	const deadline = record.createdAt + deadlines.maxPendingSeconds * 1000;
	const giveUp = record.createdAt + deadlines.giveUpSeconds * 1000;
	if (now >= giveUp) {
		finalizeAndLog(state, timedOut(deadlines.giveUpSeconds, "gave-up"), "timeout", now);
		return "expired";
	}
	if (outcome !== null && now >= deadline) {
		finalizeAndLog(state, timedOut(deadlines.maxPendingSeconds), "timeout", now);
		return "expired";
	}
	// Not later than a deadline ahead, so the upstream is asked then rather than a backoff after it.
	const next = now + pollDelayMs(record.polls);
	record.nextPollAt = Math.min(now < deadline ? Math.min(next, deadline) : next, giveUp);
	return "still-pending";
}
