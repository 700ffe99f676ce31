/**
 * Errors that name where bad input came from (file, line, field), and the bounds every error text keeps: an error
 * quotes at most an excerpt of its input, so a 20 MB header or puzzle never becomes a 20 MB message sent over the
 * engine protocol or shown in a notification. Free of Node imports (the extension uses it too).
 */

/** Characters of input an error quotes (`excerpt`'s default). */
export const EXCERPT_CHARS = 80;
/** Longest reason a DataError keeps (characters, before the "… (N more characters)" note). */
export const MAX_REASON_CHARS = 480;
/** Longest file name (middle elided) and field name a DataError's message holds. */
export const MAX_FILE_CHARS = 300;
export const MAX_FIELD_CHARS = 60;
/** Longest message `boundedMessage` returns. DataError messages stay under this too. */
export const MAX_ERROR_MESSAGE_CHARS = 1000;

/** Cut before `end` without splitting a surrogate pair. */
function cut(text: string, end: number): number {
  if (end > 0 && end < text.length) {
    const c = text.charCodeAt(end - 1);
    if (c >= 0xd800 && c <= 0xdbff) return end - 1;
  }
  return end;
}

/**
 * At most `max` characters of `text`, followed by "… (N more characters)" when it was longer. Use it wherever an
 * error quotes input.
 */
export function excerpt(text: string, max = EXCERPT_CHARS): string {
  if (text.length <= max) return text;
  const end = cut(text, Math.max(0, max));
  return `${text.slice(0, end)}… (${text.length - end} more characters)`;
}

/** `excerpt` in JSON quotes: the quoted part escaped, the note about the rest outside the quotes. */
export function quoted(text: string, max = EXCERPT_CHARS): string {
  if (text.length <= max) return JSON.stringify(text);
  const end = cut(text, Math.max(0, max));
  return `${JSON.stringify(text.slice(0, end))}… (${text.length - end} more characters)`;
}

/** A name bounded to `max` characters by eliding its middle (a path keeps its start and its file name). */
function elideMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = cut(text, Math.ceil((max - 1) / 2));
  let tail = text.length - Math.floor((max - 1) / 2);
  const c = text.charCodeAt(tail);
  if (c >= 0xdc00 && c <= 0xdfff) tail++;
  return `${text.slice(0, head)}…${text.slice(tail)}`;
}

/**
 * The message of anything thrown, bounded to `max` characters (an Error's message, else its string form). For
 * errors leaving the engine (protocol replies, the CLI's last line) and for the extension's notifications.
 */
export function boundedMessage(err: unknown, max = MAX_ERROR_MESSAGE_CHARS): string {
  let text: string;
  try {
    text = err instanceof Error ? err.message || err.name : String(err);
  } catch {
    text = 'an error that cannot be shown as text';
  }
  return excerpt(text, max);
}

/** Errors that name where bad input came from: file, line (1-based) and field. */
export interface DataLocation {
  file: string;
  line?: number;
  field?: string;
}

/**
 * Bad input, with where it is. The message reads "file, line L, field "F": reason"; the reason is bounded to
 * MAX_REASON_CHARS, the file and field names in the message to MAX_FILE_CHARS / MAX_FIELD_CHARS, so a message is
 * always under MAX_ERROR_MESSAGE_CHARS whatever a caller passes.
 */
export class DataError extends Error {
  readonly location: DataLocation;
  readonly reason: string;

  constructor(location: DataLocation, reason: string) {
    const bounded = excerpt(reason, MAX_REASON_CHARS);
    const loc: DataLocation = { ...location };
    if (loc.field !== undefined) loc.field = excerpt(loc.field, MAX_FIELD_CHARS);
    const where = [elideMiddle(loc.file, MAX_FILE_CHARS), loc.line !== undefined ? `line ${loc.line}` : undefined,
      loc.field !== undefined ? `field "${loc.field}"` : undefined].filter(Boolean).join(', ');
    super(`${where}: ${bounded}`);
    this.name = 'DataError';
    this.location = loc;
    this.reason = bounded;
  }
}
