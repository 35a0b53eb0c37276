/**
 * The branches of turning a provider report into an outcome that no other test reaches: a
 * "success" with nothing in it, and a success whose every variation failed. Pure first, then the
 * same reports through the gateway's callback route.
 */
import { describe, expect, it } from "vitest";
import { outcomeFromCallback, outcomeFromRecordInfo } from "../../src/upstream/outcome";
import { callbackBody, createTask, deliver, inspectTask, recordInfo, simCallback, uniquePrompt, withBody } from "./helpers";

const TASK_ID = "0123456789abcdef0123456789abcdef";
const success = (data: unknown) => ({ code: 200, msg: "All generated successfully.", data: { callbackType: "complete", task_id: TASK_ID, data } });
const failedItem = (errorMessage: string) => ({ text: "", title: "t", status: "failed", error_message: errorMessage });
const completeItem = { text: "[Verse]\nla", title: "t", status: "complete", error_message: "" };

describe("a success report with no lyrics", () => {
	it.each([
		["an empty list", []],
		["null", null],
	])("is not final when the callback's items are %s", (_name, data) => {
		expect(outcomeFromCallback(success(data) as never)).toEqual({ final: false, reason: "success reported without lyrics" });
	});

	it("is not final when record-info says SUCCESS without items", () => {
		expect(outcomeFromRecordInfo({ status: "SUCCESS", response: { data: [] } })).toMatchObject({ final: false });
		expect(outcomeFromRecordInfo({ status: "SUCCESS", response: null })).toMatchObject({ final: false });
	});

	it("leaves the task pending through the callback route, and the real result still applies", async () => {
		const taskId = await createTask(uniquePrompt("a success with nothing in it"));
		const genuine = await simCallback(taskId);
		const empty = callbackBody(genuine);
		empty.data.data = [];
		expect((await deliver(withBody(genuine, empty))).status).toBe(200);
		expect((await recordInfo(taskId)).data).toMatchObject({ status: "PENDING", completeTime: null });
		expect((await inspectTask(taskId)).state?.status).toBe("PENDING");

		expect((await deliver(await simCallback(taskId))).status).toBe(200);
		const done = (await recordInfo(taskId)).data;
		expect(done.status).toBe("SUCCESS");
		expect(done.response.data).toHaveLength(callbackBody(genuine).data.data!.length);
	});
});

describe("a success report whose every variation failed", () => {
	it("is GENERATE_LYRICS_FAILED with code 500 and the first item's error", () => {
		expect(outcomeFromCallback(success([failedItem(""), failedItem("too short"), failedItem("flat")]) as never)).toMatchObject({
			final: true,
			status: "GENERATE_LYRICS_FAILED",
			errorCode: 500,
			errorMessage: "too short",
		});
	});

	it("says so in plain words when no item carries an error", () => {
		expect(outcomeFromRecordInfo({ status: "SUCCESS", response: { data: [{ status: "failed" }, { text: "" }] } })).toMatchObject({
			final: true,
			status: "GENERATE_LYRICS_FAILED",
			errorCode: 500,
			errorMessage: "Every lyrics variation failed.",
		});
	});

	it("is a SUCCESS when one variation did not fail", () => {
		expect(outcomeFromCallback(success([failedItem("x"), completeItem]) as never)).toMatchObject({
			final: true,
			status: "SUCCESS",
			errorCode: null,
		});
	});

	it("ends the task failed with code 500 through the callback route", async () => {
		const taskId = await createTask(uniquePrompt("every variation failed"));
		const genuine = await simCallback(taskId);
		const body = callbackBody(genuine);
		body.data.data = (body.data.data ?? []).map((item) => ({ ...item, status: "failed", text: "", error_message: "no rhyme found" }));
		expect(body.data.data.length).toBeGreaterThanOrEqual(2);
		expect((await deliver(withBody(genuine, body))).status).toBe(200);
		expect((await recordInfo(taskId)).data).toMatchObject({
			status: "GENERATE_LYRICS_FAILED",
			errorCode: 500,
			errorMessage: "no rhyme found",
			resultSource: "callback",
		});
	});
});
