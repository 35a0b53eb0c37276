/**
 * Turns what the provider reports (a callback body or a record-info answer) into one Outcome,
 * so the task object applies callbacks and polls through the same path.
 */
import type { KieCallbackBody } from "../schemas/callback";
import type { FinalStatus, LyricsItem, Outcome } from "../domain/task-record";

interface RawItem {
	text?: string | null;
	title?: string | null;
	status?: string | null;
	error_message?: string | null;
	errorMessage?: string | null;
}

function normalizeItems(raw: readonly RawItem[] | null | undefined): LyricsItem[] {
	return (raw ?? []).map((item) => {
		const errorMessage = item.errorMessage ?? item.error_message ?? "";
		const failed = item.status === "failed" || (item.status !== "complete" && !item.text);
		return {
			text: item.text ?? "",
			title: item.title ?? "",
			status: failed ? "failed" : "complete",
			errorMessage,
		};
	});
}

/** Moderation refusals get their own status, as the provider's record-info gives them. */
function looksLikeModeration(message: string): boolean {
	return /sensitive|moderat|artist name|flagged/i.test(message);
}

export function outcomeFromCallback(body: KieCallbackBody): Outcome {
	const items = normalizeItems(body.data.data);
	const msg = body.msg?.trim() || null;
	const isError = body.code !== 200 || body.data.callbackType === "error";
	if (isError) {
		const firstItemError = items.find((item) => item.errorMessage)?.errorMessage;
		const errorMessage = msg ?? firstItemError ?? `The upstream reported failure code ${body.code}.`;
		const status: FinalStatus = looksLikeModeration(errorMessage) ? "SENSITIVE_WORD_ERROR" : "GENERATE_LYRICS_FAILED";
		return { final: true, status, items, errorCode: body.code, errorMessage };
	}
	return successOutcome(items);
}

function successOutcome(items: LyricsItem[]): Outcome {
	if (items.length === 0) {
		// A "success" with nothing in it is not a result; leave the task pending for the poller.
		return { final: false, reason: "success reported without lyrics" };
	}
	if (items.every((item) => item.status === "failed")) {
		const errorMessage = items.find((item) => item.errorMessage)?.errorMessage || "Every lyrics variation failed.";
		return { final: true, status: "GENERATE_LYRICS_FAILED", items, errorCode: 500, errorMessage };
	}
	return { final: true, status: "SUCCESS", items, errorCode: null, errorMessage: null };
}

export interface RecordInfoData {
	status?: string | null;
	response?: { data?: RawItem[] | null; lyricsData?: RawItem[] | null } | null;
	errorCode?: number | null;
	errorMessage?: string | null;
}

const FAILED_STATUSES: readonly string[] = [
	"CREATE_TASK_FAILED",
	"GENERATE_LYRICS_FAILED",
	"CALLBACK_EXCEPTION",
	"SENSITIVE_WORD_ERROR",
] satisfies FinalStatus[];

export function outcomeFromRecordInfo(data: RecordInfoData): Outcome {
	const items = normalizeItems(data.response?.data ?? data.response?.lyricsData);
	const status = data.status ?? "";
	if (status === "SUCCESS") return successOutcome(items);
	if (FAILED_STATUSES.includes(status)) {
		return {
			final: true,
			status: status as FinalStatus,
			items,
			errorCode: data.errorCode ?? null,
			errorMessage: data.errorMessage?.trim() || `The upstream reported ${status}.`,
		};
	}
	return { final: false, reason: `upstream status ${status || "missing"}` };
}
