/**
 * Adopting a timed-out create: callbacks held by an object whose task was never stored may belong
 * to a create the upstream answered too late (504). This looks whether a timed-out create was
 * recorded for a held callback's ref, has the upstream confirm the task was made for its prompt
 * (./upstream-confirmation.ts), and binds the create's record to the task, so the object can start the
 * task from it. When to look is the held-callback budget's (./held-callback-budget.ts): the cron
 * looks, within its budget. Owns the task object's table `adoption`: which task the held callbacks
 * are for (the object's name), and whether the budget knows of them yet.
 */
import type { Config } from "../config/config";
import { type RecordedCreate, adoptRecordedCreate, findRecordedCreate } from "../db/create-records";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import { type TaskPrompt, fetchTaskPrompt } from "../upstream/kie-client";
import type { ObjectTable } from "../lib/object-table";
import type { HeldCallbacks } from "./held-callbacks";
import { ADOPTION_WINDOW_MS, confirmWithUpstream } from "./upstream-confirmation";

export type AdoptionResult = { kind: "adopted"; create: RecordedCreate; taskId: string } | { kind: "retry" } | { kind: "none" };

type AdoptionRow = { task_id: string; unlisted: number };

export class Adoption {
	constructor(
		private readonly sql: SqlStorage,
		private readonly table: ObjectTable,
		private readonly held: HeldCallbacks,
	) {}

	/** A callback for `taskId` was held (the first task id held is the object's name). */
	expect(taskId: string): void {
		this.table.ensure();
		this.sql.exec("INSERT OR IGNORE INTO adoption (id, task_id) VALUES (1, ?)", taskId);
	}

	/**
	 * The task id of callbacks a version 1 object held before the held-callback budget listed holds
	 * (so the budget does not know them yet); null when there are none.
	 */
	unlistedTaskId(): string | null {
		const row = this.row();
		return row?.unlisted ? row.task_id : null;
	}

	/** The budget lists them now. */
	listed(): void {
		if (this.table.exists) this.sql.exec("UPDATE adoption SET unlisted = 0");
	}

	/** The task id held callbacks came for (the object's name), while any are held. */
	taskId(): string | null {
		return this.row()?.task_id ?? null;
	}

	/** Past their time, held callbacks are dropped; returns the task id they were held for, if so. */
	expireHeld(now: number): string | null {
		const expiresAt = this.held.expiresAt();
		if (expiresAt === null || now < expiresAt) return null;
		const taskId = this.taskId();
		this.held.clear();
		this.forget();
		return taskId;
	}

	/** The task is stored (or its held callbacks forgotten): nothing left to look for. */
	forget(): void {
		if (this.table.exists) this.sql.exec("DELETE FROM adoption");
	}

	/**
	 * Looks for the one timed-out create the upstream confirms made this task, and binds it to the
	 * task in D1. "retry" when D1 or the upstream could not be asked (looked at again with backoff).
	 */
	async confirmAndAdopt(db: D1Database, config: Config): Promise<AdoptionResult> {
		const taskId = this.taskId();
		if (!taskId) return { kind: "none" };
		const notBefore = Date.now() - ADOPTION_WINDOW_MS;
		const confirmed: RecordedCreate[] = [];
		let trouble = false;
		// One record-info per check, however many held URLs have a create to compare it with.
		let answer: Promise<TaskPrompt> | undefined;
		const askOnce = (apiKey: string) => (answer ??= fetchTaskPrompt(config, apiKey, taskId));
		for (const ref of this.held.refs()) {
			try {
				const create = await findRecordedCreate(db, ref, notBefore);
				if (!create) continue;
				if (create.taskId !== null && create.taskId !== taskId) {
					// The create's own task has been adopted: nothing else comes from its URL.
					logEvent("warn", "adoption_refused", { taskId, reason: "the create belongs to another task" });
					this.held.forget(ref);
					continue;
				}
				const confirmation = await confirmWithUpstream(config, taskId, create, askOnce);
				if (confirmation === "confirmed") confirmed.push(create);
				else if (confirmation === "unknown") trouble = true;
				else {
					logEvent("warn", "adoption_refused", { taskId, reason: "the upstream does not confirm the task" });
					this.held.forget(ref);
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
			return { kind: "none" };
		}
		const create = confirmed[0];
		if (!create) return trouble ? { kind: "retry" } : { kind: "none" };
		try {
			if (!(await adoptRecordedCreate(db, create.ref, taskId))) return { kind: "none" };
		} catch {
			return { kind: "retry" };
		}
		return { kind: "adopted", create, taskId };
	}

	private row(): AdoptionRow | undefined {
		if (!this.table.exists) return undefined;
		return this.sql.exec<AdoptionRow>("SELECT task_id, unlisted FROM adoption WHERE id = 1").toArray()[0];
	}
}
