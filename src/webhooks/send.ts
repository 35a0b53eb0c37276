/** One delivery attempt: POST the body, and only a 2xx within the deadline counts. */
import type { AttemptResult } from "../domain/delivery";
import { deliveryHeaders } from "./signing";
import { errorMessage } from "../lib/error-message";

const USER_AGENT = "lyrics-gateway-webhooks/1";

export interface Attempt {
	url: string;
	webhookId: string;
	taskId: string;
	body: string;
	signingKeys: string[];
	timeoutMs: number;
}

/** Never throws. */
export async function sendWebhook(attempt: Attempt): Promise<AttemptResult> {
	const headers = await deliveryHeaders(attempt.signingKeys, {
		webhookId: attempt.webhookId,
		taskId: attempt.taskId,
		timestamp: Math.floor(Date.now() / 1000),
		body: attempt.body,
	});
	const controller = new AbortController();
	const timer = setTimeout(() => controller.abort(), attempt.timeoutMs);
	try {
		const response = await fetch(attempt.url, {
			method: "POST",
			headers: { "content-type": "application/json", "user-agent": USER_AGENT, ...headers },
			body: attempt.body,
			// A redirect is not a delivery, and following one could lead inside a network.
			redirect: "manual",
			signal: controller.signal,
		});
		// The answer's body is not ours to read; release the connection.
		await response.body?.cancel().catch(() => undefined);
		if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status };
		return { ok: false, status: response.status, error: `answered HTTP ${response.status}` };
	} catch (error) {
		if (controller.signal.aborted) return { ok: false, status: null, error: `no answer within ${attempt.timeoutMs / 1000} s` };
		return { ok: false, status: null, error: `could not connect: ${errorMessage(error)}` };
	} finally {
		clearTimeout(timer);
	}
}
