/**
 * A tenant never loses a create it did not send: a quota reservation is a lease, committed just
 * before the create is sent and otherwise given back or lapsing by itself within minutes, even
 * when giving it back fails or the Worker vanishes between reserving and sending.
 */
import { afterEach, describe, expect, it } from "vitest";
import { quotaHold } from "../../src/tenants/quota";
import { expectErrorEnvelope, gateway, simStats, uniquePrompt } from "./helpers";
import { d1With, objectsWith } from "./faults";

const DEFAULT_HOLD = quotaHold.ms;

afterEach(() => {
	quotaHold.ms = DEFAULT_HOLD;
});

/** A tenant of its own with a quota of one create a day. */
function tenantWithOneCreate() {
	const name = `lease-${crypto.randomUUID().slice(0, 8)}`;
	const tenantEnv: Partial<Env> = { API_KEYS: `${name}:k-${name}`, TENANT_QUOTAS: `${name}:1` };
	return (prompt: string, overrides: Partial<Env> = {}) =>
		gateway(
			"/api/v1/lyrics",
			{ method: "POST", headers: { authorization: `Bearer k-${name}`, "content-type": "application/json" }, body: JSON.stringify({ prompt }) },
			{ ...tenantEnv, ...overrides },
		);
}

const releaseFails = objectsWith("TENANT_QUOTA", { release: () => Promise.reject(new Error("Durable Object reset because its code was updated")) });
const journalFails = d1With(/INTO create_records/, { fail: true });

describe("quota reservations", () => {
	it("a reservation whose create was not sent, and could not be given back, lapses: the slot returns", async () => {
		quotaHold.ms = 400;
		const create = tenantWithOneCreate();
		const lost = uniquePrompt("not sent, release failed");
		await expectErrorEnvelope(await create(lost, { DB: journalFails, TENANT_QUOTA: releaseFails }), 503);
		expect((await simStats(lost)).creates).toBe(0);

		// Still held: the quota's one create is reserved.
		await expectErrorEnvelope(await create(uniquePrompt("while held")), 429);
		await new Promise((resolve) => setTimeout(resolve, 500));
		const after = uniquePrompt("after the lapse");
		expect((await create(after)).status).toBe(200);
		expect((await simStats(after)).creates).toBe(1);
	});

	it("gives the reservation back at once when the create is not sent", async () => {
		const create = tenantWithOneCreate();
		await expectErrorEnvelope(await create(uniquePrompt("not sent"), { DB: journalFails }), 503);
		expect((await create(uniquePrompt("the slot is back"))).status).toBe(200);
	});

	it("a commit whose answer was lost sends nothing, and its release takes the count back", async () => {
		const create = tenantWithOneCreate();
		const prompt = uniquePrompt("commit answered into the void");
		const answerLost = objectsWith("TENANT_QUOTA", {
			commit: async (real, ...args) => {
				await real(...args);
				throw new Error("Network connection lost.");
			},
		});
		await expectErrorEnvelope(await create(prompt, { TENANT_QUOTA: answerLost }), 503);
		expect((await simStats(prompt)).creates).toBe(0);
		expect((await create(uniquePrompt("the slot is back after the lost answer"))).status).toBe(200);
	});

	it("sends nothing when the reservation cannot be committed", async () => {
		const create = tenantWithOneCreate();
		const prompt = uniquePrompt("uncommitted");
		const commitFails = objectsWith("TENANT_QUOTA", { commit: () => Promise.reject(new Error("Network connection lost.")) });
		await expectErrorEnvelope(await create(prompt, { TENANT_QUOTA: commitFails }), 503);
		expect((await simStats(prompt)).creates).toBe(0);
	});

	it("a committed create counts even though its reservation lapsed on the way, while the quota has room", async () => {
		quotaHold.ms = 100;
		const create = tenantWithOneCreate();
		const slow = uniquePrompt("slow journal");
		expect((await create(slow, { DB: d1With(/INTO create_records/, { delayMs: 300 }) })).status).toBe(200);
		await expectErrorEnvelope(await create(uniquePrompt("over")), 429);
	});
});
