/**
 * The one call that sets a Durable Object's alarm. Each object decides its alarm in one place
 * (the task object from what each collaborator says it needs, the idempotency object from its
 * key's window) and hands the decision here: a time, or null for no alarm at all.
 */
export async function settleAlarm(storage: DurableObjectStorage, at: number | null): Promise<void> {
	const current = await storage.getAlarm();
	if (at === null) {
		if (current !== null) await storage.deleteAlarm();
	} else if (current !== at) {
		await storage.setAlarm(at);
	}
}
