/**
 * A callback for a task its object has not stored yet: the upstream may call back before the
 * create that made the task has stored it. Held for it (within the gateway's overall bound), or
 * refused; or, when the task was stored during the lookups, handed back to be applied.
 */
import type { Config } from "../config/config";
import type { Outcome } from "../domain/task-record";
import type { EarlyCallbacks } from "./held-callbacks";
import type { TaskState } from "../task/task-state";
import type { TaskStore } from "../task/task-store";
import { type CallbackTokenKind, mayHoldEarlyCallback } from "./hold-gate";
import { giveBackHoldRoom, heldBytes, takeHoldRoom } from "./budget-room";
import type { UnansweredCreateClaim } from "./adoption";

export type EarlyVerdict = "held-early" | "early-full" | "held-limit" | "wrong-ref" | "d1-unavailable";

export interface EarlyCallbackRoom {
	env: Env;
	config: Config;
	store: TaskStore;
	early: EarlyCallbacks;
	lateCreate: UnansweredCreateClaim;
	redact: (outcome: Outcome) => Outcome;
	/** Sets the object's alarm for what it now holds (the held callbacks' expiry, the late-create check). */
	armAlarm: () => Promise<void>;
	/** How long the D1 lookups may take before the callback is told to retry. */
	d1BudgetMs: number;
}

/** Holds or refuses the callback; the state when the task was stored meanwhile. */
export async function holdEarlyCallback(
	room: EarlyCallbackRoom,
	taskId: string,
	ref: string,
	upstreamOutcome: Outcome,
	token: CallbackTokenKind,
): Promise<TaskState | EarlyVerdict> {
	const { env, store } = room;
	const gate = await mayHoldEarlyCallback(env.DB, taskId, ref, token, room.d1BudgetMs);
	if (gate === "refuse") return "wrong-ref";
	// Decided on the state as it is now: the task may have been registered during the lookups.
	if (!store.head()) {
		if (gate === "d1-unavailable") return "d1-unavailable";
		const outcome = room.redact(upstreamOutcome);
		// Room under the overall bound first (the same task and URL again costs none).
		if (!(await takeHoldRoom(env, room.config, taskId, ref, heldBytes(outcome)))) return "held-limit";
		if (!store.head()) {
			if (room.early.hold(ref, outcome, Date.now()) === "held") {
				// Which task this object is, for the cron's check whether the create timed out.
				room.lateCreate.expect(taskId);
				await room.armAlarm();
				return "held-early";
			}
			await giveBackHoldRoom(env, taskId, [ref]);
			return "early-full";
		}
		await giveBackHoldRoom(env, taskId, [ref]);
	}
	return store.load() as TaskState;
}
