/**
 * One Durable Object per upstream task: the single place where the task's state is decided.
 *
 * Every decision (register the task, apply a callback or poll result, give up on it, end it) is
 * made and recorded in one synchronous step on the object's SQLite storage, with no await in
 * between, so any number of concurrent deliveries see each other's effects and exactly one result
 * is stored. The rest is collaborators (./task-parts.ts), each owning its table
 * (./storage-schema.ts lists them): D1Projection makes D1 (what readers see) agree with the
 * decision, DeliveryRunner sends the client's webhook, PollRunner makes the poll a cron tick asked
 * for, CallbackTally folds duplicates in, Lifecycle archives or deletes the task, and the
 * early-callbacks collaborators hold callbacks for a task not stored yet and adopt timed-out
 * creates. A task that is no longer live (archived or deleted) leaves the object with no storage.
 *
 * The alarm: each collaborator says when it next needs to run (`nextRun`), and setNextAlarm, the
 * one place the alarm is set (./next-alarm.ts decides), recomputes the earliest of them all. Entry
 * points ask for it after a change that alters what is due:
 *
 * | entry point        | arms the alarm                                                          |
 * |--------------------|-------------------------------------------------------------------------|
 * | register           | before its D1 write (what the decision made due: a held result's        |
 * |                    | delivery) and after it (a failed write's retry; the archive's time)     |
 * | receiveCallback    | a duplicate: the tally's fold; not final: D1's coalesced write; a      |
 * |                    | result: its delivery before the D1 write, and after it the archive's    |
 * |                    | time (or the write's retry); held early: the hold's expiry              |
 * | askToPoll          | the asked poll's time; for a final task, whatever is owed after resync  |
 * | checkHeldCallbacks | an adopted task's D1 write and key adoption, like register              |
 * | alarm, tend        | whatever is still due after this run (none once the task has ended)     |
 */
import { DurableObject } from "cloudflare:workers";
import { type SentOutcome, outcomeSent } from "../upstream/sent-outcome";
import { type CallbackTokenKind, type HeldCheckVerdict, type HoldingObject, giveBackHoldRoom, holdEarlyCallback } from "../early-callbacks";
import { type KeyToTell, settleUnadopted, tendHeldCallbacks } from "../early-callbacks";
import { logEvent } from "../lib/log";
import { withinBudget } from "../lib/within-budget";
import type { AskedPoll, PollAsk } from "./poll-runner";
import type { CallbackReceipt, RegisterVerdict } from "./receipts";
import { type TaskInspection, TaskParts } from "./task-parts";
import { type NewTask, applyCallback, callbackEffect, mayApply, pollDue, replacesOwnTimeout } from "./task-state";

/** How long a callback's answer waits on D1; past it the recorded decision reaches D1 in the background. */
const CALLBACK_D1_BUDGET_MS = 400;

export class TaskObject extends DurableObject<Env> {
	private readonly parts = new TaskParts(this.ctx, () => this.env);

	/**
	 * Called by the create route once the upstream has named the task, or by the cron for a task
	 * the create journal kept. Idempotent for the same create (same ref); "taken" when the upstream
	 * handed out an id an earlier task already has. `key`: an Idempotency-Key that did not hear of
	 * the task, told now and, until it hears, from the alarm.
	 */
	async register(input: NewTask, key?: KeyToTell): Promise<RegisterVerdict> {
		const { store, parts } = this.named();
		const existing = store.head();
		if (existing && existing.ref !== input.ref) {
			logEvent("error", "task_id_reused_by_upstream", { taskId: input.taskId });
			return "taken";
		}
		const held = existing ? 0 : parts.start(input, "task_registered");
		if (key) parts.keyAdoption.expect(key);
		await parts.publish();
		if (held > 0) await giveBackHoldRoom(this.env, input.taskId);
		if (key) {
			await parts.keyAdoption.tell(this.env, input.taskId, input.createdAt);
			await parts.setNextAlarm();
		}
		return "registered";
	}

	/**
	 * Applies one upstream callback; the first final result wins and never changes. A duplicate is
	 * told from the task's head and only counted (CallbackTally); only a result waits on D1 (within
	 * the budget).
	 */
	async receiveCallback(taskId: string, ref: string, sent: SentOutcome, token: CallbackTokenKind = "current"): Promise<CallbackReceipt> {
		const { store, parts } = this.named();
		const head = store.head();
		if (head && ref !== head.ref) return { verdict: "wrong-ref" };
		if (head && callbackEffect(head, sent) === "duplicate") {
			const countStart = parts.tally.add(Date.now());
			if (countStart !== null) {
				await parts.setNextAlarm();
				parts.tally.noteArmed(countStart);
			}
			return { verdict: "duplicate" };
		}
		const upstreamOutcome = outcomeSent(sent);
		if (!head) {
			const held = await holdEarlyCallback(this.holdingObject(), taskId, ref, upstreamOutcome, token);
			if (held !== "stored") return { verdict: held };
		}
		const state = store.load();
		if (!state || ref !== state.ref) return { verdict: "wrong-ref" };
		const now = Date.now();
		// Redacted only when it may be stored; a duplicate's body is never looked at.
		const outcome = mayApply(state.record, upstreamOutcome) ? parts.redact(upstreamOutcome) : upstreamOutcome;
		const replacesTimeout = replacesOwnTimeout(state.record, "callback");
		const verdict = applyCallback(state, outcome, now);
		store.commit(state, now);
		if (verdict !== "applied") {
			parts.d1.defer(now);
			await parts.setNextAlarm();
			return { verdict };
		}
		// A delivery is armed before the D1 write, so a reset during it cannot strand it. After the
		// write (or the budget) the alarm is what is due then: the archive's time, or the write's
		// retry should it have failed (or its guard while it is still under way).
		const { delivery, status, createdAt } = state.record;
		if (delivery) await parts.setNextAlarm();
		await withinBudget(parts.d1.sync(), undefined, CALLBACK_D1_BUDGET_MS);
		await parts.setNextAlarm();
		return { verdict, result: { taskStatus: status, resultMs: now - createdAt, ...(replacesTimeout ? { replacedTimeout: true } : {}) } };
	}

	/**
	 * Called by the cron for a task D1 lists as pending and due: the object polls on its own alarm
	 * at `dueAt`, so the tick hands out times and returns. `tickTime` is the tick's scheduled time:
	 * one tick judges every task's due time and age by the same clock.
	 */
	async askToPoll(taskId: string, tickTime: number, dueAt: number): Promise<PollAsk> {
		const { store, parts } = this.named();
		const state = store.load() ?? (await parts.d1.restoreState(taskId));
		if (!state) return "unknown";
		// Past its deadline too a task waits out its backoff: only the upstream's answer ends it.
		const due = pollDue(state, tickTime);
		if (due !== "due") {
			// D1 listed this task as due, so D1 is behind this object: write it again (and make
			// sure a delivery decided before a reset still has its alarm).
			await parts.d1.resync();
			await parts.setNextAlarm();
			return due;
		}
		const now = Date.now();
		if (state.pollLeaseUntil > now || parts.polls.asked()) {
			// Asked already: make sure the alarm that makes that poll is set (the object may have
			// stopped after recording the ask and before arming it).
			await parts.setNextAlarm();
			return "busy";
		}
		parts.polls.ask({ dueAt, tickTime, askedAt: now });
		await parts.setNextAlarm();
		return "asked";
	}

	/**
	 * Runs whatever the collaborators have due: the duplicates' fold, the asked poll, the D1 write,
	 * the key adoption, the client delivery's attempt, the task's archive or deletion; or, for a
	 * task never stored, the expiry of held callbacks. Safe to run any number of times: each step
	 * checks whether it is still due.
	 */
	override async alarm(): Promise<void> {
		const { store, parts } = this.named();
		if (!parts.storage.exists) return;
		const state = store.load();
		if (!state) {
			await tendHeldCallbacks(this.env, parts.adoption, parts.held);
			// Nothing held any more (expired), and no task: the object need store nothing.
			return parts.held.expiresAt() === null ? parts.erase() : parts.setNextAlarm();
		}
		parts.tally.foldInto(state, store);
		const config = parts.config();
		await parts.polls.runIfDue(config, (outcome) => parts.redact(outcome));
		await parts.d1.sync();
		await parts.keyAdoption.tell(this.env, state.record.taskId, state.record.createdAt);
		// The record as it is now: the poll above may have decided it (and its delivery).
		const current = store.peek() ?? state.record;
		if (current.delivery?.state === "pending" && (await parts.delivery.attemptIfDue(config, parts.d1.isBehind(current.version)))) {
			await parts.d1.sync();
		}
		await parts.endIfDue();
		await parts.setNextAlarm();
	}

	/** The cron's nudge for a task D1 shows overdue for its end (stored before objects archived themselves, say): the alarm's work, now. */
	async tend(taskId: string): Promise<void> {
		const { parts } = this;
		if (!parts.storage.exists) await parts.d1.restoreState(taskId);
		await this.alarm();
	}

	/**
	 * Deletes the task (DELETE, RETENTION_SECONDS, or the cron finishing a deletion): D1 keeps a
	 * mark, the archive and this object nothing. "absent" when the object held no task.
	 */
	async delete(taskId: string): Promise<"deleted" | "absent"> {
		return this.parts.deleteTask(taskId);
	}

	/**
	 * Called by the cron, within its POLL_MAX_PER_TICK, when the held-callback budget lists this
	 * task as due: held callbacks may belong to a timed-out create. If the upstream confirms it,
	 * the task is adopted from that create; callbacks it refutes are dropped.
	 */
	async checkHeldCallbacks(taskId: string): Promise<HeldCheckVerdict> {
		const { store, parts } = this.named();
		if (!parts.storage.exists || store.head() || parts.held.expiresAt() === null) {
			await giveBackHoldRoom(this.env, taskId);
			return "nothing-held";
		}
		const refsBefore = parts.held.refs();
		const adoption = await parts.adoption.confirmAndAdopt(this.env.DB, parts.config());
		if (adoption.kind !== "adopted") return settleUnadopted(this.env, taskId, refsBefore, parts.held.refs(), adoption.kind === "retry");
		if (!store.head()) {
			const { ref, prompt, callbackUrl, createdAt, idempotencyScope, owner } = adoption.create;
			parts.start({ taskId: adoption.taskId, ref, prompt, callbackUrl, createdAt, owner }, "task_adopted_from_timed_out_create");
			if (idempotencyScope) parts.keyAdoption.expect({ scope: idempotencyScope, ref });
		}
		await parts.publish();
		await giveBackHoldRoom(this.env, taskId);
		const started = store.peek();
		if (started) await parts.keyAdoption.tell(this.env, started.taskId, started.createdAt);
		await parts.setNextAlarm();
		return "adopted";
	}

	/** The object's whole state, flat, for tests and operators (duplicates counted, folded in or not). */
	inspect(): TaskInspection {
		return this.parts.inspect();
	}

	/** The poll a tick asked for and this object has yet to make, if any (for tests and operators). */
	askedPoll(): AskedPoll | null {
		return this.parts.storage.exists ? this.parts.polls.asked() : null;
	}

	/** Bytes the object stores (0 once its task has ended), for tests and the storage bench. */
	storedBytes(): number {
		return this.parts.storage.exists ? this.ctx.storage.sql.databaseSize : 0;
	}

	private named() {
		return { store: this.parts.store, parts: this.parts };
	}

	/** What holding an early callback needs of this object. */
	private holdingObject(): HoldingObject {
		const { parts } = this;
		const [isStored, armAlarm] = [() => parts.store.head() !== null, () => parts.setNextAlarm()];
		return { env: this.env, config: parts.config(), isStored, held: parts.held, adoption: parts.adoption, redact: (o) => parts.redact(o), armAlarm, d1BudgetMs: CALLBACK_D1_BUDGET_MS };
	}
}
