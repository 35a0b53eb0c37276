/**
 * Reliability over HTTP, on a gateway of its own restarted with the settings each part needs:
 * - a task whose record-info the upstream answers "not found" ends at TASK_GIVE_UP_SECONDS, and
 *   the genuine result that comes after replaces the gateway's timeout;
 * - CALLBACK_TOKEN_SECRET rotates as "<new> <old>": a URL minted with the old secret verifies
 *   while it is listed second, and is refused once it is gone; URLs minted with the new one
 *   verify throughout.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEV_API_KEY, type LocalStack, startLocalStack } from "../../scripts/local-stack.mjs";
import { eventually } from "./client";

const persistTo = mkdtempSync(join(tmpdir(), "lyrics-gateway-reliability-"));
let stack: LocalStack | undefined;

/** (Re)starts the gateway on the same state with these variables. The simulator calls back only when told. */
async function start(vars: Record<string, string>): Promise<LocalStack> {
	await stack?.close();
	stack = await startLocalStack({ port: 0, simulatorPort: 0, inspectorPort: 0, persistTo, callbackDelayMs: 600_000, vars });
	return stack;
}

afterAll(async () => {
	await stack?.close();
	rmSync(persistTo, { recursive: true, force: true });
});

async function call(path: string, init: RequestInit = {}) {
	const running = stack as LocalStack;
	const response = await fetch(`${running.url}${path}`, { ...init, headers: { authorization: `Bearer ${DEV_API_KEY}`, ...(init.headers as Record<string, string>) } });
	return { status: response.status, body: (await response.json()) as { code: number; msg: string; data: any } };
}

async function create(prompt: string): Promise<string> {
	const { status, body } = await call("/api/v1/lyrics", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt }) });
	expect(status, body.msg).toBe(200);
	return body.data.taskId as string;
}

const recordInfo = async (taskId: string) => (await call(`/api/v1/lyrics/record-info?taskId=${taskId}`)).body.data;

async function sim(path: string, body?: unknown) {
	const running = stack as LocalStack;
	const init = body === undefined ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
	return (await fetch(`${running.simulatorUrl}${path}`, init)).json() as Promise<any>;
}

interface Callback {
	path: string;
	headers: Record<string, string>;
	body: string;
}

/** The callback the upstream would send for the task now, kept to deliver later (to whichever gateway runs then). */
async function callbackFor(taskId: string): Promise<Callback> {
	const request = (await sim(`/__sim/tasks/${taskId}/callback`)) as { url: string; headers: Record<string, string>; body: string };
	const url = new URL(request.url);
	return { path: `${url.pathname}${url.search}`, headers: request.headers, body: request.body };
}

async function deliver(callback: Callback): Promise<number> {
	const running = stack as LocalStack;
	return (await fetch(`${running.url}${callback.path}`, { method: "POST", headers: callback.headers, body: callback.body })).status;
}

const unique = (label: string) => `${label} ${crypto.randomUUID().slice(0, 12)}`;
const fireCron = async () => expect((await (stack as LocalStack).fireCron()).ok).toBe(true);

describe("no task waits forever, over HTTP", () => {
	it("ends a task the upstream says it does not know at TASK_GIVE_UP_SECONDS; the genuine result after replaces it", async () => {
		await start({ TASK_GIVE_UP_SECONDS: "4", POLL_GRACE_SECONDS: "0", POLL_SPREAD_SECONDS: "0" });
		const prompt = unique("A song the upstream forgot");
		await sim("/__sim/scripts", { match: prompt, recordBody: { code: 404, msg: "Task not found" } });
		const taskId = await create(prompt);

		await fireCron();
		await new Promise((resolve) => setTimeout(resolve, 1_000));
		expect(await recordInfo(taskId)).toMatchObject({ status: "PENDING" });

		await new Promise((resolve) => setTimeout(resolve, 4_000));
		await fireCron();
		const ended = await eventually(async () => {
			const info = await recordInfo(taskId);
			return info.status !== "PENDING" ? info : undefined;
		});
		expect(ended).toMatchObject({ status: "GENERATE_LYRICS_FAILED", errorCode: 408, resultSource: "timeout" });
		expect(ended.errorMessage).toMatch(/No result within 4 seconds.*replaces this one/);

		expect(await deliver(await callbackFor(taskId))).toBe(200);
		const replaced = await recordInfo(taskId);
		expect(replaced).toMatchObject({ status: "SUCCESS", resultSource: "callback" });
		expect(replaced.response.data.length).toBeGreaterThan(0);
	}, 120_000);
});

describe("CALLBACK_TOKEN_SECRET rotation, over HTTP", () => {
	it("verifies URLs minted with the old secret while it is listed second, and refuses them once it is gone", async () => {
		await start({ CALLBACK_TOKEN_SECRET: "the-old-callback-token-secret" });
		const [early, late] = [await create(unique("minted with the old secret")), await create(unique("minted with the old secret, late"))];
		const [earlyCallback, lateCallback] = [await callbackFor(early), await callbackFor(late)];

		await start({ CALLBACK_TOKEN_SECRET: "the-new-callback-token-secret the-old-callback-token-secret" });
		expect(await deliver(earlyCallback)).toBe(200);
		expect(await recordInfo(early)).toMatchObject({ status: "SUCCESS", resultSource: "callback" });
		const fresh = await create(unique("minted with the new secret"));
		const freshCallback = await callbackFor(fresh);

		await start({ CALLBACK_TOKEN_SECRET: "the-new-callback-token-secret" });
		expect(await deliver(lateCallback)).toBe(401);
		expect(await recordInfo(late)).toMatchObject({ status: "PENDING" });
		expect(await deliver(freshCallback)).toBe(200);
		expect(await recordInfo(fresh)).toMatchObject({ status: "SUCCESS", resultSource: "callback" });
	}, 240_000);
});

