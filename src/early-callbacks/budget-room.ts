/**
 * The task object's side of the overall bound on held callbacks (./held-callback-budget.ts):
 * room is taken before a callback for a task not stored is held, and given back when the task is
 * stored, the upstream refutes the callback, or it expires. Giving back is best effort: room not
 * given back is freed when the hold expires, and a later check of the task gives it back too.
 */
import { type Config, readConfig } from "../config/config";
import type { Outcome } from "../domain/task-record";
import { logEvent } from "../lib/log";
import { type CheckResult, heldCallbackBudget } from "./held-callback-budget";
import { HOLD_TTL_MS, type HeldCallbacks } from "./held-callbacks";
import type { Adoption } from "./adoption";
import { errorMessage } from "../lib/error-message";

/**
 * When to first ask whether a held callback's create timed out: a callback comes after its create
 * was sent, so by the upstream deadline (UPSTREAM_TIMEOUT_MS) plus this margin for the create's
 * own bookkeeping, a timed-out create has been recorded.
 */
const FIRST_CHECK_MARGIN_MS = 5_000;

const encoder = new TextEncoder();

/** What holding `outcome` takes in storage. */
export function heldBytes(outcome: Outcome): number {
	return encoder.encode(JSON.stringify(outcome)).byteLength;
}

/** Takes room for holding `bytes` for `taskId` through `ref`; false when the bound is reached (or cannot be asked). */
export async function takeHoldRoom(env: Env, config: Config, taskId: string, ref: string, bytes: number): Promise<boolean> {
	const now = Date.now();
	try {
		const permit = await heldCallbackBudget(env).reserve(
			{
				taskId,
				ref,
				bytes,
				expiresAt: now + HOLD_TTL_MS,
				firstCheckAt: now + config.upstreamTimeoutMs + FIRST_CHECK_MARGIN_MS,
			},
			{ count: config.heldCallbacksMax, bytes: config.heldCallbacksMaxBytes },
		);
		if (!permit.granted) logEvent("warn", "early_callback_refused", { taskId, reason: `held-callback bound (${permit.reason})` });
		return permit.granted;
	} catch (error) {
		// Refused rather than held unbounded: the sender retries.
		logEvent("error", "held_callback_budget_failed", { taskId, error: errorMessage(error) });
		return false;
	}
}

/** Gives back the room of `refs` (all of the task's without). */
export async function giveBackHoldRoom(env: Env, taskId: string, refs?: string[]): Promise<void> {
	if (refs?.length === 0) return;
	await heldCallbackBudget(env)
		.release(taskId, refs)
		.catch((error: unknown) =>
			logEvent("error", "held_callback_budget_failed", { taskId, error: errorMessage(error) }),
		);
}

/** What a cron tick's check of a task's held callbacks found. */
export type HeldCheckVerdict = "adopted" | "check-later" | "not-adopted" | "nothing-held";

/**
 * After a check that adopted nothing: the room of callbacks the upstream refuted (held before,
 * not kept) is given back, and the budget, which schedules the checks, told whether to look again.
 */
export async function settleUnadopted(
	env: Env,
	taskId: string,
	refsBefore: string[],
	refsKept: string[],
	lookAgain: boolean,
): Promise<HeldCheckVerdict> {
	const kept = new Set(refsKept);
	await giveBackHoldRoom(env, taskId, refsBefore.filter((ref) => !kept.has(ref)));
	const result: CheckResult = lookAgain ? "retry" : "done";
	await heldCallbackBudget(env)
		.checked(taskId, result)
		.catch((error: unknown) =>
			logEvent("error", "held_callback_budget_failed", { taskId, error: errorMessage(error) }),
		);
	return lookAgain ? "check-later" : "not-adopted";
}

/**
 * The alarm of an object holding callbacks for a task never stored: past their time they are
 * dropped and their room given back; callbacks held before the budget existed are listed in it,
 * so the cron checks them like any other.
 */
export async function tendHeldCallbacks(env: Env, adoption: Adoption, held: HeldCallbacks): Promise<void> {
	const expired = adoption.expireHeld(Date.now());
	if (expired) return giveBackHoldRoom(env, expired);
	const unlisted = adoption.unlistedTaskId();
	if (!unlisted) return;
	const config = readConfig(env);
	for (const { ref, bytes } of held.sizes()) await takeHoldRoom(env, config, unlisted, ref, bytes);
	adoption.listed();
}
