/**
 * The one call that sets a Durable Object's alarm. Each object decides its alarm in one place
 * (the task object from what each collaborator says it needs, the idempotency object from its
 * key's window) and hands the decision here: a time, or null for no alarm at all.
 */
export async function settleAlarm(
	storage: DurableObjectStorage,
	at: number | null,
	{ soonerOnly = false }: { soonerOnly?: boolean } = {},
): Promise<void> {
	const current = await storage.getAlarm();
	// soonerOnly only ever brings the alarm forward: one that is due sooner stays, nothing is deleted.
	const wanted = soonerOnly ? earliest([current, at]) : at;
	if (wanted === current) return;
	if (wanted === null) await storage.deleteAlarm();
	else await storage.setAlarm(wanted);
}

/** The soonest of the times given, ignoring nulls; null when there is none. */
export function earliest(times: (number | null)[]): number | null {
	return times.reduce<number | null>((soonest, at) => (at === null || (soonest !== null && soonest <= at) ? soonest : at), null);
}
