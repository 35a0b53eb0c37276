/**
 * Once the upstream has answered a create, a credit is spent: if the task's object cannot be
 * reached for a moment, the client still gets its taskId (so it does not create and pay again)
 * and the gateway registers the task after answering.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { envelope, postJson, recordInfo, simStats, uniquePrompt } from "./helpers";

/** A TASKS binding whose first `failures` register calls fail, as during a passing outage. */
function flakyTasks(failures: number) {
	let left = failures;
	return {
		getByName(name: string) {
			const real = env.TASKS.getByName(name);
			return {
				register: (input: Parameters<typeof real.register>[0]) =>
					left-- > 0 ? Promise.reject(new Error("Durable Object is overloaded")) : real.register(input),
			};
		},
	} as unknown as Env["TASKS"];
}

describe("registering a created task", () => {
	it("answers the taskId and registers it after the answer when the object is briefly unreachable", async () => {
		const prompt = uniquePrompt("a task born during an outage");
		const response = await postJson("/api/v1/lyrics", { prompt }, { TASKS: flakyTasks(4) });
		expect(response.status).toBe(200);
		const { taskId } = (await envelope<{ taskId: string }>(response)).data;

		// The helper waited for the request's background work, as the runtime would keep it alive.
		const info = await recordInfo(taskId);
		expect(info.data).toMatchObject({ taskId, status: "PENDING" });
		expect(JSON.parse(info.data.param).prompt).toBe(prompt);
		expect((await simStats(prompt)).creates).toBe(1);
	});
});
