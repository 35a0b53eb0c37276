/**
 * GET /docs (the interactive reference: Swagger UI over /openapi.json) and GET /admin (the
 * operator's view over /api/v1/stats): HTML pages kept in public/ as Workers static assets and
 * served through the Worker rather than by the asset server directly, with their scripts and
 * styles under /docs/* and /admin/*. So every path gets the same envelope as the API: another
 * method 405 with `Allow`, a file that is not there 404; and each page gets its
 * Content-Security-Policy here.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { GatewayError } from "./http/errors";
import { createRouter } from "./http/router";
import { ANY_CLIENT_ERROR } from "../schemas/envelope";

/**
 * A page may load scripts, styles and images from this gateway only, and call only this gateway
 * ("Try it out", the stats): no CDN, no outside request, nothing inline.
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

interface Page {
	operationId: string;
	tag: string;
	summary: string;
	description: string;
	/** What the page is called in the message of a deployment that lacks it. */
	name: string;
	/** Said instead, when the page is missing. */
	fallback: string;
	/** The operator's view shows live figures: never from a cache. */
	noStore?: boolean;
}

function pageRouter(page: Page) {
	const router = createRouter();
	const route = createRoute({
		method: "get",
		path: "/",
		operationId: page.operationId,
		tags: [page.tag],
		summary: page.summary,
		description: page.description,
		security: [],
		responses: {
			200: { description: "The page", content: { "text/html": { schema: z.string() } } },
			...ANY_CLIENT_ERROR,
		},
	});
	router.openAPIRegistry.registerPath(route);
	router.get("/", async (c) => {
		const asset = await c.env.ASSETS.fetch(c.req.raw);
		if (asset.status === 404) {
			// Only a build that skipped public/ gets here (wrangler uploads it with the Worker).
			throw new GatewayError(503, `The ${page.name} page is missing from this deployment's static assets; ${page.fallback}`);
		}
		const answer = new Response(asset.body, asset);
		answer.headers.set("content-security-policy", CONTENT_SECURITY_POLICY);
		answer.headers.set("referrer-policy", "no-referrer");
		answer.headers.set("x-content-type-options", "nosniff");
		if (page.noStore) answer.headers.set("cache-control", "no-store");
		return answer;
	});
	// The page's scripts and styles (not in the document: they are the page's, not the API's).
	router.get("/*", async (c) => {
		const asset = await c.env.ASSETS.fetch(c.req.raw);
		if (asset.status === 404) throw new GatewayError(404, `${c.req.path} is not one of the ${page.name} page's files.`);
		const answer = new Response(asset.body, asset);
		answer.headers.set("x-content-type-options", "nosniff");
		return answer;
	});
	return router;
}

export const docs = pageRouter({
	operationId: "openApiReference",
	tag: "reference",
	summary: "Interactive API reference",
	description: "Swagger UI over this document, served by the gateway itself: it works with no internet access.",
	name: "/docs",
	fallback: "/openapi.json has the same reference.",
});

export const adminPage = pageRouter({
	operationId: "operatorView",
	tag: "operators",
	summary: "The operator's view",
	description:
		"A page that asks for an admin key (kept for the browser tab only) and draws GET /api/v1/stats: tasks per hour " +
		"by status, how results arrived, time to result, deliveries and the hosts that fail them, each tenant's " +
		"creates against its quota, and the newest failures. Served by the gateway itself, like /docs.",
	name: "/admin",
	fallback: "GET /api/v1/stats has the same figures.",
	noStore: true,
});
