/**
 * The route schemas are declared once, in a form an OpenAPI 3.1 document is generated from
 * and served at /openapi.json. This checks every public route is in it.
 */
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";

describe("OpenAPI 3.1 generation from the route schemas", () => {
	const document = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "lyrics-gateway", version: "test" } });

	it("covers every public route with its methods", () => {
		expect(Object.keys(document.paths ?? {}).sort()).toEqual(
			["/api/v1/lyrics", "/api/v1/lyrics/record-info", "/api/v1/lyrics/tasks", "/callbacks/kie/{ref}", "/healthz"].sort(),
		);
		expect(document.paths?.["/api/v1/lyrics"]?.post?.requestBody).toBeDefined();
		expect(document.paths?.["/callbacks/kie/{ref}"]?.post?.requestBody).toBeDefined();
	});

	it("documents the bearer scheme and the error envelope", () => {
		expect(document.components?.securitySchemes?.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
		expect(document.components?.schemas?.ErrorEnvelope).toBeDefined();
		const create = document.paths?.["/api/v1/lyrics"]?.post;
		expect(Object.keys(create?.responses ?? {})).toEqual(
			expect.arrayContaining(["200", "400", "401", "402", "413", "429", "502", "503", "504"]),
		);
	});
});

describe("what clients of issue 3's features need from the document", () => {
	const document = app.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "lyrics-gateway", version: "test" } });

	it("documents Idempotency-Key on create, and its 422", () => {
		const create = document.paths?.["/api/v1/lyrics"]?.post;
		expect(create?.parameters).toEqual(
			expect.arrayContaining([expect.objectContaining({ name: "Idempotency-Key", in: "header", required: false })]),
		);
		expect(Object.keys(create?.responses ?? {})).toContain("422");
	});
});

describe("GET /openapi.json", () => {
	it("serves the generated document without auth, naming this gateway as its server", async () => {
		const { gateway } = await import("./helpers");
		const response = await gateway("/openapi.json");
		expect(response.status).toBe(200);
		const served = (await response.json()) as { openapi: string; servers: { url: string }[]; paths: Record<string, unknown> };
		expect(served.openapi).toBe("3.1.0");
		expect(served.servers[0]?.url).toBe("https://gateway.test");
		expect(Object.keys(served.paths)).toContain("/api/v1/lyrics/record-info");
	});
});
