/**
 * Whether a callback for a task its object has not stored may be held there. A URL whose ref
 * already belongs to another stored task is being reused for a made-up taskId, and one whose
 * create is long over may only hold callbacks if that create was never answered (then the
 * object's late-create check asks the upstream before claiming it): the rest are refused.
 */
import { findTaskIdByCallbackRef, findUnansweredCreate } from "../db/tasks";
import { isFreshRef } from "../security/callback-token";
import { withinBudget } from "../task/within-budget";
import { ADOPTION_WINDOW_MS } from "./upstream-confirmation";

export async function mayHoldEarlyCallback(db: D1Database, taskId: string, ref: string, budgetMs: number): Promise<boolean> {
	const fresh = isFreshRef(ref);
	const notBefore = Date.now() - ADOPTION_WINDOW_MS;
	const [owner, unanswered] = await withinBudget(
		Promise.all([findTaskIdByCallbackRef(db, ref), fresh ? Promise.resolve(null) : findUnansweredCreate(db, ref, notBefore)]),
		[null, null] as const,
		budgetMs,
	);
	if (owner !== null && owner !== taskId) return false;
	return fresh || (unanswered !== null && (unanswered.taskId === null || unanswered.taskId === taskId));
}
