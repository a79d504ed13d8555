import { generateKeyPairSync } from "node:crypto";
import forge from "node-forge";

export interface TestPki {
  /** The root CA certificate (PEM): what NODE_EXTRA_CA_CERTS names, as a corporate root would be. */
  readonly caCert: string;
  /** A server key and certificate for localhost and 127.0.0.1, signed by that CA. */
  readonly key: string;
  readonly cert: string;
}

function certificate(
  subject: forge.pki.CertificateField[],
  issuer: forge.pki.CertificateField[],
  publicKey: forge.pki.PublicKey,
  serial: string,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serial;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3_600_000);
  cert.setSubject(subject);
  cert.setIssuer(issuer);
  return cert;
}

/** An RSA key pair made by node:crypto (forge's own generator is slow JavaScript), as forge objects. */
function keyPair(): { publicKey: forge.pki.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const key = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey: key, publicKey: forge.pki.setRsaPublicKey(key.n, key.e) };
}

/** A throwaway root CA and a localhost certificate it signed (2048-bit RSA, SHA-256), made fresh for a test run. */
export function makeTestPki(): TestPki {
  const caKeys = keyPair();
  const caName = [{ name: "commonName", value: "pilot-status-mcp test root CA" }];
  const ca = certificate(caName, caName, caKeys.publicKey, "01");
  ca.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());

  const keys = keyPair();
  const server = certificate([{ name: "commonName", value: "localhost" }], caName, keys.publicKey, "02");
  server.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        { type: 2, value: "localhost" },
        { type: 7, ip: "127.0.0.1" },
      ],
    },
  ]);
  server.sign(caKeys.privateKey, forge.md.sha256.create());

  return {
    caCert: forge.pki.certificateToPem(ca),
    key: forge.pki.privateKeyToPem(keys.privateKey),
    cert: forge.pki.certificateToPem(server),
  };
}
