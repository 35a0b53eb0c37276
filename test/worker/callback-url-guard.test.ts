/**
 * A client's callBackUrl must point at the public internet: the gateway POSTs to it, so an
 * internal target would let a client reach hosts behind the gateway (SSRF). Refused with 400,
 * nothing sent upstream, unless ALLOW_PRIVATE_CALLBACK_URLS is "true".
 */
import { describe, expect, it } from "vitest";
import { isInternalHost } from "../../src/security/private-address";
import { UNREACHABLE_URL, expectErrorEnvelope, postJson, simStats, uniquePrompt } from "./helpers";

/**
 * Private URLs refused, and lookups given 10 s: a lookup the simulator answers at once is judged
 * by its answer however slow a loaded machine makes it, never by the deadline.
 */
const PUBLIC_ONLY = { ALLOW_PRIVATE_CALLBACK_URLS: "false", CALLBACK_DNS_TIMEOUT_MS: "10000" };
/** For the one test of the deadline itself: a lookup that never answers is given up after 3 s. */
const SHORT_DEADLINE = { ...PUBLIC_ONLY, CALLBACK_DNS_TIMEOUT_MS: "3000" };

const INTERNAL_URLS = [
	"http://localhost/hook",
	"http://LOCALHOST:8080/hook",
	"http://api.localhost/hook",
	"http://printer.local/hook",
	"http://metadata.google.internal/computeMetadata/v1/",
	"http://intranet/hook",
	"http://127.0.0.1/hook",
	"http://127.1/hook",
	"http://2130706433/hook",
	"http://0x7f000001/hook",
	"http://0177.0.0.1/hook",
	"http://0.0.0.0/hook",
	"http://10.1.2.3/hook",
	"http://172.16.0.1/hook",
	"http://172.31.255.255/hook",
	"http://192.168.1.1/hook",
	"http://169.254.169.254/latest/meta-data/",
	"http://100.64.0.1/hook",
	"http://224.0.0.1/hook",
	"http://255.255.255.255/hook",
	"http://[::1]/hook",
	"http://[::]/hook",
	"http://[0:0:0:0:0:0:0:1]/hook",
	"http://[::ffff:127.0.0.1]/hook",
	"http://[::ffff:10.0.0.1]/hook",
	"http://[64:ff9b::a9fe:a9fe]/hook",
	"http://[2002:c0a8:0101::1]/hook",
	"http://[fc00::1]/hook",
	"http://[fd12:3456::1]/hook",
	"http://[fe80::1]/hook",
	"http://[ff02::1]/hook",
	"https://user:pass@127.0.0.1:8443/hook",
	"http://localhost../hook",
	"http://127.0.0.1../hook",
	"http://[::127.0.0.1]/hook",
	"http://[::ffff:0:7f00:1]/hook",
	"http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
	"http://127.0.0.1.nip.io/hook",
	"http://app.10.0.0.1.sslip.io/hook",
	"http://lvh.me:3000/hook",
	"http://sub.localtest.me/hook",
	"http://kubernetes.default.svc/hook",
	"http://hooks.test/hook",
	"http://site.invalid/hook",
	"http://hooks.example/hook",
	"http://hidden.onion/hook",
];

const PUBLIC_URLS = [
	"https://app.example.com/hook",
	"https://hooks.example.co.uk:8443/lyrics?source=gateway",
	"http://93.184.215.14/hook",
	"http://172.32.0.1/hook",
	"http://[2606:4700:4700::1111]/hook",
	"http://[::ffff:8.8.8.8]/hook",
	"https://app.example.com:443/hook",
	"http://app.example.com:8080/hook",
];

describe("client callBackUrl pointing inside a network", () => {
	it.each(INTERNAL_URLS)("refuses %s with 400 and sends nothing upstream", async (callBackUrl) => {
		const marker = uniquePrompt("ssrf refused");
		const response = await postJson("/api/v1/lyrics", { prompt: marker, callBackUrl }, PUBLIC_ONLY);
		const body = await expectErrorEnvelope(response, 400);
		expect(body.msg).toMatch(/loopback, private or internal/);
		expect((await simStats(marker)).creates).toBe(0);
	});

	it.each(PUBLIC_URLS)("accepts the public %s", async (callBackUrl) => {
		const response = await postJson("/api/v1/lyrics", { prompt: uniquePrompt("public hook"), callBackUrl }, PUBLIC_ONLY);
		expect(response.status).toBe(200);
	});

	it.each(["https://app.example.com:22/hook", "http://app.example.com:6379/", "https://app.example.com:25/hook", "http://93.184.215.14:3306/"])(
		"refuses %s, on a port no web server answers deliveries on, with 400",
		async (callBackUrl) => {
			const marker = uniquePrompt("odd port");
			const body = await expectErrorEnvelope(await postJson("/api/v1/lyrics", { prompt: marker, callBackUrl }, PUBLIC_ONLY), 400);
			expect(body.msg).toMatch(/^callBackUrl must use port 80, 443, 8080 or 8443, not \d+\.$/);
			expect((await simStats(marker)).creates).toBe(0);
		},
	);

	it("accepts any port where private URLs are allowed (local development)", async () => {
		const response = await postJson("/api/v1/lyrics", { prompt: uniquePrompt("dev port"), callBackUrl: "http://127.0.0.1:8790/hook" }, { ALLOW_PRIVATE_CALLBACK_URLS: "true" });
		expect(response.status).toBe(200);
	});

	it("refuses a URL carrying credentials, which no delivery could use", async () => {
		const marker = uniquePrompt("credentials in url");
		const response = await postJson(
			"/api/v1/lyrics",
			{ prompt: marker, callBackUrl: "https://user:secret@hooks.example.com/lyrics" },
			PUBLIC_ONLY,
		);
		const body = await expectErrorEnvelope(response, 400);
		expect(body.msg).toMatch(/credentials/);
		expect((await simStats(marker)).creates).toBe(0);
	});

	it.each([
		["https://hooks.private.dns.example.net/lyrics", /hooks\.private\.dns\.example\.net \(10\.20\.30\.40\).*loopback, private or internal/],
		["https://v6.loopback6.dns.example.net/lyrics", /\(::1\).*loopback, private or internal/],
		["https://nowhere.missing.dns.example.net/lyrics", /does not exist in DNS/],
	])("refuses %s, judged by where its name resolves", async (callBackUrl, message) => {
		const marker = uniquePrompt("resolved inside");
		const body = await expectErrorEnvelope(await postJson("/api/v1/lyrics", { prompt: marker, callBackUrl }, PUBLIC_ONLY), 400);
		expect(body.msg).toMatch(message);
		expect(body.msg).not.toMatch(/\.\.$/);
		expect((await simStats(marker)).creates).toBe(0);
	});

	it.each([
		// One lookup names an internal address; the other stalls past the deadline, fails or never answers.
		["https://hooks.partial-stall.dns.example.net/lyrics", /\(10\.0\.0\.5\).*loopback, private or internal/],
		["https://hooks.partial-servfail.dns.example.net/lyrics", /\(10\.0\.0\.5\).*loopback, private or internal/],
		["https://hooks.partial6-http-error.dns.example.net/lyrics", /\(fd00::5\).*loopback, private or internal/],
	])("refuses %s when either lookup names an internal address, whatever the other did", async (callBackUrl, message) => {
		const marker = uniquePrompt("partial answer");
		const body = await expectErrorEnvelope(await postJson("/api/v1/lyrics", { prompt: marker, callBackUrl }, PUBLIC_ONLY), 400);
		expect(body.msg).toMatch(message);
		expect((await simStats(marker)).creates).toBe(0);
	});

	it("refuses a name one of whose lookups gets no answer within CALLBACK_DNS_TIMEOUT_MS", async () => {
		const marker = uniquePrompt("a stalled lookup");
		const callBackUrl = "https://hooks.public-stall.dns.example.net/lyrics";
		const body = await expectErrorEnvelope(await postJson("/api/v1/lyrics", { prompt: marker, callBackUrl }, SHORT_DEADLINE), 400);
		expect(body.msg).toMatch(/could not be resolved \(AAAA lookup: no answer within 3000 ms\)/);
		expect((await simStats(marker)).creates).toBe(0);
	});

	it.each([
		["https://hooks.public-servfail.dns.example.net/lyrics", /could not be resolved \(AAAA lookup: SERVFAIL\)/],
		["https://hooks.servfail.dns.example.net/lyrics", /could not be resolved \((?:A|AAAA) lookup: SERVFAIL\)/],
		["https://hooks.http-error.dns.example.net/lyrics", /could not be resolved \((?:A|AAAA) lookup: the resolver answered HTTP 502\)/],
		["https://hooks.empty.dns.example.net/lyrics", /has no A or AAAA address in DNS/],
	])("refuses %s, whose addresses cannot all be known", async (callBackUrl, message) => {
		const marker = uniquePrompt("unresolvable");
		const body = await expectErrorEnvelope(await postJson("/api/v1/lyrics", { prompt: marker, callBackUrl }, PUBLIC_ONLY), 400);
		expect(body.msg).toMatch(message);
		expect((await simStats(marker)).creates).toBe(0);
	});

	it("accepts a public name with no AAAA record", async () => {
		const callBackUrl = "https://hooks.v4only.dns.example.net/lyrics";
		expect((await postJson("/api/v1/lyrics", { prompt: uniquePrompt("v4 only"), callBackUrl }, PUBLIC_ONLY)).status).toBe(200);
	});

	it("refuses when the resolver cannot be reached at all, and checks nothing when resolving is off", async () => {
		const create = (overrides: Partial<Env>, marker = uniquePrompt("resolver down")) =>
			postJson("/api/v1/lyrics", { prompt: marker, callBackUrl: "https://hooks.example.com/x" }, overrides);
		const marker = uniquePrompt("resolver unreachable");
		const refused = await expectErrorEnvelope(
			await create({ ...PUBLIC_ONLY, CALLBACK_DNS_RESOLVER: `${UNREACHABLE_URL}/dns-query` }, marker),
			400,
		);
		expect(refused.msg).toMatch(/hooks\.example\.com could not be resolved/);
		expect((await simStats(marker)).creates).toBe(0);
		expect((await create({ ...PUBLIC_ONLY, CALLBACK_DNS_RESOLVER: "off" })).status).toBe(200);
	});

	it('accepts a private URL when ALLOW_PRIVATE_CALLBACK_URLS is "true" (local development)', async () => {
		const response = await postJson(
			"/api/v1/lyrics",
			{ prompt: uniquePrompt("local hook"), callBackUrl: "http://127.0.0.1:3000/hook" },
			{ ALLOW_PRIVATE_CALLBACK_URLS: "true" },
		);
		expect(response.status).toBe(200);
	});

	it("refuses a callBackUrl with 503 when no WEBHOOK_SIGNING_KEY could sign its deliveries", async () => {
		const marker = uniquePrompt("unsigned hook");
		const response = await postJson(
			"/api/v1/lyrics",
			{ prompt: marker, callBackUrl: "https://app.example.com/hook" },
			{ WEBHOOK_SIGNING_KEY: "" },
		);
		const body = await expectErrorEnvelope(response, 503);
		expect(body.msg).toMatch(/WEBHOOK_SIGNING_KEY/);
		expect((await simStats(marker)).creates).toBe(0);
	});
});

describe("isInternalHost", () => {
	it("reads the hostnames URL parsing produces", () => {
		for (const url of INTERNAL_URLS) expect(isInternalHost(new URL(url).hostname), url).toBe(true);
		for (const url of PUBLIC_URLS) expect(isInternalHost(new URL(url).hostname), url).toBe(false);
	});

	it("refuses an IPv6 literal it cannot read rather than guessing", () => {
		expect(isInternalHost("[not:an:address]")).toBe(true);
		expect(isInternalHost("[1:2:3:4:5:6:7:8:9]")).toBe(true);
	});
});
