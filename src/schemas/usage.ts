/** The shapes of GET /api/v1/usage, for the handler and the OpenAPI document. */
import { z } from "@hono/zod-openapi";

export const TenantUsageSchema = z
	.object({
		tenant: z.string().openapi({ example: "acme" }),
		day: z.string().openapi({ description: "The UTC day counted, YYYY-MM-DD", example: "2026-11-30" }),
		creates: z.number().int().openapi({ description: "Creates sent upstream on that day (replays and refused creates do not count)" }),
		quota: z.number().int().nullable().openapi({ description: "TENANT_QUOTAS for the tenant; null = no quota" }),
		remaining: z.number().int().nullable().openapi({ description: "Creates left today; null without a quota" }),
		resetsAt: z.number().int().openapi({ description: "Unix ms of the next UTC midnight, when the count starts afresh" }),
	})
	.openapi("TenantUsage");

export const AllTenantsUsageSchema = z
	.object({
		tenants: z.array(TenantUsageSchema).openapi({
			description: "Every tenant that has a key, and every tenant with creates today, by name",
		}),
	})
	.openapi("AllTenantsUsage");

export const UsageData = z.union([TenantUsageSchema, AllTenantsUsageSchema]).openapi({
	description: "A client key: its own tenant's usage. An admin key: every tenant's.",
});
