/** Starts one upstream simulator for the whole run; tests reach it over 127.0.0.1. */
import type { TestProject } from "vitest/node";
import { startSimulator } from "../../simulator/server.mjs";

declare module "vitest" {
	export interface ProvidedContext {
		simulatorUrl: string;
	}
}

export default async function setup(project: TestProject) {
	// Callbacks are delivered by the tests themselves (the Worker under test has no socket), so
	// the simulator's own deliveries are pushed out of the run's way.
	const simulator = await startSimulator({ callbackDelayMs: 10 * 60 * 1000 });
	project.provide("simulatorUrl", simulator.url);
	return async () => simulator.close();
}
