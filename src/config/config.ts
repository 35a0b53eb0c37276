/**
 * Typed view of the Worker's variables, with the contract's defaults applied in one place,
 * so no handler parses a string or invents a default of its own. The only module that reads
 * variables and secrets (bindings are passed on as they are). How each kind of value is read is
 * in ./parse.ts and ./key-lists.ts; what does not parse is never replaced silently.
 */
import { logEvent } from "../lib/log";
import { type KeyEntry, type TenantQuotas, keyList, quotaList } from "./key-lists";
import { type ConfigProblem, type Problems, flag, list, nonEmpty, secondsList, urlVariable, wholeNumber } from "./parse";

export type { ConfigProblem } from "./parse";
export { type KeyEntry, TENANT_NAME, type TenantQuotas } from "./key-lists";

export interface Config {
	kieBaseUrl: string;
	kieApiKey: string | undefined;
	publicUrl: string | undefined;
	kieWebhookHmacKey: string | undefined;
	pollGraceSeconds: number;
	upstreamTimeoutMs: number;
	pollMaxPerTick: number;
	/** A tick's polls are spread evenly over this many seconds (0: all at once). */
	pollSpreadSeconds: number;
	taskMaxPendingSeconds: number;
	/** A task still pending this long after its creation ends as a timeout whatever its polls said. */
	taskGiveUpSeconds: number;
	/** How long after becoming final (and its delivery settled) a task is archived. */
	archiveAfterSeconds: number;
	/** A task created this long ago is deleted everywhere; null: kept forever. */
	retentionSeconds: number | null;
	/** Creates sent upstream in any 10 s per upstream key, across every Worker instance. */
	kieCreateLimit: number;
	/** Signs deliveries to clients' own callback URLs; a create naming one needs it. */
	webhookSigningKey: string | undefined;
	/** WEBHOOK_SIGNING_KEY's keys (several, space-separated, while rotating; the new one first). */
	webhookSigningKeys: string[];
	/** Every configured secret value, which must never be stored or served (src/security/redact.ts). */
	secretValues: string[];
	/** Lets client callback URLs point at loopback and private addresses (local development). */
	allowPrivateCallbackUrls: boolean;
	/** Pause before each retry of a client webhook delivery (the first attempt is immediate). */
	webhookRetryDelaysMs: number[];
	webhookTimeoutMs: number;
	/** Keys the callback URL tokens; creates answer 503 without it (nothing is minted from KIE_API_KEY). */
	callbackTokenSecret: string | undefined;
	/** CALLBACK_TOKEN_SECRET's secrets while rotating ("<new> <old>"): URLs minted with any verify; the first mints. */
	callbackTokenSecrets: string[];
	/** Most callbacks held for tasks not stored yet, across all task objects: count, and bytes stored. */
	heldCallbacksMax: number;
	heldCallbacksMaxBytes: number;
	/** DNS-over-HTTPS endpoint that client callBackUrl hosts are resolved with; undefined = off. */
	callbackDnsResolver: string | undefined;
	/** How long each lookup of a callBackUrl host may take before the URL is refused as unresolvable. */
	callbackDnsTimeoutMs: number;
	/** Every well-formed entry of API_KEYS, then of ADMIN_API_KEYS (the tenants' keys). */
	keyEntries: KeyEntry[];
	/** TENANT_QUOTAS: creates per UTC day, by tenant. */
	tenantQuotas: TenantQuotas;
	/** Variables set to something that does not parse (their defaults are used): logged once, named by /healthz. */
	problems: ConfigProblem[];
}

/** Spread a tick's polls over at most this much of its minute. */
const MAX_POLL_SPREAD_SECONDS = 45;
/** The contract caps the upstream timeout at 15 s; anything larger is clamped to it. */
const MAX_UPSTREAM_TIMEOUT_MS = 15_000;
/** A create waits on resolving its callBackUrl's host at most this long. */
const MAX_DNS_TIMEOUT_MS = 10_000;
/** A client endpoint has 15 s to answer a delivery with a 2xx. */
const MAX_WEBHOOK_TIMEOUT_MS = 15_000;
/**
 * Svix's schedule after the immediate first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h,
 * about 27.6 hours in all, so an endpoint down for a day still gets its result.
 */
const DEFAULT_WEBHOOK_RETRY_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000];
const DEFAULT_KIE_BASE_URL = "https://api.kie.ai";
const DEFAULT_DNS_RESOLVER = "https://cloudflare-dns.com/dns-query";

/** Every variable parseConfig reads: the same values give the same Config. */
const VARIABLES = [
	"API_KEYS", "ADMIN_API_KEYS", "WEBHOOK_SIGNING_KEY", "KIE_API_KEY", "KIE_WEBHOOK_HMAC_KEY", "CALLBACK_TOKEN_SECRET",
	"KIE_BASE_URL", "PUBLIC_URL", "POLL_GRACE_SECONDS", "UPSTREAM_TIMEOUT_MS", "POLL_MAX_PER_TICK", "POLL_SPREAD_SECONDS",
	"TASK_MAX_PENDING_SECONDS", "TASK_GIVE_UP_SECONDS", "ARCHIVE_AFTER_SECONDS", "RETENTION_SECONDS", "KIE_CREATE_LIMIT", "ALLOW_PRIVATE_CALLBACK_URLS", "WEBHOOK_RETRY_SCHEDULE",
	"WEBHOOK_TIMEOUT_MS", "CALLBACK_DNS_RESOLVER", "CALLBACK_DNS_TIMEOUT_MS", "TENANT_QUOTAS", "HELD_CALLBACKS_MAX", "HELD_CALLBACKS_MAX_BYTES",
] as const satisfies readonly (keyof Env)[];

/** The last Config parsed, with the values it was parsed from. */
let lastParsed: { values: unknown[]; config: Config } | null = null;

/**
 * The Config for `env`. Every request and every object call reads it, so it is parsed again only
 * when a variable's value differs from the last parse (a deployment's are fixed; tests swap them).
 * Callers share the object and must not change it.
 */
export function readConfig(env: Env): Config {
	const values = VARIABLES.map((name) => env[name] as unknown);
	if (lastParsed && lastParsed.values.every((value, i) => value === values[i])) return lastParsed.config;
	const config = parseConfig(env);
	lastParsed = { values, config };
	return config;
}

function parseConfig(env: Env): Config {
	const problems: Problems = [];
	const int = (variable: (typeof VARIABLES)[number], fallback: number, options?: { allowZero: boolean }) =>
		wholeNumber(problems, variable, env[variable], fallback, options);
	const keyEntries = [...keyList(problems, env.API_KEYS, "API_KEYS", false), ...keyList(problems, env.ADMIN_API_KEYS, "ADMIN_API_KEYS", true)];
	const webhookSigningKeys = list(env.WEBHOOK_SIGNING_KEY, /\s+/);
	const kieApiKey = nonEmpty(env.KIE_API_KEY);
	const kieWebhookHmacKey = nonEmpty(env.KIE_WEBHOOK_HMAC_KEY);
	const callbackTokenSecrets = list(env.CALLBACK_TOKEN_SECRET, /\s+/);
	const callbackTokenSecret = callbackTokenSecrets[0];
	const config: Config = {
		kieBaseUrl: urlVariable(problems, "KIE_BASE_URL", env.KIE_BASE_URL, DEFAULT_KIE_BASE_URL) as string,
		kieApiKey,
		publicUrl: urlVariable(problems, "PUBLIC_URL", env.PUBLIC_URL, undefined),
		kieWebhookHmacKey,
		pollGraceSeconds: int("POLL_GRACE_SECONDS", 120, { allowZero: true }),
		upstreamTimeoutMs: Math.min(int("UPSTREAM_TIMEOUT_MS", 10_000), MAX_UPSTREAM_TIMEOUT_MS),
		pollMaxPerTick: int("POLL_MAX_PER_TICK", 40),
		// Past 45 s the last polls (up to UPSTREAM_TIMEOUT_MS each) could run into the next tick.
		pollSpreadSeconds: Math.min(int("POLL_SPREAD_SECONDS", 40, { allowZero: true }), MAX_POLL_SPREAD_SECONDS),
		taskMaxPendingSeconds: int("TASK_MAX_PENDING_SECONDS", 3600),
		taskGiveUpSeconds: int("TASK_GIVE_UP_SECONDS", 86_400),
		archiveAfterSeconds: int("ARCHIVE_AFTER_SECONDS", 7 * 24 * 3600, { allowZero: true }),
		retentionSeconds: nonEmpty(env.RETENTION_SECONDS) === undefined ? null : int("RETENTION_SECONDS", 0),
		kieCreateLimit: int("KIE_CREATE_LIMIT", 20),
		webhookSigningKey: nonEmpty(env.WEBHOOK_SIGNING_KEY),
		webhookSigningKeys,
		callbackTokenSecret,
		callbackTokenSecrets,
		secretValues: [kieApiKey, kieWebhookHmacKey, ...webhookSigningKeys, ...callbackTokenSecrets, ...keyEntries.map((entry) => entry.key)].filter(
			(value): value is string => value !== undefined,
		),
		allowPrivateCallbackUrls: flag(problems, "ALLOW_PRIVATE_CALLBACK_URLS", env.ALLOW_PRIVATE_CALLBACK_URLS),
		webhookRetryDelaysMs: secondsList(problems, "WEBHOOK_RETRY_SCHEDULE", env.WEBHOOK_RETRY_SCHEDULE, DEFAULT_WEBHOOK_RETRY_SECONDS).map((s) => s * 1000),
		webhookTimeoutMs: Math.min(int("WEBHOOK_TIMEOUT_MS", MAX_WEBHOOK_TIMEOUT_MS), MAX_WEBHOOK_TIMEOUT_MS),
		callbackDnsResolver: dnsResolver(problems, env.CALLBACK_DNS_RESOLVER),
		callbackDnsTimeoutMs: Math.min(int("CALLBACK_DNS_TIMEOUT_MS", 2_000), MAX_DNS_TIMEOUT_MS),
		keyEntries,
		tenantQuotas: quotaList(problems, env.TENANT_QUOTAS),
		heldCallbacksMax: int("HELD_CALLBACKS_MAX", 500),
		heldCallbacksMaxBytes: int("HELD_CALLBACKS_MAX_BYTES", 4 * 1024 * 1024),
		problems,
	};
	// Once per distinct configuration (readConfig parses again only when a value changed).
	for (const { variable, problem } of problems) logEvent("error", "config_value_not_parsed", { variable, problem });
	return config;
}

/** Cloudflare's resolver unless another http(s) endpoint is named, or "off". */
function dnsResolver(problems: Problems, value: string | undefined): string | undefined {
	const text = nonEmpty(value);
	if (text?.toLowerCase() === "off") return undefined;
	// The endpoint as given (a query of its own stays), once it is an http(s) URL.
	return text !== undefined && urlVariable(problems, "CALLBACK_DNS_RESOLVER", text, DEFAULT_DNS_RESOLVER) !== DEFAULT_DNS_RESOLVER ? text : DEFAULT_DNS_RESOLVER;
}
