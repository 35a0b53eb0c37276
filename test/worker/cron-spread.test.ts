/**
 * A cron tick hands each due task a time to poll, spread over POLL_SPREAD_SECONDS, and returns:
 * each object polls on its own alarm, so the tick does not wait on the upstream, and the
 * upstream sees the tick's polls one after another rather than in one burst.
 */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { createTask, eventually, finishUpstream, recordInfo, simScript, simTask, uniquePrompt } from "./helpers";

/** The scheduled handler alone, as the Cron Trigger runs it: no waiting for the polls it asks for. */
async function tick(scheduledTime: number, overrides: Partial<Env>): Promise<number> {
	const started = Date.now();
	await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), { ...env, ...overrides });
	return Date.now() - started;
}

describe("a tick's polls on the objects' own alarms", () => {
	it("returns without waiting on a slow upstream, and each task is polled once, at its own time", async () => {
		const marker = uniquePrompt("spread over the minute");
		await simScript(marker, { callback: "drop", callbackDelayMs: 0, recordDelayMs: 1000 });
		const taskIds: string[] = [];
		for (let i = 0; i < 4; i++) taskIds.push(await createTask(`${marker} ${i}`));
		await Promise.all(taskIds.map(finishUpstream));
		const newest = (await env.TASKS.getByName(taskIds[3]!).inspect()).state!.createdAt;
		const settings = { POLL_SPREAD_SECONDS: "4", POLL_MAX_PER_TICK: "40" };

		// Four record-info calls of 1 s each, six at a time, would hold the tick over 1 s.
		expect(await tick(newest + 121_000, settings)).toBeLessThan(1000);
		const asked = await Promise.all(taskIds.map((id) => env.TASKS.getByName(id).askedPoll()));
		// Due one second apart (4 s over four tasks); the first is due at once, so its alarm may have taken it.
		const sorted = asked.flatMap((poll) => (poll ? [poll.dueAt] : [])).sort((a, b) => a - b);
		expect(sorted.length).toBeGreaterThanOrEqual(3);
		for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBe(1000);

		// A second tick meanwhile asks nothing new of them: the upstream still sees one poll each.
		await tick(newest + 122_000, settings);
		const recovered = await eventually(
			() => Promise.all(taskIds.map(recordInfo)),
			(infos) => infos.every((info) => info.data.status === "SUCCESS"),
			12_000,
		);
		for (const info of recovered) expect(info.data).toMatchObject({ resultSource: "poll", polls: 1 });
		for (const taskId of taskIds) expect((await simTask(taskId)).recordInfoRequests).toBe(1);
		// Decided one after another, as their polls came: not in one burst.
		const decidedAt = recovered.map((info) => info.data.completeTime as number).sort((a, b) => a - b);
		expect(decidedAt.at(-1)! - decidedAt[0]!).toBeGreaterThanOrEqual(2500);
	}, 20_000);
});
