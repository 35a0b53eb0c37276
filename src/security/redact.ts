/**
 * Text that comes from the upstream (callback messages, poll answers, even lyrics) is stored and
 * served to clients. A buggy or hostile upstream could echo the gateway's own key in it, so every
 * configured secret is cut out before anything is stored.
 */
import type { Config } from "../config/config";
import type { Outcome } from "../domain/task-record";

/**
 * Shorter values would cut ordinary syllables out of lyrics; keys this short are weak anyway
 * (the README asks for long random keys).
 */
const MIN_SECRET_LENGTH = 4;
const REDACTED = "[redacted]";

/** Per config object: readConfig hands out the same one until a variable changes. */
const secretsByConfig = new WeakMap<Config, readonly string[]>();

export function configuredSecrets(config: Config): readonly string[] {
	let secrets = secretsByConfig.get(config);
	if (!secrets) {
		secrets = [...new Set(config.secretValues)]
			.filter((value) => value.length >= MIN_SECRET_LENGTH)
			.sort((a, b) => b.length - a.length); // longest first, so a key inside another goes whole
		secretsByConfig.set(config, secrets);
	}
	return secrets;
}

/** Whether any configured secret appears in a caller's text (so it is neither quoted back nor logged). */
export function holdsSecret(text: string, config: Config): boolean {
	return configuredSecrets(config).some((secret) => text.includes(secret));
}

function redactText(text: string, secrets: readonly string[]): string {
	let result = text;
	for (const secret of secrets) {
		if (result.includes(secret)) result = result.split(secret).join(REDACTED);
	}
	return result;
}

export function redactOutcome(outcome: Outcome, secrets: readonly string[]): Outcome {
	if (!outcome.final || secrets.length === 0) return outcome;
	return {
		...outcome,
		errorMessage: outcome.errorMessage === null ? null : redactText(outcome.errorMessage, secrets),
		items: outcome.items.map((item) => ({
			...item,
			text: redactText(item.text, secrets),
			title: redactText(item.title, secrets),
			errorMessage: redactText(item.errorMessage, secrets),
		})),
	};
}
