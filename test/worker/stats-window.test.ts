/**
 * The stats' figures over stored tasks at chosen times: which tasks a window holds, the hour each
 * falls in, the percentiles' exact ranks, the failing hosts and the newest failures.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { envelope, gateway } from "./helpers";
import { storeTask as store, type StoredTaskSpec } from "./stats-fixtures";

const HOUR = 3_600_000;
let onStore: (createdAt: number) => void = () => {};
function storeTask(spec: StoredTaskSpec): Promise<string> {
	onStore(spec.createdAt);
	return store(spec);
}
const ADMIN = {
	ADMIN_API_KEYS: "ops:window-admin-key",
	API_KEYS: "acme:acme-key,beta:beta-key",
	TENANT_QUOTAS: "acme:100,*:5",
} satisfies Partial<Env>;

async function stats(hours: number) {
	const response = await gateway(`/api/v1/stats?hours=${hours}`, { headers: { authorization: "Bearer window-admin-key" } }, ADMIN);
	const body = await envelope<any>(response);
	expect(response.status, body.msg).toBe(200);
	return body.data;
}

/** The stats' percentiles come from 4%-wide buckets, answered by the bucket's middle: within 2% of the exact ones. */
function expectTimes(actual: { p50: number | null; p95: number | null }, p50: number, p95: number): void {
	for (const [name, value, exact] of [["p50", actual.p50, p50], ["p95", actual.p95, p95]] as const) {
		expect(Math.abs((value as number) - exact) / exact, `${name} ${value} against ${exact}`).toBeLessThanOrEqual(0.02);
	}
}

/** The index in `hourly` of the clock hour holding `time`, for a window starting at `since`. */
function hourOf(time: number, since: number): number {
	return Math.floor(time / HOUR) - Math.floor(since / HOUR);
}

describe("the stats' window", () => {
	const now = Date.now();
	const failures: string[] = [];
	/** When each stored task was created. */
	const created: number[] = [];
	const expectedHourly = (since: number, hours: number) => {
		const counts = new Array<number>(hours + 1).fill(0);
		for (const time of created.filter((time) => time >= since)) counts[hourOf(time, since)]! += 1;
		return counts;
	};

	beforeAll(async () => {
		onStore = (time) => created.push(time);
		// Twenty results by callback two hours ago, taking 1 s, 2 s, … 20 s.
		for (let i = 1; i <= 20; i++) {
			await storeTask({ createdAt: now - 2 * HOUR + i, status: "SUCCESS", resultSource: "callback", completedAt: now - 2 * HOUR + i + i * 1000, owner: "acme" });
		}
		// A timeout after an hour: counted by source, not a time to result. Its tenant has no key any more.
		await storeTask({ createdAt: now - 3 * HOUR, status: "GENERATE_LYRICS_FAILED", resultSource: "timeout", completedAt: now - 2 * HOUR, owner: "retired" });
		// Just inside the 24-hour window, and outside it (inside 48 hours).
		await storeTask({ createdAt: now - 23.5 * HOUR, status: "PENDING" });
		await storeTask({ createdAt: now - 25 * HOUR, status: "SUCCESS", resultSource: "poll", completedAt: now - 25 * HOUR + 500_000, owner: "beta" });
		// Deliveries: two given up and one retrying at hooks.example.com (one URL with credentials),
		// one retrying on another port, one not yet attempted and one delivered (neither is failing).
		await storeTask({ createdAt: now - 5 * HOUR, status: "SUCCESS", resultSource: "callback", completedAt: now - 5 * HOUR + 100, delivery: "failed" });
		await storeTask({
			createdAt: now - 5 * HOUR,
			status: "SUCCESS",
			resultSource: "callback",
			completedAt: now - 5 * HOUR + 100,
			delivery: "failed",
			callbackUrl: "https://user:password@Hooks.Example.com/path?token=t",
		});
		await storeTask({ createdAt: now - 5 * HOUR, status: "SUCCESS", resultSource: "callback", completedAt: now - 5 * HOUR + 100, delivery: "retrying" });
		const elsewhere = "https://other.example.net:8443/hook";
		await storeTask({ createdAt: now - 5 * HOUR, status: "SUCCESS", resultSource: "poll", completedAt: now - 5 * HOUR + 100, delivery: "retrying", callbackUrl: elsewhere });
		await storeTask({ createdAt: now - 5 * HOUR, status: "SUCCESS", resultSource: "poll", completedAt: now - 5 * HOUR + 100, delivery: "pending", callbackUrl: elsewhere });
		await storeTask({ createdAt: now - 5 * HOUR, status: "SUCCESS", resultSource: "poll", completedAt: now - 5 * HOUR + 100, delivery: "delivered", callbackUrl: elsewhere });
		// Twenty-five failures in the last ten minutes, one every ten seconds.
		for (let i = 0; i < 25; i++) {
			failures.push(
				await storeTask({
					createdAt: now - 600_000 + i * 10_000,
					status: i % 2 ? "SENSITIVE_WORD_ERROR" : "GENERATE_LYRICS_FAILED",
					resultSource: "callback",
					completedAt: now - 600_000 + i * 10_000 + 1_000_000,
					errorMessage: `failure number ${i}`,
				}),
			);
		}
	});

	it("counts the tasks created in the window, each in the clock hour it was created", async () => {
		const day = await stats(24);
		expect(day.tasks.created).toBe(20 + 1 + 1 + 6 + 25);
		expect(day.tasks.byStatus).toMatchObject({ PENDING: 1, SUCCESS: 26, GENERATE_LYRICS_FAILED: 14, SENSITIVE_WORD_ERROR: 12 });
		expect(day.tasks.bySource).toEqual({ callback: 20 + 3 + 25, poll: 3, timeout: 1 });
		expect(day.deliveries).toEqual({ pending: 3, delivered: 1, failed: 2 });
		expect(day.hourly.map((hour: { created: number }) => hour.created)).toEqual(expectedHourly(day.since, 24));
		expect(day.hourly[hourOf(now - 23.5 * HOUR, day.since)].byStatus.PENDING).toBe(1);

		const twoDays = await stats(48);
		expect(twoDays.tasks.created).toBe(day.tasks.created + 1);
		expect(twoDays.hourly.map((hour: { created: number }) => hour.created)).toEqual(expectedHourly(twoDays.since, 48));
		expect(twoDays.hourly[hourOf(now - 25 * HOUR, twoDays.since)].byStatus.SUCCESS).toBe(1);
		expect((await stats(1)).tasks.created).toBe(25);
	});

	it("counts each tenant's tasks in the window, with its quota: configured tenants and owners without a key", async () => {
		expect((await stats(24)).tenants).toEqual([
			{ tenant: "acme", creates: 20, quota: 100 },
			{ tenant: "beta", creates: 0, quota: 5 },
			{ tenant: "ops", creates: 0, quota: 5 },
			{ tenant: "retired", creates: 1, quota: 5 },
		]);
		expect((await stats(48)).tenants).toContainEqual({ tenant: "beta", creates: 1, quota: 5 });
	});

	it("takes p50 and p95 at their nearest ranks over results by callback or poll, within 2%", async () => {
		// The last hour: 25 failures, each 1000 s after its create.
		expectTimes((await stats(1)).timeToResultMs, 1_000_000, 1_000_000);
		// Six hours: 20 times of 1..20 s, 6 of 0.1 s and 25 of 1000 s (51 in all; the timeout is not one).
		// Sorted: 6 × 100, 1000 … 20000, 25 × 1000000. Rank ceil(25.5) = 26 is 20 s; ceil(48.45) = 49 is 1000 s.
		expectTimes((await stats(6)).timeToResultMs, 20_000, 1_000_000);
		// Three hours: 20 times of 1..20 s and 25 of 1000 s: rank 23 is 1000 s, as is rank 43.
		expectTimes((await stats(3)).timeToResultMs, 1_000_000, 1_000_000);
		// 48 hours add the poll of 500 s from 25 hours ago: 52 times, rank 26 is 20 s, rank 50 is 1000 s.
		expectTimes((await stats(48)).timeToResultMs, 20_000, 1_000_000);
		expectTimes((await stats(720)).timeToResultMs, 20_000, 1_000_000);
	});

	it("names the hosts whose deliveries fail most, never a path, query or credentials", async () => {
		const day = await stats(24);
		expect(day.failingHosts).toEqual([
			// Two given up (which had to be retried first) and one retried.
			{ host: "hooks.example.com", failed: 2, retried: 3 },
			{ host: "other.example.net:8443", failed: 0, retried: 1 },
		]);
		expect(JSON.stringify(day)).not.toMatch(/password|token|secret/);
	});

	it("lists the twenty newest failures of the window, newest first, with their messages", async () => {
		const day = await stats(24);
		expect(day.recentFailures.map((failure: { taskId: string }) => failure.taskId)).toEqual(failures.slice(-20).reverse());
		expect(day.recentFailures[0]).toMatchObject({ status: "GENERATE_LYRICS_FAILED", errorMessage: "failure number 24", errorCode: 400 });
	});
});
