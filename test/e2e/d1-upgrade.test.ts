/**
 * The documented upgrade, run as an operator runs it: a D1 database created by the schema.sql
 * that predates migrations/, holding a task, takes `wrangler d1 migrations apply` (one command)
 * and keeps the task; a second apply finds nothing left to do.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const persistTo = mkdtempSync(join(tmpdir(), "lyrics-gateway-upgrade-"));
afterAll(() => rmSync(persistTo, { recursive: true, force: true }));

function wrangler(...args: string[]): string {
	const result = spawnSync(process.execPath, [join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js"), ...args, "--local", "--persist-to", persistTo], {
		cwd: ROOT,
		env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
		encoding: "utf8",
	});
	expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
	return result.stdout;
}

describe("upgrading a database created before migrations", () => {
	it("applies every migration with one command and keeps its tasks", () => {
		// The pre-migrations deployment step: schema.sql as it stood then, which is migration 0001.
		wrangler("d1", "execute", "DB", "--file", join(ROOT, "migrations", "0001_initial.sql"));
		wrangler(
			"d1",
			"execute",
			"DB",
			"--command",
			"INSERT INTO tasks (task_id, prompt, status, items, result_source, next_poll_at, created_at, updated_at, completed_at, version) VALUES ('kept-task', 'an old prompt', 'SUCCESS', '[]', 'callback', 1, 1, 2, 2, 3)",
		);

		const applied = wrangler("d1", "migrations", "apply", "DB");
		expect(applied).toContain("0001_initial.sql");

		const rows = JSON.parse(wrangler("d1", "execute", "DB", "--json", "--command", "SELECT task_id, prompt, status FROM tasks")) as {
			results: unknown[];
		}[];
		expect(rows[0]?.results).toEqual([{ task_id: "kept-task", prompt: "an old prompt", status: "SUCCESS" }]);
		// Stored before tenants existed: no owner, so only admin keys see it.
		const owners = JSON.parse(wrangler("d1", "execute", "DB", "--json", "--command", "SELECT task_id, owner FROM tasks")) as {
			results: unknown[];
		}[];
		expect(owners[0]?.results).toEqual([{ task_id: "kept-task", owner: null }]);
		expect(wrangler("d1", "migrations", "apply", "DB")).toMatch(/No migrations to apply/i);
	}, 120_000);
});
