/**
 * One Durable Object per upstream task: the single place where the task's state is decided.
 *
 * Every decision (register the task, apply a callback or poll result, give up on it) is made and
 * recorded in one synchronous step on the object's SQLite storage, with no await in between, so
 * any number of concurrent deliveries see each other's effects and exactly one result is stored.
 * The rest is collaborators, each owning its table (./storage-schema.ts lists them): D1Projection
 * makes D1 (what readers see) agree with the decision, DeliveryRunner sends the client's webhook,
 * PollRunner makes the poll a cron tick asked for, CallbackTally folds duplicates in, and the
 * early-callbacks collaborators hold callbacks for a task not stored yet and adopt timed-out creates.
 *
 * The alarm: each collaborator says when it next needs to run (`nextRun`), and setNextAlarm(), the
 * one place the alarm is set, recomputes the earliest of them all. Entry points call it after a
 * change that alters what is due:
 *
 * | entry point        | arms the alarm                                                          |
 * |--------------------|-------------------------------------------------------------------------|
 * | register           | before its D1 write (what the decision made due: a held result's        |
 * |                    | delivery) and after it (a failed write's retry)                         |
 * | receiveCallback    | a duplicate: the tally's fold; not final: D1's coalesced write; a      |
 * |                    | result: its delivery before the D1 write, else only if D1 is still      |
 * |                    | behind after the callback's budget; held early: the hold's expiry       |
 * | askToPoll          | the asked poll's time; for a final task, whatever is owed after resync  |
 * | checkHeldCallbacks | an adopted task's D1 write and key adoption, like register              |
 * | alarm              | whatever is still due after this run                                    |
 */
import { DurableObject } from "cloudflare:workers";
import { readConfig } from "../config/config";
import type { Outcome } from "../domain/task-record";
import { Adoption, type CallbackTokenKind, HeldCallbacks, type HeldCheckVerdict, type HoldingObject, KeyAdoption } from "../early-callbacks";
import { giveBackHoldRoom, holdEarlyCallback, settleUnadopted, tendHeldCallbacks } from "../early-callbacks";
import { settleAlarm } from "../lib/durable-alarm";
import { logEvent } from "../lib/log";
import { withinBudget } from "../lib/within-budget";
import { configuredSecrets, redactOutcome } from "../security/redact";
import { CallbackTally } from "./callback-tally";
import { D1Projection } from "./d1-projection";
import { DeliveryRunner } from "./delivery-runner";
import { type AskedPoll, type PollAsk, PollRunner } from "./poll-runner";
import { type Collaborators, nextAlarm } from "./next-alarm";
import { openStorage } from "./storage-schema";
import type { CallbackReceipt, RegisterVerdict } from "./receipts";
import { type NewTask, applyCallback, callbackEffect, mayApply, pollDue, replacesOwnTimeout, startingState } from "./task-state";
import { TaskStore } from "./task-store";

/** How long a callback's answer waits on D1; past it the recorded decision reaches D1 in the background. */
const CALLBACK_D1_BUDGET_MS = 400;

export class TaskObject extends DurableObject<Env> {
	// Collaborators only keep handles here; the storage they use is made (or upgraded) in the constructor.
	private readonly store = new TaskStore(this.ctx.storage.sql);
	private readonly held = new HeldCallbacks(this.ctx.storage.sql);
	private readonly adoption = new Adoption(this.ctx.storage.sql, this.held);
	private readonly keyAdoption = new KeyAdoption(this.ctx.storage.sql);
	private readonly d1 = new D1Projection(this.ctx.storage.sql, this.store, () => this.env.DB);
	private readonly delivery = new DeliveryRunner(this.ctx.storage.sql, this.store);
	private readonly polls = new PollRunner(this.ctx.storage.sql, this.store);
	private readonly tally = new CallbackTally();
	/** Everything that says when it next needs to run (./next-alarm.ts). */
	private readonly collaborators: Collaborators = { store: this.store, d1: this.d1, delivery: this.delivery, keyAdoption: this.keyAdoption, polls: this.polls, tally: this.tally, held: this.held, adoption: this.adoption };

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		openStorage(ctx.storage);
		this.d1.open();
	}

	/**
	 * Called by the create route once the upstream has named the task. Idempotent for the same
	 * create (same ref); "taken" when the upstream handed out an id an earlier task already has.
	 */
	async register(input: NewTask): Promise<RegisterVerdict> {
		const existing = this.store.head();
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
		const held = this.held.takeAll();
		const state = startingState(input, held);
		this.store.save(state);
		this.adoption.forget();
		logEvent("info", event, { taskId: input.taskId, status: state.record.status });
		return held.length;
	}

	/**
	 * Applies one upstream callback; the first final result wins and never changes. A duplicate is
	 * told from the task's head and only counted (CallbackTally); only a result waits on D1 (within
	 * the budget).
	 */
	async receiveCallback(taskId: string, ref: string, upstreamOutcome: Outcome, token: CallbackTokenKind = "current"): Promise<CallbackReceipt> {
		const head = this.store.head();
		if (head && ref !== head.ref) return { verdict: "wrong-ref" };
		if (head && callbackEffect(head, upstreamOutcome) === "duplicate") {
			this.tally.add(Date.now());
			await this.setNextAlarm();
			return { verdict: "duplicate" };
		}
		if (!head) {
			const held = await holdEarlyCallback(this.holdingObject(), taskId, ref, upstreamOutcome, token);
			if (held !== "stored") return { verdict: held };
		}
		const state = this.store.load();
		if (!state || ref !== state.ref) return { verdict: "wrong-ref" };
		const now = Date.now();
		// Redacted only when it may be stored; a duplicate's body is never looked at.
		const outcome = mayApply(state.record, upstreamOutcome) ? this.redact(upstreamOutcome) : upstreamOutcome;
		const replacesTimeout = replacesOwnTimeout(state.record, "callback");
		const verdict = applyCallback(state, outcome, now);
		this.store.commit(state, now);
		if (verdict !== "applied") {
			this.d1.defer(now);
			await this.setNextAlarm();
			return { verdict };
		}
		// A delivery is armed before the D1 write, so a reset during it cannot strand it. Without one,
		// the alarm is set only if D1 is still behind after the budget: the write failed (its retry)
		// or is still under way (its guard). A write that lands in time sets no alarm at all.
		const { delivery, version, status, createdAt } = state.record;
		if (delivery) await this.setNextAlarm();
		await withinBudget(this.d1.sync(), undefined, CALLBACK_D1_BUDGET_MS);
		if (!delivery && this.d1.isBehind(version)) await this.setNextAlarm();
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
			await this.setNextAlarm();
			return due;
		}
		const now = Date.now();
		if (state.pollLeaseUntil > now || this.polls.asked()) return "busy";
		this.polls.ask({ dueAt, tickTime, askedAt: now });
		await this.setNextAlarm();
		return "asked";
	}

	/**
	 * Runs whatever the collaborators have due: the duplicates' fold, the asked poll, the D1 write,
	 * the key adoption, the client delivery's attempt; or, for a task never stored, the expiry of
	 * held callbacks. Safe to run any number of times: each step checks whether it is still due.
	 */
	override async alarm(): Promise<void> {
		const state = this.store.load();
		if (state) {
			this.tally.foldInto(state, this.store);
			const config = readConfig(this.env);
			await this.polls.runIfDue(config, (outcome) => this.redact(outcome));
			await this.d1.sync();
			await this.keyAdoption.tell(this.env, state.record.taskId, state.record.createdAt);
			// The record as it is now: the poll above may have decided it (and its delivery).
			const current = this.store.peek() ?? state.record;
			if (current.delivery?.state === "pending" && (await this.delivery.attemptIfDue(config, this.d1.isBehind(current.version)))) {
				await this.d1.sync();
			}
		} else {
			await tendHeldCallbacks(this.env, this.adoption, this.held);
		}
		await this.setNextAlarm();
	}

	/**
	 * Called by the cron, within its POLL_MAX_PER_TICK, when the held-callback budget lists this
	 * task as due: held callbacks may belong to a timed-out create. If the upstream confirms it,
	 * the task is adopted from that create; callbacks it refutes are dropped.
	 */
	async checkHeldCallbacks(taskId: string): Promise<HeldCheckVerdict> {
		if (this.store.head() || this.held.expiresAt() === null) {
			await giveBackHoldRoom(this.env, taskId);
			return "nothing-held";
		}
		const refsBefore = this.held.refs();
		const adoption = await this.adoption.confirmAndAdopt(this.env.DB, readConfig(this.env));
		if (adoption.kind !== "adopted") return settleUnadopted(this.env, taskId, refsBefore, this.held.refs(), adoption.kind === "retry");
		if (!this.store.head()) {
			const { ref, prompt, callbackUrl, createdAt, idempotencyScope, owner } = adoption.create;
			this.start({ taskId: adoption.taskId, ref, prompt, callbackUrl, createdAt, owner }, "task_adopted_from_timed_out_create");
			if (idempotencyScope) this.keyAdoption.expect({ scope: idempotencyScope, ref });
		}
		await this.publish();
		await giveBackHoldRoom(this.env, taskId);
		const started = this.store.peek();
		if (started) await this.keyAdoption.tell(this.env, started.taskId, started.createdAt);
		await this.setNextAlarm();
		return "adopted";
	}

	/**
	 * After a decision: D1 is brought up to date, with the alarm set before that write (what the
	 * decision made due: a held result's delivery, a key to tell) and after it (a failed write's retry).
	 */
	private async publish(): Promise<void> {
		await this.setNextAlarm();
		await this.d1.sync();
		await this.setNextAlarm();
	}

	/** The one place the alarm is set: to what ./next-alarm.ts decides from every collaborator. */
	private async setNextAlarm(): Promise<void> {
		const { at, confirmed } = nextAlarm(this.collaborators, Date.now());
		await settleAlarm(this.ctx.storage, at, { confirmed });
	}

	/** The object's whole state, flat, for tests and operators (duplicates counted, folded in or not). */
	inspect() {
		const state = this.store.load();
		const { ref, pollLeaseUntil } = state ?? { ref: "", pollLeaseUntil: 0 };
		const books = { ref, pollLeaseUntil, deliveryLeaseUntil: this.delivery.leaseUntil(), ...this.d1.status() };
		const callbacksReceived = (state?.record.callbacksReceived ?? 0) + this.tally.pending();
		return { state: state && { ...state.record, callbacksReceived, ...books }, earlyCallbacks: this.held.deliveries() };
	}

	/** The poll a tick asked for and this object has yet to make, if any (for tests and operators). */
	askedPoll(): AskedPoll | null {
		return this.polls.asked();
	}

	/** What holding an early callback needs of this object. */
	private holdingObject(): HoldingObject {
		const { env, held, adoption } = this;
		const [isStored, redact, armAlarm] = [() => this.store.head() !== null, (o: Outcome) => this.redact(o), () => this.setNextAlarm()];
		return { env, config: readConfig(env), isStored, held, adoption, redact, armAlarm, d1BudgetMs: CALLBACK_D1_BUDGET_MS };
	}

	private redact(outcome: Outcome): Outcome {
		return redactOutcome(outcome, configuredSecrets(readConfig(this.env)));
	}
}
