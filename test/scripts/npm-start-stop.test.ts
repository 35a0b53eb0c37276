/**
 * `npm start` leaves nothing running however it is stopped: SIGTERM to npm (which ends npm and its
 * shell, not the script under them), or SIGKILL to the script itself. Each start is a real local
 * stack (wrangler dev, workerd, the simulator) on ports and state of its own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const states: string[] = [];
afterAll(() => {
	for (const state of states) rmSync(state, { recursive: true, force: true });
});

function freePort(): Promise<number> {
	return new Promise((resolve) => {
		const server = createServer().listen(0, "127.0.0.1", () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}

/** Every running process under `root` (zombies, ended and never reaped here, are not running). */
function descendants(root: number): number[] {
	const children = new Map<number, number[]>();
	for (const entry of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
			const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
			if (state === "Z") continue;
			children.set(Number(ppid), [...(children.get(Number(ppid)) ?? []), Number(entry)]);
		} catch {
			// ended while being read
		}
	}
	const found: number[] = [];
	const queue = [root];
	while (queue.length > 0) for (const child of children.get(queue.shift() as number) ?? []) found.push(child), queue.push(child);
	return found;
}

function running(pid: number): boolean {
	try {
		return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0] !== "Z";
	} catch {
		return false;
	}
}

async function startNpmStart(): Promise<{ npm: ChildProcess; tree: number[]; url: string }> {
	const state = mkdtempSync(join(tmpdir(), "lyrics-gateway-start-"));
	states.push(state);
	const [port, simPort] = [await freePort(), await freePort()];
	const npm = spawn("npm", ["start"], {
		cwd: ROOT,
		env: { ...process.env, PORT: String(port), SIM_PORT: String(simPort), INSPECTOR_PORT: "0", PERSIST_TO: state },
		stdio: ["ignore", "pipe", "pipe"],
	});
	let output = "";
	await new Promise<void>((resolve, reject) => {
		const look = (chunk: Buffer) => {
			output += chunk.toString();
			if (output.includes("lyrics-gateway is running at")) resolve();
		};
		npm.stdout?.on("data", look);
		npm.stderr?.on("data", look);
		npm.once("exit", () => reject(new Error(`npm start ended before it was running:\n${output}`)));
	});
	return { npm, tree: descendants(npm.pid as number), url: `http://127.0.0.1:${port}` };
}

async function leftRunning(pids: number[], withinMs: number): Promise<number[]> {
	const deadline = Date.now() + withinMs;
	for (;;) {
		const left = pids.filter(running);
		if (left.length === 0 || Date.now() > deadline) return left;
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
}

const onLinux = process.platform === "linux";

describe.skipIf(!onLinux)("npm start, stopped", () => {
	it.concurrent("with SIGTERM to npm: wrangler, workerd and the script all end", { timeout: 90_000 }, async () => {
		const { npm, tree, url } = await startNpmStart();
		expect((await fetch(`${url}/healthz`)).status).toBe(200);
		expect(tree.length).toBeGreaterThanOrEqual(4);
		npm.kill("SIGTERM");
		expect(await leftRunning(tree, 10_000)).toEqual([]);
		await expect(fetch(`${url}/healthz`)).rejects.toThrow();
	});

	it.concurrent("with SIGKILL to the script under npm: wrangler and workerd end", { timeout: 90_000 }, async () => {
		const { npm, tree } = await startNpmStart();
		const script = tree.find((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("scripts/dev.mjs")) as number;
		expect(script).toBeGreaterThan(0);
		process.kill(script, "SIGKILL");
		expect(await leftRunning(tree, 10_000)).toEqual([]);
		npm.kill("SIGTERM");
	});
});
