/** GET /openapi.json: the OpenAPI 3.1 document, generated from the schemas the routes validate with. */
import { type OpenAPIHono, z } from "@hono/zod-openapi";
import { version } from "../../package.json";
import type { AppEnv } from "./http/router";
import { ANY_CLIENT_ERROR } from "../schemas/envelope";
import { WebhookBodySchema, WebhookHeadersSchema } from "../schemas/webhook";

const OPENAPI_PATH = "/openapi.json";

const info = {
	title: "lyrics-gateway",
	// The package's own version: one number for the code and what it documents.
	version,
	description:
		"A gateway in front of the KIE.AI Suno lyrics API: create a task, get its result by taskId for as long as " +
		"you want. Results arrive by upstream callback or by the gateway's own poller, and are stored in D1. " +
		"Every answer, errors included, is the envelope {code, msg, data}; a method a path does not serve answers " +
		"405 with an Allow header, and an unknown path 404 listing the routes.",
	// The repository grants no license (package.json is private and names none).
	license: { name: "Proprietary: no license is granted", identifier: "LicenseRef-Proprietary" },
};

/** Tags in the order the reference shows them; every operation carries one. */
const tags = [
	{ name: "lyrics", description: "Create lyrics tasks and read them back (bearer key)." },
	{ name: "callbacks", description: "Where the upstream reports a task's result (the callback URL's own token)." },
	{ name: "tenants", description: "What each tenant (a name shared by its API keys) has spent of its daily quota (bearer key)." },
	{ name: "operators", description: "The operator's figures and page (admin keys)." },
	{ name: "deliveries", description: "What the gateway sends to a client's own callBackUrl." },
	{ name: "reference", description: "Health and this reference (no auth)." },
];

/** Serves the document of every route registered on `app` (so call it after mounting them). */
export function serveOpenApiDocument(app: OpenAPIHono<AppEnv>): void {
	app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
		type: "http",
		scheme: "bearer",
		description: "One of the gateway's API_KEYS, or an operator's ADMIN_API_KEYS.",
	});
	app.openAPIRegistry.registerComponent("securitySchemes", "callbackToken", {
		type: "apiKey",
		in: "query",
		name: "token",
		description:
			"The token in the callback URL the gateway gave the upstream with a create: an HMAC of that URL's ref, " +
			"valid for that URL only.",
	});
	app.openAPIRegistry.registerPath({
		method: "get",
		path: OPENAPI_PATH,
		operationId: "getOpenApiDocument",
		tags: ["reference"],
		summary: "This document",
		description: "The OpenAPI 3.1 document of the gateway, generated from the schemas its routes validate with.",
		security: [],
		responses: {
			200: { description: "The document", content: { "application/json": { schema: z.object({}).passthrough() } } },
			...ANY_CLIENT_ERROR,
		},
	});
	app.openAPIRegistry.registerWebhook({
		method: "post",
		path: "lyricsTaskFinished",
		operationId: "lyricsTaskFinished",
		tags: ["deliveries"],
		summary: "A task you created with a callBackUrl is final",
		description:
			"POSTed to your callBackUrl once per task when it becomes final, signed both ways with WEBHOOK_SIGNING_KEY " +
			"(the signature headers below; no other credential). " +
			"Answer any 2xx within 15 s (WEBHOOK_TIMEOUT_MS); anything else is retried, by default after 5 s, 5 min, " +
			"30 min, 2 h, 5 h, 10 h and 10 h (WEBHOOK_RETRY_SCHEDULE), with the same webhook-id. " +
			"record-info shows the attempts under `delivery`. One exception to once per task: when the gateway " +
			"gave up waiting (TASK_MAX_PENDING_SECONDS; code 408, webhook-id msg_<taskId>) and the upstream's " +
			"result comes after all, that result replaces the timeout and is POSTed as a new delivery with " +
			"webhook-id msg_<taskId>_2: treat it as the task's final result.",
		security: [],
		request: {
			headers: WebhookHeadersSchema,
			body: { required: true, content: { "application/json": { schema: WebhookBodySchema } } },
		},
		responses: {
			200: { description: "Any 2xx acknowledges the delivery; it is not sent again" },
			"4XX": { description: "Any other answer (or none within the timeout) is retried on the schedule above" },
		},
	});
	app.doc31(OPENAPI_PATH, (c) => ({
		openapi: "3.1.0",
		info,
		tags,
		servers: [{ url: new URL(c.req.url).origin, description: "This gateway" }],
	}));
}
