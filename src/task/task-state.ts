/** A task object's state, and the steps that build and change it (no storage, no I/O). */
import type { StoredTask } from "../db/tasks";
import { logEvent } from "../log";
import { newDelivery } from "../webhooks/delivery";
import type { FinalOutcome, ResultSource, TaskRecord } from "./task-record";

/** The object's own state: the public record plus what only the object needs. */
export interface TaskState extends TaskRecord {
	/** The callback ref this task was created with; callbacks carrying another are refused. */
	ref: string;
	/** A poll is under way until this time (unix ms); another poll meanwhile is skipped. */
	pollLeaseUntil: number;
	/** Highest version D1 has acknowledged. */
	syncedVersion: number;
	syncFailures: number;
	/** A delivery attempt is under way until this time (unix ms); another meanwhile is skipped. */
	deliveryLeaseUntil: number;
	/** An adopted create's Idempotency-Key still to be told this task (src/task/adoption.ts). */
	keyToAdopt?: { scope: string; ref: string } | null;
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
		ref: input.ref,
		pollLeaseUntil: 0,
		syncedVersion: 0,
		syncFailures: 0,
		deliveryLeaseUntil: 0,
	};
}

export function finalize(state: TaskState, outcome: FinalOutcome, source: ResultSource, at: number): void {
	state.status = outcome.status;
	state.items = outcome.items;
	state.errorCode = outcome.errorCode;
	state.errorMessage = outcome.errorMessage;
	state.resultSource = source;
	state.completedAt = at;
	state.updatedAt = at;
	state.pollLeaseUntil = 0;
	// Decided in the same step as the result, so however many reports arrive there is one delivery.
	// Its first attempt is due now by the wall clock, whatever clock judged the result (a cron
	// tick judges by its scheduled time).
	if (state.callbackUrl && !state.delivery) state.delivery = newDelivery(state.taskId, Date.now());
	logEvent("info", "task_final", {
		taskId: state.taskId,
		status: outcome.status,
		source,
		// From create to result, the latency a client saw.
		ms: at - state.createdAt,
		...(outcome.errorCode !== null ? { upstreamCode: outcome.errorCode } : {}),
	});
}

export function timedOut(maxPendingSeconds: number): FinalOutcome {
	const bound = maxPendingSeconds >= 120 ? `${Math.round(maxPendingSeconds / 60)} minutes` : `${maxPendingSeconds} seconds`;
	return {
		final: true,
		status: "GENERATE_LYRICS_FAILED",
		items: [],
		errorCode: 408,
		errorMessage:
			`No result within ${bound}: no callback arrived and the upstream ` +
			"still reported the task unfinished. The gateway stopped waiting; create a new task.",
	};
}

/** A state rebuilt from D1's row, for an object that lost its own storage. */
export function adoptStoredTask(stored: StoredTask): TaskState {
	const { seq: _seq, callbackRef, ...record } = stored;
	return {
		...record,
		// Without its ref no callback can prove itself; the poller still finishes the task.
		ref: callbackRef ?? "",
		pollLeaseUntil: 0,
		syncedVersion: stored.version,
		syncFailures: 0,
		deliveryLeaseUntil: 0,
	};
}

export function publicRecord(state: TaskState): TaskRecord {
	const {
		ref: _ref,
		pollLeaseUntil: _pollLease,
		syncedVersion: _synced,
		syncFailures: _failures,
		deliveryLeaseUntil: _deliveryLease,
		keyToAdopt: _keyToAdopt,
		...record
	} = state;
	return record;
}
