/** /api/v1/lyrics: create a task, read one back, list them. Bearer auth is applied in app.ts. */
import { createRoute } from "@hono/zod-openapi";
import { readConfig } from "../config/config";
import { getTask, listTasks } from "../db/tasks";
import { noteForLog } from "./shared/log-fields";
import { GatewayError } from "./shared/errors";
import { readJsonBody } from "./shared/body";
import { createRouter, parseOrThrow } from "./shared/router";
import { isRecord } from "../lib/json";
import { errorResponses, successEnvelope } from "../schemas/envelope";
import {
	CreateLyricsBody,
	CreateLyricsData,
	CreateLyricsHeaders,
	ListTasksQuery,
	MAX_CREATE_BODY_BYTES,
	MAX_PROMPT_WORDS,
	TaskIdQuery,
	TaskListData,
	TaskRecordSchema,
	countWords,
} from "../schemas/lyrics";
import { idempotencyScope, requestFingerprint } from "../idempotency/idempotency-key";
import { createTask } from "../create/create-task";
import { failureAnswer } from "./create-answer";
import { type Tenant, canSee } from "../tenants/tenant";
import { callbackUrlRefusal } from "../webhooks/target";
import { holdsSecret } from "../security/redact";
import { decodeCursor, encodeCursor } from "./cursor";
import { toRecordInfo } from "./task-view";

export const lyrics = createRouter();

const security = [{ bearerAuth: [] }];
const tags = ["lyrics"];

const createLyricsRoute = createRoute({
	method: "post",
	path: "/",
	operationId: "createLyricsTask",
	summary: "Create a lyrics task",
	description:
		"Forwards the prompt upstream with the gateway's own callback URL and stores the task. " +
		"The result arrives by callback (or the gateway's poller) and is served by record-info.",
	tags,
	security,
	request: {
		headers: CreateLyricsHeaders,
		body: { required: true, content: { "application/json": { schema: CreateLyricsBody } } },
	},
	responses: {
		200: {
			description: "Task created upstream and stored (or, for a repeated Idempotency-Key, the first create's task)",
			headers: {
				"Idempotent-Replayed": {
					description: '"true" when this answer repeats an earlier create with the same Idempotency-Key',
					schema: { type: "string", enum: ["true"] },
				},
			},
			content: { "application/json": { schema: successEnvelope(CreateLyricsData) } },
		},
		...errorResponses({
			400: "Malformed JSON, missing/empty/non-string prompt, a bad or internal callBackUrl, or a bad Idempotency-Key",
			401: "Missing or wrong bearer token",
			402: "Upstream: insufficient credits (code 429)",
			413: `Prompt over ${MAX_PROMPT_WORDS} words, or body over 64 KiB`,
			422: "The Idempotency-Key was used with a different body in the last 24 hours",
			429:
				"Upstream rate limited (code 405 or 430), the gateway's own KIE_CREATE_LIMIT per 10 s, or the tenant's daily quota " +
				"(TENANT_QUOTAS) (code 429, with Retry-After)",
			502: "Upstream error, unreachable or unintelligible (code 500 or 502)",
			503: "Upstream maintenance (code 455), or the gateway is not configured (code 503)",
			504: "Upstream did not answer in time",
		}, { 402: 429 }),
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
	const callbackUrl = body.callBackUrl ?? null;
	if (callbackUrl) {
		const problem = await callbackUrlRefusal(callbackUrl, config);
		if (problem) throw new GatewayError(400, problem.endsWith(".") ? problem : `${problem}.`);
	}
	const { "Idempotency-Key": idempotencyKey } = parseOrThrow(CreateLyricsHeaders, {
		"Idempotency-Key": c.req.header("idempotency-key"),
	});
	const tenant = c.get("tenant").name;
	const idempotency = idempotencyKey
		? {
				scope: await idempotencyScope(tenant, idempotencyKey),
				fingerprint: await requestFingerprint({ prompt: body.prompt, callbackUrl }),
			}
		: null;
	const background = (work: Promise<unknown>) => c.executionCtx.waitUntil(work.catch(() => undefined));
	const work = createTask(c.env, config, { prompt: body.prompt, callbackUrl, owner: tenant, idempotencyKey: idempotency }, background);
	// Finish even if the client hangs up: once the upstream answers, a credit is spent.
	background(work);
	const outcome = await work;
	if (!outcome.ok) throw failureAnswer(outcome.failure);
	noteForLog(c.req.raw, { taskId: outcome.taskId });
	const replayed = outcome.replayed ? { "idempotent-replayed": "true" } : undefined;
	return c.json({ code: 200 as const, msg: "success" as const, data: { taskId: outcome.taskId } }, 200, replayed);
});

const recordInfoRoute = createRoute({
	method: "get",
	path: "/record-info",
	operationId: "getLyricsTask",
	summary: "Get a task",
	description:
		"The task in the provider's record-info shape, from D1, for as long as it is stored. A result is " +
		"here before the upstream's callback is answered. Counters and bookkeeping that are not a result " +
		"(callbacksReceived after a duplicate or not-final callback, and the next poll time) are coalesced " +
		"by the task's object and reach D1 within a few seconds, so they may briefly lag behind. A duplicate's " +
		"count waits in the object's memory until then: should the object restart within those seconds, " +
		"callbacksReceived misses it (a result is always stored before its callback is answered).",
	tags,
	security,
	request: { query: TaskIdQuery },
	responses: {
		200: { description: "The task", content: { "application/json": { schema: successEnvelope(TaskRecordSchema) } } },
		...errorResponses({
			400: "Missing taskId",
			401: "Missing or wrong bearer token",
			404: "Unknown taskId, or another tenant's task (the same answer)",
		}),
	},
});

lyrics.openapi(recordInfoRoute, async (c) => {
	const { taskId } = c.req.valid("query");
	const task = await getTask(c.env.DB, taskId);
	// Another tenant's task answers exactly as an unknown id: its existence is not theirs to learn.
	if (!task || !canSee(c.get("tenant"), task.owner)) {
		// Quoted back so a client sees what arrived, but never more than a real id could be long,
		// and never when it holds one of the gateway's secrets (an answer echoes no secret).
		if (holdsSecret(taskId, readConfig(c.env))) throw new GatewayError(404, "No task with that taskId. Check the id you got from the create call.");
		const shown = taskId.length > 80 ? `${taskId.slice(0, 80)}…` : taskId;
		throw new GatewayError(404, `No task with taskId ${JSON.stringify(shown)}. Check the id you got from the create call.`);
	}
	return c.json({ code: 200 as const, msg: "success" as const, data: toRecordInfo(task) }, 200);
});

const listTasksRoute = createRoute({
	method: "get",
	path: "/tasks",
	operationId: "listLyricsTasks",
	summary: "List tasks",
	description:
		"Newest first, the caller's own tasks only (admin keys: every tenant's, or one with ?owner=). " +
		"Every task appears exactly once across pages, also while new tasks arrive: follow data.nextCursor until it is null.",
	tags,
	security,
	request: { query: ListTasksQuery },
	responses: {
		200: { description: "One page of tasks", content: { "application/json": { schema: successEnvelope(TaskListData) } } },
		...errorResponses({
			400: "Bad status, limit or cursor",
			401: "Missing or wrong bearer token",
			403: "A client key named another tenant in ?owner=",
		}),
	},
});

lyrics.openapi(listTasksRoute, async (c) => {
	const { status, limit, cursor, owner } = c.req.valid("query");
	const page = await listTasks(c.env.DB, {
		status,
		limit,
		owner: listOwner(c.get("tenant"), owner),
		beforeSeq: cursor ? decodeCursor(cursor) : undefined,
	});
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

/**
 * Whose tasks a list holds: a client's own, whatever it sends (the filter is in the query, so no
 * cursor can lead out of it); an admin's choice of tenant, or every task.
 */
function listOwner(tenant: Tenant, owner: string | undefined): string | undefined {
	if (tenant.admin) return owner;
	if (owner !== undefined && owner !== tenant.name) {
		throw new GatewayError(403, "A client key may list only its own tenant's tasks: leave owner out, or name your own tenant.");
	}
	return tenant.name;
}
