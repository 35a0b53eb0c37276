/**
 * A gateway of one e2e file's own, for settings the shared gateway (stack-setup.ts) must not
 * have: `wrangler dev` and the simulator on ports they pick themselves, in a throwaway state
 * folder, started before the file's tests and stopped (its folder removed) after them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../../scripts/local-stack.mjs";

type OwnOptions = Omit<LocalStackOptions, "port" | "simulatorPort" | "inspectorPort" | "persistTo">;

/** Registers the file's beforeAll/afterAll; the returned function gives the running gateway. */
export function gatewayOfItsOwn(name: string, options: OwnOptions): () => LocalStack {
	let stack: LocalStack | undefined;
	let persistTo: string | undefined;
	beforeAll(async () => {
		persistTo = mkdtempSync(join(tmpdir(), `lyrics-gateway-${name}-`));
		stack = await startLocalStack({ ...options, port: 0, simulatorPort: 0, inspectorPort: 0, persistTo });
	}, 90_000);
	afterAll(async () => {
		await stack?.close();
		if (persistTo) rmSync(persistTo, { recursive: true, force: true });
	});
	return () => {
		if (!stack) throw new Error(`The ${name} gateway is not running (its beforeAll failed or has not run).`);
		return stack;
	};
}
