export declare const DEV_API_KEY: string;
export declare const DEV_CALLBACK_TOKEN_SECRET: string;
export declare const DEV_ADMIN_API_KEY: string;
export declare const DEV_WEBHOOK_SIGNING_KEY: string;
export interface LocalStackOptions {
	port?: number;
	simulatorPort?: number;
	persistTo?: string;
	vars?: Record<string, string>;
	callbackDelayMs?: number;
	simulatorHmacKey?: string;
	inspectorPort?: number;
	log?: boolean;
	gatewayLog?: boolean;
	configPath?: string;
}
export interface LocalStack {
	url: string;
	simulatorUrl: string;
	vars: Record<string, string>;
	fireCron(): Promise<Response>;
	close(): Promise<void>;
}
export declare function startLocalStack(options?: LocalStackOptions): Promise<LocalStack>;
