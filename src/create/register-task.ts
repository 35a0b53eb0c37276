/**
 * Registering a task the upstream has named with the task's object (the credit is spent). The
 * object may be unreachable for a moment: registration is retried with backoff, and the answer
 * waits for it only REGISTER_WAIT_MS. Past that the client gets its taskId all the same (an error
 * would have it create, and pay, again), but only once the create journal holds the task's id: the
 * same registration goes on after the answer and, should it never land, the cron registers the
 * task from the journal (src/cron/register-recorded-creates.ts). record-info finds the task once
 * it lands; nothing is abandoned.
 */
import type { CreateOutcome } from "../domain/create-failure";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import { withRetries } from "../lib/retry";
import { withinBudget } from "../lib/within-budget";
import { taskObject } from "../task/stub";
import type { NewTask } from "../task/task-state";
import type { CreateJournalEntry } from "./create-journal";
import type { Background } from "./create-request";
import { taskIdTaken } from "./failures";

/** How long the create's answer waits on registering (its first tries, 100 and 200 ms apart). */
const REGISTER_WAIT_MS = 1_000;
/** 100 ms doubling to 8 s, about 13 s in all. */
const REGISTER_RETRIES = { retries: 7, backoff: { firstMs: 100, maxMs: 8_000 } };

/** The create's journal entry, and its Idempotency-Key if that could not learn the task (its object tells it). */
export interface Journalled {
	entry: CreateJournalEntry;
	/** The key's object and the create's ref, as the task object takes them. */
	keyToTell?: { scope: string; ref: string };
}

export async function registerTask(env: Env, task: NewTask, { entry, keyToTell }: Journalled, background: Background): Promise<CreateOutcome> {
	const registering = withRetries(() => taskObject(env, task.taskId).register(task, keyToTell), {
		...REGISTER_RETRIES,
		gaveUp: "failed" as const,
		onError: (error, attempt) => logEvent("error", "register_failed", { taskId: task.taskId, attempt, error: errorMessage(error) }),
	});
	const verdict = await withinBudget(registering, "pending" as const, REGISTER_WAIT_MS);
	if (verdict === "taken") {
		background(entry.close());
		return { ok: false, failure: taskIdTaken(task.taskId) };
	}
	if (verdict === "registered") background(entry.close());
	else {
		logEvent("error", "task_register_deferred", { taskId: task.taskId });
		// Not registered yet: the journal keeps the task's id before the client hears it, or, should
		// even that fail, the answer waits for the registration's last try.
		if (!(await entry.name(task.taskId))) await registering;
		background(
			registering.then(async (final) => {
				if (final === "failed") logEvent("error", "task_register_left_to_cron", { taskId: task.taskId });
				else await entry.close();
			}),
		);
	}
	logEvent("info", "task_created", { taskId: task.taskId, ms: Date.now() - task.createdAt });
	return { ok: true, taskId: task.taskId, replayed: false };
}
