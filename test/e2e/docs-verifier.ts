/**
 * The signature check docs/webhooks.md shows clients, loaded from that page itself, so the snippet
 * people copy is the one the tests run against real deliveries.
 */
import { readFileSync } from "node:fs";

type Verify = (secret: string, headers: Record<string, string>, body: string) => boolean;

export async function readmeVerifier(): Promise<Verify> {
	const readme = readFileSync(new URL("../../docs/webhooks.md", import.meta.url), "utf8");
	const section = readme.slice(readme.indexOf("**Verifying a delivery.**"));
	const snippet = /```js\n([\s\S]*?)```/.exec(section)?.[1];
	if (!snippet) throw new Error("docs/webhooks.md has no js snippet after **Verifying a delivery.**");
	const module = `${snippet}\nexport { verify };\n`;
	const loaded = (await import(`data:text/javascript;base64,${Buffer.from(module).toString("base64")}`)) as { verify: Verify };
	return loaded.verify;
}
