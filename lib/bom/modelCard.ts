// The license a HuggingFace model card (README.md) declares in its YAML front matter, as CycloneDX license choices.

import { parse as parseYaml } from "yaml";
import { fixupSpdxId } from "./spdx";

/** A CycloneDX `licenses[]` entry: an SPDX id where the card's value is one, else a name (and a link). */
export type LicenseChoice =
  { license: { id: string } } | { license: { name: string; url?: string } };

/** The front matter of a model card: the `---` delimited YAML block the Hub reads its metadata from. */
export function frontMatter(card: string): Record<string, unknown> | undefined {
  const m = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---\s*(?:\r?\n|$)/.exec(card);
  if (!m) {
    return undefined;
  }
  try {
    const data: unknown = parseYaml(m[1]);
    return typeof data === "object" && data !== null && !Array.isArray(data)
      ? (data as Record<string, unknown>)
      : undefined;
  } catch {
    // A card whose metadata the Hub cannot read either declares no license we could trust.
    return undefined;
  }
}

/**
 * License choices from the card's `license` (a string or a list; the Hub's ids are lowercase SPDX
 * ids such as `apache-2.0`, or its own such as `llama3.1`, or `other` with `license_name` and
 * `license_link`). `linkBase` turns a repo-relative `license_link` (`LICENSE`) into a URL.
 */
export function modelCardLicenses(card: string, linkBase?: string): LicenseChoice[] {
  const meta = frontMatter(card);
  if (!meta) {
    return [];
  }
  const raw = meta.license;
  const values = (Array.isArray(raw) ? raw : [raw]).filter(
    (v): v is string => typeof v === "string" && v.trim() !== "",
  );
  const name = typeof meta.license_name === "string" ? meta.license_name.trim() : "";
  const link = typeof meta.license_link === "string" ? meta.license_link.trim() : "";
  const url = /^https?:\/\//.test(link) ? link : link && linkBase ? `${linkBase}/${link}` : "";
  return values.map((value): LicenseChoice => {
    const id = fixupSpdxId(value.trim());
    if (id) {
      return { license: { id } };
    }
    const label = value.trim() === "other" && name ? name : value.trim();
    return { license: url ? { name: label, url } : { name: label } };
  });
}
