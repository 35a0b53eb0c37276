/**
 * POST /api/v1/lyrics input validation (the contract's status table): every rejection answers the
 * envelope with code = HTTP status, writes nothing and sends nothing upstream.
 */
import { describe, expect, it } from "vitest";
import {
	api,
	envelope,
	expectErrorEnvelope,
	listAllTasks,
	postJson,
	simStats,
	storedTasksMatching,
	uniquePrompt,
} from "./helpers";

const LIMIT_BYTES = 64 * 1024;
const HOOK = "https://client.example/hook";

function postRaw(body: BodyInit | null, headers: Record<string, string> = { "content-type": "application/json" }) {
	return api("/api/v1/lyrics", { method: "POST", headers, body });
}

/**
 * Sends one request that must be rejected with `status`, then checks that it left no trace: no
 * new task in the list, none carrying `marker`, and no create upstream carrying `marker`.
 */
async function expectRejected(send: () => Promise<Response>, status: number, marker?: string) {
	const before = (await listAllTasks()).length;
	const body = await expectErrorEnvelope(await send(), status);
	expect((await listAllTasks()).length).toBe(before);
	if (marker !== undefined) {
		expect(await storedTasksMatching(marker)).toEqual([]);
		expect((await simStats(marker)).creates).toBe(0);
	}
	return body;
}

/** A prompt of exactly `count` words: a unique marker, then filler words joined by `separator`. */
function promptOfWords(label: string, count: number, separator = " ") {
	const marker = uniquePrompt(label);
	const markerWords = marker.split(" ").length;
	const filler = Array.from({ length: count - markerWords }, (_, i) => `w${i}`);
	const prompt = [marker, ...filler].join(separator);
	expect(prompt.trim().split(/\s+/).length).toBe(count);
	return { marker, prompt };
}

async function expectCreated(response: Response, marker: string) {
	const body = await envelope<{ taskId: string }>(response);
	expect(response.status, body.msg).toBe(200);
	expect(body.code).toBe(200);
	expect(body.data.taskId).toMatch(/^[0-9a-f]{32}$/);
	expect((await simStats(marker)).creates).toBe(1);
	const stored = await storedTasksMatching(marker);
	expect(stored.map((task) => task.taskId)).toEqual([body.data.taskId]);
	return { taskId: body.data.taskId, stored: stored[0]! };
}

describe("bodies that are not a JSON object answer 400", () => {
	it.each([
		["malformed JSON", (m: string) => `{"prompt": "${m}",`],
		["JSON with single quotes", (m: string) => `{'prompt': '${m}'}`],
		["an array", (m: string) => JSON.stringify([{ prompt: m }])],
		["a string", (m: string) => JSON.stringify(m)],
		["a number", () => "42"],
		["null", () => "null"],
		["a boolean", () => "true"],
	])("%s", async (_name, body) => {
		const marker = uniquePrompt("not an object");
		await expectRejected(() => postRaw(body(marker)), 400, marker);
	});

	it("an empty body, with or without a content type", async () => {
		await expectRejected(() => postRaw(""), 400);
		await expectRejected(() => postRaw(null, {}), 400);
	});

	it("a body that is not UTF-8", async () => {
		const marker = uniquePrompt("latin one");
		const bytes = new Uint8Array([...new TextEncoder().encode(`{"prompt":"${marker} caf`), 0xe9, 0x22, 0x7d]);
		await expectRejected(() => postRaw(bytes), 400, marker);
	});
});

describe("a missing, empty or non-string prompt answers 400 naming the prompt", () => {
	it.each([
		["missing", (m: string) => ({ theme: m, callBackUrl: HOOK })],
		["empty", () => ({ prompt: "" })],
		["whitespace only", () => ({ prompt: " \t\n\r\u00a0\u3000 " })],
		["a number", () => ({ prompt: 42 })],
		["an object", (m: string) => ({ prompt: { text: m } })],
		["an array", (m: string) => ({ prompt: [m] })],
		["null", () => ({ prompt: null })],
		["a boolean", () => ({ prompt: true })],
	])("prompt %s", async (_name, body) => {
		const marker = uniquePrompt("bad prompt");
		const answer = await expectRejected(() => postJson("/api/v1/lyrics", body(marker)), 400, marker);
		expect(answer.msg).toMatch(/prompt/i);
	});
});

describe("a bad callBackUrl answers 400 naming callBackUrl", () => {
	it.each([
		["not a URL", "not a url"],
		["ftp:", "ftp://client.example/hook"],
		["javascript:", "javascript:alert(1)"],
		["data:", "data:text/plain,hello"],
		["mailto:", "mailto:ops@client.example"],
		["relative", "/hook"],
		["without a scheme", "client.example/hook"],
		["without a host", "https://"],
		["an empty string", ""],
		["a number", 42],
		["an object", { url: HOOK }],
		["an array", [HOOK]],
		["a boolean", true],
	])("%s", async (_name, callBackUrl) => {
		const marker = uniquePrompt("bad callback url");
		const answer = await expectRejected(
			() => postJson("/api/v1/lyrics", { prompt: marker, callBackUrl }),
			400,
			marker,
		);
		expect(answer.msg).toMatch(/callBackUrl/);
	});
});

describe("the 200-word prompt limit", () => {
	it("accepts a prompt of exactly 200 words", async () => {
		const { marker, prompt } = promptOfWords("two hundred words", 200);
		const { stored } = await expectCreated(await postJson("/api/v1/lyrics", { prompt }), marker);
		expect(JSON.parse(stored.param).prompt).toBe(prompt);
	});

	it("counts runs of whitespace as one separator, and ignores leading and trailing space", async () => {
		const { marker, prompt } = promptOfWords("spaced words", 200, "  \n\t ");
		await expectCreated(await postJson("/api/v1/lyrics", { prompt: `  ${prompt}\n ` }), marker);
	});

	it("answers 413 for 201 words, saying what the limit is", async () => {
		const { marker, prompt } = promptOfWords("two hundred and one words", 201);
		const answer = await expectRejected(() => postJson("/api/v1/lyrics", { prompt }), 413, marker);
		expect(answer.msg).toMatch(/200/);
	});

	it("answers 413 for 201 words separated by newlines and tabs", async () => {
		const { marker, prompt } = promptOfWords("many lines", 201, "\n\t");
		await expectRejected(() => postJson("/api/v1/lyrics", { prompt }), 413, marker);
	});
});

describe("the 64 KiB body limit", () => {
	/** A JSON body of exactly `size` bytes whose prompt is short: only its size can be wrong. */
	function bodyOfBytes(marker: string, size: number) {
		const empty = JSON.stringify({ prompt: marker, padding: "" });
		const text = JSON.stringify({ prompt: marker, padding: "x".repeat(size - empty.length) });
		expect(new TextEncoder().encode(text).byteLength).toBe(size);
		return text;
	}

	it("accepts a body of exactly 64 KiB", async () => {
		const marker = uniquePrompt("exactly sixty four kibibytes");
		await expectCreated(await postRaw(bodyOfBytes(marker, LIMIT_BYTES)), marker);
	});

	it("answers 413 for a body one byte over, with an honest Content-Length", async () => {
		const marker = uniquePrompt("one byte over");
		const body = bodyOfBytes(marker, LIMIT_BYTES + 1);
		const answer = await expectRejected(
			() => postRaw(body, { "content-type": "application/json", "content-length": String(LIMIT_BYTES + 1) }),
			413,
			marker,
		);
		expect(answer.msg).toMatch(/64 KiB/);
	});

	it("answers 413 for a much larger body", async () => {
		const marker = uniquePrompt("a megabyte");
		await expectRejected(() => postRaw(bodyOfBytes(marker, 1024 * 1024)), 413, marker);
	});

	/** A body stream without a length, in 4 KiB chunks; counts what the gateway pulled. */
	function streamOf(text: string) {
		const bytes = new TextEncoder().encode(text);
		const stats = { pulled: 0 };
		const stream = new ReadableStream<Uint8Array>({
			pull(controller) {
				if (stats.pulled >= bytes.byteLength) return controller.close();
				const chunk = bytes.slice(stats.pulled, stats.pulled + 4096);
				stats.pulled += chunk.byteLength;
				controller.enqueue(chunk);
			},
		});
		return { stream, stats };
	}

	/** Posts a stream, checking first that the request carries no Content-Length the gateway could rely on. */
	function postStream(stream: ReadableStream<Uint8Array>) {
		const headers = { "content-type": "application/json" };
		expect(new Request("https://gateway.test/", { method: "POST", headers, body: streamOf("{}").stream }).headers.get("content-length")).toBeNull();
		return postRaw(stream, headers);
	}

	it("counts the bytes of a streamed body: exactly 64 KiB is accepted, one byte more answers 413", async () => {
		const accepted = uniquePrompt("a stream of exactly the limit");
		await expectCreated(await postStream(streamOf(bodyOfBytes(accepted, LIMIT_BYTES)).stream), accepted);
		const refused = uniquePrompt("a stream one byte over");
		await expectRejected(() => postStream(streamOf(bodyOfBytes(refused, LIMIT_BYTES + 1)).stream), 413, refused);
	});

	it("accepts a small body streamed without a Content-Length", async () => {
		const marker = uniquePrompt("a small stream");
		await expectCreated(await postStream(streamOf(JSON.stringify({ prompt: marker })).stream), marker);
	});

	it("answers 413 for a body over 64 KiB streamed without a Content-Length, without reading all of it", async () => {
		const marker = uniquePrompt("a long stream");
		const { stream, stats } = streamOf(bodyOfBytes(marker, 4 * 1024 * 1024));
		await expectRejected(() => postStream(stream), 413, marker);
		expect(stats.pulled).toBeLessThan(LIMIT_BYTES + 64 * 1024);
	});
});

describe("configuration the create needs", () => {
	// CALLBACK_TOKEN_SECRET too: callback URLs are never keyed from KIE_API_KEY instead.
	it.each(
		(["KIE_API_KEY", "CALLBACK_TOKEN_SECRET"] as const).flatMap((setting) =>
			[
				["unset", undefined],
				["empty", ""],
				["blank", "   "],
			].map(([state, value]) => [setting, state, value] as const),
		),
	)("%s %s answers 503 saying so, sends nothing upstream and stores nothing", async (setting, _state, value) => {
		const marker = uniquePrompt(`no ${setting}`);
		const answer = await expectRejected(
			() => postJson("/api/v1/lyrics", { prompt: marker }, { [setting]: value }),
			503,
			marker,
		);
		expect(answer.msg).toMatch(new RegExp(setting));
	});

	it("PUBLIC_URL unset answers 503 saying so, and sends nothing upstream", async () => {
		const marker = uniquePrompt("no public url");
		const answer = await expectRejected(
			() => postJson("/api/v1/lyrics", { prompt: marker }, { PUBLIC_URL: undefined }),
			503,
			marker,
		);
		expect(answer.msg).toMatch(/PUBLIC_URL/);
	});
});

describe("accepted bodies", () => {
	it("ignores unknown body fields", async () => {
		const marker = uniquePrompt("extra fields");
		const response = await postJson("/api/v1/lyrics", {
			prompt: marker,
			callBackUrl: HOOK,
			model: "V4",
			instrumental: true,
			style: { mood: "calm" },
			tags: ["a", "b"],
		});
		const { stored } = await expectCreated(response, marker);
		expect(JSON.parse(stored.param)).toMatchObject({ prompt: marker, callBackUrl: HOOK });
	});

	it("accepts an http (not only https) callBackUrl", async () => {
		const marker = uniquePrompt("plain http hook");
		await expectCreated(await postJson("/api/v1/lyrics", { prompt: marker, callBackUrl: "http://client.example/hook" }), marker);
	});
});
