/**
 * A callback for a task this gateway has not stored asks D1 whose URL it came through, within a
 * 400 ms budget (the upstream wants an answer within seconds). When D1 is slow or failing, the
 * callback is answered 503 with Retry-After, so the upstream sends it again: not refused for good
 * (a genuine late callback would be lost) and not held (a leaked URL would park callbacks).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { recordCreate } from "../../src/db/create-records";
import {
	callbackThrough,
	createTask,
	deliver,
	expectErrorEnvelope,
	inspectTask,
	mintedCallbackTarget,
	recordInfo,
	setObjectEnv,
	simCallback,
	uniquePrompt,
	withBody,
} from "./helpers";

/** A D1 binding during an outage: every statement fails, or never answers. */
function brokenDb(mode: "failing" | "slow"): D1Database {
	const answer = () => (mode === "failing" ? Promise.reject(new Error("D1_ERROR: simulated outage")) : new Promise(() => {}));
	return { prepare: () => ({ bind: () => ({ first: answer, run: answer, all: answer }) }) } as unknown as D1Database;
}

function madeUpTaskId(): string {
	return crypto.randomUUID().replace(/-/g, "");
}

async function expectRetryLater(response: Response): Promise<void> {
	const body = await expectErrorEnvelope(response, 503);
	expect(body.msg).toMatch(/database is not answering.*Retry/);
	expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
}

describe.each(["failing", "slow"] as const)("an unregistered callback's D1 lookup while D1 is %s", (mode) => {
	it("answers 503 with Retry-After and holds nothing for a made-up task id through a stored task's URL", async () => {
		const owner = await createTask(uniquePrompt("a leaked url during an outage"));
		const leaked = await simCallback(owner);
		const madeUp = madeUpTaskId();
		const body = JSON.parse(leaked.body);
		const forged = withBody(leaked, { ...body, data: { ...body.data, task_id: madeUp } });
		await setObjectEnv(madeUp, { DB: brokenDb(mode) });

		const started = Date.now();
		await expectRetryLater(await deliver(forged));
		// Answered on the budget, well within the upstream's patience.
		expect(Date.now() - started).toBeLessThan(5000);
		expect(await inspectTask(madeUp)).toEqual({ state: null, earlyCallbacks: 0 });

		// Once D1 answers, the URL is seen to belong to another task: refused for good.
		await setObjectEnv(madeUp, { DB: env.DB });
		await expectErrorEnvelope(await deliver(forged), 401);
		expect(await inspectTask(madeUp)).toEqual({ state: null, earlyCallbacks: 0 });
		expect((await recordInfo(owner)).data.status).toBe("PENDING");
	});

	it("answers 503, not 401, to the late callback of a timed-out create, and holds it once D1 answers", async () => {
		// A create that got 504 ten minutes ago: its URL is no longer fresh, only D1 vouches for it.
		const mintedAt = Date.now() - 10 * 60_000;
		const target = await mintedCallbackTarget(mintedAt);
		await recordCreate(env.DB, {
			ref: target.ref,
			prompt: uniquePrompt("a create answered too late"),
			callbackUrl: null,
			createdAt: mintedAt,
			idempotencyScope: null,
			owner: null,
		});
		const taskId = madeUpTaskId();
		const late = callbackThrough(target.url, taskId);
		await setObjectEnv(taskId, { DB: brokenDb(mode) });

		await expectRetryLater(await deliver(late));
		expect(await inspectTask(taskId)).toEqual({ state: null, earlyCallbacks: 0 });

		// The upstream's retry, once D1 answers, is held for adoption as before.
		await setObjectEnv(taskId, { DB: env.DB });
		const retried = await deliver(late);
		expect(retried.status).toBe(200);
		expect(await retried.json()).toMatchObject({ data: { taskId, result: "held-until-task-stored" } });
		expect((await inspectTask(taskId)).earlyCallbacks).toBe(1);
	});

	it("still applies a stored task's own callback: its object decides without asking D1", async () => {
		const taskId = await createTask(uniquePrompt("a callback during an outage"));
		await setObjectEnv(taskId, { DB: brokenDb(mode) });
		const ack = await deliver(await simCallback(taskId));
		expect(ack.status).toBe(200);
		expect((await inspectTask(taskId)).state?.status).toBe("SUCCESS");
	});
});
