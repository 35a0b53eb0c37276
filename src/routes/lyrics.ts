/** /api/v1/lyrics: create a task, read one back, list them. Bearer auth is applied in app.ts. */
import { createRoute } from "@hono/zod-openapi";
import { readConfig } from "../config";
import { getTask, listTasks } from "../db/tasks";
import { GatewayError } from "../http/errors";
import { readJsonBody } from "../http/body";
import { createRouter, parseOrThrow } from "../http/router";
import { isRecord } from "../upstream/http";
import { logEvent } from "../log";
import { errorResponses, successEnvelope } from "../schemas/envelope";
import {
	CreateLyricsBody,
	CreateLyricsData,
	ListTasksQuery,
	MAX_CREATE_BODY_BYTES,
	MAX_PROMPT_WORDS,
	TaskIdQuery,
	TaskListData,
	TaskRecordSchema,
	countWords,
} from "../schemas/lyrics";
import { callbackTokenSecret, mintCallbackTarget } from "../security/callback-token";
import { taskObject } from "../task/stub";
import { createLyricsTask } from "../upstream/kie-client";
import { decodeCursor, encodeCursor } from "./cursor";
import { toRecordInfo } from "./task-view";

export const lyrics = createRouter();

const security = [{ bearerAuth: [] }];

export const createLyricsRoute = createRoute({
	method: "post",
	path: "/",
	summary: "Create a lyrics task",
	description:
		"Forwards the prompt upstream with the gateway's own callback URL and stores the task. " +
		"The result arrives by callback (or the gateway's poller) and is served by record-info.",
	security,
	request: {
		body: { required: true, content: { "application/json": { schema: CreateLyricsBody } } },
	},
	responses: {
		200: {
			description: "Task created upstream and stored",
			content: { "application/json": { schema: successEnvelope(CreateLyricsData) } },
		},
		...errorResponses({
			400: "Malformed JSON, missing/empty/non-string prompt, or a bad callBackUrl",
			401: "Missing or wrong bearer token",
			402: "Upstream: insufficient credits (code 429)",
			413: `Prompt over ${MAX_PROMPT_WORDS} words, or body over 64 KiB`,
			429: "Upstream rate limited (code 405 or 430)",
			502: "Upstream error, unreachable or unintelligible (code 500 or 502)",
			503: "Upstream maintenance (code 455), or the gateway is not configured (code 503)",
			504: "Upstream did not answer in time",
		}),
	},
});

// The body is read by hand rather than by the route's validator: the contract wants 413 for a
// body over 64 KiB and for a prompt over 200 words, and 400 for malformed JSON whatever the
// Content-Type says. The schema is the same one the OpenAPI document shows.
lyrics.openAPIRegistry.registerPath(createLyricsRoute);
lyrics.post("/", async (c) => {
	const config = readConfig(c.env);
	const raw = await readJsonBody(c.req.raw, MAX_CREATE_BODY_BYTES);
	if (!isRecord(raw)) throw new GatewayError(400, 'The body must be a JSON object like {"prompt": "…"}.');
	const body = parseOrThrow(CreateLyricsBody, raw);
	const words = countWords(body.prompt);
	if (words > MAX_PROMPT_WORDS) {
		throw new GatewayError(413, `The prompt has ${words} words; the limit is ${MAX_PROMPT_WORDS}. Shorten it.`);
	}
	const tokenSecret = callbackTokenSecret(c.env);
	if (!config.kieApiKey || !tokenSecret) {
		throw new GatewayError(503, "The gateway has no upstream API key (KIE_API_KEY), so it cannot create tasks yet.");
	}
	if (!config.publicUrl) {
		throw new GatewayError(503, "The gateway has no PUBLIC_URL configured, so the upstream could not call it back.");
	}

	const target = await mintCallbackTarget(config.publicUrl, tokenSecret);
	const started = Date.now();
	const created = await createLyricsTask(config, config.kieApiKey, { prompt: body.prompt, callBackUrl: target.url });
	if (!created.ok) {
		const { failure } = created;
		logEvent("warn", "create_failed", { upstream: failure.upstream, status: failure.status, ms: Date.now() - started });
		throw new GatewayError(
			failure.status,
			failure.msg,
			failure.code,
			failure.retryAfter ? { "retry-after": failure.retryAfter } : {},
		);
	}

	await registerWithRetry(c.env, {
		taskId: created.taskId,
		ref: target.ref,
		prompt: body.prompt,
		callbackUrl: body.callBackUrl ?? null,
		createdAt: started,
	});
	logEvent("info", "task_created", { taskId: created.taskId, ms: Date.now() - started });
	return c.json({ code: 200 as const, msg: "success" as const, data: { taskId: created.taskId } }, 200);
});

/**
 * The upstream has already spent a credit on this task, so a passing failure to reach its
 * object is retried rather than reported.
 */
async function registerWithRetry(env: Env, input: Parameters<ReturnType<typeof taskObject>["register"]>[0]) {
	for (let attempt = 1; ; attempt++) {
		try {
			return await taskObject(env, input.taskId).register(input);
		} catch (error) {
			logEvent("error", "register_failed", {
				taskId: input.taskId,
				attempt,
				error: error instanceof Error ? error.message : String(error),
			});
			if (attempt >= 3) {
				throw new GatewayError(
					503,
					`The upstream created task ${input.taskId} but the gateway could not record it. Try again in a moment.`,
				);
			}
			await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
		}
	}
}

const recordInfoRoute = createRoute({
	method: "get",
	path: "/record-info",
	summary: "Get a task",
	description: "The task in the provider's record-info shape, from D1, for as long as it is stored.",
	security,
	request: { query: TaskIdQuery },
	responses: {
		200: { description: "The task", content: { "application/json": { schema: successEnvelope(TaskRecordSchema) } } },
		...errorResponses({ 400: "Missing taskId", 401: "Missing or wrong bearer token", 404: "Unknown taskId" }),
	},
});

lyrics.openapi(recordInfoRoute, async (c) => {
	const { taskId } = c.req.valid("query");
	const task = await getTask(c.env.DB, taskId);
	if (!task) throw new GatewayError(404, `No task with taskId ${JSON.stringify(taskId)}. Check the id you got from the create call.`);
	return c.json({ code: 200 as const, msg: "success" as const, data: toRecordInfo(task) }, 200);
});

const listTasksRoute = createRoute({
	method: "get",
	path: "/tasks",
	summary: "List tasks",
	description:
		"Newest first. Every task appears exactly once across pages, also while new tasks arrive: " +
		"follow data.nextCursor until it is null.",
	security,
	request: { query: ListTasksQuery },
	responses: {
		200: { description: "One page of tasks", content: { "application/json": { schema: successEnvelope(TaskListData) } } },
		...errorResponses({ 400: "Bad status, limit or cursor", 401: "Missing or wrong bearer token" }),
	},
});

lyrics.openapi(listTasksRoute, async (c) => {
	const { status, limit, cursor } = c.req.valid("query");
	const page = await listTasks(c.env.DB, { status, limit, beforeSeq: cursor ? decodeCursor(cursor) : undefined });
	const last = page.tasks.at(-1);
	return c.json(
		{
			code: 200 as const,
			msg: "success" as const,
			data: { items: page.tasks.map(toRecordInfo), nextCursor: page.hasMore && last ? encodeCursor(last.seq) : null },
		},
		200,
	);
});
