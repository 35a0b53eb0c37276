export interface WranglerResult {
	ok: boolean;
	stdout: string;
}
export type Wrangler = (args: string[], options?: { capture?: boolean }) => WranglerResult;
export declare function databaseName(toml: string): string;
export declare function deploy(options: { wrangler: Wrangler; toml: string; deployArgs?: string[]; log?: (line: string) => void }): Promise<string[]>;
