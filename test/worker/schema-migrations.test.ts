// schema.sql is the whole current schema for reading; migrations/ is what builds databases. They
// must describe the same database, and a database made by the old schema.sql must take the
// migrations without losing a task.
import { env } from "cloudflare:workers";
import { type D1Migration, applyD1Migrations } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const { TEST_MIGRATIONS, TEST_SCHEMA, SCHEMA_CHECK_DB } = env as unknown as {
	TEST_MIGRATIONS: D1Migration[];
	TEST_SCHEMA: string[];
	SCHEMA_CHECK_DB: D1Database;
};

interface Shape {
	tables: Record<string, unknown[]>;
	indexes: Record<string, { table: string; unique: number; partial: number; columns: string[] }>;
	/** Each trigger's definition, whitespace folded (the rollups are kept by them). */
	triggers: Record<string, string>;
}

/** Tables, their columns and their indexes, as SQLite itself reports them (bookkeeping tables left out). */
async function shapeOf(db: D1Database): Promise<Shape> {
	const tables = await db
		.prepare(
			"SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name <> 'd1_migrations' ORDER BY name",
		)
		.all<{ name: string }>();
	const triggers = await db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all<{ name: string; sql: string }>();
	const shape: Shape = { tables: {}, indexes: {}, triggers: Object.fromEntries(triggers.results.map((t) => [t.name, t.sql.replace(/\s+/g, " ")])) };
	for (const { name } of tables.results) {
		const columns = await db.prepare(`SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`).bind(name).all();
		shape.tables[name] = columns.results;
		const indexes = await db
			.prepare(`SELECT name, "unique", partial FROM pragma_index_list(?) WHERE origin = 'c'`)
			.bind(name)
			.all<{ name: string; unique: number; partial: number }>();
		for (const index of indexes.results) {
			const columnsOfIndex = await db.prepare("SELECT name FROM pragma_index_info(?) ORDER BY seqno").bind(index.name).all<{ name: string }>();
			shape.indexes[index.name] = { table: name, unique: index.unique, partial: index.partial, columns: columnsOfIndex.results.map((c) => c.name) };
		}
	}
	return shape;
}

/** The WHERE of each partial index, which pragma_index_list only flags. */
async function partialIndexConditions(db: D1Database): Promise<Record<string, string>> {
	const rows = await db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql LIKE '%WHERE%'").all<{ name: string; sql: string }>();
	return Object.fromEntries(rows.results.map((row) => [row.name, row.sql.replace(/\s+/g, " ").replace(/^.*\bWHERE\b/i, "").trim()]));
}

async function resetCheckDb(): Promise<void> {
	const objects = await SCHEMA_CHECK_DB.prepare(
		"SELECT type, name FROM sqlite_master WHERE type IN ('table', 'index', 'trigger') AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND sql IS NOT NULL",
	).all<{ type: string; name: string }>();
	for (const object of objects.results.filter((o) => o.type === "table")) await SCHEMA_CHECK_DB.prepare(`DROP TABLE "${object.name}"`).run();
}

describe("schema.sql and migrations/", () => {
	it("give the same tables, columns and indexes", async () => {
		await resetCheckDb();
		await SCHEMA_CHECK_DB.batch(TEST_SCHEMA.map((statement) => SCHEMA_CHECK_DB.prepare(statement)));
		const fromSchema = await shapeOf(SCHEMA_CHECK_DB);
		const fromMigrations = await shapeOf(env.DB); // test/worker/setup.ts applied every migration

		expect(Object.keys(fromMigrations.tables)).toContain("tasks");
		expect(Object.keys(fromMigrations.indexes).length).toBeGreaterThanOrEqual(4);
		expect(Object.keys(fromMigrations.triggers).length).toBeGreaterThanOrEqual(4);
		expect(fromMigrations).toEqual(fromSchema);
		expect(await partialIndexConditions(env.DB)).toEqual(await partialIndexConditions(SCHEMA_CHECK_DB));
	});

	it("upgrade a database made by the pre-migrations schema.sql, keeping its tasks", async () => {
		await resetCheckDb();
		// The first migration is the schema.sql that databases were created with before migrations.
		const first = TEST_MIGRATIONS[0];
		expect(first?.name).toMatch(/^0001_/);
		await SCHEMA_CHECK_DB.batch((first as D1Migration).queries.map((statement) => SCHEMA_CHECK_DB.prepare(statement)));
		await SCHEMA_CHECK_DB.prepare(
			"INSERT INTO tasks (task_id, prompt, status, next_poll_at, created_at, updated_at, version) VALUES ('old-task', 'an old prompt', 'PENDING', 1, 1, 1, 1)",
		).run();

		await applyD1Migrations(SCHEMA_CHECK_DB, TEST_MIGRATIONS);

		const applied = await SCHEMA_CHECK_DB.prepare("SELECT name FROM d1_migrations ORDER BY id").all<{ name: string }>();
		expect(applied.results.map((row) => row.name)).toEqual(TEST_MIGRATIONS.map((migration) => migration.name));
		const kept = await SCHEMA_CHECK_DB.prepare("SELECT task_id, prompt, status FROM tasks").all();
		expect(kept.results).toEqual([{ task_id: "old-task", prompt: "an old prompt", status: "PENDING" }]);
		expect(await shapeOf(SCHEMA_CHECK_DB)).toEqual(await shapeOf(env.DB));
	});
});
