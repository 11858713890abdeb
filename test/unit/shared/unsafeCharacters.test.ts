import { publicMessage } from "../../../shared/publicMessage";
import { escapeUnsafeCharacters, hasUnsafeCharacters, replaceUnsafeCharacters } from "../../../shared/unsafeCharacters";

describe("the character policy (shared/unsafeCharacters.ts)", () => {
  it.each([
    ["NUL", "\u0000"],
    ["a line feed", "\n"],
    ["DEL", "\u007f"],
    ["a C1 control (U+0080)", "\u0080"],
    ["NEL (U+0085)", "\u0085"],
    ["CSI (U+009B)", "\u009b"],
    ["APC (U+009F)", "\u009f"],
    ["the line separator", "\u2028"],
    ["the paragraph separator", "\u2029"],
    ["LRE (U+202A)", "\u202a"],
    ["RLO (U+202E)", "\u202e"],
    ["LRI (U+2066)", "\u2066"],
    ["PDI (U+2069)", "\u2069"],
    ["a lone high surrogate", "\ud800"],
    ["a lone low surrogate", "\udfff"],
    ["a low surrogate before a high one", "\udc00\ud800"],
  ])("finds %s", (_name, ch) => {
    expect(hasUnsafeCharacters(`a${ch}b`)).toBe(true);
    expect(hasUnsafeCharacters(ch)).toBe(true);
  });

  it.each([
    ["plain ASCII", "C:\\Windows\\Temp\\a.txt"],
    ["U+00A0 and accents", "caf\u00e9\u00a0ok"],
    ["U+00A0, the first character after C1", "\u00a0"],
    ["zero-width joiner and LRM/RLM marks (not overrides)", "a\u200db\u200e\u200f"],
    ["U+202F and U+206A, next to the bidi ranges", "\u202f\u206a"],
    ["CJK", "事件"],
    ["an emoji (a surrogate pair)", "🔍"],
  ])("lets %s through", (_name, text) => {
    expect(hasUnsafeCharacters(text)).toBe(false);
  });

  it("replaces each run with one replacement, and escapes each character visibly", () => {
    expect(replaceUnsafeCharacters("a\r\n\u202eb\ud800", " ")).toBe("a b ");
    expect(escapeUnsafeCharacters("a\u202eb\u0000🔍")).toBe("a\\u202eb\\u0000🔍");
  });

  it("is the policy publicMessage applies: a lone surrogate or an isolate does not survive into a status line", () => {
    expect(publicMessage("MDE said \ud800 and \u2066x\u2069 then \u0085 stop")).toBe("MDE said and x then stop");
  });
});
