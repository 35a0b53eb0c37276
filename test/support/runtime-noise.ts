/**
 * The one place that explains, and keeps out of a test run's output, what workerd prints on its
 * own when a Worker's fetch() fails to connect, even though the Worker awaits and catches that
 * failure. Some tests mean such fetches: a DNS resolver on a closed port (a create must not be
 * blocked by a resolver it cannot ask), a client webhook host that resolves nowhere offline (a
 * delivery is retried later). For each, workerd logs the connection error and then reports the
 * very rejection the code caught as "uncaught exception ... Network connection lost." (refused, or
 * reset by the server the worker tests hold for an unreachable upstream: test/worker/helpers.ts)
 * or "... jsg.Error: internal error; reference = …" (lookup failed), each with a raw stack.
 * A one-line fetch to 127.0.0.1:9 inside try/catch prints the same; the code is not at fault.
 *
 * Only those echoes are dropped: an "uncaught exception" line is hidden only within a few lines
 * after the connection error that explains it, so a real uncaught exception still shows. Also
 * dropped: workerd's "NOSENTRY SQLite alarm overdue" note, printed when a test runs an alarm a
 * few milliseconds after its scheduled time (runDurableObjectAlarm), which is what those tests do.
 */

/** The connection errors workerd reports before echoing the caught rejection. */
const CONNECTION_FAILURE =
	/rust\/worker\/ffi\.rs:\d+: (disconnected: Connection (refused \(os error 111\)|reset by peer \(os error 104\))|failed: failed to lookup address information: .+)$/;
/** The echoes: the caught rejection reported again, and workerd's raw stacks. */
const ECHO = [
	/^uncaught exception; source = Uncaught \(in promise\); stack = Error: (Network connection lost\.|internal error; reference = \w+)$/,
	/^uncaught exception; exception = workerd\/jsg\/value\.h:\d+: (disconnected|failed): jsg\.Error: (Network connection lost\.|internal error; reference = \w+)$/,
	/^stack: (\S+workerd@[0-9a-f]+ ?)+(; sentryErrorContext = \w+; wdErrId = \w+)?$/,
];
const ALARM_NOTE = /^NOSENTRY SQLite alarm overdue, running despite AlarmManager mismatch; /;
/** Lines after a connection error within which its echoes come (two stacks, two reports). */
const ECHO_WINDOW = 6;

let echoesExpected = 0;

function isNoise(line: string): boolean {
	if (CONNECTION_FAILURE.test(line)) {
		echoesExpected = ECHO_WINDOW;
		return true;
	}
	if (ALARM_NOTE.test(line)) return true;
	if (echoesExpected > 0) {
		echoesExpected -= 1;
		if (ECHO.some((pattern) => pattern.test(line))) return true;
	}
	return false;
}

/** Wraps the process's stdout and stderr so that writes of runtime noise are dropped, line by line. */
export function hideRuntimeNoise(): void {
	for (const stream of [process.stdout, process.stderr]) {
		const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
		stream.write = ((chunk: unknown, ...rest: unknown[]) => {
			const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : undefined;
			// Runtime messages come whole, one write each; anything else passes untouched.
			if (text === undefined || !/ffi\.rs|uncaught exception|^stack: |NOSENTRY/m.test(text)) return write(chunk, ...rest);
			const kept = text.split("\n").filter((line, i, lines) => (i === lines.length - 1 && line === "") || !isNoise(line));
			const out = kept.join("\n");
			if (out === "" || out === "\n") {
				const callback = rest.find((arg) => typeof arg === "function") as (() => void) | undefined;
				callback?.();
				return true;
			}
			return write(out, ...rest);
		}) as typeof stream.write;
	}
}
