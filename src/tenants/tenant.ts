/** Who is calling: the tenant whose key authenticated the request (set by requireApiKey). */
export interface Tenant {
	/** The name from API_KEYS / ADMIN_API_KEYS, or the name derived from a bare key. */
	name: string;
	/** Authenticated with an ADMIN_API_KEYS key: sees every tenant's tasks and usage. */
	admin: boolean;
}

/**
 * Whether the caller may read a task: its own, or any with an admin key. Tasks stored before
 * tenants existed have no owner and are seen by admin keys only.
 */
export function canSee(tenant: Tenant, owner: string | null): boolean {
	return tenant.admin || (owner !== null && owner === tenant.name);
}
