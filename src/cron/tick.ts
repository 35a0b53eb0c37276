/**
 * The Cron Trigger's tick, every minute: the jobs no request starts, in order.
 *   0. Register the tasks the create journal kept because their object could not be reached
 *      (./register-recorded-creates.ts): up to a quarter of POLL_MAX_PER_TICK object calls.
 *   1. Recover results whose callback never came (./recover-overdue-results.ts): polls of overdue
 *      tasks and checks of held callbacks, within POLL_MAX_PER_TICK object calls.
 *   2. The lifecycle's share (./lifecycle.ts): tasks overdue for their archive or retention, deletions
 *      to finish, RETENTION_SECONDS over archived tasks, marks 720 hours old; with the object calls
 *      the polls left of POLL_MAX_PER_TICK.
 *   3. Forget journalled creates past the adoption window that nothing needs: no callback can adopt them any more.
 */
import { deleteOldCreateRecords } from "../db/create-records";
import { ADOPTION_WINDOW_MS } from "../early-callbacks";
import { errorMessage } from "../lib/error-message";
import { logEvent } from "../lib/log";
import { readConfig } from "../config/config";
import { type LifecycleReport, runLifecycle } from "./lifecycle";
import { type PollTickReport, recoverOverdueResults } from "./recover-overdue-results";
import { type RegisterReport, registerRecordedCreates } from "./register-recorded-creates";

export type TickReport = PollTickReport & { lifecycle: LifecycleReport; journal: RegisterReport };

export async function runTick(env: Env, now: number = Date.now()): Promise<TickReport> {
	const config = readConfig(env);
	const journal = await registerRecordedCreates(env, now, Math.ceil(config.pollMaxPerTick / 4));
	const left = config.pollMaxPerTick - journal.registered - journal.failed;
	const report = await recoverOverdueResults(env, now, left);
	const lifecycle = await runLifecycle(env, config, now, Math.max(0, left - report.due - report.checks));
	await deleteOldCreateRecords(env.DB, now - ADOPTION_WINDOW_MS).catch((error: unknown) =>
		logEvent("error", "create_records_cleanup_failed", { error: errorMessage(error) }),
	);
	return { ...report, lifecycle, journal };
}
