/**
 * The one call that sets a Durable Object's alarm. Each object decides its alarm in one place
 * (the task object from what each collaborator says it needs, the idempotency object from its
 * key's window) and hands the decision here: a time, or null for no alarm at all.
 */
export async function settleAlarm(storage: DurableObjectStorage, at: number | null, { confirmed = true } = {}): Promise<void> {
	const current = await storage.getAlarm();
	if (at === current) return;
	// Unconfirmed: the answer the caller is about to give need not wait for the alarm to be stored
	// (for work held in memory, which a restart loses along with the alarm's reason).
	if (at === null) await storage.deleteAlarm({ allowUnconfirmed: !confirmed });
	else await storage.setAlarm(at, { allowUnconfirmed: !confirmed });
}

/** The soonest of the times given, ignoring nulls; null when there is none. */
export function earliest(times: (number | null)[]): number | null {
	return times.reduce<number | null>((soonest, at) => (at === null || (soonest !== null && soonest <= at) ? soonest : at), null);
}
