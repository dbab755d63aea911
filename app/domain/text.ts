/**
 * Text Postgres can store: no NUL byte (text cannot hold one) and no lone UTF-16 surrogate (not Unicode: jsonb
 * refuses it, and UTF-8 cannot carry it, so it would be stored as U+FFFD, not as sent). Every schema that takes
 * free text from outside checks it (app/api/schemas.ts, the socket.io bid messages).
 */
const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(s: string): boolean {
  return !NUL.test(s) && !LONE_SURROGATE.test(s);
}

export const NOT_STORABLE = 'must not contain NUL bytes or unpaired surrogates';
