/**
 * Every repository path a comment or a document names exists: `src/task/task-object.ts`,
 * `docs/design.md`, `./adoption.ts` beside the file that names it. A file that moves takes its
 * mentions with it, or this fails naming each one left behind.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { ROOT, filesUnder } from "./source-files";

/** Where paths are named: code, tests, scripts, documents and configuration. */
const SEARCHED = /\.(ts|mts|mjs|js|md|sql|toml|html|css|json|example)$|\/run$/;
/** Folders that are not the project's own text (installed, generated or copied in). */
const SKIPPED = new Set(["node_modules", ".git", ".wrangler", "public/docs/swagger-ui", "public/admin/chart.js", "test-output", "dist"]);
const TOP_FOLDERS = ["src", "test", "docs", "scripts", "bench", "migrations", "public", "simulator", "cli", "bin", ".ci"];
/** A path from the repository's root: a top folder, then segments (not part of a URL or a longer path). */
const ROOTED = new RegExp(`(?<![\\w./@:-])(?:${TOP_FOLDERS.map((folder) => folder.replace(".", "\\.")).join("|")})/[\\w.-]+(?:/[\\w.-]+)*`, "g");
/** A path beside the naming file: ./name.ext or ../folder/name.ext (imports name no extension). */
const RELATIVE = /(?<![\w./-])\.\.?\/[\w./-]*\.(?:ts|mjs|md|sql|json|js)\b/g;

export function missingPaths(files: Array<{ path: string; text: string }>, exists: (path: string) => boolean): string[] {
	return files.flatMap(({ path, text }) => {
		const rooted = [...text.matchAll(ROOTED)].map((match) => match[0].replace(/[.,]+$/, "")).filter((named) => !exists(named));
		const beside = [...text.matchAll(RELATIVE)]
			.map((match) => match[0])
			.filter((named) => !exists(join(dirname(path), named)))
			.map((named) => `${named} (beside it)`);
		return [...rooted, ...beside].map((named) => `${path}: ${named}`);
	});
}

it("names only paths that exist, in every comment and document", () => {
	const files = filesUnder(ROOT, (path) => SEARCHED.test(path) && !path.endsWith("package-lock.json"), SKIPPED)
		.map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, "utf8") }))
		// This file's own examples name paths that do not exist, on purpose.
		.filter(({ path }) => path !== "worker-configuration.d.ts" && path !== relative(ROOT, fileURLToPath(import.meta.url)));
	expect(files.length).toBeGreaterThan(150);
	expect(missingPaths(files, (path) => existsSync(join(ROOT, path)))).toEqual([]);
	// The check itself works: a moved file's mention is caught.
	expect(missingPaths([{ path: "src/a/b.ts", text: "see src/gone/away.ts and ./here.ts" }], () => false)).toEqual([
		"src/a/b.ts: src/gone/away.ts",
		"src/a/b.ts: ./here.ts (beside it)",
	]);
});
