/**
 * How src/ hangs together, checked from its source text: every import names a file, no import
 * cycle between files, and folders import one way only, as FOLDER_IMPORTS allows, so the flow
 * reads from the folder names (routes → create → task → db; cron → task).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { SRC, folderOf, importGraph } from "./source-files";

/**
 * Which folders each folder of src/ may import from (besides itself). Each list names only folders
 * listed before it, which is what makes the imports one way, with no cycle between folders. The
 * files at the top of src/ (index.ts) may import anything.
 */
const FOLDER_IMPORTS: ReadonlyArray<[folder: string, mayImport: string[]]> = [
	["domain", []],
	["lib", []],
	["config", ["lib"]],
	["schemas", ["domain"]],
	["security", ["config", "domain", "lib"]],
	["db", ["domain", "lib"]],
	["archive", ["domain"]],
	["upstream", ["config", "domain", "lib", "schemas"]],
	["webhooks", ["config", "domain", "lib", "schemas", "security"]],
	["tenants", ["config", "lib", "security"]],
	["idempotency", ["domain", "lib"]],
	["early-callbacks", ["config", "db", "domain", "idempotency", "lib", "security", "upstream"]],
	["task", ["archive", "config", "db", "domain", "early-callbacks", "lib", "security", "upstream", "webhooks"]],
	["create", ["config", "db", "domain", "idempotency", "lib", "security", "task", "tenants", "upstream"]],
	["cron", ["archive", "config", "db", "domain", "early-callbacks", "lib", "task"]],
	[
		"routes",
		["archive", "config", "create", "db", "domain", "early-callbacks", "idempotency", "lib", "schemas", "security", "task", "tenants", "upstream", "webhooks"],
	],
];

/** Every import that crosses folders against FOLDER_IMPORTS, as "file -> target". */
function backImports(graph: Map<string, string[]>): string[] {
	const allowed = new Map(FOLDER_IMPORTS.map(([folder, mayImport]) => [folder, new Set([folder, ...mayImport])]));
	return [...graph].flatMap(([file, targets]) => {
		const from = folderOf(file);
		if (from === ".") return [];
		return targets
			.filter((target) => target.startsWith("..") === false && !target.endsWith(".json"))
			.filter((target) => !allowed.get(from)?.has(folderOf(target)))
			.map((target) => `${file} -> ${target}`);
	});
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

describe("src/ imports", () => {
	const graph = importGraph();

	it("reads every file's imports, and every import names a file that exists", () => {
		expect(graph.size).toBeGreaterThan(60);
		for (const [file, targets] of graph) for (const target of targets) {
			// A source file of src/, or a data file read at build time (package.json's version).
			expect(graph.has(target) || (target.endsWith(".json") && existsSync(resolve(SRC, target))), `${file} -> ${target}`).toBe(true);
		}
	});

	it("has no import cycle between files", () => {
		expect(findCycle(graph)).toBeNull();
		expect(findCycle(new Map([["a.ts", ["b.ts"]], ["b.ts", ["a.ts"]]]))).toEqual(["a.ts", "b.ts", "a.ts"]);
	});

	it("lists every folder of src/ in FOLDER_IMPORTS, each allowed only folders listed before it", () => {
		const folders = new Set([...graph.keys()].map(folderOf).filter((folder) => folder !== "."));
		expect([...folders].sort()).toEqual(FOLDER_IMPORTS.map(([folder]) => folder).sort());
		FOLDER_IMPORTS.forEach(([folder, mayImport], index) => {
			const earlier = new Set(FOLDER_IMPORTS.slice(0, index).map(([name]) => name));
			for (const target of mayImport) expect(earlier.has(target), `${folder} may import ${target}, listed after it`).toBe(true);
		});
	});

	it("imports between folders only as FOLDER_IMPORTS allows", () => {
		expect(backImports(graph)).toEqual([]);
	});

	it("fails on a planted back-import (the check itself works)", () => {
		const planted = new Map([...graph, ["task/planted.ts", ["routes/app.ts"]], ["domain/planted.ts", ["lib/log.ts"]]]);
		expect(backImports(planted)).toEqual(["task/planted.ts -> routes/app.ts", "domain/planted.ts -> lib/log.ts"]);
	});
});
