/**
 * Tenants inside workerd: each key reads and lists only its tenant's tasks (another tenant's is
 * 404 exactly as an unknown id), ?owner= is an admin's filter, tasks from before tenants are
 * seen by admins only, and the task's owner flows from the create to record-info.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { type Envelope, type RecordInfo, envelope, expectErrorEnvelope, gateway, uniquePrompt } from "./helpers";

/** Two keys for acme (a rotation), one for rival, an admin; TENANT_QUOTAS is the quota tests'. */
export const TENANTS: Partial<Env> = {
	API_KEYS: "acme:k-acme-1, acme:k-acme-2, rival:k-rival",
	ADMIN_API_KEYS: "ops:k-ops",
};

function call(key: string, path: string, init: RequestInit = {}): Promise<Response> {
	const headers = new Headers(init.headers);
	headers.set("authorization", `Bearer ${key}`);
	return gateway(path, { ...init, headers }, TENANTS);
}

async function createAs(key: string, prompt: string): Promise<string> {
	const response = await call(key, "/api/v1/lyrics", {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ prompt }),
	});
	const body = await envelope<{ taskId: string }>(response);
	expect(response.status, body.msg).toBe(200);
	return body.data.taskId;
}

type Page = Envelope<{ items: RecordInfo[]; nextCursor: string | null }>;

async function listAs(key: string, query = ""): Promise<{ status: number; body: Page }> {
	const response = await call(key, `/api/v1/lyrics/tasks${query}`);
	return { status: response.status, body: await envelope(response) };
}


let acmeTasks: string[] = [];
let rivalTask = "";
const legacyTask = `legacy${crypto.randomUUID().replaceAll("-", "")}`;

beforeAll(async () => {
	acmeTasks = [
		await createAs("k-acme-1", uniquePrompt("acme first")),
		await createAs("k-acme-2", uniquePrompt("acme second")),
		await createAs("k-acme-1", uniquePrompt("acme third")),
	];
	rivalTask = await createAs("k-rival", uniquePrompt("rival only"));
	// A row written before tenants existed: no owner.
	await env.DB.prepare(
		"INSERT INTO tasks (task_id, prompt, status, next_poll_at, created_at, updated_at, version) VALUES (?1, 'an old prompt', 'PENDING', 1, 1, 1, 1)",
	)
		.bind(legacyTask)
		.run();
});

describe("record-info", () => {
	it("answers a tenant's task to each of its keys, with its owner", async () => {
		for (const key of ["k-acme-1", "k-acme-2"]) {
			const response = await call(key, `/api/v1/lyrics/record-info?taskId=${acmeTasks[0]}`);
			const body = await envelope<RecordInfo & { owner: string }>(response);
			expect(response.status).toBe(200);
			expect(body.data.owner).toBe("acme");
		}
	});

	it("answers another tenant's task exactly as an unknown taskId", async () => {
		const taskId = acmeTasks[0] as string;
		const unknown = "f".repeat(taskId.length);
		const foreign = await expectErrorEnvelope(await call("k-rival", `/api/v1/lyrics/record-info?taskId=${taskId}`), 404);
		const missing = await expectErrorEnvelope(await call("k-rival", `/api/v1/lyrics/record-info?taskId=${unknown}`), 404);
		expect(foreign.msg).toBe(missing.msg.replace(unknown, taskId));
	});

	it("answers every tenant's task, and one stored before tenants, to an admin key only", async () => {
		for (const taskId of [acmeTasks[0], rivalTask, legacyTask]) {
			const response = await call("k-ops", `/api/v1/lyrics/record-info?taskId=${taskId}`);
			expect(response.status, taskId).toBe(200);
		}
		const legacy = await envelope<{ owner: string | null }>(await call("k-ops", `/api/v1/lyrics/record-info?taskId=${legacyTask}`));
		expect(legacy.data.owner).toBeNull();
		for (const key of ["k-acme-1", "k-rival"]) {
			await expectErrorEnvelope(await call(key, `/api/v1/lyrics/record-info?taskId=${legacyTask}`), 404);
		}
	});
});

describe("the task list", () => {
	it("holds only the caller's tasks, for each of its keys, with and without ?status=", async () => {
		for (const query of ["?limit=100", "?limit=100&status=PENDING", "?limit=100&owner=acme"]) {
			const acme = await listAs("k-acme-2", query);
			expect(acme.status, query).toBe(200);
			expect(acme.body.data.items.map((item) => item.taskId).sort(), query).toEqual([...acmeTasks].sort());
			const rival = await listAs("k-rival", query.replace("acme", "rival"));
			expect(rival.body.data.items.map((item) => item.taskId), query).toEqual([rivalTask]);
		}
	});

	it("answers 403 when a client key names another tenant in ?owner=, known or not", async () => {
		for (const owner of ["acme", "ops", "nobody", "ACME"]) {
			const response = await call("k-rival", `/api/v1/lyrics/tasks?owner=${owner}`);
			await expectErrorEnvelope(response, 403);
		}
	});

	it("never leads out of the caller's tasks, whatever cursor it is sent", async () => {
		// acme's first page of one: its cursor belongs to acme's list.
		const first = await listAs("k-acme-1", "?limit=1");
		const cursor = first.body.data.nextCursor as string;
		expect(cursor).toEqual(expect.any(String));
		// On rival's list it opens nothing: refused, whatever else is asked.
		for (const query of [`?cursor=${cursor}`, `?cursor=${cursor}&limit=100`, `?cursor=${cursor}&owner=rival`]) {
			expect((await listAs("k-rival", query)).status, query).toBe(400);
		}
		// A position made up in the clear is no cursor either; rival's own list shows rival's task only.
		expect((await listAs("k-rival", "?cursor=" + btoa(`v1:${Number.MAX_SAFE_INTEGER}`).replace(/=+$/, ""))).status).toBe(400);
		const page = await listAs("k-rival", "");
		expect(page.body.data.items.map((item) => item.taskId)).toEqual([rivalTask]);
	});

	it("gives an admin key every task, old ones included, and ?owner= narrows to one tenant", async () => {
		const all = await listAs("k-ops", "?limit=100");
		const ids = all.body.data.items.map((item) => item.taskId);
		for (const taskId of [...acmeTasks, rivalTask, legacyTask]) expect(ids).toContain(taskId);
		const narrowed = await listAs("k-ops", "?limit=100&owner=acme");
		expect(narrowed.body.data.items.map((item) => item.taskId).sort()).toEqual([...acmeTasks].sort());
		expect((await listAs("k-ops", "?owner=nobody")).body.data.items).toEqual([]);
	});

	it("pages a tenant's tasks once each, newest first", async () => {
		const seen: string[] = [];
		let cursor: string | null = null;
		do {
			const page: { status: number; body: Page } = await listAs("k-acme-1", `?limit=1${cursor ? `&cursor=${cursor}` : ""}`);
			seen.push(...page.body.data.items.map((item) => item.taskId));
			cursor = page.body.data.nextCursor;
		} while (cursor);
		expect(seen).toEqual([...acmeTasks].reverse());
	});
});

describe("the owner's list stays fast", () => {
	it("reads a tenant's page through the owner's index, with and without ?status= (skipping other statuses), never a scan of every task", async () => {
		const plan = async (sql: string, ...values: unknown[]) => {
			const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`).bind(...values).all<{ detail: string }>();
			return results.map((row) => row.detail).join(" | ");
		};
		const byOwner = await plan("SELECT * FROM tasks WHERE owner = ? AND seq < ? ORDER BY seq DESC LIMIT ?", "acme", 1e9, 21);
		expect(byOwner).toMatch(/USING INDEX tasks_by_owner \(owner=\? AND seq<\?\)/);
		const byOwnerStatus = await plan(
			"SELECT * FROM tasks WHERE owner = ? AND status = ? AND seq < ? ORDER BY seq DESC LIMIT ?",
			"acme",
			"PENDING",
			1e9,
			21,
		);
		expect(byOwnerStatus).toMatch(/USING INDEX tasks_by_owner \(owner=\? AND seq<\?\)/);
		for (const detail of [byOwner, byOwnerStatus]) expect(detail).not.toMatch(/TEMP B-TREE/);
	});
});
