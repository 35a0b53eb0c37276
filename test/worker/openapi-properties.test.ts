/**
 * Property-based, driven by /openapi.json itself: for every operation the document lists, requests
 * generated from its parameter, body and security schemas, valid ones and ones a single step
 * outside them, never get a 5xx; every answer has a status the operation documents and a body its
 * documented schema for that status accepts; and a request outside the document is refused with a
 * 4xx. Bounded: a fixed number of runs per operation, a few seconds in all.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { API_KEY, gateway, mintedCallbackTarget } from "./helpers";
import {
	type OpenApiDocument,
	type Schema,
	documentedResponse,
	keepOnly,
	refusals,
	resolve,
	validValue,
	violation,
} from "./openapi-schema";

/** Requests per operation with every part inside the document, and per way of stepping outside it. */
const RUNS_VALID = 30;
const RUNS_PER_WAY_OUTSIDE = 6;

let document: OpenApiDocument;

beforeAll(async () => {
	document = (await (await gateway("/openapi.json")).json()) as OpenApiDocument;
});

interface GeneratedRequest {
	/** Which part is outside the document (a parameter, the body, the credential), if any. */
	outside?: string;
	path: string;
	query: Record<string, string>;
	headers: Record<string, string>;
	body?: string;
}

/** One part of a request taken outside the document in one way. */
interface OutsideCase {
	part: string;
	label: string;
	values?: fc.Arbitrary<string | undefined>;
}

/** A query or header value as the route gets it: text, a number where the schema wants one. */
function asSent(text: string, schema: Schema): unknown {
	const numeric = schema.type === "integer" || schema.type === "number";
	return numeric && text.trim() !== "" && Number.isFinite(Number(text)) ? Number(text) : text;
}

/** What a header can carry as sent: empty, or ASCII without CR/LF and no blank at either end (trimmed). */
const headerSafe = (text: string) => /^([\x21-\x7e]([\x01-\x09\x0b\x0c\x0e-\x7f]*[\x21-\x7e])?)?$/.test(text);

function validText(parameter: Schema): fc.Arbitrary<string> {
	const schema = resolve(parameter.schema, document);
	return keepOnly(
		validValue(schema, document).map((value) => String(value)),
		(text) => parameter.in !== "header" || headerSafe(text),
		`${parameter.name} valid and sendable`,
	);
}

/** Every way to take one parameter outside the document, as text the route can be sent. */
function parameterCases(parameter: Schema): OutsideCase[] {
	const schema = resolve(parameter.schema, document);
	const part = `${parameter.in}:${parameter.name}`;
	const cases: OutsideCase[] = [];
	// Left out: another route when in the path.
	if (parameter.required && parameter.in !== "path") cases.push({ part, label: "missing", values: fc.constant(undefined) });
	// Any short text too, where the schema is more than a length (most such text is refused).
	const anyText = schema.type !== "string" || schema.pattern || schema.enum;
	const texts = [...refusals(schema, document), ...(anyText ? [{ label: "text", values: fc.string({ unit: "binary-ascii", maxLength: 8 }) }] : [])];
	for (const { label, values } of texts) {
		// Every value is sent as text, so a string is never of the wrong type.
		if (schema.type === "string" && label === "type") continue;
		const refused = keepOnly(
			values.map((value) => (typeof value === "string" ? value : JSON.stringify(value))),
			(text) =>
				(parameter.in !== "header" || headerSafe(text)) &&
				// An empty optional query value counts as not given (the document says so).
				(parameter.in !== "query" || parameter.required || text !== "") &&
				violation(asSent(text, schema), schema, document) !== null,
			`${part} refused (${label})`,
		);
		cases.push({ part, label, values: refused });
	}
	return cases;
}

/** Every way to take one part of an operation's requests outside the document. */
function outsideCases(operation: Schema): OutsideCase[] {
	const bodySchema: Schema | undefined = operation.requestBody?.content?.["application/json"]?.schema;
	const schemes = (operation.security ?? []).flatMap((requirement: Record<string, unknown>) => Object.keys(requirement));
	return [
		...((operation.parameters ?? []) as Schema[]).flatMap(parameterCases),
		...(bodySchema
			? [
					...refusals(bodySchema, document).map(({ label, values }) => ({ part: "body", label, values: values.map((value) => JSON.stringify(value)) })),
					{ part: "body", label: "not JSON", values: fc.constantFrom("", "{", "not json", '{"prompt": "unterminated') },
				]
			: []),
		...(schemes.length > 0 ? [{ part: "credential", label: "wrong" }] : []),
	];
}

/** Requests for one operation: every part valid, or the one part `outside` names taken outside. */
function requests(path: string, operation: Schema, outside?: OutsideCase): fc.Arbitrary<GeneratedRequest> {
	const parameters: Schema[] = operation.parameters ?? [];
	const bodySchema: Schema | undefined = operation.requestBody?.content?.["application/json"]?.schema;
	const schemes = (operation.security ?? []).flatMap((requirement: Record<string, unknown>) => Object.keys(requirement));
	const parameterValues = parameters.map((parameter) => {
		if (outside?.part === `${parameter.in}:${parameter.name}`) return outside.values as fc.Arbitrary<string | undefined>;
		return parameter.required ? validText(parameter) : fc.option(validText(parameter), { nil: undefined });
	});
	const body: fc.Arbitrary<string | undefined> = !bodySchema
		? fc.constant(undefined)
		: outside?.part === "body"
			? (outside.values as fc.Arbitrary<string>)
			: validValue(bodySchema, document).map((value) => JSON.stringify(value));
	return fc.tuple(fc.tuple(...parameterValues), body, fc.string({ maxLength: 6 })).map(([values, text, noise]) => {
		const request: GeneratedRequest = { outside: outside && `${outside.part} ${outside.label}`, path, query: {}, headers: {}, body: text };
		parameters.forEach((parameter, i) => {
			const value = values[i];
			if (value === undefined) return;
			if (parameter.in === "query") request.query[parameter.name] = value;
			if (parameter.in === "header") request.headers[parameter.name] = value;
			if (parameter.in === "path") request.path = request.path.replace(`{${parameter.name}}`, encodeURIComponent(value));
		});
		if (text !== undefined) request.headers["content-type"] = "application/json";
		if (schemes.includes("bearerAuth")) {
			request.headers.authorization = outside?.part === "credential" ? `Bearer wrong-${noise}` : `Bearer ${API_KEY}`;
		}
		return request;
	});
}

/** For the callback route: a genuine URL (a fresh ref and its token), or, outside, a token for another ref. */
async function withCallbackToken(request: GeneratedRequest): Promise<GeneratedRequest> {
	const target = await mintedCallbackTarget();
	const url = new URL(target.url);
	const token = url.searchParams.get("token") as string;
	if (request.outside?.startsWith("credential")) {
		const other = await mintedCallbackTarget();
		return { ...request, path: url.pathname, query: { ...request.query, token: new URL(other.url).searchParams.get("token") as string } };
	}
	return { ...request, path: url.pathname, query: { ...request.query, token } };
}

async function send(method: string, request: GeneratedRequest): Promise<Response> {
	const query = new URLSearchParams(request.query).toString();
	return gateway(`${request.path}${query ? `?${query}` : ""}`, { method: method.toUpperCase(), headers: request.headers, body: request.body });
}

async function checkAnswer(where: string, operation: Schema, request: GeneratedRequest, response: Response): Promise<void> {
	const context = `${where} ${JSON.stringify(request)} → ${response.status}`;
	const text = await response.text();
	expect(response.status, `${context} ${text}`).toBeLessThan(500);
	if (request.outside) expect(response.status, `${context}: outside the document yet accepted`).toBeGreaterThanOrEqual(400);
	const documented = documentedResponse(operation, response.status);
	expect(documented, `${context}: status not documented`).toBeDefined();
	const content: Record<string, Schema> | undefined = documented?.content;
	if (!content) return;
	const mediaType = (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
	expect(Object.keys(content), `${context}: content-type ${mediaType}`).toContain(mediaType);
	const schema = content[mediaType]?.schema as Schema;
	const body = mediaType === "application/json" ? JSON.parse(text) : text;
	expect(violation(body, schema, document), `${context}: ${text.slice(0, 300)}`).toBeNull();
}

describe("every operation of /openapi.json, with generated requests", () => {
	it("generates what the document accepts, and what it refuses (a self-check of the generators)", () => {
		const create = document.paths["/api/v1/lyrics"].post;
		const schema = create.requestBody.content["application/json"].schema;
		fc.assert(fc.property(validValue(schema, document), (value) => violation(value, schema, document) === null), { numRuns: 50 });
		const ways = refusals(schema, document);
		expect(ways.map(({ label }) => label)).toEqual(expect.arrayContaining(["prompt:missing", "prompt.minLength", "prompt.pattern", "callBackUrl.maxLength", "callBackUrl.pattern"]));
		for (const { values } of ways) {
			fc.assert(fc.property(values, (value) => violation(value, schema, document) !== null), { numRuns: 20 });
		}
	});

	it("never answers 5xx, nor outside the documented statuses and schemas, and refuses what the document refuses", async () => {
		const operations = Object.entries(document.paths as Record<string, Record<string, Schema>>).flatMap(([path, methods]) =>
			Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
		);
		expect(operations.length).toBeGreaterThanOrEqual(7);
		let sent = 0;
		for (const { path, method, operation } of operations) {
			const where = `${method.toUpperCase()} ${path}`;
			const isCallback = (operation.security ?? []).some((requirement: Record<string, unknown>) => "callbackToken" in requirement);
			for (const outside of [undefined, ...outsideCases(operation)]) {
				await fc.assert(
					fc.asyncProperty(requests(path, operation, outside), async (generated) => {
						const request = isCallback ? await withCallbackToken(generated) : generated;
						await checkAnswer(where, operation, request, await send(method, request));
						sent += 1;
					}),
					{ numRuns: outside ? RUNS_PER_WAY_OUTSIDE : RUNS_VALID },
				);
			}
		}
		expect(sent).toBeGreaterThan(400);
	}, 60_000);
});
