/**
 * Server-Sent Events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html):
 * one event is `field: value` lines ended by a blank line; a line starting with ":" is a comment,
 * which clients ignore and proxies see as traffic.
 */

/** The fields of one event; data may span lines (each becomes its own `data:` line). */
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  /** How long a client waits before reconnecting, in milliseconds. */
  retry?: number;
}

/** One event as text, ready to write to the stream. */
export function sseEvent(fields: SseEvent): string {
  const lines: string[] = [];
  if (fields.id !== undefined) lines.push(`id: ${singleLine(fields.id)}`);
  if (fields.event !== undefined) lines.push(`event: ${singleLine(fields.event)}`);
  if (fields.data !== undefined) {
    for (const line of fields.data.split(/\r\n|\r|\n/)) lines.push(`data: ${line}`);
  }
  if (fields.retry !== undefined) lines.push(`retry: ${Math.max(0, Math.round(fields.retry))}`);
  return `${lines.join("\n")}\n\n`;
}

/** A comment line: keeps the connection busy without an event. */
export function sseComment(text: string): string {
  return `: ${singleLine(text)}\n\n`;
}

function singleLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}
