/**
 * Before a task is adopted from a timed-out create (504). A callback carrying the
 * create's ref names a taskId, but its body is the caller's word: before the task is stored, the
 * upstream itself must confirm that task exists and was asked for the create's prompt. So a
 * forged callback, even through a genuine URL, stores nothing.
 */
import type { Config } from "../config/config";
import type { CreateRecord } from "../db/create-records";
import { type TaskPrompt, fetchTaskPrompt } from "../upstream/kie-client";

/** Timed-out creates may be adopted for a day; the provider calls back within minutes. */
export const ADOPTION_WINDOW_MS = 24 * 60 * 60 * 1000;

export type Confirmation = "confirmed" | "refuted" | "unknown";

/**
 * The upstream knows `taskId`, made for the create's prompt, and (where its record-info shows the
 * callback URL the task was created with) for this create's URL.
 */
export async function confirmWithUpstream(
	config: Config,
	taskId: string,
	create: Pick<CreateRecord, "ref" | "prompt">,
	ask: (apiKey: string) => Promise<TaskPrompt> = (apiKey) => fetchTaskPrompt(config, apiKey, taskId),
): Promise<Confirmation> {
	if (!config.kieApiKey) return "unknown";
	const answer = await ask(config.kieApiKey);
	if (answer.kind === "unknown") return "unknown";
	if (answer.kind === "not-found") return "refuted";
	if (answer.callBackUrl !== null && !answer.callBackUrl.includes(`/${create.ref}`)) return "refuted";
	return answer.prompt?.trim() === create.prompt.trim() ? "confirmed" : "refuted";
}
