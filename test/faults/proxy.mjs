// A fault-injecting HTTPS proxy in front of the test cluster's real apiserver, for the e2e tests
// of how sts-doctor reads a flaky API (test/e2e/faults.test.ts). It terminates TLS on 127.0.0.1
// with the apiserver's own serving certificate (SAN IP:127.0.0.1, signed by the cluster CA in the
// run dir's pki/), and re-issues every request to the real apiserver with the admin client
// certificate. A kubeconfig that differs from the cluster's only in the port reaches the cluster
// through it. Rules decide, per request, whether to pass it through or to inject a fault:
//
//   { type: 'status', status: 429, retryAfter: 1 }   an HTTP error with a Kubernetes Status body
//   { type: 'reset' }                                 the connection is destroyed before any answer
//   { type: 'truncate' }                              the real answer, cut in the middle (Content-Length kept)
//   { type: 'slow', bytesPerTick, tickMs }            the real answer, trickled
//   { type: 'endless-continue' }                      the real list page, with a fresh metadata.continue every time
//   { type: 'oversized', bytes }                      a chunked 200 answer of `bytes` bytes
//   { type: 'delay', ms }                             the real answer, sent after `ms`
//   { type: 'watch-expired' }                         a watch answered with the apiserver's 410 Expired ERROR event
//
// Watches (`?watch=1`) without a fault are streamed through as they come, never buffered.
//
// It counts the requests in flight (`maxInFlight()`: the most at any moment since setRules) and
// the TLS connections accepted (`connections()`), and
// passes `Accept-Encoding` and `Content-Encoding` through on answers it does not rewrite.
//
// and `down(ms)` closes the listener and every open connection for `ms` (connections are
// refused, as while an apiserver restarts), then listens again on the same port.
// Node's http/https only; it never touches the real apiserver's process.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { request as httpsRequest, Agent } from 'node:https';
import { join } from 'node:path';
import { setInterval, clearInterval } from 'node:timers';

/**
 * @typedef {{ type: 'status', status: number, retryAfter?: number, message?: string }
 *   | { type: 'reset' } | { type: 'truncate' } | { type: 'slow', bytesPerTick?: number, tickMs?: number }
 *   | { type: 'endless-continue' } | { type: 'oversized', bytes: number } | { type: 'hang' }
 *   | { type: 'delay', ms: number } | { type: 'watch-expired' }} Fault
 * @typedef {{ method?: string, path: RegExp, times?: number, fault: Fault }} Rule
 */

/**
 * Starts the proxy.
 * @param {{ clusterDir: string, upstream: string }} opts the run dir (for pki/) and the real
 *   apiserver's URL (https://127.0.0.1:<port>)
 */
export async function startFaultProxy({ clusterDir, upstream }) {
  const pki = (f) => readFileSync(join(clusterDir, 'pki', f));
  const ca = pki('ca.crt');
  const agent = new Agent({ ca, cert: pki('admin.crt'), key: pki('admin.key'), keepAlive: true });
  const target = new URL(upstream);
  /** @type {(Rule & { hits: number })[]} */
  let rules = [];
  /** Every request seen: method, path (with query), the fault injected or 'pass', and the User-Agent. */
  const log = [];
  const sockets = new Set();
  let inFlight = 0;
  let maxInFlight = 0;

  const server = createServer({ cert: pki('apiserver.crt'), key: pki('apiserver.key') }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://proxy');
    const rule = rules.find((r) => (!r.method || r.method === req.method) && r.path.test(url.pathname) && r.hits < (r.times ?? Infinity));
    if (rule) rule.hits++;
    const fault = rule?.fault;
    // In flight from its arrival until the proxy starts to answer it (or the connection closes):
    // a client cannot have seen the answer earlier, so the count never exceeds the client's own.
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let counted = true;
    const done = () => {
      if (counted) inFlight--;
      counted = false;
    };
    const writeHead = res.writeHead.bind(res);
    res.writeHead = (...a) => {
      done();
      return writeHead(...a);
    };
    res.on('close', done);
    log.push({ method: req.method, path: url.pathname + url.search, fault: fault?.type ?? 'pass', userAgent: req.headers['user-agent'], acceptEncoding: req.headers['accept-encoding'] });
    const watching = ['1', 'true'].includes(url.searchParams.get('watch') ?? '');
    if (!fault && watching) return pipeWatch(req, res, url);
    if (!fault) return forward(req, res, url, (up, body) => send(res, up, body), true);
    switch (fault.type) {
      case 'status': {
        const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: fault.message ?? `injected ${fault.status}`, reason: fault.status === 429 ? 'TooManyRequests' : 'InternalError', code: fault.status });
        const headers = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
        if (fault.retryAfter !== undefined) headers['Retry-After'] = String(fault.retryAfter);
        res.writeHead(fault.status, headers);
        return res.end(body);
      }
      case 'reset':
        return req.socket.destroy();
      case 'watch-expired': {
        // What the apiserver streams when a watch starts from a resourceVersion older than it
        // keeps (apimachinery errors.NewResourceExpired: code 410, reason Expired), then the end.
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `too old resource version: ${url.searchParams.get('resourceVersion') ?? '0'} (injected)`, reason: 'Expired', code: 410 };
        return res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      }
      case 'hang':
        return undefined;
      case 'delay':
        return forward(req, res, url, (up, body) => setTimeout(() => send(res, up, body), fault.ms), true);
      case 'truncate':
        return forward(req, res, url, (up, body) => {
          res.writeHead(up.statusCode ?? 502, { 'Content-Type': 'application/json', 'Content-Length': body.length });
          res.write(body.subarray(0, Math.floor(body.length / 2)));
          setTimeout(() => req.socket.destroy(), 20);
        });
      case 'slow':
        return forward(req, res, url, (up, body) => {
          res.writeHead(up.statusCode ?? 502, { 'Content-Type': 'application/json', 'Content-Length': body.length });
          let at = 0;
          const step = fault.bytesPerTick ?? 1;
          const timer = setInterval(() => {
            if (res.destroyed) return clearInterval(timer);
            res.write(body.subarray(at, at + step));
            at += step;
            if (at >= body.length) {
              clearInterval(timer);
              res.end();
            }
          }, fault.tickMs ?? 100);
          res.on('close', () => clearInterval(timer));
        });
      case 'endless-continue': {
        // The real apiserver would reject a made-up continue token (410), so the upstream read is
        // always the first page; the answer always says there is another.
        url.searchParams.delete('continue');
        return forward(req, res, url, (up, body) => {
          const page = JSON.parse(body.toString('utf8'));
          page.metadata = { ...page.metadata, continue: `injected-${rule.hits}` };
          send(res, up, Buffer.from(JSON.stringify(page)));
        });
      }
      case 'oversized': {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const chunk = Buffer.alloc(1 << 20, 0x20);
        let left = fault.bytes;
        res.write('{"kind":"EventList","apiVersion":"v1","metadata":{},"items":[]');
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            const n = Math.min(left, chunk.length);
            left -= n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end('}');
        };
        res.on('close', () => (left = 0));
        return pump();
      }
      default:
        throw new Error(`unknown fault ${JSON.stringify(fault)}`);
    }
  });
  let connections = 0;
  /** Bytes of answer bodies passed through (as sent: compressed when the upstream compressed them). */
  let bytes = 0;
  server.on('secureConnection', () => connections++);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('tlsClientError', () => {});

  /**
   * Re-issues the request upstream; `done(upstreamResponse, body)` answers the client. With
   * `raw` the client's Accept-Encoding is passed on (the body is sent back as it came); else the
   * upstream answers uncompressed, for the faults that rewrite the body.
   */
  function forward(req, res, url, done, raw = false) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const headers = { ...req.headers, host: target.host };
      delete headers.authorization;
      if (!raw) delete headers['accept-encoding'];
      const up = httpsRequest({ host: target.hostname, port: target.port, path: url.pathname + url.search, method: req.method, headers, agent }, (upRes) => {
        const body = [];
        upRes.on('data', (c) => body.push(c));
        upRes.on('end', () => done(upRes, Buffer.concat(body)));
      });
      up.on('error', () => req.socket.destroy());
      up.end(Buffer.concat(chunks));
    });
  }

  /** A watch, streamed through as it comes (never buffered): its connection ends with `down()`. */
  function pipeWatch(req, res, url) {
    const headers = { ...req.headers, host: target.host };
    delete headers.authorization;
    const up = httpsRequest({ host: target.hostname, port: target.port, path: url.pathname + url.search, method: req.method, headers, agent }, (upRes) => {
      const h = { 'Content-Type': upRes.headers['content-type'] ?? 'application/json' };
      if (upRes.headers['content-encoding']) h['Content-Encoding'] = upRes.headers['content-encoding'];
      res.writeHead(upRes.statusCode ?? 502, h);
      // The client learns the watch is open before the first event, as from the apiserver.
      res.flushHeaders();
      upRes.on('data', (c) => {
        bytes += c.length;
        res.write(c);
      });
      upRes.on('end', () => res.end());
      upRes.on('error', () => req.socket.destroy());
    });
    up.on('error', () => req.socket.destroy());
    res.on('close', () => up.destroy());
    req.on('data', () => {});
    req.on('end', () => up.end());
  }

  function send(res, up, body) {
    bytes += body.length;
    const headers = { 'Content-Type': up.headers['content-type'] ?? 'application/json', 'Content-Length': body.length };
    if (up.headers['retry-after']) headers['Retry-After'] = up.headers['retry-after'];
    if (up.headers['content-encoding']) headers['Content-Encoding'] = up.headers['content-encoding'];
    res.writeHead(up.statusCode ?? 502, headers);
    res.end(body);
  }

  const listen = (port) => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server.address().port);
    });
  });
  const port = await listen(0);
  const url = `https://127.0.0.1:${port}`;

  return {
    url,
    port,
    log,
    /** Replaces the rules (first match wins; a rule with `times` stops matching after that many hits). */
    setRules(next) {
      rules = next.map((r) => ({ ...r, hits: 0 }));
      maxInFlight = inFlight;
      connections = 0;
      bytes = 0;
    },
    /** Bytes of answer bodies passed through since the last setRules. */
    bytes() {
      return bytes;
    },
    /** TLS connections accepted since the last setRules (one handshake each). */
    connections() {
      return connections;
    },
    /** The most requests in flight at one moment since the last setRules. */
    maxInFlight() {
      return maxInFlight;
    },
    /** How many requests each rule caught, in order. */
    hits() {
      return rules.map((r) => r.hits);
    },
    /**
     * The apiserver "restarts": the listener is closed and every connection destroyed, so that
     * connections are refused for `ms`; then it listens on the same port again. Resolves when
     * it is back.
     */
    async down(ms) {
      await new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await new Promise((r) => setTimeout(r, ms));
      await listen(port);
    },
    /**
     * Writes a kubeconfig that reaches the cluster through the proxy: the cluster's CA, the
     * admin client certificate (the proxy does not check it), and `user` overrides (e.g. an
     * exec plugin). Returns its path.
     */
    kubeconfig(path, { user, server } = {}) {
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'faults', cluster: { server: server ?? url, 'certificate-authority-data': ca.toString('base64') } }],
        users: [{ name: 'faults', user: user ?? { 'client-certificate-data': pki('admin.crt').toString('base64'), 'client-key-data': pki('admin.key').toString('base64') } }],
        contexts: [{ name: 'faults', context: { cluster: 'faults', user: 'faults' } }],
        'current-context': 'faults',
      };
      writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
      return path;
    },
    close() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
