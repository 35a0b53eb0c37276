/**
 * What a create cannot go without, checked before anything is sent upstream or written: each
 * missing setting is a 503 naming it, so an operator knows exactly what to set.
 */
import type { Config } from "../config/config";
import type { CreateFailure } from "../domain/create-failure";
import { callbackTokenKey } from "../security/callback-token";
import { notConfigured } from "./failures";

export interface CreateCredentials {
	kieApiKey: string;
	publicUrl: string;
	tokenSecret: string;
}

export function createCredentials(config: Config, callbackUrl: string | null): CreateCredentials | CreateFailure {
	if (!config.kieApiKey) {
		return notConfigured("The gateway has no upstream API key (KIE_API_KEY), so it cannot create tasks yet.");
	}
	const tokenSecret = callbackTokenKey(config);
	if (!tokenSecret) {
		return notConfigured(
			"The gateway has no CALLBACK_TOKEN_SECRET, so it cannot mint the callback URL it gives the upstream; nothing was created. " +
				"Ask the operator to set it.",
		);
	}
	if (!config.publicUrl) {
		return notConfigured("The gateway has no valid PUBLIC_URL (its own http(s) origin), so the upstream could not call it back.");
	}
	if (callbackUrl && !config.webhookSigningKey) {
		return notConfigured(
			"The gateway has no WEBHOOK_SIGNING_KEY, so it cannot sign deliveries to a callBackUrl. " +
				"Leave callBackUrl out and poll record-info, or ask the operator to set the key.",
		);
	}
	return { kieApiKey: config.kieApiKey, publicUrl: config.publicUrl, tokenSecret };
}
