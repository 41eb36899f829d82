'use strict';
// Validates netpolc's out/npm/*.json against NPM's own request schemas (npm_schemas.js).
//   node validate_payloads.js DIR...     each DIR holds access-lists.json and proxy-hosts.json
// Every access list must pass NPM's create (POST) and update (PUT) schemas; every proxy host too,
// both as written and as `netpolc npm apply` sends it (with integer access_list_id and
// certificate_id). Validation must not have to coerce anything (NPM's coerceTypes would hide a
// wrongly typed value). Prints PASS/FAIL lines and "N passed, M failed"; exit 1 on any failure.
const fs = require('fs');
const path = require('path');
const { loadValidators } = require('./npm_schemas');

let passed = 0;
let failed = 0;
const pass = (what) => { passed++; console.log(`PASS: ${what}`); };
const fail = (what, why) => { failed++; console.log(`FAIL: ${what}: ${why}`); };

function checkOne(validator, body, what) {
  const copy = JSON.parse(JSON.stringify(body));
  const error = validator(copy);
  if (error) return fail(what, error);
  // Known NPM quirk (formats.md 3.5): certificate_id's anyOf turns an integer into a string.
  if ('certificate_id' in body && copy.certificate_id === String(body.certificate_id)) copy.certificate_id = body.certificate_id;
  if (JSON.stringify(copy) !== JSON.stringify(body)) return fail(what, 'valid only after type coercion');
  pass(what);
}

async function main() {
  const dirs = process.argv.slice(2);
  if (!dirs.length) throw new Error('usage: node validate_payloads.js DIR...');
  const v = await loadValidators();
  for (const dir of dirs) {
    const lists = JSON.parse(fs.readFileSync(path.join(dir, 'access-lists.json'), 'utf8'));
    const hosts = JSON.parse(fs.readFileSync(path.join(dir, 'proxy-hosts.json'), 'utf8'));
    if (!Array.isArray(lists) || !Array.isArray(hosts) || !lists.length || !hosts.length) {
      fail(dir, 'both files must be non-empty JSON arrays');
      continue;
    }
    for (const list of lists) {
      checkOne(v.createAccessList, list, `${dir}: access list ${list.name}: POST /nginx/access-lists`);
      checkOne(v.updateAccessList, list, `${dir}: access list ${list.name}: PUT /nginx/access-lists/{id}`);
    }
    for (const host of hosts) {
      const name = (host.domain_names || ['?'])[0];
      checkOne(v.createProxyHost, host, `${dir}: proxy host ${name}: POST /nginx/proxy-hosts`);
      const sent = Object.assign({}, host, { access_list_id: 12, certificate_id: host.ssl_forced ? 3 : 0 });
      checkOne(v.createProxyHost, sent, `${dir}: proxy host ${name} as apply sends it: POST`);
      checkOne(v.updateProxyHost, sent, `${dir}: proxy host ${name} as apply sends it: PUT /nginx/proxy-hosts/{id}`);
      if ('advanced_config' in host) fail(`${dir}: proxy host ${name}`, 'advanced_config must never be emitted');
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
