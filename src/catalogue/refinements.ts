import type { z } from "zod";

/**
 * Rules that tie several arguments of one tool together. The OpenAPI document names them with `x-refine`;
 * the generator checks nothing about them, so the catalogue test checks that every named rule exists here.
 */
type Args = Record<string, unknown>;
export type Refinement = (args: Args, ctx: z.RefinementCtx<Args>) => void;

const present = (args: Args, key: string): boolean => args[key] !== undefined;

function exactlyOne(args: Args, ctx: z.RefinementCtx<Args>, keys: readonly string[], what: string): void {
  const given = keys.filter((k) => present(args, k));
  if (given.length === 1) return;
  const list = keys.join(", ");
  ctx.addIssue({
    code: "custom",
    path: given.length > 1 ? [given[1]!] : [],
    message:
      given.length === 0
        ? `give exactly one ${what}: one of ${list}`
        : `give only one ${what}, not both ${given.join(" and ")}`,
  });
}

function onlyWith(args: Args, ctx: z.RefinementCtx<Args>, key: string, requires: string, message: string): void {
  if (present(args, key) && !present(args, requires)) ctx.addIssue({ code: "custom", path: [key], message });
}

export const REFINEMENTS: Readonly<Record<string, Refinement>> = {
  sendDestinationAndMode(args, ctx) {
    exactlyOne(args, ctx, ["destinationNumber", "groupId", "newsletterId"], "destination");
    // media may ride along with a template (it replaces the template's media header); otherwise one mode only.
    const modes = ["templateId", "text", "media"].filter((k) => present(args, k));
    const templateWithMedia = modes.length === 2 && present(args, "templateId") && present(args, "media");
    if (modes.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "give exactly one mode: templateId, text, or media with mediaType",
      });
    } else if (modes.length > 1 && !templateWithMedia) {
      ctx.addIssue({
        code: "custom",
        path: [modes[1]!],
        message: `give only one mode, not both ${modes.join(" and ")}`,
      });
    }
    onlyWith(args, ctx, "media", "mediaType", "mediaType is required with media");
    onlyWith(args, ctx, "mediaType", "media", "mediaType is only allowed with media");
    onlyWith(args, ctx, "caption", "media", "caption is only allowed with media");
    if (present(args, "caption") && args.mediaType === "audio") {
      ctx.addIssue({ code: "custom", path: ["caption"], message: "audio cannot have a caption" });
    }
    onlyWith(args, ctx, "variables", "templateId", "variables are only allowed with templateId");
  },

  numbersOrNumber(args, ctx) {
    exactlyOne(args, ctx, ["numbers", "number"], "phone list");
  },

  amountForTopup(args, ctx) {
    if (args.purpose === "wallet_topup" && !present(args, "amount")) {
      ctx.addIssue({ code: "custom", path: ["amount"], message: "amount is required when purpose is wallet_topup" });
    }
  },

  remotePairingNameNumber(args, ctx) {
    if (args.provider === "META") return;
    for (const key of ["name", "number"]) {
      if (!present(args, key)) {
        ctx.addIssue({ code: "custom", path: [key], message: `${key} is required unless provider is META` });
      }
    }
  },
};
