import { describe, expect, it } from "vitest";
import { api, createTask, deliver, envelope, simCallback, uniquePrompt, type RecordInfo } from "./helpers";

type Page = { items: RecordInfo[]; nextCursor: string | null };

async function page(query: string) {
	const response = await api(`/api/v1/lyrics/tasks${query}`);
	return { status: response.status, body: await envelope<Page>(response) };
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
	const created: string[] = [];

	it("lists newest first, every task exactly once across pages, also while new tasks arrive", async () => {
		for (let i = 0; i < 23; i++) created.push(await createTask(uniquePrompt(`paging ${i}`)));

		const arrivedMeanwhile: string[] = [];
		const { seen, pages } = await pageThrough("?limit=5", async () => {
			arrivedMeanwhile.push(await createTask(uniquePrompt("arrives while paging")));
		});

		expect(pages).toBe(5);
		expect(seen).toEqual([...created].reverse());
		expect(seen.filter((id) => arrivedMeanwhile.includes(id))).toEqual([]);
		created.push(...arrivedMeanwhile);
	});

	it("answers nextCursor null on the last page and defaults to 20 items", async () => {
		const first = await page("");
		expect(first.body.data.items).toHaveLength(20);
		expect(first.body.data.nextCursor).toEqual(expect.any(String));
		const everything = await page("?limit=100");
		expect(everything.body.data.items).toHaveLength(created.length);
		expect(everything.body.data.nextCursor).toBeNull();
	});

	it("filters by status", async () => {
		const done = created.slice(0, 3);
		for (const taskId of done) expect((await deliver(await simCallback(taskId))).status).toBe(200);

		const { seen } = await pageThrough("?status=SUCCESS&limit=2");
		expect(seen).toEqual([...done].reverse());
		const pending = await pageThrough("?status=PENDING&limit=50");
		expect(pending.seen).toHaveLength(created.length - done.length);
		expect(pending.seen.some((id) => done.includes(id))).toBe(false);
	});

	it("treats empty query values as not given", async () => {
		const { status, body } = await page("?status=&limit=&cursor=");
		expect(status).toBe(200);
		expect(body.data.items).toHaveLength(20);
	});

	it("items have the record-info shape", async () => {
		const { body } = await page("?limit=1");
		expect(body.code).toBe(200);
		expect(body.data.items[0]).toMatchObject({
			taskId: expect.any(String),
			param: expect.any(String),
			status: expect.any(String),
			type: "LYRICS",
			response: { data: expect.any(Array) },
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
});
