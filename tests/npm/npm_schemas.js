'use strict';
// NPM's own request validation, as its backend does it (shared/formats.md 3.1, 3.6): dereference
// swagger.json (NPM v2.15.1's schemas, copied in npm-schema/), take
// paths[P][method].requestBody.content["application/json"].schema, compile it with Ajv's 2020
// dialect and NPM's exact options, and report ajv.errorsText() as NPM does in its 400 answers.
const path = require('path');
const $RefParser = require('@apidevtools/json-schema-ref-parser');
const Ajv2020 = require('ajv/dist/2020').default;

const SCHEMA_DIR = path.join(__dirname, 'npm-schema');
const AJV_OPTIONS = { verbose: true, allErrors: true, allowUnionTypes: true, strict: false, coerceTypes: true };

const REQUESTS = {
  token: ['/tokens', 'post'],
  createProxyHost: ['/nginx/proxy-hosts', 'post'],
  updateProxyHost: ['/nginx/proxy-hosts/{hostID}', 'put'],
  createAccessList: ['/nginx/access-lists', 'post'],
  updateAccessList: ['/nginx/access-lists/{listID}', 'put'],
};

// Resolves to { name: (body) => null | "ajv.errorsText()" }. Validation may coerce `body` in
// place, exactly as NPM's does (coerceTypes).
async function loadValidators() {
  const api = await $RefParser.dereference(path.join(SCHEMA_DIR, 'swagger.json'), { mutateInputSchema: false });
  const validators = {};
  for (const [name, [p, method]] of Object.entries(REQUESTS)) {
    const op = api.paths[p] && api.paths[p][method];
    const schema = op && op.requestBody && op.requestBody.content['application/json'].schema;
    if (!schema) throw new Error(`no request schema for ${method.toUpperCase()} ${p}`);
    const ajv = new Ajv2020(AJV_OPTIONS);
    const validate = ajv.compile(schema);
    validators[name] = (body) => (validate(body) ? null : ajv.errorsText(validate.errors));
  }
  return validators;
}

module.exports = { loadValidators, AJV_OPTIONS };
