/**
 * Daily quotas (TENANT_QUOTAS): a create counts once it is sent upstream, whatever the upstream
 * then answers; one that is not sent gives its reservation back, or the reservation lapses.
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

/**
 * How long a reservation holds a tenant's create before it lapses by itself (src/tenants/quota-object.ts):
 * longer than a create takes to get ready, short enough that a slot lost to a failure comes back
 * within minutes. Tests shorten it.
 */
export const quotaHold = { ms: 2 * 60 * 1000 };

/** A create's hold on its tenant's quota, settled once: the create is sent, or it is not. */
export interface QuotaClaim {
	/** Just before the create is sent: it counts from now on. False: the hold lapsed with the quota used up, do not send. */
	commit(): Promise<boolean>;
	/** The create was sent (a tenant without a quota is counted only now, off the create's path). */
	sent(): Promise<void>;
	/** The create will not be sent: the hold goes back (and lapses by itself if this fails). */
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
		// Nothing to enforce: counted for /api/v1/usage once sent.
		return {
			granted: true,
			claim: { commit: async () => true, sent: () => counter.countSent(tenant, day), release: async () => {} },
		};
	}
	const reservation = await counter.reserve(tenant, day, quota, quotaHold.ms);
	if (!reservation.granted) return { granted: false, quota, resetsAt: nextUtcMidnight(now) };
	const { reservationId } = reservation;
	return {
		granted: true,
		claim: { commit: () => counter.commit(reservationId, quota), sent: async () => {}, release: () => counter.release(reservationId) },
	};
}
