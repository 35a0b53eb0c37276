/**
 * The `Idempotency-Key` header of a create (its shape is CreateLyricsHeaders): whose it is, and
 * what "the same body" means.
 */
import { sha256Hex } from "../lib/digest";

/**
 * Keys are scoped to the tenant: two tenants choosing the same key never see each other's tasks,
 * while two keys of one tenant (a rotation) replay each other's creates. The object's name is a
 * digest, so the Idempotency-Key is not stored in the clear.
 */
export function idempotencyScope(tenant: string, idempotencyKey: string): Promise<string> {
	return sha256Hex(`tenant:${tenant}\n${idempotencyKey}`);
}

/** The request as parsed, not its bytes: the same fields with other whitespace are the same body. */
export function requestFingerprint(request: { prompt: string; callbackUrl: string | null }): Promise<string> {
	return sha256Hex(JSON.stringify([request.prompt, request.callbackUrl]));
}
