/**
 * Typed view of the Worker's variables, with the contract's defaults applied in one place,
 * so no handler parses a string or invents a default of its own.
 */
import { logEvent } from "../lib/log";

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
	/** Most callbacks held for tasks not stored yet, across all task objects: count, and bytes stored. */
	heldCallbacksMax: number;
	heldCallbacksMaxBytes: number;
	/** DNS-over-HTTPS endpoint that client callBackUrl hosts are resolved with; undefined = off. */
	callbackDnsResolver: string | undefined;
	/** Every well-formed entry of API_KEYS, then of ADMIN_API_KEYS (the tenants' keys). */
	keyEntries: KeyEntry[];
	/** TENANT_QUOTAS: creates per UTC day, by tenant. */
	tenantQuotas: TenantQuotas;
}

/** One key of API_KEYS or ADMIN_API_KEYS and whose it is. */
export interface KeyEntry {
	key: string;
	/** The name given as `name:key`; null for a bare key, whose name is bareKeyTenant(key). */
	tenant: string | null;
	/** From ADMIN_API_KEYS: reads and lists every tenant's tasks and usage. */
	admin: boolean;
}

export interface TenantQuotas {
	byTenant: ReadonlyMap<string, number>;
	/** `*:N`, for every tenant not listed; null = no quota for them. */
	others: number | null;
}

/** Spread a tick's polls over at most this much of its minute. */
const MAX_POLL_SPREAD_SECONDS = 45;
/** The contract caps the upstream timeout at 15 s; anything larger is clamped to it. */
const MAX_UPSTREAM_TIMEOUT_MS = 15_000;
/** A client endpoint has 15 s to answer a delivery with a 2xx. */
const MAX_WEBHOOK_TIMEOUT_MS = 15_000;
/**
 * Svix's schedule after the immediate first attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h,
 * about 27.6 hours in all, so an endpoint down for a day still gets its result.
 */
const DEFAULT_WEBHOOK_RETRY_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000];

/** Every variable parseConfig reads: the same values give the same Config. */
const VARIABLES = [
	"API_KEYS", "ADMIN_API_KEYS", "WEBHOOK_SIGNING_KEY", "KIE_API_KEY", "KIE_WEBHOOK_HMAC_KEY", "CALLBACK_TOKEN_SECRET",
	"KIE_BASE_URL", "PUBLIC_URL", "POLL_GRACE_SECONDS", "UPSTREAM_TIMEOUT_MS", "POLL_MAX_PER_TICK", "POLL_SPREAD_SECONDS",
	"TASK_MAX_PENDING_SECONDS", "KIE_CREATE_LIMIT", "ALLOW_PRIVATE_CALLBACK_URLS", "WEBHOOK_RETRY_SCHEDULE",
	"WEBHOOK_TIMEOUT_MS", "CALLBACK_DNS_RESOLVER", "TENANT_QUOTAS", "HELD_CALLBACKS_MAX", "HELD_CALLBACKS_MAX_BYTES",
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
	const keyEntries = [...keyList(env.API_KEYS, "API_KEYS", false), ...keyList(env.ADMIN_API_KEYS, "ADMIN_API_KEYS", true)];
	const webhookSigningKeys = list(env.WEBHOOK_SIGNING_KEY, /\s+/);
	const kieApiKey = nonEmpty(env.KIE_API_KEY);
	const kieWebhookHmacKey = nonEmpty(env.KIE_WEBHOOK_HMAC_KEY);
	const callbackTokenSecret = nonEmpty(env.CALLBACK_TOKEN_SECRET);
	return {
		kieBaseUrl: (nonEmpty(env.KIE_BASE_URL) ?? "https://api.kie.ai").replace(/\/+$/, ""),
		kieApiKey,
		publicUrl: httpOrigin(env.PUBLIC_URL),
		kieWebhookHmacKey,
		pollGraceSeconds: positiveInt(env.POLL_GRACE_SECONDS, 120, { allowZero: true }),
		upstreamTimeoutMs: Math.min(positiveInt(env.UPSTREAM_TIMEOUT_MS, 10_000), MAX_UPSTREAM_TIMEOUT_MS),
		pollMaxPerTick: positiveInt(env.POLL_MAX_PER_TICK, 40),
		// Past 45 s the last polls (up to UPSTREAM_TIMEOUT_MS each) could run into the next tick.
		pollSpreadSeconds: Math.min(positiveInt(env.POLL_SPREAD_SECONDS, 40, { allowZero: true }), MAX_POLL_SPREAD_SECONDS),
		taskMaxPendingSeconds: positiveInt(env.TASK_MAX_PENDING_SECONDS, 3600),
		kieCreateLimit: positiveInt(env.KIE_CREATE_LIMIT, 20),
		webhookSigningKey: nonEmpty(env.WEBHOOK_SIGNING_KEY),
		webhookSigningKeys,
		callbackTokenSecret,
		secretValues: [kieApiKey, kieWebhookHmacKey, ...webhookSigningKeys, callbackTokenSecret, ...keyEntries.map((entry) => entry.key)].filter(
			(value): value is string => value !== undefined,
		),
		allowPrivateCallbackUrls: env.ALLOW_PRIVATE_CALLBACK_URLS?.trim() === "true",
		webhookRetryDelaysMs: secondsList(env.WEBHOOK_RETRY_SCHEDULE, DEFAULT_WEBHOOK_RETRY_SECONDS).map((s) => s * 1000),
		webhookTimeoutMs: Math.min(positiveInt(env.WEBHOOK_TIMEOUT_MS, MAX_WEBHOOK_TIMEOUT_MS), MAX_WEBHOOK_TIMEOUT_MS),
		callbackDnsResolver: dnsResolver(env.CALLBACK_DNS_RESOLVER),
		keyEntries,
		tenantQuotas: quotaList(env.TENANT_QUOTAS),
		heldCallbacksMax: positiveInt(env.HELD_CALLBACKS_MAX, 500),
		heldCallbacksMaxBytes: positiveInt(env.HELD_CALLBACKS_MAX_BYTES, 4 * 1024 * 1024),
	};
}

/** The trimmed, non-empty entries of a separated list. */
function list(value: string | undefined, separator: string | RegExp): string[] {
	return (value ?? "")
		.split(separator)
		.map((entry) => entry.trim())
		.filter((entry) => entry.length > 0);
}

/** A tenant's name: 1 to 32 of a-z, 0-9, _ and -. */
export const TENANT_NAME = /^[a-z0-9_-]{1,32}$/;

/**
 * Parsed once per distinct value (readConfig runs on every request), so each malformed entry is
 * logged once per isolate rather than once per request.
 */
const parsedLists = new Map<string, unknown>();

function parsedOnce<T>(variable: string, value: string | undefined, parse: (text: string) => T): T {
	const cacheKey = `${variable}\n${value ?? ""}`;
	if (parsedLists.has(cacheKey)) return parsedLists.get(cacheKey) as T;
	if (parsedLists.size > 64) parsedLists.clear();
	const parsed = parse(value ?? "");
	parsedLists.set(cacheKey, parsed);
	return parsed;
}

/** The entry is named by its position only: its text may be (or contain) a key. */
function logIgnoredEntry(variable: string, position: number, reason: string): void {
	logEvent("warn", "config_entry_ignored", { variable, position, reason });
}

/** Comma-separated `name:key` or bare `key` entries; a malformed one is ignored, never fatal. */
function keyList(value: string | undefined, variable: string, admin: boolean): KeyEntry[] {
	return parsedOnce(variable, value, (text) => {
		const entries: KeyEntry[] = [];
		text.split(",").forEach((raw, index) => {
			const entry = raw.trim();
			if (!entry) return;
			const parts = entry.split(":");
			if (parts.length === 1) {
				entries.push({ key: entry, tenant: null, admin });
				return;
			}
			const [name = "", key = ""] = parts.map((part) => part.trim());
			if (parts.length > 2 || !TENANT_NAME.test(name) || !key || /\s/.test(key)) {
				logIgnoredEntry(variable, index + 1, "not name:key with a name of 1 to 32 of a-z, 0-9, _, - and a key without ':'");
				return;
			}
			entries.push({ key, tenant: name, admin });
		});
		return entries;
	});
}

/** Comma-separated `name:N` (and `*:N`); a malformed entry is ignored, never fatal. */
function quotaList(value: string | undefined): TenantQuotas {
	return parsedOnce("TENANT_QUOTAS", value, (text) => {
		const byTenant = new Map<string, number>();
		let others: number | null = null;
		text.split(",").forEach((raw, index) => {
			const entry = raw.trim();
			if (!entry) return;
			const match = /^([^:\s]+)\s*:\s*(\d{1,9})$/.exec(entry);
			const name = match?.[1] ?? "";
			if (!match || (name !== "*" && !TENANT_NAME.test(name))) {
				logIgnoredEntry("TENANT_QUOTAS", index + 1, "not name:N with a tenant name (or *) and a whole number");
				return;
			}
			if (name === "*") others = Number(match[2]);
			else byTenant.set(name, Number(match[2]));
		});
		return { byTenant, others };
	});
}

function nonEmpty(value: string | undefined): string | undefined {
	const trimmed = value?.trim();
	return trimmed ? trimmed : undefined;
}

/** PUBLIC_URL as an origin callback URLs can be built on; undefined when unset or not http(s). */
function httpOrigin(value: string | undefined): string | undefined {
	const text = nonEmpty(value);
	if (!text) return undefined;
	try {
		const url = new URL(text);
		if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
		return `${url.origin}${url.pathname}`.replace(/\/+$/, "");
	} catch {
		return undefined;
	}
}

/** Cloudflare's resolver unless another http(s) endpoint is named, or "off". */
function dnsResolver(value: string | undefined): string | undefined {
	const text = nonEmpty(value);
	if (text === undefined) return "https://cloudflare-dns.com/dns-query";
	if (text.toLowerCase() === "off") return undefined;
	return httpOrigin(text) ? text : "https://cloudflare-dns.com/dns-query";
}

function positiveInt(value: string | undefined, fallback: number, { allowZero = false } = {}): number {
	const parsed = Number(value);
	if (!Number.isInteger(parsed) || parsed < 0 || (parsed === 0 && !allowZero)) return fallback;
	return parsed;
}

/** "5, 300, 1800" as seconds; the fallback when unset or when any entry is not a whole number. */
function secondsList(value: string | undefined, fallback: number[]): number[] {
	const text = nonEmpty(value);
	if (!text) return fallback;
	const parts = text.split(",").map((part) => part.trim());
	if (!parts.every((part) => /^\d+$/.test(part))) return fallback;
	return parts.map(Number);
}
