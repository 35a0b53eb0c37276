/**
 * The stats stay fast at a million tasks because no statement reads the whole table: each is a
 * range search on created_at over the window's tasks, answered from an index (covering where it
 * counts every task of the window). These are SQLite's own query plans for them, with rows stored.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { STATS_STATEMENTS } from "../../src/db/stats";
import { storeTask } from "./stats-fixtures";

const COVERING_RANGE = "SEARCH tasks USING COVERING INDEX tasks_results_by_created (created_at>?)";
const TIME_ORDER_WALK = "SCAN tasks USING COVERING INDEX tasks_by_time_to_result";

const EXPECTED_PLANS: Record<keyof typeof STATS_STATEMENTS, string[]> = {
	// Counts by clock hour, tenant, status, source and delivery state: the index alone, already in
	// the order of the grouping (no temporary tree).
	hourly: ["SEARCH tasks USING COVERING INDEX tasks_stats_by_hour (<expr>>?)"],
	// Short windows: the rank (a count) and the window's times sorted, from the index alone.
	p50Sorted: ["SCALAR SUBQUERY 1", COVERING_RANGE, COVERING_RANGE, "USE TEMP B-TREE FOR ORDER BY"],
	p95Sorted: ["SCALAR SUBQUERY 1", COVERING_RANGE, COVERING_RANGE, "USE TEMP B-TREE FOR ORDER BY"],
	// Long windows: the rank, then the times in order from an index, stopping at the rank (the
	// LIMIT and OFFSET end the walk): no sort, and never a row of the table.
	p50Walked: ["SCALAR SUBQUERY 1", COVERING_RANGE, TIME_ORDER_WALK],
	p95Walked: ["SCALAR SUBQUERY 1", COVERING_RANGE, TIME_ORDER_WALK],
	// Newest failures first straight from the index of failures: reads 20 rows, no sort.
	failures: ["SEARCH tasks USING INDEX tasks_failures_by_created (created_at>?)"],
	// Only deliveries pending or given up are looked at.
	hosts: [
		"SEARCH tasks USING INDEX tasks_troubled_deliveries (created_at>?)",
		"USE TEMP B-TREE FOR GROUP BY",
		"USE TEMP B-TREE FOR ORDER BY",
	],
};

async function planOf(sql: string): Promise<string[]> {
	const since = Date.now() - 86_400_000;
	const statement = env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`);
	const bound = sql.includes("?2") ? statement.bind(since, Math.floor(since / 3_600_000)) : statement.bind(since);
	const { results } = await bound.all<{ detail: string }>();
	return results.map((row) => row.detail);
}

describe("the stats' query plans", () => {
	beforeAll(async () => {
		// Enough rows of every kind that the planner has real choices to make.
		const now = Date.now();
		for (let i = 0; i < 300; i++) {
			await storeTask({
				createdAt: now - i * 600_000,
				status: i % 7 === 0 ? "GENERATE_LYRICS_FAILED" : i % 5 === 0 ? "PENDING" : "SUCCESS",
				resultSource: i % 5 === 0 ? null : i % 3 === 0 ? "poll" : "callback",
				completedAt: i % 5 === 0 ? null : now - i * 600_000 + 4_000,
				delivery: i % 4 === 0 ? (i % 8 === 0 ? "failed" : "delivered") : null,
			});
		}
	});

	for (const [name, expected] of Object.entries(EXPECTED_PLANS)) {
		it(`${name}: a range search of an index, never a scan of tasks`, async () => {
			const plan = await planOf(STATS_STATEMENTS[name as keyof typeof STATS_STATEMENTS]);
			expect(plan).toEqual(expected);
			// The table itself is never scanned; the one index walk is the percentiles' bounded one.
			expect(plan.filter((line) => /\bSCAN tasks\b/.test(line) && line !== TIME_ORDER_WALK)).toEqual([]);
		});
	}
});
