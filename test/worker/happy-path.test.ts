import { describe, expect, it } from "vitest";
import { createTask, deliver, recordInfo, simCallback, simTask, uniquePrompt } from "./helpers";

describe("create → callback → record-info", () => {
	it("stores the task as PENDING, then serves the lyrics the callback brings", async () => {
		const prompt = uniquePrompt("a quiet harbour at dawn");
		const taskId = await createTask(prompt, { callBackUrl: "https://client.example/hook" });

		const pending = await recordInfo(taskId);
		expect(pending.code).toBe(200);
		expect(pending.data).toMatchObject({
			taskId,
			status: "PENDING",
			type: "LYRICS",
			errorCode: null,
			errorMessage: null,
			response: { taskId, data: [] },
		});
		expect(JSON.parse(pending.data.param)).toEqual({ prompt, callBackUrl: "https://client.example/hook" });

		// The upstream got the gateway's own callback URL, never the client's.
		const upstreamView = await simTask(taskId);
		expect(upstreamView.callBackUrl).toMatch(/^https:\/\/gateway\.test\/callbacks\/kie\/[0-9a-f]{32}\?token=/);

		const callback = await simCallback(taskId);
		const ack = await deliver(callback);
		expect(ack.status).toBe(200);
		expect(await ack.json()).toMatchObject({ code: 200, data: { taskId, result: "applied" } });

		const done = await recordInfo(taskId);
		expect(done.data.status).toBe("SUCCESS");
		expect(done.data.resultSource).toBe("callback");
		expect(done.data.response.data.length).toBeGreaterThanOrEqual(2);
		for (const item of done.data.response.data) {
			expect(item.status).toBe("complete");
			expect(item.title.length).toBeGreaterThan(0);
			expect(item.text).toMatch(/\[Verse\]/);
			expect(item.errorMessage).toBe("");
		}
		// The stored lyrics are exactly what the upstream sent.
		const sent = JSON.parse(callback.body) as { data: { data: { text: string; title: string }[] } };
		expect(done.data.response.data.map((item) => item.text)).toEqual(sent.data.data.map((item) => item.text));
	});
});
