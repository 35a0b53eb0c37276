/**
 * Deliveries to a client's own callBackUrl, over HTTP: the simulator calls the gateway back,
 * the gateway's task object POSTs to a hook on the simulator, and the test checks what arrived
 * there as the client would, signatures included.
 */
import { describe, expect, inject, it } from "vitest";
import { verifyProviderStyle, verifyStandardWebhook } from "../support/webhook-verifier";
import { create, eventually, recordInfo, sim, simulatorUrl, unique } from "./client";
import { readmeVerifier } from "./docs-verifier";

const signingKey = inject("webhookSigningKey");

interface HookDelivery {
	receivedAt: number;
	headers: Record<string, string>;
	body: string;
	answered: number;
}

function hook(label: string) {
	const path = `/__sim/hooks/${label.replace(/\W+/g, "-")}-${crypto.randomUUID().slice(0, 8)}`;
	return {
		url: `${simulatorUrl}${path}`,
		behave: (behaviour: Record<string, unknown>) => sim(`${path}/behaviour`, behaviour),
		deliveries: async () => (await sim<{ deliveries: HookDelivery[] }>(path)).deliveries,
	};
}

describe("deliveries to the client's callBackUrl over HTTP", () => {
	it("retries a failing endpoint until it answers 2xx, signed both ways, then stops", async () => {
		const target = hook("flaky");
		await target.behave({ statuses: [500, 502] });
		const created = await create(unique("A song about a receiver coming back"), { callBackUrl: target.url });
		expect(created.status).toBe(200);
		const { taskId } = created.body.data;

		const delivered = await eventually(async () => {
			const info = await recordInfo(taskId);
			return info.body.data.delivery?.state === "delivered" ? info.body.data : undefined;
		}, 20_000);
		expect(delivered.delivery).toMatchObject({ attempts: 3, lastStatus: 200, webhookId: `msg_${taskId}` });

		const received = await target.deliveries();
		expect(received.map((d) => d.answered)).toEqual([500, 502, 200]);
		const readmeVerify = await readmeVerifier();
		for (const attempt of received) {
			expect(attempt.headers["webhook-id"]).toBe(`msg_${taskId}`);
			expect(readmeVerify(signingKey, attempt.headers, attempt.body)).toBe(true);
			expect(readmeVerify(signingKey, attempt.headers, attempt.body.replace(taskId, "someone-else"))).toBe(false);
			expect(await verifyStandardWebhook(signingKey, attempt.headers, attempt.body)).toEqual({ ok: true });
			expect(await verifyProviderStyle(signingKey, attempt.headers, attempt.body)).toEqual({ ok: true });
		}
		const body = JSON.parse(received[0]?.body ?? "{}");
		expect(body).toMatchObject({ code: 200, data: { callbackType: "complete", task_id: taskId } });
		expect(body.data.data.map((item: { title: string }) => item.title)).toEqual(
			delivered.response.data.map((item: { title: string }) => item.title),
		);

		// Duplicate upstream callbacks after the 2xx are acknowledged but deliver nothing more: the
		// task's object decides every delivery before it acknowledges a callback, and once all five
		// are acknowledged it still holds the delivered one, with no attempt left to make.
		const duplicates = await sim<{ statuses: number[] }>(`/__sim/tasks/${taskId}/callback`, { times: 5, concurrent: true });
		expect(duplicates.statuses).toEqual([200, 200, 200, 200, 200]);
		expect((await recordInfo(taskId)).body.data.delivery).toEqual(delivered.delivery);
		expect(await target.deliveries()).toHaveLength(3);
	});

	it("sends one delivery for one task however many duplicate callbacks arrive at once", async () => {
		const target = hook("duplicates");
		const prompt = unique("A song about many echoes");
		await sim("/__sim/scripts", { match: prompt, callback: "drop" });
		const { taskId } = (await create(prompt, { callBackUrl: target.url })).body.data;
		const sent = await sim<{ statuses: number[] }>(`/__sim/tasks/${taskId}/callback`, { times: 40, concurrent: true });
		expect(sent.statuses.every((status) => status === 200)).toBe(true);
		// All 40 were decided before they were acknowledged; once the delivery they made is done,
		// the object has none left to make.
		const delivered = await eventually(async () => {
			const info = await recordInfo(taskId);
			return info.body.data.delivery?.state === "delivered" ? info.body.data : undefined;
		}, 20_000);
		expect(delivered.delivery).toMatchObject({ attempts: 1, lastStatus: 200, nextAttemptTime: null });
		expect(await target.deliveries()).toHaveLength(1);
	});
});
