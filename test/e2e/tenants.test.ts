/**
 * Tenants over HTTP against `wrangler dev`: one tenant's key tries every read path on another
 * tenant's tasks (record-info, the list with and without ?owner=, a cursor from the other's list,
 * usage) and learns nothing of them; keys of one tenant share its tasks and Idempotency-Keys; an
 * admin key sees every tenant; a daily quota is never overshot by concurrent creates.
 */
import { beforeAll, describe, expect, inject, it } from "vitest";
import { type Envelope, gatewayUrl, sim, unique } from "./client";

const keys = inject("tenantKeys");
const adminKey = inject("adminApiKey");
const [acmeKey1, acmeKey2] = keys.acme as [string, string];

async function as<T = any>(key: string, path: string, init: RequestInit = {}) {
	const headers = new Headers(init.headers);
	headers.set("authorization", `Bearer ${key}`);
	const response = await fetch(`${gatewayUrl}${path}`, { ...init, headers });
	const text = await response.text();
	return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as Envelope<T> };
}

function createAs(key: string, prompt: string, idempotencyKey?: string) {
	return as<{ taskId: string }>(key, "/api/v1/lyrics", {
		method: "POST",
		headers: { "content-type": "application/json", ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}) },
		body: JSON.stringify({ prompt }),
	});
}

interface Item {
	taskId: string;
	owner: string | null;
	param: string;
}
type Page = { items: Item[]; nextCursor: string | null };

const acmePrompts = [unique("acme private prompt one"), unique("acme private prompt two")];
const acmeTasks: string[] = [];
let rivalTask = "";

beforeAll(async () => {
	for (const [index, prompt] of acmePrompts.entries()) {
		const created = await createAs(index === 0 ? acmeKey1 : acmeKey2, prompt);
		expect(created.status, created.text).toBe(200);
		acmeTasks.push(created.body.data.taskId);
	}
	const rival = await createAs(keys.rival, unique("rival prompt"));
	expect(rival.status, rival.text).toBe(200);
	rivalTask = rival.body.data.taskId;
});

/** Nothing of acme's tasks in an answer meant for rival: no id, no prompt, no name. */
function expectNothingOfAcme(text: string) {
	for (const taskId of acmeTasks) expect(text).not.toContain(taskId);
	for (const prompt of acmePrompts) expect(text).not.toContain(prompt);
	expect(text).not.toContain("acme");
}

describe("another tenant's key sees nothing of a tenant's tasks", () => {
	it("record-info answers 404 exactly as for an unknown taskId", async () => {
		for (const taskId of acmeTasks) {
			const foreign = await as(keys.rival, `/api/v1/lyrics/record-info?taskId=${taskId}`);
			const unknownId = "0".repeat(taskId.length);
			const unknown = await as(keys.rival, `/api/v1/lyrics/record-info?taskId=${unknownId}`);
			expect(foreign.status).toBe(404);
			expect(foreign.body.code).toBe(404);
			expect(foreign.body.data).toBeNull();
			expect(foreign.body.msg).toBe(unknown.body.msg.replace(unknownId, taskId));
			expect(foreign.text.replace(taskId, "ID")).toBe(unknown.text.replace(unknownId, "ID"));
		}
	});

	it("the list holds only the caller's own tasks, with and without ?owner=, on every page", async () => {
		for (const query of ["", "?limit=100", "?status=PENDING", "?owner=rival", "?owner=rival&limit=1"]) {
			const page = await as<Page>(keys.rival, `/api/v1/lyrics/tasks${query}`);
			expect(page.status, query).toBe(200);
			expectNothingOfAcme(page.text);
			for (const item of page.body.data.items) expect(item.owner, query).toBe("rival");
		}
		const all = await as<Page>(keys.rival, "/api/v1/lyrics/tasks?limit=100");
		expect(all.body.data.items.map((item) => item.taskId)).toEqual([rivalTask]);
	});

	it("?owner= naming another tenant, known or not, answers 403", async () => {
		for (const owner of ["acme", "admin", "dev", "no-such-tenant"]) {
			const page = await as(keys.rival, `/api/v1/lyrics/tasks?owner=${owner}`);
			expect(page.status, owner).toBe(403);
			expect(page.body).toMatchObject({ code: 403, data: null });
			expectNothingOfAcme(page.text.replace(/acme/g, "ACME-IN-QUERY"));
		}
	});

	it("a cursor taken from the other tenant's list opens nothing: refused, telling nothing of acme", async () => {
		const acmePage = await as<Page>(acmeKey1, "/api/v1/lyrics/tasks?limit=1");
		expect(acmePage.body.data.items.map((item) => item.owner)).toEqual(["acme"]);
		const cursor = acmePage.body.data.nextCursor as string;
		expect(typeof cursor).toBe("string");
		for (const query of [`?cursor=${cursor}`, `?cursor=${cursor}&limit=100`, `?cursor=${cursor}&owner=rival`]) {
			const page = await as<Page>(keys.rival, `/api/v1/lyrics/tasks${query}`);
			expect(page.status, query).toBe(400);
			expectNothingOfAcme(page.text);
		}
	});

	it("usage answers the caller's own tenant only", async () => {
		const usage = await as(keys.rival, "/api/v1/usage");
		expect(usage.status).toBe(200);
		expect(usage.body.data).toMatchObject({ tenant: "rival", creates: 1, quota: null, remaining: null });
		expect(usage.body.data.tenants).toBeUndefined();
		expectNothingOfAcme(usage.text);
	});
});

describe("keys of one tenant, and admin keys", () => {
	it("each of a tenant's keys reads and lists all of its tasks, with owner set", async () => {
		for (const key of [acmeKey1, acmeKey2]) {
			for (const taskId of acmeTasks) {
				const info = await as(key, `/api/v1/lyrics/record-info?taskId=${taskId}`);
				expect(info.status).toBe(200);
				expect(info.body.data.owner).toBe("acme");
			}
			const page = await as<Page>(key, "/api/v1/lyrics/tasks?owner=acme&limit=100");
			expect(page.body.data.items.map((item) => item.taskId).sort()).toEqual([...acmeTasks].sort());
		}
	});

	it("an Idempotency-Key belongs to the tenant: the other key replays, another tenant creates anew", async () => {
		const prompt = unique("acme keyed create");
		const key = crypto.randomUUID();
		const first = await createAs(acmeKey1, prompt, key);
		const second = await createAs(acmeKey2, prompt, key);
		expect(second.headers.get("idempotent-replayed")).toBe("true");
		expect(second.body.data.taskId).toBe(first.body.data.taskId);
		const rival = await createAs(keys.rival, prompt, key);
		expect(rival.status).toBe(200);
		expect(rival.body.data.taskId).not.toBe(first.body.data.taskId);
		expect((await sim<{ creates: number }>(`/__sim/stats?match=${encodeURIComponent(prompt)}`)).creates).toBe(2);
	});

	it("an admin key reads every tenant's task, lists them all, and ?owner= narrows", async () => {
		for (const taskId of [...acmeTasks, rivalTask]) {
			expect((await as(adminKey, `/api/v1/lyrics/record-info?taskId=${taskId}`)).status).toBe(200);
		}
		const all = await as<Page>(adminKey, "/api/v1/lyrics/tasks?limit=100");
		const owners = new Set(all.body.data.items.map((item) => item.owner));
		expect(owners.has("acme") && owners.has("rival")).toBe(true);
		const narrowed = await as<Page>(adminKey, "/api/v1/lyrics/tasks?limit=100&owner=rival");
		expect(narrowed.body.data.items.map((item) => item.taskId)).toContain(rivalTask);
		for (const item of narrowed.body.data.items) expect(item.owner).toBe("rival");
	});

	it("an admin key's usage lists every configured tenant", async () => {
		const usage = await as<{ tenants: { tenant: string; creates: number; quota: number | null }[] }>(adminKey, "/api/v1/usage");
		expect(usage.status).toBe(200);
		const names = usage.body.data.tenants.map((tenant) => tenant.tenant);
		for (const name of ["acme", "admin", "capped", "dev", "rival"]) expect(names).toContain(name);
		expect(usage.body.data.tenants.find((tenant) => tenant.tenant === "capped")?.quota).toBe(3);
		expect(usage.body.data.tenants.find((tenant) => tenant.tenant === "acme")?.creates).toBeGreaterThanOrEqual(2);
	});
});

describe("a daily quota over HTTP", () => {
	it("eight concurrent creates against three remaining send exactly three upstream; the rest answer 429 with Retry-After", async () => {
		const marker = unique("capped burst");
		const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => createAs(keys.capped, `${marker} take ${i}`)));
		expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
		const now = Date.now();
		const midnight = (Math.floor(now / 86_400_000) + 1) * 86_400_000;
		for (const refused of answers.filter((answer) => answer.status === 429)) {
			expect(refused.body.code).toBe(429);
			expect(refused.body.msg).toMatch(/quota of 3 creates/);
			expect(refused.body.msg).toMatch(/midnight UTC/);
			const retryAfter = Number(refused.headers.get("retry-after"));
			expect(retryAfter).toBeGreaterThan(0);
			expect(Math.abs(retryAfter - (midnight - now) / 1000)).toBeLessThan(15);
		}
		expect((await sim<{ creates: number }>(`/__sim/stats?match=${encodeURIComponent(marker)}`)).creates).toBe(3);
		const usage = await as(keys.capped, "/api/v1/usage");
		expect(usage.body.data).toMatchObject({ tenant: "capped", creates: 3, quota: 3, remaining: 0, resetsAt: midnight });
	});
});
