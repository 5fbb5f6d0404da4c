import { useRef } from "preact/hooks";
import { ApiError } from "./api.ts";
import { newKey } from "./session.ts";

/** True when the server gave no answer (the connection failed, or a gateway in between did):
 * the request may or may not have been done, so a retry must carry the same key. */
function unanswered(error: unknown): boolean {
  if (error instanceof DOMException && error.name === "AbortError") return true;
  return error instanceof ApiError && (error.status === 0 || error.status === 502 || error.status === 503 || error.status === 504);
}

/** One form's Idempotency-Key. The rule: a key is reused only to retry the very same request
 * (same method, path and body) after it got no answer; after any answer from the server —
 * a refusal included — or a change of the request, the next send uses a new key. */
export class SendKey {
  private pending: { key: string; request: string } | null = null;

  /** Send `request` (anything JSON-serialisable that identifies it, e.g. path and body) with
   * `call(key)`; the key follows the rule above. Re-throws whatever `call` throws. */
  async send<T>(request: unknown, call: (key: string) => Promise<T>): Promise<T> {
    const signature = JSON.stringify(request);
    const key = this.pending !== null && this.pending.request === signature ? this.pending.key : newKey();
    this.pending = { key, request: signature };
    try {
      const answer = await call(key);
      this.pending = null;
      return answer;
    } catch (error) {
      if (!unanswered(error)) this.pending = null;
      throw error;
    }
  }
}

/** A `SendKey` that lives as long as the form component. */
export function useSendKey(): SendKey {
  const ref = useRef<SendKey | null>(null);
  if (ref.current === null) ref.current = new SendKey();
  return ref.current;
}
