import { readFileSync } from "node:fs";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { unstable_splitSqlQuery } from "wrangler";
import { defineConfig } from "vitest/config";
import { hideRuntimeNoise } from "./test/support/runtime-noise.ts";

// workerd echoes fetch failures that the code caught as "uncaught exception" lines: explained,
// and kept out of the output, in test/support/runtime-noise.ts.
hideRuntimeNoise();

/** migrations/, applied to each test file's fresh D1 by test/worker/setup.ts, as `wrangler d1 migrations apply` does. */
const migrations = await readD1Migrations(new URL("./migrations", import.meta.url).pathname);
/** schema.sql split as wrangler splits a file, for the test that compares it with the migrations. */
const schemaStatements = unstable_splitSqlQuery(readFileSync(new URL("./schema.sql", import.meta.url), "utf8"));

export default defineConfig({
	test: {
		// The gateway logs a JSON line per event; show them only for tests that fail.
		silent: "passed-only",
		projects: [
			{
				// Unit and integration tests inside workerd, against the upstream simulator.
				plugins: [
					cloudflareTest(({ inject }) => ({
						wrangler: { configPath: "./wrangler.toml" },
						miniflare: {
							// A second, empty database for test/worker/schema-migrations.test.ts.
							d1Databases: { SCHEMA_CHECK_DB: "schema-check" },
							bindings: {
								KIE_BASE_URL: inject("simulatorUrl"),
								KIE_API_KEY: "test-upstream-key",
								CALLBACK_TOKEN_SECRET: "test-callback-token-secret",
								PUBLIC_URL: "https://gateway.test",
								API_KEYS: "test-key-1, test-key-2",
								UPSTREAM_TIMEOUT_MS: "1500",
								// Tests create many tasks in seconds; the limit's own test sets its own.
								KIE_CREATE_LIMIT: "100000",
								WEBHOOK_SIGNING_KEY: "whsec_dGVzdC13ZWJob29rLXNpZ25pbmcta2V5LTMyYnl0ZXM=",
								// Deliveries retry after 1 s, three times, and wait 1 s for an answer,
								// so retries and give-ups take seconds (the defaults are unit-tested).
								WEBHOOK_RETRY_SCHEDULE: "1,1,1",
								WEBHOOK_TIMEOUT_MS: "1000",
								// Client webhooks in tests are the simulator's hooks on 127.0.0.1; the
								// SSRF tests turn this off per request.
								ALLOW_PRIVATE_CALLBACK_URLS: "true",
								// Where callBackUrl names point, answered by the simulator (no network here).
								CALLBACK_DNS_RESOLVER: `${inject("simulatorUrl")}/__sim/dns-query`,
								TEST_MIGRATIONS: migrations,
								TEST_SCHEMA: schemaStatements,
							},
						},
					})),
				],
				test: {
					name: "worker",
					include: ["test/worker/**/*.test.ts"],
					// A guard against a hang, not a speed limit: on a loaded two-core machine the
					// heavier tests (42 creates and a tick of 40 polls) pass 5 s, vitest's default.
					testTimeout: 30_000,
					globalSetup: ["./test/support/simulator-setup.ts"],
					setupFiles: ["./test/worker/setup.ts"],
				},
			},
			{
				// Pure modules, the source's structure and the scripts' logic, in plain Node: no workerd, no simulator.
				test: {
					name: "unit",
					include: ["test/unit/**/*.test.ts", "test/structure/**/*.test.ts", "test/scripts/**/*.test.ts"],
					environment: "node",
				},
			},
			{
				// The same gateway from outside: `wrangler dev` + simulator over real HTTP.
				test: {
					name: "e2e",
					include: ["test/e2e/**/*.test.ts"],
					environment: "node",
					globalSetup: ["./test/support/stack-setup.ts"],
					// One shared gateway (and Chromium, and the CLI's child processes): files take
					// turns, so timing-sensitive tests are not starved by each other.
					fileParallelism: false,
					testTimeout: 30_000,
					hookTimeout: 90_000,
				},
			},
		],
	},
});
