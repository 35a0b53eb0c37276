/**
 * Whether a callback for a task its object has not stored may be held there. A URL whose ref
 * already belongs to another stored task is being reused for a made-up taskId, and one whose
 * create is long over may only hold callbacks if the create journal still has that create (it
 * timed out, and the task is adopted only once the upstream confirms it, ./adoption.ts; or its
 * task is named there and the cron registers it): the rest are refused.
 * When D1 is slow or failing it cannot say whose URL this is: the callback is neither refused for
 * good nor held, but answered so the upstream retries. A task D1 marks archived or deleted is not
 * live any more: its callback is acknowledged and neither held nor stored.
 */
import { type MarkState, findMark } from "../db/marks";
import { findTaskIdByCallbackRef } from "../db/tasks";
import { findRecordedCreate } from "../db/create-records";
import { isFreshRef } from "../security/callback-token";
import { withinBudget } from "../lib/within-budget";
import { ADOPTION_WINDOW_MS } from "./upstream-confirmation";

/** Which callback token the URL carried: the current kind, or one minted before it. */
export type CallbackTokenKind = "current" | "legacy";

export type EarlyCallbackGate = "hold" | "refuse" | "d1-unavailable" | MarkState;

export async function mayHoldEarlyCallback(
	db: D1Database,
	taskId: string,
	ref: string,
	token: CallbackTokenKind,
	budgetMs: number,
): Promise<EarlyCallbackGate> {
	// A URL verified only by the legacy key (minted before CALLBACK_TOKEN_SECRET) is never fresh:
	// only D1 can vouch for it, so that key cannot mint places to park callbacks.
	const fresh = token === "current" && isFreshRef(ref);
	const notBefore = Date.now() - ADOPTION_WINDOW_MS;
	const lookup = await withinBudget(
		Promise.all([
			findTaskIdByCallbackRef(db, ref),
			fresh ? Promise.resolve(null) : findRecordedCreate(db, ref, notBefore),
			findMark(db, taskId),
		]),
		null,
		budgetMs,
	);
	if (lookup === null) return "d1-unavailable";
	const [owner, recorded, mark] = lookup;
	if (mark) return mark.state;
	if (owner !== null && owner !== taskId) return "refuse";
	return fresh || (recorded !== null && (recorded.taskId === null || recorded.taskId === taskId)) ? "hold" : "refuse";
}
