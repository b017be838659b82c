// Reads YAML text into a Document with positions, turning every parser fault into a Diagnostic.

import {
  Document,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  Node,
  parseDocument,
} from "yaml";
import type { Diagnostic } from "../diagnostics";

/** A manifest of thousands of models is well under this; more is a mistake, not a catalogue. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Deeper flow nesting than this is never a manifest, and much deeper exhausts the parser. */
export const MAX_FLOW_DEPTH = 64;
/** yaml's own guard against alias ("billion laughs") expansion. */
export const MAX_ALIAS_COUNT = 100;
/** Beyond this many problems the rest are summarised in one line. */
export const MAX_DIAGNOSTICS = 50;

export interface YamlSource {
  file: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

export type Path = readonly (string | number)[];

/** Messages quote user text (keys, tokens); a line break there would split file:line:col output. */
export function oneLine(message: string): string {
  return message.replace(/\s*[\r\n\u2028\u2029]\s*/g, " ");
}

/** 1-based line and column of a character offset. */
export function positionAt(lc: LineCounter, offset: number): { line: number; col: number } {
  const { line, col } = lc.linePos(Math.max(0, offset));
  return { line, col };
}

/**
 * A run of compact block indicators (`- - - x`, `? ? x`) nests one level each on a single line;
 * a few MB of them make the parser build a huge tree (and run out of memory) before its own
 * depth guard reports anything.
 */
const BLOCK_RUN = new RegExp(`[ ]*(?:[-?:][ \\t]+){${MAX_FLOW_DEPTH}}(?=[-?:][ \\t])`, "y");

/** Where a NUL byte or the first over-deep flow bracket or block run is, without running the parser. */
function prescan(text: string): { offset: number; message: string } | undefined {
  const nul = text.indexOf("\u0000");
  if (nul >= 0) {
    return {
      offset: nul,
      message: "the file is not text (it holds a NUL byte); the manifest must be UTF-8 YAML",
    };
  }
  let depth = 0;
  let quote: string | undefined;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    // Checked whatever the bracket count says: a stray '[' in a plain scalar must not hide a run.
    if (i === 0 || text[i - 1] === "\n") {
      BLOCK_RUN.lastIndex = i;
      const run = BLOCK_RUN.exec(text);
      if (run) {
        return {
          offset: i + run[0].length,
          message: `YAML nests deeper than ${MAX_FLOW_DEPTH} levels here; a manifest needs a few levels (models > model > variants)`,
        };
      }
    }
    if (comment) {
      comment = c !== "\n";
    } else if (quote !== undefined) {
      if (c === "\\" && quote === '"') {
        i++;
      } else if (c === "'" && quote === "'" && text[i + 1] === "'") {
        i++; // '' is an escaped quote inside a single-quoted scalar, not its end
      } else if (c === quote) {
        quote = undefined;
      }
    } else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]))) {
      comment = true;
    } else if ((c === '"' || c === "'") && depth > 0 && /[[{,:\s]/.test(text[i - 1] ?? " ")) {
      quote = c;
    } else if (c === "[" || c === "{") {
      if (++depth > MAX_FLOW_DEPTH) {
        return {
          offset: i,
          message: `YAML nests deeper than ${MAX_FLOW_DEPTH} levels here; a manifest needs a few levels (models > model > variants)`,
        };
      }
    } else if ((c === "]" || c === "}") && depth > 0) {
      depth--;
    }
  }
  return undefined;
}

/** Faults after which the document's structure is still sound, so validation can go on. */
export const SOFT_YAML_ERRORS = new Set(["DUPLICATE_KEY"]);

/** Where the first byte sequence that is not UTF-8 decodes (as U+FFFD), if any. */
function invalidUtf8(bytes: Buffer, text: string): { offset: number; message: string } | undefined {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return undefined;
  } catch {
    return {
      offset: Math.max(0, text.indexOf("\uFFFD")),
      message:
        "the file is not UTF-8 text (an invalid byte sequence starts here); save the manifest as UTF-8",
    };
  }
}

/**
 * Parse YAML text. Returns the document when it could be read as a single YAML document, plus
 * every problem positioned; `sound` says whether the structure can be trusted for further checks.
 */
export function readYaml(
  file: string,
  input: string | Buffer,
): { source?: YamlSource; diagnostics: Diagnostic[]; sound: boolean } {
  const size = typeof input === "string" ? Buffer.byteLength(input) : input.length;
  if (size > MAX_MANIFEST_BYTES) {
    return {
      sound: false,
      diagnostics: [
        {
          file,
          line: 1,
          col: 1,
          message: `the file is ${(size / 1048576).toFixed(1)} MiB; a manifest may be at most ${MAX_MANIFEST_BYTES / 1048576} MiB`,
        },
      ],
    };
  }
  const text = typeof input === "string" ? input : input.toString("utf8");
  const lineCounter = new LineCounter();
  const early = prescan(text) ?? (typeof input === "string" ? undefined : invalidUtf8(input, text));
  if (early !== undefined) {
    // Positions still need the line table, which the parser fills as it reads.
    const lc = new LineCounter();
    lc.addNewLine(0);
    for (let i = 0; i < text.length; i++) {
      if (text[i] === "\n") {
        lc.addNewLine(i + 1);
      }
    }
    return {
      sound: false,
      diagnostics: [{ file, ...positionAt(lc, early.offset), message: early.message }],
    };
  }
  const diagnostics: Diagnostic[] = [];
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, {
      lineCounter,
      uniqueKeys: true,
      prettyErrors: false,
      strict: true,
      // Problems come back as diagnostics; a process warning would break file:line:col output.
      logLevel: "error",
    });
  } catch (err) {
    return {
      sound: false,
      diagnostics: [
        { file, line: 1, col: 1, message: `the YAML could not be read: ${(err as Error).message}` },
      ],
    };
  }
  for (const e of [...doc.errors, ...doc.warnings]) {
    const pos = positionAt(lineCounter, e.pos[0]);
    const first = oneLine(e.message.split("\n")[0]);
    const message =
      e.code === "DUPLICATE_KEY"
        ? `${first.replace(/\.$/, "")}: each key may appear once in a mapping; remove or rename the repeat`
        : e.code === "RESOURCE_EXHAUSTION"
          ? "the YAML nests too deeply to read; a manifest needs a few levels (models > model > variants)"
          : `invalid YAML: ${first}`;
    diagnostics.push({ file, ...pos, message });
  }
  const sound = doc.errors.every((e) => SOFT_YAML_ERRORS.has(e.code));
  return { source: { file, doc, lineCounter }, diagnostics, sound };
}

/** Convert to plain data with the alias guard; an alias bomb becomes a positioned problem. */
export function toPlain(src: YamlSource): { value?: unknown; diagnostics: Diagnostic[] } {
  try {
    return { value: src.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), diagnostics: [] };
  } catch (err) {
    const msg = (err as Error).message;
    const message = /alias/i.test(msg)
      ? `aliases expand to too much data (over ${MAX_ALIAS_COUNT} alias uses); write the values out instead`
      : `the YAML could not be converted: ${msg.split("\n")[0]}`;
    const at =
      src.doc.contents && isNode(src.doc.contents) ? (src.doc.contents.range?.[0] ?? 0) : 0;
    return { diagnostics: [{ file: src.file, ...positionAt(src.lineCounter, at), message }] };
  }
}

/** The node at a path, following maps by key and sequences by index. */
export function nodeAt(src: YamlSource, path: Path): Node | undefined {
  const n = src.doc.getIn(path, true);
  return isNode(n) ? n : undefined;
}

/** The key node of `key` in the mapping at `path`, for problems about the key itself. */
export function keyNodeAt(src: YamlSource, path: Path, key: string): Node | undefined {
  const map = path.length === 0 ? src.doc.contents : nodeAt(src, path);
  if (!isMap(map)) {
    return undefined;
  }
  const pair = map.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
  return pair && isNode(pair.key) ? pair.key : undefined;
}

/**
 * Position for a path: the node itself, else the nearest ancestor that exists (a missing key is
 * reported where its mapping starts).
 */
export function positionOf(src: YamlSource, path: Path): { line: number; col: number } {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? src.doc.contents : nodeAt(src, path.slice(0, n));
    if (isNode(node) && node.range) {
      return positionAt(src.lineCounter, node.range[0]);
    }
  }
  return { line: 1, col: 1 };
}

/** The text the user wrote for a scalar (so `tag: 1.10` stays "1.10", not the number 1.1). */
export function scalarSource(src: YamlSource, path: Path): string | undefined {
  const node = nodeAt(src, path);
  if (!isScalar(node)) {
    return undefined;
  }
  if (typeof node.value === "string") {
    return node.value;
  }
  if (node.value === null) {
    return undefined;
  }
  return node.source ?? String(node.value);
}

/** How many items the sequence at `path` has (0 when it is not a sequence). */
export function seqLength(src: YamlSource, path: Path): number {
  const node = path.length === 0 ? src.doc.contents : nodeAt(src, path);
  return isSeq(node) ? node.items.length : 0;
}
