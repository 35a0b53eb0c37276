/**
 * The Cron Trigger's job: ask the upstream about tasks whose callback never came.
 *
 * D1 picks the due tasks (pending past POLL_GRACE_SECONDS, their backoff elapsed, oldest first)
 * and each one's object polls and decides, through the same path as a callback. The held-callback
 * budget lists callbacks held for tasks never stored whose check with the upstream is due. Each
 * object call is one subrequest of this invocation, so POLL_MAX_PER_TICK (default 40) keeps a tick
 * inside the Workers Free plan's 50 with room for the D1 query and the budget's listing.
 */
import { readConfig } from "../config";
import { deleteOldUnansweredCreates, selectDueForPoll } from "../db/tasks";
import { logEvent } from "../log";
import { ADOPTION_WINDOW_MS } from "../late-create/upstream-confirmation";
import type { HeldCheckVerdict } from "../late-create/held-callback-room";
import { heldCallbackBudget } from "../ratelimit/held-callback-budget";
import type { PollVerdict } from "../task/task-object";
import { taskObject } from "../task/stub";

/** Workers allow six simultaneous outgoing connections per invocation. */
const CONCURRENCY = 6;
/**
 * No new poll starts after this much of a tick has passed, so a tick of slow upstream answers
 * ends before the next one begins; what is left is oldest first in the next tick.
 */
const TICK_BUDGET_MS = 45_000;

export type PollTickReport = Partial<Record<PollVerdict | HeldCheckVerdict | "error", number>> & { due: number; checks: number };

/**
 * One tick: up to POLL_MAX_PER_TICK object calls, each at most one upstream record-info. Held
 * callbacks due a check (is theirs a create the upstream answered too late?) take up to half of
 * it, pending tasks the rest, so neither starves the other and forged callbacks cannot make
 * upstream calls beyond it.
 */
export async function pollPendingTasks(env: Env, now: number = Date.now()): Promise<PollTickReport> {
	const config = readConfig(env);
	const checks = await heldCallbackBudget(env)
		.dueForCheck(Math.ceil(config.pollMaxPerTick / 2), now)
		.catch((error: unknown) => {
			logEvent("error", "held_check_listing_failed", { error: error instanceof Error ? error.message : String(error) });
			return [] as string[];
		});
	const due = await selectDueForPoll(env.DB, {
		now,
		createdBefore: now - config.pollGraceSeconds * 1000,
		limit: config.pollMaxPerTick - checks.length,
	});
	const report: PollTickReport = { due: due.length, checks: checks.length };
	const jobs = interleave(
		due.map((taskId): Job => ({ taskId, run: () => taskObject(env, taskId).poll(taskId, now) })),
		checks.map((taskId): Job => ({ taskId, run: () => taskObject(env, taskId).checkHeldCallbacks(taskId) })),
	);
	const stopStartingAt = Date.now() + TICK_BUDGET_MS;
	let next = 0;
	const worker = async () => {
		while (next < jobs.length && Date.now() < stopStartingAt) {
			const job = jobs[next++] as Job;
			let verdict: PollVerdict | HeldCheckVerdict | "error";
			try {
				verdict = await job.run();
			} catch (error) {
				verdict = "error";
				logEvent("error", "poll_error", { taskId: job.taskId, error: error instanceof Error ? error.message : String(error) });
			}
			report[verdict] = (report[verdict] ?? 0) + 1;
		}
	};
	await Promise.all(Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, worker));
	// Creates never answered in time can no longer be adopted after the window: forget them.
	await deleteOldUnansweredCreates(env.DB, now - ADOPTION_WINDOW_MS).catch((error: unknown) =>
		logEvent("error", "unanswered_cleanup_failed", { error: error instanceof Error ? error.message : String(error) }),
	);
	if (jobs.length > 0) logEvent("info", "poll_tick", report);
	return report;
}

type Job = { taskId: string; run: () => Promise<PollVerdict | HeldCheckVerdict> };

/** Polls and checks taken in turn, so a tick cut short by its time budget still made some of each. */
function interleave(polls: Job[], checks: Job[]): Job[] {
	const jobs: Job[] = [];
	for (let i = 0; i < Math.max(polls.length, checks.length); i++) {
		if (polls[i]) jobs.push(polls[i] as Job);
		if (checks[i]) jobs.push(checks[i] as Job);
	}
	return jobs;
}
