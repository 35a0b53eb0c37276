/** GET /api/v1/lyrics/record-info: one task, from D1 while it is live, from the archive once archived. */
import { createRoute } from "@hono/zod-openapi";
import { readConfig } from "../../config/config";
import { errorResponses, successEnvelope } from "../../schemas/envelope";
import { TaskIdQuery, TaskRecordSchema } from "../../schemas/lyrics";
import { holdsSecret } from "../../security/redact";
import { canSee } from "../../tenants/tenant";
import { GatewayError } from "../http/errors";
import { createRouter } from "../http/router";
import { findTask } from "./find-task";

export const recordInfo = createRouter();

const security = [{ bearerAuth: [] }];
const tags = ["lyrics"];

const recordInfoRoute = createRoute({
	method: "get",
	path: "/record-info",
	operationId: "getLyricsTask",
	summary: "Get a task",
	description:
		"The task in the provider's record-info shape, for as long as it is kept: from D1 while it is live, from the " +
		"archive once archived (the same data either way). A result is " +
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
			404: "Unknown or deleted taskId, or another tenant's task (the same answer)",
		}),
	},
});

recordInfo.openapi(recordInfoRoute, async (c) => {
	const { taskId } = c.req.valid("query");
	// Another tenant's task answers exactly as an unknown id: its existence is not theirs to learn.
	const task = await findTask(c.env, taskId, (owner) => canSee(c.get("tenant"), owner));
	if (!task) {
		// Quoted back so a client sees what arrived, but never more than a real id could be long,
		// and never when it holds one of the gateway's secrets (an answer echoes no secret).
		if (holdsSecret(taskId, readConfig(c.env))) throw new GatewayError(404, "No task with that taskId. Check the id you got from the create call.");
		const shown = taskId.length > 80 ? `${taskId.slice(0, 80)}…` : taskId;
		throw new GatewayError(404, `No task with taskId ${JSON.stringify(shown)}. Check the id you got from the create call.`);
	}
	return c.json({ code: 200 as const, msg: "success" as const, data: task }, 200);
});
