/**
 * `npm run deploy` (scripts/deploy.mjs) never serves traffic against an unmigrated database: the
 * database exists and is migrated before `wrangler deploy` runs, on the first deploy too, and a
 * failed step stops the deploy. Run against a stand-in for wrangler that records each call.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { databaseName, deploy } from "../../scripts/deploy.mjs";

const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");

/** A wrangler that knows `databases` and fails the commands named in `failing`. */
function fakeWrangler(databases: string[], failing: string[] = []) {
	const calls: string[] = [];
	const wrangler = (args: string[]) => {
		const command = args.join(" ");
		calls.push(command);
		if (failing.some((prefix) => command.startsWith(prefix))) return { ok: false, stdout: "" };
		if (command === "d1 list --json") return { ok: true, stdout: JSON.stringify(databases.map((name) => ({ name, uuid: `id-${name}` }))) };
		return { ok: true, stdout: "" };
	};
	return { wrangler, calls };
}

describe("npm run deploy", () => {
	it("reads the database's name from wrangler.toml, which carries no database id", () => {
		expect(databaseName(toml)).toBe("lyrics-gateway");
		expect(toml).not.toMatch(/^\s*database_id\s*=/m);
	});

	it("creates and migrates the database before the first deploy", async () => {
		const { wrangler, calls } = fakeWrangler([]);
		await deploy({ wrangler, toml });
		expect(calls).toEqual(["d1 list --json", "d1 create lyrics-gateway", "d1 migrations apply DB --remote", "deploy"]);
	});

	it("migrates an existing database before each later deploy, and passes deploy's own arguments on", async () => {
		const { wrangler, calls } = fakeWrangler(["another-db", "lyrics-gateway"]);
		await deploy({ wrangler, toml, deployArgs: ["--env", "staging"] });
		expect(calls).toEqual(["d1 list --json", "d1 migrations apply DB --remote", "deploy --env staging"]);
	});

	it("deploys nothing when the migrations fail", async () => {
		const { wrangler, calls } = fakeWrangler(["lyrics-gateway"], ["d1 migrations apply"]);
		await expect(deploy({ wrangler, toml })).rejects.toThrow(/apply migrations failed; nothing was deployed/);
		expect(calls).not.toContain("deploy");
	});
});
