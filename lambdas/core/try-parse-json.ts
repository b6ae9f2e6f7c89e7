/** The parsed JSON, or undefined when the text is empty or not JSON (the caller says what that means). */
export function tryParseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
