// Compiled with `tsc --strict` against the client that scripts/check-client
// generates from openapi/openapi.json: if the contract stops giving
// clients closed unions, typed errors or typed keys, this stops compiling.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type LoginResponse = Schemas["LoginResponse"];
type Problem = Schemas["Problem"];

// The discriminator makes `status` narrow the union, exhaustively.
export function nextStep(res: LoginResponse): string {
    switch (res.status) {
        case "authenticated":
            return res.access_token;
        case "otp_required":
            return `send a code with ${res.challenge_token}`;
        case "enrollment_required":
            return `enroll with ${res.challenge_token}`;
        default: {
            const unreachable: never = res;
            return unreachable;
        }
    }
}

// Problem codes are a closed set.
export function worthRetrying(problem: Problem): boolean {
    return problem.code === "too_many_requests" || problem.code === "overloaded";
}
// @ts-expect-error -- not a code Authgate sends
export const unknownCode: Problem["code"] = "no_such_code";

// Keys and audit details are typed, not `Record<string, never>`.
export function kids(jwks: Schemas["Jwks"]): string[] {
    return jwks.keys.filter((k) => k.use === "sig" && (k.alg === "EdDSA" || k.alg === "ES256")).map((k) => k.kid);
}
export function sessionsEnded(event: Schemas["AuditEventView"]): unknown {
    return event.details["sessions_ended"];
}

// Declared response headers are part of the generated types.
export type LoginRetryAfter =
    paths["/v1/auth/login"]["post"]["responses"][429]["headers"]["Retry-After"];
export type RequestId = paths["/v1/me"]["get"]["responses"][200]["headers"]["X-Request-Id"];

// A typed client: the login body is checked and the answer narrows.
export async function logIn(baseUrl: string, email: string, password: string): Promise<string> {
    const client = createClient<paths>({ baseUrl });
    const { data, error, response } = await client.POST("/v1/auth/login", {
        body: { email, password, client: "web" },
    });
    if (error) {
        const retryAfter = response.headers.get("Retry-After");
        return `${error.code}${retryAfter ? ` (retry in ${retryAfter} s)` : ""}`;
    }
    return nextStep(data);
}
