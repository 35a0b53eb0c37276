/**
 * One `request` log line per HTTP request, written after the answer is decided (errors included):
 * who asked for what, how it ended and how long it took, so `wrangler tail` and Workers
 * observability can follow a client or a task without reading any request. The one exception is
 * an acknowledged duplicate callback (`quiet`): its task object logs duplicates in bulk instead.
 *
 * Only the route is logged, never the URL: callback URLs carry their token in the query, and the
 * `ref` in their path is what the token signs. Headers, bodies and query values other than a
 * well-formed taskId stay out (bearer keys, prompts).
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import { type LogLevel, logEvent } from "../../lib/log";
import { notedForLog } from "./log-fields";
import { CALLBACK_PATH_PREFIX } from "../../security/callback-token";
import { isValidTaskId } from "../../domain/task-id";
import { readConfig } from "../../config/config";
import { holdsSecret } from "../../security/redact";
import type { AppEnv } from "./router";

/** Longest path logged for a request no route matched (scanners send anything). */
const MAX_UNMATCHED_PATH_LENGTH = 120;

export const logRequest = createMiddleware<AppEnv>(async (c, next) => {
	const started = Date.now();
	await next();
	const status = c.res.status;
	const { taskId, code, quiet, ...noted } = notedForLog(c.req.raw);
	if (quiet && status < 300) return;
	logEvent(levelFor(status), "request", {
		// The ray id ties this line to Cloudflare's own request logs; local runs have none. Made only
		// for a line that is written (four callbacks in five are quiet duplicates).
		requestId: c.req.header("cf-ray") ?? crypto.randomUUID(),
		method: c.req.method,
		route: routeOf(c),
		status,
		ms: Date.now() - started,
		...withTaskId(c.req.query("taskId") ?? taskId, c.env),
		// Whose request it was, once authenticated (a tenant's name is not a secret; its keys are).
		...(c.get("tenant") ? { tenant: c.get("tenant").name } : {}),
		...(code !== undefined && code !== status ? { code } : {}),
		...noted,
	});
});

function levelFor(status: number): LogLevel {
	if (status >= 500) return "error";
	if (status >= 400) return "warn";
	return "info";
}

/**
 * The pattern of the route that answered (`/callbacks/kie/:ref`, not the ref itself). A request no
 * route matched has only this middleware's own catch-all behind it; its path is logged cut short,
 * with anything under the callback prefix reduced to the pattern.
 */
function routeOf(c: Context<AppEnv>): string {
	const handler = matchedRoutes(c).findLast((route) => route.method !== "ALL");
	if (handler) return handler.path;
	const path = c.req.path;
	if (path.startsWith(CALLBACK_PATH_PREFIX)) return `${CALLBACK_PATH_PREFIX}:ref`;
	return path.length > MAX_UNMATCHED_PATH_LENGTH ? `${path.slice(0, MAX_UNMATCHED_PATH_LENGTH)}…` : path;
}

/** A well-formed taskId, unless it holds a configured secret (a key pasted as an id stays out). */
function withTaskId(taskId: unknown, env: Env): { taskId?: string } {
	return typeof taskId === "string" && isValidTaskId(taskId) && !holdsSecret(taskId, readConfig(env)) ? { taskId } : {};
}
