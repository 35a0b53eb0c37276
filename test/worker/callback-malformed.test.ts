/**
 * What the callback route makes of bodies: malformed ones answer 400 (over 256 KiB: 413) and
 * write nothing; every variant the provider's documents disagree on is applied correctly; and
 * nothing a caller sends makes the route answer 5xx.
 */
import { describe, expect, it } from "vitest";
import {
	type CallbackRequest,
	type RecordInfo,
	api,
	callbackBody,
	createTask,
	deliver,
	envelope,
	expectErrorEnvelope,
	inspectTask,
	recordInfo,
	simCallback,
	simScript,
	uniquePrompt,
	withBody,
} from "./helpers";

const MAX_BODY_BYTES = 256 * 1024;

/** A stored, pending task with the callback the upstream would send for it. */
async function pendingTask(label: string, script?: Record<string, unknown>) {
	const prompt = uniquePrompt(label);
	if (script) await simScript(prompt, script);
	const taskId = await createTask(prompt);
	const callback = await simCallback(taskId);
	return { taskId, callback, body: callbackBody(callback) };
}

async function expectUntouched(taskId: string) {
	const info = await recordInfo(taskId);
	expect(info.data.status).toBe("PENDING");
	expect(info.data.callbacksReceived).toBe(0);
	const { state, earlyCallbacks } = await inspectTask(taskId);
	expect(state?.version).toBe(1);
	expect(earlyCallbacks).toBe(0);
}

async function expectError(response: Response, status: number) {
	await expectErrorEnvelope(response, status);
}

/** A valid JSON callback body padded (in `msg`) to exactly `bytes` UTF-8 bytes. */
function paddedBody(body: object, bytes: number): string {
	const base = JSON.stringify({ ...body, msg: "" });
	const text = JSON.stringify({ ...body, msg: "x".repeat(bytes - new TextEncoder().encode(base).byteLength) });
	expect(new TextEncoder().encode(text).byteLength).toBe(bytes);
	return text;
}

describe("malformed callback bodies", () => {
	it("answers 400 and writes nothing for bodies that are not the provider's schema", async () => {
		const { taskId, callback, body } = await pendingTask("a letter written in smudges");
		const data = body.data;
		const item = data.data?.[0] ?? {};
		const cases: [string, string | unknown][] = [
			["not JSON", "{this is not json"],
			["truncated JSON", callback.body.slice(0, -2)],
			["empty", ""],
			["whitespace", "   \n"],
			["JSON null", null],
			["JSON string", "\"hello\""],
			["JSON number", "200"],
			["JSON array", [body]],
			["code as a string", { ...body, code: "200" }],
			["code missing", { msg: body.msg, data }],
			["code a fraction", { ...body, code: 200.5 }],
			["msg a number", { ...body, msg: 7 }],
			["data missing", { code: 200, msg: "ok" }],
			["data null", { code: 200, msg: "ok", data: null }],
			["data a string", { ...body, data: "nope" }],
			["data an array", { ...body, data: [data] }],
			["no task_id", { ...body, data: { ...data, task_id: undefined } }],
			["task_id a number", { ...body, data: { ...data, task_id: 12345 } }],
			["task_id empty", { ...body, data: { ...data, task_id: "" } }],
			["task_id null", { ...body, data: { ...data, task_id: null } }],
			["callbackType a number", { ...body, data: { ...data, callbackType: 1 } }],
			["items an object", { ...body, data: { ...data, data: item } }],
			["items a string", { ...body, data: { ...data, data: "[Verse]" } }],
			["items not objects", { ...body, data: { ...data, data: ["x"] } }],
			["items null", { ...body, data: { ...data, data: [null] } }],
			["items numbers", { ...body, data: { ...data, data: [1, 2] } }],
			["items arrays", { ...body, data: { ...data, data: [[item]] } }],
			["over a thousand items (the provider sends 2-3)", { ...body, data: { ...data, data: Array(1001).fill({}) } }],
			["one good item, one bad", { ...body, data: { ...data, data: [item, "x"] } }],
			["item text a number", { ...body, data: { ...data, data: [{ ...item, text: 42 }] } }],
			["item title an object", { ...body, data: { ...data, data: [{ ...item, title: { a: 1 } }] } }],
			["item status a boolean", { ...body, data: { ...data, data: [{ ...item, status: true }] } }],
			["item error_message an array", { ...body, data: { ...data, data: [{ ...item, error_message: [] }] } }],
		];
		for (const [name, bad] of cases) {
			const response = await deliver(withBody(callback, bad === null ? "null" : bad));
			expect(response.status, name).toBe(400);
			await expectError(response, 400);
		}
		// The message says which field is wrong.
		const named: [unknown, string][] = [
			[{ ...body, code: "200" }, "code"],
			[{ code: 200, msg: "ok" }, "data"],
			[{ ...body, data: { ...data, task_id: undefined } }, "task_id"],
			[{ ...body, data: { ...data, task_id: 12345 } }, "data.task_id"],
			[{ ...body, data: { ...data, data: ["x"] } }, "data.data[0]"],
			[{ ...body, data: { ...data, data: [{ ...item, text: 42 }] } }, "data.data[0].text"],
		];
		for (const [bad, field] of named) {
			const answer = await expectErrorEnvelope(await deliver(withBody(callback, bad)), 400);
			expect(answer.msg).toContain(field);
		}
		await expectUntouched(taskId);

		// The same URL with the task's real body still works.
		expect((await deliver(callback)).status).toBe(200);
		expect((await recordInfo(taskId)).data.status).toBe("SUCCESS");
	});

	it("answers 400 for bytes that are not UTF-8, whatever the Content-Type says", async () => {
		const { taskId, callback } = await pendingTask("a letter in a foreign script");
		const url = new URL(callback.url);
		const path = `${url.pathname}${url.search}`;
		const bytes = new TextEncoder().encode(callback.body);
		const broken = new Uint8Array([...bytes.slice(0, 20), 0xff, 0xfe, ...bytes.slice(20)]);
		for (const contentType of ["application/json", "text/plain", "application/octet-stream"]) {
			await expectError(
				await api(path, { method: "POST", headers: { "content-type": contentType }, body: broken }),
				400,
			);
		}
		await expectUntouched(taskId);
	});

	it("answers 413 for a body over 256 KiB and writes nothing, and takes one of exactly 256 KiB", async () => {
		const { taskId, callback, body } = await pendingTask("a letter too long to read");
		await expectError(await deliver(withBody(callback, paddedBody(body, MAX_BODY_BYTES + 1))), 413);
		await expectError(await deliver(withBody(callback, paddedBody(body, 4 * MAX_BODY_BYTES))), 413);
		await expectError(await deliver(withBody(callback, `"${"x".repeat(MAX_BODY_BYTES)}"`)), 413);
		await expectUntouched(taskId);

		const atLimit = await deliver(withBody(callback, paddedBody(body, MAX_BODY_BYTES)));
		expect(atLimit.status).toBe(200);
		expect((await recordInfo(taskId)).data.status).toBe("SUCCESS");
	});
});

describe("accepted callback variants", () => {
	it("takes taskId instead of task_id, and errorMessage instead of error_message", async () => {
		const { taskId } = await pendingTask("a letter in camel case");
		const camel = await simCallback(taskId, "?variant=camel");
		const sent = callbackBody(camel);
		expect(sent.data.taskId).toBe(taskId);
		expect(sent.data.task_id).toBeUndefined();
		const items = sent.data.data ?? [];
		expect(items.length).toBeGreaterThanOrEqual(2);
		// One variation failed, the provider says why in camelCase.
		const mixed = {
			...sent,
			data: {
				...sent.data,
				data: [
					{ errorMessage: "", status: "complete", text: items[0]?.text, title: items[0]?.title },
					{ errorMessage: "This variation could not be generated.", status: "failed", text: "", title: "" },
				],
			},
		};

		const answer = await deliver(withBody(camel, mixed));
		expect(answer.status).toBe(200);
		expect(await answer.json()).toMatchObject({ data: { taskId, result: "applied" } });
		const done = await recordInfo(taskId);
		expect(done.data.status).toBe("SUCCESS");
		expect(done.data.response.data).toEqual([
			{ errorMessage: "", status: "complete", text: items[0]?.text, title: items[0]?.title },
			{ errorMessage: "This variation could not be generated.", status: "failed", text: "", title: "" },
		]);
	});

	it("takes error_message (snake_case) on a failed variation", async () => {
		const { taskId, callback, body } = await pendingTask("a letter in snake case");
		const first = body.data.data?.[0] ?? {};
		const mixed = {
			...body,
			data: {
				...body.data,
				data: [first, { error_message: "Variation two failed.", status: "failed", text: "", title: "" }],
			},
		};
		expect((await deliver(withBody(callback, mixed))).status).toBe(200);
		const done = await recordInfo(taskId);
		expect(done.data.status).toBe("SUCCESS");
		expect(done.data.response.data[1]).toEqual({
			errorMessage: "Variation two failed.",
			status: "failed",
			text: "",
			title: "",
		});
	});

	it("stores a failure callback with data.data null as a final failure with its code and msg", async () => {
		const { taskId } = await pendingTask("a letter returned to sender");
		const failure = await simCallback(taskId, "?fail=1");
		const sent = callbackBody(failure);
		expect(sent.code).toBe(400);
		expect(sent.data.data).toBeNull();

		expect(await (await deliver(failure)).json()).toMatchObject({ code: 200, data: { taskId, result: "applied" } });
		const done = await recordInfo(taskId);
		expect(done.data.status).toBe("GENERATE_LYRICS_FAILED");
		expect(done.data.errorCode).toBe(400);
		expect(done.data.errorMessage).toBe(sent.msg);
		expect(done.data.response.data).toEqual([]);
		expect(done.data.resultSource).toBe("callback");
	});

	it('treats callbackType "error" as a final failure', async () => {
		const { taskId } = await pendingTask("a letter stamped error");
		const failure = await simCallback(taskId, "?variant=error-type");
		const sent = callbackBody(failure);
		expect(sent.data.callbackType).toBe("error");

		expect((await deliver(failure)).status).toBe(200);
		const done = await recordInfo(taskId);
		expect(done.data.status).toBe("GENERATE_LYRICS_FAILED");
		expect(done.data.errorCode).toBe(sent.code);
		expect(done.data.errorMessage).toBe(sent.msg);
	});

	it('treats callbackType "error" as a failure even with code 200 and no items', async () => {
		const { taskId, callback, body } = await pendingTask("an error dressed as success");
		const odd = { code: 200, msg: "Lyrics generation failed.", data: { ...body.data, callbackType: "error", data: null } };
		expect((await deliver(withBody(callback, odd))).status).toBe(200);
		const done = await recordInfo(taskId);
		expect(done.data.status).toBe("GENERATE_LYRICS_FAILED");
		expect(done.data.errorMessage).toBe("Lyrics generation failed.");
	});

	for (const code of [408, 413, 500, 501, 531]) {
		it(`stores callback code ${code} as a final failure`, async () => {
			const { taskId } = await pendingTask(`a letter refused with ${code}`, { callback: "fail", failCode: code });
			const failure = await simCallback(taskId);
			const sent = callbackBody(failure);
			expect(sent.code).toBe(code);

			expect((await deliver(failure)).status).toBe(200);
			const done = await recordInfo(taskId);
			expect(done.data.status).toBe("GENERATE_LYRICS_FAILED");
			expect(done.data.errorCode).toBe(code);
			expect(done.data.errorMessage).toBe(sent.msg);
			expect(done.data.errorMessage?.length).toBeGreaterThan(0);

			// Final: a success arriving later does not replace it.
			expect(await (await deliver(await simCallback(taskId, "?fail=0"))).json()).toMatchObject({
				data: { result: "already-final" },
			});
			expect((await recordInfo(taskId)).data.status).toBe("GENERATE_LYRICS_FAILED");
		});
	}

	it("stores a moderation refusal as SENSITIVE_WORD_ERROR", async () => {
		const failMsg = "Your prompt contains an artist name. Please rephrase it without the artist name.";
		const { taskId } = await pendingTask("a letter naming a famous singer", { callback: "fail", failCode: 400, failMsg });
		const failure = await simCallback(taskId);
		expect(callbackBody(failure).msg).toBe(failMsg);

		expect((await deliver(failure)).status).toBe(200);
		const done = await recordInfo(taskId);
		expect(done.data.status).toBe("SENSITIVE_WORD_ERROR");
		expect(done.data.errorCode).toBe(400);
		expect(done.data.errorMessage).toBe(failMsg);
	});

	it("fills in a message when a failure callback has none", async () => {
		const { taskId, callback, body } = await pendingTask("a letter with nothing inside");
		const silent = { code: 500, msg: "", data: { ...body.data, data: null } };
		expect((await deliver(withBody(callback, silent))).status).toBe(200);
		const done = await recordInfo(taskId);
		expect(done.data.status).toBe("GENERATE_LYRICS_FAILED");
		expect(done.data.errorCode).toBe(500);
		expect(done.data.errorMessage?.trim().length).toBeGreaterThan(0);
	});
});

describe("hostile bodies", () => {
	function deep(levels: number, leaf: unknown = 1): unknown {
		let value: unknown = leaf;
		for (let i = 0; i < levels; i++) value = { a: value };
		return value;
	}

	/**
	 * What a hostile body must leave behind: refused (400, or 401 for a well-formed task_id that is not
	 * the task its callback URL was minted for) with the task untouched, or applied as a success or failure
	 * with this many items ("all" = as many as the genuine callback carries).
	 */
	type Outcome = { answer: 400 | 401 } | { answer: 200; status: "SUCCESS" | "GENERATE_LYRICS_FAILED"; errorCode: number | null; items: number | "all" };
	const REFUSED: Outcome = { answer: 400 };
	const UNSIGNED: Outcome = { answer: 401 };
	const succeeded = (items: number | "all"): Outcome => ({ answer: 200, status: "SUCCESS", errorCode: null, items });
	const failed = (errorCode: number, items: number): Outcome => ({ answer: 200, status: "GENERATE_LYRICS_FAILED", errorCode, items });

	/** Bodies built around a real task's callback; each gets its own task. */
	const hostile: [string, (request: CallbackRequest, taskId: string) => string | unknown, Outcome][] = [
		["huge code", (_, id) => ({ code: 1e308, msg: "x", data: { task_id: id, data: null } }), REFUSED],
		["code past 2^53", (_, id) => `{"code": 9007199254740993, "msg": "x", "data": {"task_id": "${id}", "data": null}}`, REFUSED],
		["code infinite", (_, id) => `{"code": 1e999, "msg": "x", "data": {"task_id": "${id}", "data": null}}`, REFUSED],
		["negative code", (_, id) => ({ code: -2147483649, msg: "x", data: { task_id: id, data: null } }), failed(-2147483649, 0)],
		["code zero", (_, id) => ({ code: 0, msg: "x", data: { task_id: id, data: null } }), failed(0, 0)],
		["deeply nested extra field", (r) => ({ ...callbackBody(r), extra: deep(5000) }), succeeded("all")],
		["deeply nested item", (_, id) => ({ code: 200, msg: "x", data: { task_id: id, data: [deep(5000)] } }), failed(500, 1)],
		["deeply nested text", (_, id) => ({ code: 200, msg: "x", data: { task_id: id, data: [{ text: deep(5000) }] } }), REFUSED],
		["deeply nested arrays", () => `${"[".repeat(50_000)}${"]".repeat(50_000)}`, REFUSED],
		["unbalanced nesting", () => "[".repeat(100_000), REFUSED],
		["unicode everywhere", (_, id) => ({ code: 400, msg: "歌詞 🎵 \u202e\u0000 ünïcödé", data: { task_id: id, callbackType: "错误", data: [{ text: "🎶".repeat(1000), title: "\u0000\u001f", status: "完成" }] } }), failed(400, 1)],
		["lone surrogates", (_, id) => `{"code": 400, "msg": "\\ud800\\udfff\\udc00", "data": {"task_id": "${id}", "data": [{"text": "\\ud83c", "title": "\\udead"}]}}`, failed(400, 1)],
		["unicode task_id", (r) => ({ ...callbackBody(r), data: { ...callbackBody(r).data, task_id: "τασκ-🎵" } }), REFUSED],
		["path-like task_id", (r) => ({ ...callbackBody(r), data: { ...callbackBody(r).data, task_id: "../../tasks/x" } }), REFUSED],
		["overlong task_id", (r) => ({ ...callbackBody(r), data: { ...callbackBody(r).data, task_id: "a".repeat(5000) } }), REFUSED],
		["__proto__ task_id", (r) => ({ ...callbackBody(r), data: { ...callbackBody(r).data, task_id: "__proto__" } }), UNSIGNED],
		["constructor task_id", (r) => ({ ...callbackBody(r), data: { ...callbackBody(r).data, task_id: "constructor" } }), UNSIGNED],
		["__proto__ at top", (r) => `{"__proto__": {"code": 200, "polluted": true}, ${r.body.slice(1)}`, succeeded("all")],
		["__proto__ only", () => `{"__proto__": {"code": 200, "data": {"task_id": "x"}}}`, REFUSED],
		["__proto__ in data", (_, id) => `{"code": 200, "msg": "x", "data": {"__proto__": {"polluted": true}, "task_id": "${id}", "data": [{"text": "t", "title": "t", "status": "complete", "__proto__": {"polluted": true}}]}}`, succeeded(1)],
		["constructor.prototype", (r) => ({ ...callbackBody(r), constructor: { prototype: { polluted: true } } }), succeeded("all")],
		["duplicate keys", (_, id) => `{"code": 200, "code": "200", "msg": "x", "data": {"task_id": "${id}", "task_id": 5, "data": null}}`, REFUSED],
		["thousands of empty items", (_, id) => ({ code: 200, msg: "x", data: { task_id: id, data: Array(80_000).fill({}) } }), REFUSED],
		["thousands of tiny items", (_, id) => ({ code: 200, msg: "x", data: { task_id: id, data: Array(19_000).fill({ text: "a" }) } }), REFUSED],
		["many unknown keys", (r) => ({ ...callbackBody(r), ...Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i])) }), succeeded("all")],
		["BOM then JSON", (r) => `\ufeff${r.body}`, succeeded("all")],
		["NUL bytes", (r) => `${r.body}\u0000`, REFUSED],
		["number literal soup", () => "-0.0e-999999", REFUSED],
		["keyword", () => "true", REFUSED],
	];

	it.each(hostile)("answers < 500 for %s, and the task stays readable", async (name, build, outcome) => {
		const { taskId, callback } = await pendingTask(`a hostile letter: ${name}`);
		const body = build(callback, taskId);
		const response = await deliver(withBody(callback, body));
		expect(response.status, `${name}: ${await response.clone().text()}`).toBeLessThan(500);
		const answer = (await response.json()) as { code: number };
		expect(answer.code).toBeLessThan(500);
		expect(({} as Record<string, unknown>).polluted).toBeUndefined();
		expect(Object.prototype).not.toHaveProperty("polluted");

		// Whatever it did, the task is still served, and what the object decided D1 shows.
		const info = await api(`/api/v1/lyrics/record-info?taskId=${taskId}`);
		expect(info.status).toBe(200);
		const { state } = await inspectTask(taskId);
		expect(state?.syncedVersion).toBe(state?.version);
		// What a 256 KiB body makes the gateway store must fit well within one row: Durable Object
		// SQLite and D1 refuse rows over 2 MB in production (workerd does not): 5xx there.
		expect(new TextEncoder().encode(JSON.stringify(state)).byteLength).toBeLessThan(1_000_000);
		expect(response.status).toBe(outcome.answer);
		const stored = (await envelope<RecordInfo>(info)).data;
		const genuineItems = callbackBody(callback).data.data?.length ?? 0;
		expect({
			status: stored.status,
			errorCode: stored.errorCode,
			items: stored.response?.data?.length ?? 0,
			callbacksReceived: state?.callbacksReceived,
			version: state?.version,
		}).toEqual(
			outcome.answer === 200
				? {
						status: outcome.status,
						errorCode: outcome.errorCode,
						items: outcome.items === "all" ? genuineItems : outcome.items,
						callbacksReceived: 1,
						version: 2,
					}
				: { status: "PENDING", errorCode: null, items: 0, callbacksReceived: 0, version: 1 },
		);
	});

	it("answers < 500 for hostile signature headers when KIE_WEBHOOK_HMAC_KEY is set", async () => {
		const { taskId, callback } = await pendingTask("a letter with a hostile seal");
		const headers: Record<string, string>[] = [
			{ "X-Webhook-Timestamp": "9".repeat(400), "X-Webhook-Signature": "A".repeat(44) },
			{ "X-Webhook-Timestamp": "NaN", "X-Webhook-Signature": "=" },
			{ "X-Webhook-Timestamp": "0x10", "X-Webhook-Signature": "A".repeat(20_000) },
			{ "X-Webhook-Timestamp": " ", "X-Webhook-Signature": "\u00e9" },
		];
		for (const extra of headers) {
			const response = await deliver(
				{ ...callback, headers: { "Content-Type": "application/json", ...extra } },
				{ KIE_WEBHOOK_HMAC_KEY: "hostile-key" },
			);
			expect(response.status).toBe(401);
		}
		await expectUntouched(taskId);
	});
});
