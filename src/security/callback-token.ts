/**
 * The callback URL the gateway gives the upstream: `${PUBLIC_URL}/callbacks/kie/<ref>?token=<mac>`.
 *
 * The URL is minted before the upstream names the task, so it cannot carry the taskId. Instead
 * `ref` is a fresh random id for this one create, and `token` an HMAC over it that only the
 * gateway can compute: a URL nobody was given does not verify. The task object records which ref
 * its task was created with and refuses callbacks carrying another, so a client who learns one
 * task's URL cannot write any other task.
 *
 * The ref also carries the time it was minted (8 hex digits of unix seconds, then 24 random
 * ones). A callback can only be held for a task not yet stored while its URL is fresh: after
 * that its create has either stored the task (binding the ref) or failed, so an unbound old URL
 * is refused instead of holding callbacks for made-up task ids.
 */
import { readConfig } from "../config";
import { fromBase64, toBase64Url } from "./base64";
import { hmacSign, hmacVerify } from "./hmac";

export const CALLBACK_PATH_PREFIX = "/callbacks/kie/";
const TOKEN_CONTEXT = "lyrics-gateway/callback-token/v1:";

export interface CallbackTarget {
	ref: string;
	url: string;
}

/** The key behind the tokens: its own secret when set, otherwise derived from the upstream key. */
export function callbackTokenSecret(env: Env): string | null {
	const config = readConfig(env);
	const secret = config.callbackTokenSecret ?? config.kieApiKey;
	return secret ? `${TOKEN_CONTEXT}${secret}` : null;
}

/** How long after minting a URL a callback for a task not yet stored is still believable. */
const EARLY_CALLBACK_WINDOW_MS = 2 * 60 * 1000;

export async function mintCallbackTarget(
	publicUrl: string,
	secret: string,
	now: number = Date.now(),
): Promise<CallbackTarget> {
	const mintedAt = Math.floor(now / 1000).toString(16).padStart(8, "0").slice(-8);
	const random = crypto.randomUUID().replace(/-/g, "").slice(0, 24);
	const ref = `${mintedAt}${random}`;
	const token = toBase64Url(await hmacSign(secret, ref));
	return { ref, url: `${publicUrl}${CALLBACK_PATH_PREFIX}${ref}?token=${token}` };
}

/** Whether a (verified) ref was minted recently enough to hold a callback for an unstored task. */
export function isFreshRef(ref: string, now: number = Date.now()): boolean {
	const mintedAtMs = Number.parseInt(ref.slice(0, 8), 16) * 1000;
	return now - mintedAtMs <= EARLY_CALLBACK_WINDOW_MS && mintedAtMs - now <= EARLY_CALLBACK_WINDOW_MS;
}

export async function verifyCallbackToken(secret: string | null, ref: string, token: string | undefined): Promise<boolean> {
	if (!secret || !token || !/^[0-9a-f]{32}$/.test(ref)) return false;
	const mac = fromBase64(token);
	if (!mac || mac.byteLength !== 32) return false;
	return hmacVerify(secret, ref, mac);
}
