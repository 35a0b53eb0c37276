/**
 * The provider's callback body, accepting every variant of it the provider's documents disagree
 * on (task_id or taskId, error_message or errorMessage, data.data null); anything else is malformed.
 */
import { z } from "@hono/zod-openapi";
import { MAX_TASK_ID_LENGTH, TASK_ID_PATTERN } from "../domain/task-id";

export const MAX_CALLBACK_BODY_BYTES = 256 * 1024;
/**
 * The provider sends 2-3 variations. Each item is stored with all four fields, so without a cap
 * a 256 KiB body of `{}` items would grow past the 2 MB row limit of Durable Object storage and D1;
 * 1000 keeps the worst case far below it while no real callback comes near.
 */
const MAX_CALLBACK_ITEMS = 1000;

/** The provider's own example from its callback documentation; the gateway's deliveries to clients take the same shape. */
export const PROVIDER_CALLBACK_EXAMPLE = {
	code: 200,
	msg: "All generated successfully.",
	data: {
		callbackType: "complete" as const,
		task_id: "3b66882fde0a5d398bd269cab6d9542b",
		data: [{ error_message: "", status: "complete" as const, text: "[Verse]\n…", title: "Starry Night Dreams" }],
	},
};

const optionalText = z.string().nullish();

const KieCallbackItem = z.object({
	text: optionalText,
	title: optionalText,
	status: optionalText,
	error_message: optionalText,
	errorMessage: optionalText,
});

/** The pattern is checked by the route after parsing (isValidTaskId), with its own message. */
const CallbackTaskId = z
	.string()
	.min(1)
	.max(MAX_TASK_ID_LENGTH)
	.openapi({ pattern: TASK_ID_PATTERN.source, description: "The upstream's task id; task_id or taskId must be there" });

export const KieCallbackBody = z
	.object({
		code: z.number().int(),
		msg: optionalText,
		data: z.object({
			callbackType: optionalText,
			task_id: CallbackTaskId.optional(),
			taskId: CallbackTaskId.optional(),
			data: z.array(KieCallbackItem).max(MAX_CALLBACK_ITEMS).nullish(),
		})
		// What the refine below checks, stated in the document.
		.openapi({ anyOf: [{ required: ["task_id"] }, { required: ["taskId"] }] }),
	})
	.refine((body) => body.data.task_id !== undefined || body.data.taskId !== undefined, {
		message: "data.task_id is required",
		path: ["data", "task_id"],
	})
	.openapi("KieCallback", {
		description:
			`The provider's callback, as JSON of at most ${MAX_CALLBACK_BODY_BYTES / 1024} KiB (a larger body answers 413), ` +
			"naming its task by data.task_id or data.taskId.",
		example: PROVIDER_CALLBACK_EXAMPLE,
	});
export type KieCallbackBody = z.infer<typeof KieCallbackBody>;

export function callbackTaskId(body: KieCallbackBody): string {
	return (body.data.task_id ?? body.data.taskId) as string;
}
