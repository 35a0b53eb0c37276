/**
 * Every constraint /openapi.json states about a request, read from the served document, probed
 * on the running route with a value just inside it (accepted) and one just outside it (refused
 * with the status the document gives). A constraint the document states but the route does not
 * hold, or the other way round at the edge, fails here.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
	api,
	callbackBody,
	createTask,
	deliver,
	envelope,
	gateway,
	postJson,
	simCallback,
	uniquePrompt,
	withBody,
} from "./helpers";

type Schema = Record<string, any>;
let doc: Schema;

beforeAll(async () => {
	doc = (await (await gateway("/openapi.json")).json()) as Schema;
});

const createSchema = (): Schema => doc.components.schemas.CreateLyricsRequest.properties;
const createParameter = (name: string) =>
	(doc.paths["/api/v1/lyrics"].post.parameters as Schema[]).find((parameter) => parameter.name === name) as Schema;
const listParameter = (name: string) =>
	(doc.paths["/api/v1/lyrics/tasks"].get.parameters as Schema[]).find((parameter) => parameter.name === name) as Schema;

/** A number the document states in prose, e.g. "at most 200 words". */
function statedNumber(description: string, pattern: RegExp): number {
	const match = pattern.exec(description);
	expect(match, `${pattern} in ${JSON.stringify(description)}`).not.toBeNull();
	return Number(match?.[1]);
}

async function statusOf(response: Response): Promise<number> {
	await response.arrayBuffer();
	return response.status;
}

function createRaw(body: string, headers: Record<string, string> = {}): Promise<Response> {
	return api("/api/v1/lyrics", { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

/** `{"prompt": …}` followed by JSON whitespace up to exactly `bytes` bytes. */
function paddedBody(value: unknown, bytes: number): string {
	const json = JSON.stringify(value);
	return json + " ".repeat(bytes - new TextEncoder().encode(json).byteLength);
}

describe("POST /api/v1/lyrics, as documented", () => {
	it("prompt: minLength", async () => {
		expect(createSchema().prompt.minLength).toBe(1);
		expect(await statusOf(await postJson("/api/v1/lyrics", { prompt: "x" }))).toBe(200);
		expect(await statusOf(await postJson("/api/v1/lyrics", { prompt: "" }))).toBe(400);
	});

	it("prompt: the non-blank pattern", async () => {
		const pattern = new RegExp(createSchema().prompt.pattern, "u");
		const inside = " \u00a0x\n";
		const outside = " \u00a0\t\n\u2028";
		expect([pattern.test(inside), pattern.test(outside)]).toEqual([true, false]);
		expect(await statusOf(await postJson("/api/v1/lyrics", { prompt: inside }))).toBe(200);
		const refused = await postJson("/api/v1/lyrics", { prompt: outside });
		expect(refused.status).toBe(400);
		expect((await envelope(refused)).msg).toMatch(/prompt is empty/);
	});

	it("prompt: the word limit (413 past it)", async () => {
		const words = statedNumber(createSchema().prompt.description, /at most (\d+) words/);
		expect(words).toBe(200);
		const prompt = (count: number) => Array.from({ length: count }, (_, i) => `w${i}`).join(" \n ");
		expect(await statusOf(await postJson("/api/v1/lyrics", { prompt: prompt(words) }))).toBe(200);
		expect(await statusOf(await postJson("/api/v1/lyrics", { prompt: prompt(words + 1) }))).toBe(413);
	});

	it("the body size limit (413 past it)", async () => {
		const bytes = statedNumber(createSchema().prompt.description, /body of at most (\d+) KiB/) * 1024;
		expect(bytes).toBe(64 * 1024);
		const body = { prompt: uniquePrompt("a body at the size limit") };
		expect(await statusOf(await createRaw(paddedBody(body, bytes)))).toBe(200);
		expect(await statusOf(await createRaw(paddedBody(body, bytes + 1)))).toBe(413);
	});

	it("callBackUrl: maxLength", async () => {
		const { maxLength } = createSchema().callBackUrl;
		expect(maxLength).toBe(2048);
		const url = (length: number) => {
			const base = "https://client.example/hook?pad=";
			return base + "a".repeat(length - base.length);
		};
		const create = (callBackUrl: string) => postJson("/api/v1/lyrics", { prompt: uniquePrompt("a long callBackUrl"), callBackUrl });
		expect(await statusOf(await create(url(maxLength)))).toBe(200);
		expect(await statusOf(await create(url(maxLength + 1)))).toBe(400);
	});

	it("callBackUrl: an absolute http(s) URL (format uri and the pattern)", async () => {
		const schema = createSchema().callBackUrl;
		expect(schema.format).toBe("uri");
		const pattern = new RegExp(schema.pattern, "u");
		const create = (callBackUrl: string) => postJson("/api/v1/lyrics", { prompt: uniquePrompt("a callBackUrl scheme"), callBackUrl });
		for (const inside of ["http://client.example/hook", "HTTPS://client.example"]) {
			expect(pattern.test(inside), inside).toBe(true);
			expect(await statusOf(await create(inside)), inside).toBe(200);
		}
		for (const outside of ["ftp://client.example/hook", "//client.example/hook", "https:client.example/hook", " https://client.example/hook"]) {
			expect(pattern.test(outside), outside).toBe(false);
			const refused = await create(outside);
			expect(refused.status, outside).toBe(400);
			expect((await envelope(refused)).msg).toMatch(/callBackUrl must be an absolute http\(s\) URL/);
		}
	});

	it("Idempotency-Key: maxLength and printable ASCII", async () => {
		const { schema } = createParameter("Idempotency-Key");
		expect(schema.maxLength).toBe(255);
		const create = (key: string) =>
			createRaw(JSON.stringify({ prompt: uniquePrompt("an Idempotency-Key at its limit") }), { "idempotency-key": key });
		const key = (length: number) => `k${crypto.randomUUID()}`.padEnd(length, "x");
		expect(await statusOf(await create(key(schema.maxLength)))).toBe(200);
		expect(await statusOf(await create(key(schema.maxLength + 1)))).toBe(400);
		const pattern = new RegExp(schema.pattern, "u");
		expect([pattern.test("key~1"), pattern.test("key\u00e91")]).toEqual([true, false]);
		expect(await statusOf(await create(`${key(20)}~`))).toBe(200);
		expect(await statusOf(await create(`${key(20)}\u007f`))).toBe(400);
	});
});

describe("GET /api/v1/lyrics/tasks and record-info, as documented", () => {
	it("limit: minimum and maximum", async () => {
		const { schema } = listParameter("limit");
		expect([schema.minimum, schema.maximum]).toEqual([1, 100]);
		for (const inside of [schema.minimum, schema.maximum]) {
			expect(await statusOf(await api(`/api/v1/lyrics/tasks?limit=${inside}`)), `limit=${inside}`).toBe(200);
		}
		for (const outside of [schema.minimum - 1, schema.maximum + 1]) {
			expect(await statusOf(await api(`/api/v1/lyrics/tasks?limit=${outside}`)), `limit=${outside}`).toBe(400);
		}
	});

	it("taskId: minLength", async () => {
		const parameter = (doc.paths["/api/v1/lyrics/record-info"].get.parameters as Schema[]).find((p) => p.name === "taskId") as Schema;
		expect(parameter.schema.minLength).toBe(1);
		// Inside: a well-formed question with no such task.
		expect(await statusOf(await api("/api/v1/lyrics/record-info?taskId=x"))).toBe(404);
		expect(await statusOf(await api("/api/v1/lyrics/record-info?taskId="))).toBe(400);
	});
});

describe("POST /callbacks/kie/{ref}, as documented", () => {
	const schema = () => doc.components.schemas.KieCallback as Schema;

	async function freshCallback() {
		const taskId = await createTask(uniquePrompt("a callback at the documented edges"));
		return { taskId, request: await simCallback(taskId) };
	}

	it("data: task_id or taskId (anyOf)", async () => {
		expect(schema().properties.data.anyOf).toEqual([{ required: ["task_id"] }, { required: ["taskId"] }]);
		const { taskId, request } = await freshCallback();
		const { task_id: _, ...data } = callbackBody(request).data;
		const body = callbackBody(request);
		expect(await statusOf(await deliver(withBody(request, { ...body, data: { ...data, taskId } })))).toBe(200);
		expect(await statusOf(await deliver(withBody(request, { ...body, data: { ...data, task_id: taskId } })))).toBe(200);
		const refused = await deliver(withBody(request, { ...body, data }));
		expect(refused.status).toBe(400);
		expect((await envelope(refused)).msg).toMatch(/data\.task_id is required/);
	});

	it("data.task_id: maxLength and pattern", async () => {
		const taskIdSchema = schema().properties.data.properties.task_id as Schema;
		expect(taskIdSchema.maxLength).toBe(256);
		const { request } = await freshCallback();
		const body = callbackBody(request);
		const withTaskId = (task_id: string) => withBody(request, { ...body, data: { ...body.data, task_id } });
		// Inside the schema, but this URL was minted for another task: 401, not a malformed body.
		expect(await statusOf(await deliver(withTaskId("a".repeat(taskIdSchema.maxLength))))).toBe(401);
		expect(await statusOf(await deliver(withTaskId("a".repeat(taskIdSchema.maxLength + 1))))).toBe(400);
		const pattern = new RegExp(taskIdSchema.pattern, "u");
		expect([pattern.test("a.b:c-d_e"), pattern.test("a/b")]).toEqual([true, false]);
		expect(await statusOf(await deliver(withTaskId("a.b:c-d_e")))).toBe(401);
		expect(await statusOf(await deliver(withTaskId("a/b")))).toBe(400);
	});

	it("data.data: maxItems", async () => {
		const { maxItems } = schema().properties.data.properties.data as Schema;
		expect(maxItems).toBe(1000);
		const { request } = await freshCallback();
		const body = callbackBody(request);
		// Short items, so that 1000 of them stay well inside the body size limit.
		const items = (count: number) =>
			Array.from({ length: count }, (_, i) => ({ text: `[Verse] ${i}`, title: "t", status: "complete", error_message: "" }));
		expect(await statusOf(await deliver(withBody(request, { ...body, data: { ...body.data, data: items(maxItems) } })))).toBe(200);
		expect(await statusOf(await deliver(withBody(request, { ...body, data: { ...body.data, data: items(maxItems + 1) } })))).toBe(400);
	});

	it("the body size limit (413 past it)", async () => {
		const bytes = statedNumber(schema().description, /at most (\d+) KiB/) * 1024;
		expect(bytes).toBe(256 * 1024);
		const { request } = await freshCallback();
		const body = callbackBody(request);
		expect(await statusOf(await deliver(withBody(request, paddedBody(body, bytes))))).toBe(200);
		expect(await statusOf(await deliver(withBody(request, paddedBody(body, bytes + 1))))).toBe(413);
	});
});
