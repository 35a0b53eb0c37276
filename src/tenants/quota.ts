/**
 * Daily quotas (TENANT_QUOTAS): a create counts once it is sent upstream, whatever the upstream
 * then answers; one refused before it was sent gives its reservation back.
 */
import type { Config } from "../config/config";
import { quotaFor } from "./tenant-names";
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

/** A create's hold on its tenant's quota, settled once: the create was sent, or it was not. */
export interface QuotaClaim {
	/** The create was sent upstream: it counts (a tenant without a quota is counted only now). */
	sent(): Promise<void>;
	/** The create was refused before it was sent: it does not count. */
	release(): Promise<void>;
}

export type QuotaReservation =
	| { granted: true; claim: QuotaClaim }
	/** Today's quota is used up; it resets at `resetsAt` (unix ms). */
	| { granted: false; quota: number; resetsAt: number };

/** Reserves one of the tenant's creates for today. Throws when the counting object cannot be reached. */
export async function reserveQuota(env: Env, config: Config, tenant: string, now: number = Date.now()): Promise<QuotaReservation> {
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
	if (!reservation.granted) return { granted: false, quota, resetsAt: nextUtcMidnight(now) };
	return { granted: true, claim: { sent: async () => {}, release: () => counter.release(tenant, day) } };
}
