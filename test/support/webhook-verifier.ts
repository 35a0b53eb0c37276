/**
 * How a client checks a delivery, written from the Standard Webhooks specification
 * (standardwebhooks.com, "Verifying webhook authenticity") and from the provider's callback
 * signature (its API documentation), not from the gateway's code: the tests use it as a receiver would.
 * Web Crypto only, so it runs in workerd and in Node alike.
 */

const TOLERANCE_SECONDS = 5 * 60;

export type Verdict = { ok: true } | { ok: false; reason: string };

function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
	return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

function bytesToBase64(bytes: Uint8Array): string {
	return btoa(String.fromCharCode(...bytes));
}

/** The spec: secrets are `whsec_` + base64 of the key bytes. */
function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
	if (secret.startsWith("whsec_")) return base64ToBytes(secret.slice("whsec_".length));
	return Uint8Array.from(new TextEncoder().encode(secret));
}

async function hmacBase64(key: Uint8Array<ArrayBuffer>, content: string): Promise<string> {
	const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
	return bytesToBase64(new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, new TextEncoder().encode(content))));
}

/** Constant time over equal lengths, as the spec asks. */
function sameText(a: string, b: string): boolean {
	if (a.length !== b.length) return false;
	let difference = 0;
	for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
	return difference === 0;
}

function freshTimestamp(header: string | undefined, nowSeconds: number): Verdict {
	if (!header || !/^\d+$/.test(header)) return { ok: false, reason: "timestamp missing or not unix seconds" };
	if (Math.abs(nowSeconds - Number(header)) > TOLERANCE_SECONDS) return { ok: false, reason: "timestamp too old or too new" };
	return { ok: true };
}

/**
 * `webhook-signature` is a space-separated list of `v1,<base64>`; any one matching
 * HMAC-SHA256(secret, msg_id + "." + timestamp + "." + body) is enough.
 */
export async function verifyStandardWebhook(
	secret: string,
	headers: Record<string, string>,
	body: string,
	nowSeconds = Math.floor(Date.now() / 1000),
): Promise<Verdict> {
	const id = headers["webhook-id"];
	const timestamp = headers["webhook-timestamp"];
	const signatures = headers["webhook-signature"];
	if (!id || !signatures) return { ok: false, reason: "webhook-id or webhook-signature missing" };
	const fresh = freshTimestamp(timestamp, nowSeconds);
	if (!fresh.ok) return fresh;
	const expected = await hmacBase64(secretBytes(secret), `${id}.${timestamp}.${body}`);
	for (const entry of signatures.split(" ")) {
		const [version, signature] = entry.split(",", 2);
		if (version === "v1" && signature !== undefined && sameText(signature, expected)) return { ok: true };
	}
	return { ok: false, reason: "no v1 signature matches" };
}

/**
 * The provider's style, as KIE client code checks it: base64(HMAC-SHA256(key, data.task_id + "." +
 * X-Webhook-Timestamp)), the key being the secret's text as configured.
 */
export async function verifyProviderStyle(
	secret: string,
	headers: Record<string, string>,
	body: string,
	nowSeconds = Math.floor(Date.now() / 1000),
): Promise<Verdict> {
	const timestamp = headers["x-webhook-timestamp"];
	const signature = headers["x-webhook-signature"];
	if (!signature) return { ok: false, reason: "X-Webhook-Signature missing" };
	const fresh = freshTimestamp(timestamp, nowSeconds);
	if (!fresh.ok) return fresh;
	const taskId = (JSON.parse(body) as { data?: { task_id?: string } }).data?.task_id ?? "";
	const expected = await hmacBase64(Uint8Array.from(new TextEncoder().encode(secret)), `${taskId}.${timestamp}`);
	return sameText(signature, expected) ? { ok: true } : { ok: false, reason: "signature does not match" };
}
