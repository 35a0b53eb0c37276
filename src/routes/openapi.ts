/** GET /openapi.json: the OpenAPI 3.1 document, generated from the schemas the routes validate with. */
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../http/router";
import { WebhookBodySchema, WebhookHeadersSchema } from "../schemas/webhook";

const OPENAPI_PATH = "/openapi.json";

const info = {
	title: "lyrics-gateway",
	version: "1.0.0",
	description:
		"A gateway in front of the KIE.AI Suno lyrics API: create a task, get its result by taskId for as long as " +
		"you want. Results arrive by upstream callback or by the gateway's own poller, and are stored in D1.",
};

/** Serves the document of every route registered on `app` (so call it after mounting them). */
export function serveOpenApiDocument(app: OpenAPIHono<AppEnv>): void {
	// The two reference routes themselves: /openapi.json here, /docs from Workers static assets.
	app.openAPIRegistry.registerPath({
		method: "get",
		path: OPENAPI_PATH,
		operationId: "getOpenApiDocument",
		summary: "This document",
		description: "The OpenAPI 3.1 document of the gateway, generated from the schemas its routes validate with.",
		responses: { 200: { description: "The document", content: { "application/json": { schema: z.object({}).passthrough() } } } },
	});
	app.openAPIRegistry.registerPath({
		method: "get",
		path: "/docs",
		operationId: "openApiReference",
		summary: "Interactive API reference",
		description: "Swagger UI over this document, served by the gateway itself: it works with no internet access.",
		responses: { 200: { description: "The page", content: { "text/html": { schema: z.string() } } } },
	});
	app.openAPIRegistry.registerWebhook({
		method: "post",
		path: "lyricsTaskFinished",
		operationId: "lyricsTaskFinished",
		summary: "A task you created with a callBackUrl is final",
		description:
			"POSTed to your callBackUrl once per task when it becomes final, signed both ways with WEBHOOK_SIGNING_KEY. " +
			"Answer any 2xx within 15 s (WEBHOOK_TIMEOUT_MS); anything else is retried, by default after 5 s, 5 min, " +
			"30 min, 2 h, 5 h, 10 h and 10 h (WEBHOOK_RETRY_SCHEDULE), with the same webhook-id. " +
			"record-info shows the attempts under `delivery`. One exception to once per task: when the gateway " +
			"gave up waiting (TASK_MAX_PENDING_SECONDS; code 408, webhook-id msg_<taskId>) and the upstream's " +
			"result comes after all, that result replaces the timeout and is POSTed as a new delivery with " +
			"webhook-id msg_<taskId>_2: treat it as the task's final result.",
		request: {
			headers: WebhookHeadersSchema,
			body: { required: true, content: { "application/json": { schema: WebhookBodySchema } } },
		},
		responses: { 200: { description: "Any 2xx acknowledges the delivery; it is not sent again" } },
	});
	app.doc31(OPENAPI_PATH, (c) => ({
		openapi: "3.1.0",
		info,
		servers: [{ url: new URL(c.req.url).origin, description: "This gateway" }],
	}));
}
