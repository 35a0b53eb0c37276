/**
 * A list cursor sealed with AES-GCM: the holder can pass it back, and learns nothing from it. The
 * position inside is the insertion sequence of the last task on a page, a number every tenant's
 * tasks share: in the clear, two of one tenant's cursors would tell how many tasks everyone else
 * created in between. Sealed with a fresh IV each time, and bound to the list it came from (whose
 * tasks, which status), so it can be neither read, forged, nor moved to another list.
 */
import { fromBase64, toBase64Url } from "./base64";
import { hmacSign } from "./hmac";

const CONTEXT = "lyrics-gateway/list-cursor/v2";
const IV_BYTES = 12;
const keys = new Map<string, Promise<CryptoKey>>();
const encoder = new TextEncoder();

/** One AES key per secret, derived so the secret's other uses never meet it. */
function keyOf(secret: string): Promise<CryptoKey> {
	let key = keys.get(secret);
	if (!key) {
		key = hmacSign(secret, CONTEXT).then((raw) => crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]));
		keys.set(secret, key);
	}
	return key;
}

/** `secrets[0]` seals; `list` names the list the position belongs to (its tenant and status). */
export async function sealCursor(position: number, list: string, secrets: readonly string[]): Promise<string> {
	const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
	const sealed = await crypto.subtle.encrypt(
		{ name: "AES-GCM", iv, additionalData: encoder.encode(list) },
		await keyOf(secrets[0] as string),
		encoder.encode(String(position)),
	);
	const bytes = new Uint8Array(IV_BYTES + sealed.byteLength);
	bytes.set(iv);
	bytes.set(new Uint8Array(sealed), IV_BYTES);
	return toBase64Url(bytes);
}

/** The position a cursor of this `list` holds, opened with any of `secrets`; null when none opens it. */
export async function openCursor(cursor: string, list: string, secrets: readonly string[]): Promise<number | null> {
	const bytes = fromBase64(cursor);
	if (!bytes || bytes.byteLength <= IV_BYTES + 16) return null;
	for (const secret of secrets) {
		try {
			const opened = await crypto.subtle.decrypt(
				{ name: "AES-GCM", iv: bytes.slice(0, IV_BYTES), additionalData: encoder.encode(list) },
				await keyOf(secret),
				bytes.slice(IV_BYTES),
			);
			const position = Number(new TextDecoder().decode(opened));
			if (Number.isSafeInteger(position) && position >= 1) return position;
		} catch {
			// not sealed with this secret (or not by this gateway): try the next
		}
	}
	return null;
}
