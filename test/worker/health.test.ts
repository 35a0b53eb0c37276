/** GET /healthz: 200 when D1 answers and every variable parses; otherwise 503 naming each thing wrong. */
import { describe, expect, it } from "vitest";
import { expectErrorEnvelope, gateway } from "./helpers";

const downDb = { prepare: () => { throw new Error("D1_ERROR: simulated outage"); } } as unknown as D1Database;

describe("/healthz", () => {
	it("answers 200 when D1 answers and every variable parses", async () => {
		expect((await gateway("/healthz")).status).toBe(200);
	});

	it("answers 503 naming a variable that does not parse, though the gateway runs on its default", async () => {
		const body = await expectErrorEnvelope(await gateway("/healthz", {}, { POLL_MAX_PER_TICK: "4O" }), 503);
		expect(body.msg).toMatch(/^POLL_MAX_PER_TICK is not a whole number of at least 1; the default 40 is used\.$/);
		// The value itself is never quoted back.
		expect(body.msg).not.toContain("4O");
	});

	it("names every problem at once: D1 first, then each variable", async () => {
		const body = await expectErrorEnvelope(await gateway("/healthz", {}, { DB: downDb, KIE_CREATE_LIMIT: "many", API_KEYS: "ok-key, Not A Name:k" }), 503);
		expect(body.msg).toMatch(/^D1 is not answering\. /);
		expect(body.msg).toContain("KIE_CREATE_LIMIT is not a whole number of at least 1; the default 20 is used.");
		expect(body.msg).toContain("API_KEYS entry 2 is ignored");
	});
});
