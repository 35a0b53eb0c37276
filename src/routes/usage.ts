/** GET /api/v1/usage: today's creates against the quota, for the caller's tenant (admin keys: all). */
import { createRoute, type z } from "@hono/zod-openapi";
import { readConfig } from "../config/config";
import { configuredTenants, quotaFor } from "../tenants/tenant-names";
import { createRouter } from "./http/router";
import { errorResponses, successEnvelope } from "../schemas/envelope";
import { type TenantUsageSchema, UsageData } from "../schemas/usage";
import { nextUtcMidnight, utcDay } from "../tenants/quota";
import { tenantQuotaObject } from "../tenants/quota-object";

export const usage = createRouter();

const usageRoute = createRoute({
	method: "get",
	path: "/",
	operationId: "getUsage",
	summary: "Today's creates and quota",
	description:
		"Creates sent upstream today (UTC) against TENANT_QUOTAS. A client key answers its own tenant's figures; " +
		"an admin key answers {tenants: [...]} for every tenant that has a key or made creates today.",
	tags: ["tenants"],
	security: [{ bearerAuth: [] }],
	responses: {
		200: { description: "The usage", content: { "application/json": { schema: successEnvelope(UsageData) } } },
		...errorResponses({ 401: "Missing or wrong bearer token" }),
	},
});

usage.openapi(usageRoute, async (c) => {
	const config = readConfig(c.env);
	const tenant = c.get("tenant");
	const now = Date.now();
	const day = utcDay(now);
	const counts = await tenantQuotaObject(c.env).counts(day);
	const usageOf = (name: string): z.infer<typeof TenantUsageSchema> => {
		const creates = counts[name] ?? 0;
		const quota = quotaFor(config.tenantQuotas, name);
		return {
			tenant: name,
			day,
			creates,
			quota,
			remaining: quota === null ? null : Math.max(0, quota - creates),
			resetsAt: nextUtcMidnight(now),
		};
	};
	if (!tenant.admin) return c.json({ code: 200 as const, msg: "success" as const, data: usageOf(tenant.name) }, 200);
	const tenants = (await configuredTenants(config, Object.keys(counts))).map(usageOf);
	return c.json({ code: 200 as const, msg: "success" as const, data: { tenants } }, 200);
});
