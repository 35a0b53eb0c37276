/**
 * The stats cost the same whatever the number of tasks: every figure is read from a rollup by a
 * range search of its primary key over the window's hours, and what still reads tasks reads a
 * bounded number of rows (the newest failures through their status index, the archive backlog
 * among the oldest live rows). These are SQLite's own query plans for them, with rows stored.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { STATS_STATEMENTS } from "../../src/db/stats";
import { storeTask } from "./stats-fixtures";

const EXPECTED_PLANS: Record<Exclude<keyof typeof STATS_STATEMENTS, "failures">, string[]> = {
	rollups: ["SEARCH task_counts USING PRIMARY KEY (hour>?)"],
	times: ["SEARCH r USING PRIMARY KEY (hour>?)", "SEARCH b USING INTEGER PRIMARY KEY (rowid=?)", "USE TEMP B-TREE FOR GROUP BY"],
	hosts: ["SEARCH delivery_host_rollups USING PRIMARY KEY (hour>?)", "USE TEMP B-TREE FOR GROUP BY", "USE TEMP B-TREE FOR ORDER BY"],
	backlog: ["CO-ROUTINE (subquery-1)", "SCAN tasks", "SCAN (subquery-1)"],
};

async function planOf(sql: string): Promise<string[]> {
	const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(0).all<{ detail: string }>();
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
		it(`${name}: a range search, or a bounded read`, async () => {
			expect(await planOf(STATS_STATEMENTS[name as keyof typeof STATS_STATEMENTS])).toEqual(expected);
		});
	}

	it("failures: the newest of each failed status through its index, a bounded read each, never a scan of tasks", async () => {
		const plan = await planOf(STATS_STATEMENTS.failures);
		expect(plan.filter((line) => line === "SEARCH tasks USING INDEX tasks_failed_by_status (status=?)")).toHaveLength(4);
		expect(plan.filter((line) => /SCAN tasks\b/.test(line))).toEqual([]);
		expect(STATS_STATEMENTS.failures.match(/ORDER BY seq DESC LIMIT 20/g)).toHaveLength(4);
	});

	it("reads the backlog among a bounded number of the oldest live rows, however many there are", () => {
		expect(STATS_STATEMENTS.backlog).toMatch(/FROM tasks ORDER BY seq LIMIT 10000\)/);
	});
});
