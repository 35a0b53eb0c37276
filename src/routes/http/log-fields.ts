/**
 * What a handler found out while answering that its request's log line should carry (the task a
 * create made, a callback's verdict, an envelope code other than the status): noted here during
 * the request and written by the one `request` line (src/routes/http/request-log.ts), so no route writes
 * a second line of its own and the answer is never read back to find them.
 */
import type { ResultNote } from "../../task/receipts";

export interface RequestLogFields extends Partial<ResultNote> {
	/** The task the request created, wrote or was refused for (a well-formed id; see request-log). */
	taskId?: string;
	/** The envelope's code, when it is not the HTTP status (an upstream's code passed on). */
	code?: number;
	/** What a callback did: applied, already-final, still-pending, held, or why it was refused. */
	verdict?: string;
	/** Why a callback was refused (which check failed), never what it carried. */
	reason?: string;
	/** The code the upstream's callback body carried. */
	callbackCode?: number;
	/**
	 * Answered 2xx, it needs no line of its own: a duplicate callback changes nothing but a count,
	 * and the task object logs its duplicates together when it counts them in (`duplicate_callbacks`).
	 */
	quiet?: boolean;
}


const noted = new WeakMap<Request, RequestLogFields>();

export function noteForLog(request: Request, fields: RequestLogFields): void {
	noted.set(request, { ...noted.get(request), ...fields });
}

export function notedForLog(request: Request): RequestLogFields {
	return noted.get(request) ?? {};
}
