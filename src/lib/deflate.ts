/**
 * Raw DEFLATE (RFC 1951) through the runtime's own CompressionStream: text that is stored but
 * rarely read (a task's prompt and lyrics in D1) takes about half its size or less.
 */
export async function deflate(text: string): Promise<Uint8Array> {
	return collect(new Blob([text]).stream().pipeThrough(new CompressionStream("deflate-raw")));
}

export async function inflate(bytes: ArrayBuffer | Uint8Array): Promise<string> {
	const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
	return new TextDecoder().decode(await collect(stream));
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
	return new Uint8Array(await new Response(stream).arrayBuffer());
}
