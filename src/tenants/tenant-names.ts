/**
 * Tenants' names and quotas as configured: the name of a bare key's tenant, every tenant that has
 * a key, and each tenant's daily quota (API_KEYS, ADMIN_API_KEYS and TENANT_QUOTAS themselves are
 * parsed in src/config/config.ts).
 */
import type { Config, TenantQuotas } from "../config/config";
import { sha256Hex } from "../lib/digest";

/**
 * A bare key's tenant: named after the key's digest, so the name is stable (whatever the order
 * of API_KEYS) and says nothing of the key itself. For a key so short that it appears inside
 * that name, another stretch of the digest (or prefix) is taken, so the name never spells the key.
 */
export async function bareKeyTenant(key: string): Promise<string> {
	const digest = await sha256Hex(key);
	const names = ["key-", "anon-"].flatMap((prefix) => [0, 12, 24, 36, 48].map((start) => `${prefix}${digest.slice(start, start + 12)}`));
	return names.find((name) => !name.includes(key)) ?? nameWithout(key[0] as string, digest);
}

/**
 * The last resort for a key that every name above spells (such as "-", which each prefix holds):
 * a name from the digest written without the key's first character, so it cannot hold the key.
 * Tried last, so the names above stay what they always were.
 */
function nameWithout(character: string, digest: string): string {
	const alphabet = [..."abcdefghijklmnopqrstuvwxyz0123456789"].filter((candidate) => candidate !== character);
	return Array.from({ length: 16 }, (_, index) => alphabet[Number.parseInt(digest.slice(index * 2, index * 2 + 2), 16) % alphabet.length]).join("");
}

/** Every tenant that has a key, and every one of `alsoSeen` (owners of tasks or creates), once each, sorted by name. */
export async function configuredTenants(config: Config, alsoSeen: Iterable<string> = []): Promise<string[]> {
	const names = await Promise.all(config.keyEntries.map((entry) => entry.tenant ?? bareKeyTenant(entry.key)));
	return [...new Set([...names, ...alsoSeen])].sort();
}

/** The tenant's creates per UTC day, or null when it has none. */
export function quotaFor(quotas: TenantQuotas, tenant: string): number | null {
	return quotas.byTenant.get(tenant) ?? quotas.others;
}
