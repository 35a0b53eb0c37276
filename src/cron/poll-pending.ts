/**
 * The Cron Trigger's job: ask the upstream about tasks whose callback never came.
 *
 * D1 picks the due tasks (pending past POLL_GRACE_SECONDS, their backoff elapsed, oldest first)
 * and each one's object polls and decides, through the same path as a callback. Each object call
 * is one subrequest of this invocation, so POLL_MAX_PER_TICK (default 40) keeps a tick inside the
 * Workers Free plan's 50 with room for the D1 query.
 */
import { readConfig } from "../config";
import { deleteOldUnansweredCreates, selectDueForPoll } from "../db/tasks";
import { logEvent } from "../log";
import { ADOPTION_WINDOW_MS } from "../late-create/upstream-confirmation";
import type { PollVerdict } from "../task/task-object";
import { taskObject } from "../task/stub";

/** Workers allow six simultaneous outgoing connections per invocation. */
const CONCURRENCY = 6;
/**
 * No new poll starts after this much of a tick has passed, so a tick of slow upstream answers
 * ends before the next one begins; what is left is oldest first in the next tick.
 */
const TICK_BUDGET_MS = 45_000;

export type PollTickReport = Partial<Record<PollVerdict | "error", number>> & { due: number };

export async function pollPendingTasks(env: Env, now: number = Date.now()): Promise<PollTickReport> {
	const config = readConfig(env);
	const due = await selectDueForPoll(env.DB, {
		now,
		createdBefore: now - config.pollGraceSeconds * 1000,
		limit: config.pollMaxPerTick,
	});
	const report: PollTickReport = { due: due.length };
	const stopStartingAt = Date.now() + TICK_BUDGET_MS;
	let next = 0;
	const worker = async () => {
		while (next < due.length && Date.now() < stopStartingAt) {
			const taskId = due[next++] as string;
			let verdict: PollVerdict | "error";
			try {
				verdict = await taskObject(env, taskId).poll(taskId, now);
			} catch (error) {
				verdict = "error";
				logEvent("error", "poll_error", { taskId, error: error instanceof Error ? error.message : String(error) });
			}
			report[verdict] = (report[verdict] ?? 0) + 1;
		}
	};
	await Promise.all(Array.from({ length: Math.min(CONCURRENCY, due.length) }, worker));
	// Creates never answered in time can no longer be adopted after the window: forget them.
	await deleteOldUnansweredCreates(env.DB, now - ADOPTION_WINDOW_MS).catch((error: unknown) =>
		logEvent("error", "unanswered_cleanup_failed", { error: error instanceof Error ? error.message : String(error) }),
	);
	if (due.length > 0) logEvent("info", "poll_tick", report);
	return report;
}
