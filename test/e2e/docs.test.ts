/**
 * GET /docs as a newcomer sees it: Debian's Chromium (driven by playwright-core) opens the page
 * served by `wrangler dev`, with every request outside the gateway refused and recorded, so the
 * page is shown to work with no internet access. Saves a screenshot to test-output/docs.png.
 */
import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, inject, it } from "vitest";
import { OUTPUT_DIR, SKIP_WITHOUT_CHROMIUM, closeBrowser, isolatedPage, outsideOrigin } from "../support/browser";
import { create, gatewayUrl, unique } from "./client";

const gatewayOrigin = new URL(gatewayUrl).origin;
const apiKey = inject("apiKey");

afterAll(closeBrowser);

/** A fresh page on /docs that refuses and records any request outside the gateway, and any error. */
async function openDocs() {
	const { context, page, requested, problems } = await isolatedPage(gatewayOrigin);
	const response = await page.goto(`${gatewayUrl}/docs`);
	await page.locator(".opblock").first().waitFor();
	return { context, page, response, requested, problems };
}

function outsideTheGateway(urls: string[]): string[] {
	return outsideOrigin(urls, gatewayOrigin);
}

/** The operation block of `method path`, e.g. ("get", "/healthz"). */
function operation(page: Page, method: string, path: string) {
	return page
		.locator(".opblock")
		.filter({ has: page.locator(`.opblock-summary-path[data-path="${path}"]`) })
		.filter({ has: page.locator(".opblock-summary-method", { hasText: new RegExp(`^${method}$`, "i") }) });
}

describe.skipIf(SKIP_WITHOUT_CHROMIUM)("GET /docs in a browser", () => {
	it("lists every operation of /openapi.json, loading everything from the gateway itself", async () => {
		const document = (await (await fetch(`${gatewayUrl}/openapi.json`)).json()) as {
			paths: Record<string, Record<string, unknown>>;
			webhooks?: Record<string, Record<string, unknown>>;
		};
		// Swagger UI lists the webhook the gateway sends (OpenAPI 3.1 `webhooks`) beside the paths.
		const documented = [...Object.entries(document.paths), ...Object.entries(document.webhooks ?? {})]
			.flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
			.sort();
		expect(documented.length).toBeGreaterThanOrEqual(5);
		expect(documented).toContain("GET /api/v1/usage");

		const { context, page, response, requested, problems } = await openDocs();
		try {
			expect(response?.status()).toBe(200);
			expect(response?.headers()["content-security-policy"]).toMatch(/default-src 'none'/);
			const listed = await page.locator(".opblock-summary").evaluateAll((summaries) =>
				summaries.map((summary) => {
					const method = summary.querySelector(".opblock-summary-method")?.textContent ?? "";
					const path = summary.querySelector(".opblock-summary-path")?.getAttribute("data-path") ?? "";
					return `${method.toUpperCase()} ${path}`;
				}),
			);
			expect(listed.sort()).toEqual(documented);

			expect(requested).toContain(`${gatewayOrigin}/openapi.json`);
			expect(requested.some((url) => url.endsWith("/swagger-ui-bundle.js"))).toBe(true);
			expect(outsideTheGateway(requested)).toEqual([]);
			expect(problems).toEqual([]);
		} finally {
			await context.close();
		}
	});

	it("authorizes with a bearer key and runs a call from the page", async () => {
		// A task to find in the list the page fetches: newest first, and other e2e files create tasks
		// at the same time, so the call asks for a full page of 100.
		const created = await create(unique("A song about reading the manual"));
		expect(created.status).toBe(200);
		const { taskId } = created.body.data;

		const { context, page, requested, problems } = await openDocs();
		try {
			await page.locator(".auth-wrapper button.authorize").click();
			// The dialog offers each security scheme in its own form (the callback token is one too).
			const bearer = page.locator(".modal-ux .auth-container").filter({ has: page.locator("code", { hasText: "bearerAuth" }) });
			await bearer.locator("input").fill(apiKey);
			await bearer.locator("button.authorize").click();
			await bearer.locator("button.btn-done").click();

			const tasks = operation(page, "get", "/api/v1/lyrics/tasks");
			await tasks.locator(".opblock-summary-control").click();
			await tasks.getByRole("button", { name: "Try it out" }).click();
			await tasks.locator('tr[data-param-name="limit"] input').fill("100");
			const [call] = await Promise.all([
				page.waitForResponse((candidate) => new URL(candidate.url()).pathname === "/api/v1/lyrics/tasks"),
				tasks.getByRole("button", { name: "Execute" }).click(),
			]);
			expect(call.status()).toBe(200);
			expect(new URL(call.url()).searchParams.get("limit")).toBe("100");
			expect(call.request().headers().authorization).toBe(`Bearer ${apiKey}`);

			// What the newcomer reads: the live answer, rendered under the operation.
			const answer = tasks.locator(".live-responses-table tbody tr.response");
			await answer.waitFor();
			expect((await answer.locator(".response-col_status").textContent())?.trim()).toBe("200");
			expect(await answer.locator(".response-col_description").textContent()).toContain(`"taskId": "${taskId}"`);

			mkdirSync(OUTPUT_DIR, { recursive: true });
			await page.screenshot({ path: `${OUTPUT_DIR}docs.png`, fullPage: true });

			expect(outsideTheGateway(requested)).toEqual([]);
			expect(problems).toEqual([]);
		} finally {
			await context.close();
		}
	});
});
