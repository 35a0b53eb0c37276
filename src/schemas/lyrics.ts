/**
 * The public shapes of /api/v1/lyrics, declared once: the handlers validate with them and the
 * OpenAPI document is generated from them.
 */
import { z } from "@hono/zod-openapi";
import type { RecordInfo } from "../domain/record-info";
import { type LyricsItem, TASK_STATUSES } from "../domain/task-record";

export const MAX_PROMPT_WORDS = 200;
export const MAX_CREATE_BODY_BYTES = 64 * 1024;
const MAX_URL_LENGTH = 2048;

/** Words as the provider's English page counts them: runs of non-space characters. */
export function countWords(text: string): number {
	return text.split(/\s+/u).filter((word) => word.length > 0).length;
}

function isHttpUrl(value: string): boolean {
	try {
		const url = new URL(value);
		return (url.protocol === "http:" || url.protocol === "https:") && url.hostname.length > 0;
	} catch {
		return false;
	}
}

const EMPTY_PROMPT = "prompt is empty: describe the theme, mood or style of the lyrics you want";
/** At least one character that is not whitespace. */
const NON_BLANK = /\S/;
const NOT_HTTP_URL = "callBackUrl must be an absolute http(s) URL such as https://app.example.com/hook, or be left out";
/**
 * The scheme and a host, spelled out for the document (JSON Schema patterns take no flags);
 * isHttpUrl then checks the whole URL parses.
 */
const HTTP_URL_START = /^[Hh][Tt][Tt][Pp][Ss]?:\/\/[^\s/?#]+/;

export const CreateLyricsBody = z
	.object({
		prompt: z
			.string({ error: (issue) => (issue.input === undefined
						? 'prompt is required: send a JSON body like {"prompt": "A song about…"}'
						: "prompt must be a string of words describing the lyrics you want") })
			// min(1) and the pattern say in the document what `trim() !== ""` checked (JavaScript's
			// \s and trim() know the same whitespace); one message for both.
			.min(1, EMPTY_PROMPT)
			.regex(NON_BLANK, EMPTY_PROMPT)
			.openapi({
				description:
					`Theme, mood and style of the lyrics: not empty or blank; at most ${MAX_PROMPT_WORDS} words, counted as runs ` +
					`of non-space characters (more answers 413), in a body of at most ${MAX_CREATE_BODY_BYTES / 1024} KiB ` +
					"(a larger body answers 413).",
				example: "A nostalgic song about childhood memories and growing up in a small town",
			}),
		callBackUrl: z
			.string({ error: "callBackUrl must be a string holding an absolute http(s) URL, or be left out" })
			.max(MAX_URL_LENGTH, `callBackUrl is longer than ${MAX_URL_LENGTH} characters`)
			.regex(HTTP_URL_START, NOT_HTTP_URL)
			.refine(isHttpUrl, NOT_HTTP_URL)
			.nullish()
			.openapi({
				format: "uri",
				description:
					"Your own webhook for the final result: an absolute http(s) URL of at most " +
					`${MAX_URL_LENGTH} characters, whose host must resolve to a public address. Optional (null means left out): ` +
					"the gateway always gives the upstream its own callback URL.",
				example: "https://app.example.com/lyrics-callback",
			}),
	})
	.openapi("CreateLyricsRequest");
export type CreateLyricsBody = z.infer<typeof CreateLyricsBody>;

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
const badIdempotencyKey =
	`Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, such as a UUID; or leave the header out`;

export const CreateLyricsHeaders = z.object({
	"Idempotency-Key": z
		.string()
		.trim()
		.min(1, badIdempotencyKey)
		.max(MAX_IDEMPOTENCY_KEY_LENGTH, badIdempotencyKey)
		.regex(/^[\x20-\x7e]+$/, badIdempotencyKey)
		.optional()
		.openapi({
			param: { name: "Idempotency-Key", in: "header" },
			description:
				"Makes retries safe: the same key with the same body within 24 hours answers the first create's taskId " +
				"(with the header `Idempotent-Replayed: true`) and spends no second credit; another body answers 422. " +
				"Keys belong to your API key. A failed create is not remembered.",
			example: "8e03978e-40d5-43e8-bc93-6894a57f9324",
		}),
});

export const CreateLyricsData = z.object({
	taskId: z.string().openapi({ example: "5c79b2d0f6a04a7e9d3c1b2a8e4fbe8e" }),
});

export const TaskIdQuery = z.object({
	taskId: z
		.string({ error: "taskId is required: add ?taskId=<the id the create call returned>" })
		.trim()
		.min(1, "taskId is required: add ?taskId=<the id the create call returned>")
		.openapi({ param: { name: "taskId", in: "query" }, example: "5c79b2d0f6a04a7e9d3c1b2a8e4fbe8e" }),
});

export const TaskIdPath = z.object({
	taskId: z
		.string()
		.trim()
		.min(1, "taskId is required: DELETE /api/v1/lyrics/tasks/<the id the create call returned>")
		.openapi({ param: { name: "taskId", in: "path" }, example: "5c79b2d0f6a04a7e9d3c1b2a8e4fbe8e" }),
});

export const DeletedTaskData = z.object({ taskId: z.string() }).openapi("DeletedTask");

export const LyricsItemSchema = z
	.object({
		text: z.string(),
		title: z.string(),
		status: z.enum(["complete", "failed"]),
		errorMessage: z.string(),
	})
	// The domain's LyricsItem is what this schema parses (checked at compile time).
	.openapi("LyricsItem") satisfies z.ZodType<LyricsItem>;

const DeliverySchema = z
	.object({
		webhookId: z.string().openapi({ description: "The `webhook-id` header of every attempt, the same on retries" }),
		state: z.enum(["pending", "delivered", "failed"]).openapi({
			description: "pending: an attempt is due; delivered: answered 2xx; failed: the retry schedule ran out",
		}),
		attempts: z.number().int(),
		lastStatus: z.number().int().nullable().openapi({ description: "HTTP status of the last attempt; null when it got no answer" }),
		lastError: z.string().nullable().openapi({ description: "Why the last attempt did not count" }),
		lastAttemptTime: z.number().int().nullable().openapi({ description: "Unix milliseconds" }),
		nextAttemptTime: z.number().int().nullable().openapi({ description: "Unix milliseconds, while pending" }),
		deliveredTime: z.number().int().nullable().openapi({ description: "Unix milliseconds of the 2xx" }),
	})
	.openapi("WebhookDelivery");

/** The provider's record-info `data`, plus a few fields of the gateway's own. */
export const TaskRecordSchema = z
	.object({
		taskId: z.string(),
		param: z.string().openapi({ description: "JSON string of the create parameters", example: '{"prompt":"A song"}' }),
		response: z.object({ taskId: z.string(), data: z.array(LyricsItemSchema) }),
		status: z.enum(TASK_STATUSES),
		type: z.literal("LYRICS"),
		errorCode: z.number().int().nullable(),
		errorMessage: z.string().nullable(),
		createTime: z.number().int().openapi({ description: "Unix milliseconds when the task was created" }),
		completeTime: z.number().int().nullable().openapi({ description: "Unix milliseconds when it became final" }),
		resultSource: z
			.enum(["callback", "poll", "timeout"])
			.nullable()
			.openapi({ description: "How the final result arrived" }),
		callbacksReceived: z
			.number()
			.int()
			.openapi({ description: "Upstream callbacks received for this task; duplicates are counted here within a few seconds" }),
		polls: z.number().int().openapi({ description: "Times the gateway polled the upstream for this task" }),
		delivery: DeliverySchema.nullable().openapi({
			description: "The delivery of the final result to your callBackUrl; null until final, or without one",
		}),
		owner: z.string().nullable().openapi({
			description: "The tenant whose key created the task; null for a task stored before tenants existed",
			example: "acme",
		}),
	})
	// The domain's RecordInfo is what this schema parses (checked at compile time).
	.openapi("LyricsTask") satisfies z.ZodType<RecordInfo>;

/** `?status=&cursor=` from a client that fills in empty values means "not given". */
const emptyAsAbsent = (value: unknown) => (value === "" ? undefined : value);

const EMPTY_IS_ABSENT = "An empty value counts as not given.";

export const ListTasksQuery = z.object({
	status: z.preprocess(
		emptyAsAbsent,
		z
			.enum(TASK_STATUSES, { error: `status must be one of ${TASK_STATUSES.join(", ")}` })
			.optional()
			.openapi({ description: `Only tasks in this status. ${EMPTY_IS_ABSENT}` }),
	),
	limit: z.preprocess(
		emptyAsAbsent,
		z.coerce
			.number({ error: "limit must be a whole number from 1 to 100" })
			.int("limit must be a whole number from 1 to 100")
			.min(1, "limit must be a whole number from 1 to 100")
			.max(100, "limit must be a whole number from 1 to 100")
			.default(20)
			.openapi({ description: `Tasks per page. ${EMPTY_IS_ABSENT}` }),
	),
	cursor: z.preprocess(
		emptyAsAbsent,
		z
			.string()
			.optional()
			.openapi({ description: `Opaque; pass the previous page's data.nextCursor unchanged. ${EMPTY_IS_ABSENT}` }),
	),
	owner: z.preprocess(
		emptyAsAbsent,
		z
			.string()
			.optional()
			.openapi({
				// No example: Swagger UI's "Try it out" would send it, and a client key naming another
				// tenant answers 403.
				description:
					"One tenant's tasks. Admin keys: any tenant. Client keys: only their own tenant's name (any other answers 403).",
			}),
	),
});

export const TaskListData = z.object({
	items: z.array(TaskRecordSchema),
	nextCursor: z.string().nullable(),
});
