/**
 * Makes the poll a cron tick asked this task's object for, on the object's own alarm, at the time
 * the tick gave it: the tick only hands out times (spread over the minute) and returns, so however
 * slow the upstream is, neither the tick nor its subrequest budget waits on record-info. Owns its
 * table, `poll_schedule`: one asked poll at a time, taken in the same step as the poll's lease.
 */
import type { Config } from "../config/config";
import type { Outcome } from "../domain/task-record";
import { logEvent } from "../lib/log";
import { type PollResult, fetchRecordInfo } from "../upstream/kie-client";
import { type AppliedPoll, applyPoll } from "./task-state";
import type { TaskStore } from "./task-store";
import { MirroredRow } from "../lib/mirrored-row";
import type { ObjectTable } from "../lib/object-table";

/** How long past the upstream timeout a poll's lease outlives it. */
const LEASE_MARGIN_MS = 5000;

/** What a tick hears when it asks for a poll: "asked" (the object's alarm polls at the given time), or why not. */
export type PollAsk = "asked" | "busy" | "final" | "not-due" | "unknown";

export interface AskedPoll {
	/** When the poll is due (unix ms, wall clock). */
	dueAt: number;
	/** The asking tick's scheduled time: the clock the tick judged the task due by. */
	tickTime: number;
	/** Wall-clock time of the ask, so the poll can judge by the tick's clock moved on since. */
	askedAt: number;
}

type ScheduleRow = { due_at: number; tick_time: number; asked_at: number };

export class PollRunner {
	private readonly schedule: MirroredRow<ScheduleRow>;

	constructor(
		private readonly sql: SqlStorage,
		private readonly table: ObjectTable,
		private readonly store: TaskStore,
	) {
		this.schedule = new MirroredRow(() =>
			table.exists ? (sql.exec<ScheduleRow>("SELECT due_at, tick_time, asked_at FROM poll_schedule WHERE id = 1").toArray()[0] ?? null) : null,
		);
	}

	reset(): void {
		this.schedule.forget();
	}

	asked(): AskedPoll | null {
		const row = this.schedule.get();
		return row ? { dueAt: row.due_at, tickTime: row.tick_time, askedAt: row.asked_at } : null;
	}

	ask(poll: AskedPoll): void {
		this.table.ensure();
		this.sql.exec(
			"INSERT OR REPLACE INTO poll_schedule (id, due_at, tick_time, asked_at) VALUES (1, ?, ?, ?)",
			poll.dueAt,
			poll.tickTime,
			poll.askedAt,
		);
		this.schedule.wrote({ due_at: poll.dueAt, tick_time: poll.tickTime, asked_at: poll.askedAt });
	}

	/**
	 * The asked poll, if due: asks the upstream and applies (and commits) the answer, judged by the
	 * tick's clock moved on by the time since the ask. Null when none is due or a callback decided
	 * meanwhile (no upstream call then); "busy" while another poll holds the lease.
	 */
	async runIfDue(config: Config, redact: (outcome: Outcome) => Outcome): Promise<AppliedPoll | "busy" | null> {
		const now = Date.now();
		const asked = this.asked();
		if (!asked || asked.dueAt > now) return null;
		// Taken with the lease in one step, before the await: input gates do not cover fetch(), and
		// a second alarm run or a tick arriving meanwhile must not poll the same task again.
		this.sql.exec("DELETE FROM poll_schedule");
		this.schedule.wrote(null);
		const state = this.store.load();
		if (!state || state.record.status !== "PENDING") return null;
		if (state.pollLeaseUntil > now) return "busy";
		state.pollLeaseUntil = now + config.upstreamTimeoutMs + LEASE_MARGIN_MS;
		this.store.save(state);

		const answer: PollResult = config.kieApiKey
			? await fetchRecordInfo(config, config.kieApiKey, state.record.taskId)
			: { ok: false, reason: "KIE_API_KEY is not set" };
		if (!answer.ok) logEvent("warn", "poll_failed", { taskId: state.record.taskId, reason: answer.reason });
		const judgedAt = asked.tickTime + (Date.now() - asked.askedAt);
		const after = this.store.load() ?? state;
		const deadlines = { maxPendingSeconds: config.taskMaxPendingSeconds, giveUpSeconds: config.taskGiveUpSeconds };
		const verdict = applyPoll(after, answer.ok ? redact(answer.outcome) : null, deadlines, judgedAt);
		this.store.commit(after, judgedAt);
		const { taskId, polls, nextPollAt } = after.record;
		const next = verdict === "still-pending" ? { nextPollInMs: nextPollAt - judgedAt } : {};
		logEvent("info", "task_polled", { taskId, source: "poll", verdict, polls, ...next });
		return verdict;
	}

	nextRun(): number | null {
		return this.asked()?.dueAt ?? null;
	}
}
