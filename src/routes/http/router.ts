/** Every router of the gateway: an OpenAPIHono whose validation failures answer the 400 envelope. */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { z } from "@hono/zod-openapi";
import type { Tenant } from "../../tenants/tenant";
import { GatewayError, errorEnvelope } from "./errors";

export type AppEnv = {
	Bindings: Env;
	/** Set by requireApiKey on /api/*: the tenant whose key the client authenticated with. */
	Variables: { tenant: Tenant };
};

export function createRouter() {
	return new OpenAPIHono<AppEnv>({
		defaultHook: (result, c) => {
			if (result.success) return;
			// A parameter sent twice reaches the schema as an array: name that, not the array.
			const named = new Set(result.error.issues.map((issue) => String(issue.path[0])));
			const repeated = Object.entries(c.req.queries()).find(([name, values]) => values.length > 1 && named.has(name));
			if (repeated) return errorEnvelope(c, 400, 400, `${repeated[0]} was sent ${repeated[1].length} times; send it once.`);
			return errorEnvelope(c, 400, 400, describeIssues(result.error));
		},
	});
}

/** The first problem, in words a client can act on, e.g. "taskId is required". */
function describeIssues(error: z.ZodError): string {
	const issue = error.issues[0];
	if (!issue) return "The request is not valid.";
	return issue.message.endsWith(".") ? issue.message : `${issue.message}.`;
}

/** Validates `value` with `schema`, or throws the 400 envelope naming the first problem. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
	const result = schema.safeParse(value);
	if (!result.success) throw new GatewayError(400, describeIssues(result.error));
	return result.data;
}
