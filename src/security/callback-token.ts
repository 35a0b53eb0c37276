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
import type { Config } from "../config/config";
import { fromBase64, toBase64Url } from "./base64";
import { hmacSign, hmacVerify } from "./hmac";

export const CALLBACK_PATH_PREFIX = "/callbacks/kie/";
const TOKEN_CONTEXT = "lyrics-gateway/callback-token/v1:";

export interface CallbackTarget {
	ref: string;
	url: string;
}

/**
 * The key tokens are minted with: CALLBACK_TOKEN_SECRET (its first secret, while rotating), and
 * nothing else, so that holding the upstream key does not let anyone mint callback URLs. Null
 * when unset: the gateway then mints none (creates answer 503).
 */
export function callbackTokenKey(config: Pick<Config, "callbackTokenSecret">): string | null {
	return config.callbackTokenSecret ? `${TOKEN_CONTEXT}${config.callbackTokenSecret}` : null;
}

/** The keys tokens verify with: every secret CALLBACK_TOKEN_SECRET lists ("<new> <old>" while rotating). */
function verifyingKeys(config: Pick<Config, "callbackTokenSecrets">): string[] {
	return config.callbackTokenSecrets.map((secret) => `${TOKEN_CONTEXT}${secret}`);
}

/**
 * The key earlier versions minted with when CALLBACK_TOKEN_SECRET was unset (derived from
 * KIE_API_KEY). It only verifies, so tasks pending at the upgrade keep their callbacks; it never
 * mints, and a URL verified with it is never trusted as fresh (see callbackTokenVerdict).
 */
function legacyCallbackTokenKey(config: Pick<Config, "kieApiKey">): string | null {
	return config.kieApiKey ? `${TOKEN_CONTEXT}${config.kieApiKey}` : null;
}

/**
 * Legacy tokens verify only for URLs minted this recently: the provider keeps a task's result 14
 * days, so no genuine callback of a task created before the upgrade comes later than that.
 */
const LEGACY_TOKEN_MAX_AGE_MS = 14 * 24 * 60 * 60 * 1000;

/**
 * Which key a callback URL's token verifies with: "current" (CALLBACK_TOKEN_SECRET), "legacy"
 * (the KIE_API_KEY derivation, for URLs minted before the upgrade; such a callback may only
 * reach a task or timed-out create D1 already binds to the URL, never be held on its word), or
 * "invalid".
 */
export async function callbackTokenVerdict(
	config: Pick<Config, "callbackTokenSecrets" | "kieApiKey">,
	ref: string,
	token: string | undefined,
	now: number = Date.now(),
): Promise<"current" | "legacy" | "invalid"> {
	const keys = verifyingKeys(config);
	for (const key of keys) if (await verifyCallbackToken(key, ref, token)) return "current";
	const legacy = legacyCallbackTokenKey(config);
	if (legacy === null || keys.includes(legacy) || now - mintedAtMs(ref) > LEGACY_TOKEN_MAX_AGE_MS) return "invalid";
	return (await verifyCallbackToken(legacy, ref, token)) ? "legacy" : "invalid";
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
	return { ref, url: `${publicUrl}${CALLBACK_PATH_PREFIX}${ref}?token=${await callbackToken(secret, ref)}` };
}

/** The token for `ref` under `secret`, as a callback URL carries it. */
export async function callbackToken(secret: string, ref: string): Promise<string> {
	return toBase64Url(await hmacSign(secret, ref));
}

function mintedAtMs(ref: string): number {
	return Number.parseInt(ref.slice(0, 8), 16) * 1000;
}

/** Whether a (verified) ref was minted recently enough to hold a callback for an unstored task. */
export function isFreshRef(ref: string, now: number = Date.now()): boolean {
	const minted = mintedAtMs(ref);
	return now - minted <= EARLY_CALLBACK_WINDOW_MS && minted - now <= EARLY_CALLBACK_WINDOW_MS;
}

async function verifyCallbackToken(secret: string | null, ref: string, token: string | undefined): Promise<boolean> {
	if (!secret || !token || !/^[0-9a-f]{32}$/.test(ref)) return false;
	const mac = fromBase64(token);
	if (!mac || mac.byteLength !== 32) return false;
	return hmacVerify(secret, ref, mac);
}
