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
 * One thing is not stored at once: duplicates, which CallbackTally counts and folds in within seconds.
 */
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config/config";
import { earliest, settleAlarm } from "../lib/durable-alarm";
import type { Outcome } from "../domain/task-record";
import type { ResultNote } from "../routes/shared/log-fields";
import type { CallbackTokenKind } from "../early-callbacks/hold-gate";
import { type HeldCheckVerdict, giveBackHoldRoom, settleUnadopted, tendHeldCallbacks } from "../early-callbacks/budget-room";
import { type EarlyCallbackRoom, type EarlyVerdict, holdEarlyCallback } from "../early-callbacks/hold";
import { KeyHandoff } from "../early-callbacks/key-adoption";
import { UnansweredCreateClaim } from "../early-callbacks/adoption";
import { logEvent } from "../lib/log";
import { configuredSecrets, redactOutcome } from "../security/redact";
import { D1Projection } from "./d1-projection";
import { DeliveryRunner } from "./delivery-runner";
import { EarlyCallbacks } from "../early-callbacks/held-callbacks";
import { type AskedPoll, type PollAsk, PollRunner } from "./poll-runner";
import { migrateStorage } from "./storage-schema";
import { CallbackTally } from "./callback-tally";
import { type AppliedCallback, type NewTask, type TaskState, applyCallback, callbackEffect, mayApply, pollDue, replacesOwnTimeout, startingState } from "./task-state";
import { TaskStore } from "./task-store";
import { withinBudget } from "../lib/within-budget";

export type RegisterVerdict = "registered" | "taken";
export type CallbackVerdict = AppliedCallback | EarlyVerdict;
/** What a callback did; with the result it decided, if any, for its request's log line (no task_final line then). */
export interface CallbackReceipt {
	verdict: CallbackVerdict;
	result?: ResultNote;
}
/** How long a callback's answer waits on D1; past it the recorded decision reaches D1 in the background. */
const CALLBACK_D1_BUDGET_MS = 400;

export class TaskObject extends DurableObject<Env> {
	// Each collaborator creates its table in its constructor; migrateStorage then reshapes what an
	// older version left (field initializers run right after super(), before the constructor body).
	private readonly store = new TaskStore(this.ctx.storage.sql);
	private readonly early = new EarlyCallbacks(this.ctx.storage.sql);
	private readonly d1 = new D1Projection(this.ctx.storage.sql, this.store, () => this.env.DB);
	private readonly delivery = new DeliveryRunner(this.ctx.storage.sql, this.store);
	private readonly lateCreate = new UnansweredCreateClaim(this.ctx.storage.sql, this.early);
	private readonly keyHandoff = new KeyHandoff(this.ctx.storage.sql);
	private readonly polls = new PollRunner(this.ctx.storage.sql, this.store);
	private readonly tally = new CallbackTally(() => this.foldDuplicates());

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		const { d1, delivery, lateCreate, keyHandoff } = this;
		migrateStorage(ctx.storage, { d1, delivery, lateCreate, keyHandoff });
		d1.open();
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

	/**
	 * Applies one upstream callback; the first final result wins and never changes. A duplicate is
	 * told from the task's head and only counted (CallbackTally); otherwise the state is read once
	 * and the alarm set at most once; only a result waits on D1 (within the budget).
	 */
	async receiveCallback(taskId: string, ref: string, upstreamOutcome: Outcome, token: CallbackTokenKind = "current"): Promise<CallbackReceipt> {
		const head = this.store.head();
		if (head && ref !== head.ref) return { verdict: "wrong-ref" };
		if (head && callbackEffect(head, upstreamOutcome) === "duplicate") {
			this.tally.add();
			return { verdict: "duplicate" };
		}
		const state = this.store.load() ?? (await holdEarlyCallback(this.earlyRoom(), taskId, ref, upstreamOutcome, token));
		if (typeof state === "string") return { verdict: state };
		if (ref !== state.ref) return { verdict: "wrong-ref" };
		const now = Date.now();
		// Redacted only when it may be stored; a duplicate's body is never looked at.
		const outcome = mayApply(state.record, upstreamOutcome) ? this.redact(upstreamOutcome) : upstreamOutcome;
		const replacesTimeout = replacesOwnTimeout(state.record, "callback");
		const verdict = applyCallback(state, outcome, now);
		this.store.commit(state, now);
		if (verdict !== "applied") {
			this.d1.defer(now);
			await this.setNextAlarm(state, { soonerOnly: true });
			return { verdict };
		}
		// A delivery is armed before the D1 write, so a reset during it cannot strand it. Without one,
		// the alarm is set only if D1 is still behind after the budget: the write failed (its retry)
		// or is still under way (its guard). A write that lands in time sets no alarm at all.
		if (state.record.delivery) await this.setNextAlarm(state);
		await withinBudget(this.d1.sync(), undefined, CALLBACK_D1_BUDGET_MS);
		if (!state.record.delivery && this.d1.isBehind(state.record.version)) await this.setNextAlarm(undefined, { soonerOnly: true });
		const { status, createdAt } = state.record;
		return { verdict, result: { taskStatus: status, resultMs: now - createdAt, ...(replacesTimeout ? { replacedTimeout: true } : {}) } };
	}

	/**
	 * Called by the cron for a task D1 lists as pending and due: the object polls on its own alarm
	 * at `dueAt`, so the tick hands out times and returns. `tickTime` is the tick's scheduled time:
	 * one tick judges every task's due time and age by the same clock.
	 */
	async askToPoll(taskId: string, tickTime: number, dueAt: number): Promise<PollAsk> {
		const state = this.store.load() ?? (await this.d1.restoreState(taskId));
		if (!state) return "unknown";
		// Past its deadline too a task waits out its backoff: only the upstream's answer ends it.
		const due = pollDue(state, tickTime);
		if (due !== "due") {
			// D1 listed this task as due, so D1 is behind this object: write it again (and make
			// sure a delivery decided before a reset still has its alarm).
			await this.d1.resync();
			await this.setNextAlarm(state);
			return due;
		}
		const now = Date.now();
		if (state.pollLeaseUntil > now || this.polls.asked()) return "busy";
		this.polls.ask({ dueAt, tickTime, askedAt: now });
		await this.setNextAlarm(state, { soonerOnly: true });
		return "asked";
	}

	/**
	 * Runs whatever the collaborators have due: the D1 write's retry, the key handoff, the client
	 * delivery's attempt; or, for a task never registered, the expiry of held callbacks. Safe to
	 * run any number of times: each step checks in storage whether it is still due.
	 */
	override async alarm(): Promise<void> {
		const state = this.store.load();
		if (state) {
			this.tally.foldInto(state, this.store);
			const config = readConfig(this.env);
			await this.polls.runIfDue(config, (outcome) => this.redact(outcome));
			await this.d1.sync();
			await this.keyHandoff.handOff(this.env, state.record.taskId, state.record.createdAt);
			// The record as it is now: the poll above may have decided it (and its delivery).
			const current = this.store.load() ?? state;
			if (current.record.delivery?.state === "pending" && (await this.delivery.attemptIfDue(config, this.d1.isBehind(current.record.version)))) {
				await this.d1.sync();
			}
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
		if (this.store.head() || this.early.expiresAt() === null) {
			await giveBackHoldRoom(this.env, taskId);
			return "nothing-held";
		}
		const refsBefore = this.early.refs();
		const claim = await this.lateCreate.confirmAndClaim(this.env.DB, readConfig(this.env));
		if (claim.kind !== "claimed") return settleUnadopted(this.env, taskId, refsBefore, this.early.refs(), claim.kind === "retry");
		if (!this.store.head()) {
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

	/** The tally's fold: the count committed and written to D1, whose failure leaves its retry to the alarm. */
	private async foldDuplicates(): Promise<void> {
		const state = this.store.load();
		if (!state || !this.tally.foldInto(state, this.store)) return;
		await this.d1.sync();
		if (this.d1.isBehind(state.record.version)) await this.setNextAlarm(undefined, { soonerOnly: true });
	}

	/** After a decision: D1 is brought up to date, with the alarm set before that write and after it. */
	private async publish(): Promise<void> {
		await this.setNextAlarm();
		await this.d1.sync();
		await this.setNextAlarm();
	}

	/**
	 * The one place the alarm is set: to the earliest time any collaborator needs to run, or none.
	 * `soonerOnly` after a change that can only add work (a count, an asked poll): an alarm already
	 * due sooner stays.
	 */
	private async setNextAlarm(state: TaskState | null = this.store.load(), { soonerOnly = false } = {}): Promise<void> {
		const now = Date.now();
		const version = state?.record.version ?? 0;
		const wanted = state
			? [
					this.d1.nextRun(version),
					this.delivery.nextRun(state.record.delivery, this.d1.caughtUpBy(version, now)),
					this.keyHandoff.nextRun(now),
					this.polls.nextRun(),
				]
			: [this.early.expiresAt(), this.lateCreate.unlistedTaskId() === null ? null : now];
		await settleAlarm(this.ctx.storage, earliest(wanted), { soonerOnly });
	}

	/** The object's whole state, flat, for tests and operators (duplicates counted, folded in or not). */
	inspect() {
		const state = this.store.load();
		const { ref, pollLeaseUntil } = state ?? { ref: "", pollLeaseUntil: 0 };
		const books = { ref, pollLeaseUntil, deliveryLeaseUntil: this.delivery.leaseUntil(), ...this.d1.status() };
		const callbacksReceived = (state?.record.callbacksReceived ?? 0) + this.tally.pending();
		return { state: state && { ...state.record, callbacksReceived, ...books }, earlyCallbacks: this.early.deliveries() };
	}

	/** The poll a tick asked for and this object has yet to make, if any (for tests and operators). */
	askedPoll(): AskedPoll | null {
		return this.polls.asked();
	}

	/** What holding a callback for a task not stored yet needs of this object. */
	private earlyRoom(): EarlyCallbackRoom {
		const { env, store, early, lateCreate } = this;
		const redact = (outcome: Outcome) => this.redact(outcome);
		const armAlarm = () => this.setNextAlarm(null);
		return { env, config: readConfig(env), store, early, lateCreate, redact, armAlarm, d1BudgetMs: CALLBACK_D1_BUDGET_MS };
	}

	private redact(outcome: Outcome): Outcome {
		return redactOutcome(outcome, configuredSecrets(readConfig(this.env)));
	}
}
