/**
 * Daily quotas (TENANT_QUOTAS): a create counts once it is sent upstream, whatever the upstream
 * then answers; one refused before it was sent gives its reservation back.
 */
import { type Config } from "../config/config";
import { quotaFor } from "./tenant-names";
import type { CreateFailure } from "../upstream/create-failure";
import { tenantQuotaObject } from "./quota-object";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The UTC day of `now`, as YYYY-MM-DD. */
export function utcDay(now: number): string {
	return new Date(now).toISOString().slice(0, 10);
}

/** Unix ms of the next UTC midnight after `now`, when every quota starts afresh. */
export function nextUtcMidnight(now: number): number {
	return (Math.floor(now / DAY_MS) + 1) * DAY_MS;
}

/** A create's claim on its tenant's quota: settled once the create is sent, or given back. */
export interface QuotaClaim {
	/** The create was sent upstream: it counts (a tenant without a quota is counted only now). */
	sent(): Promise<void>;
	/** The create was refused before it was sent: it does not count. */
	release(): Promise<void>;
}

/** Reserves one create for the tenant, or the 429 refusal when its quota for today is used up. */
export async function claimQuota(
	env: Env,
	config: Config,
	tenant: string,
	now: number = Date.now(),
): Promise<{ granted: true; claim: QuotaClaim } | { granted: false; failure: CreateFailure }> {
	const quota = quotaFor(config.tenantQuotas, tenant);
	const day = utcDay(now);
	const counter = tenantQuotaObject(env);
	if (quota === null) {
		// Nothing to enforce: count it for /api/v1/usage once sent, off the create's critical path.
		return {
			granted: true,
			claim: { sent: () => counter.reserve(tenant, day, null).then(() => undefined), release: async () => {} },
		};
	}
	const reservation = await counter.reserve(tenant, day, quota);
	if (!reservation.granted) return { granted: false, failure: quotaExceeded(tenant, quota, now) };
	return { granted: true, claim: { sent: async () => {}, release: () => counter.release(tenant, day) } };
}

function quotaExceeded(tenant: string, quota: number, now: number): CreateFailure {
	const resetsAt = nextUtcMidnight(now);
	const seconds = Math.max(1, Math.ceil((resetsAt - now) / 1000));
	return {
		status: 429,
		code: 429,
		msg:
			`Tenant ${tenant} has used its daily quota of ${quota} ${quota === 1 ? "create" : "creates"} (TENANT_QUOTAS). ` +
			`The quota resets at midnight UTC (${new Date(resetsAt).toISOString()}), in ${describeWait(seconds)}. ` +
			"Nothing was sent upstream or charged.",
		upstream: "not sent: tenant quota",
		retryAfter: String(seconds),
	};
}

function describeWait(seconds: number): string {
	const hours = Math.floor(seconds / 3600);
	const minutes = Math.ceil((seconds % 3600) / 60);
	if (hours === 0) return `${Math.max(1, minutes)} min`;
	return `${hours} h ${minutes} min`;
}
