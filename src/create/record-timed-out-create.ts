/**
 * A create the upstream did not answer in time may have been made (and charged for) all the
 * same: it is remembered in D1, so the task's callback, which carries the create's ref, can be
 * matched to it later (./unanswered-create-claim.ts). False when even that could not be written.
 */
import { type UnansweredCreate, recordUnansweredCreate } from "../db/tasks";
import { logEvent } from "../lib/log";
import { errorMessage } from "../lib/error-message";

export function rememberUnansweredCreate(db: D1Database, create: UnansweredCreate): Promise<boolean> {
	return recordUnansweredCreate(db, create).then(
		() => true,
		(error: unknown) => {
			logEvent("error", "unanswered_create_not_recorded", { error: errorMessage(error) });
			return false;
		},
	);
}
