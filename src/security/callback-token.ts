/**
 * The callback URL the gateway gives the upstream: `${PUBLIC_URL}/callbacks/kie/<ref>?token=<mac>`.
 *
 * The URL is minted before the upstream names the task, so it cannot carry the taskId. Instead
 * `ref` is a fresh random id for this one create, and `token` an HMAC over it that only the
 * gateway can compute: a URL nobody was given does not verify. The task object records which ref
 * its task was created with and refuses callbacks carrying another, so a client who learns one
 * task's URL cannot write any other task.
 */
import { fromBase64, toBase64Url } from "./base64";
import { hmacSign, hmacVerify } from "./hmac";

export const CALLBACK_PATH_PREFIX = "/callbacks/kie/";
const TOKEN_CONTEXT = "lyrics-gateway/callback-token/v1:";

export interface CallbackTarget {
	ref: string;
	url: string;
}

/** The key behind the tokens: its own secret when set, otherwise derived from the upstream key. */
export function callbackTokenSecret(env: { CALLBACK_TOKEN_SECRET?: string; KIE_API_KEY?: string }): string | null {
	const secret = env.CALLBACK_TOKEN_SECRET?.trim() || env.KIE_API_KEY?.trim();
	return secret ? `${TOKEN_CONTEXT}${secret}` : null;
}

export async function mintCallbackTarget(publicUrl: string, secret: string): Promise<CallbackTarget> {
	const ref = crypto.randomUUID().replace(/-/g, "");
	const token = toBase64Url(await hmacSign(secret, ref));
	return { ref, url: `${publicUrl}${CALLBACK_PATH_PREFIX}${ref}?token=${token}` };
}

export async function verifyCallbackToken(secret: string | null, ref: string, token: string | undefined): Promise<boolean> {
	if (!secret || !token || !/^[0-9a-f]{32}$/.test(ref)) return false;
	const mac = fromBase64(token);
	if (!mac || mac.byteLength !== 32) return false;
	return hmacVerify(secret, ref, mac);
}
