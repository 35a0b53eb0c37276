/**
 * Runs the attempts of the one delivery of a task's final result to the client's callBackUrl.
 * What the delivery is and how an attempt moves it on is domain state (src/domain/delivery.ts,
 * kept in the record); this holds the attempt lease, kept in the task's row (TaskStore) so taking
 * it is one write and releasing it goes with the write of the attempt's outcome, so a second
 * alarm or a reset during an attempt's fetch cannot send twice at once.
 */
import type { Config } from "../config/config";
import { type AttemptResult, type Delivery, recordAttempt } from "../domain/delivery";
import type { TaskRecord } from "../domain/task-record";
import { logEvent } from "../lib/log";
import { sendWebhook } from "../webhooks/send";
import { callbackUrlProblem, resolvedAddressProblem } from "../webhooks/target";
import { webhookBody } from "../webhooks/webhook-body";
import type { TaskStore } from "./task-store";

/** How long past the webhook timeout an attempt's lease outlives it. */
const LEASE_MARGIN_MS = 5000;

export class DeliveryRunner {
	constructor(private readonly store: TaskStore) {}

	/** An attempt is under way until this time (unix ms); 0 when none is. */
	leaseUntil(): number {
		return this.store.deliveryLeaseUntil();
	}

	/**
	 * When the pending delivery's next attempt can run: not before its due time, not while another
	 * attempt holds the lease, and while D1 lags behind not before D1 can catch up (`d1CaughtUpBy`),
	 * so a waiting delivery never spins the alarm, and a reset during the D1 write cannot strand it.
	 */
	nextRun(delivery: Delivery | null, d1CaughtUpBy: number | null): number | null {
		if (delivery?.state !== "pending" || delivery.nextAttemptAt === null) return null;
		return Math.max(delivery.nextAttemptAt, this.leaseUntil(), d1CaughtUpBy ?? 0);
	}

	/**
	 * One attempt, if one is due. Only once D1 holds the final result (`d1Behind` false), so a
	 * client reacting to the webhook can always read the task. The lease is taken before the fetch:
	 * input gates do not cover fetch(). Returns whether an attempt was made (and committed).
	 */
	async attemptIfDue(config: Config, d1Behind: boolean): Promise<boolean> {
		const now = Date.now();
		const state = this.store.load();
		const delivery = state?.record.delivery;
		if (!state || !delivery || delivery.state !== "pending" || !state.record.callbackUrl) return false;
		if ((delivery.nextAttemptAt ?? now) > now || this.leaseUntil() > now || d1Behind) return false;
		this.store.leaseDelivery(now + config.webhookTimeoutMs + LEASE_MARGIN_MS);

		const result = await send(state.record, state.record.callbackUrl, delivery.webhookId, config);

		const after = this.store.load() ?? state;
		const finished = Date.now();
		// The result may have been replaced during the attempt (the upstream's result over the
		// gateway's timeout): the attempt counts for the delivery it was made for, not the new one.
		const current = after.record.delivery;
		if (current?.webhookId === delivery.webhookId) recordAttempt(current, result, finished, config.webhookRetryDelaysMs);
		this.store.commit(after, finished, { releaseDelivery: true });
		logEvent(result.ok ? "info" : "warn", "webhook_attempt", {
			taskId: after.record.taskId,
			attempt: after.record.delivery?.attempts,
			status: result.status,
			delivery: after.record.delivery?.state,
			...(result.ok ? {} : { error: result.error }),
		});
		return true;
	}
}

async function send(record: TaskRecord, url: string, webhookId: string, config: Config): Promise<AttemptResult> {
	// Checked again at send time: the operator may have turned private URLs off since the
	// create (no retry can change that), or the name may point elsewhere now (it may point
	// back later: retried as usual).
	const refused = callbackUrlProblem(url, config.allowPrivateCallbackUrls);
	if (refused) return { ok: false, status: null, error: refused, permanent: true };
	const resolvedInside = await resolvedAddressProblem(url, config);
	if (resolvedInside) return { ok: false, status: null, error: resolvedInside };
	if (config.webhookSigningKeys.length === 0) return { ok: false, status: null, error: "WEBHOOK_SIGNING_KEY is not set" };
	return sendWebhook({
		url,
		webhookId,
		taskId: record.taskId,
		body: JSON.stringify(webhookBody(record)),
		signingKeys: config.webhookSigningKeys,
		timeoutMs: config.webhookTimeoutMs,
	});
}
