import { readFileSync } from "node:fs";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** schema.sql as separate statements, applied to each test file's fresh D1 by test/worker/setup.ts. */
const schemaStatements = readFileSync(new URL("./schema.sql", import.meta.url), "utf8")
	.split(/;\s*$/m)
	.map((statement) => statement.replace(/^\s*--.*$/gm, "").trim())
	.filter((statement) => statement.length > 0);

export default defineConfig({
	test: {
		projects: [
			{
				// Unit and integration tests inside workerd, against the upstream simulator.
				plugins: [
					cloudflareTest(({ inject }) => ({
						wrangler: { configPath: "./wrangler.toml" },
						miniflare: {
							bindings: {
								KIE_BASE_URL: inject("simulatorUrl"),
								KIE_API_KEY: "test-upstream-key",
								PUBLIC_URL: "https://gateway.test",
								API_KEYS: "test-key-1, test-key-2",
								UPSTREAM_TIMEOUT_MS: "1500",
								TEST_SCHEMA: schemaStatements,
							},
						},
					})),
				],
				test: {
					name: "worker",
					silent: "passed-only",
					include: ["test/worker/**/*.test.ts"],
					globalSetup: ["./test/support/simulator-setup.ts"],
					setupFiles: ["./test/worker/setup.ts"],
				},
			},
		],
	},
});
