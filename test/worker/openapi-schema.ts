/**
 * The JSON Schema of /openapi.json, read by the property-based test: a validator for the subset
 * the document uses, and fast-check arbitraries of values the schema accepts and of values it
 * refuses. A keyword neither knows throws, so the document cannot outgrow them unnoticed.
 */
import fc from "fast-check";

export type Schema = Record<string, any>;
export type OpenApiDocument = Record<string, any>;

/** Keywords that only describe: no effect on what a value may be. */
const ANNOTATIONS = new Set(["description", "example", "examples", "default", "title", "format"]);
const ASSERTIONS = new Set([
	"$ref", "type", "enum", "const", "anyOf", "oneOf", "properties", "required", "additionalProperties",
	"items", "maxItems", "minItems", "minLength", "maxLength", "pattern", "minimum", "maximum",
]);

export function resolve(schema: Schema, document: OpenApiDocument): Schema {
	if (!schema.$ref) return schema;
	const name = String(schema.$ref).replace("#/components/schemas/", "");
	const target = document.components?.schemas?.[name];
	if (!target) throw new Error(`unresolved ${schema.$ref}`);
	return resolve(target, document);
}

function typeOf(value: unknown): string {
	if (value === null) return "null";
	if (Array.isArray(value)) return "array";
	if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
	return typeof value;
}

/** Why `value` does not satisfy `schema`, or null when it does. */
export function violation(value: unknown, schema: Schema, document: OpenApiDocument, at = "$"): string | null {
	for (const keyword of Object.keys(schema)) {
		if (!ANNOTATIONS.has(keyword) && !ASSERTIONS.has(keyword)) throw new Error(`${at}: unknown keyword ${keyword}`);
	}
	if (schema.$ref) return violation(value, resolve(schema, document), document, at);
	if (schema.type !== undefined) {
		const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
		const actual = typeOf(value);
		if (!types.includes(actual) && !(actual === "integer" && types.includes("number"))) return `${at}: ${actual}, not ${types.join("|")}`;
	}
	if (schema.enum && !schema.enum.some((option: unknown) => option === value)) return `${at}: ${JSON.stringify(value)} not in enum`;
	if ("const" in schema && schema.const !== value) return `${at}: not ${JSON.stringify(schema.const)}`;
	for (const keyword of ["anyOf", "oneOf"] as const) {
		if (!schema[keyword]) continue;
		const passing = (schema[keyword] as Schema[]).filter((option) => violation(value, option, document, at) === null).length;
		if (keyword === "anyOf" ? passing === 0 : passing !== 1) return `${at}: ${passing} of ${keyword} match`;
	}
	if (typeof value === "string") {
		const length = [...value].length;
		if (schema.minLength !== undefined && length < schema.minLength) return `${at}: shorter than ${schema.minLength}`;
		if (schema.maxLength !== undefined && length > schema.maxLength) return `${at}: longer than ${schema.maxLength}`;
		if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value)) return `${at}: does not match ${schema.pattern}`;
	}
	if (typeof value === "number") {
		if (schema.minimum !== undefined && value < schema.minimum) return `${at}: below ${schema.minimum}`;
		if (schema.maximum !== undefined && value > schema.maximum) return `${at}: above ${schema.maximum}`;
	}
	if (Array.isArray(value)) {
		if (schema.maxItems !== undefined && value.length > schema.maxItems) return `${at}: more than ${schema.maxItems} items`;
		if (schema.minItems !== undefined && value.length < schema.minItems) return `${at}: fewer than ${schema.minItems} items`;
		if (schema.items) {
			for (const [i, item] of value.entries()) {
				const problem = violation(item, schema.items, document, `${at}[${i}]`);
				if (problem) return problem;
			}
		}
	}
	if (typeOf(value) === "object") {
		const record = value as Record<string, unknown>;
		for (const key of schema.required ?? []) if (!(key in record)) return `${at}: ${key} is missing`;
		const properties: Record<string, Schema> = schema.properties ?? {};
		for (const [key, item] of Object.entries(record)) {
			const itemSchema = properties[key] ?? (typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined);
			if (!itemSchema && schema.additionalProperties === false) return `${at}: ${key} is not allowed`;
			const problem = itemSchema ? violation(item, itemSchema, document, `${at}.${key}`) : null;
			if (problem) return problem;
		}
	}
	return null;
}

/**
 * `arbitrary.filter(predicate)` that gives up, with an error naming `what`, after 5000 refusals in
 * a row: fast-check's own filter would retry forever, hanging the run, on a generator that can
 * no longer give such a value.
 */
export function keepOnly<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => boolean, what: string): fc.Arbitrary<T> {
	let refusedInARow = 0;
	return arbitrary.filter((value) => {
		if (predicate(value)) {
			refusedInARow = 0;
			return true;
		}
		refusedInARow += 1;
		if (refusedInARow > 5000) throw new Error(`no generated value is ${what}`);
		return false;
	});
}

/** Short strings, some past ASCII, so refusals of odd text are tried too. */
const anyText = fc.string({ unit: "grapheme", maxLength: 12 });
/** Very short strings of the characters patterns most often turn on: blanks, separators, non-ASCII. */
const edgyText = fc.string({
	unit: fc.constantFrom(" ", "\t", "\n", "\u00a0", "\u2028", "/", "?", "#", ":", "é", "\u007f", "a", "0", "-"),
	minLength: 1,
	maxLength: 3,
});

/** Values `schema` accepts, kept small. */
export function validValue(schema: Schema, document: OpenApiDocument): fc.Arbitrary<unknown> {
	const resolved = resolve(schema, document);
	return keepOnly(valueOf(resolved, document), (value) => violation(value, resolved, document) === null, `valid for ${JSON.stringify(resolved).slice(0, 80)}`);
}

function valueOf(schema: Schema, document: OpenApiDocument): fc.Arbitrary<unknown> {
	if ("const" in schema) return fc.constant(schema.const);
	if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
	const alternatives: Schema[] | undefined = schema.anyOf ?? schema.oneOf;
	// anyOf of whole schemas is a choice; anyOf of `required` lists only (task_id or taskId) is an object's.
	if (alternatives && alternatives.some((option) => Object.keys(option).some((key) => key !== "required"))) {
		return fc.oneof(...alternatives.map((option) => validValue(option, document)));
	}
	const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type ?? "string"];
	return fc.oneof(...types.map((type) => valueOfType(type, schema, document)));
}

function valueOfType(type: string, schema: Schema, document: OpenApiDocument): fc.Arbitrary<unknown> {
	switch (type) {
		case "null":
			return fc.constant(null);
		case "boolean":
			return fc.boolean();
		case "integer":
		case "number":
			return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 });
		case "string": {
			const minLength = schema.minLength ?? 0;
			const maxLength = Math.min(schema.maxLength ?? 24, minLength + 24);
			if (schema.pattern) {
				return keepOnly(
					fc.stringMatching(new RegExp(schema.pattern)),
					(text) => text.length >= minLength && text.length <= maxLength,
					`${minLength} to ${maxLength} characters matching ${schema.pattern}`,
				);
			}
			return fc.string({ unit: "grapheme", minLength, maxLength });
		}
		case "array":
			return fc.array(validValue(schema.items ?? {}, document), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) });
		case "object": {
			const properties: Record<string, Schema> = schema.properties ?? {};
			const oneRequiredOf: string[][] = (schema.anyOf ?? schema.oneOf ?? []).map((option: Schema) => option.required ?? []);
			const branches = oneRequiredOf.length > 0 ? oneRequiredOf : [[]];
			return fc.constantFrom(...branches).chain((branch) =>
				fc.record(
					Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, validValue(property, document)])),
					{ requiredKeys: [...(schema.required ?? []), ...branch] },
				),
			);
		}
		default:
			throw new Error(`no generator for type ${type}`);
	}
}

/** A way of stepping outside a schema, and the values it gives. */
export interface Refusal {
	label: string;
	values: fc.Arbitrary<unknown>;
}

/**
 * Every way one step takes a value outside `schema`: a wrong type, a string or number past a bound
 * or outside its pattern or enum, a required property left out, or one property (recursively) so
 * made invalid. Each generator is filtered to values the schema does refuse. Empty when nothing
 * is refused (an unconstrained string, say, outside of its type).
 */
export function refusals(schema: Schema, document: OpenApiDocument): Refusal[] {
	const resolved = resolve(schema, document);
	const found: Refusal[] = [{ label: "type", values: fc.constantFrom<unknown>(null, 7, 1.5, "text", true, [], {}) }];
	if (resolved.minLength) found.push({ label: "minLength", values: fc.string({ maxLength: resolved.minLength - 1 }) });
	if (resolved.maxLength !== undefined) {
		found.push({ label: "maxLength", values: fc.string({ minLength: resolved.maxLength + 1, maxLength: resolved.maxLength + 4 }) });
	}
	if (resolved.pattern) found.push({ label: "pattern", values: anyText }, { label: "pattern", values: edgyText });
	if (resolved.enum) found.push({ label: "enum", values: anyText });
	if (resolved.minimum !== undefined) found.push({ label: "minimum", values: fc.integer({ min: resolved.minimum - 50, max: resolved.minimum - 1 }) });
	if (resolved.maximum !== undefined) found.push({ label: "maximum", values: fc.integer({ min: resolved.maximum + 1, max: resolved.maximum + 50 }) });
	if (resolved.properties) {
		const valid = validValue(resolved, document) as fc.Arbitrary<Record<string, unknown>>;
		for (const key of resolved.required ?? []) {
			found.push({ label: `${key}:missing`, values: valid.map(({ [key]: _left, ...rest }) => rest) });
		}
		// anyOf of required lists (task_id or taskId): every one of them left out.
		const oneOf: string[] = (resolved.anyOf ?? resolved.oneOf ?? []).flatMap((option: Schema) => option.required ?? []);
		if (oneOf.length > 0) {
			found.push({
				label: `${oneOf.join("|")}:missing`,
				values: valid.map((object) => Object.fromEntries(Object.entries(object).filter(([key]) => !oneOf.includes(key)))),
			});
		}
		for (const [key, property] of Object.entries(resolved.properties as Record<string, Schema>)) {
			for (const { label, values } of refusals(property, document)) {
				found.push({ label: `${key}.${label}`, values: fc.tuple(valid, values).map(([object, value]) => ({ ...object, [key]: value })) });
			}
		}
	}
	return found.map(({ label, values }) => ({
		label,
		values: keepOnly(values, (value) => violation(value, resolved, document) !== null, `refused (${label})`),
	}));
}

/** Whether `status` is among an operation's documented responses (exactly, or as 4XX/5XX, or default). */
export function documentedResponse(operation: Schema, status: number): Schema | undefined {
	const responses: Record<string, Schema> = operation.responses ?? {};
	return responses[String(status)] ?? responses[`${Math.floor(status / 100)}XX`] ?? responses.default;
}
