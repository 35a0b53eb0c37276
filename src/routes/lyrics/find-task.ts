/**
 * Finding a task by its id for a reader: in D1 while it is live; once archived, in the archive
 * (where D1's mark says so, or with no mark at all, 720 hours after the task's creation); never
 * once deleted. Whose it is is checked before the archive is read.
 */
import { getArchivedTask } from "../../archive/archive";
import { findMark } from "../../db/marks";
import { getTask } from "../../db/tasks";
import { type RecordInfo, toRecordInfo } from "../../domain/record-info";

/** The task as record-info answers it, or null when there is none the caller may see. */
export async function findTask(env: Env, taskId: string, maySee: (owner: string | null) => boolean): Promise<RecordInfo | null> {
	const live = await getTask(env.DB, taskId);
	if (live) return maySee(live.owner) ? toRecordInfo(live) : null;
	const mark = await findMark(env.DB, taskId);
	if (mark && (mark.state === "deleted" || !maySee(mark.owner))) return null;
	const archived = await getArchivedTask(env.ARCHIVE, taskId);
	if (!archived || !maySee(archived.owner)) return null;
	return JSON.parse(archived.json) as RecordInfo;
}
