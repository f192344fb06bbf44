import Foundation
import Logging
import NIOCore
import OTPCore
import PostgresNIO

/// Whether PostgreSQL takes a session, asked once with one connection of its own, so a one-shot
/// command (cron's `expire`, `migrate`) gives up in a bounded time with a reason an operator can
/// act on, instead of waiting on a pool that retries forever.
package enum DatabaseReachability {
    package struct Unreachable: Error, CustomStringConvertible {
        package var description: String
    }

    /// Throws `Unreachable` ("cannot reach PostgreSQL at host:port: connection refused") when no
    /// session is open within `timeout`.
    package static func check(_ url: PostgresURL, timeout: Duration, logger: Logger) async throws {
        let configuration = try url.connectionConfiguration()
        var silenced = logger
        silenced.logLevel = .critical
        let quiet = silenced
        do {
            let connection = try await Deadline(timeout).run {
                try await PostgresConnection.connect(configuration: configuration, id: 0, logger: quiet)
            }
            try? await connection.close()
        } catch is StoreUnavailable {
            throw Unreachable(description: "cannot reach PostgreSQL at \(url): no answer within \(timeout)")
        } catch {
            throw Unreachable(description: "cannot reach PostgreSQL at \(url): \(DatabaseFaults.reason(error))")
        }
    }
}
