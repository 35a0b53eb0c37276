/**
 * Deliveries of a result the task already has (duplicates), counted in memory and folded into the
 * record by the object's alarm within COALESCE_MS of the first one, so a duplicate costs no write
 * of the record on its way to its answer: the upstream retries a final callback several times,
 * and all a duplicate changes is a counter (everything it could decide, the first delivery
 * decided, durably). The price: should the object restart before the fold, the duplicates it had
 * counted are missing from `callbacksReceived`. The alarm set for the fold is the object's one
 * alarm (its time recomputed from every collaborator's), so nothing else keeps the object awake.
 */
import { logEvent } from "../lib/log";
import { COALESCE_MS } from "./d1-books";
import type { TaskState } from "./task-state";
import type { TaskStore } from "./task-store";

export class CallbackTally {
	private count = 0;
	/** When the first duplicate not folded yet was counted; null when there is none. */
	private since: number | null = null;
	/** Whether the alarm for this count's fold is known to be set (the next duplicates need not ask again). */
	private armed = false;

	/** Forgets what was counted (the task is no longer live: nothing of it is counted any more). */
	reset(): void {
		this.count = 0;
		this.since = null;
		this.armed = false;
	}

	/**
	 * Counts one duplicate. Returns the count's start when the object's alarm must be recomputed
	 * for it, null when it is set already: only the count's first duplicate moves its fold's time
	 * (later ones share it), so the upstream's burst of retries costs one alarm check, not one per
	 * delivery; until that check has succeeded, every duplicate asks, so a failed one is retried
	 * by the next.
	 */
	add(now: number): number | null {
		this.count += 1;
		this.since ??= now;
		return this.armed ? null : this.since;
	}

	/** The alarm now covers the fold of the count that started at `since` (a later count is left to arm its own). */
	noteArmed(since: number): void {
		if (this.since === since) this.armed = true;
	}

	/** Duplicates not folded into the record yet. */
	pending(): number {
		return this.count;
	}

	/** When the count is due to be folded in; null when there is nothing to fold. */
	nextRun(): number | null {
		return this.since === null ? null : this.since + COALESCE_MS;
	}

	/**
	 * Counts the duplicates in: into `state` (the stored one) and committed in the same step, as a
	 * change D1 is then owed; false when there were none. Their request lines were left out
	 * (src/routes/http/request-log.ts): this line is theirs.
	 */
	foldInto(state: TaskState, store: TaskStore): boolean {
		const duplicates = this.count;
		this.reset();
		if (duplicates === 0) return false;
		state.record.callbacksReceived += duplicates;
		store.commit(state, Date.now());
		const { taskId, callbacksReceived } = state.record;
		logEvent("info", "duplicate_callbacks", { taskId, count: duplicates, callbacksReceived });
		return true;
	}
}
