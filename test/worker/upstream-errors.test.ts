/**
 * Every way a create can fail upstream, mapped to the contract's status table: the right HTTP
 * status and envelope code, a plain-words msg that never echoes the upstream's text (nor the
 * upstream key it may contain), one upstream call (never a retry that could spend a second
 * credit), and nothing stored.
 */
import { describe, expect, it } from "vitest";
import {
	UNREACHABLE_URL,
	createTask,
	envelope,
	expectErrorEnvelope,
	postJson,
	recordInfo,
	sim,
	simScript,
	simStats,
	storedTasksMatching,
	uniquePrompt,
	waitForSimTask,
} from "./helpers";

const UPSTREAM_KEY = "test-upstream-key";
/** UPSTREAM_TIMEOUT_MS in vitest.config.ts. */
const TIMEOUT_MS = 1500;

interface Case {
	name: string;
	script: Record<string, unknown>;
	status: number;
	code: number;
	retryAfter?: boolean;
}

/** Upstream error bodies all carry the upstream key in their text, as a careless provider might. */
const says = (code: number, what: string) => ({ code, msg: `${what} (key ${UPSTREAM_KEY})` });

const cases: Case[] = [
	{ name: "body code 429 (insufficient credits)", script: { createBody: says(429, "Insufficient credits") }, status: 402, code: 429 },
	{ name: "body code 405 (rate limit)", script: { createBody: says(405, "Rate limit exceeded") }, status: 429, code: 405, retryAfter: true },
	{ name: "body code 430 (call frequency)", script: { createBody: says(430, "Call frequency too high") }, status: 429, code: 430, retryAfter: true },
	{ name: "HTTP 429 status", script: { createStatus: 429 }, status: 429, code: 429, retryAfter: true },
	{
		name: "HTTP 429 status with a JSON body code 430",
		script: { createStatus: 429, createBody: says(430, "Call frequency too high") },
		status: 429,
		code: 430,
		retryAfter: true,
	},
	{
		name: "HTTP 429 status with a JSON body code 429",
		script: { createStatus: 429, createBody: says(429, "Too many requests") },
		status: 429,
		code: 429,
		retryAfter: true,
	},
	{
		name: "HTTP 429 status with an HTML body",
		script: { createStatus: 429, createRaw: `<html><body>Too many requests for ${UPSTREAM_KEY}</body></html>` },
		status: 429,
		code: 429,
		retryAfter: true,
	},
	{ name: "body code 455 (maintenance)", script: { createBody: says(455, "System maintenance") }, status: 503, code: 455 },
	{ name: "body code 500", script: { createBody: { code: 500, msg: `bad key ${UPSTREAM_KEY}` } }, status: 502, code: 500 },
	{ name: "HTTP 500 status", script: { createStatus: 500 }, status: 502, code: 500 },
	{ name: "HTTP 503 status", script: { createStatus: 503 }, status: 502, code: 500 },
	{ name: "HTTP 500 status echoing the key", script: { createStatus: 500, createBody: says(500, "Server error") }, status: 502, code: 500 },
	{
		name: "HTTP 502 status with an HTML body",
		script: { createStatus: 502, createRaw: `<html><h1>502 Bad Gateway</h1>${UPSTREAM_KEY}</html>` },
		status: 502,
		code: 500,
	},
	{
		name: "an HTML page with HTTP 200",
		script: { createRaw: `<!doctype html><html><body>Welcome ${UPSTREAM_KEY}</body></html>` },
		status: 502,
		code: 502,
	},
	{ name: "an empty answer", script: { createRaw: "" }, status: 502, code: 502 },
	{ name: "truncated JSON", script: { createRaw: '{"code":200,"msg":"success","data":{"taskId":"ab' }, status: 502, code: 502 },
	{ name: "a JSON value that is not an object", script: { createBody: [UPSTREAM_KEY] }, status: 502, code: 502 },
	{ name: "code 200 without data", script: { createBody: { code: 200, msg: "success" } }, status: 502, code: 502 },
	{ name: "code 200 without a taskId", script: { createBody: { code: 200, msg: "success", data: {} } }, status: 502, code: 502 },
	{ name: "code 200 with an empty taskId", script: { createBody: { code: 200, msg: "success", data: { taskId: "" } } }, status: 502, code: 502 },
	{ name: "code 200 with a null taskId", script: { createBody: { code: 200, msg: "success", data: { taskId: null } } }, status: 502, code: 502 },
	{ name: "code 200 with a numeric taskId", script: { createBody: { code: 200, msg: "success", data: { taskId: 12345 } } }, status: 502, code: 502 },
	{
		name: "code 200 with a taskId that is a path",
		script: { createBody: { code: 200, msg: "success", data: { taskId: "../../admin" } } },
		status: 502,
		code: 502,
	},
	{
		name: "a taskId without code 200",
		script: { createBody: { code: 500, msg: UPSTREAM_KEY, data: { taskId: "0123456789abcdef0123456789abcdef" } } },
		status: 502,
		code: 500,
	},
	{ name: "body code 400 (invalid parameters)", script: { createBody: says(400, "Invalid parameters") }, status: 400, code: 400 },
	{ name: "body code 413 (prompt too long)", script: { createBody: says(413, "Theme or prompt too long") }, status: 413, code: 413 },
	{
		// The gateway's own upstream key was refused: the client's key is fine, so no 401 for it.
		name: "body code 401 (the gateway's upstream key refused)",
		script: { createBody: says(401, "Unauthorized: invalid API key") },
		status: 502,
		code: 502,
	},
];

/** No stored task carries the prompt, and the upstream saw exactly one create for it. */
async function expectNothingLeftBehind(marker: string) {
	expect(await storedTasksMatching(marker)).toEqual([]);
	expect((await simStats(marker)).creates).toBe(1);
}

describe("upstream failures of a create", () => {
	it.each(cases)("$name → HTTP $status, code $code", async ({ script, status, code, retryAfter }) => {
		const marker = uniquePrompt("upstream failure");
		await simScript(marker, script);

		const response = await postJson("/api/v1/lyrics", { prompt: marker, callBackUrl: "https://client.example/hook" });
		const retryAfterHeader = response.headers.get("retry-after");
		const body = await expectErrorEnvelope(response, status, code);
		expect(body.msg).not.toContain(UPSTREAM_KEY);
		// A rate limit says when to come back; no other failure promises a time.
		expect(retryAfterHeader).toEqual(retryAfter ? expect.stringMatching(/^[1-9]\d*$/) : null);

		await expectNothingLeftBehind(marker);
	});

	it("an unreachable upstream → HTTP 502, code 502, not a timeout", async () => {
		const marker = uniquePrompt("unreachable upstream");
		// A server the test run holds that resets every connection; with the longest deadline the
		// gateway allows, a 502 (not a 504) shows it gave up on the failed connection, not the clock.
		const response = await postJson(
			"/api/v1/lyrics",
			{ prompt: marker },
			{ KIE_BASE_URL: UNREACHABLE_URL, UPSTREAM_TIMEOUT_MS: "15000" },
		);
		await expectErrorEnvelope(response, 502, 502);
		expect(await storedTasksMatching(marker)).toEqual([]);
	});

	it("a hanging upstream → HTTP 504, code 504, within the configured timeout", async () => {
		const marker = uniquePrompt("hanging upstream");
		await simScript(marker, { hang: true });

		const started = Date.now();
		const response = await postJson("/api/v1/lyrics", { prompt: marker });
		const elapsed = Date.now() - started;
		await expectErrorEnvelope(response, 504, 504);
		// It waited its deadline out (the upstream never answers, so only the deadline ends it).
		expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
		await expectNothingLeftBehind(marker);
	});

	it("an upstream that creates the task but answers after the timeout → 504, and the late task is not stored", async () => {
		const marker = uniquePrompt("late upstream");
		const gate = `late-${crypto.randomUUID()}`;
		await simScript(marker, { createGate: gate });

		// The simulator holds its answer until the gateway has given up.
		const response = await postJson("/api/v1/lyrics", { prompt: marker });
		await expectErrorEnvelope(response, 504, 504);
		await sim(`/__sim/gates/${gate}/open`, { method: "POST" });

		// The upstream did make a task; the client was told the create failed, so none is stored.
		const upstreamTask = await waitForSimTask(marker);
		const lookup = await recordInfo(upstreamTask.taskId);
		expect(lookup.code).toBe(404);
		await expectNothingLeftBehind(marker);
	});

	it("an upstream answering within the timeout is not a timeout", async () => {
		const marker = uniquePrompt("slow but in time upstream");
		await simScript(marker, { createDelayMs: 500 });

		// Half a second late against the longest deadline the gateway allows: in time however busy the machine.
		const response = await postJson("/api/v1/lyrics", { prompt: marker }, { UPSTREAM_TIMEOUT_MS: "15000" });
		const body = await envelope<{ taskId: string }>(response);
		expect(response.status, body.msg).toBe(200);
		expect((await storedTasksMatching(marker)).map((task) => task.taskId)).toEqual([body.data.taskId]);
	});
});

describe("an upstream that hands out a task id twice", () => {
	it("answers 502 for the second create and leaves the first task as it was", async () => {
		const first = await createTask(uniquePrompt("the first owner of an id"));
		const marker = uniquePrompt("a second create given the same id");
		await simScript(marker, { createBody: { code: 200, msg: "success", data: { taskId: first } } });

		const response = await postJson("/api/v1/lyrics", { prompt: marker });
		expect(response.status).toBe(502);
		const body = await envelope(response);
		expect(body).toMatchObject({ code: 502, data: null });
		expect(body.msg).toContain(first);

		const info = await recordInfo(first);
		expect(JSON.parse(info.data.param).prompt).not.toContain(marker);
		expect(info.data.status).toBe("PENDING");
	});
});
