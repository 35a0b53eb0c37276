/**
 * The end-to-end project's world: the gateway under `wrangler dev` (fresh local D1 in a temp
 * folder) and the simulator, talking over real HTTP, with callbacks signed as the provider does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { DEV_ADMIN_API_KEY, DEV_API_KEY, DEV_WEBHOOK_SIGNING_KEY, startLocalStack } from "../../scripts/local-stack.mjs";

declare module "vitest" {
	export interface ProvidedContext {
		gatewayUrl: string;
		simulatorUrl: string;
		apiKey: string;
		adminApiKey: string;
		/** Keys of the tenants the tenant tests use: acme (two keys), rival, and capped (TENANT_QUOTAS 3). */
		tenantKeys: typeof E2E_TENANT_KEYS;
		webhookSigningKey: string;
	}
}

export const E2E_HMAC_KEY = "e2e-provider-hmac-key";
const E2E_TENANT_KEYS = { acme: ["e2e-acme-key-1", "e2e-acme-key-2"], rival: "e2e-rival-key", capped: "e2e-capped-key" };
/** The daily quota of tenant "capped". */
export const E2E_CAPPED_QUOTA = 3;

export default async function setup(project: TestProject) {
	const persistTo = mkdtempSync(join(tmpdir(), "lyrics-gateway-e2e-"));
	const stack = await startLocalStack({
		port: 0,
		simulatorPort: 0,
		inspectorPort: 0,
		persistTo,
		callbackDelayMs: 300,
		simulatorHmacKey: E2E_HMAC_KEY,
		vars: {
			KIE_WEBHOOK_HMAC_KEY: E2E_HMAC_KEY,
			// Poll as soon as the cron runs, so the lost-callback path takes seconds, not minutes.
			POLL_GRACE_SECONDS: "0",
			// And all of a tick's polls at once: other files' pending tasks must not push this one's back.
			POLL_SPREAD_SECONDS: "0",
			UPSTREAM_TIMEOUT_MS: "2000",
			// Client webhook retries after 1 s (three of them) with a 1 s deadline, so a test sees
			// retries and give-ups in seconds; the default schedule spans a day.
			WEBHOOK_RETRY_SCHEDULE: "1,1,1",
			WEBHOOK_TIMEOUT_MS: "1000",
			// Files share this gateway; the limit is tested on a gateway of its own
			// (production-config.test.ts), so here no test's creates are refused for another's.
			KIE_CREATE_LIMIT: "100000",
			// Several tenants, one with a daily quota; the admin key is the dev stack's own.
			API_KEYS: [
				`dev:${DEV_API_KEY}`,
				...E2E_TENANT_KEYS.acme.map((key) => `acme:${key}`),
				`rival:${E2E_TENANT_KEYS.rival}`,
				`capped:${E2E_TENANT_KEYS.capped}`,
			].join(","),
			TENANT_QUOTAS: `capped:${E2E_CAPPED_QUOTA}`,
		},
	});
	project.provide("gatewayUrl", stack.url);
	project.provide("simulatorUrl", stack.simulatorUrl);
	project.provide("apiKey", DEV_API_KEY);
	project.provide("adminApiKey", DEV_ADMIN_API_KEY);
	project.provide("tenantKeys", E2E_TENANT_KEYS);
	project.provide("webhookSigningKey", stack.vars.WEBHOOK_SIGNING_KEY ?? DEV_WEBHOOK_SIGNING_KEY);
	return async () => {
		await stack.close();
		rmSync(persistTo, { recursive: true, force: true });
	};
}
