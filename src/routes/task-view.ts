/** A stored task in the provider's record-info shape, plus the gateway's extra fields. */
import type { z } from "@hono/zod-openapi";
import type { TaskRecordSchema } from "../schemas/lyrics";
import type { TaskRecord } from "../domain/task-record";

export function toRecordInfo(task: TaskRecord): z.infer<typeof TaskRecordSchema> {
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
