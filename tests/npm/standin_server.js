'use strict';
// A stand-in for Nginx Proxy Manager's API (v2.15.1), for testing `netpolc npm apply` on this
// machine. It listens on 127.0.0.1 only, keeps its state in memory, and rejects every request
// body that NPM's own schema rejects (npm_schemas.js: NPM's schemas, Ajv options and error
// text). It also mimics the NPM behaviour apply depends on: server-assigned ids, unique domain
// names across hosts ("<domain> is already in use"), no TLS without a certificate
// (cleanSslHstsData), `meta` replaced as a whole on update, nginx's verdict in
// meta.nginx_online, `expand` for access-list clients and items, and access lists detached
// from their hosts when deleted.
//
//   node standin_server.js --port-file F --user EMAIL --password-file F [--max-lifetime S]
//                          [--tls-cert PEM --tls-key PEM]      (HTTPS instead of HTTP)
//
// Test-only routes (no auth, never under /api): GET /__log (the /api requests seen),
// POST /__log/clear, GET /__state, POST /__reset (empty state), POST /__certificates (replace the
// certificate list with the JSON body), POST /__nginx_fail (JSON list of domains whose nginx
// config "fails").
const http = require('http');
const https = require('https');
const fs = require('fs');
const crypto = require('crypto');
const { loadValidators } = require('./npm_schemas');

function args() {
  const out = { maxLifetime: 300 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) throw new Error(`missing value for ${k}`);
    if (k === '--port-file') out.portFile = v;
    else if (k === '--user') out.user = v;
    else if (k === '--password-file') out.password = fs.readFileSync(v, 'utf8').split('\n')[0].replace(/\r$/, '');
    else if (k === '--max-lifetime') out.maxLifetime = Number(v);
    else if (k === '--tls-cert') out.tlsCert = fs.readFileSync(v);
    else if (k === '--tls-key') out.tlsKey = fs.readFileSync(v);
    else throw new Error(`unknown option ${k}`);
  }
  if (!out.portFile || !out.user || !out.password) throw new Error('need --port-file, --user and --password-file');
  return out;
}

const opts = args();
const state = {};
function reset() {
  state.nextId = 1;
  state.proxyHosts = new Map();
  state.accessLists = new Map();
  state.certificates = [];
  state.nginxFail = new Set();
  state.tokens = new Set();
}
reset();
let log = [];

const now = () => new Date().toISOString();
const bool = (v) => v === true || v === 1 || v === '1' || v === 'true';
const int = (v) => (typeof v === 'string' && /^[0-9]+$/.test(v) ? Number(v) : v);  // undo coerceTypes' strings

class HttpError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// NPM's internalHost.cleanSslHstsData.
function cleanSslHsts(row) {
  if (!row.certificate_id) {
    row.ssl_forced = false;
    row.http2_support = false;
  }
  if (!row.ssl_forced) row.hsts_enabled = false;
  if (!row.hsts_enabled) row.hsts_subdomains = false;
  return row;
}

function domainTaken(domain, ignoreId) {
  for (const host of state.proxyHosts.values())
    if (host.id !== ignoreId && host.domain_names.some((d) => d.toLowerCase() === domain.toLowerCase())) return true;
  return false;
}

function checkReferences(row) {
  if (row.access_list_id && !state.accessLists.has(row.access_list_id))
    throw new HttpError(400, `Access list #${row.access_list_id} does not exist`);
  if (row.certificate_id && !state.certificates.some((c) => c.id === row.certificate_id))
    throw new HttpError(400, `Certificate #${row.certificate_id} does not exist`);
  if (row.certificate_id === 'new') throw new HttpError(400, 'the stand-in cannot request certificates');
}

function configureNginx(row) {
  const fail = row.domain_names.some((d) => state.nginxFail.has(d));
  row.meta = Object.assign({}, row.meta, { nginx_online: !fail, nginx_err: fail ? 'nginx: [emerg] stand-in failure' : null });
}

function accessListView(list, expand) {
  const view = {
    id: list.id, created_on: list.created_on, modified_on: list.modified_on, owner_user_id: 1, name: list.name,
    meta: {}, satisfy_any: list.satisfy_any, pass_auth: list.pass_auth,
    proxy_host_count: [...state.proxyHosts.values()].filter((h) => h.access_list_id === list.id).length,
  };
  if (expand.includes('clients')) view.clients = list.clients.map((c) => ({ ...c }));
  if (expand.includes('items')) view.items = list.items.map((i) => ({ ...i, password: '', hint: 'x***' }));
  return view;
}

function setListContent(list, body) {
  for (const key of ['name', 'satisfy_any', 'pass_auth'])
    if (body[key] !== undefined) list[key] = key === 'name' ? body[key] : bool(body[key]);
  if (body.clients !== undefined)
    list.clients = body.clients.map((c) => ({ id: state.nextId++, access_list_id: list.id, directive: c.directive, address: c.address, meta: {} }));
  if (body.items !== undefined)
    list.items = body.items.map((i) => ({ id: state.nextId++, access_list_id: list.id, username: i.username, meta: {} }));
  list.modified_on = now();
}

const HOST_DEFAULTS = {
  forward_scheme: 'http', access_list_id: 0, certificate_id: 0, ssl_forced: false, caching_enabled: false,
  block_exploits: false, advanced_config: '', meta: {}, allow_websocket_upgrade: false, http2_support: false,
  enabled: true, locations: [], hsts_enabled: false, hsts_subdomains: false, trust_forwarded_proto: false,
};

function normalizeHost(row) {
  for (const key of ['forward_port', 'access_list_id', 'certificate_id']) row[key] = int(row[key]);
  for (const key of ['ssl_forced', 'caching_enabled', 'block_exploits', 'allow_websocket_upgrade', 'http2_support',
    'enabled', 'hsts_enabled', 'hsts_subdomains', 'trust_forwarded_proto']) row[key] = bool(row[key]);
  return row;
}

async function main() {
  const validate = await loadValidators();
  const check = (name, body) => {
    const error = validate[name](body);
    if (error) throw new HttpError(400, error);
  };
  const authorized = (req) => {
    const m = /^Bearer (.+)$/.exec(req.headers.authorization || '');
    return m && state.tokens.has(m[1]);
  };

  async function handle(req, url, body) {
    const p = url.pathname;
    const expand = (url.searchParams.get('expand') || '').split(',');
    let m;
    // ---- test-only control routes ----
    if (p === '/__log' && req.method === 'GET') return [200, log];
    if (p === '/__log/clear' && req.method === 'POST') { log = []; return [200, true]; }
    if (p === '/__state' && req.method === 'GET')
      return [200, { proxy_hosts: [...state.proxyHosts.values()], access_lists: [...state.accessLists.values()] }];
    if (p === '/__reset' && req.method === 'POST') { reset(); log = []; return [200, true]; }
    if (p === '/__certificates' && req.method === 'POST') { state.certificates = body; return [200, true]; }
    if (p === '/__nginx_fail' && req.method === 'POST') { state.nginxFail = new Set(body); return [200, true]; }
    if (!p.startsWith('/api/')) throw new HttpError(404, 'Not Found');
    log.push(`${req.method} ${p}${url.search}`);

    // ---- NPM's API ----
    if (p === '/api/' && req.method === 'GET')
      return [200, { status: 'OK', setup: true, version: { major: 2, minor: 15, revision: 1 } }];
    if (p === '/api/tokens' && req.method === 'POST') {
      check('token', body);
      if (body.identity !== opts.user || body.secret !== opts.password) throw new HttpError(401, 'Invalid email or password');
      const token = crypto.randomBytes(16).toString('hex');
      state.tokens.add(token);
      return [200, { token, expires: new Date(Date.now() + 86400e3).toISOString() }];
    }
    if (!authorized(req)) throw new HttpError(401, 'Permission Denied');

    if (p === '/api/nginx/certificates' && req.method === 'GET') return [200, state.certificates];
    if ((p === '/api/nginx/redirection-hosts' || p === '/api/nginx/dead-hosts') && req.method === 'GET') return [200, []];

    if (p === '/api/nginx/proxy-hosts' && req.method === 'GET')
      return [200, [...state.proxyHosts.values()].sort((a, b) => a.domain_names[0].localeCompare(b.domain_names[0]))];
    if (p === '/api/nginx/proxy-hosts' && req.method === 'POST') {
      check('createProxyHost', body);
      for (const d of body.domain_names) if (domainTaken(d, 0)) throw new HttpError(400, `${d} is already in use`);
      const row = normalizeHost(Object.assign({}, HOST_DEFAULTS, body, { id: state.nextId++, created_on: now(), modified_on: now(), owner_user_id: 1 }));
      checkReferences(row);
      cleanSslHsts(row);
      configureNginx(row);
      state.proxyHosts.set(row.id, row);
      return [201, row];
    }
    if ((m = /^\/api\/nginx\/proxy-hosts\/([0-9]+)$/.exec(p))) {
      const id = Number(m[1]);
      const row = state.proxyHosts.get(id);
      if (!row) throw new HttpError(404, `Not Found - ${id}`);
      if (req.method === 'GET') return [200, row];
      if (req.method === 'DELETE') { state.proxyHosts.delete(id); return [200, true]; }
      if (req.method === 'PUT') {
        check('updateProxyHost', body);
        if (body.domain_names)
          for (const d of body.domain_names) if (domainTaken(d, id)) throw new HttpError(400, `${d} is already in use`);
        const next = normalizeHost(Object.assign({}, row, body, { id, modified_on: now() }));  // meta: replaced whole
        checkReferences(next);
        cleanSslHsts(next);
        if (next.enabled) configureNginx(next);
        state.proxyHosts.set(id, next);
        return [200, next];
      }
    }

    if (p === '/api/nginx/access-lists' && req.method === 'GET')
      return [200, [...state.accessLists.values()].map((l) => accessListView(l, expand))];
    if (p === '/api/nginx/access-lists' && req.method === 'POST') {
      check('createAccessList', body);
      const list = { id: state.nextId++, created_on: now(), name: '', satisfy_any: false, pass_auth: false, clients: [], items: [] };
      setListContent(list, body);
      state.accessLists.set(list.id, list);
      return [201, accessListView(list, ['clients', 'items'])];
    }
    if ((m = /^\/api\/nginx\/access-lists\/([0-9]+)$/.exec(p))) {
      const id = Number(m[1]);
      const list = state.accessLists.get(id);
      if (!list) throw new HttpError(404, `Not Found - ${id}`);
      if (req.method === 'GET') return [200, accessListView(list, expand)];
      if (req.method === 'DELETE') {
        state.accessLists.delete(id);
        for (const host of state.proxyHosts.values()) if (host.access_list_id === id) host.access_list_id = 0;
        return [200, true];
      }
      if (req.method === 'PUT') {
        check('updateAccessList', body);
        setListContent(list, body);
        return [200, accessListView(list, ['clients', 'items'])];
      }
    }
    throw new HttpError(404, 'Not Found');
  }

  const listener = (req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      raw += chunk;
      if (raw.length > 1e6) req.destroy();
    });
    req.on('end', async () => {
      let status = 200;
      let payload;
      try {
        const url = new URL(req.url, 'http://127.0.0.1');
        let body;
        if (raw.length) {
          try { body = JSON.parse(raw); } catch (e) { throw new HttpError(400, 'Unexpected token in JSON'); }
        } else if (req.method === 'POST' || req.method === 'PUT') {
          body = undefined;
        }
        [status, payload] = await handle(req, url, body === undefined && (req.method === 'POST' || req.method === 'PUT') ? {} : body);
      } catch (e) {
        status = e.code || 500;
        payload = { error: { code: status, message: e.message } };
      }
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(payload));
    });
  };
  const server = opts.tlsCert ? https.createServer({ cert: opts.tlsCert, key: opts.tlsKey }, listener)
    : http.createServer(listener);
  server.listen(0, '127.0.0.1', () => {
    fs.writeFileSync(opts.portFile + '.tmp', String(server.address().port));
    fs.renameSync(opts.portFile + '.tmp', opts.portFile);
  });
  setTimeout(() => process.exit(3), opts.maxLifetime * 1000);  // never outlives a test
  for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
