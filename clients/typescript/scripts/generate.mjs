#!/usr/bin/env node
/**
 * Writes the package's generated types from the server's contract documents:
 * - src/generated/events.ts from the AsyncAPI document (every Socket.IO event, its payload and,
 *   for a client event, its acknowledgement) — by this script's own small JSON-Schema printer;
 * - src/generated/rest.ts from the OpenAPI document (every REST operation) — by
 *   openapi-typescript.
 *
 *   node scripts/generate.mjs CONTRACT_DIR [OUT_DIR]
 *
 * CONTRACT_DIR holds asyncapi.json and openapi.json, written by
 * `.venv/bin/python clients/typescript/scripts/contract.py CONTRACT_DIR` from the repository's
 * root (the documents the server serves at /asyncapi.json and /openapi.json). OUT_DIR defaults to
 * src/generated. The output depends on nothing but the documents, so regenerating must give the
 * committed files byte for byte (tests/realtime/test_ts_client.py checks it).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";

const here = dirname(fileURLToPath(import.meta.url));
const [contractDir, outArg] = process.argv.slice(2);
if (!contractDir) {
  console.error("usage: node scripts/generate.mjs CONTRACT_DIR [OUT_DIR]");
  process.exit(2);
}
const outDir = resolve(outArg ?? join(here, "..", "src", "generated"));
const read = (name) => JSON.parse(readFileSync(join(contractDir, name), "utf8"));

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A JSDoc block for `text` at `indent`, or nothing. */
function doc(text, indent) {
  if (!text) return "";
  // A Python docstring: its lines after the first share an indent (as inspect.cleandoc).
  const [first, ...rest] = String(text).replace(/\*\//g, "*\\/").trim().split("\n");
  const margin = Math.min(...rest.filter((line) => line.trim()).map((line) => line.length - line.trimStart().length));
  const lines = [first, ...rest.map((line) => line.slice(Number.isFinite(margin) ? margin : 0))];
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((line) => `${indent} * ${line}`.trimEnd()).join("\n")}\n${indent} */\n`;
}

const refName = (ref) => ref.slice(ref.lastIndexOf("/") + 1);

/** The TypeScript type of a JSON Schema (the subset pydantic writes). */
function typeOf(schema, indent) {
  if (schema === true || schema === undefined || schema === null) return "unknown";
  if (schema === false) return "never";
  if (schema.$ref) return refName(schema.$ref);
  if ("const" in schema) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
  for (const key of ["anyOf", "oneOf"]) {
    if (schema[key]) return union(schema[key].map((part) => typeOf(part, indent)));
  }
  if (schema.allOf) return schema.allOf.map((part) => wrap(typeOf(part, indent))).join(" & ");
  const type = schema.type;
  if (Array.isArray(type)) return union(type.map((one) => typeOf({ ...schema, type: one }, indent)));
  switch (type) {
    case "string":
      return "string";
    case "integer":
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "null":
      return "null";
    case "array":
      if (Array.isArray(schema.prefixItems)) return `[${schema.prefixItems.map((item) => typeOf(item, indent)).join(", ")}]`;
      return `${wrap(typeOf(schema.items, indent))}[]`;
    case "object":
      return objectType(schema, indent);
    default:
      return schema.properties ? objectType(schema, indent) : "unknown";
  }
}

function union(types) {
  const unique = [...new Set(types)];
  return unique.length === 1 ? unique[0] : unique.map(wrap).join(" | ");
}

/** Parenthesised when it is a union or an intersection at its top level (inside `[]`, `&`, `|`). */
function wrap(type) {
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < type.length; i++) {
    const c = type[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if ("{[(<".includes(c)) depth++;
    else if ("}])>".includes(c)) depth--;
    else if (depth === 0 && (c === "|" || c === "&")) return `(${type})`;
  }
  return type;
}

function objectType(schema, indent) {
  const properties = Object.entries(schema.properties ?? {});
  const extra = schema.additionalProperties;
  if (properties.length === 0) {
    if (extra && extra !== true) return `{ [key: string]: ${typeOf(extra, indent)} }`;
    return "Record<string, unknown>";
  }
  const required = new Set(schema.required ?? []);
  const inner = `${indent}  `;
  const lines = properties.map(([name, property]) => {
    const key = IDENTIFIER.test(name) ? name : JSON.stringify(name);
    return `${doc(property.description, inner)}${inner}${key}${required.has(name) ? "" : "?"}: ${typeOf(property, inner)};`;
  });
  if (extra && extra !== false) lines.push(`${inner}[key: string]: unknown;`);
  return `{\n${lines.join("\n")}\n${indent}}`;
}

/** A named schema as an exported interface (objects) or type alias (anything else). */
function declaration(name, schema) {
  const type = typeOf(schema, "");
  const comment = doc(schema.description, "");
  if (type.startsWith("{\n")) return `${comment}export interface ${name} ${type}\n`;
  return `${comment}export type ${name} = ${type};\n`;
}

function eventsModule(asyncapi) {
  const schemas = asyncapi.components.schemas;
  const messages = asyncapi.components.messages;
  const messageOf = (ref) => messages[refName(ref)];
  const server = new Map(); // event → {payload, channels, sequenced, summary}
  const client = new Map(); // event → {payload, ack, summary}
  for (const operation of Object.values(asyncapi.operations)) {
    const channel = refName(operation.channel.$ref);
    for (const ref of operation.messages) {
      const message = messageOf(ref.$ref);
      const name = message["x-socketio-event"];
      if (operation.action === "send") {
        const known = server.get(name) ?? {
          payload: refName(message.payload.$ref), channels: [], sequenced: message["x-sequenced"] === true, summary: message.description ?? message.summary,
        };
        known.channels.push(channel);
        server.set(name, known);
      } else {
        const reply = messageOf(operation.reply.messages[0].$ref).payload.oneOf ?? [];
        const ack = reply.map((part) => refName(part.$ref)).find((part) => part !== "ErrorAck") ?? "OkAck";
        client.set(name, { payload: refName(message.payload.$ref), ack, summary: message.summary });
      }
    }
  }
  const channels = Object.entries(asyncapi.channels);
  const out = [
    "/**",
    " * Every Socket.IO event of the server, its payload and, for the events a client emits, its",
    " * acknowledgement: GENERATED by scripts/generate.mjs from the server's AsyncAPI document",
    " * (app/asyncapi.py, served at /asyncapi.json). Do not edit; regenerate (README.md).",
    " */",
    "/* eslint-disable */",
    "",
  ];
  for (const name of Object.keys(schemas)) out.push(declaration(name, schemas[name]));
  out.push("/** The rooms (channels) events go to: their address pattern and what they are. */");
  out.push("export const CHANNELS = {");
  for (const [key, channel] of channels) {
    out.push(`  ${key}: { address: ${JSON.stringify(channel.address)}, description: ${JSON.stringify(channel.description)} },`);
  }
  out.push("} as const;\n");
  out.push("export type ChannelName = keyof typeof CHANNELS;\n");
  out.push("/** Every event the server emits: its name → its payload. */");
  out.push("export interface ServerEvents {");
  for (const [name, spec] of server) out.push(`${doc(spec.summary, "  ")}  ${JSON.stringify(name)}: ${spec.payload};`);
  out.push("}\n");
  out.push("export type ServerEventName = keyof ServerEvents;\n");
  out.push("/** Each server event's channels and whether it is stored in its room's log with a `seq`");
  out.push(" * (`sequenced`: replayed by the room's join after `after_seq`). */");
  out.push("export const SERVER_EVENTS: { readonly [E in ServerEventName]: { readonly channels: readonly ChannelName[]; readonly sequenced: boolean } } = {");
  for (const [name, spec] of server) {
    out.push(`  ${JSON.stringify(name)}: { channels: [${spec.channels.map((c) => JSON.stringify(c)).join(", ")}], sequenced: ${spec.sequenced} },`);
  }
  out.push("};\n");
  const sequenced = [...server].filter(([, spec]) => spec.sequenced).map(([name]) => JSON.stringify(name));
  out.push("/** The events stored in a room's log (each carries `seq`, and `id` = `<room>:<seq>`). */");
  out.push(`export type SequencedEventName = ${sequenced.join(" | ")};\n`);
  out.push("/** Every event a client emits: its name → its payload and its acknowledgement when accepted");
  out.push(" * (a refusal answers `ErrorAck`). */");
  out.push("export interface ClientEvents {");
  for (const [name, spec] of client) {
    out.push(`${doc(spec.summary, "  ")}  ${JSON.stringify(name)}: { payload: ${spec.payload}; ack: ${spec.ack} };`);
  }
  out.push("}\n");
  out.push("export type ClientEventName = keyof ClientEvents;");
  return `${out.join("\n")}\n`;
}

/** Every operationId names one operation (the server makes them unique, app/openapi.py):
 * openapi-typescript refuses a document that repeats one, and so does this, naming them. */
function uniqueOperationIds(openapi) {
  const seen = new Map();
  for (const [path, item] of Object.entries(openapi.paths ?? {})) {
    for (const [method, operation] of Object.entries(item)) {
      if (typeof operation !== "object" || operation === null || typeof operation.operationId !== "string") continue;
      seen.set(operation.operationId, [...(seen.get(operation.operationId) ?? []), `${method.toUpperCase()} ${path}`]);
    }
  }
  const repeated = [...seen].filter(([, where]) => where.length > 1);
  if (repeated.length) throw new Error(`operationIds repeated: ${JSON.stringify(repeated)}`);
  return openapi;
}

async function restModule(openapi) {
  const ast = await openapiTS(uniqueOperationIds(openapi), {
    alphabetize: false,
    silent: true,
    // A field with a default may be left out of a request (the shared components serve both ways).
    defaultNonNullable: false,
  });
  return [
    "/**",
    " * Every REST operation of the server (paths, parameters, request bodies, answers): GENERATED",
    " * by openapi-typescript through scripts/generate.mjs from the server's OpenAPI document",
    " * (served at /openapi.json). Do not edit; regenerate (README.md).",
    " */",
    "/* eslint-disable */",
    "",
    astToString(ast),
  ].join("\n");
}

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "events.ts"), eventsModule(read("asyncapi.json")));
writeFileSync(join(outDir, "rest.ts"), await restModule(read("openapi.json")));
console.log(`wrote ${join(outDir, "events.ts")} and ${join(outDir, "rest.ts")}`);
