/**
 * One create's entry in the create journal (src/db/create-records.ts): written before anything is
 * sent, so a task the upstream names is never lost, whatever fails after. Until it goes, the cron
 * can register the task and a late callback can adopt it.
 */
import { forgetRecordedCreate, nameRecordedTask, recordCreate } from "../db/create-records";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import type { CreateRequest } from "./create-request";

export class CreateJournalEntry {
	private constructor(
		private readonly db: D1Database,
		readonly ref: string,
	) {}

	/** Records the create about to be sent; a throw means it must not be sent. */
	static async open(db: D1Database, request: CreateRequest, ref: string, createdAt: number): Promise<CreateJournalEntry> {
		const { prompt, callbackUrl, owner, idempotencyKey } = request;
		await recordCreate(db, { ref, prompt, callbackUrl, createdAt, owner, idempotencyScope: idempotencyKey?.scope ?? null });
		return new CreateJournalEntry(db, ref);
	}

	/**
	 * The upstream named the task and the client is about to hear it, but the task is not settled
	 * (its object not reached yet): the entry keeps the task id for the cron. False when even that
	 * could not be written.
	 */
	async name(taskId: string): Promise<boolean> {
		try {
			await nameRecordedTask(this.db, this.ref, taskId);
			return true;
		} catch (error) {
			logEvent("error", "create_record_not_named", { taskId, error: errorMessage(error) });
			return false;
		}
	}

	/** Settled: the task is registered and its key told, or nothing was sent or made. */
	async close(): Promise<void> {
		await forgetRecordedCreate(this.db, this.ref).catch((error: unknown) =>
			// Harmless: the cron forgets it later (registering a named task again first, which changes nothing).
			logEvent("warn", "create_record_not_forgotten", { error: errorMessage(error) }),
		);
	}
}
