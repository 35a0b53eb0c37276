/**
 * The `Idempotency-Key` header of a create: what it may look like, whose it is, and what
 * "the same body" means.
 */
import { GatewayError } from "../http/errors";
import { sha256Hex } from "../security/digest";

const MAX_KEY_LENGTH = 255;

/** The header's value, or undefined without one; 400 for a value no client means seriously. */
export function readIdempotencyKey(header: string | undefined): string | undefined {
	if (header === undefined) return undefined;
	const key = header.trim();
	if (key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x20-\x7e]+$/.test(key)) {
		throw new GatewayError(
			400,
			`Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters, such as a UUID; or leave the header out.`,
		);
	}
	return key;
}

/**
 * Keys are scoped to the client's API key: two clients choosing the same key never see each
 * other's tasks. The object's name is a digest, so neither key is stored in the clear.
 */
export function idempotencyScope(apiKey: string, idempotencyKey: string): Promise<string> {
	return sha256Hex(`${apiKey}\n${idempotencyKey}`);
}

/** The request as parsed, not its bytes: the same fields with other whitespace are the same body. */
export function requestFingerprint(request: { prompt: string; callbackUrl: string | null }): Promise<string> {
	return sha256Hex(JSON.stringify([request.prompt, request.callbackUrl]));
}
