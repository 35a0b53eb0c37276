/** The list endpoint's opaque cursor: the insertion sequence of the last task on a page. */
import { GatewayError } from "./shared/errors";
import { fromBase64, toBase64Url } from "../security/base64";

const PREFIX = "v1:";

export function encodeCursor(seq: number): string {
	return toBase64Url(new TextEncoder().encode(`${PREFIX}${seq}`));
}

export function decodeCursor(cursor: string): number {
	const bytes = fromBase64(cursor);
	const text = bytes ? new TextDecoder().decode(bytes) : "";
	const seq = text.startsWith(PREFIX) ? Number(text.slice(PREFIX.length)) : Number.NaN;
	if (!Number.isSafeInteger(seq) || seq < 1) {
		throw new GatewayError(400, "cursor is not valid. Pass data.nextCursor from the previous page unchanged.");
	}
	return seq;
}
