/**
 * The Worker: HTTP routes (routes/ → create/ → task/ → db/), the Cron Trigger's tick (cron/ →
 * task/), and the Durable Object classes: one per task (task/, which also delivers to clients'
 * webhooks via webhooks/), one per Idempotency-Key (idempotency/), one per upstream key keeping
 * creates within its rate limit (create/), one counting every tenant's creates per day (tenants/),
 * and one bounding callbacks held for tasks not stored yet (early-callbacks/).
 */
import { app } from "./routes/app";
import { runTick } from "./cron/tick";

export { IdempotencyObject } from "./idempotency/idempotency-object";
export { CreateRateLimiter } from "./create/create-rate-limiter";
export { HeldCallbackBudget } from "./early-callbacks";
export { TaskObject } from "./task/task-object";
export { TenantQuota } from "./tenants/quota-object";

export default {
	fetch: app.fetch,
	async scheduled(controller, env) {
		await runTick(env, controller.scheduledTime);
	},
} satisfies ExportedHandler<Env>;
