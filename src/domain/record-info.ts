/**
 * A task as record-info answers it: the provider's record-info `data`, plus the gateway's own
 * fields. What D1's row and the archive both give readers, the same either way (the archive stores
 * exactly this). src/schemas/lyrics.ts declares the same shape for the OpenAPI document and checks
 * at compile time that the two agree.
 */
import type { DeliveryState } from "./delivery";
import type { LyricsItem, ResultSource, TaskRecord, TaskStatus } from "./task-record";

export interface RecordInfo {
	taskId: string;
	/** JSON string of the create's parameters, as the provider gives it. */
	param: string;
	response: { taskId: string; data: LyricsItem[] };
	status: TaskStatus;
	type: "LYRICS";
	errorCode: number | null;
	errorMessage: string | null;
	createTime: number;
	completeTime: number | null;
	resultSource: ResultSource | null;
	callbacksReceived: number;
	polls: number;
	delivery: {
		webhookId: string;
		state: DeliveryState;
		attempts: number;
		lastStatus: number | null;
		lastError: string | null;
		lastAttemptTime: number | null;
		nextAttemptTime: number | null;
		deliveredTime: number | null;
	} | null;
	owner: string | null;
}

export function toRecordInfo(task: TaskRecord): RecordInfo {
	const param: Record<string, string> = { prompt: task.prompt };
	if (task.callbackUrl) param.callBackUrl = task.callbackUrl;
	return {
		taskId: task.taskId,
		param: JSON.stringify(param),
		response: { taskId: task.taskId, data: task.items },
		status: task.status,
		type: "LYRICS",
		errorCode: task.errorCode,
		errorMessage: task.errorMessage,
		createTime: task.createdAt,
		completeTime: task.completedAt,
		resultSource: task.resultSource,
		callbacksReceived: task.callbacksReceived,
		polls: task.polls,
		delivery: task.delivery && {
			webhookId: task.delivery.webhookId,
			state: task.delivery.state,
			attempts: task.delivery.attempts,
			lastStatus: task.delivery.lastStatus,
			lastError: task.delivery.lastError,
			lastAttemptTime: task.delivery.lastAttemptAt,
			nextAttemptTime: task.delivery.nextAttemptAt,
			deliveredTime: task.delivery.deliveredAt,
		},
		owner: task.owner ?? null,
	};
}
