/** The two upstream calls the gateway makes: create a lyrics task, and poll one. */
import type { Config } from "../config/config";
import { outcomeFromRecordInfo, type RecordInfoData } from "./outcome";
import { isRecord } from "../lib/json";
import { type Exchange, exchange } from "./exchange";
import type { CreateFailure } from "../domain/create-failure";
import { mapCreateFailure } from "./create-failure";
import type { Outcome } from "../domain/task-record";
import { isValidTaskId } from "../domain/task-id";

export type CreateResult = { ok: true; taskId: string } | { ok: false; failure: CreateFailure };

export async function createLyricsTask(
	config: Config,
	apiKey: string,
	params: { prompt: string; callBackUrl: string },
): Promise<CreateResult> {
	const answer = await exchange(
		`${config.kieBaseUrl}/api/v1/lyrics`,
		{
			method: "POST",
			headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json", accept: "application/json" },
			body: JSON.stringify(params),
		},
		config.upstreamTimeoutMs,
	);
	if (answer.kind === "answered" && answer.status >= 200 && answer.status < 300 && isRecord(answer.json)) {
		const data = answer.json.data;
		const taskId = isRecord(data) ? data.taskId : undefined;
		if (answer.json.code === 200 && typeof taskId === "string" && isValidTaskId(taskId)) {
			return { ok: true, taskId };
		}
	}
	return { ok: false, failure: mapCreateFailure(answer, config.upstreamTimeoutMs) };
}

/** The upstream's record-info about one task, as one bounded exchange (polls and adoption both ask it). */
function askRecordInfo(config: Config, apiKey: string, taskId: string): Promise<Exchange> {
	return exchange(
		`${config.kieBaseUrl}/api/v1/lyrics/record-info?taskId=${encodeURIComponent(taskId)}`,
		{ headers: { authorization: `Bearer ${apiKey}`, accept: "application/json" } },
		config.upstreamTimeoutMs,
	);
}

export type PollResult = { ok: true; outcome: Outcome } | { ok: false; reason: string };

export async function fetchRecordInfo(config: Config, apiKey: string, taskId: string): Promise<PollResult> {
	const answer = await askRecordInfo(config, apiKey, taskId);
	if (answer.kind !== "answered") return { ok: false, reason: `upstream ${answer.kind}` };
	if (answer.status < 200 || answer.status >= 300) return { ok: false, reason: `upstream HTTP ${answer.status}` };
	if (!isRecord(answer.json)) return { ok: false, reason: "upstream answer is not an object" };
	if (answer.json.code !== 200) return { ok: false, reason: `upstream code ${String(answer.json.code)}` };
	const data = answer.json.data;
	if (!isRecord(data)) return { ok: false, reason: "upstream answer has no data" };
	if (typeof data.taskId === "string" && data.taskId !== taskId) {
		return { ok: false, reason: "upstream answered about another task" };
	}
	return { ok: true, outcome: outcomeFromRecordInfo(sanitizeRecordInfo(data)) };
}

export type TaskPrompt =
	| { kind: "found"; prompt: string | null; callBackUrl: string | null }
	| { kind: "not-found" }
	| { kind: "unknown" };

/** Whether the upstream knows `taskId`, and the prompt it was created with (from record-info's `param`). */
export async function fetchTaskPrompt(config: Config, apiKey: string, taskId: string): Promise<TaskPrompt> {
	const answer = await askRecordInfo(config, apiKey, taskId);
	if (answer.kind !== "answered" || !isRecord(answer.json)) return { kind: "unknown" };
	if (answer.status === 404 || answer.json.code === 404) return { kind: "not-found" };
	if (answer.status < 200 || answer.status >= 300 || answer.json.code !== 200) return { kind: "unknown" };
	const data = answer.json.data;
	if (!isRecord(data) || (typeof data.taskId === "string" && data.taskId !== taskId)) return { kind: "not-found" };
	try {
		const param: unknown = typeof data.param === "string" ? JSON.parse(data.param) : null;
		if (!isRecord(param)) return { kind: "found", prompt: null, callBackUrl: null };
		return {
			kind: "found",
			prompt: typeof param.prompt === "string" ? param.prompt : null,
			callBackUrl: typeof param.callBackUrl === "string" ? param.callBackUrl : null,
		};
	} catch {
		return { kind: "found", prompt: null, callBackUrl: null };
	}
}

/** Keeps only well-typed fields, so a hostile answer cannot smuggle non-strings into stored items. */
function sanitizeRecordInfo(data: Record<string, unknown>): RecordInfoData {
	const response = isRecord(data.response) ? data.response : null;
	const items = (value: unknown) =>
		Array.isArray(value)
			? value.filter(isRecord).map((item) => ({
					text: stringOrNull(item.text),
					title: stringOrNull(item.title),
					status: stringOrNull(item.status),
					errorMessage: stringOrNull(item.errorMessage) ?? stringOrNull(item.error_message),
				}))
			: null;
	return {
		status: stringOrNull(data.status),
		response: response ? { data: items(response.data), lyricsData: items(response.lyricsData) } : null,
		errorCode: typeof data.errorCode === "number" && Number.isInteger(data.errorCode) ? data.errorCode : null,
		errorMessage: stringOrNull(data.errorMessage),
	};
}

function stringOrNull(value: unknown): string | null {
	return typeof value === "string" ? value : null;
}
