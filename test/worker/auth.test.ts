/**
 * Bearer authentication on /api/*: 401 in the envelope with WWW-Authenticate for anything but a
 * configured key, both configured keys accepted, no key ever echoed; /healthz is open; unknown
 * routes answer the 404 envelope (a known route asked with another method answers 405: route-methods.test.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
	CONFIGURED_SECRETS,
	createTask,
	envelope,
	expectErrorEnvelope,
	gateway,
	simStats,
	storedTasksMatching,
	uniquePrompt,
} from "./helpers";

/** A task of each configured key's tenant: record-info answers a tenant its own tasks only. */
const existingTaskIds = new Map<string, string>();

beforeAll(async () => {
	for (const key of ["test-key-1", "test-key-2"]) {
		existingTaskIds.set(key, await createTask(uniquePrompt("the task auth tests read"), {}, {}, key));
	}
});

function existingTaskId(authorization: string | null): string {
	return existingTaskIds.get(authorization?.includes("test-key-2") ? "test-key-2" : "test-key-1") as string;
}

interface Route {
	name: string;
	call: (authorization: string | null, marker: string, overrides?: Partial<Env>) => Promise<Response>;
}

function withAuth(authorization: string | null, headers: Record<string, string> = {}): Headers {
	const result = new Headers(headers);
	if (authorization !== null) result.set("authorization", authorization);
	return result;
}

const routes: Route[] = [
	{
		name: "POST /api/v1/lyrics",
		call: (authorization, marker, overrides) =>
			gateway(
				"/api/v1/lyrics",
				{
					method: "POST",
					headers: withAuth(authorization, { "content-type": "application/json" }),
					body: JSON.stringify({ prompt: marker }),
				},
				overrides,
			),
	},
	{
		name: "GET /api/v1/lyrics/record-info",
		call: (authorization, _marker, overrides) =>
			gateway(`/api/v1/lyrics/record-info?taskId=${existingTaskId(authorization)}`, { headers: withAuth(authorization) }, overrides),
	},
	{
		name: "GET /api/v1/lyrics/tasks",
		call: (authorization, _marker, overrides) =>
			gateway("/api/v1/lyrics/tasks", { headers: withAuth(authorization) }, overrides),
	},
];

const wrongToken = `wrong-${crypto.randomUUID()}`;

/** Authorization values that must not get in, whatever the route, with the credential they carry. */
const refused: [string, string, string][] = [
	["a wrong token", `Bearer ${wrongToken}`, wrongToken],
	["a prefix of a configured key", "Bearer test-key", "test-key"],
	["a configured key with a suffix", "Bearer test-key-1x", "test-key-1x"],
	["a configured key in other case", "Bearer TEST-KEY-1", "TEST-KEY-1"],
	["both keys as one token", "Bearer test-key-1,test-key-2", "test-key-1,test-key-2"],
	["a configured key followed by another word", "Bearer test-key-1 extra", "test-key-1 extra"],
	["a configured key without the Bearer scheme", "test-key-1", "test-key-1"],
	["Basic credentials", `Basic ${btoa("test-key-1:")}`, btoa("test-key-1:")],
	["a configured key under the Basic scheme", "Basic test-key-1", "test-key-1"],
	["a configured key under another scheme", "Token test-key-1", "test-key-1"],
];

/** Authorization values that carry no credential at all. `null` = no header. */
const withoutCredential: [string, string | null][] = [
	["no Authorization header", null],
	["an empty Authorization header", ""],
	["Bearer alone", "Bearer"],
	["Bearer and a space", "Bearer "],
];

/** A 401 in the envelope, with a Bearer challenge, that echoes no configured key. */
async function expectUnauthorized(response: Response) {
	const challenge = response.headers.get("www-authenticate");
	const body = await expectErrorEnvelope(response, 401);
	expect(challenge).toMatch(/^Bearer\b/i);
	return body;
}

describe.each(routes)("$name", (route) => {
	it.each(refused)("answers 401 for %s, without echoing it", async (_name, authorization, credential) => {
		const marker = uniquePrompt("refused caller");
		const body = await expectUnauthorized(await route.call(authorization, marker));
		expect(body.msg).not.toContain(credential);
		// A refused create never reaches the upstream and stores nothing.
		expect((await simStats(marker)).creates).toBe(0);
		expect(await storedTasksMatching(marker)).toEqual([]);
	});

	it.each(withoutCredential)("answers 401 for %s, asking for a bearer token", async (_name, authorization) => {
		const marker = uniquePrompt("caller without a credential");
		const body = await expectUnauthorized(await route.call(authorization, marker));
		expect(body.msg).toMatch(/bearer token/i);
		expect((await simStats(marker)).creates).toBe(0);
		expect(await storedTasksMatching(marker)).toEqual([]);
	});

	it.each([
		["unset", undefined],
		["empty", ""],
		["only separators", " , ,"],
	])("answers 401 to a configured key when API_KEYS is %s, saying the gateway has no keys", async (_name, apiKeys) => {
		const marker = uniquePrompt("no keys configured");
		const body = await expectUnauthorized(await route.call("Bearer test-key-1", marker, { API_KEYS: apiKeys }));
		expect(body.msg).toMatch(/API_KEYS/);
		expect((await simStats(marker)).creates).toBe(0);
		expect(await storedTasksMatching(marker)).toEqual([]);
	});

	it.each(["test-key-1", "test-key-2"])("answers 200 to the configured key %s, without echoing it", async (key) => {
		// The label must not spell the key: the task list answers stored prompts.
		const marker = uniquePrompt(`caller with key number ${key.slice(-1)}`);
		const response = await route.call(`Bearer ${key}`, marker);
		const text = await response.text();
		expect(response.status, text).toBe(200);
		expect(JSON.parse(text)).toMatchObject({ code: 200, msg: "success" });
		for (const secret of CONFIGURED_SECRETS) {
			expect(text).not.toContain(secret);
			for (const [name, value] of response.headers) expect(value, `header ${name}`).not.toContain(secret);
		}
	});
});

describe("accepted spellings of a configured key", () => {
	it.each([
		["a lower-case scheme", "bearer test-key-2"],
		["an upper-case scheme", "BEARER test-key-1"],
		["several spaces after the scheme", "Bearer   test-key-1"],
	])("%s", async (_name, authorization) => {
		const response = await gateway("/api/v1/lyrics/tasks", { headers: { authorization } });
		expect(response.status).toBe(200);
	});

	it("a key that is configured with spaces around it in API_KEYS", async () => {
		const response = await gateway(
			"/api/v1/lyrics/tasks",
			{ headers: { authorization: "Bearer other-key" } },
			{ API_KEYS: "  test-key-1 ,  other-key  " },
		);
		expect(response.status).toBe(200);
	});
});

describe("authentication comes before everything else on /api/*", () => {
	it("an invalid create without a token answers 401, not 400", async () => {
		const response = await gateway("/api/v1/lyrics", { method: "POST", body: "not json" });
		await expectUnauthorized(response);
	});

	it("record-info without a taskId and without a token answers 401", async () => {
		await expectUnauthorized(await gateway("/api/v1/lyrics/record-info"));
	});

	it("an unknown /api route without a token answers 401", async () => {
		await expectUnauthorized(await gateway("/api/v1/nothing-here"));
	});
});

describe("/healthz", () => {
	it("needs no token and answers 200 in the envelope", async () => {
		const response = await gateway("/healthz");
		expect(response.status).toBe(200);
		expect(await envelope(response)).toMatchObject({ code: 200, msg: "success" });
	});

	it("answers 200 even when a wrong token is sent", async () => {
		const response = await gateway("/healthz", { headers: { authorization: "Bearer wrong" } });
		expect(response.status).toBe(200);
	});
});

describe("unknown routes answer the 404 envelope", () => {
	it.each([
		["GET", "/"],
		["GET", "/nothing-here"],
		["POST", "/api/v1/nothing-here"],
		["GET", "/api/v2/lyrics"],
		["GET", "/api/v1/lyrics/record-info/more"],
	])("%s %s", async (method, path) => {
		const response = await gateway(path, { method, headers: { authorization: "Bearer test-key-1" } });
		await expectErrorEnvelope(response, 404);
	});
});
