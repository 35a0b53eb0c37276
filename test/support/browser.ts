/**
 * Debian's Chromium driven by playwright-core, for the e2e tests of the gateway's pages: one
 * browser per test file, and pages that refuse and record every request outside the gateway.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
	"--headless",
	"--no-sandbox",
	"--disable-gpu",
	"--disable-quic",
	"--no-first-run",
	"--disable-background-networking",
	"--disable-component-update",
	"--disable-sync",
];

/**
 * Chromium is a prerequisite of the page tests only. On a developer's machine without it they are
 * skipped, saying how to install it; in CI (CI=true, as .ci/run sets) they fail instead, so a CI
 * run can never pass without having looked at the pages.
 */
const CHROMIUM_REQUIRED = process.env.CI === "true" || process.env.CI === "1";
export const SKIP_WITHOUT_CHROMIUM = !existsSync(CHROMIUM) && !CHROMIUM_REQUIRED;
if (SKIP_WITHOUT_CHROMIUM) {
	process.stderr.write(
		`\nSkipping the page tests in a browser (test/e2e/docs.test.ts, admin-page.test.ts): no Chromium at ${CHROMIUM}. ` +
			"Install it with `sudo apt-get install -y chromium` (Debian/Ubuntu) or set CHROMIUM_PATH; with CI=true this is a failure.\n\n",
	);
}

/** Where the tests leave their screenshots (git-ignored). */
export const OUTPUT_DIR = fileURLToPath(new URL("../../test-output/", import.meta.url));

let launching: Promise<Browser> | undefined;

/**
 * Chromium, started on first use inside a test rather than in beforeAll: a browser that cannot
 * start then fails each test instead of leaving it reported as skipped.
 */
export function theBrowser(): Promise<Browser> {
	launching ??= chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }).catch((error: Error) => {
		throw new Error(`Chromium did not start from ${CHROMIUM} (install it: apt-get install -y chromium).\n${error.message}`);
	});
	return launching;
}

/** For afterAll: closes the browser if one was started. */
export async function closeBrowser(): Promise<void> {
	const browser = await launching?.catch(() => undefined);
	await browser?.close();
	launching = undefined;
}

export interface IsolatedPage {
	context: BrowserContext;
	page: Page;
	/** Every URL the page requested, also those refused. */
	requested: string[];
	/** Console errors (a Content-Security-Policy violation is one) and uncaught exceptions. */
	problems: string[];
}

/** A fresh page that may reach `origin` only: any other request is refused and recorded. */
export async function isolatedPage(origin: string, viewport = { width: 1280, height: 900 }): Promise<IsolatedPage> {
	const context = await (await theBrowser()).newContext({ viewport });
	const requested: string[] = [];
	const problems: string[] = [];
	context.on("request", (request) => requested.push(request.url()));
	await context.route("**/*", (route) =>
		new URL(route.request().url()).origin === origin ? route.continue() : route.abort("blockedbyclient"),
	);
	const page = await context.newPage();
	page.on("console", (message) => {
		if (message.type() === "error") problems.push(message.text());
	});
	page.on("pageerror", (error) => problems.push(error.message));
	return { context, page, requested, problems };
}

/** The URLs among `urls` that are not the gateway's (data: URLs never leave the page). */
export function outsideOrigin(urls: string[], origin: string): string[] {
	return urls.filter((url) => !url.startsWith("data:") && new URL(url).origin !== origin);
}
