/**
 * A callback's outcome as the route hands it to the task's object: whether it is final, and the
 * whole of it as JSON text. Most deliveries are the upstream's duplicates, which the object tells
 * from `final` alone (src/task/task-state.ts, callbackEffect): the outcome crosses to the object
 * as one string, cheaper to copy than the object graph of its lyrics, and is parsed only when the
 * object may keep it.
 */
import type { Outcome } from "../domain/task-record";

export interface SentOutcome {
	final: boolean;
	json: string;
}

export function sendOutcome(outcome: Outcome): SentOutcome {
	return { final: outcome.final, json: JSON.stringify(outcome) };
}

export function outcomeSent(sent: SentOutcome): Outcome {
	return JSON.parse(sent.json) as Outcome;
}
