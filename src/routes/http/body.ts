/** Reads a JSON request body under a byte cap, with the contract's statuses for each failure. */
import { GatewayError } from "./errors";
import { readCapped } from "../../lib/read-capped";

export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
	const tooLarge = () =>
		new GatewayError(413, `The request body is larger than ${maxBytes / 1024} KiB. Send a smaller body.`);
	const declared = Number(request.headers.get("content-length"));
	if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge();

	// A declared length within the cap is what the runtime delivers from the network (it ends the
	// body there), so the body is taken whole; without one it is read chunk by chunk up to the cap.
	const bytes = request.headers.has("content-length") && Number.isFinite(declared)
		? new Uint8Array(await request.arrayBuffer())
		: await readCapped(request.body, maxBytes);
	// Checked again: a Request made in-process may declare less than it carries.
	if (bytes === null || bytes.byteLength > maxBytes) throw tooLarge();
	if (bytes.byteLength === 0) throw new GatewayError(400, "The request body is empty. Send a JSON object.");
	let text: string;
	try {
		text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
	} catch {
		throw new GatewayError(400, "The request body is not valid UTF-8. Send a UTF-8 JSON object.");
	}
	try {
		return JSON.parse(text);
	} catch {
		throw new GatewayError(400, "The request body is not valid JSON. Send a JSON object.");
	}
}
