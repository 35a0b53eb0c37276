/**
 * Every long-running child the scripts, benches and test setups start (`wrangler dev` above all)
 * goes through scripts/process-group.mjs, whose guard ends it with its starter: a plain `spawn`
 * elsewhere could outlive whatever started it. Short-lived `spawnSync` calls are fine.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, filesUnder } from "../structure/source-files";

const ALLOWED = new Set(["scripts/process-group.mjs", "scripts/group-guard.mjs", "test/scripts/fixtures/group-starter.mjs"]);
/**
 * Short-lived children in the starter's own process group, ended by the code that starts them: the
 * CLI under test (it runs and exits), the simulator's self-check of its own start and stop, and
 * the tests of this guard itself.
 */
const OWN_CHILDREN = new Set([
	"test/e2e/cli.test.ts",
	"simulator/selfcheck.mjs",
	"test/scripts/process-group.test.ts",
	"test/scripts/npm-start-stop.test.ts",
]);

/** Imports one of child_process's functions that start a child and return at once. */
function startsChildren(text: string): boolean {
	const imports = [...text.matchAll(/import\s*\{([^}]*)\}\s*from\s*["'](?:node:)?child_process["']/g)].flatMap((match) =>
		(match[1] as string).split(",").map((name) => name.trim().split(/\s+as\s+/)[0]),
	);
	return imports.some((name) => ["spawn", "fork", "exec", "execFile"].includes(name as string));
}

describe("long-running children", () => {
	it("are started through spawnGroup only", () => {
		const files = ["scripts", "bench", "test", "simulator", "cli", "bin"].flatMap((dir) =>
			filesUnder(join(ROOT, dir), (path) => /\.(m?js|ts|mts)$/.test(path), new Set(["node_modules", ".state"])),
		);
		const offenders = files
			.map((file) => relative(ROOT, file))
			.filter((file) => !ALLOWED.has(file) && !OWN_CHILDREN.has(file))
			.filter((file) => startsChildren(readFileSync(join(ROOT, file), "utf8")));
		expect(offenders).toEqual([]);
	});
});
