#!/usr/bin/env node
'use strict';
/*
 * Interop harness: runs Confluent's official JavaScript Avro serde (@confluentinc/schemaregistry,
 * AvroSerializer / AvroDeserializer over its in-memory MockClient) on a job written by
 * io.shoplens.serde.ConfluentJsInteropTest, and writes what it produced.
 *
 *   node harness.js <job.json> <result.json>
 *
 * Job:
 *   {
 *     "longs": "number" | "bigint",   // how avsc holds Avro longs in JS (default "number", avsc's own
 *                                     // default, which refuses |n| > 2^53 - 2 on read and write;
 *                                     // "bigint" plugs a BigInt long type in through the serde
 *                                     // config so that the full long range survives)
 *     "registrations": [{"subject": "...", "schema": "<Avro schema JSON text>"}, ...],  // in order
 *     "serialize":   [{"name": "...", "topic": "...", "value": <canonical JSON>}, ...],
 *     "deserialize": [{"name": "...", "topic": "...", "bytes": "<base64>"}, ...]
 *   }
 *
 * Result:
 *   {
 *     "package": "@confluentinc/schemaregistry@<version>", "avsc": "<version>", "node": "<version>",
 *     "registrations": [{"subject": "...", "id": n}, ...],
 *     "serialized":   [{"name": "...", "bytes": "<base64>"} | {"name": "...", "error": "..."}, ...],
 *     "deserialized": [{"name": "...", "value": <canonical JSON>} | {"name": "...", "error": "..."}, ...]
 *   }
 *
 * Canonical JSON (the same on the Java side, so that values compare as JSON trees):
 *   null, boolean, int -> JSON null / boolean / number; long (timestamps included: the underlying
 *   long) -> decimal string; float / double -> lowercase hex of the IEEE-754 bits (8 / 16 digits,
 *   exact, no decimal formatting differences between Java and JS); string / enum -> string;
 *   bytes / fixed -> base64; array -> array; map -> object; record -> object with every field;
 *   union -> null for the null branch, else {"<branch>": value} where <branch> is the full name of
 *   a named type or the primitive / "array" / "map" type name (the Avro JSON encoding convention).
 *
 * Each record fails on its own ("error" in the result) so that one bad record does not hide the
 * others; the process exits non-zero only when the job itself cannot be run.
 */

const fs = require('fs');
const path = require('path');
const sr = require('@confluentinc/schemaregistry');
const avro = require('avsc');

/** The avsc instance the Confluent serde itself loads; ours must be the same module. */
function checkSameAvsc() {
  const serdeDir = path.dirname(require.resolve('@confluentinc/schemaregistry/package.json'));
  const theirs = require.resolve('avsc', { paths: [serdeDir] });
  const ours = require.resolve('avsc');
  if (theirs !== ours) {
    throw new Error(`avsc used by @confluentinc/schemaregistry (${theirs}) is not the one pinned here (${ours}); `
      + 'align the avsc version in package.json with the one the serde depends on');
  }
}

/** A long held as a BigInt: avsc's documented hook for longs beyond Number.MAX_SAFE_INTEGER. */
const BIGINT_LONG = avro.types.LongType.__with({
  fromBuffer: (buf) => buf.readBigInt64LE(),
  toBuffer: (n) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: BigInt,
  toJSON: (n) => n.toString(),
  isValid: (n) => typeof n === 'bigint' && n >= -(2n ** 63n) && n < 2n ** 63n,
  compare: (a, b) => (a === b ? 0 : a < b ? -1 : 1),
});

function bigintLongHook(schema) {
  if (schema === 'long' || (schema && !Array.isArray(schema) && typeof schema === 'object' && schema.type === 'long')) {
    return BIGINT_LONG;
  }
  return undefined;
}

function serdeOptions(longs) {
  // The Confluent serde hands its whole config to avsc's Type.forSchema, so avsc options ride along.
  switch (longs ?? 'number') {
    case 'number': return {};
    case 'bigint': return { typeHook: bigintLongHook };
    default: throw new Error(`job.longs must be "number" or "bigint", got ${JSON.stringify(longs)}`);
  }
}

function branchName(type) {
  switch (type.typeName) {
    case 'record':
    case 'error':
    case 'enum':
    case 'fixed':
      return type.name; // avsc names are fully qualified
    case 'abstract:long':
      return 'long';
    default:
      return type.typeName;
  }
}

function floatHex(v, width) {
  const buf = Buffer.alloc(width);
  if (width === 4) buf.writeFloatBE(v); else buf.writeDoubleBE(v);
  return buf.toString('hex');
}

function hexFloat(s, width, where) {
  if (typeof s !== 'string' || s.length !== width * 2 || !/^[0-9a-f]+$/.test(s)) {
    throw new Error(`${where}: expected ${width * 2} lowercase hex digits of IEEE-754 bits, got ${JSON.stringify(s)}`);
  }
  const buf = Buffer.from(s, 'hex');
  return width === 4 ? buf.readFloatBE() : buf.readDoubleBE();
}

function expectString(json, what, where) {
  if (typeof json !== 'string') {
    throw new Error(`${where}: expected ${what} as a JSON string, got ${JSON.stringify(json)}`);
  }
  return json;
}

/** Canonical JSON -> the value avsc (and so Confluent's serializer) expects for `type`. */
function toAvsc(type, json, where) {
  switch (type.typeName) {
    case 'null':
      if (json !== null) throw new Error(`${where}: expected null, got ${JSON.stringify(json)}`);
      return null;
    case 'boolean':
    case 'int':
    case 'string':
    case 'enum':
      return json;
    case 'long': {
      const n = BigInt(expectString(json, 'a long', where));
      if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
        throw new Error(`${where}: long ${json} does not fit a JS number; run the job with "longs": "bigint"`);
      }
      return Number(n);
    }
    case 'abstract:long':
      return BigInt(expectString(json, 'a long', where));
    case 'float':
      return hexFloat(json, 4, where);
    case 'double':
      return hexFloat(json, 8, where);
    case 'bytes':
    case 'fixed':
      return Buffer.from(expectString(json, 'base64 bytes', where), 'base64');
    case 'array':
      return json.map((item, i) => toAvsc(type.itemsType, item, `${where}[${i}]`));
    case 'map': {
      const out = {};
      for (const [k, v] of Object.entries(json)) out[k] = toAvsc(type.valuesType, v, `${where}.${k}`);
      return out;
    }
    case 'record':
    case 'error': {
      const out = {};
      for (const field of type.fields) {
        if (!(field.name in json)) throw new Error(`${where}: field ${field.name} is missing`);
        out[field.name] = toAvsc(field.type, json[field.name], `${where}.${field.name}`);
      }
      const extra = Object.keys(json).filter((k) => !type.fields.some((f) => f.name === k));
      if (extra.length > 0) throw new Error(`${where}: unknown fields ${extra.join(', ')}`);
      return out;
    }
    case 'union:unwrapped':
    case 'union:wrapped': {
      if (json === null) {
        if (!type.types.some((t) => t.typeName === 'null')) throw new Error(`${where}: null is not a branch`);
        return null;
      }
      const keys = Object.keys(json);
      if (keys.length !== 1) throw new Error(`${where}: a union value is {"<branch>": value}, got ${JSON.stringify(json)}`);
      const branch = type.types.find((t) => branchName(t) === keys[0]);
      if (branch === undefined) {
        throw new Error(`${where}: no branch ${keys[0]} in union of ${type.types.map(branchName).join(', ')}`);
      }
      const value = toAvsc(branch, json[keys[0]], `${where}<${keys[0]}>`);
      return type.typeName === 'union:wrapped' ? { [branch.branchName]: value } : value;
    }
    default:
      throw new Error(`${where}: unsupported avsc type ${type.typeName}`);
  }
}

/** A value Confluent's deserializer returned -> canonical JSON for `type`. */
function fromAvsc(type, value, where) {
  switch (type.typeName) {
    case 'null':
    case 'boolean':
    case 'int':
    case 'string':
    case 'enum':
      return value;
    case 'long':
    case 'abstract:long':
      return BigInt(value).toString();
    case 'float':
      return floatHex(value, 4);
    case 'double':
      return floatHex(value, 8);
    case 'bytes':
    case 'fixed':
      return Buffer.from(value).toString('base64');
    case 'array':
      return value.map((item, i) => fromAvsc(type.itemsType, item, `${where}[${i}]`));
    case 'map': {
      const out = {};
      for (const k of Object.keys(value).sort()) out[k] = fromAvsc(type.valuesType, value[k], `${where}.${k}`);
      return out;
    }
    case 'record':
    case 'error': {
      const out = {};
      for (const field of type.fields) out[field.name] = fromAvsc(field.type, value[field.name], `${where}.${field.name}`);
      return out;
    }
    case 'union:unwrapped': {
      if (value === null || value === undefined) return null;
      // avsc unwraps a union only when its branches are told apart by the JS value's kind.
      const branch = type.types.find((t) => t.typeName !== 'null' && t.isValid(value));
      if (branch === undefined) throw new Error(`${where}: value fits no branch of the union`);
      return { [branchName(branch)]: fromAvsc(branch, value, `${where}<${branchName(branch)}>`) };
    }
    case 'union:wrapped': {
      if (value === null || value === undefined) return null;
      const key = Object.keys(value)[0];
      const branch = type.types.find((t) => t.branchName === key);
      if (branch === undefined) throw new Error(`${where}: unknown branch ${key}`);
      return { [branchName(branch)]: fromAvsc(branch, value[key], `${where}<${key}>`) };
    }
    default:
      throw new Error(`${where}: unsupported avsc type ${type.typeName}`);
  }
}

function message(err) {
  return err && err.stack ? String(err.stack) : String(err);
}

async function run(job) {
  const options = serdeOptions(job.longs);
  const client = new sr.MockClient({ baseURLs: ['mock://'] });
  const registrations = [];
  for (const r of job.registrations ?? []) {
    const id = await client.register(r.subject, { schemaType: 'AVRO', schema: r.schema });
    registrations.push({ subject: r.subject, id });
  }

  // Producers in JS name the registered schema: the serializer's default (no useLatestVersion)
  // would derive a schema from the JS value with invented record names, which is not the contract.
  const serializer = new sr.AvroSerializer(client, sr.SerdeType.VALUE, {
    ...options,
    autoRegisterSchemas: false,
    useLatestVersion: true,
    subjectNameStrategyType: sr.SubjectNameStrategyType.TOPIC,
  });
  const deserializer = new sr.AvroDeserializer(client, sr.SerdeType.VALUE, {
    ...options,
    subjectNameStrategyType: sr.SubjectNameStrategyType.TOPIC,
  });

  const serialized = [];
  for (const item of job.serialize ?? []) {
    try {
      const subject = `${item.topic}-value`;
      const latest = await client.getLatestSchemaMetadata(subject);
      const [type] = await serializer.toType(latest);
      const value = toAvsc(type, item.value, item.name);
      const bytes = await serializer.serialize(item.topic, value);
      serialized.push({ name: item.name, bytes: Buffer.from(bytes).toString('base64') });
    } catch (err) {
      serialized.push({ name: item.name, error: message(err) });
    }
  }

  const deserialized = [];
  for (const item of job.deserialize ?? []) {
    try {
      const payload = Buffer.from(item.bytes, 'base64');
      const value = await deserializer.deserialize(item.topic, payload);
      // Canonicalize with the writer's schema, looked up the way the deserializer does.
      const writer = await client.getBySubjectAndId(`${item.topic}-value`, payload.readInt32BE(1));
      const [type] = await deserializer.toType(writer);
      deserialized.push({ name: item.name, value: fromAvsc(type, value, item.name) });
    } catch (err) {
      deserialized.push({ name: item.name, error: message(err) });
    }
  }

  return {
    package: `@confluentinc/schemaregistry@${require('@confluentinc/schemaregistry/package.json').version}`,
    avsc: require('avsc/package.json').version,
    node: process.version,
    registrations,
    serialized,
    deserialized,
  };
}

async function main(argv) {
  if (argv.length !== 2) {
    throw new Error('usage: node harness.js <job.json> <result.json>');
  }
  checkSameAvsc();
  const job = JSON.parse(fs.readFileSync(argv[0], 'utf8'));
  const result = await run(job);
  fs.writeFileSync(argv[1], JSON.stringify(result, null, 2));
}

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`harness failed: ${message(err)}\n`);
  process.exit(1);
});
