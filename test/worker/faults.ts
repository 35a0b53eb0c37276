/**
 * Fault injection for the tests: bindings that fail or stall as a production outage would, passed
 * as request overrides, so only the request under test sees the fault.
 */
import { env } from "cloudflare:workers";

/** Every method of the binding's objects rejects, as while the objects cannot be reached. */
export function unreachableObjects<B extends keyof Env>(_binding: B): Env[B] {
	const stub = new Proxy({}, { get: () => () => Promise.reject(new Error("Durable Object is overloaded. Requests queued for too long.")) });
	return { getByName: () => stub, idFromName: () => ({}), get: () => stub } as unknown as Env[B];
}

/** The binding's objects, with the named methods replaced (the rest reach the real object). */
export function objectsWith<B extends "IDEMPOTENCY" | "TENANT_QUOTA" | "TASKS">(
	binding: B,
	methods: Record<string, (real: (...args: unknown[]) => Promise<unknown>, ...args: unknown[]) => Promise<unknown>>,
): Env[B] {
	const namespace = env[binding] as unknown as { getByName(name: string): Record<string, (...args: unknown[]) => Promise<unknown>> };
	return {
		getByName(name: string) {
			const real = namespace.getByName(name);
			return new Proxy(real, {
				get(target, prop: string) {
					const replaced = methods[prop];
					const original = (...args: unknown[]) => (target[prop] as (...a: unknown[]) => Promise<unknown>)(...args);
					return replaced ? (...args: unknown[]) => replaced(original, ...args) : original;
				},
			});
		},
	} as unknown as Env[B];
}

/**
 * D1 whose statements matching `match` are slowed by `delayMs` or fail, as when D1 is overloaded;
 * every other statement reaches the real database.
 */
export function d1With(match: RegExp, fault: { delayMs?: number; fail?: boolean }): D1Database {
	const slow = async <T>(work: () => Promise<T>): Promise<T> => {
		if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
		if (fault.fail) throw new Error("D1_ERROR: Network connection lost.");
		return work();
	};
	const wrap = (statement: D1PreparedStatement): D1PreparedStatement =>
		new Proxy(statement, {
			get(target, prop: string) {
				if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
				if (prop === "run" || prop === "first" || prop === "all" || prop === "raw") {
					return (...args: unknown[]) => slow(() => (target[prop] as (...a: unknown[]) => Promise<unknown>).apply(target, args));
				}
				const value = Reflect.get(target, prop);
				return typeof value === "function" ? value.bind(target) : value;
			},
		});
	return new Proxy(env.DB, {
		get(target, prop: string) {
			if (prop === "prepare") return (sql: string) => (match.test(sql) ? wrap(target.prepare(sql)) : target.prepare(sql));
			const value = Reflect.get(target, prop);
			return typeof value === "function" ? value.bind(target) : value;
		},
	});
}
