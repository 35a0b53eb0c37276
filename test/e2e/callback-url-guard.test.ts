/**
 * The SSRF guard over HTTP, on a gateway configured as in production (ALLOW_PRIVATE_CALLBACK_URLS
 * "false"): the shared e2e gateway allows private URLs so it can deliver to the simulator, so this
 * file starts a second one of its own.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_API_KEY, type LocalStack, startLocalStack } from "../../scripts/local-stack.mjs";
import { freePort } from "../support/free-port";

let stack: LocalStack;
let persistTo: string;

beforeAll(async () => {
	persistTo = mkdtempSync(join(tmpdir(), "lyrics-gateway-ssrf-"));
	stack = await startLocalStack({
		port: await freePort(),
		simulatorPort: 0,
		inspectorPort: await freePort(),
		persistTo,
		vars: { ALLOW_PRIVATE_CALLBACK_URLS: "false" },
	});
}, 90_000);

afterAll(async () => {
	await stack?.close();
	if (persistTo) rmSync(persistTo, { recursive: true, force: true });
});

async function createWithCallback(callBackUrl: string) {
	const prompt = `A song about a guarded door ${crypto.randomUUID().slice(0, 8)}`;
	const response = await fetch(`${stack.url}/api/v1/lyrics`, {
		method: "POST",
		headers: { authorization: `Bearer ${DEV_API_KEY}`, "content-type": "application/json" },
		body: JSON.stringify({ prompt, callBackUrl }),
	});
	const stats = (await (await fetch(`${stack.simulatorUrl}/__sim/stats?match=${encodeURIComponent(prompt)}`)).json()) as {
		creates: number;
	};
	return { status: response.status, body: (await response.json()) as { code: number; msg: string }, upstreamCreates: stats.creates };
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

	it("accepts a public callBackUrl", async () => {
		const answer = await createWithCallback("https://hooks.example.com/lyrics");
		expect(answer.status).toBe(200);
		expect(answer.upstreamCreates).toBe(1);
	});
});
