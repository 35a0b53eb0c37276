/** The defaults and bounds readConfig applies to the variables of issue 3's features. */
import { describe, expect, it, vi } from "vitest";
import { readConfig } from "../../src/config/config";

const bare = {} as Env;

describe("readConfig", () => {
	it("retries deliveries on Svix's schedule by default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
		const { webhookRetryDelaysMs, webhookTimeoutMs } = readConfig(bare);
		expect(webhookRetryDelaysMs).toEqual([5, 300, 1800, 7200, 18000, 36000, 36000].map((s) => s * 1000));
		// Far more than the contract's "at least an hour".
		expect(webhookRetryDelaysMs.reduce((a, b) => a + b, 0)).toBeGreaterThan(24 * 3600 * 1000);
		expect(webhookTimeoutMs).toBe(15_000);
	});

	it("keeps the default schedule for a malformed one, and caps the delivery timeout at 15 s", () => {
		for (const schedule of ["5,", "5,,300", "five", "-5,10", "1.5"]) {
			expect(readConfig({ WEBHOOK_RETRY_SCHEDULE: schedule } as Env).webhookRetryDelaysMs[0], schedule).toBe(5_000);
		}
		expect(readConfig({ WEBHOOK_RETRY_SCHEDULE: " 1, 2 ,3" } as Env).webhookRetryDelaysMs).toEqual([1000, 2000, 3000]);
		expect(readConfig({ WEBHOOK_TIMEOUT_MS: "60000" } as Env).webhookTimeoutMs).toBe(15_000);
	});

	it("limits creates to the provider's 20 per 10 s and refuses private callback URLs unless told exactly", () => {
		expect(readConfig(bare).kieCreateLimit).toBe(20);
		expect(readConfig(bare).allowPrivateCallbackUrls).toBe(false);
		expect(readConfig({ ALLOW_PRIVATE_CALLBACK_URLS: "yes" } as Env).allowPrivateCallbackUrls).toBe(false);
		expect(readConfig({ ALLOW_PRIVATE_CALLBACK_URLS: "true" } as Env).allowPrivateCallbackUrls).toBe(true);
	});

	it("resolves callback hosts with Cloudflare's DNS-over-HTTPS unless told otherwise or off", () => {
		expect(readConfig(bare).callbackDnsResolver).toBe("https://cloudflare-dns.com/dns-query");
		expect(readConfig({ CALLBACK_DNS_RESOLVER: "off" } as Env).callbackDnsResolver).toBeUndefined();
		expect(readConfig({ CALLBACK_DNS_RESOLVER: "https://dns.google/resolve" } as Env).callbackDnsResolver).toBe(
			"https://dns.google/resolve",
		);
	});

	it("has no callback token key unless CALLBACK_TOKEN_SECRET is set: none is derived from KIE_API_KEY", () => {
		expect(readConfig({ KIE_API_KEY: "upstream" } as Env).callbackTokenSecret).toBeUndefined();
		expect(readConfig({ KIE_API_KEY: "upstream", CALLBACK_TOKEN_SECRET: "   " } as Env).callbackTokenSecret).toBeUndefined();
		expect(readConfig({ CALLBACK_TOKEN_SECRET: " s3cret " } as Env).callbackTokenSecret).toBe("s3cret");
	});
});

describe("a variable that does not parse", () => {
	it("is never replaced silently: the default is used, and the problem is named and logged once", async () => {
		const logged = vi.spyOn(console, "error").mockImplementation(() => {});
		const env = { POLL_MAX_PER_TICK: "4O", ALLOW_PRIVATE_CALLBACK_URLS: "yes", UPSTREAM_TIMEOUT_MS: "1500" } as Env;
		const config = readConfig(env);
		expect(config.pollMaxPerTick).toBe(40);
		expect(config.upstreamTimeoutMs).toBe(1500);
		expect(config.problems).toEqual([
			{ variable: "POLL_MAX_PER_TICK", problem: expect.stringContaining("not a whole number") },
			{ variable: "ALLOW_PRIVATE_CALLBACK_URLS", problem: expect.stringContaining('neither "true" nor "false"') },
		]);
		readConfig({ ...env });
		const lines = logged.mock.calls.map(([line]) => JSON.parse(String(line)) as { event: string; variable: string });
		expect(lines.filter((line) => line.event === "config_value_not_parsed").map((line) => line.variable)).toEqual([
			"POLL_MAX_PER_TICK",
			"ALLOW_PRIVATE_CALLBACK_URLS",
		]);
		logged.mockRestore();
	});

	it.each([
		["POLL_GRACE_SECONDS", "-1"],
		["KIE_CREATE_LIMIT", "0"],
		["WEBHOOK_RETRY_SCHEDULE", "5,,300"],
		["PUBLIC_URL", "gateway.example.com"],
		["KIE_BASE_URL", "ftp://api.kie.ai"],
		["CALLBACK_DNS_RESOLVER", "dns.google"],
		["TENANT_QUOTAS", "acme:lots"],
		["API_KEYS", "Bad Name:key"],
	])("names %s set to %j, and reads a well-formed value without a problem", (variable, value) => {
		expect(readConfig({ [variable]: value } as unknown as Env).problems.map((problem) => problem.variable)).toEqual([variable]);
	});

	it("is no problem when unset or empty", () => {
		expect(readConfig({ POLL_MAX_PER_TICK: "", PUBLIC_URL: " ", TENANT_QUOTAS: "" } as Env).problems).toEqual([]);
		expect(readConfig({ POLL_MAX_PER_TICK: " 12 ", PUBLIC_URL: "https://g.example.com/", CALLBACK_DNS_RESOLVER: "off" } as Env).problems).toEqual([]);
	});
});
