// Secrets and optional variables that `wrangler types` cannot see in wrangler.toml
// (secrets live in `.dev.vars` locally and `wrangler secret put` in production).
interface GatewaySecrets {
	/** Bearer key for the upstream; without it creates answer 503. */
	KIE_API_KEY?: string;
	/** Comma-separated `name:key` or bare keys accepted on /api/*; without any key every /api/* call answers 401. */
	API_KEYS?: string;
	/** Operator keys, same format as API_KEYS: every tenant's tasks and usage. */
	ADMIN_API_KEYS?: string;
	/** Comma-separated `name:N` (`*:N` for the rest): creates per UTC day per tenant. */
	TENANT_QUOTAS?: string;
	/** When set, upstream callbacks must carry a valid provider signature. */
	KIE_WEBHOOK_HMAC_KEY?: string;
	/** Signs deliveries to clients' own callback URLs. */
	WEBHOOK_SIGNING_KEY?: string;
	/** The gateway's own public origin; callback URLs sent upstream are built on it. */
	PUBLIC_URL?: string;
	/** Keys the per-task callback tokens; without it creates answer 503 (none is derived from KIE_API_KEY). */
	CALLBACK_TOKEN_SECRET?: string;
	/** Seconds before each retry of a client webhook delivery, comma-separated (README, "Configuration"). */
	WEBHOOK_RETRY_SCHEDULE?: string;
	/** How long a client endpoint has to answer a delivery; at most 15000. */
	WEBHOOK_TIMEOUT_MS?: string;
	/** DNS-over-HTTPS endpoint for resolving client callBackUrl hosts, or "off". */
	CALLBACK_DNS_RESOLVER?: string;
	/** A task still pending this long after its creation (seconds) ends as a timeout whatever its polls said. */
	TASK_GIVE_UP_SECONDS?: string;
	/** A task created this long ago (seconds) is deleted everywhere; unset: kept forever. */
	RETENTION_SECONDS?: string;
	/** How long each lookup of a callBackUrl host may take (ms, at most 10000). */
	CALLBACK_DNS_TIMEOUT_MS?: string;
}

interface Env extends GatewaySecrets {}
declare namespace Cloudflare {
	interface Env extends GatewaySecrets {}
}
