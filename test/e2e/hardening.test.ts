/**
 * Issue 14 over HTTP, on a gateway of its own (its limits would disturb the shared one's tests):
 * a 3 s TASK_MAX_PENDING_SECONDS, polled from the first cron tick, and the simulator's callbacks
 * held back so each test sends them when it means to.
 * - A poll that fails at the deadline (record-info 503) never ends the task, and the callback
 *   that comes later is stored; a result after a real timeout replaces it and is delivered again.
 * - A timed-out create's URL holds callbacks for a few made-up task ids only, and the upstream is
 *   asked about them by the cron, within POLL_MAX_PER_TICK; past HELD_CALLBACKS_MAX, callbacks
 *   for tasks not stored are answered 429 with Retry-After.
 */
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DEV_API_KEY, DEV_WEBHOOK_SIGNING_KEY } from "../../scripts/local-stack.mjs";
import { gatewayOfItsOwn } from "../support/own-gateway";
import { verifyStandardWebhook } from "../support/webhook-verifier";
import { eventually } from "./client";

const LIMIT_SECONDS = 3;
const HELD_MAX = 8;
const stack = gatewayOfItsOwn("hardening", {
	// The simulator "writes" for a minute: callbacks come only when a test sends them.
	callbackDelayMs: 60_000,
	vars: {
		TASK_MAX_PENDING_SECONDS: String(LIMIT_SECONDS),
		POLL_GRACE_SECONDS: "0",
		UPSTREAM_TIMEOUT_MS: "2000",
		WEBHOOK_RETRY_SCHEDULE: "1,1,1",
		WEBHOOK_TIMEOUT_MS: "1000",
		HELD_CALLBACKS_MAX: String(HELD_MAX),
		POLL_MAX_PER_TICK: "4",
		// A tick's polls all at once: the spread over the minute is not what these tests are about.
		POLL_SPREAD_SECONDS: "0",
	},
});

async function gateway<T = any>(path: string, init: RequestInit = {}) {
	const headers = new Headers(init.headers);
	headers.set("authorization", `Bearer ${DEV_API_KEY}`);
	const response = await fetch(`${stack().url}${path}`, { ...init, headers });
	return { status: response.status, headers: response.headers, body: (await response.json()) as { code: number; msg: string; data: T } };
}

async function sim<T = any>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
	const response = await fetch(`${stack().simulatorUrl}${path}`, {
		method: init.method ?? (init.body === undefined ? "GET" : "POST"),
		headers: { "content-type": "application/json" },
		body: init.body === undefined ? undefined : JSON.stringify(init.body),
	});
	return (await response.json()) as T;
}

function hook(label: string) {
	const path = `/__sim/hooks/${label}-${crypto.randomUUID().slice(0, 8)}`;
	return {
		url: `${stack().simulatorUrl}${path}`,
		deliveries: async () =>
			(await sim<{ deliveries: { headers: Record<string, string>; body: string }[] }>(path)).deliveries,
	};
}

async function create(prompt: string, extra: Record<string, unknown> = {}): Promise<string> {
	const created = await gateway<{ taskId: string }>("/api/v1/lyrics", {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ prompt, ...extra }),
	});
	expect(created.status, created.body.msg).toBe(200);
	return created.body.data.taskId;
}

const recordInfo = async (taskId: string) => (await gateway(`/api/v1/lyrics/record-info?taskId=${taskId}`)).body.data;
/** The simulator sends the task's callback now, once (as the provider would after its work). */
const sendCallback = (taskId: string) => sim<{ statuses: (number | null)[] }>(`/__sim/tasks/${taskId}/callback`, { body: {} });

async function fireCron() {
	const response = await stack().fireCron();
	expect(response.ok).toBe(true);
}


const pastTheLimit = () => new Promise((resolve) => setTimeout(resolve, LIMIT_SECONDS * 1000 + 500));

describe("the gateway's own timeout, over HTTP", () => {
	it("survives a record-info outage at the deadline: the task stays pending and the later callback is stored", async () => {
		const prompt = `A song about an outage at the deadline ${crypto.randomUUID().slice(0, 8)}`;
		const taskId = await create(prompt);
		await sim("/__sim/outages", { body: { match: prompt, recordInfo: 503 } });
		await pastTheLimit();
		await fireCron();
		// The tick asks the task's object to poll; its alarm does, at once.
		await eventually(async () => ((await sim<{ recordInfoRequests: number }>(`/__sim/tasks/${taskId}`)).recordInfoRequests > 0 ? true : undefined));
		await eventually(async () => ((await recordInfo(taskId)).polls === 1 ? true : undefined));
		expect((await sim(`/__sim/tasks/${taskId}`)).recordInfoRequests).toBe(1);
		expect(await recordInfo(taskId)).toMatchObject({ status: "PENDING", resultSource: null, errorCode: null, errorMessage: null });

		await sim(`/__sim/outages?match=${encodeURIComponent(prompt)}`, { method: "DELETE" });
		expect((await sendCallback(taskId)).statuses).toEqual([200]);
		const stored = await recordInfo(taskId);
		expect(stored).toMatchObject({ status: "SUCCESS", resultSource: "callback" });
		expect(stored.response.data.length).toBeGreaterThanOrEqual(2);
	}, 30_000);

	it("replaces a timeout the upstream confirmed with the result that comes later, delivered under its own webhook-id", async () => {
		const target = hook("late-result");
		const taskId = await create(`A song about a result after the timeout ${crypto.randomUUID().slice(0, 8)}`, {
			callBackUrl: target.url,
		});
		await pastTheLimit();
		await fireCron();
		// The tick asks the task's object to poll; its alarm does, at once.
		await eventually(async () => ((await recordInfo(taskId)).status !== "PENDING" ? true : undefined));
		expect(await recordInfo(taskId)).toMatchObject({ status: "GENERATE_LYRICS_FAILED", errorCode: 408, resultSource: "timeout" });
		const [first] = await eventually(async () => {
			const list = await target.deliveries();
			return list.length >= 1 ? list : undefined;
		});
		expect(first?.headers["webhook-id"]).toBe(`msg_${taskId}`);

		expect((await sendCallback(taskId)).statuses).toEqual([200]);
		expect(await recordInfo(taskId)).toMatchObject({ status: "SUCCESS", resultSource: "callback", errorCode: null });
		const deliveries = await eventually(async () => {
			const list = await target.deliveries();
			return list.length >= 2 ? list : undefined;
		});
		const second = deliveries[1] as { headers: Record<string, string>; body: string };
		expect(second.headers["webhook-id"]).toBe(`msg_${taskId}_2`);
		expect(await verifyStandardWebhook(stack().vars.WEBHOOK_SIGNING_KEY ?? DEV_WEBHOOK_SIGNING_KEY, second.headers, second.body)).toEqual({
			ok: true,
		});
		expect(JSON.parse(second.body)).toMatchObject({ code: 200, data: { callbackType: "complete", task_id: taskId } });
	}, 30_000);
});

/** A callback URL as the gateway mints one, made with its token key by someone who holds it. */
function mintUrl(): string {
	const key = stack().vars.CALLBACK_TOKEN_SECRET;
	const ref = Math.floor(Date.now() / 1000).toString(16).padStart(8, "0") + randomBytes(12).toString("hex");
	const token = createHmac("sha256", `lyrics-gateway/callback-token/v1:${key}`).update(ref).digest("base64url");
	return `${stack().url}/callbacks/kie/${ref}?token=${token}`;
}

function callbackFor(taskId: string, text = "[Verse]\nmade up"): string {
	return JSON.stringify({
		code: 200,
		msg: "All generated successfully.",
		data: { callbackType: "complete", task_id: taskId, data: [{ error_message: "", status: "complete", text, title: "Made up" }] },
	});
}

async function post(url: string, body: string) {
	const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body });
	return { status: response.status, retryAfter: response.headers.get("retry-after"), body: (await response.json()) as { code: number; msg: string } };
}

describe("callbacks for tasks not stored, over HTTP", () => {
	it("lets a timed-out create's URL hold few made-up task ids, asks the upstream about them within the cron's budget, and still adopts a real late task", async () => {
		/** A create answered after the gateway's 2 s deadline: 504, yet the upstream made the task. */
		const lateCreate = async (label: string) => {
			const prompt = `A song about ${label} ${crypto.randomUUID().slice(0, 8)}`;
			await sim("/__sim/scripts", { body: { match: prompt, createDelayMs: 4000 } });
			const created = await gateway("/api/v1/lyrics", {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ prompt }),
			});
			expect(created.status).toBe(504);
			const [task] = (await sim<{ tasks: { taskId: string }[] }>(`/__sim/tasks?match=${encodeURIComponent(prompt)}`)).tasks;
			return task?.taskId as string;
		};
		const [leakedTaskId, realTaskId] = await Promise.all([lateCreate("a leaked late URL"), lateCreate("a real late task")]);

		// Made-up task ids through the first create's genuine URL: five held, the rest refused.
		const leaked = await sim<{ url: string; body: string }>(`/__sim/tasks/${leakedTaskId}/callback`);
		const prefix = randomBytes(6).toString("hex");
		const answers: number[] = [];
		for (let i = 0; i < 7; i++) {
			const forged = JSON.parse(leaked.body);
			forged.data.task_id = `${prefix}${randomBytes(10).toString("hex")}`;
			answers.push((await post(leaked.url, JSON.stringify(forged))).status);
		}
		expect(answers).toEqual([200, 200, 200, 200, 200, 429, 429]);
		const upstreamCalls = async () => (await sim(`/__sim/stats?taskIdPrefix=${prefix}`)).recordInfo as number;
		expect(await upstreamCalls()).toBe(0);
		// The second create's own callback, after them.
		expect((await sendCallback(realTaskId)).statuses).toEqual([200]);

		// Checks are due 5 s after the upstream deadline (2 s here); each tick spends at most half
		// of POLL_MAX_PER_TICK (4) on them, oldest first: 2, 2, then the last made-up id and the real task.
		await new Promise((resolve) => setTimeout(resolve, 7500));
		await fireCron();
		expect(await upstreamCalls()).toBe(2);
		await fireCron();
		expect(await upstreamCalls()).toBe(4);
		// Not stored before its own check.
		expect(await recordInfo(realTaskId)).toBeNull();
		await fireCron();
		expect(await upstreamCalls()).toBe(5);
		expect(await recordInfo(realTaskId)).toMatchObject({ status: "SUCCESS", resultSource: "callback" });
	}, 60_000);

	it(`answers 429 with Retry-After once ${HELD_MAX} callbacks are held across objects`, async () => {
		const big = "la ".repeat(80_000);
		const answers: { status: number; retryAfter: string | null; code: number }[] = [];
		for (let i = 0; i < HELD_MAX + 4; i++) {
			const answer = await post(mintUrl(), callbackFor(randomBytes(16).toString("hex"), big));
			answers.push({ status: answer.status, retryAfter: answer.retryAfter, code: answer.body.code });
		}
		const held = answers.filter((answer) => answer.status === 200).length;
		expect(held).toBeGreaterThan(0);
		expect(held).toBeLessThanOrEqual(HELD_MAX);
		// Once refused, refused: nothing is freed meanwhile.
		const firstRefused = answers.findIndex((answer) => answer.status === 429);
		expect(firstRefused).toBe(held);
		for (const refused of answers.slice(firstRefused)) {
			expect(refused).toMatchObject({ status: 429, code: 429 });
			expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
		}
	}, 40_000);
});
