/**
 * The provider's optional callback signature (the provider's API documentation,
 * "Callback signature"):
 * `X-Webhook-Signature = base64(HMAC-SHA256(key, taskId + "." + X-Webhook-Timestamp))`.
 */
import { fromBase64 } from "./base64";
import { hmacVerify } from "./hmac";

const SIGNATURE_TOLERANCE_SECONDS = 5 * 60;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export async function verifyProviderSignature(
	key: string,
	taskId: string,
	timestampHeader: string | undefined,
	signatureHeader: string | undefined,
	nowSeconds: number,
): Promise<SignatureCheck> {
	if (!timestampHeader || !signatureHeader) return { ok: false, reason: "signature headers missing" };
	if (!/^\d{1,12}$/.test(timestampHeader.trim())) return { ok: false, reason: "timestamp is not unix seconds" };
	const timestamp = Number(timestampHeader.trim());
	if (Math.abs(nowSeconds - timestamp) > SIGNATURE_TOLERANCE_SECONDS) {
		return { ok: false, reason: "timestamp outside the 5 minute window" };
	}
	const mac = fromBase64(signatureHeader);
	if (!mac || mac.byteLength !== 32) return { ok: false, reason: "signature is not a base64 HMAC-SHA256" };
	const valid = await hmacVerify(key, `${taskId}.${timestampHeader.trim()}`, mac);
	return valid ? { ok: true } : { ok: false, reason: "signature does not match" };
}
