/** The source as text, for the structure tests: every file of src/ and its relative imports. */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const SRC = join(ROOT, "src");

/** Every file under `dir` whose name passes `keep`, skipping folders named in `skip`. */
export function filesUnder(dir: string, keep: (path: string) => boolean, skip: ReadonlySet<string> = new Set()): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) return skip.has(entry.name) || skip.has(relative(ROOT, path)) ? [] : filesUnder(path, keep, skip);
		return keep(path) ? [path] : [];
	});
}

/** The TypeScript sources of src/ (not declaration files). */
export function sourceFiles(): string[] {
	return filesUnder(SRC, (path) => path.endsWith(".ts") && !path.endsWith(".d.ts"));
}

/**
 * Each source file's relative imports, as paths from src/ (type-only ones too: a cycle of types
 * is still a cycle to read). A folder import names its index.ts.
 */
export function importGraph(): Map<string, string[]> {
	const graph = new Map<string, string[]>();
	for (const file of sourceFiles()) {
		const text = readFileSync(file, "utf8");
		const targets = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"(\.[^"]+)"/gms)].map((match) => {
			const specifier = match[1] as string;
			const path = resolve(dirname(file), specifier);
			// TypeScript sources are imported without their extension; other files (JSON) with it.
			if (/\.json$/.test(specifier)) return relative(SRC, path);
			return relative(SRC, existsSync(join(path, "index.ts")) ? join(path, "index.ts") : `${path}.ts`);
		});
		graph.set(relative(SRC, file), targets);
	}
	return graph;
}

/** The folder of src/ a file belongs to ("." for the files at the top). */
export function folderOf(path: string): string {
	return path.includes("/") && !path.startsWith("..") ? (path.split("/")[0] as string) : ".";
}
