/**
 * A minimal structured logger: one JSON object per line on stdout, which is what cluster log shippers
 * (Fluent Bit, CloudWatch agent) parse best. No dependency, and tests swap it for a recording one.
 */

/** The logger every module takes; fields are merged into the JSON line. */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Writes JSON lines to a stream (stdout by default); the forwarder's production logger. */
export function jsonLogger(write: (line: string) => void = (l) => void process.stdout.write(l)): Logger {
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  };
  return { info: at('info'), warn: at('warn'), error: at('error') };
}

/** A logger that keeps lines in memory: for tests that assert on what was logged. */
export function memoryLogger(): Logger & { readonly lines: { level: string; message: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields: Record<string, unknown> = {}) => {
    lines.push({ level, message, fields });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/** The message of anything thrown, for log fields (errors from fetch/undici are not always Error). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
