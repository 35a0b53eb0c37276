/**
 * `npm start`, the benches and the e2e tests start `wrangler dev` (and its workerd) through
 * scripts/process-group.mjs: however the starter ends (SIGINT, SIGTERM, SIGKILL), no process of
 * the group outlives it for more than a moment; and a starter that stops the group itself finds
 * it gone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const STARTER = fileURLToPath(new URL("./fixtures/group-starter.mjs", import.meta.url));

interface Pids {
	starter: number;
	guard: number;
	command: number;
	grandchild: number;
}

async function startGroup(): Promise<{ starter: ChildProcess; pids: Pids }> {
	const starter = spawn(process.execPath, [STARTER], { stdio: ["ignore", "pipe", "inherit"] });
	const line = await new Promise<string>((resolve, reject) => {
		starter.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString()));
		starter.once("exit", () => reject(new Error("the starter exited before starting its group")));
	});
	return { starter, pids: JSON.parse(line) as Pids };
}

/** Running: a zombie (ended, not yet reaped by an init that may never reap it) is not. */
function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
	} catch {
		return false;
	}
	if (process.platform !== "linux") return true;
	try {
		return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
	} catch {
		return false;
	}
}

async function allGone(pids: number[], withinMs: number): Promise<number[]> {
	const deadline = Date.now() + withinMs;
	for (;;) {
		const left = pids.filter(alive);
		if (left.length === 0 || Date.now() > deadline) return left;
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

describe("a guarded process group", () => {
	it.each(["SIGKILL", "SIGTERM", "SIGINT"] as const)("ends with its starter when the starter gets %s", async (signal) => {
		const { starter, pids } = await startGroup();
		const group = [pids.guard, pids.command, pids.grandchild];
		expect(group.filter(alive)).toEqual(group);
		starter.kill(signal);
		expect(await allGone(group, 3000)).toEqual([]);
	});

	it("is stopped the orderly way by stopGroup, its command's children with it", async () => {
		const { spawnGroup, stopGroup } = await import("../../scripts/process-group.mjs");
		const command = "require('node:child_process').spawn(process.execPath, ['-e', 'console.log(process.pid); setInterval(() => {}, 1000)'], { stdio: 'inherit' }); setInterval(() => {}, 1000)";
		const guard = spawnGroup(process.execPath, ["-e", command], { stdio: ["ignore", "pipe", "inherit"] });
		const grandchild = Number(await new Promise<string>((resolve) => guard.stdout?.once("data", (chunk: Buffer) => resolve(chunk.toString()))));
		await stopGroup(guard);
		expect(await allGone([guard.pid as number, grandchild], 1000)).toEqual([]);
	});
});
