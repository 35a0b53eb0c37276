/**
 * A gateway configured as in production, over HTTP: private callback URLs refused
 * (ALLOW_PRIVATE_CALLBACK_URLS "false") and the default KIE_CREATE_LIMIT of 20 creates per 10 s.
 * The one e2e gateway all files use allows private URLs (to deliver to the simulator) and a high limit (so
 * no test's creates are refused for another's), so this file starts a gateway of its own.
 */
import { describe, expect, it } from "vitest";
import { DEV_API_KEY } from "../../scripts/local-stack.mjs";
import { gatewayOfItsOwn } from "../support/own-gateway";

const stack = gatewayOfItsOwn("production-config", {
	vars: { ALLOW_PRIVATE_CALLBACK_URLS: "false" },
});

async function createPlain(prompt: string) {
	const response = await fetch(`${stack().url}/api/v1/lyrics`, {
		method: "POST",
		headers: { authorization: `Bearer ${DEV_API_KEY}`, "content-type": "application/json" },
		body: JSON.stringify({ prompt }),
	});
	return { status: response.status, headers: response.headers, body: (await response.json()) as { code: number; msg: string; data: unknown } };
}

async function upstreamCreates(match: string): Promise<number> {
	const stats = (await (await fetch(`${stack().simulatorUrl}/__sim/stats?match=${encodeURIComponent(match)}`)).json()) as {
		creates: number;
	};
	return stats.creates;
}

async function createWithCallback(callBackUrl: string) {
	const prompt = `A song about a guarded door ${crypto.randomUUID().slice(0, 8)}`;
	const response = await fetch(`${stack().url}/api/v1/lyrics`, {
		method: "POST",
		headers: { authorization: `Bearer ${DEV_API_KEY}`, "content-type": "application/json" },
		body: JSON.stringify({ prompt, callBackUrl }),
	});
	const stats = (await (await fetch(`${stack().simulatorUrl}/__sim/stats?match=${encodeURIComponent(prompt)}`)).json()) as {
		creates: number;
	};
	return { status: response.status, body: (await response.json()) as { code: number; msg: string }, upstreamCreates: stats.creates };
}

/**
 * The limiter counts each create over 10 s plus a 1 s margin for its way upstream: wait until the
 * newest create this file's gateway sent (the simulator saw it a little after the slot was taken)
 * is out of that span, so each test that needs the limit's room finds all of it, in whatever
 * order the tests run.
 */
async function untilNoCreateCounts() {
	const { tasks } = (await (await fetch(`${stack().simulatorUrl}/__sim/tasks`)).json()) as { tasks: { createdAt: number }[] };
	const newest = Math.max(0, ...tasks.map((task) => task.createdAt));
	const wait = newest + 11_000 + 250 - Date.now();
	if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

describe("client callBackUrls inside a network, over HTTP", () => {
	it.each([
		"http://127.0.0.1:8080/hook",
		"http://localhost/hook",
		"http://169.254.169.254/latest/meta-data/",
		"http://10.0.0.8/hook",
		"http://192.168.0.10/hook",
		"http://[::1]/hook",
		"http://[fd00::1]/hook",
		"http://2130706433/hook",
		"http://10.0.0.1.nip.io/hook",
		"https://hooks.private.dns.example.net/hook",
	])("refuses %s with 400 before anything reaches the upstream", async (url) => {
		const answer = await createWithCallback(url);
		expect(answer.status).toBe(400);
		expect(answer.body.code).toBe(400);
		expect(answer.body.msg).toMatch(/loopback, private or internal/);
		expect(answer.upstreamCreates).toBe(0);
	});

	it.each([
		// The name server answers A at once with an internal address and stalls or fails AAAA.
		["https://hooks.partial-stall.dns.example.net/hook", /\(10\.0\.0\.5\).*loopback, private or internal/],
		["https://hooks.partial-servfail.dns.example.net/hook", /\(10\.0\.0\.5\).*loopback, private or internal/],
		// Where the name points cannot all be known: refused, not waved through.
		["https://hooks.public-servfail.dns.example.net/hook", /could not be resolved \(AAAA lookup: SERVFAIL\)/],
		["https://hooks.servfail.dns.example.net/hook", /could not be resolved/],
		["https://hooks.empty.dns.example.net/hook", /has no A or AAAA address/],
		["https://hooks.missing.dns.example.net/hook", /does not exist in DNS/],
	])("refuses %s, judged by every DNS answer, with 400 before anything reaches the upstream", async (url, message) => {
		const answer = await createWithCallback(url);
		expect(answer.status).toBe(400);
		expect(answer.body.code).toBe(400);
		expect(answer.body.msg).toMatch(message);
		expect(answer.upstreamCreates).toBe(0);
	});

	it("accepts a public callBackUrl", async () => {
		await untilNoCreateCounts();
		const answer = await createWithCallback("https://hooks.example.com/lyrics");
		expect(answer.status).toBe(200);
		expect(answer.upstreamCreates).toBe(1);
	});
});

describe("the upstream rate limit over HTTP", () => {
	it("sends exactly 20 creates upstream from a burst of 25, refusing the other 5 with 429 and Retry-After", async () => {
		await untilNoCreateCounts();
		const marker = `A song in a crowd ${crypto.randomUUID().slice(0, 8)}`;
		const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => createPlain(`${marker} ${i}`)));
		const accepted = answers.filter((answer) => answer.status === 200);
		const refused = answers.filter((answer) => answer.status === 429);
		expect(accepted.length + refused.length).toBe(25);
		expect(accepted.length).toBe(20);
		expect(refused.length).toBe(5);
		for (const answer of refused) {
			expect(answer.body).toMatchObject({ code: 429, data: null });
			expect(answer.body.msg).toMatch(/at most 20 creates in any 10 seconds/);
			expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
		}
		// Exactly the accepted ones reached the upstream.
		expect(await upstreamCreates(marker)).toBe(accepted.length);
	});
});
