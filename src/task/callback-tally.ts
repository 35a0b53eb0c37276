/**
 * Deliveries of a result the task already has (duplicates), counted in memory and folded into the
 * record by the object's alarm within COALESCE_MS, so a duplicate costs no storage write on its
 * way to its answer: a write holds the answer until it is durable, and the upstream retries a
 * final callback several times. What a duplicate changes is a counter; everything it could
 * decide was decided by the first delivery, durably. The price: should the object restart within
 * those seconds, the duplicates it had not folded yet are missing from `callbacksReceived`.
 */
import { logEvent } from "../log";
import { COALESCE_MS } from "./d1-projection";
import type { TaskState } from "./task-state";
import type { TaskStore } from "./task-store";

export class CallbackTally {
	private count = 0;
	/** When the oldest unfolded duplicate came; null when there is none. */
	private since: number | null = null;

	/** Counts one duplicate; true when it is the first since the last fold (the alarm must then be armed). */
	add(now: number): boolean {
		this.count += 1;
		if (this.since !== null) return false;
		this.since = now;
		return true;
	}

	/** Duplicates not folded into the record yet. */
	pending(): number {
		return this.count;
	}

	/** When the alarm must fold them; null when there is nothing to fold. */
	nextRun(): number | null {
		return this.since === null ? null : this.since + COALESCE_MS;
	}

	/** Hands over the count and starts again from zero (in the same step as the commit it goes into). */
	private take(): number {
		const count = this.count;
		this.count = 0;
		this.since = null;
		return count;
	}

	/**
	 * Counts the duplicates in: into `state` (the stored one) and committed in the same step, as a
	 * change D1 is then owed. Their request lines were left out (src/http/request-log.ts): this
	 * line is theirs.
	 */
	foldInto(state: TaskState, store: TaskStore): void {
		const duplicates = this.take();
		if (duplicates === 0) return;
		state.record.callbacksReceived += duplicates;
		store.commit(state, Date.now());
		const { taskId, callbacksReceived } = state.record;
		logEvent("info", "duplicate_callbacks", { taskId, count: duplicates, callbacksReceived });
	}
}
