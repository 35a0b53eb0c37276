/**
 * What the gateway accepts as an upstream task id. It names a Durable Object, a D1 key and a
 * query parameter, so it is kept to URL-safe characters without path separators, of sane
 * length. The provider's ids are 32 hex characters; UUIDs and similar fit too.
 */
export const MAX_TASK_ID_LENGTH = 256;
export const TASK_ID_PATTERN = /^[A-Za-z0-9._:-]+$/;

export function isValidTaskId(taskId: string): boolean {
	return taskId.length <= MAX_TASK_ID_LENGTH && TASK_ID_PATTERN.test(taskId);
}
