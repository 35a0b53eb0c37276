/** HMAC-SHA256 helpers on Web Crypto; `verify` compares in constant time. */

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
	let key = keyCache.get(secret);
	if (!key) {
		key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
			"sign",
			"verify",
		]);
		keyCache.set(secret, key);
	}
	return key;
}

export async function hmacSign(secret: string, message: string): Promise<Uint8Array> {
	return new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message)));
}

export async function hmacVerify(secret: string, message: string, signature: Uint8Array): Promise<boolean> {
	return crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(message));
}

export function toBase64(bytes: Uint8Array): string {
	let binary = "";
	for (const byte of bytes) binary += String.fromCharCode(byte);
	return btoa(binary);
}

export function toBase64Url(bytes: Uint8Array): string {
	return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Accepts standard and URL-safe base64, padded or not; null when it is not base64 at all, or not
 * the canonical encoding of its bytes (atob ignores the last character's unused bits, so
 * otherwise several different texts, e.g. a token with its last character altered, would decode
 * to the same MAC and verify).
 */
export function fromBase64(text: string): Uint8Array | null {
	const normalized = text.trim().replace(/-/g, "+").replace(/_/g, "/");
	if (!/^[A-Za-z0-9+/]*={0,2}$/.test(normalized)) return null;
	try {
		const binary = atob(normalized.padEnd(Math.ceil(normalized.length / 4) * 4, "="));
		const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0));
		return toBase64(bytes).replace(/=+$/, "") === normalized.replace(/=+$/, "") ? bytes : null;
	} catch {
		return null;
	}
}

/** Constant-time string equality: compares digests, so neither length nor content leaks. */
export async function timingSafeEqualText(a: string, b: string): Promise<boolean> {
	const [da, db] = await Promise.all([
		crypto.subtle.digest("SHA-256", encoder.encode(a)),
		crypto.subtle.digest("SHA-256", encoder.encode(b)),
	]);
	return crypto.subtle.timingSafeEqual(da, db);
}
