/**
 * How src/ hangs together, checked from its source text: no import cycle anywhere, the shared
 * domain types in a leaf that imports nothing else of the gateway, and every variable of the
 * environment read in src/config.ts alone (other files reach env only for its bindings).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");
/** Bindings (wrangler.toml), not variables: reached through env wherever they are used. */
const BINDINGS = new Set(["DB", "TASKS", "IDEMPOTENCY", "CREATE_LIMITER", "TENANT_QUOTA", "HELD_CALLBACKS", "ASSETS"]);

function sourceFiles(dir: string): string[] {
	return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
		const path = join(dir, entry.name);
		if (entry.isDirectory()) return sourceFiles(path);
		return path.endsWith(".ts") && !path.endsWith(".d.ts") ? [path] : [];
	});
}

/** Each file's relative imports (type-only ones too: a cycle of types is still a cycle to read). */
function importGraph(): Map<string, string[]> {
	const graph = new Map<string, string[]>();
	for (const file of sourceFiles(SRC)) {
		const text = readFileSync(file, "utf8");
		const targets = [...text.matchAll(/^\s*(?:import|export)\b[^;]*?from\s+"(\.[^"]+)"/gms)].map((match) => {
			const specifier = match[1] as string;
			// TypeScript sources are imported without their extension; other files (JSON) with it.
			const path = resolve(dirname(file), specifier);
			return relative(SRC, /\.json$/.test(specifier) ? path : `${path}.ts`);
		});
		graph.set(relative(SRC, file), targets);
	}
	return graph;
}

function findCycle(graph: Map<string, string[]>): string[] | null {
	const state = new Map<string, "open" | "done">();
	const path: string[] = [];
	const visit = (node: string): string[] | null => {
		if (state.get(node) === "done") return null;
		if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
		state.set(node, "open");
		path.push(node);
		for (const next of graph.get(node) ?? []) {
			const cycle = visit(next);
			if (cycle) return cycle;
		}
		path.pop();
		state.set(node, "done");
		return null;
	};
	for (const node of graph.keys()) {
		const cycle = visit(node);
		if (cycle) return cycle;
	}
	return null;
}

describe("src/ import structure", () => {
	const graph = importGraph();

	it("reads every file's imports, and every import names a file that exists", () => {
		expect(graph.size).toBeGreaterThan(40);
		for (const [file, targets] of graph) for (const target of targets) {
			// A source file of src/, or a data file read at build time (package.json's version).
			expect(graph.has(target) || (target.endsWith(".json") && existsSync(resolve(SRC, target))), `${file} -> ${target}`).toBe(true);
		}
	});

	it("has no import cycle", () => {
		expect(findCycle(graph)).toBeNull();
	});

	it("finds a cycle when there is one (the check itself works)", () => {
		const looped = new Map([...graph, ["domain/task-record.ts", ["routes/lyrics.ts"]]]);
		expect(findCycle(new Map([["a.ts", ["b.ts"]], ["b.ts", ["a.ts"]]]))).toEqual(["a.ts", "b.ts", "a.ts"]);
		expect(findCycle(looped)).not.toBeNull();
	});

	it("keeps the domain types a leaf: src/domain imports only src/domain", () => {
		const domain = [...graph].filter(([file]) => file.startsWith("domain/"));
		expect(domain.length).toBeGreaterThanOrEqual(3);
		for (const [file, targets] of domain) for (const target of targets) expect(target, file).toMatch(/^domain\//);
	});

	it("reads environment variables in src/config.ts only", () => {
		const readers = sourceFiles(SRC)
			.filter((file) => !file.endsWith("config.ts") && !file.endsWith("env.d.ts"))
			.flatMap((file) =>
				[...readFileSync(file, "utf8").matchAll(/\benv\??\.([A-Z][A-Z0-9_]*)/g)]
					.map((match) => match[1] as string)
					.filter((name) => !BINDINGS.has(name))
					.map((name) => `${relative(SRC, file)}: ${name}`),
			);
		expect(readers).toEqual([]);
	});

	it("lists every variable config.ts reads among those whose change makes readConfig parse again", () => {
		const text = readFileSync(join(SRC, "config/config.ts"), "utf8");
		const read = new Set([...text.matchAll(/\benv\??\.([A-Z][A-Z0-9_]*)/g)].map((match) => match[1] as string));
		const listed = /const VARIABLES = \[([^\]]*)\]/.exec(text)?.[1] ?? "";
		const watched = new Set([...listed.matchAll(/"([A-Z][A-Z0-9_]*)"/g)].map((match) => match[1] as string));
		expect(read.size).toBeGreaterThan(15);
		expect([...read].filter((name) => !watched.has(name))).toEqual([]);
	});
});
