/** POST /api/v1/lyrics: create a task (./index.ts mounts it; bearer auth is applied in routes/app.ts). */
import { createRoute } from "@hono/zod-openapi";
import { readConfig } from "../../config/config";
import { createTask } from "../../create/create-task";
import { idempotencyScope, requestFingerprint } from "../../idempotency/idempotency-key";
import { isRecord } from "../../lib/json";
import { errorResponses, successEnvelope } from "../../schemas/envelope";
import { CreateLyricsBody, CreateLyricsData, CreateLyricsHeaders, MAX_CREATE_BODY_BYTES, MAX_PROMPT_WORDS, countWords } from "../../schemas/lyrics";
import { callbackUrlRefusal } from "../../webhooks/target";
import { failureAnswer } from "../create-answer";
import { readJsonBody } from "../http/body";
import { GatewayError } from "../http/errors";
import { noteForLog } from "../http/log-fields";
import { createRouter, parseOrThrow } from "../http/router";

export const create = createRouter();

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
create.openAPIRegistry.registerPath(createLyricsRoute);
create.post("/", async (c) => {
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
