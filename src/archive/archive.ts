/**
 * The archive: an R2 bucket (binding ARCHIVE) that holds each task once it is no longer live,
 * exactly as record-info answers it, under `tasks/<taskId>.json`, for as long as the task is
 * kept. Its owner and creation time ride along as custom metadata, so a lookup or a delete can
 * check whose it is without reading it.
 *
 * Beside the tasks, one index object per creation hour (`index/created/<hour>.json`) lists the
 * archived tasks of that hour, written when D1 drops their marks (720 hours on): the one way left
 * to find them by age, for RETENTION_SECONDS.
 */
import type { RecordInfo } from "../domain/record-info";
import { isValidTaskId } from "../domain/task-id";

const TASKS = "tasks/";
const HOUR_INDEX = "index/created/";
/** R2 deletes at most this many keys in one call. */
const MAX_KEYS_PER_DELETE = 1000;

export function archiveKey(taskId: string): string {
	return `${TASKS}${taskId}.json`;
}

export interface ArchivedTask {
	owner: string | null;
	/** The record-info `data` JSON, as stored. */
	json: string;
}

export async function putArchivedTask(bucket: R2Bucket, record: RecordInfo): Promise<void> {
	await bucket.put(archiveKey(record.taskId), JSON.stringify(record), {
		httpMetadata: { contentType: "application/json" },
		customMetadata: { owner: record.owner ?? "", createdAt: String(record.createTime) },
	});
}

/** The archived task; null when the archive does not hold it (or the id could be no task's). */
export async function getArchivedTask(bucket: R2Bucket, taskId: string): Promise<ArchivedTask | null> {
	if (!isValidTaskId(taskId)) return null;
	const object = await bucket.get(archiveKey(taskId));
	if (!object) return null;
	return { owner: ownerOf(object), json: await object.text() };
}

/** Whose the archived task is, without reading it; undefined when the archive does not hold it. */
export async function archivedOwner(bucket: R2Bucket, taskId: string): Promise<string | null | undefined> {
	if (!isValidTaskId(taskId)) return undefined;
	const head = await bucket.head(archiveKey(taskId));
	return head ? ownerOf(head) : undefined;
}

export async function deleteArchivedTasks(bucket: R2Bucket, taskIds: string[]): Promise<void> {
	for (let start = 0; start < taskIds.length; start += MAX_KEYS_PER_DELETE) {
		await bucket.delete(taskIds.slice(start, start + MAX_KEYS_PER_DELETE).map(archiveKey));
	}
}

function ownerOf(object: R2Object): string | null {
	return object.customMetadata?.owner || null;
}

/** Hours are zero-padded so the index lists in age order. */
function hourIndexKey(hour: number): string {
	return `${HOUR_INDEX}${String(hour).padStart(10, "0")}.json`;
}

/** Adds archived task ids to their creation hour's index (merging with what it lists already). */
export async function indexHour(bucket: R2Bucket, hour: number, taskIds: string[]): Promise<void> {
	if (taskIds.length === 0) return;
	const listed = await indexedTasks(bucket, hour);
	const all = [...new Set([...listed, ...taskIds])];
	await bucket.put(hourIndexKey(hour), JSON.stringify(all), { httpMetadata: { contentType: "application/json" } });
}

export async function indexedTasks(bucket: R2Bucket, hour: number): Promise<string[]> {
	const object = await bucket.get(hourIndexKey(hour));
	return object ? ((await object.json()) as string[]) : [];
}

/** The oldest hour with an index, or null. */
export async function oldestIndexedHour(bucket: R2Bucket): Promise<number | null> {
	const listed = await bucket.list({ prefix: HOUR_INDEX, limit: 1 });
	const key = listed.objects[0]?.key;
	return key ? Number(key.slice(HOUR_INDEX.length, -".json".length)) : null;
}

export async function dropHourIndex(bucket: R2Bucket, hour: number): Promise<void> {
	await bucket.delete(hourIndexKey(hour));
}
