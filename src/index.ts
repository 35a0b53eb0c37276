/**
 * The Worker: HTTP routes (routes/ → task/ → db/), the cron poller (cron/ → task/), and the
 * Durable Object classes: one per task (task/, which also delivers to clients' webhooks via
 * webhooks/), one per Idempotency-Key (idempotency/), one per upstream key (ratelimit/), one
 * counting every tenant's creates per day (tenants/), and one bounding callbacks held for tasks
 * not stored yet (ratelimit/).
 */
import { app } from "./routes/app";
import { pollPendingTasks } from "./cron/tick";

export { IdempotencyObject } from "./idempotency/idempotency-object";
export { CreateRateLimiter } from "./create/create-rate-limiter";
export { HeldCallbackBudget } from "./early-callbacks/held-callback-budget";
export { TaskObject } from "./task/task-object";
export { TenantQuota } from "./tenants/quota-object";

export default {
	fetch: app.fetch,
	async scheduled(controller, env) {
		await pollPendingTasks(env, controller.scheduledTime);
	},
} satisfies ExportedHandler<Env>;
