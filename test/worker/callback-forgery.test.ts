/**
 * Forged callbacks answer 401 and write nothing: a URL token that does not verify, a token
 * minted for another task, and, with KIE_WEBHOOK_HMAC_KEY set, a missing, wrong or stale
 * provider signature.
 */
import { describe, expect, it } from "vitest";
import {
	type CallbackRequest,
	api,
	callbackBody,
	callbackThrough,
	createTask,
	deliver,
	expectErrorEnvelope,
	inspectTask,
	mintedCallbackTarget,
	recordInfo,
	simCallback,
	uniquePrompt,
} from "./helpers";

const HMAC_KEY = "kie-account-webhook-key";

/**
 * The provider's scheme (its API documentation, "Callback signature"), written here from that text:
 * X-Webhook-Signature = base64(HMAC-SHA256(key, taskId + "." + X-Webhook-Timestamp)).
 */
async function providerSignature(key: string, taskId: string, timestamp: string): Promise<string> {
	const encoder = new TextEncoder();
	const cryptoKey = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, [
		"sign",
	]);
	const mac = new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, encoder.encode(`${taskId}.${timestamp}`)));
	return btoa(String.fromCharCode(...mac));
}

function nowSeconds(offsetSeconds = 0): string {
	return String(Math.floor(Date.now() / 1000) + offsetSeconds);
}

function withHeaders(request: CallbackRequest, headers: Record<string, string>): CallbackRequest {
	return { ...request, headers: { "Content-Type": "application/json", ...headers } };
}

/** The callback URL with its path or token replaced. */
function withUrl(request: CallbackRequest, change: (url: URL) => void): CallbackRequest {
	const url = new URL(request.url);
	change(url);
	return { ...request, url: url.toString() };
}

/** One character changed in the middle, so the decoded bytes really change. */
function alterOneChar(text: string): string {
	const i = Math.floor(text.length / 2);
	const replacement = text[i] === "A" ? "B" : "A";
	return `${text.slice(0, i)}${replacement}${text.slice(i + 1)}`;
}

/** A stored, pending task with the callback the upstream would send for it. */
async function pendingTask(label: string) {
	const taskId = await createTask(uniquePrompt(label));
	const callback = await simCallback(taskId);
	return { taskId, callback };
}

/** The task is exactly as the create left it: nothing was written by the forged callbacks. */
async function expectUntouched(taskId: string) {
	const info = await recordInfo(taskId);
	expect(info.data.status).toBe("PENDING");
	expect(info.data.callbacksReceived).toBe(0);
	expect(info.data.response.data).toEqual([]);
	const { state, earlyCallbacks } = await inspectTask(taskId);
	expect(state?.version).toBe(1);
	expect(state?.callbacksReceived).toBe(0);
	expect(earlyCallbacks).toBe(0);
}

async function expectRefused(response: Response) {
	await expectErrorEnvelope(response, 401);
}

describe("forged callback URLs", () => {
	it("refuses a token with one character altered", async () => {
		const { taskId, callback } = await pendingTask("a key filed by one tooth");
		const token = new URL(callback.url).searchParams.get("token") ?? "";
		expect(token.length).toBeGreaterThan(0);
		await expectRefused(await deliver(withUrl(callback, (url) => url.searchParams.set("token", alterOneChar(token)))));
		await expectUntouched(taskId);
	});

	it("refuses a token with its last character altered", async () => {
		// The last base64 character of a 32-byte MAC also carries bits no byte uses; a decoder
		// that ignores them would take some of these as the real token.
		const { taskId, callback } = await pendingTask("a key with a chipped tip");
		const token = new URL(callback.url).searchParams.get("token") ?? "";
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
		for (const last of alphabet.replace(token.slice(-1), "")) {
			const altered = `${token.slice(0, -1)}${last}`;
			await expectRefused(await deliver(withUrl(callback, (url) => url.searchParams.set("token", altered))));
		}
		await expectUntouched(taskId);
	});

	it("refuses a missing or empty token", async () => {
		const { taskId, callback } = await pendingTask("a door without a lock");
		await expectRefused(await deliver(withUrl(callback, (url) => url.searchParams.delete("token"))));
		await expectRefused(await deliver(withUrl(callback, (url) => url.searchParams.set("token", ""))));
		await expectUntouched(taskId);
	});

	it("refuses an altered ref", async () => {
		const { taskId, callback } = await pendingTask("a forged return address");
		const path = new URL(callback.url).pathname;
		const ref = path.split("/").pop() ?? "";
		expect(ref).toMatch(/^[0-9a-f]{32}$/);
		const flipped = `${ref.slice(0, -1)}${ref.endsWith("0") ? "1" : "0"}`;
		for (const other of [flipped, ref.toUpperCase(), `${ref}0`, "x"]) {
			await expectRefused(await deliver(withUrl(callback, (url) => (url.pathname = path.replace(ref, other)))));
		}
		await expectUntouched(taskId);
	});

	it("refuses the token of another task and writes neither task", async () => {
		const a = await pendingTask("the first of two envelopes");
		const b = await pendingTask("the second of two envelopes");
		expect(a.callback.url).not.toBe(b.callback.url);

		// A's URL (a token that verifies), B's body: B must not take it.
		await expectRefused(await deliver({ ...b.callback, url: a.callback.url }));
		await expectRefused(await deliver({ ...(await simCallback(b.taskId, "?fail=1")), url: a.callback.url }));
		await expectUntouched(b.taskId);
		await expectUntouched(a.taskId);

		// Each task's own URL still works.
		expect((await deliver(b.callback)).status).toBe(200);
		expect((await recordInfo(b.taskId)).data.status).toBe("SUCCESS");
		await expectUntouched(a.taskId);
	});
});

describe("a valid URL with the body of a task the gateway does not know", () => {
	it("refuses it and stores nothing, once the URL's own task is stored", async () => {
		const a = await pendingTask("a letter for a house not yet built");
		const unknown = crypto.randomUUID().replace(/-/g, "");
		const body = callbackBody(a.callback);
		const forged = { ...a.callback, body: JSON.stringify({ ...body, data: { ...body.data, task_id: unknown } }) };

		// A's URL is already bound to A, so it is refused, not held for a task that may never come.
		await expectRefused(await deliver(forged));
		const lookup = await api(`/api/v1/lyrics/record-info?taskId=${unknown}`);
		expect(lookup.status).toBe(404);
		expect(await inspectTask(unknown)).toEqual({ state: null, earlyCallbacks: 0 });
		await expectUntouched(a.taskId);
	});
});

describe("a genuine URL whose create is long over and never stored a task", () => {
	it("is refused for made-up task ids instead of holding callbacks for them", async () => {
		const stale = await mintedCallbackTarget(Date.now() - 10 * 60_000);
		const fresh = await mintedCallbackTarget();
		const madeUp = crypto.randomUUID().replace(/-/g, "");

		await expectRefused(await deliver(callbackThrough(stale.url, madeUp)));
		expect(await inspectTask(madeUp)).toEqual({ state: null, earlyCallbacks: 0 });
		// The same callback through a URL minted moments ago may be one that beat its create: held.
		expect((await deliver(callbackThrough(fresh.url, madeUp))).status).toBe(200);
		expect((await inspectTask(madeUp)).earlyCallbacks).toBe(1);
	});
});

describe("provider signatures (KIE_WEBHOOK_HMAC_KEY set)", () => {
	const withKey = { KIE_WEBHOOK_HMAC_KEY: HMAC_KEY };

	async function signed(callback: CallbackRequest, taskId: string, timestamp: string, key = HMAC_KEY) {
		return withHeaders(callback, {
			"X-Webhook-Timestamp": timestamp,
			"X-Webhook-Signature": await providerSignature(key, taskId, timestamp),
		});
	}

	it("refuses missing signature headers", async () => {
		const { taskId, callback } = await pendingTask("an unsigned postcard");
		const timestamp = nowSeconds();
		const signature = await providerSignature(HMAC_KEY, taskId, timestamp);
		await expectRefused(await deliver(withHeaders(callback, {}), withKey));
		await expectRefused(await deliver(withHeaders(callback, { "X-Webhook-Timestamp": timestamp }), withKey));
		await expectRefused(await deliver(withHeaders(callback, { "X-Webhook-Signature": signature }), withKey));
		await expectUntouched(taskId);
	});

	it("refuses a wrong signature", async () => {
		const { taskId, callback } = await pendingTask("a signature in the wrong hand");
		const timestamp = nowSeconds();
		const good = await providerSignature(HMAC_KEY, taskId, timestamp);
		const wrong = [
			await providerSignature("some-other-key", taskId, timestamp),
			alterOneChar(good),
			await providerSignature(HMAC_KEY, taskId, nowSeconds(-1)),
			"not base64 at all!",
			"",
			[...good].reverse().join(""),
		];
		for (const signature of wrong) {
			await expectRefused(
				await deliver(
					withHeaders(callback, { "X-Webhook-Timestamp": timestamp, "X-Webhook-Signature": signature }),
					withKey,
				),
			);
		}
		await expectUntouched(taskId);
	});

	it("refuses a signature with its last character altered", async () => {
		const { taskId, callback } = await pendingTask("a seal with a smudged edge");
		const timestamp = nowSeconds();
		const good = await providerSignature(HMAC_KEY, taskId, timestamp);
		expect(good).toMatch(/^[A-Za-z0-9+/]{43}=$/);
		const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		for (const last of alphabet.replace(good.charAt(42), "")) {
			const altered = `${good.slice(0, 42)}${last}=`;
			await expectRefused(
				await deliver(withHeaders(callback, { "X-Webhook-Timestamp": timestamp, "X-Webhook-Signature": altered }), withKey),
			);
		}
		await expectUntouched(taskId);
	});

	it("refuses a signature made for another taskId", async () => {
		const a = await pendingTask("a seal for another letter");
		const b = await pendingTask("the letter the seal was for");
		await expectRefused(await deliver(await signed(a.callback, b.taskId, nowSeconds()), withKey));
		await expectUntouched(a.taskId);
		await expectUntouched(b.taskId);
	});

	it("refuses timestamps 6 minutes old or 6 minutes in the future, and non-numeric ones", async () => {
		const { taskId, callback } = await pendingTask("a postmark from the wrong hour");
		await expectRefused(await deliver(await signed(callback, taskId, nowSeconds(-6 * 60)), withKey));
		await expectRefused(await deliver(await signed(callback, taskId, nowSeconds(6 * 60)), withKey));
		for (const timestamp of ["yesterday", "1e9", "-1", `${nowSeconds()}000`]) {
			await expectRefused(await deliver(await signed(callback, taskId, timestamp), withKey));
		}
		await expectUntouched(taskId);
	});

	it("accepts a correct signature made now", async () => {
		const { taskId, callback } = await pendingTask("a properly sealed letter");
		const answer = await deliver(await signed(callback, taskId, nowSeconds()), withKey);
		expect(answer.status).toBe(200);
		expect(await answer.json()).toMatchObject({ code: 200, data: { taskId, result: "applied" } });
		const done = await recordInfo(taskId);
		expect(done.data.status).toBe("SUCCESS");
		expect(done.data.callbacksReceived).toBe(1);
	});

	it("accepts a correct signature made 4 minutes ago", async () => {
		const { taskId, callback } = await pendingTask("a letter slow in the post");
		const answer = await deliver(await signed(callback, taskId, nowSeconds(-4 * 60)), withKey);
		expect(answer.status).toBe(200);
		expect((await recordInfo(taskId)).data.status).toBe("SUCCESS");
	});

	it("verifies the camelCase taskId variant too", async () => {
		const { taskId } = await pendingTask("a seal in camel case");
		const camel = await simCallback(taskId, "?variant=camel");
		expect(callbackBody(camel).data.taskId).toBe(taskId);
		await expectRefused(await deliver(await signed(camel, taskId, nowSeconds(), "wrong-key"), withKey));
		await expectUntouched(taskId);
		expect((await deliver(await signed(camel, taskId, nowSeconds()), withKey)).status).toBe(200);
		expect((await recordInfo(taskId)).data.status).toBe("SUCCESS");
	});

	it("still refuses a bad URL token even with a valid signature", async () => {
		const { taskId, callback } = await pendingTask("a good seal on a bad envelope");
		const forged = withUrl(await signed(callback, taskId, nowSeconds()), (url) => url.searchParams.delete("token"));
		await expectRefused(await deliver(forged, withKey));
		await expectUntouched(taskId);
	});
});

describe("without KIE_WEBHOOK_HMAC_KEY", () => {
	it("accepts unsigned callbacks", async () => {
		const { taskId, callback } = await pendingTask("a plain unsigned letter");
		expect(Object.keys(callback.headers).map((name) => name.toLowerCase())).not.toContain("x-webhook-signature");
		const answer = await deliver(withHeaders(callback, {}), { KIE_WEBHOOK_HMAC_KEY: undefined });
		expect(answer.status).toBe(200);
		expect((await recordInfo(taskId)).data.status).toBe("SUCCESS");
	});

	it("accepts signed callbacks whatever their signature says", async () => {
		const { taskId, callback } = await pendingTask("a letter with a seal nobody checks");
		const answer = await deliver(
			withHeaders(callback, { "X-Webhook-Timestamp": "0", "X-Webhook-Signature": "bogus" }),
			{ KIE_WEBHOOK_HMAC_KEY: undefined },
		);
		expect(answer.status).toBe(200);
		expect((await recordInfo(taskId)).data.status).toBe("SUCCESS");
	});
});
