/**
 * Registering a task the upstream has named with the task's object (the credit is spent). The
 * object may be unreachable for a moment: registration is retried with backoff, and the answer
 * waits for it only REGISTER_WAIT_MS. Past that the client gets its taskId all the same (an error
 * would have it create, and pay, again) while the same registration goes on after the answer;
 * record-info finds the task once it lands.
 */
import type { CreateOutcome } from "../domain/create-failure";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import { withRetries } from "../lib/retry";
import { withinBudget } from "../lib/within-budget";
import { taskObject } from "../task/stub";
import type { NewTask } from "../task/task-state";
import type { Background } from "./create-request";
import { taskIdTaken } from "./failures";

/** How long the create's answer waits on registering (its first tries, 100 and 200 ms apart). */
const REGISTER_WAIT_MS = 1_000;
/** 100 ms doubling to 8 s, about 13 s in all. */
const REGISTER_RETRIES = { retries: 7, backoff: { firstMs: 100, maxMs: 8_000 } };

export async function registerTask(env: Env, task: NewTask, background: Background): Promise<CreateOutcome> {
	const registering = withRetries(() => taskObject(env, task.taskId).register(task), {
		...REGISTER_RETRIES,
		gaveUp: "failed" as const,
		onError: (error, attempt) => logEvent("error", "register_failed", { taskId: task.taskId, attempt, error: errorMessage(error) }),
	});
	background(registering);
	const verdict = await withinBudget(registering, "pending" as const, REGISTER_WAIT_MS);
	if (verdict === "taken") return { ok: false, failure: taskIdTaken(task.taskId) };
	if (verdict !== "registered") logEvent("error", "task_register_deferred", { taskId: task.taskId });
	logEvent("info", "task_created", { taskId: task.taskId, ms: Date.now() - task.createdAt });
	return { ok: true, taskId: task.taskId, replayed: false };
}
