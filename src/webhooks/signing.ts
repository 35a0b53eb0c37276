/**
 * The two signatures on every delivery to a client's callBackUrl (contract, "Deliveries to the
 * client's callBackUrl"), both keyed with WEBHOOK_SIGNING_KEY:
 * - the provider's own style, so KIE client code verifies unchanged:
 *   `X-Webhook-Signature = base64(HMAC-SHA256(key, taskId + "." + X-Webhook-Timestamp))`;
 * - Standard Webhooks: `webhook-signature = v1,base64(HMAC-SHA256(key, id + "." + timestamp + "." + body))`.
 * For Standard Webhooks a `whsec_<base64>` secret is keyed by the bytes its base64 part decodes
 * to, as its libraries do (any other value by its UTF-8 bytes). The provider style is keyed by the
 * secret's text as given, `whsec_` included, as code written for KIE's signature keys its HMAC.
 */
import { fromBase64, toBase64 } from "../security/base64";
import { hmacSign } from "../security/hmac";

const WHSEC_PREFIX = "whsec_";

function signingKeyBytes(secret: string): Uint8Array {
	if (secret.startsWith(WHSEC_PREFIX)) {
		const decoded = fromBase64(secret.slice(WHSEC_PREFIX.length));
		if (decoded && decoded.byteLength > 0) return decoded;
	}
	return new TextEncoder().encode(secret);
}

export interface SignedDelivery {
	webhookId: string;
	taskId: string;
	/** Unix seconds, fresh for each attempt. */
	timestamp: number;
	body: string;
}

/**
 * `keys` are WEBHOOK_SIGNING_KEY's: one, or several while rotating (new first). Standard Webhooks carries one `v1,` signature per key, so receivers holding
 * either key verify; the provider-style header has room for one, made with the first key.
 */
export async function deliveryHeaders(keys: readonly string[], delivery: SignedDelivery): Promise<Record<string, string>> {
	const timestamp = String(delivery.timestamp);
	const [provider, ...standard] = await Promise.all([
		hmacSign(keys[0] ?? "", `${delivery.taskId}.${timestamp}`),
		...keys.map((key) => hmacSign(key, `${delivery.webhookId}.${timestamp}.${delivery.body}`, signingKeyBytes)),
	]);
	return {
		"x-webhook-timestamp": timestamp,
		"x-webhook-signature": toBase64(provider as Uint8Array),
		"webhook-id": delivery.webhookId,
		"webhook-timestamp": timestamp,
		"webhook-signature": standard.map((signature) => `v1,${toBase64(signature)}`).join(" "),
	};
}
