import Foundation
import NIOSSL
import OTPCore
import PostgresNIO

/// What `DATABASE_URL` says: `postgres://user:pass@host:port/db?sslmode=...`. `sslmode` is
/// honoured: `disable`; `prefer` (the default, as libpq); `require` (encrypted, server not
/// verified, as libpq); `verify-ca` and `verify-full` (verified against the system's roots).
package struct PostgresURL: Sendable, CustomStringConvertible {
    package enum URLError: Error, CustomStringConvertible {
        case invalid(String)

        package var description: String {
            switch self {
            case .invalid(let reason): "DATABASE_URL is not usable: \(reason)"
            }
        }
    }

    package var host: String
    package var port: Int
    package var username: String
    /// Redacted in every description of the URL; read by name where it is used.
    package var password: Secret?
    package var database: String
    var sslMode: String
    /// `application_name`, as libpq takes it: how the connections show in `pg_stat_activity`.
    package var applicationName: String?

    package init(_ text: String) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme,
            ["postgres", "postgresql"].contains(scheme)
        else { throw URLError.invalid("expected postgres://user:pass@host:port/db") }
        guard let user = url.percentEncodedUser?.removingPercentEncoding, !user.isEmpty else {
            throw URLError.invalid("no user")
        }
        host = url.host ?? "127.0.0.1"
        port = url.port ?? 5432
        username = user
        password = url.percentEncodedPassword?.removingPercentEncoding.map { Secret($0) }
        let path = String(url.path.dropFirst())
        database = path.isEmpty ? user : path
        sslMode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        applicationName = url.queryItems?.first { $0.name == "application_name" }?.value
        guard ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"].contains(sslMode) else {
            throw URLError.invalid("unknown sslmode \(sslMode)")
        }
    }

    /// Where it points, without the password: for messages.
    package var description: String { "\(host):\(port)" }

    /// TLS as `sslmode` asks, and whether a plain connection is acceptable.
    func tlsConfiguration() -> (TLSConfiguration, required: Bool)? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case "disable": return nil
        case "allow", "prefer", "require":
            configuration.certificateVerification = .none
            return (configuration, sslMode == "require")
        case "verify-ca":
            configuration.certificateVerification = .noHostnameVerification
            return (configuration, true)
        default: return (configuration, true)
        }
    }

    package var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch tlsConfiguration() {
            case nil: .disable
            case let (configuration, required)?: required ? .require(configuration) : .prefer(configuration)
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password?.exposed, database: database, tls: tls)
        if let applicationName {
            configuration.options.additionalStartupParameters.append(("application_name", applicationName))
        }
        return configuration
    }

    package func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS =
            switch tlsConfiguration() {
            case nil: .disable
            case let (configuration, required)?:
                required
                    ? .require(try NIOSSLContext(configuration: configuration))
                    : .prefer(try NIOSSLContext(configuration: configuration))
            }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password?.exposed, database: database, tls: tls)
        if let applicationName {
            configuration.options.additionalStartupParameters.append(("application_name", applicationName))
        }
        return configuration
    }
}

extension PostgresClient.Configuration {
    package typealias URLError = PostgresURL.URLError

    package init(url text: String) throws {
        self = try PostgresURL(text).clientConfiguration
    }
}
