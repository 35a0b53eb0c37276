/** GET /api/v1/stats: the operator's figures over a window of hours (admin keys only). */
import { createRoute } from "@hono/zod-openapi";
import { readConfig } from "../config/config";
import { configuredTenants, quotaFor } from "../tenants/tenant-names";
import { BACKLOG_COUNTED, readWindowStats } from "../db/stats";
import { GatewayError } from "./http/errors";
import { createRouter } from "./http/router";
import { errorResponses, successEnvelope } from "../schemas/envelope";
import { StatsData, StatsQuery } from "../schemas/stats";

export const stats = createRouter();

/** D1's largest database on Workers Paid (10 GB; 500 MB on Workers Free), which no setting raises. */
const D1_MAX_BYTES = 10_000_000_000;

const statsRoute = createRoute({
	method: "get",
	path: "/",
	operationId: "getGatewayStats",
	summary: "The operator's figures",
	description:
		"Counts the tasks created in the last `hours` hours, from the start of that clock hour (a create that left no " +
		"task is not one; archived tasks count like any other): by status, by how their result arrived, the time from " +
		"create to result, their deliveries to clients' callBackUrls, and each tenant's share; with the archive's " +
		"backlog and D1's size. Admin keys only (ADMIN_API_KEYS). GET /admin draws these figures.",
	tags: ["operators"],
	security: [{ bearerAuth: [] }],
	request: { query: StatsQuery },
	responses: {
		200: { description: "The figures", content: { "application/json": { schema: successEnvelope(StatsData) } } },
		...errorResponses({
			400: "hours is not a whole number from 1 to 720",
			401: "Missing or wrong bearer token",
			403: "The key is a client key; the stats need an admin key",
		}),
	},
});

// Before the query is validated: a client key learns nothing about this route but that it may not.
stats.use("*", async (c, next) => {
	if (!c.get("tenant").admin) {
		throw new GatewayError(
			403,
			"The stats cover every tenant, so they need an admin key (ADMIN_API_KEYS); this key is a client key.",
		);
	}
	await next();
});

stats.openapi(statsRoute, async (c) => {
	const { hours } = c.req.valid("query");
	const config = readConfig(c.env);
	const window = await readWindowStats(c.env.DB, Date.now(), hours, config.archiveAfterSeconds * 1000);
	const tenants = (await configuredTenants(config, window.creates.keys())).map((tenant) => ({
		tenant,
		creates: window.creates.get(tenant) ?? 0,
		quota: quotaFor(config.tenantQuotas, tenant),
	}));
	return c.json(
		{
			code: 200 as const,
			msg: "success" as const,
			data: {
				since: window.since,
				hours,
				tasks: { created: window.created, byStatus: window.byStatus, bySource: window.bySource },
				timeToResultMs: window.timeToResultMs,
				deliveries: window.deliveries,
				tenants,
				hourly: window.hourly,
				failingHosts: window.failingHosts,
				archive: { backlog: window.archiveBacklog, backlogCountedUpTo: BACKLOG_COUNTED },
				database: { bytes: window.databaseBytes, limitBytes: D1_MAX_BYTES },
				recentFailures: window.recentFailures.map((row) => ({
					taskId: row.task_id,
					owner: row.owner,
					status: row.status,
					errorCode: row.error_code,
					errorMessage: row.error_message,
					resultSource: row.result_source as "callback" | "poll" | "timeout" | null,
					createTime: row.created_at,
					completeTime: row.completed_at,
				})),
			},
		},
		200,
	);
});
