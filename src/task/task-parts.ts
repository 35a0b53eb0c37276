/**
 * A task object's collaborators and the steps every entry point shares: making, upgrading and
 * erasing its storage, starting the task, publishing a decision to D1, and setting its one alarm.
 * The object (./task-object.ts) is its entry points; this is what they work with.
 */
import { readConfig } from "../config/config";
import type { Outcome, TaskRecord } from "../domain/task-record";
import { Adoption, HeldCallbacks, KeyAdoption } from "../early-callbacks";
import { settleAlarm } from "../lib/durable-alarm";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import { configuredSecrets, redactOutcome } from "../security/redact";
import { CallbackTally } from "./callback-tally";
import { D1Projection, type SyncStatus } from "./d1-projection";
import { DeliveryRunner } from "./delivery-runner";
import { Lifecycle } from "./lifecycle";
import { nextAlarm } from "./next-alarm";
import { PollRunner } from "./poll-runner";
import { ObjectStorage } from "./storage-schema";
import { type NewTask, startingState } from "./task-state";
import { TaskStore } from "./task-store";

/** What a task object holds, flat: its record and its collaborators' books; or, with no task, its held callbacks. */
export interface TaskInspection {
	state: (TaskRecord & SyncStatus & { ref: string; pollLeaseUntil: number; deliveryLeaseUntil: number }) | null;
	earlyCallbacks: number;
}

export class TaskParts {
	readonly storage: ObjectStorage;
	readonly store: TaskStore;
	readonly held: HeldCallbacks;
	readonly adoption: Adoption;
	readonly keyAdoption: KeyAdoption;
	readonly d1: D1Projection;
	readonly delivery: DeliveryRunner;
	readonly polls: PollRunner;
	readonly tally = new CallbackTally();
	readonly lifecycle = new Lifecycle();

	constructor(
		private readonly ctx: DurableObjectState,
		/** Read at each use: the object's env can change under it (tests swap bindings). */
		private readonly envOf: () => Env,
	) {
		const sql = ctx.storage.sql;
		const storage = (this.storage = new ObjectStorage(ctx.storage));
		this.store = new TaskStore(sql, storage.table("task"));
		this.held = new HeldCallbacks(sql, storage.table("early_callbacks"));
		this.adoption = new Adoption(sql, storage.table("adoption"), this.held);
		this.keyAdoption = new KeyAdoption(sql, storage.table("key_adoption"));
		this.d1 = new D1Projection(sql, storage.table("d1_sync"), this.store, () => this.env.DB);
		this.delivery = new DeliveryRunner(this.store);
		this.polls = new PollRunner(sql, storage.table("poll_schedule"), this.store);
		if (this.storage.exists) this.d1.open();
	}

	get env(): Env {
		return this.envOf();
	}

	config() {
		return readConfig(this.env);
	}

	redact(outcome: Outcome): Outcome {
		return redactOutcome(outcome, configuredSecrets(this.config()));
	}

	/** Stores the task's first state, with the callbacks held for it, in one synchronous step; how many were held. */
	start(input: NewTask, event: string): number {
		const held = this.held.takeAll();
		const state = startingState(input, held);
		this.store.save(state);
		this.adoption.forget();
		logEvent("info", event, { taskId: input.taskId, status: state.record.status });
		return held.length;
	}

	/**
	 * After a decision: D1 is brought up to date, with the alarm set before that write (what the
	 * decision made due: a held result's delivery, a key to tell) and after it (a failed write's retry).
	 */
	async publish(): Promise<void> {
		await this.setNextAlarm();
		await this.d1.sync();
		await this.setNextAlarm();
	}

	/**
	 * The one place the alarm is set: to what ./next-alarm.ts decides from every collaborator. And
	 * should a D1 write have found the task archived or deleted meanwhile (this object stopped
	 * between marking it and erasing itself), the object erases itself instead.
	 */
	async setNextAlarm(): Promise<void> {
		if (this.d1.isMarked()) return this.erase();
		if (!this.storage.exists) return;
		const { at, confirmed } = nextAlarm(this, this.config(), Date.now());
		await settleAlarm(this.ctx.storage, at, { confirmed });
	}

	/** Deletes the task: D1 keeps a mark, the archive and this object nothing; "absent" when the object held no task. */
	async deleteTask(taskId: string): Promise<"deleted" | "absent"> {
		if (!this.storage.exists) return "absent";
		const record = this.store.peek();
		if (record) await this.lifecycle.delete(this.env, record);
		await this.erase();
		if (!record) return "absent";
		await this.lifecycle.deleted(this.env, taskId);
		logEvent("info", "task_deleted", { taskId });
		return "deleted";
	}

	/** Archives or deletes the task if its time has come; a failed step is retried by the alarm with backoff. */
	async endIfDue(): Promise<void> {
		const record = this.store.peek();
		const end = record && this.lifecycle.due(record, this.config(), Date.now());
		if (!record || !end) return;
		try {
			if (end === "delete") {
				await this.deleteTask(record.taskId);
				return;
			}
			if (!(await this.lifecycle.archive(this.env, record, () => this.store.version()))) return;
			await this.erase();
			logEvent("info", "task_archived", { taskId: record.taskId });
		} catch (error) {
			logEvent("error", end === "delete" ? "task_delete_failed" : "task_archive_failed", { taskId: record.taskId, error: errorMessage(error) });
		}
	}

	inspect(): TaskInspection {
		const state = this.store.load();
		const earlyCallbacks = this.storage.exists ? this.held.deliveries() : 0;
		if (!state) return { state: null, earlyCallbacks };
		const books = { ref: state.ref, pollLeaseUntil: state.pollLeaseUntil, deliveryLeaseUntil: this.delivery.leaseUntil(), ...this.d1.status() };
		// Duplicates counted, folded in or not.
		return { state: { ...state.record, callbacksReceived: state.record.callbacksReceived + this.tally.pending(), ...books }, earlyCallbacks };
	}

	/** The task is no longer live here: every table and the alarm go, and each collaborator forgets what it mirrored. */
	async erase(): Promise<void> {
		await this.storage.erase();
		for (const part of [this.store, this.keyAdoption, this.d1, this.polls, this.tally]) part.reset();
	}
}
