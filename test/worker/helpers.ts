/** What the tests share: calling the gateway, driving the simulator, delivering callbacks. */
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/index";

export const API_KEY = "test-key-1";

/** Calls the Worker's fetch handler; `overrides` replace variables for this one call. */
export async function gateway(path: string, init: RequestInit = {}, overrides: Partial<Env> = {}): Promise<Response> {
	const ctx = createExecutionContext();
	const response = await worker.fetch(new Request(`https://gateway.test${path}`, init), { ...env, ...overrides }, ctx);
	await waitOnExecutionContext(ctx);
	return response;
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

/** Waits until the simulator has seen a create whose prompt contains `match`. */
export async function waitForSimTask(match: string): Promise<SimTask> {
	for (let i = 0; i < 100; i++) {
		const { tasks } = await sim<{ tasks: SimTask[] }>(`/__sim/tasks?match=${encodeURIComponent(match)}`);
		if (tasks[0]) return tasks[0];
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
	throw new Error(`simulator never saw a create matching ${match}`);
}

export async function createTask(prompt: string, extra: Record<string, unknown> = {}): Promise<string> {
	const response = await postJson("/api/v1/lyrics", { prompt, ...extra });
	const body = await envelope<{ taskId: string }>(response);
	if (response.status !== 200) throw new Error(`create failed: ${response.status} ${body.msg}`);
	return body.data.taskId;
}

export interface CallbackRequest {
	url: string;
	headers: Record<string, string>;
	body: string;
}

/** The exact callback the simulator would send for this task now (see simulator/README). */
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

export interface RecordInfo {
	taskId: string;
	param: string;
	response: { taskId: string; data: { text: string; title: string; status: string; errorMessage: string }[] };
	status: string;
	type: string;
	errorCode: number | null;
	errorMessage: string | null;
	callbacksReceived: number;
	polls: number;
	resultSource: string | null;
}
