/**
 * The Cron Trigger's tick, every minute: the jobs no request starts, in order.
 *   1. Recover results whose callback never came (./recover-overdue-results.ts): polls of overdue
 *      tasks and checks of held callbacks, within POLL_MAX_PER_TICK object calls.
 *   2. The lifecycle's share (./lifecycle.ts): tasks overdue for their archive or retention, deletions
 *      to finish, RETENTION_SECONDS over archived tasks, marks 720 hours old; with the object calls
 *      the polls left of POLL_MAX_PER_TICK.
 *   3. Forget timed-out creates past the adoption window: no callback can adopt them any more.
 */
import { deleteOldTimedOutCreates } from "../db/timed-out-creates";
import { ADOPTION_WINDOW_MS } from "../early-callbacks";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import { readConfig } from "../config/config";
import { type LifecycleReport, runLifecycle } from "./lifecycle";
import { type PollTickReport, recoverOverdueResults } from "./recover-overdue-results";

export async function runTick(env: Env, now: number = Date.now()): Promise<PollTickReport & { lifecycle: LifecycleReport }> {
	const config = readConfig(env);
	const report = await recoverOverdueResults(env, now);
	const lifecycle = await runLifecycle(env, config, now, Math.max(0, config.pollMaxPerTick - report.due - report.checks));
	await deleteOldTimedOutCreates(env.DB, now - ADOPTION_WINDOW_MS).catch((error: unknown) =>
		logEvent("error", "timed_out_cleanup_failed", { error: errorMessage(error) }),
	);
	return { ...report, lifecycle };
}
