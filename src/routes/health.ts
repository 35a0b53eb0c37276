/** GET /healthz (no auth): 200 when D1 answers and every variable parses; otherwise 503 naming what is wrong. */
import { createRoute, z } from "@hono/zod-openapi";
import { readConfig } from "../config/config";
import { pingDatabase } from "../db/tasks";
import { GatewayError } from "./http/errors";
import { createRouter } from "./http/router";
import { logEvent } from "../lib/log";
import { ANY_CLIENT_ERROR, errorResponses, successEnvelope } from "../schemas/envelope";
import { errorMessage } from "../lib/error-message";

export const health = createRouter();

const healthRoute = createRoute({
	method: "get",
	path: "/",
	operationId: "checkHealth",
	tags: ["reference"],
	summary: "Health check",
	security: [],
	responses: {
		200: {
			description: "D1 answers and every variable parses",
			content: { "application/json": { schema: successEnvelope(z.object({ database: z.literal("ok") })) } },
		},
		...ANY_CLIENT_ERROR,
		...errorResponses({ 503: "D1 does not answer, or a variable does not parse (each one named)" }),
	},
});

health.openapi(healthRoute, async (c) => {
	const wrong = readConfig(c.env).problems.map(({ variable, problem }) => `${variable} ${problem}.`);
	try {
		await pingDatabase(c.env.DB);
	} catch (error) {
		logEvent("error", "health_db_failed", { error: errorMessage(error) });
		wrong.unshift("D1 is not answering. Check the DB binding and the database.");
	}
	if (wrong.length > 0) throw new GatewayError(503, wrong.join(" "));
	return c.json({ code: 200 as const, msg: "success" as const, data: { database: "ok" as const } }, 200);
});
