/**
 * Shared pieces of the generated module. The document says a thing once (a `$ref`, or one parameter used by forty
 * operations); the generated TypeScript should too. Every piece of source big enough to matter is registered here
 * as it is produced and stands in the surrounding text as a token. When the module is written, a piece used in
 * two or more places becomes one `const` that its users name; a piece used once goes back inline.
 *
 * A piece is identified by its text, so two identical fragments are one whatever they came from. Pieces nest: a
 * shared schema inside a shared schema is counted once for its parent, not once for each of the parent's users.
 */

interface Piece {
  readonly code: string;
  readonly hint: string;
}

export class Fragments {
  private readonly ids = new Map<string, number>();
  private readonly pieces: Piece[] = [];
  /** Tokens carry the suffix, so two registries can tokenise one text. */
  private readonly token: RegExp;

  /**
   * @param suffix appended to every name (`Schema`, `Input`), so the pieces of two registries never clash.
   * @param minLength shorter code is never shared: a name would cost about as much as the code.
   */
  constructor(
    private readonly suffix: string,
    private readonly minLength: number,
  ) {
    this.token = new RegExp(`\u0000${suffix}:(\\d+)\u0000`, "g");
  }

  /** The code itself when short, else a token for it; `hint` names the const if it comes to be one. */
  share(code: string, hint: string): string {
    if (code.length < this.minLength) return code;
    let id = this.ids.get(code);
    if (id === undefined) {
      id = this.pieces.length;
      this.pieces.push({ code, hint });
      this.ids.set(code, id);
    }
    return `\u0000${this.suffix}:${id}\u0000`;
  }

  /**
   * The texts with every token resolved, and the consts they need in declaration order (a const only names
   * pieces declared before it).
   */
  resolve(roots: readonly string[]): { texts: string[]; consts: Array<{ name: string; code: string }> } {
    // A piece's tokens always name pieces registered before it (children are produced first), so walking the
    // ids downwards sees every user of a piece before the piece itself.
    const direct = this.pieces.map(() => 0);
    for (const root of roots) for (const id of this.tokensIn(root)) direct[id] = (direct[id] ?? 0) + 1;
    const uses = this.pieces.map(() => 0);
    const shared = this.pieces.map(() => false);
    for (let id = this.pieces.length - 1; id >= 0; id--) {
      uses[id] = (uses[id] ?? 0) + (direct[id] ?? 0);
      shared[id] = (uses[id] ?? 0) >= 2;
      const weight = shared[id] ? 1 : (uses[id] ?? 0);
      if (weight === 0) continue;
      for (const child of this.tokensIn(this.pieces[id]!.code)) uses[child] = (uses[child] ?? 0) + weight;
    }

    const taken = new Set<string>();
    const names = this.pieces.map((piece, id) => (shared[id] ? this.uniqueName(piece.hint, taken) : ""));
    const expand = (text: string): string =>
      text.replace(this.token, (_all, digits: string) => {
        const id = Number(digits);
        return shared[id] ? names[id]! : expand(this.pieces[id]!.code);
      });
    const consts = this.pieces.flatMap((piece, id) =>
      shared[id] ? [{ name: names[id]!, code: expand(piece.code) }] : [],
    );
    return { texts: roots.map(expand), consts };
  }

  private tokensIn(code: string): number[] {
    return [...code.matchAll(this.token)].map((m) => Number(m[1]));
  }

  private uniqueName(hint: string, taken: Set<string>): string {
    const words = hint.split(/[^a-zA-Z0-9]+/).filter((w) => w !== "");
    const camel = words.map((w, i) => (i === 0 ? w[0]!.toLowerCase() + w.slice(1) : w[0]!.toUpperCase() + w.slice(1)));
    const base = `${/^[a-zA-Z]/.test(camel.join("")) ? "" : "x"}${camel.join("")}${this.suffix}`;
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}${n}`;
    taken.add(name);
    return name;
  }
}
