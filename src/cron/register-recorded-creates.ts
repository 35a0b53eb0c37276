/**
 * Registering what the create journal kept: tasks the upstream named, whose client has its taskId,
 * but whose object could not be reached while the create ran (or whose Idempotency-Key did not
 * hear of the task). Each is registered with its object, which tells the key, and the record goes.
 * Records younger than SETTLE_MS are left to the create's own background retries.
 */
import { type CreateRecord, forgetRecordedCreate, unregisteredCreates } from "../db/create-records";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import { taskObject } from "../task/stub";

/** The create's own retries take about 13 s; the cron waits a minute before it steps in. */
const SETTLE_MS = 60_000;

export interface RegisterReport {
	registered: number;
	failed: number;
}

/** Up to `budget` object calls. */
export async function registerRecordedCreates(env: Env, now: number, budget: number): Promise<RegisterReport> {
	const report: RegisterReport = { registered: 0, failed: 0 };
	const records = await unregisteredCreates(env.DB, now - SETTLE_MS, budget).catch((error: unknown) => {
		logEvent("error", "create_records_unreadable", { error: errorMessage(error) });
		return [];
	});
	for (const record of records) {
		try {
			await registerRecorded(env, record);
			report.registered++;
		} catch (error) {
			report.failed++;
			logEvent("error", "recorded_create_not_registered", { taskId: record.taskId, error: errorMessage(error) });
		}
	}
	if (records.length > 0) logEvent("info", "recorded_creates_registered", { ...report });
	return report;
}

async function registerRecorded(env: Env, record: CreateRecord & { taskId: string }): Promise<void> {
	const { taskId, ref, prompt, callbackUrl, createdAt, owner, idempotencyScope } = record;
	const key = idempotencyScope ? { scope: idempotencyScope, ref } : undefined;
	const verdict = await taskObject(env, taskId).register({ taskId, ref, prompt, callbackUrl, createdAt, owner }, key);
	if (verdict === "taken") logEvent("error", "recorded_create_task_id_taken", { taskId });
	await forgetRecordedCreate(env.DB, ref);
}
