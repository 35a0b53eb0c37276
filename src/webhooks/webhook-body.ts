/**
 * What a client's callBackUrl receives: the provider's own callback body (as the provider's
 * API documentation gives it), snake_case names included, so code written for KIE's callbacks works unchanged.
 */
import type { WebhookBody } from "../schemas/webhook";
import type { TaskRecord } from "../domain/task-record";

export function webhookBody(task: TaskRecord): WebhookBody {
	const succeeded = task.status === "SUCCESS";
	return {
		code: succeeded ? 200 : (task.errorCode ?? 500),
		msg: succeeded ? "All generated successfully." : (task.errorMessage ?? `The task ended as ${task.status}.`),
		data: {
			callbackType: succeeded ? "complete" : "error",
			task_id: task.taskId,
			data: task.items.map((item) => ({
				text: item.text,
				title: item.title,
				status: item.status,
				error_message: item.errorMessage,
			})),
		},
	};
}
