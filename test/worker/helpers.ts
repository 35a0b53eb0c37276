/** What the tests share: calling the gateway, driving the simulator, delivering callbacks. */
import { env } from "cloudflare:workers";
import { expect, inject } from "vitest";
import {
	createExecutionContext,
	createScheduledController,
	runDurableObjectAlarm,
	runInDurableObject,
	waitOnExecutionContext,
} from "cloudflare:test";
import { bareKeyTenant } from "../../src/tenants/tenant-names";
import { idempotencyScope } from "../../src/idempotency/idempotency-key";
import worker from "../../src/index";
import type { TaskRecord } from "../../src/domain/task-record";
import type { RecordInfo } from "../../src/domain/record-info";
import type { TaskStore } from "../../src/task/task-store";
import { readConfig } from "../../src/config/config";
import { type CallbackTarget, callbackTokenKey, mintCallbackTarget } from "../../src/security/callback-token";

export const API_KEY = "test-key-1";

declare module "vitest" {
	export interface ProvidedContext {
		/** From test/support/simulator-setup.ts: a server the run holds that resets every connection. */
		resettingUrl: string;
	}
}

/** An upstream (or resolver) that cannot be reached: every connection to it is reset. */
export const UNREACHABLE_URL = inject("resettingUrl");

/** Calls the Worker's fetch handler; `overrides` replace variables for this one call. */
export async function gateway(path: string, init: RequestInit = {}, overrides: Partial<Env> = {}): Promise<Response> {
	const ctx = createExecutionContext();
	const response = await worker.fetch(new Request(`https://gateway.test${path}`, init), { ...env, ...overrides }, ctx);
	await waitOnExecutionContext(ctx);
	return response;
}

/** The object of an Idempotency-Key sent with API_KEY (a bare key: a tenant of its own). */
export async function idempotencyKeyObject(idempotencyKey: string) {
	return env.IDEMPOTENCY.getByName(await idempotencyScope(await bareKeyTenant(API_KEY), idempotencyKey));
}

/** An authenticated call under /api. */
export function api(path: string, init: RequestInit = {}, overrides: Partial<Env> = {}): Promise<Response> {
	const headers = new Headers(init.headers);
	if (!headers.has("authorization")) headers.set("authorization", `Bearer ${API_KEY}`);
	return gateway(path, { ...init, headers }, overrides);
}

export function postJson(path: string, body: unknown, overrides: Partial<Env> = {}): Promise<Response> {
	return api(
		path,
		{ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
		overrides,
	);
}

export interface Envelope<T = unknown> {
	code: number;
	msg: string;
	data: T;
}

export async function envelope<T = unknown>(response: Response): Promise<Envelope<T>> {
	return (await response.json()) as Envelope<T>;
}

let counter = 0;
/** A prompt no other test uses, so simulator scripts and lookups stay per test. */
export function uniquePrompt(label: string): string {
	counter += 1;
	return `A song about ${label} number ${counter} ${crypto.randomUUID().slice(0, 8)}`;
}

/** Calls the simulator's control API. */
export async function sim<T = unknown>(path: string, init: RequestInit = {}): Promise<T> {
	const response = await fetch(`${env.KIE_BASE_URL}${path}`, init);
	return (await response.json()) as T;
}

export function simScript(match: string, behaviour: Record<string, unknown>): Promise<unknown> {
	return sim("/__sim/scripts", {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ match, ...behaviour }),
	});
}

export interface SimTask {
	taskId: string;
	prompt: string;
	callBackUrl: string;
	recordInfoRequests: number;
}

export async function simTask(taskId: string): Promise<SimTask> {
	return sim<SimTask>(`/__sim/tasks/${taskId}`);
}

/** Waits until the simulator has seen a create whose prompt contains `match` (the test's timeout bounds it). */
export async function waitForSimTask(match: string): Promise<SimTask> {
	const { tasks } = await eventually(
		() => sim<{ tasks: SimTask[] }>(`/__sim/tasks?match=${encodeURIComponent(match)}`),
		(found) => found.tasks.length > 0,
		30_000,
	);
	return tasks[0]!;
}

export async function createTask(
	prompt: string,
	extra: Record<string, unknown> = {},
	overrides: Partial<Env> = {},
	apiKey: string = API_KEY,
): Promise<string> {
	const response = await api(
		"/api/v1/lyrics",
		{
			method: "POST",
			headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
			body: JSON.stringify({ prompt, ...extra }),
		},
		overrides,
	);
	const body = await envelope<{ taskId: string }>(response);
	if (response.status !== 200) throw new Error(`create failed: ${response.status} ${body.msg}`);
	return body.data.taskId;
}

export interface CallbackRequest {
	url: string;
	headers: Record<string, string>;
	body: string;
}

/** The exact callback the simulator would send for this task now (see simulator/README.md). */
export async function simCallback(taskId: string, query = ""): Promise<CallbackRequest> {
	return sim<CallbackRequest>(`/__sim/tasks/${taskId}/callback${query}`);
}

/** Delivers a callback request into the gateway, as the upstream would over HTTP. */
export function deliver(request: CallbackRequest, overrides: Partial<Env> = {}): Promise<Response> {
	const url = new URL(request.url);
	return gateway(
		`${url.pathname}${url.search}`,
		{ method: "POST", headers: request.headers, body: request.body },
		overrides,
	);
}

export async function recordInfo(taskId: string) {
	return envelope<RecordInfo>(await api(`/api/v1/lyrics/record-info?taskId=${encodeURIComponent(taskId)}`));
}

/** record-info as an operator reads it (ADMIN_API_KEYS): for tasks stored before tenants, which have no owner. */
export async function recordInfoAsAdmin(taskId: string) {
	const headers = { authorization: "Bearer test-admin-key" };
	const path = `/api/v1/lyrics/record-info?taskId=${encodeURIComponent(taskId)}`;
	return envelope<RecordInfo>(await api(path, { headers }, { ADMIN_API_KEYS: "ops:test-admin-key" }));
}

/** A task as record-info answers it (the gateway's own type: tests read what the route answers). */
export type { RecordInfo };

/**
 * Runs the Worker's scheduled handler as the Cron Trigger would at `scheduledTime`, then waits
 * for the polls it asked for: the tick only asks each due task's object to poll on its alarm
 * (spread over no time here, so a test need not wait out the minute), and a test reads the outcome.
 */
export async function runCron(scheduledTime: number, overrides: Partial<Env> = {}): Promise<void> {
	await worker.scheduled(createScheduledController({ scheduledTime, cron: "* * * * *" }), {
		...env,
		POLL_SPREAD_SECONDS: "0",
		...overrides,
	});
	await settleAskedPolls();
}

/**
 * Waits until D1 holds everything the task's object has recorded: counts from duplicate and
 * not-final callbacks reach D1 with the object's coalesced write, within seconds, not at once.
 */
export async function d1CaughtUp(taskId: string): Promise<void> {
	// Counted duplicates and coalesced writes are the object's to fold and write within seconds;
	// its alarm does both whenever it runs, so an alarm run now spares the test that wait. (Set a
	// minute ahead, it is run here rather than racing the runtime's own run of an alarm due now.)
	const stub = env.TASKS.getByName(taskId);
	await runInDurableObject(stub, async (_instance, objectState) => {
		if ((await objectState.storage.getAlarm()) === null) await objectState.storage.setAlarm(Date.now() + 60_000);
	});
	await runDurableObjectAlarm(stub);
	await eventually(
		async () => (await env.TASKS.getByName(taskId).inspect()).state,
		(state) => state !== null && state.syncedVersion >= state.version,
	);
}

/** Every asked poll made, decided and in D1 (or its D1 write failed, when a test made D1 fail). */
async function settleAskedPolls(): Promise<void> {
	const { results } = await env.DB.prepare("SELECT task_id FROM tasks WHERE status = 'PENDING'").all<{ task_id: string }>();
	await Promise.all(
		results.map(async ({ task_id: taskId }) => {
			const stub = env.TASKS.getByName(taskId);
			const deadline = Date.now() + 10_000;
			for (;;) {
				// Its alarm is due now and fires by itself; running it here (to its end) only saves the wait.
				if ((await stub.askedPoll()) !== null) await runDurableObjectAlarm(stub);
				else {
					const { state } = await stub.inspect();
					const polling = state !== null && state.pollLeaseUntil > 0;
					const d1Behind = state !== null && state.syncedVersion < state.version && state.syncFailures === 0;
					if (!polling && !d1Behind) return;
				}
				if (Date.now() > deadline) throw new Error(`the poll asked of ${taskId} did not finish`);
				await new Promise((resolve) => setTimeout(resolve, 25));
			}
		}),
	);
}

/** Marks the task finished upstream (record-info answers SUCCESS) without sending its callback. */
export async function finishUpstream(taskId: string): Promise<void> {
	await sim(`/__sim/tasks/${taskId}/ready`, { method: "POST" });
}

/** Every secret the test configuration holds; no answer of the gateway may contain any of them. */
export const CONFIGURED_SECRETS = ["test-upstream-key", "test-key-1", "test-key-2", "test-callback-token-secret"] as const;

/**
 * Asserts `response` is the contract's error envelope `{code, msg, data: null}` with this HTTP
 * status and body code (the HTTP status unless the outcome came from upstream), a plain-words
 * msg, and no configured secret anywhere in the answer. Returns the envelope.
 */
export async function expectErrorEnvelope(response: Response, status: number, code = status): Promise<Envelope<null>> {
	const text = await response.text();
	expect(response.status, text).toBe(status);
	expect(response.headers.get("content-type") ?? "").toMatch(/^application\/json/);
	for (const secret of CONFIGURED_SECRETS) {
		expect(text).not.toContain(secret);
		for (const [name, value] of response.headers) expect(value, `header ${name}`).not.toContain(secret);
	}
	const body = JSON.parse(text) as Envelope<null>;
	expect(Object.keys(body).sort()).toEqual(["code", "data", "msg"]);
	expect(body.code).toBe(code);
	expect(body.data).toBeNull();
	expectPlainWords(body.msg);
	return body;
}

/** A message a person can read: a few words of prose, not markup, a stack trace or a serialized value. */
export function expectPlainWords(msg: unknown): void {
	expect(typeof msg).toBe("string");
	const text = msg as string;
	expect(text.trim().length).toBeGreaterThan(0);
	expect(text.trim().split(/\s+/).length, text).toBeGreaterThanOrEqual(3);
	expect(text, "looks like markup or a serialized value").not.toMatch(
		/<\/|<!doctype|<html|\[object |\bundefined\b|\bNaN\b|"(code|msg|data|error|path|expected|issues)"\s*:/i,
	);
	expect(text, "looks like an exception").not.toMatch(/\b\w*(Error|Exception):|\n\s+at |ZodError/);
}

/** Every stored task, newest first, following data.nextCursor to the last page. */
export async function listAllTasks(): Promise<RecordInfo[]> {
	const items: RecordInfo[] = [];
	let cursor: string | null = null;
	for (let page = 0; page < 1000; page++) {
		const query: string = cursor ? `?limit=100&cursor=${encodeURIComponent(cursor)}` : "?limit=100";
		const response = await api(`/api/v1/lyrics/tasks${query}`);
		const body = await envelope<{ items: RecordInfo[]; nextCursor: string | null }>(response);
		if (response.status !== 200) throw new Error(`list failed: ${response.status} ${body.msg}`);
		items.push(...body.data.items);
		cursor = body.data.nextCursor;
		if (cursor === null) return items;
	}
	throw new Error("the task list never reached its last page");
}

/**
 * Empties this file's task list in D1. Storage is isolated per test file, not per test, so a test
 * that counts what the list or the cron sees (pages, budgets, "every pending task") starts from
 * none and counts only the tasks it made itself, whatever ran before it.
 */
export async function forgetStoredTasks(): Promise<void> {
	await env.DB.prepare("DELETE FROM tasks").run();
}

/** Stored tasks whose prompt contains `marker`. */
export async function storedTasksMatching(marker: string): Promise<RecordInfo[]> {
	return (await listAllTasks()).filter((task) => (JSON.parse(task.param) as { prompt?: string }).prompt?.includes(marker));
}

export interface SimStats {
	creates: number;
	recordInfo: number;
	tasks: number;
	callbackAttempts: number;
}

/**
 * What the simulator received for prompts containing `match` (creates counted before its own
 * checks); with `taskIdPrefix`, only record-info about task ids starting with it (made-up ones too).
 */
export function simStats(match: string, taskIdPrefix?: string): Promise<SimStats> {
	const prefix = taskIdPrefix === undefined ? "" : `&taskIdPrefix=${encodeURIComponent(taskIdPrefix)}`;
	return sim<SimStats>(`/__sim/stats?match=${encodeURIComponent(match)}${prefix}`);
}

/** The task object's own state (not D1's copy): what it decided, its version, held early callbacks. */
/** When the task's object says it was created (unix ms), for stepping cron time from it. */
export async function createdAt(taskId: string): Promise<number> {
	const { state } = await inspectTask(taskId);
	if (!state) throw new Error(`task ${taskId} has no state`);
	return state.createdAt;
}

/** Replaces variables or bindings the task's object sees (its own env), leaving the rest of the Worker untouched. */
export async function setObjectEnv(taskId: string, overrides: Partial<Env>): Promise<void> {
	await runInDurableObject(env.TASKS.getByName(taskId), (instance) => {
		const object = instance as unknown as { env: Env };
		object.env = { ...object.env, ...overrides };
	});
}

/**
 * Changes the task's stored record through its object's own store, which mirrors the row in
 * memory (so a write behind its back would go unseen): as if time had passed, say.
 */
export async function editStoredRecord(taskId: string, edit: (record: TaskRecord) => void): Promise<void> {
	await runInDurableObject(env.TASKS.getByName(taskId), (instance) => {
		const store = (instance as unknown as { parts: { store: TaskStore } }).parts.store;
		const state = store.load();
		if (!state) throw new Error(`task ${taskId} has no stored record`);
		edit(state.record);
		store.save(state);
	});
}

export function inspectTask(taskId: string) {
	return env.TASKS.getByName(taskId).inspect();
}

/** A callback URL minted as the gateway mints them (CALLBACK_TOKEN_SECRET), for a create no task came of yet. */
export function mintedCallbackTarget(mintedAt: number = Date.now()): Promise<CallbackTarget> {
	return mintCallbackTarget("https://gateway.test", callbackTokenKey(readConfig(env)) as string, mintedAt);
}

/** The provider's success callback for `taskId` (one short item), sent to `url`: for tasks the simulator never made. */
export function callbackThrough(url: string, taskId: string): CallbackRequest {
	const body = {
		code: 200,
		msg: "All generated successfully.",
		data: { callbackType: "complete", task_id: taskId, data: [{ text: "[Verse]\nla", title: "t", status: "complete" }] },
	};
	return { url, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** A callback request with its body replaced (a string is sent as-is, anything else as JSON). */
export function withBody(request: CallbackRequest, body: unknown): CallbackRequest {
	return { ...request, body: typeof body === "string" ? body : JSON.stringify(body) };
}

/** The callback's body, parsed, to derive variants from in a test. */
export function callbackBody(request: CallbackRequest): {
	code: number;
	msg: string;
	data: { callbackType: string; task_id?: string; taskId?: string; data: Record<string, unknown>[] | null };
} {
	return JSON.parse(request.body);
}

export interface HookDelivery {
	receivedAt: number;
	headers: Record<string, string>;
	body: string;
	answered: number;
}

/** A client webhook endpoint on the simulator; `url` is what a client gives as callBackUrl. */
export function simHook(label: string) {
	const name = `${label}-${crypto.randomUUID().slice(0, 8)}`;
	const path = `/__sim/hooks/${name}`;
	return {
		url: `${env.KIE_BASE_URL}${path}`,
		/** Answer the next requests with `statuses`, then `thenStatus`; hold each answer `stallMs`. */
		behave: (behaviour: { statuses?: number[]; thenStatus?: number; stallMs?: number }) =>
			sim(`${path}/behaviour`, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify(behaviour),
			}),
		deliveries: async () => (await sim<{ deliveries: HookDelivery[] }>(path)).deliveries,
	};
}

/** Polls `probe` until it returns a value `done` accepts, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 8000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	let value = await probe();
	while (!done(value)) {
		if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(value)}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
		value = await probe();
	}
	return value;
}

/** When the task object's alarm is set for, or null. */
export const alarmOf = (taskId: string) => runInDurableObject(env.TASKS.getByName(taskId), (_instance, state) => state.storage.getAlarm());

/** A timed-out create: one whose upstream answer comes after the deadline (1.5 s here), with its callback delivered after the 504. */
export async function timedOutCreateCalledBack(prompt: string, headers: Record<string, string> = {}) {
	await simScript(prompt, { createDelayMs: 3000 });
	const answer = api("/api/v1/lyrics", {
		method: "POST",
		headers: { "content-type": "application/json", ...headers },
		body: JSON.stringify({ prompt }),
	});
	const { taskId } = await waitForSimTask(prompt);
	await expectErrorEnvelope(await answer, 504, 504);
	const heldAt = Date.now();
	expect((await deliver(await simCallback(taskId))).status).toBe(200);
	return { taskId, heldAt };
}

/** A settled task's one alarm: its archive, ARCHIVE_AFTER_SECONDS (the default week here) after it became final. */
export async function expectOnlyArchiveAlarm(taskId: string): Promise<void> {
	const { state } = await inspectTask(taskId);
	expect(state?.completedAt).not.toBeNull();
	expect(await alarmOf(taskId)).toBe((state?.completedAt as number) + 7 * 24 * 3600 * 1000);
}
