/** The Durable Object that owns a task, addressed by the upstream's taskId. */
export function taskObject(env: Env, taskId: string) {
	return env.TASKS.getByName(taskId);
}
