/**
 * The gateway as the cost bench runs it (bench/cost.mjs): src/index.ts unchanged, its bindings
 * and Durable Object classes wrapped so every billable operation is counted (./meter.ts), and one
 * route of its own, GET /__meter (POST to start counting afresh). Never deployed: the bench starts
 * it under `wrangler dev` with a copy of wrangler.toml whose `main` points here.
 */
import gateway, * as classes from "../../src/index";
import { active, counts, objectCounts, reset } from "./meter";
import { meterStorage, meteredEnv } from "./metered-bindings";

type ObjectClass = new (ctx: DurableObjectState, env: Env) => object;

/** The class, with its storage and bindings counted and its alarms counted and timed. */
function metered<C extends ObjectClass>(Base: C, className: string): C {
	const Metered = class extends (Base as ObjectClass) {
		constructor(ctx: DurableObjectState, env: Env) {
			meterStorage(ctx, className);
			super(ctx, meteredEnv(env));
		}

		async alarm(...args: unknown[]): Promise<void> {
			const base = (Base.prototype as { alarm?: (...a: unknown[]) => Promise<void> }).alarm;
			if (!base) return;
			counts.invocations.alarm++;
			objectCounts(className).alarms++;
			const startedAt = Date.now();
			try {
				await base.apply(this, args);
			} finally {
				active(className, (this as unknown as { ctx: DurableObjectState }).ctx.id.toString(), startedAt, Date.now());
			}
		}
	};
	return Metered as unknown as C;
}

export const TaskObject = metered(classes.TaskObject, "TaskObject");
export const IdempotencyObject = metered(classes.IdempotencyObject, "IdempotencyObject");
export const CreateRateLimiter = metered(classes.CreateRateLimiter, "CreateRateLimiter");
export const HeldCallbackBudget = metered(classes.HeldCallbackBudget, "HeldCallbackBudget");
export const TenantQuota = metered(classes.TenantQuota, "TenantQuota");

export default {
	async fetch(request, env, ctx) {
		if (new URL(request.url).pathname === "/__meter") {
			if (request.method === "POST") reset();
			return Response.json(counts);
		}
		counts.invocations.fetch++;
		return gateway.fetch(request, meteredEnv(env), ctx);
	},
	async scheduled(controller, env) {
		counts.invocations.scheduled++;
		await gateway.scheduled(controller, meteredEnv(env));
	},
} satisfies ExportedHandler<Env>;
