/** What the callback route hands a task's object: the outcome whole, and its finality readable without parsing it. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Outcome } from "../../src/domain/task-record";
import { TASK_STATUSES } from "../../src/domain/task-record";
import { callbackEffect } from "../../src/task/task-state";
import { outcomeSent, sendOutcome } from "../../src/upstream/sent-outcome";

const item = fc.record({
	text: fc.string(),
	title: fc.string(),
	status: fc.constantFrom("complete", "failed"),
	errorMessage: fc.option(fc.string(), { nil: null }),
});
const outcome: fc.Arbitrary<Outcome> = fc.oneof(
	fc.record({
		final: fc.constant(true as const),
		status: fc.constantFrom(...TASK_STATUSES.filter((status) => status !== "PENDING")),
		items: fc.array(item, { maxLength: 3 }),
		errorCode: fc.option(fc.integer(), { nil: null }),
		errorMessage: fc.option(fc.string(), { nil: null }),
	}),
	fc.record({ final: fc.constant(false as const), reason: fc.string() }),
) as fc.Arbitrary<Outcome>;

describe("an outcome sent to the task's object", () => {
	it("arrives whole, and says whether it is final without being parsed", () => {
		fc.assert(
			fc.property(outcome, (sent) => {
				const message = structuredClone(sendOutcome(sent));
				expect(outcomeSent(message)).toEqual(sent);
				expect(message.final).toBe(sent.final);
			}),
		);
	});

	it("is judged a duplicate, applied or not final from its finality alone, as the whole outcome would be", () => {
		const task = fc.record({ status: fc.constantFrom(...TASK_STATUSES), resultSource: fc.constantFrom(null, "callback", "poll", "timeout" as const) });
		fc.assert(
			fc.property(task, outcome, (record, sent) => {
				expect(callbackEffect(record, sendOutcome(sent))).toBe(callbackEffect(record, sent));
			}),
		);
	});
});
