/**
 * When a task object's one alarm should next run: the earliest time any of its collaborators needs
 * to run, each saying so through its own `nextRun` (or null for nothing due). Recomputed whole
 * after every change, so no collaborator's work is left without an alarm, and no other code sets it.
 */
import type { Adoption, HeldCallbacks, KeyAdoption } from "../early-callbacks";
import { earliest } from "../lib/durable-alarm";
import type { Config } from "../config/config";
import type { CallbackTally } from "./callback-tally";
import type { D1Projection } from "./d1-projection";
import type { DeliveryRunner } from "./delivery-runner";
import type { Lifecycle } from "./lifecycle";
import type { PollRunner } from "./poll-runner";
import type { TaskStore } from "./task-store";

export interface Collaborators {
	store: TaskStore;
	d1: D1Projection;
	delivery: DeliveryRunner;
	keyAdoption: KeyAdoption;
	polls: PollRunner;
	tally: CallbackTally;
	held: HeldCallbacks;
	adoption: Adoption;
	lifecycle: Lifecycle;
}

/**
 * The alarm's time (null: none), and whether setting it must be confirmed before the caller
 * answers: not when only the duplicates' fold wants it sooner (its count lives in memory, and a
 * restart loses both together).
 */
export function nextAlarm(object: Collaborators, config: Config, now: number): { at: number | null; confirmed: boolean } {
	const record = object.store.peek();
	const durable = record
		? earliest([
				object.d1.nextRun(record.version),
				object.delivery.nextRun(record.delivery, object.d1.caughtUpBy(record.version, now)),
				object.keyAdoption.nextRun(now),
				object.polls.nextRun(),
				object.lifecycle.nextRun(record, config),
			])
		: // A task never stored: its held callbacks' expiry, or at once to list a version 1 object's holds.
			earliest([object.held.expiresAt(), object.adoption.unlistedTaskId() === null ? null : now]);
	const at = earliest([durable, object.tally.nextRun()]);
	return { at, confirmed: at === durable };
}
