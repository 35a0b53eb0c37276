/**
 * The served OpenAPI document against the app itself: every route the app answers is in it (and
 * nothing else), and every example in it, explicit or assembled from its property examples as
 * Swagger UI shows them, passes the zod schema the route validates with.
 */
import type { z } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { app } from "../../src/routes/app";
import { gateway } from "./helpers";

type JsonSchema = Record<string, any>;
type OpenApiDocument = Record<string, any>;

async function servedDocument(): Promise<OpenApiDocument> {
	const response = await gateway("/openapi.json");
	expect(response.status).toBe(200);
	return (await response.json()) as OpenApiDocument;
}

/** An instance of `schema` as a reader of the document would take it: its examples first. */
function sample(schema: JsonSchema, document: OpenApiDocument): unknown {
	if (schema.$ref) {
		const name = String(schema.$ref).replace("#/components/schemas/", "");
		return sample(document.components.schemas[name], document);
	}
	if ("example" in schema) return schema.example;
	if ("const" in schema) return schema.const;
	if (Array.isArray(schema.enum)) return schema.enum[0];
	if ("default" in schema) return schema.default;
	const options: JsonSchema[] | undefined = schema.anyOf ?? schema.oneOf;
	if (options) return sample(options.find((option) => option.type !== "null") ?? (options[0] as JsonSchema), document);
	const type = Array.isArray(schema.type) ? (schema.type.find((t: string) => t !== "null") ?? "null") : schema.type;
	switch (type) {
		case "object":
			return Object.fromEntries(
				Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>).map(([key, property]) => [key, sample(property, document)]),
			);
		case "array":
			return [sample(schema.items ?? {}, document)];
		case "integer":
		case "number":
			return schema.minimum ?? 1;
		case "boolean":
			return true;
		case "null":
			return null;
		default:
			return "text";
	}
}

interface Operation {
	where: string;
	config: Record<string, any>;
	documented: Record<string, any>;
}

/** Every operation the registry holds, with its zod configuration and its part of the document. */
function operations(document: OpenApiDocument): Operation[] {
	return app.openAPIRegistry.definitions.flatMap((definition: any) => {
		if (definition.type === "route") {
			const path = String(definition.route.path).replace(/:(\w+)/g, "{$1}");
			return [{ where: `${definition.route.method.toUpperCase()} ${path}`, config: definition.route, documented: document.paths[path][definition.route.method] }];
		}
		if (definition.type === "webhook") {
			const { path, method } = definition.webhook;
			return [{ where: `webhook ${path}`, config: definition.webhook, documented: document.webhooks[path][method] }];
		}
		return [];
	});
}

describe("the served OpenAPI document", () => {
	it("is served without auth as OpenAPI 3.1, naming this gateway as its server", async () => {
		const document = await servedDocument();
		expect(document.openapi).toBe("3.1.0");
		expect(document.servers[0].url).toBe("https://gateway.test");
	});

	it("lists exactly the routes the app answers, plus the static /docs page (not the pages' own scripts and styles)", async () => {
		const document = await servedDocument();
		const pageFiles = ["/docs/*", "/admin/*"];
		const answered = new Set(
			app.routes
				.filter((route) => route.method !== "ALL" && !pageFiles.includes(route.path))
				.map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}").replace(/(.)\/$/, "$1")}`),
		);
		answered.add("GET /docs");
		const documented = new Set(
			Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
				Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
			),
		);
		expect([...documented].sort()).toEqual([...answered].sort());
		expect(Object.keys(document.webhooks ?? {})).toEqual(["lyricsTaskFinished"]);
	});

	it("gives every body, request and response, an example its zod schema accepts", async () => {
		const document = await servedDocument();
		let checked = 0;
		for (const { where, config, documented } of operations(document)) {
			const contents: Array<[string, Record<string, any>, Record<string, any>]> = [];
			if (config.request?.body) contents.push([`${where} request`, config.request.body.content, documented.requestBody.content]);
			for (const [status, response] of Object.entries(config.responses as Record<string, any>)) {
				if (response.content) contents.push([`${where} ${status}`, response.content, documented.responses[status].content]);
			}
			for (const [label, zodContent, documentedContent] of contents) {
				for (const [mime, { schema }] of Object.entries(zodContent as Record<string, { schema: z.ZodType }>)) {
					const media = documentedContent[mime];
					const example = "example" in media ? media.example : sample(media.schema, document);
					const parsed = schema.safeParse(example);
					expect(parsed.success, `${label} ${mime}: ${JSON.stringify(example)} ${parsed.error?.message ?? ""}`).toBe(true);
					checked += 1;
				}
			}
		}
		expect(checked).toBeGreaterThan(20);
	});

	it("gives every parameter an example its route accepts", async () => {
		const document = await servedDocument();
		let checked = 0;
		for (const { where, config, documented } of operations(document)) {
			for (const [location, key] of [["query", "query"], ["header", "headers"], ["path", "params"]] as const) {
				const parameters = (documented.parameters ?? []).filter((parameter: any) => parameter.in === location);
				// Only parameters a zod schema declares: none of a route without one is documented.
				const schema: z.ZodType | undefined = config.request?.[key];
				if (!schema) {
					expect(parameters, `${where} ${location}`).toEqual([]);
					continue;
				}
				checked += parameters.length;
				const example = Object.fromEntries(
					parameters.map((parameter: any) => [parameter.name, String(parameter.example ?? sample(parameter.schema, document))]),
				);
				const parsed = schema.safeParse(example);
				expect(parsed.success, `${where} ${location}: ${JSON.stringify(example)} ${parsed.error?.message ?? ""}`).toBe(true);
			}
		}
		// Every documented parameter went through a schema above, and there are some.
		const documentedCount = operations(document).reduce((n, { documented }) => n + (documented.parameters?.length ?? 0), 0);
		expect(checked).toBe(documentedCount);
		expect(checked).toBeGreaterThanOrEqual(5);
	});

	it("documents the bearer scheme, the error envelope's codes, Idempotency-Key and the delivery signatures", async () => {
		const document = await servedDocument();
		expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
		const create = document.paths["/api/v1/lyrics"].post;
		expect(create.responses["402"].content["application/json"].example).toMatchObject({ code: 429, data: null });
		expect(create.parameters.map((parameter: any) => parameter.name)).toContain("Idempotency-Key");
		expect(create.responses["429"].headers["Retry-After"]).toBeDefined();
		const operationIds = Object.values(document.paths as Record<string, Record<string, any>>).flatMap((methods) =>
			Object.values(methods).map((operation) => operation.operationId),
		);
		expect(operationIds.every((id) => typeof id === "string")).toBe(true);
		expect(new Set(operationIds).size).toBe(operationIds.length);
		const webhookHeaders = document.webhooks.lyricsTaskFinished.post.parameters.map((parameter: any) => parameter.name);
		expect(webhookHeaders).toEqual(
			expect.arrayContaining(["webhook-id", "webhook-timestamp", "webhook-signature", "x-webhook-timestamp", "x-webhook-signature"]),
		);
	});

	it("documents tenants: GET /api/v1/usage for a client and an admin, owner on every task, ?owner= and its 403", async () => {
		const document = await servedDocument();
		const usage = document.paths["/api/v1/usage"].get;
		expect(usage.operationId).toBe("getUsage");
		expect(usage.security).toEqual([{ bearerAuth: [] }]);
		const schemas = document.components.schemas;
		expect(Object.keys(schemas.TenantUsage.properties).sort()).toEqual(["creates", "day", "quota", "remaining", "resetsAt", "tenant"]);
		expect(Object.keys(schemas.AllTenantsUsage.properties)).toEqual(["tenants"]);
		expect(schemas.LyricsTask.properties.owner).toBeDefined();
		expect(schemas.LyricsTask.required).toContain("owner");
		const list = document.paths["/api/v1/lyrics/tasks"].get;
		expect(list.parameters.map((parameter: any) => parameter.name)).toContain("owner");
		expect(list.responses["403"].content["application/json"].example).toMatchObject({ code: 403, data: null });
		expect(document.paths["/api/v1/lyrics"].post.responses["429"].description).toMatch(/TENANT_QUOTAS/);
	});
});
