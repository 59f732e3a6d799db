/**
 * The child-process side of the guest pool (pool.ts): runs POST /api/call requests on this process's own machines
 * and answers over the IPC channel. Whatever a guest does here (spins, floods, crashes the engine) costs this
 * process only; the server kills and replaces it.
 *
 * Protocol (parent → child): { kind: 'call', id, body, upload? } | { kind: 'forget', upload }
 *          (child → parent): { kind: 'ready' } | { kind: 'running', id } | { kind: 'done', id, value } |
 *                            { kind: 'failed', id, message, partial? }  (partial: the recording up to a fault)
 */
import { adoptUpload, call, CallFailedError, errorMessage, forgetUpload, setBootCache, type Upload } from './api.ts';

export type ToWorker =
  | { kind: 'call'; id: number; body: unknown; upload?: Upload }
  | { kind: 'forget'; upload: string };

export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'running'; id: number }
  | { kind: 'done'; id: number; value: unknown }
  | { kind: 'failed'; id: number; message: string; partial?: unknown };

function send(message: FromWorker): void {
  process.send!(message);
}

async function runCall(message: Extract<ToWorker, { kind: 'call' }>): Promise<void> {
  if (message.upload) adoptUpload(message.upload);
  try {
    const value = await call(message.body, { onGuestStart: () => send({ kind: 'running', id: message.id }) });
    send({ kind: 'done', id: message.id, value });
  } catch (error) {
    send({ kind: 'failed', id: message.id, message: errorMessage(error), partial: error instanceof CallFailedError ? error.partial : undefined });
  }
}

// The pool passes its boot image cache option (false, or { dir }) as the one argument.
if (process.argv[2]) setBootCache(JSON.parse(process.argv[2]) as Parameters<typeof setBootCache>[0]);

process.on('message', (message: ToWorker) => {
  if (message.kind === 'call') void runCall(message);
  // The parent owns the upload's files: drop only this process's machines for it.
  else if (message.kind === 'forget') forgetUpload(message.upload, true);
});
// The parent went away (server stopped or crashed): nothing is left to answer.
process.on('disconnect', () => process.exit(0));
send({ kind: 'ready' });
