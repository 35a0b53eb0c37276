/**
 * The task as the whole gateway speaks of it: its statuses, an upstream report about it, and the
 * record readers see. A leaf: it imports nothing but its sibling domain types.
 */
import type { Delivery } from "./delivery";

/** The statuses of the provider's record-info, which the gateway keeps verbatim. */
export const TASK_STATUSES = [
	"PENDING",
	"SUCCESS",
	"GENERATE_LYRICS_FAILED",
	"SENSITIVE_WORD_ERROR",
	"CREATE_TASK_FAILED",
	"CALLBACK_EXCEPTION",
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export type FinalStatus = Exclude<TaskStatus, "PENDING">;

/** One lyrics variation, in record-info's camelCase form (src/schemas/lyrics.ts checks its schema matches). */
export interface LyricsItem {
	text: string;
	title: string;
	status: "complete" | "failed";
	errorMessage: string;
}

/** What one upstream report (a callback or a poll) says about a task. */
export type Outcome =
	| {
			final: true;
			status: FinalStatus;
			items: LyricsItem[];
			errorCode: number | null;
			errorMessage: string | null;
	  }
	| { final: false; reason: string };

export type FinalOutcome = Extract<Outcome, { final: true }>;

export type ResultSource = "callback" | "poll" | "timeout";

/** A task as readers see it: the row in D1, written only by the task's Durable Object. */
export interface TaskRecord {
	taskId: string;
	prompt: string;
	/** The client's own callBackUrl, if it gave one. */
	callbackUrl: string | null;
	status: TaskStatus;
	items: LyricsItem[];
	errorCode: number | null;
	errorMessage: string | null;
	resultSource: ResultSource | null;
	callbacksReceived: number;
	polls: number;
	nextPollAt: number;
	createdAt: number;
	updatedAt: number;
	completedAt: number | null;
	/** The delivery of the final result to callbackUrl; null until final, or without a callbackUrl. */
	delivery: Delivery | null;
	version: number;
	/** The tenant whose key created the task; null for a task stored before tenants existed. */
	owner: string | null;
}
