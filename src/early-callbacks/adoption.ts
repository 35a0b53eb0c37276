/**
 * Callbacks held by an object whose task was never registered may belong to a create the upstream
 * answered too late (504). After that create's deadline this looks whether one was recorded for
 * a held callback's ref, has the upstream confirm the task was made for its prompt
 * (./upstream-confirmation.ts), and claims it in D1, so the object can start the task from it.
 * Owns its table, `late_create_check`: which task the object is (its name). When to look is the
 * held-callback budget's (src/ratelimit/held-callback-budget.ts): the cron looks, within its budget.
 */
import type { Config } from "../config/config";
import { type UnansweredCreate, claimUnansweredCreate, findUnansweredCreate } from "../db/tasks";
import { logEvent } from "../lib/log";
import { type TaskPrompt, fetchTaskPrompt } from "../upstream/kie-client";
import type { EarlyCallbacks } from "./held-callbacks";
import { ADOPTION_WINDOW_MS, confirmWithUpstream } from "./upstream-confirmation";
import { errorMessage } from "../lib/error-message";

export type ClaimResult = { kind: "claimed"; create: UnansweredCreate; taskId: string } | { kind: "retry" } | { kind: "none" };

export class UnansweredCreateClaim {
	constructor(
		private readonly sql: SqlStorage,
		private readonly early: EarlyCallbacks,
	) {
		sql.exec(`CREATE TABLE IF NOT EXISTS late_create_check (
			id INTEGER PRIMARY KEY CHECK (id = 1),
			task_id TEXT NOT NULL,
			checks INTEGER NOT NULL DEFAULT 0,
			next_check_at INTEGER
		)`);
	}

	/**
	 * A callback for `taskId` was held (the first task id held is the object's name). When to
	 * look is the held-callback budget's to say: the cron checks within its poll budget.
	 */
	expect(taskId: string): void {
		this.sql.exec("INSERT OR IGNORE INTO late_create_check (id, task_id) VALUES (1, ?)", taskId);
	}

	/**
	 * The task id of callbacks held before checks were the cron's (restored from the previous
	 * layout with a look still due), which the budget does not list yet; null when there are none.
	 */
	unlistedTaskId(): string | null {
		const row = this.row();
		return row && row.next_check_at !== null ? row.task_id : null;
	}

	/** The budget lists them now. */
	listed(): void {
		this.sql.exec("UPDATE late_create_check SET next_check_at = NULL");
	}

	/** An upgraded object's state, taken over as it was. */
	restore(taskId: string, checks: number, nextCheckAt: number | null): void {
		this.sql.exec(
			"INSERT OR REPLACE INTO late_create_check (id, task_id, checks, next_check_at) VALUES (1, ?, ?, ?)",
			taskId,
			checks,
			nextCheckAt,
		);
	}

	/** The task id held callbacks came for (the object's name), while any are held. */
	taskId(): string | null {
		return this.row()?.task_id ?? null;
	}

	/** Past their time, held callbacks are dropped; returns the task id they were held for, if so. */
	expireHeld(now: number): string | null {
		const expiresAt = this.early.expiresAt();
		if (expiresAt === null || now < expiresAt) return null;
		const taskId = this.taskId();
		this.early.clear();
		this.forget();
		return taskId;
	}

	/** The task is stored (or its held callbacks forgotten): nothing left to look for. */
	forget(): void {
		this.sql.exec("DELETE FROM late_create_check");
	}

	/**
	 * Looks for the one unanswered create the upstream confirms made this task, and claims it in
	 * D1. "retry" when D1 or the upstream could not be asked (looked at again with backoff).
	 */
	async confirmAndClaim(db: D1Database, config: Config): Promise<ClaimResult> {
		const taskId = this.row()?.task_id;
		if (!taskId) return { kind: "none" };
		const notBefore = Date.now() - ADOPTION_WINDOW_MS;
		const confirmed: UnansweredCreate[] = [];
		let trouble = false;
		// One record-info per check, however many held URLs have a create to compare it with.
		let answer: Promise<TaskPrompt> | undefined;
		const askOnce = (apiKey: string) => (answer ??= fetchTaskPrompt(config, apiKey, taskId));
		for (const ref of this.early.refs()) {
			try {
				const create = await findUnansweredCreate(db, ref, notBefore);
				if (!create) continue;
				if (create.taskId !== null && create.taskId !== taskId) {
					// The create's own task has been adopted: nothing else comes from its URL.
					logEvent("warn", "adoption_refused", { taskId, reason: "the create belongs to another task" });
					this.early.forget(ref);
					continue;
				}
				const confirmation = await confirmWithUpstream(config, taskId, create, askOnce);
				if (confirmation === "confirmed") confirmed.push(create);
				else if (confirmation === "unknown") trouble = true;
				else {
					logEvent("warn", "adoption_refused", { taskId, reason: "the upstream does not confirm the task" });
					this.early.forget(ref);
				}
			} catch (error) {
				logEvent("error", "adoption_check_failed", { taskId, error: errorMessage(error) });
				trouble = true;
			}
		}
		if (confirmed.length > 1) {
			// Two timed-out creates with one prompt, and callbacks through both URLs: which one made
			// this task cannot be told, so neither is bound to it.
			logEvent("warn", "adoption_refused", { taskId, reason: "more than one create matches" });
			return this.settle({ kind: "none" });
		}
		const create = confirmed[0];
		if (!create) return this.settle(trouble ? { kind: "retry" } : { kind: "none" });
		try {
			if (!(await claimUnansweredCreate(db, create.ref, taskId))) return this.settle({ kind: "none" });
		} catch {
			return this.settle({ kind: "retry" });
		}
		return { kind: "claimed", create, taskId };
	}

	/** Counts the look; the next one, with backoff after trouble, is the held-callback budget's. */
	private settle(result: ClaimResult): ClaimResult {
		this.sql.exec("UPDATE late_create_check SET checks = checks + 1");
		return result;
	}

	private row(): { task_id: string; checks: number; next_check_at: number | null } | undefined {
		return this.sql
			.exec<{ task_id: string; checks: number; next_check_at: number | null }>(
				"SELECT task_id, checks, next_check_at FROM late_create_check WHERE id = 1",
			)
			.toArray()[0];
	}
}
