// Positioned problems (file:line:col: message), the one error shape every user-facing check reports.

export interface Diagnostic {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.message}`;
}

/** Sort by position, then drop exact repeats (a parser may report one fault many times). */
export function sortDiagnostics(list: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return [...list]
    .sort((a, b) => a.line - b.line || a.col - b.col)
    .filter((d) => {
      const key = formatDiagnostic(d);
      if (seen.has(key)) {
        return false;
      }
      seen.add(key);
      return true;
    });
}

/** Thrown where a caller wants an exception; carries every problem, each already positioned. */
export class DiagnosticsError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "DiagnosticsError";
  }
}
