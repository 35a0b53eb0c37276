/** Small files with one job each: no file of src/ over MAX_LINES lines. */
import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { expect, it } from "vitest";
import { SRC, sourceFiles } from "./source-files";

const MAX_LINES = 250;

function longFiles(files: Array<{ path: string; text: string }>): string[] {
	return files.filter(({ text }) => text.replace(/\n$/, "").split("\n").length > MAX_LINES).map(({ path }) => path);
}

it(`keeps every file of src/ to at most ${MAX_LINES} lines`, () => {
	const files = sourceFiles().map((path) => ({ path: relative(SRC, path), text: readFileSync(path, "utf8") }));
	expect(files.length).toBeGreaterThan(60);
	expect(longFiles(files)).toEqual([]);
	// The check itself works.
	expect(longFiles([{ path: "long.ts", text: "x\n".repeat(MAX_LINES + 1) }])).toEqual(["long.ts"]);
});
