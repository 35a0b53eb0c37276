/**
 * Recovering results whose callback never came: have the upstream asked about them, within one
 * tick's budget of object calls.
 *
 * D1 picks the due tasks (pending past POLL_GRACE_SECONDS, their backoff elapsed, oldest first)
 * and the tick asks each one's object to poll at a time of its own, spread evenly over
 * POLL_SPREAD_SECONDS: the object polls on its alarm, an invocation of its own, and decides
 * through the same path as a callback. So the tick takes about as long as its object calls
 * (milliseconds each), whatever the upstream's latency, and the upstream sees the budget's polls
 * spread over the minute rather than in one burst. The held-callback budget lists callbacks held
 * for tasks never stored whose check with the upstream is due; those checks run in the tick. Each
 * object call is one subrequest of this invocation, so POLL_MAX_PER_TICK (default 40) keeps a tick
 * inside the Workers Free plan's 50 with room for the D1 query and the budget's listing, while the
 * Paid plan's 10,000 allow a budget of several thousand.
 */
import { readConfig } from "../config/config";
import { selectDueForPoll } from "../db/tasks";
import { logEvent } from "../lib/log";
import { type HeldCheckVerdict, heldCallbackBudget } from "../early-callbacks";
import type { PollAsk } from "../task/poll-runner";
import { taskObject } from "../task/stub";
import { errorMessage } from "../lib/error-message";

/** Workers allow six simultaneous outgoing connections per invocation. */
const CONCURRENCY = 6;
/** No ask starts after this much of a tick has passed, so a tick ends before the next begins. */
const TICK_BUDGET_MS = 45_000;

export type PollTickReport = Partial<Record<PollAsk | HeldCheckVerdict | "error", number>> & { due: number; checks: number };

/**
 * One tick: up to `budget` object calls (POLL_MAX_PER_TICK unless told), each at most one upstream record-info. Held
 * callbacks due a check (is theirs a create the upstream answered too late?) take up to half of
 * it, pending tasks the rest, so neither starves the other and forged callbacks cannot make
 * upstream calls beyond it.
 */
export async function recoverOverdueResults(env: Env, now: number = Date.now(), budget?: number): Promise<PollTickReport> {
	const config = readConfig(env);
	const calls = budget ?? config.pollMaxPerTick;
	const checks = await heldCallbackBudget(env)
		.dueForCheck(Math.ceil(calls / 2), now)
		.catch((error: unknown) => {
			logEvent("error", "held_check_listing_failed", { error: errorMessage(error) });
			return [] as string[];
		});
	const due = await selectDueForPoll(env.DB, {
		now,
		createdBefore: now - config.pollGraceSeconds * 1000,
		limit: calls - checks.length,
	});
	const report: PollTickReport = { due: due.length, checks: checks.length };
	// Polls by the wall clock: the objects' alarms run on it (the tick's scheduled time may be a test's).
	const startedAt = Date.now();
	const spacingMs = due.length > 0 ? (config.pollSpreadSeconds * 1000) / due.length : 0;
	const jobs = interleave(
		due.map((taskId, index): Job => ({
			taskId,
			run: () => taskObject(env, taskId).askToPoll(taskId, now, startedAt + Math.floor(index * spacingMs)),
		})),
		checks.map((taskId): Job => ({ taskId, run: () => taskObject(env, taskId).checkHeldCallbacks(taskId) })),
	);
	const stopStartingAt = startedAt + TICK_BUDGET_MS;
	let next = 0;
	const worker = async () => {
		while (next < jobs.length && Date.now() < stopStartingAt) {
			const job = jobs[next++] as Job;
			let answer: PollAsk | HeldCheckVerdict | "error";
			try {
				answer = await job.run();
			} catch (error) {
				answer = "error";
				logEvent("error", "poll_error", { taskId: job.taskId, error: errorMessage(error) });
			}
			report[answer] = (report[answer] ?? 0) + 1;
		}
	};
	await Promise.all(Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, worker));
	if (jobs.length > 0) logEvent("info", "poll_tick", report);
	return report;
}

type Job = { taskId: string; run: () => Promise<PollAsk | HeldCheckVerdict> };

/** Polls and checks taken in turn, so a tick cut short by its time budget still made some of each. */
function interleave(polls: Job[], checks: Job[]): Job[] {
	const jobs: Job[] = [];
	for (let i = 0; i < Math.max(polls.length, checks.length); i++) {
		if (polls[i]) jobs.push(polls[i] as Job);
		if (checks[i]) jobs.push(checks[i] as Job);
	}
	return jobs;
}
