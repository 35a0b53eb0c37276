/**
 * What callbacks for tasks the gateway has not stored may hold, across every task object.
 *
 * Such a callback is held by its task's object until the create registers the task, or until
 * the upstream confirms it belongs to a create that timed out (./adoption.ts). Each
 * object bounds itself, but the ids are the caller's word: anyone able to mint callback URLs
 * could otherwise spread callbacks over any number of objects, each holding up to 256 KiB for a
 * day. One object counts every hold, by (taskId, ref), in count and bytes; past either bound, and
 * past a few task ids per callback URL (one create makes one task), a new hold is refused, and
 * the callback route answers 429 with Retry-After so a genuine sender tries again.
 *
 * It is also the list of held callbacks still to be checked with the upstream: the cron asks it
 * which are due and spends its POLL_MAX_PER_TICK budget on them beside its polls, so forged
 * callbacks cannot make upstream calls outside that budget.
 */
import { DurableObject } from "cloudflare:workers";
import { type Backoff, backoffMs } from "../lib/retry";

/** One create makes one task: a callback URL naming more task ids than this is being misused. */
const MAX_TASKS_PER_REF = 5;
/** A listed check is not listed again for this long, so overlapping ticks do not both make it. */
const CHECK_LEASE_MS = 2 * 60_000;
/** When D1 or the upstream could not say: 1 min doubling to 30 min, so a struggling upstream is not asked every minute. */
const RECHECK_BACKOFF: Backoff = { firstMs: 60_000, maxMs: 30 * 60_000 };

export interface HoldRequest {
	taskId: string;
	ref: string;
	/** Bytes the held outcome takes in the task object's storage. */
	bytes: number;
	/** When the task object drops the held callback unless it was claimed before. */
	expiresAt: number;
	/** When the upstream should first be asked whether the held callback's create timed out. */
	firstCheckAt: number;
}

export interface HoldLimits {
	count: number;
	bytes: number;
}

export type HoldPermit = { granted: true } | { granted: false; reason: "count" | "bytes" | "ref" };

export type CheckResult = "retry" | "done";

export class HeldCallbackBudget extends DurableObject<Env> {
	private readonly sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.sql.exec(`CREATE TABLE IF NOT EXISTS holds (
			task_id TEXT NOT NULL,
			ref TEXT NOT NULL,
			bytes INTEGER NOT NULL,
			expires_at INTEGER NOT NULL,
			next_check_at INTEGER,
			checks INTEGER NOT NULL DEFAULT 0,
			PRIMARY KEY (task_id, ref)
		)`);
		this.sql.exec("CREATE INDEX IF NOT EXISTS holds_by_ref ON holds (ref)");
		this.sql.exec("CREATE INDEX IF NOT EXISTS holds_by_check ON holds (next_check_at)");
	}

	/**
	 * Counts one more held callback, or refuses it. The same (taskId, ref) again is the same hold
	 * (a duplicate, or a final outcome replacing a non-final one): only growth counts.
	 */
	reserve(hold: HoldRequest, limits: HoldLimits, now: number = Date.now()): HoldPermit {
		this.sql.exec("DELETE FROM holds WHERE expires_at <= ?", now);
		const existing = this.sql
			.exec<{ bytes: number }>("SELECT bytes FROM holds WHERE task_id = ? AND ref = ?", hold.taskId, hold.ref)
			.toArray()[0];
		const totals = this.sql.exec<{ count: number; bytes: number }>("SELECT COUNT(*) AS count, COALESCE(SUM(bytes), 0) AS bytes FROM holds").one();
		if (existing) {
			if (hold.bytes <= existing.bytes) return { granted: true };
			if (totals.bytes - existing.bytes + hold.bytes > limits.bytes) return { granted: false, reason: "bytes" };
			this.sql.exec("UPDATE holds SET bytes = ? WHERE task_id = ? AND ref = ?", hold.bytes, hold.taskId, hold.ref);
			return { granted: true };
		}
		if (totals.count + 1 > limits.count) return { granted: false, reason: "count" };
		if (totals.bytes + hold.bytes > limits.bytes) return { granted: false, reason: "bytes" };
		const perRef = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM holds WHERE ref = ?", hold.ref).one().n;
		if (perRef >= MAX_TASKS_PER_REF) return { granted: false, reason: "ref" };
		this.sql.exec(
			"INSERT INTO holds (task_id, ref, bytes, expires_at, next_check_at) VALUES (?, ?, ?, ?, ?)",
			hold.taskId,
			hold.ref,
			hold.bytes,
			hold.expiresAt,
			hold.firstCheckAt,
		);
		return { granted: true };
	}

	/** The task's object no longer holds these refs' callbacks (all of them without `refs`). */
	release(taskId: string, refs?: string[]): void {
		if (!refs) {
			this.sql.exec("DELETE FROM holds WHERE task_id = ?", taskId);
			return;
		}
		for (const ref of refs) this.sql.exec("DELETE FROM holds WHERE task_id = ? AND ref = ?", taskId, ref);
	}

	/**
	 * Task ids whose held callbacks are due a check, soonest first; leased in the same step, so
	 * a tick that overlaps this one does not check them too.
	 */
	dueForCheck(limit: number, now: number = Date.now()): string[] {
		this.sql.exec("DELETE FROM holds WHERE expires_at <= ?", now);
		const due = this.sql
			.exec<{ task_id: string }>(
				`SELECT task_id FROM holds WHERE next_check_at IS NOT NULL AND next_check_at <= ?
				GROUP BY task_id ORDER BY MIN(next_check_at) LIMIT ?`,
				now,
				limit,
			)
			.toArray()
			.map((row) => row.task_id);
		for (const taskId of due) {
			this.sql.exec("UPDATE holds SET next_check_at = ? WHERE task_id = ? AND next_check_at IS NOT NULL", now + CHECK_LEASE_MS, taskId);
		}
		return due;
	}

	/**
	 * After a check of the task's held callbacks: "retry" when the upstream or D1 could not say
	 * (backing off), "done" when nothing is left to ask (they stay counted until released or expired).
	 */
	checked(taskId: string, result: CheckResult, now: number = Date.now()): void {
		if (result === "done") {
			this.sql.exec("UPDATE holds SET next_check_at = NULL WHERE task_id = ?", taskId);
			return;
		}
		const checks = this.sql.exec<{ n: number }>("SELECT COALESCE(MAX(checks), 0) AS n FROM holds WHERE task_id = ?", taskId).one().n;
		const next = now + backoffMs(checks + 1, RECHECK_BACKOFF);
		this.sql.exec("UPDATE holds SET checks = checks + 1, next_check_at = ? WHERE task_id = ?", next, taskId);
	}

	/** What is held now, for tests and operators. */
	usage(now: number = Date.now()): { count: number; bytes: number; tasks: number } {
		this.sql.exec("DELETE FROM holds WHERE expires_at <= ?", now);
		return this.sql
			.exec<{ count: number; bytes: number; tasks: number }>(
				"SELECT COUNT(*) AS count, COALESCE(SUM(bytes), 0) AS bytes, COUNT(DISTINCT task_id) AS tasks FROM holds",
			)
			.one();
	}
}

/** The one budget of the deployment. */
export function heldCallbackBudget(env: Env) {
	return env.HELD_CALLBACKS.getByName("global");
}
