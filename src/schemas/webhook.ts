/**
 * What the gateway POSTs to a client's callBackUrl: the provider's callback body (snake_case as
 * the provider sends it), so KIE client code works unchanged. Declared once: the delivery builds
 * it with this type, and the OpenAPI document lists it under `webhooks`.
 */
import { z } from "@hono/zod-openapi";
import { PROVIDER_CALLBACK_EXAMPLE } from "./callback";

export const WebhookBodySchema = z
	.object({
		code: z.number().int().openapi({ description: "200 on success; otherwise the task's errorCode (500 when none)" }),
		msg: z.string().openapi({ description: '"All generated successfully." or the task\'s errorMessage' }),
		data: z.object({
			callbackType: z.enum(["complete", "error"]),
			task_id: z.string(),
			data: z.array(
				z.object({
					text: z.string(),
					title: z.string(),
					status: z.enum(["complete", "failed"]),
					error_message: z.string(),
				}),
			),
		}),
	})
	.openapi("WebhookBody", { example: PROVIDER_CALLBACK_EXAMPLE });
export type WebhookBody = z.infer<typeof WebhookBodySchema>;

/** The headers of every delivery, both signature schemes (README, "Verifying deliveries"). */
export const WebhookHeadersSchema = z.object({
	"webhook-id": z.string().openapi({ description:
			"msg_<taskId>: the same on every retry, for deduplication; msg_<taskId>_2 for the upstream's result replacing the gateway's own timeout", example: "msg_3b66882fde0a5d398bd269cab6d9542b" }),
	"webhook-timestamp": z.string().openapi({ description: "Unix seconds of this attempt", example: "1763762400" }),
	"webhook-signature": z.string().openapi({
		description: 'Standard Webhooks: "v1," + base64(HMAC-SHA256(key, webhook-id + "." + webhook-timestamp + "." + body))',
	}),
	"x-webhook-timestamp": z.string().openapi({ description: "Provider style: the same unix seconds" }),
	"x-webhook-signature": z.string().openapi({
		description: 'Provider style: base64(HMAC-SHA256(key, data.task_id + "." + x-webhook-timestamp))',
	}),
});
