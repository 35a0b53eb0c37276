/**
 * The command-line client as a newcomer runs it: a child process (Node 22, like `npm run lyrics`)
 * against the gateway under `wrangler dev` and the simulator, configured through the environment.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, inject, it } from "vitest";
import { createServer } from "node:http";
import { connect } from "node:net";
import { call, eventually, gatewayUrl, recordInfo, sim, unique } from "./client";

const CLI = fileURLToPath(new URL("../../bin/lyrics-gateway.mjs", import.meta.url));
const apiKey = inject("apiKey");

interface Run {
	code: number | null;
	stdout: string;
	stderr: string;
}

/** Runs the CLI; `onStderr` sees its progress as it comes (all of stderr so far). */
function runCli(args: string[], env: Record<string, string> = {}, onStderr?: (stderr: string) => void): Promise<Run> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [CLI, ...args], {
			env: { ...process.env, LYRICS_GATEWAY_URL: gatewayUrl, LYRICS_GATEWAY_API_KEY: apiKey, ...env },
			stdio: ["ignore", "pipe", "pipe"],
		});
		let stdout = "";
		let stderr = "";
		child.stdout.on("data", (chunk) => (stdout += chunk));
		child.stderr.on("data", (chunk) => {
			stderr += chunk;
			onStderr?.(stderr);
		});
		child.once("error", reject);
		child.once("close", (code) => resolve({ code, stdout, stderr }));
	});
}

/** Whether a connection to the port is refused right now (nothing listens there). */
function refuses(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = connect(port, "127.0.0.1");
		socket.once("connect", () => {
			socket.destroy();
			resolve(false);
		});
		socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
	});
}

/** A URL on which nothing listens: a port this test bound and closed, confirmed to refuse connections. */
async function closedPortUrl(): Promise<string> {
	for (let attempt = 0; attempt < 10; attempt++) {
		const port = await new Promise<number>((resolve) => {
			const server = createServer().listen(0, "127.0.0.1", () => {
				const { port } = server.address() as { port: number };
				server.close(() => resolve(port));
			});
		});
		if (await refuses(port)) return `http://127.0.0.1:${port}`;
	}
	throw new Error("no closed port found in 10 tries");
}

interface SimTask {
	taskId: string;
	lyrics: Array<{ title: string; text: string }>;
}

describe("the lyrics-gateway CLI", () => {
	it("creates a task, shows it pending while it waits, and prints every variation's title and text", async () => {
		const prompt = unique("A song about a lighthouse keeper");
		// The simulator holds the callback until the CLI has shown the task PENDING, whatever the machine's speed.
		const gate = `cli-pending-${crypto.randomUUID()}`;
		await sim("/__sim/scripts", { match: prompt, callbackDelayMs: 0, callbackGate: gate });
		let released = false;
		const run = await runCli([prompt], {}, (stderr) => {
			if (released || !/PENDING/.test(stderr)) return;
			released = true;
			void sim(`/__sim/gates/${gate}/open`, {});
		});
		expect(run.code, run.stderr).toBe(0);
		expect(released).toBe(true);

		const [upstream] = (await sim<{ tasks: SimTask[] }>(`/__sim/tasks?match=${encodeURIComponent(prompt)}`)).tasks;
		expect(upstream.lyrics.length).toBeGreaterThanOrEqual(2);
		for (const variation of upstream.lyrics) {
			expect(run.stdout).toContain(`${variation.title}\n\n${variation.text}`);
		}
		expect(run.stdout).toContain("[Chorus]");
		// Not a terminal: plain progress lines on stderr, no escape codes anywhere.
		expect(run.stderr).toMatch(new RegExp(`task ${upstream.taskId}\\s+PENDING \\(\\d+ s\\)`));
		expect(run.stdout + run.stderr).not.toContain("\x1b[");
	});

	it("exits 1 with the task's own message when the lyrics fail", async () => {
		const prompt = unique("A song the upstream refuses");
		await sim("/__sim/scripts", { match: prompt, callback: "fail", failCode: 400, failMsg: "Lyrics could not be written." });
		const run = await runCli(["create", prompt, "--timeout", "20"]);
		expect(run.code).toBe(1);
		expect(run.stderr).toContain("GENERATE_LYRICS_FAILED (code 400): Lyrics could not be written.");
	});

	it("exits 1 with the gateway's 401 message for a wrong key, without printing the key", async () => {
		const wrongKey = "not-the-right-key-4711";
		const expected = await call("/api/v1/lyrics/tasks", { headers: { authorization: `Bearer ${wrongKey}` } });
		expect(expected.status).toBe(401);
		const run = await runCli(["A song nobody may order"], { LYRICS_GATEWAY_API_KEY: wrongKey });
		expect(run.code).toBe(1);
		expect(run.stderr).toContain(expected.body.msg);
		expect(run.stdout + run.stderr).not.toContain(wrongKey);
	});

	it("exits 1 with the gateway's 404 message for an unknown taskId", async () => {
		const taskId = `unknown-${crypto.randomUUID()}`;
		const expected = await recordInfo(taskId);
		expect(expected.status).toBe(404);
		const run = await runCli(["get", taskId]);
		expect(run.code).toBe(1);
		expect(run.stderr).toContain(expected.body.msg);
	});

	it("lists a task it created, and gets it as parseable JSON", async () => {
		const prompt = unique("A song about a list");
		const created = await runCli(["create", prompt, "--no-wait"]);
		expect(created.code, created.stderr).toBe(0);
		const taskId = created.stdout.trim();
		expect(taskId).toMatch(/^[0-9a-f]{32}$/);

		const listed = await runCli(["list", "--limit", "100"]);
		expect(listed.code, listed.stderr).toBe(0);
		expect(listed.stdout).toMatch(new RegExp(`${taskId}\\s+${prompt}`));

		await eventually(async () => ((await recordInfo(taskId)).body.data.status === "SUCCESS" ? true : undefined));
		const got = await runCli(["get", taskId, "--json"]);
		expect(got.code, got.stderr).toBe(0);
		const envelope = JSON.parse(got.stdout);
		expect(envelope).toMatchObject({ code: 200, data: { taskId, status: "SUCCESS" } });
		expect(envelope).toEqual((await recordInfo(taskId)).body);

		const page = JSON.parse((await runCli(["list", "--json", "--limit", "100"])).stdout);
		expect(page.data.items.map((item: { taskId: string }) => item.taskId)).toContain(taskId);
	});

	it("deletes a task, and then gets 404 for it, exiting 1", async () => {
		const created = await runCli(["create", unique("A song soon deleted"), "--no-wait"]);
		expect(created.code, created.stderr).toBe(0);
		const taskId = created.stdout.trim();
		const deleted = await runCli(["delete", taskId]);
		expect(deleted.code, deleted.stderr).toBe(0);
		expect(deleted.stdout).toBe(`Deleted task ${taskId}.\n`);
		expect((await recordInfo(taskId)).status).toBe(404);
		const again = await runCli(["delete", taskId]);
		expect(again.code).toBe(1);
		expect(again.stderr).toMatch(/404/);
	});

	it("shows the owner column to an admin key only, and usage for a client and an admin", async () => {
		const prompt = unique("A song about whose task this is");
		const created = await runCli(["create", prompt, "--no-wait"]);
		expect(created.code, created.stderr).toBe(0);
		const taskId = created.stdout.trim();

		const client = await runCli(["list", "--limit", "100"]);
		expect(client.stdout.split("\n")[0]).not.toMatch(/owner/);
		const admin = await runCli(["list", "--limit", "100"], { LYRICS_GATEWAY_API_KEY: inject("adminApiKey") });
		expect(admin.code, admin.stderr).toBe(0);
		expect(admin.stdout.split("\n")[0]).toMatch(/^created\s+owner\s+status\s+taskId\s+prompt/);
		expect(admin.stdout).toMatch(new RegExp(`\\sdev\\s+\\w+\\s+${taskId}\\s+${prompt}`));
		const narrowed = await runCli(["list", "--owner", "dev", "--limit", "100"], { LYRICS_GATEWAY_API_KEY: inject("adminApiKey") });
		expect(narrowed.stdout).toContain(taskId);
		const refused = await runCli(["list", "--owner", "someone-else"]);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toMatch(/403/);

		const usage = await runCli(["usage"]);
		expect(usage.code, usage.stderr).toBe(0);
		expect(usage.stdout).toMatch(/^dev\s+\d{4}-\d{2}-\d{2}\s+\d+ creates? today \(no daily quota\)/);
		const usageJson = JSON.parse((await runCli(["usage", "--json"])).stdout);
		expect(usageJson.data).toMatchObject({ tenant: "dev", quota: null });
		const all = await runCli(["usage"], { LYRICS_GATEWAY_API_KEY: inject("adminApiKey") });
		expect(all.code, all.stderr).toBe(0);
		expect(all.stdout).toMatch(/^tenant\s+creates\s+quota\s+remaining/);
		expect(all.stdout).toMatch(/\ncapped\s+\d+\s+3\s+\d+/);
		expect(all.stdout).toMatch(/\ndev\s+[1-9]\d*\s+-\s+-/);
	});

	it("exits 3 when the wait runs out, naming the command that picks the task up", async () => {
		const prompt = unique("A song that takes its time");
		await sim("/__sim/scripts", { match: prompt, callback: "drop" });
		const run = await runCli([prompt, "--timeout", "1"]);
		expect(run.code).toBe(3);
		const [upstream] = (await sim<{ tasks: SimTask[] }>(`/__sim/tasks?match=${encodeURIComponent(prompt)}`)).tasks;
		expect(run.stderr).toContain(`Task ${upstream.taskId} is still PENDING`);
		expect(run.stderr).toContain(`lyrics-gateway get ${upstream.taskId} --wait`);
	});

	it("names the URL and suggests npm start when nothing listens there", async () => {
		const nowhere = await closedPortUrl();
		const run = await runCli(["A song for nobody"], { LYRICS_GATEWAY_URL: nowhere });
		expect(run.code).toBe(1);
		expect(run.stderr).toContain(`Cannot reach the gateway at ${nowhere}: connection refused`);
		expect(run.stderr).toContain("npm start");
	});

	it("exits 2 on a usage error before sending anything", async () => {
		const run = await runCli(["list", "--status", "DONE"]);
		expect(run.code).toBe(2);
		expect(run.stderr).toContain("--status must be one of");
	});
});

/**
 * What the gateway cannot show from outside: the headers of each create attempt. A stand-in
 * gateway answers creates from a script and records what the CLI sent.
 */
describe("the CLI's creates, seen by a stand-in gateway", () => {
	interface Seen {
		method: string;
		url: string;
		idempotencyKey: string | undefined;
		body: string;
	}

	async function standIn(answers: Array<{ status: number; body: unknown; headers?: Record<string, string> }>) {
		const seen: Seen[] = [];
		const server = createServer((request, response) => {
			let body = "";
			request.on("data", (chunk) => (body += chunk));
			request.on("end", () => {
				seen.push({ method: request.method ?? "", url: request.url ?? "", idempotencyKey: request.headers["idempotency-key"] as string | undefined, body });
				const answer = answers.length > 1 ? answers.shift()! : answers[0];
				response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
				response.end(JSON.stringify(answer.body));
			});
		});
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		const { port } = server.address() as { port: number };
		return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(resolve)) };
	}

	const created = { status: 200, body: { code: 200, msg: "success", data: { taskId: "abc123" } } };

	it("retries a 502 with the same Idempotency-Key, a fresh one per run", async () => {
		const gateway = await standIn([{ status: 502, body: { code: 500, msg: "The upstream failed.", data: null } }, created]);
		try {
			const first = await runCli(["create", "A song", "--no-wait"], { LYRICS_GATEWAY_URL: gateway.url });
			expect(first.code, first.stderr).toBe(0);
			expect(first.stdout.trim()).toBe("abc123");
			expect(first.stderr).toContain("The upstream failed.");
			const second = await runCli(["create", "A song", "--no-wait"], { LYRICS_GATEWAY_URL: gateway.url });
			expect(second.code, second.stderr).toBe(0);

			expect(gateway.seen.map((request) => `${request.method} ${request.url}`)).toEqual(Array(3).fill("POST /api/v1/lyrics"));
			const [retried, retry, nextRun] = gateway.seen.map((request) => request.idempotencyKey);
			expect(retried).toMatch(/^[0-9a-f-]{36}$/);
			expect(retry).toBe(retried);
			expect(nextRun).not.toBe(retried);
			expect(JSON.parse(gateway.seen[0].body)).toEqual({ prompt: "A song" });
		} finally {
			await gateway.close();
		}
	});

	it("waits out a 429's Retry-After once, then reports the gateway's message", async () => {
		const limited = { status: 429, body: { code: 429, msg: "Too many creates; slow down.", data: null }, headers: { "retry-after": "1" } };
		const gateway = await standIn([limited]);
		try {
			const started = Date.now();
			const run = await runCli(["create", "A song", "--no-wait"], { LYRICS_GATEWAY_URL: gateway.url });
			expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
			expect(run.code).toBe(1);
			expect(run.stderr).toContain("Too many creates; slow down.");
			expect(run.stderr).toContain("Try again in 1 s.");
			expect(gateway.seen).toHaveLength(2);
		} finally {
			await gateway.close();
		}
	});
});
