/** What the task object answers its callers: the create path, the callback route and its request line. */
import type { TaskStatus } from "../domain/task-record";
import type { EarlyVerdict } from "../early-callbacks";
import type { AppliedCallback } from "./task-state";

export type RegisterVerdict = "registered" | "taken";
export type CallbackVerdict = AppliedCallback | EarlyVerdict;

/**
 * The result a callback decided: its status, the time from create to result, and whether it
 * replaced the gateway's timeout. Told on the callback's request line, instead of a task_final line.
 */
export interface ResultNote {
	taskStatus: TaskStatus;
	resultMs: number;
	replacedTimeout?: true;
}

/** What a callback did; with the result it decided, if any. */
export interface CallbackReceipt {
	verdict: CallbackVerdict;
	result?: ResultNote;
}
