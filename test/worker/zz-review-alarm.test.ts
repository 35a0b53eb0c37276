import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { TaskObject } from "../../src/task/task-object";
import { createTask, deliver, recordInfo, runCron, simCallback, simHook, uniquePrompt, finishUpstream } from "./helpers";
import { isInternalHost } from "../../src/security/private-address";
import { callbackUrlProblem } from "../../src/webhooks/target";

const failingDb = {
	prepare: () => ({
		bind: () => ({
			run: () => Promise.reject(new Error("D1_ERROR: simulated outage")),
			first: () => Promise.reject(new Error("D1_ERROR: simulated outage")),
		}),
	}),
} as unknown as D1Database;
async function setObjectDb(taskId: string, db: D1Database) {
	await runInDurableObject(env.TASKS.getByName(taskId), (instance: TaskObject) => {
		const objectEnv = (instance as unknown as { env: Env }).env;
		(instance as unknown as { env: Env }).env = { ...objectEnv, DB: db };
	});
}

describe("review", () => {
	it("alarm during D1 outage with pending delivery: where is the next alarm?", async () => {
		const hook = simHook("rv-hot");
		const taskId = await createTask(uniquePrompt("rv hot loop"), { callBackUrl: hook.url });
		const stub = env.TASKS.getByName(taskId);
		await setObjectDb(taskId, failingDb);
		await deliver(await simCallback(taskId));
		for (let i = 0; i < 5; i++) {
			await runDurableObjectAlarm(stub);
			const alarm = await runInDurableObject(stub, (_i, s) => s.storage.getAlarm());
			const st = (await stub.inspect()).state!;
			console.error("RV iteration", i, "alarm - now =", (alarm ?? 0) - Date.now(), "syncFailures", st.syncFailures);
		}
	});

	it("stranded delivery: crash after finalize before arm; cron resync does not re-arm", async () => {
		const hook = simHook("rv-strand");
		const taskId = await createTask(uniquePrompt("rv stranded"), { callBackUrl: hook.url });
		const stub = env.TASKS.getByName(taskId);
		const { newDelivery } = await import("../../src/webhooks/delivery");
		// Simulate: finalize committed in the object, then the object was reset before sync and arm.
		await runInDurableObject(stub, async (instance: TaskObject, s) => {
			const st = (instance.inspect()).state!;
			st.status = "SUCCESS"; st.resultSource = "callback"; st.completedAt = Date.now();
			st.delivery = newDelivery(taskId, Date.now()); st.version += 1;
			(instance as unknown as { save(x: unknown): void }).save(st);
			await s.storage.deleteAlarm();
		});
		expect((await recordInfo(taskId)).data.status).toBe("PENDING");
		await runCron(Date.now() + 3_600_000);
		expect((await recordInfo(taskId)).data.status).toBe("SUCCESS");
		const alarm = await runInDurableObject(stub, (_i, s) => s.storage.getAlarm());
		await new Promise((r) => setTimeout(r, 1500));
		console.error("RV stranded alarm:", alarm, "delivery:", JSON.stringify((await recordInfo(taskId)).data.delivery), "hook deliveries:", (await hook.deliveries()).length);
	});

	it("ssrf forms", () => {
		const urls = [
			"http://localhost../", "http://127.0.0.1../", "http://[::127.0.0.1]/", "http://[::ffff:0:127.0.0.1]/",
			"http://[::ffff:127.0.0.1]/", "http://0x7f.1/", "http://2130706433/", "http://0177.0.0.1/",
			"http://127.1/", "http://[0::1]/", "http://ⓛocalhost/", "http://127。0。0。1/", "http://localtest.me/",
			"http://127.0.0.1.nip.io/", "http://[64:ff9b::127.0.0.1]/", "http://[2001::1]/", "http://[fd00::1]/",
			"http://[::]/", "http://0/", "http://metadata.google.internal./", "http://foo.localhost./",
			"http://user:pass@example.com/", "http://example.com:22/", "http://[::ffff:a9fe:a9fe]/",
			"http://169.254.169.254/", "http://[fe80::1%25eth0]/", "http://xn--localhost-/", "http://localhost.\u3002/",
		];
		for (const u of urls) {
			let host = "(invalid)";
			try { host = new URL(u).hostname; } catch {}
			console.error("RV", u, "->", host, "=>", callbackUrlProblem(u, false) === null ? "ALLOWED" : "refused");
		}
		expect(isInternalHost("localhost")).toBe(true);
	});
});
