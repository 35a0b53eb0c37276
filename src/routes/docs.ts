/**
 * GET /docs: the interactive reference (public/docs.html, Swagger UI over /openapi.json), a Workers
 * static asset served through the Worker rather than by the asset server directly, so that any
 * other method gets the same 405 envelope and `Allow` header as every route. Its scripts and
 * styles under /docs/* stay plain static assets.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { GatewayError } from "../http/errors";
import { createRouter } from "../http/router";
import { ANY_CLIENT_ERROR } from "../schemas/envelope";

export const docs = createRouter();

/**
 * The page may load scripts, styles and images from this gateway only, and call only this gateway
 * ("Try it out"): no CDN, no outside request, nothing inline.
 */
const CONTENT_SECURITY_POLICY = [
	"default-src 'none'",
	"script-src 'self'",
	"style-src 'self'",
	"img-src 'self' data:",
	"font-src 'self'",
	"connect-src 'self'",
	"base-uri 'none'",
	"form-action 'none'",
	"frame-ancestors 'none'",
].join("; ");

const docsRoute = createRoute({
	method: "get",
	path: "/",
	operationId: "openApiReference",
	tags: ["reference"],
	summary: "Interactive API reference",
	description: "Swagger UI over this document, served by the gateway itself: it works with no internet access.",
	security: [],
	responses: {
		200: { description: "The page", content: { "text/html": { schema: z.string() } } },
		...ANY_CLIENT_ERROR,
	},
});

docs.openAPIRegistry.registerPath(docsRoute);
docs.get("/", async (c) => {
	const page = await c.env.ASSETS.fetch(c.req.raw);
	if (page.status === 404) {
		// Only a build that skipped public/ gets here (wrangler uploads it with the Worker).
		throw new GatewayError(503, "The /docs page is missing from this deployment's static assets; /openapi.json has the same reference.");
	}
	const answer = new Response(page.body, page);
	answer.headers.set("content-security-policy", CONTENT_SECURITY_POLICY);
	return answer;
});
