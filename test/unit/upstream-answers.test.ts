/** Reading the upstream: callback and record-info outcomes, and the create-failure table. */
import { describe, expect, it } from "vitest";
import { mapCreateFailure } from "../../src/upstream/create-failure";
import { outcomeFromCallback, outcomeFromRecordInfo } from "../../src/upstream/outcome";

const item = { text: "[Verse]\nla", title: "Song", status: "complete" };

describe("outcomeFromCallback", () => {
	it("is a success with the lyrics, and a success without any is not final", () => {
		expect(outcomeFromCallback({ code: 200, msg: "ok", data: { callbackType: "complete", task_id: "t", data: [item] } })).toEqual({
			final: true,
			status: "SUCCESS",
			items: [{ ...item, errorMessage: "" }],
			errorCode: null,
			errorMessage: null,
		});
		expect(outcomeFromCallback({ code: 200, msg: "ok", data: { callbackType: "complete", task_id: "t", data: [] } }).final).toBe(false);
	});

	it("tells a moderation refusal from another failure", () => {
		const refused = outcomeFromCallback({ code: 400, msg: "Contains sensitive words", data: { callbackType: "error", task_id: "t", data: [] } });
		expect(refused).toMatchObject({ final: true, status: "SENSITIVE_WORD_ERROR", errorCode: 400 });
		const failed = outcomeFromCallback({ code: 501, msg: "Generation failed", data: { callbackType: "error", task_id: "t", data: [] } });
		expect(failed).toMatchObject({ final: true, status: "GENERATE_LYRICS_FAILED", errorCode: 501 });
	});
});

describe("outcomeFromRecordInfo", () => {
	it("keeps the provider's final statuses and leaves the rest pending", () => {
		expect(outcomeFromRecordInfo({ status: "SUCCESS", response: { data: [item] } })).toMatchObject({ final: true, status: "SUCCESS" });
		expect(outcomeFromRecordInfo({ status: "CREATE_TASK_FAILED", errorCode: 400 })).toMatchObject({
			final: true,
			status: "CREATE_TASK_FAILED",
			errorCode: 400,
			errorMessage: "The upstream reported CREATE_TASK_FAILED.",
		});
		expect(outcomeFromRecordInfo({ status: "PENDING" })).toEqual({ final: false, reason: "upstream status PENDING" });
	});
});

describe("mapCreateFailure", () => {
	const answered = (status: number, code: number, headers: Record<string, string> = {}) =>
		mapCreateFailure({ kind: "answered", status, headers: new Headers(headers), json: { code, msg: "upstream words" } }, 10_000);

	it("maps each upstream failure to the contract's status and code", () => {
		expect(mapCreateFailure({ kind: "timeout" }, 1500)).toMatchObject({ status: 504, code: 504, upstream: "timeout" });
		expect(mapCreateFailure({ kind: "unreachable", detail: "refused" }, 1500)).toMatchObject({ status: 502, code: 502 });
		expect(answered(200, 429)).toMatchObject({ status: 402, code: 429 });
		expect(answered(200, 455)).toMatchObject({ status: 503, code: 455 });
		expect(answered(200, 401)).toMatchObject({ status: 502, code: 502 });
		expect(answered(200, 500)).toMatchObject({ status: 502, code: 500 });
	});

	it("passes a rate limit's Retry-After on when it is a number of seconds, else says 10", () => {
		expect(answered(429, 0, { "retry-after": "7" })).toMatchObject({ status: 429, code: 429, retryAfter: "7" });
		expect(answered(200, 430, { "retry-after": "soon" })).toMatchObject({ status: 429, code: 430, retryAfter: "10" });
	});

	it("never echoes the upstream's own words to the client", () => {
		for (const code of [400, 401, 413, 429, 455, 500, 599]) expect(answered(200, code).msg).not.toContain("upstream words");
	});
});
