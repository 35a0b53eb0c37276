/** The list endpoint's opaque cursor: the insertion sequence of the last task on a page. */
import { GatewayError } from "../http/errors";

const PREFIX = "v1:";

export function encodeCursor(seq: number): string {
	return btoa(`${PREFIX}${seq}`).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
}

export function decodeCursor(cursor: string): number {
	let text = "";
	try {
		text = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
	} catch {
		// fall through to the error below
	}
	const seq = text.startsWith(PREFIX) ? Number(text.slice(PREFIX.length)) : Number.NaN;
	if (!Number.isSafeInteger(seq) || seq < 1) {
		throw new GatewayError(400, "cursor is not valid. Pass data.nextCursor from the previous page unchanged.");
	}
	return seq;
}
