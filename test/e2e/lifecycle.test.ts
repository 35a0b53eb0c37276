/**
 * The lifecycle over HTTP, against `wrangler dev` of this file's own (tasks archived 2 s after
 * their result): a settled task archives itself and record-info answers the same data from the
 * archive, after a restart of the whole gateway too; another tenant gets 404; DELETE by the owner
 * and by an admin; a deleted pending task's callback stores nothing and delivers nothing; and,
 * restarted with RETENTION_SECONDS, tasks that old are deleted live and archived alike.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_ADMIN_API_KEY, DEV_API_KEY, type LocalStack, startLocalStack } from "../../scripts/local-stack.mjs";
import { eventually } from "./client";

const OTHER_KEY = "lifecycle-other-tenant-key";
const persistTo = mkdtempSync(join(tmpdir(), "lyrics-gateway-lifecycle-"));
let stack: LocalStack;

async function start(vars: Record<string, string>): Promise<void> {
	stack = await startLocalStack({
		port: 0,
		simulatorPort: 0,
		inspectorPort: 0,
		persistTo,
		callbackDelayMs: 200,
		vars: { API_KEYS: `dev:${DEV_API_KEY},other:${OTHER_KEY}`, ARCHIVE_AFTER_SECONDS: "2", ...vars },
	});
}

beforeAll(() => start({}), 90_000);
afterAll(async () => {
	await stack?.close();
	rmSync(persistTo, { recursive: true, force: true });
});

async function call(path: string, init: RequestInit = {}, key = DEV_API_KEY) {
	const response = await fetch(`${stack.url}${path}`, { ...init, headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) } });
	return { status: response.status, body: (await response.json()) as { code: number; msg: string; data: any } };
}
const create = (prompt: string, extra: Record<string, unknown> = {}) =>
	call("/api/v1/lyrics", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt, ...extra }) });
const recordInfo = (taskId: string, key = DEV_API_KEY) => call(`/api/v1/lyrics/record-info?taskId=${taskId}`, {}, key);
const remove = (taskId: string, key = DEV_API_KEY) => call(`/api/v1/lyrics/tasks/${taskId}`, { method: "DELETE" }, key);
const sim = async (path: string, body?: unknown) =>
	(await fetch(`${stack.simulatorUrl}${path}`, { method: body === undefined ? "GET" : "POST", headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) })).json() as Promise<any>;
const unique = (label: string) => `${label} ${crypto.randomUUID().slice(0, 12)}`;


/** A task whose result came, and the record-info it answered before its archive. */
async function settledTask(label: string) {
	const { body } = await create(unique(label));
	const taskId = body.data.taskId as string;
	const settled = await eventually(async () => {
		const info = await recordInfo(taskId);
		return info.body.data?.status === "SUCCESS" ? info.body.data : undefined;
	});
	return { taskId, settled };
}

/** Whether the caller's list holds the task (it holds live tasks only). */
async function listed(taskId: string): Promise<boolean> {
	const { body } = await call("/api/v1/lyrics/tasks?limit=100");
	return body.data.items.some((item: { taskId: string }) => item.taskId === taskId);
}

describe("the lifecycle over HTTP", () => {
	let archived: { taskId: string; settled: unknown };

	it("archives a settled task on its own, and record-info answers the same data from the archive", async () => {
		archived = await settledTask("archived over HTTP");
		// Two seconds after its result the task's object archives it: lists no longer hold it.
		await eventually(async () => ((await listed(archived.taskId)) ? undefined : true));
		const info = await recordInfo(archived.taskId);
		expect(info.status).toBe(200);
		expect(info.body.data).toEqual(archived.settled);
	});

	it("answers another tenant 404 for the archived task, as for an unknown id", async () => {
		const other = await recordInfo(archived.taskId, OTHER_KEY);
		const unknown = await recordInfo("0123456789abcdef0123456789abcdef", OTHER_KEY);
		expect(other.status).toBe(404);
		expect(other.body.msg).toBe(unknown.body.msg.replace("0123456789abcdef0123456789abcdef", archived.taskId));
		expect((await remove(archived.taskId, OTHER_KEY)).status).toBe(404);
	});

	it("deletes by the owner and by an admin: 404 afterwards, and a second DELETE is 404", async () => {
		const byOwner = await settledTask("deleted by its owner over HTTP");
		expect(await remove(byOwner.taskId)).toEqual({ status: 200, body: { code: 200, msg: "success", data: { taskId: byOwner.taskId } } });
		expect((await recordInfo(byOwner.taskId)).status).toBe(404);
		expect((await remove(byOwner.taskId)).status).toBe(404);

		const byAdmin = await settledTask("deleted by an admin over HTTP");
		expect((await remove(byAdmin.taskId, DEV_ADMIN_API_KEY)).status).toBe(200);
		expect((await recordInfo(byAdmin.taskId)).status).toBe(404);
	});

	it("stores nothing and delivers nothing for a deleted pending task's callback", async () => {
		const prompt = unique("deleted while pending over HTTP");
		const gate = `lifecycle-${crypto.randomUUID().slice(0, 8)}`;
		await sim("/__sim/scripts", { match: prompt, callbackGate: gate });
		const hook = `${stack.simulatorUrl}/__sim/hooks/${gate}`;
		const { body } = await create(prompt, { callBackUrl: hook });
		const taskId = body.data.taskId as string;
		expect((await remove(taskId)).status).toBe(200);
		// Now the upstream calls back.
		await sim(`/__sim/gates/${gate}/open`, {});
		const attempts = await eventually(async () => {
			const { callbackAttempts } = await sim(`/__sim/tasks/${taskId}`);
			return callbackAttempts.length > 0 ? (callbackAttempts as { status: number }[]) : undefined;
		});
		// Acknowledged (so the upstream stops), yet kept nowhere.
		expect(attempts.map((attempt) => attempt.status)).toEqual([200]);
		expect((await recordInfo(taskId)).status).toBe(404);
		await new Promise((resolve) => setTimeout(resolve, 1_000));
		expect((await sim(`/__sim/hooks/${gate}`)).deliveries).toEqual([]);
	});

	it("answers the archived task's same data after the whole gateway restarts", async () => {
		await stack.close();
		await start({});
		expect((await recordInfo(archived.taskId)).body.data).toEqual(archived.settled);
	}, 90_000);

	it("deletes tasks older than RETENTION_SECONDS, live and archived, within a tick", async () => {
		await stack.close();
		await start({ RETENTION_SECONDS: "8" });
		const pending = unique("kept only briefly");
		await sim("/__sim/scripts", { match: pending, callback: "drop" });
		const live = (await create(pending)).body.data.taskId as string;
		// The archived task from before is far older than 8 s: the next tick deletes it.
		await fetch(`${stack.url}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("* * * * *")}`);
		expect((await recordInfo(archived.taskId)).status).toBe(404);
		// The pending task's own alarm deletes it 8 s after its creation.
		await eventually(async () => ((await recordInfo(live)).status === 404 ? true : undefined), 30_000);
	}, 120_000);
});
