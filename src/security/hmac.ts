/** HMAC-SHA256 helpers on Web Crypto; `verify` compares in constant time. */
import { toBase64 } from "./base64";

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

/**
 * A secret is keyed by its UTF-8 bytes, unless `keyBytes` says otherwise (a `whsec_` secret is
 * keyed by the bytes its base64 part decodes to). Keys are imported once per secret.
 */
function hmacKey(secret: string, keyBytes?: (secret: string) => Uint8Array): Promise<CryptoKey> {
	const cacheKey = `${keyBytes ? "bytes" : "text"}:${secret}`;
	let key = keyCache.get(cacheKey);
	if (!key) {
		const raw = keyBytes ? keyBytes(secret) : encoder.encode(secret);
		key = crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
		keyCache.set(cacheKey, key);
	}
	return key;
}

export async function hmacSign(
	secret: string,
	message: string,
	keyBytes?: (secret: string) => Uint8Array,
): Promise<Uint8Array> {
	return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret, keyBytes), encoder.encode(message)));
}

/**
 * MACs that verified, remembered per isolate (at most MAX_VERIFIED, the oldest forgotten first):
 * every delivery of a task carries the same URL token, and a retried callback the same signature,
 * so each is checked by Web Crypto once. Only successes are kept, keyed by exactly what was
 * verified, so a MAC that never verified is always checked in full.
 */
const verifiedMacs = new Set<string>();
const MAX_VERIFIED = 4096;

export async function hmacVerify(secret: string, message: string, signature: Uint8Array): Promise<boolean> {
	const memo = `${secret.length}:${secret}\n${message}\n${toBase64(signature)}`;
	if (verifiedMacs.has(memo)) return true;
	const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(message));
	if (valid) {
		if (verifiedMacs.size >= MAX_VERIFIED) verifiedMacs.delete(verifiedMacs.values().next().value as string);
		verifiedMacs.add(memo);
	}
	return valid;
}

/** Constant-time string equality: compares digests, so neither length nor content leaks. */
export async function timingSafeEqualText(a: string, b: string): Promise<boolean> {
	const [da, db] = await Promise.all([
		crypto.subtle.digest("SHA-256", encoder.encode(a)),
		crypto.subtle.digest("SHA-256", encoder.encode(b)),
	]);
	return crypto.subtle.timingSafeEqual(da, db);
}
