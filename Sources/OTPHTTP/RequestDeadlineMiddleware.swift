import Hummingbird
import OTPCore

/// Gives every request one deadline for all its database calls together (key lookup, app, send...):
/// a database that answers slowly and then not at all still gets the request its `503` within the
/// deadline. At the deadline the handler is cancelled and waited for, so the answer is the truth: a
/// send whose batch was already being written answers with that batch's outcome; one still waiting
/// in line leaves it unwritten (`GroupCommit`).
package struct RequestDeadlineMiddleware: RouterMiddleware {
    package typealias Context = OTPRequestContext

    let limit: Duration
    let sleep: @Sendable (Duration) async throws -> Void

    package init(limit: Duration, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.limit = limit
        self.sleep = sleep
    }

    package func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        try await RequestDeadline.$end.withValue(ContinuousClock.now.advanced(by: limit)) {
            // The handler runs as the deadline's child task; the deadline waits for it to end, so
            // `next` never outlives this call.
            try await withoutActuallyEscaping(next) { next in
                let handler = Handler(next: next)
                return try await Deadline(limit, sleep: sleep).run { try await handler.next(request, context) }
            }
        }
    }
}

/// The rest of the chain, called once from the deadline's child task while this middleware waits.
private struct Handler: @unchecked Sendable {
    let next: (Request, OTPRequestContext) async throws -> Response
}
