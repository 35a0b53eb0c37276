/**
 * One Durable Object per upstream task: the single place where the task's state is decided.
 *
 * Every decision (register the task, apply a callback or poll result, give up on it) is made and
 * recorded in one synchronous step on the object's SQLite storage, with no await in between, so
 * any number of concurrent deliveries see each other's effects and exactly one result is stored.
 * The rest is collaborators, each owning its table: D1Projection makes D1 (what readers see)
 * agree with the decision, DeliveryRunner sends the client's webhook, UnansweredCreateClaim and
 * KeyHandoff take over a create the upstream answered too late. Each says when it next needs to
 * run, and setNextAlarm, at the end of every entry point, sets the one alarm to the earliest.
 */
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config";
import { settleAlarm } from "../durable-alarm";
import type { Outcome } from "../domain/task-record";
import { mayHoldEarlyCallback } from "../late-create/early-callback-gate";
import { type HeldCheckVerdict, giveBackHoldRoom, heldBytes, settleUnadopted, takeHoldRoom, tendHeldCallbacks } from "../late-create/held-callback-room";
import { KeyHandoff } from "../late-create/key-handoff";
import { UnansweredCreateClaim } from "../late-create/unanswered-create-claim";
import { logEvent } from "../log";
import { configuredSecrets, redactOutcome } from "../security/redact";
import { type PollResult, fetchRecordInfo } from "../upstream/kie-client";
import { D1Projection } from "./d1-projection";
import { DeliveryRunner } from "./delivery-runner";
import { EarlyCallbacks } from "./early-callbacks";
import { migrateStorage } from "./storage-schema";
import { type AppliedCallback, type AppliedPoll, type NewTask, type TaskState, applyCallback, applyPoll, startingState } from "./task-state";
import { TaskStore } from "./task-store";
import { withinBudget } from "./within-budget";

export type RegisterVerdict = "registered" | "taken";
export type CallbackVerdict = AppliedCallback | "held-early" | "early-full" | "held-limit" | "wrong-ref" | "d1-unavailable";
export type PollVerdict = AppliedPoll | "unknown" | "not-due" | "busy";
/**
 * How long a callback's answer waits on D1. The upstream wants an answer within seconds; past
 * this the decision (already recorded here) reaches D1 in the background, with the alarm behind it.
 */
const CALLBACK_D1_BUDGET_MS = 400;

export class TaskObject extends DurableObject<Env> {
	private readonly store: TaskStore;
	private readonly early: EarlyCallbacks;
	private readonly d1: D1Projection;
	private readonly delivery: DeliveryRunner;
	private readonly lateCreate: UnansweredCreateClaim;
	private readonly keyHandoff: KeyHandoff;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		const sql = ctx.storage.sql;
		this.store = new TaskStore(sql);
		this.early = new EarlyCallbacks(sql);
		this.d1 = new D1Projection(sql, this.store, () => this.env.DB);
		this.delivery = new DeliveryRunner(sql, this.store);
		this.lateCreate = new UnansweredCreateClaim(sql, this.early);
		this.keyHandoff = new KeyHandoff(sql);
		const { d1, delivery, lateCreate, keyHandoff } = this;
		migrateStorage(ctx.storage, { d1, delivery, lateCreate, keyHandoff });
	}

	/**
	 * Called by the create route once the upstream has named the task. Idempotent for the same
	 * create (same ref); "taken" when the upstream handed out an id an earlier task already has.
	 */
	async register(input: NewTask): Promise<RegisterVerdict> {
		const existing = this.store.load();
		if (existing && existing.ref !== input.ref) {
			logEvent("error", "task_id_reused_by_upstream", { taskId: input.taskId });
			return "taken";
		}
		const held = existing ? 0 : this.start(input, "task_registered");
		await this.publish();
		if (held > 0) await giveBackHoldRoom(this.env, input.taskId);
		return "registered";
	}

	/** Stores the task's first state, with the callbacks held for it, in one synchronous step; how many were held. */
	private start(input: NewTask, event: string): number {
		const held = this.early.takeAll();
		const state = startingState(input, held);
		this.store.save(state);
		this.lateCreate.forget();
		logEvent("info", event, { taskId: input.taskId, status: state.record.status });
		return held.length;
	}

	/** Applies one upstream callback; the first final result wins and never changes. */
	async receiveCallback(taskId: string, ref: string, upstreamOutcome: Outcome, token: "current" | "legacy" = "current"): Promise<CallbackVerdict> {
		const outcome = this.redact(upstreamOutcome);
		let roomTaken = false;
		if (!this.store.load()) {
			const gate = await mayHoldEarlyCallback(this.env.DB, taskId, ref, token, CALLBACK_D1_BUDGET_MS);
			if (gate === "refuse") return "wrong-ref";
			if (gate === "d1-unavailable" && !this.store.load()) return "d1-unavailable";
			// Room under the overall bound first (the same task and URL again costs none).
			roomTaken = !this.store.load();
			if (roomTaken && !(await takeHoldRoom(this.env, readConfig(this.env), taskId, ref, heldBytes(outcome)))) return "held-limit";
		}
		// Decided on the state as it is now: the task may have been registered during the lookups.
		const verdict = this.decideCallback(ref, outcome);
		// Which task this object is, for the cron's check whether the create timed out.
		if (verdict === "held-early") this.lateCreate.expect(taskId);
		else if (roomTaken) await giveBackHoldRoom(this.env, taskId, [ref]);
		if (verdict === "applied" || verdict === "duplicate" || verdict === "not-final") {
			// Armed before the D1 write: if the object is reset during it, the alarm still delivers.
			await this.setNextAlarm();
			const synced = this.d1.sync();
			// Still under way past the budget: the write's own guard is in the alarm, and once it
			// lands the alarm is set again (a delivery may be due at once).
			if (!(await withinBudget(synced.then(() => true), false, CALLBACK_D1_BUDGET_MS))) void synced.then(() => this.setNextAlarm());
		}
		await this.setNextAlarm();
		return verdict;
	}

	private decideCallback(ref: string, outcome: Outcome): CallbackVerdict {
		const state = this.store.load();
		const now = Date.now();
		if (!state) return this.early.hold(ref, outcome, now) === "held" ? "held-early" : "early-full";
		if (ref !== state.ref) return "wrong-ref";
		const verdict = applyCallback(state, outcome, now);
		this.store.commit(state, now);
		return verdict;
	}

	/**
	 * Called by the cron for a task D1 lists as pending and due: asks the upstream about it and
	 * applies the answer. `tickTime` is the tick's scheduled time, so one tick judges every task's
	 * due time and age by the same clock; the lease uses the real clock, as it guards real time.
	 */
	async poll(taskId: string, tickTime: number = Date.now()): Promise<PollVerdict> {
		const config = readConfig(this.env);
		const state = this.store.load() ?? (await this.d1.restoreState(taskId));
		if (!state) return "unknown";
		// Past its deadline too a task waits out its backoff: only the upstream's answer ends it.
		if (state.record.status !== "PENDING" || tickTime < state.record.nextPollAt) {
			// D1 listed this task as due, so D1 is behind this object: write it again (and make
			// sure a delivery decided before a reset still has its alarm).
			await this.d1.resync();
			await this.setNextAlarm();
			return state.record.status !== "PENDING" ? "final" : "not-due";
		}
		const wallClock = Date.now();
		if (state.pollLeaseUntil > wallClock) return "busy";
		// Lease the poll before the await: input gates do not cover fetch(), and a second cron
		// tick arriving meanwhile must not poll the same task again.
		state.pollLeaseUntil = wallClock + config.upstreamTimeoutMs + 5000;
		this.store.save(state);

		const answer: PollResult = config.kieApiKey
			? await fetchRecordInfo(config, config.kieApiKey, state.record.taskId)
			: { ok: false, reason: "KIE_API_KEY is not set" };
		const result = answer.ok ? { ...answer, outcome: this.redact(answer.outcome) } : answer;

		const verdict = this.decidePoll(this.store.load() ?? state, result, config.taskMaxPendingSeconds, tickTime);
		await this.publish();
		return verdict;
	}

	private decidePoll(state: TaskState, result: PollResult, maxPendingSeconds: number, now: number): PollVerdict {
		if (!result.ok) logEvent("warn", "poll_failed", { taskId: state.record.taskId, reason: result.reason });
		const verdict = applyPoll(state, result.ok ? result.outcome : null, maxPendingSeconds, now);
		this.store.commit(state, now);
		const { taskId, polls, nextPollAt } = state.record;
		const next = verdict === "still-pending" ? { nextPollInMs: nextPollAt - now } : {};
		logEvent("info", "task_polled", { taskId, source: "poll", verdict, polls, ...next });
		return verdict;
	}

	/**
	 * Runs whatever the collaborators have due: the D1 write's retry, the key handoff, the client
	 * delivery's attempt; or, for a task never registered, the expiry of held callbacks. Safe to
	 * run any number of times: each step checks in storage whether it is still due.
	 */
	override async alarm(): Promise<void> {
		const state = this.store.load();
		if (state) {
			await this.d1.sync();
			await this.keyHandoff.handOff(this.env, state.record.taskId, state.record.createdAt);
			const config = readConfig(this.env);
			if (await this.delivery.attemptIfDue(config, this.d1.isBehind(state.record.version))) await this.d1.sync();
		} else {
			await tendHeldCallbacks(this.env, this.lateCreate, this.early);
		}
		await this.setNextAlarm();
	}

	/**
	 * Called by the cron, within its POLL_MAX_PER_TICK, when the held-callback budget lists this
	 * task as due: held callbacks may belong to a create the upstream answered too late. If the
	 * upstream confirms it, the task is started from that create; callbacks it refutes are dropped.
	 */
	async checkHeldCallbacks(taskId: string): Promise<HeldCheckVerdict> {
		if (this.store.load() || this.early.expiresAt() === null) {
			await giveBackHoldRoom(this.env, taskId);
			return "nothing-held";
		}
		const refsBefore = this.early.refs();
		const claim = await this.lateCreate.confirmAndClaim(this.env.DB, readConfig(this.env));
		if (claim.kind !== "claimed") return settleUnadopted(this.env, taskId, refsBefore, this.early.refs(), claim.kind === "retry");
		if (!this.store.load()) {
			const { ref, prompt, callbackUrl, createdAt, idempotencyScope, owner } = claim.create;
			this.start({ taskId: claim.taskId, ref, prompt, callbackUrl, createdAt, owner }, "task_adopted_unanswered_create");
			if (idempotencyScope) this.keyHandoff.set({ scope: idempotencyScope, ref });
		}
		await this.publish();
		await giveBackHoldRoom(this.env, taskId);
		const started = this.store.load();
		if (started) await this.keyHandoff.handOff(this.env, started.record.taskId, started.record.createdAt);
		await this.setNextAlarm();
		return "adopted";
	}

	/** After a decision: D1 is brought up to date, with the alarm set before that write and after it. */
	private async publish(): Promise<void> {
		await this.setNextAlarm();
		await this.d1.sync();
		await this.setNextAlarm();
	}

	/** The one place the alarm is set: to the earliest time any collaborator needs to run, or none. */
	private async setNextAlarm(): Promise<void> {
		const now = Date.now();
		const state = this.store.load();
		const wanted = state
			? [
					this.d1.nextRun(),
					this.delivery.nextRun(state.record.delivery, this.d1.caughtUpBy(now)),
					this.keyHandoff.nextRun(now),
				]
			: [this.early.expiresAt(), this.lateCreate.unlistedTaskId() === null ? null : now];
		await settleAlarm(this.ctx.storage, earliest(wanted));
	}

	/** The object's whole state, flat, for tests and operators. */
	inspect() {
		const state = this.store.load();
		const { ref, pollLeaseUntil } = state ?? { ref: "", pollLeaseUntil: 0 };
		const books = { ref, pollLeaseUntil, deliveryLeaseUntil: this.delivery.leaseUntil(), ...this.d1.status() };
		return { state: state && { ...state.record, ...books }, earlyCallbacks: this.early.deliveries() };
	}

	private redact(outcome: Outcome): Outcome {
		return redactOutcome(outcome, configuredSecrets(readConfig(this.env)));
	}
}

function earliest(times: (number | null)[]): number | null {
	return times.reduce<number | null>((soonest, at) => (at === null || (soonest !== null && soonest <= at) ? soonest : at), null);
}
