/**
 * Bearer authentication of clients against API_KEYS and ADMIN_API_KEYS, for everything under
 * /api/*: sets the caller's tenant on the context.
 */
import { createMiddleware } from "hono/factory";
import { type KeyEntry, readConfig } from "../../config/config";
import { bareKeyTenant } from "../../tenants/tenant-names";
import { timingSafeEqualText } from "../../security/hmac";
import type { Tenant } from "../../tenants/tenant";
import { GatewayError } from "./errors";
import type { AppEnv } from "./router";

export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
	const header = c.req.header("authorization") ?? "";
	const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
	const entries = readConfig(c.env).keyEntries;
	const tenant = match ? await tenantOf(match[1] as string, entries) : null;
	if (!tenant) {
		throw new GatewayError(
			401,
			entries.length === 0
				? "This gateway has no API keys configured (API_KEYS or ADMIN_API_KEYS), so it accepts no calls yet."
				: match
					? "The bearer token is not valid for this gateway. Check the key you send."
					: "Missing bearer token. Send the header `Authorization: Bearer <your gateway API key>`.",
			401,
			{ "www-authenticate": 'Bearer realm="lyrics-gateway"' },
		);
	}
	// Ownership of tasks, Idempotency-Keys and quotas all follow the tenant, not the key.
	c.set("tenant", tenant);
	await next();
});

/**
 * Checks every key, whatever matches first, so timing says nothing about which key or how many.
 * A key listed in both API_KEYS and ADMIN_API_KEYS is an admin's.
 */
async function tenantOf(token: string, entries: KeyEntry[]): Promise<Tenant | null> {
	const results = await Promise.all(entries.map((entry) => timingSafeEqualText(token, entry.key)));
	const matches = entries.filter((_, index) => results[index]);
	const entry = matches.find((candidate) => candidate.admin) ?? matches[0];
	if (!entry) return null;
	return { name: entry.tenant ?? (await bareKeyTenant(entry.key)), admin: entry.admin };
}
