import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createTask, forgetStoredTasks, runCron, simTask, uniquePrompt } from "./helpers";

const polls = (taskIds: string[]) => Promise.all(taskIds.map(async (taskId) => (await simTask(taskId)).recordInfoRequests));

describe("cron per-tick budget", () => {
	// The cron picks due tasks from the whole file's D1, oldest first: each test's budget goes to
	// its own tasks only when no other test's are left pending.
	beforeEach(forgetStoredTasks);

	it("polls at most POLL_MAX_PER_TICK tasks a tick, oldest first, and the rest on later ticks", async () => {
		const taskIds: string[] = [];
		for (let i = 0; i < 5; i++) {
			taskIds.push(await createTask(uniquePrompt(`budget task ${i}`)));
			await new Promise((resolve) => setTimeout(resolve, 5)); // distinct creation times
		}
		const newest = (await env.TASKS.getByName(taskIds[4]!).inspect()).state!;
		const tick = newest.createdAt + 121_000;

		await runCron(tick, { POLL_MAX_PER_TICK: "3" });
		expect(await polls(taskIds)).toEqual([1, 1, 1, 0, 0]);

		// One tick later the first three are inside their backoff, so the budget goes to the rest.
		await runCron(tick + 1_000, { POLL_MAX_PER_TICK: "3" });
		expect(await polls(taskIds)).toEqual([1, 1, 1, 1, 1]);
	});

	it("by default polls 40 tasks a tick, inside the Workers Free plan's 50 subrequests", async () => {
		const marker = uniquePrompt("default budget");
		// 42 creates at once queue up on a busy machine: the longest upstream deadline keeps them from timing out.
		const taskIds = await Promise.all(
			Array.from({ length: 42 }, (_, i) => createTask(`${marker} task ${i}`, {}, { UPSTREAM_TIMEOUT_MS: "15000" })),
		);
		const newest = Math.max(
			...(await Promise.all(taskIds.map(async (id) => (await env.TASKS.getByName(id).inspect()).state!.createdAt))),
		);
		// All 42 are due; the tick stops at its budget.
		await runCron(newest + 3600_000 - 1);
		expect((await polls(taskIds)).filter((n) => n > 0)).toHaveLength(40);
		expect((await polls(taskIds)).filter((n) => n > 1)).toEqual([]);
	});
});
