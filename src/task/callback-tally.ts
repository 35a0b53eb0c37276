/**
 * Deliveries of a result the task already has (duplicates), counted in memory and folded into the
 * record within COALESCE_MS, so a duplicate costs no storage write on its way to its answer: a
 * write holds the answer until it is durable, and the upstream retries a final callback several
 * times. What a duplicate changes is a counter; everything it could decide was decided by the
 * first delivery, durably. The price: should the object restart within those seconds, the
 * duplicates it had not folded yet are missing from `callbacksReceived`.
 *
 * The fold is scheduled in memory too, with a timer rather than the object's alarm: an alarm is a
 * durable reminder, and one that outlived a restart would find the count it was for gone. A
 * pending timer keeps the object in memory until it fires (compatibility date 2026-10-01 on),
 * and the alarm, should it run first for some other reason, folds whatever is counted by then.
 */
import { logEvent } from "../lib/log";
import { COALESCE_MS } from "./d1-projection";
import type { TaskState } from "./task-state";
import type { TaskStore } from "./task-store";

export class CallbackTally {
	private count = 0;
	/** Due to fold the count; null when there is nothing to fold. */
	private timer: ReturnType<typeof setTimeout> | null = null;

	/** `fold` is called within COALESCE_MS of the first duplicate counted since the last fold. */
	constructor(private readonly fold: () => Promise<void>) {}

	/** Counts one duplicate (the first since the last fold sets the fold's timer). */
	add(): void {
		this.count += 1;
		this.timer ??= setTimeout(() => void this.fold(), COALESCE_MS);
	}

	/** Duplicates not folded into the record yet. */
	pending(): number {
		return this.count;
	}

	/**
	 * Counts the duplicates in: into `state` (the stored one) and committed in the same step, as a
	 * change D1 is then owed; false when there were none. Their request lines were left out
	 * (src/http/request-log.ts): this line is theirs.
	 */
	foldInto(state: TaskState, store: TaskStore): boolean {
		const duplicates = this.count;
		if (this.timer !== null) clearTimeout(this.timer);
		this.count = 0;
		this.timer = null;
		if (duplicates === 0) return false;
		state.record.callbacksReceived += duplicates;
		store.commit(state, Date.now());
		const { taskId, callbacksReceived } = state.record;
		logEvent("info", "duplicate_callbacks", { taskId, count: duplicates, callbacksReceived });
		return true;
	}
}
