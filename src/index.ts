/**
 * The Worker: HTTP routes (routes/ → create/ → task/ → db/), the Cron Trigger's tick (cron/ →
 * task/), and the Durable Object classes: one per task (task/, which also delivers to clients'
 * webhooks via webhooks/), one per Idempotency-Key (idempotency/), one keeping the deployment's
 * creates within the upstream's rate limit (create/), one counting every tenant's creates per day (tenants/),
 * and one bounding callbacks held for tasks not stored yet (early-callbacks/).
 */
import { runTick } from "./cron/tick";

export { IdempotencyObject } from "./idempotency/idempotency-object";
export { CreateRateLimiter } from "./create/create-rate-limiter";
export { HeldCallbackBudget } from "./early-callbacks";
export { TaskObject } from "./task/task-object";
export { TenantQuota } from "./tenants/quota-object";

/**
 * The HTTP app (every route, its schemas and the OpenAPI document) is built on the first request an
 * isolate serves, not when the isolate starts: a cold start evaluates only what the Durable
 * Objects and the cron need, and an isolate woken for an alarm never builds the routes at all.
 */
let routes: Promise<typeof import("./routes/app")> | undefined;

export default {
	async fetch(request: Request, env: Env, ctx: ExecutionContext) {
		const { app } = await (routes ??= import("./routes/app"));
		return app.fetch(request, env, ctx);
	},
	async scheduled(controller, env) {
		await runTick(env, controller.scheduledTime);
	},
} satisfies ExportedHandler<Env>;
