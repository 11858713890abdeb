import { constants, createHash, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createManifestSigner } from "../../../../shared/evidence/signing/createSigner";
import { parseKeyVaultKeyId, sameKeyVaultKey } from "../../../../shared/evidence/signing/keyVaultKeyId";
import { createKeyVaultSigner, type KeyVaultSigningClient } from "../../../../shared/evidence/signing/keyVaultSigner";
import { createLocalSigner, loadOrCreateLocalSigningKey, localKeyIdOf } from "../../../../shared/evidence/signing/localSigner";
import { signatureBlobNameOf, signManifest, type ManifestSignature } from "../../../../shared/evidence/signing/manifestSignature";
import {
  parseSignatureDocument,
  publicKeyFromJsonWebKey,
  signatureProblems,
  type TrustedKeys,
} from "../../../../shared/evidence/signing/signatureCheck";
import { jsonDocument } from "../../../../shared/evidence/jsonDocument";

const MANIFEST = "liveresponse/m/a/manifest.json";
const bytes = jsonDocument({ schema: "mde-live-response-evidence-manifest/v1", outcome: "Completed" });
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const trustRsa: TrustedKeys = { publicKeys: [rsa.publicKey], keyVaultKeys: [] };

describe("manifest signatures with a development key", () => {
  it("signs the manifest's SHA-256 with RS256, as openssl dgst -sha256 -verify checks it, and names the key by its fingerprint", async () => {
    const document = await signManifest(createLocalSigner(rsa.privateKey), MANIFEST, bytes);
    expect(document).toEqual({
      schema: "mde-live-response-manifest-signature/v1",
      manifest: MANIFEST,
      digestAlgorithm: "SHA-256",
      digest: createHash("sha256").update(bytes).digest("hex"),
      algorithm: "RS256",
      keyId: localKeyIdOf(rsa.publicKey),
      signature: sign("sha256", bytes, rsa.privateKey).toString("base64"),
    });
    expect(localKeyIdOf(rsa.publicKey)).toBe(
      `local:sha256:${createHash("sha256")
        .update(rsa.publicKey.export({ type: "spki", format: "der" }))
        .digest("hex")}`,
    );
    expect(await signatureProblems(document, MANIFEST, bytes, trustRsa)).toEqual([]);
    // Deterministic: a retried write stores the same document.
    expect(await signManifest(createLocalSigner(rsa.privateKey), MANIFEST, bytes)).toEqual(document);
  });

  it("finds an edited manifest, a signature of another manifest, a forged signature and an untrusted key", async () => {
    const document = await signManifest(createLocalSigner(rsa.privateKey), MANIFEST, bytes);
    const edited = Buffer.from(bytes.toString("utf8").replace("Completed", "Cancelled"));
    expect(await signatureProblems(document, MANIFEST, edited, trustRsa)).toEqual([
      `signs digest ${document.digest}, the manifest's SHA-256 is ${createHash("sha256").update(edited).digest("hex")}`,
      `the signature does not verify with key ${document.keyId}`,
    ]);
    expect(await signatureProblems(document, "liveresponse/m/other/manifest.json", bytes, trustRsa)).toEqual([
      `signs ${MANIFEST}, not liveresponse/m/other/manifest.json`,
    ]);
    // The intruder recomputes the digest but cannot sign it.
    const forged: ManifestSignature = { ...document, digest: createHash("sha256").update(edited).digest("hex") };
    expect(await signatureProblems(forged, MANIFEST, edited, trustRsa)).toEqual([
      `the signature does not verify with key ${document.keyId}`,
    ]);
    // ... or signs with a key of their own.
    const intruder = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const resigned = await signManifest(createLocalSigner(intruder.privateKey), MANIFEST, edited);
    expect(await signatureProblems(resigned, MANIFEST, edited, trustRsa)).toEqual([
      `signed by development key ${resigned.keyId}, which is not among the trusted public keys`,
    ]);
    expect(await signatureProblems(document, MANIFEST, bytes, { publicKeys: [], keyVaultKeys: [] })).toEqual([
      expect.stringContaining("not among the trusted public keys"),
    ]);
  });

  it("verifies PS256 and ES256 signatures too (keys another tool made), with ES256 as Key Vault returns it (r || s)", async () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const digest = createHash("sha256").update(bytes).digest("hex");
    const kv = "https://kv-test.vault.azure.net/keys/signing/0123456789abcdef0123456789abcdef";
    const base = {
      schema: "mde-live-response-manifest-signature/v1",
      manifest: MANIFEST,
      digestAlgorithm: "SHA-256",
      digest,
      keyId: kv,
    } as const;
    const es256: ManifestSignature = {
      ...base,
      algorithm: "ES256",
      signature: sign("sha256", bytes, { key: ec.privateKey, dsaEncoding: "ieee-p1363" }).toString("base64"),
    };
    const ps256: ManifestSignature = {
      ...base,
      algorithm: "PS256",
      signature: sign("sha256", bytes, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }).toString(
        "base64",
      ),
    };
    expect(await signatureProblems(es256, MANIFEST, bytes, { publicKeys: [ec.publicKey], keyVaultKeys: [] })).toEqual([]);
    expect(await signatureProblems(ps256, MANIFEST, bytes, { publicKeys: [rsa.publicKey], keyVaultKeys: [] })).toEqual([]);
    expect(await signatureProblems(es256, MANIFEST, bytes, { publicKeys: [rsa.publicKey], keyVaultKeys: [] })).toEqual([
      `the signature does not verify with key ${kv}`,
    ]);
  });

  it("parses only signature documents of its schema", () => {
    expect(parseSignatureDocument(Buffer.from("nope"))).toEqual({ error: "the signature document is not JSON" });
    expect(parseSignatureDocument(Buffer.from('{"schema":"x"}'))).toEqual({ error: expect.stringContaining("schema") });
    expect(
      parseSignatureDocument(
        Buffer.from(
          JSON.stringify({
            schema: "mde-live-response-manifest-signature/v1",
            manifest: "m",
            digestAlgorithm: "SHA-256",
            digest: "d",
            keyId: "k",
            signature: "s",
            algorithm: "HS256",
          }),
        ),
      ),
    ).toEqual({
      error: expect.stringContaining("HS256"),
    });
  });

  it("keeps its signature document beside the manifest", () => {
    expect(signatureBlobNameOf(MANIFEST)).toBe("liveresponse/m/a/manifest.signature.json");
    expect(signatureBlobNameOf("p/m/a/manifest-abc.json")).toBe("p/m/a/manifest-abc.signature.json");
  });
});

describe("the development key file", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "signing-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("is created once (0600), then reused by every signer and process on the machine", async () => {
    const file = path.join(dir, ".devhost", "manifest-signing-key.pem");
    const first = loadOrCreateLocalSigningKey(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const again = loadOrCreateLocalSigningKey(file);
    expect(localKeyIdOf(createPublicKey(again))).toBe(localKeyIdOf(createPublicKey(first)));
    const signer = createManifestSigner({ developmentKeyFile: file }, () => {
      throw new Error("no credential for a development key");
    });
    const document = await signManifest(signer, MANIFEST, bytes);
    expect(await signatureProblems(document, MANIFEST, bytes, { publicKeys: [createPublicKey(first)], keyVaultKeys: [] })).toEqual([]);
  });

  it("is not created before the first signature", () => {
    const file = path.join(dir, "lazy.pem");
    createManifestSigner({ developmentKeyFile: file }, () => {
      throw new Error("unused");
    });
    expect(existsSync(file)).toBe(false);
  });
});

describe("manifest signatures with a Key Vault key", () => {
  const KEY = "https://kv-collector.vault.azure.net/keys/manifest-signing";
  const VERSIONED = `${KEY}/0123456789abcdef0123456789abcdef`;

  it("signs the digest in the vault with RS256 and records the key version that signed", async () => {
    const client: KeyVaultSigningClient & { calls: unknown[] } = {
      calls: [],
      async sign(algorithm, digest) {
        this.calls.push({ algorithm, digest: Buffer.from(digest).toString("hex") });
        // What Key Vault computes for RS256 over a SHA-256 digest.
        return { result: sign("sha256", bytes, rsa.privateKey), keyID: VERSIONED };
      },
    };
    const document = await signManifest(createKeyVaultSigner(KEY, { getToken: async () => null }, client), MANIFEST, bytes);
    expect(client.calls).toEqual([{ algorithm: "RS256", digest: createHash("sha256").update(bytes).digest("hex") }]);
    expect(document).toMatchObject({ algorithm: "RS256", keyId: VERSIONED });
    // The verifier trusts the versionless key id and fetches the public key of the version that signed.
    const fetched: string[] = [];
    const trust: TrustedKeys = {
      publicKeys: [],
      keyVaultKeys: [parseKeyVaultKeyId(KEY)!],
      fetchKeyVaultKey: async (key) => {
        fetched.push(`${key.vaultUrl}/keys/${key.name}/${key.version}`);
        return publicKeyFromJsonWebKey({ kty: "RSA-HSM", ...jwkBytes(rsa.publicKey) });
      },
    };
    expect(await signatureProblems(document, MANIFEST, bytes, trust)).toEqual([]);
    expect(fetched).toEqual([VERSIONED]);
    expect(
      await signatureProblems(document, MANIFEST, bytes, {
        ...trust,
        keyVaultKeys: [parseKeyVaultKeyId("https://kv-collector.vault.azure.net/keys/other-key")!],
      }),
    ).toEqual([`signed by Key Vault key ${VERSIONED}, which is not a trusted key (--key-id or --public-key)`]);
  });

  it("fails with ManifestSigningFailed naming the key when the vault refuses", async () => {
    const client: KeyVaultSigningClient = {
      sign: async () => {
        throw Object.assign(new Error("Caller is not authorized to perform action on resource.\nStatus: 403"), { statusCode: 403 });
      },
    };
    await expect(createKeyVaultSigner(KEY, { getToken: async () => null }, client).sign(Buffer.alloc(32))).rejects.toMatchObject({
      code: "ManifestSigningFailed",
      message: `Key Vault key ${KEY} did not sign the manifest: Caller is not authorized to perform action on resource.`,
    });
  });

  it("accepts Key Vault and Managed HSM key identifiers only", () => {
    expect(parseKeyVaultKeyId(VERSIONED)).toEqual({
      vaultUrl: "https://kv-collector.vault.azure.net",
      name: "manifest-signing",
      version: "0123456789abcdef0123456789abcdef",
    });
    expect(parseKeyVaultKeyId("https://hsm1.managedhsm.azure.net/keys/k")).toEqual({
      vaultUrl: "https://hsm1.managedhsm.azure.net",
      name: "k",
    });
    expect(parseKeyVaultKeyId("https://kv.vault.usgovcloudapi.net/keys/k/")).toEqual({
      vaultUrl: "https://kv.vault.usgovcloudapi.net",
      name: "k",
    });
    for (const bad of [
      "http://kv.vault.azure.net/keys/k",
      "https://kv.vault.azure.net/secrets/k",
      "https://evil.example/keys/k",
      "https://vault.azure.net/keys/k",
      "https://kv.vault.azure.net.evil.example/keys/k",
      "https://kv.vault.azure.net/keys/k?x=1",
      "not a url",
    ]) {
      expect(parseKeyVaultKeyId(bad)).toBeUndefined();
    }
    expect(sameKeyVaultKey(parseKeyVaultKeyId(KEY)!, parseKeyVaultKeyId(VERSIONED)!)).toBe(true);
    expect(sameKeyVaultKey(parseKeyVaultKeyId(`${KEY}/ffff`)!, parseKeyVaultKeyId(VERSIONED)!)).toBe(false);
  });

  it("reads an EC key as Key Vault returns it", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = ec.publicKey.export({ format: "jwk" });
    const key = publicKeyFromJsonWebKey({
      kty: "EC-HSM",
      crv: "P-256",
      x: Buffer.from(jwk.x!, "base64url"),
      y: Buffer.from(jwk.y!, "base64url"),
    });
    expect(key.export({ type: "spki", format: "der" }).equals(ec.publicKey.export({ type: "spki", format: "der" }))).toBe(true);
    expect(() => publicKeyFromJsonWebKey({ kty: "oct" })).toThrow("cannot verify");
  });
});

function jwkBytes(publicKey: ReturnType<typeof createPublicKey>): { n: Uint8Array; e: Uint8Array } {
  const jwk = publicKey.export({ format: "jwk" });
  return { n: Buffer.from(jwk.n!, "base64url"), e: Buffer.from(jwk.e!, "base64url") };
}
