/**
 * The Cron Trigger's tick, every minute: the jobs no request starts, in order.
 *   1. Recover results whose callback never came (./recover-overdue-results.ts): polls of overdue
 *      tasks and checks of held callbacks, within POLL_MAX_PER_TICK object calls.
 *   2. Forget timed-out creates past the adoption window: no callback can adopt them any more.
 */
import { deleteOldTimedOutCreates } from "../db/timed-out-creates";
import { ADOPTION_WINDOW_MS } from "../early-callbacks";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import { type PollTickReport, recoverOverdueResults } from "./recover-overdue-results";

export async function runTick(env: Env, now: number = Date.now()): Promise<PollTickReport> {
	const report = await recoverOverdueResults(env, now);
	await deleteOldTimedOutCreates(env.DB, now - ADOPTION_WINDOW_MS).catch((error: unknown) =>
		logEvent("error", "timed_out_cleanup_failed", { error: errorMessage(error) }),
	);
	return report;
}
