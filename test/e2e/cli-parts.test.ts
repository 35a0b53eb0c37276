/**
 * The command-line client's pure pieces, in node without a gateway: argument parsing, output
 * formatting, and the create retry and wait policies against a scripted client. (They live in the
 * e2e project because it is the one that runs in node; cli.test.ts drives the real thing.)
 */
import { describe, expect, it } from "vitest";
import { GatewayError, UnreachableError, retryAfterSeconds } from "../../cli/api.mjs";
import { DEFAULT_KEY, DEFAULT_URL, UsageError, parseCommand } from "../../cli/args.mjs";
import { createWithRetries } from "../../cli/create.mjs";
import { formatTask, formatTaskList, formatUsage, styles, useEmphasis } from "../../cli/format.mjs";
import { invocation } from "../../cli/invocation.mjs";
import { StillPendingError, waitForTask } from "../../cli/wait.mjs";

const noEnv = {};

describe("parseCommand", () => {
	it("takes a bare prompt as a create that waits, against what npm start serves", () => {
		expect(parseCommand(["a", "song", "about", "rain"], noEnv)).toEqual({
			command: "create",
			prompt: "a song about rain",
			url: DEFAULT_URL,
			key: DEFAULT_KEY,
			json: false,
			callbackUrl: undefined,
			wait: true,
			timeoutMs: 300_000,
		});
	});

	it("prefers flags over the environment over the defaults, and trims the URL's trailing slash", () => {
		const env = { LYRICS_GATEWAY_URL: "https://gw.example.com/", LYRICS_GATEWAY_API_KEY: "from-env" };
		expect(parseCommand(["list"], env)).toMatchObject({ url: "https://gw.example.com", key: "from-env" });
		expect(parseCommand(["list", "--url", "http://localhost:9000", "--key", "from-flag"], env)).toMatchObject({
			url: "http://localhost:9000",
			key: "from-flag",
		});
		expect(parseCommand(["list"], { LYRICS_GATEWAY_URL: "", LYRICS_GATEWAY_API_KEY: "" })).toMatchObject({
			url: DEFAULT_URL,
			key: DEFAULT_KEY,
		});
	});

	it("reads each command's options", () => {
		expect(
			parseCommand(["create", "x", "--no-wait", "--callback-url", "https://app.example.com/hook", "--timeout", "1.5", "--json"], noEnv),
		).toMatchObject({ command: "create", prompt: "x", wait: false, callbackUrl: "https://app.example.com/hook", timeoutMs: 1500, json: true });
		expect(parseCommand(["get", "abc", "--wait"], noEnv)).toMatchObject({ command: "get", taskId: "abc", wait: true });
		expect(parseCommand(["get", "abc"], noEnv)).toMatchObject({ wait: false });
		expect(parseCommand(["list", "--status", "success", "--limit", "5", "--cursor", "djE6Mw"], noEnv)).toMatchObject({
			command: "list",
			status: "SUCCESS",
			limit: 5,
			cursor: "djE6Mw",
		});
		expect(parseCommand(["list", "--owner", "acme"], noEnv)).toMatchObject({ command: "list", owner: "acme" });
		expect(parseCommand(["usage", "--json"], noEnv)).toMatchObject({ command: "usage", json: true });
		expect(parseCommand(["delete", " abc "], noEnv)).toMatchObject({ command: "delete", taskId: "abc" });
		expect(parseCommand(["--help"], noEnv)).toEqual({ command: "help" });
		expect(parseCommand(["help"], noEnv)).toEqual({ command: "help" });
	});

	it.each([
		[[]],
		[["create"]],
		[["get"]],
		[["get", "a", "b"]],
		[["list", "extra"]],
		[["list", "--status", "DONE"]],
		[["list", "--limit", "0"]],
		[["list", "--limit", "101"]],
		[["list", "--limit", "2.5"]],
		[["a song", "--timeout", "0"]],
		[["a song", "--timeout", "soon"]],
		[["a song", "--status", "SUCCESS"]],
		[["list", "--wait"]],
		[["usage", "extra"]],
		[["delete"]],
		[["delete", "a", "b"]],
		[["delete", "a", "--wait"]],
		[["usage", "--owner", "acme"]],
		[["a song", "--callback-url", "ftp://example.com"]],
		[["a song", "--url", "127.0.0.1:8787"]],
		[["a song", "--key", " "]],
		[["a song", "--bogus"]],
	])("refuses %j as a usage error", (argv) => {
		expect(() => parseCommand(argv, noEnv)).toThrow(UsageError);
	});

	it("answers an empty or blank prompt with a suggestion that has no blank where the prompt goes", () => {
		for (const prompt of ["", "   "]) {
			expect(() => parseCommand([prompt], noEnv)).toThrow(/^Give a prompt, for example: \S.* "a song about rain"$/);
		}
	});

	it("takes a lone word for a mistyped command, not a prompt that would spend a credit", () => {
		expect(() => parseCommand(["lsit"], noEnv)).toThrow(/"lsit" is not a command.*create lsit/);
		expect(parseCommand(["create", "rain"], noEnv)).toMatchObject({ command: "create", prompt: "rain" });
		expect(parseCommand(["rain at night"], noEnv)).toMatchObject({ command: "create", prompt: "rain at night" });
	});

	it("never puts the key in a usage message", () => {
		// Caught outside the try, so a parse that does not throw fails here instead of passing.
		let thrown: unknown;
		try {
			parseCommand(["a song", "--key", "secret-key-123", "--url", "nope"], noEnv);
		} catch (error) {
			thrown = error;
		}
		expect(thrown).toBeInstanceOf(UsageError);
		expect((thrown as Error).message).toMatch(/gateway URL/);
		expect((thrown as Error).message).not.toContain("secret-key-123");
	});
});

const task = {
	taskId: "t1",
	param: JSON.stringify({ prompt: "a song about rain" }),
	status: "SUCCESS",
	response: {
		data: [
			{ title: "Rain Song", text: "[Verse]\nDrops on the glass\n\n[Chorus]\nRain, rain", status: "complete", errorMessage: "" },
			{ title: "Second Rain", text: "[Verse 2]\nPuddles", status: "complete", errorMessage: "" },
		],
	},
	errorCode: null,
	errorMessage: null,
};

describe("formatTask", () => {
	it("prints each variation's title, a blank line, then its text, plainly when emphasis is off", () => {
		const out = formatTask(task, styles(false));
		expect(out).toContain("1/2  Rain Song\n\n[Verse]\nDrops on the glass\n\n[Chorus]\nRain, rain\n");
		expect(out).toContain("2/2  Second Rain\n\n[Verse 2]\nPuddles\n");
		expect(out).toContain("a song about rain");
		expect(out).not.toContain("\x1b[");
	});

	it("makes section markers and titles bold when emphasis is on, and only them", () => {
		const out = formatTask(task, styles(true));
		expect(out).toContain("\x1b[1m[Verse]\x1b[22m\nDrops on the glass\n");
		expect(out).toContain("\x1b[1m[Chorus]\x1b[22m");
		expect(out).toContain("\x1b[1m1/2  Rain Song\x1b[22m");
		expect(out).not.toContain("\x1b[1mDrops");
	});

	it("shows a failed task's code and message", () => {
		const failed = { ...task, status: "GENERATE_LYRICS_FAILED", response: null, errorCode: 400, errorMessage: "Lyrics blocked." };
		expect(formatTask(failed, styles(false))).toContain("400: Lyrics blocked.");
	});

	it("tells how to wait for a pending task", () => {
		expect(formatTask({ ...task, status: "PENDING", response: null }, styles(false))).toContain("lyrics-gateway get t1 --wait");
	});

	it("uses emphasis only on a terminal without NO_COLOR", () => {
		expect(useEmphasis({ isTTY: true }, {})).toBe(true);
		expect(useEmphasis({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
		expect(useEmphasis({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
		expect(useEmphasis({ isTTY: false }, {})).toBe(false);
	});
});

describe("formatTaskList", () => {
	it("lists status, taskId and prompt, and the command for the next page with the same filters", () => {
		const out = formatTaskList({ items: [{ ...task, createTime: Date.now() }], nextCursor: "djE6Mw" }, styles(false), {
			status: "SUCCESS",
			limit: 1,
		});
		expect(out).toMatch(/SUCCESS\s+t1\s+a song about rain/);
		expect(out).toContain("lyrics-gateway list --status SUCCESS --limit 1 --cursor djE6Mw");
	});

	it("says so when there is nothing", () => {
		expect(formatTaskList({ items: [], nextCursor: null }, styles(false), { status: "PENDING" })).toBe("No tasks with status PENDING.\n");
	});

	it("adds the owner column when asked (an admin key's list), and keeps --owner in the next page's command", () => {
		const items = [
			{ ...task, owner: "acme", createTime: Date.now() },
			{ ...task, taskId: "t2", owner: null, createTime: Date.now() },
		];
		const out = formatTaskList({ items, nextCursor: "djE6Mw" }, styles(false), { owner: "acme", showOwner: true });
		expect(out.split("\n")[0]).toMatch(/^created\s+owner\s+status\s+taskId\s+prompt$/);
		expect(out).toMatch(/acme\s+SUCCESS\s+t1/);
		expect(out).toMatch(/\(none\)\s+SUCCESS\s+t2/);
		expect(out).toContain("lyrics-gateway list --owner acme --cursor djE6Mw");
		expect(formatTaskList({ items, nextCursor: null }, styles(false)).split("\n")[0]).not.toMatch(/owner/);
	});
});

describe("formatUsage", () => {
	const day = { day: "2026-11-30", resetsAt: Date.UTC(2026, 11, 1) };
	it("prints a client's day, creates and quota", () => {
		const out = formatUsage({ tenant: "acme", creates: 2, quota: 5, remaining: 3, ...day }, styles(false));
		expect(out).toBe("acme  2026-11-30  2 creates today (quota 5, 3 left)\nCounts reset at 2026-12-01T00:00:00Z (midnight UTC).\n");
		expect(formatUsage({ tenant: "b", creates: 1, quota: null, remaining: null, ...day }, styles(false))).toContain("1 create today (no daily quota)");
	});

	it("prints a table of every tenant for an admin", () => {
		const out = formatUsage(
			{
				tenants: [
					{ tenant: "acme", creates: 12, quota: 20, remaining: 8, ...day },
					{ tenant: "ops", creates: 0, quota: null, remaining: null, ...day },
				],
			},
			styles(false),
		);
		expect(out.split("\n").slice(0, 3)).toEqual(["tenant  creates  quota  remaining", "acme    12       20     8", "ops     0        -      -"]);
	});
});

/** A client whose createTask answers from a script, recording the Idempotency-Key of each call. */
function scriptedCreates(outcomes: Array<Error | string>) {
	const keys: string[] = [];
	const client = {
		createTask: async (_body: unknown, key: string) => {
			keys.push(key);
			const next = outcomes.shift();
			if (next === undefined) throw new Error("more creates than scripted");
			if (next instanceof Error) throw next;
			const envelope = { code: 200, msg: "success", data: { taskId: next } };
			return { envelope, data: envelope.data };
		},
	};
	return { client: client as any, keys };
}

const gatewayError = (status: number, retryAfter?: number) =>
	new GatewayError(status, status, `status ${status}`, { code: status, msg: `status ${status}`, data: null }, retryAfter);

describe("createWithRetries", () => {
	const noSleep = async () => {};

	it("retries 502/503 and a dropped connection with the same Idempotency-Key", async () => {
		const { client, keys } = scriptedCreates([gatewayError(502), new UnreachableError("u", "socket hang up", false), "task-1"]);
		const retries: string[] = [];
		const answer = await createWithRetries(client, { prompt: "p" }, {
			idempotencyKey: "key-1",
			sleep: noSleep,
			onRetry: (reason: string) => retries.push(reason),
		});
		expect(answer.data.taskId).toBe("task-1");
		expect(keys).toEqual(["key-1", "key-1", "key-1"]);
		expect(retries).toHaveLength(2);
	});

	it("gives up after two retries", async () => {
		const { client, keys } = scriptedCreates([gatewayError(503), gatewayError(502), gatewayError(502), "never"]);
		await expect(createWithRetries(client, { prompt: "p" }, { idempotencyKey: "k", sleep: noSleep })).rejects.toMatchObject({ status: 502 });
		expect(keys).toHaveLength(3);
	});

	it.each([
		["a refusal", gatewayError(400)],
		["a wrong key", gatewayError(401)],
		["no credits", gatewayError(402)],
		["an upstream timeout, which may have created the task", gatewayError(504)],
		["a refused connection", new UnreachableError("u", "connection refused", true)],
	])("does not retry %s", async (_label, error) => {
		const { client, keys } = scriptedCreates([error, "never"]);
		await expect(createWithRetries(client, { prompt: "p" }, { idempotencyKey: "k", sleep: noSleep })).rejects.toBe(error);
		expect(keys).toHaveLength(1);
	});

	it("waits out one Retry-After on 429, then reports the next", async () => {
		const slept: number[] = [];
		const sleep = async (ms: number) => void slept.push(ms);
		const first = scriptedCreates([gatewayError(429, 2), "task-2"]);
		expect((await createWithRetries(first.client, { prompt: "p" }, { idempotencyKey: "k", sleep })).data.taskId).toBe("task-2");
		expect(slept).toEqual([2000]);

		const twice = scriptedCreates([gatewayError(429, 1), gatewayError(429, 1), "never"]);
		await expect(createWithRetries(twice.client, { prompt: "p" }, { idempotencyKey: "k", sleep })).rejects.toMatchObject({ status: 429 });
		expect(twice.keys).toHaveLength(2);
	});

	it("reports a 429 at once when Retry-After is missing or too long to sit through", async () => {
		for (const retryAfter of [undefined, 3600]) {
			const { client, keys } = scriptedCreates([gatewayError(429, retryAfter), "never"]);
			await expect(createWithRetries(client, { prompt: "p" }, { idempotencyKey: "k", sleep: noSleep })).rejects.toMatchObject({ status: 429 });
			expect(keys).toHaveLength(1);
		}
	});

	it("reads Retry-After as seconds or as a date", () => {
		expect(retryAfterSeconds("7")).toBe(7);
		expect(retryAfterSeconds(new Date(10_000).toUTCString(), 0)).toBe(10);
		expect(retryAfterSeconds("soon")).toBeUndefined();
		expect(retryAfterSeconds(null)).toBeUndefined();
	});
});

describe("waitForTask", () => {
	/** A clock that advances only when the wait sleeps. */
	function fakeTime() {
		let now = 0;
		return { now: () => now, sleep: async (ms: number) => void (now += ms) };
	}

	function scriptedReads(outcomes: Array<Error | string>) {
		let reads = 0;
		const client = {
			getTask: async (taskId: string) => {
				reads++;
				const next = outcomes.length > 1 ? outcomes.shift() : outcomes[0];
				if (next instanceof Error) throw next;
				const envelope = { code: 200, msg: "success", data: { taskId, status: next } };
				return { envelope, data: envelope.data };
			},
		};
		return { client: client as any, reads: () => reads };
	}

	it("polls until the task is final, reporting each pending status", async () => {
		const { client, reads } = scriptedReads(["PENDING", "PENDING", "SUCCESS"]);
		const statuses: string[] = [];
		const done = await waitForTask(client, "t", { timeoutMs: 60_000, onStatus: (s: string) => statuses.push(s), ...fakeTime() });
		expect(done.data.status).toBe("SUCCESS");
		expect(reads()).toBe(3);
		expect(statuses).toEqual(["PENDING", "PENDING"]);
	});

	it("stops at the timeout with the task still pending", async () => {
		const { client } = scriptedReads(["PENDING"]);
		const waiting = waitForTask(client, "t", { timeoutMs: 5000, ...fakeTime() });
		await expect(waiting).rejects.toBeInstanceOf(StillPendingError);
	});

	it("believes a 404 only after the grace a fresh create gets", async () => {
		const fresh = scriptedReads([gatewayError(404), "SUCCESS"]);
		const done = await waitForTask(fresh.client, "t", { timeoutMs: 60_000, notFoundGraceMs: 15_000, ...fakeTime() });
		expect(done.data.status).toBe("SUCCESS");

		const unknown = scriptedReads([gatewayError(404)]);
		await expect(waitForTask(unknown.client, "t", { timeoutMs: 60_000, ...fakeTime() })).rejects.toMatchObject({ status: 404 });
		expect(unknown.reads()).toBe(1);
	});

	it("rides out a few failed polls but not a stopped gateway", async () => {
		const hiccup = scriptedReads([gatewayError(502), new UnreachableError("u", "reset", false), "SUCCESS"]);
		expect((await waitForTask(hiccup.client, "t", { timeoutMs: 60_000, ...fakeTime() })).data.status).toBe("SUCCESS");

		const gone = scriptedReads([new UnreachableError("u", "connection refused", true)]);
		await expect(waitForTask(gone.client, "t", { timeoutMs: 60_000, ...fakeTime() })).rejects.toBeInstanceOf(UnreachableError);
		expect(gone.reads()).toBe(5);
	});
});

describe("suggested commands", () => {
	it("run the CLI the way it was run, so they paste as they are", () => {
		// `npm run lyrics -- …` in the repository; `lyrics-gateway` is not on the PATH after npm ci.
		expect(invocation({ npm_lifecycle_event: "lyrics", npm_command: "run-script" }, "/repo/bin/lyrics-gateway.mjs")).toBe("npm run lyrics --");
		expect(invocation({ npm_command: "exec" }, "/repo/node_modules/.bin/lyrics-gateway")).toBe("npx lyrics-gateway");
		expect(invocation({}, "/repo/bin/lyrics-gateway.mjs")).toBe("npx lyrics-gateway");
		// A global install puts it on the PATH.
		expect(invocation({}, "/usr/local/bin/lyrics-gateway")).toBe("lyrics-gateway");
	});
});
