/**
 * A small RFC 3161 time-stamp authority (https://www.rfc-editor.org/rfc/rfc3161) for tests and local
 * runs: its own CA and a TSA certificate issued by it (extended key usage timeStamping, critical),
 * answering `application/timestamp-query` POSTs on loopback with a signed TimeStampResp. Built with
 * pkijs, like the collector's checks, and readable by `openssl ts -reply` / `openssl ts -verify`.
 * Faults (a refusal, a wrong imprint or nonce, another content type, an oversized body, an HTTP
 * error) are switched on per authority, so tests can drive every branch of the client.
 */
import { createHash, randomBytes, webcrypto } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { TIMESTAMP_OIDS, toArrayBuffer } from "../shared/evidence/timestamp/timestampToken";

/** What the next answers get wrong (tests set it; empty: a correct authority). */
export interface TimestampAuthorityFaults {
  /** PKIStatus to answer with instead of granted (2: rejection), with no token. */
  status?: number;
  /** Sign another digest than the one asked for. */
  wrongImprint?: boolean;
  /** Echo another nonce than the one asked for. */
  wrongNonce?: boolean;
  /** Answer with this Content-Type instead of application/timestamp-reply. */
  contentType?: string;
  /** Pad the body to this many bytes (an oversized answer). */
  padToBytes?: number;
  /** Answer this HTTP status with an empty body. */
  httpStatus?: number;
}

/** Options of {@link createTimestampAuthority}. */
export interface TimestampAuthorityOptions {
  /** Common name of the TSA certificate (and of its CA, with " CA"). @default "Collector Test TSA" */
  name?: string;
  /** Leave the timeStamping extended key usage out of the TSA certificate (a certificate no TSA may use). */
  withoutTimeStampingUsage?: boolean;
  /** @default () => new Date() */
  now?: () => Date;
}

export interface TimestampAuthority {
  /** The CA certificate, PEM: what an examiner passes to `--tsa-ca` (or `openssl ts -verify -CAfile`). */
  readonly caPem: string;
  readonly caDer: Buffer;
  readonly tsaCertificateDer: Buffer;
  faults: TimestampAuthorityFaults;
  /** Requests answered so far. */
  readonly requests: number;
  /** A DER TimeStampResp for a DER TimeStampReq, as the HTTP endpoint answers it (faults applied). */
  respond(request: Uint8Array): Promise<Buffer>;
  /** A granted DER TimeStampResp for the SHA-256 of `data` (no request, no nonce, no faults): a token for tests to plant. */
  timestamp(data: Uint8Array): Promise<Buffer>;
}

const RSA: webcrypto.RsaHashedKeyGenParams = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
};
const YEAR_MS = 365 * 24 * 60 * 60 * 1000;
/** A policy identifier under the "example" arc of RFC 7229 test OIDs (1.3.6.1.5.5.7.13): no real TSA's. */
const TEST_POLICY = "1.3.6.1.5.5.7.13.1";

/** A new authority with fresh keys (about a second: two RSA keys). */
export async function createTimestampAuthority(options: TimestampAuthorityOptions = {}): Promise<TimestampAuthority> {
  const name = options.name ?? "Collector Test TSA";
  const now = options.now ?? (() => new Date());
  const caKeys = await webcrypto.subtle.generateKey(RSA, true, ["sign", "verify"]);
  const tsaKeys = await webcrypto.subtle.generateKey(RSA, true, ["sign", "verify"]);
  const notBefore = new Date(now().getTime() - 24 * 60 * 60 * 1000);
  const ca = await certificate({
    subject: `${name} CA`,
    issuer: `${name} CA`,
    publicKey: caKeys.publicKey,
    signingKey: caKeys.privateKey,
    notBefore,
    extensions: [
      extension("2.5.29.19", true, new pkijs.BasicConstraints({ cA: true }).toSchema()),
      extension("2.5.29.15", true, keyUsage(0x06)), // keyCertSign, cRLSign
    ],
  });
  const tsaExtensions = [extension("2.5.29.15", true, keyUsage(0x80))]; // digitalSignature
  if (!options.withoutTimeStampingUsage) {
    tsaExtensions.push(
      extension(TIMESTAMP_OIDS.extKeyUsage, true, new pkijs.ExtKeyUsage({ keyPurposes: [TIMESTAMP_OIDS.timeStamping] }).toSchema()),
    );
  }
  const tsa = await certificate({
    subject: name,
    issuer: `${name} CA`,
    publicKey: tsaKeys.publicKey,
    signingKey: caKeys.privateKey,
    notBefore,
    extensions: tsaExtensions,
  });
  const tsaDer = Buffer.from(tsa.toSchema().toBER(false));
  let serial = 0;
  let requests = 0;

  async function token(imprint: Buffer, nonce: asn1js.Integer | undefined, certReq: boolean): Promise<pkijs.ContentInfo> {
    const tstInfo = new pkijs.TSTInfo({
      version: 1,
      policy: TEST_POLICY,
      messageImprint: new pkijs.MessageImprint({
        hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: TIMESTAMP_OIDS.sha256 }),
        hashedMessage: new asn1js.OctetString({ valueHex: toArrayBuffer(imprint) }),
      }),
      serialNumber: new asn1js.Integer({ value: ++serial }),
      genTime: now(),
      accuracy: new pkijs.Accuracy({ seconds: 1 }),
      ...(nonce ? { nonce } : {}),
      tsa: new pkijs.GeneralName({ type: 4, value: tsa.subject }),
    });
    const content = Buffer.from(tstInfo.toSchema().toBER(false));
    const attribute = (type: string, value: asn1js.AsnType) => new pkijs.Attribute({ type, values: [value] });
    const signedData = new pkijs.SignedData({
      version: 3,
      encapContentInfo: new pkijs.EncapsulatedContentInfo({
        eContentType: TIMESTAMP_OIDS.tstInfo,
        eContent: new asn1js.OctetString({ valueHex: toArrayBuffer(content) }),
      }),
      signerInfos: [
        new pkijs.SignerInfo({
          version: 1,
          sid: new pkijs.IssuerAndSerialNumber({ issuer: tsa.issuer, serialNumber: tsa.serialNumber }),
          signedAttrs: new pkijs.SignedAndUnsignedAttributes({
            type: 0,
            attributes: [
              attribute(TIMESTAMP_OIDS.contentTypeAttribute, new asn1js.ObjectIdentifier({ value: TIMESTAMP_OIDS.tstInfo })),
              attribute(TIMESTAMP_OIDS.messageDigestAttribute, new asn1js.OctetString({ valueHex: sha256(content) })),
              // RFC 5035 SigningCertificateV2 { certs: [ ESSCertIDv2 { certHash } ] } (hash algorithm: the SHA-256 default).
              attribute(
                TIMESTAMP_OIDS.signingCertificateV2Attribute,
                new asn1js.Sequence({
                  value: [
                    new asn1js.Sequence({
                      value: [new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: sha256(tsaDer) })] })],
                    }),
                  ],
                }),
              ),
            ],
          }),
        }),
      ],
      ...(certReq ? { certificates: [tsa] } : {}),
    });
    // The constructor re-encodes eContent as a constructed (BER) OCTET STRING; a token is DER, with a primitive one.
    signedData.encapContentInfo.eContent = new asn1js.OctetString({ valueHex: toArrayBuffer(content) });
    await signedData.sign(tsaKeys.privateKey, 0, "SHA-256");
    return new pkijs.ContentInfo({ contentType: TIMESTAMP_OIDS.signedData, content: signedData.toSchema(true) });
  }

  const granted = async (imprint: Buffer, nonce: asn1js.Integer | undefined, certReq: boolean) =>
    responseBytes(
      new pkijs.TimeStampResp({ status: new pkijs.PKIStatusInfo({ status: 0 }), timeStampToken: await token(imprint, nonce, certReq) }),
    );

  const authority: TimestampAuthority = {
    caPem: pem(Buffer.from(ca.toSchema().toBER(false))),
    caDer: Buffer.from(ca.toSchema().toBER(false)),
    tsaCertificateDer: tsaDer,
    faults: {},
    get requests() {
      return requests;
    },
    async respond(request) {
      requests++;
      const req = pkijs.TimeStampReq.fromBER(toArrayBuffer(request));
      const { status, wrongImprint, wrongNonce } = authority.faults;
      if (status !== undefined && status !== 0) {
        const info = new pkijs.PKIStatusInfo({
          status,
          statusStrings: [new asn1js.Utf8String({ value: "request refused by the test TSA" })],
        });
        return responseBytes(new pkijs.TimeStampResp({ status: info }));
      }
      const asked = Buffer.from(req.messageImprint.hashedMessage.valueBlock.valueHexView);
      const imprint = wrongImprint ? createHash("sha256").update(asked).digest() : asked;
      const nonce = wrongNonce ? new asn1js.Integer({ value: 42 }) : req.nonce;
      return granted(imprint, nonce, req.certReq ?? false);
    },
    timestamp: (data) => granted(createHash("sha256").update(data).digest(), undefined, true),
  };
  return authority;
}

/** An HTTP endpoint for an authority on 127.0.0.1. */
export interface TimestampAuthorityServer {
  /** `http://127.0.0.1:<port>/tsa`: the MANIFEST_TIMESTAMP_URL to use. */
  url: string;
  close(): Promise<void>;
}

/** Serves `authority` over HTTP on loopback (port 0: a free one). Bodies are read up to 64 KiB. */
export async function startTimestampAuthorityServer(authority: TimestampAuthority, port = 0): Promise<TimestampAuthorityServer> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        if (req.method !== "POST" || req.headers["content-type"] !== "application/timestamp-query") {
          res.writeHead(415).end();
          return;
        }
        const body = await readBody(req, 64 * 1024);
        const { httpStatus, contentType, padToBytes } = authority.faults;
        if (httpStatus) {
          res.writeHead(httpStatus).end();
          return;
        }
        let answer = await authority.respond(body);
        if (padToBytes && padToBytes > answer.length) answer = Buffer.concat([answer, Buffer.alloc(padToBytes - answer.length)]);
        res.writeHead(200, { "content-type": contentType ?? "application/timestamp-reply", "content-length": answer.length }).end(answer);
      } catch {
        if (!res.headersSent) res.writeHead(400).end();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/tsa`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new Error("request too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function certificate(spec: {
  subject: string;
  issuer: string;
  publicKey: webcrypto.CryptoKey;
  signingKey: webcrypto.CryptoKey;
  notBefore: Date;
  extensions: pkijs.Extension[];
}): Promise<pkijs.Certificate> {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  // A random positive 64-bit serial number (fromBigInt encodes it minimally, as DER requires).
  cert.serialNumber = asn1js.Integer.fromBigInt(BigInt(`0x${randomBytes(8).toString("hex")}`) | 1n);
  cert.subject = commonName(spec.subject);
  cert.issuer = commonName(spec.issuer);
  cert.notBefore.value = spec.notBefore;
  cert.notAfter.value = new Date(spec.notBefore.getTime() + 10 * YEAR_MS);
  cert.extensions = spec.extensions;
  await cert.subjectPublicKeyInfo.importKey(spec.publicKey);
  await cert.sign(spec.signingKey, "SHA-256");
  return cert;
}

function commonName(value: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [new pkijs.AttributeTypeAndValue({ type: "2.5.4.3", value: new asn1js.Utf8String({ value }) })],
  });
}

function extension(extnID: string, critical: boolean, value: asn1js.AsnType): pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER(false) });
}

/** A KeyUsage BIT STRING of one byte (bit 0 is the most significant), trailing zero bits unused. */
function keyUsage(bits: number): asn1js.BitString {
  const unused = bits === 0 ? 0 : Math.min(7, Math.log2(bits & -bits));
  return new asn1js.BitString({ valueHex: new Uint8Array([bits]).buffer, unusedBits: unused });
}

function responseBytes(response: pkijs.TimeStampResp): Buffer {
  return Buffer.from(response.toSchema().toBER(false));
}

function sha256(bytes: Uint8Array): ArrayBuffer {
  return toArrayBuffer(createHash("sha256").update(bytes).digest());
}

function pem(der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}
