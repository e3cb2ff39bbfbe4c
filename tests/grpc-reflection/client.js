#!/usr/bin/env node
// A small grpcurl: a generic gRPC client that learns every type from the
// server's reflection service (grpc.reflection.v1alpha), so it needs no .proto
// files. It speaks proto3's JSON mapping (lowerCamelCase or original field
// names in, lowerCamelCase out; Timestamp/Duration as strings; Struct as JSON;
// 64-bit integers as strings; enums by name).
//
//   node client.js [flags] ADDR list [SERVICE]
//   node client.js [flags] ADDR describe SYMBOL
//   node client.js [flags] ADDR SERVICE/METHOD        (or: ADDR call SERVICE/METHOD)
//
// flags (grpcurl's spelling):
//   -d JSON          request body ('@' reads it from stdin); default {}
//   -H 'key: value'  request metadata, repeatable
//   -max-time SECS   deadline for each call (default 10)
//   -emit-defaults   print fields that hold their default value
//   -plaintext       accepted for grpcurl compatibility (always plaintext)
//
// Exit status as grpcurl's: 0 on success, 64 + the gRPC status code when the
// RPC fails (e.g. 71 = PERMISSION_DENIED), 1 for any other error. An RPC
// error prints "ERROR:\n  Code: NAME\n  Message: TEXT" on stderr.
'use strict';

const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const { GrpcReflection } = require('grpc-js-reflection-client');
// The protobufjs instance the reflection client builds its Roots with (it may
// carry its own version): `instanceof` needs the same one.
const protobuf = require(require.resolve('protobufjs', { paths: [require.resolve('grpc-js-reflection-client')] }));

const STATUS_NAMES = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k]));
const GRPCURL_CODE_NAMES = {
  OK: 'OK', CANCELLED: 'Canceled', UNKNOWN: 'Unknown', INVALID_ARGUMENT: 'InvalidArgument',
  DEADLINE_EXCEEDED: 'DeadlineExceeded', NOT_FOUND: 'NotFound', ALREADY_EXISTS: 'AlreadyExists',
  PERMISSION_DENIED: 'PermissionDenied', RESOURCE_EXHAUSTED: 'ResourceExhausted',
  FAILED_PRECONDITION: 'FailedPrecondition', ABORTED: 'Aborted', OUT_OF_RANGE: 'OutOfRange',
  UNIMPLEMENTED: 'Unimplemented', INTERNAL: 'Internal', UNAVAILABLE: 'Unavailable',
  DATA_LOSS: 'DataLoss', UNAUTHENTICATED: 'Unauthenticated',
};

class UsageError extends Error {}

function parseArgs(argv) {
  const opts = { data: '{}', headers: [], maxTime: 10, emitDefaults: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    switch (a.replace(/^--/, '-')) {
      case '-d': opts.data = value(); break;
      case '-H': case '-rpc-header': opts.headers.push(value()); break;
      case '-max-time': opts.maxTime = Number(value()); break;
      case '-emit-defaults': opts.emitDefaults = true; break;
      case '-plaintext': break;
      case '-h': case '-help': throw new UsageError('');
      default:
        if (a.startsWith('-') && a.length > 1) throw new UsageError(`unknown flag ${a}`);
        opts.rest.push(a);
    }
  }
  if (!(opts.maxTime > 0)) throw new UsageError('-max-time needs a positive number');
  return opts;
}

function metadataFrom(headers) {
  const md = new grpc.Metadata();
  for (const h of headers) {
    const at = h.indexOf(':');
    if (at <= 0) throw new UsageError(`header '${h}' is not 'key: value'`);
    md.add(h.slice(0, at).trim().toLowerCase(), h.slice(at + 1).trim());
  }
  return md;
}

// ------------------------------------------------------------- JSON mapping

const camel = (s) => s.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

function typeName(t) {
  return t.fullName.replace(/^\./, '');
}

// The protobufjs field whose proto name or JSON name is `key`.
function fieldFor(type, key) {
  if (type.fields[key]) return type.fields[key];
  for (const f of type.fieldsArray) {
    if (camel(f.name) === key || f.name === key || (f.options && f.options.json_name === key)) return f;
  }
  return null;
}

function f(type, protoName) {  // the protobufjs key for a field of a well-known type
  const field = fieldFor(type, protoName) || fieldFor(type, camel(protoName));
  if (!field) throw new Error(`${typeName(type)} has no field ${protoName}`);
  return field.name;
}

function parseTimestamp(s) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i.exec(String(s));
  if (!m) throw new Error(`not an RFC 3339 timestamp: ${s}`);
  const ms = Date.parse(`${m[1]}T${m[2]}${m[4].toUpperCase()}`);
  // Date.parse rolls 2030-02-30 over into March: compare the fields back.
  const local = new Date(ms + (m[4].toUpperCase() === 'Z' ? 0 : offsetMs(m[4])));
  if (Number.isNaN(ms) || local.toISOString().slice(0, 19) !== `${m[1]}T${m[2]}`) {
    throw new Error(`not a valid timestamp: ${s}`);
  }
  const nanos = m[3] ? Number((m[3].slice(1) + '000000000').slice(0, 9)) : 0;
  return { seconds: Math.floor(ms / 1000), nanos };
}

function offsetMs(offset) {  // "+02:00" -> milliseconds east of UTC
  const sign = offset[0] === '-' ? -1 : 1;
  return sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60000;
}

function formatTimestamp(seconds, nanos) {
  const iso = new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, '');
  return iso + fraction(nanos) + 'Z';
}

function fraction(nanos) {
  nanos = Number(nanos || 0);
  if (!nanos) return '';
  let s = String(nanos).padStart(9, '0');
  if (s.endsWith('000000')) s = s.slice(0, 3);
  else if (s.endsWith('000')) s = s.slice(0, 6);
  return '.' + s;
}

function parseDuration(s) {
  const m = /^(-)?(\d+)(\.\d{1,9})?s$/.exec(String(s));
  if (!m) throw new Error(`not a JSON duration ("90s", "1.5s"): ${s}`);
  const sign = m[1] ? -1 : 1;
  const nanos = m[3] ? Number((m[3].slice(1) + '000000000').slice(0, 9)) : 0;
  return { seconds: sign * Number(m[2]), nanos: sign * nanos };
}

function valueToProto(type, v) {  // google.protobuf.Value
  if (v === null) return { [f(type, 'null_value')]: 0 };
  if (typeof v === 'number') return { [f(type, 'number_value')]: v };
  if (typeof v === 'string') return { [f(type, 'string_value')]: v };
  if (typeof v === 'boolean') return { [f(type, 'bool_value')]: v };
  const root = type.root;
  if (Array.isArray(v)) {
    const lt = root.lookupType('google.protobuf.ListValue');
    return { [f(type, 'list_value')]: { [f(lt, 'values')]: v.map((x) => valueToProto(type, x)) } };
  }
  const st = root.lookupType('google.protobuf.Struct');
  return { [f(type, 'struct_value')]: structToProto(st, v) };
}

function structToProto(type, obj) {
  const vt = type.root.lookupType('google.protobuf.Value');
  const fields = {};
  for (const [k, v] of Object.entries(obj)) fields[k] = valueToProto(vt, v);
  return { [f(type, 'fields')]: fields };
}

// JSON (proto3 mapping) -> the plain object protobufjs' fromObject takes.
function jsonToObject(type, json) {
  switch (typeName(type)) {
    case 'google.protobuf.Timestamp': return parseTimestamp(json);
    case 'google.protobuf.Duration': return parseDuration(json);
    case 'google.protobuf.Struct': return structToProto(type, json || {});
    case 'google.protobuf.Value': return valueToProto(type, json);
    case 'google.protobuf.Empty': return {};
    default: break;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`${typeName(type)} must be a JSON object`);
  }
  const out = {};
  for (const [key, value] of Object.entries(json)) {
    const field = fieldFor(type, key);
    if (!field) throw new Error(`message type ${typeName(type)} has no known field named ${key}`);
    field.resolve();
    const conv = (x) => (field.resolvedType instanceof protobuf.Type ? jsonToObject(field.resolvedType, x) : x);
    if (value === null) continue;
    if (field.map) {
      out[field.name] = Object.fromEntries(Object.entries(value).map(([k, x]) => [k, conv(x)]));
    } else if (field.repeated) {
      if (!Array.isArray(value)) throw new Error(`field ${key} of ${typeName(type)} must be an array`);
      out[field.name] = value.map(conv);
    } else {
      out[field.name] = conv(value);
    }
  }
  return out;
}

function scalarToJson(field, v) {
  if (field.resolvedType instanceof protobuf.Enum) {
    return field.resolvedType.valuesById[v] !== undefined ? field.resolvedType.valuesById[v] : v;
  }
  if (field.long || ['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64'].includes(field.type)) return String(v);
  if (field.type === 'bytes') return Buffer.from(v).toString('base64');
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

function isDefault(field, v) {
  if (v === undefined || v === null) return true;
  if (field.repeated) return v.length === 0;
  if (field.map) return Object.keys(v).length === 0;
  if (field.resolvedType instanceof protobuf.Type) return false;
  if (field.type === 'bytes') return v.length === 0;
  if (typeof v === 'object' && typeof v.isZero === 'function') return v.isZero();  // Long
  return v === 0 || v === '' || v === false;
}

// A decoded protobufjs message -> JSON (proto3 mapping).
function messageToJson(type, msg, emitDefaults) {
  const get = (name) => msg[fieldFor(type, name) ? fieldFor(type, name).name : name];
  switch (typeName(type)) {
    case 'google.protobuf.Timestamp': return formatTimestamp(get('seconds') || 0, get('nanos'));
    case 'google.protobuf.Duration': {
      const s = Number(get('seconds') || 0);
      const n = Number(get('nanos') || 0);
      return `${s < 0 || n < 0 ? '-' : ''}${Math.abs(s)}${fraction(Math.abs(n))}s`;
    }
    case 'google.protobuf.Struct': {
      const vt = type.root.lookupType('google.protobuf.Value');
      const fields = get('fields') || {};
      return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, messageToJson(vt, v, emitDefaults)]));
    }
    case 'google.protobuf.Value': {
      for (const [name, conv] of [
        ['null_value', () => null], ['number_value', (x) => x], ['string_value', (x) => x],
        ['bool_value', (x) => x],
        ['struct_value', (x) => messageToJson(type.root.lookupType('google.protobuf.Struct'), x, emitDefaults)],
        ['list_value', (x) => messageToJson(type.root.lookupType('google.protobuf.ListValue'), x, emitDefaults)],
      ]) {
        const v = get(name);
        if (v !== undefined && v !== null) return conv(v);
      }
      return null;
    }
    case 'google.protobuf.ListValue': {
      const vt = type.root.lookupType('google.protobuf.Value');
      return (get('values') || []).map((v) => messageToJson(vt, v, emitDefaults));
    }
    default: break;
  }
  const out = {};
  for (const field of type.fieldsArray) {
    field.resolve();
    const v = msg[field.name];
    const explicit = field.partOf && v !== undefined && v !== null;  // proto3 optional / oneof
    if (!explicit && isDefault(field, v) && !emitDefaults) continue;
    const one = (x) => (field.resolvedType instanceof protobuf.Type
      ? messageToJson(field.resolvedType, x, emitDefaults) : scalarToJson(field, x));
    const key = (field.options && field.options.json_name) || camel(field.name);
    if (field.map) {
      out[key] = Object.fromEntries(Object.entries(v || {}).map(([k, x]) => [k, one(x)]));
    } else if (field.repeated) {
      out[key] = (v || []).map(one);
    } else if (v === undefined || v === null) {
      out[key] = field.resolvedType instanceof protobuf.Type ? null : scalarToJson(field, field.typeDefault);
    } else {
      out[key] = one(v);
    }
  }
  return out;
}

// ---------------------------------------------------------------- commands

async function rootFor(reflection, symbol, md, deadline) {
  const descriptor = await reflection.getDescriptorBySymbol(symbol, md, { deadline: deadline() });
  const root = descriptor.getProtobufJsRoot();
  root.resolveAll();
  return root;
}

function describe(obj) {
  const name = typeName(obj);
  if (obj instanceof protobuf.Service) {
    const lines = [`${name} is a service:`, `service ${obj.name} {`];
    for (const m of obj.methodsArray) {
      m.resolve();
      const req = `${m.requestStream ? 'stream ' : ''}.${typeName(m.resolvedRequestType)}`;
      const res = `${m.responseStream ? 'stream ' : ''}.${typeName(m.resolvedResponseType)}`;
      lines.push(`  rpc ${m.name} ( ${req} ) returns ( ${res} );`);
    }
    lines.push('}');
    return lines.join('\n');
  }
  if (obj instanceof protobuf.Method) {
    obj.resolve();
    return `${name} is a method:\nrpc ${obj.name} ( .${typeName(obj.resolvedRequestType)} ) returns ( .${typeName(obj.resolvedResponseType)} );`;
  }
  if (obj instanceof protobuf.Type) {
    const lines = [`${name} is a message:`, `message ${obj.name} {`];
    for (const field of obj.fieldsArray) {
      field.resolve();
      const t = field.resolvedType ? `.${typeName(field.resolvedType)}` : field.type;
      const label = field.map ? `map<${field.keyType}, ${t}>` : `${field.repeated ? 'repeated ' : field.partOf && field.partOf.name.startsWith('_') ? 'optional ' : ''}${t}`;
      lines.push(`  ${label} ${field.name} = ${field.id};`);
    }
    lines.push('}');
    return lines.join('\n');
  }
  if (obj instanceof protobuf.Enum) {
    const lines = [`${name} is an enum:`, `enum ${obj.name} {`];
    for (const [k, v] of Object.entries(obj.values)) lines.push(`  ${k} = ${v};`);
    lines.push('}');
    return lines.join('\n');
  }
  return `${name} is a ${obj.constructor.name}`;
}

function invoke(addr, method, request, md, deadline) {
  const reqType = method.resolvedRequestType;
  const resType = method.resolvedResponseType;
  const client = new grpc.Client(addr, grpc.credentials.createInsecure());
  const path = `/${typeName(method.parent)}/${method.name}`;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (obj) => Buffer.from(reqType.encode(reqType.fromObject(obj)).finish()),
      (buf) => resType.decode(buf),
      request, md, { deadline: deadline() },
      (err, res) => {
        client.close();
        if (err) reject(err); else resolve(res);
      });
  });
}

// A server-streaming call, as grpcurl makes it: each message printed as it
// comes; resolves at the stream's end, rejects with its error status.
function invokeServerStream(addr, method, request, md, deadline, onMessage) {
  const reqType = method.resolvedRequestType;
  const resType = method.resolvedResponseType;
  const client = new grpc.Client(addr, grpc.credentials.createInsecure());
  const path = `/${typeName(method.parent)}/${method.name}`;
  return new Promise((resolve, reject) => {
    const call = client.makeServerStreamRequest(
      path,
      (obj) => Buffer.from(reqType.encode(reqType.fromObject(obj)).finish()),
      (buf) => resType.decode(buf),
      request, md, { deadline: deadline() });
    call.on('data', onMessage);
    call.on('error', (err) => { client.close(); reject(err); });
    call.on('end', () => { client.close(); resolve(); });
  });
}

async function main(argv) {
  const opts = parseArgs(argv);
  const [addr, cmd, arg, ...extra] = opts.rest;
  if (!addr || !cmd) throw new UsageError('missing ADDR or command');
  const md = metadataFrom(opts.headers);
  const deadline = () => new Date(Date.now() + opts.maxTime * 1000);
  const reflection = new GrpcReflection(addr, grpc.credentials.createInsecure());

  if (cmd === 'list') {
    if (extra.length) throw new UsageError('too many arguments');
    if (!arg) {
      const services = await reflection.listServices('*', md, { deadline: deadline() });
      console.log([...services].sort().join('\n'));
      return 0;
    }
    const root = await rootFor(reflection, arg, md, deadline);
    const service = root.lookupService(arg);
    console.log(service.methodsArray.map((m) => `${arg}.${m.name}`).join('\n'));
    return 0;
  }
  if (cmd === 'describe') {
    if (!arg || extra.length) throw new UsageError('describe needs one SYMBOL');
    let symbol = arg;
    let root;
    try {
      root = await rootFor(reflection, symbol, md, deadline);
    } catch (e) {
      // A method: ask for its service.
      symbol = arg.slice(0, arg.lastIndexOf('.'));
      root = await rootFor(reflection, symbol, md, deadline);
    }
    const obj = root.lookup(arg);
    if (!obj) throw new Error(`symbol not found: ${arg}`);
    console.log(describe(obj));
    return 0;
  }
  let target = cmd;
  if (cmd === 'call') {
    if (!arg || extra.length) throw new UsageError('call needs one SERVICE/METHOD');
    target = arg;
  } else if (arg !== undefined) {
    throw new UsageError(`unknown command '${cmd}' (list, describe, call, or SERVICE/METHOD)`);
  }
  const m = /^\/?([\w.]+)[/.](\w+)$/.exec(target);
  if (!m) throw new UsageError(`'${target}' is not SERVICE/METHOD`);
  const [, serviceName, methodName] = m;
  const root = await rootFor(reflection, serviceName, md, deadline);
  const service = root.lookupService(serviceName);
  const method = service.methods[methodName];
  if (!method) throw new Error(`service ${serviceName} has no method ${methodName}`);
  if (method.requestStream) throw new Error('client-streaming methods are not supported');
  const body = opts.data === '@' ? fs.readFileSync(0, 'utf8') : opts.data;
  let json;
  try {
    json = JSON.parse(body || '{}');
  } catch (e) {
    throw new Error(`-d is not JSON: ${e.message}`);
  }
  const request = jsonToObject(method.resolvedRequestType, json);
  const print = (response) =>
    console.log(JSON.stringify(messageToJson(method.resolvedResponseType, response, opts.emitDefaults), null, 2));
  try {
    if (method.responseStream) {
      await invokeServerStream(addr, method, request, md, deadline, print);
    } else {
      print(await invoke(addr, method, request, md, deadline));
    }
    return 0;
  } catch (err) {
    if (typeof err.code !== 'number') throw err;
    const name = STATUS_NAMES[err.code] || String(err.code);
    process.stderr.write(`ERROR:\n  Code: ${GRPCURL_CODE_NAMES[name] || name}\n  Message: ${err.details}\n`);
    return 64 + err.code;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (err) => {
      if (err instanceof UsageError) {
        if (err.message) process.stderr.write(`client.js: ${err.message}\n`);
        process.stderr.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 21)
          .map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
        process.exitCode = 2;
        return;
      }
      // Failures of the reflection calls themselves carry a gRPC code too.
      const code = err && typeof err.code === 'number' ? err.code : null;
      process.stderr.write(`Failed: ${err && (err.details || err.message) || err}\n`);
      process.exitCode = code !== null && code > 0 ? 64 + code : 1;
    });
}

module.exports = { jsonToObject, messageToJson, parseTimestamp, formatTimestamp, parseDuration };
