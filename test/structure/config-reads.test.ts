/**
 * Variables and secrets are read in src/config/config.ts alone: every other file reaches `env`
 * only for its bindings, passed on as they are.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { SRC, sourceFiles } from "./source-files";

/** Bindings (wrangler.toml), not variables: reached through env wherever they are used. */
const BINDINGS = new Set(["DB", "ARCHIVE", "TASKS", "IDEMPOTENCY", "CREATE_LIMITER", "TENANT_QUOTA", "HELD_CALLBACKS", "ASSETS"]);
const CONFIG = join(SRC, "config/config.ts");

function variablesRead(text: string): string[] {
	return [...text.matchAll(/\benv\??\.([A-Z][A-Z0-9_]*)/g)].map((match) => match[1] as string);
}

describe("reading the environment", () => {
	it("reads variables in src/config/config.ts only", () => {
		const readers = sourceFiles()
			.filter((file) => file !== CONFIG)
			.flatMap((file) =>
				variablesRead(readFileSync(file, "utf8"))
					.filter((name) => !BINDINGS.has(name))
					.map((name) => `${relative(SRC, file)}: ${name}`),
			);
		expect(readers).toEqual([]);
	});

	it("lists every variable config.ts reads among those whose change makes readConfig parse again", () => {
		const text = readFileSync(CONFIG, "utf8");
		const read = new Set(variablesRead(text));
		const listed = /const VARIABLES = \[([^\]]*)\]/.exec(text)?.[1] ?? "";
		const watched = new Set([...listed.matchAll(/"([A-Z][A-Z0-9_]*)"/g)].map((match) => match[1] as string));
		expect(read.size).toBeGreaterThan(10);
		expect([...read].filter((name) => !watched.has(name))).toEqual([]);
	});
});
