/** GET /openapi.json: the OpenAPI 3.1 document, generated from the schemas the routes validate with. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../http/router";

export const OPENAPI_PATH = "/openapi.json";

const info = {
	title: "lyrics-gateway",
	version: "1.0.0",
	description:
		"A gateway in front of the KIE.AI Suno lyrics API: create a task, get its result by taskId for as long as " +
		"you want. Results arrive by upstream callback or by the gateway's own poller, and are stored in D1.",
};

/** Serves the document of every route registered on `app` (so call it after mounting them). */
export function serveOpenApiDocument(app: OpenAPIHono<AppEnv>): void {
	app.doc31(OPENAPI_PATH, (c) => ({
		openapi: "3.1.0",
		info,
		servers: [{ url: new URL(c.req.url).origin, description: "This gateway" }],
	}));
}
