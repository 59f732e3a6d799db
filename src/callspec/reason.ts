/**
 * The short "why" of a CallSpec reason sentence. Reasons read `head → where: why (psABI §… "Title": rule)`; the
 * plan tables show only `why`. The citation goes first, so a ": " inside it is never taken for the one after `where`
 * (a double returned in xmm0 must not read "INTEGER eightbytes use the next of %rax, %rdx").
 */

/** A psABI citation in parentheses: `(psABI §3.2.3 "Returning of Values": …)`, `(i386 psABI §2.2.3)`. */
const CITATION = /\s*\((?:i386 )?psABI \u00a7[^()]*\)/g; // \u00a7 is §: the command's script is ASCII (scripts/build.mjs)

export function shortReason(reason: string): string {
  const plain = reason.replace(CITATION, '');
  const arrow = plain.indexOf(' → ');
  const colon = arrow >= 0 ? plain.indexOf(': ', arrow) : -1;
  const why = colon >= 0 ? plain.slice(colon + 2) : plain;
  return why.split('; ')[0]!.trim();
}
