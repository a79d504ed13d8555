import type { Config } from "../../config.js";
import { PACKAGE_NAME, REGISTRY_NAME, SERVER_TITLE, VERSION } from "../../identity.js";
import type { Surface } from "../../registry/registry.js";

export const DOCS_URL = "https://docs.pilotstatus.com.br/integrations/mcp-server";

/**
 * The server card served at /.well-known/mcp.json and /.well-known/mcp/server-card.json: the MCP registry's
 * server.json shape (which the SEP-2127 draft card extends) plus our tool inventory. Built once from config and
 * the configured surface; nothing in it comes from a request.
 */
export function serverCard(config: Config, surface: Surface, metadataUrl: string): Record<string, unknown> {
  return {
    name: REGISTRY_NAME,
    title: SERVER_TITLE,
    description:
      "The Pilot Status WhatsApp API as MCP tools: messages, conversations, webhooks, groups, channels, numbers, templates, voice calls and account.",
    version: VERSION,
    websiteUrl: DOCS_URL,
    packages: [
      {
        registryType: "npm",
        identifier: PACKAGE_NAME,
        version: VERSION,
        transport: { type: "stdio" },
        environmentVariables: [
          {
            name: "PILOT_STATUS_API_KEY",
            description: "A Pilot Status API key (ps_…)",
            isRequired: true,
            isSecret: true,
          },
        ],
      },
    ],
    remotes: [
      {
        type: "streamable-http",
        url: config.resourceUrl,
        headers: [
          {
            name: "x-api-key",
            description: "A Pilot Status API key (ps_…), instead of OAuth",
            isRequired: false,
            isSecret: true,
          },
          { name: "x-api-key-id", description: "Optional id of that key", isRequired: false, isSecret: false },
        ],
      },
    ],
    authentication: {
      oauth2: {
        protectedResourceMetadata: metadataUrl,
        authorizationServers: [config.authServerUrl],
        bearerMethods: ["header"],
      },
      apiKey: { header: "x-api-key", idHeader: "x-api-key-id" },
    },
    capabilities: { tools: { listChanged: false } },
    tools: [...surface.tools.values()].map((t) => ({
      name: t.spec.name,
      title: t.spec.title,
      toolset: t.spec.toolset,
      annotations: t.spec.annotations,
    })),
  };
}
