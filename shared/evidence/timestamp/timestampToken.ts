/**
 * RFC 3161 time-stamp responses (https://www.rfc-editor.org/rfc/rfc3161): parsed and checked with
 * pkijs, the ASN.1 and CMS work of PKI.js, never with hand-written DER. Shared by the collector
 * (checking a TSA's answer before storing it) and `npm run verify` (checking a stored token).
 */
import { createHash, X509Certificate } from "node:crypto";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";

/** Object identifiers this module reads (RFC 3161, RFC 5652, RFC 5280, RFC 5035, NIST). */
export const TIMESTAMP_OIDS = {
  sha256: "2.16.840.1.101.3.4.2.1",
  signedData: "1.2.840.113549.1.7.2",
  tstInfo: "1.2.840.113549.1.9.16.1.4",
  extKeyUsage: "2.5.29.37",
  timeStamping: "1.3.6.1.5.5.7.3.8",
  contentTypeAttribute: "1.2.840.113549.1.9.3",
  messageDigestAttribute: "1.2.840.113549.1.9.4",
  signingCertificateV2Attribute: "1.2.840.113549.1.9.16.2.47",
} as const;

/** PKIStatus (RFC 3161 section 2.4.2): a token comes only with granted or grantedWithMods. */
export const PKI_STATUS = ["granted", "grantedWithMods", "rejection", "waiting", "revocationWarning", "revocationNotification"];

/** What a token says, in plain values (for logs, the manifest writer's output and verify's report). */
export interface TimestampFacts {
  /** When the TSA says it saw the digest (TSTInfo genTime, ISO 8601). */
  genTime: string;
  /** The token's serial number, lowercase hex: unique per TSA. */
  serialNumber: string;
  /** The TSA's policy object identifier. */
  policy: string;
  /** The imprint's hash algorithm (object identifier) and digest (lowercase hex). */
  hashAlgorithm: string;
  imprint: string;
  /** The nonce echoed from the request, lowercase hex, when there is one. */
  nonce?: string;
  /** TSTInfo's tsa field (a directory name), when the TSA names itself. */
  tsa?: string;
  /** The certificate that signed the token, when the token carries it (the request asks for it). */
  signer?: { subject: string; issuer: string; serialNumber: string };
}

/** A response parsed as far as it goes: a granted token with its facts, or why it is not one. */
export type ParsedTimestampResponse =
  | { ok: true; status: number; facts: TimestampFacts; signedData: pkijs.SignedData; signerCertificate?: pkijs.Certificate }
  | { ok: false; code: "TsaRejected" | "TsaBadResponse"; message: string };

/**
 * Parses a DER TimeStampResp: a status of granted or grantedWithMods with a SignedData token over a
 * TSTInfo. Checks no signature and no imprint (see {@link timestampProblems}).
 */
export function parseTimestampResponse(der: Uint8Array): ParsedTimestampResponse {
  const bad = (message: string) => ({ ok: false as const, code: "TsaBadResponse" as const, message });
  let response: pkijs.TimeStampResp;
  try {
    response = pkijs.TimeStampResp.fromBER(toArrayBuffer(der));
  } catch (e) {
    return bad(`not a DER TimeStampResp (${errorText(e)})`);
  }
  const status = response.status.status as number;
  if (status !== 0 && status !== 1) {
    const said = (response.status.statusStrings ?? []).map((s) => s.valueBlock.value).join("; ");
    const failInfo = response.status.failInfo ? ` failInfo ${bitsOf(response.status.failInfo)}` : "";
    return {
      ok: false,
      code: "TsaRejected",
      message: `the TSA answered ${PKI_STATUS[status] ?? `status ${status}`}${failInfo}${said ? `: ${said.slice(0, 200)}` : ""}`,
    };
  }
  const token = response.timeStampToken;
  if (!token) return bad("a granted status without a timeStampToken");
  if (token.contentType !== TIMESTAMP_OIDS.signedData) return bad(`the token is ${token.contentType}, not CMS SignedData`);
  try {
    const signedData = new pkijs.SignedData({ schema: token.content });
    if (signedData.encapContentInfo.eContentType !== TIMESTAMP_OIDS.tstInfo) return bad("the token's content is not a TSTInfo");
    const eContent = signedData.encapContentInfo.eContent;
    if (!eContent) return bad("the token carries no TSTInfo");
    const tstInfo = pkijs.TSTInfo.fromBER(eContent.getValue());
    if (signedData.signerInfos.length !== 1) return bad(`the token has ${signedData.signerInfos.length} signers, RFC 3161 asks for one`);
    const signerCertificate = signerCertificateOf(signedData);
    const facts: TimestampFacts = {
      genTime: tstInfo.genTime.toISOString(),
      serialNumber: hexOf(tstInfo.serialNumber),
      policy: tstInfo.policy,
      hashAlgorithm: tstInfo.messageImprint.hashAlgorithm.algorithmId,
      imprint: Buffer.from(tstInfo.messageImprint.hashedMessage.valueBlock.valueHexView).toString("hex"),
      ...(tstInfo.nonce ? { nonce: hexOf(tstInfo.nonce) } : {}),
      ...(tstInfo.tsa?.type === 4 ? { tsa: distinguishedName(tstInfo.tsa.value as pkijs.RelativeDistinguishedNames) } : {}),
      ...(signerCertificate ? { signer: certificateFacts(signerCertificate) } : {}),
    };
    return { ok: true, status, facts, signedData, signerCertificate };
  } catch (e) {
    return bad(`the token is not a SignedData over a TSTInfo (${errorText(e)})`);
  }
}

/** Trust for a token's signer: the examiner's CA certificates (DER). Empty: the signature is checked, the signer not trusted. */
export interface TimestampTrustAnchors {
  anchors: Uint8Array[];
}

/**
 * Everything wrong with a granted token for `data` (empty when it holds): the imprint is SHA-256 of
 * `data`; the CMS signature verifies with the certificate in the token, over signed attributes
 * whose message digest is that of the TSTInfo (pkijs' SignedData.verify); the signing-certificate
 * attribute (RFC 5035 ESSCertIDv2, SHA-256), when present, names that certificate. With trust
 * anchors, the signer also chains to one of them at genTime and carries the timeStamping extended
 * key usage, critical (RFC 3161 section 2.3).
 */
export async function timestampProblems(
  parsed: Extract<ParsedTimestampResponse, { ok: true }>,
  data: Uint8Array,
  trust: TimestampTrustAnchors = { anchors: [] },
): Promise<string[]> {
  const { facts, signedData, signerCertificate } = parsed;
  const problems: string[] = [];
  if (facts.hashAlgorithm !== TIMESTAMP_OIDS.sha256) problems.push(`the imprint's hash algorithm is ${facts.hashAlgorithm}, not SHA-256`);
  const sha256 = createHash("sha256").update(data).digest("hex");
  if (facts.imprint !== sha256) problems.push(`the token is for SHA-256 ${facts.imprint}, the bytes' SHA-256 is ${sha256}`);
  if (!signerCertificate) return [...problems, "the token carries no signer certificate: its signature cannot be checked"];
  if (problems.length > 0) return problems;

  const anchors = trust.anchors.map((der) => pkijs.Certificate.fromBER(toArrayBuffer(der)));
  try {
    const verified = await signedData.verify({
      signer: 0,
      data: toArrayBuffer(data),
      checkChain: anchors.length > 0,
      trustedCerts: anchors,
      extendedMode: true,
    });
    if (!verified.signatureVerified) problems.push("the CMS signature does not verify with the certificate in the token");
  } catch (e) {
    problems.push(`the CMS signature does not verify: ${e instanceof pkijs.SignedDataVerifyError ? e.message : errorText(e)}`);
  }
  problems.push(...signingCertificateProblems(signedData, signerCertificate));
  if (anchors.length > 0) problems.push(...timeStampingUsageProblems(signerCertificate));
  return problems;
}

/** The signer's certificate among the token's, by issuer and serial number or by subject key identifier. */
function signerCertificateOf(signedData: pkijs.SignedData): pkijs.Certificate | undefined {
  const sid = signedData.signerInfos[0].sid;
  const certificates = (signedData.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  if (sid instanceof pkijs.IssuerAndSerialNumber) {
    return certificates.find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber));
  }
  // SubjectKeyIdentifier (RFC 5652 section 5.3): the certificate's extension, or as pkijs matches it, the SHA-1 of its key.
  const id = sid as asn1js.Constructed & asn1js.OctetString;
  const block = id.idBlock.isConstructed ? (id.valueBlock.value[0] as asn1js.OctetString) : id;
  const keyId = Buffer.from(block.valueBlock.valueHexView).toString("hex");
  return certificates.find((c) => {
    const ski = (c.extensions ?? []).find((e) => e.extnID === "2.5.29.14")?.parsedValue as asn1js.OctetString | undefined;
    if (ski && Buffer.from(ski.valueBlock.valueHexView).toString("hex") === keyId) return true;
    const key = c.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
    return createHash("sha1").update(key).digest("hex") === keyId;
  });
}

/** RFC 5035's signingCertificateV2 binds the signature to one certificate: its SHA-256 must be the signer's. */
function signingCertificateProblems(signedData: pkijs.SignedData, signer: pkijs.Certificate): string[] {
  const attribute = signedData.signerInfos[0].signedAttrs?.attributes.find((a) => a.type === TIMESTAMP_OIDS.signingCertificateV2Attribute);
  if (!attribute) return [];
  try {
    // SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, ... }; ESSCertIDv2 ::= SEQUENCE
    // { hashAlgorithm DEFAULT sha256, certHash OCTET STRING, issuerSerial OPTIONAL }
    const certs = (attribute.values[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
    const first = (certs.valueBlock.value[0] as asn1js.Sequence).valueBlock.value;
    const hashed = first[0] instanceof asn1js.OctetString ? undefined : new pkijs.AlgorithmIdentifier({ schema: first[0] });
    if (hashed && hashed.algorithmId !== TIMESTAMP_OIDS.sha256) return []; // another hash: not checked here
    const certHash = (hashed ? first[1] : first[0]) as asn1js.OctetString;
    const actual = createHash("sha256")
      .update(Buffer.from(signer.toSchema().toBER(false)))
      .digest("hex");
    const named = Buffer.from(certHash.valueBlock.valueHexView).toString("hex");
    return named === actual ? [] : ["the signing-certificate attribute names another certificate than the one that signed"];
  } catch {
    return ["the signing-certificate attribute cannot be read"];
  }
}

/** RFC 3161 section 2.3: a TSA certificate has exactly the timeStamping extended key usage, marked critical. */
function timeStampingUsageProblems(certificate: pkijs.Certificate): string[] {
  const eku = (certificate.extensions ?? []).find((e) => e.extnID === TIMESTAMP_OIDS.extKeyUsage);
  const purposes = (eku?.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? [];
  if (!purposes.includes(TIMESTAMP_OIDS.timeStamping)) return ["the signer certificate lacks the timeStamping extended key usage"];
  if (!eku?.critical) return ["the signer certificate's extended key usage is not marked critical"];
  return [];
}

/** Subject, issuer and serial number of a certificate, as node:crypto prints them. */
function certificateFacts(certificate: pkijs.Certificate): { subject: string; issuer: string; serialNumber: string } {
  const x509 = new X509Certificate(Buffer.from(certificate.toSchema().toBER(false)));
  const oneLine = (name: string) => name.split("\n").filter(Boolean).join(", ");
  return { subject: oneLine(x509.subject), issuer: oneLine(x509.issuer), serialNumber: x509.serialNumber.toLowerCase() };
}

const ATTRIBUTE_NAMES: Record<string, string> = {
  "2.5.4.3": "CN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
};

/** A directory name as `CN=..., O=...` (attribute types this module does not know keep their OID). */
export function distinguishedName(name: pkijs.RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map(
      (tv) => `${ATTRIBUTE_NAMES[tv.type] ?? tv.type}=${String((tv.value as { valueBlock: { value?: unknown } }).valueBlock.value ?? "")}`,
    )
    .join(", ");
}

/** Lowercase hex of an INTEGER's two's complement bytes, without a sign byte. */
function hexOf(value: asn1js.Integer): string {
  return value.toBigInt().toString(16);
}

function bitsOf(bits: asn1js.BitString): string {
  return Buffer.from(bits.valueBlock.valueHexView).toString("hex");
}

/** The bytes as a fresh ArrayBuffer (pkijs takes ArrayBuffers; a Node Buffer may be a view on a larger pool). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy.buffer;
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).slice(0, 200);
}
