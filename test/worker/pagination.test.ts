import { beforeEach, describe, expect, it } from "vitest";
import { api, createTask, deliver, envelope, forgetStoredTasks, simCallback, uniquePrompt, type RecordInfo } from "./helpers";

type Page = { items: RecordInfo[]; nextCursor: string | null };

async function page(query: string) {
	const response = await api(`/api/v1/lyrics/tasks${query}`);
	return { status: response.status, body: await envelope<Page>(response) };
}

/** Creates `count` tasks one after another; their ids, oldest first. */
async function createTasks(label: string, count: number): Promise<string[]> {
	const ids: string[] = [];
	for (let i = 0; i < count; i++) ids.push(await createTask(uniquePrompt(`${label} ${i}`)));
	return ids;
}

/** Follows nextCursor to the end, running `between` after each page. */
async function pageThrough(query: string, between: () => Promise<void> = async () => {}) {
	const seen: string[] = [];
	let cursor: string | null = null;
	let pages = 0;
	do {
		const { status, body } = await page(`${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
		expect(status).toBe(200);
		seen.push(...body.data.items.map((item) => item.taskId));
		cursor = body.data.nextCursor;
		pages += 1;
		await between();
	} while (cursor !== null && pages < 100);
	return { seen, pages };
}

describe("GET /api/v1/lyrics/tasks", () => {
	// Each test lists only the tasks it creates.
	beforeEach(forgetStoredTasks);

	it("lists newest first, every task exactly once across pages, also while new tasks arrive", async () => {
		const created = await createTasks("paging", 23);

		const arrivedMeanwhile: string[] = [];
		const { seen, pages } = await pageThrough("?limit=5", async () => {
			arrivedMeanwhile.push(await createTask(uniquePrompt("arrives while paging")));
		});

		expect(pages).toBe(5);
		expect(seen).toEqual([...created].reverse());
		expect(arrivedMeanwhile).toHaveLength(5);
		expect(seen.filter((id) => arrivedMeanwhile.includes(id))).toEqual([]);
	});

	it("hands out cursors that tell nothing of other tenants' tasks, and open only on the list they came from", async () => {
		await createTasks("mine", 3);
		const first = (await page("?limit=1")).body.data.nextCursor as string;
		// Another tenant creates many tasks meanwhile; the same position's cursor looks no different.
		for (let i = 0; i < 10; i++) await createTask(uniquePrompt(`someone else's ${i}`), {}, {}, "test-key-2");
		const again = (await page("?limit=1")).body.data.nextCursor as string;
		expect(again).not.toBe(first);
		expect(again.length).toBe(first.length);
		// Nothing readable inside: not the clear `v1:<seq>` earlier cursors held, nor any text at all
		// (random bytes, which may hold a digit or two by chance).
		const decoded = atob(first.replace(/-/g, "+").replace(/_/g, "/"));
		expect(decoded.startsWith("v1:")).toBe(false);
		expect(decoded).not.toMatch(/^[\x20-\x7e]*$/);
		// Both open here, to the same position.
		expect((await page(`?limit=1&cursor=${encodeURIComponent(first)}`)).body.data.items).toEqual((await page(`?limit=1&cursor=${encodeURIComponent(again)}`)).body.data.items);
		// Not on another list: another status, or another tenant's.
		expect((await page(`?limit=1&status=SUCCESS&cursor=${encodeURIComponent(first)}`)).status).toBe(400);
		const theirs = await api(`/api/v1/lyrics/tasks?limit=1&cursor=${encodeURIComponent(first)}`, { headers: { authorization: "Bearer test-key-2" } });
		expect(theirs.status).toBe(400);
		// Changed by a character, or forged as the clear position earlier cursors held: refused.
		// (The character replaced is one that holds whole bytes, and is never replaced by itself.)
		const changed = `${first.slice(0, -2)}${first.at(-2) === "A" ? "B" : "A"}${first.slice(-1)}`;
		expect(changed).not.toBe(first);
		expect((await page(`?limit=1&cursor=${encodeURIComponent(changed)}`)).status).toBe(400);
		expect((await page(`?limit=1&cursor=${btoa("v1:2").replace(/=+$/, "")}`)).status).toBe(400);
	});

	it("answers nextCursor null on the last page and defaults to 20 items", async () => {
		const created = await createTasks("a default page", 21);
		const first = await page("");
		expect(first.body.data.items.map((item) => item.taskId)).toEqual([...created].reverse().slice(0, 20));
		expect(first.body.data.nextCursor).toEqual(expect.any(String));
		const everything = await page("?limit=100");
		expect(everything.body.data.items).toHaveLength(created.length);
		expect(everything.body.data.nextCursor).toBeNull();
	});

	it("filters by status", async () => {
		const created = await createTasks("a status filter", 7);
		const done = created.slice(0, 3);
		for (const taskId of done) expect((await deliver(await simCallback(taskId))).status).toBe(200);

		const { seen } = await pageThrough("?status=SUCCESS&limit=2");
		expect(seen).toEqual([...done].reverse());
		const pending = await pageThrough("?status=PENDING&limit=50");
		expect(pending.seen).toEqual([...created.slice(3)].reverse());
	});

	it("treats empty query values as not given", async () => {
		await createTasks("empty query values", 21);
		const { status, body } = await page("?status=&limit=&cursor=");
		expect(status).toBe(200);
		expect(body.data.items).toHaveLength(20);
		expect(body.data.nextCursor).toEqual(expect.any(String));
	});

	it("items have the record-info shape", async () => {
		const [taskId] = await createTasks("the item shape", 1);
		const { body } = await page("?limit=1");
		expect(body.code).toBe(200);
		expect(body.data.items).toHaveLength(1);
		expect(body.data.items[0]).toMatchObject({
			taskId,
			param: expect.any(String),
			status: "PENDING",
			type: "LYRICS",
			response: { data: [] },
		});
	});

	it.each([
		["?limit=0"],
		["?limit=101"],
		["?limit=abc"],
		["?limit=2.5"],
		["?status=DONE"],
		["?cursor=not-a-cursor"],
		["?cursor=djE6MA"],
	])("refuses %s with 400 in the envelope", async (query) => {
		const { status, body } = await page(query);
		expect(status).toBe(400);
		expect(body).toMatchObject({ code: 400, data: null });
		expect(body.msg.length).toBeGreaterThan(10);
	});

	it.each([["owner"], ["limit"], ["status"]])("names %s sent twice, rather than an array it never sent", async (name) => {
		const { status, body } = await page(`?${name}=a&${name}=b`);
		expect(status).toBe(400);
		expect(body).toEqual({ code: 400, msg: `${name} was sent 2 times; send it once.`, data: null });
	});

	it("names taskId sent twice to record-info, and a repeated parameter only when it is the problem", async () => {
		const twice = await api("/api/v1/lyrics/record-info?taskId=a&taskId=b");
		expect(twice.status).toBe(400);
		expect(await twice.json()).toEqual({ code: 400, msg: "taskId was sent 2 times; send it once.", data: null });
		const { body } = await page("?extra=1&extra=2&limit=0");
		expect(body.msg).toBe("limit must be a whole number from 1 to 100.");
	});
});
