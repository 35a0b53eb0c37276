/** What the create route asks of the create path (./create-task.ts). */
import type { IdempotencyKey } from "./key-lease";

export interface CreateRequest {
	prompt: string;
	/** The client's own webhook, if any; never sent upstream. */
	callbackUrl: string | null;
	/** The tenant whose key sent the create: the task's owner. */
	owner: string;
	idempotencyKey: IdempotencyKey | null;
}

/** Keeps work alive after the answer (the route's waitUntil). */
export type Background = (work: Promise<unknown>) => void;
