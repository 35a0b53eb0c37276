/** GET /api/v1/lyrics/tasks (the caller's live tasks, newest first) and DELETE /api/v1/lyrics/tasks/{taskId}. */
import { createRoute } from "@hono/zod-openapi";
import { listTasks } from "../../db/tasks";
import { toRecordInfo } from "../../domain/record-info";
import { errorResponses, successEnvelope } from "../../schemas/envelope";
import { DeletedTaskData, ListTasksQuery, TaskIdPath, TaskListData } from "../../schemas/lyrics";
import { deleteTask } from "../../task/delete-task";
import { type Tenant, canSee } from "../../tenants/tenant";
import { readConfig } from "../../config/config";
import { decodeCursor, encodeCursor, listName } from "../cursor";
import { GatewayError } from "../http/errors";
import { noteForLog } from "../http/log-fields";
import { createRouter } from "../http/router";

export const tasks = createRouter();

const security = [{ bearerAuth: [] }];
const tags = ["lyrics"];

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

tasks.openapi(listTasksRoute, async (c) => {
	const { status, limit, cursor, owner } = c.req.valid("query");
	const config = readConfig(c.env);
	const whose = listOwner(c.get("tenant"), owner);
	const list = listName(whose, status);
	const page = await listTasks(c.env.DB, { status, limit, owner: whose, beforeSeq: cursor ? await decodeCursor(config, cursor, list) : undefined });
	const last = page.tasks.at(-1);
	const nextCursor = page.hasMore && last ? await encodeCursor(config, last.seq, list) : null;
	return c.json({ code: 200 as const, msg: "success" as const, data: { items: page.tasks.map(toRecordInfo), nextCursor } }, 200);
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

const deleteTaskRoute = createRoute({
	method: "delete",
	path: "/tasks/{taskId}",
	operationId: "deleteLyricsTask",
	summary: "Delete a task",
	description:
		"Deletes a task, pending or final, live or archived: the owner's key or an admin key. From then on record-info " +
		"answers 404 and lists omit it, a delivery to its callBackUrl not yet made is never made, and a later upstream " +
		"callback for it is acknowledged and stores nothing. Within one cron tick nothing the gateway stores holds its " +
		"prompt or lyrics. Deleting a pending task does not refund its credit (the upstream has no such call).",
	tags,
	security,
	request: { params: TaskIdPath },
	responses: {
		200: { description: "Deleted", content: { "application/json": { schema: successEnvelope(DeletedTaskData) } } },
		...errorResponses({
			400: "Missing taskId",
			401: "Missing or wrong bearer token",
			404: "Unknown or already deleted taskId, or another tenant's task (the same answer)",
			503: "The gateway's storage could not be reached; nothing was deleted, retry shortly",
		}),
	},
});

tasks.openapi(deleteTaskRoute, async (c) => {
	const { taskId } = c.req.valid("param");
	noteForLog(c.req.raw, { taskId });
	const outcome = await deleteTask(c.env, taskId, (owner) => canSee(c.get("tenant"), owner)).catch(() => "unavailable" as const);
	if (outcome === "not-found") throw new GatewayError(404, "No task with that taskId to delete. Check the id you got from the create call.");
	if (outcome === "unavailable") {
		throw new GatewayError(503, "The gateway's storage did not answer, so nothing was deleted. Retry in a moment.", 503, { "retry-after": "5" });
	}
	return c.json({ code: 200 as const, msg: "success" as const, data: { taskId } }, 200);
});
