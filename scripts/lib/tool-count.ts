/**
 * The few sentences that say how many tools there are (the README's first paragraph, the package description)
 * are kept true by the generator, like the tool table: adding an operation to the document changes them too.
 */

/** Each pattern matches the count itself (context in lookarounds); one that no longer matches is an error. */
export function withToolCount(text: string, count: number, patterns: readonly RegExp[], where: string): string {
  let out = text;
  for (const pattern of patterns) {
    if (!pattern.test(out))
      throw new Error(`${where}: no text matches ${pattern}; keep the sentence or update the pattern`);
    out = out.replace(pattern, String(count));
  }
  return out;
}

/** Where the README states the count: its opening sentence. */
export const README_COUNT = [/(?<=the public `\/v1` REST API as\n)\d+(?= tools \()/];
/** Where package.json states it: the description. */
export const PACKAGE_COUNT = [/(?<="description": "MCP server for the Pilot Status WhatsApp API: )\d+(?= tools )/];
