/**
 * A cold start evaluates only what the Durable Objects and the cron need: src/index.ts imports the
 * HTTP app (every route, its schemas, the OpenAPI document) on the first request, so nothing it
 * imports statically reaches src/routes/. Startup CPU is measured by `npm run bench:startup`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SRC, importGraph } from "./source-files";

describe("a cold start", () => {
	it("does not evaluate the routes: src/index.ts imports them on the first request", () => {
		const graph = importGraph();
		const reached = new Set<string>();
		const queue = ["index.ts"];
		while (queue.length > 0) {
			const file = queue.shift() as string;
			if (reached.has(file)) continue;
			reached.add(file);
			queue.push(...(graph.get(file) ?? []));
		}
		expect([...reached].filter((file) => file.startsWith("routes/"))).toEqual([]);
		expect(readFileSync(join(SRC, "index.ts"), "utf8")).toContain('import("./routes/app")');
	});
});
