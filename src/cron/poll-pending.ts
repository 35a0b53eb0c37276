/**
 * The Cron Trigger's job: have the upstream asked about tasks whose callback never came.
 *
 * D1 picks the due tasks (pending past POLL_GRACE_SECONDS, their backoff elapsed, oldest first,
 * at most POLL_MAX_PER_TICK) and the tick asks each one's object to poll at a time of its own,
 * spread evenly over POLL_SPREAD_SECONDS: the object polls on its alarm, an invocation of its own,
 * and decides through the same path as a callback. So the tick takes about as long as its object
 * calls (milliseconds each), whatever the upstream's latency; the upstream sees the budget's polls
 * spread over the minute rather than in one burst; and each object call is one subrequest of this
 * invocation, so the default 40 keeps a tick inside the Workers Free plan's 50 (with the two D1
 * queries), while the Paid plan's 10,000 allow a budget of several thousand.
 */
import { readConfig } from "../config";
import { deleteOldUnansweredCreates, selectDueForPoll } from "../db/tasks";
import { logEvent } from "../log";
import { ADOPTION_WINDOW_MS } from "../late-create/upstream-confirmation";
import type { PollAsk } from "../task/task-object";
import { taskObject } from "../task/stub";

/** Workers allow six simultaneous outgoing connections per invocation. */
const CONCURRENCY = 6;
/** No ask starts after this much of a tick has passed, so a tick ends before the next begins. */
const TICK_BUDGET_MS = 45_000;

export type PollTickReport = Partial<Record<PollAsk | "error", number>> & { due: number };

export async function pollPendingTasks(env: Env, now: number = Date.now()): Promise<PollTickReport> {
	const config = readConfig(env);
	const due = await selectDueForPoll(env.DB, {
		now,
		createdBefore: now - config.pollGraceSeconds * 1000,
		expiredBefore: now - config.taskMaxPendingSeconds * 1000,
		limit: config.pollMaxPerTick,
	});
	const report: PollTickReport = { due: due.length };
	// By the wall clock: the objects' alarms run on it (the tick's scheduled time may be a test's).
	const startedAt = Date.now();
	const stopAskingAt = startedAt + TICK_BUDGET_MS;
	const spacingMs = due.length > 0 ? (config.pollSpreadSeconds * 1000) / due.length : 0;
	let next = 0;
	const worker = async () => {
		while (next < due.length && Date.now() < stopAskingAt) {
			const index = next++;
			const taskId = due[index] as string;
			let answer: PollAsk | "error";
			try {
				answer = await taskObject(env, taskId).askToPoll(taskId, now, startedAt + Math.floor(index * spacingMs));
			} catch (error) {
				answer = "error";
				logEvent("error", "poll_error", { taskId, error: error instanceof Error ? error.message : String(error) });
			}
			report[answer] = (report[answer] ?? 0) + 1;
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
