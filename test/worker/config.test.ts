/** The defaults and bounds readConfig applies to the variables of issue 3's features. */
import { describe, expect, it } from "vitest";
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
