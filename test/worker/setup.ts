// Each test file gets a fresh D1: give it the schema the way a deployment gets it, by applying
// migrations/ in order (readD1Migrations in vitest.config.ts, as `wrangler d1 migrations apply`).
import { env } from "cloudflare:workers";
import { type D1Migration, applyD1Migrations } from "cloudflare:test";

const { TEST_MIGRATIONS } = env as unknown as { TEST_MIGRATIONS: D1Migration[] };
await applyD1Migrations(env.DB, TEST_MIGRATIONS);
