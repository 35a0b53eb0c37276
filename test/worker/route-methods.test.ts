/**
 * Methods and paths outside the API: every documented path answers a method it does not serve
 * with 405, an `Allow` header naming what it serves and the envelope, with or without a key;
 * /docs too. A path no route serves answers 404 naming every route.
 */
import { describe, expect, it } from "vitest";
import { expectErrorEnvelope, gateway } from "./helpers";

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** Each documented path (a sample value for its parameters) and the methods it documents. */
async function documentedPaths(): Promise<Array<{ path: string; url: string; methods: string[] }>> {
	const document = (await (await gateway("/openapi.json")).json()) as { paths: Record<string, Record<string, unknown>> };
	return Object.entries(document.paths).map(([path, operations]) => ({
		path,
		url: path.replace(/\{\w+\}/g, "0123456789abcdef0123456789abcdef"),
		methods: Object.keys(operations).map((method) => method.toUpperCase()),
	}));
}

describe("a method a route does not serve", () => {
	it.each([
		["without a key", {}],
		["with a valid key", { authorization: "Bearer test-key-1" }],
	])("answers 405 with Allow and the envelope on every documented path, %s", async (_name, headers) => {
		const paths = await documentedPaths();
		expect(paths.map(({ path }) => path)).toContain("/docs");
		let checked = 0;
		for (const { path, url, methods } of paths) {
			const allowed = methods.includes("GET") ? [...methods, "HEAD"] : methods;
			for (const method of METHODS.filter((candidate) => !allowed.includes(candidate))) {
				const response = await gateway(url, { method, headers, body: method === "GET" || method === "HEAD" ? undefined : "{}" });
				expect(response.headers.get("allow"), `${method} ${path}`).toBe(allowed.join(", "));
				if (method === "HEAD") {
					// An answer to HEAD has no body.
					expect(response.status, `${method} ${path}`).toBe(405);
				} else {
					const answer = await expectErrorEnvelope(response, 405);
					expect(answer.msg).toBe(`${path} answers ${allowed.join(", ")}, not ${method}.`);
				}
				checked += 1;
			}
		}
		expect(checked).toBeGreaterThanOrEqual(7 * 5);
	});

	it("HEAD is served wherever GET is", async () => {
		const response = await gateway("/healthz", { method: "HEAD" });
		expect(response.status).toBe(200);
		expect(await response.text()).toBe("");
	});
});

describe("GET /docs", () => {
	it("serves the reference page through the Worker, with its Content-Security-Policy", async () => {
		const response = await gateway("/docs");
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toMatch(/^text\/html/);
		expect(await response.text()).toContain('<div id="swagger-ui">');
		expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'.*script-src 'self'/);
	});
});

describe("a path no route serves", () => {
	it("answers 404 naming the method, the path and every documented route", async () => {
		const request = { method: "POST", headers: { authorization: "Bearer test-key-1" } };
		const answer = await expectErrorEnvelope(await gateway("/api/v1/lyric", request), 404);
		expect(answer.msg).toMatch(/^No route for POST \/api\/v1\/lyric\. The routes are: /);
		for (const { path, methods } of await documentedPaths()) {
			for (const method of methods) expect(answer.msg).toContain(`${method} ${path}`);
		}
	});
});
