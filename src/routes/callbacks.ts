/**
 * The URL the gateway gives the upstream as callBackUrl. Verifies the per-task token (and, when
 * KIE_WEBHOOK_HMAC_KEY is set, the provider's signature), then hands the result to the task's
 * object, which decides. Nothing a caller sends makes it answer 5xx.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { readConfig } from "../config/config";
import { GatewayError } from "./http/errors";
import { readJsonBody } from "./http/body";
import { createRouter } from "./http/router";
import { noteForLog } from "./http/log-fields";
import { KieCallbackBody, MAX_CALLBACK_BODY_BYTES, callbackTaskId } from "../schemas/callback";
import { errorResponses } from "../schemas/envelope";
import { callbackTokenVerdict } from "../security/callback-token";
import { verifyProviderSignature } from "../security/provider-signature";
import type { CallbackVerdict } from "../task/receipts";
import { taskObject } from "../task/stub";
import { isValidTaskId } from "../domain/task-id";
import { outcomeFromCallback } from "../upstream/outcome";
import { sendOutcome } from "../upstream/sent-outcome";

export const callbacks = createRouter();

/** What the acknowledgement tells the sender about each accepted delivery. */
const RESULT_WORDS = {
	applied: "applied",
	duplicate: "already-final",
	"not-final": "still-pending",
	"held-early": "held-until-task-stored",
	// The task is no longer live: acknowledged, so the upstream stops, and nothing is kept.
	archived: "task-archived",
	deleted: "task-deleted",
} as const satisfies Record<Exclude<CallbackVerdict, "wrong-ref" | "early-full" | "held-limit" | "d1-unavailable">, string>;
/** How long a callback refused under the overall held-callback bound is told to wait. */
const HELD_LIMIT_RETRY_SECONDS = 60;

const CallbackAck = z.object({
	code: z.literal(200),
	msg: z.literal("success"),
	data: z.object({ taskId: z.string(), result: z.enum(Object.values(RESULT_WORDS)) }),
});

const callbackRoute = createRoute({
	method: "post",
	path: "/{ref}",
	operationId: "receiveUpstreamCallback",
	summary: "Upstream callback receiver",
	description:
		"The callBackUrl the gateway sends upstream (with its token in the query). Idempotent: any number of " +
		"deliveries store one result, and the first final result never changes.",
	tags: ["callbacks"],
	security: [{ callbackToken: [] }],
	request: {
		params: z.object({ ref: z.string().openapi({ description: "Random per create; the token signs it" }) }),
		body: { required: true, content: { "application/json": { schema: KieCallbackBody } } },
	},
	responses: {
		200: { description: "Acknowledged", content: { "application/json": { schema: CallbackAck } } },
		...errorResponses({
			400: "Not JSON, or not the provider's callback schema",
			401: "Token or signature does not verify, or the token was minted for another task",
			413: "Body over 256 KiB",
			429: "Too many callbacks held for a task not stored yet, for its callback URL, or across the gateway (HELD_CALLBACKS_MAX, HELD_CALLBACKS_MAX_BYTES); retry after Retry-After",
			503: "The database could not say in time whose URL this is (a task not stored here); retry shortly",
		}),
	},
});

// Read by hand, like the create body: 413 past 256 KiB and 400 for malformed JSON whatever the
// Content-Type, checked only after the URL token so a forged request costs almost nothing.
callbacks.openAPIRegistry.registerPath(callbackRoute);
callbacks.post("/:ref", async (c) => {
	const ref = c.req.param("ref");
	const config = readConfig(c.env);
	const token = await callbackTokenVerdict(config, ref, c.req.query("token"));
	if (token === "invalid") {
		noteForLog(c.req.raw, { verdict: "refused", reason: "token" });
		throw new GatewayError(401, "This callback URL's token does not verify.");
	}
	const parsed = KieCallbackBody.safeParse(await readJsonBody(c.req.raw, MAX_CALLBACK_BODY_BYTES));
	if (!parsed.success) throw new GatewayError(400, describeCallbackProblem(parsed.error));
	const body = parsed.data;
	// Both spellings are checked when both are sent, as the document says, though task_id wins.
	for (const [field, id] of [["data.task_id", body.data.task_id], ["data.taskId", body.data.taskId]] as const) {
		if (id !== undefined && !isValidTaskId(id)) throw new GatewayError(400, `${field} is not a valid task id.`);
	}
	const taskId = callbackTaskId(body);

	const hmacKey = config.kieWebhookHmacKey;
	if (hmacKey) {
		const check = await verifyProviderSignature(
			hmacKey,
			taskId,
			c.req.header("x-webhook-timestamp"),
			c.req.header("x-webhook-signature"),
			Math.floor(Date.now() / 1000),
		);
		if (!check.ok) {
			noteForLog(c.req.raw, { taskId, verdict: "refused", reason: check.reason });
			throw new GatewayError(401, `The callback signature does not verify: ${check.reason}.`);
		}
	}

	const { verdict, result } = await taskObject(c.env, taskId).receiveCallback(taskId, ref, sendOutcome(outcomeFromCallback(body)), token);
	// The request's one log line says what the callback did (its level follows the status), and
	// the result it decided, if it did.
	noteForLog(c.req.raw, { taskId, verdict, callbackCode: body.code, quiet: verdict === "duplicate", ...result });
	if (verdict === "wrong-ref") throw new GatewayError(401, "This callback URL was minted for another task.");
	if (verdict === "held-limit") {
		throw new GatewayError(
			429,
			`As many callbacks as the gateway allows are held for tasks it has not stored yet. Nothing was stored; retry in ${HELD_LIMIT_RETRY_SECONDS} s.`,
			429,
			{ "retry-after": String(HELD_LIMIT_RETRY_SECONDS) },
		);
	}
	if (verdict === "early-full") {
		throw new GatewayError(429, "Too many callbacks for a task not stored yet. Retry in a few seconds.", 429, {
			"retry-after": "5",
		});
	}
	if (verdict === "d1-unavailable") {
		// Not a refusal: whose URL this is could not be looked up, so the upstream is asked to retry.
		throw new GatewayError(503, "The gateway's database is not answering right now, so this callback was not taken. Retry shortly.", 503, {
			"retry-after": "10",
		});
	}
	return c.json({ code: 200 as const, msg: "success" as const, data: { taskId, result: RESULT_WORDS[verdict] } }, 200);
});

/**
 * The first problem with a callback body, naming the field (zod's own messages do not), e.g.
 * "data.data[0] is missing or is not an object".
 */
function describeCallbackProblem(error: z.ZodError): string {
	const issue = error.issues[0];
	const where =
		issue && issue.path.length > 0
			? issue.path.map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`)).join("")
			: "the body";
	let problem: string;
	if (issue?.code === "invalid_type") {
		const expected = issue.expected === "int" ? "integer" : issue.expected;
		problem = `${where} is missing or is not ${/^[aeiou]/.test(expected) ? "an" : "a"} ${expected}`;
	} else if (issue?.code === "too_big") problem = `${where} is longer than a provider callback's`;
	else problem = issue?.message.replace(/\.$/, "") ?? `${where} is not valid`;
	return `This is not the provider's callback format: ${problem}. Send the body the provider posts (code, msg, data.task_id, data.data).`;
}
