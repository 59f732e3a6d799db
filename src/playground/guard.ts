/**
 * Who may talk to the playground server. It runs guest code on the user's machine, so a web page the user happens
 * to visit must not be able to use it:
 *
 *   Host    only loopback names with our port (127.0.0.1:PORT, localhost:PORT, [::1]:PORT) or the address the
 *           server listens on: a DNS-rebinding page reaches us under its own name, and is refused.
 *   Origin  when a browser sends one, it must be one of those hosts over http: a cross-origin page is refused.
 *   Token   every API POST carries the server's random token (header `x-shimulator-token`); only the page this
 *           server served knows it (index.html carries it in `<meta name="shimulator-token">`), so a form or a
 *           no-cors fetch from elsewhere cannot start a call even where Host and Origin checks do not apply.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_HEADER = 'x-shimulator-token';
export const TOKEN_META = 'shimulator-token';
const TOKEN_BYTES = 24;

/** A request the guard refuses: answered with 403 and the message. */
export class ForbiddenRequestError extends Error {
  override name = 'ForbiddenRequestError';
}

export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('hex');
}

/** The `host:port` values a request may name: loopback under every spelling, plus the listening address. */
export function allowedHosts(listenHost: string, port: number): Set<string> {
  const shown = listenHost.includes(':') ? `[${listenHost}]` : listenHost;
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${shown}:${port}`].map((h) => h.toLowerCase()));
}

export interface Guard {
  hosts: Set<string>;
  token: string;
}

function checkHost(req: IncomingMessage, guard: Guard): void {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!guard.hosts.has(host)) {
    throw new ForbiddenRequestError(`refused: Host "${host}" is not this playground (open it as http://127.0.0.1:PORT/ or http://localhost:PORT/); other names are refused against DNS rebinding`);
  }
}

function checkOrigin(req: IncomingMessage, guard: Guard): void {
  const origin = req.headers.origin;
  if (origin === undefined) return; // not sent by browsers on same-origin GETs, nor by command-line clients
  let host: string | undefined;
  try {
    const url = new URL(origin);
    if (url.protocol === 'http:') host = url.host.toLowerCase();
  } catch {
    host = undefined;
  }
  if (host === undefined || !guard.hosts.has(host)) {
    throw new ForbiddenRequestError(`refused: cross-origin request from ${origin}; the playground answers its own page only`);
  }
}

function checkToken(req: IncomingMessage, guard: Guard): void {
  const sent = req.headers[TOKEN_HEADER];
  const given = Buffer.from(typeof sent === 'string' ? sent : '');
  const wanted = Buffer.from(guard.token);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    throw new ForbiddenRequestError(`refused: API POSTs need this server's token in the ${TOKEN_HEADER} header (the playground page sends it; reload the page if the server restarted)`);
  }
}

/** Throws ForbiddenRequestError unless the request may proceed; `isApiPost` also demands the token. */
export function guardRequest(req: IncomingMessage, guard: Guard, isApiPost: boolean): void {
  checkHost(req, guard);
  checkOrigin(req, guard);
  if (isApiPost) checkToken(req, guard);
}

/** index.html's `<meta>` carrying the token to web/api.ts. */
export function tokenMeta(token: string): string {
  return `<meta name="${TOKEN_META}" content="${token}">`;
}
