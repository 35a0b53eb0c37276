/**
 * The contract's core guarantees, exercised from outside: the gateway under `wrangler dev`, the
 * simulator calling back over HTTP with provider signatures (KIE_WEBHOOK_HMAC_KEY is set).
 */
import { describe, expect, it } from "vitest";
import { call, create, eventually, fireCron, gatewayUrl, recordInfo, sim, unique } from "./client";

describe("over HTTP against wrangler dev", () => {
	it("serves the lyrics a signed callback brings, within seconds", async () => {
		const created = await create(unique("A song about lanterns on a river"));
		expect(created.status).toBe(200);
		const { taskId } = created.body.data;
		const done = await eventually(async () => {
			const info = await recordInfo(taskId);
			return info.body.data.status === "SUCCESS" ? info : undefined;
		});
		expect(done.body.data.response.data.length).toBeGreaterThanOrEqual(2);
		expect(done.body.data.resultSource).toBe("callback");
		const upstream = await sim(`/__sim/tasks/${taskId}`);
		expect(upstream.callbackAttempts[0].status).toBe(200);
	});

	it("stores one result from 50 concurrent duplicate callbacks, answering every one 2xx", async () => {
		const prompt = unique("A song about an echo");
		await sim("/__sim/scripts", { match: prompt, callback: "drop" });
		const { taskId } = (await create(prompt)).body.data;
		const sent = await sim<{ statuses: number[] }>(`/__sim/tasks/${taskId}/callback`, { times: 50, concurrent: true });
		expect(sent.statuses).toHaveLength(50);
		expect(sent.statuses.every((status) => status === 200)).toBe(true);
		// The result is in D1 before the callbacks are answered; the duplicates' count follows with
		// the task object's coalesced write, seconds later.
		expect((await recordInfo(taskId)).body.data.status).toBe("SUCCESS");
		const info = await eventually(async () => {
			const current = await recordInfo(taskId);
			return current.body.data.callbacksReceived === 50 ? current : undefined;
		});
		expect(info.body.data).toMatchObject({ status: "SUCCESS", callbacksReceived: 50 });
	});

	it("keeps a callback that arrives before the create answered", async () => {
		const prompt = unique("A song about arriving early");
		await sim("/__sim/scripts", { match: prompt, callbackBeforeCreateResponse: true });
		const created = await create(prompt);
		expect(created.status).toBe(200);
		const { taskId } = created.body.data;
		expect((await sim(`/__sim/tasks/${taskId}`)).callbackAttempts[0].status).toBe(200);
		expect((await recordInfo(taskId)).body.data.status).toBe("SUCCESS");
	});

	it("recovers a lost callback through the cron", async () => {
		const prompt = unique("A song about a letter never sent");
		await sim("/__sim/scripts", { match: prompt, callback: "drop" });
		const { taskId } = (await create(prompt)).body.data;
		await eventually(async () => ((await sim(`/__sim/tasks/${taskId}`)).ready ? true : undefined));
		await fireCron();
		const info = await eventually(async () => {
			const current = await recordInfo(taskId);
			return current.body.data.status === "SUCCESS" ? current : undefined;
		});
		expect(info.body.data).toMatchObject({ resultSource: "poll", callbacksReceived: 0 });
	});

	it("refuses a callback whose token was tampered with, and one without the provider signature", async () => {
		const prompt = unique("A song about a forgery");
		await sim("/__sim/scripts", { match: prompt, callback: "drop" });
		const { taskId } = (await create(prompt)).body.data;
		const request = await sim<{ url: string; headers: Record<string, string>; body: string }>(
			`/__sim/tasks/${taskId}/callback`,
		);
		const tampered = request.url.replace(/token=(.)/, (_, first) => `token=${first === "A" ? "B" : "A"}`);
		const forged = await fetch(tampered, { method: "POST", headers: request.headers, body: request.body });
		expect(forged.status).toBe(401);
		const unsigned = await fetch(request.url, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: request.body,
		});
		expect(unsigned.status).toBe(401);
		expect((await recordInfo(taskId)).body.data).toMatchObject({ status: "PENDING", callbacksReceived: 0 });
		const genuine = await fetch(request.url, { method: "POST", headers: request.headers, body: request.body });
		expect(genuine.status).toBe(200);
	});

	it("answers 504 when the upstream hangs, and leaves no task", async () => {
		const prompt = unique("A song about waiting forever");
		await sim("/__sim/scripts", { match: prompt, hang: true });
		const started = Date.now();
		const created = await create(prompt);
		expect(created.status).toBe(504);
		expect(created.body).toMatchObject({ code: 504, data: null });
		expect(Date.now() - started).toBeLessThan(6_000);
		const listed = await call("/api/v1/lyrics/tasks?limit=100");
		expect(listed.text).not.toContain("waiting forever");
	});

	it("never serves a secret the upstream echoes back", async () => {
		const prompt = unique("A song about an indiscreet upstream");
		await sim("/__sim/scripts", { match: prompt, callback: "fail", failMsg: "refused: Authorization Bearer dev-upstream-key" });
		const { taskId } = (await create(prompt)).body.data;
		const info = await eventually(async () => {
			const current = await recordInfo(taskId);
			return current.body.data.status !== "PENDING" ? current : undefined;
		});
		expect(info.body.data.errorMessage).toBe("refused: Authorization Bearer [redacted]");
		expect(info.text).not.toContain("dev-upstream-key");
	});

	it("answers /healthz without auth", async () => {
		const health = await call("/healthz", {}, false);
		expect(health.status).toBe(200);
	});
});

describe("the pages' files over HTTP, through the Worker", () => {
	it("serves them, answers a missing one with the 404 envelope and another method with 405 and Allow", async () => {
		const script = await fetch(`${gatewayUrl}/docs/docs.js`);
		expect(script.status).toBe(200);
		expect(script.headers.get("x-content-type-options")).toBe("nosniff");
		expect((await fetch(`${gatewayUrl}/admin/admin.css`, { method: "HEAD" })).status).toBe(200);

		const missing = await fetch(`${gatewayUrl}/admin/no-such-file.js`);
		expect(missing.status).toBe(404);
		expect(await missing.json()).toEqual({ code: 404, msg: "/admin/no-such-file.js is not one of the /admin page's files.", data: null });

		const posted = await fetch(`${gatewayUrl}/docs/docs.js`, { method: "POST", body: "{}" });
		expect(posted.status).toBe(405);
		expect(posted.headers.get("allow")).toBe("GET, HEAD");
		expect(await posted.json()).toMatchObject({ code: 405, data: null });
	});
});
