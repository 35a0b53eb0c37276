// Each test file gets a fresh D1; give it the schema, as `wrangler d1 execute --file schema.sql` does.
import { env } from "cloudflare:workers";
import { applyD1Migrations } from "cloudflare:test";

const { TEST_SCHEMA } = env as unknown as { TEST_SCHEMA: string[] };
await applyD1Migrations(env.DB, [{ name: "schema.sql", queries: TEST_SCHEMA }]);
