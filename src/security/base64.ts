/**
 * Base64 and base64url, strict about what they accept. Table-driven rather than through
 * atob/btoa: every callback's token and signature is decoded here, and a binary string plus a
 * re-encoding to prove the text canonical cost more than the HMAC they feed.
 */

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/** Each character's 6-bit value, -1 for none; '-' and '_' (URL-safe) decode like '+' and '/'. */
const VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;
VALUES["-".charCodeAt(0)] = 62;
VALUES["_".charCodeAt(0)] = 63;

export function toBase64(bytes: Uint8Array): string {
	let text = "";
	let i = 0;
	for (; i + 2 < bytes.length; i += 3) {
		const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
		text += ALPHABET.charAt(n >> 18) + ALPHABET.charAt((n >> 12) & 63) + ALPHABET.charAt((n >> 6) & 63) + ALPHABET.charAt(n & 63);
	}
	const rest = bytes.length - i;
	if (rest === 1) {
		const n = (bytes[i] as number) << 16;
		text += `${ALPHABET.charAt(n >> 18)}${ALPHABET.charAt((n >> 12) & 63)}==`;
	} else if (rest === 2) {
		const n = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8);
		text += `${ALPHABET.charAt(n >> 18)}${ALPHABET.charAt((n >> 12) & 63)}${ALPHABET.charAt((n >> 6) & 63)}=`;
	}
	return text;
}

export function toBase64Url(bytes: Uint8Array): string {
	return toBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Accepts standard and URL-safe base64, padded or not (at most two '='); null when it is not
 * base64 at all, or not the canonical encoding of its bytes: the last character's unused bits
 * must be zero, as otherwise several different texts (a token with its last character altered,
 * say) would decode to the same MAC and verify.
 */
export function fromBase64(text: string): Uint8Array | null {
	const trimmed = text.trim();
	let end = trimmed.length;
	while (end > 0 && trimmed.length - end < 2 && trimmed.charCodeAt(end - 1) === 61 /* = */) end--;
	// Four characters make whole bytes, so padding after them (or a lone sixth bit) is not base64.
	if (end % 4 === 1 || (end < trimmed.length && end % 4 === 0)) return null;
	const bytes = new Uint8Array(Math.floor((end * 3) / 4));
	let buffer = 0;
	let bits = 0;
	let out = 0;
	for (let i = 0; i < end; i++) {
		const code = trimmed.charCodeAt(i);
		const value = code < 128 ? (VALUES[code] as number) : -1;
		if (value < 0) return null;
		buffer = ((buffer << 6) | value) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			bytes[out++] = (buffer >> bits) & 0xff;
		}
	}
	// What is left over is the last character's unused bits: canonical text has them zero.
	if ((buffer & ((1 << bits) - 1)) !== 0) return null;
	return bytes;
}
