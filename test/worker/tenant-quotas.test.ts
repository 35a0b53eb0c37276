/**
 * TENANT_QUOTAS and GET /api/v1/usage inside workerd: creates counted once sent upstream (even
 * when the upstream fails), never overshot by concurrent creates, refused with 429 and
 * Retry-After until the next UTC midnight with nothing sent; replays and creates refused before
 * sending do not count; usage for a client and for an admin.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { nextUtcMidnight, utcDay } from "../../src/tenants/quota";
import { envelope, expectErrorEnvelope, gateway, simScript, simStats, uniquePrompt } from "./helpers";

interface Usage {
	tenant: string;
	day: string;
	creates: number;
	quota: number | null;
	remaining: number | null;
	resetsAt: number;
}

/** Each test's own tenants, so the one counter object this file shares holds no other test's creates. */
function tenants(label: string, quotas: string, extra: Partial<Env> = {}) {
	const name = `${label}-${crypto.randomUUID().slice(0, 6)}`;
	const overrides: Partial<Env> = {
		API_KEYS: `${name}:k-${name}, other-${name}:k-other-${name}`,
		ADMIN_API_KEYS: `ops:k-ops-${name}`,
		TENANT_QUOTAS: quotas.replaceAll("$", name),
		...extra,
	};
	const call = (key: string, path: string, init: RequestInit = {}, more: Partial<Env> = {}) =>
		gateway(path, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${key}` } }, {
			...overrides,
			...more,
		});
	const create = (prompt: string, headers: Record<string, string> = {}, more: Partial<Env> = {}) =>
		call(
			`k-${name}`,
			"/api/v1/lyrics",
			{ method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ prompt }) },
			more,
		);
	const usage = async (key = `k-${name}`) => envelope<Usage>(await call(key, "/api/v1/usage"));
	return { name, create, usage, call };
}

describe("daily quotas", () => {
	it("eight concurrent creates against three remaining send exactly three upstream", async () => {
		const t = tenants("burst", "$:3");
		const marker = uniquePrompt("quota burst");
		const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => t.create(`${marker} take ${i}`)));
		const statuses = answers.map((response) => response.status).sort();
		expect(statuses).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
		expect((await simStats(marker)).creates).toBe(3);
		const usage = await t.usage();
		expect(usage.data).toMatchObject({ tenant: t.name, creates: 3, quota: 3, remaining: 0 });
	});

	it("refuses the create past the quota with 429, code 429, the quota and its reset in msg, Retry-After to midnight, nothing sent", async () => {
		const t = tenants("full", "$:1");
		expect((await t.create(uniquePrompt("within quota"))).status).toBe(200);
		const refusedPrompt = uniquePrompt("over quota");
		const before = Date.now();
		const response = await t.create(refusedPrompt);
		const retryAfter = Number(response.headers.get("retry-after"));
		const body = await expectErrorEnvelope(response, 429);
		expect(body.msg).toMatch(/quota of 1 create \(TENANT_QUOTAS\)/);
		expect(body.msg).toMatch(/midnight UTC/);
		expect(body.msg).toContain(new Date(nextUtcMidnight(before)).toISOString());
		const expected = Math.ceil((nextUtcMidnight(before) - before) / 1000);
		expect(retryAfter).toBeGreaterThanOrEqual(expected - 5);
		expect(retryAfter).toBeLessThanOrEqual(expected);
		expect((await simStats(refusedPrompt)).creates).toBe(0);
		// The other tenant's quota is its own (none: * is not set).
		const other = await t.call(`k-other-${t.name}`, "/api/v1/lyrics", {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ prompt: uniquePrompt("another tenant") }),
		});
		expect(other.status).toBe(200);
	});

	it("applies *:N to every tenant not listed, and a quota of 0 refuses every create", async () => {
		const t = tenants("star", "$:0, *:1");
		const prompt = uniquePrompt("zero quota");
		await expectErrorEnvelope(await t.create(prompt), 429);
		expect((await simStats(prompt)).creates).toBe(0);
		const send = () =>
			t.call(`k-other-${t.name}`, "/api/v1/lyrics", {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ prompt: uniquePrompt("star quota") }),
			});
		expect((await send()).status).toBe(200);
		expect((await send()).status).toBe(429);
	});

	it("counts a create the upstream failed, not a replay nor one the gateway's rate limit refused before sending", async () => {
		const t = tenants("count", "$:10");
		const failing = uniquePrompt("upstream fails");
		await simScript(failing, { createStatus: 500 });
		expect((await t.create(failing)).status).toBe(502);
		expect((await t.usage()).data.creates).toBe(1);

		const keyed = uniquePrompt("replayed");
		const key = crypto.randomUUID();
		expect((await t.create(keyed, { "idempotency-key": key })).status).toBe(200);
		const replay = await t.create(keyed, { "idempotency-key": key });
		expect(replay.headers.get("idempotent-replayed")).toBe("true");
		expect((await t.usage()).data.creates).toBe(2);

		// A limiter of its own with a limit of 1 per 10 s: the second create is refused before sending.
		const limiter = env.CREATE_LIMITER.getByName(`quota-test-${crypto.randomUUID()}`);
		const limited = { CREATE_LIMITER: { getByName: () => limiter } as unknown as Env["CREATE_LIMITER"], KIE_CREATE_LIMIT: "1" };
		expect((await t.create(uniquePrompt("limited first"), {}, limited)).status).toBe(200);
		const refused = uniquePrompt("limited second");
		await expectErrorEnvelope(await t.create(refused, {}, limited), 429);
		expect((await simStats(refused)).creates).toBe(0);
		expect((await t.usage()).data).toMatchObject({ creates: 3, quota: 10, remaining: 7 });
	});
});

describe("GET /api/v1/usage", () => {
	it("answers a client its own tenant's day, creates, quota, remaining and reset", async () => {
		const t = tenants("usage", "$:5");
		expect((await t.create(uniquePrompt("counted"))).status).toBe(200);
		const before = Date.now();
		const body = await t.usage();
		expect(Object.keys(body.data).sort()).toEqual(["creates", "day", "quota", "remaining", "resetsAt", "tenant"]);
		expect(body).toMatchObject({ code: 200, msg: "success" });
		expect(body.data).toEqual({
			tenant: t.name,
			day: utcDay(before),
			creates: 1,
			quota: 5,
			remaining: 4,
			resetsAt: nextUtcMidnight(before),
		});
		// Without a quota: null, still counted.
		const free = await envelope<Usage>(await t.call(`k-other-${t.name}`, "/api/v1/usage"));
		expect(free.data).toMatchObject({ tenant: `other-${t.name}`, creates: 0, quota: null, remaining: null });
	});

	it("counts creates without a quota too", async () => {
		const t = tenants("unlimited", "");
		expect((await t.create(uniquePrompt("no quota"))).status).toBe(200);
		const usage = await t.usage();
		expect(usage.data).toMatchObject({ tenant: t.name, creates: 1, quota: null, remaining: null });
	});

	it("answers an admin every tenant configured or with creates today", async () => {
		const t = tenants("admin", "$:4");
		expect((await t.create(uniquePrompt("admin sees it"))).status).toBe(200);
		// A tenant that made a create today with a key since removed from API_KEYS: still listed.
		const gone = `gone-${t.name}`;
		const createdBefore = await t.call(
			`k-${gone}`,
			"/api/v1/lyrics",
			{ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ prompt: uniquePrompt("a removed key's create") }) },
			{ API_KEYS: `${gone}:k-${gone}` },
		);
		expect(createdBefore.status).toBe(200);
		const body = await envelope<{ tenants: Usage[] }>(await t.call(`k-ops-${t.name}`, "/api/v1/usage"));
		const byName = Object.fromEntries(body.data.tenants.map((usage) => [usage.tenant, usage]));
		expect(byName[t.name]).toMatchObject({ creates: 1, quota: 4, remaining: 3 });
		expect(byName[`other-${t.name}`]).toMatchObject({ creates: 0, quota: null });
		expect(byName.ops).toMatchObject({ creates: 0 });
		expect(byName[gone]).toMatchObject({ creates: 1, quota: null });
		expect(body.data.tenants.map((usage) => usage.tenant)).toEqual([...body.data.tenants.map((usage) => usage.tenant)].sort());
	});
});
