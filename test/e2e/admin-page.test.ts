/**
 * GET /admin as an operator sees it, in Debian's Chromium against the e2e gateway: the seed mix
 * (scripts/seed.mjs: successes, a failure, a lost callback the poller recovers, a delivered and a
 * failing client webhook) is made first; a wrong key and a client key get a clear message; with
 * the admin key every figure on the page equals the /api/v1/stats answer it drew, the seeded tasks
 * are where they belong, and no request leaves the gateway. Saves test-output/admin-wide.png and
 * test-output/admin-narrow.png.
 */
import { mkdirSync } from "node:fs";
import type { Page, Response } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { seedMix, type SeededTask } from "../../scripts/seed.mjs";
import { OUTPUT_DIR, SKIP_WITHOUT_CHROMIUM, closeBrowser, isolatedPage, outsideOrigin } from "../support/browser";
import { call, gatewayUrl, simulatorUrl } from "./client";

const gatewayOrigin = new URL(gatewayUrl).origin;
const apiKey = inject("apiKey");
const adminKey = inject("adminApiKey");

afterAll(closeBrowser);

let seeded: SeededTask[] = [];
beforeAll(async () => {
	seeded = await seedMix({ gatewayUrl, simulatorUrl, apiKey, wait: true, waitMs: 60_000 });
}, 90_000);

function seededAs(label: string): SeededTask {
	return seeded.find((task) => task.label === label) as SeededTask;
}

/** Opens /admin and enters `key`; resolves with the /api/v1/stats answer the page got. */
async function enterKey(page: Page, key: string): Promise<Response> {
	await page.locator("#admin-key").fill(key);
	const [stats] = await Promise.all([
		page.waitForResponse((response) => new URL(response.url()).pathname === "/api/v1/stats"),
		page.locator("#key-form button[type=submit]").click(),
	]);
	return stats;
}

/** Every number the page shows for a figure, by its data-figure path. */
async function figuresOnPage(page: Page): Promise<Record<string, string>> {
	return page.locator("[data-figure]").evaluateAll((elements) =>
		Object.fromEntries(elements.map((element) => [(element as HTMLElement).dataset.figure, (element as HTMLElement).dataset.value])),
	);
}

async function rowsOf(page: Page, tbody: string): Promise<string[][]> {
	return page.locator(`${tbody} tr`).evaluateAll((rows) =>
		rows.map((row) => Array.from(row.querySelectorAll("td")).map((cell) => cell.textContent?.trim() ?? "")),
	);
}

describe.skipIf(SKIP_WITHOUT_CHROMIUM)("GET /admin in a browser", () => {
	it("is served by the gateway under a policy that allows only the gateway itself", async () => {
		const response = await fetch(`${gatewayUrl}/admin`);
		expect(response.status).toBe(200);
		expect(response.headers.get("content-type")).toMatch(/^text\/html/);
		const policy = response.headers.get("content-security-policy") ?? "";
		expect(policy).toMatch(/default-src 'none'/);
		expect(policy).toMatch(/script-src 'self';/);
		expect(policy).toMatch(/connect-src 'self';/);
		expect(policy).not.toMatch(/unsafe-inline|https?:/);
		expect((await fetch(`${gatewayUrl}/admin/chart.js/chart.umd.min.js`)).status).toBe(200);
	});

	it("tells a wrong key and a client key apart, in words, and shows nothing", async () => {
		const { context, page, requested, problems } = await isolatedPage(gatewayOrigin);
		try {
			await page.goto(`${gatewayUrl}/admin`);
			await expect(page.locator("#message").textContent()).resolves.toMatch(/Enter an admin key/);

			expect((await enterKey(page, "not-a-key-of-this-gateway")).status()).toBe(401);
			await page.locator("#message.error").waitFor();
			expect(await page.locator("#message").textContent()).toMatch(/This key was not accepted.*ADMIN_API_KEYS/);
			expect(await page.locator("#view").isHidden()).toBe(true);

			expect((await enterKey(page, apiKey)).status()).toBe(403);
			await page.waitForFunction(() => /client key/.test(document.querySelector("#message")?.textContent ?? ""));
			expect(await page.locator("#message").textContent()).toMatch(/This is a client key, not an admin key/);
			expect(await page.locator("#view").isHidden()).toBe(true);
			// A refused key is not kept.
			expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

			expect(outsideOrigin(requested, gatewayOrigin)).toEqual([]);
			// The refused calls are logged by Chromium as failed resources; nothing else may be.
			expect(problems.filter((problem) => !/status of 40[13]/.test(problem))).toEqual([]);
		} finally {
			await context.close();
		}
	});

	it("shows the figures of /api/v1/stats with the admin key, the seeded tasks among them", async () => {
		const { context, page, requested, problems } = await isolatedPage(gatewayOrigin);
		try {
			await page.goto(`${gatewayUrl}/admin`);
			const response = await enterKey(page, adminKey);
			expect(response.status()).toBe(200);
			expect(response.request().headers().authorization).toBe(`Bearer ${adminKey}`);
			const stats = (await response.json()).data;
			await page.locator("#view").waitFor();

			// Every figure on the page is the answer's, and the answer holds the seeded tasks.
			const shown = await figuresOnPage(page);
			const failed = Object.entries(stats.tasks.byStatus as Record<string, number>)
				.filter(([status]) => status !== "SUCCESS" && status !== "PENDING")
				.reduce((sum, [, count]) => sum + count, 0);
			expect(shown).toEqual({
				"tasks.created": String(stats.tasks.created),
				"tasks.byStatus.SUCCESS": String(stats.tasks.byStatus.SUCCESS),
				"tasks.failed": String(failed),
				"tasks.byStatus.PENDING": String(stats.tasks.byStatus.PENDING),
				"timeToResultMs.p50": String(stats.timeToResultMs.p50),
				"timeToResultMs.p95": String(stats.timeToResultMs.p95),
				"archive.backlog": String(stats.archive.backlog),
				"database.bytes": String(stats.database.bytes),
				"tasks.bySource.callback": String(stats.tasks.bySource.callback),
				"tasks.bySource.poll": String(stats.tasks.bySource.poll),
				"tasks.bySource.timeout": String(stats.tasks.bySource.timeout),
				"deliveries.pending": String(stats.deliveries.pending),
				"deliveries.delivered": String(stats.deliveries.delivered),
				"deliveries.failed": String(stats.deliveries.failed),
			});
			expect(stats.tasks.created).toBeGreaterThanOrEqual(seeded.length);
			expect(stats.tasks.bySource.poll).toBeGreaterThanOrEqual(1);
			expect(stats.deliveries.delivered).toBeGreaterThanOrEqual(1);
			expect(stats.timeToResultMs.p50).toBeGreaterThan(0);

			const statuses = Object.fromEntries((await rowsOf(page, "#status-rows")).map(([status, count]) => [status, count]));
			expect(statuses).toEqual(
				Object.fromEntries(Object.entries(stats.tasks.byStatus).map(([status, count]) => [status, (count as number).toLocaleString("en")])),
			);

			// The failing webhook's host, and the seeded failure with its message and a link to its record-info.
			const hosts = await rowsOf(page, "#host-rows");
			expect(hosts).toEqual(stats.failingHosts.map((host: any) => [host.host, String(host.failed), String(host.retried)]));
			expect(hosts.map(([host]) => host)).toContain(new URL(simulatorUrl).host);
			const failure = seededAs("failure");
			const failureRows = await rowsOf(page, "#failure-rows");
			expect(failureRows.map((row) => row[1])).toEqual(stats.recentFailures.map((row: any) => row.taskId));
			const row = failureRows.find((cells) => cells[1] === failure.taskId);
			expect(row?.[2]).toBe("GENERATE_LYRICS_FAILED");
			expect(row?.[4]).toMatch(/could not be turned into lyrics/);

			// Each tenant: today's creates against its quota (GET /api/v1/usage), and its tasks in the window.
			const usage = (await call("/api/v1/usage", { headers: { authorization: `Bearer ${adminKey}` } })).body.data;
			const tenants = await rowsOf(page, "#tenant-rows");
			const dev = tenants.find(([name]) => name === "dev");
			const devToday = usage.tenants.find((tenant: any) => tenant.tenant === "dev");
			const devWindow = stats.tenants.find((tenant: any) => tenant.tenant === "dev");
			expect(dev).toEqual(["dev", String(devToday.creates), "none", "", String(devWindow.creates)]);
			expect(devWindow.creates).toBeGreaterThanOrEqual(seeded.length);
			expect(tenants.find(([name]) => name === "capped")?.[2]).toBe("3");

			// The task link opens the failure's record-info, fetched with the key.
			const [recordInfo] = await Promise.all([
				page.waitForResponse((candidate) => new URL(candidate.url()).pathname === "/api/v1/lyrics/record-info"),
				page.locator(".task-link", { hasText: failure.taskId }).click(),
			]);
			expect(new URL(recordInfo.url()).searchParams.get("taskId")).toBe(failure.taskId);
			await page.waitForFunction((id) => document.querySelector("#record-body")?.textContent?.includes(`"taskId": "${id}"`), failure.taskId);
			expect(await page.locator("#record-body").textContent()).toContain('"status": "GENERATE_LYRICS_FAILED"');
			await page.locator("#record-dialog button").click();

			mkdirSync(OUTPUT_DIR, { recursive: true });
			await page.screenshot({ path: `${OUTPUT_DIR}admin-wide.png`, fullPage: true });

			expect(outsideOrigin(requested, gatewayOrigin)).toEqual([]);
			expect(problems).toEqual([]);
		} finally {
			await context.close();
		}
	});

	it("warns in plain words when most results came by poll, and not otherwise", async () => {
		const { context, page, problems } = await isolatedPage(gatewayOrigin);
		try {
			// The gateway's own answer, with its sources swapped so that polls are the most.
			await page.route("**/api/v1/stats?*", async (route) => {
				const answer = await (await route.fetch()).json();
				const { callback, poll } = answer.data.tasks.bySource;
				answer.data.tasks.bySource = { ...answer.data.tasks.bySource, callback: poll, poll: callback };
				await route.fulfill({ json: answer });
			});
			await page.goto(`${gatewayUrl}/admin`);
			expect((await enterKey(page, adminKey)).status()).toBe(200);
			const warning = page.locator("#source-warning");
			await warning.waitFor();
			expect(await warning.textContent()).toMatch(/Most results \(\d+ of \d+\) came by polling.*callbacks are not reaching the gateway.*PUBLIC_URL/);

			// The real answer again, read anew by choosing another window (the key is kept for the tab).
			await page.unroute("**/api/v1/stats?*");
			const [real] = await Promise.all([
				page.waitForResponse((response) => new URL(response.url()).pathname === "/api/v1/stats"),
				page.locator("#hours").selectOption("6"),
			]);
			const sources = (await real.json()).data.tasks.bySource;
			const mostlyPolled = sources.poll * 2 > sources.callback + sources.poll + sources.timeout;
			await warning.waitFor({ state: mostlyPolled ? "visible" : "hidden" });
			// The e2e gateway's results come mostly by callback.
			expect(mostlyPolled).toBe(false);
			expect(problems).toEqual([]);
		} finally {
			await context.close();
		}
	});

	it("reads on a phone: one column, nothing wider than the screen", async () => {
		const { context, page, requested, problems } = await isolatedPage(gatewayOrigin, { width: 390, height: 844 });
		try {
			await page.goto(`${gatewayUrl}/admin`);
			expect((await enterKey(page, adminKey)).status()).toBe(200);
			await page.locator("#view").waitFor();
			const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
			expect(overflow).toBeLessThanOrEqual(0);
			mkdirSync(OUTPUT_DIR, { recursive: true });
			await page.screenshot({ path: `${OUTPUT_DIR}admin-narrow.png`, fullPage: true });
			expect(outsideOrigin(requested, gatewayOrigin)).toEqual([]);
			expect(problems).toEqual([]);
		} finally {
			await context.close();
		}
	});
});
