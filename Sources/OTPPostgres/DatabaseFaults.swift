import Foundation
import NIOCore
import OTPCore
import PostgresNIO
import _ConnectionPoolModule

/// Which failures mean "the database is away" (answered 503, retried later), and how to say why in
/// one line without a type name.
package enum DatabaseFaults {
    /// Runs a store call and says what went wrong in the core's terms, so that nothing above the
    /// adapter knows PostgreSQL: the database being away becomes `StoreUnavailable` with its reason,
    /// and a refusal thrown inside a transaction comes out as itself rather than wrapped. The call
    /// runs through `AbandonableCalls` when one is set: its caller stops waiting when cancelled.
    package static func mapping<Result: Sendable>(_ body: @escaping @Sendable () async throws -> Result) async throws
        -> Result
    {
        try await mappingInPlace {
            guard let calls = AbandonableCalls.current else { return try await body() }
            return try await calls.perform(body)
        }
    }

    /// As `mapping`, in the caller's own task: for a listener (its caller's cancellation ends it)
    /// and the command line's calls.
    package static func mappingInPlace<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as PostgresTransactionError {
            // What the transaction's body decided (a limit, a reused key) is the answer, even when
            // the rollback after it failed; only a transaction the database broke is a 503.
            if let decided = error.closureError, !isUnavailable(decided) { throw decided }
            throw isUnavailable(error) ? StoreUnavailable(reason: reason(error)) : error
        } catch let error where isUnavailable(error) {
            throw StoreUnavailable(reason: reason(error))
        }
    }

    /// True for a lost or refused connection, a pool that gave up connecting, the server classes
    /// 08 (connection), 53 (resources) and 57 (operator intervention: shutting down, terminated),
    /// and 25006 (a read-only transaction): the node answering is a standby, such as a primary
    /// demoted in a failover while a client still reaches it, so the writable database is away.
    package static func isUnavailable(_ error: any Error) -> Bool {
        switch error {
        case let error as PSQLError:
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed, .uncleanShutdown,
                .queryCancelled:
                return true
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                return ["08", "53", "57"].contains(String(state.prefix(2))) || state == "25006"
            default:
                return false
            }
        case let error as PostgresTransactionError:
            let parts: [(any Error)?] = [error.beginError, error.closureError, error.commitError, error.rollbackError]
            return parts.contains { $0.map(isUnavailable) ?? false }
        case is ConnectionPoolError, is ChannelError, is IOError:
            return true
        default:
            return false
        }
    }

    /// "connection refused", "the server closed the connection", "the server refused: ...".
    package static func reason(_ error: any Error) -> String {
        switch error {
        case let error as PSQLError:
            if let message = error.serverInfo?[.message] { return "the server refused: \(message)" }
            if let underlying = error.underlying { return reason(underlying) }
            switch error.code {
            case .serverClosedConnection, .uncleanShutdown: return "the server closed the connection"
            case .connectionError: return "could not connect"
            default: return "the connection failed"
            }
        case let error as PostgresTransactionError:
            let parts: [(any Error)?] = [error.beginError, error.closureError, error.commitError, error.rollbackError]
            return parts.compactMap { $0 }.first { isUnavailable($0) }.map(reason) ?? "the transaction failed"
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as ChannelError:
            if case .connectTimeout = error { return "connect timed out" }
            return "the connection failed (\(error))"
        case let error as NIOConnectionError:
            let causes = error.connectionErrors.map { reason($0.error) }
            return causes.first ?? (error.dnsAAAAError ?? error.dnsAError).map(reason) ?? "could not connect"
        case let error as ConnectionPoolError where error == .connectionCreationCircuitBreakerTripped:
            return "no connection could be made for a while"
        default:
            return "\(error)"
        }
    }
}
