import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createTask, finishUpstream, forgetStoredTasks, recordInfo, runCron, sim, simTask, uniquePrompt } from "./helpers";

const polls = (taskIds: string[]) => Promise.all(taskIds.map(async (taskId) => (await simTask(taskId)).recordInfoRequests));

describe("cron per-tick budget", () => {
	// The cron picks due tasks from the whole file's D1, due soonest first (new tasks: the oldest):
	// each test's budget goes to its own tasks only when no other test's are left pending.
	beforeEach(forgetStoredTasks);

	it("polls at most POLL_MAX_PER_TICK tasks a tick, due soonest first, and the rest on later ticks", async () => {
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

	it("lets no task whose polls keep failing starve another: 30 of them at budget 2, and a healthy lost task is polled in time", async () => {
		const failing = uniquePrompt("polls keep failing");
		// The upstream answers record-info for these with "not found", every time.
		await sim("/__sim/scripts", {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ match: failing, callback: "drop", recordBody: { code: 404, msg: "Task not found", data: null } }),
		});
		const failingIds = await Promise.all(Array.from({ length: 30 }, (_, i) => createTask(`${failing} ${i}`)));
		await new Promise((resolve) => setTimeout(resolve, 5));
		const healthy = await createTask(uniquePrompt("a healthy lost task"), {}, {});
		await finishUpstream(healthy);
		const newest = (await env.TASKS.getByName(healthy).inspect()).state!.createdAt;

		// A tick a minute, from when all of them are past their grace. The 30 were due before the
		// healthy one: 15 ticks poll them at 2 a tick, and the 16th the healthy one (by age, the
		// failing ones would have taken every tick again, as they are due again a minute on).
		let tick = newest + 121_000;
		let ticks = 0;
		for (; ticks < 16 && (await recordInfo(healthy)).data.status === "PENDING"; ticks++) {
			await runCron(tick, { POLL_MAX_PER_TICK: "2" });
			tick += 60_000;
		}
		expect((await recordInfo(healthy)).data).toMatchObject({ status: "SUCCESS", resultSource: "poll" });
		expect(ticks).toBeLessThanOrEqual(16);
		// The failing ones are still pending (their give-up is a day away), each polled at most once a tick.
		const failingPolls = await polls(failingIds);
		expect(Math.max(...failingPolls)).toBeLessThanOrEqual(ticks);
	});
});
