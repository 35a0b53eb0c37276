import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTask, runCron, simTask, uniquePrompt } from "./helpers";

describe("cron per-tick budget", () => {
	it("polls at most POLL_MAX_PER_TICK tasks a tick, oldest first, and the rest on later ticks", async () => {
		const taskIds: string[] = [];
		for (let i = 0; i < 5; i++) {
			taskIds.push(await createTask(uniquePrompt(`budget task ${i}`)));
			await new Promise((resolve) => setTimeout(resolve, 5)); // distinct creation times
		}
		const newest = (await env.TASKS.getByName(taskIds[4]!).inspect()).state!;
		const tick = newest.createdAt + 121_000;
		const polled = async () =>
			Promise.all(taskIds.map(async (taskId) => (await simTask(taskId)).recordInfoRequests));

		await runCron(tick, { POLL_MAX_PER_TICK: "3" });
		expect(await polled()).toEqual([1, 1, 1, 0, 0]);

		// One tick later the first three are inside their backoff, so the budget goes to the rest.
		await runCron(tick + 1_000, { POLL_MAX_PER_TICK: "3" });
		expect(await polled()).toEqual([1, 1, 1, 1, 1]);
	});

	it("by default polls no more than 40 tasks a tick, inside the Workers Free plan's 50 subrequests", async () => {
		const marker = uniquePrompt("default budget");
		const taskIds = await Promise.all(Array.from({ length: 42 }, (_, i) => createTask(`${marker} task ${i}`)));
		const newest = Math.max(
			...(await Promise.all(taskIds.map(async (id) => (await env.TASKS.getByName(id).inspect()).state!.createdAt))),
		);
		// Far enough ahead that the first test's tasks are out of their backoff too.
		await runCron(newest + 3600_000 - 1);
		const polled = (await Promise.all(taskIds.map(async (id) => (await simTask(id)).recordInfoRequests))).filter(
			(n) => n > 0,
		);
		expect(polled.length).toBeLessThanOrEqual(40);
		expect(polled.length).toBeGreaterThan(30);
	});
});
