export interface SeedOptions {
	gatewayUrl: string;
	simulatorUrl: string;
	apiKey: string;
	wait?: boolean;
	waitMs?: number;
	log?: (line: string) => void;
}
export interface SeededTask {
	label: string;
	taskId: string;
	expect: { status: string; resultSource: string; delivery: "delivered" | "failing" | null };
}
export declare function seedMix(options: SeedOptions): Promise<SeededTask[]>;
