/**
 * One `request` JSON line per HTTP request, with what an operator follows a client or a task by
 * (route, status, latency, taskId, request id, the upstream's code), and nothing a log reader
 * could misuse: no bearer key, no callback token or ref, no prompt, in that line or any other.
 */
import { bareKeyTenant } from "../../src/tenants/tenant-names";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
	API_KEY,
	api,
	createTask,
	d1CaughtUp,
	deliver,
	gateway,
	postJson,
	simCallback,
	simScript,
	uniquePrompt,
} from "./helpers";

interface RequestLine {
	ts: string;
	level: string;
	event: "request";
	requestId: string;
	method: string;
	route: string;
	status: number;
	ms: number;
	taskId?: string;
	code?: number;
	tenant?: string;
}

/** Everything the gateway wrote to the console since the last reset, one string per call. */
let written: string[] = [];

beforeEach(() => {
	written = [];
	for (const method of ["log", "info", "warn", "error", "debug"] as const) {
		vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
			written.push(args.map((arg) => (typeof arg === "string" ? arg : JSON.stringify(arg))).join(" "));
		});
	}
});

afterEach(() => {
	vi.restoreAllMocks();
});

function requestLines(): RequestLine[] {
	return written.flatMap((text) => {
		try {
			const line = JSON.parse(text) as { event?: unknown };
			return line.event === "request" ? [line as RequestLine] : [];
		} catch {
			return [];
		}
	});
}

/** The single request line written since the last reset. */
function onlyRequestLine(): RequestLine {
	const lines = requestLines();
	expect(lines, written.join("\n")).toHaveLength(1);
	return lines[0] as RequestLine;
}

function expectNowhereInLogs(...values: string[]): void {
	expect(written.length).toBeGreaterThan(0);
	for (const value of values) {
		for (const text of written) expect(text, `a log line contains ${value}`).not.toContain(value);
	}
}

/** The prompt's last word is random per test run, so finding it in a log means the prompt leaked. */
function promptMarker(prompt: string): string {
	return prompt.split(" ").at(-1) as string;
}

describe("request log lines", () => {
	it("a create logs one line with its route, status, latency, taskId and a timestamp, and neither key nor prompt", async () => {
		const prompt = uniquePrompt("request logging");
		const response = await postJson("/api/v1/lyrics", { prompt });
		expect(response.status).toBe(200);
		const { data } = (await response.json()) as { data: { taskId: string } };

		const line = onlyRequestLine();
		expect(line).toMatchObject({
			level: "info",
			method: "POST",
			route: "/api/v1/lyrics",
			status: 200,
			taskId: data.taskId,
			tenant: await bareKeyTenant(API_KEY),
		});
		expect(line.ms).toBeGreaterThanOrEqual(0);
		expect(new Date(line.ts).toISOString()).toBe(line.ts);
		expect(line.requestId.length).toBeGreaterThan(0);
		expect(line.code).toBeUndefined();
		// The create also logs its task transition; every line gets the timestamp.
		for (const text of written) expect(JSON.parse(text)).toHaveProperty("ts");
		expectNowhereInLogs(API_KEY, prompt, promptMarker(prompt));
	});

	it("a callback logs its route pattern and taskId, never its token, its ref or the prompt", async () => {
		const prompt = uniquePrompt("callback logging");
		const taskId = await createTask(prompt);
		const callback = await simCallback(taskId);
		const url = new URL(callback.url);
		const token = url.searchParams.get("token") as string;
		const ref = url.pathname.split("/").at(-1) as string;
		expect(token.length).toBeGreaterThan(20);
		expect(ref).toMatch(/^[0-9a-f]{32}$/);

		written = [];
		expect((await deliver(callback)).status).toBe(200);
		expect(onlyRequestLine()).toMatchObject({
			level: "info",
			method: "POST",
			route: "/callbacks/kie/:ref",
			status: 200,
			taskId,
		});
		expectNowhereInLogs(token, ref, prompt, promptMarker(prompt), API_KEY);
	});

	it("an acknowledged duplicate callback has no line of its own; its object logs the duplicates together when it counts them in", async () => {
		const taskId = await createTask(uniquePrompt("duplicate logging"));
		const callback = await simCallback(taskId);
		written = [];
		expect((await deliver(callback)).status).toBe(200);
		// The line of the callback that decided the result tells of the result: no task_final line.
		const applied = onlyRequestLine() as RequestLine & { taskStatus?: string; resultMs?: number };
		expect(applied).toMatchObject({ taskId, verdict: "applied", status: 200, taskStatus: "SUCCESS" });
		expect(applied.resultMs).toBeGreaterThanOrEqual(0);
		expect(applied).not.toHaveProperty("replacedTimeout");
		expect(written.filter((text) => text.includes('"task_final"'))).toEqual([]);

		written = [];
		for (let i = 0; i < 3; i++) expect(await (await deliver(callback)).json()).toMatchObject({ data: { result: "already-final" } });
		expect(requestLines()).toEqual([]);

		await d1CaughtUp(taskId);
		const folded = written.map((text) => JSON.parse(text) as Record<string, unknown>).filter((line) => line.event === "duplicate_callbacks");
		expect(folded).toEqual([expect.objectContaining({ level: "info", taskId, count: 3, callbacksReceived: 4 })]);
	});

	it("a refused callback (forged token) logs a warning without the token it was sent", async () => {
		const taskId = await createTask(uniquePrompt("forged callback logging"));
		const callback = await simCallback(taskId);
		const url = new URL(callback.url);
		const forged = "Zm9yZ2VkLXRva2VuLXRoYXQtZG9lcy1ub3QtdmVyaWZ5IQ";
		url.searchParams.set("token", forged);

		written = [];
		expect((await deliver({ ...callback, url: url.toString() })).status).toBe(401);
		expect(onlyRequestLine()).toMatchObject({ level: "warn", route: "/callbacks/kie/:ref", status: 401 });
		expectNowhereInLogs(forged, url.pathname);
	});

	it("a callback path no route answers is logged without its ref or query", async () => {
		const ref = "0123456789abcdef0123456789abcdef";
		// GET: the callback route serves only POST.
		const response = await gateway(`/callbacks/kie/${ref}?token=some-token-value`);
		expect(response.status).toBe(405);
		expect(onlyRequestLine()).toMatchObject({ level: "warn", method: "GET", route: "/callbacks/kie/:ref", status: 405 });
		expectNowhereInLogs(ref, "some-token-value");

		written = [];
		await gateway("/no/such/route?secret=abc123");
		expect(onlyRequestLine()).toMatchObject({ route: "/no/such/route", status: 404 });
		expectNowhereInLogs("abc123");
	});

	it("record-info logs the taskId it was asked for", async () => {
		const taskId = await createTask(uniquePrompt("record-info logging"));
		written = [];
		await api(`/api/v1/lyrics/record-info?taskId=${taskId}`);
		expect(onlyRequestLine()).toMatchObject({
			level: "info",
			method: "GET",
			route: "/api/v1/lyrics/record-info",
			status: 200,
			taskId,
		});
	});

	it("record-info asked for a configured secret as its taskId neither quotes it back nor logs it", async () => {
		for (const secret of ["test-upstream-key", "test-callback-token-secret", "test-key-2", API_KEY]) {
			written = [];
			const response = await api(`/api/v1/lyrics/record-info?taskId=${secret}`);
			expect(response.status).toBe(404);
			const body = await response.text();
			expect(JSON.parse(body)).toMatchObject({ code: 404, data: null });
			expect(body).not.toContain(secret);
			expect(onlyRequestLine()).toMatchObject({ route: "/api/v1/lyrics/record-info", status: 404 });
			expect(onlyRequestLine()).not.toHaveProperty("taskId");
			expectNowhereInLogs(secret);
		}
		// An ordinary unknown id is still quoted back, and logged.
		written = [];
		const unknown = "0123456789abcdef0123456789abcdef";
		expect(await (await api(`/api/v1/lyrics/record-info?taskId=${unknown}`)).text()).toContain(unknown);
		expect(onlyRequestLine()).toMatchObject({ taskId: unknown });
	});

	it("a refused key is a warning, and the key sent is not logged", async () => {
		const wrongKey = "wrong-key-that-must-not-be-logged";
		const response = await api("/api/v1/lyrics/tasks", { headers: { authorization: `Bearer ${wrongKey}` } });
		expect(response.status).toBe(401);
		const line = onlyRequestLine();
		expect(line).toMatchObject({ level: "warn", route: "/api/v1/lyrics/tasks", status: 401 });
		// The envelope's code is the status itself here: only an upstream's own code is worth a field.
		expect(line).not.toHaveProperty("code");
		expectNowhereInLogs(wrongKey, API_KEY);
	});

	it("an upstream refusal logs the upstream's code; an upstream failure logs at error level", async () => {
		const broke = uniquePrompt("no credits logging");
		await simScript(broke, { createBody: { code: 429, msg: "Insufficient credits" } });
		expect((await postJson("/api/v1/lyrics", { prompt: broke })).status).toBe(402);
		expect(onlyRequestLine()).toMatchObject({ level: "warn", status: 402, code: 429 });
		expectNowhereInLogs(broke, promptMarker(broke), API_KEY);

		written = [];
		const failing = uniquePrompt("upstream failure logging");
		await simScript(failing, { createStatus: 500 });
		expect((await postJson("/api/v1/lyrics", { prompt: failing })).status).toBe(502);
		expect(onlyRequestLine()).toMatchObject({ level: "error", status: 502, code: 500 });
		expectNowhereInLogs(failing, promptMarker(failing), API_KEY);
	});

	it("uses Cloudflare's ray id as the request id, and a fresh id per request without one", async () => {
		await gateway("/healthz", { headers: { "cf-ray": "8f3a1b2c4d5e6f70-AMS" } });
		expect(onlyRequestLine()).toMatchObject({ requestId: "8f3a1b2c4d5e6f70-AMS", route: "/healthz", status: 200 });

		written = [];
		await gateway("/healthz");
		await gateway("/healthz");
		const [first, second] = requestLines();
		expect(first?.requestId).toBeTruthy();
		expect(second?.requestId).toBeTruthy();
		expect(first?.requestId).not.toBe(second?.requestId);
	});
});
