/**
 * GET /api/v1/stats through the gateway: tasks driven to known ends (a callback, a failure, a
 * poll, a webhook that never answers 2xx, one still pending), and the figures agree with what
 * record-info and the list say about the same tasks. Only admin keys may read them.
 */
import { describe, expect, it } from "vitest";
import {
	type RecordInfo,
	api,
	createTask,
	createdAt,
	deliver,
	envelope,
	eventually,
	expectErrorEnvelope,
	finishUpstream,
	gateway,
	listAllTasks,
	recordInfo,
	runCron,
	simCallback,
	simHook,
	simScript,
	uniquePrompt,
} from "./helpers";

const ADMIN_KEY = "test-admin-key";
const ADMIN = { ADMIN_API_KEYS: `ops:${ADMIN_KEY}` } satisfies Partial<Env>;

interface Stats {
	since: number;
	hours: number;
	tasks: { created: number; byStatus: Record<string, number>; bySource: Record<string, number> };
	timeToResultMs: { p50: number | null; p95: number | null };
	deliveries: Record<string, number>;
	tenants: { tenant: string; creates: number; quota: number | null }[];
	hourly: { since: number; created: number; byStatus: Record<string, number> }[];
	failingHosts: { host: string; failed: number; retried: number }[];
	archive: { backlog: number; backlogCountedUpTo: number };
	database: { bytes: number; limitBytes: number };
	recentFailures: { taskId: string; status: string; errorMessage: string | null; createTime: number }[];
}

function statsAs(key: string | null, query = "", overrides: Partial<Env> = ADMIN) {
	const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
	return gateway(`/api/v1/stats${query}`, { headers }, overrides);
}

async function stats(query = ""): Promise<Stats> {
	const response = await statsAs(ADMIN_KEY, query);
	const body = await envelope<Stats>(response);
	expect(response.status, body.msg).toBe(200);
	return body.data;
}

/** Nearest rank: the value at rank ceil(p·n) of the sorted values. */
function percentile(values: number[], p: number): number | null {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted.length ? (sorted[Math.ceil(p * sorted.length) - 1] as number) : null;
}

/** The stats' percentiles come from 4%-wide buckets, answered by the bucket's middle. */
function expectWithin2Percent(actual: number | null, exact: number | null): void {
	expect(actual).not.toBeNull();
	expect(Math.abs((actual as number) - (exact as number)) / (exact as number)).toBeLessThanOrEqual(0.02);
}

function countBy<T>(items: T[], key: (item: T) => string | null | undefined): Record<string, number> {
	const counts: Record<string, number> = {};
	for (const item of items) {
		const value = key(item);
		if (value != null) counts[value] = (counts[value] ?? 0) + 1;
	}
	return counts;
}

describe("GET /api/v1/stats", () => {
	// Waits for a delivery to use up its retries (about 4 s on the test schedule).
	it("answers the figures of the tasks the list shows, by status, source, time to result and delivery", { timeout: 30_000 }, async () => {
		const before = Date.now();
		const byCallback = await createTask(uniquePrompt("stats by callback"));
		await deliver(await simCallback(byCallback));

		const failing = uniquePrompt("stats failing");
		await simScript(failing, { callback: "fail", failCode: 400, failMsg: "The lyrics could not be written." });
		const failed = await createTask(failing);
		await deliver(await simCallback(failed));

		const byPoll = await createTask(uniquePrompt("stats by poll"));
		await finishUpstream(byPoll);
		await runCron((await createdAt(byPoll)) + 121_000);

		const hook = simHook("stats-refusing");
		await hook.behave({ thenStatus: 500 });
		const undelivered = await createTask(uniquePrompt("stats undelivered"), { callBackUrl: hook.url });
		await deliver(await simCallback(undelivered));
		// The test schedule gives up after three retries a second apart.
		await eventually(() => recordInfo(undelivered), (info) => info.data.delivery?.state === "failed", 10_000);

		await createTask(uniquePrompt("stats still pending"));

		const tasks = (await listAllTasks()).filter((task) => task.createTime >= before);
		expect(tasks).toHaveLength(5);
		const figures = await stats();

		expect(figures.hours).toBe(24);
		// The window starts on the full clock hour 24 hours back.
		expect(figures.since % 3_600_000).toBe(0);
		expect(figures.since).toBeGreaterThan(before - 25 * 3_600_000);
		expect(figures.since).toBeLessThanOrEqual(Date.now() - 24 * 3_600_000);
		expect(figures.tasks.created).toBe(5);
		expect(figures.tasks.byStatus).toEqual({
			PENDING: 1,
			SUCCESS: 3,
			GENERATE_LYRICS_FAILED: 1,
			SENSITIVE_WORD_ERROR: 0,
			CREATE_TASK_FAILED: 0,
			CALLBACK_EXCEPTION: 0,
		});
		expect(figures.tasks.byStatus).toMatchObject(countBy(tasks, (task) => task.status));
		expect(figures.tasks.bySource).toEqual({ callback: 3, poll: 1, timeout: 0 });
		expect(figures.tasks.bySource).toMatchObject(countBy(tasks, (task) => task.resultSource));
		expect(figures.deliveries).toEqual({ pending: 0, delivered: 0, failed: 1 });

		const resulted = tasks.filter((task) => task.resultSource === "callback" || task.resultSource === "poll");
		const times = resulted.map((task) => (task.completeTime as number) - task.createTime);
		expect(times).toHaveLength(4);
		expectWithin2Percent(figures.timeToResultMs.p50, percentile(times, 0.5));
		expectWithin2Percent(figures.timeToResultMs.p95, percentile(times, 0.95));

		// Every configured tenant, the creator's with its five tasks (record-info names its owner).
		const owners = countBy(tasks, (task) => (task as RecordInfo & { owner: string | null }).owner);
		expect(Object.values(owners)).toEqual([5]);
		expect(figures.tenants).toHaveLength(3);
		expect(figures.tenants).toContainEqual({ tenant: "ops", creates: 0, quota: null });
		expect(figures.tenants).toContainEqual({ tenant: Object.keys(owners)[0], creates: 5, quota: null });
		expect(figures.tenants.map((tenant) => tenant.tenant)).toEqual(figures.tenants.map((tenant) => tenant.tenant).sort());

		// The simulator's hooks listen on 127.0.0.1:<port>: the host, never the path.
		expect(figures.failingHosts).toEqual([{ host: new URL(hook.url).host, failed: 1, retried: 1 }]);
		// Nothing is overdue for the archive (a week after the result), and D1 says how big it is.
		expect(figures.archive).toEqual({ backlog: 0, backlogCountedUpTo: 10_000 });
		expect(figures.database.bytes).toBeGreaterThan(0);
		expect(figures.database.limitBytes).toBe(10_000_000_000);
		const failedInfo = (await recordInfo(failed)).data as RecordInfo;
		expect(figures.recentFailures).toEqual([
			{
				taskId: failed,
				owner: (failedInfo as RecordInfo & { owner: string | null }).owner,
				status: "GENERATE_LYRICS_FAILED",
				errorCode: failedInfo.errorCode,
				errorMessage: failedInfo.errorMessage,
				resultSource: "callback",
				createTime: failedInfo.createTime,
				completeTime: failedInfo.completeTime,
			},
		]);
		expect(failedInfo.errorMessage).toMatch(/could not be written/);

		// Clock hours, from `since`; all five were created in the last one (or the one before, if an
		// hour turned while the test ran).
		expect(figures.hourly).toHaveLength(25);
		const firstHour = figures.since / 3_600_000;
		expect(figures.hourly.map((hour) => hour.since)).toEqual(Array.from({ length: 25 }, (_, index) => (firstHour + index) * 3_600_000));
		expect(figures.hourly.slice(-2).reduce((sum, hour) => sum + hour.created, 0)).toBe(5);
		expect(figures.hourly.slice(0, -2).every((hour) => hour.created === 0)).toBe(true);
		const lastHours = figures.hourly.slice(-2).map((hour) => hour.byStatus);
		expect(Object.fromEntries(Object.keys(figures.tasks.byStatus).map((status) => [status, lastHours.reduce((sum, counts) => sum + (counts[status] ?? 0), 0)]))).toEqual(
			figures.tasks.byStatus,
		);
	});

	it("covers the last ?hours= hours, 1 to 720", async () => {
		const one = await stats("?hours=1");
		expect(one.hours).toBe(1);
		expect(one.hourly).toHaveLength(2);
		expect(one.since).toBe((Math.floor(Date.now() / 3_600_000) - 1) * 3_600_000);
		expect((await stats("?hours=720")).hourly).toHaveLength(721);
		expect((await stats("?hours=")).hours).toBe(24);

		for (const bad of ["0", "721", "-1", "1.5", "abc", "24h", "1e2", "%2024"]) {
			const body = await expectErrorEnvelope(await statsAs(ADMIN_KEY, `?hours=${bad}`), 400);
			expect(body.msg).toMatch(/hours must be a whole number from 1 to 720/);
		}
	});

	it("answers 403 to a client key and 401 without a valid key, telling nothing", async () => {
		const forbidden = await expectErrorEnvelope(await statsAs("test-key-1"), 403);
		expect(forbidden.msg).toMatch(/admin key/);
		// Whatever the query: a client key is refused before it is read.
		await expectErrorEnvelope(await statsAs("test-key-1", "?hours=abc"), 403);
		await expectErrorEnvelope(await statsAs(null), 401);
		await expectErrorEnvelope(await statsAs("not-a-key"), 401);
		// The client key's own routes still answer it.
		expect((await api("/api/v1/lyrics/tasks?limit=1", {}, ADMIN)).status).toBe(200);
	});
});
