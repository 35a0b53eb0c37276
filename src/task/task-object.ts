/**
 * One Durable Object per upstream task: the single place where the task's state is decided.
 *
 * Every decision (register the task, apply a callback or poll result, give up on it) is made and
 * recorded in one synchronous step on the object's SQLite storage, with no await in between, so
 * any number of concurrent deliveries see each other's effects and exactly one result is stored.
 * D1 is what readers see: after each decision the object writes its state there, and if that
 * write fails its alarm retries until D1 agrees, so a result is never decided yet invisible.
 */
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import { findTaskIdByCallbackRef, upsertTask } from "../db/tasks";
import { logEvent } from "../log";
import { configuredSecrets, redactOutcome } from "../security/redact";
import { fetchRecordInfo } from "../upstream/kie-client";
import { pollDelayMs, syncRetryDelayMs } from "./backoff";
import type { Outcome } from "./task-record";
import { type NewTask, type TaskState, finalize, newTaskState, publicRecord, timedOut } from "./task-state";

export type RegisterVerdict = "registered" | "taken";
export type CallbackVerdict = "applied" | "duplicate" | "held-early" | "early-full" | "not-final" | "wrong-ref";
export type PollVerdict = "unknown" | "final" | "not-due" | "busy" | "applied" | "still-pending" | "expired";

/** Callbacks for a task the gateway never registered are dropped after this long. */
const EARLY_CALLBACK_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * Early callbacks are held one row per callback URL (ref), with a count of deliveries: only the
 * first final outcome per ref can ever apply, so duplicates cost nothing. Distinct refs for one
 * task can only come from misdirected URLs; past this many, more are refused with a retry hint.
 */
const MAX_EARLY_REFS = 20;

export class TaskObject extends DurableObject<Env> {
	private readonly sql: SqlStorage;
	/** The D1 write under way, if any, and whether another round is wanted after it. */
	private syncing: Promise<boolean> | null = null;
	private syncRequested = false;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.sql.exec(`
			CREATE TABLE IF NOT EXISTS task (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL);
			CREATE TABLE IF NOT EXISTS early_callbacks (
				ref TEXT PRIMARY KEY,
				outcome TEXT NOT NULL,
				final INTEGER NOT NULL,
				deliveries INTEGER NOT NULL,
				received_at INTEGER NOT NULL
			);
		`);
	}

	/**
	 * Called by the create route once the upstream has named the task. Idempotent for the same
	 * create (same ref); "taken" when the upstream handed out an id an earlier task already has.
	 */
	async register(input: NewTask): Promise<RegisterVerdict> {
		const existing = this.load();
		if (existing && existing.ref !== input.ref) {
			logEvent("error", "task_id_reused_by_upstream", { taskId: input.taskId });
			return "taken";
		}
		if (!this.load()) {
			const state = newTaskState(input);
			// Callbacks that came before the create finished: apply the first final one that
			// carries this task's ref, drop the rest (they were minted for some other create).
			for (const early of this.takeEarlyCallbacks()) {
				if (early.ref !== input.ref) {
					logEvent("warn", "early_callback_dropped", { taskId: input.taskId, reason: "wrong-ref" });
					continue;
				}
				state.callbacksReceived += early.deliveries;
				if (early.outcome.final && state.status === "PENDING") {
					finalize(state, early.outcome, "callback", early.receivedAt);
				}
			}
			this.save(state);
			logEvent("info", "task_registered", { taskId: input.taskId, status: state.status });
		}
		await this.syncToD1();
		return "registered";
	}

	/** Applies one upstream callback; the first final result wins and never changes. */
	async receiveCallback(taskId: string, ref: string, outcome: Outcome): Promise<CallbackVerdict> {
		if (!this.load()) {
			// Not registered here (yet). If the ref already belongs to another stored task, this is
			// a known callback URL reused for a made-up taskId: refuse it rather than hold it.
			const owner = await findTaskIdByCallbackRef(this.env.DB, ref).catch(() => null);
			if (owner !== null && owner !== taskId) return "wrong-ref";
		}
		// Decided on the state as it is now: the task may have been registered during the lookup.
		const verdict = this.decideCallback(ref, outcome);
		if (verdict === "applied" || verdict === "duplicate" || verdict === "not-final") await this.syncToD1();
		if (verdict === "held-early") await this.scheduleAlarm(Date.now() + EARLY_CALLBACK_TTL_MS);
		return verdict;
	}

	private decideCallback(ref: string, outcome: Outcome): CallbackVerdict {
		const state = this.load();
		const now = Date.now();
		if (!state) return this.holdEarlyCallback(ref, outcome, now);
		if (ref !== state.ref) return "wrong-ref";
		state.callbacksReceived += 1;
		let verdict: CallbackVerdict;
		if (state.status !== "PENDING") verdict = "duplicate";
		else if (!outcome.final) {
			// Nothing usable yet: have the poller look soon instead of waiting out its backoff.
			state.nextPollAt = Math.min(state.nextPollAt, now);
			verdict = "not-final";
		} else {
			finalize(state, outcome, "callback", now);
			verdict = "applied";
		}
		this.commit(state, now);
		return verdict;
	}

	/**
	 * Called by the cron: asks the upstream about this task and applies the answer. `now` is the
	 * tick's scheduled time, so one tick judges every task by the same clock.
	 */
	async poll(now: number = Date.now()): Promise<PollVerdict> {
		const config = readConfig(this.env);
		const state = this.load();
		if (!state) return "unknown";
		const expired = now >= state.createdAt + config.taskMaxPendingSeconds * 1000;
		if (state.status !== "PENDING" || (now < state.nextPollAt && !expired) || state.pollLeaseUntil > now) {
			// D1 told the cron otherwise: it is behind this object, so bring it up to date.
			await this.syncToD1();
			return state.status !== "PENDING" ? "final" : state.pollLeaseUntil > now ? "busy" : "not-due";
		}
		// Lease the poll before the await: input gates do not cover fetch(), and a second cron
		// tick arriving meanwhile must not poll the same task again.
		state.pollLeaseUntil = now + config.upstreamTimeoutMs + 5000;
		this.save(state);

		const answer = config.kieApiKey
			? await fetchRecordInfo(config, config.kieApiKey, state.taskId)
			: { ok: false as const, reason: "KIE_API_KEY is not set" };
		const result = answer.ok ? { ...answer, outcome: redactOutcome(answer.outcome, configuredSecrets(this.env)) } : answer;

		const verdict = this.decidePoll(result, config.taskMaxPendingSeconds, now);
		await this.syncToD1();
		return verdict;
	}

	private decidePoll(
		result: Awaited<ReturnType<typeof fetchRecordInfo>>,
		maxPendingSeconds: number,
		now: number,
	): PollVerdict {
		const state = this.load() as TaskState;
		state.pollLeaseUntil = 0;
		if (state.status !== "PENDING") {
			// A callback won the race while we were asking; its result stands.
			this.save(state);
			return "final";
		}
		state.polls += 1;
		let verdict: PollVerdict;
		if (result.ok && result.outcome.final) {
			finalize(state, result.outcome, "poll", now);
			verdict = "applied";
		} else if (now >= state.createdAt + maxPendingSeconds * 1000) {
			finalize(state, timedOut(maxPendingSeconds), "timeout", now);
			verdict = "expired";
		} else {
			state.nextPollAt = now + pollDelayMs(state.polls);
			verdict = "still-pending";
		}
		if (!result.ok) logEvent("warn", "poll_failed", { taskId: state.taskId, reason: result.reason });
		this.commit(state, now);
		return verdict;
	}

	/** Retries the D1 write until it lands; drops callbacks for tasks never registered. */
	override async alarm(): Promise<void> {
		const state = this.load();
		if (state) {
			await this.syncToD1();
			return;
		}
		const oldest = this.sql.exec("SELECT MIN(received_at) AS at FROM early_callbacks").one().at as number | null;
		if (oldest === null) return;
		if (Date.now() >= oldest + EARLY_CALLBACK_TTL_MS) await this.ctx.storage.deleteAll();
		else await this.ctx.storage.setAlarm(oldest + EARLY_CALLBACK_TTL_MS);
	}

	/** The object's whole state, for tests and operators. */
	inspect(): { state: TaskState | null; earlyCallbacks: number } {
		const earlyCallbacks = this.sql.exec("SELECT COALESCE(SUM(deliveries), 0) AS n FROM early_callbacks").one().n as number;
		return { state: this.load(), earlyCallbacks };
	}

	/**
	 * Brings D1 up to the current state; resolves once a write covering every change made before
	 * the call has landed (true) or failed and been left to the alarm (false). Never throws.
	 *
	 * Writes are single-flight: callers arriving while one is under way share the next round, so
	 * N concurrent duplicate callbacks cost a couple of D1 writes rather than N.
	 */
	private syncToD1(): Promise<boolean> {
		this.syncRequested = true;
		this.syncing ??= this.runSyncRounds();
		return this.syncing;
	}

	private async runSyncRounds(): Promise<boolean> {
		try {
			while (this.syncRequested) {
				this.syncRequested = false;
				if (!(await this.writeToD1())) return false;
			}
			return true;
		} finally {
			// Cleared in the same step as the last check, so a caller arriving now starts a new round.
			this.syncing = null;
		}
	}

	private async writeToD1(): Promise<boolean> {
		const state = this.load();
		if (!state || state.syncedVersion >= state.version) return true;
		try {
			await upsertTask(this.env.DB, publicRecord(state), state.ref);
		} catch (error) {
			const failed = this.load() as TaskState;
			failed.syncFailures += 1;
			this.save(failed);
			logEvent("error", "d1_write_failed", {
				taskId: state.taskId,
				version: state.version,
				failures: failed.syncFailures,
				error: error instanceof Error ? error.message : String(error),
			});
			await this.scheduleAlarm(Date.now() + syncRetryDelayMs(failed.syncFailures));
			return false;
		}
		const synced = this.load() as TaskState;
		synced.syncedVersion = Math.max(synced.syncedVersion, state.version);
		synced.syncFailures = 0;
		this.save(synced);
		return true;
	}

	private async scheduleAlarm(at: number): Promise<void> {
		const current = await this.ctx.storage.getAlarm();
		if (current === null || current > at) await this.ctx.storage.setAlarm(at);
	}

	/** Holds a callback for a task not registered yet: the first final outcome per ref, counted. */
	private holdEarlyCallback(ref: string, outcome: Outcome, now: number): CallbackVerdict {
		const held = this.sql
			.exec<{ final: number }>("SELECT final FROM early_callbacks WHERE ref = ?", ref)
			.toArray()[0];
		if (held) {
			if (!held.final && outcome.final) {
				this.sql.exec(
					"UPDATE early_callbacks SET outcome = ?, final = 1, received_at = ?, deliveries = deliveries + 1 WHERE ref = ?",
					JSON.stringify(outcome),
					now,
					ref,
				);
			} else {
				this.sql.exec("UPDATE early_callbacks SET deliveries = deliveries + 1 WHERE ref = ?", ref);
			}
			return "held-early";
		}
		const refs = this.sql.exec("SELECT COUNT(*) AS n FROM early_callbacks").one().n as number;
		// Refused, not silently dropped: the sender retries, by when the task is stored.
		if (refs >= MAX_EARLY_REFS) return "early-full";
		this.sql.exec(
			"INSERT INTO early_callbacks (ref, outcome, final, deliveries, received_at) VALUES (?, ?, ?, 1, ?)",
			ref,
			JSON.stringify(outcome),
			outcome.final ? 1 : 0,
			now,
		);
		return "held-early";
	}

	private takeEarlyCallbacks(): { ref: string; outcome: Outcome; deliveries: number; receivedAt: number }[] {
		const rows = this.sql
			.exec<{ ref: string; outcome: string; deliveries: number; received_at: number }>(
				"SELECT ref, outcome, deliveries, received_at FROM early_callbacks ORDER BY received_at",
			)
			.toArray();
		this.sql.exec("DELETE FROM early_callbacks");
		return rows.map((row) => ({
			ref: row.ref,
			outcome: JSON.parse(row.outcome) as Outcome,
			deliveries: row.deliveries,
			receivedAt: row.received_at,
		}));
	}

	private load(): TaskState | null {
		const row = this.sql.exec<{ state: string }>("SELECT state FROM task WHERE id = 1").toArray()[0];
		return row ? (JSON.parse(row.state) as TaskState) : null;
	}

	private save(state: TaskState): void {
		this.sql.exec("INSERT OR REPLACE INTO task (id, state) VALUES (1, ?)", JSON.stringify(state));
	}

	/** Saves a change readers should see: a new version for D1. */
	private commit(state: TaskState, now: number): void {
		state.version += 1;
		state.updatedAt = now;
		this.save(state);
	}
}
