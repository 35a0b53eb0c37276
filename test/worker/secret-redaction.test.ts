/**
 * No secret is ever echoed: text the upstream sends (callback messages, poll answers, lyrics) is
 * stored and served, so a buggy or hostile upstream echoing the gateway's keys must not leak them.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { API_KEY, api, callbackBody, createTask, deliver, runCron, simCallback, simScript, uniquePrompt, withBody } from "./helpers";

const UPSTREAM_KEY = env.KIE_API_KEY as string;

async function servedText(taskId: string): Promise<string> {
	const record = await api(`/api/v1/lyrics/record-info?taskId=${taskId}`);
	const listed = await api("/api/v1/lyrics/tasks?limit=100");
	return `${await record.text()}\n${await listed.text()}`;
}

describe("secrets the upstream echoes back", () => {
	it("are cut out of a callback's message and lyrics before they are stored", async () => {
		const taskId = await createTask(uniquePrompt("an echoing upstream callback"));
		const callback = await simCallback(taskId, "?fail=1");
		const body = callbackBody(callback);
		const echoed = {
			...body,
			msg: `failed for Authorization: Bearer ${UPSTREAM_KEY} (client ${API_KEY})`,
			data: { ...body.data, data: [{ text: `[Verse]\n${UPSTREAM_KEY}`, title: UPSTREAM_KEY, status: "failed", error_message: UPSTREAM_KEY }] },
		};
		expect((await deliver(withBody(callback, JSON.stringify(echoed)))).status).toBe(200);

		const served = await servedText(taskId);
		expect(served).toContain("[redacted]");
		expect(served).not.toContain(UPSTREAM_KEY);
		expect(served).not.toContain(API_KEY);
	});

	it("are cut out of a poll answer's error message", async () => {
		const marker = uniquePrompt("an echoing upstream poll");
		await simScript(marker, { recordStatus: "GENERATE_LYRICS_FAILED", recordErrorMessage: `bad auth Bearer ${UPSTREAM_KEY}` });
		const taskId = await createTask(marker);
		const { state } = await env.TASKS.getByName(taskId).inspect();
		await runCron(state!.createdAt + 121_000);

		const served = await servedText(taskId);
		expect(served).toContain("GENERATE_LYRICS_FAILED");
		expect(served).toContain("bad auth Bearer [redacted]");
		expect(served).not.toContain(UPSTREAM_KEY);
	});
});
