/**
 * A create the upstream did not answer in time may have been made (and charged for) all the
 * same: it is recorded in D1, so the task's callback, which carries the create's ref, can have
 * the task adopted later (src/early-callbacks/adoption.ts). False when even that could not be
 * written: then the key is not held in doubt, as no callback could ever settle it.
 */
import { recordTimedOutCreate as insert } from "../db/timed-out-creates";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import type { CreateRequest } from "./create-request";

export function recordTimedOutCreate(db: D1Database, request: CreateRequest, ref: string, createdAt: number): Promise<boolean> {
	const { prompt, callbackUrl, owner, idempotencyKey } = request;
	return insert(db, { ref, prompt, callbackUrl, createdAt, owner, idempotencyScope: idempotencyKey?.scope ?? null }).then(
		() => true,
		(error: unknown) => {
			logEvent("error", "timed_out_create_not_recorded", { error: errorMessage(error) });
			return false;
		},
	);
}
