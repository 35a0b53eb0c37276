/** Starts one upstream simulator for the whole run; tests reach it over 127.0.0.1. */
import { createServer, type Server } from "node:net";
import type { TestProject } from "vitest/node";
import { startSimulator } from "../../simulator/server.mjs";

declare module "vitest" {
	export interface ProvidedContext {
		simulatorUrl: string;
		/** A URL whose server this setup holds and which resets every connection: an unreachable upstream. */
		resettingUrl: string;
	}
}

/**
 * A server that accepts and at once resets every connection. Held for the whole run, so its port
 * cannot be taken by anything else (unlike a port assumed closed, or bound and released).
 */
async function startResettingServer(): Promise<{ url: string; server: Server }> {
	const server = createServer((socket) => socket.resetAndDestroy());
	await new Promise<void>((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => resolve());
	});
	const address = server.address();
	if (typeof address !== "object" || address === null) throw new Error("the resetting server has no port");
	return { url: `http://127.0.0.1:${address.port}`, server };
}

export default async function setup(project: TestProject) {
	// Callbacks are delivered by the tests themselves (the Worker under test has no socket), so
	// the simulator's own deliveries are pushed out of the run's way.
	const simulator = await startSimulator({ callbackDelayMs: 10 * 60 * 1000 });
	const resetting = await startResettingServer();
	project.provide("simulatorUrl", simulator.url);
	project.provide("resettingUrl", resetting.url);
	return async () => {
		await new Promise((resolve) => resetting.server.close(resolve));
		await simulator.close();
	};
}
