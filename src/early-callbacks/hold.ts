/**
 * An early callback: the upstream may call back before the create that made the task has stored
 * it. Held in the task's object (within the gateway's overall bound), or refused; or, when the
 * task was stored during the lookups, handed back ("stored") for the object to apply.
 */
import type { Config } from "../config/config";
import type { Outcome } from "../domain/task-record";
import type { Adoption } from "./adoption";
import { giveBackHoldRoom, heldBytes, takeHoldRoom } from "./budget-room";
import type { HeldCallbacks } from "./held-callbacks";
import { type CallbackTokenKind, mayHoldEarlyCallback } from "./hold-gate";

/** What became of an early callback; "archived" and "deleted": the task is no longer live (acknowledged, nothing kept). */
export type EarlyVerdict = "held-early" | "early-full" | "held-limit" | "wrong-ref" | "d1-unavailable" | "archived" | "deleted";

/** What holding a callback needs of the task's object. */
export interface HoldingObject {
	env: Env;
	config: Config;
	/** Whether the object has stored its task (it may, during any await here). */
	isStored: () => boolean;
	held: HeldCallbacks;
	adoption: Adoption;
	redact: (outcome: Outcome) => Outcome;
	/** Sets the object's alarm for what it now holds (the held callbacks' expiry). */
	armAlarm: () => Promise<void>;
	/** How long the D1 lookups may take before the callback is told to retry. */
	d1BudgetMs: number;
}

/** Holds or refuses the callback; "stored" when the task was stored meanwhile (the object applies it). */
export async function holdEarlyCallback(
	object: HoldingObject,
	taskId: string,
	ref: string,
	upstreamOutcome: Outcome,
	token: CallbackTokenKind,
): Promise<EarlyVerdict | "stored"> {
	const { env, isStored } = object;
	const gate = await mayHoldEarlyCallback(env.DB, taskId, ref, token, object.d1BudgetMs);
	if (gate === "refuse") return "wrong-ref";
	if (gate === "archived" || gate === "deleted") return gate;
	// Decided on the object as it is now: the task may have been stored during the lookups.
	if (isStored()) return "stored";
	if (gate === "d1-unavailable") return "d1-unavailable";
	const outcome = object.redact(upstreamOutcome);
	// Room under the overall bound first (the same task and URL again costs none).
	if (!(await takeHoldRoom(env, object.config, taskId, ref, heldBytes(outcome)))) return "held-limit";
	if (isStored()) {
		await giveBackHoldRoom(env, taskId, [ref]);
		return "stored";
	}
	if (object.held.hold(ref, outcome, Date.now()) === "full") {
		await giveBackHoldRoom(env, taskId, [ref]);
		return "early-full";
	}
	// Which task this object is, for the cron's check whether the create timed out.
	object.adoption.expect(taskId);
	await object.armAlarm();
	return "held-early";
}
