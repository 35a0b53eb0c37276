/**
 * Callbacks held by an object whose task was never registered may belong to a create the upstream
 * answered too late (504). After that create's deadline this looks whether one was recorded for
 * a held callback's ref, has the upstream confirm the task was made for its prompt
 * (./upstream-confirmation.ts), and claims it in D1, so the object can start the task from it.
 * Owns its table, `late_create_check`: which task the object is (its name) and when to look next.
 */
import type { Config } from "../config";
import { type UnansweredCreate, claimUnansweredCreate, findUnansweredCreate } from "../db/tasks";
import { logEvent } from "../log";
import { type Backoff, backoffMs } from "../retry";
import type { EarlyCallbacks } from "../task/early-callbacks";
import { ADOPTION_WINDOW_MS, confirmWithUpstream } from "./upstream-confirmation";

/** When D1 or the upstream could not say: 1 min doubling to 30 min, so a struggling upstream is not asked every minute. */
const CHECK_BACKOFF: Backoff = { firstMs: 60_000, maxMs: 30 * 60_000 };

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

	/** A callback for `taskId` was held: look at `checkAt` (the first task id held is the object's name; sooner looks stay). */
	expect(taskId: string, checkAt: number): void {
		this.sql.exec(
			`INSERT INTO late_create_check (id, task_id, next_check_at) VALUES (1, ?, ?)
			ON CONFLICT (id) DO UPDATE SET next_check_at = MIN(COALESCE(next_check_at, excluded.next_check_at), excluded.next_check_at)`,
			taskId,
			checkAt,
		);
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

	nextRun(): number | null {
		return this.row()?.next_check_at ?? null;
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
		for (const ref of this.early.refs()) {
			try {
				const create = await findUnansweredCreate(db, ref, notBefore);
				if (!create || (create.taskId !== null && create.taskId !== taskId)) continue;
				const confirmation = await confirmWithUpstream(config, taskId, create);
				if (confirmation === "confirmed") confirmed.push(create);
				else if (confirmation === "unknown") trouble = true;
				else {
					logEvent("warn", "adoption_refused", { taskId, reason: "the upstream does not confirm the task" });
					this.early.forget(ref);
				}
			} catch (error) {
				logEvent("error", "adoption_check_failed", { taskId, error: error instanceof Error ? error.message : String(error) });
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

	/** Schedules the next look: with backoff after trouble, none after a clear answer. */
	private settle(result: ClaimResult): ClaimResult {
		const row = this.row();
		if (!row) return result;
		if (result.kind === "retry") {
			this.sql.exec("UPDATE late_create_check SET checks = checks + 1, next_check_at = ?", Date.now() + backoffMs(row.checks + 1, CHECK_BACKOFF));
		} else {
			this.sql.exec("UPDATE late_create_check SET next_check_at = NULL");
		}
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
