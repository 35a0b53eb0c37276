/**
 * Deleting a task, pending or final, live or archived: DELETE asks, and RETENTION_SECONDS. A live
 * task is deleted by its object (which decides for it, so no callback lands in between); one no
 * longer live by marking it deleted in D1 and removing its archive copy. Either way, once this
 * answers, record-info finds nothing; what a reset left half done (an object's storage, an archive
 * copy) the mark keeps `purge_pending`, and the cron finishes within a tick.
 */
import { archivedOwner, deleteArchivedTasks } from "../archive/archive";
import { findMark, markTask, purged } from "../db/marks";
import { getTaskOwner } from "../db/tasks";
import { taskObject } from "./stub";

export type DeleteOutcome = "deleted" | "not-found";

/** Deletes the task if `mayDelete` its owner (the caller's, or an admin's); throws when storage could not be reached. */
export async function deleteTask(env: Env, taskId: string, mayDelete: (owner: string | null) => boolean): Promise<DeleteOutcome> {
	const live = await getTaskOwner(env.DB, taskId);
	if (live) {
		if (!mayDelete(live.owner)) return "not-found";
		// The object lost its storage (D1 kept the row): delete what D1 and the archive hold.
		if ((await taskObject(env, taskId).delete(taskId)) === "absent") await deleteNotLive(env, { taskId, ...live });
		return "deleted";
	}
	const mark = await findMark(env.DB, taskId);
	if (mark) {
		if (mark.state === "deleted" || !mayDelete(mark.owner)) return "not-found";
		await deleteNotLive(env, mark);
		return "deleted";
	}
	// Archived more than 720 hours after its creation: only the archive knows it.
	const owner = await archivedOwner(env.ARCHIVE, taskId);
	if (owner === undefined || !mayDelete(owner)) return "not-found";
	await deleteArchivedTasks(env.ARCHIVE, [taskId]);
	return "deleted";
}

/** Marks the task deleted (this answers for it from now on), then removes its archive copy, leaving that to the cron if it fails. */
export async function deleteNotLive(env: Env, task: { taskId: string; owner: string | null; createdAt: number }): Promise<void> {
	await markTask(env.DB, { ...task, state: "deleted" }, Date.now());
	try {
		await deleteArchivedTasks(env.ARCHIVE, [task.taskId]);
		await purged(env.DB, [task.taskId]);
	} catch {
		// purge_pending stays set: the cron removes the copy within a tick.
	}
}
