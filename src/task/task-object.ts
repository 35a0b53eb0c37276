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
import { type Config, readConfig } from "../config";
import {
	claimUnansweredCreate,
	findTaskIdByCallbackRef,
	findUnansweredCreate,
	getTask,
	type UnansweredCreate,
	getTaskVersion,
	upsertTask,
} from "../db/tasks";
import { IDEMPOTENCY_WINDOW_MS, idempotencyObject } from "../idempotency/idempotency-object";
import { logEvent } from "../log";
import { isFreshRef } from "../security/callback-token";
import { configuredSecrets, redactOutcome } from "../security/redact";
import { type PollResult, fetchRecordInfo } from "../upstream/kie-client";
import { type AttemptResult, type Delivery, recordAttempt } from "../webhooks/delivery";
import { sendWebhook } from "../webhooks/send";
import { webhookBody } from "../webhooks/webhook-body";
import { callbackUrlProblem, resolvedAddressProblem } from "../webhooks/target";
import { ADOPTION_WINDOW_MS, confirmWithUpstream } from "./adoption";
import { pollDelayMs, syncRetryDelayMs } from "./backoff";
import { EarlyCallbacks } from "./early-callbacks";
import type { Outcome } from "./task-record";
import { type NewTask, type TaskState, adoptStoredTask, finalize, newTaskState, publicRecord, timedOut } from "./task-state";

export type RegisterVerdict = "registered" | "taken";
export type CallbackVerdict = "applied" | "duplicate" | "held-early" | "early-full" | "not-final" | "wrong-ref";
export type PollVerdict = "unknown" | "final" | "not-due" | "busy" | "applied" | "still-pending" | "expired";

/** Callbacks for a task the gateway never registered are dropped after this long. */
const EARLY_CALLBACK_TTL_MS = 24 * 60 * 60 * 1000;
/**
 * When to look whether held callbacks belong to a create the upstream never answered: a callback
 * comes after its create was sent, so by the upstream deadline (UPSTREAM_TIMEOUT_MS) plus this
 * margin for the create's own bookkeeping, a timed-out create has been recorded.
 */
const ADOPTION_CHECK_MARGIN_MS = 5_000;
/** Next look when D1 or the upstream could not say whether held callbacks' create was made. */
const ADOPTION_RETRY_MS = 60_000;
const MAX_ADOPTION_RETRY_MS = 30 * 60_000;
const KEY_ADOPT_RETRY_MS = 10_000;
/**
 * How long a callback's answer waits on D1. The upstream wants an answer within seconds; past
 * this the decision (already recorded here) reaches D1 in the background, with the alarm behind it.
 */
const CALLBACK_D1_BUDGET_MS = 400;

export class TaskObject extends DurableObject<Env> {
	private readonly sql: SqlStorage;
	private readonly early: EarlyCallbacks;
	/** The D1 write under way, if any, and whether another round is wanted after it. */
	private syncing: Promise<void> | null = null;
	private syncRequested = false;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.sql.exec("CREATE TABLE IF NOT EXISTS task (id INTEGER PRIMARY KEY CHECK (id = 1), state TEXT NOT NULL)");
		this.early = new EarlyCallbacks(this.sql);
		// Which task this object is, while it only holds early callbacks (its name is the taskId).
		this.sql.exec(
			"CREATE TABLE IF NOT EXISTS early_identity (id INTEGER PRIMARY KEY CHECK (id = 1), task_id TEXT NOT NULL, checks INTEGER NOT NULL DEFAULT 0)",
		);
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
		if (!existing) this.start(input, "task_registered");
		await this.publish();
		return "registered";
	}

	/**
	 * Stores the task's first state, in one synchronous step. Callbacks that came before it:
	 * apply the first final one that carries this task's ref, drop the rest (they were minted for
	 * some other create).
	 */
	private start(input: NewTask, event: string): void {
		const state = newTaskState(input);
		for (const held of this.early.takeAll()) {
			if (held.ref !== input.ref) {
				logEvent("warn", "early_callback_dropped", { taskId: input.taskId, reason: "wrong-ref" });
				continue;
			}
			state.callbacksReceived += held.deliveries;
			if (held.outcome.final && state.status === "PENDING") finalize(state, held.outcome, "callback", held.receivedAt);
		}
		this.save(state);
		this.sql.exec("DELETE FROM early_identity");
		logEvent("info", event, { taskId: input.taskId, status: state.status });
	}

	/**
	 * Held callbacks may belong to a create the upstream answered too late (504): if the upstream
	 * confirms this task was made for that create's prompt, start the task from the create, so
	 * its result is stored and delivered rather than lost. "retry" when D1 or the upstream could
	 * not be asked; the alarm comes back.
	 */
	private async adoptUnansweredCreate(): Promise<"adopted" | "retry" | "none"> {
		const taskId = this.sql.exec<{ task_id: string }>("SELECT task_id FROM early_identity").toArray()[0]?.task_id;
		if (!taskId) return "none";
		const notBefore = Date.now() - ADOPTION_WINDOW_MS;
		const confirmed: UnansweredCreate[] = [];
		let trouble = false;
		for (const ref of this.early.refs()) {
			try {
				const create = await findUnansweredCreate(this.env.DB, ref, notBefore);
				if (!create || (create.taskId !== null && create.taskId !== taskId)) continue;
				const confirmation = await confirmWithUpstream(readConfig(this.env), taskId, create);
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
			return "none";
		}
		const create = confirmed[0];
		if (!create) return trouble ? "retry" : "none";
		try {
			if (!(await claimUnansweredCreate(this.env.DB, create.ref, taskId))) return "none";
		} catch {
			return "retry";
		}
		if (!this.load()) {
			const { ref, prompt, callbackUrl, createdAt, owner } = create;
			this.start({ taskId, ref, prompt, callbackUrl, createdAt, owner }, "task_adopted_unanswered_create");
			const state = this.load() as TaskState;
			if (create.idempotencyScope) state.keyToAdopt = { scope: create.idempotencyScope, ref };
			this.save(state);
		}
		return "adopted";
	}

	/** Tells the adopted create's Idempotency-Key its task, so a retry with the key replays it; retried by the alarm. */
	private async adoptIdempotencyKey(): Promise<void> {
		const pending = this.load()?.keyToAdopt;
		if (!pending) return;
		try {
			await idempotencyObject(this.env, pending.scope).adopt(pending.ref, (this.load() as TaskState).taskId);
			const state = this.load() as TaskState;
			state.keyToAdopt = null;
			this.save(state);
		} catch (error) {
			logEvent("error", "idempotency_adopt_failed", { error: error instanceof Error ? error.message : String(error) });
			// Pointless once the key's own window is over.
			const state = this.load() as TaskState;
			if (Date.now() < state.createdAt + IDEMPOTENCY_WINDOW_MS) await this.scheduleAlarm(Date.now() + KEY_ADOPT_RETRY_MS);
			else {
				state.keyToAdopt = null;
				this.save(state);
			}
		}
	}

	/** Applies one upstream callback; the first final result wins and never changes. */
	async receiveCallback(taskId: string, ref: string, upstreamOutcome: Outcome): Promise<CallbackVerdict> {
		const outcome = this.redact(upstreamOutcome);
		if (!this.load()) {
			// Not registered here (yet). A URL whose ref already belongs to another stored task is
			// being reused for a made-up taskId, and one whose create is long over may only hold
			// callbacks if that create was never answered (then the alarm checks with the upstream
			// before adopting): refuse the rest rather than hold them.
			const fresh = isFreshRef(ref);
			const notBefore = Date.now() - ADOPTION_WINDOW_MS;
			const [owner, unanswered] = await withinBudget(
				Promise.all([
					findTaskIdByCallbackRef(this.env.DB, ref),
					fresh ? Promise.resolve(null) : findUnansweredCreate(this.env.DB, ref, notBefore),
				]),
				[null, null] as const,
			);
			if (owner !== null && owner !== taskId) return "wrong-ref";
			if (!fresh && (unanswered === null || (unanswered.taskId !== null && unanswered.taskId !== taskId))) {
				return "wrong-ref";
			}
		}
		// Decided on the state as it is now: the task may have been registered during the lookup.
		const verdict = this.decideCallback(ref, outcome);
		if (verdict === "held-early") {
			// Remembered for the alarm, which may adopt the task once its create has timed out.
			this.sql.exec("INSERT OR IGNORE INTO early_identity (id, task_id) VALUES (1, ?)", taskId);
			await this.scheduleAlarm(Date.now() + readConfig(this.env).upstreamTimeoutMs + ADOPTION_CHECK_MARGIN_MS);
		}
		if (verdict === "applied" || verdict === "duplicate" || verdict === "not-final") {
			// Armed before the D1 write: if the object is reset during it, the alarm still delivers.
			await this.armDeliveryAlarm();
			const landed = await withinBudget(this.syncToD1().then(() => true), false);
			// Still under way: if that write is lost, the alarm makes D1 agree.
			if (!landed) await this.scheduleAlarm(Date.now() + syncRetryDelayMs(1));
			else await this.armDeliveryAlarm();
		}
		return verdict;
	}

	private decideCallback(ref: string, outcome: Outcome): CallbackVerdict {
		const state = this.load();
		const now = Date.now();
		if (!state) return this.early.hold(ref, outcome, now) === "held" ? "held-early" : "early-full";
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
	 * Called by the cron for a task D1 lists as pending and due: asks the upstream about it and
	 * applies the answer. `tickTime` is the tick's scheduled time, so one tick judges every task's
	 * due time and age by the same clock; the lease uses the real clock, as it guards real time.
	 */
	async poll(taskId: string, tickTime: number = Date.now()): Promise<PollVerdict> {
		const config = readConfig(this.env);
		const state = this.load() ?? (await this.adoptFromD1(taskId));
		if (!state) return "unknown";
		const expired = tickTime >= state.createdAt + config.taskMaxPendingSeconds * 1000;
		if (state.status !== "PENDING" || (tickTime < state.nextPollAt && !expired)) {
			// D1 listed this task as due, so D1 is behind this object: write it again (and make
			// sure a delivery decided before a reset still has its alarm).
			await this.resyncD1();
			await this.armDeliveryAlarm();
			return state.status !== "PENDING" ? "final" : "not-due";
		}
		const wallClock = Date.now();
		if (state.pollLeaseUntil > wallClock) return "busy";
		// Lease the poll before the await: input gates do not cover fetch(), and a second cron
		// tick arriving meanwhile must not poll the same task again.
		state.pollLeaseUntil = wallClock + config.upstreamTimeoutMs + 5000;
		this.save(state);

		const answer: PollResult = config.kieApiKey
			? await fetchRecordInfo(config, config.kieApiKey, state.taskId)
			: { ok: false, reason: "KIE_API_KEY is not set" };
		const result = answer.ok ? { ...answer, outcome: this.redact(answer.outcome) } : answer;

		const verdict = this.decidePoll(result, config.taskMaxPendingSeconds, tickTime);
		await this.publish();
		return verdict;
	}

	private decidePoll(result: PollResult, maxPendingSeconds: number, now: number): PollVerdict {
		const state = this.load() as TaskState;
		state.pollLeaseUntil = 0;
		state.polls += 1;
		if (!result.ok) logEvent("warn", "poll_failed", { taskId: state.taskId, reason: result.reason });
		let verdict: PollVerdict;
		if (state.status !== "PENDING") {
			// A callback won the race while we were asking; its result stands, the poll is counted.
			verdict = "final";
		} else if (result.ok && result.outcome.final) {
			finalize(state, result.outcome, "poll", now);
			verdict = "applied";
		} else if (now >= state.createdAt + maxPendingSeconds * 1000) {
			finalize(state, timedOut(maxPendingSeconds), "timeout", now);
			verdict = "expired";
		} else {
			state.nextPollAt = now + pollDelayMs(state.polls);
			verdict = "still-pending";
		}
		this.commit(state, now);
		logEvent("info", "task_polled", {
			taskId: state.taskId,
			source: "poll",
			verdict,
			polls: state.polls,
			...(verdict === "still-pending" ? { nextPollInMs: state.nextPollAt - now } : {}),
		});
		return verdict;
	}

	/**
	 * Retries the D1 write until it lands, makes the client webhook delivery's due attempt, and
	 * forgets callbacks held for a task that was never registered. Safe to run any number of
	 * times: each step checks in storage whether it is still due.
	 */
	override async alarm(): Promise<void> {
		if (this.load()) {
			await this.syncToD1();
			await this.adoptIdempotencyKey();
			await this.attemptDeliveryIfDue();
			await this.armDeliveryAlarm();
			return;
		}
		const oldest = this.early.oldestReceivedAt();
		if (oldest === null) return;
		// The create these callbacks belong to may have timed out meanwhile: adopt its task.
		const adoption = await this.adoptUnansweredCreate();
		if (adoption === "adopted") {
			await this.publish();
			await this.adoptIdempotencyKey();
			return;
		}
		if (adoption === "retry" && Date.now() < oldest + EARLY_CALLBACK_TTL_MS) {
			// Backing off (1 min doubling to 30 min): a struggling upstream is not asked every minute.
			const checks = this.sql.exec<{ checks: number }>("SELECT checks FROM early_identity").toArray()[0]?.checks ?? 0;
			this.sql.exec("UPDATE early_identity SET checks = checks + 1");
			await this.scheduleAlarm(Date.now() + Math.min(ADOPTION_RETRY_MS * 2 ** checks, MAX_ADOPTION_RETRY_MS));
			return;
		}
		if (Date.now() >= oldest + EARLY_CALLBACK_TTL_MS) {
			this.early.clear();
			this.sql.exec("DELETE FROM early_identity");
		} else {
			await this.ctx.storage.setAlarm(oldest + EARLY_CALLBACK_TTL_MS);
		}
	}

	/**
	 * One attempt of the delivery to the client's callBackUrl, if one is due. Waits until D1 holds
	 * the final result (its write failing schedules its own retry), so a client reacting to the
	 * webhook can always read the task. The lease is taken before the fetch, as for polls.
	 */
	private async attemptDeliveryIfDue(): Promise<void> {
		const config = readConfig(this.env);
		const now = Date.now();
		const state = this.load();
		const delivery = state?.delivery;
		if (!state || !delivery || delivery.state !== "pending" || !state.callbackUrl) return;
		if ((delivery.nextAttemptAt ?? now) > now || state.deliveryLeaseUntil > now) return;
		if (state.syncedVersion < state.version) return;
		state.deliveryLeaseUntil = now + config.webhookTimeoutMs + 5000;
		this.save(state);

		const result = await this.sendDelivery(state, config);

		const after = this.load() as TaskState;
		const finished = Date.now();
		after.deliveryLeaseUntil = 0;
		if (after.delivery) recordAttempt(after.delivery, result, finished, config.webhookRetryDelaysMs);
		this.commit(after, finished);
		logEvent(result.ok ? "info" : "warn", "webhook_attempt", {
			taskId: after.taskId,
			attempt: after.delivery?.attempts,
			status: result.status,
			delivery: after.delivery?.state,
			...(result.ok ? {} : { error: result.error }),
		});
		await this.syncToD1();
	}

	private async sendDelivery(state: TaskState, config: Config): Promise<AttemptResult> {
		const url = state.callbackUrl as string;
		// Checked again at send time: the operator may have turned private URLs off since the
		// create (no retry can change that), or the name may point elsewhere now (it may point
		// back later: retried as usual).
		const refused = callbackUrlProblem(url, config.allowPrivateCallbackUrls);
		if (refused) return { ok: false, status: null, error: refused, permanent: true };
		const resolvedInside = await resolvedAddressProblem(url, config);
		if (resolvedInside) return { ok: false, status: null, error: resolvedInside };
		if (!config.webhookSigningKey) return { ok: false, status: null, error: "WEBHOOK_SIGNING_KEY is not set" };
		return sendWebhook({
			url,
			webhookId: (state.delivery as Delivery).webhookId,
			taskId: state.taskId,
			body: JSON.stringify(webhookBody(publicRecord(state))),
			signingKey: config.webhookSigningKey,
			timeoutMs: config.webhookTimeoutMs,
		});
	}

	/**
	 * After a decision: D1 is brought up to date, and the delivery alarm armed before that write
	 * (so a reset during it cannot strand a delivery) and again after it (once D1 agrees, a due
	 * attempt may run at once).
	 */
	private async publish(): Promise<void> {
		await this.armDeliveryAlarm();
		await this.syncToD1();
		await this.armDeliveryAlarm();
	}

	/**
	 * Wakes the object when the pending delivery's next attempt can run (sooner alarms stay): not
	 * before its due time, not while another attempt holds the lease, and while D1 lags behind
	 * not before the D1 write's own retry would, so a waiting delivery never spins the alarm.
	 */
	private async armDeliveryAlarm(): Promise<void> {
		const state = this.load();
		const delivery = state?.delivery;
		if (!state || delivery?.state !== "pending" || delivery.nextAttemptAt === null) return;
		const d1Behind = state.syncedVersion < state.version;
		const at = Math.max(
			delivery.nextAttemptAt,
			state.deliveryLeaseUntil,
			d1Behind ? Date.now() + syncRetryDelayMs(Math.max(1, state.syncFailures)) : 0,
		);
		await this.scheduleAlarm(at);
	}

	/** The object's whole state, for tests and operators. */
	inspect(): { state: TaskState | null; earlyCallbacks: number } {
		return { state: this.load(), earlyCallbacks: this.early.deliveries() };
	}

	/**
	 * This object lost its storage but D1 still has the task (restored from a backup, say): take
	 * D1's row as the state, so the task can still finish instead of being listed as due forever.
	 */
	private async adoptFromD1(taskId: string): Promise<TaskState | null> {
		const stored = await getTask(this.env.DB, taskId);
		if (!stored || this.load()) return this.load();
		const state = adoptStoredTask(stored);
		this.save(state);
		logEvent("warn", "task_adopted_from_d1", { taskId });
		return state;
	}

	private redact(outcome: Outcome): Outcome {
		return redactOutcome(outcome, configuredSecrets(this.env));
	}

	/**
	 * Brings D1 up to the current state; resolves once a write covering every change made before
	 * the call has landed, or has failed and been left to the alarm. Never throws.
	 *
	 * Writes are single-flight: callers arriving while one is under way share the next round, so
	 * N concurrent duplicate callbacks cost a couple of D1 writes rather than N.
	 */
	private syncToD1(): Promise<void> {
		this.syncRequested = true;
		this.syncing ??= this.runSyncRounds();
		return this.syncing;
	}

	/** Writes even if this object believes D1 is current: it has just seen that it is not. */
	private resyncD1(): Promise<void> {
		const state = this.load() as TaskState;
		state.syncedVersion = 0;
		this.save(state);
		return this.syncToD1();
	}

	private async runSyncRounds(): Promise<void> {
		try {
			while (this.syncRequested) {
				this.syncRequested = false;
				if (!(await this.writeToD1())) return;
			}
		} finally {
			// Cleared in the same step as the last check, so a caller arriving now starts a new round.
			this.syncing = null;
		}
	}

	/** One D1 write of the current state; false when it failed (and the alarm will retry). */
	private async writeToD1(): Promise<boolean> {
		const state = this.load();
		if (!state || state.syncedVersion >= state.version) return true;
		try {
			if (!(await upsertTask(this.env.DB, publicRecord(state), state.ref))) {
				await this.overtakeD1Version(state.taskId);
				return true;
			}
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

	/**
	 * The version guard kept D1's row: D1 holds a version this object never wrote (restored
	 * storage, a manual edit). This object decides, so it moves past that version and writes again.
	 */
	private async overtakeD1Version(taskId: string): Promise<void> {
		const stored = await getTaskVersion(this.env.DB, taskId);
		const state = this.load() as TaskState;
		if (stored === null || stored < state.version) return; // a newer write of ours landed meanwhile
		logEvent("warn", "d1_version_overtaken", { taskId, d1Version: stored, version: state.version });
		state.version = stored + 1;
		this.save(state);
		this.syncRequested = true;
	}

	/** Sets the alarm to `at` unless one is due sooner. Storage calls hold other events back meanwhile. */
	private async scheduleAlarm(at: number): Promise<void> {
		const current = await this.ctx.storage.getAlarm();
		if (current === null || current > at) await this.ctx.storage.setAlarm(at);
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

/** `work`'s result if it settles within CALLBACK_D1_BUDGET_MS, else (or on failure) `fallback`. */
async function withinBudget<T>(work: Promise<T>, fallback: T): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | null = null;
	const late = new Promise<T>((resolve) => {
		timer = setTimeout(() => resolve(fallback), CALLBACK_D1_BUDGET_MS);
	});
	try {
		return await Promise.race([work.catch(() => fallback), late]);
	} finally {
		clearTimeout(timer);
	}
}
