/**
 * The Worker: HTTP routes (routes/ → task/ → db/), the cron poller (cron/ → task/), and the
 * per-task Durable Object class.
 */
import { app } from "./app";
import { pollPendingTasks } from "./cron/poll-pending";

export { TaskObject } from "./task/task-object";

export default {
	fetch: app.fetch,
	async scheduled(controller, env) {
		await pollPendingTasks(env, controller.scheduledTime);
	},
} satisfies ExportedHandler<Env>;
