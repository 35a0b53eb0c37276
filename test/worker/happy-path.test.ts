import { describe, expect, it } from "vitest";
import { api, createTask, deliver, envelope, recordInfo, simCallback, simTask, uniquePrompt } from "./helpers";

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

	it("answers 404 for any taskId it does not store, however long, and 400 when none is given", async () => {
		for (const taskId of ["0123456789abcdef0123456789abcdef", "x".repeat(5000), "../../etc"]) {
			const response = await api(`/api/v1/lyrics/record-info?taskId=${encodeURIComponent(taskId)}`);
			expect(response.status).toBe(404);
			expect(await envelope(response)).toMatchObject({ code: 404, data: null });
		}
		for (const query of ["", "?taskId=", "?taskId=%20"]) {
			const response = await api(`/api/v1/lyrics/record-info${query}`);
			expect(response.status).toBe(400);
			expect((await envelope(response)).msg).toMatch(/taskId is required/);
		}
	});
});
