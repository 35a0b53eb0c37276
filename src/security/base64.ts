/** Base64 and base64url, strict about what they accept. */

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
