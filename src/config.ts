/**
 * Typed view of the Worker's variables, with the contract's defaults applied in one place,
 * so no handler parses a string or invents a default of its own.
 */
export interface Config {
	kieBaseUrl: string;
	kieApiKey: string | undefined;
	publicUrl: string | undefined;
	apiKeys: string[];
	kieWebhookHmacKey: string | undefined;
	pollGraceSeconds: number;
	upstreamTimeoutMs: number;
	pollMaxPerTick: number;
	taskMaxPendingSeconds: number;
}

/** The contract caps the upstream timeout at 15 s; anything larger is clamped to it. */
const MAX_UPSTREAM_TIMEOUT_MS = 15_000;

export function readConfig(env: Env): Config {
	return {
		kieBaseUrl: (nonEmpty(env.KIE_BASE_URL) ?? "https://api.kie.ai").replace(/\/+$/, ""),
		kieApiKey: nonEmpty(env.KIE_API_KEY),
		publicUrl: httpOrigin(env.PUBLIC_URL),
		apiKeys: (env.API_KEYS ?? "")
			.split(",")
			.map((key) => key.trim())
			.filter((key) => key.length > 0),
		kieWebhookHmacKey: nonEmpty(env.KIE_WEBHOOK_HMAC_KEY),
		pollGraceSeconds: positiveInt(env.POLL_GRACE_SECONDS, 120, { allowZero: true }),
		upstreamTimeoutMs: Math.min(positiveInt(env.UPSTREAM_TIMEOUT_MS, 10_000), MAX_UPSTREAM_TIMEOUT_MS),
		pollMaxPerTick: positiveInt(env.POLL_MAX_PER_TICK, 40),
		taskMaxPendingSeconds: positiveInt(env.TASK_MAX_PENDING_SECONDS, 3600),
	};
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

function positiveInt(value: string | undefined, fallback: number, { allowZero = false } = {}): number {
	const parsed = Number(value);
	if (!Number.isInteger(parsed) || parsed < 0 || (parsed === 0 && !allowZero)) return fallback;
	return parsed;
}
