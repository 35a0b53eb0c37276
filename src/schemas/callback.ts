/**
 * The provider's callback body, accepting every variant its documents disagree on
 * (../shared/kie/README.md, "Variations the gateway must accept"); anything else is malformed.
 */
import { z } from "@hono/zod-openapi";
import { MAX_TASK_ID_LENGTH } from "../domain/task-id";

export const MAX_CALLBACK_BODY_BYTES = 256 * 1024;
/**
 * The provider sends 2-3 variations. Each item is stored with all four fields, so without a cap
 * a 256 KiB body of `{}` items would grow past the 2 MB row limit of Durable Object storage and D1;
 * 1000 keeps the worst case far below it while no real callback comes near.
 */
const MAX_CALLBACK_ITEMS = 1000;

/** The provider's own example (kie/README.md); the gateway's deliveries to clients take the same shape. */
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

export const KieCallbackBody = z
	.object({
		code: z.number().int(),
		msg: optionalText,
		data: z.object({
			callbackType: optionalText,
			task_id: z.string().min(1).max(MAX_TASK_ID_LENGTH).optional(),
			taskId: z.string().min(1).max(MAX_TASK_ID_LENGTH).optional(),
			data: z.array(KieCallbackItem).max(MAX_CALLBACK_ITEMS).nullish(),
		}),
	})
	.refine((body) => body.data.task_id !== undefined || body.data.taskId !== undefined, {
		message: "data.task_id is required",
		path: ["data", "task_id"],
	})
	.openapi("KieCallback", { example: PROVIDER_CALLBACK_EXAMPLE });
export type KieCallbackBody = z.infer<typeof KieCallbackBody>;

export function callbackTaskId(body: KieCallbackBody): string {
	return (body.data.task_id ?? body.data.taskId) as string;
}
